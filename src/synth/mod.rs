//! Synthesis reports: `accelc synth CONFIG [--target generic|ice40|ecp5|xilinx]`.
//!
//! The default target, generic, is described here; the FPGA targets are in [`fpga`] (with the
//! registered-I/O wrapper in [`wrapper`]).
//!
//! Generic: `accelc synth CONFIG` generates the design, runs Yosys generic synthesis
//! (`synth; dffunmap; stat -json -tech cmos`, see `tools::yosys`), and writes `synth_report.json`
//! (cells by type, flip-flops, Yosys's CMOS transistor estimate, wires, per-PE figures) next to the
//! Verilog, plus a short table on the terminal.
//!
//! A system config (one with a `[system]` table) is synthesized as its system top `<name>_system`,
//! the array included; generic synthesis keeps its RAMs (scratchpad banks, FIFO storage) as black
//! boxes, listed in the report with their sizes, since gates would make a flip-flop of every bit.
//!
//! Results are cached by a hash of (Verilog file names and texts, Yosys version, Yosys script) under
//! `rtl_out/.synth/`, so a rerun on unchanged Verilog does not run Yosys again. The report holds no
//! timestamp or duration: the same Verilog and Yosys give a byte-identical report.

pub mod fpga;
pub mod throughput;
pub mod wrapper;

use crate::config::{Config, Params, FORMAT_VERSION};
use crate::error::BadInput;
use crate::rtl::default_out_dir;
use crate::rtl::system::Ram;
use crate::system::SystemParams;
use crate::tools::yosys::{self, SynthReport};
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// File name of the report written into the design folder.
pub const REPORT_FILE: &str = "synth_report.json";

/// Default cache folder (relative to the working directory).
pub const DEFAULT_CACHE_DIR: &str = "rtl_out/.synth";

/// Bump when the meaning of a cached `SynthReport` changes, so old cache entries are not reused.
const CACHE_SCHEMA: &str = "accelc-synth-cache-v1";

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// Output folder for the Verilog and synth_report.json (replaced atomically); default rtl_out/<name>
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Folder that caches synthesis results by hash of (Verilog, Yosys version, script)
    #[arg(long, default_value = DEFAULT_CACHE_DIR)]
    pub cache_dir: PathBuf,
    /// Always run the tools, ignoring (and not writing) the cache
    #[arg(long)]
    pub no_cache: bool,
    /// What to synthesize for: Yosys generic gates, or an FPGA family
    #[arg(long, value_enum, default_value = "generic")]
    pub target: fpga::Target,
    /// FPGA part as DIE[:PACKAGE]: ice40 up5k (default, sg48), up3k, hx8k (ct256), hx4k, hx1k, lp8k, lp4k,
    /// lp1k, lp384; ecp5 25k (default, CABGA256), 12k, 45k, 85k (CABGA381), um-25k, um-45k, um-85k
    #[arg(long)]
    pub device: Option<String>,
    /// Clock target for place and route in MHz (default 48 for ice40, 100 for ecp5)
    #[arg(long)]
    pub freq: Option<f64>,
    /// Placer seed for nextpnr
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// nextpnr's placer [default: static on ecp5, nextpnr's own (heap) on ice40]
    #[arg(long, value_enum)]
    pub placer: Option<crate::tools::nextpnr::Placer>,
    /// FPGA targets: print one markdown table row (config, part, LUTs, FFs, DSP, BRAM, Fmax) instead of
    /// the table (`make fpga-table`)
    #[arg(long)]
    pub markdown_row: bool,
    /// FPGA targets: the SCALE-Sim topology whose MACs per cycle (reference model) times Fmax give the
    /// GMAC/s figure [default: examples/topologies/tiny_cnn.csv]
    #[arg(long)]
    pub workload: Option<PathBuf>,
}

/// The config a report was made for.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigInfo {
    pub name: String,
    /// `Config::digest()`: a stable hash of the config's meaning.
    pub digest: String,
    pub params: Params,
}

/// Figures divided by the number of PEs (rows × cols), rounded to 0.01. They include the array's
/// share of the skew/de-skew and control logic, so they are an upper bound on one PE's own cost;
/// `modules` in the report has the PE module's own figures.
#[derive(Debug, Clone, Serialize)]
pub struct PerPe {
    pub pes: usize,
    pub cells: f64,
    pub flip_flops: f64,
    pub transistors: f64,
}

