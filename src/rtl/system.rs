//! The system top's Verilog: every width, literal and name of `templates/system_*.v.tera` is
//! computed here from `SystemParams` (the templates do no arithmetic).

use super::render;
use super::verilog::lit;
use crate::config::derive::clog2;
use crate::config::Dataflow;
use crate::system::regs::{self, REGISTERS};
use crate::system::{SystemParams, DECODE_EDGES};

// The loader's decode steps through the bits of 16-bit operands (a 4-bit step counter, 15 .. 0).
const _: () = assert!(DECODE_EDGES == 16);
use anyhow::Result;
use serde::Serialize;

/// Module names of the system's parts.
pub struct SystemNames {
    pub top: String,
}

impl SystemNames {
    pub fn of(sp: &SystemParams) -> SystemNames {
        SystemNames { top: sp.top.clone() }
    }
    pub fn part(&self, part: &str) -> String {
        format!("{}_{part}", self.top)
    }
}

/// One RAM of the system top, as the FPGA flow and the synthesis reports see it: a scratchpad bank
/// (`<top>_spad`, single port, synchronous read) or the output FIFO's storage (`<top>_fifo_mem`,
/// simple dual port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ram {
    /// The scratchpad it belongs to: `act`, `wgt`, `par` (two banks each) or `fifo`.
    pub group: &'static str,
    /// The memory's name once the design is flattened into the top (`u_act0.mem`,
    /// `u_engine.u_fifo.mem`): what Yosys's `memory_libmap` logs and what a `ram_style` attribute is set on.
    pub memory: String,
    /// The RAM module it is an instance of.
    pub module: String,
    /// Words (2^address bits) and bits per word.
    pub words: usize,
    pub bits: u32,
    /// True for the simple dual-port FIFO storage (one write and one read port).
    pub dual_port: bool,
}

impl Ram {
    pub fn total_bits(&self) -> u64 {
        self.words as u64 * self.bits as u64
    }
}

/// The RAMs of the system top: two banks each of activations, weights and requantization records
/// (the instances `u_<group><bank>` of `system_top.v.tera`), and the output FIFO of the engine.
pub fn rams(sp: &SystemParams) -> Vec<Ram> {
    let n = SystemNames::of(sp);
    let w = widths(sp);
    let mut rams = Vec::new();
    for (group, abits) in [("act", w.act_ab), ("wgt", w.wgt_ab), ("par", w.par_ab)] {
        for bank in 0..2 {
            match (&sp.sac, group) {
                // a SAC system: one weight scratchpad per column
                (Some(sac), "wgt") => rams.extend((0..sp.cols).map(|c| Ram {
                    group,
                    memory: format!("u_{group}{bank}_c{c}.mem"),
                    module: n.part("spad"),
                    words: 1 << abits,
                    bits: sac.stream_word_bits(),
                    dual_port: false,
                })),
                _ => rams.push(Ram {
                    group,
                    memory: format!("u_{group}{bank}.mem"),
                    module: n.part("spad"),
                    words: 1 << abits,
                    bits: sp.stream_bits,
                    dual_port: false,
                }),
            }
        }
    }
    rams.push(Ram {
        group: "fifo",
        memory: "u_engine.u_fifo.mem".into(),
        module: n.part("fifo_mem"),
        words: 1 << w.out_ab,
        bits: sp.stream_bits + 1,
        dual_port: true,
    });
    rams
}

/// Widths shared by the templates.
struct Widths {
    act_ab: u32,
    wgt_ab: u32,
    par_ab: u32,
    out_ab: u32,
    rb: u32,
    cb: u32,
    log_r: u32,
    log_c: u32,
    wkb: u32,
    aqb: u32,
    kpb: u32,
    rib: u32,
    dib: u32,
    lab: u32,
}

