//! The cycle-exact model of the sparse 1-D convolution row array (SparseTrain's dataflow), the oracle
//! of `templates/sparse_top.v.tera` and `templates/sparse_row.v.tera`.
//!
//! # The array
//!
//! `R = Params::rows` PE rows share one compressed input stream (broadcast) and each holds its own
//! dense operand row and output row; `KT = Params::cols` MAC lanes per PE row, one per kernel tap.
//! The geometry of a job (phase, stride, dilation, padding, lengths) comes with its dense operand, so
//! one design runs every layer of a network and all three training phases.
//!
//! A **job** produces one output row per PE row: the sum, over its input rows, of a 1-D convolution
//! of the row's stream (shared) with the PE row's dense operand:
//!
//! | phase | stream (entries e, v) | dense operand D | lane k adds | output length |
//! |---|---|---|---|---|
//! | forward | x (in_len) | kernel w (KT) | `v * D[k]` to `y[(e + pad - d*k) / s]` | out_len |
//! | input gradient | dy (out_len) | kernel w (KT) | `v * D[k]` to `dx[s*e + d*k - pad]` | in_len |
//! | weight gradient | dy (out_len) | activations x (in_len) | `v * D[s*e + d*k - pad]` to `dw[k]` | KT |
//!
//! A lane adds only when its position is inside the row (forward: divisible by s and `< out_len`;
//! the others: `0 <= pos < in_len`), i.e. exactly [`crate::sparse::conv1d`]'s scatter arithmetic. Sums wrap
//! modulo 2^acc_bits.
//!
//! # Channels (one beat per edge at most)
//!
//! - `x`: one stream entry per beat (packed as in [`crate::sparse::stream`]) plus `x_end`, 1 on the row-end
//!   entry of a job's last row. Every entry, valid or empty-row marker, takes one edge.
//! - `d`: the dense operand of the next row, `ceil(len / Q)` beats (Q = load lanes; beat c carries
//!   values `c*Q .. c*Q+Q` of every PE row), `d_last` on the last, and the job's geometry on every beat.
//! - `out`: a finished job's output rows, position j = 0..n_out-1 one per edge, lane r = PE row r.
//!
//! # Timing (what the RTL does at each rising edge)
//!
//! - The dense operand is double-buffered: `d` fills a shadow buffer; the first entry of a row is
//!   taken only when the shadow holds a whole row, and at that edge the shadow becomes the active
//!   operand (the entry computes with it) and may be refilled at the same edge
//!   (`d_ready = !shadow_full || a row starts`).
//! - `x_ready = (!row_start || shadow_full) && !(x_end && readout_busy)`: a row waits for its operand,
//!   a job's last entry waits until the previous job's readout has finished.
//! - At the edge a job's last entry is taken, the output rows (with that entry's products) move to the
//!   readout buffer and the accumulators clear; position j leaves at the (j + 1)-th edge after.
//! - Pipelined rows (`pe.pipeline = 1`) register their lanes' products and add them an edge later:
//!   the readout starts one edge later (position j leaves at the (j + 2)-th edge after the last entry),
//!   and a job's last entry also waits while the previous job's readout is about to start.
//!
//! So a job costs `sum over rows of max(1, nnz)` edges when its operands keep up: zeros cost nothing.

use super::mac_unit::mac;
use super::{Beat, ChannelTrace, OutBeat, Traced};
use crate::bits::signed_range;
use crate::config::{Params, SparseParams};
use crate::sparse::conv1d::Conv1d;
use crate::sparse::stream::{encode_row, Entry};
use serde::{Deserialize, Serialize};

/// The training phase a job computes (the `d_phase` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Forward,
    InputGradient,
    WeightGradient,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Forward, Phase::InputGradient, Phase::WeightGradient];

    /// The `d_phase` code.
    pub fn code(self) -> i64 {
        match self {
            Phase::Forward => 0,
            Phase::InputGradient => 1,
            Phase::WeightGradient => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::Forward => "forward",
            Phase::InputGradient => "input_gradient",
            Phase::WeightGradient => "weight_gradient",
        }
    }
}

/// One input row of a job: the streamed row (dense form; its zeros are skipped) and, per PE row, the
/// dense operand it meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    /// x (forward, `in_len` values) or dy (gradient phases, `out_len` values), `act_bits` wide.
    pub stream: Vec<i64>,
    /// Per PE row (at most R; missing rows are zeros): the kernel taps (forward, input gradient; KT
    /// values) or the activation row x (weight gradient; `in_len` values), `weight_bits` wide.
    pub dense: Vec<Vec<i64>>,
}

/// A job: every PE row's output row is the sum of its rows' 1-D convolutions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub phase: Phase,
    pub conv: Conv1d,
    pub rows: Vec<JobRow>,
}

