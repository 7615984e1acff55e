//! Graph passes on a [`Network`] before quantization.

use super::{Network, Node, Op, Value};
use ndarray::{ArrayD, Axis, IxDyn};

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
    *net = Network::build(nodes, std::mem::take(&mut net.constants), net.inputs.clone(), net.outputs.clone())
        .expect("folding keeps the graph acyclic");
    folded
}
