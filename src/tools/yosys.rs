//! Yosys: structural checks and synthesis reports.
//!
//! Three entry points, all run Yosys from a script file with a log file (`-q -l`), never by scraping
//! the terminal:
//! - [`check`] / [`check_problems`]: `hierarchy -check; proc; flatten; opt; check -assert` plus an explicit
//!   latch assertion; the log is parsed into typed [`Problem`]s (latch, implicit declaration, undriven
//!   wire, combinational loop, multiple drivers, any other warning or error).
//! - [`synth_generic`]: `synth; dffunmap; stat -json -tech cmos`, with the statistics written by
//!   `tee -o` to a JSON file and parsed with serde_json ([`parse_stat_json`]), not from the text layout.
//! - [`synth_fpga_stats`] (and the crate's `synth_fpga`, which keeps the netlist for nextpnr):
//!   `synth_ice40` / `synth_ecp5` / `synth_xilinx -family xc7` then `stat -json`, parsed the same way
//!   ([`fpga_script`]).
//!
//! The parsers are pure functions over recorded Yosys output so that they are tested without Yosys
//! (fixtures in `tests/fixtures/yosys/`).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to install Yosys on Debian, for the missing-tool error.
pub const INSTALL: &str = "apt-get install yosys";

/// Finds the yosys binary or says how to install it.
pub fn binary() -> Result<PathBuf> {
    Ok(super::require("yosys", INSTALL)?)
}

/// The first line of `yosys -V`, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`.
pub fn version() -> Result<String> {
    let out = Command::new(binary()?).arg("-V").output().context("running yosys -V")?;
    if !out.status.success() {
        bail!("yosys -V failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string())
}

// ------------------------------------------------------------------------------------------------
// Structural check
// ------------------------------------------------------------------------------------------------

/// One problem Yosys found in a design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `proc_dlatch` turned a combinational process into a latch: some path does not assign `signal`.
    Latch { signal: String },
    /// A net used without a declaration (Verilog's implicit wire).
    ImplicitDeclaration { location: String, identifier: String },
    /// A wire that is read but driven by nothing.
    Undriven { wire: String },
    /// A combinational loop; `path` lists the cells and wires Yosys reports on it.
    LogicLoop { module: String, path: Vec<String> },
    /// A wire with more than one driver.
    MultipleDrivers { wire: String, drivers: Vec<String> },
    /// Any other Yosys warning (with its detail lines).
    Warning(String),
    /// A Yosys error that stopped the script (syntax error, missing module, ...).
    Error(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Latch { signal } => {
                write!(
                    f,
                    "latch inferred for {signal} (a combinational block does not assign it on every path)"
                )
            }
            Problem::ImplicitDeclaration { location, identifier } => {
                write!(f, "{location}: identifier {identifier} is implicitly declared")
            }
            Problem::Undriven { wire } => write!(f, "wire {wire} is used but has no driver"),
            Problem::LogicLoop { module, path } => {
                write!(f, "combinational loop in module {module}: {}", path.join(", "))
            }
            Problem::MultipleDrivers { wire, drivers } => {
                write!(f, "multiple conflicting drivers for {wire}: {}", drivers.join(", "))
            }
            Problem::Warning(text) => write!(f, "warning: {text}"),
            Problem::Error(text) => write!(f, "error: {text}"),
        }
    }
}

/// The check script: elaborate, lower processes, flatten (so a loop through several instances is
/// seen whole), clean up, then assert that nothing is undriven, multiply driven or looped
/// (`check -assert`) and that no latch survived.
pub fn check_script(files: &[String], top: &str) -> Result<String> {
    let mut s = read_commands(files)?;
    s.push_str(&format!("hierarchy -check -top {top}\n"));
    s.push_str("proc\nflatten\nopt\ncheck -assert\n");
    s.push_str("select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr t:$_DLATCH_* t:$_SR_*\n");
    Ok(s)
}

