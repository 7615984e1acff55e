//! Throughput as an FPGA figure of merit: MACs per cycle on a named workload (from the reference
//! model, the same run as `accelc cycles`) times the routed Fmax = GMAC/s, per kLUT and per DSP, and
//! the workload's latency at Fmax.

use super::fpga::{FpgaReport, PlaceRoute};
use crate::config::Config;
use crate::model::run_random_gemm;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The default workload: a small CNN's conv layers as GEMMs (SCALE-Sim format).
pub fn default_workload() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/topologies/tiny_cnn.csv")
}

/// A workload's work and its cycles on an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRun {
    /// The topology file's name.
    pub workload: String,
    pub layers: usize,
    pub macs: u64,
    pub cycles: u64,
}

/// Runs every layer of the topology at `path` through the config's model, as `accelc cycles` does
/// with its default seed 1.
pub fn run_workload(config: &Config, path: &Path) -> Result<WorkloadRun> {
    let p = config.params();
    if p.sparse.is_some() {
        bail!("a sparse row array runs conv1d jobs, not GEMM topologies: no throughput figure");
    }
    let layers = crate::workload::topology::read_topology(path)?;
    let (mut macs, mut cycles) = (0u64, 0u64);
    for (i, layer) in layers.iter().enumerate() {
        cycles += run_random_gemm(&p, layer.m, layer.n, layer.k, 1, i).cycles;
        macs += (layer.m * layer.n * layer.k) as u64;
    }
    let workload =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    Ok(WorkloadRun { workload, layers: layers.len(), macs, cycles })
}

/// The figures of merit of a routed design on a workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    #[serde(flatten)]
    pub run: WorkloadRun,
    pub macs_per_cycle: f64,
    pub fmax_mhz: f64,
    /// macs_per_cycle x Fmax / 1000.
    pub gmacs: f64,
    /// The workload's cycles at Fmax, microseconds.
    pub latency_us: f64,
    /// LUTs (LUT4, or LUT on Xilinx) and DSP blocks the design uses, and GMAC/s per thousand LUTs
    /// and per DSP (None without DSPs).
    pub luts: u64,
    pub gmacs_per_klut: f64,
    pub dsps: u64,
    pub gmacs_per_dsp: Option<f64>,
}

/// `run` on the routed design of `report`; None without an Fmax (not routed, no clocked path).
pub fn of(report: &FpgaReport, run: WorkloadRun) -> Option<Throughput> {
    let r = &report.result;
    let PlaceRoute::Routed { fmax_mhz: Some(fmax), .. } = r.place_route else { return None };
    let used =
        |names: &[&str]| r.resources.iter().find(|x| names.contains(&x.name.as_str())).map_or(0, |x| x.used);
    let (luts, dsps) = (used(&["LUT4", "LUT"]), used(&["DSP", "MULT18", "DSP48E1"]));
    let macs_per_cycle = run.macs as f64 / run.cycles as f64;
    let gmacs = macs_per_cycle * fmax / 1000.0;
    Some(Throughput {
        latency_us: run.cycles as f64 / fmax,
        macs_per_cycle,
        fmax_mhz: fmax,
        gmacs,
        luts,
        gmacs_per_klut: gmacs / (luts as f64 / 1000.0),
        dsps,
        gmacs_per_dsp: (dsps > 0).then(|| gmacs / dsps as f64),
        run,
    })
}

impl Throughput {
    pub fn summary(&self) -> String {
        format!(
            "  throughput on {} ({} layers, {} MACs): {:.2} MACs/cycle x {:.2} MHz = {:.3} GMAC/s, {:.3} per kLUT{}; \
             latency {:.1} us ({} cycles)\n",
            self.run.workload,
            self.run.layers,
            self.run.macs,
            self.macs_per_cycle,
            self.fmax_mhz,
            self.gmacs,
            self.gmacs_per_klut,
            self.gmacs_per_dsp.map_or(String::new(), |d| format!(", {d:.3} per DSP")),
            self.latency_us,
            self.run.cycles
        )
    }
}
