//! A short training run on the array's model learns the adding problem well below the trivial loss, with
//! and without gradient pruning, and leaves a sample of real jobs the array (and so the RTL) can run.

mod common;

use accelc::model::sparse_array::{Job, Phase};
use accelc::train::adding::TRIVIAL_MSE;
use accelc::train::array_engine::stream_nonzeros;
use accelc::train::demo::{train_run, DemoOptions, RunReport};

/// Small enough for the unoptimised test build: T = 8, two blocks, a constant learning rate.
fn options() -> DemoOptions {
    DemoOptions {
        seed: 1,
        steps: 150,
        batch: 16,
        lr: 0.01,
        lr_floor: 1.0,
        hidden: 8,
        len: 8,
        dilations: vec![1, 2],
        log_every: 25,
        eval_samples: 64,
        dense_every: 50,
        ..DemoOptions::default()
    }
}

/// The run learned: its final held-out loss is below `fraction` of the trivial predictor's.
fn learned(run: &RunReport, fraction: f64) -> Result<(), String> {
    let curve: Vec<String> = run.curve.iter().map(|c| format!("{}:{:.4}", c.step, c.eval_loss)).collect();
    if run.final_loss < fraction * TRIVIAL_MSE {
        Ok(())
    } else {
        Err(format!(
            "final loss {:.4} not below {fraction} x {TRIVIAL_MSE:.3}; curve {}",
            run.final_loss,
            curve.join(" ")
        ))
    }
}

#[test]
fn short_runs_learn_the_adding_problem_with_and_without_pruning() {
    let p = common::preset("sparse_8x3_l32_i16").params();
    let o = options();
    let mut quiet = |_: bool, _: &accelc::train::demo::CurvePoint| {};
    let plain = train_run(&p, &o, false, &mut quiet).unwrap();
    let pruned = train_run(&p, &o, true, &mut quiet).unwrap();
    learned(&plain, 0.3).unwrap();
    learned(&pruned, 0.3).unwrap();
    // The checker fails on a run that did not learn (its first curve point).
    let mut early = plain.clone();
    early.final_loss = early.curve[0].eval_loss.max(TRIVIAL_MSE);
    assert!(learned(&early, 0.3).is_err());

    // Pruning did something: more zeros in the streamed output gradients, fewer backward cycles.
    let zeros = |r: &RunReport| r.layers.iter().map(|l| l.grad_zeros_pruned).sum::<u64>();
    assert!(zeros(&pruned) > zeros(&plain));
    for l in &pruned.layers {
        assert!(l.grad_sparsity() >= 0.85, "every layer near the 0.9 target or above: {}", l.grad_sparsity());
    }
    let back = |r: &RunReport| {
        r.phase_total(Phase::InputGradient).cycles + r.phase_total(Phase::WeightGradient).cycles
    };
    assert!(back(&pruned) < back(&plain));
    // The measured steps ran dense as well, and dense costs more.
    assert_eq!(plain.dense_steps, 3);
    let fwd = plain.phase_total(Phase::Forward);
    assert!(fwd.dense_cycles > fwd.measured_cycles && fwd.measured_cycles < fwd.cycles);

    // The sample: one job per phase, from the second block's first conv, runnable, serializable.
    assert_eq!(pruned.sample.layer, 2);
    let jobs = pruned.sample.jobs();
    assert_eq!(jobs.iter().map(|j| j.phase).collect::<Vec<_>>(), Phase::ALL.to_vec());
    for j in &jobs {
        assert!(j.problems(&p).is_empty(), "{:?}", j.problems(&p));
        assert!(stream_nonzeros(j) > 0, "the busiest {} job carries work", j.phase.name());
    }
    let text = serde_json::to_string(&jobs).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Job>>(&text).unwrap(), jobs);
}
