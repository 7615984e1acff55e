//! How a conv layer's three phases map onto the sparse row array (R PE rows, KT taps), on quantized
//! integer tensors. Every job's PE rows share its streamed rows; each PE row owns one output row.
//!
//! | phase | one job per | PE rows (outputs) | job rows: stream | dense operand of PE row r |
//! |---|---|---|---|---|
//! | forward | sample, group of R output channels | output channels o | x[b][i], each input i | w[o][i] |
//! | input gradient | sample, group of R input channels | input channels i | dy[b][o], each output o | w[o][i] |
//! | weight gradient | output channel, group of R input channels | input channels i | dy[b][o], each sample b | x[b][i] |
//!
//! So the forward job sums over input channels, the input-gradient job over output channels (the
//! transposed convolution), and the weight-gradient job over the batch.

use super::tensor::{Kernel, Seq};
use crate::sparse::array::{Job, JobRow, Phase};
use crate::sparse::conv1d::Conv1d;

/// Jobs of one phase and where each job's PE rows land.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseJobs {
    pub jobs: Vec<Job>,
    /// Per job: (sample or output channel, first channel of its group).
    pub places: Vec<(usize, usize)>,
}

fn groups(n: usize, r: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n).step_by(r).map(move |g| g..(g + r).min(n))
}

/// Forward jobs: `x` quantized to act_bits, `w` to weight_bits.
pub fn forward_jobs(x: &Seq<i64>, w: &Kernel<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    let mut out = PhaseJobs { jobs: Vec::new(), places: Vec::new() };
    for b in 0..x.batch {
        for g in groups(w.outputs, r) {
            let rows = (0..w.inputs)
                .map(|i| JobRow {
                    stream: x.row(b, i).to_vec(),
                    dense: g.clone().map(|o| w.taps_of(o, i).to_vec()).collect(),
                })
                .collect();
            out.jobs.push(Job { phase: Phase::Forward, conv: *conv, rows });
            out.places.push((b, g.start));
        }
    }
    out
}

/// Input-gradient jobs: `dy` quantized (and pruned) to act_bits, `w` to weight_bits.
pub fn input_gradient_jobs(dy: &Seq<i64>, w: &Kernel<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    let mut out = PhaseJobs { jobs: Vec::new(), places: Vec::new() };
    for b in 0..dy.batch {
        for g in groups(w.inputs, r) {
            let rows = (0..w.outputs)
                .map(|o| JobRow {
                    stream: dy.row(b, o).to_vec(),
                    dense: g.clone().map(|i| w.taps_of(o, i).to_vec()).collect(),
                })
                .collect();
            out.jobs.push(Job { phase: Phase::InputGradient, conv: *conv, rows });
            out.places.push((b, g.start));
        }
    }
    out
}

/// Weight-gradient jobs: `dy` quantized (and pruned) to act_bits, `x` quantized to weight_bits.
pub fn weight_gradient_jobs(x: &Seq<i64>, dy: &Seq<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    let mut out = PhaseJobs { jobs: Vec::new(), places: Vec::new() };
    for o in 0..dy.channels {
        for g in groups(x.channels, r) {
            let rows = (0..dy.batch)
                .map(|b| JobRow {
                    stream: dy.row(b, o).to_vec(),
                    dense: g.clone().map(|i| x.row(b, i).to_vec()).collect(),
                })
                .collect();
            out.jobs.push(Job { phase: Phase::WeightGradient, conv: *conv, rows });
            out.places.push((o, g.start));
        }
    }
    out
}

/// The forward result (batch x outputs x out_len) from the jobs' output rows.
pub fn gather_forward(pj: &PhaseJobs, outputs: &[Vec<Vec<i64>>], shape: (usize, usize, usize)) -> Seq<i64> {
    let mut y = Seq::zeros(shape.0, shape.1, shape.2);
    for (&(b, o0), rows) in pj.places.iter().zip(outputs) {
        for (r, row) in rows.iter().enumerate().take(shape.1 - o0) {
            y.row_mut(b, o0 + r).copy_from_slice(row);
        }
    }
    y
}

/// The input gradient (batch x inputs x in_len) from the jobs' output rows.
pub fn gather_input_gradient(
    pj: &PhaseJobs,
    outputs: &[Vec<Vec<i64>>],
    shape: (usize, usize, usize),
) -> Seq<i64> {
    gather_forward(pj, outputs, shape)
}

/// The kernel gradient (outputs x inputs x taps) from the jobs' output rows.
pub fn gather_weight_gradient(
    pj: &PhaseJobs,
    outputs: &[Vec<Vec<i64>>],
    shape: (usize, usize, usize),
) -> Kernel<i64> {
    let mut dw = Kernel::zeros(shape.0, shape.1, shape.2);
    for (&(o, i0), rows) in pj.places.iter().zip(outputs) {
        for (r, row) in rows.iter().enumerate().take(shape.1 - i0) {
            dw.taps_of_mut(o, i0 + r).copy_from_slice(row);
        }
    }
    dw
}
