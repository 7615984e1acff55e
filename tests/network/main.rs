//! The network compiler's tests in one binary, so that cargo runs them side by side (cargo runs test
//! binaries one after another): import and the float executor against onnxruntime (`float`, `det`),
//! pruning (`prune`), and the int8 program on the model, the fast path and the RTL (`int`).

#[path = "../common/mod.rs"]
mod common;

mod det;
mod float;
mod int;
mod prune;

use accelc::network::{Network, Value};
use ndarray::ArrayD;

/// The network's (first) output on `x`, by the float executor.
fn run_float(net: &Network, x: &ArrayD<f32>) -> ArrayD<f32> {
    let env = accelc::network::float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))])
        .expect("the network runs");
    match &env[&net.outputs[0]] {
        Value::F32(y) => y.clone(),
        Value::I64(_) => panic!("an int64 output"),
    }
}

/// The largest absolute difference of two tensors of one shape.
fn max_diff(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}
