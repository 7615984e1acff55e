//! A 2-D convolution layer as jobs of the sparse 1-D row array: every output row is a sum of 1-D
//! convolutions over input channels and kernel rows (SparseTrain's decomposition), for the three
//! training phases. PE rows take output channels (forward) or input channels (gradients); the kernel
//! width is the array's taps and each feature-map row one stream row.
//!
//! - forward: job (output row oh, output channels co0..co0+R): rows (ci, kh) with ih = oh*sh + kh - pt
//!   inside the map; stream x[ci][ih], dense w[co][ci][kh]; output y[co][oh].
//! - input gradient: job (input row ih, input channels ci0..ci0+R): rows (co, kh) with
//!   oh = (ih + pt - kh) / sh whole and inside; stream dy[co][oh], dense w[co][ci][kh]; output dx[ci][ih].
//! - weight gradient: job (co, kh, input channels ci0..ci0+R): rows oh with ih inside; stream dy[co][oh],
//!   dense x[ci][ih]; output dw[co][ci][kh].
//!
//! Kernel rows that fall entirely into the vertical padding are never fed (they add nothing).

use super::conv1d::Conv1d;
use crate::config::Params;
use crate::model::sparse_array::{run, Feed, Job, JobRow, Phase, SparseRun};
use ndarray::{Array3, Array4};

/// A conv layer's geometry: `c_in x h x w` in, kernel `c_out x c_in x kh x kw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    pub c_in: usize,
    pub c_out: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// ONNX order `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Dilation along a row (1 for the usual conv layer; a TCN's dilation).
    pub dilation: usize,
}

impl Conv2dShape {
    pub fn out_h(&self) -> usize {
        (self.h + self.pads[0] + self.pads[2] - self.kh) / self.stride[0] + 1
    }

    pub fn out_w(&self) -> usize {
        self.row_conv().out_len
    }

    /// The 1-D convolution along a row.
    pub fn row_conv(&self) -> Conv1d {
        Conv1d::new(self.kw, self.stride[1], self.dilation, self.pads[1], self.pads[3], self.w)
    }

    /// The input row output row `oh` reads through kernel row `kh`, if inside the map.
    fn input_row(&self, oh: usize, kh: usize) -> Option<usize> {
        (oh * self.stride[0] + kh).checked_sub(self.pads[0]).filter(|&ih| ih < self.h)
    }
}

/// Jobs of one phase of a layer and where each job's PE rows land: (first channel, channel count,
/// spatial key).
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseJobs {
    pub jobs: Vec<Job>,
    pub shape: Conv2dShape,
    targets: Vec<(usize, usize, usize)>,
}

fn chunks(n: usize, r: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n.div_ceil(r)).map(move |g| (g * r, r.min(n - g * r)))
}

pub fn forward_jobs(rows: usize, s: &Conv2dShape, x: &Array3<i64>, w: &Array4<i64>) -> PhaseJobs {
    let conv = s.row_conv();
    let (mut jobs, mut targets) = (Vec::new(), Vec::new());
    for oh in 0..s.out_h() {
        for (co0, n) in chunks(s.c_out, rows) {
            let job_rows: Vec<JobRow> = (0..s.c_in)
                .flat_map(|ci| (0..s.kh).map(move |kh| (ci, kh)))
                .filter_map(|(ci, kh)| {
                    let ih = s.input_row(oh, kh)?;
                    Some(JobRow {
                        stream: x.slice(ndarray::s![ci, ih, ..]).to_vec(),
                        dense: (co0..co0 + n)
                            .map(|co| w.slice(ndarray::s![co, ci, kh, ..]).to_vec())
                            .collect(),
                    })
                })
                .collect();
            if !job_rows.is_empty() {
                jobs.push(Job { phase: Phase::Forward, conv, rows: job_rows });
                targets.push((co0, n, oh));
            }
        }
    }
    PhaseJobs { jobs, shape: *s, targets }
}

