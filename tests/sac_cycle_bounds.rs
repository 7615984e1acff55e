//! The SAC array's cycle bounds from kneaded weights (`accelc::model::sac_array::sac_bounds`, which
//! `benches/sac.rs` reports) against a hand-counted example and against the cycle-exact model: they
//! are lower bounds for every ring, exact up to the pipeline's `rows + 2` edges on one fold, and within
//! `rows + 2` edges per fold on many. Planted wrong bounds are shown to fail these checks.

use accelc::config::{Config, Params};
use accelc::knead::{knead_matrix, KneadedMatrix};
use accelc::model::sac_array::{sac_bounds, SacBounds};
use accelc::model::{run_gemm, Matrix};
use accelc::rng::SplitMix64;

fn sac(rows: usize, cols: usize, ks: usize, ring: usize) -> Params {
    let text = format!(
        "name = \"t\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"output_stationary\"\nact_buffer_groups = {ring}\n\
         [pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nkneading_stride = {ks}\nencoding = \"sign_magnitude\"\n"
    );
    Config::parse("t.toml", &text).expect("valid SAC config").params()
}

fn knead(p: &Params, b: &Matrix) -> KneadedMatrix {
    knead_matrix(b.view(), &p.sac.as_ref().unwrap().knead_params(p.weight_bits)).unwrap()
}

type BoundsFn = fn(&KneadedMatrix, usize) -> SacBounds;

/// Every way `bounds` disagrees with the hand-counted example and with the model on random cases.
fn violations(bounds: BoundsFn) -> Vec<String> {
    let mut v = Vec::new();
    // Hand-counted, KS = 2, 2 columns, sign-magnitude: a group takes max over bit positions of the
    // weights with that bit set words ([1, 1]: 2 words, [1, 2]: 1, [3, 3]: 2, [0, 0]: none, but one
    // empty beat). Columns (groups): n0 ([1,2], [0,0]), n1 ([0,0], [3,3]), n2 ([1,2], [1,2]).
    // Fold 0 (n0, n1): per group max(1, 1) + max(1, 2) = 3; fold 1 (n2 and an idle column): 1 + 1 = 2;
    // lockstep 5. Physical column 0: n0 + n2 = 2 + 2; column 1: n1 (3) + the idle column's 2 empty
    // beats = 5. Two all-zero groups.
    let b = Matrix::from_shape_vec((4, 3), vec![1, 0, 1, 2, 0, 2, 0, 3, 1, 0, 3, 2]).unwrap();
    let want = SacBounds { lockstep: 5, column: 5, zero_group_beats: 2 };
    let got = bounds(&knead(&sac(1, 2, 2, 1), &b), 2);
    if got != want {
        v.push(format!("hand example: {got:?}, counted {want:?}"));
    }
    let mut rng = SplitMix64::new(5);
    for case in 0..250 {
        let (rows, cols) = (rng.range_usize(1, 6), rng.range_usize(1, 6));
        let ks = [2usize, 4, 8][rng.range_usize(0, 2)];
        let (k, n) = (rng.range_usize(1, 48), rng.range_usize(1, 3 * cols));
        let zero = rng.range_usize(0, 100) as u64;
        let b =
            Matrix::from_shape_fn(
                (k, n),
                |_| if rng.below(100) < zero { 0 } else { rng.range_i64(-127, 127) },
            );
        let a = Matrix::from_shape_fn((rows, k), |_| rng.range_i64(-128, 127));
        let bd = bounds(&knead(&sac(rows, cols, ks, 1), &b), cols);
        let (folds, groups) = (n.div_ceil(cols) as u64, k.div_ceil(ks));
        let pipeline = rows as u64 + 2;
        let what = format!("case {case} ({rows}x{cols}, KS {ks}, K {k}, N {n}): {bd:?}");
        for ring in [1, 2, 4, 8] {
            let cycles = run_gemm(&sac(rows, cols, ks, ring), &a, &b).cycles;
            if cycles < bd.column {
                v.push(format!("{what}: ring {ring} took {cycles} cycles, below the column bound"));
            }
            if ring == 1 && cycles < bd.lockstep {
                v.push(format!("{what}: lockstep took {cycles} cycles, below the lockstep bound"));
            }
            if ring == 1 && cycles > bd.lockstep + folds * pipeline {
                v.push(format!(
                    "{what}: lockstep took {cycles} cycles, more than the bound + {pipeline} per fold"
                ));
            }
            if folds == 1 && ring == 1 && cycles != bd.lockstep + pipeline {
                v.push(format!(
                    "{what}: one fold in lockstep took {cycles} cycles, not the bound + {pipeline}"
                ));
            }
            if folds == 1 && ring >= groups && cycles != bd.column + pipeline {
                v.push(format!("{what}: one fold, ring {ring} >= {groups} groups, took {cycles}, not the column bound + {pipeline}"));
            }
        }
    }
    v
}

#[test]
fn sac_cycle_bounds_agree_with_hand_counts_and_the_model() {
    let v = violations(sac_bounds);
    assert!(v.is_empty(), "{} violations, first: {:#?}", v.len(), &v[..v.len().min(5)]);
}

/// The right bounds with one mistake each: the checks above must reject every one.
#[test]
fn planted_wrong_bounds_are_caught() {
    fn no_empty_beat(m: &KneadedMatrix, cols: usize) -> SacBounds {
        // An all-zero group costs nothing (the per-group ideal, not the array).
        let mut b = sac_bounds(m, cols);
        b.lockstep -= b.zero_group_beats.min(b.lockstep);
        b
    }
    fn no_idle_columns(m: &KneadedMatrix, cols: usize) -> SacBounds {
        // A partial tile's idle columns forgotten in the column bound.
        let mut per_col = vec![0u64; cols];
        for (n, col) in m.columns.iter().enumerate() {
            per_col[n % cols] += col.groups.iter().map(|g| g.words.len().max(1) as u64).sum::<u64>();
        }
        SacBounds { column: per_col.into_iter().max().unwrap_or(0), ..sac_bounds(m, cols) }
    }
    fn lockstep_per_fold(m: &KneadedMatrix, cols: usize) -> SacBounds {
        // Lockstep as the slowest column's total per fold (that is the decoupled array's cost).
        let total = |n: usize| m.columns[n].groups.iter().map(|g| g.words.len().max(1) as u64).sum::<u64>();
        let lockstep =
            (0..m.n).step_by(cols).map(|n0| (n0..(n0 + cols).min(m.n)).map(total).max().unwrap()).sum();
        SacBounds { lockstep, ..sac_bounds(m, cols) }
    }
    fn column_per_fold(m: &KneadedMatrix, cols: usize) -> SacBounds {
        // Columns that cannot run ahead across folds: a fold-by-fold sum (an upper figure, not a bound).
        SacBounds { column: lockstep_per_fold(m, cols).lockstep, ..sac_bounds(m, cols) }
    }
    fn off_by_one(m: &KneadedMatrix, cols: usize) -> SacBounds {
        let b = sac_bounds(m, cols);
        SacBounds { lockstep: b.lockstep + 1, ..b }
    }
    let planted: [(&str, BoundsFn); 5] = [
        ("no empty beat for all-zero groups", no_empty_beat),
        ("idle columns forgotten", no_idle_columns),
        ("lockstep per fold, not per group", lockstep_per_fold),
        ("column bound per fold", column_per_fold),
        ("lockstep off by one", off_by_one),
    ];
    for (what, f) in planted {
        assert!(!violations(f).is_empty(), "the planted wrong bound ({what}) passed the checks");
    }
}
