//! Pruning of a float [`Network`] before quantization (`--prune SPEC`), and the sparsity report of
//! its accelerator layers (the group=1 Convs and MatMuls with a constant weight).
//!
//! **Prunable layers** are the accelerator layers except the first and the last in execution order:
//! the first reads the image (on the classifier 8 x 3 x 3 x 3 = 216 weights whose 3 input channels
//! form no 4-group, and the layer every later one depends on), the last makes the logits (200 x 2).
//! Both are tiny, so excluding them costs almost no sparsity. Depthwise convs run on the host and
//! are pruned only where filter pruning removes their channels.
//!
//! - `magnitude:F`: in each prunable layer of n weights, the `round(F n)` smallest |w| become 0.
//! - `global:F`: one threshold over all prunable layers: the `round(F N)` smallest |w| of their N
//!   weights become 0 (ties: the earlier layer, then the earlier weight, is pruned first).
//! - `nm:N:M`: in every group of M consecutive weights along the input-channel (reduction) axis of
//!   each (out channel, ky, kx) of a Conv and each column of a MatMul, the N largest |w| are kept
//!   (ties: the earlier). A lane whose length is not a multiple of M ends in a shorter group, which
//!   keeps its N largest: the group the array sees once the lane is padded with zeros.
//! - `filter:F`: in each prunable layer of O output filters, the `round(F O)` of smallest L1 norm are
//!   removed (at least one filter stays), and with them their channels everywhere they flow (see
//!   `plan_channels`); a layer whose channels cannot all be cut is skipped, with the reason.
//!
//! `round` is `f64::round` (half away from zero).

use super::quant::quantize_per_channel;
use super::{Network, Op, Value};
use crate::workload::magnitude_zero_bits;
use ndarray::{ArrayD, Axis};
use petgraph::graph::NodeIndex;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// How to prune; parsed from `magnitude:F`, `global:F`, `nm:N:M` or `filter:F`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PruneSpec {
    /// The fraction of each prunable layer's weights zeroed (smallest |w|).
    Magnitude(f64),
    /// The fraction of all prunable layers' weights zeroed under one |w| threshold.
    Global(f64),
    /// Keep `n` of every `m` consecutive weights along the reduction axis.
    NOfM { n: usize, m: usize },
    /// The fraction of each prunable layer's output filters removed (smallest L1 norm).
    Filter(f64),
}

const ACCEPTED: &str =
    "magnitude:F, global:F or filter:F with a fraction F in [0, 1), or nm:N:M with 1 <= N < M (nm:2:4, nm:1:4)";

/// A prune spec that does not parse or is out of range (bad input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad prune spec {given:?}: {why}; accepted: {accepted}", accepted = ACCEPTED)]
pub struct BadPruneSpec {
    pub given: String,
    pub why: String,
}

impl PruneSpec {
    fn check(&self) -> Result<(), String> {
        match *self {
            PruneSpec::Magnitude(f) | PruneSpec::Global(f) | PruneSpec::Filter(f)
                if !(0.0..1.0).contains(&f) =>
            {
                Err(format!("the fraction {f} is not in [0, 1)"))
            }
            PruneSpec::NOfM { n, m } if !(1 <= n && n < m) => Err(format!("{n}:{m} is not 1 <= N < M")),
            _ => Ok(()),
        }
    }
}

impl FromStr for PruneSpec {
    type Err = BadPruneSpec;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| BadPruneSpec { given: s.to_string(), why };
        let fraction = |t: &str| t.parse::<f64>().map_err(|_| bad(format!("{t:?} is not a number")));
        let count = |t: &str| t.parse::<usize>().map_err(|_| bad(format!("{t:?} is not a count")));
        let spec = match s.split(':').collect::<Vec<_>>().as_slice() {
            ["magnitude", f] => PruneSpec::Magnitude(fraction(f)?),
            ["global", f] => PruneSpec::Global(fraction(f)?),
            ["filter", f] => PruneSpec::Filter(fraction(f)?),
            ["nm", n, m] => PruneSpec::NOfM { n: count(n)?, m: count(m)? },
            _ => return Err(bad("unknown form".into())),
        };
        spec.check().map_err(bad)?;
        Ok(spec)
    }
}

