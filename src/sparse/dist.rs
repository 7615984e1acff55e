//! Deterministic gradient-like test data from the LFSR (no `rand`): Laplace and Gaussian samples,
//! rounded to integers and clamped to `±(2^(bits-1) - 1)`. For tests and benchmarks; not part of the
//! hardware contract.

use super::{check_bits, qmax, Lfsr, SparseError};

/// Uniform samples in (0, 1): `(r + 0.5) / 2^24`, `r` a 24-bit draw of the 32-bit LFSR (24 steps per
/// sample). Never 0, never 1, never exactly 1/2.
#[derive(Debug, Clone)]
pub struct Uniform(Lfsr);

impl Uniform {
    pub fn new(seed: u32) -> Result<Self, SparseError> {
        Ok(Self(Lfsr::new32(seed)?))
    }

    pub fn next_f64(&mut self) -> f64 {
        (f64::from(self.0.draw(24)) + 0.5) / f64::from(1u32 << 24)
    }
}

fn quantize(x: f64, bits: u32) -> i64 {
    let q = qmax(bits) as f64;
    x.round().clamp(-q, q) as i64
}

/// `n` samples of Laplace(0, `scale`) (inverse CDF: `-scale * sign(u - 1/2) * ln(1 - 2|u - 1/2|)`),
/// rounded and clamped to `bits` bits. Heavy-tailed and peaked at 0, like activation gradients.
pub fn laplace(n: usize, scale: f64, bits: u32, seed: u32) -> Result<Vec<i64>, SparseError> {
    check_bits(bits)?;
    let mut u = Uniform::new(seed)?;
    Ok((0..n)
        .map(|_| {
            let d = u.next_f64() - 0.5;
            quantize(-scale * d.signum() * (1.0 - 2.0 * d.abs()).ln(), bits)
        })
        .collect())
}

/// `n` samples of Normal(0, `sigma`) by Box-Muller (two uniforms per sample, cosine branch), rounded
/// and clamped to `bits` bits.
pub fn gaussian(n: usize, sigma: f64, bits: u32, seed: u32) -> Result<Vec<i64>, SparseError> {
    check_bits(bits)?;
    let mut u = Uniform::new(seed)?;
    Ok((0..n)
        .map(|_| {
            let (u1, u2) = (u.next_f64(), u.next_f64());
            quantize(sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos(), bits)
        })
        .collect())
}
