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
    let mut s = read_commands(files)?;
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

/// Generic synthesis of `files` (relative to `dir`) with top module `top`: cells by type,
/// flip-flops, Yosys's CMOS transistor estimate, wires.
pub fn synth_generic(dir: &Path, files: &[String], top: &str) -> Result<SynthReport> {
    let scratch = Scratch::new("yosys-synth")?;
    let stat_path = scratch.path().join(STAT_FILE);
    let stat_str = stat_path.to_str().context("temp path is not UTF-8")?;
    let script = synth_script(files, top, stat_str)?;
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
    /// `synth_ice40`; `dsp` maps large multipliers to SB_MAC16 (UltraPlus parts only).
    Ice40 { dsp: bool },
    /// `synth_ecp5` (multipliers to MULT18X18D).
    Ecp5,
    /// `synth_xilinx -family xc7` (7-series: LUT6, CARRY4, DSP48E1, RAMB18E1/RAMB36E1).
    Xc7,
}

/// Where the FPGA script writes its netlist (inside the scratch folder).
const NETLIST_FILE: &str = "netlist.json";

/// The FPGA synthesis script: read, map with the architecture's `synth_*` pass (which flattens), write
/// the netlist for nextpnr (`-json`, iCE40 and ECP5 only), and `stat -json` into `stat_path`.
///
/// Xilinx runs out of context (`-noiopad`: no I/O buffers) on the bare top, since no place and route
/// follows; iCE40 and ECP5 map the registered-I/O wrapper, which has few pins.
pub fn fpga_script(
    files: &[String],
    top: &str,
    arch: FpgaArch,
    netlist_path: &str,
    stat_path: &str,
) -> Result<String> {
    for path in [netlist_path, stat_path] {
        if path.chars().any(|c| c.is_whitespace() || c == '"' || c == ';') {
            bail!("path {path:?} cannot be passed to yosys (whitespace, quote or ';')");
        }
    }
    let mut s = read_commands(files)?;
    match arch {
        FpgaArch::Ice40 { dsp } => {
            let dsp = if dsp { " -dsp" } else { "" };
            s.push_str(&format!("synth_ice40 -top {top}{dsp} -json {netlist_path}\n"));
        }
        FpgaArch::Ecp5 => s.push_str(&format!("synth_ecp5 -top {top} -json {netlist_path}\n")),
        FpgaArch::Xc7 => s.push_str(&format!("synth_xilinx -family xc7 -top {top} -flatten -noiopad\n")),
    }
    s.push_str(&format!("tee -q -o {stat_path} stat -json\n"));
    Ok(s)
}

/// [`fpga_script`] with placeholder paths: the stable text used in cache keys and reports.
pub fn fpga_script_for_key(files: &[String], top: &str, arch: FpgaArch) -> Result<String> {
    fpga_script(files, top, arch, NETLIST_FILE, STAT_FILE)
}

/// FPGA synthesis of `files` (relative to `dir`) with top module `top`. The netlist (iCE40, ECP5) is
/// written to `work/netlist.json`, returned with the statistics (`cells_by_type` holds the
/// architecture's cells; the generic `flip_flops` and `transistors` figures are 0).
pub(crate) fn synth_fpga(
    dir: &Path,
    files: &[String],
    top: &str,
    arch: FpgaArch,
    work: &Scratch,
) -> Result<(SynthReport, PathBuf)> {
    let netlist = work.path().join(NETLIST_FILE);
    let stat_path = work.path().join(STAT_FILE);
    let as_str = |p: &Path| p.to_str().map(String::from).context("temp path is not UTF-8");
    let script = fpga_script(files, top, arch, &as_str(&netlist)?, &as_str(&stat_path)?)?;
    let run = run_script_in(dir, &script, work)?;
    let report = statistics_of(&run, &stat_path, top, &format!("FPGA synthesis ({arch:?})"))?;
    Ok((report, netlist))
}

/// [`synth_fpga`] in a temporary folder, statistics only (no netlist kept).
pub fn synth_fpga_stats(dir: &Path, files: &[String], top: &str, arch: FpgaArch) -> Result<SynthReport> {
    let work = Scratch::new("yosys-fpga")?;
    Ok(synth_fpga(dir, files, top, arch, &work)?.0)
}
