//! One wrapper per external tool, each returning a typed report. A missing tool is an error that says
//! how to install it, never a panic and never a silent skip.

pub mod iverilog;
pub mod nextpnr;
pub mod verilator;
pub mod yosys;

use std::path::PathBuf;

/// A tool accelc needs is not on PATH.
#[derive(Debug, thiserror::Error)]
#[error("{tool} not found on PATH: install it with `{install}` (or run `make setup`)")]
pub struct MissingTool {
    pub tool: String,
    pub install: String,
}

/// Finds `tool` on PATH, or says how to install it.
pub fn require(tool: &str, install: &str) -> Result<PathBuf, MissingTool> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| MissingTool { tool: tool.into(), install: install.into() })
}

/// Results of every lint tool on one generated design: one line per problem, prefixed by the tool
/// (`verilator: ...`, `yosys: ...`, `iverilog: ...`).
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// The top module that was linted.
    pub top: String,
    pub lines: Vec<String>,
}

impl LintReport {
    pub fn clean(&self) -> bool {
        self.lines.is_empty()
    }
}

impl std::fmt::Display for LintReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.clean() {
            write!(f, "lint {}: clean (verilator -Wall, yosys check, iverilog -g2005)", self.top)
        } else {
            write!(f, "{}", self.lines.join("\n"))
        }
    }
}

/// Reads `files.f` in `dir`: one Verilog file name per line, relative to `dir`. Blank lines and
/// `//` or `#` comments are skipped.
pub fn read_file_list(dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    let path = dir.join("files.f");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let files: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if files.is_empty() {
        anyhow::bail!("{} lists no Verilog files", path.display());
    }
    Ok(files)
}

/// Runs Verilator -Wall lint, the Yosys checks (latches, undriven nets, combinational loops,
/// multiple drivers, implicit wires) and Icarus -g2005 on the design in `dir` (files from
/// `files.f`). A missing tool is an error that says how to install it.
pub fn lint_all(dir: &std::path::Path, top: &str) -> anyhow::Result<LintReport> {
    let files = read_file_list(dir)?;
    let mut lines = Vec::new();
    for p in verilator::lint(dir, &files, top)? {
        lines.push(format!("verilator: {p}"));
    }
    for p in yosys::check(dir, &files, top)? {
        lines.push(format!("yosys: {p}"));
    }
    for p in iverilog::compile(dir, &files, top)? {
        lines.push(format!("iverilog: {p}"));
    }
    Ok(LintReport { top: top.to_string(), lines })
}

/// A private temporary folder for one tool run, removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str) -> std::io::Result<Scratch> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("accelc-{tag}-{}-{nanos}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
