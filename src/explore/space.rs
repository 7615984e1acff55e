//! The space file: fixed config keys and axes (lists of values), workloads and targets, parsed and
//! checked up front. Every problem is one line (`file: key = value: rule`, the config validator's
//! form), so a bad space fails with exit code 2 before anything runs.
//!
//! ```toml
//! [space]
//! name = "example"
//! seed = 1                                  # activations (and GEMM weight windows) are drawn from it
//!
//! [config]                                  # the config schema; a list is an axis, a scalar is fixed
//! array.dataflow = "output_stationary"
//! array.rows = [4, 8]
//! pe.weight_bits = 8
//!
//! [[axis]]                                  # an axis whose values set several keys at once
//! name = "pe"
//! values = [{ pe.kind = "mac" }, { pe.kind = "sac", pe.kneading_stride = 8, pe.encoding = "csd" }]
//!
//! [[workload]]                              # exactly one of network / gemm / topology
//! name = "mtcnn"
//! network = "mtcnn"                         # the shipped layers of data/weights/mtcnn
//! m = 64                                    # GEMM rows (output pixels) per layer
//!
//! [[target]]
//! name = "ice40"                            # generic | ice40 | ecp5 | xilinx
//! only = { "array.rows" = [4] }             # optional: only points with these values
//! ```

use crate::config::{ConfigError, ConfigErrors};
use crate::synth::fpga::Target;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// A parsed, checked space (before its combinations are validated as configs; see `points`).
#[derive(Debug, Clone)]
pub struct Space {
    /// The file it was read from (as given), for messages.
    pub file: String,
    pub name: String,
    pub seed: u64,
    /// The fixed keys of `[config]` (axes removed).
    pub base: Table,
    /// Axes in enumeration order: `[config]` lists (by key path), then `[[axis]]` in file order.
    pub axes: Vec<Axis>,
    pub workloads: Vec<WorkloadSpec>,
    pub targets: Vec<TargetSpec>,
}

/// One axis: a name and its values, each a set of (key path, value) assignments.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key path for a `[config]` list, the given name for an `[[axis]]`.
    pub name: String,
    /// Where the space file defines it, for messages (`config.array.rows`, `axis.pe`).
    pub origin: String,
    pub values: Vec<Vec<(String, Value)>>,
}

impl Axis {
    /// The value `i` as written in messages: `4`, or `{ pe.kind = "sac", ... }`.
    pub fn value_text(&self, i: usize) -> String {
        let sets = &self.values[i];
        if self.origin.starts_with("config.") && sets.len() == 1 {
            return sets[0].1.to_string();
        }
        let inner: Vec<String> = sets.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        format!("{{ {} }}", inner.join(", "))
    }
}

