//! The kneading stride, layer by layer: what each accelerator layer's int8 weights knead into at
//! several KS, as a SAC system would stream them (`system::kneaded`: per output channel, per kernel
//! tap, input-channel groups of KS, an all-zero group still one empty word). A layer's words are the
//! beats one SAC column spends per pixel tile on it; a MAC column spends one beat per weight lane
//! (`taps x ceil(in_c / KS) x KS` per output channel), so lanes / words is the layer's kneading speedup.
//!
//! The system top's KS is its column count (one kneading group per reduction word), fixed in the
//! hardware; this sweep tells whether a per-layer KS would pay (`accelc compile` reports it on SAC
//! systems, `make bench-networks` prints it).

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
    /// MAC weight lanes at this KS: out_c x taps x ceil(in_c / KS) x KS.
    pub lanes: u64,
    /// lanes / words.
    pub speedup: f64,
}

/// One layer's sweep and the KS with the fewest words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerStrides {
    pub name: String,
    pub strides: Vec<AtStride>,
    pub best_ks: usize,
}

/// The words of `layer`'s weights at each of `strides` (int8 weights, `encoding`).
pub fn sweep(layer: &AccelLayer, strides: &[usize], encoding: Encoding) -> Result<LayerStrides> {
    let (out_c, kh, kw, in_c) = layer.weights.dim();
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
        let lanes = (out_c * kh * kw * in_c.div_ceil(ks) * ks) as u64;
        at.push(AtStride { ks, words, lanes, speedup: lanes as f64 / words as f64 });
    }
    let best_ks = at.iter().min_by_key(|a| (a.words, a.ks)).map_or(0, |a| a.ks);
    Ok(LayerStrides { name: layer.name.clone(), strides: at, best_ks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::program::LayerKind;
    use ndarray::Array4;

    fn layer(w: Array4<i8>) -> AccelLayer {
        AccelLayer {
            name: "l".into(),
            kind: LayerKind::Conv,
            input: "x".into(),
            output: "y".into(),
            kernel: [w.dim().1, w.dim().2],
            stride: [1, 1],
            dilation: [1, 1],
            pad: [0, 0],
            relu: false,
            in_scale: 1.0,
            in_zp: 0,
            out_zp: 0,
            out_channel_scales: vec![],
            out_scale: 1.0,
            weight_scales: vec![1.0; w.dim().0],
            macs: 0,
            cycles: None,
            jobs: vec![],
            requant: vec![],
            weights: w,
        }
    }

    /// Counted by hand in sign-magnitude: a group's words are the most essential bits any one bit
    /// position holds across its weights.
    #[test]
    fn words_by_hand() {
        // one output channel, one tap, 4 channels: 1 = 0b1, 3 = 0b11, 1, 0
        let w = Array4::from_shape_vec((1, 1, 1, 4), vec![1i8, 3, 1, 0]).unwrap();
        let s = sweep(&layer(w), &[2, 4], Encoding::SignMagnitude).unwrap();
        // KS 2: {1, 3}: bit 0 twice -> 2 words; {1, 0}: 1 word. KS 4: bit 0 three times -> 3 words.
        assert_eq!(s.strides[0], AtStride { ks: 2, words: 3, lanes: 4, speedup: 4.0 / 3.0 });
        assert_eq!(s.strides[1], AtStride { ks: 4, words: 3, lanes: 4, speedup: 4.0 / 3.0 });
        assert_eq!(s.best_ks, 2, "ties go to the smaller stride");
        // an all-zero group is one empty word, and a short last group pads its lanes
        let w = Array4::from_shape_vec((1, 1, 1, 3), vec![0i8, 0, 64]).unwrap();
        let s = sweep(&layer(w), &[2], Encoding::SignMagnitude).unwrap();
        assert_eq!(s.strides[0], AtStride { ks: 2, words: 2, lanes: 4, speedup: 2.0 });
    }
}
