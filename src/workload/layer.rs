//! Layers of real trained networks, loaded from `data/weights/<net>/manifest.json` and the `.npy` files
//! it lists (the format of `../shared/data`; see `data/README.md`).

use super::error::{Result, WorkloadError};
use ndarray::{Array1, Array4, ArrayD, Ix1};
use ndarray_npy::ReadNpyExt;
use serde::Deserialize;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// What a layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum Op {
    /// 2-D convolution, kernel OIHW `(out, in/groups, kh, kw)`.
    Conv,
    /// 2-D transposed convolution; the kernel was rearranged to OIHW when it was exported.
    ConvTranspose,
    /// Fully connected, `(out, in)`; loaded as OIHW `(out, in, 1, 1)`.
    Dense,
}

/// One layer of a trained network, with its float32 weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The network it belongs to (the folder name under `data/weights/`).
    pub network: String,
    /// Position in the source network (the manifest's `index`; the shipped subset keeps the original numbers).
    pub index: usize,
    pub name: String,
    pub op: Op,
    /// OIHW: `[out, in/groups, kh, kw]`. A `Dense (out, in)` layer is `[out, in, 1, 1]`.
    pub shape: [usize; 4],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// ONNX order: `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    pub groups: usize,
    /// True for a depthwise convolution (groups == in channels, one input channel per output).
    pub depthwise: bool,
    /// True when a BatchNorm was folded into the weights and bias.
    pub bn_folded: bool,
    /// Weights in OIHW order (Dense as `(out, in, 1, 1)`), standard (row-major) layout.
    pub weights: Array4<f32>,
    pub bias: Option<Array1<f32>>,
    /// The `.npy` file the weights were read from.
    pub file: PathBuf,
}

impl Layer {
    /// Output channels: N of the layer's GEMM.
    pub fn out_channels(&self) -> usize {
        self.shape[0]
    }

    /// Reduction length: K of the layer's GEMM, `in/groups * kh * kw`.
    pub fn reduction_len(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// Number of weights.
    pub fn params(&self) -> usize {
        self.shape.iter().product()
    }

    /// Largest |w| of the layer (0.0 for an all-zero layer).
    pub fn absmax(&self) -> f32 {
        self.weights.iter().fold(0.0f32, |m, &w| m.max(w.abs()))
    }
}

/// Where networks' weights live: `<data_dir>/weights/<net>/manifest.json` and the files it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightStore {
    data_dir: PathBuf,
}

impl Default for WeightStore {
    /// The weights shipped with the crate: `$CARGO_MANIFEST_DIR/data` (fixed at compile time).
    fn default() -> Self {
        Self::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
    }
}

impl WeightStore {
    /// A store rooted at `data_dir` (the folder that holds `weights/`), e.g. `../shared/data`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into() }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The manifest path of network `name`.
    pub fn manifest_path(&self, name: &str) -> PathBuf {
        self.data_dir.join("weights").join(name).join("manifest.json")
    }

    /// Names of the networks in the store (folders under `weights/` that hold a manifest), sorted.
    pub fn networks(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.data_dir.join("weights")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("manifest.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Loads every layer of network `name`, in manifest order, checking each file against the manifest
    /// (shape, float32, finite values).
    pub fn load_network(&self, name: &str) -> Result<Vec<Layer>> {
        let valid = !name.is_empty()
            && name != "."
            && name != ".."
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(WorkloadError::BadNetworkName { name: name.to_string() });
        }
        let path = self.manifest_path(name);
        if !path.is_file() {
            return Err(WorkloadError::UnknownNetwork { path, available: self.networks() });
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| WorkloadError::Io { path: path.clone(), source })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|source| WorkloadError::Manifest { path: path.clone(), source })?;
        if manifest.model != name {
            return Err(WorkloadError::BadManifest {
                path,
                rule: format!("model = {:?}: must be the folder's name {name:?}", manifest.model),
            });
        }
        if manifest.num_layers != manifest.layers.len() {
            return Err(WorkloadError::BadManifest {
                path,
                rule: format!(
                    "num_layers = {}: the manifest lists {} layers",
                    manifest.num_layers,
                    manifest.layers.len()
                ),
            });
        }
        let dir = path.parent().expect("a manifest path has a parent").to_path_buf();
        manifest.layers.into_iter().map(|row| row.load(name, &dir, &path)).collect()
    }
}

/// Loads network `name` from the weights shipped with the crate (`data/weights/<name>/`).
/// Use [`WeightStore::new`] to read another folder (e.g. `../shared/data`).
pub fn load_network(name: &str) -> Result<Vec<Layer>> {
    WeightStore::default().load_network(name)
}

