//! Accelerator configs: the TOML schema, validation that reports every problem at once, and the
//! parameters derived from a valid config (computed here, once, and nowhere else).

pub mod derive;
mod validate;

pub use derive::{Params, SacParams, SparseParams};
pub use validate::{ConfigError, ConfigErrors};

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Format of the reports and manifests accelc writes; bump on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Design name: becomes the Verilog top module, so it must be a Verilog identifier.
    pub name: String,
    pub array: ArrayConfig,
    pub pe: PeConfig,
    /// sparse_1d only: the row buffers and the limits of the runtime conv geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<SparseConfig>,
    /// Output-stationary MAC arrays only: wrap the array in a system top (scratchpads, a layer
    /// sequencer, requantization, AXI4-Stream data and AXI4-Lite control; `crate::system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemConfig>,
}

/// The system top around an array (`crate::system`). Sizes count scratchpad words of
/// `stream_bits` bits (one channel vector: `array.cols` 8-bit values); each scratchpad has two banks
/// of that many words, so the next job loads while the current one computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// AXI4-Stream tdata width of both streams: array.cols x act_bits (one channel vector per beat).
    pub stream_bits: u32,
    /// Activation scratchpad words per bank: a job's input feature map, ceil(in_c/cols) x in_h x in_w.
    pub act_words: u32,
    /// Weight scratchpad words per bank: a job's weights, ceil(out_c/cols) x kh x kw x ceil(in_c/cols) x cols.
    pub weight_words: u32,
    /// Output-channel tiles (of array.cols channels) whose requantization records a bank holds.
    pub param_tiles: u32,
    /// Output FIFO words between the requantizer and the AXI4-Stream master (at least array.rows).
    pub out_words: u32,
}

/// The sparse 1-D convolution row array (SparseTrain). `array.rows` is the number of PE rows (each
/// holds one output row), `array.cols` the kernel taps KT (the MAC lanes of a PE row). Stride,
/// dilation, padding and row lengths are per job, within the limits below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparseConfig {
    /// L: the longest row (input or output) a PE row buffers; sets the stream's index width.
    pub row_len: u32,
    /// Largest dilation a job may use.
    #[serde(default = "one")]
    pub max_dilation: u32,
    /// Largest stride a job may use: 1, 2 or 4 (strides are powers of two, so division is a shift).
    #[serde(default = "one")]
    pub max_stride: u32,
    /// Dense-operand values loaded per PE row per beat (kernel taps, or the activation row of the
    /// weight-gradient phase). Default: the taps, so a kernel row loads in one beat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_lanes: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayConfig {
    pub rows: u32,
    pub cols: u32,
    pub dataflow: Dataflow,
    /// Weight-stationary only: rows of the output accumulator buffer, i.e. the largest M block one
    /// fold streams. Default: the next power of two >= rows + cols (enough to hide weight loading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc_depth: Option<u32>,
    /// SAC only: activation groups each row buffers (1, 2, 4 or 8). Columns whose kneaded streams are
    /// shorter run up to this many groups ahead of the slowest column; 1 keeps every column in lockstep
    /// per group (the slowest column's words set each group's time). Default 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act_buffer_groups: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataflow {
    OutputStationary,
    WeightStationary,
}

impl Dataflow {
    pub fn short(self) -> &'static str {
        match self {
            Dataflow::OutputStationary => "os",
            Dataflow::WeightStationary => "ws",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeConfig {
    pub kind: PeKind,
    /// Signed two's complement weight width.
    pub weight_bits: u32,
    /// Signed two's complement activation width.
    pub act_bits: u32,
    /// Accumulator width; results wrap modulo 2^acc_bits. Default:
    /// weight_bits + act_bits + ceil(log2(max_reduction)), which never wraps for K <= max_reduction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc_bits: Option<u32>,
    /// Longest reduction (K) the default accumulator width is sized for.
    #[serde(default = "default_max_reduction")]
    pub max_reduction: u32,
    /// SAC only: KS, the weights kneaded together along the reduction axis (a power of two, 2..=64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kneading_stride: Option<u32>,
    /// SAC only: how weights are split into signed power-of-two digits before kneading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<WeightEncoding>,
    /// Register stages inside a PE: MAC 0..=3, SAC 0..=2, sparse_1d 0..=1. MAC: 1 registers the
    /// product (multiply in one cycle, accumulate in the next); 2 also registers the operands at the
    /// multiplier (a DSP block's input registers); 3 adds a second product register (its output
    /// register). SAC: 1 registers a fold's final segments before the shift-add tree; 2 also each
    /// slot's selected operand before its add. sparse_1d: 1 registers the lanes' products before the
    /// accumulators. Each stage adds one edge of latency to every output; the array still takes one
    /// word, beat or entry per edge.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pipeline: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Digit encoding of SAC weights (see `crate::knead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightEncoding {
    /// Tetris: the 1-bits of |w|, each with the weight's sign.
    SignMagnitude,
    /// Canonical signed digits (non-adjacent form): fewer nonzero digits, each with its own sign.
    Csd,
}

impl WeightEncoding {
    pub fn knead(self) -> crate::knead::Encoding {
        match self {
            WeightEncoding::SignMagnitude => crate::knead::Encoding::SignMagnitude,
            WeightEncoding::Csd => crate::knead::Encoding::Csd,
        }
    }
}

fn default_max_reduction() -> u32 {
    4096
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeKind {
    /// Multiply-accumulate.
    Mac,
    /// Tetris split-and-accumulate over kneaded weights.
    Sac,
    /// SparseTrain 1-D convolution rows over compressed (value, index) streams.
    #[serde(rename = "sparse_1d")]
    Sparse1d,
}

impl Config {
    /// Reads, parses and validates a config file. Every problem found is returned at once.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![ConfigError::new(&file, "", "", format!("cannot read: {e}"))]))?;
        Config::parse(&file, &text)
    }

    /// Parses and validates config text; `file` names the source in error messages.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigErrors> {
        let config: Config = toml::from_str(text).map_err(|e| validate::from_toml_error(file, text, &e))?;
        config.validate(file)?;
        Ok(config)
    }

    /// Checks every rule and reports all violations, each naming file, key, value and rule.
    pub fn validate(&self, file: &str) -> Result<(), ConfigErrors> {
        validate::validate(self, file)
    }

    /// The derived parameters of a valid config.
    pub fn params(&self) -> Params {
        Params::derive(self)
    }

    /// A stable hash of the config's meaning (used to cache builds and runs).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::to_string(self).expect("config serializes");
        let hash = Sha256::digest(canonical.as_bytes());
        hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}
