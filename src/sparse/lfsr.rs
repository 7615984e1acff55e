//! The Galois LFSR that both the model and an RTL pruning unit step (definition in the module docs of
//! [`crate::sparse`]): right-shifting, toggle mask with bit `t - 1` set per tap `t`.

use super::SparseError;

/// Taps of `x^32 + x^22 + x^2 + x + 1` (Xilinx XAPP052, maximal length): mask `0x8020_0003`.
pub const LFSR32_TAPS: [u32; 4] = [32, 22, 2, 1];
/// Taps of `x^16 + x^15 + x^13 + x^4 + 1` (Xilinx XAPP052, maximal length): mask `0xD008`.
pub const LFSR16_TAPS: [u32; 4] = [16, 15, 13, 4];

/// A Galois LFSR of width `2..=32`. The state is never 0 (seed 0 is rejected; a nonzero state maps to
/// a nonzero state because the step is an invertible linear map whenever the top tap is present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lfsr {
    width: u32,
    mask: u32,
    state: u32,
}

impl Lfsr {
    /// An LFSR of `width` bits with the given taps (each in `1..=width`, `width` among them) and a seed
    /// (only its low `width` bits are used; they must not all be 0).
    pub fn new(width: u32, taps: &[u32], seed: u32) -> Result<Self, SparseError> {
        if !(2..=32).contains(&width) || !taps.contains(&width) || taps.iter().any(|&t| t == 0 || t > width) {
            return Err(SparseError::BadTaps { width, taps: taps.to_vec() });
        }
        let mask = taps.iter().fold(0u32, |m, &t| m | 1u32 << (t - 1));
        let state = seed & Self::width_mask(width);
        if state == 0 {
            return Err(SparseError::ZeroSeed { width });
        }
        Ok(Self { width, mask, state })
    }

    /// The 32-bit LFSR used for pruning ([`LFSR32_TAPS`]).
    pub fn new32(seed: u32) -> Result<Self, SparseError> {
        Self::new(32, &LFSR32_TAPS, seed)
    }

    fn width_mask(width: u32) -> u32 {
        if width == 32 {
            u32::MAX
        } else {
            (1u32 << width) - 1
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    /// The toggle mask (bit `t - 1` set for each tap `t`).
    pub fn mask(&self) -> u32 {
        self.mask
    }

    pub fn state(&self) -> u32 {
        self.state
    }

    /// The pure step function: `(s >> 1) ^ (s & 1 ? mask : 0)`.
    pub fn next_state(state: u32, mask: u32) -> u32 {
        (state >> 1) ^ (mask & (state & 1).wrapping_neg())
    }

    /// One step; returns the new state.
    pub fn step(&mut self) -> u32 {
        self.state = Self::next_state(self.state, self.mask);
        self.state
    }

    /// `n` steps one at a time; returns the new state.
    pub fn advance(&mut self, n: u64) -> u32 {
        for _ in 0..n {
            self.step();
        }
        self.state
    }

    /// One draw of `b` bits (`1..=width`): `b` steps, then the low `b` bits of the state.
    pub fn draw(&mut self, b: u32) -> u32 {
        self.advance(u64::from(b));
        self.state & Self::width_mask(b)
    }

    /// The step as a GF(2) matrix: column `j` is the image of the state with only bit `j` set.
    fn step_matrix(&self) -> Vec<u32> {
        (0..self.width).map(|j| Self::next_state(1 << j, self.mask)).collect()
    }

    fn apply(m: &[u32], x: u32) -> u32 {
        m.iter().enumerate().filter(|(j, _)| x >> j & 1 != 0).fold(0, |acc, (_, &c)| acc ^ c)
    }

    /// `a ∘ b` (apply `b` first).
    fn compose(a: &[u32], b: &[u32]) -> Vec<u32> {
        b.iter().map(|&c| Self::apply(a, c)).collect()
    }

    /// The state after `n` more steps, computed by squaring the step matrix (`O(width^2 log n)`):
    /// equal to `n` calls of [`Lfsr::step`] (tested).
    pub fn jump(&mut self, mut n: u64) -> u32 {
        let mut power = self.step_matrix();
        let mut x = self.state;
        while n > 0 {
            if n & 1 == 1 {
                x = Self::apply(&power, x);
            }
            power = Self::compose(&power, &power);
            n >>= 1;
        }
        self.state = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_documented_constants() {
        assert_eq!(Lfsr::new32(1).unwrap().mask(), 0x8020_0003);
        assert_eq!(Lfsr::new(16, &LFSR16_TAPS, 1).unwrap().mask(), 0xD008);
        assert!(matches!(Lfsr::new32(0), Err(SparseError::ZeroSeed { width: 32 })));
        assert!(matches!(Lfsr::new(16, &LFSR16_TAPS, 0x1_0000), Err(SparseError::ZeroSeed { .. })));
        assert!(Lfsr::new(16, &[15, 13], 1).is_err());
        assert!(Lfsr::new(16, &[17, 16], 1).is_err());
    }

    /// The first states from seed 1, by hand: 1 -> mask (bit 0 was 1) -> mask >> 1 ^ mask (bit 0 of
    /// 0x80200003 is 1) ...
    #[test]
    fn first_steps_by_hand() {
        let mut l = Lfsr::new32(1).unwrap();
        assert_eq!(l.step(), 0x8020_0003);
        assert_eq!(l.step(), 0x4010_0001 ^ 0x8020_0003);
        assert_eq!(l.state(), 0xC030_0002);
        assert_eq!(l.step(), 0x6018_0001);
    }

    #[test]
    fn jump_equals_stepping() {
        for n in [0u64, 1, 2, 3, 16, 17, 100, 1000, 4097] {
            let mut a = Lfsr::new32(0xDEAD_BEEF).unwrap();
            let mut b = a.clone();
            a.advance(n);
            b.jump(n);
            assert_eq!(a, b, "n = {n}");
        }
    }
}
