//! Verification of generated RTL against the reference model through Verilator. (Being written.)

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// Number of GEMM cases
    #[arg(long, default_value_t = 50)]
    pub cases: usize,
    /// Seed of the case generator
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A failing-case folder written by `accelc verify`
    pub case: PathBuf,
}

pub fn main(args: &VerifyArgs) -> Result<ExitCode> {
    let _ = args;
    anyhow::bail!("verify is being written")
}

pub fn replay_main(args: &ReplayArgs) -> Result<ExitCode> {
    let _ = args;
    anyhow::bail!("replay is being written")
}
