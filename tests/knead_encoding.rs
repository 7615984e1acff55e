//! Digit encodings: exhaustive over every weight of every width 2..=16 bits.

use accelc::knead::{digit_positions, digits, Digit, Encoding};

fn qmax(bits: u32) -> i64 {
    (1i64 << (bits - 1)) - 1
}

fn value(ds: &[Digit]) -> i64 {
    ds.iter().map(|d| if d.negative { -(1i64 << d.position) } else { 1i64 << d.position }).sum()
}

/// No two nonzero digits at the same or adjacent positions.
fn non_adjacent(ds: &[Digit]) -> bool {
    let mut pos: Vec<u32> = ds.iter().map(|d| d.position).collect();
    pos.sort_unstable();
    pos.windows(2).all(|w| w[1] >= w[0] + 2)
}

/// An NAF written differently from the library's (Reitwiesner via 3n): for n >= 0, with h = 3n, the
/// positive digits are the bits of (h & !n) >> 1 and the negative ones the bits of (!h & n) >> 1.
fn naf_oracle(w: i64) -> (u64, u64) {
    let n = w.unsigned_abs();
    let h = 3 * n;
    let (pos, neg) = ((h & !n) >> 1, (!h & n) >> 1);
    if w < 0 {
        (neg, pos)
    } else {
        (pos, neg)
    }
}

fn masks(ds: &[Digit]) -> (u64, u64) {
    ds.iter().fold(
        (0, 0),
        |(p, n), d| {
            if d.negative {
                (p, n | 1 << d.position)
            } else {
                (p | 1 << d.position, n)
            }
        },
    )
}

#[test]
fn digits_sum_to_the_weight_for_every_weight_of_every_width() {
    for bits in 2..=16u32 {
        let q = qmax(bits);
        let (sm_p, csd_p) =
            (digit_positions(bits, Encoding::SignMagnitude), digit_positions(bits, Encoding::Csd));
        let mut csd_needed = 0usize;
        for w in -q..=q {
            let sm = digits(w, Encoding::SignMagnitude);
            let csd = digits(w, Encoding::Csd);
            assert_eq!(value(&sm), w, "sign-magnitude {w}");
            assert_eq!(value(&csd), w, "csd {w}");
            // Sign-magnitude: the 1-bits of |w|, all with w's sign, inside the magnitude bits.
            assert_eq!(sm.len() as u32, w.unsigned_abs().count_ones());
            assert!(sm.iter().all(|d| d.negative == (w < 0) && (d.position as usize) < sm_p));
            // CSD: non-adjacent, never more digits than sign-magnitude, inside digit_positions, and the
            // same digits as an independently written NAF.
            assert!(non_adjacent(&csd), "csd {w}: {csd:?}");
            assert!(csd.len() <= sm.len(), "csd {w}: {} > {}", csd.len(), sm.len());
            assert!(csd.iter().all(|d| (d.position as usize) < csd_p), "csd {w} @{bits}");
            assert_eq!(masks(&csd), naf_oracle(w), "csd {w}");
            csd_needed = csd_needed.max(csd.iter().map(|d| d.position as usize + 1).max().unwrap_or(0));
        }
        // digit_positions is exact: some weight needs every position.
        assert_eq!(csd_needed, csd_p, "bits {bits}");
        assert_eq!(sm_p, bits as usize - 1);
        assert_eq!(csd_p, if bits == 2 { 1 } else { bits as usize }, "bits {bits}");
    }
    assert!(digits(0, Encoding::Csd).is_empty() && digits(0, Encoding::SignMagnitude).is_empty());
}

/// CSD digits can have mixed signs: 7 = 8 - 1, -7 = -8 + 1; and 0b0111_0111 = 128 - 8 - 1.
#[test]
fn csd_examples() {
    let d = |position, negative| Digit { position, negative };
    assert_eq!(digits(7, Encoding::Csd), vec![d(0, true), d(3, false)]);
    assert_eq!(digits(-7, Encoding::Csd), vec![d(0, false), d(3, true)]);
    assert_eq!(digits(119, Encoding::Csd), vec![d(0, true), d(3, true), d(7, false)]);
    assert_eq!(digits(-5, Encoding::SignMagnitude), vec![d(0, true), d(2, true)]);
    assert_eq!(digits(127, Encoding::Csd).last(), Some(&d(7, false)), "8-bit CSD needs position 7");
}

/// The checkers catch planted faults: plain binary is not non-adjacent, and a digit list off by one digit
/// does not sum to the weight or differs from the oracle.
#[test]
fn checkers_catch_planted_faults() {
    let binary_as_csd = digits(3, Encoding::SignMagnitude);
    assert!(!non_adjacent(&binary_as_csd));
    let mut wrong = digits(45, Encoding::Csd);
    wrong[0].negative = !wrong[0].negative;
    assert_ne!(value(&wrong), 45);
    assert_ne!(masks(&wrong), naf_oracle(45));
}