/// Runs the Yosys structural checks on `files` (relative to `dir`) with top module `top` and
/// returns every problem found, one line each. An empty list means clean. Errors only when Yosys
/// cannot be run at all (missing, or no log); a design Yosys rejects is reported as a problem.
pub fn check(dir: &Path, files: &[String], top: &str) -> Result<Vec<String>> {
    Ok(check_problems(dir, files, top)?.iter().map(|p| p.to_string()).collect())
}

/// [`check`], typed.
pub fn check_problems(dir: &Path, files: &[String], top: &str) -> Result<Vec<Problem>> {
    let run = run_script(dir, &check_script(files, top)?, "yosys-check")?;
    let mut problems = parse_check_log(&run.log);
    if !run.success && problems.is_empty() {
        problems.push(Problem::Error(format!(
            "yosys exited with {} without reporting a problem: {}",
            run.status,
            run.stderr.trim()
        )));
    }
    Ok(problems)
}

/// Parses a Yosys log (from `-l`) into problems. Pure; never panics on unexpected text.
pub fn parse_check_log(log: &str) -> Vec<Problem> {
    let lines: Vec<&str> = log.lines().collect();
    let mut problems = Vec::new();
    let mut latch_assert_cells: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        i += 1;
        // Detail lines that follow a warning or error ("    cell $and...", "    module input a[0]").
        let details = |i: &mut usize| {
            let mut out = Vec::new();
            while *i < lines.len() && lines[*i].starts_with(' ') && !lines[*i].trim().is_empty() {
                out.push(lines[*i].trim().to_string());
                *i += 1;
            }
            out
        };
        if let Some(rest) = line.strip_prefix("Latch inferred for signal ") {
            // Latch inferred for signal `\lat.\q' from process `...': $auto$proc_dlatch...
            let signal = first_quoted(rest).map(unescape).unwrap_or_else(|| rest.to_string());
            problems.push(Problem::Latch { signal });
        } else if let Some(pos) = line.find("Warning: ") {
            let location = line[..pos].trim_end().trim_end_matches(':').to_string();
            let msg = line[pos + "Warning: ".len()..].trim();
            let extra = details(&mut i);
            problems.push(classify_warning(&location, msg, extra));
        } else if let Some(pos) = line.find("ERROR: ") {
            let location = line[..pos].trim_end().trim_end_matches(':').to_string();
            let msg = line[pos + "ERROR: ".len()..].trim();
            if msg.starts_with("Found ") && msg.contains("problems in 'check") {
                // The summary of `check -assert`; its problems were reported as warnings above.
                continue;
            }
            if msg.starts_with("Assertion failed: selection is not empty") && msg.contains("dlatch") {
                // "Selection contains:" then one `module/cell` per line.
                while i < lines.len() {
                    let l = lines[i].trim();
                    if l.is_empty()
                        || l.starts_with("End of script")
                        || l.contains("ERROR")
                        || l.starts_with("Warnings:")
                    {
                        break;
                    }
                    if l != "Selection contains:" {
                        latch_assert_cells.push(unescape(l));
                    }
                    i += 1;
                }
                continue;
            }
            let text = if location.is_empty() { msg.to_string() } else { format!("{location}: {msg}") };
            problems.push(Problem::Error(text));
        }
    }
    // The latch assertion is a backstop: report its cells only if proc_dlatch said nothing.
    if !problems.iter().any(|p| matches!(p, Problem::Latch { .. })) {
        for cell in latch_assert_cells {
            problems.push(Problem::Latch { signal: format!("cell {cell}") });
        }
    }
    dedup_keep_order(merge_undriven_bits(problems))
}

