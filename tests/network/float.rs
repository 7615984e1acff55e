//! Network import and the float reference executor: the PP-OCR text-direction classifier (shipped in
//! data/networks/) imports with its known operations, and the executor's outputs on 12 of the 36 real
//! sample crops equal onnxruntime's (the float oracle, in the project's .venv) within float rounding;
//! a planted fault in the graph (a HardSigmoid offset) is caught by the same comparison; an unknown
//! operation is one error naming the node and the op.

use crate::common;
use crate::{max_diff, run_float};

use accelc::network::{import_file, samples, Network, Op};
use ndarray::ArrayD;
use std::process::Command;

fn classifier() -> Network {
    import_file(&samples::classifier_path()).expect("the shipped classifier imports")
}

#[test]
fn the_classifier_imports_with_its_operations() {
    let net = classifier();
    let counts = net.op_counts();
    let count = |op: &str| counts.iter().find(|(n, _)| *n == op).map_or(0, |c| c.1);
    assert_eq!(count("Conv"), 53);
    assert_eq!(count("BatchNormalization"), 35);
    assert_eq!(count("HardSigmoid"), 9);
    assert_eq!(count("GlobalAveragePool"), 10);
    assert_eq!(count("MatMul"), 1);
    assert_eq!(count("Softmax"), 1);
    assert_eq!(net.inputs.len(), 1);
    assert_eq!(net.inputs[0].1, vec![None, Some(3), None, None], "input x: N x 3 x H x W");
    assert_eq!(net.outputs.len(), 1);
    assert!(net.parameters() > 100_000, "{} parameters", net.parameters());
}

/// onnxruntime's output for `x` (N x 3 x 48 x 192).
fn onnxruntime(x: &ArrayD<f32>) -> ArrayD<f32> {
    let python = common::python::venv_python(&["numpy", "onnx", "onnxruntime"]);
    let dir = std::env::temp_dir().join(format!("accelc-test-network-float-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("x.npy");
    ndarray_npy::write_npy(&input, x).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/onnx_reference.py");
    let out = Command::new(python)
        .arg(script)
        .arg(samples::classifier_path())
        .arg(&input)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "onnxruntime failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let name =
        classifier().outputs[0].replace(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)), "_");
    let y: ArrayD<f32> = ndarray_npy::read_npy(dir.join(format!("{name}.npy"))).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    y
}

#[test]
fn the_float_executor_equals_onnxruntime_on_real_images_and_a_planted_fault_is_caught() {
    let net = classifier();
    let s = samples::cls_samples().unwrap();
    // every third crop (12 of 36, upright and rotated alike): the float executor is unoptimized in a
    // debug test build; `make bench` runs all of them
    let pick: Vec<usize> = (0..s.labels.len()).step_by(3).collect();
    let x = s.inputs.select(ndarray::Axis(0), &pick);
    let labels: Vec<usize> = pick.iter().map(|&i| s.labels[i]).collect();
    let ours = run_float(&net, &x);
    let oracle = onnxruntime(&x);
    let diff = max_diff(&ours, &oracle);
    let argmax = |y: &ArrayD<f32>, i: usize| if y[[i, 1]] > y[[i, 0]] { 1 } else { 0 };
    let n = labels.len();
    let agree = (0..n).filter(|&i| argmax(&ours, i) == argmax(&oracle, i)).count();
    let correct = (0..n).filter(|&i| argmax(&ours, i) == labels[i]).count();
    eprintln!("classifier, {n} real crops: max |ours - onnxruntime| = {diff:.2e}, argmax agreement {agree}/{n}, orientation correct {correct}/{n}");
    assert!(diff < 1e-4, "float executor differs from onnxruntime by {diff}");
    assert_eq!(agree, n);

    // planted: one HardSigmoid's offset 0.5 -> 0.45 (the squeeze-excite gates shift)
    let mut bad = net.clone();
    let idx = bad.order.iter().copied().find(|&i| matches!(bad.graph[i].op, Op::HardSigmoid { .. })).unwrap();
    if let Op::HardSigmoid { beta, .. } = &mut bad.graph[idx].op {
        *beta -= 0.05;
    }
    let planted = max_diff(&run_float(&bad, &x), &oracle);
    eprintln!("planted HardSigmoid offset: max difference {planted:.2e}");
    assert!(planted > 1e-3, "the planted fault was not caught ({planted})");
}

