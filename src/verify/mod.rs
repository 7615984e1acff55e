//! Verification of generated RTL against the reference model through Verilator.
//!
//! For a config: generate the Verilog (`crate::rtl::generate`), render the generic testbench
//! (`templates/tb_top.cpp.tera` + `sim/accelc_tb.h`) from the streaming interface, build it once
//! (cached by a hash of everything that goes into it, `crate::tools::verilator`), then for each case
//! from the seeded generator (`vectors`: GEMMs for MAC and SAC arrays; `sparse_vectors`: conv1d jobs for
//! sparse row arrays, whose gradient pruning unit `prune_unit` checks on its own testbench): run the
//! model, write its input beats as the stimulus (`format`), run the testbench under a cycle limit, and
//! compare every input beat's taken edge and every output beat's edge and bits, and the number of
//! beats (`compare`); `check::check_run` is that one path, for every caller. The run ends with one
//! sentinel line:
//!
//! `verify <name>: PASS <N> cases, 0 mismatches, cycles model=<sum> rtl=<sum>`, or
//! `verify <name>: FAIL <F> of <N> cases, <X> mismatches, cycles model=<sum> rtl=<sum>`.
//!
//! A failing case (of the array or of the pruning unit) is written to
//! `rtl_out/failures/<top>-seed<S>-case<I>/` (config, operands, stimulus, expected and got traces, the
//! Verilog it ran, `case.json`, a README of what differed; with `--wave-on-fail` also `wave.vcd`) and
//! `accelc replay <dir> [--wave FILE.vcd|FILE.fst]` runs it again.

pub mod check;
pub mod compare;
pub mod format;
pub mod harness;
pub mod prune_unit;
pub mod sparse_vectors;
pub mod system;
pub mod vectors;

pub use check::{check_run, Checked};

use crate::config::{Config, Params};
use crate::interface::Interface;
use crate::model::prune_unit::{self as prune_model, PruneCase};
use crate::model::sparse_array::{self, Feed, Job};
use crate::model::{run_gemm, Matrix, Traced};
use crate::rtl::Design;
use crate::tools::verilator::{Testbench, WaveFormat};
use anyhow::{Context, Result};
use clap::Args;
use harness::Limits;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The operands of one case: a GEMM (MAC and SAC arrays), conv1d jobs (sparse row arrays), or
/// gradients for the pruning unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseData {
    Gemm { a: Matrix, b: Matrix },
    Jobs(Vec<Job>),
    Prune(PruneCase),
}

/// Which block of a config a design under verification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// The array (`crate::rtl::generate`): MAC, SAC or sparse rows.
    #[default]
    Array,
    /// The gradient pruning unit of a sparse_1d config (`crate::rtl::generate_prune_unit`).
    PruneUnit,
}

impl Block {
    /// The block's design, generated from the config.
    pub fn generate(self, config: &Config) -> Result<Design> {
        match self {
            Block::Array => crate::rtl::generate(config),
            Block::PruneUnit => crate::rtl::generate_prune_unit(config),
        }
    }

    /// The streaming interface of the block's top.
    pub fn interface(self, p: &Params) -> Interface {
        match self {
            Block::Array => Interface::of(p),
            Block::PruneUnit => prune_model::interface(p.act_bits),
        }
    }
}

/// A generated (or given) case: where it comes from, what it is, its operands.
#[derive(Debug, Clone)]
pub struct CaseSpec {
    pub seed: u64,
    pub index: usize,
    pub description: String,
    pub data: CaseData,
}

impl CaseSpec {
    /// Case `index` of `seed` for `block` of the config `p`.
    pub fn generate_for(block: Block, p: &Params, seed: u64, index: usize) -> CaseSpec {
        match block {
            Block::Array => CaseSpec::generate(p, seed, index),
            Block::PruneUnit => {
                let c = prune_unit::generate(p, seed, index);
                CaseSpec { seed, index, description: c.description.clone(), data: CaseData::Prune(c) }
            }
        }
    }

