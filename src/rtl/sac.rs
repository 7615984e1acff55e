//! Views of the SAC unit and the SAC array top (`templates/sac_unit.v.tera`, `sac_top.v.tera`).

use super::top::{concat_high_to_low, grid_views, pipeline, port_views, signal, ReadoutColumn};
use super::verilog::{decl, lane, lit, sign_extend};
use crate::config::{derive::clog2, Params, SacParams};
use crate::interface::Interface;
use crate::ir::{names, DesignIr, ModuleDef};
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
struct SlotView {
    p: usize,
    valid: String,
    negative: String,
    index: String,
    act: String,
    act_ext: String,
    seg: String,
    next: String,
    /// Pipelined: the registered operand (2 stages) and the fold's final segment.
    op: String,
    fin: String,
    valid_bit: u32,
    negative_bit: u32,
    index_hi: u32,
    index_lo: u32,
    seg_msb: u32,
    act_ext_expr: String,
    zero: String,
    /// Bit offset of the named activation in `acts`: index * act_bits at the width that indexes acts.
    base_expr: String,
}

#[derive(Serialize)]
struct UnitView {
    header: String,
    module: String,
    ports: Vec<super::top::PortView>,
    acc_bits: u32,
    positions_last: usize,
    acc_msb: u32,
    act_msb: u32,
    act_bits: u32,
    index_msb: u32,
    slots: Vec<SlotView>,
    tree: String,
    /// `pe.pipeline`: 1 registers the final segments before the tree, 2 also each slot's operand.
    pipeline: usize,
    operand_regs: bool,
}

pub fn render_unit(
    tera: &tera::Tera,
    header: &str,
    p: &Params,
    sac: &SacParams,
    def: &ModuleDef,
) -> Result<String> {
    let slots: Vec<SlotView> = (0..sac.positions)
        .map(|pos| {
            let base = pos as u32 * sac.slot_bits;
            let seg_bits = sac.segment_bits(p.acc_bits, pos);
            let act = format!("slot{pos}_act");
            let base_bits = clog2(sac.ks as u64 * p.act_bits as u64);
            let index = format!("slot{pos}_index");
            let base_expr = format!(
                "{{{}, {index}}} * {}",
                lit(base_bits - sac.index_bits, 0),
                lit(base_bits, p.act_bits as u64)
            );
            SlotView {
                p: pos,
                valid: format!("slot{pos}_valid"),
                negative: format!("slot{pos}_negative"),
                index,
                base_expr,
                act_ext: format!("slot{pos}_act_ext"),
                seg: format!("seg{pos}"),
                next: format!("seg{pos}_next"),
                op: format!("slot{pos}_op"),
                fin: format!("seg{pos}_final"),
                valid_bit: base,
                negative_bit: base + 1,
                index_hi: base + 1 + sac.index_bits,
                index_lo: base + 2,
                seg_msb: seg_bits - 1,
                act_ext_expr: sign_extend(&act, p.act_bits, seg_bits),
                act,
                zero: lit(seg_bits, 0),
            }
        })
        .collect();
    // Unpipelined, the tree sums the segments as the fold's last word leaves them; pipelined, their
    // registered copies.
    let tree_input = |s: &SlotView| if p.pipeline == 0 { s.next.clone() } else { s.fin.clone() };
    let tree =
        slots
            .iter()
            .map(|s| {
                if s.p == 0 {
                    tree_input(s)
                } else {
                    format!("{{{}, {}}}", tree_input(s), lit(s.p as u32, 0))
                }
            })
            .collect::<Vec<_>>()
            .join("\n        + ");
    let view = UnitView {
        header: header.into(),
        module: def.name.clone(),
        ports: super::top::module_port_views(def, |port| match port {
            "acts" => format!("the group's {} activations, index i in lane i", sac.ks),
            "word" => format!("slot p at bits p*{}: {{index, negative, valid}}", sac.slot_bits),
            _ => String::new(),
        }),
        acc_bits: p.acc_bits,
        positions_last: sac.positions - 1,
        acc_msb: p.acc_bits - 1,
        act_msb: p.act_bits - 1,
        act_bits: p.act_bits,
        index_msb: sac.index_bits - 1,
        slots,
        tree,
        pipeline: p.pipeline,
        operand_regs: p.pipeline >= 2,
    };
    super::render(tera, "sac_unit.v.tera", &view)
}

