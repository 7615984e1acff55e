//! Golden Verilog: one small preset per block has its generated files under tests/golden/<preset>/,
//! compared byte for byte, so a template or view change shows up as a diff in review. Blocks: MAC
//! output- and weight-stationary, SAC sign-magnitude and CSD, sparse rows with the gradient pruning
//! unit, and the FPGA I/O wrapper. `BLESS=1 cargo test --test golden` rewrites the files after an
//! intended change (check the diff before committing).

mod common;

use std::path::Path;

/// (preset, with the I/O wrapper that `accelc synth --target ice40|ecp5` adds).
const GOLDEN: &[(&str, bool)] = &[
    ("mac_os_2x2_i8", true),
    ("mac_ws_2x2_i4", false),
    ("sac_4x4_i8_ks4_sm", false),
    ("sac_4x4_i16_ks16_csd", false),
    ("sparse_2x2_l8_i4", false),
    ("system_os_4x4_i8", false),
];

/// Every file of a preset's design (and its wrapper), by name.
fn generated(preset: &str, wrapper: bool) -> Vec<(String, String)> {
    let config = common::preset(preset);
    let design = accelc::rtl::generate(&config).unwrap();
    let mut files = design.files.clone();
    if wrapper {
        let w = accelc::synth::wrapper::render(&config.params(), &design.top).unwrap();
        files.push((w.file, w.text));
    }
    files
}

#[test]
fn generated_files_equal_the_golden_files() {
    let bless = std::env::var_os("BLESS").is_some();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut problems = Vec::new();
    for &(preset, wrapper) in GOLDEN {
        let dir = root.join(preset);
        let files = generated(preset, wrapper);
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in &files {
                std::fs::write(dir.join(name), text).unwrap();
            }
        }
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        on_disk.sort();
        let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        if on_disk != names {
            problems.push(format!("{preset}: golden files {on_disk:?}, generated {names:?}"));
        }
        for (name, text) in &files {
            let golden = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            if let Some(diff) = first_difference(&golden, text) {
                problems.push(format!("{preset}/{name}: {diff}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "generated files differ from tests/golden (rerun with BLESS=1 if the change is intended):\n{}",
        problems.join("\n")
    );
}

/// The first line where `golden` and `got` differ, with both versions, or None when equal.
fn first_difference(golden: &str, got: &str) -> Option<String> {
    if golden == got {
        return None;
    }
    let (g, n): (Vec<&str>, Vec<&str>) = (golden.lines().collect(), got.lines().collect());
    let i = g.iter().zip(&n).position(|(a, b)| a != b).unwrap_or(g.len().min(n.len()));
    Some(format!(
        "line {}:\n  golden:    {}\n  generated: {}",
        i + 1,
        g.get(i).unwrap_or(&"(end of file)"),
        n.get(i).unwrap_or(&"(end of file)")
    ))
}

/// The checker catches a change: one character of a template's output differs.
#[test]
fn a_one_character_change_is_reported_with_its_line() {
    let files = generated("mac_os_2x2_i8", false);
    let (_, text) = files.iter().find(|(n, _)| n == "mac_os_2x2_i8_pe.v").unwrap();
    let changed = text.replacen("a_out <= a_in;", "a_out <= ~a_in;", 1);
    assert_ne!(&changed, text);
    let diff = first_difference(text, &changed).expect("a difference");
    assert!(diff.contains("a_out <= ~a_in;") && diff.starts_with("line "), "{diff}");
    assert_eq!(first_difference(text, text), None);
}
