//! Workloads: layers of real trained networks (shipped under `data/weights/`, provenance in
//! `data/README.md`), per-layer symmetric quantization, and layers as GEMM operands for the arrays.
//!
//! ```no_run
//! use accelc::workload::{gemm_b_matrix, load_network, real_weight_matrix};
//! let layers = load_network("mtcnn")?;
//! let b = gemm_b_matrix(&layers[0], 8); // K x N, values in [-127, 127]
//! let w = real_weight_matrix(16, 8, 8, 42); // a 16 x 8 window of a shipped layer
//! # Ok::<(), accelc::workload::WorkloadError>(())
//! ```

mod error;
mod layer;
mod quantize;
pub mod topology;

pub use error::{Result, WorkloadError};
pub use layer::{load_network, Layer, Op, WeightStore};
pub use quantize::{
    gemm_b_matrix, magnitude_zero_bits, qmax, quantize_symmetric, quantize_with_scale, quantized_b_matrix,
};

use crate::rng::SplitMix64;
use ndarray::Array2;
use std::sync::OnceLock;

/// Every non-depthwise layer shipped with the crate, networks in name order, layers in manifest order.
/// Loaded once per process.
pub fn shipped_layers() -> Result<&'static [Layer]> {
    static CACHE: OnceLock<Vec<Layer>> = OnceLock::new();
    if let Some(v) = CACHE.get() {
        return Ok(v);
    }
    let store = WeightStore::default();
    let mut all = Vec::new();
    for net in store.networks() {
        all.extend(store.load_network(&net)?.into_iter().filter(|l| !l.depthwise));
    }
    if all.is_empty() {
        return Err(WorkloadError::NoLayers);
    }
    Ok(CACHE.get_or_init(|| all))
}

/// A `k x n` matrix of real trained weights quantized to `bits` (values in `[-(2^(bits-1)-1), 2^(bits-1)-1]`),
/// for use as a GEMM B operand in tests and benchmarks.
///
/// Deterministic in `seed`: the seed picks one shipped layer (among those whose B matrix
/// ([`gemm_b_matrix`]) is at least `k x n`, or among all shipped layers if none is) and a window origin
/// `(r0, c0)`; entry `(i, j)` is `B[(r0 + i) mod K, (c0 + j) mod N]`, so a smaller layer is tiled. The
/// layer is quantized as a whole (per-layer scale), not the window. The same seed gives the same matrix
/// for as long as the shipped data set is unchanged.
///
/// # Panics
/// If `bits` is not in `2..=32` or the shipped weights cannot be loaded (the message names the file);
/// [`try_real_weight_matrix`] returns these as errors.
pub fn real_weight_matrix(k: usize, n: usize, bits: u32, seed: u64) -> Array2<i64> {
    try_real_weight_matrix(k, n, bits, seed).unwrap_or_else(|e| panic!("real_weight_matrix: {e}"))
}

/// [`real_weight_matrix`], returning errors instead of panicking.
pub fn try_real_weight_matrix(k: usize, n: usize, bits: u32, seed: u64) -> Result<Array2<i64>> {
    if !(2..=32).contains(&bits) {
        return Err(WorkloadError::BadBits { bits });
    }
    let layers = shipped_layers()?;
    let covering: Vec<&Layer> =
        layers.iter().filter(|l| l.reduction_len() >= k && l.out_channels() >= n).collect();
    let pool: Vec<&Layer> = if covering.is_empty() { layers.iter().collect() } else { covering };
    let mut rng = SplitMix64::new(seed);
    let layer = pool[rng.pick(pool.len())];
    let b = gemm_b_matrix(layer, bits);
    let (kk, nn) = b.dim();
    let (r0, c0) = (rng.pick(kk), rng.pick(nn));
    Ok(Array2::from_shape_fn((k, n), |(i, j)| b[((r0 + i) % kk, (c0 + j) % nn)]))
}