impl fmt::Display for PruneSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PruneSpec::Magnitude(x) => write!(f, "magnitude:{x}"),
            PruneSpec::Global(x) => write!(f, "global:{x}"),
            PruneSpec::NOfM { n, m } => write!(f, "nm:{n}:{m}"),
            PruneSpec::Filter(x) => write!(f, "filter:{x}"),
        }
    }
}

/// One accelerator layer's weights: shapes, zeros, and the zero bits of their int8 quantization
/// per output channel (`quant::quantize_per_channel`, sign-magnitude, 7 magnitude bits a weight).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerSparsity {
    pub node: String,
    pub shape_before: Vec<usize>,
    pub shape_after: Vec<usize>,
    pub weights: usize,
    pub zeros: usize,
    pub value_sparsity: f64,
    pub zero_bits: u64,
    pub magnitude_bits: u64,
    pub zero_bit_fraction: f64,
    /// Why the layer was not pruned (None: pruned, or no pruning asked).
    pub skipped: Option<String>,
}

/// The sums over all accelerator layers (pruned or not).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SparsityTotals {
    pub weights_before: usize,
    pub weights: usize,
    pub zeros: usize,
    pub value_sparsity: f64,
    pub zero_bit_fraction: f64,
}

/// The accelerator layers' sparsity after pruning with `spec` (None: the network as it is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PruneReport {
    pub format_version: u32,
    pub spec: Option<String>,
    pub layers: Vec<LayerSparsity>,
    pub totals: SparsityTotals,
}

const REPORT_FORMAT_VERSION: u32 = 1;

impl fmt::Display for PruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "prune {}", self.spec.as_deref().unwrap_or("none"))?;
        for l in &self.layers {
            let shape = |s: &[usize]| s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x");
            write!(
                f,
                "  {:12} {:>14} -> {:<14} sparsity {:.3}  zero bits {:.3}",
                l.node,
                shape(&l.shape_before),
                shape(&l.shape_after),
                l.value_sparsity,
                l.zero_bit_fraction
            )?;
            match &l.skipped {
                Some(why) => writeln!(f, "  skipped: {why}")?,
                None => writeln!(f)?,
            }
        }
        let t = &self.totals;
        writeln!(
            f,
            "  total: {} -> {} weights, value sparsity {:.4}, zero-bit fraction {:.4}",
            t.weights_before, t.weights, t.value_sparsity, t.zero_bit_fraction
        )
    }
}

/// An accelerator layer: its node and the weight's output-channel and input-channel axes (OIHW
/// Conv: 0 and 1; K x N MatMul: 1 and 0).
#[derive(Debug, Clone, Copy)]
struct Layer {
    node: NodeIndex,
    out_axis: usize,
    in_axis: usize,
}

/// The accelerator layers in execution order.
fn accelerator_layers(net: &Network) -> Vec<Layer> {
    let is_weight =
        |t: Option<&String>| t.is_some_and(|t| matches!(net.constants.get(t), Some(Value::F32(_))));
    net.order
        .iter()
        .filter_map(|&node| {
            let n = &net.graph[node];
            let (out_axis, in_axis) = match n.op {
                Op::Conv { group: 1, .. } => (0, 1),
                Op::MatMul => (1, 0),
                _ => return None,
            };
            is_weight(n.inputs.get(1)).then_some(Layer { node, out_axis, in_axis })
        })
        .collect()
}

/// Why the `i`th of `count` accelerator layers is not prunable, if it is not.
fn excluded(i: usize, count: usize) -> Option<String> {
    if i == 0 {
        Some("first layer (reads the image): not pruned".into())
    } else if i + 1 == count {
        Some("last layer (makes the logits): not pruned".into())
    } else {
        None
    }
}

