//! GEMM cases for verification, generated from a seed. Case `i` of seed `s` is always the same case
//! (its own SplitMix64 stream), whatever the number of cases asked for.
//!
//! Case kinds cycle with the index, so that any ten consecutive cases cover every kind:
//! random values and shapes, K = 1, all-max, all-min, alternating min/max, real trained weights,
//! adversarial weight bit patterns (all ones, alternating bits, all-zero groups, max magnitude, both
//! signs: the kneading worst and best cases), and a wrap case (all-min operands with K just long enough that the accumulator wraps modulo
//! 2^acc_bits). Shapes are drawn per dimension from: 1, smaller than the array, an exact multiple
//! of the array's size, and anything up to 3.5 times it (so non-multiples and partial tiles appear).

use crate::config::{Dataflow, Params};
use crate::model::Matrix;
use crate::rng::SplitMix64;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Random,
    KOne,
    AllMax,
    AllMin,
    Alternating,
    RealWeights,
    BitPatterns,
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
            CaseKind::BitPatterns => "weight bit patterns",
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
    CaseKind::BitPatterns,
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
    crate::bits::signed_range(bits).0
}

fn hi(bits: u32) -> i64 {
    crate::bits::signed_range(bits).1
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
/// OS every k is one beat, rows keeps it comparable) or by the kneading stride (SAC groups); N by cols.
fn units(p: &Params) -> (usize, usize, usize) {
    let m_unit = match p.dataflow {
        Dataflow::OutputStationary => p.rows,
        Dataflow::WeightStationary => p.acc_depth,
    };
    let k_unit = p.sac.as_ref().map_or(p.rows, |s| s.ks);
    (m_unit, p.cols, k_unit)
}

/// A weight from the patterns that stress kneading: all magnitude bits set (max magnitude), alternating
/// bits 0101... and 1010..., a single low or high bit, and zero, with either sign; whole groups of KS
/// weights share a pattern so that all-zero groups and maximal-word groups occur.
fn pattern_weight(rng: &mut SplitMix64, w_lo: i64, w_hi: i64) -> i64 {
    let max = w_hi.min(-w_lo);
    let alt = (0..63).step_by(2).map(|b| 1i64 << b).fold(0, |acc, bit| acc | bit) & max;
    let magnitude = match rng.below(6) {
        0 => max,
        1 => alt,
        2 => max & !alt,
        3 => 1,
        4 => (max + 1) / 2,
        _ => 0,
    };
    if rng.below(2) == 0 {
        magnitude
    } else {
        -magnitude
    }
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
    let aw = p.act_bits;
    let (w_lo, w_hi) = p.weight_range();
    let group = units(p).2;
    let mut note = String::new();
    let random_a = |rng: &mut SplitMix64, m, k| fill(m, k, |_, _| rng.range_i64(lo(aw), hi(aw)));
    let (a, b) = match kind {
        CaseKind::Random => {
            let a = random_a(&mut rng, m, k);
            (a, fill(k, n, |_, _| rng.range_i64(w_lo, w_hi)))
        }
        CaseKind::KOne => {
            k = 1;
            let a = random_a(&mut rng, m, k);
            (a, fill(k, n, |_, _| rng.range_i64(w_lo, w_hi)))
        }
        CaseKind::AllMax => (fill(m, k, |_, _| hi(aw)), fill(k, n, |_, _| w_hi)),
        CaseKind::AllMin => (fill(m, k, |_, _| lo(aw)), fill(k, n, |_, _| w_lo)),
        CaseKind::Alternating => {
            let pick = |(lo, hi): (i64, i64), v: usize| if v.is_multiple_of(2) { lo } else { hi };
            (
                fill(m, k, |i, j| pick((lo(aw), hi(aw)), i + j)),
                fill(k, n, |i, j| pick((w_lo, w_hi), i + j + 1)),
            )
        }
        CaseKind::BitPatterns => {
            let a = random_a(&mut rng, m, k);
            let patterns: Vec<Vec<i64>> = (0..k.div_ceil(group))
                .map(|_| (0..n).map(|_| pattern_weight(&mut rng, w_lo, w_hi)).collect())
                .collect();
            (a, fill(k, n, |i, j| patterns[i / group][j]))
        }
        CaseKind::RealWeights => {
            let a = random_a(&mut rng, m, k);
            match real_weights(k, n, p.weight_bits, rng.next_u64()) {
                Ok(b) => (a, b),
                Err(why) => {
                    note = format!("real weights unavailable ({why}): random B");
                    (a, fill(k, n, |_, _| rng.range_i64(w_lo, w_hi)))
                }
            }
        }
        CaseKind::Wrap => match wrap_k(p) {
            Some(kw) => {
                // One output tile: the cycles go into the long reduction.
                m = m.min(p.rows).min(mu);
                k = kw;
                note = format!("K={kw} all-min operands wrap the {}-bit accumulator", p.acc_bits);
                (fill(m, k, |_, _| lo(aw)), fill(k, n.min(p.cols), |_, _| w_lo))
            }
            None => {
                note = format!("acc_bits={} too wide to wrap in a short run: all min", p.acc_bits);
                (fill(m, k, |_, _| lo(aw)), fill(k, n, |_, _| w_lo))
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
