//! The system top's cycle-exact model (mirrors `templates/system_*.v.tera`): every register of the
//! loader, the engine (sequencer, and a compute core per dataflow: activation fetcher, weight reader,
//! beat issuer and the array's pacing and readout timing), the output stage (requantizer, output
//! FIFO, AXI4-Stream master) and the control registers, stepped one clock edge at a time, driven by
//! the same stimulus as the testbench: input beats with idle gaps, and m_axis_tready per edge.
//!
//! Edge 0 is the first rising edge with aresetn = 1. The testbench writes GIE = 1, IER = 1 and
//! CTRL = START (AXI4-Lite, bready held at 1), which are accepted at edges 0, 2 and 4; the run
//! starts at edge 4.
//!
//! Per job, per output-channel tile nt: wait until the rows of earlier tiles have left the
//! requantizer (its records are about to change), read the tile's 8 record words, then compute the
//! tile's output pixels on the array (`os_core`: output-stationary, `ws_core`: weight-stationary).

mod fetcher;
mod os_core;
mod output;
mod sac_core;
mod ws_core;

use crate::config::Dataflow;
use crate::system::layout::Word;
use crate::system::{Descriptor, JobError, JobShape, SystemParams, DECODE_EDGES, PARAM_WORDS_PER_TILE};
pub use output::requant_tail;
use output::OutputStage;
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

/// The part of a frame's payload the loader is writing (each from address 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Par,
    /// SAC systems: the two directory words.
    Dir,
    /// The weights; on a SAC system, column c's stream.
    Wgt(usize),
    Act,
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
pub(super) struct Job {
    desc: Descriptor,
    shape: JobShape,
    abank: usize,
    wbank: usize,
}

/// A row on its way through the array: the edge it leaves at, its sums, whether the requantizer
/// keeps it (rows of pixels past the end are dropped) and whether it is the job's last output word.
pub(super) struct ArrayRow {
    pub edge: u64,
    pub vals: Vec<i64>,
    pub keep: bool,
    pub last: bool,
}

/// What an engine's compute core sees at one edge (values before the edge).
pub(super) struct Ctx<'a> {
    pub sp: &'a SystemParams,
    pub acc_bits: u32,
    job: Option<&'a Job>,
    computing: bool,
    /// The current output-channel tile.
    pub nt: usize,
    pub out_free: usize,
    pub act_mem: &'a [Word],
    pub wgt_mem: &'a [Word],
    pub col_mem: &'a [Vec<u64>],
}

impl Ctx<'_> {
    /// The job, while the engine computes a tile.
    pub fn computing(&self) -> Option<&Job> {
        self.job.filter(|_| self.computing)
    }

    /// The job (a core acts on one only while computing).
    pub fn job(&self) -> &Job {
        self.job.expect("the engine has a job")
    }

    /// Scratchpad address of the current tile's first weight word.
    pub fn weight_base(&self) -> usize {
        let j = self.job();
        j.wbank * self.sp.weight_words + self.nt * j.shape.k(self.sp.cols)
    }

    /// The activation word of output pixel p for reduction word ws = (ky, kx, cb), by implicit im2col
    /// addressing, or None where the window reads padding.
    pub fn act_address(&self, p: usize, ws: usize) -> Option<usize> {
        let j = self.job();
        let (d, s) = (&j.desc, &j.shape);
        let cb = ws % s.cb;
        let kx = (ws / s.cb) % d.kw as usize;
        let ky = ws / s.cb / d.kw as usize;
        let (oy, ox) = (p / d.out_w as usize, p % d.out_w as usize);
        let iy = (oy * d.stride_h as usize + ky * d.dil_h as usize) as i64 - d.pad_top as i64;
        let ix = (ox * d.stride_w as usize + kx * d.dil_w as usize) as i64 - d.pad_left as i64;
        if iy < 0 || ix < 0 || iy >= d.in_h as i64 || ix >= d.in_w as i64 {
            return None;
        }
        Some(j.abank * self.sp.act_words + cb * s.plane + iy as usize * d.in_w as usize + ix as usize)
    }
}