impl Job {
    /// Length of the streamed rows.
    pub fn stream_len(&self) -> usize {
        match self.phase {
            Phase::Forward => self.conv.in_len,
            Phase::InputGradient | Phase::WeightGradient => self.conv.out_len,
        }
    }

    /// Length of the dense operand rows.
    pub fn dense_len(&self) -> usize {
        match self.phase {
            Phase::Forward | Phase::InputGradient => self.conv.taps,
            Phase::WeightGradient => self.conv.in_len,
        }
    }

    /// Length of the output rows (the readout beats).
    pub fn out_len(&self) -> usize {
        match self.phase {
            Phase::Forward => self.conv.out_len,
            Phase::InputGradient => self.conv.in_len,
            Phase::WeightGradient => self.conv.taps,
        }
    }

    /// Every reason the array cannot run this job, one line each (empty: it can).
    pub fn problems(&self, p: &Params) -> Vec<String> {
        let Some(sp) = &p.sparse else { return vec!["the config is not a sparse_1d array".into()] };
        let c = &self.conv;
        let mut bad = Vec::new();
        let mut need = |ok: bool, what: String| {
            if !ok {
                bad.push(what)
            }
        };
        need(c.taps == p.cols, format!("taps = {}: the array has {} taps", c.taps, p.cols));
        need(
            matches!(c.stride, 1 | 2 | 4) && c.stride <= sp.max_stride,
            format!("stride = {}: must be a power of two <= max_stride = {}", c.stride, sp.max_stride),
        );
        need(
            (1..=sp.max_dilation).contains(&c.dilation),
            format!("dilation = {}: must be 1..={}", c.dilation, sp.max_dilation),
        );
        need(c.pad <= sp.max_pad, format!("pad = {}: must be <= {}", c.pad, sp.max_pad));
        need(
            (1..=sp.row_len).contains(&c.in_len),
            format!("in_len = {}: must be 1..={}", c.in_len, sp.row_len),
        );
        need(
            (1..=sp.row_len).contains(&c.out_len),
            format!("out_len = {}: must be 1..={}", c.out_len, sp.row_len),
        );
        need(!self.rows.is_empty(), "a job needs at least one row".into());
        let (a_lo, a_hi) = signed_range(p.act_bits);
        let (w_lo, w_hi) = signed_range(p.weight_bits);
        for (i, row) in self.rows.iter().enumerate() {
            need(
                row.stream.len() == self.stream_len(),
                format!("row {i}: stream has {} values, expected {}", row.stream.len(), self.stream_len()),
            );
            need(
                row.stream.iter().all(|v| (a_lo..=a_hi).contains(v)),
                format!("row {i}: a stream value does not fit act_bits = {}", p.act_bits),
            );
            need(
                row.dense.len() <= p.rows,
                format!("row {i}: {} dense rows for {} PE rows", row.dense.len(), p.rows),
            );
            for (r, d) in row.dense.iter().enumerate() {
                need(
                    d.len() == self.dense_len(),
                    format!(
                        "row {i}, PE row {r}: dense row has {} values, expected {}",
                        d.len(),
                        self.dense_len()
                    ),
                );
                need(
                    d.iter().all(|v| (w_lo..=w_hi).contains(v)),
                    format!(
                        "row {i}, PE row {r}: a dense value does not fit weight_bits = {}",
                        p.weight_bits
                    ),
                );
            }
        }
        bad
    }
}

/// How the stream is fed: compressed (zeros skipped, the design's mode) or every position as an
/// entry (the same dataflow run dense, for comparison; not a legal compressed stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Compressed,
    Dense,
}

/// One model run over a list of jobs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SparseRun {
    /// Per job, per PE row, the output row (`Job::out_len` values).
    pub outputs: Vec<Vec<Vec<i64>>>,
    /// The `x` and `d` beats and the edges they were taken at (empty unless recorded).
    pub inputs: Vec<ChannelTrace>,
    /// Every output beat (empty unless recorded).
    pub out_beats: Vec<OutBeat>,
    /// Edges from the first beat to the last output, inclusive.
    pub cycles: u64,
    /// x entries (edges of useful stream work), nonzeros among them, d beats.
    pub entries: u64,
    pub nnz: u64,
    pub load_beats: u64,
    /// Edges a row start waited for its dense operand, and a job end for the readout.
    pub load_stalls: u64,
    pub readout_stalls: u64,
    /// Lane products actually added (a lane whose position falls outside the row adds nothing).
    pub macs: u64,
}

