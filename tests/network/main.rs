//! The network compiler's tests in one binary, so that cargo runs them side by side (cargo runs test
//! binaries one after another): import and the float executor against onnxruntime (`float`, `det`),
//! pruning (`prune`), and the int8 program on the model, the fast path and the RTL (`int`).

#[path = "../common/mod.rs"]
mod common;

mod det;
mod float;
mod int;
mod prune;
