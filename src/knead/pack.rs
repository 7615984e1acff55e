//! Bit-packing of slots and words, and the packed stream of a kneaded matrix (layout in the module docs).

use super::group::{KneadedColumn, KneadedGroup, KneadedMatrix, KneadedWord, Slot};
use super::{KneadError, KneadParams};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::Serialize;

/// The packed layout of a slot and a word: slot `p` at bits `p*slot_bits ..`, within a slot bit 0 = valid,
/// bit 1 = negative, bits `2 .. 2+index_bits` = index (LSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SlotLayout {
    /// `ceil(log2 KS)`: 0 for KS = 1, 4 for KS = 16, 6 for KS = 64.
    pub index_bits: u32,
    /// `2 + index_bits`.
    pub slot_bits: u32,
    /// Slots per word: `digit_positions(bits, encoding)`.
    pub positions: usize,
    /// `positions * slot_bits` (at most 128).
    pub word_bits: u32,
    /// 64-bit lanes per word in `words.npy`: `ceil(word_bits / 64)` (at least 1).
    pub lanes: usize,
}

impl SlotLayout {
    /// # Panics
    /// If `ks` is not in `1..=64` or the word would exceed 128 bits.
    pub fn new(ks: usize, positions: usize) -> Self {
        assert!((1..=super::MAX_KS).contains(&ks), "ks = {ks}: must be 1..=64");
        let index_bits = (ks as u64).next_power_of_two().trailing_zeros();
        let slot_bits = 2 + index_bits;
        let word_bits = positions as u32 * slot_bits;
        assert!(word_bits <= 128, "a kneaded word of {word_bits} bits does not fit 128");
        Self { index_bits, slot_bits, positions, word_bits, lanes: (word_bits as usize).div_ceil(64).max(1) }
    }

    /// Packs a slot into its `slot_bits`. Fails if the index does not fit `index_bits`.
    pub fn pack_slot(&self, s: Slot) -> Result<u32, KneadError> {
        if !s.valid {
            if s.negative || s.index != 0 {
                return Err(KneadError::BadStream("empty slot with sign or index set".into()));
            }
            return Ok(0);
        }
        if u32::from(s.index) >> self.index_bits != 0 {
            return Err(KneadError::BadStream(format!(
                "index {} does not fit {} bits",
                s.index, self.index_bits
            )));
        }
        Ok(1 | (u32::from(s.negative) << 1) | (u32::from(s.index) << 2))
    }

    /// Unpacks a slot from the low `slot_bits` of `bits`. An empty slot must be all zeros.
    pub fn unpack_slot(&self, bits: u32) -> Result<Slot, KneadError> {
        let bits = bits & ((1u32 << self.slot_bits) - 1);
        let s = Slot { valid: bits & 1 != 0, negative: bits & 2 != 0, index: (bits >> 2) as u8 };
        if !s.valid && bits != 0 {
            return Err(KneadError::BadStream(format!("empty slot with sign or index set ({bits:#x})")));
        }
        Ok(s)
    }

    /// Packs a word (slot 0 in the low bits). Fails if the word does not have `positions` slots.
    pub fn pack_word(&self, w: &KneadedWord) -> Result<u128, KneadError> {
        if w.slots.len() != self.positions {
            return Err(KneadError::BadStream(format!(
                "word of {} slots, the layout has {}",
                w.slots.len(),
                self.positions
            )));
        }
        let mut out = 0u128;
        for (p, &s) in w.slots.iter().enumerate() {
            out |= u128::from(self.pack_slot(s)?) << (p as u32 * self.slot_bits);
        }
        Ok(out)
    }

    /// Unpacks a word. Fails on a bit set above `word_bits` or a non-canonical empty slot.
    pub fn unpack_word(&self, bits: u128) -> Result<KneadedWord, KneadError> {
        if self.word_bits < 128 && bits >> self.word_bits != 0 {
            return Err(KneadError::BadStream(format!("bits set above the {}-bit word", self.word_bits)));
        }
        let mask = (1u128 << self.slot_bits) - 1;
        let slots = (0..self.positions)
            .map(|p| self.unpack_slot(((bits >> (p as u32 * self.slot_bits)) & mask) as u32))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KneadedWord { slots })
    }
}

/// A kneaded matrix as the hardware stream: packed words column by column, group by group, and the
/// CSR-style index `group_offsets` (length `N * G + 1`, `G = ceil(K/KS)`): group `g` of column `n` is
/// `words[group_offsets[n*G + g] .. group_offsets[n*G + g + 1]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KneadedStream {
    pub params: KneadParams,
    pub k: usize,
    pub n: usize,
    pub words: Vec<u128>,
    pub group_offsets: Vec<u64>,
}

