//! Quantization of a network for the int8 pipeline.
//!
//! - **Weights**: per output channel, symmetric, int8 in [-127, 127] (`workload::quantize` applied to
//!   each output channel's slice: scale = max |w| / 127, round half away from zero).
//! - **Activations**: per tensor, scale from the calibrated clip value c (`program::Calibration`).
//!   Symmetric, zero point 0 (scale c / 127) wherever the system top pads with code 0 or writes the
//!   tensor itself; asymmetric (scale (c - lo) / 255, zero point zp = the code of 0.0) where a layer
//!   without padding reads a host step's tensor whose values stay above -c / 2 (ReLU, HardSwish,
//!   their products and means): one more bit for the non-negative tensors of a MobileNet.
//! - **Requantization**: a conv's accumulator acc (int32) maps to its output with the system top's
//!   record: y = sat(round((acc + bias) * mult / 2^shift)), where bias = round(b / (s_x s_w[o])) -
//!   zp * sum(w[o]) ([`fold_zero_point`]: acc sums q w = (x / s_x + zp) w) and mult / 2^shift
//!   approximates s_x s_w[o] / s_y with mult in [2^15, 2^16) ([`quantize_multiplier`]).

use crate::system::layout::Requant;
use crate::workload::quantize_symmetric;
use ndarray::{ArrayD, Axis};

/// Per-output-channel (axis 0) symmetric int8 quantization: the values in [-127, 127] and each
/// channel's scale (0 for an all-zero channel).
pub fn quantize_per_channel(w: &ArrayD<f32>) -> (ArrayD<i8>, Vec<f64>) {
    let mut q = ArrayD::<i8>::zeros(w.raw_dim());
    let mut scales = Vec::with_capacity(w.shape()[0]);
    for (o, slice) in w.axis_iter(Axis(0)).enumerate() {
        let (qo, scale) = quantize_symmetric(&slice, 8);
        q.index_axis_mut(Axis(0), o).assign(&qo.mapv(|v| v as i8));
        scales.push(scale);
    }
    (q, scales)
}

/// The record fields (mult, shift) of a positive real multiplier m: mult / 2^shift ~ m with mult in
/// [2^15, 2^16) (16 significant bits), shift in 0..=63. Multipliers too large for shift 0 saturate
/// mult at 65535; too small ones give mult 0 (every output is the zero point).
pub fn quantize_multiplier(m: f64) -> (u16, u8) {
    if !(m > 0.0 && m.is_finite()) {
        return (0, 0);
    }
    // m = f * 2^e with f in [0.5, 1): mult = round(f * 2^16), shift = 16 - e
    let e = m.log2().floor() as i32 + 1;
    let mut shift = 16 - e;
    let mut mult = (m * 2f64.powi(shift)).round();
    if mult >= 65536.0 {
        mult /= 2.0;
        shift -= 1;
    }
    if shift < 0 {
        return (65535, 0);
    }
    if shift > 63 {
        return ((m * 2f64.powi(63)).round() as u16, 63);
    }
    (mult as u16, shift as u8)
}

/// The requantization records of a conv: bias b (float, per output channel), input scale s_x,
/// weight scales s_w and output scales s_y (per output channel).
pub fn requant_records(bias: &[f32], s_x: f64, s_w: &[f64], s_y: &[f64]) -> Vec<Requant> {
    s_w.iter()
        .zip(bias)
        .zip(s_y)
        .map(|((&sw, &b), &s_y)| {
            let acc_scale = s_x * sw;
            if acc_scale == 0.0 {
                // an all-zero filter: the output is the bias alone, carried by a unit multiplier
                let (mult, shift) = quantize_multiplier(1.0);
                let q = (b as f64 / s_y).round().clamp(i32::MIN as f64, i32::MAX as f64) as i32;
                return Requant { bias: q, mult, shift };
            }
            let (mult, shift) = quantize_multiplier(acc_scale / s_y);
            let q = (b as f64 / acc_scale).round().clamp(i32::MIN as f64, i32::MAX as f64) as i32;
            Requant { bias: q, mult, shift }
        })
        .collect()
}

/// Folds an input zero point into the records: each output channel's bias loses zp x the sum of
/// its int8 weights (OHWI), saturated to i32.
pub fn fold_zero_point(records: &mut [Requant], w: &ndarray::Array4<i8>, zp: i8) {
    for (r, filter) in records.iter_mut().zip(w.outer_iter()) {
        let sum: i64 = filter.iter().map(|&v| v as i64).sum();
        r.bias = (r.bias as i64 - zp as i64 * sum).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipliers_keep_16_significant_bits() {
        for &m in &[1.0, 0.5, 0.75, 3.0e-3, 1.234e-5, 0.999_999_9, 7.9] {
            let (mult, shift) = quantize_multiplier(m);
            let back = mult as f64 / 2f64.powi(shift as i32);
            assert!(mult >= 1 << 15 || shift == 0, "m {m}: mult {mult}");
            assert!((back - m).abs() <= m * 2f64.powi(-15), "m {m}: {mult} / 2^{shift} = {back}");
        }
        assert_eq!(quantize_multiplier(1.0), (32768, 15));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
    }

    #[test]
    fn per_channel_scales_are_channel_maxima() {
        let w = ArrayD::from_shape_vec(vec![2, 3], vec![0.5, -1.0, 0.25, 0.0, 0.0, 0.0]).unwrap();
        let (q, s) = quantize_per_channel(&w);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), vec![64, -127, 32, 0, 0, 0]);
        assert_eq!(s, vec![1.0 / 127.0, 0.0]);
    }
}
