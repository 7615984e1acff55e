//! Real runs on generated presets: every lint tool passes, generic synthesis has no latch, and
//! `accelc synth` writes its report, reuses its cache, and exits 2 on a bad config.

use accelc::config::Config;
use accelc::synth::{synthesize, Report};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-synth-presets-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn small_presets_lint_clean_and_synthesize_without_latches() {
    for preset in ["mac_os_2x2_i8", "mac_ws_2x2_i4"] {
        let config = Config::load(&root().join("configs").join(format!("{preset}.toml"))).unwrap();
        let design = accelc::rtl::generate(&config).unwrap();
        let dir = temp(preset);
        design.write_dir(&dir).unwrap();
        let lint = accelc::tools::lint_all(&dir, &design.top).unwrap();
        assert!(lint.clean(), "{preset}:\n{lint}");
        let sources: Vec<(String, String)> =
            design.files.iter().filter(|(n, _)| n.ends_with(".v")).cloned().collect();
        let s = synthesize(&dir, &design.top, &sources, None, &|| {}).unwrap();
        let r = &s.report;
        assert_eq!(r.latches, 0, "{preset}");
        assert!(r.flip_flops > 0 && r.transistors > 0, "{preset}: {r:?}");
        let top = &r.modules[&design.top];
        assert_eq!((top.hier_cells, top.hier_flip_flops), (r.cells, r.flip_flops), "{preset}");
        let report = Report::new(&config, s);
        assert_eq!(report.per_pe.pes, 4);
        assert!(report.summary().contains(&format!("{preset}_pe alone")), "{}", report.summary());
    }
}

#[test]
fn cli_writes_the_report_and_reuses_the_cache() {
    let out = temp("cli-out");
    let cache = temp("cli-cache");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_accelc"))
            .args(["synth", "configs/mac_os_2x2_i8.toml", "--out"])
            .arg(&out)
            .arg("--cache-dir")
            .arg(&cache)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("flip-flops") && !stdout.contains("(cached synthesis)"), "{stdout}");
    let report1 = std::fs::read_to_string(out.join("synth_report.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&report1).unwrap();
    assert_eq!(json["format_version"], accelc::config::FORMAT_VERSION);
    assert_eq!(json["config"]["name"], "mac_os_2x2_i8");
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("(cached synthesis)"));
    assert!(!String::from_utf8_lossy(&second.stderr).contains("running yosys"));
    // The cached run writes the same bytes.
    assert_eq!(std::fs::read_to_string(out.join("synth_report.json")).unwrap(), report1);
}

#[test]
fn cli_bad_config_exits_2() {
    let dir = temp("bad-config");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "name = \"x\"\n[array]\nrows = 0\ncols = 2\ndataflow = \"output_stationary\"\n[pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_accelc")).arg("synth").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("array.rows = 0"));
}

/// Regression: the summary's PE-module line used to assume `<name>_pe` and was silently dropped for
/// SAC (`<name>_sac_unit`) and sparse (`<name>_row`) designs.
#[test]
fn summary_names_the_pe_module_of_sac_and_sparse_designs() {
    for (preset, line) in [
        ("sac_4x4_i8_ks4_sm", "PE module sac_4x4_i8_ks4_sm_sac_unit alone: "),
        ("sparse_2x2_l8_i4", "PE row module sparse_2x2_l8_i4_row alone: "),
    ] {
        let config = Config::load(&root().join("configs").join(format!("{preset}.toml"))).unwrap();
        let design = accelc::rtl::generate(&config).unwrap();
        let dir = temp(preset);
        design.write_dir(&dir).unwrap();
        let sources: Vec<(String, String)> =
            design.files.iter().filter(|(n, _)| n.ends_with(".v")).cloned().collect();
        let s = synthesize(&dir, &design.top, &sources, None, &|| {}).unwrap();
        let summary = Report::new(&config, s).summary();
        assert!(summary.contains(line), "{preset}:\n{summary}");
    }
}
