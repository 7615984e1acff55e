//! A conv layer decomposed into jobs of the sparse row array (crate::sparse::conv2d), all three
//! phases, against 2-D convolution written as plain nested loops over padded coordinates.

mod common;

use accelc::model::sparse_array::Feed;
use accelc::rng::SplitMix64;
use accelc::sparse::conv2d::*;
use ndarray::{Array3, Array4};

/// Input coordinate of output `o` through kernel offset `k`, if inside `0..n`.
fn at(o: usize, k: usize, stride: usize, pad: usize, n: usize) -> Option<usize> {
    (o * stride + k).checked_sub(pad).filter(|&i| i < n)
}

fn naive(
    s: &Conv2dShape,
    x: &Array3<i64>,
    w: &Array4<i64>,
    dy: &Array3<i64>,
) -> (Array3<i64>, Array3<i64>, Array4<i64>) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let mut y = Array3::zeros((s.c_out, oh_n, ow_n));
    let mut dx = Array3::zeros((s.c_in, s.h, s.w));
    let mut dw = Array4::zeros((s.c_out, s.c_in, s.kh, s.kw));
    for co in 0..s.c_out {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                for ci in 0..s.c_in {
                    for kh in 0..s.kh {
                        for kw in 0..s.kw {
                            let (Some(ih), Some(iw)) = (
                                at(oh, kh, s.stride[0], s.pads[0], s.h),
                                at(ow, kw * s.dilation, s.stride[1], s.pads[1], s.w),
                            ) else {
                                continue;
                            };
                            y[(co, oh, ow)] += w[(co, ci, kh, kw)] * x[(ci, ih, iw)];
                            dx[(ci, ih, iw)] += w[(co, ci, kh, kw)] * dy[(co, oh, ow)];
                            dw[(co, ci, kh, kw)] += x[(ci, ih, iw)] * dy[(co, oh, ow)];
                        }
                    }
                }
            }
        }
    }
    (y, dx, dw)
}

#[test]
fn all_three_phases_equal_naive_conv2d() {
    let p = common::preset("sparse_4x3_l32_i8").params();
    let shapes = [
        Conv2dShape {
            c_in: 3,
            c_out: 5,
            h: 7,
            w: 9,
            kh: 3,
            kw: 3,
            stride: [1, 1],
            pads: [1, 1, 1, 1],
            dilation: 1,
        },
        Conv2dShape {
            c_in: 6,
            c_out: 4,
            h: 9,
            w: 11,
            kh: 3,
            kw: 3,
            stride: [2, 2],
            pads: [1, 1, 0, 1],
            dilation: 1,
        },
        Conv2dShape {
            c_in: 2,
            c_out: 9,
            h: 5,
            w: 8,
            kh: 2,
            kw: 3,
            stride: [1, 2],
            pads: [0, 0, 0, 0],
            dilation: 1,
        },
    ];
    for (i, s) in shapes.iter().enumerate() {
        let mut rng = SplitMix64::new(40 + i as u64);
        let mut sparse = |d: (usize, usize, usize), pct: u64| {
            Array3::from_shape_fn(d, |_| if rng.below(100) < pct { rng.range_i64(-128, 127) } else { 0 })
        };
        let x = sparse((s.c_in, s.h, s.w), 50);
        let dy = sparse((s.c_out, s.out_h(), s.out_w()), 20);
        let mut rng = SplitMix64::new(90 + i as u64);
        let w = Array4::from_shape_fn((s.c_out, s.c_in, s.kh, s.kw), |_| rng.range_i64(-128, 127));
        let (y, dx, dw) = naive(s, &x, &w, &dy);

        let f = forward_jobs(p.rows, s, &x, &w);
        assert_eq!(gather_forward(&f, &run_phase(&p, &f, Feed::Compressed).outputs), y, "forward, shape {i}");
        let g = input_gradient_jobs(p.rows, s, &dy, &w);
        assert_eq!(
            gather_input_gradient(&g, &run_phase(&p, &g, Feed::Compressed).outputs),
            dx,
            "input gradient {i}"
        );
        let h = weight_gradient_jobs(p.rows, s, &x, &dy);
        assert_eq!(
            gather_weight_gradient(&h, &run_phase(&p, &h, Feed::Compressed).outputs),
            dw,
            "weight gradient {i}"
        );
    }
}
