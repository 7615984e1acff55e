//! Who computes a network's convolutions: the float reference ([`FloatEngine`], plain gather loops) or
//! the sparse row array's model ([`super::array_engine::ArrayEngine`]). The network code calls the three
//! training phases through [`ConvEngine`] and never knows which.

use super::tensor::{Kernel, Seq};
use super::TrainError;
use crate::sparse::conv1d::Conv1d;

/// The three phases of one convolution layer (no bias: biases stay in float in the network).
pub trait ConvEngine {
    /// `y[b][o][t] = sum_i sum_k w[o][i][k] * x[b][i][s*t + d*k - pad]`. `train` is false for
    /// evaluation passes (an engine may keep statistics of training passes only).
    fn forward(
        &mut self,
        layer: usize,
        x: &Seq,
        w: &Kernel,
        conv: &Conv1d,
        train: bool,
    ) -> Result<Seq, TrainError>;

    /// The gradients of a loss with respect to the layer's input (if `need_dx`) and kernel, given its
    /// output gradient `dy`.
    fn backward(
        &mut self,
        layer: usize,
        x: &Seq,
        w: &Kernel,
        conv: &Conv1d,
        dy: &Seq,
        need_dx: bool,
    ) -> Result<(Option<Seq>, Kernel), TrainError>;
}

/// Float convolutions written as gathers over the output (the array scatters from its stream instead).
#[derive(Debug, Clone, Copy, Default)]
pub struct FloatEngine;

impl ConvEngine for FloatEngine {
    fn forward(&mut self, _: usize, x: &Seq, w: &Kernel, conv: &Conv1d, _: bool) -> Result<Seq, TrainError> {
        Ok(conv_forward(x, w, conv))
    }

    fn backward(
        &mut self,
        _: usize,
        x: &Seq,
        w: &Kernel,
        conv: &Conv1d,
        dy: &Seq,
        need_dx: bool,
    ) -> Result<(Option<Seq>, Kernel), TrainError> {
        Ok((need_dx.then(|| conv_input_gradient(dy, w, conv)), conv_weight_gradient(x, dy, conv)))
    }
}

/// Float forward convolution.
pub fn conv_forward(x: &Seq, w: &Kernel, conv: &Conv1d) -> Seq {
    assert_eq!((x.channels, x.len, w.taps), (w.inputs, conv.in_len, conv.taps), "conv_forward: shapes");
    let mut y = Seq::zeros(x.batch, w.outputs, conv.out_len);
    for b in 0..x.batch {
        for o in 0..w.outputs {
            for t in 0..conv.out_len {
                let mut s = 0.0;
                for i in 0..w.inputs {
                    for (k, &wk) in w.taps_of(o, i).iter().enumerate() {
                        if let Some(j) = conv.input_index(t, k) {
                            s += wk * x.at(b, i, j);
                        }
                    }
                }
                y.row_mut(b, o)[t] = s;
            }
        }
    }
    y
}

/// Float input gradient: `dx[b][i][j] = sum over (o, k, t) with s*t + d*k - pad = j of w[o][i][k] dy[b][o][t]`.
pub fn conv_input_gradient(dy: &Seq, w: &Kernel, conv: &Conv1d) -> Seq {
    assert_eq!((dy.channels, dy.len), (w.outputs, conv.out_len), "conv_input_gradient: shapes");
    let mut dx = Seq::zeros(dy.batch, w.inputs, conv.in_len);
    for b in 0..dy.batch {
        for i in 0..w.inputs {
            for o in 0..w.outputs {
                for (k, &wk) in w.taps_of(o, i).iter().enumerate() {
                    for t in 0..conv.out_len {
                        if let Some(j) = conv.input_index(t, k) {
                            dx.row_mut(b, i)[j] += wk * dy.at(b, o, t);
                        }
                    }
                }
            }
        }
    }
    dx
}

/// Float weight gradient: `dw[o][i][k] = sum_b sum_t dy[b][o][t] x[b][i][s*t + d*k - pad]`.
pub fn conv_weight_gradient(x: &Seq, dy: &Seq, conv: &Conv1d) -> Kernel {
    assert_eq!(
        (x.batch, x.len, dy.len),
        (dy.batch, conv.in_len, conv.out_len),
        "conv_weight_gradient: shapes"
    );
    let mut dw = Kernel::zeros(dy.channels, x.channels, conv.taps);
    for o in 0..dy.channels {
        for i in 0..x.channels {
            for k in 0..conv.taps {
                let mut s = 0.0;
                for b in 0..x.batch {
                    for t in 0..conv.out_len {
                        if let Some(j) = conv.input_index(t, k) {
                            s += dy.at(b, o, t) * x.at(b, i, j);
                        }
                    }
                }
                dw.taps_of_mut(o, i)[k] = s;
            }
        }
    }
    dw
}
