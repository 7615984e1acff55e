//! Argument structs and handlers for the commands that live in no other module (`gen`, `lint`,
//! `cycles`). Errors and exit codes are in [`crate::error`].

use crate::config::Config;
use crate::error::BadInput;
use crate::rtl::default_out_dir;
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Loads a config; its errors keep their type so the exit code is 2.
fn load_config(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// Output folder (replaced atomically); default rtl_out/<name>
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

pub fn gen(args: &GenArgs) -> Result<ExitCode> {
    let config = load_config(&args.config)?;
    let design = crate::rtl::generate(&config)?;
    let out = args.out.clone().unwrap_or_else(|| default_out_dir(&config));
    design.write_dir(&out)?;
    println!(
        "gen {}: {} files, top {} -> {}",
        config.name,
        design.files.len(),
        design.outermost(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
}

pub fn lint(args: &LintArgs) -> Result<ExitCode> {
    let config = load_config(&args.config)?;
    let design = crate::rtl::generate(&config)?;
    let dir = default_out_dir(&config);
    design.write_dir(&dir)?;
    let report = crate::tools::lint_all(&dir, design.outermost())?;
    println!("{report}");
    Ok(if report.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(Args, Debug)]
pub struct CyclesArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// SCALE-Sim topology CSV (conv layers, or GEMM `Layer, M, N, K`)
    #[arg(long)]
    pub topology: PathBuf,
    /// Seed of the random operands (cycles of MAC arrays do not depend on them; SAC cycles do)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Cycles of every layer of a topology on the config's array, from the reference model.
pub fn cycles(args: &CyclesArgs) -> Result<ExitCode> {
    let config = load_config(&args.config)?;
    let p = config.params();
    if p.sparse.is_some() {
        return Err(BadInput(format!(
            "{}: pe.kind = \"sparse_1d\": a sparse row array runs conv1d jobs, not GEMM topologies \
             (see `make bench-sparse`)",
            args.config.display()
        ))
        .into());
    }
    let layers = crate::workload::topology::read_topology(&args.topology)?;
    println!("cycles {} ({}x{}) on {}", config.name, p.rows, p.cols, args.topology.display());
    println!(
        "{:<20} {:>8} {:>6} {:>6} {:>7} {:>12} {:>12}",
        "layer", "M", "N", "K", "folds", "cycles", "MACs/PE/cyc"
    );
    let (mut total, mut macs) = (0u64, 0u64);
    for (i, layer) in layers.iter().enumerate() {
        let run = crate::model::run_random_gemm(&p, layer.m, layer.n, layer.k, args.seed, i);
        let layer_macs = (layer.m * layer.n * layer.k) as u64;
        println!(
            "{:<20} {:>8} {:>6} {:>6} {:>7} {:>12} {:>12.3}",
            layer.name,
            layer.m,
            layer.n,
            layer.k,
            run.folds,
            run.cycles,
            run.utilization(&p, layer_macs)
        );
        total += run.cycles;
        macs += layer_macs;
    }
    let util = macs as f64 / (p.rows as f64 * p.cols as f64 * total as f64);
    println!(
        "cycles {}: {} layers, {total} cycles, {util:.3} MACs per PE per cycle",
        config.name,
        layers.len()
    );
    Ok(ExitCode::SUCCESS)
}
