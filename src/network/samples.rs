//! The shipped networks and their sample inputs (`data/networks/`), cut from scikit-image's bundled
//! page.png and text.png: for the PP-OCR text-direction classifier (`scripts/vendor_cls_samples.py`)
//! text-line crops resized to height 48 and padded to 48 x 192, each also rotated by 180 degrees; for
//! the PP-OCRv4 text detector (`scripts/vendor_det_samples.py`) three 96 x 160 images.

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

/// The PP-OCRv4 mobile text detector (ONNX, opset 12; input x: N x 3 x H x W, H and W multiples of 32,
/// output: N x 1 x H x W text probabilities, DB's probability map). Not in git: `make setup` fetches it
/// from the rapidocr-onnxruntime wheel.
pub fn det_path() -> PathBuf {
    data_dir().join("ch_PP-OCRv4_det_infer.onnx")
}

/// The detector's sample set: inputs (N x 3 x 96 x 160) and names.
pub struct DetSamples {
    pub inputs: ArrayD<f32>,
    pub names: Vec<String>,
}

/// The detector's samples with rapidocr's preprocessing (rapidocr_onnxruntime 1.4.4, mean = std = 0.5):
/// gray value v becomes (v / 255 - 0.5) / 0.5 in all three channels. Two printed-text images from
/// page.png and one handwriting photo from text.png in which the detector finds no text.
pub fn det_samples() -> anyhow::Result<DetSamples> {
    let dir = data_dir();
    let images: Array3<u8> = read_npy(dir.join("det_samples_images.npy"))?;
    let names =
        std::fs::read_to_string(dir.join("det_samples_names.txt"))?.lines().map(String::from).collect();
    let (n, h, w) = images.dim();
    let x =
        Array4::from_shape_fn((n, 3, h, w), |(i, _, y, xx)| (images[(i, y, xx)] as f32 / 255.0 - 0.5) / 0.5);
    Ok(DetSamples { inputs: x.into_shape_with_order(IxDyn(&[n, 3, h, w]))?, names })
}