fn weight<'n>(net: &'n Network, layer: &Layer) -> &'n ArrayD<f32> {
    match &net.constants[&net.graph[layer.node].inputs[1]] {
        Value::F32(w) => w,
        Value::I64(_) => unreachable!("accelerator layers have float weights"),
    }
}

fn weight_mut<'n>(net: &'n mut Network, layer: &Layer) -> &'n mut ArrayD<f32> {
    match net.constants.get_mut(&net.graph[layer.node].inputs[1]) {
        Some(Value::F32(w)) => w,
        _ => unreachable!("accelerator layers have float weights"),
    }
}

/// Prunes the network's prunable layers as `spec` says (weights in place; filter pruning also cuts
/// shapes and the constants and groups of the nodes the channels flow through) and reports the
/// accelerator layers' sparsity.
pub fn prune(net: &mut Network, spec: &PruneSpec) -> Result<PruneReport, BadPruneSpec> {
    spec.check().map_err(|why| BadPruneSpec { given: spec.to_string(), why })?;
    let layers = accelerator_layers(net);
    let before: Vec<Vec<usize>> = layers.iter().map(|l| weight(net, l).shape().to_vec()).collect();
    let mut skipped: HashMap<NodeIndex, String> = HashMap::new();
    let mut prunable = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        match excluded(i, layers.len()) {
            Some(why) => {
                skipped.insert(layer.node, why);
            }
            None => prunable.push(*layer),
        }
    }
    match *spec {
        PruneSpec::Magnitude(f) => prunable.iter().for_each(|l| zero_smallest(net, &[*l], f)),
        PruneSpec::Global(f) => zero_smallest(net, &prunable, f),
        PruneSpec::NOfM { n, m } => {
            prunable.iter().for_each(|l| keep_n_of_m(weight_mut(net, l), l.in_axis, n, m))
        }
        PruneSpec::Filter(f) => prune_filters(net, &prunable, f, &mut skipped),
    }
    let mut report = report(net, &layers, &before, &skipped);
    report.spec = Some(spec.to_string());
    Ok(report)
}

/// The accelerator layers' sparsity as the network is (the baseline before pruning).
pub fn sparsity_report(net: &Network) -> PruneReport {
    let layers = accelerator_layers(net);
    let shapes: Vec<Vec<usize>> = layers.iter().map(|l| weight(net, l).shape().to_vec()).collect();
    report(net, &layers, &shapes, &HashMap::new())
}

