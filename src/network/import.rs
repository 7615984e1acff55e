//! ONNX -> [`Network`]: initializers and `Constant` nodes become constant values, every other node a
//! typed [`Op`] (attributes checked, ONNX defaults filled in), tensors become edges. An operation the
//! importer does not know is one error naming the node and the op.

use super::{Network, Node, Op, Value};
use ndarray::{ArrayD, IxDyn};
use onnx_rs::ast::{Attribute, DataType, Dimension, OpType, TensorProto};
use std::collections::HashMap;
use std::path::Path;

/// Why a model could not be imported (bad input: the CLI exits 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: not an ONNX model: {why}")]
    Parse { file: String, why: String },
    #[error("{file}: node {node:?}: op {op} is not supported")]
    Unsupported { file: String, node: String, op: String },
    #[error("{file}: node {node:?} ({op}): {why}")]
    Bad { file: String, node: String, op: String, why: String },
    #[error("{file}: {why}")]
    Graph { file: String, why: String },
}

/// Reads and imports an ONNX file.
pub fn import_file(path: &Path) -> Result<Network, ImportError> {
    let file = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| ImportError::Parse { file: file.clone(), why: e.to_string() })?;
    import(&file, &bytes)
}

/// A tensor's data as a value (float and int types; others are unsupported).
fn tensor_value(t: &TensorProto) -> Result<Value, String> {
    let dims: Vec<usize> = t.dims().iter().map(|&d| d as usize).collect();
    let shape = IxDyn(&dims);
    let bad = |e: ndarray::ShapeError| e.to_string();
    // an empty tensor (e.g. Resize's unused roi) has no data field at all
    let empty = dims.iter().product::<usize>() == 0;
    match t.data_type() {
        DataType::Float => {
            let data = match t.as_f32() {
                Some(d) => d.into_owned(),
                None if empty => vec![],
                None => return Err("float tensor without data".into()),
            };
            Ok(Value::F32(ArrayD::from_shape_vec(shape, data).map_err(bad)?))
        }
        DataType::Int64 => {
            let data = match t.as_i64() {
                Some(d) => d.into_owned(),
                None if empty => vec![],
                None => return Err("int64 tensor without data".into()),
            };
            Ok(Value::I64(ArrayD::from_shape_vec(shape, data).map_err(bad)?))
        }
        DataType::Int32 => {
            let data = match t.as_i32() {
                Some(d) => d.iter().map(|&v| v as i64).collect(),
                None if empty => vec![],
                None => return Err("int32 tensor without data".into()),
            };
            Ok(Value::I64(ArrayD::from_shape_vec(shape, data).map_err(bad)?))
        }
        other => Err(format!("tensor type {other:?} is not supported")),
    }
}

struct Attrs<'n, 'a> {
    list: &'n [Attribute<'a>],
}

impl Attrs<'_, '_> {
    fn get(&self, name: &str) -> Option<&Attribute<'_>> {
        self.list.iter().find(|a| a.name == name)
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }
    fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(|a| String::from_utf8_lossy(a.s).into_owned())
    }
}

/// `n` non-negative values of an int list attribute, or `default`.
fn usizes<const N: usize>(v: Option<Vec<i64>>, default: [usize; N]) -> Result<[usize; N], String> {
    match v {
        None => Ok(default),
        Some(v) => {
            let vals: Vec<usize> = v
                .iter()
                .map(|&x| usize::try_from(x).map_err(|_| format!("negative value {x}")))
                .collect::<Result<_, _>>()?;
            vals.try_into().map_err(|v: Vec<usize>| format!("{} values, expected {N}", v.len()))
        }
    }
}

