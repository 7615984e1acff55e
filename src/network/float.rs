//! The float reference executor: runs a [`Network`] node by node in its topological order, in f32
//! with the ONNX semantics of each op (numpy broadcasting for the elementwise ops). It is the host
//! fallback for operations the accelerator does not run, and the float side of fidelity checks
//! (itself checked against onnxruntime in `tests/network/float.rs`).

use super::{Network, Node, Op, Value};
use ndarray::{ArrayD, Axis, IxDyn};
use std::collections::HashMap;

/// A failure while running (bad input: a missing input or a shape the op cannot take).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node {node:?} ({op}): {why}")]
pub struct RunError {
    pub node: String,
    pub op: String,
    pub why: String,
}

/// Runs the network on `inputs` (by graph input name); returns every tensor computed, by name.
pub fn run(net: &Network, inputs: &[(&str, Value)]) -> Result<HashMap<String, Value>, RunError> {
    let mut env: HashMap<String, Value> = net.constants.clone();
    for (name, v) in inputs {
        env.insert(name.to_string(), v.clone());
    }
    for &idx in &net.order {
        let node = &net.graph[idx];
        let err = |why: String| RunError { node: node.name.clone(), op: node.op.name().into(), why };
        let outs = eval(node, &env).map_err(err)?;
        for (name, v) in node.outputs.iter().zip(outs) {
            env.insert(name.clone(), v);
        }
    }
    Ok(env)
}

fn input<'e>(node: &Node, env: &'e HashMap<String, Value>, i: usize) -> Result<Option<&'e Value>, String> {
    match node.inputs.get(i).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(name) => env.get(name).map(Some).ok_or_else(|| format!("input {name:?} has no value")),
    }
}

fn f32_in<'e>(node: &Node, env: &'e HashMap<String, Value>, i: usize) -> Result<&'e ArrayD<f32>, String> {
    match input(node, env, i)? {
        Some(Value::F32(a)) => Ok(a),
        Some(Value::I64(_)) => Err(format!("input {i} is int64, expected float")),
        None => Err(format!("input {i} is missing")),
    }
}

fn i64_in(node: &Node, env: &HashMap<String, Value>, i: usize) -> Result<Option<Vec<i64>>, String> {
    match input(node, env, i)? {
        Some(Value::I64(a)) => Ok(Some(a.iter().copied().collect())),
        Some(Value::F32(_)) => Err(format!("input {i} is float, expected int64")),
        None => Ok(None),
    }
}

/// An axis attribute (negative counts from the end) for a tensor of `rank` dimensions.
fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let ax = if a < 0 { a + r } else { a };
    (0..r)
        .contains(&ax)
        .then_some(ax as usize)
        .ok_or_else(|| format!("axis {a} out of range for rank {rank}"))
}