/// Yosys reports an undriven bus bit by bit (`acc4.gain [3]`, `acc4.gain [2]`, ...); report one
/// problem per wire with its bits (`acc4.gain[3:0]`, or `acc4.gain[5,2]` when not contiguous).
fn merge_undriven_bits(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    let mut bits: Vec<(String, Vec<u64>)> = Vec::new(); // per base wire, in first-seen order
    let mut slot: Vec<Option<usize>> = Vec::new(); // per out entry: index into `bits`
    for p in problems {
        if let Problem::Undriven { wire } = &p {
            if let Some((base, bit)) = split_bit(wire) {
                if let Some(i) = bits.iter().position(|(b, _)| *b == base) {
                    bits[i].1.push(bit);
                } else {
                    bits.push((base, vec![bit]));
                    out.push(p);
                    slot.push(Some(bits.len() - 1));
                }
                continue;
            }
        }
        out.push(p);
        slot.push(None);
    }
    for (p, s) in out.iter_mut().zip(slot) {
        if let Some(i) = s {
            let (base, mut b) = bits[i].clone();
            b.sort_unstable_by(|x, y| y.cmp(x));
            b.dedup();
            let contiguous = b.windows(2).all(|w| w[0] == w[1] + 1);
            let sel = if b.len() == 1 {
                format!("[{}]", b[0])
            } else if contiguous {
                format!("[{}:{}]", b[0], b[b.len() - 1])
            } else {
                format!("[{}]", b.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","))
            };
            *p = Problem::Undriven { wire: format!("{base}{sel}") };
        }
    }
    out
}

/// `acc4.gain [3]` -> (`acc4.gain`, 3).
fn split_bit(wire: &str) -> Option<(String, u64)> {
    let open = wire.rfind('[')?;
    let bit = wire[open + 1..].strip_suffix(']')?.trim().parse().ok()?;
    Some((wire[..open].trim_end().to_string(), bit))
}

fn classify_warning(location: &str, msg: &str, details: Vec<String>) -> Problem {
    if let Some(rest) = msg.strip_prefix("Identifier ") {
        if msg.ends_with("is implicitly declared.") {
            let identifier = first_quoted(rest).map(unescape).unwrap_or_else(|| rest.to_string());
            return Problem::ImplicitDeclaration { location: location.to_string(), identifier };
        }
    }
    if let Some(rest) = msg.strip_prefix("Wire ") {
        if let Some(wire) = rest.strip_suffix(" is used but has no driver.") {
            return Problem::Undriven { wire: unescape(wire) };
        }
    }
    if let Some(rest) = msg.strip_prefix("found logic loop in module ") {
        let module = unescape(rest.trim_end_matches(':'));
        return Problem::LogicLoop { module, path: details.iter().map(|d| unescape(d)).collect() };
    }
    if let Some(rest) = msg.strip_prefix("multiple conflicting drivers for ") {
        let wire = unescape(rest.trim_end_matches(':'));
        return Problem::MultipleDrivers { wire, drivers: details.iter().map(|d| unescape(d)).collect() };
    }
    let mut text = if location.is_empty() { msg.to_string() } else { format!("{location}: {msg}") };
    for d in details {
        text.push_str(" | ");
        text.push_str(&d);
    }
    Problem::Warning(text)
}

/// The text between the first `` ` `` and the following `'` (Yosys's quoting), if any.
fn first_quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('\'')?;
    Some(&s[start..start + len])
}

/// Yosys escapes public names with a backslash (`\lat.\q`); show them as written in Verilog.
fn unescape(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_prefix('\\').unwrap_or(name);
    name.replace(".\\", ".").replace("/\\", "/").replace(" \\", " ")
}