/// What a compute core did at one edge.
#[derive(Default)]
pub(super) struct Step {
    /// Output FIFO words reserved for rows sent into the array.
    pub reserve: usize,
    /// The tile's last beat was sent.
    pub tile_done: bool,
}

/// An engine's compute core: its fetcher, weight reader, issuer and array.
pub(super) trait Core {
    /// The tile starts (at the edge of its last record read): prime the weight reader, reset counters.
    fn prime(&mut self, ctx: &Ctx);
    /// One edge: decisions from the values before it, then the core's register updates; rows sent
    /// into the array are appended to `rows` with the edge they leave at.
    fn edge(&mut self, ctx: &Ctx, edge: u64, rows: &mut VecDeque<ArrayRow>) -> Step;
    /// Rows of reserved folds that the array has not emitted yet (a core that appends a fold's rows
    /// when it sends the fold has none).
    fn rows_in_flight(&self) -> usize {
        0
    }
}

struct Model<'a> {
    sp: &'a SystemParams,
    acc_bits: u32,
    // memories (two banks each)
    act_mem: Vec<Word>,
    wgt_mem: Vec<Word>,
    /// SAC systems: each column's weight scratchpad (two banks), one stream word per entry.
    col_mem: Vec<Vec<u64>>,
    par_mem: Vec<Word>,
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
    region: Region,
    laddr: usize,
    /// SAC systems: column stream lengths from the directory, and the stream checker's group and
    /// tile counters of the column being loaded.
    dir_lens: Vec<usize>,
    ld_g: usize,
    ld_t: usize,
    job_index: u32,
    abank: usize,
    wbank: usize,
    wloaded: Option<(usize, usize)>,
    pend: Option<Job>,
    // engine sequencer and its compute core
    es: Engine,
    job: Option<Job>,
    nt: usize,
    pj: usize,
    core: Box<dyn Core>,
    array_rows: VecDeque<ArrayRow>,
    out: OutputStage,
    macs: u64,
}