pub fn input_gradient_jobs(rows: usize, s: &Conv2dShape, dy: &Array3<i64>, w: &Array4<i64>) -> PhaseJobs {
    let conv = s.row_conv();
    let (mut jobs, mut targets) = (Vec::new(), Vec::new());
    for ih in 0..s.h {
        for (ci0, n) in chunks(s.c_in, rows) {
            let job_rows: Vec<JobRow> = (0..s.c_out)
                .flat_map(|co| (0..s.kh).map(move |kh| (co, kh)))
                .filter_map(|(co, kh)| {
                    let num = (ih + s.pads[0]).checked_sub(kh)?;
                    let oh =
                        (num % s.stride[0] == 0).then_some(num / s.stride[0]).filter(|&oh| oh < s.out_h())?;
                    Some(JobRow {
                        stream: dy.slice(ndarray::s![co, oh, ..]).to_vec(),
                        dense: (ci0..ci0 + n)
                            .map(|ci| w.slice(ndarray::s![co, ci, kh, ..]).to_vec())
                            .collect(),
                    })
                })
                .collect();
            if !job_rows.is_empty() {
                jobs.push(Job { phase: Phase::InputGradient, conv, rows: job_rows });
                targets.push((ci0, n, ih));
            }
        }
    }
    PhaseJobs { jobs, shape: *s, targets }
}

pub fn weight_gradient_jobs(rows: usize, s: &Conv2dShape, x: &Array3<i64>, dy: &Array3<i64>) -> PhaseJobs {
    let conv = s.row_conv();
    let (mut jobs, mut targets) = (Vec::new(), Vec::new());
    for co in 0..s.c_out {
        for kh in 0..s.kh {
            for (ci0, n) in chunks(s.c_in, rows) {
                let job_rows: Vec<JobRow> = (0..s.out_h())
                    .filter_map(|oh| {
                        let ih = s.input_row(oh, kh)?;
                        Some(JobRow {
                            stream: dy.slice(ndarray::s![co, oh, ..]).to_vec(),
                            dense: (ci0..ci0 + n)
                                .map(|ci| x.slice(ndarray::s![ci, ih, ..]).to_vec())
                                .collect(),
                        })
                    })
                    .collect();
                if !job_rows.is_empty() {
                    jobs.push(Job { phase: Phase::WeightGradient, conv, rows: job_rows });
                    targets.push((ci0, n, co * s.kh + kh));
                }
            }
        }
    }
    PhaseJobs { jobs, shape: *s, targets }
}

/// Runs a phase's jobs (without recording beats) and returns the run.
pub fn run_phase(p: &Params, jobs: &PhaseJobs, feed: Feed) -> SparseRun {
    run(p, &jobs.jobs, feed, false)
}

/// The forward output `c_out x out_h x out_w` from the output rows of [`forward_jobs`]' jobs.
pub fn gather_forward(jobs: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Array3<i64> {
    let s = &jobs.shape;
    let mut y = Array3::zeros((s.c_out, s.out_h(), s.out_w()));
    for (&(co0, n, oh), out) in jobs.targets.iter().zip(outputs) {
        for r in 0..n {
            for (t, &v) in out[r].iter().enumerate() {
                y[(co0 + r, oh, t)] = v;
            }
        }
    }
    y
}

/// The input gradient `c_in x h x w` from a run of [`input_gradient_jobs`] (rows no kernel row
/// reaches stay 0).
pub fn gather_input_gradient(jobs: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Array3<i64> {
    let s = &jobs.shape;
    let mut dx = Array3::zeros((s.c_in, s.h, s.w));
    for (&(ci0, n, ih), out) in jobs.targets.iter().zip(outputs) {
        for r in 0..n {
            for (i, &v) in out[r].iter().enumerate() {
                dx[(ci0 + r, ih, i)] = v;
            }
        }
    }
    dx
}

/// The weight gradient `c_out x c_in x kh x kw` from a run of [`weight_gradient_jobs`].
pub fn gather_weight_gradient(jobs: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Array4<i64> {
    let s = &jobs.shape;
    let mut dw = Array4::zeros((s.c_out, s.c_in, s.kh, s.kw));
    for (&(ci0, n, key), out) in jobs.targets.iter().zip(outputs) {
        let (co, kh) = (key / s.kh, key % s.kh);
        for r in 0..n {
            for (k, &v) in out[r].iter().enumerate() {
                dw[(co, ci0 + r, kh, k)] = v;
            }
        }
    }
    dw
}