fn report(
    net: &Network,
    layers: &[Layer],
    before: &[Vec<usize>],
    skipped: &HashMap<NodeIndex, String>,
) -> PruneReport {
    let rows: Vec<LayerSparsity> = layers
        .iter()
        .zip(before)
        .map(|(layer, shape)| layer_sparsity(net, layer, shape, skipped.get(&layer.node).cloned()))
        .collect();
    let sum = |f: fn(&LayerSparsity) -> u64| rows.iter().map(f).sum::<u64>();
    let weights = sum(|l| l.weights as u64);
    let zeros = sum(|l| l.zeros as u64);
    let totals = SparsityTotals {
        weights_before: before.iter().map(|s| s.iter().product::<usize>()).sum(),
        weights: weights as usize,
        zeros: zeros as usize,
        value_sparsity: ratio(zeros, weights),
        zero_bit_fraction: ratio(sum(|l| l.zero_bits), sum(|l| l.magnitude_bits)),
    };
    PruneReport { format_version: REPORT_FORMAT_VERSION, spec: None, layers: rows, totals }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn layer_sparsity(net: &Network, layer: &Layer, before: &[usize], skipped: Option<String>) -> LayerSparsity {
    let w = weight(net, layer);
    let zeros = w.iter().filter(|&&v| v == 0.0).count();
    // quantize_per_channel takes the output channels on axis 0
    let mut per_out = w.view();
    per_out.swap_axes(0, layer.out_axis);
    let (q, _) = quantize_per_channel(&per_out.to_owned());
    let q: Vec<i64> = q.iter().map(|&v| i64::from(v)).collect();
    let (zero_bits, magnitude_bits) = magnitude_zero_bits(&q, 8);
    LayerSparsity {
        node: net.graph[layer.node].name.clone(),
        shape_before: before.to_vec(),
        shape_after: w.shape().to_vec(),
        weights: w.len(),
        zeros,
        value_sparsity: ratio(zeros as u64, w.len() as u64),
        zero_bits,
        magnitude_bits,
        zero_bit_fraction: ratio(zero_bits, magnitude_bits),
        skipped,
    }
}

/// Zeros the `round(fraction n)` smallest |w| among the n weights of `layers` together (ties: the
/// earlier layer, then the earlier weight, goes first).
fn zero_smallest(net: &mut Network, layers: &[Layer], fraction: f64) {
    let mut all: Vec<(f32, usize, usize)> = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        all.extend(weight(net, layer).iter().enumerate().map(|(i, w)| (w.abs(), l, i)));
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let k = (fraction * all.len() as f64).round() as usize;
    let mut pruned: Vec<Vec<bool>> = layers.iter().map(|l| vec![false; weight(net, l).len()]).collect();
    for &(_, l, i) in &all[..k] {
        pruned[l][i] = true;
    }
    for (layer, pruned) in layers.iter().zip(pruned) {
        for (w, p) in weight_mut(net, layer).iter_mut().zip(pruned) {
            if p {
                *w = 0.0;
            }
        }
    }
}

/// Keeps the `n` largest |w| of every group of `m` consecutive weights along `in_axis` (ties: the
/// earlier weight); a lane's last group may be shorter.
fn keep_n_of_m(w: &mut ArrayD<f32>, in_axis: usize, n: usize, m: usize) {
    for mut lane in w.lanes_mut(Axis(in_axis)) {
        for start in (0..lane.len()).step_by(m) {
            let mut group: Vec<usize> = (start..(start + m).min(lane.len())).collect();
            // largest first; the sort is stable, so equal magnitudes keep the earlier weight
            group.sort_by(|&a, &b| lane[b].abs().total_cmp(&lane[a].abs()));
            for &i in &group[n.min(group.len())..] {
                lane[i] = 0.0;
            }
        }
    }
}

/// The output filters that stay: all but the `round(fraction O)` of smallest L1 norm (ties: the
/// earlier goes), at least one, in their order.
fn filters_to_keep(w: &ArrayD<f32>, out_axis: usize, fraction: f64) -> Vec<usize> {
    let norms: Vec<f32> = w.axis_iter(Axis(out_axis)).map(|f| f.iter().map(|v| v.abs()).sum()).collect();
    let mut by_norm: Vec<usize> = (0..norms.len()).collect();
    by_norm.sort_by(|&a, &b| norms[a].total_cmp(&norms[b]));
    let remove = ((fraction * norms.len() as f64).round() as usize).min(norms.len() - 1);
    let mut keep = by_norm[remove..].to_vec();
    keep.sort_unstable();
    keep
}

/// Filter pruning of each prunable layer in turn, on the network as the earlier ones left it. A
/// layer whose filters went with another's (an SE branch's last conv) is not pruned again.
fn prune_filters(
    net: &mut Network,
    prunable: &[Layer],
    fraction: f64,
    skipped: &mut HashMap<NodeIndex, String>,
) {
    let mut cut: HashSet<NodeIndex> = HashSet::new();
    for layer in prunable {
        if cut.contains(&layer.node) {
            continue;
        }
        match plan_channels(net, layer.node) {
            Ok(plan) => {
                let keep = filters_to_keep(weight(net, layer), layer.out_axis, fraction);
                apply(net, &plan, &keep);
                cut.extend(plan.roots);
            }
            Err(why) => {
                skipped.insert(layer.node, why);
            }
        }
    }
}

/// Removing output filters of a layer: the layers whose filters go (the layer, and the last conv of
/// each SE branch gating its channels) and the edits to every node the channels reach.
#[derive(Debug, Clone)]
struct ChannelPlan {
    roots: Vec<NodeIndex>,
    edits: Vec<Edit>,
}

/// One change made by removing channels, applied with the list of channels kept.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Edit {
    /// A node's constant input keeps only the kept entries along `axis`.
    Constant { node: NodeIndex, input: usize, axis: usize },
    /// A depthwise conv's group becomes the kept count.
    Group(NodeIndex),
    /// A Reshape's target shape (a constant) gets the kept count at the channel axis.
    ReshapeTarget(NodeIndex),
}

