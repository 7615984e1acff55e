//! `accelc train-demo [--config C] [--steps N] ...`: the two training runs, their summary, and the files
//! (report.json, loss_curves.csv/.svg, sample_jobs.json), then the sampled jobs in RTL. Exit code 1 if
//! pruned training does not end within 10% of the unpruned loss or the RTL disagrees with the model.

use super::demo::{run_demo, DemoOptions};
use super::output::{summary, write_outputs};
use super::rtl_check::{describe, rtl_check};
use crate::verify::VerifyOptions;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

pub const DEFAULT_CONFIG: &str = "configs/sparse_8x3_l32_i16.toml";
pub const DEFAULT_OUT: &str = "rtl_out/train_demo";

#[derive(Args, Debug, Clone)]
pub struct TrainDemoArgs {
    /// A sparse_1d config: the array every convolution runs on
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Seed of the data, the initial weights and (through the same run) everything else
    #[arg(long, default_value_t = DemoOptions::default().seed)]
    pub seed: u64,
    #[arg(long, default_value_t = DemoOptions::default().steps)]
    pub steps: usize,
    #[arg(long, default_value_t = DemoOptions::default().batch)]
    pub batch: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = DemoOptions::default().lr)]
    pub lr: f64,
    /// Hidden channels (PE rows hold up to the config's rows at a time)
    #[arg(long, default_value_t = DemoOptions::default().hidden)]
    pub hidden: usize,
    /// Target sparsity of the pruned output gradients
    #[arg(long, default_value_t = DemoOptions::default().target_sparsity)]
    pub target_sparsity: f64,
    /// Steps between curve points
    #[arg(long, default_value_t = DemoOptions::default().log_every)]
    pub log_every: usize,
    /// Held-out samples for the curve and the final loss
    #[arg(long, default_value_t = DemoOptions::default().eval_samples)]
    pub eval_samples: usize,
    /// Learning-rate floor: the rate follows a cosine from --lr to lr * this at the last step
    #[arg(long, default_value_t = DemoOptions::default().lr_floor)]
    pub lr_floor: f64,
    /// Also run every this many steps' jobs with the dense feed for the cycle comparison (0: never)
    #[arg(long, default_value_t = DemoOptions::default().dense_every)]
    pub dense_every: usize,
    /// Output folder
    #[arg(short, long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Run the sampled jobs through the generated RTL in Verilator (default: if Verilator is installed)
    #[arg(long, conflicts_with = "no_rtl_check")]
    pub rtl_check: bool,
    /// Skip the RTL cross-check
    #[arg(long)]
    pub no_rtl_check: bool,
}

impl TrainDemoArgs {
    pub fn options(&self) -> DemoOptions {
        DemoOptions {
            seed: self.seed,
            steps: self.steps,
            batch: self.batch,
            lr: self.lr,
            hidden: self.hidden,
            target_sparsity: self.target_sparsity,
            log_every: self.log_every,
            eval_samples: self.eval_samples,
            lr_floor: self.lr_floor,
            dense_every: self.dense_every,
            ..DemoOptions::default()
        }
    }
}

pub fn main(args: &TrainDemoArgs) -> Result<ExitCode> {
    let config = crate::config::Config::load(&args.config)?;
    let params = config.params();
    let opts = args.options();
    super::demo::check_options(&params, &opts).map_err(|e| crate::error::BadInput(e.to_string()))?;
    eprintln!(
        "train-demo: {} steps twice (unpruned, pruned at {}) on {}; curve points as they come:",
        opts.steps, opts.target_sparsity, config.name
    );
    let progress = |pruned: bool, c: &super::demo::CurvePoint| {
        let name = if pruned { "pruned" } else { "unpruned" };
        eprintln!("  [{name:>8}] step {:>5}: train {:.5} eval {:.5}", c.step, c.train_loss, c.eval_loss);
    };
    let report = run_demo(&config.name, &params, &opts, &progress)?;
    print!("{}", summary(&report, &params));
    write_outputs(&report, &args.out)?;
    println!(
        "wrote {0}/report.json, {0}/loss_curves.csv, {0}/loss_curves.svg, {0}/sample_jobs.json",
        args.out.display()
    );
    let mut ok = report.converged_within_10pct();
    let rtl = args.rtl_check || (!args.no_rtl_check && crate::tools::verilator::find().is_ok());
    if rtl {
        let result = rtl_check(&config, &report, &VerifyOptions::default())?;
        println!("{}", describe(&report, &result));
        ok &= result.mismatches.is_empty();
    } else {
        println!("rtl check: skipped (Verilator not found or --no-rtl-check); sample in sample_jobs.json");
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
