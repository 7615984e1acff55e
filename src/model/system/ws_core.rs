//! The weight-stationary engine's compute core (mirrors `templates/system_engine_ws.v.tera`). Per
//! output-channel tile, the output pixels run in blocks of D = acc_depth (the array's accumulator
//! rows); per block, the reduction runs in KT = K / R folds of R reduction indices k0 = kt*R..: a fold
//! is R weight beats (weight words nt*K + k0 + r, read in order) and one `a` beat per pixel of the
//! block, carrying bytes (k0 mod C)..+R of the pixel's activation word for reduction word ws = k0 / C
//! (read by implicit im2col addressing, a zero word for padding). The first fold of a block starts
//! its sums (a_acc = 0), the last emits them (a_emit = 1): one output word per pixel.
//!
//! The array is `ws_array`'s, register by register: weight beats fill the shadow registers once the
//! previous fold's first row has switched them (w_ready), a fold's first row waits for its weights
//! (a_ready), and a row taken at edge t with a_emit leaves at t + R + C + pipeline.

use super::{ArrayRow, Core, Ctx, Step};
use crate::model::mac_unit::{acc_add, mac};
use crate::system::layout::Word;
use std::collections::VecDeque;

pub(super) struct WsCore {
    rows: usize,
    cols: usize,
    depth: usize,
    /// The array's `pe.pipeline`: edges its rows leave later.
    pipeline: usize,
    // the array: weight loading, accumulator rows, PE weights, accumulator buffer
    w_row: usize,
    shadow_full: bool,
    since_first: usize,
    since_full: usize,
    a_row: usize,
    shadow: Vec<Vec<i64>>,
    active: Vec<Vec<i64>>,
    acc_buf: Vec<Vec<i64>>,
    // weight reader: the RAM output word, whether it is an untaken beat, its index in the tile
    // (w_k of K) and the first pixel of the block it belongs to
    wq: Word,
    wq_valid: bool,
    w_k: usize,
    w_p0: usize,
    // fetcher: (block, fold, row) of the next read; the read in flight (None: a zero word); the queue
    f_p0: usize,
    f_kt: usize,
    f_i: usize,
    f_inflight: Option<Option<usize>>,
    aq: VecDeque<Word>,
    // issuer: (block, fold, row) of the next `a` beat
    i_p0: usize,
    i_kt: usize,
    i_i: usize,
}

impl WsCore {
    pub fn new(rows: usize, cols: usize, depth: usize, pipeline: usize) -> WsCore {
        let since_full = (cols - 1).max(1);
        WsCore {
            rows,
            cols,
            depth,
            pipeline,
            w_row: 0,
            shadow_full: false,
            since_first: since_full,
            since_full,
            a_row: 0,
            shadow: vec![vec![0; cols]; rows],
            active: vec![vec![0; cols]; rows],
            acc_buf: vec![vec![0; cols]; depth],
            wq: vec![0; cols],
            wq_valid: false,
            w_k: 0,
            w_p0: 0,
            f_p0: 0,
            f_kt: 0,
            f_i: 0,
            f_inflight: None,
            aq: VecDeque::new(),
            i_p0: 0,
            i_kt: 0,
            i_i: 0,
        }
    }

    /// Folds per block: K / R.
    fn folds(&self, kwords: usize) -> usize {
        kwords * (self.cols / self.rows)
    }

    /// (block, fold, row) after (p0, kt, i): rows of a block, then its folds, then the next block.
    fn advance(
        &self,
        (p0, kt, i): (usize, usize, usize),
        pixels: usize,
        folds: usize,
    ) -> (usize, usize, usize) {
        if i + 1 < self.depth && p0 + i + 1 < pixels {
            (p0, kt, i + 1)
        } else if kt + 1 < folds {
            (p0, kt + 1, 0)
        } else {
            (p0 + self.depth, 0, 0)
        }
    }
}

impl Core for WsCore {
    fn prime(&mut self, ctx: &Ctx) {
        self.wq = ctx.wgt_mem[ctx.weight_base()].clone();
        self.wq_valid = true;
        (self.w_k, self.w_p0) = (0, 0);
        (self.f_p0, self.f_kt, self.f_i) = (0, 0, 0);
        (self.i_p0, self.i_kt, self.i_i) = (0, 0, 0);
    }