#[derive(Serialize)]
struct RegView {
    name: String,
    src: String,
}

#[derive(Serialize)]
struct RingSlot {
    index: String,
    pending: String,
    clear: String,
    clear_terms: String,
    regs: Vec<RegView>,
}

#[derive(Serialize)]
struct ColumnView {
    c: usize,
    slot: String,
    has_group: String,
    has_group_expr: String,
    ready: String,
    take: String,
    valid: String,
    group_end: String,
    fold_end: String,
    group_done: String,
    slot_next: String,
}

#[derive(Serialize)]
struct TopView {
    header: String,
    module: String,
    rows: usize,
    cols: usize,
    ks: usize,
    act_groups: usize,
    protocol: Vec<String>,
    ports: Vec<super::top::PortView>,
    ptr_decl: String,
    ptr_zero: String,
    pending_decl: String,
    pending_zero: String,
    pending_ones: String,
    group_decl: String,
    ring: Vec<RingSlot>,
    a_ready_expr: String,
    load_slot_next: String,
    columns: Vec<ColumnView>,
    pipelines: Vec<super::top::Pipeline>,
    nets: Vec<super::top::NetView>,
    instances: Vec<super::top::InstanceView>,
    row_decl: String,
    row_zero: String,
    row_one: String,
    row_last: String,
    fold_done_terms: String,
    /// Pipelined units: fold_done delayed 1..=pipeline edges, and the OR of every stage's bits.
    in_flight: Vec<RegView>,
    in_flight_any: String,
    acc_decl: String,
    readout: Vec<ReadoutColumn>,
    out_concat: String,
}

/// `cond_0 ? v_0 : cond_1 ? v_1 : ... v_last` selecting by `sel == i`.
fn select_chain(sel: &str, sel_bits: u32, values: &[String]) -> String {
    let (last, rest) = values.split_last().expect("at least one value");
    let mut expr = String::new();
    for (i, v) in rest.iter().enumerate() {
        expr.push_str(&format!("({sel} == {}) ? {v} : ", lit(sel_bits, i as u64)));
    }
    expr.push_str(last);
    expr
}

/// `(ptr == last) ? 0 : ptr + 1`, or 0 for a one-slot ring.
fn ring_next(ptr: &str, bits: u32, len: usize) -> String {
    if len == 1 {
        lit(bits, 0)
    } else {
        format!("({ptr} == {}) ? {} : {ptr} + {}", lit(bits, len as u64 - 1), lit(bits, 0), lit(bits, 1))
    }
}

