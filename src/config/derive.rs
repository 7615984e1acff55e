//! Parameters derived from a valid config, computed once here so that the RTL views, the model and
//! the testbench all read the same numbers.

use super::{Config, Dataflow};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Params {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub dataflow: Dataflow,
    pub weight_bits: u32,
    pub act_bits: u32,
    /// weight_bits + act_bits: the exact width of one signed product.
    pub prod_bits: u32,
    /// Accumulator width; sums wrap modulo 2^acc_bits.
    pub acc_bits: u32,
    /// Weight-stationary accumulator buffer rows (0 for output-stationary).
    pub acc_depth: usize,
    /// Output-stationary: the minimum distance in cycles between the last beats of two folds, so that
    /// a fold's results are read out before the next fold overwrites them (max(rows, cols)).
    pub fold_gap: usize,
}

/// ceil(log2(n)) for n >= 1.
pub fn clog2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

impl Params {
    pub fn derive(c: &Config) -> Params {
        let rows = c.array.rows as usize;
        let cols = c.array.cols as usize;
        let prod_bits = c.pe.weight_bits + c.pe.act_bits;
        let acc_bits =
            c.pe.acc_bits.unwrap_or_else(|| (prod_bits + clog2(c.pe.max_reduction as u64)).min(64));
        let acc_depth = match c.array.dataflow {
            Dataflow::OutputStationary => 0,
            Dataflow::WeightStationary => {
                c.array.acc_depth.map(|d| d as usize).unwrap_or_else(|| (rows + cols).next_power_of_two())
            }
        };
        Params {
            name: c.name.clone(),
            rows,
            cols,
            dataflow: c.array.dataflow,
            weight_bits: c.pe.weight_bits,
            act_bits: c.pe.act_bits,
            prod_bits,
            acc_bits,
            acc_depth,
            fold_gap: rows.max(cols),
        }
    }

    /// Bits needed to index the WS accumulator buffer (at least 1, for a legal Verilog vector).
    pub fn acc_addr_bits(&self) -> u32 {
        clog2(self.acc_depth as u64).max(1)
    }

    /// Bits of the OS fold-gap counter (counts 0..=fold_gap).
    pub fn gap_bits(&self) -> u32 {
        clog2(self.fold_gap as u64 + 1).max(1)
    }
}
