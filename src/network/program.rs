//! A network compiled for a system top: the int8 program.
//!
//! Lowering, after the preparing passes and with the input shape fixed: each group-1 Conv with a
//! constant weight and symmetric padding becomes an **accelerator layer** (its ReLU fused when the
//! ReLU is the conv's only reader), and so does a MatMul by a constant matrix (its bias Add fused).
//! Every other node is a **host step**, run by the float executor on dequantized inputs
//! (`run::run`) — as a host CPU would, in float: a tensor is int8 (with a per-tensor scale, zero point
//! 0) where it crosses the stream, at an accelerator layer's input and output.
//!
//! On disk (`save` / `load`): `program.json` (the steps, scales, and each accelerator layer's job
//! descriptors: the jobs a host sends for one inference), `layers/<i>.weights.npy` (int8 OHWI),
//! `layers/<i>.requant.npy` (int64 out_c x 3: bias, mult, shift), `constants/<name>.npy` (the host
//! steps' constant inputs).

use super::quant::{fold_zero_point, quantize_per_channel, requant_records};
use super::{float, passes, Network, Node, Op, Value};
use crate::system::cases::Geometry;
use crate::system::layout::Requant;
use crate::system::plan::{plan_layer, PlannedJob};
use crate::system::{Descriptor, SystemParams};
use anyhow::{bail, ensure, Context, Result};
use ndarray::{Array2, Array3, Array4, ArrayD, Axis, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What an accelerator layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// NCHW input, one image at a time (HWC on the system top).
    Conv,
    /// A 2-D input M x K times a constant K x N: a 1x1 convolution over a 1 x M image of K channels.
    MatMul,
}

/// One job of a layer as the host sends it: its descriptor, the input rows it carries and where its
/// output goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPlan {
    pub descriptor: Descriptor,
    /// The job's input is rows [iy0, iy0 + in_h), columns [ix0, ix0 + in_w) of the layer's input (HWC).
    pub iy0: usize,
    pub ix0: usize,
    /// First output row, column and channel of the job's output.
    pub oy0: usize,
    pub ox0: usize,
    pub co0: usize,
}

impl From<&PlannedJob> for JobPlan {
    fn from(p: &PlannedJob) -> JobPlan {
        JobPlan { descriptor: p.job.desc, iy0: p.iy0, ix0: p.ix0, oy0: p.oy0, ox0: p.ox0, co0: p.co0 }
    }
}

/// A layer the system top runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccelLayer {
    /// The ONNX node (the conv or matmul).
    pub name: String,
    pub kind: LayerKind,
    pub input: String,
    pub output: String,
    /// Kernel, stride, dilation, symmetric padding (rows, columns).
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub pad: [usize; 2],
    pub relu: bool,
    /// Scales of the input, the output and each output channel's weights.
    pub in_scale: f64,
    /// The input's zero point (the code of 0.0): the host quantizes q = round(x / in_scale) + in_zp;
    /// the records' biases carry -in_zp x (sum of the channel's weights). Non-zero only on layers
    /// without padding that read a host step's tensor (the output stage writes zero point 0).
    #[serde(default)]
    pub in_zp: i8,
    /// The output's zero point: non-zero (with scale (c - lo) / 255) where the output stays above
    /// -c / 2 (a fused ReLU) and no reader is an accelerator layer that pads.
    #[serde(default)]
    pub out_zp: i8,
    /// The model's float bias per output channel (what the records' integer biases carry; the
    /// layer check compares against it).
    #[serde(default)]
    pub bias: Vec<f32>,
    /// Per output channel scales, where only host steps read the output (empty: every channel at
    /// `out_scale`): channel c's value is (q - out_zp) x out_channel_scales[c].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_channel_scales: Vec<f64>,
    pub out_scale: f64,
    pub weight_scales: Vec<f64>,
    /// Multiply-accumulates of one inference.
    pub macs: u64,
    /// Cycles of one inference on the system model, measured by `accelc compile` (the system's timing
    /// does not depend on the activations, so `accelc run --fast` reuses them).
    #[serde(default)]
    pub cycles: Option<u64>,
    /// The jobs of one image (a MatMul: of the whole M x K input).
    pub jobs: Vec<JobPlan>,
    /// int8 OHWI weights.
    #[serde(skip)]
    pub weights: Array4<i8>,
    #[serde(skip)]
    pub requant: Vec<Requant>,
}

