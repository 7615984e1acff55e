//! Tiled GEMM on a generated array: C[MxN] = A[MxK] . B[KxN], folded over the array by the dataflow's
//! schedule. The producer (a host, or the testbench) offers beats back to back; the model says at
//! which edge each is taken and at which edge each output row leaves.

use super::{os_array, sac_array, ws_array, Beat, ChannelTrace, OutBeat};
use crate::config::{Dataflow, Params, PeKind};
use ndarray::Array2;

pub type Matrix = Array2<i64>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemmRun {
    /// The product as the array computes it (wrapped to acc_bits).
    pub c: Matrix,
    /// The beats offered on each input channel and the edges they are taken at.
    pub inputs: Vec<ChannelTrace>,
    /// Every output beat, in order, with the edge it leaves at.
    pub outputs: Vec<OutBeat>,
    /// Folds: passes of the array over one tile.
    pub folds: usize,
    /// Edges from the first beat to the last output, inclusive: last output edge + 1.
    pub cycles: u64,
}

impl GemmRun {
    /// Useful MACs over PE-cycles: 1.0 means every PE did a useful MAC on every edge.
    pub fn utilization(&self, p: &Params, macs: u64) -> f64 {
        macs as f64 / (p.rows as f64 * p.cols as f64 * self.cycles as f64)
    }
}

/// Runs one GEMM through the model. `a` holds act_bits values, `b` weight_bits values (checked).
pub fn run_gemm(p: &Params, a: &Matrix, b: &Matrix) -> GemmRun {
    assert_eq!(a.ncols(), b.nrows(), "A is MxK and B is KxN");
    assert!(a.nrows() > 0 && a.ncols() > 0 && b.ncols() > 0, "M, N and K must be at least 1");
    assert!(fits(a, p.act_bits), "A holds values wider than act_bits = {}", p.act_bits);
    let (w_lo, w_hi) = p.weight_range();
    assert!(b.iter().all(|&v| (w_lo..=w_hi).contains(&v)), "B holds values outside [{w_lo}, {w_hi}]");
    let mut run = match (p.kind, p.dataflow) {
        (PeKind::Sac, _) => sac_array::run(p, a, b),
        (PeKind::Mac, Dataflow::OutputStationary) => os_array::run(p, a, b),
        (PeKind::Mac, Dataflow::WeightStationary) => ws_array::run(p, a, b),
        (PeKind::Sparse1d, _) => {
            panic!("a sparse_1d array runs conv1d jobs (crate::model::sparse_array), not GEMMs")
        }
    };
    run.cycles = run.outputs.last().map_or(0, |o| o.cycle + 1);
    run
}

/// Runs an M x N x K GEMM of random operands (the full act_bits and weight ranges, from
/// `SplitMix64::for_case(seed, index)`): the cycles of a workload layer on a MAC array, which do not
/// depend on the operands (a SAC array's do, on the weights' bits).
pub fn run_random_gemm(p: &Params, m: usize, n: usize, k: usize, seed: u64, index: usize) -> GemmRun {
    let mut rng = crate::rng::SplitMix64::for_case(seed, index);
    let (w_lo, w_hi) = p.weight_range();
    let (a_lo, a_hi) = crate::bits::signed_range(p.act_bits);
    let a = Matrix::from_shape_fn((m, k), |_| rng.range_i64(a_lo, a_hi));
    let b = Matrix::from_shape_fn((k, n), |_| rng.range_i64(w_lo, w_hi));
    run_gemm(p, &a, &b)
}

fn fits(m: &Matrix, bits: u32) -> bool {
    let (lo, hi) = crate::bits::signed_range(bits);
    m.iter().all(|&v| (lo..=hi).contains(&v))
}

/// `m[(i, j)]`, or 0 outside the matrix (partial tiles are zero-padded).
pub(super) fn at(m: &Matrix, i: usize, j: usize) -> i64 {
    m.get((i, j)).copied().unwrap_or(0)
}

pub(super) fn ceil_div(x: usize, y: usize) -> usize {
    x.div_ceil(y)
}

pub(crate) fn channel(name: &str) -> ChannelTrace {
    ChannelTrace { name: name.into(), beats: Vec::new(), taken_at: Vec::new() }
}

pub(super) fn beat(fields: Vec<Vec<i64>>) -> Beat {
    Beat { fields }
}