fn broadcast(a: &ArrayD<f32>, b: &ArrayD<f32>, f: impl Fn(f32, f32) -> f32) -> Result<ArrayD<f32>, String> {
    // the common cases on flat slices: equal shapes (residual adds), a scalar on either side
    match (a.as_slice(), b.as_slice()) {
        (Some(x), Some(y)) if a.shape() == b.shape() => {
            let v = x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect();
            return ArrayD::from_shape_vec(a.raw_dim(), v).map_err(|e| e.to_string());
        }
        (Some(x), Some(&[y])) if a.ndim() >= b.ndim() => {
            return ArrayD::from_shape_vec(a.raw_dim(), x.iter().map(|&x| f(x, y)).collect())
                .map_err(|e| e.to_string());
        }
        (Some(&[x]), Some(y)) if b.ndim() >= a.ndim() => {
            return ArrayD::from_shape_vec(b.raw_dim(), y.iter().map(|&y| f(x, y)).collect())
                .map_err(|e| e.to_string());
        }
        _ => {}
    }
    let rank = a.ndim().max(b.ndim());
    let pad = |s: &[usize]| {
        let mut v = vec![1; rank - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (sa, sb) = (pad(a.shape()), pad(b.shape()));
    let shape: Vec<usize> = sa
        .iter()
        .zip(&sb)
        .map(|(&x, &y)| match (x, y) {
            _ if x == y => Ok(x),
            (1, _) => Ok(y),
            (_, 1) => Ok(x),
            _ => Err(format!("shapes {:?} and {:?} do not broadcast", a.shape(), b.shape())),
        })
        .collect::<Result<_, _>>()?;
    let a = a.view().into_shape_with_order(IxDyn(&sa)).map_err(|e| e.to_string())?;
    let b = b.view().into_shape_with_order(IxDyn(&sb)).map_err(|e| e.to_string())?;
    let a = a.broadcast(IxDyn(&shape)).ok_or("broadcast")?;
    let b = b.broadcast(IxDyn(&shape)).ok_or("broadcast")?;
    Ok(ndarray::Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
}

fn conv(
    x: &ArrayD<f32>,
    w: &ArrayD<f32>,
    bias: Option<&ArrayD<f32>>,
    op: &Op,
) -> Result<ArrayD<f32>, String> {
    let Op::Conv { strides, pads, dilations, group } = *op else { unreachable!() };
    let (&[n, c, h, wd], &[m, cg, kh, kw]) = (x.shape(), w.shape()) else {
        return Err(format!(
            "input {:?} and weight {:?}: 2-D convolution needs rank 4",
            x.shape(),
            w.shape()
        ));
    };
    if c != cg * group || m % group != 0 {
        return Err(format!("input channels {c}, weight {:?}, group {group}", w.shape()));
    }
    let span = |len: usize, k: usize, s: usize, d: usize, p0: usize, p1: usize| {
        (len + p0 + p1).checked_sub(d * (k - 1) + 1).map(|v| v / s + 1)
    };
    let oh = span(h, kh, strides[0], dilations[0], pads[0], pads[2]).ok_or("kernel larger than the input")?;
    let ow =
        span(wd, kw, strides[1], dilations[1], pads[1], pads[3]).ok_or("kernel larger than the input")?;
    // flat slices in standard layout: plain index arithmetic, fast also in unoptimized builds
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().expect("standard layout");
    let ws = w.as_standard_layout();
    let ws = ws.as_slice().expect("standard layout");
    let mg = m / group;
    let mut y = vec![0f32; n * m * oh * ow];
    // the input column of output column ox for kernel column kx, if inside the input
    let col = |ox: usize, kx: usize| {
        (ox * strides[1] + kx * dilations[1]).checked_sub(pads[1]).filter(|&ix| ix < wd)
    };
    super::par_chunks(&mut y, oh * ow, |bo, yo| {
        let (b, o) = (bo / m, bo % m);
        let g = o / mg;
        yo.fill(bias.map_or(0.0, |bb| bb[[o]]));
        for ci in 0..cg {
            let plane = &xs[(b * c + g * cg + ci) * h * wd..][..h * wd];
            for ky in 0..kh {
                for kx in 0..kw {
                    let wv = ws[((o * cg + ci) * kh + ky) * kw + kx];
                    for oy in 0..oh {
                        let iy =
                            (oy * strides[0] + ky * dilations[0]).checked_sub(pads[0]).filter(|&iy| iy < h);
                        let Some(iy) = iy else { continue };
                        let row = &plane[iy * wd..][..wd];
                        for (ox, acc) in yo[oy * ow..][..ow].iter_mut().enumerate() {
                            if let Some(ix) = col(ox, kx) {
                                *acc += wv * row[ix];
                            }
                        }
                    }
                }
            }
        }
    });
    ArrayD::from_shape_vec(IxDyn(&[n, m, oh, ow]), y).map_err(|e| e.to_string())
}

/// 2-D transposed convolution (see [`Op::ConvTranspose`]): each input pixel scatters its value, times
/// the kernel, into the output.
fn conv_transpose(
    x: &ArrayD<f32>,
    w: &ArrayD<f32>,
    bias: Option<&ArrayD<f32>>,
    op: &Op,
) -> Result<ArrayD<f32>, String> {
    let Op::ConvTranspose { strides, pads, dilations, group, output_padding } = *op else { unreachable!() };
    let (&[n, c, h, wd], &[wc, mg, kh, kw]) = (x.shape(), w.shape()) else {
        return Err(format!(
            "input {:?} and weight {:?}: 2-D transposed convolution needs rank 4",
            x.shape(),
            w.shape()
        ));
    };
    if wc != c || c % group != 0 {
        return Err(format!("input channels {c}, weight {:?}, group {group}", w.shape()));
    }
    if h == 0 || wd == 0 {
        return Err(format!("input {:?}: no pixels", x.shape()));
    }
    let span = |len: usize, k: usize, s: usize, d: usize, op: usize, p0: usize, p1: usize| {
        (s * (len - 1) + op + d * (k - 1) + 1).checked_sub(p0 + p1).filter(|&v| v > 0)
    };
    let oh = span(h, kh, strides[0], dilations[0], output_padding[0], pads[0], pads[2])
        .ok_or("pads larger than the output")?;
    let ow = span(wd, kw, strides[1], dilations[1], output_padding[1], pads[1], pads[3])
        .ok_or("pads larger than the output")?;
    let (m, cg) = (mg * group, c / group);
    if let Some(b) = bias.filter(|b| b.shape() != [m]) {
        return Err(format!("bias {:?} for {m} output channels", b.shape()));
    }
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().expect("standard layout");
    let ws = w.as_standard_layout();
    let ws = ws.as_slice().expect("standard layout");
    let mut y = vec![0f32; n * m * oh * ow];
    // the output column of input column ix for kernel column kx, if inside the output
    let col = |ix: usize, kx: usize| {
        (ix * strides[1] + kx * dilations[1]).checked_sub(pads[1]).filter(|&ox| ox < ow)
    };
    // one output plane at a time (its input channels in order: the same sums as scattering input by input)
    super::par_chunks(&mut y, oh * ow, |bo, yo| {
        let (b, o) = (bo / m, bo % m);
        let (g, oi) = (o / mg, o % mg);
        for ci in g * cg..(g + 1) * cg {
            let plane = &xs[(b * c + ci) * h * wd..][..h * wd];
            for ky in 0..kh {
                for kx in 0..kw {
                    let wv = ws[((ci * mg + oi) * kh + ky) * kw + kx];
                    for iy in 0..h {
                        let oy =
                            (iy * strides[0] + ky * dilations[0]).checked_sub(pads[0]).filter(|&oy| oy < oh);
                        let Some(oy) = oy else { continue };
                        let row = &mut yo[oy * ow..][..ow];
                        for (ix, &v) in plane[iy * wd..][..wd].iter().enumerate() {
                            if let Some(ox) = col(ix, kx) {
                                row[ox] += wv * v;
                            }
                        }
                    }
                }
            }
        }
    });
    let mut y = ArrayD::from_shape_vec(IxDyn(&[n, m, oh, ow]), y).map_err(|e| e.to_string())?;
    if let Some(bias) = bias {
        for (o, mut plane) in y.axis_iter_mut(Axis(1)).enumerate() {
            let bo = bias[[o]];
            plane.mapv_inplace(|v| v + bo);
        }
    }
    Ok(y)
}

/// Nearest-neighbour resize of an NCHW tensor (see [`Op::Resize`]).
fn resize_nearest(x: &ArrayD<f32>, scales: &ArrayD<f32>) -> Result<ArrayD<f32>, String> {
    let &[n, c, h, w] = x.shape() else { return Err(format!("input {:?}: Resize needs rank 4", x.shape())) };
    let &[sn, sc, sh, sw] = scales.as_slice().unwrap_or(&[]) else {
        return Err(format!("scales {scales}: 4 values expected"));
    };
    if sn != 1.0 || sc != 1.0 || sh <= 0.0 || sw <= 0.0 {
        return Err(format!("scales {scales}: N and C scales must be 1, H and W scales positive"));
    }
    // as onnxruntime: in f32, output side floor(in scale), source index floor(i / scale)
    let (oh, ow) = ((h as f32 * sh).floor() as usize, (w as f32 * sw).floor() as usize);
    let src = |i: usize, scale: f32, len: usize| ((i as f32 / scale).floor() as usize).min(len - 1);
    let rows: Vec<usize> = (0..oh).map(|i| src(i, sh, h)).collect();
    let cols: Vec<usize> = (0..ow).map(|i| src(i, sw, w)).collect();
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().expect("standard layout");
    let mut y = Vec::with_capacity(n * c * oh * ow);
    for plane in xs.chunks_exact(h * w) {
        for &r in &rows {
            let row = &plane[r * w..][..w];
            y.extend(cols.iter().map(|&k| row[k]));
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, c, oh, ow]), y).map_err(|e| e.to_string())
}

fn max_pool(
    x: &ArrayD<f32>,
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 4],
) -> Result<ArrayD<f32>, String> {
    let &[n, c, h, w] = x.shape() else { return Err(format!("input {:?}: MaxPool needs rank 4", x.shape())) };
    let oh = (h + pads[0] + pads[2] - kernel[0]) / strides[0] + 1;
    let ow = (w + pads[1] + pads[3] - kernel[1]) / strides[1] + 1;
    let mut y = ArrayD::from_elem(IxDyn(&[n, c, oh, ow]), f32::NEG_INFINITY);
    for ((b, ch, oy, ox), v) in y.view_mut().into_dimensionality::<ndarray::Ix4>().unwrap().indexed_iter_mut()
    {
        for ky in 0..kernel[0] {
            for kx in 0..kernel[1] {
                let iy = (oy * strides[0] + ky) as isize - pads[0] as isize;
                let ix = (ox * strides[1] + kx) as isize - pads[1] as isize;
                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                    *v = v.max(x[[b, ch, iy as usize, ix as usize]]);
                }
            }
        }
    }
    Ok(y)
}

