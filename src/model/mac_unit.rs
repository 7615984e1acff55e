//! The MAC unit shared by every PE: `acc + a * b` on signed two's complement values, wrapping modulo
//! 2^acc_bits (no saturation). Mirrors `templates/mac_unit.v.tera`.

/// Interprets the low `bits` of `v` as a signed two's complement number.
pub fn sext(v: i64, bits: u32) -> i64 {
    if bits >= 64 {
        v
    } else {
        let shift = 64 - bits;
        (v << shift) >> shift
    }
}

/// Reduces `v` modulo 2^bits into the signed range [-2^(bits-1), 2^(bits-1)).
pub fn wrap(v: i64, bits: u32) -> i64 {
    sext(v, bits)
}

/// One multiply-accumulate: the exact signed product of `a` and `b` added to `acc`, wrapped to
/// `acc_bits`. `a` and `b` must already be in range for their widths.
pub fn mac(acc: i64, a: i64, b: i64, acc_bits: u32) -> i64 {
    wrap(acc.wrapping_add(a.wrapping_mul(b)), acc_bits)
}

/// Adds two accumulator values, wrapping to `acc_bits` (the WS accumulator buffer's adder).
pub fn acc_add(x: i64, y: i64, acc_bits: u32) -> i64 {
    wrap(x.wrapping_add(y), acc_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sext_reads_the_sign_bit() {
        assert_eq!(sext(0b1000, 4), -8);
        assert_eq!(sext(0b0111, 4), 7);
        assert_eq!(sext(-1, 64), -1);
    }

    #[test]
    fn mac_wraps_instead_of_saturating() {
        // 127*127 + 32767 = 48896 wraps in 16 bits to 48896 - 65536.
        assert_eq!(mac(32767, 127, 127, 16), 48896 - 65536);
        assert_eq!(mac(-128 * 128, -128, -128, 32), 0);
    }
}
