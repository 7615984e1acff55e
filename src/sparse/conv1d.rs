//! The arithmetic of the sparse 1-D convolution row (SparseTrain's dataflow) for the three training
//! phases, on compressed rows: every valid entry (index i, value v) is scattered to the KT taps at once,
//! so a row costs `max(1, nnz)` entries whatever its length. This is the value semantics the RTL row
//! must reproduce; the cycle-exact model of the row array that computes it is [`crate::model::sparse_array`].
//!
//! A conv1d is taps KT, stride s >= 1, dilation d >= 1 and left padding p (zero elsewhere):
//! `y[t] = sum_k w[k] * x[s*t + d*k - p]`, t = 0..out_len. Causal (TCN): p = d*(KT-1), s = 1, so
//! `y[t] = sum_k w[k] * x[t - d*(KT-1-k)]` depends on the past only (tap KT-1 is the current sample:
//! the TCN paper's kernel reversed). The three phases, each a scatter over the nonzeros of the
//! compressed operand:
//! - forward, x compressed: entry (i, v) adds `v * w[k]` to `y[t]` for every k with
//!   `s*t = i + p - d*k`, `0 <= t < out_len`;
//! - input gradient, dy compressed (pruned): entry (t, g) adds `g * w[k]` to `dx[i]`, `i = s*t + d*k - p`,
//!   `0 <= i < in_len` (the transposed convolution: no explicit kernel flip is needed in scatter form);
//! - weight gradient, dy compressed: entry (t, g) adds `g * x[s*t + d*k - p]` to `dw[k]`.
//!
//! Sums wrap modulo 2^acc_bits like every accumulator in accelc.

use super::stream::Entry;
use crate::model::mac_unit::mac;

/// Shape of a 1-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conv1d {
    pub taps: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Zeros before x[0] (causal: dilation * (taps - 1)).
    pub pad: usize,
    pub in_len: usize,
    pub out_len: usize,
}

impl Conv1d {
    /// Output length with `pad` zeros on the left and `pad_right` on the right.
    pub fn new(
        taps: usize,
        stride: usize,
        dilation: usize,
        pad: usize,
        pad_right: usize,
        in_len: usize,
    ) -> Conv1d {
        assert!(taps >= 1 && stride >= 1 && dilation >= 1, "taps, stride and dilation are at least 1");
        let span = dilation * (taps - 1) + 1;
        let padded = in_len + pad + pad_right;
        let out_len = if padded >= span { (padded - span) / stride + 1 } else { 0 };
        Conv1d { taps, stride, dilation, pad, in_len, out_len }
    }

    /// Dilated causal convolution (TCN): output length = input length.
    pub fn causal(taps: usize, dilation: usize, len: usize) -> Conv1d {
        Conv1d::new(taps, 1, dilation, dilation * (taps - 1), 0, len)
    }

    /// The x index tap k of output t reads, if it is inside x.
    pub fn input_index(&self, t: usize, k: usize) -> Option<usize> {
        (self.stride * t + self.dilation * k).checked_sub(self.pad).filter(|&i| i < self.in_len)
    }

    /// The output t that x[i] reaches through tap k, if any.
    pub fn output_index(&self, i: usize, k: usize) -> Option<usize> {
        let num = (i + self.pad).checked_sub(self.dilation * k)?;
        (num % self.stride == 0).then_some(num / self.stride).filter(|&t| t < self.out_len)
    }
}

/// Forward: scatters every nonzero of the compressed input row through the taps into the output row.
pub fn forward(x: &[Entry], w: &[i64], conv: &Conv1d, acc_bits: u32) -> Vec<i64> {
    let mut y = vec![0; conv.out_len];
    for e in x.iter().filter(|e| e.valid) {
        for (k, &wk) in w.iter().enumerate() {
            if let Some(t) = conv.output_index(e.index as usize, k) {
                y[t] = mac(y[t], e.value, wk, acc_bits);
            }
        }
    }
    y
}

/// Input gradient: scatters every nonzero of the compressed output-gradient row back to the input.
pub fn input_gradient(dy: &[Entry], w: &[i64], conv: &Conv1d, acc_bits: u32) -> Vec<i64> {
    let mut dx = vec![0; conv.in_len];
    for e in dy.iter().filter(|e| e.valid) {
        for (k, &wk) in w.iter().enumerate() {
            if let Some(i) = conv.input_index(e.index as usize, k) {
                dx[i] = mac(dx[i], e.value, wk, acc_bits);
            }
        }
    }
    dx
}

/// Weight gradient: every nonzero of the compressed output-gradient row times the input it saw.
pub fn weight_gradient(dy: &[Entry], x: &[i64], conv: &Conv1d, acc_bits: u32) -> Vec<i64> {
    let mut dw = vec![0; conv.taps];
    for e in dy.iter().filter(|e| e.valid) {
        for (k, dwk) in dw.iter_mut().enumerate() {
            if let Some(i) = conv.input_index(e.index as usize, k) {
                *dwk = mac(*dwk, e.value, x[i], acc_bits);
            }
        }
    }
    dw
}
