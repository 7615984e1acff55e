//! Graph passes on a [`Network`] before quantization.

use super::{float, Network, Node, Op, Value};
use ndarray::{ArrayD, Axis, IxDyn};
use std::collections::HashMap;

/// Folds every BatchNormalization whose input is a Conv's output (read by nothing else) into that
/// Conv: per output channel o, k = scale / sqrt(var + eps), W'[o] = k W[o], b'[o] = k (b[o] - mean) + beta.
/// The folded weights and biases are new constants named `<conv output>.folded_w` / `.folded_b`.
/// Returns the number of folds.
pub fn fold_batchnorm(net: &mut Network) -> usize {
    let mut nodes = net.nodes();
    let readers = |nodes: &[Node], t: &str| nodes.iter().flat_map(|n| &n.inputs).filter(|i| *i == t).count();
    let mut folded = 0;
    let mut i = 0;
    while i < nodes.len() {
        let Op::BatchNormalization { epsilon } = nodes[i].op else {
            i += 1;
            continue;
        };
        let bn = nodes[i].clone();
        let src = bn.inputs[0].clone();
        let conv_at = nodes.iter().position(|n| matches!(n.op, Op::Conv { .. }) && n.outputs[0] == src);
        let consts: Option<Vec<&ArrayD<f32>>> = bn.inputs[1..5]
            .iter()
            .map(|t| match net.constants.get(t) {
                Some(Value::F32(a)) => Some(a),
                _ => None,
            })
            .collect();
        let (Some(c), Some(p)) = (conv_at, consts) else {
            i += 1;
            continue;
        };
        if readers(&nodes, &src) != 1 || net.outputs.contains(&src) {
            i += 1;
            continue;
        }
        let Some(Value::F32(w)) = net.constants.get(&nodes[c].inputs[1]) else {
            i += 1;
            continue;
        };
        let m = w.shape()[0];
        let k: Vec<f32> = (0..m).map(|o| p[0][[o]] / (p[3][[o]] + epsilon).sqrt()).collect();
        let mut w2 = w.clone();
        for (o, mut f) in w2.axis_iter_mut(Axis(0)).enumerate() {
            f.mapv_inplace(|v| v * k[o]);
        }
        let b0: Vec<f32> = match nodes[c].inputs.get(2).and_then(|t| net.constants.get(t)) {
            Some(Value::F32(b)) => b.iter().copied().collect(),
            _ => vec![0.0; m],
        };
        let b2: Vec<f32> = (0..m).map(|o| k[o] * (b0[o] - p[2][[o]]) + p[1][[o]]).collect();
        let (wn, bname) = (format!("{src}.folded_w"), format!("{src}.folded_b"));
        net.constants.insert(wn.clone(), Value::F32(w2));
        net.constants
            .insert(bname.clone(), Value::F32(ArrayD::from_shape_vec(IxDyn(&[m]), b2).expect("m biases")));
        let conv = &mut nodes[c];
        conv.inputs = vec![conv.inputs[0].clone(), wn, bname];
        conv.outputs = vec![bn.outputs[0].clone()];
        nodes.remove(i);
        folded += 1;
    }
    rebuild(net, nodes);
    folded
}

/// The names of the nodes' inputs, counted: how many nodes read each tensor.
fn reader_counts(nodes: &[Node]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for n in nodes {
        for i in n.inputs.iter().filter(|i| !i.is_empty()) {
            *counts.entry(i.clone()).or_default() += 1;
        }
    }
    counts
}

/// Evaluates every node whose inputs are all constants (shape arithmetic, reshaped biases) and
/// makes its outputs constants. Returns the number of nodes folded.
pub fn fold_constants(net: &mut Network) -> usize {
    let mut kept = Vec::new();
    let mut folded = 0;
    for node in net.nodes() {
        let constant = node.inputs.iter().all(|i| i.is_empty() || net.constants.contains_key(i));
        let outs = if constant { float::eval(&node, &net.constants).ok() } else { None };
        match outs {
            Some(values) => {
                for (name, v) in node.outputs.iter().zip(values) {
                    net.constants.insert(name.clone(), v);
                }
                folded += 1;
            }
            None => kept.push(node),
        }
    }
    rebuild(net, kept);
    folded
}

