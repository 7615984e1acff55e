//! GEMM cases for verification, generated from a seed. Case `i` of seed `s` is always the same case
//! (its own SplitMix64 stream), whatever the number of cases asked for.
//!
//! Case kinds cycle with the index, so that any ten consecutive cases cover every kind:
//! random values and shapes, K = 1, all-max, all-min, alternating min/max, real trained weights,
//! and a wrap case (all-min operands with K just long enough that the accumulator wraps modulo
//! 2^acc_bits). Shapes are drawn per dimension from: 1, smaller than the array, an exact multiple
//! of the array's size, and anything up to 3.5 times it (so non-multiples and partial tiles appear).

use super::rng::SplitMix64;
use crate::config::{Dataflow, Params};
use crate::model::Matrix;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Random,
    KOne,
    AllMax,
    AllMin,
    Alternating,
    RealWeights,
    Wrap,
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            CaseKind::Random => "random",
            CaseKind::KOne => "k=1",
            CaseKind::AllMax => "all max",
            CaseKind::AllMin => "all min",
            CaseKind::Alternating => "alternating min/max",
            CaseKind::RealWeights => "real weights",
            CaseKind::Wrap => "accumulator wrap",
        };
        f.write_str(s)
    }
}

const CYCLE: [CaseKind; 10] = [
    CaseKind::Random,
    CaseKind::KOne,
    CaseKind::AllMax,
    CaseKind::AllMin,
    CaseKind::Alternating,
    CaseKind::RealWeights,
    CaseKind::Random,
    CaseKind::Random,
    CaseKind::Random,
    CaseKind::Wrap,
];

/// One GEMM case: C = A . B with A MxK (act_bits) and B KxN (weight_bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub seed: u64,
    pub index: usize,
    pub kind: CaseKind,
    /// What the generator did, in words (e.g. "real weights unavailable: random B").
    pub note: String,
    pub a: Matrix,
    pub b: Matrix,
}

impl Case {
    pub fn describe(&self) -> String {
        let (m, k) = self.a.dim();
        let n = self.b.ncols();
        let note = if self.note.is_empty() { String::new() } else { format!(" ({})", self.note) };
        format!("case {} [{}] M={m} N={n} K={k}{note}", self.index, self.kind)
    }
}

fn lo(bits: u32) -> i64 {
    -(1i64 << (bits - 1))
}

fn hi(bits: u32) -> i64 {
    (1i64 << (bits - 1)) - 1
}

/// One dimension: 1, below `unit`, a multiple of `unit`, or anything up to 3.5 `unit`.
fn dim(rng: &mut SplitMix64, unit: usize) -> usize {
    match rng.below(4) {
        0 => 1,
        1 => rng.range_usize(1, unit.max(1)),
        2 => unit * rng.range_usize(1, 3),
        _ => rng.range_usize(1, unit * 7 / 2 + 1),
    }
}

fn fill(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> i64) -> Matrix {
    Matrix::from_shape_fn((rows, cols), |(i, j)| f(i, j))
}

/// Shape units: M folds by rows (OS) or by the accumulator depth (WS); K by rows (WS K tiles; in
/// OS every k is one beat, rows keeps it comparable); N by cols.
fn units(p: &Params) -> (usize, usize, usize) {
    let m_unit = match p.dataflow {
        Dataflow::OutputStationary => p.rows,
        Dataflow::WeightStationary => p.acc_depth,
    };
    (m_unit, p.cols, p.rows)
}

/// K at which all-min operands wrap the accumulator (products are 2^(prod_bits-2) each; the sum
/// reaches 2^(acc_bits-1) at K = 2^(acc_bits-prod_bits+1)), when that is short enough to simulate
/// (K <= 2^17 + 3: a 32-bit accumulator with 8-bit operands wraps; under a second per case).
pub fn wrap_k(p: &Params) -> Option<usize> {
    let e = p.acc_bits.checked_sub(p.prod_bits)? + 1;
    (e <= 17).then(|| (1usize << e) + 3)
}

/// Case `index` of `seed` for the array `p`.
pub fn generate(p: &Params, seed: u64, index: usize) -> Case {
    let mut rng = SplitMix64::for_case(seed, index);
    let kind = CYCLE[index % CYCLE.len()];
    let (mu, nu, ku) = units(p);
    let (mut m, n, mut k) = (dim(&mut rng, mu), dim(&mut rng, nu), dim(&mut rng, ku));
    let (aw, ww) = (p.act_bits, p.weight_bits);
    let mut note = String::new();
    let random_a = |rng: &mut SplitMix64, m, k| fill(m, k, |_, _| rng.range_i64(lo(aw), hi(aw)));
    let (a, b) = match kind {
        CaseKind::Random => {
            let a = random_a(&mut rng, m, k);
            (a, fill(k, n, |_, _| rng.range_i64(lo(ww), hi(ww))))
        }
        CaseKind::KOne => {
            k = 1;
            let a = random_a(&mut rng, m, k);
            (a, fill(k, n, |_, _| rng.range_i64(lo(ww), hi(ww))))
        }
        CaseKind::AllMax => (fill(m, k, |_, _| hi(aw)), fill(k, n, |_, _| hi(ww))),
        CaseKind::AllMin => (fill(m, k, |_, _| lo(aw)), fill(k, n, |_, _| lo(ww))),
        CaseKind::Alternating => {
            let pick = |bits, v: usize| if v.is_multiple_of(2) { lo(bits) } else { hi(bits) };
            (fill(m, k, |i, j| pick(aw, i + j)), fill(k, n, |i, j| pick(ww, i + j + 1)))
        }
        CaseKind::RealWeights => {
            let a = random_a(&mut rng, m, k);
            match real_weights(k, n, ww, rng.next_u64()) {
                Ok(b) => (a, b),
                Err(why) => {
                    note = format!("real weights unavailable ({why}): random B");
                    (a, fill(k, n, |_, _| rng.range_i64(lo(ww), hi(ww))))
                }
            }
        }
        CaseKind::Wrap => match wrap_k(p) {
            Some(kw) => {
                // One output tile: the cycles go into the long reduction.
                m = m.min(p.rows).min(mu);
                k = kw;
                note = format!("K={kw} all-min operands wrap the {}-bit accumulator", p.acc_bits);
                (fill(m, k, |_, _| lo(aw)), fill(k, n.min(p.cols), |_, _| lo(ww)))
            }
            None => {
                note = format!("acc_bits={} too wide to wrap in a short run: all min", p.acc_bits);
                (fill(m, k, |_, _| lo(aw)), fill(k, n, |_, _| lo(ww)))
            }
        },
    };
    Case { seed, index, kind, note, a, b }
}

/// A KxN slice of real trained weights quantized to `bits` (`crate::workload`), or why there is none
/// (the case then uses random weights and its note says so).
fn real_weights(k: usize, n: usize, bits: u32, seed: u64) -> Result<Matrix, String> {
    crate::workload::try_real_weight_matrix(k, n, bits, seed).map_err(|e| e.to_string())
}
