//! Plain integer convolution and requantization, written independently of the model and the RTL
//! (nested loops over the output, i128 arithmetic, Euclidean division for the rounding): the check
//! of the system model's results.

use super::layout::{ConvJob, Requant};
use ndarray::Array3;

/// round(v / 2^shift), halves rounded up, by division.
fn round_shift(v: i128, shift: u8) -> i128 {
    if shift == 0 {
        return v;
    }
    let d = 1i128 << shift;
    (v + d / 2).div_euclid(d)
}

/// One output value from its exact dot product.
pub fn requantize(acc: i64, r: &Requant, zp: i8, relu: bool) -> i8 {
    let scaled = round_shift((acc as i128 + r.bias as i128) * r.mult as i128, r.shift) + zp as i128;
    let floor = if relu { zp as i128 } else { -128 };
    scaled.max(floor).clamp(-128, 127) as i8
}

/// The job's exact dot products, out_h x out_w x out_c.
pub fn conv_acc(job: &ConvJob) -> Array3<i64> {
    let d = &job.desc;
    let (oh, ow, oc) = (d.out_h as usize, d.out_w as usize, d.out_c as usize);
    let mut out = Array3::<i64>::zeros((oh, ow, oc));
    for oy in 0..oh {
        for ox in 0..ow {
            for co in 0..oc {
                let mut sum = 0i64;
                for ky in 0..d.kh as i64 {
                    for kx in 0..d.kw as i64 {
                        let iy = oy as i64 * d.stride_h as i64 + ky * d.dil_h as i64 - d.pad_top as i64;
                        let ix = ox as i64 * d.stride_w as i64 + kx * d.dil_w as i64 - d.pad_left as i64;
                        if !(0..d.in_h as i64).contains(&iy) || !(0..d.in_w as i64).contains(&ix) {
                            continue;
                        }
                        for ci in 0..d.in_c as usize {
                            sum += job.x[(iy as usize, ix as usize, ci)] as i64
                                * job.w[(co, ky as usize, kx as usize, ci)] as i64;
                        }
                    }
                }
                out[(oy, ox, co)] = sum;
            }
        }
    }
    out
}

/// The job's int8 outputs, out_h x out_w x out_c.
pub fn conv(job: &ConvJob) -> Array3<i8> {
    let d = &job.desc;
    let acc = conv_acc(job);
    Array3::from_shape_fn(acc.dim(), |(oy, ox, co)| {
        requantize(acc[(oy, ox, co)], &job.requant[co], d.out_zp, d.relu())
    })
}
