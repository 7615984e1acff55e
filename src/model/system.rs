//! The system top's cycle-exact model (mirrors `templates/system_*.v.tera`): every register of the
//! loader, the engine (activation fetcher, weight reader, beat issuer), the output-stationary array's
//! fold pacing and readout timing (as `os_array` describes them), the requantizer, the output FIFO,
//! the AXI4-Stream ports and the control registers, stepped one clock edge at a time, driven by the
//! same stimulus as the testbench: input beats with idle gaps, and m_axis_tready per edge.
//!
//! Edge 0 is the first rising edge with aresetn = 1. The testbench writes GIE = 1, IER = 1 and
//! CTRL = START (AXI4-Lite, bready held at 1), which are accepted at edges 0, 2 and 4; the run
//! starts at edge 4.
//!
//! Per job, per output-channel tile nt: wait until the rows of earlier tiles have left the
//! requantizer (its records are about to change), read the tile's 8 record words, then compute:
//! for every pixel tile mt (R pixels), for every reduction word ws = (ky, kx, cb), the fetcher reads
//! the R pixels' activation words (one per edge; a zero word, without a read, for padding and for
//! pixels past the end) into a queue of two groups of R, and the issuer sends C beats to the array,
//! beat i carrying byte i of each of the R words and the weight word nt*K + ws*C + i.

use super::mac_unit::mac;
use crate::system::layout::Word;
use crate::system::{Descriptor, JobShape, SystemParams, DECODE_EDGES, PARAM_WORDS_PER_TILE};
use std::collections::VecDeque;

/// One input beat: a word and its tlast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InBeat {
    pub word: Word,
    pub last: bool,
}

/// What the testbench does: the beats it offers on s_axis, the idle edges before each (counted from
/// the edge after the previous beat was taken, or from edge 0), and m_axis_tready per edge (1 past
/// the end of `ready`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stimulus {
    pub beats: Vec<InBeat>,
    pub gaps: Vec<u32>,
    pub ready: Vec<bool>,
}

/// One output beat and the edge it leaves at (m_axis_tvalid and tready both 1 before that edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutWord {
    pub edge: u64,
    pub word: Word,
    pub last: bool,
}

/// Register values at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FinalRegs {
    pub cycles: u64,
    pub error: u32,
    pub error_job: u32,
    pub jobs_done: u32,
}

/// A run as the testbench sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRun {
    /// The edge each input beat was taken at (beats after the loader stopped are never taken).
    pub taken_at: Vec<u64>,
    pub outputs: Vec<OutWord>,
    /// The edge START was accepted and the edge DONE was set.
    pub start_edge: u64,
    pub done_edge: u64,
    pub regs: FinalRegs,
    /// Useful MACs (out_c x pixels x kh x kw x in_c summed over completed jobs).
    pub macs: u64,
}

