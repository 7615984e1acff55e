//! The kneading stride, layer by layer: what each accelerator layer's int8 weights knead into at
//! several KS, as a SAC system would stream them (`system::kneaded`: per output channel, per kernel
//! tap, input-channel groups of KS, an all-zero group still one empty word). A layer's words are the
//! beats one SAC column spends per pixel tile on it; weights / words is how many weights a beat
//! retires (a MAC: one).
//!
//! A per-layer KS cannot save beats: doubling KS never adds words. A group's words are the most
//! nonzero digits any one digit position holds across its weights (at least one), and that maximum
//! over a merged group is at most the sum of the two halves' maxima. So the fewest words of every
//! layer are at the largest stride, and a smaller one can only tie (a layer with fewer input channels
//! than KS: its groups are short whatever KS is). What a per-layer KS could buy is hardware: the
//! smallest stride reaching a layer's fewest words (`best_ks`) is the narrowest SAC unit that runs it
//! as fast. The system top's KS is its column count (one kneading group per reduction word), so its
//! programs use that KS for every layer; `accelc compile` reports the sweep on SAC systems and
//! `make bench-networks` prints it.

use super::program::AccelLayer;
use crate::knead::{knead_group, Encoding, KneadParams};
use anyhow::Result;
use serde::Serialize;

/// The strides swept.
pub const STRIDES: [usize; 5] = [2, 4, 8, 16, 32];

/// One layer at one KS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtStride {
    pub ks: usize,
    /// Kneaded words over all output channels (empty groups count one).
    pub words: u64,
    /// weights / words: weights a SAC beat retires.
    pub weights_per_word: f64,
}

/// One layer's sweep and the smallest KS with its fewest words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerStrides {
    pub name: String,
    /// out_c x kh x kw x in_c.
    pub weights: u64,
    pub strides: Vec<AtStride>,
    pub best_ks: usize,
}

/// The words of `layer`'s weights at each of `strides` (int8 weights, `encoding`).
pub fn sweep(layer: &AccelLayer, strides: &[usize], encoding: Encoding) -> Result<LayerStrides> {
    let (out_c, kh, kw, _) = layer.weights.dim();
    let mut at = Vec::with_capacity(strides.len());
    for &ks in strides {
        let params = KneadParams::new(8, ks, encoding)?;
        let mut words = 0u64;
        for co in 0..out_c {
            for ky in 0..kh {
                for kx in 0..kw {
                    let taps = layer.weights.slice(ndarray::s![co, ky, kx, ..]);
                    let taps: Vec<i64> = taps.iter().map(|&w| w as i64).collect();
                    for group in taps.chunks(ks) {
                        words += knead_group(group, &params)?.words.len().max(1) as u64;
                    }
                }
            }
        }
        at.push(AtStride { ks, words, weights_per_word: layer.weights.len() as f64 / words as f64 });
    }
    let best_ks = at.iter().min_by_key(|a| (a.words, a.ks)).map_or(0, |a| a.ks);
    Ok(LayerStrides { name: layer.name.clone(), weights: layer.weights.len() as u64, strides: at, best_ks })
}

/// A network's sweep summed over its layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Words at each stride of the sweep, in its order.
    pub words: Vec<u64>,
    pub weights: u64,
    /// Every layer at its fewest words.
    pub best: u64,
    /// Layers by the narrowest stride reaching their fewest words.
    pub narrowest: std::collections::BTreeMap<usize, usize>,
}

/// The sums of the layers' sweeps (all taken over the same strides).
pub fn totals(layers: &[LayerStrides]) -> Totals {
    let strides = layers.first().map_or(0, |l| l.strides.len());
    let mut narrowest = std::collections::BTreeMap::new();
    for l in layers {
        *narrowest.entry(l.best_ks).or_default() += 1;
    }
    Totals {
        words: (0..strides).map(|i| layers.iter().map(|l| l.strides[i].words).sum()).collect(),
        weights: layers.iter().map(|l| l.weights).sum(),
        best: layers.iter().map(|l| l.strides.iter().map(|a| a.words).min().unwrap_or(0)).sum(),
        narrowest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::cases::Geometry;
    use ndarray::Array4;

    fn layer(w: Array4<i8>) -> AccelLayer {
        let k = (w.dim().1, w.dim().2);
        AccelLayer::for_test(w, &Geometry { k, stride: (1, 1), dil: (1, 1), pad: (0, 0) })
    }

    /// Counted by hand in sign-magnitude: a group's words are the most essential bits any one bit
    /// position holds across its weights.
    #[test]
    fn words_by_hand() {
        // one output channel, one tap, 4 channels: 1 = 0b1, 3 = 0b11, 1, 0
        let w = Array4::from_shape_vec((1, 1, 1, 4), vec![1i8, 3, 1, 0]).unwrap();
        let s = sweep(&layer(w), &[2, 4], Encoding::SignMagnitude).unwrap();
        // KS 2: {1, 3}: bit 0 twice -> 2 words; {1, 0}: 1 word. KS 4: bit 0 three times -> 3 words.
        assert_eq!(s.strides[0], AtStride { ks: 2, words: 3, weights_per_word: 4.0 / 3.0 });
        assert_eq!(s.strides[1], AtStride { ks: 4, words: 3, weights_per_word: 4.0 / 3.0 });
        assert_eq!(s.best_ks, 2, "ties go to the smaller stride");
        // an all-zero group is one empty word
        let w = Array4::from_shape_vec((1, 1, 1, 3), vec![0i8, 0, 64]).unwrap();
        let s = sweep(&layer(w), &[2], Encoding::SignMagnitude).unwrap();
        assert_eq!(s.strides[0], AtStride { ks: 2, words: 2, weights_per_word: 1.5 });
    }

    /// Doubling KS never adds words (the module's argument), on random weights of every sparsity and
    /// channel count, in both encodings.
    #[test]
    fn words_never_grow_with_the_stride() {
        let mut rng = crate::rng::SplitMix64::new(3);
        for case in 0..40 {
            let zeros = case % 5; // of 5
            let w = Array4::from_shape_fn((3, 2, 2, 1 + case % 37), |_| {
                let v = (rng.next_u64() % 255) as i64 - 127;
                if (rng.next_u64() % 5) < zeros as u64 {
                    0
                } else {
                    v as i8
                }
            });
            for encoding in [Encoding::SignMagnitude, Encoding::Csd] {
                let s = sweep(&layer(w.clone()), &STRIDES, encoding).unwrap();
                for pair in s.strides.windows(2) {
                    assert!(pair[1].words <= pair[0].words, "case {case} {encoding:?}: {pair:?}");
                }
                let fewest = s.strides.iter().map(|a| a.words).min().unwrap();
                assert_eq!(s.strides.last().unwrap().words, fewest);
            }
        }
    }
}