/// Folds `Add(conv output, per-channel constant)` into the conv's bias when the Add is the conv
/// output's only reader (the SE blocks' convs carry their bias this way). Returns the number of folds.
pub fn fold_conv_bias(net: &mut Network) -> usize {
    let mut nodes = net.nodes();
    let mut folded = 0;
    let mut i = 0;
    while i < nodes.len() {
        let readers = reader_counts(&nodes);
        let fold =
            (nodes[i].op == Op::Add).then(|| conv_bias_add(net, &nodes, &nodes[i], &readers)).flatten();
        let Some((c, bias)) = fold else {
            i += 1;
            continue;
        };
        let name = format!("{}.bias", nodes[i].outputs[0]);
        net.constants.insert(name.clone(), Value::F32(bias));
        let outputs = nodes[i].outputs.clone();
        let conv = &mut nodes[c];
        conv.inputs.truncate(2);
        conv.inputs.push(name);
        conv.outputs = outputs;
        nodes.remove(i);
        folded += 1;
    }
    rebuild(net, nodes);
    folded
}

/// For an Add node of a conv's output (read only by it) and a constant of one value per output
/// channel: the conv's index and its new bias.
fn conv_bias_add(
    net: &Network,
    nodes: &[Node],
    add: &Node,
    readers: &HashMap<String, usize>,
) -> Option<(usize, ArrayD<f32>)> {
    for (t, k) in [(0, 1), (1, 0)] {
        let (src, cst) = (&add.inputs[t], &add.inputs[k]);
        let Some(Value::F32(b)) = net.constants.get(cst) else { continue };
        let Some(c) = nodes.iter().position(|n| matches!(n.op, Op::Conv { .. }) && &n.outputs[0] == src)
        else {
            continue;
        };
        let Some(Value::F32(w)) = net.constants.get(&nodes[c].inputs[1]) else { continue };
        let m = w.shape()[0];
        // NCHW broadcasting: one value per channel is [m, 1, 1] or [1, m, 1, 1] ([m] would be per column)
        let per_channel = b.len() == m
            && match b.shape() {
                [c, _, _] => *c == m,
                [_, c, _, _] => *c == m,
                _ => false,
            };
        if !per_channel || readers.get(src) != Some(&1) || net.outputs.contains(src) {
            continue;
        }
        let old: Vec<f32> = match nodes[c].inputs.get(2).and_then(|t| net.constants.get(t)) {
            Some(Value::F32(b0)) => b0.iter().copied().collect(),
            _ => vec![0.0; m],
        };
        let sum: Vec<f32> = old.iter().zip(b.iter()).map(|(a, b)| a + b).collect();
        return Some((c, ArrayD::from_shape_vec(IxDyn(&[m]), sum).expect("m biases")));
    }
    None
}

/// Turns the HardSwish spelled out in older opsets, `Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)`, into one
/// HardSwish node (each intermediate read only by the next). Returns the number of fusions.
pub fn fuse_hardswish(net: &mut Network) -> usize {
    let mut nodes = net.nodes();
    let mut fused = 0;
    loop {
        let readers = reader_counts(&nodes);
        let Some((idx, x, y)) = find_hardswish(net, &nodes, &readers) else { break };
        let name = nodes[idx[0]].name.clone();
        let mut idx = idx;
        idx.sort_unstable();
        for &j in idx.iter().rev() {
            nodes.remove(j);
        }
        nodes.push(Node { name, op: Op::HardSwish, inputs: vec![x], outputs: vec![y] });
        fused += 1;
    }
    rebuild(net, nodes);
    fused
}

