//! Argument structs and handlers for the commands that live in no other module, plus the mapping
//! from errors to exit codes shared by every command.

use crate::config::{Config, ConfigErrors};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Bad input that is not a config error (a missing file, an unreadable .npy): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for an error: 2 for bad input, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|e| e.is::<ConfigErrors>() || e.is::<BadInput>());
    if bad_input {
        2
    } else {
        1
    }
}

/// The message for an error: config problems one per line, others with their cause chain.
pub fn describe(err: &anyhow::Error) -> String {
    if let Some(errors) = err.downcast_ref::<ConfigErrors>() {
        return errors.to_string();
    }
    format!("error: {err:#}")
}

/// Loads a config for a command; its errors keep their type so the exit code is 2.
pub fn load_config(path: &Path) -> Result<Config> {
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
    println!("gen {}: {} files, top {} -> {}", config.name, design.files.len(), design.top, out.display());
    Ok(ExitCode::SUCCESS)
}

/// Where generated designs go unless told otherwise.
pub fn default_out_dir(config: &Config) -> PathBuf {
    PathBuf::from("rtl_out").join(&config.name)
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
    let report = crate::tools::lint_all(&dir, &design.top)?;
    println!("{report}");
    Ok(if report.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