impl AccelLayer {
    /// Each output channel's scale.
    pub fn out_scales(&self) -> Vec<f64> {
        if self.out_channel_scales.is_empty() {
            vec![self.out_scale; self.weights.dim().0]
        } else {
            self.out_channel_scales.clone()
        }
    }

    pub fn geometry(&self) -> Geometry {
        Geometry {
            k: (self.kernel[0], self.kernel[1]),
            stride: (self.stride[0], self.stride[1]),
            dil: (self.dilation[0], self.dilation[1]),
            pad: (self.pad[0], self.pad[1]),
        }
    }
}

#[cfg(test)]
impl AccelLayer {
    /// A conv layer "conv" of `weights` (OHWI) with `g`'s kernel and padding, unit scales, no ReLU, no
    /// jobs and zero requantization records: what the unit tests of the layer's consumers start from.
    pub(crate) fn for_test(weights: Array4<i8>, g: &Geometry) -> AccelLayer {
        let out_c = weights.dim().0;
        AccelLayer {
            name: "conv".into(),
            kind: LayerKind::Conv,
            input: "x".into(),
            output: "y".into(),
            kernel: [g.k.0, g.k.1],
            stride: [g.stride.0, g.stride.1],
            dilation: [g.dil.0, g.dil.1],
            pad: [g.pad.0, g.pad.1],
            relu: false,
            in_scale: 1.0,
            in_zp: 0,
            out_zp: 0,
            out_channel_scales: vec![],
            bias: vec![],
            out_scale: 1.0,
            weight_scales: vec![1.0; out_c],
            macs: 0,
            cycles: None,
            jobs: vec![],
            requant: vec![Requant::default(); out_c],
            weights,
        }
    }
}

/// One step of a program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Accel(Box<AccelLayer>),
    Host(Node),
}

/// A compiled network.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Program {
    /// The system top it was compiled for (config name) and its array.
    pub system: String,
    pub rows: usize,
    pub cols: usize,
    pub input: String,
    pub input_shape: Vec<usize>,
    pub outputs: Vec<String>,
    pub calibration: Calibration,
    /// The symmetric scale of every int8 tensor: the accelerator layers' inputs and outputs (value = q x
    /// scale). A layer that reads a host tensor with a zero point has its own `in_scale` and `in_zp`.
    pub scales: BTreeMap<String, f64>,
    pub steps: Vec<Step>,
    /// Constant inputs of the host steps.
    #[serde(skip)]
    pub constants: HashMap<String, Value>,
}

/// How activation scales are chosen from the calibration inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// scale = max |x| / 127: nothing clips.
    Max,
    /// The clip value c (scale = c / 127) that minimises the expected squared error over a
    /// 2048-bin histogram of |x|: values above c pay (|x| - c)^2, values below the rounding noise
    /// (c / 127)^2 / 12. Outliers clip, the bulk of the values gets finer steps.
    Mse,
}

const BINS: usize = 2048;

/// How much finer than the tensor's a channel's scale may be. Finer floors over-fit the channels the
/// calibration images rarely excite: the classifier calibrated on its 12 printed-text crops agreed
/// with float on 36/36 crops at 2, 32-34/36 at 4, 8 and 16 (README, Networks).
pub const CHANNEL_GAIN: f64 = 2.0;

/// A float tensor's calibrated range: `clip` bounds |x| for symmetric int8 (scale = clip / 127);
/// `min` is the smallest value seen, which an asymmetric input (a zero point) spends its codes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub clip: f32,
    pub min: f32,
    /// Per channel (axis 1 of a tensor of rank 2 or more): the smallest and the largest value seen.
    pub channels: Vec<(f32, f32)>,
}