    /// Case `index` of `seed` for the design's kind of array.
    pub fn generate(p: &Params, seed: u64, index: usize) -> CaseSpec {
        if p.sparse.is_some() {
            let c = sparse_vectors::generate(p, seed, index);
            CaseSpec { seed, index, description: c.describe(), data: CaseData::Jobs(c.jobs) }
        } else {
            let c = vectors::generate(p, seed, index);
            CaseSpec { seed, index, description: c.describe(), data: CaseData::Gemm { a: c.a, b: c.b } }
        }
    }
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// Number of GEMM cases
    #[arg(long, default_value_t = 50)]
    pub cases: usize,
    /// Seed of the case generator
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep every case's work folder (stimulus, expected, got) under <out>/.verify/, not only failures
    #[arg(long)]
    pub keep: bool,
    /// Write a waveform (wave.vcd) into each failure folder (re-runs the failing case traced)
    #[arg(long)]
    pub wave_on_fail: bool,
    /// Root of generated output: builds go to <out>/.build, failing cases to <out>/failures
    #[arg(long, default_value = "rtl_out")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A failing-case folder written by `accelc verify`
    pub case: PathBuf,
    /// Run the Verilog saved in the case folder even when the design came from the generator
    /// (default for generated designs: regenerate from the saved config, to check a fix)
    #[arg(long)]
    pub saved_rtl: bool,
    /// Dump the run's waveform to FILE: .vcd or .fst (FST is a second, cached testbench build)
    #[arg(long, value_name = "FILE")]
    pub wave: Option<PathBuf>,
    /// Root of generated output: the testbench build is cached under <out>/.build
    #[arg(long, default_value = "rtl_out")]
    pub out: PathBuf,
}

/// Where a design under verification came from (decides what `replay` runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `crate::rtl::generate` of the config: replay regenerates it.
    Generated,
    /// Handed in by the caller (e.g. a test that planted a fault): replay uses the saved Verilog.
    Given,
}

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Root of generated output (`rtl_out`).
    pub out_root: PathBuf,
    /// Keep passing cases' work folders.
    pub keep: bool,
    /// Print a line per case.
    pub progress: bool,
    /// Write `wave.vcd` into each failure folder (the failing case is run again, traced).
    pub wave_on_fail: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            out_root: PathBuf::from("rtl_out"),
            keep: false,
            progress: false,
            wave_on_fail: false,
        }
    }
}

/// The waveform a failure folder gets with `wave_on_fail`.
pub const FAILURE_WAVE: &str = "wave.vcd";

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub index: usize,
    pub description: String,
    pub cycles_model: u64,
    pub cycles_rtl: u64,
    /// One line per mismatching beat (empty: the case passed).
    pub mismatches: Vec<String>,
    /// The failure folder, for a failing case.
    pub failure_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub name: String,
    pub seed: u64,
    pub testbench: Testbench,
    pub cases: Vec<CaseResult>,
}

impl VerifyReport {
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.mismatches.is_empty())
    }

    pub fn mismatches(&self) -> usize {
        self.cases.iter().map(|c| c.mismatches.len()).sum()
    }

    pub fn failed_cases(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.mismatches.is_empty())
    }

    /// The one line that says how verification ended.
    pub fn sentinel(&self) -> String {
        let model: u64 = self.cases.iter().map(|c| c.cycles_model).sum();
        let rtl: u64 = self.cases.iter().map(|c| c.cycles_rtl).sum();
        let n = self.cases.len();
        if self.passed() {
            format!("verify {}: PASS {n} cases, 0 mismatches, cycles model={model} rtl={rtl}", self.name)
        } else {
            format!(
                "verify {}: FAIL {} of {n} cases, {} mismatches, cycles model={model} rtl={rtl}",
                self.name,
                self.failed_cases().count(),
                self.mismatches()
            )
        }
    }
}

