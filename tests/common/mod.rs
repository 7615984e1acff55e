//! Helpers shared by the integration tests (each test binary uses some of them).
#![allow(dead_code)]

pub mod naive_conv;
pub mod python;

use accelc::config::Config;
use accelc::model::Matrix;
use accelc::verify::VerifyOptions;
use std::path::{Path, PathBuf};

/// The plain product A . B in i128, reduced to the signed range of `bits` by remainder: arithmetic
/// written differently from the model's wrapping MACs, so that a shared mistake cannot hide.
pub fn naive_product(a: &Matrix, b: &Matrix, bits: u32) -> Matrix {
    let modulus = 1i128 << bits;
    Matrix::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
        let exact: i128 = (0..a.ncols()).map(|k| a[(i, k)] as i128 * b[(k, j)] as i128).sum();
        let r = exact.rem_euclid(modulus);
        (if r >= modulus / 2 { r - modulus } else { r }) as i64
    })
}

/// A fresh folder holding one Verilog file `design.v` (`tool` and `tag` name it).
pub fn design_dir(tool: &str, tag: &str, verilog: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-{tool}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("design.v"), verilog).unwrap();
    dir
}

/// The file list of a `design_dir`.
pub fn design_files() -> Vec<String> {
    vec!["design.v".to_string()]
}

/// Where verification tests build and keep their work (builds cached by content hash).
pub fn verify_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("verify")
}

pub fn verify_options() -> VerifyOptions {
    VerifyOptions { out_root: verify_root(), ..VerifyOptions::default() }
}

/// A preset from configs/ by name.
pub fn preset(name: &str) -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(format!("{name}.toml"))).unwrap()
}
