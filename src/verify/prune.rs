//! Verification of the gradient pruning unit that comes with a sparse row array: its interface, the
//! beats the model ([`crate::sparse::Pruner`]) expects, and generated cases (seeds, thresholds from 0
//! to the largest, gradients over the whole range and around ±tau).

use super::rng::SplitMix64;
use crate::config::Params;
use crate::interface::{Channel, Field, Interface};
use crate::model::{Beat, ChannelTrace, OutBeat, Traced};
use crate::sparse::{qmax, PruneParams, Pruner, DEFAULT_DRAW_BITS};

/// The pruning unit's ports as a streaming interface (for the generic testbench).
pub fn interface(bits: u32) -> Interface {
    let chan = |name: &str, fields: Vec<Field>| Channel {
        name: name.into(),
        valid: format!("{name}_valid"),
        ready: Some(format!("{name}_ready")),
        fields,
    };
    let number = |port: &str, bits: u32, meaning: &str| Field::unsigned(port, bits, meaning);
    let signed = |port: &str, bits: u32, meaning: &str| Field::signed(port, 1, bits, meaning);
    Interface {
        inputs: vec![
            chan(
                "cfg",
                vec![number("cfg_seed", 32, "nonzero LFSR seed"), number("cfg_tau", bits - 1, "threshold")],
            ),
            chan("g", vec![signed("g_data", bits, "gradient")]),
        ],
        output: Channel {
            name: "out".into(),
            valid: "out_valid".into(),
            ready: None,
            fields: vec![signed("out_data", bits, "pruned gradient")],
        },
        protocol: vec![
            "One cfg beat (seed, tau), then gradients on g, one per edge; each leaves pruned one edge later."
                .into(),
        ],
    }
}

/// One pruning case: seed, threshold, gradients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneCase {
    pub seed: u32,
    pub tau: u64,
    pub grads: Vec<i64>,
    pub description: String,
}

/// The model's beats for a case: cfg taken at edge 0, gradient i at edge i + 1, leaving at i + 2.
pub struct PruneRun {
    inputs: Vec<ChannelTrace>,
    outputs: Vec<OutBeat>,
    cycles: u64,
}

impl Traced for PruneRun {
    fn input_traces(&self) -> &[ChannelTrace] {
        &self.inputs
    }
    fn output_beats(&self) -> &[OutBeat] {
        &self.outputs
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

pub fn run(bits: u32, case: &PruneCase) -> PruneRun {
    let mut pruner = Pruner::new(PruneParams::new(bits, DEFAULT_DRAW_BITS).expect("bits checked"), case.seed)
        .expect("nonzero seed");
    let pruned = pruner.prune(&case.grads, case.tau).expect("case values fit");
    let n = case.grads.len() as u64;
    let cfg = ChannelTrace {
        name: "cfg".into(),
        beats: vec![Beat { fields: vec![vec![i64::from(case.seed)], vec![case.tau as i64]] }],
        taken_at: vec![0],
    };
    let g = ChannelTrace {
        name: "g".into(),
        beats: case.grads.iter().map(|&v| Beat { fields: vec![vec![v]] }).collect(),
        taken_at: (1..=n).collect(),
    };
    let outputs =
        pruned.iter().enumerate().map(|(i, &v)| OutBeat { cycle: i as u64 + 2, lanes: vec![v] }).collect();
    PruneRun { inputs: vec![cfg, g], outputs, cycles: n + 2 }
}

/// Case `index` of `seed`: thresholds 0, the largest, and random; gradients uniform over the range,
/// small (most below tau), and at the rule's edges (0, ±tau, ±(tau - 1), the most negative value).
pub fn generate(p: &Params, seed: u64, index: usize) -> PruneCase {
    let bits = p.act_bits;
    let mut rng = SplitMix64::for_case(seed ^ 0x9_5EED, index);
    let (lo, hi) = (-(1i64 << (bits - 1)), qmax(bits));
    let n = rng.range_usize(1, 64);
    let lfsr_seed = rng.range_i64(1, u32::MAX as i64) as u32;
    let (tau, kind) = match index % 4 {
        0 => (0, "tau = 0"),
        1 => (hi as u64, "largest tau"),
        _ => (rng.range_i64(1, hi) as u64, "random tau"),
    };
    let t = tau as i64;
    let (grads, what): (Vec<i64>, &str) = match index % 3 {
        0 => ((0..n).map(|_| rng.range_i64(lo, hi)).collect(), "uniform"),
        1 => ((0..n).map(|_| rng.range_i64(-t.max(1), t.max(1)).clamp(lo, hi)).collect(), "small"),
        _ => {
            let edges = [0, t, -t, (t - 1).max(0), -(t - 1).max(0), lo, hi, 1, -1];
            ((0..n).map(|_| edges[rng.range_usize(0, edges.len() - 1)].clamp(lo, hi)).collect(), "edges")
        }
    };
    PruneCase {
        seed: lfsr_seed,
        tau,
        grads,
        description: format!("prune case {index} [{kind}, {what}] n={n} tau={tau} seed={lfsr_seed:#x}"),
    }
}
