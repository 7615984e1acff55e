//! Per-layer symmetric quantization of float weights to signed integers, and a layer as a GEMM operand.

use super::layer::Layer;
use ndarray::{Array, Array2, ArrayRef, Dimension};

/// The largest quantized magnitude at `bits`: `2^(bits-1) - 1`. The range is symmetric,
/// `[-qmax, qmax]`; the two's-complement minimum `-2^(bits-1)` is never produced.
///
/// # Panics
/// If `bits` is not in `2..=32`.
pub fn qmax(bits: u32) -> i64 {
    assert!((2..=32).contains(&bits), "bits = {bits}: must be between 2 and 32");
    crate::bits::signed_range(bits).1
}

/// Per-layer (per-tensor) symmetric quantization to `bits`-bit signed integers.
///
/// Semantics, in f64 arithmetic (every f32 is exact in f64):
/// - `scale = absmax / qmax`, with `absmax = max |w|` over the whole tensor and `qmax = 2^(bits-1) - 1`;
/// - `q = clamp(round_half_away_from_zero(w / scale), -qmax, qmax)` (`f64::round`: 0.5 -> 1, -0.5 -> -1,
///   2.5 -> 3; not banker's rounding). The clamp only guards against round-off at `|w| = absmax`.
/// - A tensor whose absmax is 0 quantizes to all zeros with scale 0.0.
///
/// Dequantize with `q as f64 * scale`; each value is then within `scale / 2` of the original.
/// Weights must be finite (the loader rejects non-finite files); a NaN quantizes to 0.
///
/// # Panics
/// If `bits` is not in `2..=32`.
pub fn quantize_symmetric<D: Dimension>(weights: &ArrayRef<f32, D>, bits: u32) -> (Array<i64, D>, f64) {
    let qmax = qmax(bits);
    let absmax = weights.iter().fold(0.0f64, |m, &w| m.max(f64::from(w).abs()));
    if absmax == 0.0 {
        return (weights.mapv(|_| 0), 0.0);
    }
    let scale = absmax / qmax as f64;
    (quantize_with_scale(weights, scale, bits), scale)
}

/// Quantizes with a given `scale`: `q = clamp(round_half_away_from_zero(w / scale), -qmax, qmax)` in f64,
/// `qmax = 2^(bits-1) - 1`. Values beyond the range saturate (clamp), they do not wrap. A NaN gives 0.
///
/// # Panics
/// If `bits` is not in `2..=32`, or `scale` is not finite and positive.
pub fn quantize_with_scale<D: Dimension>(weights: &ArrayRef<f32, D>, scale: f64, bits: u32) -> Array<i64, D> {
    let qmax = qmax(bits);
    assert!(scale.is_finite() && scale > 0.0, "scale = {scale}: must be finite and positive");
    // `as i64` saturates out-of-range floats (and maps NaN to 0) before the clamp.
    weights.mapv(|w| ((f64::from(w) / scale).round() as i64).clamp(-qmax, qmax))
}

/// The layer as the B operand of a GEMM, quantized per layer to `bits` ([`quantize_symmetric`]), with
/// its scale. Shape `K x N`: `K = in/groups * kh * kw` is the reduction axis, flattened input-channel-major
/// (`k = (c * kh + y) * kw + x`), and `N = out` channels; i.e. `B = reshape(W_OIHW, (O, K))^T`.
/// A Dense `(out, in)` layer gives `K = in`. For a grouped (e.g. depthwise) conv, B holds one group's
/// reduction per column: the full layer is block-diagonal and is not expanded here.
pub fn quantized_b_matrix(layer: &Layer, bits: u32) -> (Array2<i64>, f64) {
    let (q, scale) = quantize_symmetric(&layer.weights, bits);
    let (k, n) = (layer.reduction_len(), layer.out_channels());
    let q = q.into_shape_with_order((n, k)).expect("OIHW weights are stored in standard layout");
    (q.t().as_standard_layout().into_owned(), scale)
}

/// [`quantized_b_matrix`] without the scale: the `K x N` B operand, values in `[-qmax, qmax]`.
pub fn gemm_b_matrix(layer: &Layer, bits: u32) -> Array2<i64> {
    quantized_b_matrix(layer, bits).0
}

/// Counts zero bits in the sign-magnitude form of `bits`-bit quantized values: each value contributes its
/// `bits - 1` magnitude bits (the sign bit is not counted). Returns `(zero_bits, total_bits)`, so that
/// counts over several layers add up exactly. This is the "zero-bit fraction" of `data/README.md`.
///
/// # Panics
/// If `bits` is not in `2..=32` or a value's magnitude exceeds `2^(bits-1) - 1`.
pub fn magnitude_zero_bits<'a>(values: impl IntoIterator<Item = &'a i64>, bits: u32) -> (u64, u64) {
    let qmax = qmax(bits);
    let mag_bits = u64::from(bits - 1);
    let (mut ones, mut count) = (0u64, 0u64);
    for &v in values {
        assert!(v.abs() <= qmax, "value {v} does not fit {bits}-bit sign-magnitude");
        ones += u64::from(v.unsigned_abs().count_ones());
        count += 1;
    }
    (count * mag_bits - ones, count * mag_bits)
}
