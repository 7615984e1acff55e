//! Operation counts of a sparse row array run, worked by hand on the schedule of
//! tests/sparse_array_model.rs (2 PE rows, 2 taps, one forward job of two rows).

mod common;

use accelc::energy::OpCounts;
use accelc::model::sparse_array::{run, Feed, Job, JobRow, Phase};
use accelc::sparse::conv1d::Conv1d;

#[test]
fn counts_of_a_hand_worked_sparse_run() {
    let p = common::preset("sparse_2x2_l8_i4").params();
    let job = Job {
        phase: Phase::Forward,
        conv: Conv1d::new(2, 1, 1, 0, 0, 4),
        rows: vec![
            JobRow { stream: vec![0, 3, 0, -2], dense: vec![vec![1, 2], vec![-1, 0]] },
            JobRow { stream: vec![0, 0, 0, 0], dense: vec![vec![5, 5]] },
        ],
    };
    let jobs = [job];
    let r = run(&p, &jobs, Feed::Compressed, false);
    let c = OpCounts::from_sparse_run(&p, &jobs, &r);
    // Entry (1, 3) reaches y[1] (tap 0) and y[0] (tap 1); entry (3, -2) reaches y[2] (tap 1) only:
    // 3 landing lanes x 2 PE rows. Every nonzero drives all 2 x 2 multipliers.
    assert_eq!(c.useful_macs, 6);
    assert_eq!(c.total_multiplies(), 2 * 2 * 2);
    assert_eq!(c.total_adds(), 6);
    let reg = |what: &str| c.register_bit_writes.iter().find(|b| b.what == what).unwrap().bits;
    assert_eq!(reg("row_acc"), 6 * 10);
    assert_eq!(reg("row_operand_shadow"), 4 * 2 * 4, "4 load beats of one 4-bit value per PE row");
    assert_eq!(reg("row_operand_active"), 2 * 2 * 2 * 4, "2 rows x 2 taps x 2 PE rows");
    assert_eq!(reg("row_readout"), 3 * 2 * 10);
    let stream = |name: &str| c.streams.iter().find(|s| s.name == name).unwrap().bits;
    assert_eq!(stream("x"), 3 * (9 + 1));
    // d: 2 lanes of 4 bits, d_last, phase 2 + shift 2 + dilation 2 + pad 2 + two lengths of 4.
    assert_eq!(stream("d"), 4 * (8 + 1 + 16));
    assert_eq!(stream("out"), 3 * 2 * 10);
}
