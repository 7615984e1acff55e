//! Typed errors of the workload loader. Every variant names the file it is about.

use std::path::PathBuf;

/// An error loading a network's layers. The message names the file (and the layer, where there is one).
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("network name {name:?} is not valid: use letters, digits, '_', '-' and '.' only (no path)")]
    BadNetworkName { name: String },

    #[error("{}: no such network: the manifest is missing (shipped networks: {})", path.display(), available.join(", "))]
    UnknownNetwork { path: PathBuf, available: Vec<String> },

    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not a valid weight manifest: {source}", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("{}: {rule}", path.display())]
    BadManifest { path: PathBuf, rule: String },

    #[error("{}: layer {layer}: {rule}", path.display())]
    BadLayer { path: PathBuf, layer: String, rule: String },

    #[error("{}: not a float32 .npy file this loader can read: {source}", path.display())]
    Npy {
        path: PathBuf,
        #[source]
        source: ndarray_npy::ReadNpyError,
    },

    #[error("{}: layer {layer}: the file holds shape {found:?}, the manifest says {expected:?}", path.display())]
    ShapeMismatch { path: PathBuf, layer: String, expected: Vec<usize>, found: Vec<usize> },

    #[error("{}: layer {layer}: element {index} is not finite ({value})", path.display())]
    NonFinite { path: PathBuf, layer: String, index: usize, value: f32 },

    #[error("bits = {bits}: must be between 2 and 32")]
    BadBits { bits: u32 },

    #[error("no shipped layer to draw weights from")]
    NoLayers,
}

pub type Result<T, E = WorkloadError> = std::result::Result<T, E>;