/// One node's outputs from the values in `env` (the host fallback runs single nodes through this).
pub fn eval(node: &Node, env: &HashMap<String, Value>) -> Result<Vec<Value>, String> {
    let f = |i| f32_in(node, env, i);
    let out = match &node.op {
        op @ Op::Conv { .. } => {
            let bias = match input(node, env, 2)? {
                Some(Value::F32(b)) => Some(b),
                Some(Value::I64(_)) => return Err("int64 bias".into()),
                None => None,
            };
            Value::F32(conv(f(0)?, f(1)?, bias, op)?)
        }
        op @ Op::ConvTranspose { .. } => {
            let bias = match input(node, env, 2)? {
                Some(Value::F32(b)) => Some(b),
                Some(Value::I64(_)) => return Err("int64 bias".into()),
                None => None,
            };
            Value::F32(conv_transpose(f(0)?, f(1)?, bias, op)?)
        }
        Op::BatchNormalization { epsilon } => {
            let x = f(0)?;
            let (scale, bias, mean, var) = (f(1)?, f(2)?, f(3)?, f(4)?);
            let mut y = x.clone();
            for (ch, mut plane) in y.axis_iter_mut(Axis(1)).enumerate() {
                let k = scale[[ch]] / (var[[ch]] + epsilon).sqrt();
                let b = bias[[ch]] - mean[[ch]] * k;
                plane.mapv_inplace(|v| v * k + b);
            }
            Value::F32(y)
        }
        Op::Relu => Value::F32(f(0)?.mapv(|v| v.max(0.0))),
        Op::Clip { min, max } => {
            let scalar = |i| -> Result<Option<f32>, String> {
                match input(node, env, i)? {
                    Some(Value::F32(a)) => Ok(a.iter().next().copied()),
                    Some(Value::I64(_)) => Err("int64 clip bound".into()),
                    None => Ok(None),
                }
            };
            let (lo, hi) = (scalar(1)?.unwrap_or(*min), scalar(2)?.unwrap_or(*max));
            Value::F32(f(0)?.mapv(|v| v.max(lo).min(hi)))
        }
        Op::HardSigmoid { alpha, beta } => Value::F32(f(0)?.mapv(|v| (alpha * v + beta).clamp(0.0, 1.0))),
        Op::HardSwish => Value::F32(f(0)?.mapv(|v| v * (v / 6.0 + 0.5).clamp(0.0, 1.0))),
        Op::Sigmoid => Value::F32(f(0)?.mapv(|v| 1.0 / (1.0 + (-v).exp()))),
        Op::Resize => Value::F32(resize_nearest(f(0)?, f(2)?)?),
        Op::Add => Value::F32(broadcast(f(0)?, f(1)?, |a, b| a + b)?),
        Op::Sub => Value::F32(broadcast(f(0)?, f(1)?, |a, b| a - b)?),
        Op::Mul => Value::F32(broadcast(f(0)?, f(1)?, |a, b| a * b)?),
        Op::Div => Value::F32(broadcast(f(0)?, f(1)?, |a, b| a / b)?),
        Op::GlobalAveragePool => {
            let x = f(0)?;
            let &[n, c, ..] = x.shape() else { return Err("rank < 2".into()) };
            let flat = x
                .view()
                .into_shape_with_order(IxDyn(&[n, c, x.len() / (n * c).max(1)]))
                .map_err(|e| e.to_string())?;
            let mean = flat.mean_axis(Axis(2)).ok_or("empty plane")?;
            let mut shape = vec![n, c];
            shape.resize(x.ndim(), 1);
            Value::F32(mean.into_shape_with_order(IxDyn(&shape)).map_err(|e| e.to_string())?)
        }
        Op::MaxPool { kernel, strides, pads } => Value::F32(max_pool(f(0)?, *kernel, *strides, *pads)?),
        Op::MatMul => {
            let (a, b) = (f(0)?, f(1)?);
            let a2 =
                a.view().into_dimensionality::<ndarray::Ix2>().map_err(|_| "MatMul: 2-D operands only")?;
            let b2 =
                b.view().into_dimensionality::<ndarray::Ix2>().map_err(|_| "MatMul: 2-D operands only")?;
            if a2.ncols() != b2.nrows() {
                return Err(format!("MatMul {:?} x {:?}", a.shape(), b.shape()));
            }
            Value::F32(a2.dot(&b2).into_dyn())
        }
        Op::Softmax { axis: ax } => {
            let x = f(0)?;
            let ax = axis(*ax, x.ndim())?;
            let mut y = x.clone();
            for mut lane in y.lanes_mut(Axis(ax)) {
                let m = lane.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                lane.mapv_inplace(|v| (v - m).exp());
                let s = lane.sum();
                lane.mapv_inplace(|v| v / s);
            }
            Value::F32(y)
        }
        Op::Reshape | Op::Flatten { .. } => {
            let data = input(node, env, 0)?.ok_or("input 0 is missing")?;
            let shape = data.shape().to_vec();
            let target: Vec<usize> = match &node.op {
                Op::Flatten { axis: ax } => {
                    let ax = if *ax == shape.len() as i64 { shape.len() } else { axis(*ax, shape.len())? };
                    vec![shape[..ax].iter().product(), shape[ax..].iter().product()]
                }
                _ => {
                    let spec = i64_in(node, env, 1)?.ok_or("no shape input")?;
                    let known: usize = spec
                        .iter()
                        .enumerate()
                        .map(|(i, &d)| {
                            if d == 0 {
                                shape[i]
                            } else if d < 0 {
                                1
                            } else {
                                d as usize
                            }
                        })
                        .product();
                    let total: usize = shape.iter().product();
                    spec.iter()
                        .enumerate()
                        .map(|(i, &d)| {
                            if d == 0 {
                                shape[i]
                            } else if d < 0 {
                                total / known.max(1)
                            } else {
                                d as usize
                            }
                        })
                        .collect()
                }
            };
            let e = |e: ndarray::ShapeError| format!("{shape:?} -> {target:?}: {e}");
            match data {
                Value::F32(a) => Value::F32(a.clone().into_shape_with_order(IxDyn(&target)).map_err(e)?),
                Value::I64(a) => Value::I64(a.clone().into_shape_with_order(IxDyn(&target)).map_err(e)?),
            }
        }
        Op::Shape => {
            let data = input(node, env, 0)?.ok_or("input 0 is missing")?;
            let dims: Vec<i64> = data.shape().iter().map(|&d| d as i64).collect();
            Value::I64(ArrayD::from_shape_vec(IxDyn(&[dims.len()]), dims).map_err(|e| e.to_string())?)
        }
        Op::Slice => {
            let data = input(node, env, 0)?.ok_or("input 0 is missing")?;
            let starts = i64_in(node, env, 1)?.ok_or("no starts")?;
            let ends = i64_in(node, env, 2)?.ok_or("no ends")?;
            let rank = data.shape().len();
            let axes = i64_in(node, env, 3)?.unwrap_or_else(|| (0..starts.len() as i64).collect());
            let steps = i64_in(node, env, 4)?.unwrap_or_else(|| vec![1; starts.len()]);
            let mut info: Vec<ndarray::SliceInfoElem> =
                vec![ndarray::SliceInfoElem::Slice { start: 0, end: None, step: 1 }; rank];
            for (i, &ax) in axes.iter().enumerate() {
                let ax = axis(ax, rank)?;
                if steps[i] != 1 {
                    return Err("Slice steps other than 1 are not supported".into());
                }
                let len = data.shape()[ax] as i64;
                let clamp = |v: i64| if v < 0 { (v + len).max(0) } else { v.min(len) };
                let (s, e) = (clamp(starts[i]), clamp(ends[i]).max(clamp(starts[i])));
                info[ax] =
                    ndarray::SliceInfoElem::Slice { start: s as isize, end: Some(e as isize), step: 1 };
            }
            let info = ndarray::SliceInfo::<_, IxDyn, IxDyn>::try_from(info).map_err(|e| e.to_string())?;
            match data {
                Value::F32(a) => Value::F32(a.slice(info.as_ref()).to_owned()),
                Value::I64(a) => Value::I64(a.slice(info.as_ref()).to_owned()),
            }
        }
        Op::Concat { axis: ax } => {
            let vals: Vec<&Value> = (0..node.inputs.len())
                .filter_map(|i| input(node, env, i).transpose())
                .collect::<Result<_, _>>()?;
            let rank = vals.first().ok_or("no inputs")?.shape().len();
            let ax = Axis(axis(*ax, rank)?);
            if vals.iter().all(|v| matches!(v, Value::I64(_))) {
                let views: Vec<_> = vals
                    .iter()
                    .map(|v| if let Value::I64(a) = v { a.view() } else { unreachable!() })
                    .collect();
                Value::I64(ndarray::concatenate(ax, &views).map_err(|e| e.to_string())?)
            } else {
                let views: Vec<_> = vals
                    .iter()
                    .map(|v| {
                        if let Value::F32(a) = v {
                            Ok(a.view())
                        } else {
                            Err("mixed int64 and float inputs".to_string())
                        }
                    })
                    .collect::<Result<_, _>>()?;
                Value::F32(ndarray::concatenate(ax, &views).map_err(|e| e.to_string())?)
            }
        }
        Op::Cast { to_f32 } => match (input(node, env, 0)?.ok_or("input 0 is missing")?, to_f32) {
            (Value::F32(a), true) => Value::F32(a.clone()),
            (Value::I64(a), true) => Value::F32(a.mapv(|v| v as f32)),
            (Value::F32(a), false) => Value::I64(a.mapv(|v| v as i64)),
            (Value::I64(a), false) => Value::I64(a.clone()),
        },
        Op::Identity => input(node, env, 0)?.ok_or("input 0 is missing")?.clone(),
    };
    Ok(vec![out])
}
