//! Helpers shared by the integration tests.

use accelc::model::Matrix;

/// The plain product A . B in i128, reduced to the signed range of `bits` by remainder: arithmetic
/// written differently from the model's wrapping MACs, so that a shared mistake cannot hide.
pub fn naive_product(a: &Matrix, b: &Matrix, bits: u32) -> Matrix {
    let modulus = 1i128 << bits;
    Matrix::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
        let exact: i128 = (0..a.ncols()).map(|k| a[(i, k)] as i128 * b[(k, j)] as i128).sum();
        let r = exact.rem_euclid(modulus);
        (if r >= modulus / 2 { r - modulus } else { r }) as i64
    })
}
