//! Synthesis reports. (Being written.)

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
}

pub fn main(args: &SynthArgs) -> Result<ExitCode> {
    let _ = args;
    anyhow::bail!("synth is being written")
}