/// A design ready to run cases on: its testbench built.
struct Bench<'a> {
    config: &'a Config,
    block: Block,
    /// The block's parameters: the config's, named after the block's top.
    params: Params,
    iface: Interface,
    design: &'a Design,
    origin: Origin,
    tb: Testbench,
    opts: &'a VerifyOptions,
}

impl<'a> Bench<'a> {
    fn new(
        config: &'a Config,
        block: Block,
        design: &'a Design,
        origin: Origin,
        opts: &'a VerifyOptions,
        wave: WaveFormat,
    ) -> Result<Bench<'a>> {
        let mut params = config.params();
        let iface = block.interface(&params);
        if block == Block::PruneUnit {
            params.name = design.top.clone();
        }
        let build_root = opts.out_root.join(".build");
        let (tb, _) = harness::build_with_wave(&params, design, &iface, &build_root, wave)?;
        Ok(Bench { config, block, params, iface, design, origin, tb, opts })
    }

    /// The model's run of a case, with every beat recorded.
    fn model_run(&self, data: &CaseData) -> Box<dyn Traced> {
        match data {
            CaseData::Gemm { a, b } => Box::new(run_gemm(&self.params, a, b)),
            CaseData::Jobs(jobs) => Box::new(sparse_array::run(&self.params, jobs, Feed::Compressed, true)),
            CaseData::Prune(case) => Box::new(prune_model::run(self.params.act_bits, case)),
        }
    }

    /// Runs one case in `work` (created) through [`check_run`], with a waveform when `wave` is given.
    fn run_case(&self, data: &CaseData, work: &Path, wave: Option<&Path>) -> Result<Checked> {
        let run = self.model_run(data);
        let limits = Limits::for_run(&self.params, run.cycles());
        check_run(&self.tb, &self.iface, run.as_ref(), limits, work, wave)
    }

    /// Runs `case` in `work`; a failing one is written to `failure_dir` (a passing one removes a
    /// folder left there by an earlier failing run, which no longer describes it).
    fn check_case(&self, case: &CaseSpec, work: &Path, failure_dir: PathBuf) -> Result<CaseResult> {
        let r = self.run_case(&case.data, work, None)?;
        let mut result = CaseResult {
            index: case.index,
            description: case.description.clone(),
            cycles_model: r.cycles_model(),
            cycles_rtl: r.cycles_rtl(),
            mismatches: r.mismatches.clone(),
            failure_dir: None,
        };
        if result.mismatches.is_empty() {
            let _ = std::fs::remove_dir_all(&failure_dir);
        } else {
            self.write_failure(case, &failure_dir, &result, &r, work)?;
            result.failure_dir = Some(failure_dir);
        }
        if !self.opts.keep {
            let _ = std::fs::remove_dir_all(work);
        }
        Ok(result)
    }

    fn verify(&self, cases: usize, seed: u64) -> Result<VerifyReport> {
        let name = &self.params.name;
        let mut results = Vec::with_capacity(cases);
        // Per run, so that two runs of the same config and seed (threads or processes) share no files.
        let work_root = self
            .opts
            .out_root
            .join(".verify")
            .join(format!("{name}-seed{seed}-{}", crate::fsutil::unique_suffix()));
        if self.opts.keep && self.opts.progress {
            println!("verify {name}: case folders kept under {}", work_root.display());
        }
        for index in 0..cases {
            let case = CaseSpec::generate_for(self.block, &self.params, seed, index);
            let dir = self.opts.out_root.join("failures").join(format!("{name}-seed{seed}-case{index}"));
            let result = self.check_case(&case, &work_root.join(format!("case{index}")), dir)?;
            // The array prints every case; the pruning unit's many short cases only when they fail.
            if self.opts.progress && (self.block == Block::Array || !result.mismatches.is_empty()) {
                let verdict = if result.mismatches.is_empty() {
                    "ok".to_string()
                } else {
                    format!("MISMATCH ({} beats)", result.mismatches.len())
                };
                println!(
                    "  {}: {verdict}, cycles model={} rtl={}",
                    result.description, result.cycles_model, result.cycles_rtl
                );
                if let Some(dir) = &result.failure_dir {
                    for m in result.mismatches.iter().take(5) {
                        println!("    {m}");
                    }
                    println!("    replay: accelc replay {}", dir.display());
                }
            }
            results.push(result);
        }
        if !self.opts.keep {
            let _ = std::fs::remove_dir(&work_root);
        }
        Ok(VerifyReport { name: name.clone(), seed, testbench: self.tb.clone(), cases: results })
    }

    /// Writes a failing case's folder: everything needed to look at it and to replay it. The run's
    /// files come from `work`; with `wave_on_fail` the case runs again, traced, into the folder.
    fn write_failure(
        &self,
        case: &CaseSpec,
        dir: &Path,
        result: &CaseResult,
        run: &Checked,
        work: &Path,
    ) -> Result<()> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let w = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text)
                .with_context(|| format!("writing {}", dir.join(name).display()))
        };
        let wave = self.opts.wave_on_fail.then(|| dir.join(FAILURE_WAVE));
        let log = if let Some(wave) = &wave {
            self.run_case(&case.data, dir, Some(wave))?.log
        } else {
            for f in ["stimulus.txt", "expected.txt", "got.txt"] {
                if work.join(f).is_file() {
                    std::fs::copy(work.join(f), dir.join(f)).with_context(|| format!("copying {f}"))?;
                }
            }
            run.log.clone()
        };
        w("config.toml", &toml::to_string(self.config).context("serializing the config")?)?;
        match &case.data {
            CaseData::Gemm { a, b } => {
                ndarray_npy::write_npy(dir.join("a.npy"), a).context("writing a.npy")?;
                ndarray_npy::write_npy(dir.join("b.npy"), b).context("writing b.npy")?;
            }
            CaseData::Jobs(jobs) => w("jobs.json", &serde_json::to_string_pretty(jobs)?)?,
            CaseData::Prune(c) => w(PRUNE_CASE, &serde_json::to_string_pretty(c)?)?,
        }
        let rtl = dir.join("rtl");
        std::fs::create_dir_all(&rtl)?;
        let sources = harness::verilog_sources(self.design);
        for (name, text) in &sources {
            std::fs::write(rtl.join(name), text)?;
        }
        let info = CaseInfo {
            format_version: crate::config::FORMAT_VERSION,
            name: self.params.name.clone(),
            seed: case.seed,
            case: case.index,
            description: case.description.clone(),
            block: self.block,
            origin: self.origin,
            top: self.design.top.clone(),
            verilog: sources.iter().map(|(n, _)| n.to_string()).collect(),
            build_hash: self.tb.hash.clone(),
            limit: run.limits.limit,
            extra: run.limits.extra,
        };
        w("case.json", &serde_json::to_string_pretty(&info)?)?;
        w("tb.log", &log)?;
        w("README.md", &failure_readme(&info, result, dir, wave.is_some()))?;
        Ok(())
    }
}

