//! The SAC array model against plain arithmetic (i128 products reduced modulo 2^acc_bits), against
//! hand-derived cycle counts, and the effect of decoupling columns; pipelined units (`pe.pipeline`)
//! send the same rows, later.

use accelc::config::{Config, Params};
use accelc::model::{run_gemm, Matrix};

mod common;
use common::naive_product;
use proptest::prelude::*;

#[allow(clippy::too_many_arguments)] // one argument per config key reads best in the tests
fn sac(rows: u32, cols: u32, wb: u32, ab: u32, acc: u32, ks: u32, enc: &str, groups: u32) -> Params {
    let text = format!(
        "name = \"t\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"output_stationary\"\nact_buffer_groups = {groups}\n\
         [pe]\nkind = \"sac\"\nweight_bits = {wb}\nact_bits = {ab}\nacc_bits = {acc}\nkneading_stride = {ks}\nencoding = \"{enc}\"\n"
    );
    Config::parse("t.toml", &text).expect("valid SAC config").params()
}

fn matrix(rows: usize, cols: usize, lo: i64, hi: i64) -> impl Strategy<Value = Matrix> {
    proptest::collection::vec(prop_oneof![Just(lo), Just(hi), Just(0i64), lo..=hi], rows * cols)
        .prop_map(move |v| Matrix::from_shape_vec((rows, cols), v).unwrap())
}

fn case() -> impl Strategy<Value = (Params, Matrix, Matrix)> {
    (
        1u32..=4,
        1u32..=4,
        2u32..=16,
        2u32..=16,
        0u32..=3,
        any::<bool>(),
        0u32..=3,
        1usize..=9,
        1usize..=9,
        1usize..=40,
    )
        .prop_flat_map(|(rows, cols, wb, ab, ks_log, csd, g_log, m, n, k)| {
            (wb + ab..=64).prop_map(move |acc| {
                let enc = if csd { "csd" } else { "sign_magnitude" };
                (sac(rows, cols, wb, ab, acc, 2 << ks_log, enc, 1 << g_log), m, n, k)
            })
        })
        .prop_flat_map(|(p, m, n, k)| {
            let (a_lo, a_hi) = (-(1i64 << (p.act_bits - 1)), (1i64 << (p.act_bits - 1)) - 1);
            let (w_lo, w_hi) = p.weight_range();
            (Just(p), matrix(m, k, a_lo, a_hi), matrix(k, n, w_lo, w_hi))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn sac_product_equals_naive_product((p, a, b) in case()) {
        let run = run_gemm(&p, &a, &b);
        prop_assert_eq!(&run.c, &naive_product(&a, &b, p.acc_bits));
        for pair in run.outputs.windows(2) {
            prop_assert!(pair[0].cycle < pair[1].cycle);
        }
    }

    #[test]
    fn pipelined_units_send_the_same_rows_the_first_fold_exactly_later(
        (p, a, b) in case(), stages in 1usize..=2
    ) {
        let flat = run_gemm(&p, &a, &b);
        let piped = run_gemm(&Params { pipeline: stages, ..p.clone() }, &a, &b);
        prop_assert_eq!(&piped.c, &flat.c);
        let lanes = |r: &accelc::model::GemmRun| r.outputs.iter().map(|o| o.lanes.clone()).collect::<Vec<_>>();
        prop_assert_eq!(lanes(&piped), lanes(&flat));
        // Nothing waits on a readout before the first fold's: its rows leave exactly `stages` later.
        let rows = p.rows;
        for (o, f) in piped.outputs.iter().zip(&flat.outputs).take(rows) {
            prop_assert_eq!(o.cycle, f.cycle + stages as u64);
        }
        // Later folds may also wait for a readout that started later: at most `stages` per fold.
        let extra = piped.cycles - flat.cycles;
        prop_assert!(extra >= stages as u64 && extra <= (stages * flat.folds) as u64, "{} extra edges", extra);
    }
}

#[test]
fn dense_unit_weights_take_ks_words_per_group() {
    // Every weight is 1: each group kneads into KS words (all digits at position 0). One fold, the
    // columns never wait: words at edges 1..=G*KS, rows leave at G*KS + 2 + r.
    for (rows, cols, ks, k) in [(2, 3, 4, 12), (4, 4, 8, 8), (1, 1, 2, 7)] {
        let p = sac(rows, cols, 8, 8, 32, ks, "sign_magnitude", 2);
        let run = run_gemm(
            &p,
            &Matrix::from_elem((rows as usize, k), 3),
            &Matrix::from_elem((k, cols as usize), 1),
        );
        let groups = k.div_ceil(ks as usize);
        let words = (k - (groups - 1) * ks as usize) + (groups - 1) * ks as usize;
        assert_eq!(run.cycles, (words + rows as usize + 2) as u64, "{rows}x{cols} KS={ks} K={k}");
        assert_eq!(run.c, Matrix::from_elem((rows as usize, cols as usize), 3 * k as i64));
    }
}

#[test]
fn decoupled_columns_approach_the_slowest_columns_total() {
    // A heavy group [1, 1, 1, 1] kneads into 4 words (four digits at position 0); a light group
    // [15, 0, 0, 0] into 1 (one digit at each of positions 0..3). Column 0 is heavy on even groups,
    // column 1 on odd ones. Per-group lockstep pays 4 words every group (16 x 4 = 64); decoupled
    // columns pay their own totals, 8 x 4 + 8 x 1 = 40 each, plus the fill and readout.
    let (ks, groups) = (4usize, 16usize);
    let k = ks * groups;
    let b = Matrix::from_shape_fn((k, 2), |(kk, c)| {
        let heavy = (kk / ks + c) % 2 == 0;
        match (heavy, kk % ks) {
            (true, _) => 1,
            (false, 0) => 15,
            (false, _) => 0,
        }
    });
    let a = Matrix::from_shape_fn((1, k), |(_, kk)| kk as i64 % 7 - 3);
    let run = |g: u32| run_gemm(&sac(1, 2, 8, 8, 32, ks as u32, "sign_magnitude", g), &a, &b);
    let (lockstep, decoupled) = (run(1), run(4));
    assert_eq!(lockstep.c, naive_product(&a, &b, 32));
    assert_eq!(decoupled.c, lockstep.c);
    assert!(lockstep.cycles >= 64, "lockstep {}", lockstep.cycles);
    assert!(decoupled.cycles <= 40 + 8, "decoupled {}", decoupled.cycles);
}
