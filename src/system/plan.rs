//! A whole convolution layer on a system top: the jobs a host sends when the layer is larger than a
//! bank. Output rows are split into bands whose input rows (with their halo) fit an activation bank,
//! and output channels into groups whose weights fit a weight bank; within a group the first band
//! loads the weights and the others reuse them, so each band's activations load while the previous
//! band computes.

use super::cases::{conv_descriptor, Geometry};
use super::descriptor::{FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU};
use super::layout::{ConvJob, Requant};
use super::SystemParams;
use anyhow::{ensure, Result};
use ndarray::{s, Array3, Array4};

/// One job of a plan and where its output goes in the layer's output.
#[derive(Debug, Clone)]
pub struct PlannedJob {
    pub job: ConvJob,
    /// First input row of the job's band (the rows of `job.x`).
    pub iy0: usize,
    /// First output row and first output channel of the job's output.
    pub oy0: usize,
    pub co0: usize,
}

/// The jobs of `x (H x W x Cin) * w (Cout x kh x kw x Cin)` with geometry `g` (symmetric padding).
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
    let in_rows = |rows: usize| (rows - 1) * g.stride.0 + (kh - 1) * g.dil.0 + 1;
    let fits = |rows: usize| cb * in_rows(rows).min(h + 2 * g.pad.0) * wd <= sp.act_words;
    ensure!(
        fits(1),
        "one output row needs {} activation words, a bank holds {}",
        cb * in_rows(1).min(h) * wd,
        sp.act_words
    );
    let max_rows = (1..=oh).take_while(|&r| fits(r)).last().unwrap_or(1);
    let bands = oh.div_ceil(max_rows);
    let rows = oh.div_ceil(bands);
    let flags = if relu { FLAG_RELU } else { 0 };
    let mut jobs = Vec::new();
    for co0 in (0..out_c).step_by(group) {
        let co1 = (co0 + group).min(out_c);
        let wg = w.slice(s![co0..co1, .., .., ..]).to_owned();
        for (b, oy0) in (0..oh).step_by(rows).enumerate() {
            let oy1 = (oy0 + rows).min(oh);
            let top = (oy0 * g.stride.0) as i64 - g.pad.0 as i64;
            let bottom = ((oy1 - 1) * g.stride.0 + (kh - 1) * g.dil.0) as i64 - g.pad.0 as i64 + 1;
            let (lo, hi) = (top.max(0) as usize, (bottom.min(h as i64)).max(top.max(0) + 1) as usize);
            let hi = hi.min(h).max(lo + 1);
            let pad_top = (lo as i64 - top) as usize;
            ensure!(pad_top <= 255, "band padding {pad_top} does not fit the descriptor");
            let xb = x.slice(s![lo..hi, .., ..]).to_owned();
            let bg = Geometry { pad: (pad_top, g.pad.1), ..*g };
            let mut desc = conv_descriptor(xb.dim(), co1 - co0, &bg, flags, zp);
            desc.out_h = (oy1 - oy0) as u16;
            desc.out_w = ow as u16;
            if b == 0 {
                desc.flags |= FLAG_LOAD_WEIGHTS;
            }
            jobs.push(PlannedJob {
                job: ConvJob { desc, x: xb, w: wg.clone(), requant: requant[co0..co1].to_vec() },
                iy0: lo,
                oy0,
                co0,
            });
        }
    }
    if let Some(last) = jobs.last_mut() {
        last.job.desc.flags |= FLAG_LAST;
    }
    Ok(jobs)
}

/// Puts the jobs' outputs (HWC each, in plan order) together into the layer's output.
pub fn assemble(plan: &[PlannedJob], outputs: &[Array3<i8>], out_c: usize) -> Array3<i8> {
    let (oh, ow) =
        plan.iter().zip(outputs).fold((0, 0), |(h, w), (p, o)| (h.max(p.oy0 + o.dim().0), w.max(o.dim().1)));
    let mut y = Array3::<i8>::zeros((oh, ow, out_c));
    for (p, o) in plan.iter().zip(outputs) {
        let (bh, bw, bc) = o.dim();
        y.slice_mut(s![p.oy0..p.oy0 + bh, 0..bw, p.co0..p.co0 + bc]).assign(o);
    }
    y
}