/// The tensors carrying the channels being removed: NCHW below a Conv, N x C below a MatMul; the
/// channel axis is 1 in both.
struct Region {
    channels: usize,
    rank: usize,
    tensors: HashSet<String>,
}

/// Plans removing output filters of accelerator layer `root`. The channels flow, in execution
/// order, through channelwise nodes (unary ops, pools, BatchNormalization, a depthwise conv whose
/// group is the channel count, Add/Sub/Mul/Div with the same channels or a constant per channel or
/// broadcast) to group=1 Convs and MatMuls, whose input channels are cut. A Mul by an SE gate pulls
/// the gate's last conv in as another root (its filters go too). Anything else the channels reach
/// (a residual Add of another producer, Reshape, Flatten, Concat, Shape, a graph output) is the
/// reason the layer cannot be filter-pruned.
fn plan_channels(net: &Network, root: NodeIndex) -> Result<ChannelPlan, String> {
    let layer = accelerator_layers(net)
        .into_iter()
        .find(|l| l.node == root)
        .ok_or_else(|| format!("node {:?} is not an accelerator layer", net.graph[root].name))?;
    let channels = weight(net, &layer).shape()[layer.out_axis];
    let rank = if layer.out_axis == 0 { 4 } else { 2 };
    let mut roots = vec![root];
    loop {
        match trace(net, &roots, channels, rank)? {
            Trace::Done(edits) => return Ok(ChannelPlan { roots, edits }),
            Trace::Gate(conv) => {
                let gate = Layer { node: conv, out_axis: 0, in_axis: 1 };
                if roots.contains(&conv) || weight(net, &gate).shape()[0] != channels {
                    let name = &net.graph[conv].name;
                    return Err(format!("the SE gate conv {name:?} does not make the same channels"));
                }
                roots.push(conv);
            }
        }
    }
}

enum Trace {
    Done(Vec<Edit>),
    /// A Mul is gated by this conv's output: it must become a root too.
    Gate(NodeIndex),
}

fn producers(net: &Network) -> HashMap<&str, NodeIndex> {
    net.graph.node_indices().flat_map(|i| net.graph[i].outputs.iter().map(move |t| (t.as_str(), i))).collect()
}

fn readers(net: &Network, tensor: &str) -> usize {
    net.graph.node_weights().flat_map(|n| &n.inputs).filter(|t| *t == tensor).count()
}

/// A constant, or computed from constants only (the SE convs' Reshape'd biases).
fn is_constant(net: &Network, producers: &HashMap<&str, NodeIndex>, t: &str) -> bool {
    net.constants.contains_key(t)
        || producers.get(t).is_some_and(|&p| {
            net.graph[p].inputs.iter().filter(|i| !i.is_empty()).all(|i| is_constant(net, producers, i))
        })
}