/// Where a workload's layers come from.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadSource {
    /// Shipped layers of `data/weights/<network>` (all, or those named), each as GEMM with `m` rows.
    Network { network: String, m: usize, layers: Option<Vec<String>> },
    /// GEMM shapes `[M, N, K]`.
    Gemm(Vec<[usize; 3]>),
    /// A SCALE-Sim topology CSV (path resolved against the space file's folder).
    Topology(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    pub name: String,
    pub source: WorkloadSource,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetSpec {
    pub target: Target,
    /// `--device` of `accelc synth` (ice40/ecp5 only).
    pub device: Option<String>,
    pub freq_mhz: Option<f64>,
    pub seed: u64,
    /// Only points whose config has one of the listed values at each key path.
    pub only: Vec<(String, Vec<Value>)>,
}

impl TargetSpec {
    /// The label used in outputs: `ice40`, or `ice40-hx8k` with a device.
    pub fn label(&self) -> String {
        match &self.device {
            Some(d) => format!("{}-{}", self.target.name(), d.replace(':', "-")),
            None => self.target.name().to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpace {
    space: RawHeader,
    config: Table,
    #[serde(default)]
    axis: Vec<RawAxis>,
    workload: Vec<RawWorkload>,
    target: Vec<RawTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    #[serde(default = "default_seed")]
    seed: u64,
}

fn default_seed() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAxis {
    name: String,
    values: Vec<Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: String,
    network: Option<String>,
    m: Option<usize>,
    layers: Option<Vec<String>>,
    gemm: Option<Vec<[usize; 3]>>,
    topology: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: String,
    device: Option<String>,
    freq_mhz: Option<f64>,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    only: Table,
}

/// Collects problems, each naming file, key, value and rule.
struct Problems<'a> {
    file: &'a str,
    list: Vec<ConfigError>,
}

impl Problems<'_> {
    fn add(&mut self, key: &str, value: impl std::fmt::Display, rule: impl Into<String>) {
        self.list.push(ConfigError::new(self.file, key, &value.to_string(), rule));
    }
}

impl Space {
    /// Reads and checks a space file.
    pub fn load(path: &Path) -> Result<Space, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![ConfigError::new(&file, "", "", format!("cannot read: {e}"))]))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Space::parse(&file, &text, dir)
    }

    /// Parses and checks space text; `file` names it in messages, `dir` resolves topology paths.
    pub fn parse(file: &str, text: &str, dir: &Path) -> Result<Space, ConfigErrors> {
        let raw: RawSpace =
            toml::from_str(text).map_err(|e| ConfigErrors(vec![toml_problem(file, text, &e)]))?;
        let mut p = Problems { file, list: Vec::new() };
        if raw.space.name.trim().is_empty() {
            p.add("space.name", "\"\"", "must not be empty");
        }
        let (base, mut axes) = config_axes(&raw.config, &mut p);
        axes.extend(bundle_axes(&raw.axis, &mut p));
        check_overlaps(&base, &axes, &mut p);
        let workloads = workloads(&raw.workload, dir, &mut p);
        let targets = targets(&raw.target, &mut p);
        if !p.list.is_empty() {
            return Err(ConfigErrors(p.list));
        }
        Ok(Space {
            file: file.to_string(),
            name: raw.space.name,
            seed: raw.space.seed,
            base,
            axes,
            workloads,
            targets,
        })
    }
}

/// Splits `[config]` into fixed keys and list axes (sorted by key path: deterministic).
fn config_axes(config: &Table, p: &mut Problems) -> (Table, Vec<Axis>) {
    let mut base = Table::new();
    let mut axes = Vec::new();
    let mut leaves = Vec::new();
    flatten("", config, &mut leaves);
    for (path, value) in leaves {
        if path == "name" {
            p.add(
                "config.name",
                &value,
                "is derived per point (kind, size and a hash of the config): remove it",
            );
            continue;
        }
        match value {
            Value::Array(items) => {
                let key = format!("config.{path}");
                if items.is_empty() {
                    p.add(&key, "[]", "an axis needs at least one value");
                    continue;
                }
                if let Some(bad) = items.iter().find(|v| v.is_table() || v.is_array()) {
                    p.add(&key, bad, "axis values must be plain values (a string, number or boolean)");
                    continue;
                }
                if let Some(dup) = first_duplicate(&items) {
                    p.add(&key, dup, "appears twice in the axis");
                    continue;
                }
                let values = items.into_iter().map(|v| vec![(path.clone(), v)]).collect();
                axes.push(Axis { name: path, origin: key, values });
            }
            other => set_path(&mut base, &path, other),
        }
    }
    (base, axes)
}

fn bundle_axes(raw: &[RawAxis], p: &mut Problems) -> Vec<Axis> {
    let mut axes: Vec<Axis> = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let key = format!("axis[{i}]");
        if a.name.trim().is_empty() {
            p.add(&format!("{key}.name"), "\"\"", "must not be empty");
        } else if axes.iter().any(|x| x.name == a.name) {
            p.add(&format!("{key}.name"), format!("{:?}", a.name), "names another axis too");
        }
        let origin = format!("axis.{}", a.name);
        if a.values.is_empty() {
            p.add(&format!("{origin}.values"), "[]", "an axis needs at least one value");
            continue;
        }
        let mut values = Vec::new();
        for (j, table) in a.values.iter().enumerate() {
            let mut sets = Vec::new();
            flatten("", table, &mut sets);
            let where_ = format!("{origin}.values[{j}]");
            if sets.is_empty() {
                p.add(&where_, "{}", "must set at least one config key");
            }
            if let Some((k, v)) = sets.iter().find(|(_, v)| v.is_array()) {
                p.add(&format!("{where_}.{k}"), v, "a value of an [[axis]] is one config: no lists inside");
            }
            if let Some((k, _)) = sets.iter().find(|(k, _)| k == "name") {
                p.add(&format!("{where_}.{k}"), "", "the name is derived per point: remove it");
            }
            values.push(sets);
        }
        if let Some(dup) = first_duplicate(&values) {
            p.add(&format!("{origin}.values"), format!("{dup:?}"), "appears twice in the axis");
        }
        axes.push(Axis { name: a.name.clone(), origin, values });
    }
    axes
}

