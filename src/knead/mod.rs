//! Weight kneading (Tetris, MICRO'18) and its signed-digit extension: the compiler that turns quantized
//! weights into the kneaded-word streams a split-and-accumulate (SAC) array consumes.
//!
//! # Pipeline
//!
//! ```text
//! float weights --quantize_symmetric--> integers w, |w| <= 2^(bits-1)-1
//!   --digits(w, encoding)--> signed power-of-two digits (position p, sign)
//!   --group KS weights along K--> per position p, a column of (activation index, sign) entries
//!   --knead--> kneaded words: word j holds, in slot p, the j-th entry of position p's column
//!   --pack--> one integer per word (slot 0 in the low bits), a stream with a group-offset index
//! ```
//!
//! # Encodings ([`Encoding`])
//! - **Sign-magnitude** (Tetris): the digits are the 1-bits of `|w|` at positions `0..bits-1`
//!   (`bits - 1` magnitude bits), each carrying the weight's sign.
//! - **CSD** (canonical signed digit, the non-adjacent form of `w`): digits in {-1, +1} at positions
//!   `0..digit_positions(bits, Csd)`, no two adjacent positions nonzero, each digit with its own sign.
//!   NAF needs one position more than the magnitude: `digit_positions(bits, Csd) = bits` for `bits >= 3`
//!   (`2^(bits-1) - 1 = 2^(bits-1) - 2^0`), and 1 for `bits = 2`. The hardware is the same: every slot
//!   already carries a sign.
//!
//! # Groups and words ([`KneadedGroup`])
//! A group is KS consecutive weights of one B-matrix column along the reduction axis K: group `g` of
//! column `n` holds `B[g*KS .. min((g+1)*KS, K), n]`. The last group of a column is shorter when KS does
//! not divide K (`len = K - g*KS`); its slots only ever name indices `< len`, and the hardware must not
//! feed activations past the end of K into it (or may feed zeros: no slot names them).
//! A group takes `max_p (number of digits at position p)` words, which is never more than its length.
//! **An all-zero group takes 0 words**: it contributes nothing to any segment register, so the SAC skips
//! it (its entry in the group-offset index has `offsets[i+1] == offsets[i]`). One all-invalid word would
//! spend a cycle for nothing and would make the kneaded cost differ from the Tetris figure
//! (`max_p popcount`), which is 0 for such a group.
//!
//! # Packed slot and word (bit layout, [`SlotLayout`])
//! `index_bits = ceil(log2 KS)` (0 for KS = 1); a slot is `slot_bits = 2 + index_bits` wide:
//!
//! ```text
//! slot:  [ index (index_bits) | negative (1) | valid (1) ]     bit 0 = valid, bit 1 = negative,
//!                                                               bits 2.. = index (LSB first)
//! word:  [ slot P-1 | ... | slot 1 | slot 0 ]                   slot p at bits p*slot_bits ..
//! ```
//!
//! with `P = digit_positions(bits, encoding)` slots, so a word is `P * slot_bits <= 16 * 8 = 128` bits
//! (bits <= 16, KS <= 64), held in a `u128`. An empty slot packs to all zeros; an unpacker rejects an
//! invalid slot with a nonzero sign or index, and any bit set above `word_bits`.
//!
//! # Stream files (`accelc knead`, [`KneadedStream`])
//! Written into the output folder (default `rtl_out/knead/<stem>/`):
//! - `words.npy`: `uint64`, shape `(total_words, lanes)`, `lanes = ceil(word_bits / 64)`; row `r` is packed
//!   word `r`, lane 0 holding bits 0..63, lane 1 bits 64..127. Words are ordered column by column
//!   (n = 0..N), within a column group by group along K, within a group word by word (j = 0..).
//! - `group_offsets.npy`: `uint64`, shape `(N * G + 1,)`, `G = ceil(K / KS)` groups per column: the words
//!   of group `g` of column `n` are rows `offsets[n*G + g] .. offsets[n*G + g + 1]` (CSR style;
//!   `offsets[0] = 0`, `offsets[N*G] = total_words`). Column `n`'s words start at `offsets[n*G]`.
//! - `weights_q.npy`: `int64`, `K x N`: the quantized B matrix the stream encodes (the check's oracle).
//! - `report.json`: `format_version`, the source, shape, K, N, bits, KS, encoding, scale, the slot layout,
//!   the figures of [`KneadStats`], and per-column word counts.
//!
//! A consumer checks a stream with [`KneadedStream::decode`] + [`KneadedMatrix::unknead`] against
//! `weights_q.npy` ([`check_stream`]); every single-bit corruption of `words.npy` is caught (tested).

mod cli;
mod encoding;
mod group;
mod pack;
mod stats;

pub use cli::{main, read_weights, run, KneadArgs, KneadOutput, DEFAULT_OUT_ROOT};
pub use encoding::{digit_positions, digits, Digit, Encoding};
pub use group::{
    knead_group, knead_layer, knead_matrix, unknead, KneadedColumn, KneadedGroup, KneadedMatrix, KneadedWord,
    Slot,
};
pub use pack::{check_stream, KneadedStream, SlotLayout};
pub use stats::KneadStats;

/// Largest kneading stride: indices are at most 6 bits, so a slot fits a byte.
pub const MAX_KS: usize = 64;
/// Weight widths the kneading compiler takes: 2..=16 (a packed word then fits 128 bits).
pub const BITS_RANGE: std::ops::RangeInclusive<u32> = 2..=16;

/// What a kneaded stream is built for: weight width, kneading stride and digit encoding.
/// Construct with [`KneadParams::new`], which checks the ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct KneadParams {
    /// Quantized weight width (sign included): weights satisfy `|w| <= 2^(bits-1) - 1`.
    pub bits: u32,
    /// Kneading stride KS: weights per group along the reduction axis, `1..=64`.
    pub ks: usize,
    pub encoding: Encoding,
}

impl KneadParams {
    pub fn new(bits: u32, ks: usize, encoding: Encoding) -> Result<Self, KneadError> {
        if !BITS_RANGE.contains(&bits) {
            return Err(KneadError::BadBits { bits });
        }
        if !(1..=MAX_KS).contains(&ks) {
            return Err(KneadError::BadKs { ks });
        }
        Ok(Self { bits, ks, encoding })
    }

    /// The largest magnitude a weight may have: `2^(bits-1) - 1`.
    pub fn qmax(&self) -> i64 {
        crate::bits::signed_range(self.bits).1
    }

    /// Slots per kneaded word: [`digit_positions`]`(bits, encoding)`.
    pub fn positions(&self) -> usize {
        digit_positions(self.bits, self.encoding)
    }

    /// The packed slot/word layout for these parameters.
    pub fn layout(&self) -> SlotLayout {
        SlotLayout::new(self.ks, self.positions())
    }
}

/// Errors of the kneading compiler. Parameter errors are bad input (`accelc knead` exits 2); stream
/// errors mean a corrupted or foreign stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KneadError {
    #[error("bits = {bits}: must be between 2 and 16")]
    BadBits { bits: u32 },
    #[error("ks = {ks}: the kneading stride must be between 1 and 64")]
    BadKs { ks: usize },
    #[error("weight {value} at {at}: does not fit {bits}-bit sign-magnitude (|w| <= {qmax})")]
    WeightOutOfRange { value: i64, bits: u32, qmax: i64, at: String },
    #[error("corrupt kneaded stream: {0}")]
    BadStream(String),
}
