//! SplitMix64 (Steele, Lea, Flood 2014): the one seeded generator of the crate, for test vectors,
//! training data and initial weights, and real-weight sampling. The same seed gives the same stream
//! on every machine, without a `rand` dependency; it is not part of any hardware contract (the
//! pruning unit's random draws come from `sparse::lfsr`, which the RTL mirrors).
//!
//! Recorded results depend on these exact streams: change no method's arithmetic, add new ones.

#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The stream of case `index` under `seed`: independent of every other case's, so a case can be
    /// regenerated without generating the ones before it.
    pub fn for_case(seed: u64, index: usize) -> SplitMix64 {
        let mut mixer = SplitMix64::new(seed);
        let base = mixer.next_u64();
        SplitMix64::new(base ^ (index as u64).wrapping_add(1).wrapping_mul(GOLDEN).rotate_left(17))
    }

    /// A generator for a named sub-stream, so that adding draws to one use does not shift another.
    pub fn fork(&mut self, stream: u64) -> SplitMix64 {
        SplitMix64::new(self.next_u64() ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n >= 1), by rejection so there is no modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// An index in 0..n (n >= 1) by plain modulo reduction: one draw, bias below n / 2^64. The
    /// training data uses it; [`below`](Self::below) differs only on a draw that rejection discards.
    pub fn pick(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in lo..=hi.
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi);
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u64::MAX as u128 {
            return self.next_u64() as i64;
        }
        lo.wrapping_add(self.below(span as u64) as i64)
    }

    /// Uniform in lo..=hi.
    pub fn range_usize(&mut self, lo: usize, hi: usize) -> usize {
        self.range_i64(lo as i64, hi as i64) as usize
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box-Muller (cosine branch).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}
