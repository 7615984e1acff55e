//! The adding-problem generator: shapes, one marker in each half, targets, determinism, trivial loss.

use accelc::rng::SplitMix64;
use accelc::train::adding::{adding_batch, mse, TRIVIAL_MSE};

/// Every property of a batch the generator promises; the error names the first broken one.
fn check_batch(b: &accelc::train::adding::AddingBatch, n: usize, len: usize) -> Result<(), String> {
    let x = &b.inputs;
    if (x.batch, x.channels, x.len, b.targets.len(), b.markers.len()) != (n, 2, len, n, n) {
        return Err(format!("shape {}x{}x{}, {} targets", x.batch, x.channels, x.len, b.targets.len()));
    }
    for s in 0..n {
        if let Some(v) = x.row(s, 0).iter().find(|v| !(0.0..1.0).contains(*v)) {
            return Err(format!("sample {s}: value {v} outside [0, 1)"));
        }
        let marks: Vec<usize> = (0..len).filter(|&t| x.at(s, 1, t) != 0.0).collect();
        if marks.len() != 2 || marks.iter().any(|&t| x.at(s, 1, t) != 1.0) {
            return Err(format!("sample {s}: markers at {marks:?}, expected two 1s"));
        }
        if !(marks[0] < len / 2 && marks[1] >= len / 2) {
            return Err(format!("sample {s}: markers {marks:?} not one in each half"));
        }
        if marks != b.markers[s] {
            return Err(format!("sample {s}: markers {marks:?}, reported {:?}", b.markers[s]));
        }
        let want = x.at(s, 0, marks[0]) + x.at(s, 0, marks[1]);
        if b.targets[s] != want {
            return Err(format!("sample {s}: target {} != {want}", b.targets[s]));
        }
    }
    Ok(())
}

#[test]
fn batches_have_the_promised_shape_markers_and_targets() {
    let mut rng = SplitMix64::new(7);
    for len in [2, 3, 17, 32] {
        let b = adding_batch(50, len, &mut rng);
        check_batch(&b, 50, len).unwrap();
    }
}

#[test]
fn the_batch_check_catches_planted_faults() {
    let good = adding_batch(8, 32, &mut SplitMix64::new(3));
    let mut b = good.clone();
    b.targets[5] += 0.01;
    assert!(check_batch(&b, 8, 32).unwrap_err().contains("target"));
    let mut b = good.clone();
    let m = b.markers[2][1];
    b.inputs.row_mut(2, 1)[m] = 0.0;
    b.inputs.row_mut(2, 1)[3] = 1.0; // both markers in the first half (3 != the first marker, or a count error)
    assert!(check_batch(&b, 8, 32).is_err());
    let mut b = good.clone();
    b.inputs.row_mut(0, 0)[0] = 1.5;
    assert!(check_batch(&b, 8, 32).unwrap_err().contains("outside"));
    assert!(check_batch(&good, 9, 32).unwrap_err().contains("shape"));
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = adding_batch(16, 32, &mut SplitMix64::new(11));
    let b = adding_batch(16, 32, &mut SplitMix64::new(11));
    let c = adding_batch(16, 32, &mut SplitMix64::new(12));
    assert_eq!(a, b);
    assert_ne!(a.inputs, c.inputs);
}

/// Predicting the mean target (1) gives Var(U1 + U2) = 1/6; marker positions cover both halves.
#[test]
fn the_trivial_predictor_scores_one_sixth() {
    let b = adding_batch(40_000, 32, &mut SplitMix64::new(5));
    let loss = mse(&vec![1.0; b.targets.len()], &b.targets);
    // Var of (t - 1)^2 is 1/6 * ... < 0.1: the standard error of the mean over 40000 is below 0.002.
    assert!((loss - TRIVIAL_MSE).abs() < 0.006, "trivial loss {loss}");
    let mean = b.targets.iter().sum::<f64>() / b.targets.len() as f64;
    assert!((mean - 1.0).abs() < 0.01, "mean target {mean}");
    let mut seen = [false; 32];
    b.markers.iter().for_each(|m| m.iter().for_each(|&t| seen[t] = true));
    assert!(seen.iter().all(|&s| s), "every position is marked sometimes");
}
