//! Sparsity and kneading figures of a matrix, a layer or a network. Counts add up exactly across
//! layers ([`KneadStats::merge`]); fractions and the speedup are computed from the sums.

use super::group::{knead_layer, knead_matrix, KneadedMatrix};
use super::{KneadError, KneadParams};
use crate::workload::{magnitude_zero_bits, Layer};
use ndarray::ArrayView2;
use serde::Serialize;

/// Counts of one or more kneaded matrices (all at the same `bits`, KS and encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct KneadStats {
    /// Weights (= sum of group lengths).
    pub weights: u64,
    /// Weights equal to 0.
    pub zero_weights: u64,
    /// Sign-magnitude magnitude bits: `weights * (bits - 1)`.
    pub magnitude_bits: u64,
    /// Of those, the zero bits ([`crate::workload::magnitude_zero_bits`]).
    pub magnitude_zero_bits: u64,
    /// Digit positions of the encoding: `weights * digit_positions(bits, encoding)`.
    pub digit_slots: u64,
    /// Nonzero digits of the encoding (= valid slots of the kneaded words).
    pub nonzero_digits: u64,
    /// Groups (KS consecutive weights along K; a column's last may be shorter).
    pub groups: u64,
    /// Groups whose weights are all zero: they take 0 words and count with 0 words in the speedup.
    pub zero_groups: u64,
    /// Kneaded words (= the SAC's ideal cycles).
    pub words: u64,
}

impl KneadStats {
    /// The figures of `m`, the kneaded form of `b` (`K x N`).
    ///
    /// # Panics
    /// If the shapes differ or `b` holds a value outside the `bits` range (`m` could not have been kneaded
    /// from it).
    pub fn measure(b: ArrayView2<i64>, m: &KneadedMatrix) -> Self {
        assert_eq!(b.dim(), (m.k, m.n), "the matrix and its kneaded form differ in shape");
        let weights = b.len() as u64;
        let (zero_bits, mag_bits) = magnitude_zero_bits(b.iter(), m.params.bits);
        let groups = m.columns.iter().flat_map(|c| &c.groups);
        Self {
            weights,
            zero_weights: b.iter().filter(|&&v| v == 0).count() as u64,
            magnitude_bits: mag_bits,
            magnitude_zero_bits: zero_bits,
            digit_slots: weights * m.params.positions() as u64,
            nonzero_digits: groups.clone().flat_map(|g| &g.words).map(|w| w.digits() as u64).sum(),
            groups: groups.clone().count() as u64,
            zero_groups: groups.filter(|g| g.words.is_empty()).count() as u64,
            words: m.words() as u64,
        }
    }

    /// Kneads `b` and measures it.
    pub fn of_matrix(b: ArrayView2<i64>, params: &KneadParams) -> Result<Self, KneadError> {
        let m = knead_matrix(b, params)?;
        Ok(Self::measure(b, &m))
    }

    /// Quantizes a layer per layer ([`crate::workload::quantized_b_matrix`]), kneads and measures it.
    pub fn of_layer(layer: &Layer, params: &KneadParams) -> Result<Self, KneadError> {
        let (b, _, m) = knead_layer(layer, params)?;
        Ok(Self::measure(b.view(), &m))
    }

    /// Adds another matrix's counts (e.g. the layers of a network).
    pub fn merge(&mut self, other: &Self) {
        self.weights += other.weights;
        self.zero_weights += other.zero_weights;
        self.magnitude_bits += other.magnitude_bits;
        self.magnitude_zero_bits += other.magnitude_zero_bits;
        self.digit_slots += other.digit_slots;
        self.nonzero_digits += other.nonzero_digits;
        self.groups += other.groups;
        self.zero_groups += other.zero_groups;
        self.words += other.words;
    }

    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }

    /// Zero weights / weights.
    pub fn zero_value_fraction(&self) -> f64 {
        Self::ratio(self.zero_weights, self.weights)
    }

    /// Sign-magnitude zero-bit fraction: zero magnitude bits / `(weights * (bits - 1))` (data/README.md).
    pub fn zero_bit_fraction(&self) -> f64 {
        Self::ratio(self.magnitude_zero_bits, self.magnitude_bits)
    }

    /// Zero digits of the encoding / `(weights * digit_positions)`. Equals [`Self::zero_bit_fraction`]
    /// for sign-magnitude.
    pub fn zero_digit_fraction(&self) -> f64 {
        Self::ratio(self.digit_slots - self.nonzero_digits, self.digit_slots)
    }

    /// Ideal kneading speedup over a MAC that spends one cycle per weight: sum of group lengths / sum of
    /// group words (data/README.md's definition; all-zero groups count with 0 words). `None` when there
    /// are no words at all (an all-zero matrix: nothing to compute).
    pub fn ideal_speedup(&self) -> Option<f64> {
        (self.words > 0).then(|| self.weights as f64 / self.words as f64)
    }

    /// The counts plus the derived figures, for `report.json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("plain counts serialize");
        let o = v.as_object_mut().expect("a struct serializes to an object");
        o.insert("zero_value_fraction".into(), self.zero_value_fraction().into());
        o.insert("zero_bit_fraction".into(), self.zero_bit_fraction().into());
        o.insert("zero_digit_fraction".into(), self.zero_digit_fraction().into());
        o.insert("ideal_speedup".into(), self.ideal_speedup().into());
        v
    }
}