impl Range {
    /// Symmetric int8: the scale (1 for an all-zero tensor).
    pub fn scale(&self) -> f64 {
        if self.clip > 0.0 {
            self.clip as f64 / 127.0
        } else {
            1.0
        }
    }

    /// Asymmetric int8 over [max(min, -clip), clip]: the scale and the zero point (the code of 0.0),
    /// or None when the zero point would not pay: the range reaches below -clip / 2 (symmetric
    /// steps are at most 1.33x the asymmetric ones there) or the tensor is all zero.
    pub fn asymmetric(&self) -> Option<(f64, i8)> {
        let lo = self.min.max(-self.clip) as f64;
        if self.clip <= 0.0 || lo < -(self.clip as f64) / 2.0 {
            return None;
        }
        let lo = lo.min(0.0);
        let scale = (self.clip as f64 - lo) / 255.0;
        let zp = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i8;
        Some((scale, zp))
    }

    /// Per-channel scales for the zero point `zp`: each channel's range, clipped to the tensor's
    /// [-clip, clip], fits the codes (channel c's value v is (q - zp) x scale[c]), but no scale is
    /// finer than the tensor's / [`CHANNEL_GAIN`].
    pub fn channel_scales(&self, zp: i8) -> Vec<f64> {
        let (up, down) = (127.0 - zp as f64, -128.0 - zp as f64);
        let floor = self.clip as f64 / up / CHANNEL_GAIN;
        self.channels
            .iter()
            .map(|&(lo, hi)| {
                let (lo, hi) = (lo.max(-self.clip).min(0.0) as f64, hi.min(self.clip).max(0.0) as f64);
                let s = (hi / up).max(if down < 0.0 { lo / down } else { 0.0 }).max(floor);
                if s > 0.0 {
                    s
                } else {
                    1.0 // an all-zero tensor
                }
            })
            .collect()
    }
}

/// Every float tensor's range over the calibration inputs (batches, run one image at a time: a
/// compiled network takes batch 1).
pub fn calibrate(
    net: &Network,
    inputs: &[ArrayD<f32>],
    method: Calibration,
) -> Result<HashMap<String, Range>> {
    let images: Vec<ArrayD<f32>> =
        inputs.iter().flat_map(|b| b.axis_chunks_iter(Axis(0), 1).map(|x| x.to_owned())).collect();
    let run = |x: &ArrayD<f32>| -> Result<Vec<(String, ArrayD<f32>)>> {
        let env = float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))])?;
        Ok(env
            .into_iter()
            .filter_map(|(n, v)| match v {
                Value::F32(a) if !net.constants.contains_key(&n) => Some((n, a)),
                _ => None,
            })
            .collect())
    };
    let mut ranges: HashMap<String, Range> = HashMap::new();
    for x in &images {
        for (name, a) in run(x)? {
            let channels = if a.ndim() >= 2 { a.shape()[1] } else { 0 };
            let e = ranges.entry(name).or_insert_with(|| Range {
                clip: 0.0,
                min: f32::INFINITY,
                channels: vec![(f32::INFINITY, f32::NEG_INFINITY); channels],
            });
            for &v in &a {
                e.clip = e.clip.max(v.abs());
                e.min = e.min.min(v);
            }
            if channels > 0 {
                for (plane, (lo, hi)) in a.axis_iter(Axis(1)).zip(&mut e.channels) {
                    for &v in &plane {
                        (*lo, *hi) = (lo.min(v), hi.max(v));
                    }
                }
            }
        }
    }
    if method == Calibration::Max {
        return Ok(ranges);
    }
    let mut hist: HashMap<String, Vec<u64>> = HashMap::new();
    for x in &images {
        for (name, a) in run(x)? {
            let m = ranges[&name].clip;
            let h = hist.entry(name).or_insert_with(|| vec![0; BINS]);
            if m > 0.0 {
                for v in &a {
                    h[((v.abs() / m * BINS as f32) as usize).min(BINS - 1)] += 1;
                }
            }
        }
    }
    Ok(ranges
        .into_iter()
        .map(|(name, r)| {
            let clip = r.clip * mse_clip(&hist[&name]);
            (name, Range { clip, ..r })
        })
        .collect())
}

