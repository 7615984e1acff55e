//! The per-operation energy table. Every figure is a field the user can replace; `rows()` lists each
//! with its unit and source.
//!
//! Source of the published figures: M. Horowitz, "Computing's energy problem (and what we can do about
//! it)", ISSCC 2014, pp. 10-14, table of 45 nm, 0.9 V energies: integer add 8 bit 0.03 pJ, 32 bit 0.1 pJ;
//! integer multiply 8 bit 0.2 pJ, 32 bit 3.1 pJ; FP add 16 bit 0.4 pJ, 32 bit 0.9 pJ; FP multiply
//! 16 bit 1.1 pJ, 32 bit 3.7 pJ; SRAM (cache) read, 64 bit: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ;
//! DRAM 1.3-2.6 nJ per 64 bits. (FP and the larger memories are listed for reference; accelc's arrays
//! are integer.)
//!
//! Scaling to other widths:
//! - an adder of w bits costs `add_32b_pj * w / 32` (ripple/carry-lookahead energy is linear in
//!   width). Check: 8 bits gives 0.025 pJ against the published 0.03 pJ.
//! - a multiplier of a x b bits costs `mult_32b_pj * a * b / 1024` (array multipliers are quadratic:
//!   a*b partial-product bits). Check: 8 x 8 gives 0.194 pJ against the published 0.2 pJ.
//! - SRAM: the 8 KB, 64-bit read per bit (10 / 64 pJ); writes are taken equal to reads (assumption).
//! - flip-flop bit write and activation-ring (register + mux) bit read: NOT in Horowitz's table; we
//!   assume one adder bit's energy (0.1 / 32 pJ) for each, a stated, replaceable assumption.
//! - stream bits: priced as the producer's/consumer's SRAM access per bit (10 / 64 pJ): the operands
//!   come from, and results go to, an on-chip buffer of that size.

use serde::{Deserialize, Serialize};

/// Per-operation energies in picojoules. Replace any field to use another technology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyTable {
    /// Energy of one 32-bit integer add (Horowitz 2014, 45 nm: 0.1 pJ). Scaled linearly in width.
    pub add_32b_pj: f64,
    /// Energy of one 32 x 32-bit integer multiply (Horowitz 2014, 45 nm: 3.1 pJ). Scaled with a*b.
    pub mult_32b_pj: f64,
    /// One flip-flop bit written (assumption: one adder bit, 0.1 / 32 pJ).
    pub reg_write_pj_per_bit: f64,
    /// One bit read from an SRAM buffer (Horowitz 2014: 8 KB, 64-bit read 10 pJ -> 10/64 pJ).
    pub sram_read_pj_per_bit: f64,
    /// One bit written to an SRAM buffer (assumption: equal to a read).
    pub sram_write_pj_per_bit: f64,
    /// One bit read from the SAC activation ring (flip-flops through a KS:1 mux; assumption: one adder bit).
    pub ring_read_pj_per_bit: f64,
    /// One bit on an input or output stream (assumption: one SRAM bit access, 10/64 pJ).
    pub stream_pj_per_bit: f64,
}

impl Default for EnergyTable {
    fn default() -> Self {
        EnergyTable::horowitz_45nm()
    }
}

/// One table entry as reported: name, value, unit and source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRow {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub source: String,
}

pub const HOROWITZ: &str = "M. Horowitz, Computing's energy problem, ISSCC 2014 (45 nm, 0.9 V)";

impl EnergyTable {
    /// The 45 nm table (Horowitz, ISSCC 2014) with the stated assumptions for registers and streams.
    pub fn horowitz_45nm() -> Self {
        EnergyTable {
            add_32b_pj: 0.1,
            mult_32b_pj: 3.1,
            reg_write_pj_per_bit: 0.1 / 32.0,
            sram_read_pj_per_bit: 10.0 / 64.0,
            sram_write_pj_per_bit: 10.0 / 64.0,
            ring_read_pj_per_bit: 0.1 / 32.0,
            stream_pj_per_bit: 10.0 / 64.0,
        }
    }

    /// An integer adder/subtractor of `bits` bits: linear in width.
    pub fn add_pj(&self, bits: u32) -> f64 {
        self.add_32b_pj * bits as f64 / 32.0
    }

    /// An `a_bits x b_bits` integer multiplier: proportional to the partial-product bits.
    pub fn mult_pj(&self, a_bits: u32, b_bits: u32) -> f64 {
        self.mult_32b_pj * (a_bits as f64 * b_bits as f64) / 1024.0
    }

    /// Every figure with its unit and source.
    pub fn rows(&self) -> Vec<TableRow> {
        let row = |name: &str, value: f64, unit: &str, source: String| TableRow {
            name: name.into(),
            value,
            unit: unit.into(),
            source,
        };
        vec![
            row(
                "add_32b",
                self.add_32b_pj,
                "pJ",
                format!("{HOROWITZ}: 32-bit add 0.1 pJ; w bits = x*w/32 (8-bit: published 0.03)"),
            ),
            row(
                "mult_32b",
                self.mult_32b_pj,
                "pJ",
                format!("{HOROWITZ}: 32-bit mult 3.1 pJ; a x b bits = x*a*b/1024 (8x8: published 0.2)"),
            ),
            row(
                "reg_write",
                self.reg_write_pj_per_bit,
                "pJ/bit",
                "assumption: one flip-flop bit write = one adder bit (0.1/32 pJ)".into(),
            ),
            row(
                "sram_read",
                self.sram_read_pj_per_bit,
                "pJ/bit",
                format!("{HOROWITZ}: 8 KB SRAM 64-bit read 10 pJ, /64"),
            ),
            row("sram_write", self.sram_write_pj_per_bit, "pJ/bit", "assumption: SRAM write = read".into()),
            row(
                "ring_read",
                self.ring_read_pj_per_bit,
                "pJ/bit",
                "assumption: register + mux read = one adder bit (0.1/32 pJ)".into(),
            ),
            row(
                "stream",
                self.stream_pj_per_bit,
                "pJ/bit",
                format!("assumption: one 8 KB SRAM bit access at the producer/consumer ({HOROWITZ})"),
            ),
        ]
    }
}
