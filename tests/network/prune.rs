//! Pruning of the PP-OCR classifier (BatchNorm folded, as the int8 pipeline takes it): exact zero
//! counts per layer, one threshold for global pruning, the N:M pattern in every group, filter
//! pruning that really shrinks the 1x1 expand convs, their depthwise convs, SE branches and
//! consumers while the float network still runs; each checker catches a planted fault. Float top-1
//! agreement of every setting with the unpruned classifier is measured and printed, not asserted
//! (`cargo test --release --test network prune:: -- --nocapture` runs all 36 crops; a debug build 2).

use accelc::network::prune::{prune, sparsity_report, PruneReport};
use accelc::network::{float, import_file, passes, samples, Network, Op, Value};
use ndarray::{ArrayD, Axis};
use std::sync::OnceLock;

fn classifier() -> Network {
    static NET: OnceLock<Network> = OnceLock::new();
    NET.get_or_init(|| {
        let mut net = import_file(&samples::classifier_path()).expect("the shipped classifier imports");
        passes::fold_batchnorm(&mut net);
        net
    })
    .clone()
}

fn prune_classifier(spec: &str) -> (Network, PruneReport) {
    let mut net = classifier();
    let report = prune(&mut net, &spec.parse().unwrap()).unwrap();
    (net, report)
}

fn node<'n>(net: &'n Network, name: &str) -> &'n accelc::network::Node {
    net.graph.node_weights().find(|n| n.name == name).unwrap_or_else(|| panic!("no node {name}"))
}

fn weights(net: &Network, name: &str) -> ArrayD<f32> {
    match &net.constants[&node(net, name).inputs[1]] {
        Value::F32(w) => w.clone(),
        Value::I64(_) => panic!("int64 weights"),
    }
}

fn zeros(w: &ArrayD<f32>) -> usize {
    w.iter().filter(|&&v| v == 0.0).count()
}

/// Pruned = the original with some weights set to 0, and one |w| threshold splits them: every
/// pruned weight's original |w| is at most every kept one's.
fn one_threshold(pairs: &[(ArrayD<f32>, ArrayD<f32>)]) -> Result<(), String> {
    let (mut max_pruned, mut min_kept) = (0f32, f32::INFINITY);
    for (before, after) in pairs {
        for (&b, &a) in before.iter().zip(after) {
            if a == 0.0 {
                max_pruned = max_pruned.max(b.abs());
            } else if a != b {
                return Err(format!("weight {b} became {a}"));
            } else {
                min_kept = min_kept.min(b.abs());
            }
        }
    }
    if max_pruned > min_kept {
        return Err(format!("a pruned |w| {max_pruned} exceeds a kept |w| {min_kept}"));
    }
    Ok(())
}

#[test]
fn magnitude_pruning_zeros_round_f_n_smallest_weights_of_each_prunable_layer() {
    let net = classifier();
    for f in [0.5, 0.3] {
        let (pruned, report) = prune_classifier(&format!("magnitude:{f}"));
        let skipped: Vec<_> = report.layers.iter().filter(|l| l.skipped.is_some()).collect();
        assert_eq!(skipped.len(), 2, "only the first and the last layer are not pruned");
        for layer in &report.layers {
            let (before, after) = (weights(&net, &layer.node), weights(&pruned, &layer.node));
            assert_eq!(zeros(&after), layer.zeros, "{}: the report counts the zeros", layer.node);
            if layer.skipped.is_some() {
                assert_eq!(before, after, "{}", layer.node);
                continue;
            }
            let k = (f * before.len() as f64).round() as usize;
            assert_eq!(layer.zeros, k.max(zeros(&before)), "{}: round({f} x {})", layer.node, before.len());
            one_threshold(&[(before, after)]).unwrap_or_else(|e| panic!("{}: {e}", layer.node));
        }
        eprintln!("magnitude:{f}: {:?}", report.totals);
    }
}

