//! The one path from a model run to a verdict: write the run's input beats as the stimulus and its
//! trace as the expectation, run the built testbench under its limits, and compare what the RTL did
//! with what the model says (`compare`). Every caller goes through [`check_run`]: `accelc verify` and
//! `replay` (arrays and the pruning unit), `check_jobs`, the benchmarks and the tests.

use super::compare::compare;
use super::format::{stimulus_text, Trace};
use super::harness::{self, Limits};
use crate::interface::Interface;
use crate::model::Traced;
use crate::tools::verilator::Testbench;
use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// One model run checked against the RTL.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The model's trace (also in `expected.txt`).
    pub expected: Trace,
    /// The RTL's trace (also in `got.txt`); `None` when the testbench gave none.
    pub got: Option<Trace>,
    /// One line per mismatching beat (or why there is no trace); empty: the run passed.
    pub mismatches: Vec<String>,
    pub limits: Limits,
    /// The testbench's output.
    pub log: String,
    /// Wall time of the simulation alone (not the files around it).
    pub sim_time: Duration,
}

impl Checked {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The model's cycles (edges from the first beat to the last output, inclusive).
    pub fn cycles_model(&self) -> u64 {
        self.expected.cycles()
    }

    /// The RTL's cycles, counted the same way (0 without a trace).
    pub fn cycles_rtl(&self) -> u64 {
        self.got.as_ref().map_or(0, Trace::cycles)
    }

    /// An error naming `what` and the first mismatches unless the run passed with equal cycles.
    pub fn ensure_passed(&self, what: &str) -> Result<()> {
        anyhow::ensure!(
            self.passed(),
            "{what}: the RTL differs from the model ({} mismatches): {}",
            self.mismatches.len(),
            self.mismatches.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
        );
        anyhow::ensure!(
            self.cycles_model() == self.cycles_rtl(),
            "{what}: RTL cycles {} != model cycles {}",
            self.cycles_rtl(),
            self.cycles_model()
        );
        Ok(())
    }
}

/// Runs the model run `run` through the built testbench `tb` (whose top has the interface `iface`)
/// under `limits`, in the folder `work` (created; it gets `stimulus.txt`, `expected.txt`, `got.txt`),
/// dumping a waveform to `wave` when given (`.vcd` or `.fst`, the format `tb` was built for), and
/// compares every input beat's taken edge and every output beat's edge and bits.
pub fn check_run(
    tb: &Testbench,
    iface: &Interface,
    run: &dyn Traced,
    limits: Limits,
    work: &Path,
    wave: Option<&Path>,
) -> Result<Checked> {
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let expected = Trace::expected(iface, run);
    let stim = work.join("stimulus.txt");
    std::fs::write(&stim, stimulus_text(iface, run))
        .with_context(|| format!("writing {}", stim.display()))?;
    std::fs::write(work.join("expected.txt"), expected.to_text(iface))
        .with_context(|| format!("writing {}", work.join("expected.txt").display()))?;
    let start = Instant::now();
    let out = harness::run(tb, iface, &stim, &work.join("got.txt"), limits, wave)?;
    let sim_time = start.elapsed();
    let (got, mismatches) = match out.trace {
        Ok(got) => {
            let m = compare(iface, &expected, &got);
            (Some(got), m)
        }
        Err(e) => (None, vec![format!("no trace from the testbench: {e:#}")]),
    };
    Ok(Checked { expected, got, mismatches, limits, log: out.log, sim_time })
}
