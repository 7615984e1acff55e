//! The output-stationary engine's compute core (mirrors `templates/system_engine.v.tera`): per output
//! channel tile, for every pixel tile mt (R pixels) and every reduction word ws = (ky, kx, cb), the
//! fetcher (`fetcher.rs`) queues the R pixels' activation words, and the issuer sends C beats to the
//! array, beat i carrying byte i of each of the R words and the weight word nt*K + ws*C + i. The array's
//! fold pacing and readout timing are `os_array`'s: a fold's last beat waits until fold_gap edges after
//! the previous one, and row r of a fold whose last beat was taken at edge L leaves at
//! L + r + C + 1 + pipeline.

use super::fetcher::Fetcher;
use super::{ArrayRow, Core, Ctx, Step};
use crate::model::mac_unit::mac;
use crate::system::layout::Word;
use std::collections::VecDeque;

pub(super) struct OsCore {
    rows: usize,
    cols: usize,
    fold_gap: usize,
    /// The array's `pe.pipeline`: edges its rows leave later.
    pipeline: usize,
    fetcher: Fetcher,
    // weights and issuer
    w_q: Word,
    w_k: usize,
    i_mt: usize,
    i_ws: usize,
    i_c: usize,
    since_last: usize,
    fold_acc: Vec<Vec<i64>>,
}

impl OsCore {
    pub fn new(rows: usize, cols: usize, pipeline: usize) -> OsCore {
        let fold_gap = rows.max(cols);
        OsCore {
            rows,
            cols,
            fold_gap,
            pipeline,
            fetcher: Fetcher::new(rows, cols),
            w_q: vec![0; cols],
            w_k: 0,
            i_mt: 0,
            i_ws: 0,
            i_c: 0,
            since_last: fold_gap,
            fold_acc: vec![vec![0; cols]; rows],
        }
    }
}

impl Core for OsCore {
    fn prime(&mut self, ctx: &Ctx) {
        self.w_k = 0;
        self.w_q = ctx.wgt_mem[ctx.weight_base()].clone();
        self.fetcher.prime();
        (self.i_mt, self.i_ws, self.i_c) = (0, 0, 0);
    }

    fn edge(&mut self, ctx: &Ctx, edge: u64, rows_out: &mut VecDeque<ArrayRow>) -> Step {
        let (r_n, c_n) = (self.rows, self.cols);
        let mut step = Step::default();
        let (mut issue, mut issue_last, mut pop, mut keep) = (false, false, false, 0);
        if let Some(j) = ctx.computing() {
            let s = j.shape;
            // issuer: the beat this edge
            let last = self.i_ws + 1 == s.kwords && self.i_c + 1 == c_n;
            keep = r_n.min(s.pixels.saturating_sub(self.i_mt * r_n));
            let head_ready = self.fetcher.head_ready();
            let arr_ready = !last || self.since_last == self.fold_gap;
            let out_ok = !last || ctx.out_free >= keep;
            issue = self.i_mt < s.mt && head_ready && arr_ready && out_ok;
            issue_last = issue && last;
            pop = issue && self.i_c + 1 == c_n;
        }
        let fetch = self.fetcher.decide(ctx, pop);

        // array: the beat issued now
        if issue {
            let s = ctx.job().shape;
            let a_lanes: Vec<i64> = (0..r_n).map(|r| self.fetcher.head()[r][self.i_c] as i8 as i64).collect();
            let b_lanes: Vec<i64> = self.w_q.iter().map(|&b| b as i8 as i64).collect();
            for (r, row) in self.fold_acc.iter_mut().enumerate() {
                for (c, sum) in row.iter_mut().enumerate() {
                    *sum = mac(*sum, a_lanes[r], b_lanes[c], ctx.acc_bits);
                }
            }
            if issue_last {
                let job_last = ctx.nt + 1 == s.nt && self.i_mt + 1 == s.mt;
                for r in 0..r_n {
                    rows_out.push_back(ArrayRow {
                        edge: edge + (r + c_n + 1 + self.pipeline) as u64,
                        vals: std::mem::replace(&mut self.fold_acc[r], vec![0; c_n]),
                        keep: r < keep,
                        last: job_last && r + 1 == keep,
                    });
                }
                step.reserve = keep;
            }
        }
        // the array's fold pacing (its own register)
        if issue_last {
            self.since_last = 1;
        } else if self.since_last != self.fold_gap {
            self.since_last += 1;
        }

        self.fetcher.update(ctx, fetch, pop);

        // weight reader and issuer counters
        if issue {
            let s = ctx.job().shape;
            let k = s.k(c_n);
            self.w_k = (self.w_k + 1) % k;
            self.w_q = ctx.wgt_mem[ctx.weight_base() + self.w_k].clone();
            self.i_c += 1;
            if self.i_c == c_n {
                self.i_c = 0;
                self.i_ws += 1;
                if self.i_ws == s.kwords {
                    self.i_ws = 0;
                    self.i_mt += 1;
                    step.tile_done = self.i_mt == s.mt;
                }
            }
        }
        step
    }
}