/// Testbench's AXI4-Lite writes before the run: (register offset, data).
pub const SETUP_WRITES: [(u32, u32); 3] = [(0x04, 1), (0x08, 1), (0x00, 1)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loader {
    Idle,
    Desc,
    /// The two decode phases, `DECODE_EDGES` edges each (the count is the edges left).
    Dec1(usize),
    Dec2(usize),
    Check,
    Payload,
    Handoff,
    Drain,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Idle,
    ParamWait,
    ParamLoad,
    Compute,
}

/// A loaded job as the engine sees it.
#[derive(Debug, Clone, Copy)]
struct Job {
    desc: Descriptor,
    shape: JobShape,
    abank: usize,
    wbank: usize,
}

/// Per-lane requantization state loaded for the current tile.
#[derive(Debug, Clone, Default)]
struct Active {
    bias: Vec<i64>,
    mult: Vec<i64>,
    shift: Vec<u32>,
    zp: i64,
    relu: bool,
}

/// A fold whose rows are still in the array: rows to keep, and whether its last kept row is the
/// job's last output word.
#[derive(Debug, Clone, Copy)]
struct FoldTag {
    keep: usize,
    job_last: bool,
}

struct Model<'a> {
    sp: &'a SystemParams,
    acc_bits: u32,
    fold_gap: usize,
    // memories (two banks each)
    act_mem: Vec<Word>,
    wgt_mem: Vec<Word>,
    par_mem: Vec<Word>,
    out_mem: Vec<(Word, bool)>,
    // control
    bvalid: bool,
    writes_done: usize,
    running: bool,
    done: bool,
    gie: bool,
    ier: bool,
    isr: bool,
    cycles: u64,
    error: u32,
    error_job: u32,
    jobs_done: u32,
    // loader
    ls: Loader,
    desc_bytes: Vec<u8>,
    ldesc: Descriptor,
    lshape: Option<JobShape>,
    desc_last: bool,
    lcount: usize,
    lwords: usize,
    job_index: u32,
    abank: usize,
    wbank: usize,
    wloaded: Option<(usize, usize)>,
    pend: Option<Job>,
    // engine
    es: Engine,
    job: Option<Job>,
    nt: usize,
    pj: usize,
    par_cap: Option<usize>,
    par_q: Word,
    active: Active,
    // fetcher
    f_mt: usize,
    f_ws: usize,
    f_r: usize,
    f_inflight: Option<(usize, Option<usize>)>,
    aq: [Vec<Word>; 2],
    aq_cnt: usize,
    aq_wslot: usize,
    aq_rslot: usize,
    // weights and issuer
    w_q: Word,
    w_k: usize,
    i_mt: usize,
    i_ws: usize,
    i_c: usize,
    since_last: usize,
    fold_acc: Vec<Vec<i64>>,
    // array readout and requantizer
    array_rows: VecDeque<(u64, Vec<i64>)>,
    tags: VecDeque<FoldTag>,
    o_r: usize,
    rows_inflight: usize,
    s1: Option<(Vec<i64>, bool)>,
    s2: Option<(Vec<i64>, bool)>,
    // output FIFO and AXI4-Stream master
    wr_ptr: usize,
    rd_ptr: usize,
    count: usize,
    out_free: usize,
    q: Option<(Word, bool)>,
    m: Option<(Word, bool)>,
    macs: u64,
}

/// Runs the stimulus through the model until DONE is set, or returns an error after `limit` edges.
pub fn run(sp: &SystemParams, acc_bits: u32, stim: &Stimulus, limit: u64) -> Result<SystemRun, String> {
    let c = sp.cols;
    let mut m = Model {
        sp,
        acc_bits,
        fold_gap: sp.rows.max(sp.cols),
        act_mem: vec![vec![0; c]; 2 * sp.act_words],
        wgt_mem: vec![vec![0; c]; 2 * sp.weight_words],
        par_mem: vec![vec![0; c]; 2 * sp.param_words()],
        out_mem: vec![(vec![0; c], false); sp.out_words],
        bvalid: false,
        writes_done: 0,
        running: false,
        done: false,
        gie: false,
        ier: false,
        isr: false,
        cycles: 0,
        error: 0,
        error_job: 0,
        jobs_done: 0,
        ls: Loader::Idle,
        desc_bytes: Vec::new(),
        ldesc: Descriptor::default(),
        lshape: None,
        desc_last: false,
        lcount: 0,
        lwords: 0,
        job_index: 0,
        abank: 0,
        wbank: 0,
        wloaded: None,
        pend: None,
        es: Engine::Idle,
        job: None,
        nt: 0,
        pj: 0,
        par_cap: None,
        par_q: vec![0; c],
        active: Active { bias: vec![0; c], mult: vec![0; c], shift: vec![0; c], zp: 0, relu: false },
        f_mt: 0,
        f_ws: 0,
        f_r: 0,
        f_inflight: None,
        aq: [vec![vec![0; c]; sp.rows], vec![vec![0; c]; sp.rows]],
        aq_cnt: 0,
        aq_wslot: 0,
        aq_rslot: 0,
        w_q: vec![0; c],
        w_k: 0,
        i_mt: 0,
        i_ws: 0,
        i_c: 0,
        since_last: sp.rows.max(sp.cols),
        fold_acc: vec![vec![0; c]; sp.rows],
        array_rows: VecDeque::new(),
        tags: VecDeque::new(),
        o_r: 0,
        rows_inflight: 0,
        s1: None,
        s2: None,
        wr_ptr: 0,
        rd_ptr: 0,
        count: 0,
        out_free: sp.out_words,
        q: None,
        m: None,
        macs: 0,
    };
    let mut taken_at = Vec::new();
    let mut outputs = Vec::new();
    let mut start_edge = None;
    let mut offer_from = stim.gaps.first().copied().unwrap_or(0) as u64;
    for edge in 0..limit {
        let i = taken_at.len();
        let s_valid = i < stim.beats.len() && edge >= offer_from;
        let ready = stim.ready.get(edge as usize).copied().unwrap_or(true);
        let ev = m.edge(edge, s_valid.then(|| &stim.beats[i]), ready);
        if ev.start {
            start_edge = Some(edge);
        }
        if ev.in_taken {
            taken_at.push(edge);
            offer_from = edge + 1 + stim.gaps.get(i + 1).copied().unwrap_or(0) as u64;
        }
        if let Some((word, last)) = ev.out {
            outputs.push(OutWord { edge, word, last });
        }
        if ev.done {
            return Ok(SystemRun {
                taken_at,
                outputs,
                start_edge: start_edge.unwrap_or(0),
                done_edge: edge,
                regs: FinalRegs {
                    cycles: m.cycles,
                    error: m.error,
                    error_job: m.error_job,
                    jobs_done: m.jobs_done,
                },
                macs: m.macs,
            });
        }
    }
    Err(format!("the model did not finish within {limit} edges"))
}

