//! The system top in Verilator against the system model through its AXI ports (`verify::system`):
//! every kind of case of the generator (random jobs, jobs back to back reusing weights, a real layer,
//! geometry edge cases, a GEMM, malformed frames, heavy backpressure), and three planted faults the
//! comparison must catch: a wrong im2col address, a requantization rounding off by one, a dropped tlast
//! (output-stationary system), a fold's partial sums dropped (weight-stationary system), a column
//! stream that does not rewind for the next pixel tile (SAC system).

mod common;

use accelc::rtl::Design;
use accelc::system::SystemParams;
use accelc::verify::system::verify;

fn preset() -> (SystemParams, u32, Design) {
    load("system_os_4x4_i8")
}

fn load(name: &str) -> (SystemParams, u32, Design) {
    let config = common::preset(name);
    let sp = SystemParams::of(&config).expect("the preset has a [system] table");
    let design = accelc::rtl::generate(&config).unwrap();
    (sp, config.params().acc_bits, design)
}

#[test]
fn every_kind_of_case_passes_bit_and_cycle_exact() {
    every_kind_of_case(preset());
}

#[test]
fn every_kind_of_case_passes_on_the_weight_stationary_system() {
    every_kind_of_case(load("system_ws_4x4_i8"));
}

#[test]
fn every_kind_of_case_passes_on_the_sac_system() {
    every_kind_of_case(load("system_sac_4x4_i8"));
}

fn every_kind_of_case((sp, acc_bits, design): (SystemParams, u32, Design)) {
    let report = verify(&sp, acc_bits, &design, 14, 11, &common::verify_options()).unwrap();
    for c in &report.cases {
        assert!(c.mismatches.is_empty(), "{}: {:?}", c.description, c.mismatches);
        assert_eq!(c.cycles_model, c.cycles_rtl, "{}", c.description);
    }
    assert!(report.passed(), "{}", report.sentinel());
}

/// `design` with one line of one file changed (the change must apply).
fn planted(design: &Design, file_suffix: &str, from: &str, to: &str) -> Design {
    let mut d = design.clone();
    let (_, text) = d.files.iter_mut().find(|(n, _)| n.ends_with(file_suffix)).expect("the file exists");
    assert!(text.contains(from), "{file_suffix} has no {from:?}");
    *text = text.replacen(from, to, 1);
    d
}

fn assert_caught(design: &Design, what: &str) {
    let (sp, acc_bits, _) = preset();
    assert_caught_on(&sp, acc_bits, design, what);
}

fn assert_caught_on(sp: &SystemParams, acc_bits: u32, design: &Design, what: &str) {
    let report = verify(sp, acc_bits, design, 7, 11, &common::verify_options()).unwrap();
    assert!(!report.passed(), "the planted fault ({what}) was not caught: {}", report.sentinel());
    eprintln!("{what}: {}", report.sentinel());
}

#[test]
fn a_wrong_im2col_address_is_caught() {
    let (_, _, design) = preset();
    // odd kernel columns read the word after the right one
    let bad = planted(
        &design,
        "_system_engine.v",
        "assign act_addr = f_wo + f_byo + ix[9:0];",
        "assign act_addr = f_wo + f_byo + {9'd0, f_kx[0]} + ix[9:0];",
    );
    assert_caught(&bad, "im2col address");
}

#[test]
fn a_rounding_off_by_one_is_caught() {
    let (_, _, design) = preset();
    // the rounding bit taken one position too high (P[shift] instead of P[shift-1]): results come out
    // one off about half the time
    let bad = planted(
        &design,
        "_system_engine.v",
        "wire rbit = p73[{1'b0, shift}];",
        "wire rbit = p72[{1'b0, shift}];",
    );
    assert_caught(&bad, "requantization rounding");
}

#[test]
fn a_dropped_tlast_is_caught() {
    let (_, _, design) = preset();
    let bad =
        planted(&design, "_system_engine.v", "assign m_axis_tlast = m_last;", "assign m_axis_tlast = 1'b0;");
    assert_caught(&bad, "dropped tlast");
}

#[test]
fn a_dropped_partial_sum_is_caught_on_the_weight_stationary_system() {
    let (sp, acc_bits, design) = load("system_ws_4x4_i8");
    // the second fold of a block starts from zero instead of adding to the first fold's sums
    let bad =
        planted(&design, "_system_engine.v", "wire a_acc = (i_kt != 21'd0);", "wire a_acc = (i_kt > 21'd1);");
    assert_caught_on(&sp, acc_bits, &bad, "dropped partial sum (WS)");
}

#[test]
fn a_column_stream_that_does_not_rewind_is_caught_on_the_sac_system() {
    let (sp, acc_bits, design) = load("system_sac_4x4_i8");
    // after a fold's last word a column moves on instead of rewinding to the tile's first word: the
    // second pixel tile of a tile computes with the next tile's weights
    let bad = planted(
        &design,
        "_system_engine.v",
        "wire [10:0] addr_next = (fold_end && !mlast) ? col_tstart : col_addr + 11'd1;",
        "wire [10:0] addr_next = col_addr + 11'd1;",
    );
    assert_caught_on(&sp, acc_bits, &bad, "column stream not rewound (SAC)");
}
