//! Running a compiled [`Program`]: accelerator layers on a system-top backend ([`Accelerator`]: the
//! plain integer reference, the cycle-exact model, or the RTL in Verilator), host steps in float on
//! dequantized inputs (the host fallback); a float tensor is quantized where an accelerator layer
//! reads it.

use super::program::{layer_images, layer_output, AccelLayer, Program, Step};
use super::{float, intconv, Value};
use crate::model::system as model;
use crate::rng::SplitMix64;
use crate::system::cases::{stimulus, Pacing};
use crate::system::layout::{unpack_output, ConvJob, Word};
use crate::system::plan::{assemble, plan_layer};
use crate::system::{reference, JobError, SystemParams};
use anyhow::{bail, ensure, Context, Result};
use ndarray::{Array3, ArrayD, Axis};
use serde::Serialize;
use std::collections::HashMap;

/// One system run's results: each job's output (HWC) and the CYCLES register, if the backend counts.
pub struct JobsRun {
    pub outputs: Vec<Array3<i8>>,
    pub cycles: Option<u64>,
}

/// A system top that runs a layer's jobs (one run: START to DONE, frames back to back).
pub trait Accelerator {
    fn run_jobs(&mut self, jobs: &[ConvJob]) -> Result<JobsRun>;

    /// A whole layer on one image (HWC) without jobs, for a backend that needs none ([`Fast`]);
    /// `None`: plan the layer's jobs and run them.
    fn layer(&mut self, _image: &Array3<i8>, _l: &AccelLayer) -> Option<Array3<i8>> {
        None
    }
}

/// The plain integer convolution of `system::reference` (fast; no cycle counts).
pub struct Reference;

impl Accelerator for Reference {
    fn run_jobs(&mut self, jobs: &[ConvJob]) -> Result<JobsRun> {
        Ok(JobsRun { outputs: jobs.iter().map(reference::conv).collect(), cycles: None })
    }
}

/// The layer as one fast integer convolution ([`intconv::conv_layer`]): the values of the system
/// top without its jobs or cycles (`accelc run --fast` takes the cycles compile measured).
pub struct Fast;

impl Accelerator for Fast {
    fn run_jobs(&mut self, jobs: &[ConvJob]) -> Result<JobsRun> {
        let outputs = jobs
            .iter()
            .map(|j| {
                intconv::conv_layer(
                    j.x.view(),
                    &j.w,
                    &j.requant,
                    &j.desc.geometry(),
                    j.desc.out_zp,
                    j.desc.relu(),
                )
            })
            .collect();
        Ok(JobsRun { outputs, cycles: None })
    }

    fn layer(&mut self, image: &Array3<i8>, l: &AccelLayer) -> Option<Array3<i8>> {
        Some(intconv::conv_layer(image.view(), &l.weights, &l.requant, &l.geometry(), l.out_zp, l.relu))
    }
}

/// The system top's cycle-exact model, streams at full speed.
pub struct CycleModel {
    pub sp: SystemParams,
}

/// Splits a run's output words into the jobs' outputs.
pub fn job_outputs(sp: &SystemParams, jobs: &[ConvJob], words: &[Word]) -> Result<Vec<Array3<i8>>> {
    let mut at = 0;
    let mut outs = Vec::with_capacity(jobs.len());
    for job in jobs {
        let n = job.desc.shape(sp).out_words;
        let w = words.get(at..at + n).context("the run returned fewer output words than its jobs make")?;
        outs.push(unpack_output(sp, &job.desc, w));
        at += n;
    }
    ensure!(at == words.len(), "the run returned {} output words, its jobs make {at}", words.len());
    Ok(outs)
}

/// The ERROR register as an error.
pub fn check_error(code: u32, job: u32) -> Result<()> {
    if code != 0 {
        let name = JobError::ALL.iter().find(|e| e.code() == code).map_or("?", |e| e.name());
        bail!("the system top stopped with ERROR = {code} ({name}) at job {job}");
    }
    Ok(())
}