/// The clip value, as a fraction of the histogram's range, that minimises the expected squared error.
fn mse_clip(hist: &[u64]) -> f32 {
    let center = |i: usize| (i as f64 + 0.5) / hist.len() as f64;
    let error = |c: f64| -> f64 {
        let step = c / 127.0;
        hist.iter()
            .enumerate()
            .map(|(i, &n)| {
                let v = center(i);
                n as f64 * if v > c { (v - c).powi(2) } else { step * step / 12.0 }
            })
            .sum()
    };
    (16..=hist.len())
        .step_by(16)
        .map(|i| i as f64 / hist.len() as f64)
        .min_by(|a, b| error(*a).total_cmp(&error(*b)))
        .unwrap_or(1.0) as f32
}

/// Compiles `net` (as imported) for the system top `sp` (config `system`), calibrating activations on
/// `calib` (each N x input shape; the input shape is the first's, batch 1).
pub fn compile(
    net: &Network,
    system: &str,
    sp: &SystemParams,
    calib: &[ArrayD<f32>],
    method: Calibration,
) -> Result<Program> {
    ensure!(!calib.is_empty(), "no calibration inputs");
    ensure!(net.inputs.len() == 1, "the network has {} inputs; one is supported", net.inputs.len());
    let mut net = net.clone();
    let mut shape = calib[0].shape().to_vec();
    shape[0] = 1;
    passes::prepare(&mut net);
    passes::specialize_shapes(&mut net, &shape)?;
    let ranges = calibrate(&net, calib, method)?;
    let shapes = shapes(&net, &shape)?;
    let nodes = net.nodes();
    let readers = |t: &str| nodes.iter().filter(|n| n.inputs.iter().any(|i| i == t)).collect::<Vec<_>>();
    let mut scales: BTreeMap<String, f64> = BTreeMap::new();
    let scale_of = |t: &str| ranges.get(t).map_or(1.0, Range::scale);
    // tensors the system top writes, with their scale and zero point (an accelerator reader takes them as they are)
    let mut accel_outputs: HashMap<String, (f64, i8)> = HashMap::new();
    let mut fused: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for node in &nodes {
        if fused.contains(&node.name) {
            continue;
        }
        // the op fused into this one: its only reader, a ReLU (conv) or a bias Add (matmul)
        let next = match readers(&node.outputs[0]).as_slice() {
            [r] if !net.outputs.contains(&node.outputs[0]) => Some((*r).clone()),
            _ => None,
        };
        let Some((mut layer, fused_node)) = lower(&net, node, next.as_ref(), scale_of(&node.inputs[0]))?
        else {
            steps.push(Step::Host(node.clone()));
            continue;
        };
        fused.extend(fused_node);
        // Zero points: the hardware pads with code 0, which must mean 0.0 wherever it pads. A layer without
        // padding takes a host tensor with one, and an accelerator layer's output as it was written.
        if let Some(&(scale, zp)) = accel_outputs.get(&layer.input) {
            (layer.in_scale, layer.in_zp) = (scale, zp);
        } else if layer.pad == [0, 0] {
            if let Some((scale, zp)) = ranges.get(&layer.input).and_then(Range::asymmetric) {
                (layer.in_scale, layer.in_zp) = (scale, zp);
            }
        }
        layer.out_scale = scale_of(&layer.output);
        let padded_reader = readers(&layer.output).iter().any(|r| pads_on_the_accelerator(&net, r));
        let out_range = ranges.get(&layer.output);
        if !padded_reader {
            if let Some((scale, zp)) = out_range.and_then(Range::asymmetric) {
                (layer.out_scale, layer.out_zp) = (scale, zp);
            }
        }
        // an output only the host reads gets a scale per channel (the records are per channel anyway)
        let accel_reader = readers(&layer.output).iter().any(|r| runs_on_the_accelerator(&net, r));
        if let Some(r) = out_range.filter(|r| !accel_reader && r.channels.len() == layer.weights.dim().0) {
            layer.out_channel_scales = r.channel_scales(layer.out_zp);
        }
        layer.bias = layer_bias(&net, node, next.as_ref(), &layer);
        layer.requant =
            requant_records(&layer.bias, layer.in_scale, &layer.weight_scales, &layer.out_scales());
        fold_zero_point(&mut layer.requant, &layer.weights, layer.in_zp);
        accel_outputs.insert(layer.output.clone(), (layer.out_scale, layer.out_zp));
        let in_shape = shapes.get(&layer.input).context("a layer input without a value")?;
        layer.jobs = plan_jobs(sp, &layer, in_shape)?;
        layer.macs = layer.jobs.iter().map(|j| j.descriptor.macs()).sum();
        scales.insert(layer.input.clone(), scale_of(&layer.input));
        scales.insert(layer.output.clone(), layer.out_scale);
        steps.push(Step::Accel(Box::new(layer)));
    }
    let used: Vec<&String> = steps
        .iter()
        .filter_map(|s| if let Step::Host(n) = s { Some(&n.inputs) } else { None })
        .flatten()
        .collect();
    let constants =
        net.constants.iter().filter(|(k, _)| used.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Program {
        system: system.to_string(),
        rows: sp.rows,
        cols: sp.cols,
        input: net.inputs[0].0.clone(),
        input_shape: shape,
        calibration: method,
        outputs: net.outputs.clone(),
        scales,
        steps,
        constants,
    })
}