#[test]
fn an_unknown_operation_is_one_error_naming_node_and_op() {
    use onnx_rs::ast::{Graph, Model, Node as ONode, OpType, OperatorSetId};
    let model = Model {
        ir_version: 7,
        opset_import: vec![OperatorSetId { domain: "", version: 11 }],
        graph: Some(Graph {
            name: "g",
            node: vec![
                ONode {
                    name: "r0",
                    op_type: OpType::Relu,
                    input: vec!["x"],
                    output: vec!["y"],
                    ..Default::default()
                },
                ONode {
                    name: "topk",
                    op_type: OpType::TopK,
                    input: vec!["y"],
                    output: vec!["z"],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }),
        ..Default::default()
    };
    let bytes = onnx_rs::encode(&model);
    let err = accelc::network::import("m.onnx", &bytes).unwrap_err();
    assert_eq!(err.to_string(), "m.onnx: node \"topk\": op TopK is not supported");
    let err = accelc::network::import("junk.onnx", b"\xff\xff\xff not protobuf").unwrap_err();
    assert!(err.to_string().starts_with("junk.onnx: not an ONNX model"), "{err}");
}

#[test]
fn folding_batchnorm_into_convs_keeps_the_outputs() {
    let net = classifier();
    let mut folded = net.clone();
    let n = accelc::network::passes::fold_batchnorm(&mut folded);
    let count = |net: &Network, op: &str| net.op_counts().iter().find(|(n, _)| *n == op).map_or(0, |c| c.1);
    assert_eq!(n, 35, "every BatchNormalization follows a Conv");
    assert_eq!(count(&folded, "BatchNormalization"), 0);
    assert_eq!(count(&folded, "Conv"), 53);
    let s = samples::cls_samples().unwrap();
    let x = s.inputs.select(ndarray::Axis(0), &[0, 1, 20, 33]);
    let diff = max_diff(&run_float(&net, &x), &run_float(&folded, &x));
    eprintln!("BatchNormalization folded into {n} convs: max output difference {diff:.2e}");
    assert!(diff < 1e-5, "folding changed the outputs by {diff}");
}

#[test]
fn the_preparing_passes_fold_and_fuse_and_keep_the_outputs() {
    let net = classifier();
    let mut prepared = net.clone();
    accelc::network::passes::prepare(&mut prepared);
    let count = |net: &Network, op: &str| net.op_counts().iter().find(|(n, _)| *n == op).map_or(0, |c| c.1);
    eprintln!("prepared classifier: {:?}", prepared.op_counts());
    assert_eq!(count(&prepared, "Conv"), 53);
    for gone in ["BatchNormalization", "Clip", "Div"] {
        assert_eq!(count(&prepared, gone), 0, "{gone} left");
    }
    // the SE blocks' 18 bias Adds are conv biases now
    assert_eq!(count(&prepared, "Add"), 8, "7 residuals and the classifier's bias");
    assert_eq!(count(&prepared, "HardSwish"), 18);
    let s = samples::cls_samples().unwrap();
    let x = s.inputs.select(ndarray::Axis(0), &[0, 33]);
    let diff = max_diff(&run_float(&net, &x), &run_float(&prepared, &x));
    eprintln!("prepared: max output difference {diff:.2e}");
    assert!(diff < 1e-5, "the passes changed the outputs by {diff}");
    // a fixed input shape turns the reshape's shape arithmetic into a constant
    accelc::network::passes::specialize_shapes(&mut prepared, x.shape()).unwrap();
    for gone in ["Shape", "Cast", "Slice", "Concat"] {
        assert_eq!(count(&prepared, gone), 0, "{gone} left");
    }
    assert_eq!(max_diff(&run_float(&net, &x), &run_float(&prepared, &x)), diff);
}