/// Follows the channels from `roots` through the network; the edits, or a Mul gate to add.
fn trace(net: &Network, roots: &[NodeIndex], channels: usize, rank: usize) -> Result<Trace, String> {
    let producers = producers(net);
    let mut region = Region { channels, rank, tensors: HashSet::new() };
    let mut edits = Vec::new();
    for &r in roots {
        let node = &net.graph[r];
        let out_axis = if matches!(node.op, Op::MatMul) { 1 } else { 0 };
        edits.push(Edit::Constant { node: r, input: 1, axis: out_axis });
        if node.inputs.get(2).is_some_and(|b| net.constants.contains_key(b)) {
            edits.push(Edit::Constant { node: r, input: 2, axis: 0 });
        }
        reach_outputs(net, r, &mut region)?;
    }
    for &idx in &net.order {
        if !net.graph[idx].inputs.iter().any(|t| region.tensors.contains(t)) {
            continue;
        }
        match step(net, &producers, idx, &region, &mut edits)? {
            Step::Through => reach_outputs(net, idx, &mut region)?,
            Step::End => {}
            Step::Gate(conv) => return Ok(Trace::Gate(conv)),
        }
    }
    let mut unique = Vec::new();
    for e in edits {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    Ok(Trace::Done(unique))
}

/// What the channels do at a node they reach.
enum Step {
    /// They flow on to the node's outputs.
    Through,
    /// They are summed over (the input channels of a group=1 Conv or a MatMul).
    End,
    /// A Mul by this conv's output (an SE gate): the conv must become a root too.
    Gate(NodeIndex),
}

/// The edits at node `idx`, which reads the channels, and where the channels go from there.
fn step(
    net: &Network,
    producers: &HashMap<&str, NodeIndex>,
    idx: NodeIndex,
    region: &Region,
    edits: &mut Vec<Edit>,
) -> Result<Step, String> {
    let node = &net.graph[idx];
    let c = region.channels;
    let inside: Vec<usize> =
        (0..node.inputs.len()).filter(|&i| region.tensors.contains(&node.inputs[i])).collect();
    let what = format!("{} {:?}", node.op.name(), node.name);
    let only_data =
        || if inside == [0] { Ok(()) } else { Err(format!("{what} takes the channels as a parameter")) };
    match &node.op {
        Op::Relu | Op::Clip { .. } | Op::HardSigmoid { .. } | Op::HardSwish | Op::Identity => only_data()?,
        Op::MaxPool { .. } | Op::GlobalAveragePool => only_data()?,
        Op::BatchNormalization { .. } => {
            only_data()?;
            for input in 1..=4 {
                if net.constants.get(&node.inputs[input]).map(Value::shape) != Some(&[c]) {
                    return Err(format!("{what} has a parameter that is not a constant per channel"));
                }
                edits.push(Edit::Constant { node: idx, input, axis: 0 });
            }
        }
        Op::Conv { group: 1, .. } => {
            only_data()?;
            edits.push(Edit::Constant { node: idx, input: 1, axis: 1 });
            return Ok(Step::End);
        }
        Op::Conv { group, .. } => {
            only_data()?;
            let w = net.constants.get(&node.inputs[1]).map(Value::shape).unwrap_or(&[]);
            if !(*group == c && w.first() == Some(&c) && w.get(1) == Some(&1)) {
                return Err(format!("{what} is a grouped conv"));
            }
            edits.push(Edit::Constant { node: idx, input: 1, axis: 0 });
            if node.inputs.get(2).is_some_and(|b| net.constants.contains_key(b)) {
                edits.push(Edit::Constant { node: idx, input: 2, axis: 0 });
            }
            edits.push(Edit::Group(idx));
        }
        Op::MatMul if region.rank == 2 && net.constants.contains_key(&node.inputs[1]) => {
            only_data()?;
            edits.push(Edit::Constant { node: idx, input: 1, axis: 0 });
            return Ok(Step::End);
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            for (i, t) in node.inputs.iter().enumerate().filter(|(i, _)| !inside.contains(i)) {
                if is_constant(net, producers, t) {
                    edits.extend(operand_edits(net, producers, idx, i, region)?);
                } else if matches!(node.op, Op::Mul) {
                    return Ok(Step::Gate(gate_conv(net, producers, t, &what)?));
                } else {
                    return Err(format!("{what} combines them with another producer's output (a residual)"));
                }
            }
        }
        _ => return Err(format!("{what} takes the channels (it cannot be cut)")),
    }
    Ok(Step::Through)
}

/// The node's outputs carry the channels; a graph output cannot lose them.
fn reach_outputs(net: &Network, node: NodeIndex, region: &mut Region) -> Result<(), String> {
    for out in &net.graph[node].outputs {
        if net.outputs.contains(out) {
            return Err(format!("the channels reach the graph output {out:?}"));
        }
        region.tensors.insert(out.clone());
    }
    Ok(())
}

/// The edits cutting a constant operand of a node the channels flow through: none for one broadcast
/// along the channel axis, a cut for one holding a value per channel, and for a Reshape of a 1-D
/// constant to the channel axis (the SE convs' biases) a cut of the data and of the target shape.
fn operand_edits(
    net: &Network,
    producers: &HashMap<&str, NodeIndex>,
    node: NodeIndex,
    input: usize,
    region: &Region,
) -> Result<Vec<Edit>, String> {
    let t = &net.graph[node].inputs[input];
    let c = region.channels;
    let unfit = || format!("the constant {t:?} is not per channel or broadcast ({c} channels)");
    if let Some(v) = net.constants.get(t) {
        let s = v.shape();
        let offset = region.rank.checked_sub(s.len()).ok_or_else(unfit)?;
        if offset > 1 || s[1 - offset] == 1 {
            return Ok(vec![]);
        }
        return if s[1 - offset] == c {
            Ok(vec![Edit::Constant { node, input, axis: 1 - offset }])
        } else {
            Err(unfit())
        };
    }
    let reshape = *producers.get(t.as_str()).ok_or_else(unfit)?;
    let r = &net.graph[reshape];
    let (Op::Reshape, Some(Value::F32(data)), Some(Value::I64(target))) =
        (&r.op, net.constants.get(&r.inputs[0]), r.inputs.get(1).and_then(|s| net.constants.get(s)))
    else {
        return Err(unfit());
    };
    let channel_entry = target.iter().nth(1).copied();
    let per_channel = data.shape() == [c]
        && target.len() == region.rank
        && (channel_entry == Some(c as i64) || channel_entry == Some(-1))
        && target.iter().enumerate().all(|(i, &d)| i == 1 || d == 1);
    if !per_channel || readers(net, t) != 1 {
        return Err(unfit());
    }
    let mut edits = vec![Edit::Constant { node: reshape, input: 0, axis: 0 }];
    if channel_entry == Some(c as i64) {
        edits.push(Edit::ReshapeTarget(reshape));
    }
    Ok(edits)
}

/// The group=1 Conv whose output, through channelwise ops and constant operands, gates a Mul (the
/// last conv of an SE branch).
fn gate_conv(
    net: &Network,
    producers: &HashMap<&str, NodeIndex>,
    tensor: &str,
    mul: &str,
) -> Result<NodeIndex, String> {
    let mut t = tensor;
    loop {
        let Some(&p) = producers.get(t) else {
            return Err(format!("{mul} is gated by the graph input {t:?}"));
        };
        let node = &net.graph[p];
        t = match node.op {
            Op::Conv { group: 1, .. } => return Ok(p),
            Op::Relu | Op::Clip { .. } | Op::HardSigmoid { .. } | Op::HardSwish | Op::Identity => {
                &node.inputs[0]
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let mut varying = node.inputs.iter().filter(|i| !is_constant(net, producers, i));
                match (varying.next(), varying.next()) {
                    (Some(v), None) => v,
                    _ => {
                        return Err(format!(
                            "{mul} is gated by {} {:?} of two tensors",
                            node.op.name(),
                            node.name
                        ))
                    }
                }
            }
            _ => return Err(format!("{mul} is gated by {} {:?}, not an SE conv", node.op.name(), node.name)),
        };
    }
}

/// Applies a plan, keeping channels `keep` (ascending).
fn apply(net: &mut Network, plan: &ChannelPlan, keep: &[usize]) {
    for edit in &plan.edits {
        match *edit {
            Edit::Constant { node, input, axis } => {
                let cut = match &net.constants[&net.graph[node].inputs[input]] {
                    Value::F32(a) => Value::F32(a.select(Axis(axis), keep)),
                    Value::I64(a) => Value::I64(a.select(Axis(axis), keep)),
                };
                set_constant(net, node, input, cut);
            }
            Edit::Group(node) => {
                if let Op::Conv { group, .. } = &mut net.graph[node].op {
                    *group = keep.len();
                }
            }
            Edit::ReshapeTarget(node) => {
                let Value::I64(target) = &net.constants[&net.graph[node].inputs[1]] else {
                    unreachable!("planned for an int64 target")
                };
                let mut target = target.clone();
                target[[1]] = keep.len() as i64;
                set_constant(net, node, 1, Value::I64(target));
            }
        }
    }
}

/// Replaces a node's constant input: in place when the node is its only reader, else as a new
/// constant `<name>@<node>` so that the other readers keep theirs.
fn set_constant(net: &mut Network, node: NodeIndex, input: usize, value: Value) {
    let name = net.graph[node].inputs[input].clone();
    if readers(net, &name) <= 1 {
        net.constants.insert(name, value);
        return;
    }
    let own = format!("{name}@{}", net.graph[node].name);
    net.constants.insert(own.clone(), value);
    net.graph[node].inputs[input] = own;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for s in ["magnitude:0.5", "global:0.75", "nm:2:4", "nm:1:4", "filter:0.25"] {
            assert_eq!(s.parse::<PruneSpec>().unwrap().to_string(), s);
        }
        for bad in
            ["magnitude", "magnitude:1", "global:-0.1", "nm:4:4", "nm:0:4", "nm:2", "filter:x", "l1:0.5"]
        {
            let err = bad.parse::<PruneSpec>().unwrap_err().to_string();
            assert!(err.starts_with(&format!("bad prune spec {bad:?}: ")), "{err}");
            assert!(err.contains("accepted: magnitude:F") && !err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn n_of_m_keeps_the_largest_along_the_input_axis_and_pads_a_short_group() {
        // 1 x 6 x 1 x 1: one lane of 6 along the input axis, groups [0..4) and [4..6)
        let mut w = ArrayD::from_shape_vec(vec![1, 6, 1, 1], vec![0.1, -0.4, 0.3, 0.2, 0.5, -0.6]).unwrap();
        keep_n_of_m(&mut w, 1, 1, 4);
        assert_eq!(w.iter().copied().collect::<Vec<_>>(), vec![0.0, -0.4, 0.0, 0.0, 0.0, -0.6]);
        // MatMul K x N = 4 x 2: groups run down each column
        let mut w = ArrayD::from_shape_vec(vec![4, 2], vec![1., 8., 2., 7., 3., 6., 4., 5.]).unwrap();
        keep_n_of_m(&mut w, 0, 2, 4);
        assert_eq!(w.iter().copied().collect::<Vec<_>>(), vec![0., 8., 0., 7., 3., 0., 4., 0.]);
    }

    #[test]
    fn filters_with_the_smallest_l1_norm_go_and_one_stays() {
        let w = ArrayD::from_shape_vec(vec![4, 2], vec![1., -1., 0.5, 0., -3., 0., 0.1, 0.1]).unwrap();
        assert_eq!(filters_to_keep(&w, 0, 0.5), vec![0, 2]);
        assert_eq!(filters_to_keep(&w, 1, 0.5), vec![0]);
        assert_eq!(filters_to_keep(&w, 0, 0.99), vec![2]);
    }
}