/// Every tensor's shape on an input of `shape` (one float run on zeros).
fn shapes(net: &Network, shape: &[usize]) -> Result<HashMap<String, Vec<usize>>> {
    let env = float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(ArrayD::zeros(IxDyn(shape))))])?;
    Ok(env.into_iter().map(|(k, v)| (k, v.shape().to_vec())).collect())
}

fn const_f32<'a>(net: &'a Network, name: &str) -> Option<&'a ArrayD<f32>> {
    match net.constants.get(name) {
        Some(Value::F32(a)) => Some(a),
        _ => None,
    }
}

/// The accelerator layer of `node` (with `next` fused if it fits), or None: a host step.
fn lower(
    net: &Network,
    node: &Node,
    next: Option<&Node>,
    in_scale: f64,
) -> Result<Option<(AccelLayer, Option<String>)>> {
    let layer = |kind, w: Array4<f32>, g: [[usize; 2]; 4], relu, output: &str| {
        let (q, weight_scales) = quantize_per_channel(&w.into_dyn());
        let weights = q.into_dimensionality().expect("rank 4");
        AccelLayer {
            name: node.name.clone(),
            kind,
            input: node.inputs[0].clone(),
            output: output.to_string(),
            kernel: g[0],
            stride: g[1],
            dilation: g[2],
            pad: g[3],
            relu,
            in_scale,
            in_zp: 0,
            out_zp: 0,
            out_channel_scales: vec![],
            bias: vec![],
            out_scale: 0.0,
            weight_scales,
            macs: 0,
            cycles: None,
            jobs: vec![],
            weights,
            requant: vec![],
        }
    };
    match &node.op {
        Op::Conv { strides, pads, dilations, group: 1 } if pads[0] == pads[2] && pads[1] == pads[3] => {
            let Some(w) = const_f32(net, &node.inputs[1]) else { return Ok(None) };
            let Ok(w4) = w.view().into_dimensionality::<ndarray::Ix4>() else { return Ok(None) };
            // OIHW -> OHWI
            let w = w4.permuted_axes([0, 2, 3, 1]).as_standard_layout().to_owned();
            let relu = next.filter(|n| n.op == Op::Relu);
            let output = relu.map_or(&node.outputs[0], |r| &r.outputs[0]);
            let k = [w.dim().1, w.dim().2];
            let l = layer(
                LayerKind::Conv,
                w,
                [k, *strides, *dilations, [pads[0], pads[1]]],
                relu.is_some(),
                output,
            );
            Ok(Some((l, relu.map(|r| r.name.clone()))))
        }
        Op::MatMul => {
            let Some(b) = const_f32(net, &node.inputs[1]) else { return Ok(None) };
            let Ok(b2) = b.view().into_dimensionality::<ndarray::Ix2>() else { return Ok(None) };
            let (k, n) = b2.dim();
            // K x N -> N x 1 x 1 x K
            let w = b2.t().as_standard_layout().to_owned().into_shape_with_order((n, 1, 1, k))?;
            let bias = next.filter(|a| a.op == Op::Add && matmul_bias(net, a, &node.outputs[0], n).is_some());
            let output = bias.map_or(&node.outputs[0], |a| &a.outputs[0]);
            let l = layer(LayerKind::MatMul, w, [[1, 1], [1, 1], [1, 1], [0, 0]], false, output);
            Ok(Some((l, bias.map(|a| a.name.clone()))))
        }
        _ => Ok(None),
    }
}

