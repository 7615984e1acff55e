//! Evaluating points: each point needs one model job (design x workload: cycles and energy) and one
//! synthesis job (design x target: area, Fmax); points share jobs, so each job runs once. Jobs run
//! on a small thread pool, the costliest first so that the last job to finish is a short one.

use super::points::{Plan, Point};
use super::progress::Progress;
use super::record::{PointRecord, Status};
use crate::energy::{energy, EnergyTable, OpCounts};
use crate::model::run_gemm;
use crate::synth::fpga::{self, FpgaOptions, PlaceRoute, Target};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Where each design's Verilog is written (`<dir>/<design>-<target>/`).
    pub design_dir: PathBuf,
    /// The synthesis cache (`rtl_out/.synth`); None to always run the tools.
    pub cache_dir: Option<PathBuf>,
    /// Worker threads.
    pub jobs: usize,
    /// Print progress on stderr.
    pub progress: bool,
}

/// Cycles and energy of a design on a workload, summed over its layers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelResult {
    pub cycles: u64,
    pub macs: u64,
    pub energy_pj: f64,
    pub core_energy_pj: f64,
}

/// Area and timing of a design on a target.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthResult {
    pub status: Status,
    pub note: String,
    pub area: Option<u64>,
    pub area_unit: String,
    pub cells: Option<u64>,
    pub flip_flops: Option<u64>,
    pub dsp: Option<u64>,
    pub fmax_mhz: Option<f64>,
    /// The figures came from the cache (not written to any output: it would break byte equality).
    pub cached: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Synth { design: usize, target: usize },
    Model { design: usize, workload: usize },
}

enum Outcome {
    Synth(SynthResult),
    Model(Result<ModelResult, String>),
}

/// The records of the evaluated points (in point order) and what it took.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub records: Vec<PointRecord>,
    pub synth_jobs: usize,
    /// Synthesis jobs answered by the cache.
    pub synth_cached: usize,
    pub model_jobs: usize,
}

/// Evaluates `points` of `plan`.
pub fn evaluate(plan: &Plan, points: &[Point], opts: &EvalOptions) -> Evaluation {
    let mut jobs: Vec<Job> = points
        .iter()
        .flat_map(|p| {
            [
                Job::Synth { design: p.design, target: p.target },
                Job::Model { design: p.design, workload: p.workload },
            ]
        })
        .collect();
    jobs.sort();
    jobs.dedup();
    jobs.sort_by_key(|j| std::cmp::Reverse(cost(plan, j)));
    let progress = Progress::new(jobs.len(), opts.progress);
    let outcomes = run_parallel(&jobs, opts.jobs, |job| {
        let label = label(plan, job);
        progress.start(&label);
        let outcome = match *job {
            Job::Synth { design, target } => Outcome::Synth(synth_job(plan, design, target, opts)),
            Job::Model { design, workload } => Outcome::Model(
                cached_model_job(plan, design, workload, opts.cache_dir.as_deref())
                    .map_err(|e| format!("{e:#}")),
            ),
        };
        let cached = matches!(&outcome, Outcome::Synth(s) if s.cached);
        progress.finish(&label, cached);
        outcome
    });
    progress.done();
    let mut synth = BTreeMap::new();
    let mut model = BTreeMap::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match (job, outcome) {
            (Job::Synth { design, target }, Outcome::Synth(s)) => {
                synth.insert((*design, *target), s);
            }
            (Job::Model { design, workload }, Outcome::Model(m)) => {
                model.insert((*design, *workload), m);
            }
            _ => unreachable!("an outcome answers its own job"),
        }
    }
    let records = points
        .iter()
        .map(|p| record(plan, p, &synth[&(p.design, p.target)], &model[&(p.design, p.workload)]))
        .collect();
    Evaluation {
        records,
        synth_jobs: synth.len(),
        synth_cached: synth.values().filter(|s| s.cached).count(),
        model_jobs: model.len(),
    }
}

