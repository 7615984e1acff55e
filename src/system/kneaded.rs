//! A SAC system's weights: per array column c, the kneaded stream of the output channels nt*C + c
//! (tile by tile), as the column's own scratchpad holds it and as the frame carries it.
//!
//! - Groups: KS = C, so kneading group g of a tile is reduction word ws = g = (ky, kx, cb): the weights
//!   w[nt*C + c][ky][kx][cb*C + i], i = 0..C-1 (0 past out_c or in_c), kneaded by
//!   [`crate::knead::knead_group`] (an all-zero group is one empty word).
//! - A stream word: bits [word_bits-1:0] the packed kneaded word (slot p at p*slot_bits: valid,
//!   negative, index), bit word_bits = group_end (the group's last word), bit word_bits+1 = fold_end
//!   (the last word of the tile's last group); the bits above are 0. One stream word per frame word.
//! - In a frame with LOAD_WEIGHTS, after the records: the directory, two words whose lane c holds
//!   bits 7:0 (word 0) and 15:8 (word 1) of L_c, the number of stream words of column c; then column
//!   0's L_0 words, column 1's, ..., column C-1's.

use super::layout::Word;
use super::{JobShape, SystemParams};
use crate::knead::{knead_group, KneadParams, KneadedWord, Slot};
use crate::model::sac_array::group_beats;
use ndarray::Array4;
use serde::Serialize;

/// Words of the directory that precedes the column streams.
pub const DIRECTORY_WORDS: usize = 2;

/// Bit positions of the stream word format, read off the packing itself (`SlotLayout::pack_slot`,
/// [`SacSystem::flags`]) so that the C header, the manifest and the host library cannot drift from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SacBits {
    /// Within a slot: the valid bit, the negative bit, the index's least significant bit.
    pub slot_valid: u32,
    pub slot_negative: u32,
    pub slot_index_lsb: u32,
    /// Within a stream word.
    pub group_end: u32,
    pub fold_end: u32,
}

/// The weight format of a SAC system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SacSystem {
    pub knead: KneadParams,
    /// Slots of a kneaded word (digit positions).
    pub positions: usize,
    /// Bits of a packed slot: valid, negative, log2(KS) index bits.
    pub slot_bits: u32,
    /// Bits of a packed kneaded word: positions x slot_bits.
    pub word_bits: u32,
    /// Activation groups the array buffers per row.
    pub act_groups: usize,
}

impl SacSystem {
    pub fn new(knead: KneadParams, act_groups: usize) -> SacSystem {
        let layout = knead.layout();
        SacSystem {
            knead,
            positions: layout.positions,
            slot_bits: layout.slot_bits,
            word_bits: layout.word_bits,
            act_groups,
        }
    }

    /// Bits of a column scratchpad word: the kneaded word, group_end, fold_end.
    pub fn stream_word_bits(&self) -> u32 {
        self.word_bits + 2
    }

    fn pack(&self, w: &KneadedWord, group_end: bool, fold_end: bool) -> u64 {
        let word = self.knead.layout().pack_word(w).expect("a kneaded word of this layout") as u64;
        word | (group_end as u64) << self.word_bits | (fold_end as u64) << (self.word_bits + 1)
    }

    /// The format's bit positions.
    pub fn bits(&self) -> SacBits {
        let layout = self.knead.layout();
        let pack = |s: Slot| layout.pack_slot(s).expect("a slot of this layout");
        let valid = pack(Slot { valid: true, negative: false, index: 0 });
        let flag_bit = |which: fn((bool, bool)) -> bool| {
            (0..64).find(|&b| which(self.flags(1u64 << b))).expect("the flag has a bit")
        };
        SacBits {
            slot_valid: valid.trailing_zeros(),
            slot_negative: (pack(Slot { valid: true, negative: true, index: 0 }) ^ valid).trailing_zeros(),
            slot_index_lsb: (pack(Slot { valid: true, negative: false, index: 1 }) ^ valid).trailing_zeros(),
            group_end: flag_bit(|f| f.0),
            fold_end: flag_bit(|f| f.1),
        }
    }

    /// (group_end, fold_end) of a stream word.
    pub fn flags(&self, v: u64) -> (bool, bool) {
        (v >> self.word_bits & 1 == 1, v >> (self.word_bits + 1) & 1 == 1)
    }

    /// The kneaded word of a stream word as the SAC unit reads it: a slot whose valid bit is 0 is
    /// empty whatever its other bits.
    pub fn word(&self, v: u64) -> KneadedWord {
        let mask = (1u64 << self.slot_bits) - 1;
        let slots = (0..self.positions)
            .map(|p| {
                let bits = v >> (p as u32 * self.slot_bits) & mask;
                if bits & 1 == 0 {
                    Slot::EMPTY
                } else {
                    Slot { valid: true, negative: bits & 2 != 0, index: (bits >> 2) as u8 }
                }
            })
            .collect();
        KneadedWord { slots }
    }
}

