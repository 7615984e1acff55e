//! Cases for the sparse 1-D row array, generated from a seed: lists of jobs over every phase and the
//! geometries the config allows. Case `i` of seed `s` is always the same case.
//!
//! Kinds cycle with the index so that any ten consecutive cases cover them all: random densities,
//! fully dense rows, 5% dense rows, all-zero rows, single-element rows, causal dilated (TCN) rows at
//! the largest dilation, the largest stride, extreme values (all minimum: the accumulator wraps when
//! it is narrow), weight-gradient jobs (long dense loads), and back-to-back one-row jobs (readout
//! pressure).

use crate::config::Params;
use crate::model::sparse_array::{Job, JobRow, Phase};
use crate::rng::SplitMix64;
use crate::sparse::conv1d::Conv1d;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparseKind {
    Random,
    Dense,
    VerySparse,
    AllZeroRows,
    SingleElementRows,
    Causal,
    MaxStride,
    Extremes,
    WeightGradient,
    ShortJobs,
}

const CYCLE: [SparseKind; 10] = [
    SparseKind::Random,
    SparseKind::Dense,
    SparseKind::VerySparse,
    SparseKind::AllZeroRows,
    SparseKind::SingleElementRows,
    SparseKind::Causal,
    SparseKind::MaxStride,
    SparseKind::Extremes,
    SparseKind::WeightGradient,
    SparseKind::ShortJobs,
];

impl fmt::Display for SparseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SparseKind::Random => "random density",
            SparseKind::Dense => "100% dense",
            SparseKind::VerySparse => "5% dense",
            SparseKind::AllZeroRows => "all-zero rows",
            SparseKind::SingleElementRows => "single-element rows",
            SparseKind::Causal => "causal dilated (TCN)",
            SparseKind::MaxStride => "largest stride",
            SparseKind::Extremes => "all-min values",
            SparseKind::WeightGradient => "weight gradient",
            SparseKind::ShortJobs => "one-row jobs",
        })
    }
}

/// One case: jobs run back to back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseCase {
    pub seed: u64,
    pub index: usize,
    pub kind: SparseKind,
    pub jobs: Vec<Job>,
}

impl SparseCase {
    pub fn describe(&self) -> String {
        let phases: Vec<String> = self
            .jobs
            .iter()
            .map(|j| {
                let c = &j.conv;
                format!(
                    "{}(s{} d{} p{} {}->{} x{})",
                    match j.phase {
                        Phase::Forward => "fwd",
                        Phase::InputGradient => "igrad",
                        Phase::WeightGradient => "wgrad",
                    },
                    c.stride,
                    c.dilation,
                    c.pad,
                    c.in_len,
                    c.out_len,
                    j.rows.len()
                )
            })
            .collect();
        format!("case {} [{}] {}", self.index, self.kind, phases.join(" "))
    }
}

/// The geometry of one job: taps fixed by the array, the rest drawn within the config's limits,
/// with both lengths in 1..=L.
fn geometry(p: &Params, rng: &mut SplitMix64, kind: SparseKind) -> Conv1d {
    let sp = p.sparse.as_ref().expect("a sparse_1d config");
    let taps = p.cols;
    loop {
        let strides: Vec<usize> = [1, 2, 4].into_iter().filter(|&s| s <= sp.max_stride).collect();
        let stride = match kind {
            SparseKind::MaxStride => sp.max_stride,
            SparseKind::Causal => 1,
            _ => strides[rng.range_usize(0, strides.len() - 1)],
        };
        let dilation = match kind {
            SparseKind::Causal => sp.max_dilation,
            _ => rng.range_usize(1, sp.max_dilation),
        };
        let in_len = rng.range_usize(1, sp.row_len);
        let conv = if kind == SparseKind::Causal || rng.below(3) == 0 {
            Conv1d::causal(taps, dilation, in_len)
        } else {
            let max_pad = sp.max_pad.min(dilation * (taps - 1));
            let pad = rng.range_usize(0, max_pad);
            let pad_right = rng.range_usize(0, max_pad);
            Conv1d::new(taps, stride, dilation, pad, pad_right, in_len)
        };
        if (1..=sp.row_len).contains(&conv.out_len) && conv.pad <= sp.max_pad {
            return conv;
        }
    }
}

/// A row of `len` values, each nonzero with probability `density_pct` %.
fn sparse_row(
    rng: &mut SplitMix64,
    len: usize,
    density_pct: u64,
    lo: i64,
    hi: i64,
    kind: SparseKind,
) -> Vec<i64> {
    match kind {
        SparseKind::AllZeroRows if rng.below(4) != 0 => vec![0; len],
        SparseKind::SingleElementRows => {
            let mut row = vec![0; len];
            let at = rng.range_usize(0, len - 1);
            row[at] = nonzero(rng, lo, hi);
            row
        }
        SparseKind::Extremes => vec![lo; len],
        _ => (0..len).map(|_| if rng.below(100) < density_pct { nonzero(rng, lo, hi) } else { 0 }).collect(),
    }
}

fn nonzero(rng: &mut SplitMix64, lo: i64, hi: i64) -> i64 {
    loop {
        let v = rng.range_i64(lo, hi);
        if v != 0 {
            return v;
        }
    }
}

/// Case `index` of `seed` for the array `p`.
pub fn generate(p: &Params, seed: u64, index: usize) -> SparseCase {
    let mut rng = SplitMix64::for_case(seed ^ 0x5EED_5A25, index);
    let kind = CYCLE[index % CYCLE.len()];
    let (a_lo, a_hi) = crate::bits::signed_range(p.act_bits);
    let (w_lo, w_hi) = crate::bits::signed_range(p.weight_bits);
    let n_jobs = match kind {
        SparseKind::ShortJobs => rng.range_usize(3, 6),
        _ => rng.range_usize(1, 3),
    };
    let density = match kind {
        SparseKind::Dense => 100,
        SparseKind::VerySparse => 5,
        _ => [10, 30, 50, 70, 90][rng.range_usize(0, 4)],
    };
    let jobs = (0..n_jobs)
        .map(|_| {
            let phase = match kind {
                SparseKind::WeightGradient => Phase::WeightGradient,
                SparseKind::Causal => Phase::ALL[rng.range_usize(0, 1)],
                _ => Phase::ALL[rng.range_usize(0, 2)],
            };
            let conv = geometry(p, &mut rng, kind);
            let mut job = Job { phase, conv, rows: Vec::new() };
            let n_rows = match kind {
                SparseKind::ShortJobs => 1,
                _ => rng.range_usize(1, 4),
            };
            // Some jobs leave PE rows without a dense row (they compute zeros).
            let pe_rows = if rng.below(4) == 0 { rng.range_usize(0, p.rows) } else { p.rows };
            job.rows = (0..n_rows)
                .map(|_| JobRow {
                    stream: sparse_row(&mut rng, job.stream_len(), density, a_lo, a_hi, kind),
                    dense: (0..pe_rows)
                        .map(|_| match kind {
                            SparseKind::Extremes => vec![w_lo; job.dense_len()],
                            _ => (0..job.dense_len()).map(|_| rng.range_i64(w_lo, w_hi)).collect(),
                        })
                        .collect(),
                })
                .collect();
            job
        })
        .collect();
    SparseCase { seed, index, kind, jobs }
}