fn record(plan: &Plan, p: &Point, s: &SynthResult, m: &Result<ModelResult, String>) -> PointRecord {
    let design = &plan.designs[p.design];
    let (status, note, mr) = match m {
        Ok(mr) => (s.status, s.note.clone(), mr.clone()),
        Err(e) => (
            Status::Failed,
            format!("model: {e}"),
            ModelResult { cycles: 0, macs: 0, energy_pj: 0.0, core_energy_pj: 0.0 },
        ),
    };
    PointRecord {
        index: p.index,
        design: design.config.name.clone(),
        workload: plan.workloads[p.workload].name.clone(),
        target: plan.space.targets[p.target].label(),
        values: design.values.iter().map(|(_, v)| v.clone()).collect(),
        status,
        note,
        cycles: mr.cycles,
        macs: mr.macs,
        energy_pj: mr.energy_pj,
        core_energy_pj: mr.core_energy_pj,
        area: s.area,
        area_unit: s.area_unit.clone(),
        cells: s.cells,
        flip_flops: s.flip_flops,
        dsp: s.dsp,
        fmax_mhz: s.fmax_mhz,
    }
}

/// A rough relative cost, only to order jobs (measured on the example space: a 4x4 16-bit SAC array
/// takes ~4 minutes on ice40, a 16x16 8-bit one 13 s on generic gates); model runs are cheap next to
/// synthesis.
fn cost(plan: &Plan, job: &Job) -> u64 {
    match *job {
        Job::Synth { design, target } => {
            let p = plan.designs[design].config.params();
            let pes = (p.rows * p.cols) as u64;
            let width = (p.weight_bits + p.act_bits) as u64;
            let sac = p.kind == crate::config::PeKind::Sac;
            let factor = match (plan.space.targets[target].target, sac) {
                (Target::Generic, false) => 1,
                (Target::Generic, true) => 4,
                (_, false) => 3,
                (_, true) => 160,
            };
            1_000 * pes * width * factor
        }
        Job::Model { design, workload } => {
            let p = plan.designs[design].config.params();
            plan.workloads[workload].macs() / (p.rows * p.cols) as u64 / 1_000
        }
    }
}

fn label(plan: &Plan, job: &Job) -> String {
    match *job {
        Job::Synth { design, target } => {
            format!("synth {} {}", plan.designs[design].config.name, plan.space.targets[target].label())
        }
        Job::Model { design, workload } => {
            format!("model {} {}", plan.designs[design].config.name, plan.workloads[workload].name)
        }
    }
}

/// Runs `f` on every item on `threads` workers; results in item order. A panic in `f` ends its worker
/// and is re-raised once the others have drained the queue (`std::thread::scope`).
pub fn run_parallel<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().expect("no worker panicked holding the lock")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("workers finished").into_iter().map(|r| r.expect("every job ran")).collect()
}

/// [`model_job`] through a cache in `<cache_dir>/explore-model/`. The key holds a hash of the running
/// accelc executable besides the config, layers and seed: results are reused only by the very build
/// that computed them, so a change to the model can never be hidden by a stale entry.
fn cached_model_job(
    plan: &Plan,
    d: usize,
    w: usize,
    cache_dir: Option<&std::path::Path>,
) -> Result<ModelResult> {
    let Some(entry) = cache_dir.and_then(|dir| {
        model_cache_key(plan, d, w).map(|k| dir.join("explore-model").join(format!("{k}.json")))
    }) else {
        return model_job(plan, d, w);
    };
    if let Some(r) = std::fs::read_to_string(&entry).ok().and_then(|t| serde_json::from_str(&t).ok()) {
        return Ok(r);
    }
    let r = model_job(plan, d, w)?;
    std::fs::create_dir_all(entry.parent().expect("an entry has a folder"))?;
    let tmp = entry.with_extension(format!("tmp-{}-{d}-{w}", crate::fsutil::unique_suffix()));
    std::fs::write(&tmp, serde_json::to_string(&r)?)?;
    std::fs::rename(&tmp, &entry)?;
    Ok(r)
}

