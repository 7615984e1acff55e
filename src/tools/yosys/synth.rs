//! Synthesis jobs: generic gates (`synth; dffunmap; stat -json -tech cmos`) and FPGA mapping
//! (`synth_ice40` / `synth_ecp5` / `synth_xilinx`), each returning a [`SynthReport`].

use super::check::{log_warnings, parse_check_log, Problem};
use super::run::{read_commands, run_script_in, Run};
use super::stat::{parse_stat_json, SynthReport};
use crate::tools::Scratch;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the synthesis script writes its statistics (inside the scratch folder).
const STAT_FILE: &str = "stat.json";

/// The synthesis script. `stat_path` is where `stat -json -tech cmos` is written.
///
/// `synth` maps to Yosys's internal generic gate library ($_AND_, $_XOR_, $_MUX_, $_DFF_P_, ...),
/// keeping the module hierarchy; `dffunmap` splits enable/sync-reset flops into plain flops plus
/// muxes so that the CMOS transistor estimate covers them.
pub fn synth_script(files: &[String], top: &str, stat_path: &str) -> Result<String> {
    synth_script_with_black_boxes(files, &[], top, stat_path)
}

/// [`synth_script`], with the modules of the files in `black_boxes` (a subset of `files`) read as
/// black boxes (`read_verilog -lib`): they stay one cell each, with no gates, flip-flops or
/// transistors (RAM macros, which gates would turn into a flip-flop per bit).
pub fn synth_script_with_black_boxes(
    files: &[String],
    black_boxes: &[String],
    top: &str,
    stat_path: &str,
) -> Result<String> {
    let mut s = String::new();
    for f in files {
        let read = read_commands(std::slice::from_ref(f))?;
        s.push_str(&if black_boxes.contains(f) {
            read.replacen("read_verilog ", "read_verilog -lib ", 1)
        } else {
            read
        });
    }
    s.push_str(&format!("synth -top {top}\n"));
    s.push_str("dffunmap\n");
    // `tee -o` takes its file name verbatim (no quote removal), so it must be a plain token.
    if stat_path.chars().any(|c| c.is_whitespace() || c == '"' || c == ';') {
        bail!("statistics path {stat_path:?} cannot be passed to yosys tee -o (whitespace, quote or ';')");
    }
    s.push_str(&format!("tee -q -o {stat_path} stat -json -tech cmos\n"));
    Ok(s)
}

/// The synthesis script with a placeholder stat path: the stable text used in cache keys.
pub fn synth_script_for_key(files: &[String], top: &str) -> Result<String> {
    synth_script(files, top, STAT_FILE)
}

/// [`synth_script_with_black_boxes`] with a placeholder stat path, for cache keys.
pub fn synth_script_with_black_boxes_for_key(
    files: &[String],
    black_boxes: &[String],
    top: &str,
) -> Result<String> {
    synth_script_with_black_boxes(files, black_boxes, top, STAT_FILE)
}

/// Generic synthesis of `files` (relative to `dir`) with top module `top`: cells by type,
/// flip-flops, Yosys's CMOS transistor estimate, wires.
pub fn synth_generic(dir: &Path, files: &[String], top: &str) -> Result<SynthReport> {
    synth_generic_with_black_boxes(dir, files, &[], top)
}

/// [`synth_generic`] with the modules of `black_boxes` kept as black boxes
/// ([`synth_script_with_black_boxes`]).
pub fn synth_generic_with_black_boxes(
    dir: &Path,
    files: &[String],
    black_boxes: &[String],
    top: &str,
) -> Result<SynthReport> {
    let scratch = Scratch::new("yosys-synth")?;
    let stat_path = scratch.path().join(STAT_FILE);
    let stat_str = stat_path.to_str().context("temp path is not UTF-8")?;
    let script = synth_script_with_black_boxes(files, black_boxes, top, stat_str)?;
    let run = run_script_in(dir, &script, &scratch)?;
    statistics_of(&run, &stat_path, top, "synthesis")
}