#[derive(Default)]
struct Events {
    start: bool,
    in_taken: bool,
    out: Option<(Word, bool)>,
    done: bool,
}

impl Model<'_> {
    /// Everything that happens at one rising edge, from the values just before it.
    fn edge(&mut self, edge: u64, s_beat: Option<&InBeat>, m_ready: bool) -> Events {
        let sp = self.sp;
        let (r_n, c_n) = (sp.rows, sp.cols);
        let mut ev = Events::default();

        // ---- AXI4-Lite: the testbench's setup writes (accepted when bvalid is 0; bready = 1).
        let write =
            (self.writes_done < SETUP_WRITES.len() && !self.bvalid).then(|| SETUP_WRITES[self.writes_done]);
        let start = matches!(write, Some((0x00, d)) if d & 1 == 1) && !self.running;

        // ---- Run end: every accepted job has left, nothing in flight (values before the edge).
        let run_end = self.running
            && self.ls == Loader::Stop
            && self.es == Engine::Idle
            && self.pend.is_none()
            && self.rows_inflight == 0
            && self.s1.is_none()
            && self.s2.is_none()
            && self.count == 0
            && self.q.is_none()
            && self.m.is_none();

        // ---- Loader: s_axis_tready and the beat taken.
        let s_ready = matches!(self.ls, Loader::Desc | Loader::Payload | Loader::Drain);
        let take_in = s_ready && s_beat.is_some();
        ev.in_taken = take_in;

        // ---- Engine: the issuer's beat this edge.
        let job = self.job;
        let mut issue = false;
        let mut issue_last = false;
        let mut pop = false;
        if let (Engine::Compute, Some(j)) = (self.es, job) {
            let s = j.shape;
            let last = self.i_ws + 1 == s.kwords && self.i_c + 1 == c_n;
            let keep = r_n.min(s.pixels - self.i_mt * r_n);
            let head_ready = self.aq_cnt >= r_n;
            let arr_ready = !last || self.since_last == self.fold_gap;
            let out_ok = !last || self.out_free >= keep;
            issue = self.i_mt < s.mt && head_ready && arr_ready && out_ok;
            issue_last = issue && last;
            pop = issue && self.i_c + 1 == c_n;
        }

        // ---- Fetcher: read (or zero) one activation word if the queue has room.
        let mut fetch: Option<(usize, Option<usize>)> = None;
        if let (Engine::Compute, Some(j)) = (self.es, job) {
            let s = j.shape;
            let room = self.aq_cnt + self.f_inflight.is_some() as usize - if pop { r_n } else { 0 } < 2 * r_n;
            if self.f_mt < s.mt && room {
                fetch = Some((self.f_r, self.act_address(&j)));
            }
        }

        // ---- Array readout: the row leaving now, and its tag.
        let row_out = match self.array_rows.front() {
            Some((e, _)) if *e == edge => self.array_rows.pop_front().map(|(_, row)| row),
            _ => None,
        };

        // ---- Output FIFO read side and the AXI4-Stream master.
        let m_take = self.m.is_some() && m_ready;
        let m_free = self.m.is_none() || m_take;
        let do_move = self.q.is_some() && m_free;
        let q_free = self.q.is_none() || do_move;
        let rd = self.count > 0 && q_free;
        if m_take {
            ev.out = self.m.clone();
        }

        // ---- Engine take of the pending job; the requantizer is drained (its records may change).
        let eng_take = self.es == Engine::Idle && self.pend.is_some();
        let drained = self.rows_inflight == 0 && self.s1.is_none() && self.s2.is_none();

        // ================= register updates =================
        // control
        if let Some((addr, data)) = write {
            self.writes_done += 1;
            self.bvalid = true;
            match addr {
                0x04 => self.gie = data & 1 == 1,
                0x08 => self.ier = data & 1 == 1,
                0x0C => self.isr &= data & 1 == 0,
                _ => {}
            }
        } else {
            self.bvalid = false;
        }
        if start {
            ev.start = true;
            self.running = true;
            self.done = false;
            self.cycles = 0;
            self.error = 0;
            self.error_job = 0;
            self.jobs_done = 0;
        } else if self.running {
            self.cycles += 1;
        }
        if run_end {
            self.running = false;
            self.done = true;
            self.isr |= self.ier;
            ev.done = self.gie && self.isr;
        }
        if m_take && self.m.as_ref().is_some_and(|(_, last)| *last) {
            self.jobs_done += 1;
        }

        // loader
        let set_error = |this: &mut Self, code: u32| {
            if this.error == 0 {
                this.error = code;
                this.error_job = this.job_index;
            }
        };
        match self.ls {
            _ if start => {
                self.ls = Loader::Desc;
                self.desc_bytes.clear();
                self.job_index = 0;
                self.abank = 0;
                self.wbank = 0;
                self.wloaded = None;
            }
            Loader::Idle | Loader::Stop => {}
            Loader::Desc => {
                if let Some(b) = s_beat.filter(|_| take_in) {
                    self.desc_bytes.extend_from_slice(&b.word);
                    let full = self.desc_bytes.len() == crate::system::DESCRIPTOR_BYTES;
                    if b.last && !full {
                        set_error(self, crate::system::JobError::Frame.code());
                        self.ls = Loader::Stop;
                    } else if full {
                        let bytes: [u8; 32] = self.desc_bytes[..].try_into().expect("32 bytes");
                        self.ldesc = Descriptor::from_bytes(&bytes);
                        self.desc_last = b.last;
                        self.desc_bytes.clear();
                        self.ls = Loader::Dec1(DECODE_EDGES);
                    }
                }
            }
            Loader::Dec1(n) => self.ls = if n > 1 { Loader::Dec1(n - 1) } else { Loader::Dec2(DECODE_EDGES) },
            Loader::Dec2(n) => self.ls = if n > 1 { Loader::Dec2(n - 1) } else { Loader::Check },
            Loader::Check => match self.ldesc.check(sp, self.wloaded) {
                Err(e) => {
                    set_error(self, e.code());
                    self.ls = if self.desc_last { Loader::Stop } else { Loader::Drain };
                }
                Ok(_) if self.desc_last => {
                    set_error(self, crate::system::JobError::Frame.code());
                    self.ls = Loader::Stop;
                }
                Ok(s) => {
                    self.lshape = Some(s);
                    self.lcount = 0;
                    self.lwords = self.ldesc.frame_words(sp, &s) - sp.desc_words;
                    self.ls = Loader::Payload;
                }
            },
            Loader::Payload => {
                if let Some(b) = s_beat.filter(|_| take_in) {
                    let s = self.lshape.expect("payload has a shape");
                    let lw = self.ldesc.load_weights();
                    let (pw, ww) = if lw { (s.param_words, s.weight_words) } else { (0, 0) };
                    let i = self.lcount;
                    let nb = 1 - self.wbank;
                    if i < pw {
                        self.par_mem[nb * sp.param_words() + i] = b.word.clone();
                    } else if i < pw + ww {
                        self.wgt_mem[nb * sp.weight_words + i - pw] = b.word.clone();
                    } else {
                        self.act_mem[self.abank * sp.act_words + i - pw - ww] = b.word.clone();
                    }
                    self.lcount += 1;
                    let end = self.lcount == self.lwords;
                    if b.last && !end {
                        set_error(self, crate::system::JobError::Frame.code());
                        self.ls = Loader::Stop;
                    } else if end && !b.last {
                        set_error(self, crate::system::JobError::Frame.code());
                        self.ls = Loader::Drain;
                    } else if end {
                        let wbank = if lw { nb } else { self.wbank };
                        self.pend = Some(Job { desc: self.ldesc, shape: s, abank: self.abank, wbank });
                        if lw {
                            self.wbank = nb;
                            self.wloaded = Some((s.nt, s.kwords));
                        }
                        self.abank = 1 - self.abank;
                        self.job_index += 1;
                        self.ls = Loader::Handoff;
                    }
                }
            }
            Loader::Handoff => {
                if eng_take {
                    self.ls = if self.ldesc.last() { Loader::Stop } else { Loader::Desc };
                }
            }
            Loader::Drain => {
                if s_beat.is_some_and(|b| take_in && b.last) {
                    self.ls = Loader::Stop;
                }
            }
        }

        // array: the beat issued now
        if issue {
            let s = job.expect("issuing needs a job").shape;
            let a_lanes: Vec<i64> =
                (0..r_n).map(|r| self.aq[self.aq_rslot][r][self.i_c] as i8 as i64).collect();
            let b_lanes: Vec<i64> = self.w_q.iter().map(|&b| b as i8 as i64).collect();
            for (r, row) in self.fold_acc.iter_mut().enumerate() {
                for (c, sum) in row.iter_mut().enumerate() {
                    *sum = mac(*sum, a_lanes[r], b_lanes[c], self.acc_bits);
                }
            }
            if issue_last {
                let keep = r_n.min(s.pixels - self.i_mt * r_n);
                let job_last = self.nt + 1 == s.nt && self.i_mt + 1 == s.mt;
                for r in 0..r_n {
                    let leaves = edge + r as u64 + c_n as u64 + 1;
                    self.array_rows
                        .push_back((leaves, std::mem::replace(&mut self.fold_acc[r], vec![0; c_n])));
                }
                self.tags.push_back(FoldTag { keep, job_last });
                self.rows_inflight += r_n;
                self.out_free -= keep;
            }
        }
        // the array's fold pacing (its own register)
        if issue_last {
            self.since_last = 1;
        } else if self.since_last != self.fold_gap {
            self.since_last += 1;
        }

        // requantizer: stage 2 writes the FIFO, stage 1 multiplies, the row from the array adds bias
        if let Some((vals, last)) = self.s2.take() {
            let a = &self.active;
            let word: Word =
                (0..c_n).map(|c| requant_tail(vals[c], a.shift[c], a.zp, a.relu) as i8 as u8).collect();
            self.out_mem[self.wr_ptr] = (word, last);
            self.wr_ptr = (self.wr_ptr + 1) % sp.out_words;
            self.count += 1;
        }
        if let Some((sums, last)) = self.s1.take() {
            self.s2 = Some(((0..c_n).map(|c| sums[c] * self.active.mult[c]).collect(), last));
        }
        if let Some(row) = row_out {
            let tag = *self.tags.front().expect("a row leaves with its fold's tag");
            let keep = self.o_r < tag.keep;
            let last = tag.job_last && self.o_r + 1 == tag.keep;
            if keep {
                self.s1 = Some(((0..c_n).map(|c| row[c] + self.active.bias[c]).collect(), last));
            }
            self.o_r += 1;
            if self.o_r == r_n {
                self.o_r = 0;
                self.tags.pop_front();
            }
            self.rows_inflight -= 1;
        }

        // output FIFO read side and the m_axis register
        if do_move {
            self.m = self.q.take();
        } else if m_take {
            self.m = None;
        }
        if rd {
            self.q = Some(self.out_mem[self.rd_ptr].clone());
            self.rd_ptr = (self.rd_ptr + 1) % sp.out_words;
            self.count -= 1;
            self.out_free += 1;
        }

        // param capture (a record word read at the previous edge)
        if let Some(j) = self.par_cap.take() {
            for c in 0..c_n {
                let byte = self.par_q[c] as u64;
                let rec = record_bytes(&self.active, c) & !(0xffu64 << (8 * j)) | (byte << (8 * j));
                set_record(&mut self.active, c, rec);
            }
        }

        // fetcher: capture, then read
        if let Some((r, addr)) = self.f_inflight.take() {
            let slot = self.aq_wslot;
            self.aq[slot][r] = addr.map_or_else(|| vec![0; c_n], |a| self.act_mem[a].clone());
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
            self.f_inflight = Some(f);
            let s = job.expect("fetching needs a job").shape;
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

        // engine sequencer, weight reader, issuer counters
        match self.es {
            Engine::Idle => {
                if eng_take {
                    let j = self.pend.take().expect("taken job");
                    let d = &j.desc;
                    self.macs +=
                        d.out_c as u64 * j.shape.pixels as u64 * d.kh as u64 * d.kw as u64 * d.in_c as u64;
                    self.job = Some(j);
                    self.nt = 0;
                    self.es = Engine::ParamWait;
                }
            }
            Engine::ParamWait => {
                if drained {
                    let d = self.job.expect("a job").desc;
                    self.active.zp = d.out_zp as i64;
                    self.active.relu = d.relu();
                    self.pj = 0;
                    self.es = Engine::ParamLoad;
                }
            }
            Engine::ParamLoad => {
                let j = self.job.expect("a job");
                let base = j.wbank * sp.param_words() + self.nt * PARAM_WORDS_PER_TILE;
                self.par_q = self.par_mem[base + self.pj].clone();
                self.par_cap = Some(self.pj);
                self.pj += 1;
                if self.pj == PARAM_WORDS_PER_TILE {
                    // prime the weight reader with the tile's first word
                    self.w_k = 0;
                    self.w_q = self.wgt_mem[self.weight_base(&j)].clone();
                    (self.f_mt, self.f_ws, self.f_r) = (0, 0, 0);
                    (self.i_mt, self.i_ws, self.i_c) = (0, 0, 0);
                    self.es = Engine::Compute;
                }
            }
            Engine::Compute => {
                if issue {
                    let j = self.job.expect("a job");
                    let k = j.shape.k(c_n);
                    self.w_k = (self.w_k + 1) % k;
                    self.w_q = self.wgt_mem[self.weight_base(&j) + self.w_k].clone();
                    self.i_c += 1;
                    if self.i_c == c_n {
                        self.i_c = 0;
                        self.i_ws += 1;
                        if self.i_ws == j.shape.kwords {
                            self.i_ws = 0;
                            self.i_mt += 1;
                            if self.i_mt == j.shape.mt {
                                self.nt += 1;
                                self.es =
                                    if self.nt == j.shape.nt { Engine::Idle } else { Engine::ParamWait };
                            }
                        }
                    }
                }
            }
        }
        ev
    }

    /// Scratchpad address of the current tile's first weight word.
    fn weight_base(&self, j: &Job) -> usize {
        j.wbank * self.sp.weight_words + self.nt * j.shape.k(self.sp.cols)
    }

    /// The activation address of the fetcher's slot, or None for a zero word.
    fn act_address(&self, j: &Job) -> Option<usize> {
        let (sp, d, s) = (self.sp, &j.desc, &j.shape);
        let p = self.f_mt * sp.rows + self.f_r;
        if p >= s.pixels {
            return None;
        }
        let cb = self.f_ws % s.cb;
        let kx = (self.f_ws / s.cb) % d.kw as usize;
        let ky = self.f_ws / s.cb / d.kw as usize;
        let (oy, ox) = (p / d.out_w as usize, p % d.out_w as usize);
        let iy = (oy * d.stride_h as usize + ky * d.dil_h as usize) as i64 - d.pad_top as i64;
        let ix = (ox * d.stride_w as usize + kx * d.dil_w as usize) as i64 - d.pad_left as i64;
        if iy < 0 || ix < 0 || iy >= d.in_h as i64 || ix >= d.in_w as i64 {
            return None;
        }
        Some(j.abank * sp.act_words + cb * s.plane + iy as usize * d.in_w as usize + ix as usize)
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