impl Accelerator for CycleModel {
    fn run_jobs(&mut self, jobs: &[ConvJob]) -> Result<JobsRun> {
        let stim = stimulus(&self.sp, jobs, Pacing::FULL_SPEED, &mut SplitMix64::new(0));
        let run = model::run(&self.sp, self.sp.acc_bits, &stim, u64::MAX).map_err(anyhow::Error::msg)?;
        check_error(run.regs.error, run.regs.error_job)?;
        let words: Vec<Word> = run.outputs.into_iter().map(|o| o.word).collect();
        Ok(JobsRun { outputs: job_outputs(&self.sp, jobs, &words)?, cycles: Some(run.regs.cycles) })
    }
}

/// A tensor of the int pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Tensor {
    /// int8 values, their scales (one, or one per channel: axis 1) and zero point: value = (q - zp) x
    /// scale.
    Q(ArrayD<i8>, Vec<f64>, i8),
    /// Float (the graph outputs).
    F(ArrayD<f32>),
    /// int64 (shapes, indices).
    I(ArrayD<i64>),
}

impl Tensor {
    /// The value the float executor sees (int8 dequantized).
    pub fn value(&self) -> Value {
        match self {
            Tensor::Q(q, s, zp) => {
                let mut f = q.mapv(|v| (v as f64 - *zp as f64) as f32);
                match s.as_slice() {
                    [s] => f.mapv_inplace(|v| (v as f64 * s) as f32),
                    s => {
                        for (mut plane, &sc) in f.axis_iter_mut(Axis(1)).zip(s) {
                            plane.mapv_inplace(|v| (v as f64 * sc) as f32);
                        }
                    }
                }
                Value::F32(f)
            }
            Tensor::F(a) => Value::F32(a.clone()),
            Tensor::I(a) => Value::I64(a.clone()),
        }
    }

    pub fn float(&self) -> Option<ArrayD<f32>> {
        match self.value() {
            Value::F32(a) => Some(a),
            Value::I64(_) => None,
        }
    }
}

/// Quantizes to int8 with `scale` and zero point `zp`: round half away from zero, plus zp,
/// saturated to [-128, 127] like the system top's output stage.
pub fn quantize(a: &ArrayD<f32>, scale: f64, zp: i8) -> ArrayD<i8> {
    a.mapv(|v| ((v as f64 / scale).round() + zp as f64).clamp(-128.0, 127.0) as i8)
}

/// One accelerator layer's figures in a run (all images of the batch).
#[derive(Debug, Clone, Serialize)]
pub struct LayerRecord {
    pub name: String,
    pub output: String,
    pub jobs: usize,
    pub macs: u64,
    pub cycles: Option<u64>,
    /// MACs / (cycles x R x C).
    pub utilization: Option<f64>,
}

/// The result of a run: every tensor, the graph outputs in float, and the accelerator layers' figures.
pub struct IntRun {
    pub tensors: HashMap<String, Tensor>,
    pub outputs: Vec<(String, ArrayD<f32>)>,
    pub layers: Vec<LayerRecord>,
}

impl IntRun {
    pub fn cycles(&self) -> Option<u64> {
        self.layers.iter().map(|l| l.cycles).sum()
    }
}

