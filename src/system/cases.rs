//! Jobs and stimuli for the system top: random convolutions within a design's banks, requantization
//! records that spread results over the int8 range, and the testbench's stream timing (idle gaps on
//! the input, m_axis_tready on the output).

use super::descriptor::{FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU, OP_CONV2D};
use super::layout::{frame, ConvJob, Requant};
use super::{Descriptor, SystemParams};
use crate::model::system::{InBeat, Stimulus};
use crate::rng::SplitMix64;
use ndarray::{Array3, Array4};

/// A convolution's geometry: kernel, stride, dilation and symmetric padding (out size by the usual rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub k: (usize, usize),
    pub stride: (usize, usize),
    pub dil: (usize, usize),
    pub pad: (usize, usize),
}

impl Geometry {
    pub fn out_hw(&self, in_h: usize, in_w: usize) -> (usize, usize) {
        let o = |n: usize, k: usize, s: usize, d: usize, p: usize| {
            (n + 2 * p).checked_sub(d * (k - 1) + 1).map_or(0, |span| span / s + 1)
        };
        (
            o(in_h, self.k.0, self.stride.0, self.dil.0, self.pad.0),
            o(in_w, self.k.1, self.stride.1, self.dil.1, self.pad.1),
        )
    }
}

/// The descriptor of a convolution of x (in_h x in_w x in_c) to out_c channels.
pub fn conv_descriptor(
    x_dim: (usize, usize, usize),
    out_c: usize,
    g: &Geometry,
    flags: u8,
    zp: i8,
) -> Descriptor {
    let (out_h, out_w) = g.out_hw(x_dim.0, x_dim.1);
    Descriptor {
        opcode: OP_CONV2D,
        flags,
        out_zp: zp,
        in_h: x_dim.0 as u16,
        in_w: x_dim.1 as u16,
        in_c: x_dim.2 as u16,
        out_c: out_c as u16,
        out_h: out_h as u16,
        out_w: out_w as u16,
        kh: g.k.0 as u8,
        kw: g.k.1 as u8,
        stride_h: g.stride.0 as u8,
        stride_w: g.stride.1 as u8,
        dil_h: g.dil.0 as u8,
        dil_w: g.dil.1 as u8,
        pad_top: g.pad.0 as u8,
        pad_left: g.pad.1 as u8,
    }
}

/// Records that map dot products of a reduction of `k` int8 products onto the int8 range, with some
/// saturation: mult in [2^14, 2^16), shift so that a typical |acc| (~ 64 * 64 * sqrt(k)) lands near 64.
pub fn random_requant(rng: &mut SplitMix64, out_c: usize, k: usize) -> Vec<Requant> {
    let typical = 64.0 * 64.0 * (k as f64).sqrt();
    (0..out_c)
        .map(|_| {
            let mult = rng.range_i64(1 << 14, (1 << 16) - 1) as u16;
            let shift =
                ((typical * mult as f64 / 64.0).log2().round() as i64 + rng.range_i64(-1, 1)).clamp(0, 63);
            Requant { bias: rng.range_i64(-4096, 4096) as i32, mult, shift: shift as u8 }
        })
        .collect()
}

pub fn random_tensor3(rng: &mut SplitMix64, dim: (usize, usize, usize)) -> Array3<i8> {
    Array3::from_shape_simple_fn(dim, || rng.range_i64(-128, 127) as i8)
}

pub fn random_tensor4(rng: &mut SplitMix64, dim: (usize, usize, usize, usize)) -> Array4<i8> {
    Array4::from_shape_simple_fn(dim, || rng.range_i64(-128, 127) as i8)
}

/// Random weights the system takes: any int8 on a MAC system, -127..=127 on a SAC system (a kneaded
/// weight is sign and 7-bit magnitude).
pub fn random_weights(
    sp: &SystemParams,
    rng: &mut SplitMix64,
    dim: (usize, usize, usize, usize),
) -> Array4<i8> {
    let lo = if sp.sac.is_some() { -127 } else { -128 };
    Array4::from_shape_simple_fn(dim, || rng.range_i64(lo, 127) as i8)
}