/// The pruning unit's case in a failure folder (`crate::model::prune_unit::PruneCase` as JSON).
const PRUNE_CASE: &str = "prune_case.json";

/// `case.json` in a failure folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseInfo {
    pub format_version: u32,
    pub name: String,
    pub seed: u64,
    pub case: usize,
    pub description: String,
    /// The array or its pruning unit (absent in folders written before the unit had failure folders).
    #[serde(default)]
    pub block: Block,
    pub origin: Origin,
    pub top: String,
    /// The Verilog files under rtl/, in the order Verilator reads them.
    pub verilog: Vec<String>,
    pub build_hash: String,
    pub limit: u64,
    pub extra: u64,
}

fn failure_readme(info: &CaseInfo, result: &CaseResult, dir: &Path, wave: bool) -> String {
    let mut s = format!(
        "# verify {}: seed {} {}\n\nThe RTL differed from the reference model in {} beat(s); cycles model={} rtl={}.\n\n",
        info.name,
        info.seed,
        info.description,
        result.mismatches.len(),
        result.cycles_model,
        result.cycles_rtl
    );
    s.push_str("## What differed\n\n");
    for m in result.mismatches.iter().take(40) {
        s.push_str(&format!("- {m}\n"));
    }
    if result.mismatches.len() > 40 {
        s.push_str(&format!("- ... and {} more (diff expected.txt got.txt)\n", result.mismatches.len() - 40));
    }
    let operands = match info.block {
        Block::Array => {
            "`a.npy`, `b.npy`: the GEMM operands (int64), or `jobs.json`: the conv1d\n  \
             jobs of a sparse row array (crate::model::sparse_array::Job)"
        }
        Block::PruneUnit => {
            "`prune_case.json`: the pruning unit's LFSR seed, tau and gradients\n  \
             (crate::model::prune_unit::PruneCase)"
        }
    };
    let waveform = if wave {
        format!("- `{FAILURE_WAVE}`: the waveform of the run (GTKWave or Surfer: `gtkwave {FAILURE_WAVE}`)\n")
    } else {
        format!(
            "- no waveform (`accelc verify --wave-on-fail` writes `{FAILURE_WAVE}` here); dump one with\n  \
             `accelc replay {} --wave {}` (or `.fst`)\n",
            dir.display(),
            dir.join(FAILURE_WAVE).display()
        )
    };
    s.push_str(&format!(
        "\n## Files\n\n\
         - `config.toml`: the config; {operands}\n\
         - `stimulus.txt`: the input beats; `expected.txt`: the model's trace; `got.txt`: the RTL's (same format:\n  \
           `diff expected.txt got.txt`; format in src/verify/format.rs)\n\
         {waveform}\
         - `rtl/`: the Verilog that ran (top `{}`, design origin: {:?})\n\
         - `case.json`: the case's identity and limits (cycle limit {}, {} extra edges watched)\n\n\
         ## Replay\n\n    accelc replay {}\n\n\
         Replay re-runs the model on the operands and the testbench on the result. For a generated design it \
         regenerates the Verilog from config.toml (so it shows whether a fix works); `--saved-rtl` runs rtl/ instead; \
         `--wave FILE.vcd` or `--wave FILE.fst` dumps the run's waveform.\n",
        info.top,
        info.origin,
        info.limit,
        info.extra,
        dir.display()
    ));
    s
}