/// The scalar value of a constant tensor.
fn scalar(net: &Network, name: &str) -> Option<f32> {
    match net.constants.get(name) {
        Some(Value::F32(a)) if a.len() == 1 => a.iter().next().copied(),
        _ => None,
    }
}

/// A HardSwish chain: the indices of its Add, Clip, Mul and Div nodes, its input and its output.
fn find_hardswish(
    net: &Network,
    nodes: &[Node],
    readers: &HashMap<String, usize>,
) -> Option<([usize; 4], String, String)> {
    let reader_of = |t: &str| nodes.iter().position(|n| n.inputs.iter().any(|i| i == t));
    let single = |t: &str| readers.get(t) == Some(&1) && !net.outputs.iter().any(|o| o == t);
    for (a, add) in nodes.iter().enumerate() {
        if add.op != Op::Add || add.inputs.len() != 2 {
            continue;
        }
        let (x, three) = if scalar(net, &add.inputs[1]).is_some() {
            (&add.inputs[0], &add.inputs[1])
        } else {
            (&add.inputs[1], &add.inputs[0])
        };
        if scalar(net, three) != Some(3.0) || !single(&add.outputs[0]) {
            continue;
        }
        let Some(c) = reader_of(&add.outputs[0]) else { continue };
        let clip = &nodes[c];
        let bounds = match clip.op {
            Op::Clip { min, max } => (
                clip.inputs.get(1).and_then(|t| scalar(net, t)).unwrap_or(min),
                clip.inputs.get(2).and_then(|t| scalar(net, t)).unwrap_or(max),
            ),
            _ => continue,
        };
        if bounds != (0.0, 6.0) || !single(&clip.outputs[0]) {
            continue;
        }
        let Some(m) = reader_of(&clip.outputs[0]) else { continue };
        let mul = &nodes[m];
        let other = mul.inputs.iter().find(|i| **i != clip.outputs[0]);
        if mul.op != Op::Mul || other != Some(x) || !single(&mul.outputs[0]) {
            continue;
        }
        let Some(d) = reader_of(&mul.outputs[0]) else { continue };
        let div = &nodes[d];
        if div.op != Op::Div || div.inputs[0] != mul.outputs[0] || scalar(net, &div.inputs[1]) != Some(6.0) {
            continue;
        }
        return Some(([a, c, m, d], x.clone(), div.outputs[0].clone()));
    }
    None
}

fn rebuild(net: &mut Network, nodes: Vec<Node>) {
    *net = Network::build(nodes, std::mem::take(&mut net.constants), net.inputs.clone(), net.outputs.clone())
        .expect("a pass keeps the graph acyclic");
}

/// The passes every network goes through before quantization, in order: constants folded,
/// BatchNormalization folded into convs, per-channel Adds folded into conv biases, HardSwish fused.
pub fn prepare(net: &mut Network) {
    fold_constants(net);
    fold_batchnorm(net);
    fold_conv_bias(net);
    fuse_hardswish(net);
}

/// Fixes the input shape: every Shape node becomes the constant it computes on an input of `shape`
/// (from one float run on zeros), and the shape arithmetic after it folds away.
pub fn specialize_shapes(net: &mut Network, shape: &[usize]) -> Result<(), float::RunError> {
    let input = Value::F32(ArrayD::zeros(IxDyn(shape)));
    let env = float::run(net, &[(net.inputs[0].0.as_str(), input)])?;
    let mut kept = Vec::new();
    for node in net.nodes() {
        if node.op == Op::Shape {
            net.constants.insert(node.outputs[0].clone(), env[&node.outputs[0]].clone());
        } else {
            kept.push(node);
        }
    }
    net.inputs[0].1 = shape.iter().map(|&d| Some(d)).collect();
    rebuild(net, kept);
    fold_constants(net);
    Ok(())
}