/// What generic synthesis of a system top leaves out and what the array inside it costs.
#[derive(Debug, Clone, Serialize)]
pub struct SystemSynth {
    /// The array module (`<name>`) inside the system top.
    pub array: String,
    /// The array's own figures (its instance expanded through the hierarchy), when Yosys listed it.
    pub array_cells: Option<u64>,
    pub array_flip_flops: Option<u64>,
    pub array_transistors: Option<u64>,
    /// The RAMs, black boxes in the figures (one cell each, no gates, flip-flops or transistors).
    pub rams: Vec<Ram>,
    /// Their total bits.
    pub ram_bits: u64,
}

/// Contents of `synth_report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub config: ConfigInfo,
    /// The Yosys script that produced the figures (the statistics path shown as `stat.json`).
    pub script: String,
    /// Key of the cache entry: sha256 of (Verilog, Yosys version, script).
    pub cache_key: String,
    pub per_pe: PerPe,
    /// For a system config: the synthesized top is the system top; its RAMs are black boxes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemSynth>,
    /// Totals, cells by type, per-module figures and warnings from Yosys.
    #[serde(flatten)]
    pub synth: SynthReport,
}

/// The outcome of [`synthesize`].
#[derive(Debug, Clone)]
pub struct Synthesized {
    pub report: SynthReport,
    pub script: String,
    pub cache_key: String,
    /// True when the figures came from the cache and Yosys did not run.
    pub cached: bool,
}

