//! The shipped sample inputs of the PP-OCR text-direction classifier (`data/networks/`, made by
//! `scripts/vendor_cls_samples.py` from scikit-image's bundled page.png and text.png): text-line crops
//! resized to height 48 and padded to 48 x 192, each also rotated by 180 degrees.

use ndarray::{Array1, Array3, Array4, ArrayD, IxDyn};
use ndarray_npy::read_npy;
use std::path::{Path, PathBuf};

/// The folder of the shipped networks and their sample inputs.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/networks")
}

/// The PP-OCR mobile v2.0 text-direction classifier (ONNX, opset 11; input x: N x 3 x 48 x W,
/// output: N x 2 probabilities of "0" and "180" degrees).
pub fn classifier_path() -> PathBuf {
    data_dir().join("ch_ppocr_mobile_v2.0_cls_infer.onnx")
}

/// The classifier's sample set: inputs (N x 3 x 48 x 192, rapidocr's preprocessing: gray value v
/// becomes (v / 255 - 0.5) / 0.5 in all three channels, 0 past the crop's width), labels (0 upright,
/// 1 rotated) and names.
pub struct ClsSamples {
    pub inputs: ArrayD<f32>,
    pub labels: Vec<usize>,
    pub names: Vec<String>,
}

pub fn cls_samples() -> anyhow::Result<ClsSamples> {
    let dir = data_dir();
    let images: Array3<u8> = read_npy(dir.join("cls_samples_images.npy"))?;
    let widths: Array1<i64> = read_npy(dir.join("cls_samples_widths.npy"))?;
    let labels: Array1<i64> = read_npy(dir.join("cls_samples_labels.npy"))?;
    let names =
        std::fs::read_to_string(dir.join("cls_samples_names.txt"))?.lines().map(String::from).collect();
    let (n, h, w) = images.dim();
    let x = Array4::from_shape_fn((n, 3, h, w), |(i, _, y, xx)| {
        if (xx as i64) < widths[i] {
            (images[(i, y, xx)] as f32 / 255.0 - 0.5) / 0.5
        } else {
            0.0
        }
    });
    Ok(ClsSamples {
        inputs: x.into_shape_with_order(IxDyn(&[n, 3, h, w]))?,
        labels: labels.iter().map(|&l| l as usize).collect(),
        names,
    })
}
