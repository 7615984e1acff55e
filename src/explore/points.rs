//! From a space to its points: every combination of axis values becomes a config, checked by the
//! config validator. A combination the validator rejects is skipped (and reported); a key or value
//! type the schema does not know, an axis value that no valid combination uses, or a target filter
//! that matches nothing is a problem of the space file and fails up front.
//!
//! Points are ordered config-major (combinations in odometer order, the last axis fastest), then
//! target, then workload; the index is the position in that order.

use super::space::{get_path, set_path, Space};
use super::workload::{expand, Workload};
use crate::config::{Config, ConfigError, ConfigErrors};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// A valid design of the space.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub config: Config,
    /// The config as the TOML table it was built from (what target filters match against).
    pub table: Table,
    /// (varying key, value text) for every key some axis sets, in column order; "" where unset.
    pub values: Vec<(String, String)>,
}

/// A combination the validator rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// `key = value` of every axis, as written in the space.
    pub values: Vec<String>,
    /// The validator's lines (`key = value: rule`).
    pub reasons: Vec<String>,
}

/// One point: a design on a target under a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub index: usize,
    pub design: usize,
    pub target: usize,
    pub workload: usize,
}

/// A space with its designs, workloads and points enumerated.
#[derive(Debug, Clone)]
pub struct Plan {
    pub space: Space,
    /// Varying keys (CSV columns), in axis order.
    pub columns: Vec<String>,
    pub designs: Vec<Design>,
    pub skipped: Vec<Skipped>,
    pub workloads: Vec<Workload>,
    pub points: Vec<Point>,
}

