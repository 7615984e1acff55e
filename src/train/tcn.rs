//! A small temporal convolutional network (Bai et al. 2018): residual blocks of dilated causal
//! convolutions, dilation doubling per block, and a linear read-out of the last time step.
//!
//! Block j (dilation d_j): `a1 = relu(conv(x) + b)`, `a2 = relu(conv(a1) + b')`, `out = relu(a2 + res(x))`
//! where `res` is the identity, with missing channels zero (the first block widens the 2 input channels
//! to `hidden`; zero-padding the identity keeps every convolution on the array with KT taps instead of a
//! 1x1 down-sampling conv). Prediction: `w . out_last[:, T-1] + c`; loss: MSE. (With the adding
//! problem's nonnegative inputs both terms of the last sum are >= 0, so its ReLU never clips.)
//!
//! Convolutions go through a [`ConvEngine`]; biases, ReLU, residual adds and the read-out are float.

use super::engine::ConvEngine;
use super::tensor::{Kernel, Seq};
use super::TrainError;
use crate::rng::SplitMix64;
use crate::sparse::conv1d::Conv1d;

/// The network's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TcnShape {
    pub inputs: usize,
    pub hidden: usize,
    pub taps: usize,
    /// One residual block per dilation.
    pub dilations: Vec<usize>,
    pub convs_per_block: usize,
    pub len: usize,
}

impl TcnShape {
    pub fn conv_count(&self) -> usize {
        self.dilations.len() * self.convs_per_block
    }

    /// The causal geometry of conv layer `l`.
    pub fn conv(&self, l: usize) -> Conv1d {
        Conv1d::causal(self.taps, self.dilations[l / self.convs_per_block], self.len)
    }

    /// How far back the last output sees: `1 + convs_per_block * (taps - 1) * sum(dilations)`.
    pub fn receptive_field(&self) -> usize {
        1 + self.convs_per_block * (self.taps - 1) * self.dilations.iter().sum::<usize>()
    }
}

/// One conv layer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvLayer {
    pub kernel: Kernel,
    pub bias: Vec<f64>,
}

/// Parameters of the network (or gradients of the loss with respect to them: same shapes).
#[derive(Debug, Clone, PartialEq)]
pub struct Tcn {
    pub shape: TcnShape,
    pub convs: Vec<ConvLayer>,
    pub head: Vec<f64>,
    pub head_bias: f64,
}

/// What the backward pass needs from the forward pass.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Input of every conv layer; output of every conv after its ReLU.
    conv_in: Vec<Seq>,
    conv_out: Vec<Seq>,
    /// Output of every block (after the residual add and ReLU).
    block_out: Vec<Seq>,
    pub predictions: Vec<f64>,
}

impl Tcn {
    /// He-initialised kernels (std sqrt(2 / (inputs * taps))), zero biases, a small read-out.
    pub fn new(shape: TcnShape, rng: &mut SplitMix64) -> Tcn {
        let convs = (0..shape.conv_count())
            .map(|l| {
                let inputs = if l == 0 { shape.inputs } else { shape.hidden };
                let mut kernel = Kernel::zeros(shape.hidden, inputs, shape.taps);
                let std = (2.0 / (inputs * shape.taps) as f64).sqrt();
                kernel.data.iter_mut().for_each(|v| *v = std * rng.normal());
                ConvLayer { kernel, bias: vec![0.0; shape.hidden] }
            })
            .collect();
        let head = (0..shape.hidden).map(|_| rng.normal() / (shape.hidden as f64).sqrt()).collect();
        Tcn { shape, convs, head, head_bias: 0.0 }
    }

    /// Zero parameters of the same shape (the gradient accumulator).
    pub fn zeros_like(&self) -> Tcn {
        let mut z = self.clone();
        z.visit_mut(|s| s.iter_mut().for_each(|v| *v = 0.0));
        z
    }

    /// Every parameter slice in a fixed order (the optimizer's view).
    pub fn visit_mut(&mut self, mut f: impl FnMut(&mut [f64])) {
        for c in &mut self.convs {
            f(&mut c.kernel.data);
            f(&mut c.bias);
        }
        f(&mut self.head);
        f(std::slice::from_mut(&mut self.head_bias));
    }

    pub fn visit(&self, mut f: impl FnMut(&[f64])) {
        for c in &self.convs {
            f(&c.kernel.data);
            f(&c.bias);
        }
        f(&self.head);
        f(std::slice::from_ref(&self.head_bias));
    }