/// A key set by two axes, or by an axis and a fixed value, has no single meaning.
fn check_overlaps(base: &Table, axes: &[Axis], p: &mut Problems) {
    let mut fixed = Vec::new();
    flatten("", base, &mut fixed);
    let mut owner: BTreeMap<String, String> =
        fixed.into_iter().map(|(k, _)| (k, "[config]".into())).collect();
    for axis in axes {
        let mut keys: Vec<&String> = axis.values.iter().flatten().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            match owner.get(k) {
                Some(other) => {
                    p.add(k, "", format!("is set by both {other} and {}: give it one place", axis.origin))
                }
                None => {
                    owner.insert(k.clone(), axis.origin.clone());
                }
            }
        }
    }
}

fn workloads(raw: &[RawWorkload], dir: &Path, p: &mut Problems) -> Vec<WorkloadSpec> {
    if raw.is_empty() {
        p.add("workload", "[]", "the space needs at least one [[workload]]");
    }
    let mut out: Vec<WorkloadSpec> = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let key = format!("workload[{i}]");
        if !valid_label(&w.name) {
            p.add(
                &format!("{key}.name"),
                format!("{:?}", w.name),
                "must be letters, digits, '_' or '-' (it names files)",
            );
        } else if out.iter().any(|o| o.name == w.name) {
            p.add(&format!("{key}.name"), format!("{:?}", w.name), "names another workload too");
        }
        let given = [w.network.is_some(), w.gemm.is_some(), w.topology.is_some()];
        if given.iter().filter(|g| **g).count() != 1 {
            p.add(&key, &w.name, "needs exactly one of network, gemm, topology");
            continue;
        }
        if w.network.is_none() && (w.m.is_some() || w.layers.is_some()) {
            p.add(&key, &w.name, "m and layers only apply to a network workload");
        }
        let source = if let Some(net) = &w.network {
            match w.m {
                Some(m) if m > 0 => {}
                Some(m) => p.add(&format!("{key}.m"), m, "must be at least 1"),
                None => p.add(
                    &format!("{key}.m"),
                    "(missing)",
                    "a network workload needs m, the GEMM rows (output pixels) per layer",
                ),
            }
            match crate::workload::load_network(net) {
                Err(e) => p.add(&format!("{key}.network"), format!("{net:?}"), e.to_string()),
                Ok(layers) => {
                    for name in w.layers.iter().flatten() {
                        if !layers.iter().any(|l| &l.name == name && !l.depthwise) {
                            let known: Vec<&str> =
                                layers.iter().filter(|l| !l.depthwise).map(|l| l.name.as_str()).collect();
                            p.add(
                                &format!("{key}.layers"),
                                format!("{name:?}"),
                                format!("no such dense layer in {net} (it has {})", known.join(", ")),
                            );
                        }
                    }
                    if w.layers.as_ref().is_some_and(|l| l.is_empty()) {
                        p.add(
                            &format!("{key}.layers"),
                            "[]",
                            "list at least one layer, or leave it out for all",
                        );
                    }
                }
            }
            WorkloadSource::Network { network: net.clone(), m: w.m.unwrap_or(1), layers: w.layers.clone() }
        } else if let Some(shapes) = &w.gemm {
            if shapes.is_empty() {
                p.add(&format!("{key}.gemm"), "[]", "list at least one [M, N, K]");
            }
            for s in shapes {
                if s.contains(&0) {
                    p.add(&format!("{key}.gemm"), format!("{s:?}"), "M, N and K must be at least 1");
                }
            }
            WorkloadSource::Gemm(shapes.clone())
        } else {
            let rel = w.topology.as_deref().unwrap_or_default();
            let path = dir.join(rel);
            if let Err(e) = crate::workload::topology::read_topology(&path) {
                p.add(&format!("{key}.topology"), format!("{rel:?}"), format!("{e:#}"));
            }
            WorkloadSource::Topology(path)
        };
        out.push(WorkloadSpec { name: w.name.clone(), source });
    }
    out
}

