//! The pruning LFSR: maximal period (exhaustively at 16 bits, by jump-ahead at 32 bits), never 0, the
//! draw definition, golden values for the RTL, and a non-maximal tap set caught by the same checks.

use accelc::sparse::{Lfsr, SparseError, LFSR16_TAPS, LFSR32_TAPS};

/// The period from `seed`, stepping one at a time (at most 2^width steps), checking no state is 0.
fn period_by_stepping(width: u32, taps: &[u32], seed: u32) -> u64 {
    let mut l = Lfsr::new(width, taps, seed).unwrap();
    for n in 1..=1u64 << width {
        assert_ne!(l.step(), 0, "state 0 after {n} steps");
        if l.state() == seed {
            return n;
        }
    }
    panic!("seed {seed:#x} never came back");
}

/// Whether the period from `seed` is exactly `2^width - 1`, by jump-ahead: `A^(2^w-1) s = s` and
/// `A^((2^w-1)/q) s != s` for every prime `q` dividing `2^w - 1` (then the orbit of `s` has exactly
/// `2^w - 1` states, i.e. all nonzero states).
fn maximal_by_jump(width: u32, taps: &[u32], seed: u32, primes: &[u64]) -> bool {
    let full = (1u64 << width) - 1;
    assert_eq!(primes.iter().product::<u64>(), full, "the primes must be the factorisation of 2^w - 1");
    let at = |n: u64| {
        let mut l = Lfsr::new(width, taps, seed).unwrap();
        l.jump(n)
    };
    at(full) == seed && primes.iter().all(|&q| at(full / q) != seed)
}

const PRIMES_16: [u64; 4] = [3, 5, 17, 257];
const PRIMES_32: [u64; 5] = [3, 5, 17, 257, 65537];

#[test]
fn sixteen_bit_period_is_2_pow_16_minus_1_exhaustively() {
    // Every nonzero state is visited exactly once.
    let mut seen = vec![false; 1 << 16];
    let mut l = Lfsr::new(16, &LFSR16_TAPS, 1).unwrap();
    for _ in 0..65535 {
        let s = l.step() as usize;
        assert!(s != 0 && !seen[s], "state {s:#x} repeated or zero");
        seen[s] = true;
    }
    assert_eq!(l.state(), 1);
    assert_eq!(seen.iter().filter(|&&b| b).count(), 65535);
    assert_eq!(period_by_stepping(16, &LFSR16_TAPS, 0xACE1), 65535);
    // The jump-ahead proof agrees with the exhaustive count.
    assert!(maximal_by_jump(16, &LFSR16_TAPS, 1, &PRIMES_16));
}

#[test]
fn thirty_two_bit_period_is_2_pow_32_minus_1_by_jump_ahead() {
    for seed in [1u32, 0xDEAD_BEEF, 0xFFFF_FFFF, 0x8000_0000] {
        assert!(maximal_by_jump(32, &LFSR32_TAPS, seed, &PRIMES_32), "seed {seed:#x}");
    }
}

/// The planted fault: a tap set that is not maximal. Both the exhaustive count and the jump-ahead
/// check say so. x^16 + x^15 + x^13 + x^5 + 1 is a one-tap slip of the table entry;
/// x^16 + x^8 + 1 = (x^8 + x^4 + 1)^2 is not even irreducible.
#[test]
fn a_non_maximal_tap_set_is_caught() {
    for taps in [[16u32, 8].as_slice(), &[16, 15, 13, 5]] {
        let p = period_by_stepping(16, taps, 1);
        assert!(p < 65535, "{taps:?}: {p}");
        assert!(!maximal_by_jump(16, taps, 1, &PRIMES_16), "{taps:?}");
        println!("taps {taps:?}: period {p} from seed 1");
    }
    // At 32 bits, by jump-ahead: x^32 + x^16 + 1 = (x^16 + x^8 + 1)^2.
    assert!(!maximal_by_jump(32, &[32, 16], 1, &PRIMES_32));
}

#[test]
fn thirty_two_bit_state_never_zero_in_ten_million_steps() {
    for seed in [1u32, 0x8000_0000, 0x1234_5678] {
        let mut l = Lfsr::new32(seed).unwrap();
        for n in 0..10_000_000u64 {
            assert_ne!(l.step(), 0, "seed {seed:#x}: zero after {n} steps");
        }
    }
    assert!(matches!(Lfsr::new32(0), Err(SparseError::ZeroSeed { width: 32 })));
}

