//! Bad configs: every `.toml` under tests/cases/config_errors/ is a case (adding a case is adding a
//! file). `accelc gen` must exit with code 2, print exactly the lines in the `.expected` file next to
//! it (one per problem: file, key, value, rule) and write nothing. `BLESS=1` rewrites the files.

use std::path::Path;
use std::process::Command;

#[test]
fn every_bad_config_gets_one_line_per_problem_and_exit_code_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/config_errors");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "the case folder holds the bad configs");
    let out = std::env::temp_dir().join(format!("accelc-bad-{}", std::process::id()));
    for case in cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let run = Command::new(env!("CARGO_BIN_EXE_accelc"))
            .current_dir(&dir)
            .args(["gen", name, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8(run.stderr).unwrap();
        let expected_file = case.with_extension("expected");
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&expected_file, &stderr).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap();
        assert_eq!(run.status.code(), Some(2), "{name}: exit code");
        assert_eq!(stderr, expected, "{name}: messages");
        assert!(!stderr.contains("panicked"), "{name}: no panic");
        assert!(!out.exists(), "{name}: nothing written");
    }
}

#[test]
fn a_missing_config_file_is_bad_input() {
    let run = Command::new(env!("CARGO_BIN_EXE_accelc")).args(["gen", "no/such.toml"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.starts_with("no/such.toml: cannot read"), "{stderr}");
}