impl Plan {
    /// Enumerates `space`; problems of the space (not of single combinations) are errors.
    pub fn new(space: Space) -> Result<Plan, ConfigErrors> {
        let file = space.file.clone();
        let columns = columns(&space);
        let mut problems: Vec<ConfigError> = Vec::new();
        let mut designs = Vec::new();
        let mut skipped = Vec::new();
        // For each axis value: how many valid combinations use it, and a reason one failed.
        let mut used: Vec<Vec<(usize, Option<String>)>> =
            space.axes.iter().map(|a| vec![(0, None); a.values.len()]).collect();
        for combo in odometer(&space.axes.iter().map(|a| a.values.len()).collect::<Vec<_>>()) {
            let mut table = space.base.clone();
            for (axis, &v) in space.axes.iter().zip(&combo) {
                for (key, value) in &axis.values[v] {
                    set_path(&mut table, key, value.clone());
                }
            }
            match build_config(&file, &table) {
                Ok(config) => {
                    for (a, &v) in combo.iter().enumerate() {
                        used[a][v].0 += 1;
                    }
                    let values = columns
                        .iter()
                        .map(|k| (k.clone(), get_path(&table, k).map(value_text).unwrap_or_default()))
                        .collect();
                    designs.push(Design { config, table, values });
                }
                Err(Rejected::Shape(errors)) => {
                    for e in errors {
                        if !problems.contains(&e) {
                            problems.push(e);
                        }
                    }
                }
                Err(Rejected::Rules(reasons)) => {
                    for (a, &v) in combo.iter().enumerate() {
                        used[a][v].1.get_or_insert_with(|| reasons.join("; "));
                    }
                    let values = space
                        .axes
                        .iter()
                        .zip(&combo)
                        .map(|(axis, &v)| format!("{} = {}", axis.name, axis.value_text(v)))
                        .collect();
                    skipped.push(Skipped { values, reasons });
                }
            }
        }
        if problems.is_empty() {
            for (axis, counts) in space.axes.iter().zip(&used) {
                for (v, (n, reason)) in counts.iter().enumerate() {
                    if *n == 0 {
                        let why = reason.as_deref().unwrap_or("no combination");
                        problems.push(ConfigError::new(
                            &file,
                            &axis.origin,
                            &axis.value_text(v),
                            format!("no valid config has this value ({why})"),
                        ));
                    }
                }
            }
            if designs.is_empty() && space.axes.is_empty() {
                let why = skipped.first().map(|s| s.reasons.join("; ")).unwrap_or_default();
                problems.push(ConfigError::new(&file, "config", "", format!("is not a valid config: {why}")));
            }
        }
        let mut names = std::collections::BTreeMap::new();
        for d in &mut designs {
            d.config.name = design_name(&d.config);
            if let Some(prev) = names.insert(d.config.name.clone(), d.config.clone()) {
                if prev != d.config {
                    problems.push(ConfigError::new(
                        &file,
                        "",
                        "",
                        format!("two configs hash to {}", d.config.name),
                    ));
                }
            }
        }
        let workloads = space.workloads.iter().map(expand).collect::<anyhow::Result<Vec<_>>>();
        let workloads = match workloads {
            Ok(w) => w,
            Err(e) => {
                problems.push(ConfigError::new(&file, "workload", "", format!("{e:#}")));
                Vec::new()
            }
        };
        let mut points = Vec::new();
        for (t, target) in space.targets.iter().enumerate() {
            let matches = designs.iter().filter(|d| applies(&target.only, &d.table)).count();
            if matches == 0 && !designs.is_empty() {
                problems.push(ConfigError::new(
                    &file,
                    &format!("target[{t}].only"),
                    "",
                    format!("no valid config of the space matches: {} would get no points", target.label()),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        for (d, design) in designs.iter().enumerate() {
            for (t, target) in space.targets.iter().enumerate() {
                if !applies(&target.only, &design.table) {
                    continue;
                }
                for w in 0..workloads.len() {
                    points.push(Point { index: points.len(), design: d, target: t, workload: w });
                }
            }
        }
        Ok(Plan { space, columns, designs, skipped, workloads, points })
    }

    /// A hash of everything the points' results depend on: shards of different plans must not merge.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut part = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        part(&self.space.name);
        part(&self.space.seed.to_string());
        for d in &self.designs {
            part(&serde_json::to_string(&d.config).expect("config serializes"));
        }
        for t in &self.space.targets {
            part(&format!("{} {:?} {:?} {}", t.label(), t.device, t.freq_mhz, t.seed));
        }
        for w in &self.workloads {
            part(&w.name);
            for l in &w.layers {
                part(&format!("{} {} {} {} {}", l.name, l.m, l.n, l.k, l.weights.describe()));
            }
        }
        for p in &self.points {
            part(&format!("{} {} {} {}", p.index, p.design, p.target, p.workload));
        }
        h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// The points of shard `shard` (1-based) of `count`. Points that share a (design, target) share a
    /// synthesis, so they go to the same shard: unit u (numbered in order of first appearance) goes to
    /// shard `u mod count + 1`. A partition: every point is in exactly one shard.
    pub fn shard(&self, shard: Shard) -> Vec<Point> {
        let units = self.units();
        self.points.iter().filter(|p| units[p.index] % shard.count == shard.index - 1).copied().collect()
    }

    /// The shard (1-based) of `count` that point `index` belongs to.
    pub fn shard_of_point(&self, index: usize, count: usize) -> usize {
        self.units()[index] % count + 1
    }

    /// The (design, target) unit number of every point.
    fn units(&self) -> Vec<usize> {
        let mut seen: Vec<(usize, usize)> = Vec::new();
        self.points
            .iter()
            .map(|p| {
                let unit = (p.design, p.target);
                seen.iter().position(|x| *x == unit).unwrap_or_else(|| {
                    seen.push(unit);
                    seen.len() - 1
                })
            })
            .collect()
    }
}

/// `--shard I/N`: shard I (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("{s:?}: expected I/N with 1 <= I <= N (e.g. 2/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

enum Rejected {
    /// The schema does not accept the table (unknown key, wrong type, missing key): a space problem.
    Shape(Vec<ConfigError>),
    /// Valid shape, but the validator rejects the combination.
    Rules(Vec<String>),
}

/// Builds and validates the config of one combination, through the same parser and validator as a
/// config file (so the messages are the same).
fn build_config(file: &str, table: &Table) -> Result<Config, Rejected> {
    let mut table = table.clone();
    table.insert("name".into(), Value::String("point".into()));
    let text = toml::to_string(&table).expect("a table serializes");
    if toml::from_str::<Config>(&text).is_err() {
        // The config parser's message names the key and value; the line is of the generated text,
        // so point at the space file's [config] instead.
        let errors = match Config::parse(file, &text) {
            Err(ConfigErrors(errors)) => errors,
            Ok(_) => Vec::new(),
        };
        return Err(Rejected::Shape(
            errors
                .into_iter()
                .map(|e| {
                    let key =
                        if e.key.is_empty() { "config".to_string() } else { format!("config.{}", e.key) };
                    ConfigError::new(file, &key, &e.value, e.rule)
                })
                .collect(),
        ));
    }
    match Config::parse(file, &text) {
        // Explore workloads are GEMMs; a sparse row array runs conv1d jobs (`make bench-sparse`).
        Ok(config) if config.pe.kind == crate::config::PeKind::Sparse1d => Err(Rejected::Rules(vec![
            "pe.kind = \"sparse_1d\": sparse row arrays run conv1d jobs, not the GEMM workloads explore \
             evaluates (see make bench-sparse)"
                .into(),
        ])),
        Ok(config) => Ok(config),
        Err(ConfigErrors(errors)) => Err(Rejected::Rules(
            errors
                .iter()
                .map(|e| {
                    if e.value.is_empty() {
                        format!("{}: {}", e.key, e.rule)
                    } else {
                        format!("{} = {}: {}", e.key, e.value, e.rule)
                    }
                })
                .collect(),
        )),
    }
}

/// Varying keys in axis order (a key appears once, where first set).
fn columns(space: &Space) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for axis in &space.axes {
        for (k, _) in axis.values.iter().flatten() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// A value as it appears in tables: strings without quotes.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a design's table has, at every filtered key, one of the listed values.
fn applies(only: &[(String, Vec<Value>)], table: &Table) -> bool {
    only.iter().all(|(k, allowed)| get_path(table, k).is_some_and(|v| allowed.contains(v)))
}

/// `mac_8x8_1a2b3c4d`: kind and size to read, and a hash of the whole config so the same design gets
/// the same name (and so the same synthesis cache entry) in every space.
pub fn design_name(config: &Config) -> String {
    let mut anonymous = config.clone();
    anonymous.name = String::new();
    let kind = serde_json::to_value(config.pe.kind).ok().and_then(|v| v.as_str().map(String::from));
    let hash = anonymous.digest();
    format!(
        "{}_{}x{}_{}",
        kind.unwrap_or_else(|| "pe".into()),
        config.array.rows,
        config.array.cols,
        &hash[..8]
    )
}

/// Every index vector of the given radices, the last fastest; one empty vector for no axes.
pub fn odometer(radices: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = radices.iter().product();
    (0..total)
        .map(|mut n| {
            let mut digits = vec![0; radices.len()];
            for (d, &r) in digits.iter_mut().zip(radices).rev() {
                *d = n % r;
                n /= r;
            }
            digits
        })
        .collect()
}