fn dedup_keep_order(items: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::with_capacity(items.len());
    for p in items {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Generic synthesis
// ------------------------------------------------------------------------------------------------

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

/// Figures for one module. `cells`, `flip_flops`, `transistors` and `cells_by_type` are the
/// module's own (a submodule instance is one cell, with no transistors); the `hier_*` figures expand
/// submodule instances through the hierarchy (equal to the own figures for a leaf module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleStat {
    pub cells: u64,
    pub flip_flops: u64,
    pub transistors: u64,
    pub transistors_exact: bool,
    pub wires: u64,
    pub wire_bits: u64,
    pub cells_by_type: BTreeMap<String, u64>,
    pub hier_cells: u64,
    pub hier_flip_flops: u64,
    pub hier_transistors: u64,
}

/// Generic synthesis results for a whole design (hierarchy flattened into the totals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthReport {
    /// Yosys's `creator` string, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`.
    pub yosys: String,
    pub top: String,
    /// Total cells over the hierarchy (every instance expanded).
    pub cells: u64,
    pub cells_by_type: BTreeMap<String, u64>,
    /// Flip-flop bits: the sum of the single-bit $_DFF*_ / $_SDFF*_ / $_DFFSR*_ / $_ALDFF*_ cells.
    pub flip_flops: u64,
    /// Latch bits ($_DLATCH*_, $_SR_*); a generated design must have none.
    pub latches: u64,
    /// Yosys's `stat -tech cmos` estimate. A lower bound when `transistors_exact` is false.
    pub transistors: u64,
    /// False when some cell types have no CMOS cost in Yosys (printed as `N+`).
    pub transistors_exact: bool,
    /// Cell types present that Yosys's CMOS cost table does not cover (why the estimate is a bound).
    pub uncosted_cell_types: Vec<String>,
    pub wires: u64,
    pub wire_bits: u64,
    /// Per-module figures, by module name (backslash removed; parameterized modules keep Yosys's name).
    pub modules: BTreeMap<String, ModuleStat>,
    /// Yosys warnings printed during synthesis (one line each).
    pub warnings: Vec<String>,
}

/// True for the single-bit flip-flop cell types of Yosys's internal gate library.
pub fn is_flip_flop(cell_type: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "$_DFF_",
        "$_DFFE_",
        "$_SDFF_",
        "$_SDFFE_",
        "$_SDFFCE_",
        "$_DFFSR_",
        "$_DFFSRE_",
        "$_ALDFF_",
        "$_ALDFFE_",
    ];
    PREFIXES.iter().any(|p| cell_type.starts_with(p)) || cell_type == "$_FF_"
}

/// True for the single-bit latch cell types of Yosys's internal gate library.
pub fn is_latch(cell_type: &str) -> bool {
    cell_type.starts_with("$_DLATCH") || cell_type.starts_with("$_SR_")
}

/// CMOS transistor costs of Yosys 0.23 (`kernel/cost.h`, `cmos_gate_cost`). Used only to name the
/// cell types that make Yosys's estimate a lower bound; the figure itself is Yosys's.
const CMOS_COSTED: [&str; 18] = [
    "$_BUF_",
    "$_NOT_",
    "$_AND_",
    "$_NAND_",
    "$_OR_",
    "$_NOR_",
    "$_ANDNOT_",
    "$_ORNOT_",
    "$_XOR_",
    "$_XNOR_",
    "$_AOI3_",
    "$_OAI3_",
    "$_AOI4_",
    "$_OAI4_",
    "$_MUX_",
    "$_NMUX_",
    "$_DFF_P_",
    "$_DFF_N_",
];

#[derive(Deserialize)]
struct StatJson {
    #[serde(default)]
    creator: String,
    #[serde(default)]
    modules: BTreeMap<String, StatModule>,
    design: Option<StatModule>,
}

#[derive(Deserialize, Clone)]
struct StatModule {
    #[serde(default)]
    num_wires: u64,
    #[serde(default)]
    num_wire_bits: u64,
    #[serde(default)]
    num_cells: u64,
    #[serde(default)]
    num_cells_by_type: BTreeMap<String, u64>,
    /// A string in Yosys 0.23 ("1748", or "810+" when a cell type has no cost); accept a number too.
    estimated_num_transistors: Option<serde_json::Value>,
}

/// Parses Yosys's transistor estimate: `"1748"` → (1748, exact), `"810+"` → (810, lower bound).
fn parse_transistors(v: Option<&serde_json::Value>) -> Result<(u64, bool)> {
    match v {
        None => Ok((0, false)),
        Some(serde_json::Value::Number(n)) => {
            Ok((n.as_u64().context("estimated_num_transistors is not an unsigned integer")?, true))
        }
        Some(serde_json::Value::String(s)) => {
            let (digits, exact) = match s.strip_suffix('+') {
                Some(d) => (d, false),
                None => (s.as_str(), true),
            };
            let n =
                digits.trim().parse::<u64>().with_context(|| format!("estimated_num_transistors {s:?}"))?;
            Ok((n, exact))
        }
        Some(other) => bail!("estimated_num_transistors has an unexpected form: {other}"),
    }
}

