//! Regression test for a race that made `make test` fail on fresh clones: tests of one binary (threads
//! of one process) and two `accelc verify` processes building the same testbench at once, from a cold
//! cache, in the same build folder. Every build must succeed and end with one usable executable.

mod common;

use accelc::interface::Interface;
use accelc::verify::harness;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

/// A fresh, empty folder under the test target's temp folder.
fn cold_root(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("concurrent-{tag}"));
    let _ = std::fs::remove_dir_all(&root);
    root
}

#[test]
fn threads_building_one_testbench_at_once_all_get_it() {
    const THREADS: usize = 4;
    let config = common::preset("mac_os_2x2_i8");
    let p = config.params();
    let design = accelc::rtl::generate(&config).unwrap();
    let iface = Interface::of(&p);
    let out_root = cold_root("threads");
    let root = out_root.join(".build");
    let start = Arc::new(Barrier::new(THREADS));
    let builds: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (p, design, iface, root, start) = (&p, &design, &iface, &root, start.clone());
                s.spawn(move || {
                    start.wait();
                    harness::build(p, design, iface, root).map(|(tb, _)| tb)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let builds: Vec<_> = builds.into_iter().map(|b| b.expect("a concurrent build failed")).collect();
    let hash = &builds[0].hash;
    for tb in &builds {
        assert_eq!(&tb.hash, hash);
        assert!(tb.exe.is_file(), "{} missing", tb.exe.display());
    }
    // One thread built it, the others waited for it and reused it.
    assert_eq!(builds.iter().filter(|tb| !tb.cached).count(), 1);
    // One finished build folder beside its lock file, no temporary folders left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    let expected = [format!(".mac_os_2x2_i8-{hash}.lock"), format!("mac_os_2x2_i8-{hash}")];
    assert_eq!(names, expected, "build root holds {names:?}");
    // The build is usable: a verification run on it reuses it and passes.
    let opts = accelc::verify::VerifyOptions { out_root, keep: false, progress: false, wave_on_fail: false };
    let report = accelc::verify::verify_config_with(&config, 2, 1, &opts).unwrap();
    assert!(report.passed(), "{}", report.sentinel());
}

#[test]
fn two_verify_processes_on_one_config_both_pass() {
    let root = cold_root("processes");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/mac_os_2x2_i8.toml");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_accelc"))
            .arg("verify")
            .arg(&config)
            .args(["--cases", "3", "--out"])
            .arg(&root)
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    for out in [a, b] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("verify mac_os_2x2_i8: PASS 3 cases"),
            "stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
