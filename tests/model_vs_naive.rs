//! The reference model against plain arithmetic written differently: i128 matrix products reduced
//! modulo 2^acc_bits by remainder, and closed-form cycle counts for schedules without stalls; a
//! pipelined MAC array (`pe.pipeline`) takes the same beats and sends the same rows, later.

use accelc::config::{Config, Params};
use accelc::model::{run_gemm, Matrix};

mod common;
use common::naive_product;
use proptest::prelude::*;

fn params(rows: u32, cols: u32, dataflow: &str, wb: u32, ab: u32, acc: u32, depth: Option<u32>) -> Params {
    let depth = depth.map(|d| format!("acc_depth = {d}\n")).unwrap_or_default();
    let text = format!(
        "name = \"t\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"{dataflow}\"\n{depth}[pe]\nkind = \"mac\"\nweight_bits = {wb}\nact_bits = {ab}\nacc_bits = {acc}\n"
    );
    Config::parse("test.toml", &text).expect("valid config").params()
}

fn value(bits: u32) -> impl Strategy<Value = i64> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    prop_oneof![Just(lo), Just(hi), Just(0i64), Just(-1i64), lo..=hi]
}

fn matrix(rows: usize, cols: usize, bits: u32) -> impl Strategy<Value = Matrix> {
    proptest::collection::vec(value(bits), rows * cols)
        .prop_map(move |v| Matrix::from_shape_vec((rows, cols), v).expect("shape"))
}

fn case() -> impl Strategy<Value = (Params, Matrix, Matrix)> {
    (1u32..=5, 1u32..=5, any::<bool>(), 2u32..=16, 2u32..=16, 1usize..=12, 1usize..=12, 1usize..=20, 0u32..=3)
        .prop_flat_map(|(rows, cols, ws, wb, ab, m, n, k, depth_log)| {
            let prod = wb + ab;
            (prod..=64).prop_map(move |acc| {
                let depth = ws.then_some(2u32 << depth_log);
                let df = if ws { "weight_stationary" } else { "output_stationary" };
                (params(rows, cols, df, wb, ab, acc, depth), m, n, k)
            })
        })
        .prop_flat_map(|(p, m, n, k)| {
            let (ab, wb) = (p.act_bits, p.weight_bits);
            (Just(p), matrix(m, k, ab), matrix(k, n, wb))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn model_product_equals_naive_product((p, a, b) in case()) {
        let run = run_gemm(&p, &a, &b);
        prop_assert_eq!(&run.c, &naive_product(&a, &b, p.acc_bits));
    }

    #[test]
    fn outputs_leave_in_order_one_per_edge_at_most((p, a, b) in case()) {
        let run = run_gemm(&p, &a, &b);
        for pair in run.outputs.windows(2) {
            prop_assert!(pair[0].cycle < pair[1].cycle);
        }
        for ch in &run.inputs {
            for pair in ch.taken_at.windows(2) {
                prop_assert!(pair[0] < pair[1]);
            }
        }
    }

    #[test]
    fn a_pipelined_array_takes_the_same_beats_and_sends_the_same_rows_later(
        (p, a, b) in case(), stages in 1usize..=3
    ) {
        let flat = run_gemm(&p, &a, &b);
        let piped = run_gemm(&Params { pipeline: stages, ..p.clone() }, &a, &b);
        prop_assert_eq!(&piped.c, &flat.c);
        prop_assert_eq!(&piped.inputs, &flat.inputs);
        prop_assert_eq!(piped.outputs.len(), flat.outputs.len());
        for (o, f) in piped.outputs.iter().zip(&flat.outputs) {
            prop_assert_eq!(&o.lanes, &f.lanes);
            prop_assert_eq!(o.cycle, f.cycle + stages as u64);
        }
        prop_assert_eq!(piped.cycles, flat.cycles + stages as u64);
    }
}

#[test]
fn wrapping_accumulator_matches_naive_on_extremes() {
    // 16 products of (-8)*(-8) = 64 each: 1024 wraps in a 10-bit accumulator to 0.
    let p = params(2, 2, "output_stationary", 4, 4, 10, None);
    let a = Matrix::from_elem((3, 16), -8);
    let b = Matrix::from_elem((16, 3), -8);
    let run = run_gemm(&p, &a, &b);
    assert_eq!(run.c, naive_product(&a, &b, 10));
    assert_eq!(run.c[(0, 0)], 0);
}

#[test]
fn os_cycles_follow_the_closed_form_without_stalls() {
    // With K >= max(rows, cols) no fold waits: folds * K beats, then the last fold's rows drain.
    for (rows, cols, m, n, k) in [(8, 8, 64, 64, 64), (4, 2, 9, 5, 7), (16, 4, 16, 16, 16), (1, 1, 3, 3, 1)] {
        let p = params(rows, cols, "output_stationary", 8, 8, 32, None);
        let a = Matrix::from_elem((m, k), 1);
        let b = Matrix::from_elem((k, n), 1);
        let run = run_gemm(&p, &a, &b);
        let folds = m.div_ceil(rows as usize) * n.div_ceil(cols as usize);
        assert_eq!(run.folds, folds);
        let expected = (folds * k + rows as usize + cols as usize) as u64;
        assert_eq!(run.cycles, expected, "{rows}x{cols} GEMM {m}x{n}x{k}");
    }
}

#[test]
fn os_short_folds_are_paced_by_the_readout() {
    // K = 1 < fold_gap = 8: each fold's (only, last) beat waits 8 edges after the previous one.
    let p = params(8, 8, "output_stationary", 8, 8, 32, None);
    let run = run_gemm(&p, &Matrix::from_elem((16, 1), 1), &Matrix::from_elem((1, 16), 1));
    assert_eq!(run.inputs[0].taken_at, vec![0, 8, 16, 24]);
    // The last fold (L = 24) sends row 7 at L + 7 + cols + 1 = 40: 41 edges in all.
    assert_eq!(run.cycles, 41);
}

#[test]
fn ws_cycles_follow_the_closed_form_when_weight_loads_hide() {
    // One M block per fold of `m` rows >= rows + cols - 1: only the first weight load is exposed.
    for (rows, cols, m, n, k) in
        [(8usize, 8usize, 16usize, 64usize, 64usize), (4, 4, 8, 9, 10), (2, 3, 4, 7, 5)]
    {
        let depth = m.next_power_of_two() as u32;
        let p = params(rows as u32, cols as u32, "weight_stationary", 8, 8, 32, Some(depth));
        let a = Matrix::from_elem((m, k), 1);
        let b = Matrix::from_elem((k, n), 1);
        let run = run_gemm(&p, &a, &b);
        let folds = n.div_ceil(cols) * k.div_ceil(rows);
        assert_eq!(run.folds, folds);
        assert_eq!(run.cycles, (rows + folds * m + rows + cols) as u64, "{rows}x{cols} GEMM {m}x{n}x{k}");
    }
}

#[test]
fn steady_state_keeps_every_pe_busy() {
    for df in ["output_stationary", "weight_stationary"] {
        let depth = (df == "weight_stationary").then_some(64);
        let p = params(8, 8, df, 8, 8, 32, depth);
        let (m, n, k) = (256usize, 64usize, 256usize);
        let run = run_gemm(&p, &Matrix::from_elem((m, k), 1), &Matrix::from_elem((k, n), 1));
        let util = run.utilization(&p, (m * n * k) as u64);
        assert!(util > 0.97, "{df}: utilization {util}");
    }
}