#[test]
fn global_pruning_has_one_threshold_over_all_prunable_layers_and_the_checker_catches_a_second() {
    let net = classifier();
    let (pruned, report) = prune_classifier("global:0.5");
    let prunable: Vec<_> = report.layers.iter().filter(|l| l.skipped.is_none()).collect();
    let mut pairs: Vec<_> =
        prunable.iter().map(|l| (weights(&net, &l.node), weights(&pruned, &l.node))).collect();
    one_threshold(&pairs).unwrap();
    let n: usize = pairs.iter().map(|p| p.0.len()).sum();
    let zeros_before: usize = pairs.iter().map(|p| zeros(&p.0)).sum();
    let zeros_after: usize = prunable.iter().map(|l| l.zeros).sum();
    assert_eq!(zeros_after, ((0.5 * n as f64).round() as usize).max(zeros_before));
    let sparsities: Vec<f64> = prunable.iter().map(|l| l.value_sparsity).collect();
    let (lo, hi) = sparsities.iter().fold((1f64, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    eprintln!("global:0.5: per-layer value sparsity {lo:.3} ..= {hi:.3}; {:?}", report.totals);
    assert!(hi - lo > 0.1, "one threshold prunes layers unequally");

    // planted: per-layer thresholds (magnitude:0.5) are not one threshold
    let (per_layer, _) = prune_classifier("magnitude:0.5");
    let per_layer: Vec<_> =
        prunable.iter().map(|l| (weights(&net, &l.node), weights(&per_layer, &l.node))).collect();
    assert!(one_threshold(&per_layer).is_err(), "per-layer thresholds passed as one");
    // planted: one kept weight zeroed
    let (_, after) = &mut pairs[3];
    let largest = after.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
    after.as_slice_mut().unwrap()[largest] = 0.0;
    assert!(one_threshold(&pairs).is_err(), "a zeroed large weight passed");
}

/// Every group of `m` consecutive weights along `in_axis` (a lane's last may be shorter) keeps its
/// `min(n, nonzeros)` largest |w| unchanged and zeros the rest.
fn n_of_m_violations(
    before: &ArrayD<f32>,
    after: &ArrayD<f32>,
    in_axis: usize,
    n: usize,
    m: usize,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (lb, la) in before.lanes(Axis(in_axis)).into_iter().zip(after.lanes(Axis(in_axis))) {
        for start in (0..lb.len()).step_by(m) {
            let group = start..(start + m).min(lb.len());
            let kept = group.clone().filter(|&i| la[i] != 0.0).count();
            let nonzero = group.clone().filter(|&i| lb[i] != 0.0).count();
            let pairs = (
                ndarray::Array1::from_iter(group.clone().map(|i| lb[i])).into_dyn(),
                ndarray::Array1::from_iter(group.clone().map(|i| la[i])).into_dyn(),
            );
            if kept != n.min(nonzero) {
                bad.push(format!("group at {start}: {kept} kept, not {}", n.min(nonzero)));
            } else if let Err(e) = one_threshold(&[pairs]) {
                bad.push(format!("group at {start}: {e}"));
            }
        }
    }
    bad
}

#[test]
fn n_of_m_pruning_keeps_the_n_largest_of_every_input_channel_group_and_the_checker_catches_a_violation() {
    let net = classifier();
    for (n, m) in [(2, 4), (1, 4)] {
        let (pruned, report) = prune_classifier(&format!("nm:{n}:{m}"));
        for layer in report.layers.iter().filter(|l| l.skipped.is_none()) {
            let (before, after) = (weights(&net, &layer.node), weights(&pruned, &layer.node));
            let bad = n_of_m_violations(&before, &after, 1, n, m);
            assert!(bad.is_empty(), "{}: {:?}", layer.node, &bad[..bad.len().min(3)]);
        }
        eprintln!("nm:{n}:{m}: {:?}", report.totals);
    }
    // planted: one pruned weight of a 2:4 layer put back
    let (pruned, report) = prune_classifier("nm:2:4");
    let name = &report.layers[1].node;
    let (before, mut after) = (weights(&net, name), weights(&pruned, name));
    let i = after.iter().zip(&before).position(|(&a, &b)| a == 0.0 && b != 0.0).unwrap();
    after.as_slice_mut().unwrap()[i] = before.as_slice().unwrap()[i];
    assert!(!n_of_m_violations(&before, &after, 1, 2, 4).is_empty(), "a 3-of-4 group passed");
}

/// The group=1 convs that feed a depthwise conv through activations (the blocks' 1x1 expands), with
/// that depthwise conv: found by walking back from each depthwise conv along input 0.
fn expand_convs(net: &Network) -> Vec<(String, String)> {
    let producer = |t: &str| net.graph.node_weights().find(|n| n.outputs.iter().any(|o| o == t));
    let mut found = Vec::new();
    for dw in net.graph.node_weights().filter(|n| matches!(n.op, Op::Conv { group, .. } if group > 1)) {
        let mut at = producer(&dw.inputs[0]);
        while let Some(p) = at {
            if matches!(p.op, Op::Conv { .. }) {
                found.push((p.name.clone(), dw.name.clone()));
                break;
            }
            at = producer(&p.inputs[0]);
        }
    }
    found
}

fn bias(net: &Network, name: &str) -> ArrayD<f32> {
    match &net.constants[&node(net, name).inputs[2]] {
        Value::F32(b) => b.clone(),
        Value::I64(_) => panic!("int64 bias"),
    }
}

/// The original channels a pruned layer kept, found by their (distinct) bias values.
fn kept_channels(original: &ArrayD<f32>, pruned: &ArrayD<f32>) -> Vec<usize> {
    pruned.iter().map(|b| original.iter().position(|o| o == b).expect("a kept bias")).collect()
}

/// The `count` filters (axis 0) of largest L1 norm, in order.
fn largest_l1_filters(w: &ArrayD<f32>, count: usize) -> Vec<usize> {
    let norm = |o: usize| w.index_axis(Axis(0), o).iter().map(|v| v.abs() as f64).sum::<f64>();
    let mut order: Vec<usize> = (0..w.shape()[0]).collect();
    order.sort_by(|&a, &b| norm(b).total_cmp(&norm(a)));
    let mut keep = order[..count].to_vec();
    keep.sort_unstable();
    keep
}

/// The pruned network runs on `x` and gives the original's output shape (every consumer of a cut
/// channel set was cut consistently, or a conv, a broadcast or a depthwise group would fail).
fn shrink_check(original: &Network, pruned: &Network, x: &ArrayD<f32>) -> Result<(), String> {
    let shape = |net: &Network| -> Result<Vec<usize>, String> {
        let env = float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))])
            .map_err(|e| e.to_string())?;
        Ok(env[&net.outputs[0]].shape().to_vec())
    };
    let (want, got) = (shape(original)?, shape(pruned)?);
    if want != got {
        return Err(format!("output shape {got:?}, not {want:?}"));
    }
    Ok(())
}

