//! Convolutions on the sparse row array's cycle-exact model: quantize per tensor to the config's widths,
//! run the integer jobs of [`super::mapping`], dequantize. In the backward pass the output gradient is
//! quantized to act_bits and, with pruning on, stochastically pruned (SparseTrain: tau per layer and
//! step from [`ExpectedSparsity`] at a target sparsity, draws from the LFSR [`Pruner`]) before both the
//! input-gradient and the weight-gradient jobs use it. Every run is counted per layer and phase, and
//! optionally repeated with the dense feed (same dataflow, zeros not skipped) for the cycle comparison;
//! that run must give the same outputs.

use super::mapping::{self, PhaseJobs};
use super::quant::quantize;
use super::tensor::{Kernel, Seq};
use super::{ConvEngine, TrainError};
use crate::config::Params;
use crate::model::sparse_array::{self, Feed, Job, Phase};
use crate::sparse::conv1d::Conv1d;
use crate::sparse::{ExpectedSparsity, PruneParams, Pruner, TauEstimator, DEFAULT_DRAW_BITS};
use serde::Serialize;

/// Counts of one phase of one layer, summed over the training steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseStats {
    pub jobs: u64,
    /// Cycles with the compressed stream (zeros skipped), all runs.
    pub cycles: u64,
    /// Over the runs also measured with the dense feed: their compressed and dense cycles.
    pub measured_cycles: u64,
    pub dense_cycles: u64,
    pub entries: u64,
    pub nnz: u64,
    pub macs: u64,
    pub load_stalls: u64,
}

impl PhaseStats {
    fn add(&mut self, jobs: usize, run: &sparse_array::SparseRun, dense: Option<&sparse_array::SparseRun>) {
        self.jobs += jobs as u64;
        self.cycles += run.cycles;
        if let Some(d) = dense {
            self.measured_cycles += run.cycles;
            self.dense_cycles += d.cycles;
        }
        self.entries += run.entries;
        self.nnz += run.nnz;
        self.macs += run.macs;
        self.load_stalls += run.load_stalls;
    }

    pub fn merge(&mut self, o: &PhaseStats) {
        self.jobs += o.jobs;
        self.cycles += o.cycles;
        self.measured_cycles += o.measured_cycles;
        self.dense_cycles += o.dense_cycles;
        self.entries += o.entries;
        self.nnz += o.nnz;
        self.macs += o.macs;
        self.load_stalls += o.load_stalls;
    }
}

/// One layer's counts over the training steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayerStats {
    pub forward: PhaseStats,
    pub input_gradient: PhaseStats,
    pub weight_gradient: PhaseStats,
    /// Output-gradient values seen, zeros among them after quantization and after pruning.
    pub grad_values: u64,
    pub grad_zeros_quantized: u64,
    pub grad_zeros_pruned: u64,
    /// Sum and count of the taus chosen (0 without pruning).
    pub tau_sum: u64,
    pub tau_count: u64,
}

impl LayerStats {
    pub fn phase(&self, phase: Phase) -> &PhaseStats {
        match phase {
            Phase::Forward => &self.forward,
            Phase::InputGradient => &self.input_gradient,
            Phase::WeightGradient => &self.weight_gradient,
        }
    }

    fn phase_mut(&mut self, phase: Phase) -> &mut PhaseStats {
        match phase {
            Phase::Forward => &mut self.forward,
            Phase::InputGradient => &mut self.input_gradient,
            Phase::WeightGradient => &mut self.weight_gradient,
        }
    }

    /// Fraction of zeros in the output gradient the array streamed (after pruning, if any).
    pub fn grad_sparsity(&self) -> f64 {
        self.grad_zeros_pruned as f64 / self.grad_values.max(1) as f64
    }

    /// Fraction of zeros in the quantized output gradient before pruning.
    pub fn natural_sparsity(&self) -> f64 {
        self.grad_zeros_quantized as f64 / self.grad_values.max(1) as f64
    }

