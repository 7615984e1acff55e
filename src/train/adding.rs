//! The adding problem (Hochreiter & Schmidhuber 1997; the TCN paper's first benchmark, Bai et al. 2018):
//! each sample has two channels over T steps: channel 0 holds values uniform in [0, 1), channel 1 is 0
//! except for two 1-markers, one in each half of the sequence. The target is the sum of the two marked
//! values. Predicting the target's mean (1) always gives the trivial MSE Var(U1 + U2) = 1/6 ~ 0.167.

use super::tensor::Seq;
use crate::rng::SplitMix64;

/// The MSE of always predicting 1, the mean of the target: 2 Var(U[0,1]) = 1/6.
pub const TRIVIAL_MSE: f64 = 1.0 / 6.0;

/// A batch of adding-problem samples.
#[derive(Debug, Clone, PartialEq)]
pub struct AddingBatch {
    /// batch x 2 x T: values (channel 0), markers (channel 1).
    pub inputs: Seq,
    pub targets: Vec<f64>,
    /// The two marked positions of each sample (first half, second half).
    pub markers: Vec<[usize; 2]>,
}

/// `batch` samples of length `len` (at least 2) drawn from `rng`.
pub fn adding_batch(batch: usize, len: usize, rng: &mut SplitMix64) -> AddingBatch {
    assert!(len >= 2, "the adding problem needs two halves");
    let mut inputs = Seq::zeros(batch, 2, len);
    let mut targets = Vec::with_capacity(batch);
    let mut markers = Vec::with_capacity(batch);
    let half = len / 2;
    for b in 0..batch {
        for v in inputs.row_mut(b, 0) {
            *v = rng.uniform();
        }
        let m = [rng.pick(half), half + rng.pick(len - half)];
        let marks = inputs.row_mut(b, 1);
        marks[m[0]] = 1.0;
        marks[m[1]] = 1.0;
        targets.push(inputs.at(b, 0, m[0]) + inputs.at(b, 0, m[1]));
        markers.push(m);
    }
    AddingBatch { inputs, targets, markers }
}

/// Mean squared error of predictions against targets.
pub fn mse(pred: &[f64], targets: &[f64]) -> f64 {
    assert_eq!(pred.len(), targets.len());
    pred.iter().zip(targets).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / pred.len().max(1) as f64
}