impl KneadedStream {
    pub fn layout(&self) -> SlotLayout {
        self.params.layout()
    }

    pub fn from_matrix(m: &KneadedMatrix) -> Result<Self, KneadError> {
        let layout = m.params.layout();
        let mut words = Vec::with_capacity(m.words());
        let mut group_offsets = vec![0u64];
        for col in &m.columns {
            for g in &col.groups {
                for w in &g.words {
                    words.push(layout.pack_word(w)?);
                }
                group_offsets.push(words.len() as u64);
            }
        }
        Ok(Self { params: m.params, k: m.k, n: m.n, words, group_offsets })
    }

    /// Unpacks the stream into a kneaded matrix. Fails on an inconsistent index or a malformed word.
    pub fn decode(&self) -> Result<KneadedMatrix, KneadError> {
        let layout = self.layout();
        let ks = self.params.ks;
        let g_n = self.k.div_ceil(ks);
        let off = &self.group_offsets;
        if off.len() != self.n * g_n + 1 || off[0] != 0 || off[off.len() - 1] != self.words.len() as u64 {
            return Err(KneadError::BadStream(format!(
                "group_offsets: {} entries from {:?} to {:?}, expected N*G+1 = {} from 0 to {}",
                off.len(),
                off.first(),
                off.last(),
                self.n * g_n + 1,
                self.words.len()
            )));
        }
        let mut columns = Vec::with_capacity(self.n);
        for n in 0..self.n {
            let mut groups = Vec::with_capacity(g_n);
            for g in 0..g_n {
                let (a, b) = (off[n * g_n + g], off[n * g_n + g + 1]);
                let len = ks.min(self.k - g * ks);
                if b < a || b - a > len as u64 {
                    return Err(KneadError::BadStream(format!(
                        "column {n} group {g}: offsets {a}..{b} (a group of {len} takes at most {len} words)"
                    )));
                }
                let words = self.words[a as usize..b as usize]
                    .iter()
                    .enumerate()
                    .map(|(j, &w)| {
                        layout
                            .unpack_word(w)
                            .map_err(|e| KneadError::BadStream(format!("column {n} group {g} word {j}: {e}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                groups.push(KneadedGroup { words, len });
            }
            columns.push(KneadedColumn { groups });
        }
        Ok(KneadedMatrix { params: self.params, k: self.k, n: self.n, columns })
    }

    /// `words.npy`: `(total_words, lanes)` uint64, lane 0 = bits 0..63.
    pub fn words_array(&self) -> Array2<u64> {
        let lanes = self.layout().lanes;
        Array2::from_shape_fn((self.words.len(), lanes), |(r, l)| (self.words[r] >> (64 * l)) as u64)
    }

    /// `group_offsets.npy`: `(N*G + 1,)` uint64.
    pub fn offsets_array(&self) -> Array1<u64> {
        Array1::from(self.group_offsets.clone())
    }

    /// Rebuilds a stream from the two arrays of [`Self::words_array`] and [`Self::offsets_array`].
    pub fn from_arrays(
        params: KneadParams,
        k: usize,
        n: usize,
        words: ArrayView2<u64>,
        group_offsets: ArrayView1<u64>,
    ) -> Result<Self, KneadError> {
        let lanes = params.layout().lanes;
        if words.ncols() != lanes {
            return Err(KneadError::BadStream(format!(
                "words has {} lanes, the layout needs {lanes}",
                words.ncols()
            )));
        }
        let words = words
            .rows()
            .into_iter()
            .map(|r| r.iter().enumerate().fold(0u128, |acc, (l, &v)| acc | (u128::from(v) << (64 * l))))
            .collect();
        Ok(Self { params, k, n, words, group_offsets: group_offsets.to_vec() })
    }
}

/// The stream checker: decodes `stream`, un-kneads every group and compares with the quantized matrix
/// `expected` (`K x N`). Fails with the first differing entry, or with the decode error.
pub fn check_stream(stream: &KneadedStream, expected: ArrayView2<i64>) -> Result<(), KneadError> {
    if expected.dim() != (stream.k, stream.n) {
        return Err(KneadError::BadStream(format!(
            "stream is {} x {}, expected matrix {:?}",
            stream.k,
            stream.n,
            expected.dim()
        )));
    }
    let got = stream.decode()?.unknead()?;
    match got.indexed_iter().find(|&(ix, &v)| v != expected[ix]) {
        None => Ok(()),
        Some(((r, c), &v)) => {
            Err(KneadError::BadStream(format!("B[{r}, {c}] un-kneads to {v}, expected {}", expected[(r, c)])))
        }
    }
}
