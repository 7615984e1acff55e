//! The streaming interface of a generated top: which channels it has, their ports, widths and meaning.
//! One description serves the RTL views, the manifest, the model's beat streams and the testbench.

use crate::config::{Dataflow, Params, SacParams, SparseParams};
use serde::Serialize;

/// How the bits of one lane are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneEncoding {
    /// A two's-complement number.
    Signed,
    /// A non-negative number (lengths, shifts, phase codes).
    Unsigned,
    /// A 1-bit flag.
    Flag,
    /// Bit fields packed into one word (a kneaded word's slots, a stream entry); its meaning says
    /// which bits are which. Not a number: never sign-extend it.
    Packed,
}

/// One data port of a channel: `lanes` values of `lane_bits` each, lane 0 in the low bits, each
/// read as its `encoding` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub port: String,
    pub lanes: usize,
    pub lane_bits: u32,
    pub encoding: LaneEncoding,
    pub meaning: String,
}

impl Field {
    pub fn new(port: &str, lanes: usize, lane_bits: u32, encoding: LaneEncoding, meaning: &str) -> Field {
        Field { port: port.into(), lanes, lane_bits, encoding, meaning: meaning.into() }
    }

    /// `lanes` two's-complement numbers.
    pub fn signed(port: &str, lanes: usize, lane_bits: u32, meaning: &str) -> Field {
        Field::new(port, lanes, lane_bits, LaneEncoding::Signed, meaning)
    }

    /// One non-negative number.
    pub fn unsigned(port: &str, lane_bits: u32, meaning: &str) -> Field {
        Field::new(port, 1, lane_bits, LaneEncoding::Unsigned, meaning)
    }

    /// One 1-bit flag.
    pub fn flag(port: &str, meaning: &str) -> Field {
        Field::new(port, 1, 1, LaneEncoding::Flag, meaning)
    }

    /// `lanes` words of packed bit fields.
    pub fn packed(port: &str, lanes: usize, lane_bits: u32, meaning: &str) -> Field {
        Field::new(port, lanes, lane_bits, LaneEncoding::Packed, meaning)
    }

    /// True for two's-complement lanes (the manifest's `signed`).
    pub fn is_signed(&self) -> bool {
        self.encoding == LaneEncoding::Signed
    }

    pub fn width(&self) -> u32 {
        self.lanes as u32 * self.lane_bits
    }
}

/// A valid/ready channel (`ready` is absent on outputs: the consumer must take every beat).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    pub name: String,
    pub valid: String,
    pub ready: Option<String>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    pub inputs: Vec<Channel>,
    pub output: Channel,
    /// The handshake and beat order, in words (goes into the manifest and README).
    pub protocol: Vec<String>,
}

