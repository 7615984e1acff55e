//! The conv layers on the sparse array: the integer jobs of `train::mapping` reproduce a naive integer
//! convolution exactly (all three phases, channel groups wider and narrower than the array), and the
//! quantized engine agrees with the float convolutions within the quantization bound. Each checker is
//! shown to catch a planted fault.

mod common;

use accelc::config::Params;
use accelc::model::sparse_array::{run, Feed};
use accelc::rng::SplitMix64;
use accelc::sparse::conv1d::Conv1d;
use accelc::sparse::qmax;
use accelc::train::array_engine::{ArrayEngine, Pruning};
use accelc::train::mapping;
use accelc::train::tensor::{Kernel, Seq};
use accelc::train::{ConvEngine, FloatEngine, TrainError};

/// The input index tap k of output t reads in a causal conv (stride 1), written out.
fn tap_input(t: usize, k: usize, c: &Conv1d) -> Option<usize> {
    let j = t as i64 + (c.dilation * k) as i64 - c.pad as i64;
    (0..c.in_len as i64).contains(&j).then_some(j as usize)
}

fn naive_forward(x: &Seq<i64>, w: &Kernel<i64>, c: &Conv1d) -> Vec<i64> {
    let mut y = vec![0i64; x.batch * w.outputs * c.out_len];
    for b in 0..x.batch {
        for o in 0..w.outputs {
            for t in 0..c.out_len {
                let mut s = 0i128;
                for i in 0..w.inputs {
                    for k in 0..c.taps {
                        if let Some(j) = tap_input(t, k, c) {
                            s += (w.taps_of(o, i)[k] as i128) * (x.at(b, i, j) as i128);
                        }
                    }
                }
                y[(b * w.outputs + o) * c.out_len + t] = s as i64;
            }
        }
    }
    y
}

fn naive_input_gradient(dy: &Seq<i64>, w: &Kernel<i64>, c: &Conv1d) -> Vec<i64> {
    let mut dx = vec![0i128; dy.batch * w.inputs * c.in_len];
    for b in 0..dy.batch {
        for o in 0..w.outputs {
            for t in 0..c.out_len {
                for i in 0..w.inputs {
                    for k in 0..c.taps {
                        if let Some(j) = tap_input(t, k, c) {
                            dx[(b * w.inputs + i) * c.in_len + j] +=
                                (w.taps_of(o, i)[k] as i128) * (dy.at(b, o, t) as i128);
                        }
                    }
                }
            }
        }
    }
    dx.into_iter().map(|v| v as i64).collect()
}

fn naive_weight_gradient(x: &Seq<i64>, dy: &Seq<i64>, c: &Conv1d) -> Vec<i64> {
    let mut dw = vec![0i128; dy.channels * x.channels * c.taps];
    for b in 0..x.batch {
        for o in 0..dy.channels {
            for i in 0..x.channels {
                for k in 0..c.taps {
                    for t in 0..c.out_len {
                        if let Some(j) = tap_input(t, k, c) {
                            dw[(o * x.channels + i) * c.taps + k] +=
                                (dy.at(b, o, t) as i128) * (x.at(b, i, j) as i128);
                        }
                    }
                }
            }
        }
    }
    dw.into_iter().map(|v| v as i64).collect()
}

/// Random `bits`-bit integers, about `density` of them nonzero.
fn ints(n: usize, bits: u32, density: f64, rng: &mut SplitMix64) -> Vec<i64> {
    let q = qmax(bits);
    (0..n)
        .map(|_| if rng.uniform() < density { rng.pick(2 * q as usize + 1) as i64 - q } else { 0 })
        .collect()
}

/// Element positions where `got` and `want` differ (the first few).
fn mismatches(got: &[i64], want: &[i64]) -> Vec<usize> {
    assert_eq!(got.len(), want.len());
    (0..got.len()).filter(|&i| got[i] != want[i]).take(5).collect()
}