/// The step written differently from the library: bit by bit, as the Verilog would
/// (`s_next[i] = s[i+1] ^ (MASK[i] & s[0])`, with `s[W] = 0`).
fn step_bitwise(s: u32, taps: &[u32], width: u32) -> u32 {
    let out = s & 1;
    (0..width).fold(0u32, |acc, i| {
        let above = if i + 1 < width { s >> (i + 1) & 1 } else { 0 };
        let tap = u32::from(taps.contains(&(i + 1)));
        acc | (above ^ (tap & out)) << i
    })
}

#[test]
fn step_matches_a_bitwise_rewrite_and_draw_is_low_bits_after_b_steps() {
    let mut l = Lfsr::new32(0xC0FF_EE11).unwrap();
    let mut s = l.state();
    for _ in 0..100_000 {
        s = step_bitwise(s, &LFSR32_TAPS, 32);
        assert_eq!(l.step(), s);
    }
    for b in [1u32, 8, 16, 24, 32] {
        let mut a = Lfsr::new32(7).unwrap();
        let mut c = a.clone();
        for _ in 0..50 {
            c.advance(u64::from(b));
            let low = if b == 32 { c.state() } else { c.state() & ((1 << b) - 1) };
            assert_eq!(a.draw(b), low);
        }
    }
}

/// Golden values for the RTL pruning unit's testbench: the 32-bit LFSR from seed 1, states after 1..4
/// steps, and the first 8 draws of B = 16 bits (each after 16 more steps).
#[test]
fn golden_values_from_seed_1() {
    let mut l = Lfsr::new32(1).unwrap();
    let states: Vec<u32> = (0..4).map(|_| l.step()).collect();
    assert_eq!(states, [0x8020_0003, 0xC030_0002, 0x6018_0001, 0xB02C_0003]);
    let mut l = Lfsr::new32(1).unwrap();
    let draws: Vec<u32> = (0..8).map(|_| l.draw(16)).collect();
    println!("first 16-bit draws from seed 1: {:04x?}", draws);
    assert_eq!(draws, GOLDEN_DRAWS);
}

/// Computed by the library and, independently, by a three-line Python loop.
const GOLDEN_DRAWS: [u32; 8] = [0xb6c3, 0x3db5, 0xf3cf, 0x2fa6, 0xde3e, 0x8d95, 0xe500, 0x42a4];

/// Draws look uniform and successive draws uncorrelated (mean and lag-1 correlation of 2^18 draws within
/// 5 standard errors).
#[test]
fn draws_are_uniform_and_uncorrelated() {
    let n = 1 << 18;
    let mut l = Lfsr::new32(0x5EED).unwrap();
    let r: Vec<f64> = (0..n).map(|_| f64::from(l.draw(16))).collect();
    let mean = r.iter().sum::<f64>() / n as f64;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let expect_mean = 65535.0 / 2.0;
    let sd_uniform = (65536f64.powi(2) / 12.0).sqrt();
    assert!((mean - expect_mean).abs() < 5.0 * sd_uniform / (n as f64).sqrt(), "mean {mean}");
    let cov = r.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum::<f64>() / (n - 1) as f64;
    let rho = cov / var;
    println!("2^18 draws: mean {mean:.1} (ideal {expect_mean}), lag-1 correlation {rho:.5}");
    assert!(rho.abs() < 5.0 / (n as f64).sqrt(), "lag-1 correlation {rho}");
}

/// The 32-bit period by brute force: 2^32 - 1 steps back to the seed, never 0. About 10 s in release;
/// run with `cargo test --release --test sparse_lfsr -- --ignored`. The jump-ahead test above is the
/// proof that runs every time.
#[test]
#[ignore]
fn thirty_two_bit_period_by_stepping() {
    let mut l = Lfsr::new32(1).unwrap();
    let mut n = 0u64;
    loop {
        n += 1;
        if l.step() == 1 {
            break;
        }
        assert_ne!(l.state(), 0);
        assert!(n < 1 << 32);
    }
    println!("32-bit period from seed 1: {n}");
    assert_eq!(n, (1u64 << 32) - 1);
}
