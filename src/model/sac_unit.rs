//! The split-and-accumulate unit (Tetris): mirrors `templates/sac_unit.v.tera`.
//!
//! Per digit position p a segment register S_p accumulates the activations that the word's slot p
//! names (added, or subtracted for a negative digit). S_p is `acc_bits - p` bits wide and wraps, so
//! that the shift-add tree's `sum_p S_p << p` equals the MAC result modulo 2^acc_bits exactly.
//! On a fold's last word the tree's sum (including that word) goes to `result` and the segments clear.

use super::mac_unit::wrap;
use crate::knead::{KneadedWord, Slot};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SacUnit {
    acc_bits: u32,
    segments: Vec<i64>,
    pub result: i64,
}

impl SacUnit {
    pub fn new(positions: usize, acc_bits: u32) -> SacUnit {
        SacUnit { acc_bits, segments: vec![0; positions], result: 0 }
    }

    fn segment_bits(&self, p: usize) -> u32 {
        self.acc_bits - p as u32
    }

    /// The segments after applying `word` to the group's activations `acts`.
    fn next_segments(&self, word: &KneadedWord, acts: &[i64]) -> Vec<i64> {
        self.segments
            .iter()
            .zip(&word.slots)
            .enumerate()
            .map(|(p, (&s, slot))| match *slot {
                Slot { valid: false, .. } => s,
                Slot { negative, index, .. } => {
                    let a = acts[index as usize];
                    wrap(if negative { s.wrapping_sub(a) } else { s.wrapping_add(a) }, self.segment_bits(p))
                }
            })
            .collect()
    }

    /// The shift-add tree: sum_p (S_p << p) modulo 2^acc_bits.
    fn tree(&self, segments: &[i64]) -> i64 {
        let sum =
            segments.iter().enumerate().fold(0i64, |acc, (p, &s)| acc.wrapping_add(s.wrapping_shl(p as u32)));
        wrap(sum, self.acc_bits)
    }

    /// Consumes one kneaded word; on `fold_end` the fold's result is latched and the segments clear.
    pub fn step(&mut self, word: &KneadedWord, acts: &[i64], fold_end: bool) {
        let next = self.next_segments(word, acts);
        if fold_end {
            self.result = self.tree(&next);
            self.segments.iter_mut().for_each(|s| *s = 0);
        } else {
            self.segments = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knead::{knead_group, Encoding, KneadParams};

    /// The unit over a kneaded group gives the dot product, also when the segments wrap.
    #[test]
    fn kneaded_group_gives_the_dot_product() {
        for encoding in [Encoding::SignMagnitude, Encoding::Csd] {
            let params = KneadParams::new(8, 4, encoding).unwrap();
            let weights = [127, -127, 0, 85];
            let acts = [-128, 127, 5, -77];
            let group = knead_group(&weights, &params).unwrap();
            for acc_bits in [16, 20, 40] {
                let mut unit = SacUnit::new(params.positions(), acc_bits);
                let n = group.words.len();
                for (j, word) in group.words.iter().enumerate() {
                    unit.step(word, &acts, j + 1 == n);
                }
                let exact: i64 = weights.iter().zip(acts).map(|(w, a)| w * a).sum();
                assert_eq!(unit.result, wrap(exact, acc_bits), "{encoding} acc_bits={acc_bits}");
            }
        }
    }
}