    pub fn parameter_count(&self) -> usize {
        let mut n = 0;
        self.visit(|s| n += s.len());
        n
    }

    /// Predictions for a batch `x` (batch x inputs x len), with what backward needs.
    pub fn forward(&self, x: &Seq, engine: &mut dyn ConvEngine, train: bool) -> Result<Trace, TrainError> {
        let s = &self.shape;
        let mut tr = Trace { conv_in: vec![], conv_out: vec![], block_out: vec![], predictions: vec![] };
        let mut h = x.clone();
        for j in 0..s.dilations.len() {
            let mut a = h.clone();
            for c in 0..s.convs_per_block {
                let l = j * s.convs_per_block + c;
                let layer = &self.convs[l];
                let mut z = engine.forward(l, &a, &layer.kernel, &s.conv(l), train)?;
                for b in 0..z.batch {
                    for o in 0..z.channels {
                        z.row_mut(b, o).iter_mut().for_each(|v| *v = (*v + layer.bias[o]).max(0.0));
                    }
                }
                tr.conv_in.push(std::mem::replace(&mut a, z.clone()));
                tr.conv_out.push(z);
            }
            // out = relu(a + res(h)), res(h) zero beyond h's channels.
            for b in 0..a.batch {
                for ch in 0..h.channels.min(a.channels) {
                    let res = h.row(b, ch).to_vec();
                    a.row_mut(b, ch).iter_mut().zip(res).for_each(|(v, r)| *v += r);
                }
            }
            a.data.iter_mut().for_each(|v| *v = v.max(0.0));
            tr.block_out.push(a.clone());
            h = a;
        }
        tr.predictions = (0..h.batch)
            .map(|b| {
                self.head_bias + (0..h.channels).map(|c| self.head[c] * h.at(b, c, h.len - 1)).sum::<f64>()
            })
            .collect();
        Ok(tr)
    }

    /// The MSE of the traced predictions against `targets` and its gradient with respect to every
    /// parameter (a [`Tcn`] of gradients).
    pub fn backward(
        &self,
        tr: &Trace,
        targets: &[f64],
        engine: &mut dyn ConvEngine,
    ) -> Result<(f64, Tcn), TrainError> {
        let s = &self.shape;
        let n = targets.len();
        let loss = super::adding::mse(&tr.predictions, targets);
        let mut g = self.zeros_like();
        let last = tr.block_out.last().expect("at least one block");
        let mut d_h = Seq::zeros(last.batch, last.channels, last.len);
        for (b, (p, t)) in tr.predictions.iter().zip(targets).enumerate() {
            let dp = 2.0 * (p - t) / n as f64;
            g.head_bias += dp;
            for c in 0..last.channels {
                g.head[c] += dp * last.at(b, c, last.len - 1);
                d_h.row_mut(b, c)[last.len - 1] = dp * self.head[c];
            }
        }
        for j in (0..s.dilations.len()).rev() {
            // Through out = relu(a + res(h_in)).
            for (d, &o) in d_h.data.iter_mut().zip(&tr.block_out[j].data) {
                if o <= 0.0 {
                    *d = 0.0;
                }
            }
            let d_res = d_h.clone();
            let mut d_a = d_h;
            for c in (0..s.convs_per_block).rev() {
                let l = j * s.convs_per_block + c;
                // Through a = relu(conv(a_in) + bias).
                for (d, &o) in d_a.data.iter_mut().zip(&tr.conv_out[l].data) {
                    if o <= 0.0 {
                        *d = 0.0;
                    }
                }
                for b in 0..d_a.batch {
                    for o in 0..d_a.channels {
                        g.convs[l].bias[o] += d_a.row(b, o).iter().sum::<f64>();
                    }
                }
                let (dx, dw) =
                    engine.backward(l, &tr.conv_in[l], &self.convs[l].kernel, &s.conv(l), &d_a, l > 0)?;
                g.convs[l].kernel = dw;
                d_a = match dx {
                    Some(dx) => dx,
                    None => Seq::zeros(0, 0, 0), // layer 0: the input needs no gradient
                };
            }
            if j == 0 {
                break;
            }
            // The block input's gradient: through the convs plus through the identity.
            for b in 0..d_a.batch {
                for ch in 0..d_a.channels.min(d_res.channels) {
                    let r = d_res.row(b, ch).to_vec();
                    d_a.row_mut(b, ch).iter_mut().zip(r).for_each(|(v, r)| *v += r);
                }
            }
            d_h = d_a;
        }
        Ok((loss, g))
    }
}
