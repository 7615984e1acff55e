//! The output stage both engines share (mirrors `templates/system_output_stage.v.tera`): the current
//! tile's requantization records, the three requantizer stages (bias; multiply; round, shift, zero
//! point, ReLU, saturate), the output FIFO with its read register and the AXI4-Stream master register.
//! `out_free` counts FIFO words not yet reserved by the issuer.

use super::ArrayRow;
use crate::system::layout::Word;

/// Per-lane requantization state loaded for the current tile.
#[derive(Debug, Clone, Default)]
pub(super) struct Active {
    pub bias: Vec<i64>,
    pub mult: Vec<i64>,
    pub shift: Vec<u32>,
    pub zp: i64,
    pub relu: bool,
}

pub(super) struct OutputStage {
    cols: usize,
    pub active: Active,
    /// A record word read at the previous edge (its byte index), captured at this edge.
    pub par_cap: Option<usize>,
    pub par_q: Word,
    s1: Option<(Vec<i64>, bool)>,
    s2: Option<(Vec<i64>, bool)>,
    mem: Vec<(Word, bool)>,
    wr_ptr: usize,
    rd_ptr: usize,
    count: usize,
    pub out_free: usize,
    q: Option<(Word, bool)>,
    m: Option<(Word, bool)>,
}

impl OutputStage {
    pub fn new(cols: usize, out_words: usize) -> OutputStage {
        OutputStage {
            cols,
            active: Active {
                bias: vec![0; cols],
                mult: vec![0; cols],
                shift: vec![0; cols],
                zp: 0,
                relu: false,
            },
            par_cap: None,
            par_q: vec![0; cols],
            s1: None,
            s2: None,
            mem: vec![(vec![0; cols], false); out_words],
            wr_ptr: 0,
            rd_ptr: 0,
            count: 0,
            out_free: out_words,
            q: None,
            m: None,
        }
    }

    /// No row in the requantizer (records may change).
    pub fn requant_empty(&self) -> bool {
        self.s1.is_none() && self.s2.is_none()
    }

    /// FIFO, read register and m_axis register empty.
    pub fn idle(&self) -> bool {
        self.count == 0 && self.q.is_none() && self.m.is_none()
    }

    /// One edge: `row` leaves the array now, `reserve` FIFO words are reserved by the issuer, and
    /// m_axis_tready is `m_ready`. Returns the word m_axis delivers at this edge.
    pub fn edge(&mut self, row: Option<ArrayRow>, reserve: usize, m_ready: bool) -> Option<(Word, bool)> {
        let c_n = self.cols;
        let m_take = self.m.is_some() && m_ready;
        let m_free = self.m.is_none() || m_take;
        let do_move = self.q.is_some() && m_free;
        let q_free = self.q.is_none() || do_move;
        let rd = self.count > 0 && q_free;
        let taken = if m_take { self.m.clone() } else { None };

        // stage 2 writes the FIFO, stage 1 multiplies, the row from the array adds bias
        if let Some((vals, last)) = self.s2.take() {
            let a = &self.active;
            let word: Word =
                (0..c_n).map(|c| requant_tail(vals[c], a.shift[c], a.zp, a.relu) as i8 as u8).collect();
            let n = self.mem.len();
            self.mem[self.wr_ptr] = (word, last);
            self.wr_ptr = (self.wr_ptr + 1) % n;
            self.count += 1;
        }
        if let Some((sums, last)) = self.s1.take() {
            self.s2 = Some(((0..c_n).map(|c| sums[c] * self.active.mult[c]).collect(), last));
        }
        if let Some(row) = row.filter(|r| r.keep) {
            self.s1 = Some(((0..c_n).map(|c| row.vals[c] + self.active.bias[c]).collect(), row.last));
        }
        self.out_free -= reserve;

        // FIFO read side and the m_axis register
        if do_move {
            self.m = self.q.take();
        } else if m_take {
            self.m = None;
        }
        if rd {
            let n = self.mem.len();
            self.q = Some(self.mem[self.rd_ptr].clone());
            self.rd_ptr = (self.rd_ptr + 1) % n;
            self.count -= 1;
            self.out_free += 1;
        }

        // record capture (a record word read at the previous edge)
        if let Some(j) = self.par_cap.take() {
            for c in 0..c_n {
                let byte = self.par_q[c] as u64;
                let rec = record_bytes(&self.active, c) & !(0xffu64 << (8 * j)) | (byte << (8 * j));
                set_record(&mut self.active, c, rec);
            }
        }
        taken
    }
}

/// The requantizer's last stage: round half up, shift, zero point, ReLU, saturation to int8.
pub fn requant_tail(prod: i64, shift: u32, zp: i64, relu: bool) -> i64 {
    let q = if shift == 0 { prod } else { (prod + (1i64 << (shift - 1))) >> shift };
    let mut v = q + zp;
    if relu && v < zp {
        v = zp;
    }
    v.clamp(-128, 127)
}

fn record_bytes(a: &Active, c: usize) -> u64 {
    (a.bias[c] as i32 as u32 as u64) | ((a.mult[c] as u64) << 32) | ((a.shift[c] as u64) << 48)
}

fn set_record(a: &mut Active, c: usize, rec: u64) {
    a.bias[c] = rec as u32 as i32 as i64;
    a.mult[c] = ((rec >> 32) & 0xffff) as i64;
    a.shift[c] = ((rec >> 48) & 63) as u32;
}
