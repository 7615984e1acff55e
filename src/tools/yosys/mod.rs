//! Yosys: structural checks and synthesis reports.
//!
//! Three entry points, all run Yosys from a script file with a log file (`-q -l`), never by scraping
//! the terminal:
//! - [`check`] / [`check_problems`]: `hierarchy -check; proc; flatten; opt; check -assert` plus an explicit
//!   latch assertion; the log is parsed into typed [`Problem`]s (latch, implicit declaration, undriven
//!   wire, combinational loop, multiple drivers, any other warning or error).
//! - [`synth_generic`]: `synth; dffunmap; stat -json -tech cmos`, with the statistics written by
//!   `tee -o` to a JSON file and parsed with serde_json ([`parse_stat_json`]), not from the text layout.
//! - [`synth_fpga_stats`] (and the crate's `synth_fpga`, which keeps the netlist for nextpnr):
//!   `synth_ice40` / `synth_ecp5` / `synth_xilinx -family xc7` then `stat -json`, parsed the same way
//!   ([`fpga_script`]).
//!
//! The parsers are pure functions over recorded Yosys output so that they are tested without Yosys
//! (fixtures in `tests/fixtures/yosys/`).
//!
//! One file per job: `run.rs` (the binary and one script run), `check.rs` (the structural check
//! and log parsing), `stat.rs` (statistics and the transistor estimate), `synth.rs` (generic and
//! FPGA synthesis). Callers use the re-exports below, as `crate::tools::yosys::*`.

mod check;
mod run;
mod stat;
mod synth;

pub use check::{check, check_problems, check_script, log_warnings, parse_check_log, Problem};
pub use run::{binary, version, INSTALL};
pub use stat::{is_flip_flop, is_latch, parse_stat_json, repair_stat_json, ModuleStat, SynthReport};
pub(crate) use synth::synth_fpga;
pub use synth::{
    fpga_script, fpga_script_for_key, parse_memory_mappings, synth_fpga_stats, synth_generic,
    synth_generic_with_black_boxes, synth_script, synth_script_for_key, synth_script_with_black_boxes,
    synth_script_with_black_boxes_for_key, FpgaArch, MemoryMapping, RamStyle,
};

/// Yosys escapes public names with a backslash (`\lat.\q`); show them as written in Verilog. Shared
/// by the check-log parser and the statistics parser.
fn unescape(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_prefix('\\').unwrap_or(name);
    name.replace(".\\", ".").replace("/\\", "/").replace(" \\", " ")
}
