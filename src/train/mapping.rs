//! How a conv layer's three phases map onto the sparse row array (R PE rows, KT taps), on quantized
//! integer tensors: a TCN layer over a batch is a conv layer whose rows are the samples, kernel height 1,
//! so [`crate::sparse::conv2d`] builds the jobs. Every job's PE rows share its streamed rows; each PE row
//! owns one output row.
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
use crate::sparse::conv1d::Conv1d;
use crate::sparse::conv2d::{self, Conv2dShape};
use ndarray::{Array3, Array4};

pub use crate::sparse::conv2d::PhaseJobs;

/// The layer `inputs -> outputs` over `batch` samples as a conv layer: height = the batch, kernel
/// height 1, rows convolved by `conv`.
fn layer(batch: usize, inputs: usize, outputs: usize, conv: &Conv1d) -> Conv2dShape {
    let span = conv.dilation * (conv.taps - 1) + 1;
    let pad_right = ((conv.out_len - 1) * conv.stride + span).saturating_sub(conv.in_len + conv.pad);
    let s = Conv2dShape {
        c_in: inputs,
        c_out: outputs,
        h: batch,
        w: conv.in_len,
        kh: 1,
        kw: conv.taps,
        stride: [1, conv.stride],
        pads: [0, conv.pad, 0, pad_right],
        dilation: conv.dilation,
    };
    assert_eq!(s.row_conv(), *conv, "a conv layer's rows reproduce the layer's convolution");
    s
}

/// `batch x channels x len` as `channels x batch x len` (a view of the same values).
fn channels_first(x: &Seq<i64>) -> Array3<i64> {
    Array3::from_shape_vec((x.batch, x.channels, x.len), x.data.clone())
        .expect("a Seq holds batch * channels * len values")
        .permuted_axes([1, 0, 2])
}

fn oihw(w: &Kernel<i64>) -> Array4<i64> {
    Array4::from_shape_vec((w.outputs, w.inputs, 1, w.taps), w.data.clone())
        .expect("a Kernel holds outputs * inputs * taps values")
}

/// `channels x batch x len` back to a `Seq`.
fn to_seq(a: Array3<i64>) -> Seq<i64> {
    let (channels, batch, len) = a.dim();
    let data = a.permuted_axes([1, 0, 2]).iter().copied().collect();
    Seq { batch, channels, len, data }
}

/// Forward jobs: `x` quantized to act_bits, `w` to weight_bits.
pub fn forward_jobs(x: &Seq<i64>, w: &Kernel<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    conv2d::forward_jobs(r, &layer(x.batch, w.inputs, w.outputs, conv), &channels_first(x), &oihw(w))
}

/// Input-gradient jobs: `dy` quantized (and pruned) to act_bits, `w` to weight_bits.
pub fn input_gradient_jobs(dy: &Seq<i64>, w: &Kernel<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    conv2d::input_gradient_jobs(r, &layer(dy.batch, w.inputs, w.outputs, conv), &channels_first(dy), &oihw(w))
}

/// Weight-gradient jobs: `dy` quantized (and pruned) to act_bits, `x` quantized to weight_bits.
pub fn weight_gradient_jobs(x: &Seq<i64>, dy: &Seq<i64>, conv: &Conv1d, r: usize) -> PhaseJobs {
    let s = layer(x.batch, x.channels, dy.channels, conv);
    conv2d::weight_gradient_jobs(r, &s, &channels_first(x), &channels_first(dy))
}

/// The forward result (batch x outputs x out_len) from the jobs' output rows.
pub fn gather_forward(pj: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Seq<i64> {
    to_seq(conv2d::gather_forward(pj, outputs))
}

/// The input gradient (batch x inputs x in_len) from the jobs' output rows.
pub fn gather_input_gradient(pj: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Seq<i64> {
    to_seq(conv2d::gather_input_gradient(pj, outputs))
}

/// The kernel gradient (outputs x inputs x taps) from the jobs' output rows.
pub fn gather_weight_gradient(pj: &PhaseJobs, outputs: &[Vec<Vec<i64>>]) -> Kernel<i64> {
    let dw = conv2d::gather_weight_gradient(pj, outputs);
    let (outputs, inputs, _, taps) = dw.dim();
    Kernel { outputs, inputs, taps, data: dw.iter().copied().collect() }
}
