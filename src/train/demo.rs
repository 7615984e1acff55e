//! The SparseTrain demo: train the same TCN on the adding problem twice from one seed, once with the
//! plain quantized output gradients and once with them stochastically pruned, every convolution phase
//! on the sparse row array's model; report the loss curves, gradient sparsity and cycles.

use super::adam::Adam;
use super::adding::{adding_batch, AddingBatch};
use super::array_engine::{ArrayEngine, JobSample, LayerStats, PhaseStats, Pruning};
use super::tcn::{Tcn, TcnShape};
use super::TrainError;
use crate::config::Params;
use crate::model::sparse_array::Phase;
use crate::rng::SplitMix64;
use serde::Serialize;
use std::time::Instant;

/// Everything a demo run depends on (besides the config).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoOptions {
    pub seed: u64,
    pub steps: usize,
    pub batch: usize,
    /// Adam's initial learning rate; it follows a cosine down to `lr * lr_floor` at the last step, so
    /// that the final loss is a converged value rather than one noisy step.
    pub lr: f64,
    pub lr_floor: f64,
    pub hidden: usize,
    /// T: sequence length (at most the config's row_len).
    pub len: usize,
    pub dilations: Vec<usize>,
    pub convs_per_block: usize,
    /// Target sparsity of the pruned output gradients.
    pub target_sparsity: f64,
    /// A curve point (training loss averaged since the last point, held-out loss) every this many steps.
    pub log_every: usize,
    /// Held-out samples for the curve and the final loss.
    pub eval_samples: usize,
    /// Every this many steps (and at the last), also run the step's job lists with the dense feed for
    /// the cycle comparison (0: never). The dense feed costs the model more time than the compressed
    /// one, so the default samples every 10th step.
    pub dense_every: usize,
    /// Seed of the pruning LFSR (nonzero).
    pub lfsr_seed: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 1,
            steps: 800,
            batch: 16,
            lr: 0.01,
            lr_floor: 0.05,
            hidden: 8,
            len: 32,
            dilations: vec![1, 2, 4, 8],
            convs_per_block: 2,
            target_sparsity: 0.9,
            log_every: 40,
            eval_samples: 256,
            dense_every: 10,
            lfsr_seed: 0x5EED_0001,
        }
    }
}

impl DemoOptions {
    /// The learning rate of step `step` (1-based): cosine from `lr` to `lr * lr_floor`.
    pub fn lr_at(&self, step: usize) -> f64 {
        let progress = (step - 1) as f64 / (self.steps.max(2) - 1) as f64;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.lr * (self.lr_floor + (1.0 - self.lr_floor) * cosine)
    }

    /// The network for this config: kernel taps = the array's KT.
    pub fn shape_for(&self, params: &Params) -> TcnShape {
        TcnShape {
            inputs: 2,
            hidden: self.hidden,
            taps: params.cols,
            dilations: self.dilations.clone(),
            convs_per_block: self.convs_per_block,
            len: self.len,
        }
    }
}

/// One point of a loss curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub step: usize,
    /// Mean training-batch loss over the steps since the previous point.
    pub train_loss: f64,
    /// Loss on the held-out set.
    pub eval_loss: f64,
}

/// One training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub pruned: bool,
    /// Steps whose jobs also ran with the dense feed (the dense cycle counts cover these only).
    pub dense_steps: usize,
    pub curve: Vec<CurvePoint>,
    /// Held-out loss after the last step.
    pub final_loss: f64,
    pub layers: Vec<LayerStats>,
    #[serde(skip)]
    pub sample: JobSample,
    pub seconds: f64,
}

impl RunReport {
    /// One phase summed over the layers.
    pub fn phase_total(&self, phase: Phase) -> PhaseStats {
        let mut t = PhaseStats::default();
        self.layers.iter().for_each(|l| t.merge(l.phase(phase)));
        t
    }
}

/// Both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoReport {
    pub format_version: u32,
    pub config: String,
    pub options: DemoOptions,
    pub parameters: usize,
    pub receptive_field: usize,
    pub unpruned: RunReport,
    pub pruned: RunReport,
}

impl DemoReport {
    /// Pruned final loss / unpruned final loss.
    pub fn loss_ratio(&self) -> f64 {
        self.pruned.final_loss / self.unpruned.final_loss
    }

    /// SparseTrain's claim for this run: pruned training ends within 10% of the unpruned loss.
    pub fn converged_within_10pct(&self) -> bool {
        self.loss_ratio() <= 1.10
    }
}