/// The typed op of an ONNX node with attributes `a` and `inputs`, in a model of default-domain
/// `opset`; `None` for an op the importer does not know.
fn op_of(op: &OpType, a: &Attrs, inputs: &[&str], opset: i64) -> Result<Option<Op>, String> {
    let pads_2d = |a: &Attrs| -> Result<[usize; 4], String> {
        if let Some(p) = a.string("auto_pad").filter(|p| p != "NOTSET") {
            return Err(format!("auto_pad {p} is not supported (explicit pads only)"));
        }
        usizes(a.ints("pads"), [0; 4])
    };
    Ok(Some(match op {
        OpType::Conv => Op::Conv {
            strides: usizes(a.ints("strides"), [1, 1])?,
            pads: pads_2d(a)?,
            dilations: usizes(a.ints("dilations"), [1, 1])?,
            group: a.int("group", 1).max(1) as usize,
        },
        OpType::ConvTranspose => {
            if a.get("output_shape").is_some() {
                return Err("output_shape is not supported (explicit pads only)".into());
            }
            Op::ConvTranspose {
                strides: usizes(a.ints("strides"), [1, 1])?,
                pads: pads_2d(a)?,
                dilations: usizes(a.ints("dilations"), [1, 1])?,
                group: a.int("group", 1).max(1) as usize,
                output_padding: usizes(a.ints("output_padding"), [0, 0])?,
            }
        }
        OpType::BatchNormalization => Op::BatchNormalization { epsilon: a.float("epsilon", 1e-5) },
        OpType::Relu => Op::Relu,
        OpType::Clip => {
            Op::Clip { min: a.float("min", f32::NEG_INFINITY), max: a.float("max", f32::INFINITY) }
        }
        OpType::HardSigmoid => Op::HardSigmoid { alpha: a.float("alpha", 0.2), beta: a.float("beta", 0.5) },
        OpType::HardSwish => Op::HardSwish,
        OpType::Sigmoid => Op::Sigmoid,
        OpType::Resize => {
            if opset < 11 {
                return Err(format!(
                    "Resize of opset {opset} (inputs X, scales) is not supported (opset >= 11)"
                ));
            }
            let only = |name: &str, default: &str, supported: &str| match a.string(name) {
                Some(v) if v != supported => Err(format!("{name} {v} is not supported ({supported} only)")),
                None if default != supported => {
                    Err(format!("{name} {default} (the default) is not supported ({supported} only)"))
                }
                _ => Ok(()),
            };
            only("mode", "nearest", "nearest")?;
            only("coordinate_transformation_mode", "half_pixel", "asymmetric")?;
            only("nearest_mode", "round_prefer_floor", "floor")?;
            if a.int("antialias", 0) != 0 {
                return Err("antialias = 1 is not supported".into());
            }
            if a.get("axes").is_some() {
                return Err("axes is not supported (scales for every axis only)".into());
            }
            if inputs.get(3).is_some_and(|s| !s.is_empty()) {
                return Err("the sizes input is not supported (scales only)".into());
            }
            Op::Resize
        }
        OpType::Add => Op::Add,
        OpType::Sub => Op::Sub,
        OpType::Mul => Op::Mul,
        OpType::Div => Op::Div,
        OpType::GlobalAveragePool => Op::GlobalAveragePool,
        OpType::MaxPool => {
            if a.int("ceil_mode", 0) != 0 {
                return Err("ceil_mode = 1 is not supported".into());
            }
            Op::MaxPool {
                kernel: usizes(a.ints("kernel_shape"), [1, 1])?,
                strides: usizes(a.ints("strides"), [1, 1])?,
                pads: pads_2d(a)?,
            }
        }
        OpType::MatMul => Op::MatMul,
        OpType::Softmax => Op::Softmax { axis: a.int("axis", 1) },
        OpType::Reshape => Op::Reshape,
        OpType::Flatten => Op::Flatten { axis: a.int("axis", 1) },
        OpType::Shape => Op::Shape,
        OpType::Slice => {
            if a.get("starts").is_some() {
                return Err("Slice with attributes (opset < 10) is not supported".into());
            }
            Op::Slice
        }
        OpType::Concat => Op::Concat { axis: a.int("axis", 0) },
        OpType::Cast => match a.int("to", 0) {
            1 => Op::Cast { to_f32: true },
            // int32 and int64 both live as int64 values (shape arithmetic)
            6 | 7 => Op::Cast { to_f32: false },
            t => return Err(format!("Cast to ONNX type {t} is not supported (float, int32 or int64 only)")),
        },
        OpType::Identity => Op::Identity,
        _ => return Ok(None),
    }))
}

/// Imports a parsed ONNX model (`file` names it in errors).
pub fn import(file: &str, bytes: &[u8]) -> Result<Network, ImportError> {
    let model =
        onnx_rs::parse(bytes).map_err(|e| ImportError::Parse { file: file.into(), why: format!("{e:?}") })?;
    let g = model.graph.as_ref().ok_or(ImportError::Graph { file: file.into(), why: "no graph".into() })?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version);
    let mut constants = HashMap::new();
    for t in &g.initializer {
        let v = tensor_value(t).map_err(|why| ImportError::Graph {
            file: file.into(),
            why: format!("initializer {}: {why}", t.name()),
        })?;
        constants.insert(t.name().to_string(), v);
    }
    let mut nodes = Vec::new();
    for n in &g.node {
        let bad = |why: String| ImportError::Bad {
            file: file.into(),
            node: n.name.into(),
            op: n.op_type.as_str().into(),
            why,
        };
        let attrs = Attrs { list: &n.attribute };
        if n.op_type == OpType::Constant {
            let t =
                attrs.get("value").and_then(|a| a.t.as_ref()).ok_or_else(|| bad("no value tensor".into()))?;
            let out = n.output.first().ok_or_else(|| bad("no output".into()))?;
            constants.insert(out.to_string(), tensor_value(t).map_err(bad)?);
            continue;
        }
        let op = op_of(&n.op_type, &attrs, &n.input, opset).map_err(bad)?.ok_or_else(|| {
            ImportError::Unsupported { file: file.into(), node: n.name.into(), op: n.op_type.as_str().into() }
        })?;
        nodes.push(Node {
            name: n.name.into(),
            op,
            inputs: n.input.iter().map(|s| s.to_string()).collect(),
            outputs: n.output.iter().map(|s| s.to_string()).collect(),
        });
    }
    let inputs = g
        .input
        .iter()
        .filter(|vi| !constants.contains_key(vi.name))
        .map(|vi| {
            let dims = vi
                .tensor_shape()
                .map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Dimension::Value(v) if v > 0 => Some(v as usize),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            (vi.name.to_string(), dims)
        })
        .collect();
    let outputs = g.output.iter().map(|vi| vi.name.to_string()).collect();
    Network::build(nodes, constants, inputs, outputs)
        .map_err(|why| ImportError::Graph { file: file.into(), why })
}