/// The three phases of one layer through the array, against the naive integer convolutions.
fn check_layer(p: &Params, batch: usize, cin: usize, cout: usize, dilation: usize, rng: &mut SplitMix64) {
    let len = p.sparse.as_ref().unwrap().row_len;
    let c = Conv1d::causal(p.cols, dilation, len);
    let x = Seq { batch, channels: cin, len, data: ints(batch * cin * len, p.act_bits, 0.6, rng) };
    let xw = Seq { batch, channels: cin, len, data: ints(batch * cin * len, p.weight_bits, 0.6, rng) };
    let w = Kernel {
        outputs: cout,
        inputs: cin,
        taps: p.cols,
        data: ints(cout * cin * p.cols, p.weight_bits, 0.9, rng),
    };
    let dy = Seq { batch, channels: cout, len, data: ints(batch * cout * len, p.act_bits, 0.2, rng) };
    let tag = format!("{}x{} d{dilation} batch {batch}", cout, cin);

    let pj = mapping::forward_jobs(&x, &w, &c, p.rows);
    let out = run(p, &pj.jobs, Feed::Compressed, false).outputs;
    let y = mapping::gather_forward(&pj, &out);
    assert_eq!(mismatches(&y.data, &naive_forward(&x, &w, &c)), Vec::<usize>::new(), "forward {tag}");

    let pj = mapping::input_gradient_jobs(&dy, &w, &c, p.rows);
    let out = run(p, &pj.jobs, Feed::Compressed, false).outputs;
    let dx = mapping::gather_input_gradient(&pj, &out);
    assert_eq!(mismatches(&dx.data, &naive_input_gradient(&dy, &w, &c)), Vec::<usize>::new(), "dx {tag}");

    let pj = mapping::weight_gradient_jobs(&xw, &dy, &c, p.rows);
    let out = run(p, &pj.jobs, Feed::Compressed, false).outputs;
    let dw = mapping::gather_weight_gradient(&pj, &out);
    assert_eq!(mismatches(&dw.data, &naive_weight_gradient(&xw, &dy, &c)), Vec::<usize>::new(), "dw {tag}");
}

#[test]
fn array_jobs_equal_naive_integer_convolutions() {
    let mut rng = SplitMix64::new(9);
    // R = 4 PE rows: 6 channels take a full and a partial group; 3 fit one group with a row to spare.
    let p4 = common::preset("sparse_4x3_l32_i8").params();
    for (cin, cout, d) in [(6, 3, 1), (3, 6, 2), (2, 5, 8), (6, 6, 4)] {
        check_layer(&p4, 3, cin, cout, d, &mut rng);
    }
    let p8 = common::preset("sparse_8x3_l32_i16").params();
    for (cin, cout, d) in [(2, 8, 1), (8, 8, 8)] {
        check_layer(&p8, 2, cin, cout, d, &mut rng);
    }
}

#[test]
fn the_exact_check_catches_a_wrong_geometry_and_a_wrong_value() {
    let p = common::preset("sparse_4x3_l32_i8").params();
    let mut rng = SplitMix64::new(4);
    let c = Conv1d::causal(3, 2, 32);
    let x = Seq { batch: 2, channels: 3, len: 32, data: ints(192, 8, 0.7, &mut rng) };
    let w = Kernel { outputs: 5, inputs: 3, taps: 3, data: ints(45, 8, 1.0, &mut rng) };
    let pj = mapping::forward_jobs(&x, &w, &c, p.rows);
    let y = mapping::gather_forward(&pj, &run(&p, &pj.jobs, Feed::Compressed, false).outputs);
    let want = naive_forward(&x, &w, &c);
    assert!(mismatches(&y.data, &want).is_empty());
    assert!(!mismatches(&y.data, &naive_forward(&x, &w, &Conv1d::causal(3, 1, 32))).is_empty());
    let mut bad = y.data.clone();
    bad[77] += 1;
    assert_eq!(mismatches(&bad, &want), vec![77]);
}

fn floats(n: usize, rng: &mut SplitMix64, relu: bool) -> Vec<f64> {
    (0..n).map(|_| if relu { rng.normal().max(0.0) } else { rng.normal() }).collect()
}

/// `|got - want| <= bound` elementwise; the first violation.
fn within(got: &[f64], want: &[f64], bound: &[f64]) -> Result<(), String> {
    for i in 0..got.len() {
        if (got[i] - want[i]).abs() > bound[i] * (1.0 + 1e-9) + 1e-12 {
            return Err(format!("element {i}: {} vs {} (bound {})", got[i], want[i], bound[i]));
        }
    }
    Ok(())
}

