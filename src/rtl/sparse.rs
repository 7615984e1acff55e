//! Views of the sparse 1-D row array (`templates/sparse_row.v.tera`, `sparse_top.v.tera`): every
//! register name, slice, literal and case label is computed here.

use super::top::{
    concat_high_to_low, grid_views, module_port_views, port_views, InstanceView, NetView, PortView,
};
use super::verilog::{decl, lit};
use crate::config::{Params, SparseParams};
use crate::interface::Interface;
use crate::ir::{names, DesignIr, ModuleDef, ModuleNames};
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
struct Case {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct Position {
    shadow: String,
    active: String,
    now: String,
    acc: String,
    ro: String,
    sum: String,
    /// The product of the lane that reaches this position, if any (one-hot OR of masked products).
    add: String,
}

#[derive(Serialize)]
struct Load {
    reg: String,
    slice: String,
}

#[derive(Serialize)]
struct Chunk {
    label: String,
    loads: Vec<Load>,
}

#[derive(Serialize)]
struct RowLane {
    pos: String,
    pos_slice: String,
    gather: String,
    gather_cases: Vec<Case>,
    operand: String,
    tap: String,
    product: String,
    mac: String,
    /// Pipelined: the registered product and position.
    product_q: String,
    pos_q: String,
}

#[derive(Serialize)]
struct RowView {
    header: String,
    module: String,
    ports: Vec<PortView>,
    mac_module: String,
    taps: usize,
    row_len: usize,
    acc_bits: u32,
    weight_msb: u32,
    acc_msb: u32,
    addr_msb: u32,
    weight_zero: String,
    acc_zero: String,
    positions: Vec<Position>,
    chunks: Vec<Chunk>,
    lanes: Vec<RowLane>,
    readout_cases: Vec<Case>,
    /// `pe.pipeline = 1`: the products are registered before the accumulators.
    pipelined: bool,
    hit_msb: u32,
    pos_msb: u32,
}

fn position(j: usize) -> Position {
    Position {
        shadow: format!("shadow_{j}"),
        active: format!("active_{j}"),
        now: format!("operand_{j}"),
        acc: format!("acc_{j}"),
        ro: format!("ro_{j}"),
        sum: format!("sum_{j}"),
        add: String::new(),
    }
}

/// One PE row module; `def` is the IR's definition of it (name and ports).
pub fn render_row(
    tera: &tera::Tera,
    header: &str,
    p: &Params,
    sp: &SparseParams,
    def: &ModuleDef,
) -> Result<String> {
    let (taps, len, q, ab) = (p.cols, sp.row_len, sp.load_lanes, sp.addr_bits);
    let lane_pos = |k: usize| format!("pos_{k}");
    let product = |k: usize| format!("product_{k}");
    let pipelined = p.pipeline > 0;
    // What the accumulators add: this edge's lanes, or (pipelined) the registered ones.
    let stage = if pipelined { "add_" } else { "" };
    let add_pos = |k: usize| format!("{stage}pos_{k}");
    let add_product = |k: usize| format!("{stage}product_{k}");
    let (add_hit, add_wgrad) = if pipelined { ("add_hit", "add_wgrad") } else { ("hit", "wgrad") };
    let acc_zero = lit(p.acc_bits, 0);
    let positions: Vec<Position> = (0..len)
        .map(|j| {
            // Lane k reaches position j: scattering (pos_k == j), or gathering into its own tap (k == j).
            let terms: Vec<String> = (0..taps)
                .map(|k| {
                    let at = format!("({} == {})", add_pos(k), lit(ab, j as u64));
                    let reach = if k == j {
                        format!("({add_wgrad} || {at})")
                    } else {
                        format!("(!{add_wgrad} && {at})")
                    };
                    format!("(({add_hit}[{k}] && {reach}) ? {} : {acc_zero})", add_product(k))
                })
                .collect();
            Position { add: terms.join("\n            | "), ..position(j) }
        })
        .collect();
    let chunks = (0..sp.load_beats(len))
        .map(|c| Chunk {
            label: lit(sp.chunk_bits, c as u64),
            loads: (0..q)
                .filter(|l| c * q + l < len)
                .map(|l| Load { reg: position(c * q + l).shadow, slice: slice(l, p.weight_bits) })
                .collect(),
        })
        .collect();
    let cases = |f: &dyn Fn(&Position) -> String| -> Vec<Case> {
        positions.iter().enumerate().map(|(j, d)| Case { label: lit(ab, j as u64), value: f(d) }).collect()
    };
    let lanes = (0..taps)
        .map(|k| RowLane {
            pos: lane_pos(k),
            pos_slice: slice(k, ab),
            gather: format!("gather_{k}"),
            gather_cases: cases(&|d| d.now.clone()),
            operand: format!("operand_lane_{k}"),
            tap: position(k).now,
            product: product(k),
            mac: format!("mac_{k}"),
            product_q: format!("add_product_{k}"),
            pos_q: format!("add_pos_{k}"),
        })
        .collect();
    let readout_cases = cases(&|d| d.ro.clone());
    let view = RowView {
        header: header.into(),
        module: def.name.clone(),
        ports: module_port_views(def, |port| row_port_comment(port, ab)),
        mac_module: ModuleNames::of(p).mac_unit(),
        taps,
        row_len: len,
        acc_bits: p.acc_bits,
        weight_msb: p.weight_bits - 1,
        acc_msb: p.acc_bits - 1,
        addr_msb: ab - 1,
        weight_zero: lit(p.weight_bits, 0),
        acc_zero,
        positions,
        chunks,
        lanes,
        readout_cases,
        pipelined,
        hit_msb: taps as u32 - 1,
        pos_msb: taps as u32 * ab - 1,
    };
    super::render(tera, "sparse_row.v.tera", &view)
}

/// What a PE row's control ports mean (the data ports speak for themselves).
fn row_port_comment(port: &str, addr_bits: u32) -> String {
    match port {
        "take" => "an entry is taken at this edge".into(),
        "first" => "the next entry starts a row: compute with the shadow operands".into(),
        "job_end" => "the entry ends the job: move the sums to the readout, clear".into(),
        "wgrad" => "weight-gradient phase".into(),
        "hit" => "lane k adds this edge (a nonzero entry, position inside the row)".into(),
        "pos" => format!("lane k's position at bits k*{addr_bits}"),
        "load" => "a chunk of the next row's operands arrives".into(),
        _ => String::new(),
    }
}

/// `[hi:lo]` of lane `i` in a packed vector of `bits`-wide lanes.
fn slice(i: usize, bits: u32) -> String {
    let lo = i as u32 * bits;
    format!("{}:{lo}", lo + bits - 1)
}

#[derive(Serialize)]
struct Geometry {
    decl: String,
    port: String,
    shadow: String,
    active: String,
    now: String,
}

#[derive(Serialize)]
struct TopLane {
    k_lit: String,
    dk: String,
    fwd_num: String,
    fwd_pos: String,
    grad_pos: String,
    fwd_hit: String,
    grad_hit: String,
    hit: String,
    pos: String,
}

#[derive(Serialize)]
struct LoadSlice {
    name: String,
    expr: String,
}

#[derive(Serialize)]
struct TopView {
    header: String,
    module: String,
    rows: usize,
    protocol: Vec<String>,
    ports: Vec<PortView>,
    index_msb: u32,
    index_hi: u32,
    act_msb: u32,
    value_hi: u32,
    value_lo: u32,
    chunk_decl: String,
    chunk_zero: String,
    chunk_one: String,
    geometry: Vec<Geometry>,
    pos_bits: u32,
    pos_decl: String,
    pos_msb: u32,
    pos_zero: String,
    pos_ones: String,
    e_ext: String,
    pad_ext: String,
    dil_ext: String,
    in_len_ext: String,
    out_len_ext: String,
    lanes: Vec<TopLane>,
    hit_decl: String,
    hit_concat: String,
    lane_pos_decl: String,
    pos_concat: String,
    addr_decl: String,
    addr_msb: u32,
    addr_zero: String,
    len_decl: String,
    /// `pe.pipeline = 1`: the readout starts an edge after the job's last entry, with the length
    /// registered then.
    pipelined: bool,
    readout_begins: String,
    readout_count: String,
    len_zero: String,
    ro_next: String,
    n_out: String,
    load_decl: String,
    load_slices: Vec<LoadSlice>,
    nets: Vec<NetView>,
    instances: Vec<InstanceView>,
    out_concat: String,
}

/// `signal` (of `from` bits, unsigned) zero-extended to `to` bits.
pub(super) fn zext(signal: &str, from: u32, to: u32) -> String {
    if to == from {
        signal.to_string()
    } else {
        format!("{{{}'d0, {signal}}}", to - from)
    }
}

/// The array top.
pub fn render_top(
    tera: &tera::Tera,
    header: &str,
    p: &Params,
    sp: &SparseParams,
    ir: &DesignIr,
) -> Result<String> {
    let iface = Interface::of(p);
    let (ib, pb, ab, lb) = (sp.stream.index_bits(), sp.pos_bits, sp.addr_bits, sp.len_bits);
    let geometry = [
        ("phase", "d_phase", 2),
        ("shift", "d_shift", sp.shift_bits),
        ("dilation", "d_dilation", sp.dilation_bits),
        ("pad", "d_pad", sp.pad_bits),
        ("in_len", "d_in_len", lb),
        ("out_len", "d_out_len", lb),
    ]
    .into_iter()
    .map(|(name, port, bits)| Geometry {
        decl: decl(bits),
        port: port.into(),
        shadow: format!("sh_{name}"),
        active: format!("ac_{name}"),
        now: format!("g_{name}"),
    })
    .collect();
    let lanes: Vec<TopLane> = (0..p.cols)
        .map(|k| TopLane {
            k_lit: lit(pb, k as u64),
            dk: format!("lane{k}_dk"),
            fwd_num: format!("lane{k}_fwd_num"),
            fwd_pos: format!("lane{k}_fwd_pos"),
            grad_pos: format!("lane{k}_grad_pos"),
            fwd_hit: format!("lane{k}_fwd_hit"),
            grad_hit: format!("lane{k}_grad_hit"),
            hit: format!("lane{k}_hit"),
            pos: format!("lane{k}_pos"),
        })
        .collect();
    let load_slices = (0..p.rows)
        .map(|r| LoadSlice {
            name: names::row(r, "load_data"),
            expr: format!("d_data[{}]", slice(r, sp.load_lanes as u32 * p.weight_bits)),
        })
        .collect();
    let (nets, instances) = grid_views(ir);
    let ro_next = if lb > ab {
        format!("{{{}'d0, ro_index}} + {}", lb - ab, lit(lb, 1))
    } else {
        format!("ro_index + {}", lit(lb, 1))
    };
    // The job's output length, in effect while its last entry is taken.
    let n_out = format!("fwd ? g_out_len : wgrad ? {} : g_in_len", lit(lb, p.cols as u64));
    let view = TopView {
        header: header.into(),
        module: p.name.clone(),
        rows: p.rows,
        protocol: iface.protocol,
        ports: port_views(p),
        index_msb: ib - 1,
        index_hi: ib + 1,
        act_msb: p.act_bits - 1,
        value_hi: sp.stream.entry_bits() - 1,
        value_lo: ib + 2,
        chunk_decl: decl(sp.chunk_bits),
        chunk_zero: lit(sp.chunk_bits, 0),
        chunk_one: lit(sp.chunk_bits, 1),
        geometry,
        pos_bits: pb,
        pos_decl: decl(pb),
        pos_msb: pb - 1,
        pos_zero: lit(pb, 0),
        pos_ones: format!("{{{pb}{{1'b1}}}}"),
        e_ext: zext("x_index", ib, pb),
        pad_ext: zext("g_pad", sp.pad_bits, pb),
        dil_ext: zext("g_dilation", sp.dilation_bits, pb),
        in_len_ext: zext("g_in_len", lb, pb),
        out_len_ext: zext("g_out_len", lb, pb),
        hit_decl: decl(p.cols as u32),
        hit_concat: concat_high_to_low(p.cols, |k| lanes[k].hit.clone()),
        lane_pos_decl: decl(p.cols as u32 * ab),
        pos_concat: concat_high_to_low(p.cols, |k| lanes[k].pos.clone()),
        lanes,
        addr_decl: decl(ab),
        addr_msb: ab - 1,
        addr_zero: lit(ab, 0),
        len_decl: decl(lb),
        len_zero: lit(lb, 0),
        ro_next,
        pipelined: p.pipeline > 0,
        readout_begins: if p.pipeline > 0 { "readout_start" } else { "job_end" }.into(),
        readout_count: if p.pipeline > 0 { "readout_len".into() } else { n_out.clone() },
        n_out,
        load_decl: decl(sp.load_lanes as u32 * p.weight_bits),
        load_slices,
        nets,
        instances,
        out_concat: concat_high_to_low(p.rows, |r| format!("{}_ro_value", names::sparse_row(r))),
    };
    super::render(tera, "sparse_top.v.tera", &view)
}
