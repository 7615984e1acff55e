//! Whole networks: a trained ONNX model read into a graph of typed operations (`import`, with the
//! zero-dependency `onnx-rs` parser) and run by a float reference executor (`float`), the host
//! fallback for every operation and the float side of the int pipeline's fidelity checks.
//!
//! The graph is a petgraph `DiGraph`: a node per operation, an edge per tensor from its producer to
//! each consumer. Weights (initializers and `Constant` nodes) are values, not nodes.

pub mod cli;
pub mod energy;
pub mod float;
pub mod import;
pub mod intconv;
pub mod kneading;
pub mod passes;
pub mod program;
pub mod prune;
pub mod quant;
pub mod run;
pub mod samples;

use ndarray::ArrayD;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use import::{import, import_file, ImportError};

/// A tensor value: float data, or int64 (shapes, indices).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    F32(ArrayD<f32>),
    I64(ArrayD<i64>),
}

impl Value {
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::F32(a) => a.shape(),
            Value::I64(a) => a.shape(),
        }
    }
}

/// An operation and its attributes (ONNX defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// 2-D convolution, NCHW input, OIHW weight (input 1), optional bias (input 2).
    Conv {
        strides: [usize; 2],
        pads: [usize; 4],
        dilations: [usize; 2],
        group: usize,
    },
    /// 2-D transposed convolution, NCHW input, weight (input 1) C x M/group x kH x kW, optional bias
    /// (input 2): input pixel (y, x) adds w[c, o, ky, kx] x[c, y, x] to output pixel
    /// (y sh + ky dh - top, x sw + kx dw - left); the output side is
    /// s (in - 1) + output_padding + d (k - 1) + 1 minus both pads.
    ConvTranspose {
        strides: [usize; 2],
        pads: [usize; 4],
        dilations: [usize; 2],
        group: usize,
        output_padding: [usize; 2],
    },
    /// Per-channel (axis 1) batch normalization in inference form; inputs scale, bias, mean, var.
    BatchNormalization {
        epsilon: f32,
    },
    Relu,
    /// Clamp to [min, max]: opset >= 11 takes them as optional inputs 1 and 2, older as attributes.
    Clip {
        min: f32,
        max: f32,
    },
    /// max(0, min(1, alpha x + beta)).
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    /// x * max(0, min(1, x / 6 + 1 / 2)) (ONNX opset 14; older exports spell it Add 3, Clip 0..6,
    /// Mul, Div 6, which `passes::fuse_hardswish` turns into this op).
    HardSwish,
    /// 1 / (1 + exp(-x)).
    Sigmoid,
    /// Nearest-neighbour resize of an NCHW tensor by the scales of input 2 (opset >= 11: inputs X, roi,
    /// scales), the N and C scales 1: output side floor(in scale), output index i reads input index
    /// min(floor(i / scale), in - 1) (ONNX mode nearest, coordinate_transformation_mode asymmetric,
    /// nearest_mode floor: the only ones imported).
    Resize,
    Add,
    Sub,
    Mul,
    Div,
    GlobalAveragePool,
    MaxPool {
        kernel: [usize; 2],
        strides: [usize; 2],
        pads: [usize; 4],
    },
    MatMul,
    Softmax {
        axis: i64,
    },
    /// Reshape to input 1 (0 copies the input's dimension, -1 takes the rest).
    Reshape,
    Flatten {
        axis: i64,
    },
    Shape,
    /// Inputs data, starts, ends, axes, steps (opset >= 10).
    Slice,
    Concat {
        axis: i64,
    },
    /// To float (ONNX type 1), or to int32 (6) or int64 (7), both held as int64 values.
    Cast {
        to_f32: bool,
    },
    Identity,
}

impl Op {
    /// The ONNX operator name.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv { .. } => "Conv",
            Op::ConvTranspose { .. } => "ConvTranspose",
            Op::BatchNormalization { .. } => "BatchNormalization",
            Op::Relu => "Relu",
            Op::Clip { .. } => "Clip",
            Op::HardSigmoid { .. } => "HardSigmoid",
            Op::HardSwish => "HardSwish",
            Op::Sigmoid => "Sigmoid",
            Op::Resize => "Resize",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::MaxPool { .. } => "MaxPool",
            Op::MatMul => "MatMul",
            Op::Softmax { .. } => "Softmax",
            Op::Reshape => "Reshape",
            Op::Flatten { .. } => "Flatten",
            Op::Shape => "Shape",
            Op::Slice => "Slice",
            Op::Concat { .. } => "Concat",
            Op::Cast { .. } => "Cast",
            Op::Identity => "Identity",
        }
    }
}

/// One operation of the network: its ONNX node name and the tensors it reads and writes (an empty
/// input name is an omitted optional input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

/// A network: its operations in a graph, an execution order, the constant tensors, and the graph's
/// input (name, dimensions with None for a symbolic one) and outputs.
#[derive(Debug, Clone)]
pub struct Network {
    pub graph: DiGraph<Node, String>,
    /// The nodes in a topological order.
    pub order: Vec<NodeIndex>,
    pub constants: HashMap<String, Value>,
    pub inputs: Vec<(String, Vec<Option<usize>>)>,
    pub outputs: Vec<String>,
}

impl Network {
    /// The network of `nodes` (any order): an edge per tensor from its producer to each consumer, and
    /// a topological order. Fails on a cycle.
    pub fn build(
        nodes: Vec<Node>,
        constants: HashMap<String, Value>,
        inputs: Vec<(String, Vec<Option<usize>>)>,
        outputs: Vec<String>,
    ) -> Result<Network, String> {
        let mut graph = DiGraph::new();
        let mut producer = HashMap::new();
        for node in nodes {
            let outs = node.outputs.clone();
            let idx = graph.add_node(node);
            for out in outs {
                producer.insert(out, idx);
            }
        }
        for idx in graph.node_indices().collect::<Vec<_>>() {
            for input in graph[idx].inputs.clone().into_iter().filter(|s| !s.is_empty()) {
                if let Some(&from) = producer.get(&input) {
                    graph.add_edge(from, idx, input);
                }
            }
        }
        let order = petgraph::algo::toposort(&graph, None)
            .map_err(|c| format!("a cycle through node {:?}", graph[c.node_id()].name))?;
        Ok(Network { graph, order, constants, inputs, outputs })
    }

    /// The nodes in execution order.
    pub fn nodes(&self) -> Vec<Node> {
        self.order.iter().map(|&i| self.graph[i].clone()).collect()
    }

    /// Operation counts by ONNX name, sorted by name.
    pub fn op_counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
        for n in self.graph.node_weights() {
            *counts.entry(n.op.name()).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// Weight parameters: elements of the float constants.
    pub fn parameters(&self) -> usize {
        self.constants
            .values()
            .filter(|v| matches!(v, Value::F32(_)))
            .map(|v| v.shape().iter().product::<usize>())
            .sum()
    }
}

/// Calls `f(i, chunk)` on each `len`-element chunk of `y` (the i-th), the chunks split into contiguous
/// runs across the machine's cores: the fast paths' output rows and planes are independent.
pub(crate) fn par_chunks<T: Send>(y: &mut [T], len: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    if len == 0 || y.is_empty() {
        return;
    }
    let chunks = y.len().div_ceil(len);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(chunks);
    let per = chunks.div_ceil(threads);
    std::thread::scope(|s| {
        for (t, run) in y.chunks_mut(per * len).enumerate() {
            let f = &f;
            s.spawn(move || {
                for (i, chunk) in run.chunks_mut(len).enumerate() {
                    f(t * per + i, chunk);
                }
            });
        }
    });
}