fn half_step(v: &[f64], bits: u32) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs())) / qmax(bits) as f64 / 2.0
}

/// The quantization bound of a sum of products a*b: per term |a| eb + |b| ea + ea eb, summed over the
/// terms of each output (computed through the float convolutions of |a| and |b|).
#[test]
fn quantized_array_convs_agree_with_float_within_the_quantization_bound() {
    for name in ["sparse_8x3_l32_i16", "sparse_4x3_l32_i8"] {
        let p = common::preset(name).params();
        let mut rng = SplitMix64::new(21);
        let (batch, cin, cout, len) = (3, 5, 6, 32);
        let c = Conv1d::causal(3, 4, len);
        let x = Seq { batch, channels: cin, len, data: floats(batch * cin * len, &mut rng, true) };
        let w = Kernel { outputs: cout, inputs: cin, taps: 3, data: floats(cout * cin * 3, &mut rng, false) };
        let dy = Seq { batch, channels: cout, len, data: floats(batch * cout * len, &mut rng, false) };
        let abs_seq = |s: &Seq| s.with_data(s.data.iter().map(|v| v.abs()).collect());
        let abs_k = |k: &Kernel| k.with_data(k.data.iter().map(|v| v.abs()).collect());
        let ones_seq = |s: &Seq| s.with_data(vec![1.0; s.data.len()]);
        let ones_k = |k: &Kernel| k.with_data(vec![1.0; k.data.len()]);
        let (ex, ew) = (half_step(&x.data, p.act_bits), half_step(&w.data, p.weight_bits));
        let (ed, exw) = (half_step(&dy.data, p.act_bits), half_step(&x.data, p.weight_bits));
        let fwd = accelc::train::engine::conv_forward;
        let ig = accelc::train::engine::conv_input_gradient;
        let wg = accelc::train::engine::conv_weight_gradient;
        // sum over terms of |a| eb + |b| ea + ea eb, each through the float convolution once.
        let combine = |a: Seq, b: Seq, n: Seq, ea: f64, eb: f64| -> Vec<f64> {
            (0..a.data.len()).map(|i| a.data[i] * eb + b.data[i] * ea + n.data[i] * ea * eb).collect()
        };
        let bound_y = combine(
            fwd(&abs_seq(&x), &ones_k(&w), &c),
            fwd(&ones_seq(&x), &abs_k(&w), &c),
            fwd(&ones_seq(&x), &ones_k(&w), &c),
            ex,
            ew,
        );
        let bound_dx = combine(
            ig(&abs_seq(&dy), &ones_k(&w), &c),
            ig(&ones_seq(&dy), &abs_k(&w), &c),
            ig(&ones_seq(&dy), &ones_k(&w), &c),
            ed,
            ew,
        );
        let as_seq = |k: Kernel| Seq { batch: 1, channels: 1, len: k.data.len(), data: k.data };
        let bound_dw = combine(
            as_seq(wg(&ones_seq(&x), &abs_seq(&dy), &c)),
            as_seq(wg(&abs_seq(&x), &ones_seq(&dy), &c)),
            as_seq(wg(&ones_seq(&x), &ones_seq(&dy), &c)),
            ed,
            exw,
        );

        let mut array = ArrayEngine::new(p.clone(), None, 0).unwrap();
        let y = array.forward(0, &x, &w, &c, true).unwrap();
        let (dx, dw) = array.backward(0, &x, &w, &c, &dy, true).unwrap();
        let yf = FloatEngine.forward(0, &x, &w, &c, true).unwrap();
        let (dxf, dwf) = FloatEngine.backward(0, &x, &w, &c, &dy, true).unwrap();
        within(&y.data, &yf.data, &bound_y).unwrap_or_else(|e| panic!("{name} forward: {e}"));
        within(&dx.unwrap().data, &dxf.unwrap().data, &bound_dx).unwrap_or_else(|e| panic!("{name} dx: {e}"));
        within(&dw.data, &dwf.data, &bound_dw).unwrap_or_else(|e| panic!("{name} dw: {e}"));
        // The bound is tight enough to matter: a kernel off by 3 quantization steps in one tap fails.
        let mut w_bad = w.clone();
        w_bad.data[7] += 6.0 * ew;
        let y_bad = FloatEngine.forward(0, &x, &w_bad, &c, true).unwrap();
        assert!(within(&y.data, &y_bad.data, &bound_y).is_err(), "{name}: the bound check can fail");
        // Dense-feed reference ran on every phase and agreed; the counts are there.
        let st = &array.layers[0];
        assert!(st.forward.dense_cycles > st.forward.cycles, "{name}: ReLU zeros are skipped");
        assert_eq!(
            st.weight_gradient.jobs,
            (cout * cin.div_ceil(p.rows)) as u64,
            "{name}: one job per group"
        );
    }
}

