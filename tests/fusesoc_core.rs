//! Every generated design carries `<name>.core` (FuseSoC CAPI2). FuseSoC itself (installed into .venv
//! by `make setup`) must accept it and run its `lint` target (Verilator -Wall through Edalize), and
//! the same run fails when a lint warning is planted in the Verilog it lists.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fusesoc() -> PathBuf {
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/fusesoc");
    assert!(exe.is_file(), "{} not found: run `make setup` (installs fusesoc into .venv)", exe.display());
    exe
}

/// Generates `preset` into a fresh folder and returns (folder, design).
fn generate(preset: &str, tag: &str) -> (PathBuf, accelc::rtl::Design) {
    let design = accelc::rtl::generate(&common::preset(preset)).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fusesoc-{tag}-{preset}"));
    let _ = std::fs::remove_dir_all(&dir);
    design.write_dir(&dir).unwrap();
    (dir, design)
}

fn lint(dir: &Path, name: &str) -> Output {
    Command::new(fusesoc())
        .arg("--cores-root")
        .arg(dir)
        .args(["run", "--target", "lint", "--build-root"])
        .arg(dir.join("build"))
        .arg(accelc::rtl::fusesoc_vlnv(name))
        .output()
        .unwrap()
}

#[test]
fn fusesoc_lints_every_kind_of_design_through_its_core_file() {
    for preset in ["mac_os_2x2_i8", "mac_ws_2x2_i4", "sac_4x4_i8_ks4_sm", "sparse_2x2_l8_i4"] {
        let (dir, design) = generate(preset, "clean");
        let core = design.file(&format!("{preset}.core")).expect("a .core file");
        for v in design.verilog_files() {
            assert!(core.contains(&format!("      - {v}\n")), "{preset}: {v} not in the core file");
        }
        let out = lint(&dir, preset);
        assert!(
            out.status.success(),
            "{preset}: fusesoc lint failed\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn fusesoc_lint_fails_on_a_planted_warning() {
    let (dir, design) = generate("mac_os_2x2_i8", "planted");
    let top = dir.join(format!("{}.v", design.top));
    let text = std::fs::read_to_string(&top).unwrap();
    // A width mismatch: Verilator -Wall warns (WIDTH), so the lint target must fail.
    let planted = text.replacen(");\n", ");\n    wire [3:0] accelc_planted = 8'd0;\n", 1);
    assert_ne!(planted, text);
    std::fs::write(&top, planted).unwrap();
    let out = lint(&dir, &design.top);
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && log.contains("accelc_planted"), "{log}");
}