/// Every column's stream words for the weights `w` (OHWI) of a job of shape `s`.
///
/// # Panics
/// On a weight of -128: a kneaded weight is a sign and a 7-bit magnitude (the host library raises a
/// ValueError naming the entry; `cases::random_weights` draws -127..=127 on SAC systems).
pub fn column_streams(sp: &SystemParams, s: &JobShape, w: &Array4<i8>) -> Vec<Vec<u64>> {
    let sac = sp.sac.as_ref().expect("a SAC system");
    let c_n = sp.cols;
    let (out_c, kh, kw, in_c) = w.dim();
    let weight = |co: usize, ky: usize, kx: usize, ci: usize| {
        if co < out_c && ci < in_c {
            w[(co, ky, kx, ci)] as i64
        } else {
            0
        }
    };
    (0..c_n)
        .map(|c| {
            let mut stream = Vec::new();
            for nt in 0..s.nt {
                let co = nt * c_n + c;
                let groups = kh * kw * s.cb;
                for g in 0..groups {
                    let (ky, kx, cb) = (g / s.cb / kw, g / s.cb % kw, g % s.cb);
                    let weights: Vec<i64> = (0..c_n).map(|i| weight(co, ky, kx, cb * c_n + i)).collect();
                    let words = knead_group(&weights, &sac.knead)
                        .unwrap_or_else(|e| {
                            panic!("SAC weights are -127..=127: output channel {co}, group (ky {ky}, kx {kx}, cb {cb}): {e}")
                        })
                        .words;
                    for b in group_beats(words, sac.positions, g + 1 == groups) {
                        stream.push(sac.pack(&b.word, b.group_end, b.fold_end));
                    }
                }
            }
            stream
        })
        .collect()
}

/// A value as a stream word: little-endian bytes, zeros above.
fn word_of(sp: &SystemParams, v: u64) -> Word {
    (0..sp.word_bytes()).map(|b| if b < 8 { (v >> (8 * b)) as u8 } else { 0 }).collect()
}

/// The directory and the column streams, in frame order.
pub fn weight_frame(sp: &SystemParams, s: &JobShape, w: &Array4<i8>) -> Vec<Word> {
    let streams = column_streams(sp, s, w);
    let lens: Vec<usize> = streams.iter().map(Vec::len).collect();
    assert!(
        lens.iter().all(|&l| l <= 0xffff),
        "column streams of {lens:?} words: the directory holds 16-bit lengths (send fewer output-channel tiles per job)"
    );
    let mut words: Vec<Word> =
        (0..DIRECTORY_WORDS).map(|j| lens.iter().map(|&l| (l >> (8 * j)) as u8).collect()).collect();
    for stream in &streams {
        words.extend(stream.iter().map(|&v| word_of(sp, v)));
    }
    words
}

/// A stream word from a frame word (its low 8 bytes).
pub fn value_of(word: &Word) -> u64 {
    word.iter().take(8).enumerate().fold(0, |acc, (b, &byte)| acc | (byte as u64) << (8 * b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::knead::unknead;

    fn sac_params() -> SystemParams {
        let text = "name = \"s\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"output_stationary\"\n\
                    [pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\nkneading_stride = 4\n\
                    encoding = \"sign_magnitude\"\n[system]\nstream_bits = 32\nact_words = 64\nweight_words = 256\n\
                    param_tiles = 4\nout_words = 16\n";
        SystemParams::of(&Config::parse("s.toml", text).expect("valid")).expect("a system")
    }

    /// Un-kneading every column's groups gives back the weights, tile by tile, and the flags mark each
    /// group's last word and each tile's last.
    #[test]
    fn streams_unknead_to_the_weights() {
        let sp = sac_params();
        let sac = sp.sac.unwrap();
        let (out_c, kh, kw, in_c) = (6, 3, 2, 5);
        let w = Array4::from_shape_fn((out_c, kh, kw, in_c), |(o, y, x, i)| {
            (((o * 37 + y * 11 + x * 5 + i * 3) % 255) as i64 - 127) as i8
        });
        let d = crate::system::Descriptor {
            in_c: in_c as u16,
            out_c: out_c as u16,
            kh: kh as u8,
            kw: kw as u8,
            ..Default::default()
        };
        let s = d.shape(&sp);
        for (c, stream) in column_streams(&sp, &s, &w).iter().enumerate() {
            let mut words = Vec::new();
            let (mut g, mut tile) = (0, 0);
            for &v in stream {
                words.push(sac.word(v));
                let (group_end, fold_end) = sac.flags(v);
                if !group_end {
                    assert!(!fold_end);
                    continue;
                }
                let got = unknead(&crate::knead::KneadedGroup { words: std::mem::take(&mut words), len: 4 })
                    .unwrap();
                let (ky, kx, cb) = (g / s.cb / kw, g / s.cb % kw, g % s.cb);
                let co = tile * 4 + c;
                for (i, &v) in got.iter().enumerate() {
                    let ci = cb * 4 + i;
                    let want = if co < out_c && ci < in_c { w[(co, ky, kx, ci)] as i64 } else { 0 };
                    assert_eq!(v, want, "column {c} tile {tile} group {g} index {i}");
                }
                g += 1;
                assert_eq!(fold_end, g == s.kwords, "fold_end on the tile's last group only");
                if fold_end {
                    (g, tile) = (0, tile + 1);
                }
            }
            assert_eq!(tile, s.nt);
        }
    }
}