/// Runs the stimulus through the model until DONE is set, or returns an error after `limit` edges.
pub fn run(sp: &SystemParams, acc_bits: u32, stim: &Stimulus, limit: u64) -> Result<SystemRun, String> {
    let c = sp.cols;
    let core: Box<dyn Core> = match (&sp.sac, sp.dataflow) {
        (Some(sac), _) => Box::new(sac_core::SacCore::new(sp.rows, c, sac, acc_bits, sp.pipeline)),
        (None, Dataflow::OutputStationary) => Box::new(os_core::OsCore::new(sp.rows, c, sp.pipeline)),
        (None, Dataflow::WeightStationary) => {
            Box::new(ws_core::WsCore::new(sp.rows, c, sp.acc_depth, sp.pipeline))
        }
    };
    let mut m = Model {
        sp,
        acc_bits,
        act_mem: vec![vec![0; c]; 2 * sp.act_words],
        wgt_mem: if sp.sac.is_some() { Vec::new() } else { vec![vec![0; c]; 2 * sp.weight_words] },
        col_mem: if sp.sac.is_some() { vec![vec![0; 2 * sp.weight_words]; c] } else { Vec::new() },
        par_mem: vec![vec![0; c]; 2 * sp.param_words()],
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
        region: Region::Act,
        laddr: 0,
        dir_lens: vec![0; c],
        ld_g: 0,
        ld_t: 0,
        job_index: 0,
        abank: 0,
        wbank: 0,
        wloaded: None,
        pend: None,
        es: Engine::Idle,
        job: None,
        nt: 0,
        pj: 0,
        core,
        array_rows: VecDeque::new(),
        out: OutputStage::new(c, sp.out_words),
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
        let mut ev = Events::default();

        // ---- AXI4-Lite: the testbench's setup writes (accepted when bvalid is 0; bready = 1).
        let write =
            (self.writes_done < SETUP_WRITES.len() && !self.bvalid).then(|| SETUP_WRITES[self.writes_done]);
        let start = matches!(write, Some((0x00, d)) if d & 1 == 1) && !self.running;

        // ---- Run end: every accepted job has left, nothing in flight (values before the edge).
        let drained =
            self.array_rows.is_empty() && self.core.rows_in_flight() == 0 && self.out.requant_empty();
        let run_end = self.running
            && self.ls == Loader::Stop
            && self.es == Engine::Idle
            && self.pend.is_none()
            && drained
            && self.out.idle();

        // ---- Loader: s_axis_tready and the beat taken.
        let s_ready = matches!(self.ls, Loader::Desc | Loader::Payload | Loader::Drain);
        let take_in = s_ready && s_beat.is_some();
        ev.in_taken = take_in;

        // ---- Engine take of the pending job; the requantizer is drained (its records may change).
        let eng_take = self.es == Engine::Idle && self.pend.is_some();

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

        self.loader(start, s_beat.filter(|_| take_in), eng_take);

        // compute core, array readout, output stage
        let ctx = Ctx {
            sp,
            acc_bits: self.acc_bits,
            job: self.job.as_ref(),
            computing: self.es == Engine::Compute,
            nt: self.nt,
            out_free: self.out.out_free,
            act_mem: &self.act_mem,
            wgt_mem: &self.wgt_mem,
            col_mem: &self.col_mem,
        };
        let row_out = match self.array_rows.front() {
            Some(r) if r.edge == edge => self.array_rows.pop_front(),
            _ => None,
        };
        let step = self.core.edge(&ctx, edge, &mut self.array_rows);
        ev.out = self.out.edge(row_out, step.reserve, m_ready);
        if ev.out.as_ref().is_some_and(|(_, last)| *last) {
            self.jobs_done += 1;
        }

        // engine sequencer
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
                    self.out.active.zp = d.out_zp as i64;
                    self.out.active.relu = d.relu();
                    self.pj = 0;
                    self.es = Engine::ParamLoad;
                }
            }
            Engine::ParamLoad => {
                let j = self.job.expect("a job");
                let base = j.wbank * sp.param_words() + self.nt * PARAM_WORDS_PER_TILE;
                self.out.par_q = self.par_mem[base + self.pj].clone();
                self.out.par_cap = Some(self.pj);
                self.pj += 1;
                if self.pj == PARAM_WORDS_PER_TILE {
                    let ctx = Ctx {
                        sp,
                        acc_bits: self.acc_bits,
                        job: Some(&j),
                        computing: true,
                        nt: self.nt,
                        out_free: self.out.out_free,
                        act_mem: &self.act_mem,
                        wgt_mem: &self.wgt_mem,
                        col_mem: &self.col_mem,
                    };
                    self.core.prime(&ctx);
                    self.es = Engine::Compute;
                }
            }
            Engine::Compute => {
                if step.tile_done {
                    self.nt += 1;
                    let nt = self.job.expect("a job").shape.nt;
                    self.es = if self.nt == nt { Engine::Idle } else { Engine::ParamWait };
                }
            }
        }
        ev
    }

    /// The loader's register updates: descriptor bytes, decode and checks, payload words into the free
    /// banks, the handoff to the engine, and draining a bad frame. `beat` is the beat taken at this edge.
    fn loader(&mut self, start: bool, beat: Option<&InBeat>, eng_take: bool) {
        let sp = self.sp;
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
                if let Some(b) = beat {
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
                    self.region = if self.ldesc.load_weights() { Region::Par } else { Region::Act };
                    self.laddr = 0;
                    self.ls = Loader::Payload;
                }
            },
            Loader::Payload => {
                if let Some(b) = beat {
                    self.payload_beat(b);
                }
            }
            Loader::Handoff => {
                if eng_take {
                    self.ls = if self.ldesc.last() { Loader::Stop } else { Loader::Desc };
                }
            }
            Loader::Drain => {
                if beat.is_some_and(|b| b.last) {
                    self.ls = Loader::Stop;
                }
            }
        }
    }

    /// A payload beat: written to its region's bank (the free one), checked, and the frame's end.
    fn payload_beat(&mut self, b: &InBeat) {
        let sp = self.sp;
        let s = self.lshape.expect("payload has a shape");
        let (i, nb) = (self.laddr, 1 - self.wbank);
        let size = match self.region {
            Region::Par => s.param_words,
            Region::Dir => crate::system::kneaded::DIRECTORY_WORDS,
            Region::Wgt(c) if sp.sac.is_some() => self.dir_lens[c],
            Region::Wgt(_) => s.weight_words,
            Region::Act => s.act_words,
        };
        let region_end = i + 1 == size;
        let frame_end = self.region == Region::Act && region_end;
        // SAC systems: the directory's lengths, and each column word's flags (values before the edge)
        let mut stream_error = None;
        match self.region {
            Region::Par => self.par_mem[nb * sp.param_words() + i] = b.word.clone(),
            Region::Dir => {
                for (c, len) in self.dir_lens.iter_mut().enumerate() {
                    *len = *len & !(0xff << (8 * i)) | (b.word[c] as usize) << (8 * i);
                }
                if region_end {
                    if self.dir_lens.iter().any(|&l| l > sp.weight_words) {
                        stream_error = Some(JobError::WeightOverflow);
                    } else if self.dir_lens.contains(&0) {
                        stream_error = Some(JobError::BadStream);
                    }
                }
            }
            Region::Wgt(c) => match &sp.sac {
                Some(sac) => {
                    let v = crate::system::kneaded::value_of(&b.word);
                    self.col_mem[c][nb * sp.weight_words + i] = v;
                    let (ge, fe) = sac.flags(v);
                    let g_last = self.ld_g + 1 == s.kwords;
                    let t_last = self.ld_t + 1 == s.nt;
                    if fe != (ge && g_last) || (fe && t_last) != region_end {
                        stream_error = Some(JobError::BadStream);
                    }
                    if ge {
                        self.ld_g = if g_last { 0 } else { self.ld_g + 1 };
                    }
                    if fe {
                        self.ld_t += 1;
                    }
                }
                None => self.wgt_mem[nb * sp.weight_words + i] = b.word.clone(),
            },
            Region::Act => self.act_mem[self.abank * sp.act_words + i] = b.word.clone(),
        }
        let set_error = |this: &mut Self, e: JobError| {
            if this.error == 0 {
                this.error = e.code();
                this.error_job = this.job_index;
            }
        };
        if b.last && !frame_end {
            set_error(self, JobError::Frame);
            self.ls = Loader::Stop;
        } else if let Some(e) = stream_error {
            set_error(self, e);
            self.ls = Loader::Drain;
        } else if frame_end && !b.last {
            set_error(self, JobError::Frame);
            self.ls = Loader::Drain;
        } else if frame_end {
            let lw = self.ldesc.load_weights();
            let wbank = if lw { nb } else { self.wbank };
            self.pend = Some(Job { desc: self.ldesc, shape: s, abank: self.abank, wbank });
            if lw {
                self.wbank = nb;
                self.wloaded = Some((s.nt, s.kwords));
            }
            self.abank = 1 - self.abank;
            self.job_index += 1;
            self.ls = Loader::Handoff;
        } else if region_end {
            self.region = match self.region {
                Region::Par if sp.sac.is_some() => Region::Dir,
                Region::Par => Region::Wgt(0),
                Region::Dir => Region::Wgt(0),
                Region::Wgt(c) if sp.sac.is_some() && c + 1 < sp.cols => Region::Wgt(c + 1),
                Region::Wgt(_) | Region::Act => Region::Act,
            };
            self.laddr = 0;
            (self.ld_g, self.ld_t) = (0, 0);
        } else {
            self.laddr += 1;
        }
    }
}