    pub fn mean_tau(&self) -> f64 {
        self.tau_sum as f64 / self.tau_count.max(1) as f64
    }
}

/// SparseTrain's pruning of output gradients: target sparsity and the LFSR pruner (one for the whole
/// run, so draws continue from layer to layer and step to step).
#[derive(Debug, Clone)]
pub struct Pruning {
    pub target: f64,
    pub pruner: Pruner,
}

impl Pruning {
    pub fn new(act_bits: u32, target: f64, seed: u32) -> Result<Pruning, TrainError> {
        Ok(Pruning { target, pruner: Pruner::new(PruneParams::new(act_bits, DEFAULT_DRAW_BITS)?, seed)? })
    }
}

/// For one layer, the busiest job of each phase in the latest training step: the sample for an RTL
/// cross-check.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobSample {
    pub layer: usize,
    pub forward: Option<Job>,
    pub input_gradient: Option<Job>,
    pub weight_gradient: Option<Job>,
}

impl JobSample {
    /// The sampled jobs, in phase order.
    pub fn jobs(&self) -> Vec<Job> {
        [&self.forward, &self.input_gradient, &self.weight_gradient].into_iter().flatten().cloned().collect()
    }
}

/// Nonzero stream values of a job (the entries that carry work).
pub fn stream_nonzeros(job: &Job) -> usize {
    job.rows.iter().map(|r| r.stream.iter().filter(|&&v| v != 0).count()).sum()
}

/// The array as a [`ConvEngine`].
#[derive(Debug, Clone)]
pub struct ArrayEngine {
    params: Params,
    pruning: Option<Pruning>,
    /// Also run training job lists with [`Feed::Dense`] (counts dense cycles; outputs must agree).
    pub dense_reference: bool,
    pub layers: Vec<LayerStats>,
    pub sample: JobSample,
}