#[test]
fn filter_pruning_shrinks_the_expand_convs_and_everything_their_channels_reach_and_the_network_runs() {
    let net = classifier();
    let (pruned, report) = prune_classifier("filter:0.25");
    eprintln!("{report}");
    let row = |name: &str| report.layers.iter().find(|l| l.node == name).unwrap();
    let removed = |o: usize| (0.25 * o as f64).round() as usize;
    for layer in report.layers.iter() {
        let (o, o2) = (layer.shape_before[0], layer.shape_after[0]);
        let expected = if layer.skipped.is_some() { o } else { o - removed(o) };
        assert_eq!(o2, expected, "{}: {:?} -> {:?}", layer.node, layer.shape_before, layer.shape_after);
    }
    let expands = expand_convs(&net);
    assert_eq!(expands.len(), 11, "the classifier's blocks");
    for (expand, depthwise) in &expands {
        let layer = row(expand);
        assert_eq!(layer.skipped, None, "{expand} is shrinkable");
        // the depthwise conv keeps the channels the expand kept (told by the expand's bias), and
        // where nothing cut the expand's inputs first, those are its filters of largest L1 norm
        let keep = kept_channels(&bias(&net, expand), &bias(&pruned, expand));
        assert_eq!(
            weights(&pruned, depthwise),
            weights(&net, depthwise).select(Axis(0), &keep),
            "{depthwise}"
        );
        assert_eq!(bias(&pruned, depthwise), bias(&net, depthwise).select(Axis(0), &keep), "{depthwise}");
        assert!(matches!(node(&pruned, depthwise).op, Op::Conv { group, .. } if group == keep.len()));
        if layer.shape_before[1] == layer.shape_after[1] {
            assert_eq!(keep, largest_l1_filters(&weights(&net, expand), keep.len()), "{expand}");
        }
    }
    let consumers_cut = report.layers.iter().filter(|l| l.shape_after[1] < l.shape_before[1]).count();
    let weights_cut = report.totals.weights_before - report.totals.weights;
    eprintln!("{consumers_cut} layers lost input channels; {weights_cut} accelerator weights removed");
    assert!(report.totals.weights < report.totals.weights_before * 9 / 10);

    let s = samples::cls_samples().unwrap();
    let x = s.inputs.select(Axis(0), &[0, 21]);
    shrink_check(&net, &pruned, &x).unwrap();
    // without folding, the channels also cut the BatchNormalizations' parameters
    let unfolded = import_file(&samples::classifier_path()).unwrap();
    let mut unfolded_pruned = unfolded.clone();
    let unfolded_report = prune(&mut unfolded_pruned, &"filter:0.25".parse().unwrap()).unwrap();
    assert_eq!(unfolded_report.totals.weights, report.totals.weights, "the same shapes");
    shrink_check(&unfolded, &unfolded_pruned, &x.select(Axis(0), &[0])).unwrap();

    // planted: a consumer (a project conv, whose own filters stay) keeps its uncut input channels
    let consumer = report
        .layers
        .iter()
        .find(|l| l.shape_after[0] == l.shape_before[0] && l.shape_after[1] < l.shape_before[1])
        .unwrap();
    let mut bad = pruned.clone();
    let w = node(&bad, &consumer.node).inputs[1].clone();
    bad.constants.insert(w, Value::F32(weights(&net, &consumer.node)));
    let caught = shrink_check(&net, &bad, &x);
    eprintln!("planted: {} not cut: {caught:?}", consumer.node);
    assert!(caught.is_err());
}

