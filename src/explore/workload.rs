//! Workloads of a space as lists of GEMM layers with their operands: real trained weights (a shipped
//! network's layers, quantized to the design's weight width; for GEMM shapes and topology rows, a
//! window of a shipped layer, see `workload::real_weight_matrix`) and seeded random activations.
//! MAC cycles do not depend on the values; SAC cycles do (through the kneaded weights), which is why
//! the weights are real.

use super::space::{WorkloadSource, WorkloadSpec};
use crate::config::Params;
use crate::model::Matrix;
use crate::rng::SplitMix64;
use crate::workload::{gemm_b_matrix, try_real_weight_matrix, Layer};
use anyhow::Result;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub layers: Vec<GemmLayer>,
}

/// One GEMM C[MxN] = A[MxK] . B[KxN] of a workload.
#[derive(Debug, Clone)]
pub struct GemmLayer {
    pub name: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub weights: Weights,
}

#[derive(Debug, Clone)]
pub enum Weights {
    /// The layer's own trained weights.
    Layer(Arc<Layer>),
    /// A `k x n` window of shipped weights chosen by this seed.
    Window { seed: u64 },
}

impl Weights {
    /// A short stable description (for the plan's digest).
    pub fn describe(&self) -> String {
        match self {
            Weights::Layer(l) => format!("{}/{}", l.network, l.name),
            Weights::Window { seed } => format!("window seed {seed}"),
        }
    }
}

impl Workload {
    /// Useful multiply-accumulates: sum of M*N*K.
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| (l.m * l.n * l.k) as u64).sum()
    }
}

impl GemmLayer {
    /// The operands for a design: A from `seed` (case `index`), B from the weights at the design's width.
    pub fn operands(&self, p: &Params, seed: u64, index: usize) -> Result<(Matrix, Matrix)> {
        let (a_lo, a_hi) = crate::bits::signed_range(p.act_bits);
        let mut rng = SplitMix64::for_case(seed, index);
        let a = Matrix::from_shape_fn((self.m, self.k), |_| rng.range_i64(a_lo, a_hi));
        let b = match &self.weights {
            Weights::Layer(layer) => gemm_b_matrix(layer, p.weight_bits),
            Weights::Window { seed } => try_real_weight_matrix(self.k, self.n, p.weight_bits, *seed)?,
        };
        anyhow::ensure!(
            b.dim() == (self.k, self.n),
            "layer {}: weights are {:?}, not K x N",
            self.name,
            b.dim()
        );
        Ok((a, b))
    }
}

/// The layers of a workload spec (the space checked that networks, layers and files exist).
pub fn expand(spec: &WorkloadSpec) -> Result<Workload> {
    let window = |i: usize| Weights::Window { seed: 1 + i as u64 };
    let layers = match &spec.source {
        WorkloadSource::Network { network, m, layers } => crate::workload::load_network(network)?
            .into_iter()
            .filter(|l| !l.depthwise)
            .filter(|l| layers.as_ref().is_none_or(|names| names.contains(&l.name)))
            .map(|l| GemmLayer {
                name: l.name.clone(),
                m: *m,
                n: l.out_channels(),
                k: l.reduction_len(),
                weights: Weights::Layer(Arc::new(l)),
            })
            .collect(),
        WorkloadSource::Gemm(shapes) => shapes
            .iter()
            .enumerate()
            .map(|(i, &[m, n, k])| GemmLayer {
                name: format!("gemm_{m}x{n}x{k}"),
                m,
                n,
                k,
                weights: window(i),
            })
            .collect(),
        WorkloadSource::Topology(path) => crate::workload::topology::read_topology(path)?
            .into_iter()
            .enumerate()
            .map(|(i, s)| GemmLayer { name: s.name, m: s.m, n: s.n, k: s.k, weights: window(i) })
            .collect(),
    };
    Ok(Workload { name: spec.name.clone(), layers })
}