/// Whether `node` lowers to an accelerator layer (the conditions of [`lower`]).
fn runs_on_the_accelerator(net: &Network, node: &Node) -> bool {
    let weight = |rank: usize| const_f32(net, &node.inputs[1]).is_some_and(|w| w.ndim() == rank);
    match &node.op {
        Op::Conv { pads, group: 1, .. } => pads[0] == pads[2] && pads[1] == pads[3] && weight(4),
        Op::MatMul => weight(2),
        _ => false,
    }
}

/// Whether `node` lowers to an accelerator layer that pads its input (with code 0).
fn pads_on_the_accelerator(net: &Network, node: &Node) -> bool {
    matches!(&node.op, Op::Conv { pads, group: 1, .. } if pads.iter().any(|&p| p > 0))
        && const_f32(net, &node.inputs[1]).is_some()
}

/// The constant of `add` that adds one value per column to `t` (M x n), if it is one.
fn matmul_bias<'a>(net: &'a Network, add: &Node, t: &str, n: usize) -> Option<&'a ArrayD<f32>> {
    let other = add.inputs.iter().find(|i| *i != t)?;
    const_f32(net, other).filter(|b| b.len() == n && b.shape().last() == Some(&n))
}

/// A layer's float bias per output channel (0 without one).
fn layer_bias(net: &Network, node: &Node, next: Option<&Node>, layer: &AccelLayer) -> Vec<f32> {
    let n = layer.weights.dim().0;
    let bias = match layer.kind {
        LayerKind::Conv => node.inputs.get(2).filter(|t| !t.is_empty()).and_then(|t| const_f32(net, t)),
        LayerKind::MatMul => next
            .filter(|a| a.outputs[0] == layer.output)
            .and_then(|a| matmul_bias(net, a, &node.outputs[0], n)),
    };
    bias.map_or(vec![0.0; n], |b| b.iter().copied().collect())
}

/// The layer's input as the system top's images: HWC per image (a MatMul's M x K input is one
/// 1 x M image of K channels).
pub fn layer_images(kind: LayerKind, x: &ArrayD<i8>) -> Result<Vec<Array3<i8>>> {
    match (kind, x.shape()) {
        (LayerKind::Conv, &[n, _, _, _]) => Ok((0..n)
            .map(|b| {
                x.index_axis(Axis(0), b).permuted_axes(IxDyn(&[1, 2, 0])).as_standard_layout().to_owned()
            })
            .map(|a| a.into_dimensionality().expect("rank 3"))
            .collect()),
        (LayerKind::MatMul, &[m, k]) => Ok(vec![x.to_shape((1, m, k))?.to_owned()]),
        (_, s) => bail!("a {kind:?} layer cannot take an input of shape {s:?}"),
    }
}

/// The layer's output from its images (the inverse of `layer_images`).
pub fn layer_output(kind: LayerKind, images: Vec<Array3<i8>>) -> ArrayD<i8> {
    match kind {
        LayerKind::Conv => {
            let views: Vec<_> =
                images.iter().map(|y| y.view().permuted_axes([2, 0, 1]).insert_axis(Axis(0))).collect();
            ndarray::concatenate(Axis(0), &views).expect("equal image shapes").into_dyn()
        }
        LayerKind::MatMul => {
            let y = &images[0];
            let (_, m, n) = y.dim();
            let y: Array2<i8> = y.to_shape((m, n)).expect("1 x M x N").to_owned();
            y.into_dyn()
        }
    }
}

