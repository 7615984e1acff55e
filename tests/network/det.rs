//! The PP-OCRv4 text detector (shipped in data/networks/) in the importer and the float executor: it
//! imports with its known operations (ConvTranspose, Resize and Sigmoid besides the classifier's), and
//! the executor's probability maps on the three real 96 x 160 samples equal onnxruntime's (the float
//! oracle, in the project's .venv) within float rounding, with the same text mask (probability > 0.3,
//! DB's threshold in rapidocr). Planted faults in the three new operations (the Sigmoid replaced by
//! its linear approximation, the last ConvTranspose's kernel flipped, the Resizes rounding to the
//! nearest source pixel instead of flooring) are caught by the same comparison. The attributes the
//! detector leaves at simple values (groups, dilations, pads, output padding, a bias, fractional
//! scales) are checked against onnxruntime on a small model; attribute values the executor does not
//! implement are import errors naming the node, the op and the attribute.
//!
//! Unoptimized (the test profile), one 96 x 160 inference takes about 4.6 s: the faults are planted
//! in one sample, and only the nodes downstream of a fault run again.

use crate::common;
use crate::{max_diff, run_float};

use accelc::network::{float, import_file, samples, Network, Node, Op, Value};
use ndarray::{ArrayD, Axis};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;

fn detector() -> Network {
    import_file(&samples::det_path()).expect("the shipped detector imports")
}

#[test]
fn the_detector_imports_with_its_operations() {
    let net = detector();
    let expected = [
        ("Add", 89),
        ("BatchNormalization", 3),
        ("Clip", 24),
        ("Concat", 1),
        ("Conv", 62),
        ("ConvTranspose", 2),
        ("Div", 24),
        ("GlobalAveragePool", 10),
        ("HardSigmoid", 10),
        ("Mul", 86),
        ("Relu", 12),
        ("Resize", 6),
        ("Sigmoid", 1),
    ];
    assert_eq!(net.op_counts(), expected);
    assert_eq!(net.inputs.len(), 1);
    assert_eq!(net.inputs[0].1, vec![None, Some(3), None, None], "input x: N x 3 x H x W");
    assert_eq!(net.outputs, ["sigmoid_0.tmp_0"]);
    // every weight is a Constant node (342 of them): conv kernels and biases, BatchNorm statistics,
    // the learnable affine blocks' scales and offsets, the scalars of the hard-swish pattern
    // (Add 3, Clip 0..6, Div 6) and the Resizes' roi and scales
    assert_eq!(net.constants.len(), 342);
    assert_eq!(net.parameters(), 1_171_841);
}