/// Cache key for synthesizing `sources` (file name, text) with `script` on Yosys `yosys_version`.
pub fn cache_key(sources: &[(String, String)], yosys_version: &str, script: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [CACHE_SCHEMA, yosys_version, script] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    for (name, text) in sources {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs generic synthesis on `sources`, which must already be written in `dir` under their names,
/// with top module `top`; reuses and fills the cache in `cache_dir` when given. `on_run` is called
/// just before Yosys runs (not on a cache hit), e.g. to print progress.
pub fn synthesize(
    dir: &Path,
    top: &str,
    sources: &[(String, String)],
    cache_dir: Option<&Path>,
    on_run: &dyn Fn(),
) -> Result<Synthesized> {
    synthesize_with_black_boxes(dir, top, sources, &[], cache_dir, on_run)
}

/// [`synthesize`], with the modules of the files named in `black_boxes` kept as black boxes (the
/// RAM modules of a system top).
pub fn synthesize_with_black_boxes(
    dir: &Path,
    top: &str,
    sources: &[(String, String)],
    black_boxes: &[String],
    cache_dir: Option<&Path>,
    on_run: &dyn Fn(),
) -> Result<Synthesized> {
    let files: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    let version = yosys::version()?;
    let script = yosys::synth_script_with_black_boxes_for_key(&files, black_boxes, top)?;
    let key = cache_key(sources, &version, &script);
    let entry = cache_dir.map(|d| d.join(format!("{key}.json")));
    if let Some(entry) = &entry {
        // A missing or unreadable entry (e.g. from an older accelc) is a miss, not an error.
        if let Some(report) = std::fs::read_to_string(entry)
            .ok()
            .and_then(|text| serde_json::from_str::<SynthReport>(&text).ok())
        {
            return Ok(Synthesized { report, script, cache_key: key, cached: true });
        }
    }
    on_run();
    let report = yosys::synth_generic_with_black_boxes(dir, &files, black_boxes, top)?;
    if let Some(entry) = &entry {
        let text = serde_json::to_string_pretty(&report)? + "\n";
        write_atomic(entry, &text).with_context(|| format!("writing synthesis cache {}", entry.display()))?;
    }
    Ok(Synthesized { report, script, cache_key: key, cached: false })
}

/// The RAM module files of a system top, which generic synthesis keeps as black boxes.
pub fn system_black_boxes(sp: &SystemParams) -> Vec<String> {
    let mut files: Vec<String> =
        crate::rtl::system::rams(sp).iter().map(|r| crate::ir::ModuleNames::file(&r.module)).collect();
    files.dedup();
    files
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Report {
    pub fn new(config: &Config, s: Synthesized) -> Report {
        let params = config.params();
        let pes = (params.rows * params.cols).max(1);
        let per = |n: u64| round2(n as f64 / pes as f64);
        Report {
            format_version: FORMAT_VERSION,
            config: ConfigInfo { name: config.name.clone(), digest: config.digest(), params },
            script: s.script,
            cache_key: s.cache_key,
            per_pe: PerPe {
                pes,
                cells: per(s.report.cells),
                flip_flops: per(s.report.flip_flops),
                transistors: per(s.report.transistors),
            },
            system: SystemParams::of(config).filter(|sp| sp.top == s.report.top).map(|sp| {
                let array = s.report.modules.get(&config.name);
                let rams = crate::rtl::system::rams(&sp);
                SystemSynth {
                    array: config.name.clone(),
                    array_cells: array.map(|m| m.hier_cells),
                    array_flip_flops: array.map(|m| m.hier_flip_flops),
                    array_transistors: array.map(|m| m.hier_transistors),
                    ram_bits: rams.iter().map(Ram::total_bits).sum(),
                    rams,
                }
            }),
            synth: s.report,
        }
    }

    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// The terminal table.
    pub fn summary(&self) -> String {
        let r = &self.synth;
        let p = &self.per_pe;
        let plus = if r.transistors_exact { "" } else { "+" };
        let mut s = String::new();
        let cp = &self.config.params;
        let shape = match cp.kind {
            crate::config::PeKind::Sparse1d => {
                format!("{} MAC lanes: {} sparse rows x {} taps", p.pes, cp.rows, cp.cols)
            }
            _ => format!("{} PEs, {}x{} {}", p.pes, cp.rows, cp.cols, cp.dataflow.short()),
        };
        s.push_str(&format!("synth {}: {} ({shape}), top {}\n", self.config.name, r.yosys, r.top));
        s.push_str(&format!("  {:<13} {:>12} {:>12}\n", "", "total", "per PE"));
        s.push_str(&format!("  {:<13} {:>12} {:>12.2}\n", "cells", r.cells, p.cells));
        s.push_str(&format!("  {:<13} {:>12} {:>12.2}\n", "flip-flops", r.flip_flops, p.flip_flops));
        s.push_str(&format!(
            "  {:<13} {:>12} {:>12.2}\n",
            "transistors",
            format!("{}{plus}", r.transistors),
            p.transistors
        ));
        s.push_str(&format!("  {:<13} {:>12}\n", "wires", r.wires));
        s.push_str(&format!("  {:<13} {:>12}\n", "wire bits", r.wire_bits));
        if !r.transistors_exact {
            s.push_str(&format!(
                "  transistors are a lower bound: Yosys has no CMOS cost for {}\n",
                if r.uncosted_cell_types.is_empty() {
                    "some cell types".to_string()
                } else {
                    r.uncosted_cell_types.join(", ")
                }
            ));
        }
        // The PE module named by the IR (`<name>_pe`, `<name>_sac_unit` or `<name>_row`).
        let pe_module = crate::ir::names::ModuleNames::of(cp).pe();
        let what = if cp.sparse.is_some() { "PE row module" } else { "PE module" };
        match r.modules.get(&pe_module) {
            Some(pe) => s.push_str(&format!(
                "  {what} {pe_module} alone: {} cells, {} flip-flops, {} transistors\n",
                pe.hier_cells, pe.hier_flip_flops, pe.hier_transistors
            )),
            None => s.push_str(&format!("  {what} {pe_module}: not in Yosys's module statistics\n")),
        }
        if let Some(sys) = &self.system {
            match (sys.array_cells, sys.array_flip_flops, sys.array_transistors) {
                (Some(c), Some(f), Some(t)) => s.push_str(&format!(
                    "  array {} alone: {c} cells, {f} flip-flops, {t} transistors\n",
                    sys.array
                )),
                _ => s.push_str(&format!("  array {}: not in Yosys's module statistics\n", sys.array)),
            }
            let mut groups: Vec<String> = Vec::new();
            for r in &sys.rams {
                let item = format!("{}x{}", r.words, r.bits);
                match groups.iter_mut().find(|g| g.starts_with(&format!("{} ", r.group))) {
                    Some(g) => g.push_str(&format!(" + {item}")),
                    None => groups.push(format!("{} {item}", r.group)),
                }
            }
            s.push_str(&format!(
                "  RAMs, black boxes not in the figures above: {} ({} bits)\n",
                groups.join(", "),
                sys.ram_bits
            ));
        }
        let mut by_count: Vec<(&String, &u64)> = r.cells_by_type.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = by_count.iter().take(6).map(|(t, n)| format!("{t} {n}")).collect();
        s.push_str(&format!("  most used cells: {}\n", top.join(", ")));
        if r.latches > 0 {
            s.push_str(&format!("  WARNING: {} latch bits after synthesis\n", r.latches));
        }
        if !r.warnings.is_empty() {
            s.push_str(&format!("  yosys printed {} warnings (listed in the report)\n", r.warnings.len()));
        }
        s
    }
}

/// Writes `text` to `path` through a sibling temp file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", crate::fsutil::unique_suffix()));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

pub fn main(args: &SynthArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    if args.target == fpga::Target::Generic {
        let misplaced = [
            ("--device", args.device.is_some()),
            ("--freq", args.freq.is_some()),
            ("--markdown-row", args.markdown_row),
            ("--workload", args.workload.is_some()),
        ];
        if let Some((flag, _)) = misplaced.iter().find(|(_, given)| *given) {
            return Err(BadInput(format!("{flag} applies to --target ice40 or ecp5")).into());
        }
    }
    if let Some(f) = args.freq {
        if !(f.is_finite() && f > 0.0 && f <= 2000.0) {
            return Err(BadInput(format!("--freq {f}: expected MHz in (0, 2000]")).into());
        }
    }
    let design = crate::rtl::generate(&config)?;
    let out = args.out.clone().unwrap_or_else(|| default_out_dir(&config));
    design.write_dir(&out)?;
    let sources: Vec<(String, String)> =
        design.files.iter().filter(|(name, _)| name.ends_with(".v")).cloned().collect();
    let cache = if args.no_cache { None } else { Some(args.cache_dir.as_path()) };
    // A system config is synthesized as its system top (the array is inside it).
    let top = design.system.as_deref().unwrap_or(&design.top);
    if args.target != fpga::Target::Generic {
        return fpga_main(args, &config, top, &out, &sources, cache);
    }
    let black_boxes = SystemParams::of(&config).map(|sp| system_black_boxes(&sp)).unwrap_or_default();
    let progress =
        || eprintln!("synth {}: running yosys generic synthesis on {} files...", config.name, sources.len());
    let synthesized = synthesize_with_black_boxes(&out, top, &sources, &black_boxes, cache, &progress)?;
    let cached = synthesized.cached;
    let report = Report::new(&config, synthesized);
    let path = out.join(REPORT_FILE);
    write_atomic(&path, &report.to_json()?)?;
    print!("{}", report.summary());
    println!("  report: {}{}", path.display(), if cached { " (cached synthesis)" } else { "" });
    Ok(ExitCode::SUCCESS)
}

fn fpga_main(
    args: &SynthArgs,
    config: &Config,
    top: &str,
    out: &Path,
    sources: &[(String, String)],
    cache: Option<&Path>,
) -> Result<ExitCode> {
    // the workload first: a bad --workload is bad input before any tool runs (a sparse array has none)
    let workload = args.workload.clone().unwrap_or_else(throughput::default_workload);
    let workload_run = throughput::run_workload(config, &workload);
    if let (Err(e), Some(_), None) = (&workload_run, &args.workload, &config.params().sparse) {
        return Err(BadInput(format!("--workload {}: {e:#}", workload.display())).into());
    }
    let opts = fpga::FpgaOptions {
        target: args.target,
        device: args.device.clone(),
        freq_mhz: args.freq,
        seed: args.seed,
        placer: args.placer,
    };
    let progress = || {
        eprintln!(
            "synth {}: running {} synthesis{}...",
            config.name,
            args.target.name(),
            if args.target == fpga::Target::Xilinx { "" } else { " and place and route" }
        )
    };
    let synthesized = fpga::synthesize(config, out, top, sources, &opts, cache, &progress)?;
    let cached = synthesized.cached;
    let mut report = fpga::FpgaReport::new(config, synthesized);
    if let Ok(run) = &workload_run {
        report.throughput = throughput::of(&report, run.clone());
    }
    let path = out.join(fpga::FpgaReport::file_name(args.target));
    write_atomic(&path, &report.to_json()?)?;
    if args.markdown_row {
        println!("{}", report.markdown_row());
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", report.summary());
    if let Some(t) = &report.throughput {
        print!("{}", t.summary());
    } else if let Err(why) = &workload_run {
        println!("  throughput: {why:#}");
    }
    println!("  report: {}{}", path.display(), if cached { " (cached synthesis)" } else { "" });
    Ok(ExitCode::SUCCESS)
}
