//! The system top: a MAC array (output- or weight-stationary) wrapped with scratchpads, a layer sequencer,
//! per-channel requantization, an AXI4-Stream slave (descriptors and tensors in), an AXI4-Stream
//! master (results out) and AXI4-Lite control. One descriptor runs a whole 2-D convolution (a GEMM is
//! a 1x1 convolution over a 1 x M image) with implicit im2col addressing.
//!
//! The tables here are the one source of the interface: the RTL views, the model, the C header, the
//! Python host library, the manifest and the README all read them.

pub mod c_header;
pub mod cases;
pub mod descriptor;
pub mod host_py;
pub mod kneaded;
pub mod layout;
pub mod manifest;
pub mod plan;
pub mod ports;
pub mod reference;
pub mod regs;

pub use descriptor::{Descriptor, JobError, JobShape};
pub use kneaded::SacSystem;

use crate::config::{Config, Dataflow, SystemConfig};
use serde::Serialize;

/// Bytes of a descriptor on the stream (eight little-endian 32-bit fields).
pub const DESCRIPTOR_BYTES: usize = 32;
/// Scratchpad words holding one output-channel tile's requantization records (byte j of every record).
pub const PARAM_WORDS_PER_TILE: usize = 8;
/// Edges of each of the loader's two descriptor-decode phases: the products of descriptor fields are
/// formed by shift and add, one bit of a 16-bit operand per edge (no multipliers).
pub const DECODE_EDGES: usize = 16;

/// Derived parameters of a system top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemParams {
    /// Top module name: `<config name>_system`.
    pub top: String,
    /// R: array rows (output pixels per fold).
    pub rows: usize,
    /// C: array columns (output channels per fold) = 8-bit lanes of a stream word.
    pub cols: usize,
    /// tdata width of both AXI4-Stream ports: C x 8.
    pub stream_bits: u32,
    /// Words per bank of each scratchpad.
    pub act_words: usize,
    pub weight_words: usize,
    pub param_tiles: usize,
    pub out_words: usize,
    /// Stream words of a descriptor: 32 bytes / (C bytes per word).
    pub desc_words: usize,
    pub acc_bits: u32,
    /// The MAC array's `pe.pipeline`: edges of latency its rows gain.
    pub pipeline: usize,
    /// The array's dataflow: which engine drives it.
    pub dataflow: Dataflow,
    /// Weight-stationary arrays: rows of the accumulator buffer (output pixels per block).
    pub acc_depth: usize,
    /// SAC arrays: the kneaded weight format (each column has its own weight scratchpad of
    /// `weight_words` stream words per bank).
    pub sac: Option<SacSystem>,
}

impl SystemParams {
    /// The system parameters of a validated config with a `[system]` table.
    pub fn of(c: &Config) -> Option<SystemParams> {
        let s: &SystemConfig = c.system.as_ref()?;
        let cols = c.array.cols as usize;
        let p = crate::config::Params::derive(c);
        Some(SystemParams {
            top: format!("{}_system", c.name),
            rows: c.array.rows as usize,
            cols,
            stream_bits: s.stream_bits,
            act_words: s.act_words as usize,
            weight_words: s.weight_words as usize,
            param_tiles: s.param_tiles as usize,
            out_words: s.out_words as usize,
            desc_words: DESCRIPTOR_BYTES / cols,
            acc_bits: c.pe.acc_bits.unwrap_or(32),
            pipeline: p.pipeline,
            dataflow: c.array.dataflow,
            acc_depth: p.acc_depth,
            sac: p.sac.map(|sac| SacSystem::new(sac.knead_params(c.pe.weight_bits), sac.act_groups)),
        })
    }

    /// Bytes of one stream word (one 8-bit lane per array column).
    pub fn word_bytes(&self) -> usize {
        self.cols
    }

    /// Beats the array takes for a job (its compute time at one beat per edge): per output-channel
    /// tile, C beats per R pixels and reduction word (output-stationary), or one per pixel and fold
    /// of R reduction indices (weight-stationary).
    pub fn array_beats(&self, s: &JobShape) -> usize {
        match self.dataflow {
            Dataflow::OutputStationary => s.nt * s.mt * s.k(self.cols),
            Dataflow::WeightStationary => s.nt * s.pixels * s.k(self.cols) / self.rows,
        }
    }

    /// The engine's order of work for one job, in words (manifest and README).
    pub fn schedule(&self) -> String {
        let (r, c) = (self.rows, self.cols);
        let common = "per output-channel tile nt (C channels): wait until the requantizer is empty, read the tile's 8 record words, then";
        if let Some(sac) = &self.sac {
            return format!(
                "{common} for every tile of R = {r} output pixels and every reduction word (ky, kx, cb): one `a` beat \
                 carrying the R pixels' activation words (a kneading group of KS = C = {c} activations per row); \
                 column c reads the tile's kneaded stream of output channel nt*C + c from its own scratchpad, \
                 one word per edge (a column runs up to {} groups ahead of the slowest), and rewinds to the tile's \
                 first word after the fold's last; a fold leaves the array as R rows of C sums",
                sac.act_groups
            );
        }
        match self.dataflow {
            Dataflow::OutputStationary => format!(
                "{common} for every tile of R = {r} output pixels and every reduction word (ky, kx, cb): C = {c} array beats, \
                 beat i carrying byte i of the R pixels' activation words and weight word nt*K + ws*C + i; a fold (one pixel \
                 tile over all of K) leaves the array as R rows of C sums"
            ),
            Dataflow::WeightStationary => format!(
                "{common} for every block of D = {} output pixels (the accumulator rows) and every fold of R = {r} reduction \
                 indices k0 (K / R folds): R weight beats (weight words nt*K + k0 + r) and one array beat per pixel of the block \
                 carrying bytes (k0 mod C)..+R of its activation word for reduction word k0 / C; the block's last fold emits \
                 one row of C = {c} sums per pixel",
                self.acc_depth
            ),
        }
    }

    /// Parameter scratchpad words per bank.
    pub fn param_words(&self) -> usize {
        self.param_tiles * PARAM_WORDS_PER_TILE
    }
}
