//! The gradient pruning unit (`templates/prune_unit.v.tera`, `src/model/prune_unit.rs`,
//! `src/rtl/prune_unit.rs`, `src/verify/prune_unit.rs`): its RTL against the model's LFSR pruner, bit
//! for bit and edge for edge; a planted fault in its LFSR feedback that verification must catch, with
//! the failure folder it leaves and that folder's replay (with VCD and FST waveforms).

mod common;
use accelc::config::Config;
use accelc::rtl::Design;
use accelc::verify::{self, prune_unit};
use common::{preset, verify_options, verify_root};
use std::path::Path;
use std::process::Command;

#[test]
fn the_pruning_unit_reproduces_the_model_bit_for_bit() {
    for name in ["sparse_4x3_l32_i8", "sparse_8x5_l64_i16"] {
        let config = preset(name);
        let report = verify::verify_prune_unit(&config, None, 24, 3, &verify_options()).unwrap();
        assert!(report.passed(), "{}", report.sentinel());
        // The cases exercise all three outcomes of the rule: kept, promoted to ±tau, pruned to 0.
        let p = config.params();
        let (mut promoted, mut zeroed) = (0, 0);
        for i in 0..24 {
            let case = prune_unit::generate(&p, 3, i);
            let mut pruner = accelc::sparse::Pruner::new(
                accelc::sparse::PruneParams::new(p.act_bits, accelc::sparse::DEFAULT_DRAW_BITS).unwrap(),
                case.seed,
            )
            .unwrap();
            for (g, o) in case.grads.iter().zip(pruner.prune(&case.grads, case.tau).unwrap()) {
                if (g.unsigned_abs()) < case.tau {
                    if o == 0 {
                        zeroed += 1;
                    } else {
                        promoted += 1;
                    }
                }
            }
        }
        assert!(promoted > 20 && zeroed > 20, "{name}: promoted {promoted}, zeroed {zeroed}");
    }
}

/// The 4x3 preset's pruning unit named `name`, with tap 3 instead of tap 2 in its LFSR feedback
/// (x^32 + x^22 + x^3 + x + 1) in the first of its unrolled steps.
fn wrong_tap_unit(name: &str) -> (Config, Design) {
    let mut config = preset("sparse_4x3_l32_i8");
    config.name = name.into();
    let mut design = accelc::rtl::generate_prune_unit(&config).unwrap();
    let text = &mut design.files[0].1;
    assert_eq!(text.matches("& 32'h80200003)").count(), 16, "one mask per unrolled step");
    *text = text.replacen("& 32'h80200003)", "& 32'h80200005)", 1);
    (config, design)
}

#[test]
fn a_wrong_lfsr_tap_is_caught() {
    let (config, design) = wrong_tap_unit("fault_prune_tap");
    let report = verify::verify_prune_unit(&config, Some(&design), 12, 3, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
    assert!(
        report.sentinel().starts_with("verify fault_prune_tap_prune_unit: FAIL "),
        "{}",
        report.sentinel()
    );
}

/// Regression: a failure of the pruning unit's verification wrote no case.json, so `accelc replay`
/// could not run it again.
#[test]
fn a_pruning_unit_failure_writes_a_folder_that_replays() {
    let (config, design) = wrong_tap_unit("fault_prune_replay");
    let report = verify::verify_prune_unit(&config, Some(&design), 8, 3, &verify_options()).unwrap();
    let failed = report.failed_cases().next().unwrap_or_else(|| panic!("{}", report.sentinel()));
    let dir = failed.failure_dir.clone().expect("a failure folder");
    assert_eq!(
        dir,
        verify_root()
            .join("failures")
            .join(format!("fault_prune_replay_prune_unit-seed3-case{}", failed.index))
    );
    for f in [
        "README.md",
        "case.json",
        "config.toml",
        "prune_case.json",
        "stimulus.txt",
        "expected.txt",
        "got.txt",
    ] {
        assert!(dir.join(f).is_file(), "{} has {f}", dir.display());
    }
    assert!(dir.join("rtl/fault_prune_replay_prune_unit.v").is_file());
    assert!(!dir.join(verify::FAILURE_WAVE).exists(), "no waveform unless asked for");
    let info: verify::CaseInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    assert_eq!((info.block, info.origin), (verify::Block::PruneUnit, verify::Origin::Given));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains(&format!("accelc replay {}", dir.display())), "{readme}");

    // The library's replay runs the saved (faulty) Verilog and finds the same mismatches.
    let replay = verify::replay(&dir, false, &verify_root(), None).unwrap();
    assert_eq!(replay.mismatches, failed.mismatches);
    assert_eq!((replay.cycles_model, replay.cycles_rtl), (failed.cycles_model, failed.cycles_rtl));

    // So does the CLI: exit code 1 and a FAIL line.
    let out = replay_cli(&dir, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap();
    assert!(last.contains(&format!(": FAIL {} mismatches", failed.mismatches.len())), "{stdout}");
}

fn replay_cli(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accelc"))
        .arg("replay")
        .arg(dir)
        .args(args)
        .arg("--out")
        .arg(verify_root())
        .output()
        .unwrap()
}

#[test]
fn replay_dumps_vcd_and_fst_waveforms_of_a_failing_case() {
    let (config, design) = wrong_tap_unit("fault_prune_wave");
    let report = verify::verify_prune_unit(&config, Some(&design), 8, 3, &verify_options()).unwrap();
    let dir = report.failed_cases().next().and_then(|c| c.failure_dir.clone()).expect("a failing case");
    let waves = verify_root().join("waves");
    for ext in ["vcd", "fst"] {
        let wave = waves.join(format!("fault_prune_wave.{ext}"));
        let _ = std::fs::remove_file(&wave);
        let out = replay_cli(&dir, &["--wave", wave.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.lines().last().unwrap().ends_with(&format!("; wave: {}", wave.display())), "{stdout}");
        let bytes = std::fs::read(&wave).unwrap_or_else(|e| panic!("{}: {e}", wave.display()));
        match ext {
            "vcd" => {
                let text = String::from_utf8(bytes).expect("a VCD is text");
                assert!(text.starts_with("$version") || text.starts_with("$date"), "{}", &text[..80]);
                for keyword in ["$timescale", "$scope module", "g_data", "$enddefinitions", "#0"] {
                    assert!(text.contains(keyword), "the VCD has {keyword}");
                }
            }
            _ => {
                // FST: a sequence of blocks, the first the header block (type 0, FST_BL_HDR) of
                // 329 bytes (big-endian length, which counts itself), then a geometry, hierarchy and
                // value-change blocks.
                assert!(bytes.len() > 329 + 9, "{} bytes", bytes.len());
                assert_eq!(bytes[0], 0, "FST header block type");
                assert_eq!(u64::from_be_bytes(bytes[1..9].try_into().unwrap()), 329, "FST header length");
                assert!(!bytes.starts_with(b"$"), "not a VCD");
            }
        }
    }
    // An unknown extension is bad input (exit code 2), one line.
    let out = replay_cli(&dir, &["--wave", "x.ghw"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.trim().lines().count() == 1 && stderr.contains(".vcd or .fst"), "{stderr}");
}