fn targets(raw: &[RawTarget], p: &mut Problems) -> Vec<TargetSpec> {
    if raw.is_empty() {
        p.add("target", "[]", "the space needs at least one [[target]]");
    }
    let mut out: Vec<TargetSpec> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let key = format!("target[{i}]");
        let target = match t.name.as_str() {
            "generic" => Target::Generic,
            "ice40" => Target::Ice40,
            "ecp5" => Target::Ecp5,
            "xilinx" => Target::Xilinx,
            other => {
                p.add(&format!("{key}.name"), format!("{other:?}"), "must be generic, ice40, ecp5 or xilinx");
                continue;
            }
        };
        let fpga_pnr = matches!(target, Target::Ice40 | Target::Ecp5);
        if !fpga_pnr && (t.device.is_some() || t.freq_mhz.is_some()) {
            p.add(&key, &t.name, "device and freq_mhz only apply to ice40 and ecp5");
        }
        if let Some(f) = t.freq_mhz {
            if !(f.is_finite() && f > 0.0 && f <= 2000.0) {
                p.add(&format!("{key}.freq_mhz"), f, "must be MHz in (0, 2000]");
            }
        }
        let mut only = Vec::new();
        let mut leaves = Vec::new();
        flatten("", &t.only, &mut leaves);
        for (path, v) in leaves {
            let values = match v {
                Value::Array(items) if items.is_empty() => {
                    p.add(&format!("{key}.only.{path}"), "[]", "list at least one value");
                    continue;
                }
                Value::Array(items) => items,
                scalar => vec![scalar],
            };
            only.push((path, values));
        }
        let spec = TargetSpec { target, device: t.device.clone(), freq_mhz: t.freq_mhz, seed: t.seed, only };
        if out.iter().any(|o| o.label() == spec.label()) {
            p.add(
                &format!("{key}.name"),
                format!("{:?}", t.name),
                "the same target and device are listed twice",
            );
        }
        out.push(spec);
    }
    out
}

fn valid_label(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn first_duplicate<T: PartialEq + Clone>(items: &[T]) -> Option<T> {
    items.iter().enumerate().find(|(i, v)| items[..*i].contains(v)).map(|(_, v)| v.clone())
}

/// Leaves of a nested table as (dotted path, value), tables descended into, in key order.
pub(crate) fn flatten(prefix: &str, table: &Table, out: &mut Vec<(String, Value)>) {
    for (k, v) in table {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Table(t) => flatten(&path, t, out),
            other => out.push((path, other.clone())),
        }
    }
}

/// Sets `a.b.c = value` in a nested table, creating the tables on the way.
pub(crate) fn set_path(table: &mut Table, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = table.entry(head.to_string()).or_insert_with(|| Value::Table(Table::new()));
            if !entry.is_table() {
                *entry = Value::Table(Table::new());
            }
            set_path(entry.as_table_mut().expect("a table"), rest, value);
        }
    }
}

/// The value at `a.b.c` of a nested table, if any.
pub(crate) fn get_path<'a>(table: &'a Table, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        None => table.get(path),
        Some((head, rest)) => get_path(table.get(head)?.as_table()?, rest),
    }
}

/// A TOML syntax or shape error as one line: `file:line: key = value: message`.
fn toml_problem(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().replace('\n', " ");
    let Some(span) = e.span().filter(|s| !(s.start == 0 && s.end == 0)) else {
        return ConfigError::new(file, "", "", message);
    };
    let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    let table = text
        .lines()
        .take(line_no)
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("[[")
                .and_then(|l| l.strip_suffix("]]"))
                .or_else(|| l.strip_prefix('[')?.strip_suffix(']'));
            l.map(str::trim)
        })
        .last();
    let place = format!("{file}:{line_no}");
    match line.split_once('=') {
        Some((key, value)) if !line.trim_start().starts_with('[') => {
            let key = key.trim();
            let path = table.map_or(key.to_string(), |t| format!("{t}.{key}"));
            let value = value.split('#').next().unwrap_or("").trim();
            ConfigError::new(&place, &path, value, message)
        }
        _ => ConfigError::new(&place, "", "", message),
    }
}
