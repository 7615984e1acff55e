//! Icarus Verilog: Verilog-2005 acceptance. `iverilog -g2005 -Wall -s TOP` elaborates the design
//! (into a throwaway output file); every warning and error it prints is a problem.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to install Icarus Verilog on Debian, for the missing-tool error.
pub const INSTALL: &str = "apt-get install iverilog";

/// Finds the iverilog binary or says how to install it.
pub fn binary() -> Result<PathBuf> {
    Ok(super::require("iverilog", INSTALL)?)
}

/// Compiles `files` (relative to `dir`) as Verilog-2005 with every warning enabled and top module
/// `top`. Returns the warnings and errors, one line each (continuation lines are joined to the
/// message they belong to); empty means clean. Errors only when iverilog cannot be run.
pub fn compile(dir: &Path, files: &[String], top: &str) -> Result<Vec<String>> {
    let iverilog = binary()?;
    let scratch = super::Scratch::new("iverilog")?;
    let out_path = scratch.path().join("a.vvp");
    let out = Command::new(&iverilog)
        .args(["-g2005", "-Wall", "-s", top, "-o"])
        .arg(&out_path)
        .args(files)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {} in {}", iverilog.display(), dir.display()))?;
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    let mut problems = parse_output(&text);
    if !out.status.success() && problems.is_empty() {
        problems.push(format!("iverilog exited with {} without a message", out.status));
    }
    Ok(problems)
}

/// Turns iverilog's output into one line per message. A line whose message starts with `:` (after
/// an optional `file:line:` prefix) continues the previous one; the `N error(s) during elaboration.`
/// summary is dropped (its errors are already listed). Pure.
pub fn parse_output(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let t = line.trim_start();
        if t.ends_with("error(s) during elaboration.")
            && t.split_whitespace().next().is_some_and(|n| n.parse::<u64>().is_ok())
        {
            continue;
        }
        if let (Some(rest), Some(last)) = (continuation(t), out.last_mut()) {
            last.push(' ');
            last.push_str(rest);
            continue;
        }
        out.push(t.to_string());
    }
    out
}

/// The text of a continuation line (`     : Perhaps ...` or `w.v:2:        : Replacing ...`), if it is one.
fn continuation(t: &str) -> Option<&str> {
    if let Some(rest) = t.strip_prefix(':') {
        return Some(rest.trim());
    }
    let mut parts = t.splitn(3, ':');
    let (_file, line, rest) = (parts.next()?, parts.next()?, parts.next()?);
    if line.is_empty() || !line.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.trim_start().strip_prefix(':').map(str::trim)
}
