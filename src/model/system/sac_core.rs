//! The SAC engine's compute core (mirrors `templates/system_engine_sac.v.tera`): per output-channel
//! tile, for every pixel tile mt (R pixels) and every reduction word ws = (ky, kx, cb), the fetcher
//! (`fetcher.rs`) queues the R pixels' activation words, and the issuer sends them to the array as
//! one `a` beat: a kneading group of KS = C activations per row. Column c reads the kneaded stream of
//! output channel nt*C + c from its own scratchpad, one word per edge while it is offered; after a
//! fold's last word it rewinds to the tile's first word while pixel tiles remain, and moves on to
//! the next tile's first word after the last. The array is `model::sac_array`'s, register by
//! register; a row it emits at edge t is at its output from t + 1. The issuer reserves the fold's
//! output FIFO words (and counts its rows in flight) with the fold's first group: a fold's rows
//! leave the array without backpressure once its columns have finished it.

use super::fetcher::Fetcher;
use super::{ArrayRow, Core, Ctx, Step};
use crate::model::sac_array::{SacArray, WordBeat};
use crate::system::SacSystem;
use std::collections::VecDeque;

/// A column's stream reader.
#[derive(Clone, Copy, Default)]
struct Column {
    /// The address at the scratchpad's output, and the tile's first word.
    addr: usize,
    tstart: usize,
    /// Pixel tiles finished, whether it still streams, and whether it is in the tile's last pixel tile.
    c_mt: usize,
    live: bool,
    mlast: bool,
}

/// The keep count and job-last flag of a fold in the array.
struct Tag {
    keep: usize,
    last: bool,
}

pub(super) struct SacCore {
    rows: usize,
    cols: usize,
    array: SacArray,
    fetcher: Fetcher,
    columns: Vec<Column>,
    // issuer: pixel tile, group in the fold, fold rows kept
    i_mt: usize,
    i_ws: usize,
    keep: usize,
    tags: VecDeque<Tag>,
    rows_pending: usize,
}

impl SacCore {
    pub fn new(rows: usize, cols: usize, sac: &SacSystem, acc_bits: u32, pipeline: usize) -> SacCore {
        SacCore {
            rows,
            cols,
            array: SacArray::new(rows, cols, sac.knead.ks, sac.positions, sac.act_groups, acc_bits, pipeline),
            fetcher: Fetcher::new(rows, cols),
            columns: vec![Column::default(); cols],
            i_mt: 0,
            i_ws: 0,
            keep: 0,
            tags: VecDeque::new(),
            rows_pending: 0,
        }
    }
}

impl Core for SacCore {
    fn prime(&mut self, ctx: &Ctx) {
        let s = ctx.job().shape;
        self.fetcher.prime();
        (self.i_mt, self.i_ws) = (0, 0);
        self.keep = self.rows.min(s.pixels);
        for col in &mut self.columns {
            if ctx.nt == 0 {
                col.tstart = 0;
            }
            *col = Column { addr: col.tstart, c_mt: 0, live: true, mlast: s.mt == 1, ..*col };
        }
    }

    fn rows_in_flight(&self) -> usize {
        self.rows_pending
    }

    fn edge(&mut self, ctx: &Ctx, edge: u64, rows_out: &mut VecDeque<ArrayRow>) -> Step {
        let (r_n, c_n) = (self.rows, self.cols);
        let sac = ctx.sp.sac.as_ref().expect("a SAC system");
        let mut step = Step::default();
        let computing = ctx.computing();
        // the tile ends the edge after its last group and every column's last word were taken
        let i_live = computing.is_some_and(|j| self.i_mt < j.shape.mt);
        step.tile_done = computing.is_some() && !i_live && self.columns.iter().all(|c| !c.live);

        // what the issuer and the column readers offer
        let group_first = self.i_ws == 0;
        let a_valid = i_live && self.fetcher.head_ready() && (!group_first || ctx.out_free >= self.keep);
        // the head group as the array reads it, built only when offered (this runs every edge)
        let group: Vec<Vec<i64>> = if a_valid {
            self.fetcher.head().iter().map(|word| word.iter().map(|&b| b as i8 as i64).collect()).collect()
        } else {
            Vec::new()
        };
        let offered: Vec<Option<WordBeat>> = (0..c_n)
            .map(|c| {
                let col = &self.columns[c];
                (computing.is_some() && col.live).then(|| {
                    let bank = ctx.job().wbank * ctx.sp.weight_words;
                    let v = ctx.col_mem[c][bank + col.addr];
                    let (group_end, fold_end) = sac.flags(v);
                    WordBeat { word: sac.word(v), group_end, fold_end }
                })
            })
            .collect();
        let e = self.array.edge(
            a_valid.then_some(group.as_slice()),
            &offered.iter().map(Option::as_ref).collect::<Vec<_>>(),
        );
        let fetch = self.fetcher.decide(ctx, e.a_taken);

        // rows leaving the array
        if let Some((r, vals)) = e.row {
            let tag = self.tags.front().expect("a fold in the array");
            rows_out.push_back(ArrayRow {
                edge: edge + 1,
                vals,
                keep: r < tag.keep,
                last: tag.last && r + 1 == tag.keep,
            });
            self.rows_pending -= 1;
            if r + 1 == r_n {
                self.tags.pop_front();
            }
        }
        self.fetcher.update(ctx, fetch, e.a_taken);

        // column readers
        for (c, col) in self.columns.iter_mut().enumerate() {
            if !e.w_taken[c] {
                continue;
            }
            let fold_end = offered[c].as_ref().is_some_and(|w| w.fold_end);
            if !fold_end {
                col.addr += 1;
                continue;
            }
            let mt = ctx.job().shape.mt;
            if col.mlast {
                col.addr += 1;
                col.tstart = col.addr;
            } else {
                col.addr = col.tstart;
            }
            col.c_mt += 1;
            col.live = !col.mlast;
            col.mlast = col.c_mt + 1 == mt;
        }

        // issuer
        if e.a_taken {
            let s = ctx.job().shape;
            if group_first {
                let job_last = ctx.nt + 1 == s.nt && self.i_mt + 1 == s.mt;
                self.tags.push_back(Tag { keep: self.keep, last: job_last });
                self.rows_pending += r_n;
                step.reserve = self.keep;
            }
            self.i_ws += 1;
            if self.i_ws == s.kwords {
                self.i_ws = 0;
                self.i_mt += 1;
                self.keep = r_n.min(s.pixels.saturating_sub(self.i_mt * r_n));
            }
        }
        step
    }
}
