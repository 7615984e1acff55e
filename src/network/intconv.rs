//! A whole accelerator layer as one fast integer convolution: what `accelc run --fast` computes
//! instead of planning jobs and running them. Same arithmetic as the system top (exact int8 dot
//! products, then its output stage's requantization), laid out for speed: HWC input, OHWI weights,
//! each (output pixel, kernel tap) a dot product of two contiguous channel slices in i32, output rows
//! split across the machine's cores. Checked against `system::reference` (nested loops, one job at a
//! time) in the tests below and against the cycle model in `tests/network.rs`.

use crate::system::cases::Geometry;
use crate::system::layout::Requant;
use crate::system::reference::requantize;
use ndarray::{Array3, Array4, ArrayView3};

/// Channels a dot product may span before its i32 sum could overflow (127 x 128 per term).
const I32_TERMS: usize = (i32::MAX as usize) / (128 * 128);

/// The layer's int8 output (out_h x out_w x out_c) for the HWC input `x`, OHWI weights `w`, one
/// requantization record per output channel, output zero point `zp` and the ReLU clamp if `relu`.
pub fn conv_layer(
    x: ArrayView3<i8>,
    w: &Array4<i8>,
    requant: &[Requant],
    g: &Geometry,
    zp: i8,
    relu: bool,
) -> Array3<i8> {
    let (in_h, in_w, in_c) = x.dim();
    let (out_c, kh, kw, wc) = w.dim();
    assert_eq!(wc, in_c, "weights of {wc} input channels for an input of {in_c}");
    assert_eq!(requant.len(), out_c, "one requantization record per output channel");
    assert!(in_c <= I32_TERMS, "{in_c} input channels overflow an i32 dot product");
    let (out_h, out_w) = g.out_hw(in_h, in_w);
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout");
    let w = w.as_standard_layout();
    let ws = w.as_slice().expect("standard layout");
    // the input row (column) of output row (column) o at kernel tap k, if inside the input
    let tap = |o: usize, k: usize, stride: usize, dil: usize, pad: usize, len: usize| {
        (o * stride + k * dil).checked_sub(pad).filter(|&i| i < len)
    };
    let row = |oy: usize, out: &mut [i8]| {
        let mut acc = vec![0i64; out_c];
        for ox in 0..out_w {
            acc.fill(0);
            for ky in 0..kh {
                let Some(iy) = tap(oy, ky, g.stride.0, g.dil.0, g.pad.0, in_h) else { continue };
                for kx in 0..kw {
                    let Some(ix) = tap(ox, kx, g.stride.1, g.dil.1, g.pad.1, in_w) else { continue };
                    let xv = &xs[(iy * in_w + ix) * in_c..][..in_c];
                    for (co, a) in acc.iter_mut().enumerate() {
                        let wv = &ws[((co * kh + ky) * kw + kx) * in_c..][..in_c];
                        *a += dot(xv, wv) as i64;
                    }
                }
            }
            for (co, (&a, o)) in acc.iter().zip(&mut out[ox * out_c..][..out_c]).enumerate() {
                *o = requantize_i64(a, &requant[co], zp, relu);
            }
        }
    };
    let mut y = vec![0i8; out_h * out_w * out_c];
    super::par_chunks(&mut y, out_w * out_c, row);
    Array3::from_shape_vec((out_h, out_w, out_c), y).expect("out_h x out_w x out_c values")
}

/// The output stage's requantization (`system::reference::requantize`) in i64: (acc + bias) x mult
/// stays below 2^(32 + 16) in magnitude, and an arithmetic shift right is the floor division the
/// rounding needs. Falls back to the i128 reference when the sum could be wider.
fn requantize_i64(acc: i64, r: &Requant, zp: i8, relu: bool) -> i8 {
    let sum = acc + r.bias as i64;
    if sum.unsigned_abs() >= 1 << 46 {
        return requantize(acc, r, zp, relu);
    }
    let v = sum * r.mult as i64;
    let scaled = if r.shift == 0 { v } else { (v + (1i64 << (r.shift - 1))) >> r.shift } + zp as i64;
    let floor = if relu { zp as i64 } else { -128 };
    scaled.max(floor).clamp(-128, 127) as i8
}

/// The exact dot product of two int8 slices of equal length (vectorizes in optimized builds).
fn dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&p, &q)| p as i32 * q as i32).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use crate::system::cases::conv_descriptor;
    use crate::system::layout::ConvJob;
    use crate::system::reference;

    /// Equal to the plain nested-loop convolution (one job, i128 requantization) over strides,
    /// dilations, paddings, odd sizes, ReLU, zero points and wide shifts.
    #[test]
    fn equals_the_reference_convolution() {
        let mut rng = SplitMix64::new(7);
        let byte = |rng: &mut SplitMix64| (rng.next_u64() % 256) as u8 as i8;
        for case in 0..24 {
            let k = (1 + case % 3, 1 + (case / 3) % 3);
            let g = Geometry {
                k,
                stride: (1 + case % 2, 1 + (case / 2) % 2),
                dil: (1 + (case / 4) % 2, 1),
                pad: (case % 2, (case / 5) % 2),
            };
            let (in_h, in_w, in_c, out_c) = (5 + case % 4, 6 + case % 3, 1 + case % 7, 1 + case % 5);
            let x = Array3::from_shape_fn((in_h, in_w, in_c), |_| byte(&mut rng));
            let w = Array4::from_shape_fn((out_c, k.0, k.1, in_c), |_| byte(&mut rng));
            let requant: Vec<Requant> = (0..out_c)
                .map(|_| Requant {
                    bias: if case % 5 == 4 {
                        [i32::MIN, i32::MAX][(rng.next_u64() % 2) as usize]
                    } else {
                        (rng.next_u64() % 20001) as i32 - 10000
                    },
                    mult: (1 << 15) + (rng.next_u64() % (1 << 15)) as u16,
                    shift: [0, 1, 14, 20, 25, 40, 63][(rng.next_u64() % 7) as usize],
                })
                .collect();
            let relu = case % 2 == 1;
            let zp = [0i8, -128, 17][case % 3];
            let desc = conv_descriptor((in_h, in_w, in_c), out_c, &g, relu as u8, zp);
            let job = ConvJob { desc, x: x.clone(), w: w.clone(), requant: requant.clone() };
            assert_eq!(
                conv_layer(x.view(), &w, &requant, &g, zp, relu),
                reference::conv(&job),
                "case {case}: {g:?}"
            );
        }
    }
}