pub fn render_top(
    tera: &tera::Tera,
    header: &str,
    p: &Params,
    sac: &SacParams,
    ir: &DesignIr,
) -> Result<String> {
    let (rows, cols, ring_len) = (p.rows, p.cols, sac.act_groups);
    let ptr_bits = clog2(ring_len as u64).max(1);
    let row_bits = clog2(rows as u64).max(1);
    let cols_w = cols as u32;
    let group_bits = sac.ks as u32 * p.act_bits;
    let slot_reg = |r: usize, s: usize| format!("act_r{r}_s{s}");
    let col_slot = |c: usize| format!("col{c}_slot");
    let ring: Vec<RingSlot> = (0..ring_len)
        .map(|s| RingSlot {
            index: lit(ptr_bits, s as u64),
            pending: format!("pending_s{s}"),
            clear: format!("clear_s{s}"),
            clear_terms: concat_high_to_low(cols, |c| {
                format!("col{c}_group_done && ({} == {})", col_slot(c), lit(ptr_bits, s as u64))
            }),
            regs: (0..rows)
                .map(|r| RegView { name: slot_reg(r, s), src: lane("a_data", rows, r, group_bits) })
                .collect(),
        })
        .collect();
    let a_ready_expr = select_chain(
        "load_slot",
        ptr_bits,
        &(0..ring_len)
            .map(|s| format!("((pending_s{s} & ~clear_s{s}) == {})", lit(cols_w, 0)))
            .collect::<Vec<_>>(),
    );
    let columns: Vec<ColumnView> = (0..cols)
        .map(|c| ColumnView {
            c,
            slot: col_slot(c),
            has_group: format!("col{c}_has_group"),
            has_group_expr: select_chain(
                &col_slot(c),
                ptr_bits,
                &(0..ring_len).map(|s| format!("pending_s{s}[{c}]")).collect::<Vec<_>>(),
            ),
            ready: format!("w{c}_ready"),
            take: format!("col{c}_take_word"),
            valid: format!("w{c}_valid"),
            group_end: format!("w{c}_group_end"),
            fold_end: format!("w{c}_fold_end"),
            group_done: format!("col{c}_group_done"),
            slot_next: ring_next(&col_slot(c), ptr_bits, ring_len),
        })
        .collect();
    let word_bits = sac.positions as u32 * sac.slot_bits;
    let mut pipelines = vec![pipeline(
        "Column words and strobes, broadcast down each column.".into(),
        0,
        (0..cols)
            .flat_map(|c| {
                [
                    signal(names::col(c, "word"), word_bits, format!("w{c}_word"), false),
                    signal(names::col(c, "take"), 1, format!("col{c}_take_word"), false),
                    signal(names::col(c, "fold_end"), 1, format!("w{c}_fold_end"), false),
                ]
            })
            .collect(),
    )];
    for r in 0..rows {
        pipelines.push(pipeline(
            format!("Row {r}: the group under each column's slot pointer."),
            0,
            (0..cols)
                .map(|c| {
                    let values: Vec<String> = (0..ring_len).map(|s| slot_reg(r, s)).collect();
                    signal(
                        names::group(r, c),
                        group_bits,
                        select_chain(&col_slot(c), ptr_bits, &values),
                        false,
                    )
                })
                .collect(),
        ));
    }
    let (nets, instances) = grid_views(ir);
    let readout = (0..cols)
        .map(|c| ReadoutColumn {
            name: format!("readout_c{c}"),
            expr: select_chain(
                "row_sel",
                row_bits,
                &(0..rows).map(|r| format!("{}_result", names::pe(r, c))).collect::<Vec<_>>(),
            ),
        })
        .collect();
    let view = TopView {
        header: header.into(),
        module: p.name.clone(),
        rows,
        cols,
        ks: sac.ks,
        act_groups: ring_len,
        protocol: Interface::of(p).protocol,
        ports: port_views(p),
        ptr_decl: decl(ptr_bits),
        ptr_zero: lit(ptr_bits, 0),
        pending_decl: super::verilog::vec_decl(cols_w),
        pending_zero: lit(cols_w, 0),
        pending_ones: format!("{{{cols_w}{{1'b1}}}}"),
        group_decl: decl(group_bits),
        ring,
        a_ready_expr,
        load_slot_next: ring_next("load_slot", ptr_bits, ring_len),
        columns,
        pipelines,
        nets,
        instances,
        row_decl: decl(row_bits),
        row_zero: lit(row_bits, 0),
        row_one: lit(row_bits, 1),
        row_last: lit(row_bits, rows as u64 - 1),
        fold_done_terms: concat_high_to_low(cols, |c| format!("col{c}_take_word && w{c}_fold_end")),
        in_flight: (1..=p.pipeline)
            .map(|d| RegView {
                name: format!("fold_done_d{d}"),
                src: if d == 1 { "fold_done".into() } else { format!("fold_done_d{}", d - 1) },
            })
            .collect(),
        in_flight_any: (1..=p.pipeline).map(|d| format!("|fold_done_d{d}")).collect::<Vec<_>>().join(" || "),
        acc_decl: decl(p.acc_bits),
        readout,
        out_concat: concat_high_to_low(cols, |c| format!("readout_c{c}")),
    };
    super::render(tera, "sac_top.v.tera", &view)
}