/// Runs `program` on `x` (float, the graph input's shape with any batch), one image at a time; the
/// run's tensors are the last image's, its outputs are stacked along axis 0 and its layer figures
/// summed. `progress` is called after each step with (steps done, steps in all).
pub fn run(
    program: &Program,
    sp: &SystemParams,
    x: &ArrayD<f32>,
    acc: &mut dyn Accelerator,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<IntRun> {
    let n = x.shape().first().copied().unwrap_or(0);
    let steps = program.steps.len();
    let mut runs = Vec::with_capacity(n);
    for (b, image) in x.axis_chunks_iter(Axis(0), 1).enumerate() {
        runs.push(run_one(program, sp, &image.to_owned(), acc, &mut |i, _| {
            progress(b * steps + i, n * steps)
        })?);
    }
    let mut last = runs.pop().context("an empty batch")?;
    for (o, (_, y)) in last.outputs.iter_mut().enumerate() {
        let views: Vec<_> = runs.iter().map(|r| r.outputs[o].1.view()).chain([y.view()]).collect();
        *y = ndarray::concatenate(Axis(0), &views)?;
    }
    for r in &runs {
        for (total, l) in last.layers.iter_mut().zip(&r.layers) {
            total.jobs += l.jobs;
            total.macs += l.macs;
            total.cycles = total.cycles.zip(l.cycles).map(|(a, b)| a + b);
        }
    }
    for l in &mut last.layers {
        l.utilization = l.cycles.map(|c| utilization(sp, l.macs, c));
    }
    Ok(last)
}

/// Runs `program` on one image (batch 1).
fn run_one(
    program: &Program,
    sp: &SystemParams,
    x: &ArrayD<f32>,
    acc: &mut dyn Accelerator,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<IntRun> {
    ensure!(
        (sp.rows, sp.cols) == (program.rows, program.cols),
        "the program was compiled for a {}x{} array, the system top is {}x{}",
        program.rows,
        program.cols,
        sp.rows,
        sp.cols
    );
    ensure!(
        x.shape() == program.input_shape,
        "input shape {:?}: the program takes {:?} (any batch)",
        x.shape(),
        program.input_shape
    );
    let mut env: HashMap<String, Tensor> = HashMap::new();
    env.insert(program.input.clone(), Tensor::F(x.clone()));
    let mut layers = Vec::new();
    for (i, step) in program.steps.iter().enumerate() {
        match step {
            Step::Accel(l) => {
                let (y, record) =
                    run_layer(sp, l, &env, acc).with_context(|| format!("layer {:?}", l.name))?;
                let scales = if l.out_channel_scales.is_empty() {
                    vec![l.out_scale]
                } else {
                    l.out_channel_scales.clone()
                };
                env.insert(l.output.clone(), Tensor::Q(y, scales, l.out_zp));
                layers.push(record);
            }
            Step::Host(node) => {
                // float and int64 tensors are lent to the step (moved in and back), int8 ones dequantized
                let mut values: HashMap<String, Value> = HashMap::new();
                let mut lent = Vec::new();
                for name in node.inputs.iter().filter(|n| !n.is_empty()) {
                    if values.contains_key(name) {
                        continue;
                    }
                    let v = match (program.constants.get(name), env.get(name)) {
                        (Some(c), _) => c.clone(),
                        (None, Some(Tensor::Q(..))) => env[name].value(),
                        (None, Some(_)) => {
                            lent.push(name.clone());
                            match env.remove(name) {
                                Some(Tensor::F(a)) => Value::F32(a),
                                Some(Tensor::I(a)) => Value::I64(a),
                                _ => unreachable!("a float or int64 tensor"),
                            }
                        }
                        (None, None) => bail!("node {:?}: input {name:?} has no value", node.name),
                    };
                    values.insert(name.clone(), v);
                }
                let outs = float::eval(node, &values)
                    .map_err(|why| anyhow::anyhow!("node {:?} ({}): {why}", node.name, node.op.name()))?;
                for name in lent {
                    let t = match values.remove(&name) {
                        Some(Value::F32(a)) => Tensor::F(a),
                        Some(Value::I64(a)) => Tensor::I(a),
                        None => unreachable!("lent above"),
                    };
                    env.insert(name, t);
                }
                for (name, v) in node.outputs.iter().zip(outs) {
                    let t = match v {
                        Value::I64(a) => Tensor::I(a),
                        Value::F32(a) => Tensor::F(a),
                    };
                    env.insert(name.clone(), t);
                }
            }
        }
        progress(i + 1, program.steps.len());
    }
    let outputs = program
        .outputs
        .iter()
        .map(|o| {
            Ok((
                o.clone(),
                env.get(o)
                    .and_then(Tensor::float)
                    .with_context(|| format!("output {o:?} has no float value"))?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(IntRun { tensors: env, outputs, layers })
}

/// One accelerator layer on every image of its input.
fn run_layer(
    sp: &SystemParams,
    l: &AccelLayer,
    env: &HashMap<String, Tensor>,
    acc: &mut dyn Accelerator,
) -> Result<(ArrayD<i8>, LayerRecord)> {
    // an accelerator layer's output is already int8 at the scale its reader expects; a host result is quantized here
    let x = match env.get(&l.input) {
        Some(Tensor::Q(q, s, zp)) if *s == [l.in_scale] && *zp == l.in_zp => q.clone(),
        Some(t) => quantize(&t.float().context("an int64 input")?, l.in_scale, l.in_zp),
        None => bail!("input {:?} has no value", l.input),
    };
    let x = &x;
    let mut images = Vec::new();
    let (mut jobs_n, mut macs, mut cycles) = (0, 0, Some(0u64));
    for image in layer_images(l.kind, x)? {
        if let Some(y) = acc.layer(&image, l) {
            (jobs_n, macs, cycles) = (jobs_n + l.jobs.len(), macs + l.macs, None);
            images.push(y);
            continue;
        }
        let plan = plan_layer(sp, &image, &l.weights, &l.requant, &l.geometry(), l.out_zp, l.relu)?;
        let jobs: Vec<ConvJob> = plan.iter().map(|p| p.job.clone()).collect();
        let r = acc.run_jobs(&jobs)?;
        jobs_n += jobs.len();
        macs += jobs.iter().map(|j| j.desc.macs()).sum::<u64>();
        cycles = cycles.zip(r.cycles).map(|(a, b)| a + b);
        images.push(assemble(&plan, &r.outputs, l.weights.dim().0));
    }
    let utilization = cycles.map(|c| utilization(sp, macs, c));
    let record = LayerRecord {
        name: l.name.clone(),
        output: l.output.clone(),
        jobs: jobs_n,
        macs,
        cycles,
        utilization,
    };
    Ok((layer_output(l.kind, images), record))
}

/// Useful MACs per PE per cycle: MACs / (cycles x R x C).
pub fn utilization(sp: &SystemParams, macs: u64, cycles: u64) -> f64 {
    macs as f64 / (cycles as f64 * (sp.rows * sp.cols) as f64)
}

/// Gives a run on a backend without cycles (`Reference`) each layer's cycles as measured at compile,
/// times the batch: exact, because the system's timing depends on the jobs and weights, not on the
/// activations.
pub fn measured_cycles(program: &Program, run: &mut IntRun, batch: usize, sp: &SystemParams) {
    for (l, r) in program.layers().zip(&mut run.layers) {
        r.cycles = l.cycles.map(|c| c * batch as u64);
        r.utilization = r.cycles.map(|c| utilization(sp, r.macs, c));
    }
}

/// Signal-to-quantization-noise ratio of `q` against the float `f` (same shape), in dB (infinite when equal).
pub fn sqnr_db(f: &ArrayD<f32>, q: &ArrayD<f32>) -> f64 {
    assert_eq!(f.shape(), q.shape(), "SQNR of tensors of different shapes");
    let signal: f64 = f.iter().map(|&v| (v as f64).powi(2)).sum();
    let noise: f64 = f.iter().zip(q).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
    10.0 * (signal / noise).log10()
}

/// The generated system RTL in Verilator (the testbench of `make verify`), streams at full speed.
pub struct Rtl {
    pub sp: SystemParams,
    tb: crate::tools::verilator::Testbench,
    work: std::path::PathBuf,
    runs: usize,
}

impl Rtl {
    /// Generates the config's system top and builds (or reuses) its testbench under `build_root`;
    /// runs write their stimulus and trace under `work`.
    pub fn build(
        config: &crate::config::Config,
        build_root: &std::path::Path,
        work: std::path::PathBuf,
    ) -> Result<Rtl> {
        let sp = SystemParams::of(config).context("the config has no [system] table")?;
        let design = crate::rtl::generate(config)?;
        let tb = crate::verify::system::build(&sp, &design, build_root, Default::default())?;
        Ok(Rtl { sp, tb, work, runs: 0 })
    }
}

impl Accelerator for Rtl {
    fn run_jobs(&mut self, jobs: &[ConvJob]) -> Result<JobsRun> {
        use crate::verify::system::{run_rtl, word_from_hex};
        let stim = stimulus(&self.sp, jobs, Pacing::FULL_SPEED, &mut SplitMix64::new(0));
        let out_words: usize = jobs.iter().map(|j| j.desc.shape(&self.sp).out_words).sum();
        // generous: the system takes about one edge per beat plus the array's compute edges
        let macs: u64 = jobs.iter().map(|j| j.desc.macs()).sum();
        let limit = 8 * (stim.beats.len() + out_words) as u64 + macs + 100_000;
        let work = self.work.join(format!("run{}", self.runs));
        self.runs += 1;
        let trace = run_rtl(&self.tb, &stim, &work, limit)?;
        let reg = |n: &str| trace.regs.get(n).copied().unwrap_or(0);
        check_error(reg("ERROR") as u32, reg("ERROR_JOB") as u32)?;
        let words: Vec<Word> =
            trace.outs.iter().map(|(_, _, hex)| word_from_hex(hex, self.sp.cols)).collect::<Result<_>>()?;
        let _ = std::fs::remove_dir_all(&work);
        Ok(JobsRun {
            outputs: job_outputs(&self.sp, jobs, &words)?,
            cycles: Some(reg("CYCLES_LO") | reg("CYCLES_HI") << 32),
        })
    }
}

/// The accelerator layers' int8 outputs in a run of one image, checked against plain float
/// arithmetic: the float convolution of the dequantized int8 input ((q - in_zp) x in_scale) and
/// weights plus the model's float bias, ReLU, divided by the channel's output scale plus the output
/// zero point, must be within 1 step of the int8 output wherever it is inside the int8 range. One
/// line per layer that is not.
pub fn check_layers(program: &Program, run: &IntRun) -> Vec<String> {
    let mut problems = Vec::new();
    for l in program.layers() {
        let (Some(input), Some(Tensor::Q(y, _, _))) = (run.tensors.get(&l.input), run.tensors.get(&l.output))
        else {
            problems.push(format!("{}: input or output missing from the run", l.name));
            continue;
        };
        let Some(xf) = input.float() else { continue };
        let xq = quantize(&xf, l.in_scale, l.in_zp).mapv(|v| (v as f64 - l.in_zp as f64) * l.in_scale);
        let (o, kh, kw, i) = l.weights.dim();
        let w = |co: usize, ky: usize, kx: usize, ci: usize| {
            l.weights[(co, ky, kx, ci)] as f64 * l.weight_scales[co]
        };
        // the model's float bias, not the records': a wrong integer bias (or zero-point fold) shows
        let bias = |co: usize| l.bias.get(co).map_or(0.0, |&b| b as f64);
        let mut worst = 0f64;
        let out_scales = l.out_scales();
        let mut check = |co: usize, exact: f64, got: i8| {
            let v = if l.relu { exact.max(0.0) } else { exact } / out_scales[co] + l.out_zp as f64;
            if (-128.0..127.0).contains(&v) {
                worst = worst.max((v - got as f64).abs());
            }
        };
        match xq.shape() {
            // NCHW conv, batch 1
            &[1, _, h, wd] => {
                let (oh, ow) = (y.shape()[2], y.shape()[3]);
                for co in 0..o {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let mut acc = bias(co);
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (oy * l.stride[0] + ky * l.dilation[0]) as i64 - l.pad[0] as i64;
                                    let ix = (ox * l.stride[1] + kx * l.dilation[1]) as i64 - l.pad[1] as i64;
                                    if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                        continue;
                                    }
                                    for ci in 0..i {
                                        acc += w(co, ky, kx, ci) * xq[[0, ci, iy as usize, ix as usize]];
                                    }
                                }
                            }
                            check(co, acc, y[[0, co, oy, ox]]);
                        }
                    }
                }
            }
            // M x K matmul
            &[m, _] => {
                for r in 0..m {
                    for co in 0..o {
                        let acc = bias(co) + (0..i).map(|ci| w(co, 0, 0, ci) * xq[[r, ci]]).sum::<f64>();
                        check(co, acc, y[[r, co]]);
                    }
                }
            }
            s => problems.push(format!("{}: input shape {s:?}", l.name)),
        }
        if worst > 1.0 {
            problems.push(format!("{}: an output is {worst:.2} steps from the float arithmetic", l.name));
        }
    }
    problems
}