/// The largest difference between same-named tensors of the same shape in two runs on `x` (those
/// the pruning cut differ in shape; every other one, to the logits, must agree).
fn max_tensor_difference(a: &Network, b: &Network, x: &ArrayD<f32>) -> f32 {
    let run = |net: &Network| float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))]).unwrap();
    let (ea, eb) = (run(a), run(b));
    let mut max = 0f32;
    for (name, va) in &ea {
        if let (Value::F32(u), Some(Value::F32(v))) = (va, eb.get(name)) {
            if u.shape() == v.shape() {
                max = u.iter().zip(v).map(|(p, q)| (p - q).abs()).fold(max, f32::max);
            }
        }
    }
    max
}

/// The input channel a consumer lost: the first column where its pruned weight differs.
fn lost_input_channel(before: &ArrayD<f32>, after: &ArrayD<f32>) -> usize {
    let c = after.shape()[1];
    (0..c).find(|&j| before.index_axis(Axis(1), j) != after.index_axis(Axis(1), j)).unwrap_or(c)
}

/// Removing channels that nothing downstream reads changes no output, bit for bit, if and only if
/// the same channels went from every node on the way. `filter:0.004` removes one filter from each
/// 200-filter expand conv alone (round(0.8) = 1, round(0.42) = 0 for the next largest, 104): the
/// channel each consumer lost is found, its weights zeroed in the unpruned network, and that network
/// pruned again must give all its tensors but the cut ones exactly. A zeroed neighbour channel is caught.
#[test]
fn filter_pruning_of_channels_nothing_reads_keeps_the_outputs_exactly() {
    let net = classifier();
    let (pruned, report) = prune_classifier("filter:0.004");
    let consumers: Vec<(String, usize)> = report
        .layers
        .iter()
        .filter(|l| l.shape_after[1] < l.shape_before[1])
        .map(|l| (l.node.clone(), lost_input_channel(&weights(&net, &l.node), &weights(&pruned, &l.node))))
        .collect();
    assert_eq!(consumers.len(), 4, "two SE squeezes and two projects: {consumers:?}");
    let unread = |shift: usize| {
        let mut n = net.clone();
        for (name, c) in &consumers {
            let mut w = weights(&n, name);
            let channels = w.shape()[1];
            w.index_axis_mut(Axis(1), (c + shift) % channels).fill(0.0);
            let key = node(&n, name).inputs[1].clone();
            n.constants.insert(key, Value::F32(w));
        }
        n
    };
    let x = samples::cls_samples().unwrap().inputs.select(Axis(0), &[0]);
    let max_diff = |n: &Network| {
        let mut p = n.clone();
        prune(&mut p, &"filter:0.004".parse().unwrap()).unwrap();
        max_tensor_difference(n, &p, &x)
    };
    let exact = max_diff(&unread(0));
    let planted = max_diff(&unread(1));
    eprintln!(
        "{consumers:?}: largest tensor change {exact:e}; with the neighbour channel zeroed instead {planted:e}"
    );
    assert_eq!(exact, 0.0);
    assert!(planted > 1e-6, "a wrong channel passed");
}

