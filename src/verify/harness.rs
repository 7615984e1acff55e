//! The per-config testbench: rendering `templates/tb_top.cpp.tera` from the interface (every value
//! computed here, none in the template), building it through Verilator (cached), and running it.

use super::format::Trace;
use crate::config::Params;
use crate::interface::Interface;
use crate::rtl::Design;
use crate::tools::verilator::{self, Testbench, TestbenchSources, WaveFormat};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

const TB_TEMPLATE: &str = include_str!("../../templates/tb_top.cpp.tera");
/// The shared C++ support, embedded so that the binary works from any folder (and its text is
/// part of the build hash).
pub const SUPPORT: &[(&str, &str)] = &[("accelc_tb.h", include_str!("../../sim/accelc_tb.h"))];

#[derive(Serialize)]
struct FieldView {
    index: usize,
    port: String,
    width: u32,
}

#[derive(Serialize)]
struct InputView {
    index: usize,
    name: String,
    valid: String,
    /// Empty when the channel has no ready (always taken).
    ready: String,
    n_fields: usize,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct OutputView {
    valid: String,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct TbView {
    name: String,
    top: String,
    class: String,
    summary: String,
    clock: String,
    reset: String,
    n_inputs: usize,
    inputs: Vec<InputView>,
    output: OutputView,
}

fn fields(fs: &[crate::interface::Field]) -> Vec<FieldView> {
    fs.iter()
        .enumerate()
        .map(|(index, f)| FieldView { index, port: f.port.clone(), width: f.width() })
        .collect()
}

/// Renders the C++ testbench of a design whose top has the interface `iface`.
pub fn render_tb(p: &Params, top: &str, iface: &Interface) -> Result<String> {
    let summary = iface
        .inputs
        .iter()
        .chain(std::iter::once(&iface.output))
        .map(|c| {
            let ports: Vec<String> = c.fields.iter().map(|f| format!("{}[{}]", f.port, f.width())).collect();
            format!("{}({})", c.name, ports.join(" "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let view = TbView {
        name: p.name.clone(),
        top: top.to_string(),
        class: verilator::CLASS.to_string(),
        summary,
        clock: "clk".into(),
        reset: "rst".into(),
        n_inputs: iface.inputs.len(),
        inputs: iface
            .inputs
            .iter()
            .enumerate()
            .map(|(index, c)| InputView {
                index,
                name: c.name.clone(),
                valid: c.valid.clone(),
                ready: c.ready.clone().unwrap_or_default(),
                n_fields: c.fields.len(),
                fields: fields(&c.fields),
            })
            .collect(),
        output: OutputView { valid: iface.output.valid.clone(), fields: fields(&iface.output.fields) },
    };
    let ctx = tera::Context::from_serialize(&view)?;
    tera::Tera::one_off(TB_TEMPLATE, &ctx, false).context("rendering templates/tb_top.cpp.tera")
}

/// The Verilog sources of a design: (name, text) of every `.v` file, in order.
pub fn verilog_sources(design: &Design) -> Vec<(&str, &str)> {
    design.files.iter().filter(|(n, _)| n.ends_with(".v")).map(|(n, t)| (n.as_str(), t.as_str())).collect()
}

/// Builds (or reuses) the testbench of `design` under `build_root` (its waveforms are VCD).
pub fn build(
    p: &Params,
    design: &Design,
    iface: &Interface,
    build_root: &Path,
) -> Result<(Testbench, String)> {
    build_with_wave(p, design, iface, build_root, WaveFormat::Vcd)
}

/// [`build`] for a testbench that dumps `wave` waveforms (each format is its own cached build).
pub fn build_with_wave(
    p: &Params,
    design: &Design,
    iface: &Interface,
    build_root: &Path,
    wave: WaveFormat,
) -> Result<(Testbench, String)> {
    let tb_cpp = render_tb(p, &design.top, iface)?;
    let src = TestbenchSources {
        name: &p.name,
        top: &design.top,
        verilog: verilog_sources(design),
        tb_cpp: &tb_cpp,
        support: SUPPORT.to_vec(),
        wave,
    };
    anyhow::ensure!(!src.verilog.is_empty(), "design {} has no Verilog files", design.top);
    let tb = verilator::build_testbench(build_root, &src)?;
    Ok((tb, tb_cpp))
}

/// How one testbench run is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Edges after reset at which the run stops as a timeout.
    pub limit: u64,
    /// Edges to keep watching after the last expected output (to catch extra outputs).
    pub extra: u64,
}

impl Limits {
    /// The model's cycles plus a margin: half again, plus a few array traversals.
    pub fn for_run(p: &Params, model_cycles: u64) -> Limits {
        let span = (p.rows + p.cols) as u64;
        Limits { limit: model_cycles + model_cycles / 2 + 4 * span + 64, extra: span + 8 }
    }
}

/// The result of one testbench run: its trace, or why there is none.
pub struct RunOutput {
    pub trace: Result<Trace>,
    pub log: String,
}

/// Runs the built testbench on `stimulus` (a file), writing its trace to `result` (and a waveform to
/// `wave` when given: its extension must name the format the testbench was built for).
pub fn run(
    tb: &Testbench,
    iface: &Interface,
    stimulus: &Path,
    result: &Path,
    limits: Limits,
    wave: Option<&Path>,
) -> Result<RunOutput> {
    if let Some(w) = wave {
        let format = WaveFormat::of_path(w)?;
        anyhow::ensure!(
            format == tb.wave,
            "{}: this testbench dumps .{} waveforms (build it with harness::build_with_wave)",
            w.display(),
            tb.wave.extension()
        );
        let _ = std::fs::remove_file(w);
    }
    let _ = std::fs::remove_file(result);
    let abs = |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let mut cmd = Command::new(&tb.exe);
    cmd.arg(format!("+stim={}", abs(stimulus).display()))
        .arg(format!("+result={}", abs(result).display()))
        .arg(format!("+limit={}", limits.limit))
        .arg(format!("+extra={}", limits.extra));
    if let Some(w) = wave {
        cmd.arg(format!("+trace={}", abs(w).display()));
    }
    let out = cmd.output().with_context(|| format!("running {}", tb.exe.display()))?;
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let trace = if out.status.success() {
        std::fs::read_to_string(result)
            .with_context(|| format!("reading {}", result.display()))
            .and_then(|text| Trace::parse(iface, &text))
    } else {
        Err(anyhow::anyhow!("testbench exited with {}: {}", out.status, log.trim()))
    };
    Ok(RunOutput { trace, log })
}