fn module_stat(m: &StatModule) -> Result<ModuleStat> {
    let (transistors, transistors_exact) = parse_transistors(m.estimated_num_transistors.as_ref())?;
    let flip_flops = m.num_cells_by_type.iter().filter(|(t, _)| is_flip_flop(t)).map(|(_, n)| n).sum();
    Ok(ModuleStat {
        cells: m.num_cells,
        flip_flops,
        transistors,
        transistors_exact,
        wires: m.num_wires,
        wire_bits: m.num_wire_bits,
        cells_by_type: m.num_cells_by_type.clone(),
        hier_cells: m.num_cells,
        hier_flip_flops: flip_flops,
        hier_transistors: transistors,
    })
}

/// Fills the `hier_*` figures of every module by expanding submodule instances (memoized; a
/// module type that is not in `modules` is a leaf cell).
fn expand_hierarchy(modules: &mut BTreeMap<String, ModuleStat>) {
    fn totals(
        name: &str,
        modules: &BTreeMap<String, ModuleStat>,
        memo: &mut BTreeMap<String, (u64, u64, u64)>,
        depth: usize,
    ) -> (u64, u64, u64) {
        if let Some(t) = memo.get(name) {
            return *t;
        }
        let m = &modules[name];
        let (mut cells, mut ffs, mut tr) = (0, m.flip_flops, m.transistors);
        for (ty, n) in &m.cells_by_type {
            if modules.contains_key(ty) && depth < 64 {
                let (c, f, t) = totals(ty, modules, memo, depth + 1);
                cells += n * c;
                ffs += n * f;
                tr += n * t;
            } else {
                cells += n;
            }
        }
        memo.insert(name.to_string(), (cells, ffs, tr));
        (cells, ffs, tr)
    }
    let mut memo = BTreeMap::new();
    let names: Vec<String> = modules.keys().cloned().collect();
    for name in &names {
        let t = totals(name, modules, &mut memo, 0);
        let m = modules.get_mut(name).expect("module exists");
        (m.hier_cells, m.hier_flip_flops, m.hier_transistors) = t;
    }
}

