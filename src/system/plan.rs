//! A whole convolution layer on a system top: the jobs a host sends when the layer is larger than a
//! bank. Output rows are split into bands whose input rows (with their halo) fit an activation bank
//! (and rows into segments when one whole row does not fit), and output channels into groups whose
//! weights fit a weight bank; within a group the first band
//! loads the weights and the others reuse them, so each band's activations load while the previous
//! band computes.

use super::cases::{conv_descriptor, Geometry};
use super::descriptor::{FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU};
use super::layout::{ConvJob, Requant};
use super::SystemParams;
use anyhow::{bail, ensure, Result};
use ndarray::{s, Array3, Array4};

/// One job of a plan and where its output goes in the layer's output.
#[derive(Debug, Clone)]
pub struct PlannedJob {
    pub job: ConvJob,
    /// First input row and column of the job's tile (the corner of `job.x`).
    pub iy0: usize,
    pub ix0: usize,
    /// First output row, column and channel of the job's output.
    pub oy0: usize,
    pub ox0: usize,
    pub co0: usize,
}

/// Input rows (or columns) [lo, hi) of output rows [o0, o1) and the padding before lo.
fn input_span(
    o0: usize,
    o1: usize,
    stride: usize,
    k: usize,
    dil: usize,
    pad: usize,
    len: usize,
) -> (usize, usize, usize) {
    let first = (o0 * stride) as i64 - pad as i64;
    let last = ((o1 - 1) * stride + (k - 1) * dil) as i64 - pad as i64 + 1;
    let lo = first.max(0) as usize;
    let hi = (last.min(len as i64).max(lo as i64 + 1) as usize).min(len).max(lo + 1);
    (lo, hi, (lo as i64 - first) as usize)
}

/// The jobs of `x (H x W x Cin) * w (Cout x kh x kw x Cin)` with geometry `g` (symmetric padding).
/// Output tiles of whole rows when a row fits an activation bank, else of row segments.
pub fn plan_layer(
    sp: &SystemParams,
    x: &Array3<i8>,
    w: &Array4<i8>,
    requant: &[Requant],
    g: &Geometry,
    zp: i8,
    relu: bool,
) -> Result<Vec<PlannedJob>> {
    let (h, wd, in_c) = x.dim();
    let (out_c, kh, kw, _) = w.dim();
    let (oh, ow) = g.out_hw(h, wd);
    ensure!(oh > 0 && ow > 0, "the layer has no output pixels");
    let c = sp.cols;
    let cb = in_c.div_ceil(c);
    let kwords = kh * kw * cb;
    let tiles = (sp.weight_words / (kwords * c)).min(sp.param_tiles);
    ensure!(
        tiles > 0,
        "one tile of {c} output channels needs {} weight words, a bank holds {}",
        kwords * c,
        sp.weight_words
    );
    let group = tiles * c;
    let span = |n: usize, s: usize, k: usize, d: usize| (n - 1) * s + (k - 1) * d + 1;
    let words = |rows: usize, cols: usize| {
        cb * span(rows, g.stride.0, kh, g.dil.0).min(h) * span(cols, g.stride.1, kw, g.dil.1).min(wd)
    };
    let Some(max_cols) = (1..=ow).take_while(|&n| words(1, n) <= sp.act_words).last() else {
        bail!("one output pixel needs {} activation words, a bank holds {}", words(1, 1), sp.act_words);
    };
    let cols = ow.div_ceil(ow.div_ceil(max_cols));
    let max_rows = (1..=oh).take_while(|&r| words(r, cols) <= sp.act_words).last().unwrap_or(1);
    let rows = oh.div_ceil(oh.div_ceil(max_rows));
    let flags = if relu { FLAG_RELU } else { 0 };
    let mut jobs = Vec::new();
    for co0 in (0..out_c).step_by(group) {
        let co1 = (co0 + group).min(out_c);
        let wg = w.slice(s![co0..co1, .., .., ..]).to_owned();
        for oy0 in (0..oh).step_by(rows) {
            let oy1 = (oy0 + rows).min(oh);
            let (ylo, yhi, pad_top) = input_span(oy0, oy1, g.stride.0, kh, g.dil.0, g.pad.0, h);
            for ox0 in (0..ow).step_by(cols) {
                let ox1 = (ox0 + cols).min(ow);
                let (xlo, xhi, pad_left) = input_span(ox0, ox1, g.stride.1, kw, g.dil.1, g.pad.1, wd);
                ensure!(
                    pad_top <= 255 && pad_left <= 255,
                    "tile padding {pad_top}, {pad_left} does not fit the descriptor"
                );
                let xb = x.slice(s![ylo..yhi, xlo..xhi, ..]).to_owned();
                let bg = Geometry { pad: (pad_top, pad_left), ..*g };
                let mut desc = conv_descriptor(xb.dim(), co1 - co0, &bg, flags, zp);
                desc.out_h = (oy1 - oy0) as u16;
                desc.out_w = (ox1 - ox0) as u16;
                if oy0 == 0 && ox0 == 0 {
                    desc.flags |= FLAG_LOAD_WEIGHTS;
                }
                jobs.push(PlannedJob {
                    job: ConvJob { desc, x: xb, w: wg.clone(), requant: requant[co0..co1].to_vec() },
                    iy0: ylo,
                    ix0: xlo,
                    oy0,
                    ox0,
                    co0,
                });
            }
        }
    }
    if let Some(last) = jobs.last_mut() {
        last.job.desc.flags |= FLAG_LAST;
    }
    Ok(jobs)
}

/// Puts the jobs' outputs (HWC each, in plan order) together into the layer's output.
pub fn assemble(plan: &[PlannedJob], outputs: &[Array3<i8>], out_c: usize) -> Array3<i8> {
    let (oh, ow) = plan
        .iter()
        .zip(outputs)
        .fold((0, 0), |(h, w), (p, o)| (h.max(p.oy0 + o.dim().0), w.max(p.ox0 + o.dim().1)));
    let mut y = Array3::<i8>::zeros((oh, ow, out_c));
    for (p, o) in plan.iter().zip(outputs) {
        let (bh, bw, bc) = o.dim();
        y.slice_mut(s![p.oy0..p.oy0 + bh, p.ox0..p.ox0 + bw, p.co0..p.co0 + bc]).assign(o);
    }
    y
}
