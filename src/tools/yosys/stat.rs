//! Synthesis statistics: `stat -json` (with `-tech cmos`, Yosys's transistor estimate) parsed with
//! serde_json into per-module figures, expanded through the module hierarchy.

use super::unescape;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// How each memory was mapped (FPGA synthesis; empty for generic synthesis, which keeps RAM
    /// modules as black boxes or has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memories: Vec<super::MemoryMapping>,
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
            // Gate types without a CMOS cost, and black-box modules (no module statistics of their own).
            .filter(|t| {
                (t.starts_with("$_") && !CMOS_COSTED.contains(&t.as_str()))
                    || (!t.starts_with('$') && !modules.contains_key(t.as_str()))
            })
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
        memories: Vec::new(),
    })
}
