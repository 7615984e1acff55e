//! Every preset's generated Verilog is clean under Verilator -Wall, the Yosys structural checks
//! (no latch, undriven net, multiple driver or loop, after flattening) and Icarus -g2005; and the
//! same checks reject a generated design with a planted latch.
//!
//! The largest presets (Yosys takes 10-50 s each on them) are linted by `make verify`, which runs
//! `accelc lint` on every preset before verifying it; here every other preset is, so `make test`
//! stays within its time budget. A new preset is linted here unless it is added to `IN_MAKE_VERIFY`.

use accelc::config::Config;
use accelc::ir::ModuleNames;
use accelc::rtl::generate;
use accelc::tools::lint_all;
use std::path::{Path, PathBuf};

/// Presets whose lint runs in `make verify` only (measured `accelc lint` times, release build).
const IN_MAKE_VERIFY: &[&str] = &[
    "mac_os_16x16_i8",  // 10 s
    "mac_ws_16x16_i16", // 10 s
    "mac_os_8x8_i8_p3", // pipelined twins of presets linted here
    "mac_ws_8x8_i8_p3",
    "sac_8x8_i16_ks16_sm",   // 28 s
    "sac_8x8_i8_ks8_csd",    // 14 s
    "sac_8x8_i8_ks8_csd_p2", // pipelined: as long
    "sparse_8x3_l32_i16",    // 11 s
    "sparse_8x5_l64_i16",    // 48 s
];

fn work_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/lint").join(name)
}

#[test]
fn every_preset_lints_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    let mut presets: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| !IN_MAKE_VERIFY.iter().any(|n| p.file_stem().is_some_and(|s| s == *n)))
        .collect();
    presets.sort();
    assert!(presets.len() >= 10, "most presets are linted here");
    // Two workers: the machine has two cores and Yosys dominates.
    let halves: Vec<Vec<PathBuf>> = vec![
        presets.iter().step_by(2).cloned().collect(),
        presets.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let findings: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = halves
            .iter()
            .map(|half| {
                s.spawn(move || {
                    let mut findings = Vec::new();
                    for path in half {
                        let config = Config::load(path).unwrap();
                        let design = generate(&config).unwrap();
                        let out = work_dir(&config.name);
                        design.write_dir(&out).unwrap();
                        let report = lint_all(&out, design.outermost()).unwrap();
                        findings.extend(report.lines.iter().map(|l| format!("{}: {l}", config.name)));
                    }
                    findings
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert!(findings.is_empty(), "lint findings:\n{}", findings.join("\n"));
}

#[test]
fn lint_catches_a_latch_planted_in_a_generated_pe() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/mac_os_2x2_i8.toml");
    let config = Config::load(&path).unwrap();
    let mut design = generate(&config).unwrap();
    let pe = ModuleNames::file(&ModuleNames::of(&config.params()).mac_pe());
    let (_, text) = design.files.iter_mut().find(|(n, _)| *n == pe).unwrap();
    // A combinational block that assigns its output on one branch only infers a latch.
    let planted = "    reg planted_latch;\n    always @(*) begin\n        if (a_valid_in) planted_latch = a_last_in;\n    end\nendmodule";
    *text = text.replacen("endmodule", planted, 1);
    let out = work_dir("planted_latch");
    design.write_dir(&out).unwrap();
    let report = lint_all(&out, design.outermost()).unwrap();
    assert!(!report.clean());
    assert!(report.lines.iter().any(|l| l.starts_with("yosys:") && l.contains("atch")), "{report}");
}