    fn edge(&mut self, ctx: &Ctx, edge: u64, rows_out: &mut VecDeque<ArrayRow>) -> Step {
        let (r_n, c_n) = (self.rows, self.cols);
        let mut step = Step::default();

        // the array's ready signals, and the beats taken
        let w_ready = !self.shadow_full && (self.w_row != 0 || self.since_first == self.since_full);
        let w_take = self.wq_valid && w_ready;
        let (mut a_take, mut first, mut emit, mut fetch) = (false, false, false, None);
        if let Some(j) = ctx.computing() {
            let s = j.shape;
            let folds = self.folds(s.kwords);
            first = self.i_i == 0;
            emit = self.i_kt + 1 == folds;
            let a_valid = self.i_p0 < s.pixels && !self.aq.is_empty() && (!emit || ctx.out_free >= 1);
            let a_ready = !first || self.shadow_full;
            a_take = a_valid && a_ready;
            let room = self.aq.len() + usize::from(self.f_inflight.is_some()) - usize::from(a_take) < 2;
            if self.f_p0 < s.pixels && room {
                fetch = Some(ctx.act_address(self.f_p0 + self.f_i, self.f_kt / (c_n / r_n)));
            }
        }

        // the array: weights into the shadow registers, a row through the PEs
        if w_take {
            self.shadow[self.w_row] = self.wq.iter().map(|&b| b as i8 as i64).collect();
            self.w_row += 1;
            if self.w_row == r_n {
                self.w_row = 0;
                self.shadow_full = true;
            }
        }
        if a_take {
            let s = ctx.job().shape;
            let slice = self.i_kt % (c_n / r_n);
            let word = self.aq.front().expect("a beat needs a fetched word");
            let a_lanes: Vec<i64> = (0..r_n).map(|r| word[slice * r_n + r] as i8 as i64).collect();
            if first {
                self.active = self.shadow.clone();
                self.shadow_full = false;
            }
            let addr = if first { 0 } else { self.a_row };
            self.a_row = addr + 1;
            let sums: Vec<i64> = (0..c_n)
                .map(|c| {
                    let column =
                        (0..r_n).fold(0, |psum, r| mac(psum, a_lanes[r], self.active[r][c], ctx.acc_bits));
                    if self.i_kt > 0 {
                        acc_add(self.acc_buf[addr][c], column, ctx.acc_bits)
                    } else {
                        column
                    }
                })
                .collect();
            let tile_last = emit && self.i_p0 + self.i_i + 1 == s.pixels;
            if emit {
                rows_out.push_back(ArrayRow {
                    edge: edge + (r_n + c_n + self.pipeline) as u64,
                    vals: sums,
                    keep: true,
                    last: tile_last && ctx.nt + 1 == s.nt,
                });
                step.reserve = 1;
            } else {
                self.acc_buf[addr] = sums;
            }
            step.tile_done = tile_last;
        }
        if a_take && first {
            self.since_first = 1;
        } else if self.since_first != self.since_full {
            self.since_first += 1;
        }

        // activation queue: pop the word sent, capture the word read at the previous edge
        if a_take {
            self.aq.pop_front();
        }
        if let Some(addr) = self.f_inflight.take() {
            self.aq.push_back(addr.map_or_else(|| vec![0; c_n], |a| ctx.act_mem[a].clone()));
        }
        if let Some(addr) = fetch {
            let s = ctx.job().shape;
            self.f_inflight = Some(addr);
            (self.f_p0, self.f_kt, self.f_i) =
                self.advance((self.f_p0, self.f_kt, self.f_i), s.pixels, self.folds(s.kwords));
        }

        // weight reader: the next word of the tile after each weight beat
        if w_take {
            let s = ctx.job().shape;
            let k = s.k(c_n);
            let more = self.w_k + 1 < k || self.w_p0 + self.depth < s.pixels;
            self.w_k += 1;
            if self.w_k == k {
                self.w_k = 0;
                self.w_p0 += self.depth;
            }
            if more {
                self.wq = ctx.wgt_mem[ctx.weight_base() + self.w_k].clone();
            } else {
                self.wq_valid = false;
            }
        }
        if a_take {
            let s = ctx.job().shape;
            (self.i_p0, self.i_kt, self.i_i) =
                self.advance((self.i_p0, self.i_kt, self.i_i), s.pixels, self.folds(s.kwords));
        }
        step
    }
}
