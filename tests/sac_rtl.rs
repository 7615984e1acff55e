//! The SAC array end to end: generated RTL against the model in Verilator (plain and pipelined units),
//! planted faults in the SAC unit and in the pipelined readout, and a corrupted kneaded stream, all of
//! which verification must catch.

mod common;
use accelc::interface::Interface;
use accelc::model::{run_gemm, Matrix};
use accelc::verify::harness::{self, Limits};
use accelc::verify::{self, check_run, Origin};
use common::{preset, verify_options, verify_root};

#[test]
fn sac_array_matches_the_model_bit_and_cycle_exact() {
    let report = verify::verify_config_with(&preset("sac_4x4_i8_ks4_sm"), 20, 5, &verify_options()).unwrap();
    assert!(report.passed(), "{}", report.sentinel());
    assert!(report.cases.iter().all(|c| c.cycles_model == c.cycles_rtl && c.cycles_model > 0));
}

#[test]
fn pipelined_sac_units_match_the_model_and_a_missed_stage_is_caught() {
    let mut config = preset("sac_4x4_i8_ks4_sm");
    config.name = "sac_4x4_i8_ks4_sm_p2".into();
    config.pe.pipeline = 2;
    let report = verify::verify_config_with(&config, 10, 5, &verify_options()).unwrap();
    assert!(report.passed(), "{}", report.sentinel());
    assert!(report.cases.iter().all(|c| c.cycles_model == c.cycles_rtl && c.cycles_model > 0));

    // The readout does not wait for the last stage: it reads the previous fold's results (or none).
    config.name = "fault_sac_pipeline".into();
    let mut design = accelc::rtl::generate(&config).unwrap();
    let (_, text) = design.files.iter_mut().find(|(n, _)| n == "fault_sac_pipeline.v").unwrap();
    let wait = " && !(|fold_done_d1 || |fold_done_d2)";
    assert!(text.contains(wait), "the readout waits for both stages");
    *text = text.replacen(wait, " && !(|fold_done_d1)", 1);
    let report = verify::verify_design(&config, &design, Origin::Given, 6, 5, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
    let failed = report.failed_cases().next().unwrap();
    assert!(failed.mismatches.iter().any(|m| m.contains("out_data: lane")), "{:?}", failed.mismatches);
}

#[test]
fn a_wrong_sign_in_the_sac_unit_is_caught() {
    let mut config = preset("sac_4x4_i8_ks4_sm");
    config.name = "fault_sac_sign".into();
    let mut design = accelc::rtl::generate(&config).unwrap();
    let (_, text) = design.files.iter_mut().find(|(n, _)| n.ends_with("sac_unit.v")).unwrap();
    // Slot 1 adds where it should subtract a negative digit.
    let line =
        text.lines().find(|l| l.contains("slot1_negative ? seg1 - slot1_act_ext")).unwrap().to_string();
    *text = text.replacen(&line, &line.replace("seg1 - slot1_act_ext", "seg1 + slot1_act_ext"), 1);
    let report = verify::verify_design(&config, &design, Origin::Given, 10, 2, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
    assert!(report.sentinel().contains(": FAIL "));
}

#[test]
fn a_corrupted_kneaded_stream_is_caught() {
    let config = preset("sac_4x4_i8_ks4_sm");
    let p = config.params();
    let iface = Interface::of(&p);
    let design = accelc::rtl::generate(&config).unwrap();
    let (tb, _) = harness::build(&p, &design, &iface, &verify_root().join(".build")).unwrap();
    let a = Matrix::from_shape_fn((4, 8), |(i, k)| (i * 8 + k) as i64 % 11 - 5);
    let b = Matrix::from_shape_fn((8, 4), |(k, n)| [3, -7, 0, 100, 127, -1, 21, -64][(k + n) % 8]);
    let good = run_gemm(&p, &a, &b);
    let work = verify_root().join("corrupt_stream");
    // The corrupted run keeps the intact run's expected outputs: only its stimulus changes.
    let check = |run: &accelc::model::GemmRun, tag: &str| {
        check_run(&tb, &iface, run, Limits::for_run(&p, run.cycles), &work.join(tag), None).unwrap()
    };
    let intact = check(&good, "good");
    assert!(intact.passed() && intact.cycles_rtl() == good.cycles, "the intact stream passes");

    // Flip the index of the first valid slot in column 0's first word: the digit now names another
    // activation of its group.
    let mut corrupt = good.clone();
    let word = &mut corrupt.inputs[1].beats[0].fields[0];
    let slot = word.iter_mut().find(|s| **s & 1 == 1).expect("a valid slot");
    *slot ^= 1 << 2;
    let mismatches = check(&corrupt, "corrupt").mismatches;
    assert!(!mismatches.is_empty(), "a corrupted index must change the outputs");
}
