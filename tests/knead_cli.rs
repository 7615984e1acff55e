//! `accelc knead` through the binary: a good run writes a report with sensible numbers and a stream that
//! un-kneads to the quantized weights; bad input exits 2 with one line.

use accelc::knead::{check_stream, Encoding, KneadParams, KneadedStream};
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn accelc(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accelc")).args(args).current_dir(cwd).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("accelc_knead_cli_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/weights").join(rel).display().to_string()
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// Loads a written stream back and runs the checker against weights_q.npy.
fn check_dir(dir: &Path, words_override: Option<Array2<u64>>) -> Result<(), String> {
    let r = report(dir);
    let enc = if r["encoding"] == "csd" { Encoding::Csd } else { Encoding::SignMagnitude };
    let p = KneadParams::new(r["bits"].as_u64().unwrap() as u32, r["ks"].as_u64().unwrap() as usize, enc)
        .unwrap();
    let words: Array2<u64> = words_override.unwrap_or_else(|| read_npy(dir.join("words.npy")).unwrap());
    let offsets: Array1<u64> = read_npy(dir.join("group_offsets.npy")).unwrap();
    let b: Array2<i64> = read_npy(dir.join("weights_q.npy")).unwrap();
    let (k, n) = (r["k"].as_u64().unwrap() as usize, r["n"].as_u64().unwrap() as usize);
    let s = KneadedStream::from_arrays(p, k, n, words.view(), offsets.view()).map_err(|e| e.to_string())?;
    check_stream(&s, b.view()).map_err(|e| e.to_string())
}

#[test]
fn conv_layer_default_output_folder_and_report() {
    let cwd = tmp("conv");
    let out =
        accelc(&["knead", &data("ppocrv4_det/014_p2o.Conv.14.npy"), "--bits", "16", "--ks", "16"], &cwd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ideal speedup 1.4") && stdout.contains("self-check OK"), "{stdout}");
    assert!(stdout.contains("conv 192x192x1x1 -> B 192 x 192"), "{stdout}");
    let dir = cwd.join("rtl_out/knead/014_p2o.Conv.14");
    let r = report(&dir);
    assert_eq!(r["format_version"], accelc::config::FORMAT_VERSION);
    assert_eq!((r["k"].as_u64(), r["n"].as_u64()), (Some(192), Some(192)));
    assert_eq!(r["encoding"], "sign_magnitude");
    assert_eq!(r["digit_positions"], 15);
    assert_eq!(r["slot_layout"]["word_bits"], 90);
    let st = &r["stats"];
    assert_eq!(st["weights"], 192 * 192);
    let speedup = st["ideal_speedup"].as_f64().unwrap();
    assert!((1.3..1.7).contains(&speedup), "{speedup}");
    let zbf = st["zero_bit_fraction"].as_f64().unwrap();
    assert!((0.6..0.7).contains(&zbf), "{zbf}");
    let cw: Vec<u64> = r["column_words"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(cw.len(), 192);
    assert_eq!(cw.iter().sum::<u64>(), st["words"].as_u64().unwrap());
    assert!(cw.iter().all(|&w| w <= 192), "a column never takes more words than weights");
    let words: Array2<u64> = read_npy(dir.join("words.npy")).unwrap();
    assert_eq!(words.dim(), (st["words"].as_u64().unwrap() as usize, 2));
    check_dir(&dir, None).unwrap();
    std::fs::remove_dir_all(&cwd).unwrap();
}

/// A fully connected (2-D) layer, CSD, 8 bits, -o; then a corrupted words.npy is caught by the checker.
#[test]
fn fc_layer_csd_and_a_corrupted_stream_file_is_caught() {
    let cwd = tmp("fc");
    let dir = cwd.join("fc4");
    let out = accelc(
        &[
            "knead",
            &data("mtcnn/008_rnet.fc4.npy"),
            "--bits",
            "8",
            "--ks",
            "8",
            "--csd",
            "-o",
            dir.to_str().unwrap(),
        ],
        &cwd,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = report(&dir);
    assert_eq!((r["k"].as_u64(), r["n"].as_u64(), r["layout"].as_str()), (Some(576), Some(128), Some("OI")));
    assert_eq!(r["encoding"], "csd");
    assert_eq!(r["digit_positions"], 8);
    let st = &r["stats"];
    assert!(st["zero_digit_fraction"].as_f64().unwrap() > st["zero_bit_fraction"].as_f64().unwrap());
    assert!(st["ideal_speedup"].as_f64().unwrap() > 1.4);
    check_dir(&dir, None).unwrap();

    let words: Array2<u64> = read_npy(dir.join("words.npy")).unwrap();
    for (row, bit) in [(0usize, 1u32), (words.nrows() / 2, 2), (words.nrows() - 1, 3)] {
        let mut bad = words.clone();
        bad[(row, 0)] ^= 1 << bit; // bit 1: slot 0's sign; bits 2, 3: slot 0's index
        write_npy(cwd.join("bad.npy"), &bad).unwrap();
        let bad: Array2<u64> = read_npy(cwd.join("bad.npy")).unwrap();
        let e = check_dir(&dir, Some(bad)).expect_err("a flipped sign or index bit must be caught");
        assert!(e.contains("corrupt kneaded stream"), "{e}");
    }
    std::fs::remove_dir_all(&cwd).unwrap();
}

/// Every bad input exits 2 with one line naming the problem, and writes nothing.
#[test]
fn bad_input_exits_2_with_one_line() {
    let cwd = tmp("bad");
    let good = data("mtcnn/003_pnet.conv4-1.npy");
    write_npy(cwd.join("f64.npy"), &Array2::<f64>::zeros((4, 4))).unwrap();
    write_npy(cwd.join("i64.npy"), &Array2::<i64>::zeros((4, 4))).unwrap();
    write_npy(cwd.join("three_d.npy"), &ndarray::Array3::<f32>::zeros((2, 3, 4))).unwrap();
    write_npy(cwd.join("one_d.npy"), &Array1::<f32>::zeros(5)).unwrap();
    write_npy(cwd.join("empty.npy"), &Array2::<f32>::zeros((0, 4))).unwrap();
    write_npy(cwd.join("nan.npy"), &Array2::from_elem((2, 2), f32::NAN)).unwrap();
    std::fs::write(cwd.join("text.npy"), "not an npy file").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["missing.npy"], "missing.npy"),
        (vec!["f64.npy"], "float32"),
        (vec!["i64.npy"], "float32"),
        (vec!["text.npy"], "text.npy"),
        (vec!["three_d.npy"], "4-D OIHW"),
        (vec!["one_d.npy"], "4-D OIHW"),
        (vec!["empty.npy"], "empty axis"),
        (vec!["nan.npy"], "not finite"),
        (vec![&good, "--bits", "1"], "bits = 1"),
        (vec![&good, "--bits", "17"], "bits = 17"),
        (vec![&good, "--bits", "32"], "bits = 32"),
        (vec![&good, "--ks", "0"], "ks = 0"),
        (vec![&good, "--ks", "65"], "ks = 65"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["knead"];
        args.extend(extra.iter().copied());
        let out = accelc(&args, &cwd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line expected:\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!cwd.join("rtl_out").exists(), "bad input must write nothing");
    // Not a number: clap's own usage error, also exit 2.
    assert_eq!(accelc(&["knead", &good, "--ks", "lots"], &cwd).status.code(), Some(2));
    std::fs::remove_dir_all(&cwd).unwrap();
}

/// Same input, same files (no timestamps, no absolute paths in the report).
#[test]
fn output_is_deterministic() {
    let cwd = tmp("det");
    let src = data("mtcnn/001_pnet.conv2.npy");
    for d in ["a", "b"] {
        let out = accelc(&["knead", &src, "--bits", "8", "--ks", "4", "-o", d], &cwd);
        assert!(out.status.success());
    }
    for f in ["report.json", "words.npy", "group_offsets.npy", "weights_q.npy"] {
        assert_eq!(
            std::fs::read(cwd.join("a").join(f)).unwrap(),
            std::fs::read(cwd.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    std::fs::remove_dir_all(&cwd).unwrap();
}
