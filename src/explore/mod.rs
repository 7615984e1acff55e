//! Design-space exploration: `accelc explore SPACE.toml`.
//!
//! A space ([`space`]) lists values per config key, workloads and targets; [`points`] turns it into
//! valid designs and points (design x target x workload); [`evaluate`] measures each point (cycles
//! and energy from the reference model, area and Fmax from synthesis, through the synthesis cache)
//! on a few threads; [`record`] writes `points.json` / `points.csv`; [`report`] and [`pareto`] give
//! the Pareto front of every (workload, target) group (`pareto.csv`, a markdown table) and [`plot`]
//! its SVG plots. A batch system can run shards (`--shard I/N`, a deterministic partition) and
//! [`merge`] them into exactly the files a single run writes.

pub mod cli;
pub mod evaluate;
pub mod pareto;
pub mod plot;
pub mod points;
mod progress;
pub mod record;
pub mod report;
pub mod space;
pub mod workload;

pub use evaluate::{EvalOptions, Evaluation};
pub use points::{Plan, Point, Shard};
pub use record::{PointRecord, PointsFile, Status};
pub use space::Space;

use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Evaluates the plan's points, or one shard's, and returns the points file with the run's figures.
pub fn run(plan: &Plan, shard: Option<Shard>, opts: &EvalOptions) -> (PointsFile, Evaluation) {
    let points = match shard {
        Some(s) => plan.shard(s),
        None => plan.points.clone(),
    };
    let evaluation = evaluate::evaluate(plan, &points, opts);
    (assemble(plan, shard, evaluation.records.clone()), evaluation)
}

/// The points file of `records` (in index order), with the configs they use.
pub fn assemble(plan: &Plan, shard: Option<Shard>, mut records: Vec<PointRecord>) -> PointsFile {
    records.sort_by_key(|r| r.index);
    let used: BTreeSet<&str> = records.iter().map(|r| r.design.as_str()).collect();
    let designs = plan
        .designs
        .iter()
        .filter(|d| used.contains(d.config.name.as_str()))
        .map(|d| (d.config.name.clone(), d.config.clone()))
        .collect();
    PointsFile {
        format_version: record::FORMAT_VERSION,
        space: plan.space.name.clone(),
        plan_digest: plan.digest(),
        total_points: plan.points.len(),
        shard,
        columns: plan.columns.clone(),
        workloads: plan.workloads.iter().map(|w| w.name.clone()).collect(),
        targets: plan.space.targets.iter().map(|t| t.label()).collect(),
        designs,
        skipped: plan.skipped.clone(),
        points: records,
    }
}

/// Combines shard files of `plan` into the file one unsharded run writes. The shards must come from
/// the same plan and the same shard count, and cover every point exactly once.
pub fn merge(plan: &Plan, shards: &[(PathBuf, PointsFile)]) -> Result<PointsFile> {
    let digest = plan.digest();
    let mut records: BTreeMap<usize, PointRecord> = BTreeMap::new();
    let mut counts = BTreeSet::new();
    for (path, file) in shards {
        let at = path.display();
        if file.plan_digest != digest {
            bail!(
                "{at}: made from another space or another version of it (plan {} here {digest})",
                file.plan_digest
            );
        }
        let shard = file.shard.with_context(|| format!("{at}: not a shard (it holds a whole run)"))?;
        counts.insert(shard.count);
        for r in &file.points {
            if records.insert(r.index, r.clone()).is_some() {
                bail!("{at}: point {} is in two shards", r.index);
            }
        }
    }
    if counts.len() > 1 {
        bail!("the shards were cut for different counts: {counts:?}");
    }
    let missing: Vec<usize> = (0..plan.points.len()).filter(|i| !records.contains_key(i)).collect();
    if !missing.is_empty() {
        let count = counts.first().copied().unwrap_or(0);
        let lost: BTreeSet<String> =
            missing.iter().map(|&i| format!("{}/{count}", plan.shard_of_point(i, count))).collect();
        bail!(
            "{} of {} points are missing: shards {} were not given",
            missing.len(),
            plan.points.len(),
            lost.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(extra) = records.keys().find(|&&i| i >= plan.points.len()) {
        bail!("point {extra} is not in the space");
    }
    Ok(assemble(plan, None, records.into_values().collect()))
}

/// Reads `<dir>/points.json`.
pub fn read_points(dir: &Path) -> Result<PointsFile> {
    let path = dir.join("points.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    PointsFile::from_json(&text).with_context(|| path.display().to_string())
}

/// Writes `points.json` and `points.csv`, and for a whole run (not a shard) `pareto.csv`,
/// `pareto.md` and `plots/*.svg`. Returns the paths written.
pub fn write_outputs(dir: &Path, file: &PointsFile) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: &str| -> Result<()> {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp-{}", crate::fsutil::unique_suffix()));
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    put("points.json", &file.to_json())?;
    put("points.csv", &record::to_csv(&file.columns, &file.points))?;
    if file.shard.is_some() {
        return Ok(written);
    }
    put("pareto.csv", &record::to_csv(&file.columns, &report::front_records(file)))?;
    put("pareto.md", &report::markdown(file))?;
    let plots = dir.join("plots");
    let mut svgs = Vec::new();
    for g in report::groups(file) {
        if g.feasible.is_empty() {
            continue;
        }
        for (y, tag) in [(plot::YAxis::Area, "area"), (plot::YAxis::Energy, "energy")] {
            let title = format!("{}: {} on {}", file.space, g.workload, g.target);
            let name = format!("{}_{}_{tag}.svg", g.workload, g.target);
            svgs.push((name, plot::svg(&title, &g.feasible, &g.front, y)?));
        }
    }
    crate::fsutil::write_dir_atomic(&plots, |staging| {
        for (name, text) in &svgs {
            std::fs::write(staging.join(name), text).with_context(|| format!("writing {name}"))?;
        }
        Ok(())
    })?;
    written.extend(svgs.iter().map(|(n, _)| plots.join(n)));
    Ok(written)
}