impl Traced for SparseRun {
    fn input_traces(&self) -> &[ChannelTrace] {
        &self.inputs
    }
    fn output_beats(&self) -> &[OutBeat] {
        &self.out_beats
    }
    fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// The fields of one `d` beat, in the interface's order.
fn geometry_fields(job: &Job) -> [i64; 6] {
    let c = &job.conv;
    [
        job.phase.code(),
        c.stride.trailing_zeros() as i64,
        c.dilation as i64,
        c.pad as i64,
        c.in_len as i64,
        c.out_len as i64,
    ]
}

/// One stream entry on `x` and whether it ends its job.
#[derive(Debug, Clone, Copy)]
struct XBeat {
    entry: Entry,
    end: bool,
    job: usize,
}

/// One `d` beat: values for every PE row, the row-end flag, its job.
#[derive(Debug, Clone)]
struct DBeat {
    data: Vec<i64>,
    last: bool,
    job: usize,
}

/// The x beats of the jobs (compressed or dense feed).
fn x_beats(sp: &SparseParams, jobs: &[Job], feed: Feed) -> Vec<XBeat> {
    let mut out = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        for (i, row) in job.rows.iter().enumerate() {
            let mut entries = match feed {
                Feed::Compressed => {
                    let mut padded = row.stream.clone();
                    padded.resize(sp.row_len, 0);
                    encode_row(&padded, &sp.stream, i).expect("job checked: values fit, row fits L")
                }
                Feed::Dense => (0..row.stream.len())
                    .map(|c| Entry { valid: true, last: false, index: c as u32, value: row.stream[c] })
                    .collect(),
            };
            entries.last_mut().expect("a row has at least one entry").last = true;
            let end = i + 1 == job.rows.len();
            let n = entries.len();
            out.extend(entries.into_iter().enumerate().map(|(e, entry)| XBeat {
                entry,
                end: end && e + 1 == n,
                job: j,
            }));
        }
    }
    out
}

/// The d beats of the jobs: per row, its dense operand in chunks of Q values per PE row.
fn d_beats(p: &Params, sp: &SparseParams, jobs: &[Job]) -> Vec<DBeat> {
    let q = sp.load_lanes;
    let mut out = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        let beats = sp.load_beats(job.dense_len());
        for row in &job.rows {
            for c in 0..beats {
                let mut data = vec![0; p.rows * q];
                for (r, dense) in row.dense.iter().enumerate() {
                    for l in 0..q {
                        data[r * q + l] = dense.get(c * q + l).copied().unwrap_or(0);
                    }
                }
                out.push(DBeat { data, last: c + 1 == beats, job: j });
            }
        }
    }
    out
}

/// The position lane `k` reaches from stream index `e` under `job`'s geometry, if inside the row.
/// Forward: the output `(e + pad - d*k) / s`; gradients: the input `s*e + d*k - pad`.
fn lane_position(job: &Job, e: usize, k: usize) -> Option<usize> {
    let c = &job.conv;
    match job.phase {
        Phase::Forward => {
            let num = (e + c.pad) as i64 - (c.dilation * k) as i64;
            (num >= 0 && (num as usize).is_multiple_of(c.stride))
                .then(|| num as usize / c.stride)
                .filter(|&t| t < c.out_len)
        }
        Phase::InputGradient | Phase::WeightGradient => {
            let num = (c.stride * e + c.dilation * k) as i64 - c.pad as i64;
            (num >= 0 && (num as usize) < c.in_len).then_some(num as usize)
        }
    }
}