#[test]
fn top1_agreement_of_each_setting_with_the_unpruned_classifier_is_measured() {
    let net = classifier();
    let s = samples::cls_samples().unwrap();
    // every crop takes ~0.8 s through the unoptimized float executor: a debug build measures 2 (one
    // upright, one rotated) and the settings asked for; a release build all 36 and lighter settings too
    let debug = cfg!(debug_assertions);
    let pick: Vec<usize> = if debug { vec![0, 33] } else { (0..s.labels.len()).collect() };
    let lighter: &[&str] = if debug { &[] } else { &["magnitude:0.2", "global:0.2", "filter:0.1"] };
    let x = s.inputs.select(Axis(0), &pick);
    let top1 = |net: &Network| -> Vec<usize> {
        let env = float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))]).expect("runs");
        let Value::F32(y) = &env[&net.outputs[0]] else { panic!("int64 output") };
        assert_eq!(y.shape(), [pick.len(), 2]);
        (0..pick.len()).map(|i| usize::from(y[[i, 1]] > y[[i, 0]])).collect()
    };
    let base = top1(&net);
    let correct = base.iter().zip(&pick).filter(|(&p, &i)| p == s.labels[i]).count();
    let t = sparsity_report(&net).totals;
    eprintln!(
        "unpruned: {} weights, value sparsity {:.4}, zero-bit fraction {:.4}, orientation correct {correct}/{}",
        t.weights,
        t.value_sparsity,
        t.zero_bit_fraction,
        pick.len()
    );
    for &spec in ["magnitude:0.5", "global:0.5", "nm:2:4", "nm:1:4", "filter:0.25"].iter().chain(lighter) {
        let (pruned, report) = prune_classifier(spec);
        let agree = top1(&pruned).iter().zip(&base).filter(|(a, b)| a == b).count();
        let t = &report.totals;
        eprintln!(
            "{spec:14} {} -> {} weights, value sparsity {:.4}, zero-bit fraction {:.4}, top-1 agreement {agree}/{}",
            t.weights_before,
            t.weights,
            t.value_sparsity,
            t.zero_bit_fraction,
            pick.len()
        );
    }
}

#[test]
fn the_report_serializes_with_a_format_version() {
    let report = sparsity_report(&classifier());
    assert_eq!(report.layers.len(), 53 - 11 + 1, "group=1 convs and the MatMul");
    assert!(report.layers.iter().all(|l| l.shape_before == l.shape_after && l.skipped.is_none()));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["layers"][0]["node"], "Conv@0");
}
