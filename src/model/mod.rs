//! The bit-exact, cycle-exact reference model of every block accelc emits. It depends on the config,
//! never on the RTL; it is the oracle the Verilator testbench is compared against, and it is itself
//! checked against plain i64 matrix multiplication (tests/model_vs_naive.rs). The sparse row array's
//! model (`sparse_array`) is checked against `sparse::conv1d`'s plain convolution arithmetic.
//!
//! Cycle numbering: edge 0 is the first rising clock edge after reset at which the producer offers
//! beats. A beat is *taken* at edge t when valid and ready are both 1 just before edge t; an output
//! beat *leaves* at edge t when out_valid is 1 just before edge t (the consumer samples it there).

pub mod gemm;
pub mod mac_unit;
mod os_array;
pub mod prune_unit;
pub mod sac_array;
pub mod sac_unit;
pub mod sparse_array;
pub mod system;
mod ws_array;

pub use gemm::{run_gemm, run_random_gemm, GemmRun, Matrix};

/// One beat on a channel: per field, per lane, the signed value carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat {
    pub fields: Vec<Vec<i64>>,
}

/// The beats the producer offers on one input channel, in order, and the edge each is taken at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTrace {
    pub name: String,
    pub beats: Vec<Beat>,
    pub taken_at: Vec<u64>,
}

/// A model run as a testbench sees it: the input beats (with the edges they are taken at) and the
/// output beats (with the edges they leave at).
pub trait Traced {
    fn input_traces(&self) -> &[ChannelTrace];
    fn output_beats(&self) -> &[OutBeat];
    /// Edges from the first beat to the last output, inclusive.
    fn cycles(&self) -> u64;
}

impl Traced for GemmRun {
    fn input_traces(&self) -> &[ChannelTrace] {
        &self.inputs
    }
    fn output_beats(&self) -> &[OutBeat] {
        &self.outputs
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// One output beat: the edge it leaves at and its lanes (signed, acc_bits wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutBeat {
    pub cycle: u64,
    pub lanes: Vec<i64>,
}
