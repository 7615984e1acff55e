//! The system top in cocotb: `accelc gen configs/system_os_4x4_i8.toml` into a temp folder, then
//! sim/cocotb/run_system.py builds it with Icarus Verilog and runs sim/cocotb/test_system.py (cocotb 2.1,
//! cocotbext-axi, random pauses on both streams). The test drives only the AXI ports, through the
//! generated host library's Driver, and checks results against its own numpy reference (a plain
//! convolution and the spec's requantization), not against the Rust model: 3x3 padded, strided and 1x1
//! convs, a GEMM, four jobs in one run, weights reused without LOAD_WEIGHTS, and a malformed descriptor
//! (ERROR = 1, the run ends, nothing hangs); CYCLES, JOBS_DONE, the interrupt and the beat counts too.
//! The weight-stationary system (system_ws_4x4_i8: same ports, host library and layouts, another
//! engine) runs four of the tests: padded 3x3, jobs back to back, reused weights, real layers chained.
//! The SAC system (system_sac_4x4_i8: the same ports and host library, which kneads the weights into
//! per-column streams) runs all of them. Needs `.venv` (`bash scripts/setup.sh`) and iverilog.

mod common;

use accelc::config::Config;
use accelc::system::{host_py, SystemParams};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// test_system.py's tests; the run must report all of them.
const TESTS: usize = 9;
/// The tests the weight-stationary system runs.
const WS_TESTS: &str = "conv3x3_padded,layers_back_to_back,weights_reused,real_layers_chained";
/// The whole cocotb run (build and eight tests; each run inside has its own 500 us simulated limit).
const TIME_LIMIT: Duration = Duration::from_secs(900);

#[test]
fn system_top_passes_the_cocotb_test() {
    run_cocotb("system_os_4x4_i8", None, TESTS);
}

#[test]
fn sac_system_top_passes_the_cocotb_test() {
    run_cocotb("system_sac_4x4_i8", None, TESTS);
}

#[test]
fn weight_stationary_system_top_passes_the_cocotb_test() {
    run_cocotb("system_ws_4x4_i8", Some(WS_TESTS), WS_TESTS.split(',').count());
}

/// Generates `preset` and runs test_system.py on it (all tests, or `testcases`); `expected` tests must run.
fn run_cocotb(preset: &str, testcases: Option<&str>, expected: usize) {
    let python = common::python::venv_python(&["numpy", "cocotb", "cocotb_tools.runner", "cocotbext.axi"]);
    if let Err(e) = accelc::tools::iverilog::binary() {
        panic!("{e:#}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config_path = root.join("configs").join(format!("{preset}.toml"));
    let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
    let sp = SystemParams::of(&config)
        .unwrap_or_else(|| panic!("{} has no [system] table", config_path.display()));

    let out = std::env::temp_dir().join(format!("accelc-test-system-cocotb-{preset}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let gen = Command::new(env!("CARGO_BIN_EXE_accelc"))
        .arg("gen")
        .arg(&config_path)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("running accelc gen");
    assert!(gen.status.success(), "accelc gen failed:\n{}", String::from_utf8_lossy(&gen.stderr));
    let top_file = out.join(format!("{}.v", sp.top));
    if !top_file.is_file() {
        let mut files: Vec<String> = std::fs::read_dir(&out)
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        files.sort();
        panic!(
            "`accelc gen {}` wrote no system top {} (files: {}): this build does not generate the system top \
             RTL for a [system] config yet (issue 9)",
            config_path.display(),
            top_file.display(),
            files.join(", ")
        );
    }
    // The host library the test drives the design with: gen's copy if it writes one (it must be the
    // same text), else rendered here.
    let host = out.join(host_py::file_name(&sp));
    let text = host_py::host_library(&sp).unwrap();
    if host.is_file() {
        assert_eq!(
            std::fs::read_to_string(&host).unwrap(),
            text,
            "{} differs from host_py::host_library",
            host.display()
        );
    } else {
        std::fs::write(&host, &text).unwrap();
    }

    let mut cmd = Command::new(&python);
    cmd.arg(root.join("sim/cocotb/run_system.py"))
        .arg("--rtl-dir")
        .arg(&out)
        .args(["--top", &sp.top])
        .arg("--host-lib")
        .arg(&host)
        .arg("--build-dir")
        .arg(out.join("cocotb"));
    if let Some(t) = testcases {
        cmd.args(["--testcase", t]);
    }
    let run = common::python::run_within(&mut cmd, &out, "cocotb", TIME_LIMIT);
    let summary = run.stdout.lines().rev().find(|l| l.starts_with("cocotb: ")).unwrap_or("(no summary line)");
    let report = || {
        // The cocotb results table and failures are at the end of the log.
        let lines: Vec<&str> = run.stdout.lines().collect();
        let tail = lines[lines.len().saturating_sub(150)..].join("\n");
        format!("{summary}\n{tail}\n{}\n(logs and build kept in {})", run.stderr, out.display())
    };
    match run.success {
        Some(true) => {}
        Some(false) => panic!("cocotb test failed: {}", report()),
        None => panic!("cocotb test ran over {TIME_LIMIT:?}: {}", report()),
    }
    assert_eq!(summary, format!("cocotb: {expected} tests, 0 failed"), "{}", report());
    let _ = std::fs::remove_dir_all(&out);
}
