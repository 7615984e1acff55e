//! Running Yosys: finding the binary, and running a script file with a log file (`-q -l`) in the
//! design's folder, never by scraping the terminal.

use crate::tools::Scratch;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to install Yosys on Debian, for the missing-tool error.
pub const INSTALL: &str = "apt-get install yosys";

/// Finds the yosys binary or says how to install it.
pub fn binary() -> Result<PathBuf> {
    Ok(crate::tools::require("yosys", INSTALL)?)
}

/// The first line of `yosys -V`, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`.
pub fn version() -> Result<String> {
    let out = Command::new(binary()?).arg("-V").output().context("running yosys -V")?;
    if !out.status.success() {
        bail!("yosys -V failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string())
}

/// A finished Yosys run: its exit status and log (parsed by the jobs that ran it).
pub(super) struct Run {
    pub(super) success: bool,
    pub(super) status: String,
    pub(super) log: String,
    pub(super) stderr: String,
}

fn quote(s: &str) -> Result<String> {
    if s.contains('"') || s.contains('\n') {
        bail!("file name {s:?} cannot be passed to yosys (quote or newline)");
    }
    Ok(format!("\"{s}\""))
}

/// `read_verilog` of every file, quoted.
pub(super) fn read_commands(files: &[String]) -> Result<String> {
    if files.is_empty() {
        bail!("no Verilog files to read");
    }
    let mut s = String::new();
    for f in files {
        s.push_str(&format!("read_verilog {}\n", quote(f)?));
    }
    Ok(s)
}

pub(super) fn run_script(dir: &Path, script: &str, tag: &str) -> Result<Run> {
    let scratch = Scratch::new(tag)?;
    run_script_in(dir, script, &scratch)
}

/// Runs `yosys -q -l LOG -s SCRIPT` in `dir` (so relative file names resolve there).
pub(super) fn run_script_in(dir: &Path, script: &str, scratch: &Scratch) -> Result<Run> {
    let yosys = binary()?;
    let script_path = scratch.path().join("script.ys");
    let log_path = scratch.path().join("yosys.log");
    std::fs::write(&script_path, script).with_context(|| format!("writing {}", script_path.display()))?;
    let out = Command::new(&yosys)
        .arg("-q")
        .arg("-l")
        .arg(&log_path)
        .arg("-s")
        .arg(&script_path)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {} in {}", yosys.display(), dir.display()))?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if log.is_empty() && !out.status.success() {
        bail!("yosys failed before writing a log ({}): {}", out.status, stderr.trim());
    }
    Ok(Run { success: out.status.success(), status: out.status.to_string(), log, stderr })
}
