//! SCALE-Sim topology import: conv and GEMM files become GEMM shapes; `accelc cycles` runs them
//! through the model; bad files are bad input (exit 2, file:line).

use accelc::workload::topology::{parse_topology, GemmShape};
use std::process::Command;

fn shape(name: &str, m: usize, n: usize, k: usize) -> GemmShape {
    GemmShape { name: name.into(), m, n, k }
}

#[test]
fn conv_rows_become_gemms_as_scale_sim_maps_them() {
    // ResNet-style first layer (ifmap already padded): (230 - 7) / 2 + 1 = 112 outputs per side.
    let text = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                Conv1, 230, 230, 7, 7, 3, 64, 2,\n\
                FC, 1, 1, 1, 1, 512, 1000, 1,\n";
    let shapes = parse_topology("t.csv", text).unwrap();
    assert_eq!(shapes, vec![shape("Conv1", 112 * 112, 64, 147), shape("FC", 1, 1000, 512)]);
}

#[test]
fn gemm_rows_are_taken_as_they_are() {
    let shapes = parse_topology("g.csv", "Layer, M, N, K,\nattn, 128, 64, 256,\n").unwrap();
    assert_eq!(shapes, vec![shape("attn", 128, 64, 256)]);
}

#[test]
fn bad_rows_name_the_file_and_line() {
    for (text, needle) in [
        ("", "g.csv:1: empty"),
        ("Layer, M, N, K,\nx, 1, 0, 3,\n", "g.csv:2: every size must be a positive integer"),
        ("Layer, M, N, K,\nx, 1, 2,\n", "g.csv:2: expected a name and 3 numbers"),
        ("Layer, Q, R,\n", "g.csv:1: header"),
        ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc, 2, 2, 3, 3, 1, 1, 1,\n", "g.csv:2: filter 3x3 is larger"),
    ] {
        let err = parse_topology("g.csv", text).unwrap_err().to_string();
        assert!(err.starts_with(needle), "{err}");
    }
}

#[test]
fn cycles_command_reports_every_layer_and_the_closed_form_holds() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = Command::new(env!("CARGO_BIN_EXE_accelc"))
        .current_dir(root)
        .args(["cycles", "configs/mac_os_8x8_i8.toml", "--topology", "examples/topologies/tiny_cnn.csv"])
        .output()
        .unwrap();
    assert!(run.status.success());
    let out = String::from_utf8(run.stdout).unwrap();
    // Conv3: M = 49, N = 64, K = 32 on 8x8 OS: 7 x 8 = 56 folds, K >= 8 so no stalls: 56 * 32 + 8 + 8.
    let conv3 = out.lines().find(|l| l.starts_with("Conv3")).unwrap();
    let fields: Vec<&str> = conv3.split_whitespace().collect();
    assert_eq!(&fields[1..6], &["49", "64", "32", "56", "1808"]);
    assert!(out.lines().last().unwrap().starts_with("cycles mac_os_8x8_i8: 3 layers, "));

    let bad = Command::new(env!("CARGO_BIN_EXE_accelc"))
        .current_dir(root)
        .args(["cycles", "configs/mac_os_8x8_i8.toml", "--topology", "configs/mac_os_8x8_i8.toml"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
