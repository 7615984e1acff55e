//! SAC array (Tetris split-and-accumulate; mirrors `templates/sac_top.v.tera`).
//!
//! PE(r, c) is a SAC unit that computes C[m0+r][n0+c] of the current fold. Column c consumes the
//! kneaded stream of B[:, n0+c] (channel `w{c}`): one word per edge, broadcast down the column; the
//! kneading groups of KS weights along K each take max(1, words) beats (an all-zero group still takes
//! one empty beat to move on). Row r's activations come in groups of KS on channel `a` (all rows in one
//! beat) into a ring of `act_groups` slots per row, shared by the row's PEs. Columns are decoupled:
//! each has its own slot pointer, and a slot is refilled only when every column has finished it, so a
//! column with fewer kneaded words runs up to `act_groups` groups ahead of the slowest column instead
//! of waiting for it every group. A fold's time is then close to its slowest column's total words,
//! not the sum over groups of the slowest column per group (act_groups = 1 gives the latter).
//!
//! Readout: a column's last word of a fold latches each PE's result and sets the column's
//! `hold_full`; when every column's is set, rows 0..rows-1 leave one per edge through a row
//! multiplexer and the flags clear with the last row. A slot is refilled at the edge its last columns
//! finish it (they read the old group at that edge; the new one is seen from the next), so even a
//! one-slot ring loses no edge per group. A column does not take the last word of its next
//! fold while its flag is still set. Taken edges and output edges follow from stepping these rules one
//! edge at a time, exactly as the RTL does.
//!
//! Pipelined units (`pe.pipeline` = 1: the final segments are registered before the shift-add tree;
//! 2: each slot's operand too) write their results `pipeline` edges after the fold's last word: the
//! readout also waits until no column's last word is still in the units' stages. The sums are the
//! same; only the readout starts later.

use super::gemm::{at, beat, ceil_div, channel, GemmRun, Matrix};
use super::sac_unit::SacUnit;
use super::{Beat, OutBeat};
use crate::config::Params;
use crate::knead::{knead_group, KneadParams, KneadedWord, Slot};

/// One beat of a column's kneaded stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordBeat {
    pub word: KneadedWord,
    pub group_end: bool,
    pub fold_end: bool,
}

/// The kneaded stream of weights `b[k0.., n]` for one fold, group by group.
fn column_stream(b: &Matrix, n: usize, kp: &KneadParams, out: &mut Vec<WordBeat>) {
    let k = b.nrows();
    let groups = ceil_div(k, kp.ks);
    for g in 0..groups {
        let weights: Vec<i64> = (g * kp.ks..k.min((g + 1) * kp.ks)).map(|kk| at(b, kk, n)).collect();
        let group = knead_group(&weights, kp).expect("weights are in the SAC range");
        out.extend(group_beats(group.words, kp.positions(), g + 1 == groups));
    }
}

/// The beats of one kneading group's words: an all-zero group (no words) is one empty beat; group_end
/// on the last beat, fold_end too if the group is the fold's last.
pub fn group_beats(mut words: Vec<KneadedWord>, positions: usize, fold_last: bool) -> Vec<WordBeat> {
    if words.is_empty() {
        words.push(KneadedWord { slots: vec![Slot::EMPTY; positions] });
    }
    let last = words.len() - 1;
    words
        .into_iter()
        .enumerate()
        .map(|(j, word)| WordBeat { word, group_end: j == last, fold_end: j == last && fold_last })
        .collect()
}

fn word_beat(kp: &KneadParams, w: &WordBeat) -> Beat {
    let layout = kp.layout();
    let slots = w.word.slots.iter().map(|&s| layout.pack_slot(s).expect("canonical slot") as i64).collect();
    beat(vec![slots, vec![w.group_end as i64], vec![w.fold_end as i64]])
}

/// What the array did at one edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SacEdge {
    /// Column c took the word offered on `w<c>`.
    pub w_taken: Vec<bool>,
    /// The group offered on `a` was taken.
    pub a_taken: bool,
    /// A row of results was emitted (row `row`, one lane per column): it is on `out_data` from the
    /// next edge.
    pub row: Option<(usize, Vec<i64>)>,
}

/// The SAC array's registers, stepped one edge at a time from its channels' valid data.
#[derive(Debug, Clone)]
pub struct SacArray {
    rows: usize,
    cols: usize,
    ring: usize,
    units: Vec<Vec<SacUnit>>,
    slot_data: Vec<Vec<Vec<i64>>>,
    pending: Vec<Vec<bool>>,
    load_slot: usize,
    col_slot: Vec<usize>,
    hold_full: Vec<bool>,
    /// Pipelined units (`pe.pipeline` stages): per stage, the columns whose fold's last word is in it.
    in_flight: std::collections::VecDeque<Vec<bool>>,
    reading: bool,
    read_row: usize,
}