/// The statistics a finished synthesis run wrote, or why the run failed (its error lines).
fn statistics_of(run: &Run, stat_path: &Path, top: &str, what: &str) -> Result<SynthReport> {
    if !run.success {
        let errors: Vec<String> = parse_check_log(&run.log)
            .into_iter()
            .filter(|p| matches!(p, Problem::Error(_)))
            .map(|p| p.to_string())
            .collect();
        let why = if errors.is_empty() { run.stderr.trim().to_string() } else { errors.join("; ") };
        bail!("yosys {what} of {top} failed ({}): {why}", run.status);
    }
    let json = std::fs::read_to_string(stat_path)
        .with_context(|| format!("yosys wrote no statistics to {}", stat_path.display()))?;
    let mut report = parse_stat_json(&json, top)?;
    report.warnings = log_warnings(&run.log);
    Ok(report)
}

/// The FPGA architectures Yosys maps to for accelc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FpgaArch {
    /// `synth_ice40`; `dsp` maps large multipliers to SB_MAC16 (UltraPlus parts only); `spram` lets
    /// memories map to SB_SPRAM256KA (`-spram`, UltraPlus parts only).
    Ice40 {
        dsp: bool,
        #[serde(default)]
        spram: bool,
    },
    /// `synth_ecp5` (multipliers to MULT18X18D).
    Ecp5,
    /// `synth_xilinx -family xc7` (7-series: LUT6, CARRY4, DSP48E1, RAMB18E1/RAMB36E1).
    Xc7,
}

/// A `ram_style` attribute set on one memory of the flattened design before Yosys maps memories
/// (`huge`: iCE40 SPRAM; `block`; `distributed`; `logic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RamStyle {
    /// The memory's hierarchical name in the flattened top, e.g. `dut.u_wgt0.mem`.
    pub memory: String,
    pub style: String,
}

/// How Yosys mapped one memory of the design (from its log): to a RAM cell of the architecture
/// (`$__ICE40_RAM4K_`, `$__ICE40_SPRAM_`, `$__ECP5_DP16KD_`, `$__TRELLIS_DPR16X4_`, ...) or to
/// flip-flops ([`MemoryMapping::FLIP_FLOPS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryMapping {
    /// The memory's name in the flattened top, e.g. `dut.u_act0.mem`.
    pub memory: String,
    pub mapped_to: String,
}

impl MemoryMapping {
    pub const FLIP_FLOPS: &'static str = "flip-flops";
}

/// The memory mappings a synthesis log reports: `memory_libmap`'s `mapping memory TOP.NAME via CELL`
/// and `memory_map`'s `Mapping memory \NAME in module \TOP:` (flip-flops), in log order, one entry
/// per memory (the last word wins). Pure.
pub fn parse_memory_mappings(log: &str) -> Vec<MemoryMapping> {
    let mut out: Vec<MemoryMapping> = Vec::new();
    for line in log.lines() {
        let line = line.trim();
        let found = if let Some(rest) = line.strip_prefix("mapping memory ") {
            rest.split_once(" via ").map(|(name, cell)| {
                // `top.u_act0.mem`: drop the module name (the first component).
                let name = name.split_once('.').map_or(name, |(_, n)| n);
                (super::unescape(name), cell.trim().to_string())
            })
        } else if let Some(rest) = line.strip_prefix("Mapping memory ") {
            rest.split_once(" in module ")
                .map(|(name, _)| (super::unescape(name), MemoryMapping::FLIP_FLOPS.to_string()))
        } else {
            None
        };
        if let Some((memory, mapped_to)) = found {
            out.retain(|m| m.memory != memory);
            out.push(MemoryMapping { memory, mapped_to });
        }
    }
    out
}

/// Where the FPGA script writes its netlist (inside the scratch folder).
const NETLIST_FILE: &str = "netlist.json";

