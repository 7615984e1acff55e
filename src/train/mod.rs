//! Training on the sparse row array (SparseTrain, DAC'20): a small TCN learns the
//! adding problem with every convolution's forward, input-gradient and weight-gradient pass computed by
//! the cycle-exact model of the generated array ([`crate::model::sparse_array::run`]) in integer fixed point,
//! with and without stochastic pruning of the output gradients.
//!
//! - [`adding`]: the data; [`tcn`]: the network (float glue: biases, ReLU, residuals, read-out);
//! - [`engine`]: who computes convolutions (the float reference or the array);
//! - [`mapping`]: how a layer's three phases become array jobs; [`array_engine`]: quantize, prune, run,
//!   count cycles;
//! - [`demo`]: the two runs and their report; [`output`]: terminal summary, JSON/CSV, SVG;
//!   [`rtl_check`]: the sampled jobs through the generated RTL in Verilator; [`cli`]: `accelc train-demo`.

pub mod adam;
pub mod adding;
pub mod array_engine;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod mapping;
pub mod output;
pub mod quant;
pub mod rtl_check;
pub mod tcn;
pub mod tensor;

pub use demo::{run_demo, sample_jobs, train_run, DemoOptions, DemoReport, RunReport};
pub use engine::{ConvEngine, FloatEngine};

use crate::sparse::SparseError;

/// Why training on the array cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("the config is not a sparse_1d array (pe.kind = \"sparse_1d\")")]
    NotSparse,
    #[error("train-demo options: {0}")]
    Options(String),
    #[error("layer {layer}, {phase}: the array cannot run the job: {problems}")]
    Job { layer: usize, phase: &'static str, problems: String },
    #[error(
        "layer {layer}, {phase}: sums of {products} products may wrap the {acc_bits}-bit accumulator; \
         raise pe.acc_bits or shrink the layer"
    )]
    MayWrap { layer: usize, phase: &'static str, products: usize, acc_bits: u32 },
    #[error("layer {layer}, {phase}: the dense feed gave other outputs than the compressed stream")]
    DenseMismatch { layer: usize, phase: &'static str },
    #[error("gradient pruning: {0}")]
    Prune(#[from] SparseError),
}