/// The manifest format of `../shared/data/weights/<net>/manifest.json` (extra keys are ignored).
#[derive(Debug, Deserialize)]
struct Manifest {
    model: String,
    num_layers: usize,
    layers: Vec<LayerRow>,
}

#[derive(Debug, Deserialize)]
struct LayerRow {
    index: usize,
    name: String,
    op: Op,
    file: String,
    #[serde(default)]
    bias_file: Option<String>,
    shape: Vec<usize>,
    dtype: String,
    layout: String,
    groups: usize,
    stride: [usize; 2],
    pads: [usize; 4],
    depthwise: bool,
    bn_folded: bool,
}

impl LayerRow {
    fn load(self, network: &str, dir: &Path, manifest: &Path) -> Result<Layer> {
        let bad = |rule: String| WorkloadError::BadLayer {
            path: manifest.to_path_buf(),
            layer: self.name.clone(),
            rule,
        };
        if self.dtype != "float32" {
            return Err(bad(format!("dtype = {:?}: must be \"float32\"", self.dtype)));
        }
        let want_layout = match self.op {
            Op::Conv | Op::ConvTranspose => "OIHW",
            Op::Dense => "OI",
        };
        if self.layout != want_layout {
            return Err(bad(format!(
                "layout = {:?}: a {:?} layer must be {want_layout:?}",
                self.layout, self.op
            )));
        }
        if self.shape.len() != want_layout.len() || self.shape.contains(&0) {
            return Err(bad(format!(
                "shape = {:?}: must be {} positive sizes ({want_layout})",
                self.shape,
                want_layout.len()
            )));
        }
        if self.groups == 0 || !self.shape[0].is_multiple_of(self.groups) {
            return Err(bad(format!(
                "groups = {}: must divide the {} output channels",
                self.groups, self.shape[0]
            )));
        }
        if self.stride.contains(&0) {
            return Err(bad(format!("stride = {:?}: must be positive", self.stride)));
        }
        for f in std::iter::once(&self.file).chain(self.bias_file.iter()) {
            if f.contains('/') || f.contains('\\') || f.starts_with('.') {
                return Err(bad(format!("file {f:?}: must be a plain file name in the manifest's folder")));
            }
        }
        let shape: [usize; 4] = match self.shape[..] {
            [o, i, kh, kw] => [o, i, kh, kw],
            [o, i] => [o, i, 1, 1],
            _ => unreachable!("length checked above"),
        };

        let file = dir.join(&self.file);
        let raw = read_f32(&file)?;
        if raw.shape() != &self.shape[..] {
            return Err(WorkloadError::ShapeMismatch {
                path: file,
                layer: self.name,
                expected: self.shape,
                found: raw.shape().to_vec(),
            });
        }
        check_finite(&raw, &file, &self.name)?;
        let weights = raw
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(shape)
            .expect("element count checked against the manifest shape");

        let bias = match self.bias_file.as_deref() {
            None | Some("") => None,
            Some(b) => {
                let path = dir.join(b);
                let raw = read_f32(&path)?;
                if raw.shape() != [shape[0]] {
                    return Err(WorkloadError::ShapeMismatch {
                        path,
                        layer: self.name,
                        expected: vec![shape[0]],
                        found: raw.shape().to_vec(),
                    });
                }
                check_finite(&raw, &path, &self.name)?;
                Some(raw.into_dimensionality::<Ix1>().expect("1-D checked"))
            }
        };

        Ok(Layer {
            network: network.to_string(),
            index: self.index,
            name: self.name,
            op: self.op,
            shape,
            stride: self.stride,
            pads: self.pads,
            groups: self.groups,
            depthwise: self.depthwise,
            bn_folded: self.bn_folded,
            weights,
            bias,
            file,
        })
    }
}

fn read_f32(path: &Path) -> Result<ArrayD<f32>> {
    let f = File::open(path).map_err(|source| WorkloadError::Io { path: path.to_path_buf(), source })?;
    ArrayD::<f32>::read_npy(BufReader::new(f))
        .map_err(|source| WorkloadError::Npy { path: path.to_path_buf(), source })
}

fn check_finite(a: &ArrayD<f32>, path: &Path, layer: &str) -> Result<()> {
    match a.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((index, &value)) => {
            Err(WorkloadError::NonFinite { path: path.to_path_buf(), layer: layer.to_string(), index, value })
        }
    }
}