impl ArrayEngine {
    /// An engine on a sparse_1d config; `sample_layer` is the layer whose latest jobs are kept.
    pub fn new(params: Params, pruning: Option<Pruning>, sample_layer: usize) -> Result<Self, TrainError> {
        if params.sparse.is_none() {
            return Err(TrainError::NotSparse);
        }
        Ok(ArrayEngine {
            params,
            pruning,
            dense_reference: true,
            layers: Vec::new(),
            sample: JobSample { layer: sample_layer, ..Default::default() },
        })
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    fn layer_mut(&mut self, layer: usize) -> &mut LayerStats {
        if self.layers.len() <= layer {
            self.layers.resize(layer + 1, LayerStats::default());
        }
        &mut self.layers[layer]
    }

    /// Runs one phase's jobs; `products` bounds how many products any output sums (the wrap check).
    fn run(
        &mut self,
        layer: usize,
        pj: &PhaseJobs,
        products: usize,
        count: bool,
    ) -> Result<Vec<Vec<Vec<i64>>>, TrainError> {
        let phase = pj.jobs[0].phase;
        let p = &self.params;
        // |sum| <= products * 2^(a-1) * 2^(w-1) must stay below 2^(acc-1): the model wraps, training must not.
        let bound = (products as u128) << (p.act_bits + p.weight_bits - 2);
        if bound >= 1u128 << (p.acc_bits - 1) {
            return Err(TrainError::MayWrap { layer, phase: phase.name(), products, acc_bits: p.acc_bits });
        }
        if let Some(problems) = pj.jobs.iter().map(|j| j.problems(p)).find(|pr| !pr.is_empty()) {
            return Err(TrainError::Job { layer, phase: phase.name(), problems: problems.join("; ") });
        }
        let run = sparse_array::run(p, &pj.jobs, Feed::Compressed, false);
        let dense =
            (count && self.dense_reference).then(|| sparse_array::run(p, &pj.jobs, Feed::Dense, false));
        if dense.as_ref().is_some_and(|d| d.outputs != run.outputs) {
            return Err(TrainError::DenseMismatch { layer, phase: phase.name() });
        }
        if count {
            self.layer_mut(layer).phase_mut(phase).add(pj.jobs.len(), &run, dense.as_ref());
            if layer == self.sample.layer {
                let slot = match phase {
                    Phase::Forward => &mut self.sample.forward,
                    Phase::InputGradient => &mut self.sample.input_gradient,
                    Phase::WeightGradient => &mut self.sample.weight_gradient,
                };
                // The job of this call with the most nonzeros: the most work for the RTL to get right.
                let busiest = pj.jobs.iter().max_by_key(|j| stream_nonzeros(j)).expect("at least one job");
                *slot = Some(busiest.clone());
            }
        }
        Ok(run.outputs)
    }

    /// The output gradient as the array streams it: quantized to act_bits, pruned if pruning is on.
    fn stream_gradient(&mut self, layer: usize, dy: &Seq) -> Result<(Seq<i64>, f64), TrainError> {
        let bits = self.params.act_bits;
        let q = quantize(&dy.data, bits);
        let zeros_q = q.values.iter().filter(|&&v| v == 0).count() as u64;
        let (values, tau) = match &mut self.pruning {
            Some(pr) => {
                let tau = ExpectedSparsity.tau(&q.values, pr.target, bits)?;
                (pr.pruner.prune(&q.values, tau)?, Some(tau))
            }
            None => (q.values, None),
        };
        let st = self.layer_mut(layer);
        st.grad_values += values.len() as u64;
        st.grad_zeros_quantized += zeros_q;
        st.grad_zeros_pruned += values.iter().filter(|&&v| v == 0).count() as u64;
        if let Some(t) = tau {
            st.tau_sum += t;
            st.tau_count += 1;
        }
        Ok((dy.with_data(values), q.scale))
    }
}

impl ConvEngine for ArrayEngine {
    fn forward(
        &mut self,
        layer: usize,
        x: &Seq,
        w: &Kernel,
        conv: &Conv1d,
        train: bool,
    ) -> Result<Seq, TrainError> {
        let (xq, wq) = (quantize(&x.data, self.params.act_bits), quantize(&w.data, self.params.weight_bits));
        let pj =
            mapping::forward_jobs(&x.with_data(xq.values), &w.with_data(wq.values), conv, self.params.rows);
        let outputs = self.run(layer, &pj, w.inputs * conv.taps, train)?;
        let y = mapping::gather_forward(&pj, &outputs);
        let s = xq.scale * wq.scale;
        Ok(y.with_data(y.data.iter().map(|&v| v as f64 * s).collect()))
    }

    fn backward(
        &mut self,
        layer: usize,
        x: &Seq,
        w: &Kernel,
        conv: &Conv1d,
        dy: &Seq,
        need_dx: bool,
    ) -> Result<(Option<Seq>, Kernel), TrainError> {
        let r = self.params.rows;
        let (dyq, dy_scale) = self.stream_gradient(layer, dy)?;
        let dx = if need_dx {
            let wq = quantize(&w.data, self.params.weight_bits);
            let pj = mapping::input_gradient_jobs(&dyq, &w.with_data(wq.values), conv, r);
            let outputs = self.run(layer, &pj, w.outputs * conv.taps, true)?;
            let dx = mapping::gather_input_gradient(&pj, &outputs);
            let s = dy_scale * wq.scale;
            Some(dx.with_data(dx.data.iter().map(|&v| v as f64 * s).collect()))
        } else {
            None
        };
        // In weight-gradient jobs the activations are the dense operand: weight_bits wide.
        let xq = quantize(&x.data, self.params.weight_bits);
        let pj = mapping::weight_gradient_jobs(&x.with_data(xq.values), &dyq, conv, r);
        let outputs = self.run(layer, &pj, x.batch * conv.out_len, true)?;
        let dw = mapping::gather_weight_gradient(&pj, &outputs);
        let s = dy_scale * xq.scale;
        Ok((dx, dw.with_data(dw.data.iter().map(|&v| v as f64 * s).collect())))
    }
}