/// onnxruntime's values of `tensors` when `model` runs on `x` (`tag` names the scratch folder).
fn onnxruntime_of(model: &Path, x: &ArrayD<f32>, tag: &str, tensors: &[&str]) -> Vec<ArrayD<f32>> {
    let python = common::python::venv_python(&["numpy", "onnx", "onnxruntime"]);
    let dir = std::env::temp_dir().join(format!("accelc-test-network-det-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("x.npy");
    ndarray_npy::write_npy(&input, x).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/onnx_reference.py");
    let out =
        Command::new(python).arg(script).arg(model).arg(&input).arg(&dir).args(tensors).output().unwrap();
    assert!(out.status.success(), "onnxruntime failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let ys = tensors.iter().map(|t| ndarray_npy::read_npy(dir.join(format!("{t}.npy"))).unwrap()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    ys
}

/// onnxruntime's probability map for `x` (N x 3 x H x W).
fn onnxruntime(x: &ArrayD<f32>, tag: &str) -> ArrayD<f32> {
    onnxruntime_of(&samples::det_path(), x, tag, &["sigmoid_0.tmp_0"]).remove(0)
}

/// A planted fault: the outputs a node computes instead, or `None` where the node is fault-free.
type Fault<'a> = dyn Fn(&Node, &HashMap<String, Value>) -> Option<Vec<Value>> + 'a;

/// The output of `net` with a planted fault: a node for which `fault` gives outputs takes them, the
/// nodes downstream of it run again, every other tensor is the fault-free run's (`clean`, from
/// `float::run`).
fn run_with_fault(net: &Network, clean: &HashMap<String, Value>, fault: &Fault) -> ArrayD<f32> {
    let mut env = clean.clone();
    let mut changed = HashSet::new();
    for &i in &net.order {
        let node = &net.graph[i];
        let outs = match fault(node, &env) {
            Some(outs) => outs,
            None if node.inputs.iter().any(|t| changed.contains(t)) => {
                float::eval(node, &env).unwrap_or_else(|e| panic!("node {:?}: {e}", node.name))
            }
            None => continue,
        };
        changed.extend(node.outputs.iter().cloned());
        env.extend(node.outputs.iter().cloned().zip(outs));
    }
    assert!(changed.contains(&net.outputs[0]), "the fault was not planted");
    match env.remove(&net.outputs[0]) {
        Some(Value::F32(y)) => y,
        _ => panic!("no float output"),
    }
}

/// rapidocr's text mask threshold (DBPostProcess thresh).
const THRESH: f32 = 0.3;

/// Intersection over union of the text masks (1 when both are empty) and the oracle's mask pixels.
fn mask_iou(ours: &ArrayD<f32>, oracle: &ArrayD<f32>) -> (f64, usize) {
    let (mut inter, mut union, mut pixels) = (0, 0, 0);
    for (&a, &b) in ours.iter().zip(oracle) {
        let (a, b) = (a > THRESH, b > THRESH);
        inter += (a && b) as usize;
        union += (a || b) as usize;
        pixels += b as usize;
    }
    (if union == 0 { 1.0 } else { inter as f64 / union as f64 }, pixels)
}

#[test]
fn the_float_executor_equals_onnxruntime_on_real_images() {
    let net = detector();
    let s = samples::det_samples().unwrap();
    assert_eq!(s.inputs.shape(), [3, 3, 96, 160]);
    let ours = run_float(&net, &s.inputs);
    let oracle = onnxruntime(&s.inputs, "real");
    assert_eq!(oracle.shape(), [3, 1, 96, 160]);
    for (i, name) in s.names.iter().enumerate() {
        let (a, b) = (ours.index_axis(Axis(0), i).to_owned(), oracle.index_axis(Axis(0), i).to_owned());
        let diff = max_diff(&a, &b);
        let (iou, pixels) = mask_iou(&a, &b);
        eprintln!(
            "{name}: max |ours - onnxruntime| = {diff:.2e}, text mask IoU {iou} ({pixels} of {} pixels)",
            b.len()
        );
        assert!(diff < 1e-4, "{name}: float executor differs from onnxruntime by {diff}");
        assert_eq!(iou, 1.0, "{name}: the text masks differ");
        // the page crops have text (so the IoU above is not of two empty masks), the handwriting
        // photo at this size has none
        if name.starts_with("page") {
            assert!(pixels > 1000, "{name}: only {pixels} text pixels");
        } else {
            assert_eq!(pixels, 0, "{name}: the no-text sample has text");
        }
    }
}

/// Nearest resize that rounds the source coordinate (ONNX nearest_mode round_prefer_ceil) where the
/// model says floor: at scale 2 the map moves by one output pixel.
fn resize_rounding(node: &Node, env: &HashMap<String, Value>) -> Vec<Value> {
    let (Value::F32(x), Value::F32(scales)) = (&env[&node.inputs[0]], &env[&node.inputs[2]]) else {
        panic!("float Resize inputs")
    };
    let (h, w, sh, sw) = (x.shape()[2], x.shape()[3], scales[[2]], scales[[3]]);
    let src = |i: usize, s: f32, len: usize| ((i as f32 / s + 0.5).floor() as usize).min(len - 1);
    let shape = [x.shape()[0], x.shape()[1], (h as f32 * sh) as usize, (w as f32 * sw) as usize];
    let y = ndarray::Array4::from_shape_fn(shape, |(n, c, i, j)| x[[n, c, src(i, sh, h), src(j, sw, w)]]);
    vec![Value::F32(y.into_dyn())]
}

#[test]
fn planted_faults_in_sigmoid_conv_transpose_and_resize_are_caught() {
    let net = detector();
    let s = samples::det_samples().unwrap();
    let x = s.inputs.select(Axis(0), &[0]);
    let oracle = onnxruntime(&x, "faults");
    let clean = float::run(&net, &[(net.inputs[0].0.as_str(), Value::F32(x))]).unwrap();
    let Value::F32(y) = &clean[&net.outputs[0]] else { panic!("no float output") };
    assert!(max_diff(y, &oracle) < 1e-4, "the fault-free run differs");
    let last_conv_transpose =
        net.nodes().into_iter().rfind(|n| matches!(n.op, Op::ConvTranspose { .. })).expect("a ConvTranspose");

    let faults: [(&str, Box<Fault>); 3] = [
        // the Sigmoid replaced by its linear approximation at 0, clamped: 0.25 x + 0.5
        (
            "Sigmoid -> 0.25 x + 0.5",
            Box::new(|node, env| {
                (node.op == Op::Sigmoid).then(|| {
                    let hard = Node { op: Op::HardSigmoid { alpha: 0.25, beta: 0.5 }, ..node.clone() };
                    float::eval(&hard, env).unwrap()
                })
            }),
        ),
        // the last ConvTranspose's 2 x 2 kernels flipped (a correlation where a convolution is meant)
        (
            "last ConvTranspose kernel flipped",
            Box::new(|node, env| {
                (node.name == last_conv_transpose.name).then(|| {
                    let mut env = env.clone();
                    let Some(Value::F32(k)) = env.get_mut(&node.inputs[1]) else { panic!("no kernel") };
                    k.invert_axis(Axis(2));
                    k.invert_axis(Axis(3));
                    float::eval(node, &env).unwrap()
                })
            }),
        ),
        (
            "Resize rounding the source pixel",
            Box::new(|node, env| (node.op == Op::Resize).then(|| resize_rounding(node, env))),
        ),
    ];
    for (what, fault) in &faults {
        let y = run_with_fault(&net, &clean, fault);
        let diff = max_diff(&y, &oracle);
        let (iou, _) = mask_iou(&y, &oracle);
        eprintln!("planted {what}: max difference {diff:.2e}, text mask IoU {iou:.3}");
        assert!(diff > 1e-2, "planted {what} was not caught ({diff})");
    }
}

#[test]
fn unsupported_resize_and_conv_transpose_attributes_are_import_errors() {
    use onnx_rs::ast::{Attribute, AttributeType, Graph, Model, Node as ONode, OpType, OperatorSetId};
    let text = |name, s| Attribute { name, r#type: AttributeType::String, s, ..Default::default() };
    let import = |op_type: OpType<'static>, attribute: Vec<Attribute<'static>>, input: Vec<&'static str>| {
        let model = Model {
            ir_version: 7,
            opset_import: vec![OperatorSetId { domain: "", version: 12 }],
            graph: Some(Graph {
                name: "g",
                node: vec![ONode {
                    name: "n0",
                    op_type,
                    input,
                    output: vec!["y"],
                    attribute,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        accelc::network::import("m.onnx", &onnx_rs::encode(&model)).map(|_| ()).map_err(|e| e.to_string())
    };
    let asymmetric = || text("coordinate_transformation_mode", b"asymmetric");
    let floor = || text("nearest_mode", b"floor");
    let resize = vec!["x", "roi", "scales"];
    assert_eq!(import(OpType::Resize, vec![asymmetric(), floor()], resize.clone()), Ok(()));
    assert_eq!(
        import(OpType::Resize, vec![text("mode", b"linear"), asymmetric()], resize.clone()),
        Err("m.onnx: node \"n0\" (Resize): mode linear is not supported (nearest only)".into())
    );
    assert_eq!(
        import(OpType::Resize, vec![floor()], resize.clone()),
        Err("m.onnx: node \"n0\" (Resize): coordinate_transformation_mode half_pixel (the default) is \
             not supported (asymmetric only)"
            .into())
    );
    assert_eq!(
        import(OpType::Resize, vec![asymmetric(), text("nearest_mode", b"ceil")], resize),
        Err("m.onnx: node \"n0\" (Resize): nearest_mode ceil is not supported (floor only)".into())
    );
    assert_eq!(
        import(OpType::Resize, vec![asymmetric(), floor()], vec!["x", "", "", "sizes"]),
        Err("m.onnx: node \"n0\" (Resize): the sizes input is not supported (scales only)".into())
    );
    let output_shape = Attribute {
        name: "output_shape",
        r#type: AttributeType::Ints,
        ints: vec![8, 8],
        ..Default::default()
    };
    assert_eq!(
        import(OpType::ConvTranspose, vec![output_shape], vec!["x", "w"]),
        Err("m.onnx: node \"n0\" (ConvTranspose): output_shape is not supported (explicit pads only)".into())
    );
}

/// The new operations with every attribute they take away from the detector's values (a grouped,
/// dilated, padded ConvTranspose with output padding and a bias; a Resize by fractional scales) in a
/// small ONNX model, against onnxruntime.
#[test]
fn conv_transpose_resize_and_sigmoid_match_onnxruntime_off_the_detectors_attributes() {
    use onnx_rs::ast::{
        Attribute, AttributeType, DataType, Graph, Model, Node as ONode, OpType, OperatorSetId, TensorProto,
        TensorTypeProto, TypeProto, TypeValue, ValueInfo,
    };
    // small pseudo-random values in [-1, 1)
    let mut state = 12345u32;
    let mut values = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    };
    let x = ArrayD::from_shape_vec(vec![1, 4, 5, 6], values(120)).unwrap();
    let ints =
        |name, ints: Vec<i64>| Attribute { name, r#type: AttributeType::Ints, ints, ..Default::default() };
    let text = |name, s| Attribute { name, r#type: AttributeType::String, s, ..Default::default() };
    let float_info = |name| ValueInfo {
        name,
        r#type: Some(TypeProto {
            value: Some(TypeValue::Tensor(TensorTypeProto { elem_type: DataType::Float, shape: None })),
            ..Default::default()
        }),
        ..Default::default()
    };
    let model = Model {
        ir_version: 7,
        opset_import: vec![OperatorSetId { domain: "", version: 12 }],
        graph: Some(Graph {
            name: "g",
            node: vec![
                ONode {
                    name: "up",
                    op_type: OpType::ConvTranspose,
                    input: vec!["x", "w", "b"],
                    output: vec!["y"],
                    attribute: vec![
                        ints("strides", vec![2, 3]),
                        ints("pads", vec![1, 0, 0, 2]),
                        ints("dilations", vec![2, 1]),
                        ints("output_padding", vec![1, 2]),
                        Attribute { name: "group", r#type: AttributeType::Int, i: 2, ..Default::default() },
                    ],
                    ..Default::default()
                },
                ONode {
                    name: "resize",
                    op_type: OpType::Resize,
                    input: vec!["y", "roi", "scales"],
                    output: vec!["r"],
                    attribute: vec![
                        text("mode", b"nearest"),
                        text("coordinate_transformation_mode", b"asymmetric"),
                        text("nearest_mode", b"floor"),
                    ],
                    ..Default::default()
                },
                ONode {
                    name: "p",
                    op_type: OpType::Sigmoid,
                    input: vec!["r"],
                    output: vec!["z"],
                    ..Default::default()
                },
            ],
            initializer: vec![
                // C x M/group x kH x kW: 4 input channels, 2 groups of 3 output channels
                TensorProto::from_f32("w", vec![4, 3, 3, 2], values(72)),
                TensorProto::from_f32("b", vec![6], values(6)),
                TensorProto::from_f32("roi", vec![0], vec![]),
                TensorProto::from_f32("scales", vec![4], vec![1.0, 1.0, 1.5, 2.5]),
            ],
            input: vec![float_info("x")],
            output: vec![float_info("z")],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dir = std::env::temp_dir().join(format!("accelc-test-network-det-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ops.onnx");
    std::fs::write(&path, onnx_rs::encode(&model)).unwrap();
    let net = import_file(&path).expect("the small model imports");
    let env = float::run(&net, &[("x", Value::F32(x.clone()))]).unwrap();
    let oracle = onnxruntime_of(&path, &x, "ops", &["y", "r", "z"]);
    let _ = std::fs::remove_dir_all(&dir);
    for (t, want) in ["y", "r", "z"].iter().zip(&oracle) {
        let Value::F32(got) = &env[*t] else { panic!("{t} is not float") };
        let diff = max_diff(got, want);
        eprintln!("{t} {:?}: max |ours - onnxruntime| = {diff:.2e}", got.shape());
        assert!(diff < 1e-5, "{t} differs by {diff}");
    }
    // H: 2 (5 - 1) + 1 + 2 (3 - 1) + 1 - 1 = 13, W: 3 (6 - 1) + 2 + (2 - 1) + 1 - 2 = 17; then
    // floor(13 x 1.5) = 19, floor(17 x 2.5) = 42
    assert_eq!(oracle[0].shape(), [1, 6, 13, 17]);
    assert_eq!(oracle[1].shape(), [1, 6, 19, 42]);
}
