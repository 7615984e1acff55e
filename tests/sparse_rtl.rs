//! The sparse 1-D row array end to end: generated RTL against the model in Verilator on every case
//! kind (densities 100% to 5%, all-zero and single-element rows, all three phases), a wrong index in
//! the stream, and a planted fault in the position logic, both of which verification must catch; and
//! pipelined rows (`pe.pipeline = 1`) with a readout planted to start too early.

mod common;
use accelc::interface::Interface;
use accelc::model::sparse_array::{run, Feed, Job, JobRow, Phase};
use accelc::sparse::conv1d::Conv1d;
use accelc::verify::harness::{self, Limits};
use accelc::verify::{self, check_run, Origin};
use common::{preset, verify_options, verify_root};

#[test]
fn sparse_rows_match_the_model_bit_and_cycle_exact() {
    for name in ["sparse_2x2_l8_i4", "sparse_4x3_l32_i8"] {
        let report = verify::verify_config_with(&preset(name), 20, 11, &verify_options()).unwrap();
        assert!(report.passed(), "{}", report.sentinel());
        assert!(report.cases.iter().all(|c| c.cycles_model == c.cycles_rtl && c.cycles_model > 0));
    }
}

#[test]
fn pipelined_rows_match_the_model_and_a_readout_that_does_not_wait_is_caught() {
    let mut config = preset("sparse_2x2_l8_i4");
    config.name = "sparse_2x2_l8_i4_p1".into();
    config.pe.pipeline = 1;
    let report = verify::verify_config_with(&config, 20, 11, &verify_options()).unwrap();
    assert!(report.passed(), "{}", report.sentinel());
    assert!(report.cases.iter().all(|c| c.cycles_model == c.cycles_rtl && c.cycles_model > 0));

    // The readout starts with the job's last entry, before the rows have added its products.
    config.name = "fault_sparse_pipeline".into();
    let mut design = accelc::rtl::generate(&config).unwrap();
    let (_, text) = design.files.iter_mut().find(|(n, _)| n == "fault_sparse_pipeline.v").unwrap();
    let needle = "end else if (readout_start) begin";
    assert!(text.contains(needle));
    *text = text.replacen(needle, "end else if (job_end) begin", 1);
    let report = verify::verify_design(&config, &design, Origin::Given, 10, 4, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
}

/// A causal dilated forward job and its two gradient jobs on the 4x3 array.
fn tcn_jobs() -> Vec<Job> {
    let conv = Conv1d::causal(3, 4, 32);
    let x: Vec<i64> = (0..32).map(|t| if t % 3 == 0 { (t as i64 % 7) - 3 } else { 0 }).collect();
    let dy: Vec<i64> = (0..32).map(|t| if t % 5 == 1 { 9 - t as i64 } else { 0 }).collect();
    let w = vec![vec![1, -2, 3], vec![-4, 5, -6], vec![7, 8, 9], vec![-10, 11, 12]];
    vec![
        Job { phase: Phase::Forward, conv, rows: vec![JobRow { stream: x.clone(), dense: w.clone() }] },
        Job { phase: Phase::InputGradient, conv, rows: vec![JobRow { stream: dy.clone(), dense: w }] },
        Job { phase: Phase::WeightGradient, conv, rows: vec![JobRow { stream: dy, dense: vec![x; 4] }] },
    ]
}

#[test]
fn given_jobs_run_in_rtl() {
    let result =
        verify::check_jobs(&preset("sparse_4x3_l32_i8"), &tcn_jobs(), "tcn", &verify_options()).unwrap();
    assert!(result.mismatches.is_empty(), "{:?}", result.mismatches);
    assert!(result.cycles_model > 0 && result.cycles_model == result.cycles_rtl);
}

#[test]
fn a_wrong_index_in_the_stream_is_caught() {
    let config = preset("sparse_4x3_l32_i8");
    let p = config.params();
    let iface = Interface::of(&p);
    let design = accelc::rtl::generate(&config).unwrap();
    let (tb, _) = harness::build(&p, &design, &iface, &verify_root().join(".build")).unwrap();
    let good = run(&p, &tcn_jobs(), Feed::Compressed, true);
    let work = verify_root().join("sparse_wrong_index");
    // The corrupted run keeps the intact run's expected outputs: only its stimulus changes.
    let check = |run: &accelc::model::sparse_array::SparseRun, tag: &str| {
        check_run(&tb, &iface, run, Limits::for_run(&p, run.cycles), &work.join(tag), None).unwrap()
    };
    let intact = check(&good, "good");
    assert!(intact.passed() && intact.cycles_rtl() == good.cycles, "the intact stream passes");

    // The second entry of the forward row names the next column: packed index field is bits 2..7.
    let mut corrupt = good.clone();
    let entry = &mut corrupt.inputs[0].beats[1].fields[0][0];
    let fmt = p.sparse.as_ref().unwrap().stream;
    let before = fmt.unpack(*entry as u64).unwrap();
    *entry += 1 << 2;
    assert_eq!(fmt.unpack(*entry as u64).unwrap().index, before.index + 1);
    let mismatches = check(&corrupt, "corrupt").mismatches;
    assert!(!mismatches.is_empty(), "a wrong index must change the outputs");
    assert!(mismatches.iter().all(|m| m.contains("out")), "only outputs differ: {mismatches:?}");
}

#[test]
fn a_missing_stride_test_in_the_position_logic_is_caught() {
    let mut config = preset("sparse_4x3_l32_i8");
    config.name = "fault_sparse_stride".into();
    let mut design = accelc::rtl::generate(&config).unwrap();
    let (_, text) = design.files.iter_mut().find(|(n, _)| n == "fault_sparse_stride.v").unwrap();
    // Lane 1 forgets that a strided forward position must be divisible by the stride (stride 1 and
    // the gradient phases are unaffected). An off-by-one at a row's end would not do as a planted
    // fault: positions past the row are never read out, so it changes no output.
    let needle = "((lane1_fwd_num & stride_mask) == 8'd0)";
    assert!(text.contains(needle), "{}", text.lines().find(|l| l.contains("lane1_fwd_hit =")).unwrap());
    *text = text.replacen(needle, "1'b1", 1);
    let report = verify::verify_design(&config, &design, Origin::Given, 10, 4, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
    assert!(report.sentinel().contains(": FAIL "));
}