impl Interface {
    pub fn of(p: &Params) -> Interface {
        let a_lanes = Field::signed("", p.rows, p.act_bits, "");
        let out = Channel {
            name: "out".into(),
            valid: "out_valid".into(),
            ready: None,
            fields: vec![Field::signed(
                "out_data",
                p.cols,
                p.acc_bits,
                "one row of the output tile: lane c is column c, signed, modulo 2^acc_bits",
            )],
        };
        let common = [
            "Synchronous active-high reset `rst`; all registers update on the rising edge of `clk`."
                .to_string(),
            "Edges are numbered from 0: edge 0 is the first rising edge of `clk` at which `rst` is 0 (the \
             testbench holds rst = 1 for 4 edges, releases it while clk is low and offers beats from edge 0 on)."
                .to_string(),
            "An input beat is taken at a rising edge where its channel's valid and ready are both 1; \
             valid must stay 1 and the payload stable until then."
                .to_string(),
            "Outputs have no ready: the consumer takes a beat at every edge where out_valid is 1 (an output \
             beat leaves at edge t when out_valid is 1 just before edge t)."
                .to_string(),
        ];
        if let Some(sp) = &p.sparse {
            return Interface::sparse(p, sp, common.to_vec());
        }
        // GEMM arrays (MAC and SAC) take tiles.
        let common: Vec<String> = common
            .into_iter()
            .chain([
                "Partial tiles are zero-padded by the producer: lanes past M, N or K carry 0.".to_string()
            ])
            .collect();
        if let Some(sac) = &p.sac {
            return Interface::sac(p, sac, out, common);
        }
        match p.dataflow {
            Dataflow::OutputStationary => Interface {
                inputs: vec![Channel {
                    name: "in".into(),
                    valid: "in_valid".into(),
                    ready: Some("in_ready".into()),
                    fields: vec![
                        Field { port: "in_a".into(), meaning: "A[m0+r][k] for row r of the output tile, lane r".into(), ..a_lanes },
                        Field::signed("in_b", p.cols, p.weight_bits, "B[k][n0+c] for column c of the output tile, lane c"),
                        Field::flag("in_last", "1 on the beat carrying the last k of a fold"),
                    ],
                }],
                output: out,
                protocol: common
                    .into_iter()
                    .chain([
                        "A fold computes one rows x cols output tile (one M tile x N tile of C) over all of K: it is K beats on `in`, k = 0..K-1, the last with in_last = 1.".to_string(),
                        format!(
                            "Folds follow each other without bubbles; in_ready drops only on a last beat that comes \
                             less than {} cycles after the previous fold's last beat (the result readout time).",
                            p.fold_gap
                        ),
                        format!(
                            "After a fold's last beat is taken at edge L, its output rows r = 0..{} leave at edges L + r + {}.",
                            p.rows - 1,
                            p.cols + 1 + p.pipeline
                        ),
                    ])
                    .collect(),
            },
            Dataflow::WeightStationary => Interface {
                inputs: vec![
                    Channel {
                        name: "w".into(),
                        valid: "w_valid".into(),
                        ready: Some("w_ready".into()),
                        fields: vec![Field::signed(
                            "w_data",
                            p.cols,
                            p.weight_bits,
                            "one row of the next fold's weight tile: lane c is B[k0+r][n0+c]; beats r = 0..rows-1 in order",
                        )],
                    },
                    Channel {
                        name: "a".into(),
                        valid: "a_valid".into(),
                        ready: Some("a_ready".into()),
                        fields: vec![
                            Field { port: "a_data".into(), meaning: "A[m][k0+r], lane r".into(), ..a_lanes },
                            Field::flag("a_first", "1 on the first row of a fold: switches the PEs to the loaded weights"),
                            Field::flag("a_acc", "1: add this row's partial sums to the accumulator buffer; 0: start from zero"),
                            Field::flag("a_emit", "1: send the sum to `out` (last k fold) instead of storing it"),
                        ],
                    },
                ],
                output: out,
                protocol: common
                    .into_iter()
                    .chain([
                        format!(
                            "A fold is one K tile of one output tile: {} weight beats on `w` (the rows x cols tile \
                             B[k0..k0+{}][n0..n0+{}]) and 1..{} row beats on `a` (the rows of A of the M block, for \
                             that K range), the first with a_first = 1; row i of a fold uses accumulator row i.",
                            p.rows, p.rows, p.cols, p.acc_depth
                        ),
                        "The K folds of one output tile (same M block and N tile, k0 = 0, rows, 2 rows, ...) are \
                         consecutive and carry the same number of A rows: the accumulator buffer holds one tile's \
                         partial sums. a_acc = 0 on its first K fold and 1 on the others; a_emit = 1 on its last K \
                         fold and 0 on the others (a single K fold: a_acc = 0, a_emit = 1). Both flags are equal on \
                         every row of a fold."
                            .to_string(),
                        "The next fold's weights load while the current fold streams (double-buffered); w_ready \
                         drops until the PEs have switched, a_ready drops on a first row until its weights are loaded."
                            .to_string(),
                        format!(
                            "An a beat taken at edge t with a_emit = 1 leaves on `out` at edge t + {}.",
                            p.rows + p.cols + p.pipeline
                        ),
                    ])
                    .collect(),
            },
        }
    }
}