fn widths(sp: &SystemParams) -> Widths {
    let ab = |n: usize| clog2(n as u64).max(1);
    let (act_ab, wgt_ab, par_ab) = (ab(sp.act_words), ab(sp.weight_words), ab(sp.param_words()));
    Widths {
        act_ab,
        wgt_ab,
        par_ab,
        out_ab: ab(sp.out_words),
        rb: ab(sp.rows),
        cb: ab(sp.cols),
        log_r: clog2(sp.rows as u64),
        log_c: clog2(sp.cols as u64),
        wkb: wgt_ab + 1,
        aqb: clog2(2 * sp.rows as u64 + 1),
        kpb: clog2(sp.rows as u64 + 1),
        // rows in flight: at most three folds of R (folds are at least C >= R edges apart)
        rib: clog2(4 * sp.rows as u64 + 1),
        dib: ab(sp.desc_words),
        lab: act_ab.max(wgt_ab).max(par_ab) + 1,
    }
}

/// The bits of each (signal, width, lo, len) outside [lo + len - 1 : lo], as a concatenation list.
fn dropped_bits(slices: &[(&str, u32, u32, u32)]) -> String {
    let mut parts = Vec::new();
    for &(name, width, lo, len) in slices {
        if lo + len < width {
            parts.push(format!("{name}[{}:{}]", width - 1, lo + len));
        }
        if lo > 0 {
            parts.push(format!("{name}[{}:0]", lo - 1));
        }
    }
    parts.join(", ")
}

fn zext(signal: &str, from: u32, to: u32) -> String {
    if to == from {
        signal.to_string()
    } else {
        format!("{{{}, {signal}}}", lit(to - from, 0))
    }
}

/// What `system_output_stage.v.tera` (included by both engines) needs.
#[derive(Serialize)]
struct OutputView {
    fifo_mem: String,
    out_ab: u32,
    out_ab_m1: u32,
    out_ab_zero: String,
    out_ab_one: String,
    out_words: String,
    count_zero: String,
    count_wr: String,
    count_rd: String,
}

impl OutputView {
    fn of(sp: &SystemParams, w: &Widths) -> OutputView {
        let count_bits = w.out_ab + 1;
        OutputView {
            fifo_mem: SystemNames::of(sp).part("fifo_mem"),
            out_ab: w.out_ab,
            out_ab_m1: w.out_ab - 1,
            out_ab_zero: lit(w.out_ab, 0),
            out_ab_one: lit(w.out_ab, 1),
            out_words: lit(count_bits, sp.out_words as u64),
            count_zero: lit(count_bits, 0),
            count_wr: zext("s2_valid", 1, count_bits),
            count_rd: zext("rd", 1, count_bits),
        }
    }
}

#[derive(Serialize)]
struct EngineView {
    #[serde(flatten)]
    common: EngineCommon,
    keep_to_count: String,
    keep_full: String,
    kpb_m1: u32,
    kpb_one: String,
    rb_m1: u32,
    rb_zero: String,
    rb_one: String,
    r_last: String,
    cb_m1: u32,
    cb_zero: String,
    cb_one: String,
    c_last: String,
    aqb: u32,
    aqb_m1: u32,
    aqb_zero: String,
    aq_r: String,
    aq_r1: String,
    aq_zero1: String,
    aq_2r1: String,
    aq_inflight: String,
    rib_m1: u32,
    rib_zero: String,
    rib_r: String,
    rib_row: String,
}

#[derive(Serialize)]
struct LoaderView {
    header: String,
    module: String,
    desc_words: usize,
    w: u32,
    w_m1: u32,
    act_ab: u32,
    act_ab_m1: u32,
    wgt_ab_m1: u32,
    par_ab_m1: u32,
    dib_m1: u32,
    dib_zero: String,
    dib_one: String,
    dib_last: String,
    c_m1_32: String,
    r_m1_40: String,
    unused_bits: String,
    log_c: u32,
    log_c_plus15: u32,
    log_r: u32,
    log_r_plus31: u32,
    log_c_zero: String,
    wgtw_m1: u32,
    act_words_48: String,
    weight_words_w: String,
    param_tiles_16: String,
    lab_m1: u32,
    lab_zero: String,
    lab_one: String,
    r_pw_expr: String,
    dec_edges: usize,
    ab_zero: String,
    in_w_ab: String,
    e_wgt_expr: String,
    sac: bool,
    cols: usize,
    cols_m1: usize,
    lens_m1: usize,
    colb_m1: u32,
    colb_zero: String,
    colb_one: String,
    col_last: String,
    weight_words_16: String,
    lab_two: String,
    col_len_lab: String,
    group_end_bit: u32,
    fold_end_bit: u32,
}

