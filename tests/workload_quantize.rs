//! Per-layer symmetric quantization against hand-computed examples.

use accelc::workload::{magnitude_zero_bits, qmax, quantize_symmetric, quantize_with_scale};
use ndarray::{array, Array1, Array2};

#[test]
fn qmax_is_symmetric_range() {
    assert_eq!(qmax(2), 1);
    assert_eq!(qmax(4), 7);
    assert_eq!(qmax(8), 127);
    assert_eq!(qmax(16), 32767);
    assert_eq!(qmax(32), 2_147_483_647);
}

/// bits = 3: qmax = 3, absmax = 3.0, so scale = 1.0 exactly and q = round(w).
/// Ties go away from zero (0.5 -> 1, 2.5 -> 3, -1.5 -> -2); banker's rounding would give 0, 2, -2.
#[test]
fn unit_scale_ties_away_from_zero() {
    let w = array![3.0f32, -3.0, 1.5, -1.5, 0.5, -0.5, 2.5, -2.5, 0.4, -0.6, 1.0, 0.0];
    let (q, scale) = quantize_symmetric(&w, 3);
    assert_eq!(scale, 1.0);
    assert_eq!(q, array![3i64, -3, 2, -2, 1, -1, 3, -3, 0, -1, 1, 0]);
}

/// bits = 4: qmax = 7, absmax = 3.5, scale = 0.5 (exact in binary), q = round(2 w).
#[test]
fn power_of_two_scale_hand_example() {
    let w = array![[0.25f32, -0.75, 1.25], [3.5, -3.5, 0.2], [-0.2, -1.25, 0.74]];
    let (q, scale) = quantize_symmetric(&w, 4);
    assert_eq!(scale, 0.5);
    // 0.5 -> 1, -1.5 -> -2, 2.5 -> 3, 7, -7, 0.4 -> 0, -0.4 -> 0, -2.5 -> -3, 1.48 -> 1
    assert_eq!(q, array![[1i64, -2, 3], [7, -7, 0], [0, -3, 1]]);
}

/// Negative absmax: the scale comes from |w|, and the most negative value maps to -qmax, not -qmax-1.
#[test]
fn negative_absmax_maps_to_minus_qmax() {
    let w = array![-2.0f32, 1.0, 0.5];
    let (q, scale) = quantize_symmetric(&w, 2); // qmax = 1, scale = 2.0
    assert_eq!(scale, 2.0);
    assert_eq!(q, array![-1i64, 1, 0]); // 1.0/2 = 0.5 -> 1 (away from zero); 0.25 -> 0
    let (q8, s8) = quantize_symmetric(&w, 8);
    assert_eq!(s8, 2.0 / 127.0);
    assert_eq!(q8[0], -127);
    assert!(q8.iter().all(|&v| v >= -127), "the symmetric range never uses -128");
}

/// With an explicit scale, out-of-range values saturate at +-qmax instead of wrapping.
#[test]
fn explicit_scale_clamps() {
    let w = array![10.0f32, -10.0, 7.4, -7.6, 6.5, 1.0e30];
    let q = quantize_with_scale(&w, 1.0, 4);
    assert_eq!(q, array![7i64, -7, 7, -7, 7, 7]);
    // The same values with a wrapping implementation would give 10 -> -6: the clamp is what we test.
    assert_ne!(q[0], (10i64 + 8).rem_euclid(16) - 8);
}

#[test]
fn all_zero_tensor_quantizes_to_zeros() {
    let w = Array2::<f32>::zeros((3, 4));
    let (q, scale) = quantize_symmetric(&w, 8);
    assert_eq!(scale, 0.0);
    assert_eq!(q, Array2::<i64>::zeros((3, 4)));
    let (q, scale) = quantize_symmetric(&Array1::<f32>::zeros(0), 8);
    assert_eq!((q.len(), scale), (0, 0.0));
}

#[test]
fn shape_is_kept() {
    let w = ndarray::Array4::<f32>::from_shape_fn((2, 3, 3, 3), |(o, i, y, x)| (o + i + y + x) as f32 - 3.0);
    let (q, _) = quantize_symmetric(&w, 8);
    assert_eq!(q.shape(), &[2, 3, 3, 3]);
    // absmax = 4 at (1,2,2,2) -> 127; w = -3 at (0,0,0,0) -> -3 * 127 / 4 = -95.25 -> -95.
    assert_eq!(q[(1, 2, 2, 2)], 127);
    assert_eq!(q[(0, 0, 0, 0)], -95);
}

#[test]
#[should_panic(expected = "bits = 1")]
fn one_bit_is_rejected() {
    quantize_symmetric(&array![1.0f32], 1);
}

/// Sign-magnitude zero bits: only the bits-1 magnitude bits count.
#[test]
fn magnitude_zero_bits_hand_example() {
    // bits = 4: 3 magnitude bits each. 0 -> 3 zeros, 7 -> 0, -5 (101) -> 1, 2 (010) -> 2, -1 -> 2.
    let v = [0i64, 7, -5, 2, -1];
    assert_eq!(magnitude_zero_bits(v.iter(), 4), (8, 15));
    // A two's-complement count would see -1 as 1111 (no zero bits): the sign-magnitude form is used.
    assert_eq!(magnitude_zero_bits([-1i64].iter(), 4), (2, 3));
}