/// A random convolution job that fits the design's banks; `reuse` is the (out_c, kernel, in_c) of
/// weights already loaded (the job then reuses them and carries none).
pub fn random_job(sp: &SystemParams, rng: &mut SplitMix64, reuse: Option<&ConvJob>) -> ConvJob {
    loop {
        let (in_c, out_c, g) = match reuse {
            Some(prev) => {
                let d = &prev.desc;
                let g = Geometry {
                    k: (d.kh as usize, d.kw as usize),
                    stride: (rng.range_usize(1, 2), rng.range_usize(1, 2)),
                    dil: (rng.range_usize(1, 2), rng.range_usize(1, 2)),
                    pad: (rng.range_usize(0, 2), rng.range_usize(0, 2)),
                };
                (d.in_c as usize, d.out_c as usize, g)
            }
            None => {
                let k = [1, 1, 2, 3, 3, 5][rng.pick(6)];
                let kw = if rng.pick(4) == 0 { rng.range_usize(1, 3) } else { k };
                let g = Geometry {
                    k: (k, kw),
                    stride: (rng.range_usize(1, 3), rng.range_usize(1, 3)),
                    dil: (rng.range_usize(1, 2), rng.range_usize(1, 2)),
                    pad: (rng.range_usize(0, k), rng.range_usize(0, kw)),
                };
                (rng.range_usize(1, 3 * sp.cols), rng.range_usize(1, 3 * sp.cols), g)
            }
        };
        let in_h = rng.range_usize(1, 12);
        let in_w = rng.range_usize(1, 12);
        let (oh, ow) = g.out_hw(in_h, in_w);
        if oh == 0 || ow == 0 {
            continue;
        }
        let mut flags = if reuse.is_some() { 0 } else { FLAG_LOAD_WEIGHTS };
        if rng.pick(2) == 0 {
            flags |= FLAG_RELU;
        }
        let zp = if rng.pick(3) == 0 { rng.range_i64(-20, 20) as i8 } else { 0 };
        let desc = conv_descriptor((in_h, in_w, in_c), out_c, &g, flags, zp);
        let loaded = reuse.map(|p| {
            let s = p.desc.shape(sp);
            (s.nt, s.kwords)
        });
        if desc.check(sp, loaded).is_err() {
            continue;
        }
        let s = desc.shape(sp);
        let (x, w, requant) = match reuse {
            Some(prev) => (random_tensor3(rng, (in_h, in_w, in_c)), prev.w.clone(), prev.requant.clone()),
            None => (
                random_tensor3(rng, (in_h, in_w, in_c)),
                random_weights(sp, rng, (out_c, g.k.0, g.k.1, in_c)),
                random_requant(rng, out_c, s.k(sp.cols)),
            ),
        };
        return ConvJob { desc, x, w, requant };
    }
}

/// Marks the last job of a run.
pub fn mark_last(jobs: &mut [ConvJob]) {
    if let Some(j) = jobs.last_mut() {
        j.desc.flags |= FLAG_LAST;
    }
}

/// Timing of the testbench's streams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Probability that an input beat is preceded by idle edges (1..=max_gap).
    pub gap_prob: f64,
    pub max_gap: u32,
    /// Probability that m_axis_tready is 0 on an edge.
    pub stall_prob: f64,
}

impl Pacing {
    pub const FULL_SPEED: Pacing = Pacing { gap_prob: 0.0, max_gap: 0, stall_prob: 0.0 };
    pub const RANDOM: Pacing = Pacing { gap_prob: 0.2, max_gap: 4, stall_prob: 0.3 };
}

/// The stimulus of a run of `jobs` (frames back to back, tlast on each frame's last word).
pub fn stimulus(sp: &SystemParams, jobs: &[ConvJob], pacing: Pacing, rng: &mut SplitMix64) -> Stimulus {
    let mut beats = Vec::new();
    for job in jobs {
        let words = frame(sp, job);
        let n = words.len();
        beats.extend(words.into_iter().enumerate().map(|(i, word)| InBeat { word, last: i + 1 == n }));
    }
    let gaps = (0..beats.len())
        .map(|_| {
            if rng.uniform() < pacing.gap_prob {
                rng.range_usize(1, pacing.max_gap as usize) as u32
            } else {
                0
            }
        })
        .collect();
    let out_words: usize = jobs.iter().map(|j| j.desc.shape(sp).out_words).sum();
    let horizon = if pacing.stall_prob > 0.0 { 4 * (beats.len() + out_words) + 1000 } else { 0 };
    let ready = (0..horizon).map(|_| rng.uniform() >= pacing.stall_prob).collect();
    Stimulus { beats, gaps, ready }
}