#[derive(Serialize)]
struct ReadEntry {
    index: u32,
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct CtrlView {
    header: String,
    module: String,
    reg_ctrl: u32,
    reg_gie: u32,
    reg_ier: u32,
    reg_isr: u32,
    read_map: Vec<ReadEntry>,
}

#[derive(Serialize)]
struct BankView {
    name: String,
    abits: u32,
    width: String,
    wdata: String,
    write: String,
    read: String,
    waddr: String,
    raddr: String,
    q: String,
}

#[derive(Serialize)]
struct TopView {
    header: String,
    dataflow: &'static str,
    module: String,
    header_file: String,
    array: String,
    ctrl: String,
    loader: String,
    engine: String,
    spad: String,
    rows: usize,
    cols: usize,
    w: u32,
    w_m1: u32,
    act_ab: u32,
    act_ab_m1: u32,
    wgt_ab_m1: u32,
    par_ab_m1: u32,
    job_fields: Vec<&'static str>,
    banks: Vec<BankView>,
    sac: bool,
    colb_m1: u32,
    weights_what: &'static str,
    e_wgt_re_m1: usize,
    e_wgt_addr_m1: u32,
    wgt_q_m1: u32,
    wgt_q_what: &'static str,
}

const JOB_FIELDS: &[&str] = &[
    "p_in_h", "p_in_w", "p_out_w", "p_kw", "p_sh", "p_sw", "p_dh", "p_dw", "p_pt", "p_pl", "p_zp", "p_relu",
    "p_cb", "p_nt", "p_kwords", "p_pixels", "p_mt", "p_plane", "p_ptw", "p_shw", "p_dhw",
];

fn reg_index(name: &str) -> u32 {
    regs::offset(name) / 4
}

fn read_value(name: &str, sp: &SystemParams) -> String {
    match name {
        "CTRL" => "{29'd0, !running, done, running}".into(),
        "GIE" => "{31'd0, gie}".into(),
        "IER" => "{31'd0, ier}".into(),
        "ISR" => "{31'd0, isr}".into(),
        "CYCLES_LO" => "cycles[31:0]".into(),
        "CYCLES_HI" => "cycles[63:32]".into(),
        "ERROR" => "{28'd0, error}".into(),
        "ERROR_JOB" => "{16'd0, error_job}".into(),
        "JOBS_DONE" => "jobs_done".into(),
        "ID" => format!("32'h{:08x}", regs::ID_VALUE),
        "ARRAY" => format!("{{16'd{}, 16'd{}}}", sp.cols, sp.rows),
        "ACT_WORDS" => lit(32, sp.act_words as u64),
        "WEIGHT_WORDS" => lit(32, sp.weight_words as u64),
        "PARAM_TILES" => lit(32, sp.param_tiles as u64),
        "OUT_WORDS" => lit(32, sp.out_words as u64),
        other => panic!("register {other} has no read value"),
    }
}

/// What both engine templates use: names, stream and array widths, address widths, the weight
/// index, the record address, and the shared output stage.
#[derive(Serialize)]
struct EngineCommon {
    header: String,
    module: String,
    array: String,
    #[serde(flatten)]
    output: OutputView,
    rows: usize,
    cols: usize,
    w: u32,
    w_m1: u32,
    w_zero: String,
    a_m1: u32,
    acc_all_m1: u32,
    act_ab: u32,
    act_ab_m1: u32,
    wgt_ab_m1: u32,
    par_ab_m1: u32,
    wkb: u32,
    wkb_m1: u32,
    wkb_zero: String,
    wkb_one: String,
    k_full_m1: u32,
    log_c_zero: String,
    ab_zero: String,
    par_addr: String,
}

impl EngineCommon {
    fn of(header: &str, sp: &SystemParams, array: &str) -> EngineCommon {
        let w = widths(sp);
        let wb = sp.stream_bits;
        EngineCommon {
            header: header.into(),
            module: SystemNames::of(sp).part("engine"),
            array: array.into(),
            output: OutputView::of(sp, &w),
            rows: sp.rows,
            cols: sp.cols,
            w: wb,
            w_m1: wb - 1,
            w_zero: lit(wb, 0),
            a_m1: sp.rows as u32 * 8 - 1,
            acc_all_m1: sp.cols as u32 * 32 - 1,
            act_ab: w.act_ab,
            act_ab_m1: w.act_ab - 1,
            wgt_ab_m1: w.wgt_ab - 1,
            par_ab_m1: w.par_ab - 1,
            wkb: w.wkb,
            wkb_m1: w.wkb - 1,
            wkb_zero: lit(w.wkb, 0),
            wkb_one: lit(w.wkb, 1),
            k_full_m1: 21 + w.log_c - 1,
            log_c_zero: lit(w.log_c, 0),
            ab_zero: lit(w.act_ab, 0),
            par_addr: par_addr(&w),
        }
    }
}

/// The output-stationary engine's view.
fn os_engine(header: &str, sp: &SystemParams, array: &str) -> EngineView {
    let w = widths(sp);
    let (r, c) = (sp.rows as u64, sp.cols as u64);
    let count_bits = w.out_ab + 1;
    EngineView {
        common: EngineCommon::of(header, sp, array),
        keep_to_count: zext("keep", w.kpb, count_bits),
        keep_full: lit(w.kpb, r),
        kpb_m1: w.kpb - 1,
        kpb_one: lit(w.kpb, 1),
        rb_m1: w.rb - 1,
        rb_zero: lit(w.rb, 0),
        rb_one: lit(w.rb, 1),
        r_last: lit(w.rb, r - 1),
        cb_m1: w.cb - 1,
        cb_zero: lit(w.cb, 0),
        cb_one: lit(w.cb, 1),
        c_last: lit(w.cb, c - 1),
        aqb: w.aqb,
        aqb_m1: w.aqb - 1,
        aqb_zero: lit(w.aqb, 0),
        aq_r: lit(w.aqb, r),
        aq_r1: lit(w.aqb + 1, r),
        aq_zero1: lit(w.aqb + 1, 0),
        aq_2r1: lit(w.aqb + 1, 2 * r),
        aq_inflight: zext("f_inflight", 1, w.aqb + 1),
        rib_m1: w.rib - 1,
        rib_zero: lit(w.rib, 0),
        rib_r: lit(w.rib, r),
        rib_row: zext("arr_out_valid", 1, w.rib),
    }
}

#[derive(Serialize)]
struct WsEngineView {
    #[serde(flatten)]
    common: EngineCommon,
    depth: usize,
    a_slice: String,
    ktb_m1: u32,
    ktb_zero: String,
    ktb_one: String,
    p_kt: String,
    db_m1: u32,
    db_zero: String,
    db_one: String,
    d_last: String,
    i_i_32: String,
    depth_32: String,
    ws_step: String,
    rib_m1: u32,
    rib_zero: String,
    rib_one: String,
    rib_emit: String,
    rib_row: String,
    reserve: String,
}

/// The weight-stationary engine's view: folds of R reduction indices, so an `a` beat is the R-byte
/// slice (k0 mod C) / R of an activation word, and K / R = kwords x C / R folds per pixel block.
fn ws_engine(header: &str, sp: &SystemParams, array: &str) -> WsEngineView {
    let w = widths(sp);
    let depth = sp.acc_depth;
    // slices of R bytes per word
    let log_cr = w.log_c - w.log_r;
    let ktb = 21 + log_cr;
    let db = clog2(depth as u64).max(1);
    // emitted rows in the array: at most one per edge over its R + C + pipeline edges of latency
    let rib = clog2((sp.rows + sp.cols + 2 + sp.pipeline) as u64);
    let count_bits = w.out_ab + 1;
    let a_bits = sp.rows as u32 * 8;
    WsEngineView {
        common: EngineCommon::of(header, sp, array),
        depth,
        a_slice: if log_cr == 0 {
            "aq_head".into()
        } else {
            format!("aq_head[{{i_kt[{}:0], {}}} +: {a_bits}]", log_cr - 1, lit(clog2(a_bits as u64), 0))
        },
        ktb_m1: ktb - 1,
        ktb_zero: lit(ktb, 0),
        ktb_one: lit(ktb, 1),
        p_kt: if log_cr == 0 { "p_kwords".into() } else { format!("{{p_kwords, {}}}", lit(log_cr, 0)) },
        db_m1: db - 1,
        db_zero: lit(db, 0),
        db_one: lit(db, 1),
        d_last: lit(db, depth as u64 - 1),
        i_i_32: zext("i_i", db, 32),
        depth_32: lit(32, depth as u64),
        ws_step: if log_cr == 0 { "1'b1".into() } else { format!("&f_kt[{}:0]", log_cr - 1) },
        rib_m1: rib - 1,
        rib_zero: lit(rib, 0),
        rib_one: lit(rib, 1),
        rib_emit: zext("emit_take", 1, rib),
        rib_row: zext("arr_out_valid", 1, rib),
        reserve: zext("emit_take", 1, count_bits),
    }
}

#[derive(Serialize)]
struct SacColumnView {
    c: usize,
    valid: String,
    ready: String,
    word: String,
    group_end: String,
    fold_end: String,
    word_slice: String,
    group_end_bit: u32,
    fold_end_bit: u32,
}

#[derive(Serialize)]
struct SacEngineView {
    #[serde(flatten)]
    os: EngineView,
    cols_m1: usize,
    wgt_ab: u32,
    wgt_ab_zero: String,
    wgt_ab_one: String,
    wgt_addr_m1: u32,
    wgt_q_m1: u32,
    kwb: u32,
    kwb_m1: u32,
    fold_end_bit: u32,
    fold_end_bit_m1: u32,
    a_slot0: String,
    a_slot1: String,
    tags_m1: usize,
    tagb_m1: u32,
    tagb_zero: String,
    tagb_one: String,
    columns: Vec<SacColumnView>,
}

/// The SAC engine's view: the output-stationary engine's fetcher and output stage, an `a` beat of R
/// whole activation words, and per column a stream reader on its own scratchpad. Folds in flight:
/// one being read out, one held, and one per activation group in the array's ring, plus the edge
/// a row spends on the array's output.
fn sac_engine(header: &str, sp: &SystemParams, array: &str) -> SacEngineView {
    let sac = sp.sac.expect("a SAC system");
    let w = widths(sp);
    let kwb = sac.stream_word_bits();
    let tags = (sac.act_groups + 3).next_power_of_two();
    let tagb = clog2(tags as u64);
    let rib = clog2((tags * sp.rows + 1) as u64);
    let mut os = os_engine(header, sp, array);
    os.common.a_m1 = sp.rows as u32 * sp.stream_bits - 1;
    os.rib_m1 = rib - 1;
    os.rib_zero = lit(rib, 0);
    os.rib_r = lit(rib, sp.rows as u64);
    os.rib_row = zext("arr_out_valid", 1, rib);
    let slot = |s: usize| {
        let words: Vec<String> = (0..sp.rows).rev().map(|r| format!("aq[{}]", s * sp.rows + r)).collect();
        format!("{{{}}}", words.join(", "))
    };
    SacEngineView {
        os,
        cols_m1: sp.cols - 1,
        wgt_ab: w.wgt_ab,
        wgt_ab_zero: lit(w.wgt_ab, 0),
        wgt_ab_one: lit(w.wgt_ab, 1),
        wgt_addr_m1: w.wgt_ab * sp.cols as u32 - 1,
        wgt_q_m1: kwb * sp.cols as u32 - 1,
        kwb,
        kwb_m1: kwb - 1,
        fold_end_bit: sac.word_bits + 1,
        fold_end_bit_m1: sac.word_bits,
        a_slot0: slot(0),
        a_slot1: slot(1),
        tags_m1: tags - 1,
        tagb_m1: tagb - 1,
        tagb_zero: lit(tagb, 0),
        tagb_one: lit(tagb, 1),
        columns: (0..sp.cols)
            .map(|c| {
                let base = kwb * c as u32;
                SacColumnView {
                    c,
                    valid: format!("w{c}_valid"),
                    ready: format!("w{c}_ready"),
                    word: format!("w{c}_word"),
                    group_end: format!("w{c}_group_end"),
                    fold_end: format!("w{c}_fold_end"),
                    word_slice: format!("{}:{}", base + sac.word_bits - 1, base),
                    group_end_bit: base + sac.word_bits,
                    fold_end_bit: base + sac.word_bits + 1,
                }
            })
            .collect(),
    }
}

/// The record word the engines read: word pj of tile nt (8 words per tile).
fn par_addr(w: &Widths) -> String {
    if w.par_ab > 3 {
        format!("{{nt[{}:0], pj}}", w.par_ab - 4)
    } else {
        "pj".into()
    }
}

/// The system's Verilog files, in dependency order (after the array's own files).
pub fn files(
    tera: &tera::Tera,
    header: &str,
    sp: &SystemParams,
    array: &str,
) -> Result<Vec<(String, String)>> {
    let n = SystemNames::of(sp);
    let w = widths(sp);
    let wb = sp.stream_bits;
    let (r, c) = (sp.rows as u64, sp.cols as u64);
    let engine = match (&sp.sac, sp.dataflow) {
        (Some(_), _) => render(tera, "system_engine_sac.v.tera", &sac_engine(header, sp, array))?,
        (None, Dataflow::OutputStationary) => {
            render(tera, "system_engine.v.tera", &os_engine(header, sp, array))?
        }
        (None, Dataflow::WeightStationary) => {
            render(tera, "system_engine_ws.v.tera", &ws_engine(header, sp, array))?
        }
    };
    let colb = w.cb;
    let (ge_bit, fe_bit) = sp.sac.map_or((0, 0), |sac| (sac.word_bits, sac.word_bits + 1));
    let loader = LoaderView {
        header: header.into(),
        module: n.part("loader"),
        desc_words: sp.desc_words,
        w: wb,
        w_m1: wb - 1,
        act_ab: w.act_ab,
        act_ab_m1: w.act_ab - 1,
        wgt_ab_m1: w.wgt_ab - 1,
        par_ab_m1: w.par_ab - 1,
        dib_m1: w.dib - 1,
        dib_zero: lit(w.dib, 0),
        dib_one: lit(w.dib, 1),
        dib_last: lit(w.dib, sp.desc_words as u64 - 1),
        c_m1_32: lit(32, c - 1),
        r_m1_40: lit(40, r - 1),
        unused_bits: {
            let dropped = dropped_bits(&[
                ("cb_sum", 32, w.log_c, 16),
                ("nt_sum", 32, w.log_c, 16),
                ("mt_sum", 40, w.log_r, 32),
            ]);
            // a SAC system checks stream lengths against the directory, not the descriptor's weight words
            if sp.sac.is_some() {
                let len_high = if w.lab < 16 { format!(", col_len[15:{}]", w.lab) } else { String::new() };
                format!("{dropped}, d_wgtw, r_ww{len_high}")
            } else {
                dropped
            }
        },
        log_c: w.log_c,
        log_c_plus15: w.log_c + 15,
        log_r: w.log_r,
        log_r_plus31: w.log_r + 31,
        log_c_zero: lit(w.log_c, 0),
        wgtw_m1: 48 + w.log_c - 1,
        act_words_48: lit(48, sp.act_words as u64),
        weight_words_w: lit(48 + w.log_c, sp.weight_words as u64),
        param_tiles_16: lit(16, sp.param_tiles as u64),
        lab_m1: w.lab - 1,
        lab_zero: lit(w.lab, 0),
        lab_one: lit(w.lab, 1),
        r_pw_expr: format!("{{d_nt[{}:0], 3'b000}}", w.lab - 4),
        dec_edges: DECODE_EDGES,
        ab_zero: lit(w.act_ab, 0),
        in_w_ab: if w.act_ab <= 16 {
            format!("in_w[{}:0]", w.act_ab - 1)
        } else {
            zext("in_w", 16, w.act_ab)
        },
        e_wgt_expr: if sp.sac.is_some() {
            "1'b0".into()
        } else {
            format!("(d_wgtw > {})", lit(48 + w.log_c, sp.weight_words as u64))
        },
        sac: sp.sac.is_some(),
        cols: sp.cols,
        cols_m1: sp.cols - 1,
        colb_m1: colb - 1,
        colb_zero: lit(colb, 0),
        colb_one: lit(colb, 1),
        col_last: lit(colb, c - 1),
        lens_m1: 16 * sp.cols - 1,
        weight_words_16: lit(16, (sp.weight_words as u64).min(65535)),
        lab_two: lit(w.lab, 2),
        col_len_lab: if w.lab <= 16 {
            format!("col_len[{}:0]", w.lab - 1)
        } else {
            zext("col_len", 16, w.lab)
        },
        group_end_bit: ge_bit,
        fold_end_bit: fe_bit,
    };
    let ctrl = CtrlView {
        header: header.into(),
        module: n.part("ctrl"),
        reg_ctrl: reg_index("CTRL"),
        reg_gie: reg_index("GIE"),
        reg_ier: reg_index("IER"),
        reg_isr: reg_index("ISR"),
        read_map: REGISTERS
            .iter()
            .map(|reg| ReadEntry { index: reg.offset / 4, name: reg.name, value: read_value(reg.name, sp) })
            .collect(),
    };
    let bank =
        |name: &str, abits: u32, write: String, read: String, waddr: &str, raddr: &str, q: &str| BankView {
            name: name.into(),
            abits,
            width: "W".into(),
            wdata: "l_wdata".into(),
            write,
            read,
            waddr: waddr.into(),
            raddr: raddr.into(),
            q: q.into(),
        };
    let mut banks = vec![
        bank(
            "act0",
            w.act_ab,
            "l_act_we && !l_act_bank".into(),
            "e_act_re && !e_act_bank".into(),
            "l_act_addr",
            "e_act_addr",
            "act_q0",
        ),
        bank(
            "act1",
            w.act_ab,
            "l_act_we && l_act_bank".into(),
            "e_act_re && e_act_bank".into(),
            "l_act_addr",
            "e_act_addr",
            "act_q1",
        ),
        bank(
            "wgt0",
            w.wgt_ab,
            "l_wgt_we && !l_w_bank".into(),
            "e_wgt_re && !e_w_bank".into(),
            "l_wgt_addr",
            "e_wgt_addr",
            "wgt_q0",
        ),
        bank(
            "wgt1",
            w.wgt_ab,
            "l_wgt_we && l_w_bank".into(),
            "e_wgt_re && e_w_bank".into(),
            "l_wgt_addr",
            "e_wgt_addr",
            "wgt_q1",
        ),
        bank(
            "par0",
            w.par_ab,
            "l_par_we && !l_w_bank".into(),
            "e_par_re && !e_w_bank".into(),
            "l_par_addr",
            "e_par_addr",
            "par_q0",
        ),
        bank(
            "par1",
            w.par_ab,
            "l_par_we && l_w_bank".into(),
            "e_par_re && e_w_bank".into(),
            "l_par_addr",
            "e_par_addr",
            "par_q1",
        ),
    ];
    if let Some(sac) = &sp.sac {
        // one weight scratchpad per column and bank, written while the loader is in that column's stream
        let kwb = sac.stream_word_bits();
        banks.retain(|b| !b.name.starts_with("wgt"));
        for b in 0..2 {
            for col in 0..sp.cols {
                let bank_sel = if b == 0 { "!" } else { "" };
                banks.push(BankView {
                    name: format!("wgt{b}_c{col}"),
                    abits: w.wgt_ab,
                    width: kwb.to_string(),
                    wdata: format!("l_wdata[{}:0]", kwb - 1),
                    write: format!(
                        "l_wgt_we && {bank_sel}l_w_bank && (l_wgt_col == {})",
                        lit(colb, col as u64)
                    ),
                    read: format!("e_wgt_re[{col}] && {bank_sel}e_w_bank"),
                    waddr: "l_wgt_addr".into(),
                    raddr: format!(
                        "e_wgt_addr[{}:{}]",
                        w.wgt_ab * (col as u32 + 1) - 1,
                        w.wgt_ab * col as u32
                    ),
                    q: format!("wgt_q{b}[{}:{}]", kwb * (col as u32 + 1) - 1, kwb * col as u32),
                });
            }
        }
    }
    let sac_kwb = sp.sac.map(|sac| sac.stream_word_bits());
    let top = TopView {
        header: header.into(),
        dataflow: match (&sp.sac, sp.dataflow) {
            (Some(_), _) => "SAC (Tetris split-and-accumulate)",
            (None, Dataflow::OutputStationary) => "output-stationary MAC",
            (None, Dataflow::WeightStationary) => "weight-stationary MAC",
        },
        module: n.top.clone(),
        header_file: format!("{}_regs.h", n.top),
        array: array.into(),
        ctrl: n.part("ctrl"),
        loader: n.part("loader"),
        engine: n.part("engine"),
        spad: n.part("spad"),
        rows: sp.rows,
        cols: sp.cols,
        w: wb,
        w_m1: wb - 1,
        act_ab: w.act_ab,
        act_ab_m1: w.act_ab - 1,
        wgt_ab_m1: w.wgt_ab - 1,
        par_ab_m1: w.par_ab - 1,
        job_fields: JOB_FIELDS.to_vec(),
        banks,
        sac: sp.sac.is_some(),
        colb_m1: colb - 1,
        weights_what: if sp.sac.is_some() {
            "kneaded weight streams (one scratchpad per column)"
        } else {
            "weights"
        },
        e_wgt_re_m1: if sp.sac.is_some() { sp.cols - 1 } else { 0 },
        e_wgt_addr_m1: if sp.sac.is_some() { w.wgt_ab * c as u32 - 1 } else { w.wgt_ab - 1 },
        wgt_q_m1: sac_kwb.map_or(wb - 1, |kwb| kwb * c as u32 - 1),
        wgt_q_what: if sp.sac.is_some() {
            "every column's stream word, column c at [kwb*c +: kwb]"
        } else {
            "the weight word"
        },
    };
    #[derive(Serialize)]
    struct Simple {
        header: String,
        module: String,
    }
    let file = |m: &str| format!("{m}.v");
    Ok(vec![
        (
            file(&n.part("spad")),
            render(tera, "system_spad.v.tera", &Simple { header: header.into(), module: n.part("spad") })?,
        ),
        (
            file(&n.part("fifo_mem")),
            render(
                tera,
                "system_fifo_mem.v.tera",
                &Simple { header: header.into(), module: n.part("fifo_mem") },
            )?,
        ),
        (file(&n.part("ctrl")), render(tera, "system_ctrl.v.tera", &ctrl)?),
        (file(&n.part("loader")), render(tera, "system_loader.v.tera", &loader)?),
        (file(&n.part("engine")), engine),
        (file(&n.top), render(tera, "system_top.v.tera", &top)?),
    ])
}
