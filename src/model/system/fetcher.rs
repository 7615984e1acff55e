//! The activation fetcher of the output-stationary and SAC engines (mirrors
//! `templates/system_fetcher.v.tera`): per output-channel tile, for every pixel tile mt (R pixels) and
//! every reduction word ws = (ky, kx, cb), it reads the R pixels' activation words, one per edge, by
//! implicit im2col addressing (a zero word, without a read, for padding and for pixels past the
//! end) into a queue of two groups of R words. The engine pops a whole group at a time.

use super::Ctx;
use crate::system::layout::Word;

pub(super) struct Fetcher {
    rows: usize,
    f_mt: usize,
    f_ws: usize,
    f_r: usize,
    /// The read in flight: its row in the group and its address (None: a zero word).
    f_inflight: Option<(usize, Option<usize>)>,
    aq: [Vec<Word>; 2],
    aq_cnt: usize,
    aq_wslot: usize,
    aq_rslot: usize,
}

/// The read the fetcher starts at an edge: (row in the group, address or None for a zero word).
pub(super) type Fetch = Option<(usize, Option<usize>)>;

impl Fetcher {
    pub fn new(rows: usize, cols: usize) -> Fetcher {
        Fetcher {
            rows,
            f_mt: 0,
            f_ws: 0,
            f_r: 0,
            f_inflight: None,
            aq: [vec![vec![0; cols]; rows], vec![vec![0; cols]; rows]],
            aq_cnt: 0,
            aq_wslot: 0,
            aq_rslot: 0,
        }
    }

    /// The tile starts: read from its first pixel tile and reduction word.
    pub fn prime(&mut self) {
        (self.f_mt, self.f_ws, self.f_r) = (0, 0, 0);
    }

    /// The queue holds a whole group of R words.
    pub fn head_ready(&self) -> bool {
        self.aq_cnt >= self.rows
    }

    /// The group at the head of the queue, row by row.
    pub fn head(&self) -> &[Word] {
        &self.aq[self.aq_rslot]
    }

    /// The read at this edge (while the engine computes), given whether the head group is popped.
    pub fn decide(&self, ctx: &Ctx, pop: bool) -> Fetch {
        let j = ctx.computing()?;
        let r_n = self.rows;
        let room = self.aq_cnt + self.f_inflight.is_some() as usize - if pop { r_n } else { 0 } < 2 * r_n;
        (self.f_mt < j.shape.mt && room).then(|| {
            let p = self.f_mt * r_n + self.f_r;
            (self.f_r, (p < j.shape.pixels).then(|| ctx.act_address(p, self.f_ws)).flatten())
        })
    }

    /// The edge's register updates: capture the read in flight, pop, start `fetch`.
    pub fn update(&mut self, ctx: &Ctx, fetch: Fetch, pop: bool) {
        let r_n = self.rows;
        if let Some((r, addr)) = self.f_inflight.take() {
            let slot = self.aq_wslot;
            self.aq[slot][r] = addr.map_or_else(|| vec![0; ctx.sp.cols], |a| ctx.act_mem[a].clone());
            self.aq_cnt += 1;
            if r + 1 == r_n {
                self.aq_wslot ^= 1;
            }
        }
        if pop {
            self.aq_cnt -= r_n;
            self.aq_rslot ^= 1;
        }
        if let Some(f) = fetch {
            let s = ctx.job().shape;
            self.f_inflight = Some(f);
            self.f_r += 1;
            if self.f_r == r_n {
                self.f_r = 0;
                self.f_ws += 1;
                if self.f_ws == s.kwords {
                    self.f_ws = 0;
                    self.f_mt += 1;
                }
            }
        }
    }
}
