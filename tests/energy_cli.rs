//! `accelc energy`: per-layer lines that add up to the network total, sparse layers that do not fit the
//! array listed as skipped, and bad input with exit code 2.

use std::process::Command;

fn energy(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_accelc")).arg("energy").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// (sum of the per-layer total nJ column, the total the last line states).
fn totals(stdout: &str) -> (f64, f64) {
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines.iter().position(|l| l.starts_with("layer ")).unwrap();
    let sum: f64 = lines[header + 1..]
        .iter()
        .take_while(|l| !l.starts_with("  skipped") && !l.starts_with("energy "))
        .map(|l| l.split_whitespace().rev().nth(1).unwrap().parse::<f64>().unwrap())
        .sum();
    let last = lines.last().unwrap();
    let stated = last.split("total ").nth(1).unwrap().split(' ').next().unwrap().parse::<f64>().unwrap();
    (sum, stated)
}

#[test]
fn layers_add_up_to_the_network() {
    let (code, stdout, stderr) = energy(&["configs/mac_os_4x4_i4.toml", "--network", "mtcnn", "--m", "16"]);
    assert_eq!(code, 0, "{stderr}");
    for layer in ["pnet.conv2", "rnet.fc4", "onet.conv2"] {
        assert!(stdout.contains(layer), "{stdout}");
    }
    let (sum, stated) = totals(&stdout);
    assert!((sum - stated).abs() < 0.01 * 6.0, "{sum} vs {stated}\n{stdout}");

    let (code, stdout, _) = energy(&["configs/sparse_2x2_l8_i4.toml", "--network", "mtcnn", "--map", "8"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("skipped rnet.fc4: not a dense conv layer"), "{stdout}");
    assert!(stdout.contains("skipped pnet.conv2: kernel width 3, the array has 2 taps"), "{stdout}");
    assert!(stdout.contains("rnet.conv3 "), "the 2-wide kernel runs on 2 taps: {stdout}");
}

#[test]
fn bad_input_exits_2() {
    let (code, _, stderr) = energy(&["configs/mac_os_4x4_i4.toml", "--network", "resnet"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--network resnet"), "{stderr}");
    let (code, _, stderr) = energy(&["configs/sparse_2x2_l8_i4.toml", "--network", "mtcnn", "--map", "9"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--map 9: must be between 1 and row_len = 8"), "{stderr}");
}