/// Checks the options against the config before any work.
pub fn check_options(params: &Params, o: &DemoOptions) -> Result<(), TrainError> {
    let sp = params.sparse.as_ref().ok_or(TrainError::NotSparse)?;
    let mut bad = Vec::new();
    if o.len < 2 || o.len > sp.row_len {
        bad.push(format!("len = {}: must be 2..={} (the config's row_len)", o.len, sp.row_len));
    }
    if let Some(d) = o.dilations.iter().find(|&&d| d == 0 || d > sp.max_dilation) {
        bad.push(format!("dilation {d}: must be 1..={} (the config's max_dilation)", sp.max_dilation));
    }
    if o.dilations.is_empty() || o.convs_per_block == 0 {
        bad.push("the network needs at least one block of at least one conv".into());
    }
    if o.hidden < 2 {
        bad.push(format!("hidden = {}: at least 2 (the input channels)", o.hidden));
    }
    if o.steps == 0 || o.batch == 0 || o.eval_samples == 0 || o.log_every == 0 {
        bad.push("steps, batch, eval_samples and log_every must be at least 1".into());
    }
    if !(0.0..=1.0).contains(&o.target_sparsity) {
        bad.push(format!("target sparsity {}: must be in [0, 1]", o.target_sparsity));
    }
    if !(o.lr > 0.0 && o.lr.is_finite()) {
        bad.push(format!("lr = {}: must be positive", o.lr));
    }
    if !(0.0..=1.0).contains(&o.lr_floor) {
        bad.push(format!("lr_floor = {}: must be in [0, 1]", o.lr_floor));
    }
    if o.lfsr_seed == 0 {
        bad.push("lfsr_seed 0: the LFSR's lock-up state".into());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(TrainError::Options(bad.join("; ")))
    }
}

/// Held-out MSE of `net` on `data`, forward on the engine (not counted).
fn eval_loss(net: &Tcn, data: &AddingBatch, engine: &mut ArrayEngine) -> Result<f64, TrainError> {
    let tr = net.forward(&data.inputs, engine, false)?;
    Ok(super::adding::mse(&tr.predictions, &data.targets))
}

/// One training run from `opts.seed`; `prune` turns SparseTrain's gradient pruning on. `progress` gets
/// every curve point as it is made.
pub fn train_run(
    params: &Params,
    opts: &DemoOptions,
    prune: bool,
    progress: &mut dyn FnMut(bool, &CurvePoint),
) -> Result<RunReport, TrainError> {
    check_options(params, opts)?;
    let start = Instant::now();
    let shape = opts.shape_for(params);
    let mut root = SplitMix64::new(opts.seed);
    let (mut init_rng, mut data_rng, mut eval_rng) = (root.fork(1), root.fork(2), root.fork(3));
    let mut net = Tcn::new(shape.clone(), &mut init_rng);
    let eval = adding_batch(opts.eval_samples, opts.len, &mut eval_rng);
    let pruning =
        if prune { Some(Pruning::new(params.act_bits, opts.target_sparsity, opts.lfsr_seed)?) } else { None };
    // The sample comes from the first conv of the second block: dilated, hidden channels on both sides,
    // and early enough that its output gradient is dense enough to need pruning (later layers see
    // only the last step's gradient and are sparse anyway).
    // (Layer 0 has no input-gradient job: the network's input needs no gradient.)
    let sample_layer = opts.convs_per_block.min(shape.conv_count() - 1);
    let mut engine = ArrayEngine::new(params.clone(), pruning, sample_layer)?;
    let mut adam = Adam::new(opts.lr);
    let mut curve = Vec::new();
    let mut dense_steps = 0;
    let (mut sum, mut count) = (0.0, 0usize);
    for step in 1..=opts.steps {
        let batch = adding_batch(opts.batch, opts.len, &mut data_rng);
        engine.dense_reference = opts.dense_every > 0 && (step % opts.dense_every == 0 || step == opts.steps);
        let trace = net.forward(&batch.inputs, &mut engine, true)?;
        let (loss, grads) = net.backward(&trace, &batch.targets, &mut engine)?;
        adam.lr = opts.lr_at(step);
        adam.step(&mut net, &grads);
        sum += loss;
        count += 1;
        dense_steps += engine.dense_reference as usize;
        if step % opts.log_every == 0 || step == opts.steps {
            let point = CurvePoint {
                step,
                train_loss: sum / count as f64,
                eval_loss: eval_loss(&net, &eval, &mut engine)?,
            };
            progress(prune, &point);
            curve.push(point);
            (sum, count) = (0.0, 0);
        }
    }
    Ok(RunReport {
        pruned: prune,
        dense_steps,
        final_loss: curve.last().expect("steps >= 1").eval_loss,
        curve,
        layers: engine.layers.clone(),
        sample: engine.sample.clone(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Both runs, side by side on two threads (they share nothing but the inputs).
pub fn run_demo(
    config: &str,
    params: &Params,
    opts: &DemoOptions,
    progress: &(dyn Fn(bool, &CurvePoint) + Sync),
) -> Result<DemoReport, TrainError> {
    check_options(params, opts)?;
    let (unpruned, pruned) = std::thread::scope(|s| {
        let pruned = s.spawn(|| train_run(params, opts, true, &mut |p, c| progress(p, c)));
        let unpruned = train_run(params, opts, false, &mut |p, c| progress(p, c));
        (unpruned, pruned.join().expect("the pruned run panicked"))
    });
    let shape = opts.shape_for(params);
    let net = Tcn::new(shape.clone(), &mut SplitMix64::new(0));
    Ok(DemoReport {
        format_version: 1,
        config: config.to_string(),
        options: opts.clone(),
        parameters: net.parameter_count(),
        receptive_field: shape.receptive_field(),
        unpruned: unpruned?,
        pruned: pruned?,
    })
}

/// The jobs to cross-check in RTL: the busiest forward, input-gradient and weight-gradient job of the
/// sampled layer in the pruned run's last step (so the gradient streams are the pruned ones).
pub fn sample_jobs(report: &DemoReport) -> Vec<crate::model::sparse_array::Job> {
    report.pruned.sample.jobs()
}
