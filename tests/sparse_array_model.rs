//! The sparse row array's model against dense convolution written as gather loops (tests/common), on
//! every generated case kind of every sparse preset; its cycle accounting; and a hand-worked schedule.

mod common;

use accelc::config::Params;
use accelc::model::mac_unit::wrap;
use accelc::model::sparse_array::{run, Feed, Job, JobRow, Phase};
use accelc::sparse::conv1d::Conv1d;
use accelc::verify::sparse_vectors::generate;
use common::naive_conv::{dense_forward, dense_input_gradient, dense_weight_gradient};

const SPARSE_PRESETS: [&str; 3] = ["sparse_2x2_l8_i4", "sparse_4x3_l32_i8", "sparse_8x5_l64_i16"];

/// What PE row `r` of `job` must output: the wrapped sum over the job's rows of the dense convolution.
fn expected(p: &Params, job: &Job, r: usize) -> Vec<i64> {
    let conv = job.conv;
    let mut sum = vec![0i64; job.out_len()];
    for row in &job.rows {
        let Some(dense) = row.dense.get(r) else { continue };
        let part = match job.phase {
            Phase::Forward => dense_forward(&row.stream, dense, &conv, 64),
            Phase::InputGradient => dense_input_gradient(&row.stream, dense, &conv, 64),
            Phase::WeightGradient => dense_weight_gradient(&row.stream, dense, &conv, 64),
        };
        for (s, v) in sum.iter_mut().zip(part) {
            *s = s.wrapping_add(v);
        }
    }
    sum.into_iter().map(|v| wrap(v, p.acc_bits)).collect()
}

#[test]
fn every_case_kind_equals_dense_convolution() {
    for name in SPARSE_PRESETS {
        let p = common::preset(name).params();
        for index in 0..60 {
            let case = generate(&p, 7, index);
            let got = run(&p, &case.jobs, Feed::Compressed, false);
            let dense = run(&p, &case.jobs, Feed::Dense, false);
            for (j, job) in case.jobs.iter().enumerate() {
                for r in 0..p.rows {
                    let want = expected(&p, job, r);
                    assert_eq!(got.outputs[j][r], want, "{name} {} job {j} PE row {r}", case.describe());
                    assert_eq!(dense.outputs[j][r], want, "{name} {} dense feed", case.describe());
                }
            }
        }
    }
}

#[test]
fn every_edge_is_an_entry_a_stall_or_the_last_readout() {
    for name in SPARSE_PRESETS {
        let p = common::preset(name).params();
        for index in 0..40 {
            let case = generate(&p, 3, index);
            let r = run(&p, &case.jobs, Feed::Compressed, true);
            let last_out = case.jobs.last().unwrap().out_len() as u64;
            assert_eq!(
                r.cycles,
                r.entries + r.load_stalls + r.readout_stalls + last_out,
                "{}",
                case.describe()
            );
            let entries: u64 = case
                .jobs
                .iter()
                .flat_map(|j| &j.rows)
                .map(|row| row.stream.iter().filter(|&&v| v != 0).count().max(1) as u64)
                .sum();
            assert_eq!(r.entries, entries, "one entry per nonzero, one per all-zero row");
            let outs: usize = case.jobs.iter().map(|j| j.out_len()).sum();
            assert_eq!(r.out_beats.len(), outs);
            assert_eq!(r.inputs[0].taken_at.len(), r.entries as usize);
            assert!(r.inputs.iter().all(|c| c.taken_at.windows(2).all(|w| w[0] < w[1])));
        }
    }
}