/// The FPGA synthesis script: read, map with the architecture's `synth_*` pass (which flattens), write
/// the netlist for nextpnr (`-json`, iCE40 and ECP5 only), and `stat -json` into `stat_path`.
///
/// Xilinx runs out of context (`-noiopad`: no I/O buffers) on the bare top, since no place and route
/// follows; iCE40 and ECP5 map the registered-I/O wrapper, which has few pins.
///
/// With `ram_styles`, the `synth_*` pass runs in two parts around memory mapping (`-run :map_ram`,
/// then `-run map_ram:`), and in between each named memory must exist (`select -assert-count 1`) and
/// gets its `ram_style` attribute, which `memory_libmap` obeys.
pub fn fpga_script(
    files: &[String],
    top: &str,
    arch: FpgaArch,
    ram_styles: &[RamStyle],
    netlist_path: &str,
    stat_path: &str,
) -> Result<String> {
    for path in [netlist_path, stat_path] {
        if path.chars().any(|c| c.is_whitespace() || c == '"' || c == ';') {
            bail!("path {path:?} cannot be passed to yosys (whitespace, quote or ';')");
        }
    }
    for r in ram_styles {
        let plain =
            |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || "_.$".contains(c));
        if !plain(&r.memory) || !plain(&r.style) {
            bail!("ram_style {:?} on memory {:?}: expected plain identifiers", r.style, r.memory);
        }
    }
    let mut s = read_commands(files)?;
    let synth = match arch {
        FpgaArch::Ice40 { dsp, spram } => {
            let dsp = if dsp { " -dsp" } else { "" };
            let spram = if spram { " -spram" } else { "" };
            format!("synth_ice40 -top {top}{dsp}{spram}")
        }
        FpgaArch::Ecp5 => format!("synth_ecp5 -top {top}"),
        FpgaArch::Xc7 => format!("synth_xilinx -family xc7 -top {top} -flatten -noiopad"),
    };
    let json = match arch {
        FpgaArch::Xc7 => String::new(),
        _ => format!(" -json {netlist_path}"),
    };
    if ram_styles.is_empty() {
        s.push_str(&format!("{synth}{json}\n"));
    } else {
        s.push_str(&format!("{synth} -run :map_ram\n"));
        for r in ram_styles {
            s.push_str(&format!("select -assert-count 1 {top}/{}\n", r.memory));
            s.push_str(&format!("setattr -set ram_style \"{}\" {top}/{}\n", r.style, r.memory));
        }
        s.push_str(&format!("{synth} -run map_ram:{json}\n"));
    }
    s.push_str(&format!("tee -q -o {stat_path} stat -json\n"));
    Ok(s)
}

/// [`fpga_script`] with placeholder paths: the stable text used in cache keys and reports.
pub fn fpga_script_for_key(
    files: &[String],
    top: &str,
    arch: FpgaArch,
    ram_styles: &[RamStyle],
) -> Result<String> {
    fpga_script(files, top, arch, ram_styles, NETLIST_FILE, STAT_FILE)
}

/// FPGA synthesis of `files` (relative to `dir`) with top module `top`. The netlist (iCE40, ECP5) is
/// written to `work/netlist.json`, returned with the statistics (`cells_by_type` holds the
/// architecture's cells; the generic `flip_flops` and `transistors` figures are 0; `memories` says how
/// each memory was mapped).
pub(crate) fn synth_fpga(
    dir: &Path,
    files: &[String],
    top: &str,
    arch: FpgaArch,
    ram_styles: &[RamStyle],
    work: &Scratch,
) -> Result<(SynthReport, PathBuf)> {
    let netlist = work.path().join(NETLIST_FILE);
    let stat_path = work.path().join(STAT_FILE);
    let as_str = |p: &Path| p.to_str().map(String::from).context("temp path is not UTF-8");
    let script = fpga_script(files, top, arch, ram_styles, &as_str(&netlist)?, &as_str(&stat_path)?)?;
    let run = run_script_in(dir, &script, work)?;
    let mut report = statistics_of(&run, &stat_path, top, &format!("FPGA synthesis ({arch:?})"))?;
    report.memories = parse_memory_mappings(&run.log);
    Ok((report, netlist))
}

/// [`synth_fpga`] in a temporary folder, statistics only (no netlist kept).
pub fn synth_fpga_stats(
    dir: &Path,
    files: &[String],
    top: &str,
    arch: FpgaArch,
    ram_styles: &[RamStyle],
) -> Result<SynthReport> {
    let work = Scratch::new("yosys-fpga")?;
    Ok(synth_fpga(dir, files, top, arch, ram_styles, &work)?.0)
}
