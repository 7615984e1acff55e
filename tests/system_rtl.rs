//! The system top in Verilator against the system model through its AXI ports (`verify::system`):
//! every kind of case of the generator (random jobs, jobs back to back reusing weights, a real layer,
//! geometry edge cases, a GEMM, malformed frames, heavy backpressure), and three planted faults the
//! comparison must catch: a wrong im2col address, a requantization rounding off by one, a dropped tlast.

mod common;

use accelc::rtl::Design;
use accelc::system::SystemParams;
use accelc::verify::system::verify;

fn preset() -> (SystemParams, u32, Design) {
    let config = common::preset("system_os_4x4_i8");
    let sp = SystemParams::of(&config).expect("the preset has a [system] table");
    let design = accelc::rtl::generate(&config).unwrap();
    (sp, config.params().acc_bits, design)
}

#[test]
fn every_kind_of_case_passes_bit_and_cycle_exact() {
    let (sp, acc_bits, design) = preset();
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
    let report = verify(&sp, acc_bits, design, 7, 11, &common::verify_options()).unwrap();
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