/// Runs `jobs` on the array, edge by edge. `record` keeps every beat (for the testbench); without it
/// only outputs, cycles and counts are kept. Panics on a job the array cannot run (check
/// [`Job::problems`] first).
pub fn run(p: &Params, jobs: &[Job], feed: Feed, record: bool) -> SparseRun {
    let sp = p.sparse.as_ref().expect("run: a sparse_1d config");
    for (j, job) in jobs.iter().enumerate() {
        let problems = job.problems(p);
        assert!(problems.is_empty(), "job {j}: {}", problems.join("; "));
    }
    let xs = x_beats(sp, jobs, feed);
    let ds = d_beats(p, sp, jobs);
    let (rows, taps, len, q) = (p.rows, p.cols, sp.row_len, sp.load_lanes);
    let mut x_trace = super::gemm::channel("x");
    let mut d_trace = super::gemm::channel("d");
    if record {
        x_trace.beats = xs
            .iter()
            .map(|b| Beat {
                fields: vec![
                    vec![sp.stream.pack(&b.entry).expect("entry fits its format") as i64],
                    vec![b.end as i64],
                ],
            })
            .collect();
        d_trace.beats = ds
            .iter()
            .map(|b| {
                let mut fields = vec![b.data.clone(), vec![b.last as i64]];
                fields.extend(geometry_fields(&jobs[b.job]).iter().map(|&g| vec![g]));
                Beat { fields }
            })
            .collect();
    }

    // Registers.
    let mut row_start = true;
    let mut shadow_full = false;
    let mut chunk = 0usize;
    let mut shadow = vec![vec![0i64; len]; rows];
    let mut shadow_job = 0usize;
    let mut active = vec![vec![0i64; len]; rows];
    let mut active_job = 0usize;
    let mut acc = vec![vec![0i64; len]; rows];
    let mut readout = vec![vec![0i64; len]; rows];
    let (mut ro_busy, mut ro_index, mut ro_count) = (false, 0usize, 0usize);
    // Pipelined rows (pe.pipeline = 1): a job's readout starts an edge after its last entry.
    let pipelined = p.pipeline > 0;
    let mut ro_pending: Option<usize> = None;

    let mut run = SparseRun { outputs: Vec::with_capacity(jobs.len()), ..Default::default() };
    let (mut xi, mut di) = (0usize, 0usize);
    let mut edge = 0u64;
    let mut idle = 0u64;
    while xi < xs.len() || ro_busy || ro_pending.is_some() {
        // Combinational: readiness from the registers and the offered beats.
        let x_offer = xs.get(xi);
        let readout_busy = ro_busy || ro_pending.is_some();
        let x_ready = x_offer.is_some_and(|b| (!row_start || shadow_full) && !(b.end && readout_busy));
        let row_begins = x_ready && row_start;
        let d_ready = !shadow_full || row_begins;
        let d_take = di < ds.len() && d_ready;
        if let Some(b) = x_offer.filter(|_| !x_ready) {
            if row_start && !shadow_full {
                run.load_stalls += 1;
            } else if b.end && readout_busy {
                run.readout_stalls += 1;
            }
        }

        // The readout: one position per edge.
        if ro_busy {
            if record {
                run.out_beats
                    .push(OutBeat { cycle: edge, lanes: readout.iter().map(|r| r[ro_index]).collect() });
            }
            ro_index += 1;
            ro_busy = ro_index < ro_count;
        }
        if let Some(n) = ro_pending.take() {
            (ro_busy, ro_index, ro_count) = (true, 0, n);
        }

        let mut progressed = ro_busy || d_take;
        if x_ready {
            progressed = true;
            let b = xs[xi];
            if record {
                x_trace.taken_at.push(edge);
            }
            let (operand, job_no) = if row_start { (&shadow, shadow_job) } else { (&active, active_job) };
            let job = &jobs[job_no];
            debug_assert_eq!(job_no, b.job, "the dense operand belongs to the entry's job");
            run.entries += 1;
            if b.entry.valid {
                run.nnz += 1;
                let (e, v) = (b.entry.index as usize, b.entry.value);
                for k in 0..taps {
                    if let Some(pos) = lane_position(job, e, k) {
                        run.macs += rows as u64;
                        for r in 0..rows {
                            match job.phase {
                                Phase::Forward | Phase::InputGradient => {
                                    acc[r][pos] = mac(acc[r][pos], v, operand[r][k], p.acc_bits)
                                }
                                Phase::WeightGradient => {
                                    acc[r][k] = mac(acc[r][k], v, operand[r][pos], p.acc_bits)
                                }
                            }
                        }
                    }
                }
            }
            if row_start {
                active.clone_from(&shadow);
                active_job = shadow_job;
                shadow_full = false;
            }
            row_start = b.entry.last;
            if b.end {
                let n = job.out_len();
                run.outputs.push(acc.iter().map(|r| r[..n].to_vec()).collect());
                // Pipelined, the rows move the sums an edge later, when the next entry's products
                // (if any) have not reached the cleared accumulators yet: the same values.
                readout = std::mem::replace(&mut acc, vec![vec![0i64; len]; rows]);
                if pipelined {
                    ro_pending = Some(n);
                } else {
                    (ro_busy, ro_index, ro_count) = (true, 0, n);
                }
            }
            xi += 1;
        }
        if d_take {
            let b = &ds[di];
            if record {
                d_trace.taken_at.push(edge);
            }
            for (r, row) in shadow.iter_mut().enumerate() {
                for l in 0..q {
                    if let Some(slot) = row.get_mut(chunk * q + l) {
                        *slot = b.data[r * q + l];
                    }
                }
            }
            shadow_job = b.job;
            if b.last {
                shadow_full = true;
                chunk = 0;
            } else {
                chunk += 1;
            }
            run.load_beats += 1;
            di += 1;
        }
        idle = if progressed { 0 } else { idle + 1 };
        assert!(idle < 4, "the array stalls for good: the jobs' d beats do not cover their rows");
        edge += 1;
    }
    run.cycles = edge;
    if record {
        run.inputs = vec![x_trace, d_trace];
    }
    run
}
