//! Energy model: per-operation energies from a documented table ([`EnergyTable`]) times the operation
//! counts ([`OpCounts`]) derived from a reference-model run ([`crate::model::GemmRun`]) and the config.
//!
//! The counts follow the hardware the model and templates describe, edge by edge (see `counts.rs`
//! for the exact rules). Energies are first-order: every counted operation costs its table figure,
//! independent of the data (no toggle-rate modelling), and idle edges cost nothing (clock-tree and
//! leakage energy are not modelled).

pub mod cli;
mod counts;
mod table;

pub use counts::{AddCount, BitCount, BufferCount, BufferKind, MulCount, OpCounts, StreamCount};
pub use table::{EnergyTable, TableRow};

use crate::config::{ArrayConfig, Config, Dataflow, PeConfig, PeKind, WeightEncoding};
use crate::model::{run_gemm, Matrix};
use serde::Serialize;

/// Energy of one run, per category and in total (picojoules).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnergyReport {
    pub format_version: u32,
    pub design: String,
    /// Multipliers (MAC PEs).
    pub multiply_pj: f64,
    /// Adders and subtractors (MAC accumulate, WS accumulator buffer, SAC segments and shift-add tree).
    pub add_pj: f64,
    /// Flip-flop writes (pipeline, accumulators, segments, results, weight registers, skew lines).
    pub register_pj: f64,
    /// Buffers: WS accumulator buffer (SRAM) and SAC activation ring (flip-flops read through a mux).
    pub buffer_pj: f64,
    /// Bits moved on the array's input and output streams (priced as the feeding/receiving SRAM).
    pub stream_pj: f64,
    /// multiply + add + register + buffer: the array's own datapath, without its I/O streams.
    pub core_pj: f64,
    /// core + stream.
    pub total_pj: f64,
    /// Useful MACs of the GEMM (M*N*K), for per-MAC figures.
    pub useful_macs: u64,
    pub counts: OpCounts,
    /// The table used, every figure with its source.
    pub table: Vec<TableRow>,
}

impl EnergyReport {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("energy report serializes")
    }
}

/// Prices `counts` with `table`.
pub fn energy(counts: &OpCounts, table: &EnergyTable) -> EnergyReport {
    let multiply_pj: f64 = counts
        .multiplies
        .iter()
        .map(|m| m.count as f64 * table.mult_pj(m.a_bits, m.b_bits))
        .fold(0.0, |acc, x| acc + x); // (an empty f64 sum is -0.0)
    let add_pj: f64 =
        counts.adds.iter().map(|a| a.count as f64 * table.add_pj(a.bits)).fold(0.0, |acc, x| acc + x);
    let register_pj: f64 = counts
        .register_bit_writes
        .iter()
        .map(|r| r.bits as f64 * table.reg_write_pj_per_bit)
        .fold(0.0, |acc, x| acc + x);
    let buffer_pj: f64 = counts
        .buffers
        .iter()
        .map(|b| match b.kind {
            BufferKind::Sram => {
                b.read_bits as f64 * table.sram_read_pj_per_bit
                    + b.write_bits as f64 * table.sram_write_pj_per_bit
            }
            BufferKind::Registers => {
                b.read_bits as f64 * table.ring_read_pj_per_bit
                    + b.write_bits as f64 * table.reg_write_pj_per_bit
            }
        })
        .fold(0.0, |acc, x| acc + x);
    let stream_pj: f64 =
        counts.streams.iter().map(|s| s.bits as f64 * table.stream_pj_per_bit).fold(0.0, |acc, x| acc + x);
    let core_pj = multiply_pj + add_pj + register_pj + buffer_pj;
    EnergyReport {
        format_version: crate::config::FORMAT_VERSION,
        design: counts.design.clone(),
        multiply_pj,
        add_pj,
        register_pj,
        buffer_pj,
        stream_pj,
        core_pj,
        total_pj: core_pj + stream_pj,
        useful_macs: counts.useful_macs,
        counts: counts.clone(),
        table: table.rows(),
    }
}

/// MAC (output-stationary) against SAC on the same GEMM: both reports and the ratios MAC / SAC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MacSacComparison {
    pub format_version: u32,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub mac: EnergyReport,
    pub sac: EnergyReport,
    pub mac_cycles: u64,
    pub sac_cycles: u64,
    /// MAC core energy / SAC core energy (>1: SAC spends less).
    pub core_ratio: f64,
    /// MAC total energy / SAC total energy.
    pub total_ratio: f64,
    /// (MAC energy x cycles) / (SAC energy x cycles), on core energy.
    pub core_edp_ratio: f64,
    pub assumptions: Vec<String>,
}

