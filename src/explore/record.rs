//! What an explore writes: one record per point, `points.json` (everything, `format_version`) and
//! `points.csv` / `pareto.csv` (one row per point, one column per varying config key). Both read back
//! to the same records. Files hold no timestamps or durations, so the same plan gives the same bytes
//! whether it ran in one go, in shards, or from the cache.

use super::points::Skipped;
use super::Shard;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format of `points.json`; bump on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// How a point came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every figure measured.
    Ok,
    /// Place and route said the design is too large for the part: infeasible on this target.
    DoesNotFit,
    /// A tool failed (message in `note`): no area.
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::DoesNotFit => "does_not_fit",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Status> {
        Ok(match s {
            "ok" => Status::Ok,
            "does_not_fit" => Status::DoesNotFit,
            "failed" => Status::Failed,
            other => bail!("unknown status {other:?}"),
        })
    }
}

/// One evaluated point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub index: usize,
    /// The design's name (its config is in `PointsFile::designs`).
    pub design: String,
    pub workload: String,
    /// Target label (`generic`, `ice40`, `ice40-hx8k`).
    pub target: String,
    /// The value of every varying key (`PointsFile::columns`); "" where the design leaves it unset.
    pub values: Vec<String>,
    pub status: Status,
    /// Why the point is infeasible or failed; "" when ok.
    pub note: String,
    /// Sum over the workload's layers of the model's cycles.
    pub cycles: u64,
    /// Useful MACs of the workload (M*N*K summed).
    pub macs: u64,
    /// Energy of the workload (pJ): core (multiply, add, register, buffer) + streams.
    pub energy_pj: f64,
    pub core_energy_pj: f64,
    /// Area in `area_unit` (transistors for generic, LUTs for FPGAs); None when synthesis failed.
    pub area: Option<u64>,
    pub area_unit: String,
    /// Generic: Yosys cells; FPGA: None.
    pub cells: Option<u64>,
    pub flip_flops: Option<u64>,
    /// FPGA hard multipliers (ice40 SB_MAC16, ecp5 MULT18X18D, xilinx DSP48E1).
    pub dsp: Option<u64>,
    /// Fmax after place and route (MHz), where routed.
    pub fmax_mhz: Option<f64>,
}

impl PointRecord {
    /// Feasible points take part in the Pareto front.
    pub fn feasible(&self) -> bool {
        self.status == Status::Ok && self.area.is_some()
    }

    /// The workload's latency at Fmax, microseconds (cycles / MHz), where routed.
    pub fn latency_us(&self) -> Option<f64> {
        self.fmax_mhz.filter(|f| *f > 0.0).map(|f| self.cycles as f64 / f)
    }

    /// Throughput at Fmax, GMAC/s (MACs per cycle x MHz / 1000), where routed.
    pub fn gmacs(&self) -> Option<f64> {
        self.fmax_mhz.filter(|_| self.cycles > 0).map(|f| self.macs as f64 / self.cycles as f64 * f / 1000.0)
    }

    /// The (workload, target) group: points are only compared within one.
    pub fn group(&self) -> (&str, &str) {
        (&self.workload, &self.target)
    }
}

/// Contents of `points.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointsFile {
    pub format_version: u32,
    pub space: String,
    /// `Plan::digest`: shards merge only when it is the same.
    pub plan_digest: String,
    /// Points in the whole space (this file holds all of them unless `shard` is set).
    pub total_points: usize,
    pub shard: Option<Shard>,
    /// Varying config keys, in the order of each record's `values`.
    pub columns: Vec<String>,
    pub workloads: Vec<String>,
    pub targets: Vec<String>,
    /// Configs of the designs the points use, by name.
    pub designs: BTreeMap<String, Config>,
    /// Combinations the validator rejected.
    pub skipped: Vec<Skipped>,
    pub points: Vec<PointRecord>,
}

