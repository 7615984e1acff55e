//! Parameters derived from a valid config, computed once here so that the RTL views, the model and
//! the testbench all read the same numbers.

use super::{Config, Dataflow, PeKind, WeightEncoding};
use crate::sparse::StreamFormat;
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
    /// Register stages between a MAC PE's operands and its accumulator (`pe.pipeline`): the edges of
    /// latency every output gains.
    pub pipeline: usize,
    /// Output-stationary: the minimum distance in cycles between the last beats of two folds, so that
    /// a fold's results are read out before the next fold overwrites them (max(rows, cols)).
    pub fold_gap: usize,
    pub kind: PeKind,
    /// SAC only (None for MAC): kneading and buffering parameters.
    pub sac: Option<SacParams>,
    /// sparse_1d only: row buffers and the widths of the runtime conv geometry.
    pub sparse: Option<SparseParams>,
}

/// Derived parameters of a sparse 1-D convolution row array. `Params::rows` PE rows, `Params::cols`
/// kernel taps (KT MAC lanes per PE row); stream values are `act_bits` wide (activations or output
/// gradients), dense operands `weight_bits` wide (kernel taps, or activations in the weight-gradient
/// phase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SparseParams {
    /// L: entries of each PE row's buffers (dense operand, output row, readout row).
    pub row_len: usize,
    pub max_dilation: usize,
    pub max_stride: usize,
    /// Largest padding a job may use: max_dilation * (taps - 1) (a causal conv at the largest dilation).
    pub max_pad: usize,
    /// Q: dense values per PE row per load beat.
    pub load_lanes: usize,
    /// The compressed stream's format: act_bits values in rows of L.
    pub stream: StreamFormat,
    /// Bits of the runtime fields: stride shift (log2 stride), dilation, padding, lengths (0..=L).
    pub shift_bits: u32,
    pub dilation_bits: u32,
    pub pad_bits: u32,
    pub len_bits: u32,
    /// Bits of a buffer address (0..L-1).
    pub addr_bits: u32,
    /// Bits of the load-beat counter (0..ceil(L/Q)-1).
    pub chunk_bits: u32,
    /// Width of the signed position arithmetic: holds every index the taps compute, from
    /// -max_pad to (L-1) * max_stride + max_dilation * (taps-1).
    pub pos_bits: u32,
}

impl SparseParams {
    /// Load beats of a dense row of `len` values.
    pub fn load_beats(&self, len: usize) -> usize {
        len.div_ceil(self.load_lanes).max(1)
    }
}

/// Derived parameters of a SAC array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SacParams {
    /// KS: weights kneaded together along K.
    pub ks: usize,
    pub encoding: WeightEncoding,
    /// Digit positions of a kneaded word (slots per word).
    pub positions: usize,
    /// Bits of an activation index in a slot: log2(KS).
    pub index_bits: u32,
    /// Bits of a packed slot: valid, negative, index.
    pub slot_bits: u32,
    /// Activation groups buffered per row.
    pub act_groups: usize,
}

impl SacParams {
    pub fn knead_params(&self, weight_bits: u32) -> crate::knead::KneadParams {
        crate::knead::KneadParams::new(weight_bits, self.ks, self.encoding.knead())
            .expect("validated kneading parameters")
    }

    /// Width of segment register p: acc_bits - p, so that (S_p << p) mod 2^acc_bits is exact.
    pub fn segment_bits(&self, acc_bits: u32, p: usize) -> u32 {
        acc_bits - p as u32
    }
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
            pipeline: c.pe.pipeline as usize,
            fold_gap: rows.max(cols),
            kind: c.pe.kind,
            sac: (c.pe.kind == PeKind::Sac).then(|| {
                let ks = c.pe.kneading_stride.unwrap_or(16) as usize;
                let encoding = c.pe.encoding.unwrap_or(WeightEncoding::SignMagnitude);
                let positions = crate::knead::digit_positions(c.pe.weight_bits, encoding.knead());
                let index_bits = clog2(ks as u64);
                SacParams {
                    ks,
                    encoding,
                    positions,
                    index_bits,
                    slot_bits: 2 + index_bits,
                    act_groups: c.array.act_buffer_groups.unwrap_or(2) as usize,
                }
            }),
            sparse: (c.pe.kind == PeKind::Sparse1d).then(|| {
                let s = c.sparse.as_ref().expect("validated: sparse_1d has a [sparse] table");
                let taps = cols;
                let row_len = s.row_len as usize;
                let max_dilation = s.max_dilation as usize;
                let max_stride = s.max_stride as usize;
                let max_pad = max_dilation * (taps - 1);
                let max_pos = ((row_len - 1) * max_stride + max_dilation * (taps - 1)).max(row_len + max_pad);
                let load_lanes = s.load_lanes.unwrap_or(taps as u32) as usize;
                SparseParams {
                    row_len,
                    max_dilation,
                    max_stride,
                    max_pad,
                    load_lanes,
                    stream: StreamFormat::new(c.pe.act_bits, row_len).expect("validated row length"),
                    shift_bits: clog2(max_stride as u64).max(1),
                    dilation_bits: clog2(max_dilation as u64 + 1),
                    pad_bits: clog2(max_pad as u64 + 1).max(1),
                    len_bits: clog2(row_len as u64 + 1),
                    addr_bits: clog2(row_len as u64).max(1),
                    chunk_bits: clog2(row_len.div_ceil(load_lanes) as u64).max(1),
                    // Sign bit + magnitude of the largest |position|.
                    pos_bits: clog2(max_pos as u64 + 1) + 1,
                }
            }),
        }
    }

    /// The weights the array accepts: sign-magnitude (SAC) has no -2^(bits-1).
    pub fn weight_range(&self) -> (i64, i64) {
        let (lo, hi) = crate::bits::signed_range(self.weight_bits);
        match self.kind {
            PeKind::Mac | PeKind::Sparse1d => (lo, hi),
            PeKind::Sac => (-hi, hi),
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
