//! Two's-complement ranges: the one place that turns a bit width into the values it holds.

/// `(lo, hi)` of a `bits`-bit two's-complement value: `(-2^(bits-1), 2^(bits-1) - 1)`.
///
/// # Panics
/// If `bits` is not in `1..=64`.
pub fn signed_range(bits: u32) -> (i64, i64) {
    assert!((1..=64).contains(&bits), "bits = {bits}: a signed range needs 1 to 64 bits");
    // Arithmetic shifts of the extremes stay in range up to 64 bits, where `1 << bits` would not.
    (i64::MIN >> (64 - bits), i64::MAX >> (64 - bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_ranges_match_plain_powers_of_two() {
        for bits in 1..=63 {
            let half = 1i128 << (bits - 1);
            let (lo, hi) = signed_range(bits);
            assert_eq!((lo as i128, hi as i128), (-half, half - 1), "bits = {bits}");
        }
        assert_eq!(signed_range(8), (-128, 127));
        assert_eq!(signed_range(64), (i64::MIN, i64::MAX));
    }
}
