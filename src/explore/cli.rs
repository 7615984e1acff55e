//! `accelc explore SPACE.toml [-o DIR] [--jobs N] [--shard I/N | --merge DIR...]`.

use super::{merge, read_points, run, write_outputs, EvalOptions, Plan, Shard, Space, Status};
use crate::error::BadInput;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// Space file (TOML): config keys with lists of values, [[workload]]s and [[target]]s
    pub space: PathBuf,
    /// Output folder; default rtl_out/explore/<space name>
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Points evaluated at once (default: the number of cores)
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Evaluate only shard I of N (1-based; points sharing a synthesis stay together) and write its
    /// points.json for --merge
    #[arg(long, conflicts_with = "merge")]
    pub shard: Option<Shard>,
    /// Combine the points.json of these shard folders into the outputs of a whole run (evaluates nothing)
    #[arg(long, num_args = 1..)]
    pub merge: Vec<PathBuf>,
    /// Folder that caches synthesis results
    #[arg(long, default_value = crate::synth::DEFAULT_CACHE_DIR)]
    pub cache_dir: PathBuf,
    /// Always run the synthesis tools, ignoring (and not writing) the cache
    #[arg(long)]
    pub no_cache: bool,
    /// No progress line on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn main(args: &ExploreArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let plan = Plan::new(Space::load(&args.space)?)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("rtl_out/explore").join(&plan.space.name));
    println!(
        "explore {}: {} points = {} designs x {} targets x {} workloads (target filters applied){}",
        plan.space.name,
        plan.points.len(),
        plan.designs.len(),
        plan.space.targets.len(),
        plan.workloads.len(),
        if plan.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} combinations skipped as invalid", plan.skipped.len())
        }
    );
    for s in plan.skipped.iter().take(5) {
        println!("  skipped {}: {}", s.values.join(", "), s.reasons.join("; "));
    }
    if plan.skipped.len() > 5 {
        println!("  ... {} more (all listed in points.json)", plan.skipped.len() - 5);
    }
    let (file, ran) = if !args.merge.is_empty() {
        let shards = args
            .merge
            .iter()
            .map(|d| {
                read_points(d).map(|f| (d.join("points.json"), f)).map_err(|e| BadInput(format!("{e:#}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let merged = merge(&plan, &shards).map_err(|e| BadInput(format!("--merge: {e:#}")))?;
        println!("merged {} shard folders: {} points", shards.len(), merged.points.len());
        (merged, None)
    } else {
        let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        if jobs == 0 {
            return Err(BadInput("--jobs 0: need at least one".into()).into());
        }
        let opts = EvalOptions {
            design_dir: out.join("designs"),
            cache_dir: (!args.no_cache).then(|| args.cache_dir.clone()),
            jobs,
            progress: !args.quiet,
        };
        let (file, evaluation) = run(&plan, args.shard, &opts);
        (file, Some(evaluation))
    };
    let written = write_outputs(&out, &file)?;
    if file.shard.is_none() {
        print!("{}", super::report::markdown(&file));
        println!();
    }
    for path in &written {
        println!("wrote {}", path.display());
    }
    let failed: Vec<_> = file.points.iter().filter(|r| r.status == Status::Failed).collect();
    let misfits = file.points.iter().filter(|r| r.status == Status::DoesNotFit).count();
    for r in failed.iter().take(5) {
        eprintln!("point {} ({} {} {}) failed: {}", r.index, r.design, r.target, r.workload, r.note);
    }
    let shard_note = file.shard.map(|s| format!(" (shard {s}; combine with --merge)")).unwrap_or_default();
    let run_note = ran
        .map(|e| {
            format!(
                "; {} syntheses ({} from the cache), {} model runs",
                e.synth_jobs, e.synth_cached, e.model_jobs
            )
        })
        .unwrap_or_default();
    println!(
        "explore {}: {} points{shard_note}, {} do not fit their part, {} failed{run_note}; wall time {:.1} s",
        plan.space.name,
        file.points.len(),
        misfits,
        failed.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
