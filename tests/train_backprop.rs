//! Backpropagation through the TCN (float reference engine) against central finite differences of the
//! loss, for every parameter; a planted error in the convolution's input gradient is caught.

use accelc::rng::SplitMix64;
use accelc::sparse::conv1d::Conv1d;
use accelc::train::adding::{adding_batch, mse};
use accelc::train::engine::conv_weight_gradient;
use accelc::train::tcn::{Tcn, TcnShape};
use accelc::train::tensor::{Kernel, Seq};
use accelc::train::{ConvEngine, FloatEngine, TrainError};

fn shape() -> TcnShape {
    TcnShape { inputs: 2, hidden: 3, taps: 3, dilations: vec![1, 2], convs_per_block: 2, len: 10 }
}

/// A network with nonzero biases, so that ReLUs are neither all on nor all off.
fn net(seed: u64) -> Tcn {
    let mut rng = SplitMix64::new(seed);
    let mut net = Tcn::new(shape(), &mut rng);
    for c in &mut net.convs {
        c.bias.iter_mut().for_each(|b| *b = 0.2 * rng.normal());
    }
    net.head_bias = 0.3;
    net
}

fn flat(t: &Tcn) -> Vec<f64> {
    let mut v = Vec::new();
    t.visit(|s| v.extend_from_slice(s));
    v
}

fn set_flat(t: &mut Tcn, v: &[f64]) {
    let mut i = 0;
    t.visit_mut(|s| {
        s.copy_from_slice(&v[i..i + s.len()]);
        i += s.len();
    });
}

/// Largest violation of `|analytic - numeric| <= 1e-6 + 1e-5 |numeric|` over every parameter, with the
/// parameter's index (Ok if none).
fn check_gradients(engine: &mut dyn ConvEngine, seed: u64) -> Result<(), String> {
    let net0 = net(seed);
    let data = adding_batch(4, shape().len, &mut SplitMix64::new(seed + 100));
    let tr = net0.forward(&data.inputs, engine, true).unwrap();
    let (loss, grads) = net0.backward(&tr, &data.targets, engine).unwrap();
    let loss_of = |p: &[f64]| {
        let mut n = net0.clone();
        set_flat(&mut n, p);
        mse(&n.forward(&data.inputs, &mut FloatEngine, false).unwrap().predictions, &data.targets)
    };
    let p0 = flat(&net0);
    assert!((loss - loss_of(&p0)).abs() < 1e-12, "backward reports the forward loss");
    let analytic = flat(&grads);
    let h = 1e-6;
    for (i, &a) in analytic.iter().enumerate() {
        let (mut up, mut down) = (p0.clone(), p0.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (loss_of(&up) - loss_of(&down)) / (2.0 * h);
        if (a - numeric).abs() > 1e-6 + 1e-5 * numeric.abs() {
            return Err(format!("parameter {i}: backprop {a:.9}, finite difference {numeric:.9}"));
        }
    }
    Ok(())
}

#[test]
fn backprop_matches_finite_differences() {
    for seed in [1, 2, 3] {
        check_gradients(&mut FloatEngine, seed).unwrap();
    }
    let n = net(1);
    assert_eq!(flat(&n).len(), n.parameter_count());
    assert!(n.parameter_count() > 100, "every conv, bias and the read-out are checked");
}

/// The float engine with its input gradient computed with unflipped taps (a classic transposition bug).
struct WrongTransposition;

impl ConvEngine for WrongTransposition {
    fn forward(&mut self, l: usize, x: &Seq, w: &Kernel, c: &Conv1d, t: bool) -> Result<Seq, TrainError> {
        FloatEngine.forward(l, x, w, c, t)
    }

    fn backward(
        &mut self,
        _: usize,
        x: &Seq,
        w: &Kernel,
        c: &Conv1d,
        dy: &Seq,
        need_dx: bool,
    ) -> Result<(Option<Seq>, Kernel), TrainError> {
        // dx[j] = sum w[k] dy[j + d*k - pad]: the forward gather applied to dy, i.e. no transposition.
        let mut wt = Kernel::zeros(w.inputs, w.outputs, w.taps);
        for o in 0..w.outputs {
            for i in 0..w.inputs {
                wt.taps_of_mut(i, o).copy_from_slice(w.taps_of(o, i));
            }
        }
        let dx = need_dx.then(|| accelc::train::engine::conv_forward(dy, &wt, c));
        Ok((dx, conv_weight_gradient(x, dy, c)))
    }
}

#[test]
fn the_gradient_check_catches_a_wrong_input_gradient() {
    let err = check_gradients(&mut WrongTransposition, 1).unwrap_err();
    assert!(err.contains("finite difference"), "{err}");
}
