//! Digit encodings of a quantized weight: sign-magnitude bits (Tetris) and canonical signed digits.

use serde::Serialize;

/// How a weight is split into signed power-of-two digits before kneading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The 1-bits of `|w|` (positions `0..bits-1`), every digit with the weight's sign.
    SignMagnitude,
    /// Canonical signed digit: the non-adjacent form (NAF) of `w`, digits in {-1, +1}, no two adjacent
    /// positions nonzero, each digit with its own sign. Minimal number of nonzero digits.
    Csd,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::SignMagnitude => "sign_magnitude",
            Encoding::Csd => "csd",
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One nonzero digit of a weight: contributes `-2^position` if `negative`, else `+2^position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit {
    pub position: u32,
    pub negative: bool,
}

impl Digit {
    /// The digit's value, `±2^position`.
    pub fn value(self) -> i64 {
        let v = 1i64 << self.position;
        if self.negative {
            -v
        } else {
            v
        }
    }
}

/// The nonzero digits of `w` in `encoding`, lowest position first; `sum(d.value()) == w`.
///
/// - `SignMagnitude`: the 1-bits of `|w|`, each `negative = w < 0`. For a `bits`-bit weight
///   (`|w| <= 2^(bits-1) - 1`) the positions lie in `0..bits-1`.
/// - `Csd`: the NAF of `w` (computed on `w` itself, so `NAF(-w) = -NAF(w)`): while `n != 0`, if `n` is odd
///   take digit `d = 2 - (n mod 4)` (i.e. +1 for n = 1 mod 4, -1 for n = 3 mod 4), `n = (n - d) / 2`.
///   For a `bits`-bit weight the positions lie in `0..digit_positions(bits, Csd)`.
///
/// `w = 0` has no digits. Works for any `|w| < 2^62`.
pub fn digits(w: i64, encoding: Encoding) -> Vec<Digit> {
    let mut out = Vec::new();
    match encoding {
        Encoding::SignMagnitude => {
            let negative = w < 0;
            let mut m = w.unsigned_abs();
            while m != 0 {
                let p = m.trailing_zeros();
                out.push(Digit { position: p, negative });
                m &= m - 1;
            }
        }
        Encoding::Csd => {
            let mut n = w;
            let mut p = 0u32;
            while n != 0 {
                if n & 1 != 0 {
                    let d = 2 - n.rem_euclid(4); // +1 or -1
                    out.push(Digit { position: p, negative: d < 0 });
                    n -= d;
                }
                n >>= 1; // n is even here: an exact division by 2
                p += 1;
            }
        }
    }
    out
}

/// Digit positions (slots of a kneaded word) needed for every `bits`-bit weight (`|w| <= 2^(bits-1) - 1`).
///
/// - `SignMagnitude`: `bits - 1` (the magnitude bits; the sign is carried by each slot).
/// - `Csd`: the length of the NAF of `qmax = 2^(bits-1) - 1`. NAF length is nondecreasing in `|w|` (the NAFs
///   of length `L` are exactly the values in `(2^L/3, 2^(L+1)/3)`), so `qmax` needs the most positions:
///   `bits` for `bits >= 3` (`qmax = 2^(bits-1) - 2^0`, one position above the magnitude), 1 for `bits = 2`
///   (`qmax = 1`). Checked exhaustively for `bits <= 16` in `tests/knead_encoding.rs`.
///
/// # Panics
/// If `bits` is not in `2..=32`.
pub fn digit_positions(bits: u32, encoding: Encoding) -> usize {
    assert!((2..=32).contains(&bits), "bits = {bits}: must be between 2 and 32");
    match encoding {
        Encoding::SignMagnitude => (bits - 1) as usize,
        Encoding::Csd => {
            let qmax = crate::bits::signed_range(bits).1;
            digits(qmax, Encoding::Csd).last().map_or(0, |d| d.position as usize + 1)
        }
    }
}