/// The jobs of one image of the layer's input of shape `shape`.
fn plan_jobs(sp: &SystemParams, layer: &AccelLayer, shape: &[usize]) -> Result<Vec<JobPlan>> {
    let zeros = ArrayD::<i8>::zeros(IxDyn(shape));
    let image = layer_images(layer.kind, &zeros)?.swap_remove(0);
    let plan = plan_layer(sp, &image, &layer.weights, &layer.requant, &layer.geometry(), 0, layer.relu)
        .with_context(|| format!("layer {:?}", layer.name))?;
    Ok(plan.iter().map(JobPlan::from).collect())
}

fn npy_name(tensor: &str) -> String {
    tensor.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' }).collect()
}

impl Program {
    /// The accelerator layers in order.
    pub fn layers(&self) -> impl Iterator<Item = &AccelLayer> {
        self.steps.iter().filter_map(|s| if let Step::Accel(l) = s { Some(&**l) } else { None })
    }

    /// Writes the program into `dir`, with `extra` files (name, text) beside it, replacing `dir`
    /// whole (never half-written).
    pub fn save(&self, dir: &Path, extra: &[(&str, String)]) -> Result<()> {
        crate::fsutil::write_dir_atomic(dir, |staging| {
            self.write_files(staging)?;
            for (name, text) in extra {
                std::fs::write(staging.join(name), text)?;
            }
            Ok(())
        })
    }

    fn write_files(&self, dir: &Path) -> Result<()> {
        use ndarray_npy::write_npy;
        std::fs::create_dir_all(dir.join("layers"))?;
        std::fs::create_dir_all(dir.join("constants"))?;
        for (i, l) in self.layers().enumerate() {
            write_npy(dir.join(format!("layers/{i}.weights.npy")), &l.weights)?;
            let rq = Array2::from_shape_fn((l.requant.len(), 3), |(o, f)| {
                let r = &l.requant[o];
                [r.bias as i64, r.mult as i64, r.shift as i64][f]
            });
            write_npy(dir.join(format!("layers/{i}.requant.npy")), &rq)?;
        }
        for (name, v) in &self.constants {
            let path = dir.join("constants").join(format!("{}.npy", npy_name(name)));
            match v {
                Value::F32(a) => write_npy(path, a)?,
                Value::I64(a) => write_npy(path, a)?,
            }
        }
        std::fs::write(dir.join("program.json"), serde_json::to_string_pretty(self)?)?;
        Ok(())
    }

    /// Reads a program written by `save`.
    pub fn load(dir: &Path) -> Result<Program> {
        use ndarray_npy::read_npy;
        let path = dir.join("program.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut p: Program = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let mut i = 0;
        for step in &mut p.steps {
            match step {
                Step::Accel(l) => {
                    l.weights = read_npy(dir.join(format!("layers/{i}.weights.npy")))?;
                    let rq: Array2<i64> = read_npy(dir.join(format!("layers/{i}.requant.npy")))?;
                    l.requant = rq
                        .rows()
                        .into_iter()
                        .map(|r| Requant { bias: r[0] as i32, mult: r[1] as u16, shift: r[2] as u8 })
                        .collect();
                    i += 1;
                }
                Step::Host(n) => {
                    for name in &n.inputs {
                        let path = dir.join("constants").join(format!("{}.npy", npy_name(name)));
                        if p.constants.contains_key(name) || !path.is_file() {
                            continue;
                        }
                        let v = read_npy::<_, ArrayD<f32>>(&path)
                            .map(Value::F32)
                            .or_else(|_| read_npy::<_, ArrayD<i64>>(&path).map(Value::I64))
                            .with_context(|| format!("reading {}", path.display()))?;
                        p.constants.insert(name.clone(), v);
                    }
                }
            }
        }
        Ok(p)
    }
}