/// Yosys 0.23 breaks its own `stat -json` output on a hierarchy more than one level deep: between
/// the `modules` and `design` sections it prints the text-mode hierarchy lines of submodules, e.g.
/// `       mac_os_2x2_i8_mac_unit        1`. Every line of the JSON it means to write starts (after
/// indentation) with `{`, `}`, `[`, `]` or `"`; this drops the lines that do not.
pub fn repair_stat_json(json: &str) -> String {
    json.lines()
        .filter(|l| matches!(l.trim_start().chars().next(), None | Some('{' | '}' | '[' | ']' | '"')))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Parses the output of `stat -json -tech cmos` (Yosys 0.23 layout: `creator`, `modules`, and a
/// `design` section with hierarchy totals when a top module is set). Without a `design` section the
/// totals are those of `top`'s module. Pure; errors (never panics) on malformed input.
pub fn parse_stat_json(json: &str, top: &str) -> Result<SynthReport> {
    let stat: StatJson = match serde_json::from_str(json) {
        Ok(stat) => stat,
        Err(strict) => serde_json::from_str(&repair_stat_json(json))
            .map_err(|_| strict)
            .context("parsing yosys stat -json output")?,
    };
    let mut modules: BTreeMap<String, ModuleStat> =
        stat.modules.iter().map(|(name, m)| Ok((unescape(name), module_stat(m)?))).collect::<Result<_>>()?;
    // Submodule instance types are escaped names too ("\\pe" in older Yosys, "pe" in 0.23).
    for m in modules.values_mut() {
        m.cells_by_type = std::mem::take(&mut m.cells_by_type)
            .into_iter()
            .map(|(t, n)| (if t.starts_with('$') { t } else { unescape(&t) }, n))
            .collect();
    }
    expand_hierarchy(&mut modules);
    let total = match &stat.design {
        Some(d) => module_stat(d)?,
        None => modules
            .get(top)
            .cloned()
            .with_context(|| format!("yosys stat has neither a design section nor a module {top}"))?,
    };
    let latches = total.cells_by_type.iter().filter(|(t, _)| is_latch(t)).map(|(_, n)| n).sum();
    let uncosted_cell_types = if total.transistors_exact {
        Vec::new()
    } else {
        total
            .cells_by_type
            .keys()
            .filter(|t| t.starts_with("$_") && !CMOS_COSTED.contains(&t.as_str()))
            .cloned()
            .collect()
    };
    Ok(SynthReport {
        yosys: stat.creator,
        top: top.to_string(),
        cells: total.cells,
        cells_by_type: total.cells_by_type,
        flip_flops: total.flip_flops,
        latches,
        transistors: total.transistors,
        transistors_exact: total.transistors_exact,
        uncosted_cell_types,
        wires: total.wires,
        wire_bits: total.wire_bits,
        modules,
        warnings: Vec::new(),
    })
}

/// Warning lines of a Yosys log, one per warning (detail lines joined with ` | `).
pub fn log_warnings(log: &str) -> Vec<String> {
    parse_check_log(log)
        .into_iter()
        .filter(|p| !matches!(p, Problem::Error(_)))
        .map(|p| p.to_string())
        .collect()
}

/// Generic synthesis of `files` (relative to `dir`) with top module `top`: cells by type,
/// flip-flops, Yosys's CMOS transistor estimate, wires.
pub fn synth_generic(dir: &Path, files: &[String], top: &str) -> Result<SynthReport> {
    let scratch = super::Scratch::new("yosys-synth")?;
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

// ------------------------------------------------------------------------------------------------
// FPGA synthesis
// ------------------------------------------------------------------------------------------------

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
    work: &super::Scratch,
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
    let work = super::Scratch::new("yosys-fpga")?;
    Ok(synth_fpga(dir, files, top, arch, &work)?.0)
}

// ------------------------------------------------------------------------------------------------
// Running Yosys
// ------------------------------------------------------------------------------------------------

struct Run {
    success: bool,
    status: String,
    log: String,
    stderr: String,
}

fn quote(s: &str) -> Result<String> {
    if s.contains('"') || s.contains('\n') {
        bail!("file name {s:?} cannot be passed to yosys (quote or newline)");
    }
    Ok(format!("\"{s}\""))
}

fn read_commands(files: &[String]) -> Result<String> {
    if files.is_empty() {
        bail!("no Verilog files to read");
    }
    let mut s = String::new();
    for f in files {
        s.push_str(&format!("read_verilog {}\n", quote(f)?));
    }
    Ok(s)
}

fn run_script(dir: &Path, script: &str, tag: &str) -> Result<Run> {
    let scratch = super::Scratch::new(tag)?;
    run_script_in(dir, script, &scratch)
}

/// Runs `yosys -q -l LOG -s SCRIPT` in `dir` (so relative file names resolve there).
fn run_script_in(dir: &Path, script: &str, scratch: &super::Scratch) -> Result<Run> {
    let yosys = binary()?;
    let script_path = scratch.path().join("script.ys");
    let log_path = scratch.path().join("yosys.log");
    std::fs::write(&script_path, script).with_context(|| format!("writing {}", script_path.display()))?;
    let out = Command::new(&yosys)
        .arg("-q")
        .arg("-l")
        .arg(&log_path)
        .arg("-s")
        .arg(&script_path)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {} in {}", yosys.display(), dir.display()))?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if log.is_empty() && !out.status.success() {
        bail!("yosys failed before writing a log ({}): {}", out.status, stderr.trim());
    }
    Ok(Run { success: out.status.success(), status: out.status.to_string(), log, stderr })
}