impl PointsFile {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("points serialize") + "\n"
    }

    pub fn from_json(text: &str) -> Result<PointsFile> {
        let file: PointsFile = serde_json::from_str(text).context("not an accelc explore points.json")?;
        if file.format_version != FORMAT_VERSION {
            bail!("format_version {} (this accelc reads {FORMAT_VERSION})", file.format_version);
        }
        Ok(file)
    }
}

const FIXED_HEAD: [&str; 4] = ["index", "design", "workload", "target"];
const FIXED_TAIL: [&str; 11] = [
    "status",
    "cycles",
    "macs",
    "energy_pj",
    "core_energy_pj",
    "area",
    "area_unit",
    "cells",
    "flip_flops",
    "dsp",
    "fmax_mhz",
];

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(T::to_string).unwrap_or_default()
}

/// CSV text: a header (fixed columns, the varying keys, `note` last) and one row per record.
/// Floats use Rust's shortest round-trip form, so reading gives the same numbers.
pub fn to_csv(columns: &[String], records: &[PointRecord]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = FIXED_HEAD
        .iter()
        .copied()
        .chain(columns.iter().map(String::as_str))
        .chain(FIXED_TAIL.iter().copied())
        .chain(["note"])
        .collect();
    w.write_record(&header).expect("csv to memory");
    for r in records {
        let mut row = vec![r.index.to_string(), r.design.clone(), r.workload.clone(), r.target.clone()];
        row.extend(r.values.iter().cloned());
        row.extend([
            r.status.name().to_string(),
            r.cycles.to_string(),
            r.macs.to_string(),
            r.energy_pj.to_string(),
            r.core_energy_pj.to_string(),
            opt(&r.area),
            r.area_unit.clone(),
            opt(&r.cells),
            opt(&r.flip_flops),
            opt(&r.dsp),
            opt(&r.fmax_mhz),
            r.note.clone(),
        ]);
        w.write_record(&row).expect("csv to memory");
    }
    String::from_utf8(w.into_inner().expect("csv to memory")).expect("utf-8")
}

/// Reads what [`to_csv`] wrote: the varying columns and the records.
pub fn from_csv(text: &str) -> Result<(Vec<String>, Vec<PointRecord>)> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers()?.iter().map(String::from).collect();
    let fixed = FIXED_HEAD.len() + FIXED_TAIL.len() + 1;
    if header.len() < fixed || header[..4] != FIXED_HEAD || header.last().map(String::as_str) != Some("note")
    {
        bail!("not an accelc explore CSV: header {header:?}");
    }
    let n_var = header.len() - fixed;
    let columns = header[4..4 + n_var].to_vec();
    let mut records = Vec::new();
    for (i, row) in r.records().enumerate() {
        let row = row?;
        let f: Vec<&str> = row.iter().collect();
        let line = i + 2;
        let num = |s: &str| s.parse::<u64>().with_context(|| format!("line {line}: {s:?} is not a count"));
        let opt_num = |s: &str| if s.is_empty() { Ok(None) } else { num(s).map(Some) };
        let float = |s: &str| s.parse::<f64>().with_context(|| format!("line {line}: {s:?} is not a number"));
        let t = &f[4 + n_var..];
        records.push(PointRecord {
            index: num(f[0])? as usize,
            design: f[1].into(),
            workload: f[2].into(),
            target: f[3].into(),
            values: f[4..4 + n_var].iter().map(|s| s.to_string()).collect(),
            status: Status::parse(t[0])?,
            cycles: num(t[1])?,
            macs: num(t[2])?,
            energy_pj: float(t[3])?,
            core_energy_pj: float(t[4])?,
            area: opt_num(t[5])?,
            area_unit: t[6].into(),
            cells: opt_num(t[7])?,
            flip_flops: opt_num(t[8])?,
            dsp: opt_num(t[9])?,
            fmax_mhz: if t[10].is_empty() { None } else { Some(float(t[10])?) },
            note: t[11].into(),
        });
    }
    Ok((columns, records))
}