impl SacArray {
    /// An array of `rows x cols` SAC units (kneading groups of `ks`, words of `positions` slots,
    /// `ring` activation groups buffered per row, units of `pipeline` stages) after reset.
    pub fn new(
        rows: usize,
        cols: usize,
        ks: usize,
        positions: usize,
        ring: usize,
        acc_bits: u32,
        pipeline: usize,
    ) -> SacArray {
        SacArray {
            rows,
            cols,
            ring,
            units: vec![vec![SacUnit::new(positions, acc_bits); cols]; rows],
            slot_data: vec![vec![vec![0; ks]; rows]; ring],
            pending: vec![vec![false; cols]; ring],
            load_slot: 0,
            col_slot: vec![0; cols],
            hold_full: vec![false; cols],
            in_flight: vec![vec![false; cols]; pipeline].into(),
            reading: false,
            read_row: 0,
        }
    }

    /// One edge: `a` is the group offered on channel `a` (row by row, KS activations each) if
    /// a_valid, `w[c]` the word offered on `w<c>` if w<c>_valid.
    pub fn edge(&mut self, a: Option<&[Vec<i64>]>, w: &[Option<&WordBeat>]) -> SacEdge {
        let (rows, cols, ring) = (self.rows, self.cols, self.ring);
        // Decisions from the state before the edge. Columns decide first: the loader may refill the
        // slot whose last pending columns finish their group at this very edge.
        let takes: Vec<bool> = (0..cols)
            .map(|c| {
                w[c].is_some_and(|w| self.pending[self.col_slot[c]][c] && !(w.fold_end && self.hold_full[c]))
            })
            .collect();
        let finishing =
            |c: usize| takes[c] && w[c].is_some_and(|w| w.group_end) && self.col_slot[c] == self.load_slot;
        let a_take = a.is_some()
            && self.pending[self.load_slot].iter().enumerate().all(|(c, &pending)| !pending || finishing(c));
        let settled = self.in_flight.iter().flatten().all(|&f| !f);
        let start = !self.reading && self.hold_full.iter().all(|&h| h) && settled;
        let emit = start || self.reading;
        let row_sel = if start { 0 } else { self.read_row };

        // The edge.
        let row = emit.then(|| (row_sel, (0..cols).map(|c| self.units[row_sel][c].result).collect()));
        let mut cleared = vec![vec![false; cols]; ring];
        for c in (0..cols).filter(|&c| takes[c]) {
            let w = w[c].expect("a taken word");
            let slot = self.col_slot[c];
            for (r, row) in self.units.iter_mut().enumerate() {
                row[c].step(&w.word, &self.slot_data[slot][r], w.fold_end);
            }
            if w.group_end {
                cleared[slot][c] = true;
                self.col_slot[c] = (slot + 1) % ring;
            }
            if w.fold_end {
                self.hold_full[c] = true;
            }
        }
        if self.in_flight.pop_back().is_some() {
            let ends = (0..cols).map(|c| takes[c] && w[c].is_some_and(|w| w.fold_end)).collect();
            self.in_flight.push_front(ends);
        }
        for (slot, clear) in self.pending.iter_mut().zip(&cleared) {
            for (bit, &cl) in slot.iter_mut().zip(clear) {
                *bit &= !cl;
            }
        }
        if a_take {
            self.slot_data[self.load_slot] = a.expect("a taken group").to_vec();
            self.pending[self.load_slot] = vec![true; cols];
            self.load_slot = (self.load_slot + 1) % ring;
        }
        if emit {
            if row_sel + 1 == rows {
                self.reading = false;
                self.hold_full.iter_mut().for_each(|h| *h = false);
            } else {
                self.reading = true;
                self.read_row = row_sel + 1;
            }
        }
        SacEdge { w_taken: takes, a_taken: a_take, row }
    }
}