impl Interface {
    /// SAC array: one activation channel (a group of KS activations for every row per beat) and one
    /// kneaded-word channel per column.
    fn sac(p: &Params, sac: &SacParams, output: Channel, common: Vec<String>) -> Interface {
        let mut inputs = vec![Channel {
            name: "a".into(),
            valid: "a_valid".into(),
            ready: Some("a_ready".into()),
            fields: vec![Field::signed(
                "a_data",
                p.rows * sac.ks,
                p.act_bits,
                "one activation group for every row: lane r*KS + i is A[m0+r][g*KS + i]",
            )],
        }];
        for c in 0..p.cols {
            inputs.push(Channel {
                name: format!("w{c}"),
                valid: format!("w{c}_valid"),
                ready: Some(format!("w{c}_ready")),
                fields: vec![
                    Field::packed(
                        &format!("w{c}_word"),
                        sac.positions,
                        sac.slot_bits,
                        "a kneaded word for column c: slot p = {valid (bit 0), negative (bit 1), activation index}",
                    ),
                    Field::flag(&format!("w{c}_group_end"), "1 on the last word of a kneading group"),
                    Field::flag(&format!("w{c}_fold_end"), "1 on the last word of the fold's last group"),
                ],
            });
        }
        let protocol = common
            .into_iter()
            .chain([
                format!(
                    "A fold computes one rows x cols output tile over G = ceil(K / {}) kneading groups: G beats on `a` \
                     and, on every `w<c>`, the kneaded words of B[:, n0+c] group by group (an all-zero group is \
                     one empty word), group_end on each group's last word and fold_end on the fold's last.",
                    sac.ks
                ),
                format!(
                    "Each row buffers {} activation groups; a column runs ahead of the slowest one by up to that many \
                     groups, and `a` waits until every column has finished the group in the slot it refills.",
                    sac.act_groups
                ),
                format!(
                    "When every column has finished a fold, its rows leave one per edge (row 0 first), starting \
                     {} edges after the last column's fold_end word; a column waits with its next fold_end word \
                     until the previous fold's rows have left.",
                    2 + p.pipeline
                ),
            ])
            .collect();
        Interface { inputs, output, protocol }
    }
}

impl Interface {
    /// Sparse 1-D row array: a broadcast entry stream, the dense operands with the job geometry, and
    /// the output rows one position per beat (model and timing: `crate::model::sparse_array`).
    fn sparse(p: &Params, sp: &SparseParams, common: Vec<String>) -> Interface {
        let x = Channel {
            name: "x".into(),
            valid: "x_valid".into(),
            ready: Some("x_ready".into()),
            fields: vec![
                Field::packed(
                    "x_entry",
                    1,
                    sp.stream.entry_bits(),
                    "a packed stream entry: valid (bit 0), last (bit 1), index, value (crate::sparse::stream)",
                ),
                Field::flag("x_end", "1 on the row-end entry of a job's last row"),
            ],
        };
        let d = Channel {
            name: "d".into(),
            valid: "d_valid".into(),
            ready: Some("d_ready".into()),
            fields: vec![
                Field::signed(
                    "d_data",
                    p.rows * sp.load_lanes,
                    p.weight_bits,
                    "a chunk of the next row's dense operands: lane r*Q + q is value c*Q + q of PE row r (beat c)",
                ),
                Field::flag("d_last", "1 on the last chunk of a row's dense operands"),
                Field::unsigned("d_phase", 2, "0 forward, 1 input gradient, 2 weight gradient"),
                Field::unsigned("d_shift", sp.shift_bits, "log2 of the stride"),
                Field::unsigned("d_dilation", sp.dilation_bits, "the dilation"),
                Field::unsigned("d_pad", sp.pad_bits, "zeros before x[0]"),
                Field::unsigned("d_in_len", sp.len_bits, "the input row length"),
                Field::unsigned("d_out_len", sp.len_bits, "the output row length"),
            ],
        };
        let output = Channel {
            name: "out".into(),
            valid: "out_valid".into(),
            ready: None,
            fields: vec![Field::signed(
                "out_data",
                p.rows,
                p.acc_bits,
                "position j of a finished job's output rows: lane r is PE row r, signed, modulo 2^acc_bits",
            )],
        };
        let protocol = common
            .into_iter()
            .chain([
                format!(
                    "A job sums, per PE row, the 1-D convolutions of its rows: each row is its stream entries on `x` \
                     (one per nonzero, or one empty-row marker) and its dense operands on `d` (ceil(len / {}) beats, \
                     d_last on the last: kernel taps, or the activation row for the weight gradient).",
                    sp.load_lanes
                ),
                "The dense operands are double-buffered: a row's first entry waits until its operands are \
                 loaded, and the next row's load may start at that edge."
                    .to_string(),
                format!(
                    "When the entry with x_end is taken at edge t, the job's output rows leave one position per \
                     edge at t + {}, t + {}, ...; the next job's x_end entry waits until they have left.",
                    1 + p.pipeline,
                    2 + p.pipeline
                ),
            ])
            .collect();
        Interface { inputs: vec![x, d], output, protocol }
    }
}