/// Verifies the generated RTL of `config` on `cases` cases of `seed`.
pub fn verify_config(config: &Config, cases: usize, seed: u64) -> Result<VerifyReport> {
    verify_config_with(config, cases, seed, &VerifyOptions::default())
}

pub fn verify_config_with(
    config: &Config,
    cases: usize,
    seed: u64,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let design = crate::rtl::generate(config).context("generating the RTL to verify")?;
    verify_design(config, &design, Origin::Generated, cases, seed, opts)
}

/// Verifies a given design (e.g. one with a planted fault) as the RTL of `config`.
pub fn verify_design(
    config: &Config,
    design: &Design,
    origin: Origin,
    cases: usize,
    seed: u64,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let bench = Bench::new(config, Block::Array, design, origin, opts, WaveFormat::Vcd)?;
    bench.verify(cases, seed)
}

pub fn main(args: &VerifyArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let opts = VerifyOptions {
        out_root: args.out.clone(),
        keep: args.keep,
        progress: true,
        wave_on_fail: args.wave_on_fail,
    };
    let design = crate::rtl::generate(&config).context("generating the RTL to verify")?;
    println!("verify {}: building the testbench ...", config.name);
    let bench = Bench::new(&config, Block::Array, &design, Origin::Generated, &opts, WaveFormat::Vcd)?;
    println!(
        "verify {}: testbench {} ({}); {} cases, seed {}",
        config.name,
        bench.tb.exe.display(),
        if bench.tb.cached { "cached" } else { "built" },
        args.cases,
        args.seed
    );
    let report = bench.verify(args.cases, args.seed)?;
    for c in report.failed_cases() {
        if let Some(dir) = &c.failure_dir {
            println!("replay case {}: accelc replay {}", c.index, dir.display());
        }
    }
    let mut passed = report.passed();
    if config.params().sparse.is_some() {
        // The gradient pruning unit that comes with the array, on as many cases.
        let unit = verify_prune_unit(&config, None, args.cases, args.seed, &opts)?;
        println!("{}", unit.sentinel());
        passed &= unit.passed();
    }
    println!("{}", report.sentinel());
    if let Some(sp) = crate::system::SystemParams::of(&config) {
        // The system top around the array: whole jobs through its AXI ports.
        println!("verify {}: building the system testbench ...", sp.top);
        let sys = system::verify(&sp, config.params().acc_bits, &design, args.cases, args.seed, &opts)?;
        println!("{}", sys.sentinel());
        passed &= sys.passed();
    }
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Every reason the array `p` cannot run `jobs`, one line each.
fn check_jobs_fit(p: &Params, jobs: &[Job]) -> std::result::Result<(), String> {
    let problems: Vec<String> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| job.problems(p).into_iter().map(move |m| format!("job {j}: {m}")))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Runs given conv1d jobs through the sparse array's RTL in Verilator and compares them with the
/// model, beat for beat and edge for edge (e.g. jobs sampled from a training run). A mismatch writes a
/// failure folder named `<name>-<tag>` that `accelc replay` runs again.
pub fn check_jobs(config: &Config, jobs: &[Job], tag: &str, opts: &VerifyOptions) -> Result<CaseResult> {
    let p = config.params();
    anyhow::ensure!(p.sparse.is_some(), "{}: check_jobs needs a sparse_1d config", config.name);
    check_jobs_fit(&p, jobs).map_err(|e| crate::error::BadInput(format!("{}: {e}", config.name)))?;
    let design = crate::rtl::generate(config).context("generating the RTL to check")?;
    let bench = Bench::new(config, Block::Array, &design, Origin::Generated, opts, WaveFormat::Vcd)?;
    let case = CaseSpec {
        seed: 0,
        index: 0,
        description: format!("{tag}: {} jobs", jobs.len()),
        data: CaseData::Jobs(jobs.to_vec()),
    };
    let work = opts.out_root.join(".verify").join(format!(
        "{}-{tag}-{}",
        config.name,
        crate::fsutil::unique_suffix()
    ));
    bench.check_case(&case, &work, opts.out_root.join("failures").join(format!("{}-{tag}", config.name)))
}

/// Verifies the gradient pruning unit of a sparse_1d config (or a given design of it) against the
/// model's pruner (`crate::model::prune_unit`): every output bit and edge. A failing case is written,
/// like the array's, to `<out>/failures/<unit>-seed<S>-case<I>/`, which `accelc replay` runs again.
pub fn verify_prune_unit(
    config: &Config,
    design: Option<&Design>,
    cases: usize,
    seed: u64,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let generated;
    let (design, origin) = match design {
        Some(d) => (d, Origin::Given),
        None => {
            generated = Block::PruneUnit.generate(config)?;
            (&generated, Origin::Generated)
        }
    };
    let bench = Bench::new(config, Block::PruneUnit, design, origin, opts, WaveFormat::Vcd)?;
    bench.verify(cases, seed)
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub description: String,
    pub cycles_model: u64,
    pub cycles_rtl: u64,
    pub mismatches: Vec<String>,
}

/// Re-runs a failure folder's case (of an array or a pruning unit): the model on its operands, the
/// testbench (rebuilt or from the cache) on the stimulus; rewrites stimulus.txt, expected.txt and
/// got.txt in the folder, and dumps the run's waveform to `wave` (.vcd or .fst) when given.
pub fn replay(dir: &Path, saved_rtl: bool, out_root: &Path, wave: Option<&Path>) -> Result<ReplayReport> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        crate::error::BadInput(format!("{}: {what}: {e}", dir.display()))
    };
    let info: CaseInfo = serde_json::from_str(
        &std::fs::read_to_string(dir.join("case.json")).map_err(|e| bad("case.json", &e))?,
    )
    .map_err(|e| bad("case.json", &e))?;
    let format = match wave {
        Some(w) => WaveFormat::of_path(w).map_err(|e| crate::error::BadInput(format!("--wave: {e}")))?,
        None => WaveFormat::Vcd,
    };
    let config = Config::load(&dir.join("config.toml"))?;
    let data = if info.block == Block::PruneUnit {
        let text = std::fs::read_to_string(dir.join(PRUNE_CASE)).map_err(|e| bad(PRUNE_CASE, &e))?;
        let case: PruneCase = serde_json::from_str(&text).map_err(|e| bad(PRUNE_CASE, &e))?;
        prune_model::check(config.params().act_bits, &case).map_err(|e| bad(PRUNE_CASE, &e))?;
        CaseData::Prune(case)
    } else if dir.join("jobs.json").is_file() {
        let text = std::fs::read_to_string(dir.join("jobs.json")).map_err(|e| bad("jobs.json", &e))?;
        let jobs: Vec<Job> = serde_json::from_str(&text).map_err(|e| bad("jobs.json", &e))?;
        check_jobs_fit(&config.params(), &jobs).map_err(|e| bad("jobs.json", &e))?;
        CaseData::Jobs(jobs)
    } else {
        let a: Matrix = ndarray_npy::read_npy(dir.join("a.npy")).map_err(|e| bad("a.npy", &e))?;
        let b: Matrix = ndarray_npy::read_npy(dir.join("b.npy")).map_err(|e| bad("b.npy", &e))?;
        CaseData::Gemm { a, b }
    };
    let design = if info.origin == Origin::Generated && !saved_rtl {
        info.block.generate(&config).context("regenerating the RTL (use --saved-rtl to run the saved one)")?
    } else {
        let mut files = Vec::new();
        for name in &info.verilog {
            let text = std::fs::read_to_string(dir.join("rtl").join(name)).map_err(|e| bad(name, &e))?;
            files.push((name.clone(), text));
        }
        Design { top: info.top.clone(), system: None, files }
    };
    if let Some(parent) = wave.and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let opts = VerifyOptions { out_root: out_root.to_path_buf(), keep: true, ..VerifyOptions::default() };
    let bench = Bench::new(&config, info.block, &design, info.origin, &opts, format)?;
    let r = bench.run_case(&data, dir, wave)?;
    Ok(ReplayReport {
        description: info.description,
        cycles_model: r.cycles_model(),
        cycles_rtl: r.cycles_rtl(),
        mismatches: r.mismatches,
    })
}

pub fn replay_main(args: &ReplayArgs) -> Result<ExitCode> {
    let r = replay(&args.case, args.saved_rtl, &args.out, args.wave.as_deref())?;
    for m in r.mismatches.iter().take(20) {
        println!("  {m}");
    }
    let verdict = if r.mismatches.is_empty() {
        "PASS 0 mismatches".to_string()
    } else {
        format!("FAIL {} mismatches", r.mismatches.len())
    };
    let wave = args.wave.as_ref().map_or(String::new(), |w| format!("; wave: {}", w.display()));
    println!(
        "replay {} ({}): {verdict}, cycles model={} rtl={}{wave}",
        args.case.display(),
        r.description,
        r.cycles_model,
        r.cycles_rtl,
    );
    Ok(if r.mismatches.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
