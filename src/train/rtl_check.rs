//! The RTL cross-check of a demo: the sampled jobs (the busiest forward, input-gradient and
//! weight-gradient job of one layer in the pruned run's last step) through the generated array in Verilator,
//! compared with the model beat for beat and edge for edge ([`crate::verify::check_jobs`]).

use super::array_engine::stream_nonzeros;
use super::demo::{sample_jobs, DemoReport};
use crate::config::Config;
use crate::verify::{check_jobs, CaseResult, VerifyOptions};
use anyhow::Result;

/// Runs the demo's sample through the RTL of `config` (the config the demo trained on).
pub fn rtl_check(config: &Config, report: &DemoReport, opts: &VerifyOptions) -> Result<CaseResult> {
    anyhow::ensure!(config.name == report.config, "the sample ran on {}, not {}", report.config, config.name);
    check_jobs(config, &sample_jobs(report), "train_demo_sample", opts)
}

/// One line for the terminal: PASS/FAIL, the jobs' phases and sizes, cycles model vs RTL.
pub fn describe(report: &DemoReport, r: &CaseResult) -> String {
    let jobs: Vec<String> = sample_jobs(report)
        .iter()
        .map(|j| format!("{} ({} rows, {} nonzeros)", j.phase.name(), j.rows.len(), stream_nonzeros(j)))
        .collect();
    let verdict = if r.mismatches.is_empty() { "PASS" } else { "FAIL" };
    let mut line = format!(
        "rtl check (layer {}, pruned run, last step: {}): {verdict}, {} mismatches, cycles model={} rtl={}",
        report.pruned.sample.layer,
        jobs.join(", "),
        r.mismatches.len(),
        r.cycles_model,
        r.cycles_rtl
    );
    if let Some(dir) = &r.failure_dir {
        line += &format!("; replay: accelc replay {}", dir.display());
    }
    line
}