/// A `rows x cols` array config of either kind (output-stationary; SAC with sign-magnitude digits).
pub fn array_config(kind: PeKind, rows: u32, cols: u32, bits: u32, ks: u32) -> Config {
    let sac = kind == PeKind::Sac;
    Config {
        name: if sac { "sac_energy".into() } else { "mac_energy".into() },
        array: ArrayConfig {
            rows,
            cols,
            dataflow: Dataflow::OutputStationary,
            acc_depth: None,
            act_buffer_groups: None,
        },
        pe: PeConfig {
            kind,
            weight_bits: bits,
            act_bits: bits,
            acc_bits: None,
            max_reduction: 4096,
            kneading_stride: sac.then_some(ks),
            encoding: sac.then_some(WeightEncoding::SignMagnitude),
            pipeline: 0,
        },
        sparse: None,
        system: None,
    }
}

/// Runs `a . b` on an output-stationary MAC array and on a SAC array (same size, widths, accumulator;
/// KS = `ks`, sign-magnitude kneading, default ring) and prices both with `table`.
pub fn compare_mac_sac(
    rows: u32,
    cols: u32,
    bits: u32,
    ks: u32,
    a: &Matrix,
    b: &Matrix,
    table: &EnergyTable,
) -> MacSacComparison {
    let mac = array_config(PeKind::Mac, rows, cols, bits, ks);
    let sac = array_config(PeKind::Sac, rows, cols, bits, ks);
    compare_configs(&mac, &sac, a, b, table)
}

/// [`compare_mac_sac`] on any two configs (e.g. CSD kneading, another accumulator width); they must
/// both be valid and compute the same product.
pub fn compare_configs(
    mac_config: &Config,
    sac_config: &Config,
    a: &Matrix,
    b: &Matrix,
    table: &EnergyTable,
) -> MacSacComparison {
    let mac_p = mac_config.params();
    let sac_p = sac_config.params();
    let mac_run = run_gemm(&mac_p, a, b);
    let sac_run = run_gemm(&sac_p, a, b);
    assert_eq!(mac_run.c, sac_run.c, "both designs compute the same product");
    let mac = energy(&OpCounts::from_run(&mac_p, &mac_run, a.ncols()), table);
    let sac = energy(&OpCounts::from_run(&sac_p, &sac_run, a.ncols()), table);
    MacSacComparison {
        format_version: crate::config::FORMAT_VERSION,
        m: a.nrows(),
        k: a.ncols(),
        n: b.ncols(),
        core_ratio: mac.core_pj / sac.core_pj,
        total_ratio: mac.total_pj / sac.total_pj,
        core_edp_ratio: (mac.core_pj * mac_run.cycles as f64) / (sac.core_pj * sac_run.cycles as f64),
        mac_cycles: mac_run.cycles,
        sac_cycles: sac_run.cycles,
        mac,
        sac,
        assumptions: vec![
            "45 nm per-op energies (Horowitz, ISSCC 2014); see each report's table for every figure and its source".into(),
            "adders scale linearly in width from the 32-bit figure; multipliers with a_bits*b_bits from the 32x32 figure".into(),
            format!(
                "MAC: {}x{} bit multiply and {}-bit add per PE per input beat, zero-padded lanes included",
                mac_p.weight_bits, mac_p.act_bits, mac_p.acc_bits
            ),
            format!(
                "SAC: {} kneading, KS = {}; one add/sub per valid slot per row (segment width acc_bits - p = {} - p); positions-1 tree adds per PE per fold",
                sac_config.pe.encoding.map_or("-", |e| e.knead().name()),
                sac_config.pe.kneading_stride.unwrap_or(0),
                sac_p.acc_bits
            ),
            "register and ring figures are assumptions (flip-flop bit write = one adder bit), not from Horowitz".into(),
            "no data-dependent toggling, no clock tree, no leakage, no control logic".into(),
            "stream bits priced as SRAM reads/writes (8 KB, 64-bit) by the producer/consumer".into(),
        ],
    }
}

impl MacSacComparison {
    /// A human-readable summary with the assumptions.
    pub fn render(&self) -> String {
        let mut s = format!("GEMM M={} K={} N={}\n", self.m, self.k, self.n);
        for (name, r, cycles) in [("MAC", &self.mac, self.mac_cycles), ("SAC", &self.sac, self.sac_cycles)] {
            s += &format!(
                "{name}: mult {:.1} pJ, add {:.1} pJ, reg {:.1} pJ, buffer {:.1} pJ | core {:.1} pJ ({:.3} pJ/MAC), stream {:.1} pJ, total {:.1} pJ, {} cycles\n",
                r.multiply_pj,
                r.add_pj,
                r.register_pj,
                r.buffer_pj,
                r.core_pj,
                r.core_pj / r.useful_macs as f64,
                r.stream_pj,
                r.total_pj,
                cycles
            );
        }
        s += &format!(
            "MAC/SAC energy: core {:.2}x, total {:.2}x; core energy-delay product {:.2}x (Tetris claims 5.33x power efficiency)\n",
            self.core_ratio, self.total_ratio, self.core_edp_ratio
        );
        s += "assumptions:\n";
        for a in &self.assumptions {
            s += &format!("  - {a}\n");
        }
        s += "table:\n";
        for row in &self.mac.table {
            s += &format!("  {:<28} {:>10.5} {:<10} {}\n", row.name, row.value, row.unit, row.source);
        }
        s
    }
}