/// None when the executable cannot be read (then nothing is cached).
fn model_cache_key(plan: &Plan, d: usize, w: usize) -> Option<String> {
    use sha2::{Digest, Sha256};
    static EXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let exe = EXE.get_or_init(|| {
        let bytes = std::fs::read(std::env::current_exe().ok()?).ok()?;
        Some(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
    });
    let mut h = Sha256::new();
    h.update(exe.as_ref()?.as_bytes());
    h.update(serde_json::to_string(&plan.designs[d].config).expect("config serializes").as_bytes());
    h.update(plan.space.seed.to_le_bytes());
    for l in &plan.workloads[w].layers {
        h.update(format!("{} {} {} {} {};", l.name, l.m, l.n, l.k, l.weights.describe()).as_bytes());
        // The shipped weights are data, not code: their values go into the key too.
        if let super::workload::Weights::Layer(layer) = &l.weights {
            layer.weights.iter().for_each(|x| h.update(x.to_le_bytes()));
        }
    }
    Some(h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect())
}

/// Cycles and energy of design `d` on workload `w`: every layer through the reference model.
pub fn model_job(plan: &Plan, d: usize, w: usize) -> Result<ModelResult> {
    let p = plan.designs[d].config.params();
    let table = EnergyTable::horowitz_45nm();
    let mut r = ModelResult { cycles: 0, macs: 0, energy_pj: 0.0, core_energy_pj: 0.0 };
    for (i, layer) in plan.workloads[w].layers.iter().enumerate() {
        let (a, b) = layer.operands(&p, plan.space.seed, i)?;
        let run = run_gemm(&p, &a, &b);
        let e = energy(&OpCounts::from_run(&p, &run, layer.k), &table);
        r.cycles += run.cycles;
        r.macs += (layer.m * layer.n * layer.k) as u64;
        r.energy_pj += e.total_pj;
        r.core_energy_pj += e.core_pj;
    }
    Ok(r)
}

/// Area and timing of design `d` on target `t`; a tool failure is a failed result, not an error, so
/// one bad point does not stop the exploration.
fn synth_job(plan: &Plan, d: usize, t: usize, opts: &EvalOptions) -> SynthResult {
    synth_figures(plan, d, t, opts).unwrap_or_else(|e| SynthResult {
        status: Status::Failed,
        note: format!("synthesis: {e:#}").replace('\n', " "),
        area: None,
        area_unit: String::new(),
        cells: None,
        flip_flops: None,
        dsp: None,
        fmax_mhz: None,
        cached: false,
    })
}

fn synth_figures(plan: &Plan, d: usize, t: usize, opts: &EvalOptions) -> Result<SynthResult> {
    let config = &plan.designs[d].config;
    let spec = &plan.space.targets[t];
    let design = crate::rtl::generate(config)?;
    let dir = opts.design_dir.join(format!("{}-{}", config.name, spec.label()));
    design.write_dir(&dir).with_context(|| format!("writing {}", dir.display()))?;
    let sources: Vec<(String, String)> =
        design.files.iter().filter(|(n, _)| n.ends_with(".v")).cloned().collect();
    let cache = opts.cache_dir.as_deref();
    if spec.target == Target::Generic {
        let s = crate::synth::synthesize(&dir, &design.top, &sources, cache, &|| {})?;
        return Ok(SynthResult {
            status: Status::Ok,
            note: String::new(),
            area: Some(s.report.transistors),
            area_unit: "transistors".into(),
            cells: Some(s.report.cells),
            flip_flops: Some(s.report.flip_flops),
            dsp: None,
            fmax_mhz: None,
            cached: s.cached,
        });
    }
    let fpga_opts = FpgaOptions {
        target: spec.target,
        device: spec.device.clone(),
        freq_mhz: spec.freq_mhz,
        seed: spec.seed,
        placer: None,
    };
    let s = fpga::synthesize(config, &dir, &design.top, &sources, &fpga_opts, cache, &|| {})?;
    let r = &s.result;
    let used = |names: &[&str]| names.iter().find_map(|n| r.resource(n)).map(|x| x.used);
    let (status, note) = match &r.place_route {
        PlaceRoute::DoesNotFit { message, .. } => (Status::DoesNotFit, message.clone()),
        _ => (Status::Ok, String::new()),
    };
    let unit = if spec.target == Target::Xilinx { "LUT" } else { "LUT4" };
    Ok(SynthResult {
        status,
        note,
        area: used(&[unit]),
        area_unit: unit.into(),
        cells: None,
        flip_flops: used(&["DFF", "FF"]),
        dsp: used(&["DSP", "MULT18", "DSP48E1"]),
        fmax_mhz: r.fmax_mhz(),
        cached: s.cached,
    })
}
