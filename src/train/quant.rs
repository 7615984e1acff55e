//! Per-tensor symmetric fixed point: `v ~ q * scale` with `q` a `bits`-bit integer in
//! `[-(2^(bits-1) - 1), 2^(bits-1) - 1]` and `scale = max|v| / (2^(bits-1) - 1)`, rounded to nearest
//! (half away from zero). The error of each element is at most `scale / 2`.

use crate::sparse::qmax;

/// A tensor's integers and the scale that maps them back.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub values: Vec<i64>,
    pub scale: f64,
}

impl Quantized {
    pub fn dequantize(&self) -> Vec<f64> {
        self.values.iter().map(|&q| q as f64 * self.scale).collect()
    }
}

/// Quantizes `v` to `bits` bits with one scale for the whole tensor. An all-zero tensor gets scale 1.
pub fn quantize(v: &[f64], bits: u32) -> Quantized {
    let q = qmax(bits) as f64;
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(max.is_finite(), "quantize: a value is not finite");
    let scale = if max > 0.0 { max / q } else { 1.0 };
    let values = v.iter().map(|&x| (x / scale).round().clamp(-q, q) as i64).collect();
    Quantized { values, scale }
}
