//! The gradient pruning unit that comes with a sparse row array (`templates/prune_unit.v.tera`, rendered
//! by `crate::rtl::prune_unit`, verified by `crate::verify::prune_unit`, tests/prune_unit.rs): its
//! ports as a streaming interface and its cycle model. The pruning rule itself is
//! [`crate::sparse::Pruner`] (definitions in the `crate::sparse` docs); this adds when every beat is
//! taken and leaves: one `cfg` beat (seed, tau) at edge 0, gradient i taken at edge i + 1 and leaving
//! pruned at edge i + 2.

use crate::interface::{Channel, Field, Interface};
use crate::model::{Beat, ChannelTrace, OutBeat, Traced};
use crate::sparse::{PruneParams, Pruner, SparseError, DEFAULT_DRAW_BITS};
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Why the unit cannot take `case` with `bits`-bit gradients (seed 0, tau above the largest, a
/// gradient out of range), or `Ok` when it can.
pub fn check(bits: u32, case: &PruneCase) -> Result<(), SparseError> {
    Pruner::new(PruneParams::new(bits, DEFAULT_DRAW_BITS)?, case.seed)?
        .prune(&case.grads, case.tau)
        .map(|_| ())
}

/// The unit's run on `case` with `bits`-bit gradients and the default draw width. Panics on a case the
/// unit cannot take ([`check`] says why).
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