pub(super) fn run(p: &Params, a: &Matrix, b: &Matrix) -> GemmRun {
    let sac = p.sac.as_ref().expect("a SAC config");
    let kp = sac.knead_params(p.weight_bits);
    let (m, k) = a.dim();
    let n = b.ncols();
    let (rows, cols, ks) = (p.rows, p.cols, sac.ks);
    let groups = ceil_div(k, ks);

    // The producer's streams: activation groups and every column's kneaded words, fold by fold.
    let mut a_chan = channel("a");
    let mut act_groups: Vec<Vec<Vec<i64>>> = Vec::new();
    let mut streams: Vec<Vec<WordBeat>> = (0..cols).map(|_| Vec::new()).collect();
    let mut tiles = Vec::new();
    for mt in 0..ceil_div(m, rows) {
        for nt in 0..ceil_div(n, cols) {
            let (m0, n0) = (mt * rows, nt * cols);
            tiles.push((m0, n0));
            for g in 0..groups {
                let per_row: Vec<Vec<i64>> =
                    (0..rows).map(|r| (0..ks).map(|i| at(a, m0 + r, g * ks + i)).collect()).collect();
                a_chan.beats.push(beat(vec![per_row.concat()]));
                act_groups.push(per_row);
            }
            for (c, stream) in streams.iter_mut().enumerate() {
                column_stream(b, n0 + c, &kp, stream);
            }
        }
    }
    let mut w_chans: Vec<_> = (0..cols).map(|c| channel(&format!("w{c}"))).collect();
    for (chan, stream) in w_chans.iter_mut().zip(&streams) {
        chan.beats = stream.iter().map(|w| word_beat(&kp, w)).collect();
    }

    // Step the array one edge at a time, every channel valid while it has beats.
    let mut array = SacArray::new(rows, cols, ks, sac.positions, sac.act_groups, p.acc_bits, p.pipeline);
    let mut a_next = 0usize;
    let mut col_next = vec![0usize; cols];
    let mut outputs = Vec::new();
    let mut c_out = Matrix::zeros((m, n));
    let total_outputs = tiles.len() * rows;
    let mut edge = 0u64;
    while outputs.len() < total_outputs {
        let offered: Vec<Option<&WordBeat>> = (0..cols).map(|c| streams[c].get(col_next[c])).collect();
        let e = array.edge(act_groups.get(a_next).map(Vec::as_slice), &offered);
        if let Some((row_sel, lanes)) = e.row {
            let (m0, n0) = tiles[outputs.len() / rows];
            for (c, &v) in lanes.iter().enumerate() {
                if m0 + row_sel < m && n0 + c < n {
                    c_out[(m0 + row_sel, n0 + c)] = v;
                }
            }
            outputs.push(OutBeat { cycle: edge + 1, lanes });
        }
        for c in (0..cols).filter(|&c| e.w_taken[c]) {
            w_chans[c].taken_at.push(edge);
            col_next[c] += 1;
        }
        if e.a_taken {
            a_chan.taken_at.push(edge);
            a_next += 1;
        }
        edge += 1;
    }
    let folds = tiles.len();
    let mut inputs = vec![a_chan];
    inputs.extend(w_chans);
    GemmRun { c: c_out, inputs, outputs, folds, cycles: 0 }
}

/// Lower bounds on a SAC array's cycles from its kneaded weights alone (pipeline fill and readout come
/// on top in the model), both counting an all-zero group as the one empty beat the array spends on it.
/// `benches/sac.rs` reports them next to the measured cycles to explain the gap to the ideal speedup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SacBounds {
    /// `act_buffer_groups = 1`: per fold, per group, the slowest column's beats, summed.
    pub lockstep: u64,
    /// Any ring: the busiest physical array column's beats over all folds (a partial tile's idle
    /// columns stream one empty beat per group). A deeper ring lets columns run further ahead of each
    /// other, also across folds, so cycles approach this bound as the ring grows.
    pub column: u64,
    /// The beats spent on all-zero groups (0 in the per-group ideal, 1 each here).
    pub zero_group_beats: u64,
}

impl std::ops::Add for SacBounds {
    type Output = SacBounds;
    fn add(self, o: SacBounds) -> SacBounds {
        SacBounds {
            lockstep: self.lockstep + o.lockstep,
            column: self.column + o.column,
            zero_group_beats: self.zero_group_beats + o.zero_group_beats,
        }
    }
}

impl std::iter::Sum for SacBounds {
    fn sum<I: Iterator<Item = SacBounds>>(iter: I) -> SacBounds {
        iter.fold(SacBounds::default(), |a, b| a + b)
    }
}

/// [`SacBounds`] of the kneaded weights `m` (K x N) on an array of `cols` columns, for one tile of
/// rows (M <= rows; every further tile of M repeats the same folds).
pub fn sac_bounds(m: &crate::knead::KneadedMatrix, cols: usize) -> SacBounds {
    let beats = |c: usize, g: usize| m.columns[c].groups[g].words.len().max(1) as u64;
    let groups = m.groups_per_column();
    let mut b = SacBounds::default();
    let mut per_col = vec![0u64; cols];
    for n0 in (0..m.n).step_by(cols) {
        let tile = n0..(n0 + cols).min(m.n);
        for (c, col) in per_col.iter_mut().enumerate() {
            *col +=
                if n0 + c < m.n { (0..groups).map(|g| beats(n0 + c, g)).sum::<u64>() } else { groups as u64 };
        }
        b.lockstep += (0..groups).map(|g| tile.clone().map(|c| beats(c, g)).max().unwrap_or(0)).sum::<u64>();
    }
    b.column = per_col.into_iter().max().unwrap_or(0);
    b.zero_group_beats =
        m.columns.iter().flat_map(|c| &c.groups).filter(|g| g.words.is_empty()).count() as u64;
    b
}