/// Two forward rows on a 2x2 array, worked by hand: every edge's beat and every output's edge.
#[test]
fn hand_worked_schedule() {
    let p = common::preset("sparse_2x2_l8_i4").params();
    // Taps 2, stride 1, dilation 1, no padding: y[t] = w0 x[t] + w1 x[t+1], in 4 -> out 3.
    let conv = Conv1d::new(2, 1, 1, 0, 0, 4);
    let job = Job {
        phase: Phase::Forward,
        conv,
        rows: vec![
            JobRow { stream: vec![0, 3, 0, -2], dense: vec![vec![1, 2], vec![-1, 0]] },
            JobRow { stream: vec![0, 0, 0, 0], dense: vec![vec![5, 5]] },
        ],
    };
    let r = run(&p, std::slice::from_ref(&job), Feed::Compressed, true);
    // Load lanes = 1: each kernel row is 2 d beats. Row 0's operand: edges 0, 1; its first entry
    // waits until edge 2 and refills the shadow there (row 1's operand: edges 2, 3). Entries: (1, 3)
    // at 2, (3, -2) at 3, row 1's marker at 4 (its operand is whole after edge 3). Readout 5, 6, 7.
    assert_eq!(r.inputs[1].taken_at, vec![0, 1, 2, 3]);
    assert_eq!(r.inputs[0].taken_at, vec![2, 3, 4]);
    assert_eq!(r.load_stalls, 2);
    // PE row 0: y = [1*0 + 2*3, 1*3 + 2*0, 1*0 + 2*(-2)] = [6, 3, -4]; PE row 1: [0, -3, 0].
    assert_eq!(r.outputs, vec![vec![vec![6, 3, -4], vec![0, -3, 0]]]);
    let outs: Vec<(u64, Vec<i64>)> = r.out_beats.iter().map(|b| (b.cycle, b.lanes.clone())).collect();
    assert_eq!(outs, vec![(5, vec![6, 0]), (6, vec![3, -3]), (7, vec![-4, 0])]);
    assert_eq!(r.cycles, 8);

    // Pipelined rows add the last entry's products at edge 5: the readout leaves at 6, 7, 8.
    let piped = run(&Params { pipeline: 1, ..p.clone() }, std::slice::from_ref(&job), Feed::Compressed, true);
    assert_eq!(piped.inputs, r.inputs);
    assert_eq!(piped.outputs, r.outputs);
    let outs: Vec<(u64, Vec<i64>)> = piped.out_beats.iter().map(|b| (b.cycle, b.lanes.clone())).collect();
    assert_eq!(outs, vec![(6, vec![6, 0]), (7, vec![3, -3]), (8, vec![-4, 0])]);
    assert_eq!(piped.cycles, 9);
}

#[test]
fn pipelined_rows_compute_the_same_and_spend_one_more_edge_per_readout() {
    for name in SPARSE_PRESETS {
        let flat = common::preset(name).params();
        let p = Params { pipeline: 1, ..flat.clone() };
        for index in 0..40 {
            let case = generate(&p, 5, index);
            let r = run(&p, &case.jobs, Feed::Compressed, true);
            let f = run(&flat, &case.jobs, Feed::Compressed, true);
            assert_eq!(r.outputs, f.outputs, "{}", case.describe());
            let last_out = case.jobs.last().unwrap().out_len() as u64;
            // Every edge is an entry, a stall, the edge the last readout waits for, or that readout.
            assert_eq!(
                r.cycles,
                r.entries + r.load_stalls + r.readout_stalls + 1 + last_out,
                "{}",
                case.describe()
            );
            assert!(
                r.cycles > f.cycles && r.cycles <= f.cycles + case.jobs.len() as u64,
                "{}",
                case.describe()
            );
        }
    }
}

#[test]
fn cycles_track_the_nonzeros() {
    let p = common::preset("sparse_4x3_l32_i8").params();
    let conv = Conv1d::causal(3, 2, 32);
    let w = vec![vec![1, -1, 2]; 4];
    let job = |density: usize| Job {
        phase: Phase::Forward,
        conv,
        rows: (0..16)
            .map(|i| JobRow {
                stream: (0..32)
                    .map(|c| if (c * 7 + i) % 100 < density { 1 + (c as i64 % 5) } else { 0 })
                    .collect(),
                dense: w.clone(),
            })
            .collect(),
    };
    let dense = run(&p, &[job(100)], Feed::Compressed, false);
    let sparse = run(&p, &[job(10)], Feed::Compressed, false);
    // One edge to load the first kernel row, one per entry, then the 32-edge readout.
    assert_eq!(dense.cycles, 1 + 16 * 32 + 32);
    assert_eq!(sparse.cycles, 1 + sparse.nnz + 32, "one edge per nonzero (no row is all zero here)");
    assert!(sparse.nnz < 16 * 32 / 5);
    let as_dense = run(&p, &[job(10)], Feed::Dense, false);
    assert_eq!(as_dense.cycles, dense.cycles, "the dense feed costs every position");
}