#[test]
fn pruning_reaches_the_target_sparsity_on_the_streamed_gradient() {
    let p = common::preset("sparse_8x3_l32_i16").params();
    let mut rng = SplitMix64::new(2);
    let c = Conv1d::causal(3, 1, 32);
    let x = Seq { batch: 8, channels: 8, len: 32, data: floats(8 * 8 * 32, &mut rng, true) };
    let w = Kernel { outputs: 8, inputs: 8, taps: 3, data: floats(192, &mut rng, false) };
    // 70% zeros, like a gradient behind ReLUs: with one scale per tensor a dense Gaussian cannot reach
    // 0.9 at all (the most a width allows is about 1 - mean|g| / tau_max, crate::sparse docs section 4).
    let data = (0..8 * 8 * 32).map(|_| if rng.uniform() < 0.7 { 0.0 } else { rng.normal() }).collect();
    let dy = Seq { batch: 8, channels: 8, len: 32, data };
    let pruning = Pruning::new(p.act_bits, 0.9, 77).unwrap();
    let mut engine = ArrayEngine::new(p.clone(), Some(pruning), 0).unwrap();
    let (_, dw) = engine.backward(0, &x, &w, &c, &dy, true).unwrap();
    let st = engine.layers[0].clone();
    assert!((st.natural_sparsity() - 0.7).abs() < 0.03, "before pruning {}", st.natural_sparsity());
    assert!((st.grad_sparsity() - 0.9).abs() < 0.02, "sparsity after pruning {}", st.grad_sparsity());
    // The array streamed only the nonzeros: 8 jobs x 8 rows x 32 values, about 10% of them.
    let ig = &st.input_gradient;
    assert!(ig.nnz as f64 <= 0.12 * 2048.0 && ig.nnz == st.weight_gradient.nnz, "nnz {}", ig.nnz);
    assert!(ig.cycles * 4 < ig.dense_cycles, "{} cycles, {} dense", ig.cycles, ig.dense_cycles);
    // Pruning is unbiased: one pruned dw is about as far from the float dw as the dw itself, the mean
    // over 40 independent prunings (the LFSR runs on) is much closer.
    let (_, dwf) = FloatEngine.backward(0, &x, &w, &c, &dy, false).unwrap();
    let rel = |a: &[f64]| {
        let num: f64 = a.iter().zip(&dwf.data).map(|(x, y)| (x - y).powi(2)).sum();
        (num / dwf.data.iter().map(|y| y * y).sum::<f64>()).sqrt()
    };
    let mut mean = vec![0.0; dw.data.len()];
    let reps = 40;
    for _ in 0..reps {
        let (_, dw) = engine.backward(0, &x, &w, &c, &dy, false).unwrap();
        mean.iter_mut().zip(&dw.data).for_each(|(m, v)| *m += v / reps as f64);
    }
    let (one, avg) = (rel(&dw.data), rel(&mean));
    assert!(
        one > 0.3 && avg < one / 3.0,
        "relative error of one pruning {one}, of the mean of {reps}: {avg}"
    );
}

#[test]
fn a_layer_that_could_wrap_the_accumulator_is_refused() {
    let p = common::preset("sparse_2x2_l8_i4").params(); // 10-bit accumulator
    let c = Conv1d::causal(2, 1, 8);
    let x = Seq { batch: 1, channels: 4, len: 8, data: vec![1.0; 32] };
    let w = Kernel { outputs: 2, inputs: 4, taps: 2, data: vec![0.5; 16] };
    let err = ArrayEngine::new(p, None, 0).unwrap().forward(0, &x, &w, &c, true).unwrap_err();
    assert!(matches!(err, TrainError::MayWrap { products: 8, .. }), "{err}");
}
