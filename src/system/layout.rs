//! Tensors <-> stream words: how a job's frame is laid out and how results come back. A word is
//! C bytes, byte c in tdata bits [8c+7:8c] (lane c). Shared by the model, the verifier and (as a
//! generated copy) the Python host library.
//!
//! - Activations, HWC int8 `x[iy][ix][ci]`: word `cb * in_h * in_w + iy * in_w + ix`, lane c =
//!   channel cb*C + c (0 past in_c). Blocks of C channels, each a whole plane (the output layout).
//! - Weights, OHWI int8 `w[co][ky][kx][ci]`: word `nt * K + k`, k = ((ky * kw + kx) * CB + cb) * C + i,
//!   lane c = w[nt*C + c][ky][kx][cb*C + i] (0 past out_c or in_c). SAC systems carry a directory and
//!   per-column kneaded streams instead (`super::kneaded`).
//! - Requantization records: word `nt * 8 + j`, lane c = byte j of the little-endian 64-bit record
//!   of channel nt*C + c: bits 31:0 bias (int32), 47:32 multiplier (uint16), 53:48 shift (0..63).
//! - Outputs, HWC int8 `y[oy][ox][co]`: word `nt * out_h * out_w + oy * out_w + ox`, lane c = channel
//!   nt*C + c; lanes past out_c carry the requantization of a zero record (the zero point, clamped).

use super::{Descriptor, JobShape, SystemParams, PARAM_WORDS_PER_TILE};
use ndarray::{Array3, Array4};

/// One stream word: lane c (byte c) is channel c of its block.
pub type Word = Vec<u8>;

/// Per-output-channel requantization: y = sat(relu(round((acc + bias) * mult / 2^shift) + zp)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requant {
    pub bias: i32,
    pub mult: u16,
    /// 0..=63.
    pub shift: u8,
}

impl Requant {
    pub fn record(&self) -> u64 {
        (self.bias as u32 as u64) | ((self.mult as u64) << 32) | (((self.shift & 63) as u64) << 48)
    }
}

/// A job: descriptor and the tensors its frame carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvJob {
    pub desc: Descriptor,
    /// HWC, in_h x in_w x in_c.
    pub x: Array3<i8>,
    /// OHWI, out_c x kh x kw x in_c (unused when the job reuses loaded weights).
    pub w: Array4<i8>,
    /// One per output channel.
    pub requant: Vec<Requant>,
}

/// The words of the descriptor.
pub fn descriptor_words(sp: &SystemParams, d: &Descriptor) -> Vec<Word> {
    d.to_bytes().chunks(sp.word_bytes()).map(|c| c.to_vec()).collect()
}

/// Requantization records of every tile, PARAM_WORDS_PER_TILE words per tile.
pub fn param_words(sp: &SystemParams, s: &JobShape, rq: &[Requant]) -> Vec<Word> {
    let c = sp.cols;
    let mut words = Vec::with_capacity(s.param_words);
    for nt in 0..s.nt {
        for j in 0..PARAM_WORDS_PER_TILE {
            words.push(
                (0..c).map(|l| rq.get(nt * c + l).map_or(0, |r| (r.record() >> (8 * j)) as u8)).collect(),
            );
        }
    }
    words
}

/// Weight words in scratchpad order (tile, then reduction index).
pub fn weight_words(sp: &SystemParams, s: &JobShape, w: &Array4<i8>) -> Vec<Word> {
    let c = sp.cols;
    let (out_c, kh, kw, in_c) = w.dim();
    let mut words = Vec::with_capacity(s.weight_words);
    for nt in 0..s.nt {
        for ky in 0..kh {
            for kx in 0..kw {
                for cb in 0..s.cb {
                    for i in 0..c {
                        let ci = cb * c + i;
                        words.push(
                            (0..c)
                                .map(|l| {
                                    let co = nt * c + l;
                                    if co < out_c && ci < in_c {
                                        w[(co, ky, kx, ci)] as u8
                                    } else {
                                        0
                                    }
                                })
                                .collect(),
                        );
                    }
                }
            }
        }
    }
    words
}

/// Activation words in scratchpad order (channel block, row, column).
pub fn act_words(sp: &SystemParams, s: &JobShape, x: &Array3<i8>) -> Vec<Word> {
    let c = sp.cols;
    let (h, w, in_c) = x.dim();
    let mut words = Vec::with_capacity(s.act_words);
    for cb in 0..s.cb {
        for iy in 0..h {
            for ix in 0..w {
                words.push(
                    (0..c)
                        .map(|l| if cb * c + l < in_c { x[(iy, ix, cb * c + l)] as u8 } else { 0 })
                        .collect(),
                );
            }
        }
    }
    words
}

/// The whole input frame of a job, in stream order.
pub fn frame(sp: &SystemParams, job: &ConvJob) -> Vec<Word> {
    let s = job.desc.shape(sp);
    let mut words = descriptor_words(sp, &job.desc);
    if job.desc.load_weights() {
        words.extend(param_words(sp, &s, &job.requant));
        if sp.sac.is_some() {
            words.extend(super::kneaded::weight_frame(sp, &s, &job.w));
        } else {
            words.extend(weight_words(sp, &s, &job.w));
        }
    }
    words.extend(act_words(sp, &s, &job.x));
    words
}

/// Output words back to HWC (out_h x out_w x out_c).
pub fn unpack_output(sp: &SystemParams, d: &Descriptor, words: &[Word]) -> Array3<i8> {
    let (oh, ow, oc) = (d.out_h as usize, d.out_w as usize, d.out_c as usize);
    let c = sp.cols;
    Array3::from_shape_fn((oh, ow, oc), |(oy, ox, co)| words[(co / c) * oh * ow + oy * ow + ox][co % c] as i8)
}
