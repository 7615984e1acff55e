//! The top-level view: ports from the interface, skew/de-skew/tag pipelines, the PE grid from the IR,
//! and the dataflow's own readout or accumulator logic.

use super::verilog::{decl, lane, lit, vec_decl};
use crate::config::{derive::clog2, Dataflow, Params};
use crate::interface::Interface;
use crate::ir::{names, DesignIr, Dir, ModuleDef};
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
pub(super) struct PortView {
    dir: &'static str,
    decl: String,
    name: String,
    comment: String,
}

#[derive(Serialize, Clone)]
struct Stage {
    name: String,
    decl: String,
    src: String,
    reset: String,
}

#[derive(Serialize)]
struct WireView {
    decl: String,
    name: String,
    expr: String,
}

/// Registers that delay a group of signals by `depth` edges, and the wires at their ends.
#[derive(Serialize)]
pub(super) struct Pipeline {
    comment: String,
    stages: Vec<Stage>,
    reset_stages: Vec<Stage>,
    data_stages: Vec<Stage>,
    outputs: Vec<WireView>,
}

/// One signal of a pipeline: the wire name at its end, its width, what drives it, and whether its
/// stages are reset (valid bits are; data is not).
pub(super) struct Signal {
    name: String,
    width: u32,
    src: String,
    reset: bool,
}

pub(super) fn signal(name: String, width: u32, src: String, reset: bool) -> Signal {
    Signal { name, width, src, reset }
}

pub(super) fn pipeline(comment: String, depth: usize, signals: Vec<Signal>) -> Pipeline {
    let mut line =
        Pipeline { comment, stages: vec![], reset_stages: vec![], data_stages: vec![], outputs: vec![] };
    for s in signals {
        let mut src = s.src.clone();
        for d in 1..=depth {
            let stage = Stage {
                name: format!("{}_d{d}", s.name),
                decl: decl(s.width),
                src: src.clone(),
                reset: lit(s.width, 0),
            };
            src = stage.name.clone();
            line.stages.push(stage.clone());
            if s.reset {
                line.reset_stages.push(stage);
            } else {
                line.data_stages.push(stage);
            }
        }
        line.outputs.push(WireView { decl: decl(s.width), name: s.name, expr: src });
    }
    line
}

#[derive(Serialize)]
struct Conn {
    port: String,
    net: String,
}

#[derive(Serialize)]
pub(super) struct InstanceView {
    module: String,
    name: String,
    conns: Vec<Conn>,
}

#[derive(Serialize)]
pub(super) struct NetView {
    decl: String,
    name: String,
}

pub(super) fn grid_views(ir: &DesignIr) -> (Vec<NetView>, Vec<InstanceView>) {
    let mut nets = Vec::new();
    let mut instances = Vec::new();
    for (node, name, def) in ir.instances() {
        let conns = def
            .ports
            .iter()
            .map(|port| {
                let net = match port.dir {
                    Dir::Input if port.name == "clk" || port.name == "rst" => port.name.clone(),
                    Dir::Input => ir.input_net(node, &port.name).expect("IR check: every input is driven"),
                    Dir::Output => {
                        let net = ir.output_net(node, &port.name);
                        nets.push(NetView { decl: decl(port.width), name: net.clone() });
                        net
                    }
                };
                Conn { port: port.name.clone(), net }
            })
            .collect();
        instances.push(InstanceView { module: def.name.clone(), name: name.to_string(), conns });
    }
    (nets, instances)
}

/// The port declarations of a module the IR defines (a PE): every port from its `ModuleDef`, in
/// order, with the comment `comment` gives for its name (empty: none). Outputs are `reg`: every PE
/// drives them from an always block.
pub(super) fn module_port_views(def: &ModuleDef, comment: impl Fn(&str) -> String) -> Vec<PortView> {
    def.ports
        .iter()
        .map(|port| PortView {
            dir: match port.dir {
                Dir::Input => "input  wire",
                Dir::Output => "output reg ",
            },
            decl: if port.vector { vec_decl(port.width) } else { decl(port.width) },
            name: port.name.clone(),
            comment: comment(&port.name),
        })
        .collect()
}

pub(super) fn port_views(p: &Params) -> Vec<PortView> {
    let iface = Interface::of(p);
    let mut ports = vec![
        PortView { dir: "input  wire", decl: String::new(), name: "clk".into(), comment: String::new() },
        PortView {
            dir: "input  wire",
            decl: String::new(),
            name: "rst".into(),
            comment: "synchronous, active high".into(),
        },
    ];
    for ch in &iface.inputs {
        ports.push(PortView {
            dir: "input  wire",
            decl: String::new(),
            name: ch.valid.clone(),
            comment: String::new(),
        });
        if let Some(ready) = &ch.ready {
            ports.push(PortView {
                dir: "output wire",
                decl: String::new(),
                name: ready.clone(),
                comment: String::new(),
            });
        }
        for f in &ch.fields {
            ports.push(PortView {
                dir: "input  wire",
                decl: decl(f.width()),
                name: f.port.clone(),
                comment: f.meaning.clone(),
            });
        }
    }
    let out = &iface.output;
    ports.push(PortView {
        dir: "output reg ",
        decl: String::new(),
        name: out.valid.clone(),
        comment: String::new(),
    });
    for f in &out.fields {
        ports.push(PortView {
            dir: "output reg ",
            decl: decl(f.width()),
            name: f.port.clone(),
            comment: f.meaning.clone(),
        });
    }
    ports
}

#[derive(Serialize)]
pub(super) struct ReadoutColumn {
    pub(super) name: String,
    pub(super) expr: String,
}

#[derive(Serialize)]
struct OsView {
    header: String,
    module: String,
    rows: usize,
    cols: usize,
    protocol: Vec<String>,
    ports: Vec<PortView>,
    fold_gap: usize,
    gap_decl: String,
    gap_full: String,
    gap_one: String,
    skew: Vec<Pipeline>,
    nets: Vec<NetView>,
    instances: Vec<InstanceView>,
    row_done_decl: String,
    row_done_terms: String,
    /// Pipelined MACs: registers that delay row_done by `pipeline` edges (empty: none).
    row_done_stages: Vec<DelayStage>,
    row_done_zero: String,
    row_done_last: String,
    acc_decl: String,
    readout: Vec<ReadoutColumn>,
    out_concat: String,
}

#[derive(Serialize)]
struct DelayStage {
    name: String,
    src: String,
}

#[derive(Serialize)]
struct AccColumn {
    mem: String,
    sum: String,
    psum: String,
}

#[derive(Serialize)]
struct WsView {
    header: String,
    module: String,
    rows: usize,
    cols: usize,
    acc_depth: usize,
    protocol: Vec<String>,
    ports: Vec<PortView>,
    switch_wait: usize,
    row_decl: String,
    row_zero: String,
    row_one: String,
    row_last: String,
    since_decl: String,
    since_full: String,
    since_one: String,
    addr_decl: String,
    addr_zero: String,
    addr_one: String,
    pipelines: Vec<Pipeline>,
    nets: Vec<NetView>,
    instances: Vec<InstanceView>,
    acc_decl: String,
    acc_zero: String,
    acc_last: usize,
    acc_columns: Vec<AccColumn>,
    out_concat: String,
}

/// Columns listed from the highest lane down, for a `{ ... }` concatenation with lane 0 lowest.
pub(super) fn concat_high_to_low(cols: usize, name: impl Fn(usize) -> String) -> String {
    (0..cols).rev().map(name).collect::<Vec<_>>().join(", ")
}

pub fn render_top(tera: &tera::Tera, header: &str, p: &Params, ir: &DesignIr) -> Result<String> {
    let (nets, instances) = grid_views(ir);
    let protocol = Interface::of(p).protocol;
    let (ab, wb) = (p.act_bits, p.weight_bits);
    let last_col = p.cols - 1;
    match p.dataflow {
        Dataflow::OutputStationary => {
            let mut skew = Vec::new();
            for r in 0..p.rows {
                skew.push(pipeline(
                    format!("Row {r}: A lane {r} and its tags, {r} stage(s)."),
                    r,
                    vec![
                        signal(names::row(r, "a"), ab, lane("in_a", p.rows, r, ab), false),
                        signal(names::row(r, "valid"), 1, "take".into(), true),
                        signal(names::row(r, "last"), 1, "in_last".into(), false),
                    ],
                ));
            }
            for c in 0..p.cols {
                skew.push(pipeline(
                    format!("Column {c}: B lane {c}, {c} stage(s)."),
                    c,
                    vec![signal(names::col(c, "b"), wb, lane("in_b", p.cols, c, wb), false)],
                ));
            }
            let done = |r: usize| {
                let pe = names::pe(r, last_col);
                format!("{pe}_a_valid_out & {pe}_a_last_out")
            };
            let readout = (0..p.cols)
                .map(|c| ReadoutColumn {
                    name: format!("readout_c{c}"),
                    expr: (0..p.rows)
                        .map(|r| {
                            format!("({{{}{{row_done[{r}]}}}} & {}_result)", p.acc_bits, names::pe(r, c))
                        })
                        .collect::<Vec<_>>()
                        .join("\n        | "),
                })
                .collect();
            let gap_bits = p.gap_bits();
            let view = OsView {
                header: header.into(),
                module: p.name.clone(),
                rows: p.rows,
                cols: p.cols,
                protocol,
                ports: port_views(p),
                fold_gap: p.fold_gap,
                gap_decl: decl(gap_bits),
                gap_full: lit(gap_bits, p.fold_gap as u64),
                gap_one: lit(gap_bits, 1),
                skew,
                nets,
                instances,
                row_done_decl: vec_decl(p.rows as u32),
                row_done_terms: concat_high_to_low(p.rows, done),
                row_done_stages: (1..=p.pipeline)
                    .map(|d| DelayStage {
                        name: format!("row_done_d{d}"),
                        src: if d == 1 { "row_done_now".into() } else { format!("row_done_d{}", d - 1) },
                    })
                    .collect(),
                row_done_zero: lit(p.rows as u32, 0),
                row_done_last: format!("row_done_d{}", p.pipeline),
                acc_decl: decl(p.acc_bits),
                readout,
                out_concat: concat_high_to_low(p.cols, |c| format!("readout_c{c}")),
            };
            super::render(tera, "os_top.v.tera", &view)
        }
        Dataflow::WeightStationary => {
            let row_bits = clog2(p.rows as u64).max(1);
            let switch_wait = last_col.max(1);
            let since_bits = clog2(switch_wait as u64 + 1).max(1);
            let addr_bits = p.acc_addr_bits();
            let mut pipelines = vec![pipeline(
                "Weight lanes (broadcast down each column) and row load strobes.".into(),
                0,
                (0..p.cols)
                    .map(|c| signal(names::col(c, "w"), wb, lane("w_data", p.cols, c, wb), false))
                    .chain((0..p.rows).map(|r| {
                        signal(
                            names::row(r, "w_load"),
                            1,
                            format!("w_take && (w_row == {})", lit(row_bits, r as u64)),
                            false,
                        )
                    }))
                    .chain([signal("psum_zero".into(), p.acc_bits, lit(p.acc_bits, 0), false)])
                    .collect(),
            )];
            for r in 0..p.rows {
                pipelines.push(pipeline(
                    format!("Row {r}: A lane {r} and its tags, {r} stage(s)."),
                    r,
                    vec![
                        signal(names::row(r, "a"), ab, lane("a_data", p.rows, r, ab), false),
                        signal(names::row(r, "valid"), 1, "a_take".into(), true),
                        signal(names::row(r, "first"), 1, "a_first".into(), false),
                    ],
                ));
            }
            let tag_depth = p.rows + p.cols - 1 + p.pipeline;
            pipelines.push(pipeline(
                format!("Row tags, {tag_depth} stages: they reach the accumulator with the row's aligned column sums."),
                tag_depth,
                vec![
                    signal("tag_valid".into(), 1, "a_take".into(), true),
                    signal("tag_acc".into(), 1, "a_acc".into(), false),
                    signal("tag_emit".into(), 1, "a_emit".into(), false),
                    signal("tag_addr".into(), addr_bits, "a_addr".into(), false),
                ],
            ));
            for c in 0..p.cols {
                let depth = last_col - c;
                pipelines.push(pipeline(
                    format!("Column {c} sum de-skew, {depth} stage(s)."),
                    depth,
                    vec![signal(
                        format!("psum_aligned_c{c}"),
                        p.acc_bits,
                        format!("{}_psum_out", names::pe(p.rows - 1, c)),
                        false,
                    )],
                ));
            }
            let acc_columns = (0..p.cols)
                .map(|c| AccColumn {
                    mem: format!("acc_mem_c{c}"),
                    sum: format!("acc_sum_c{c}"),
                    psum: format!("psum_aligned_c{c}"),
                })
                .collect();
            let view = WsView {
                header: header.into(),
                module: p.name.clone(),
                rows: p.rows,
                cols: p.cols,
                acc_depth: p.acc_depth,
                protocol,
                ports: port_views(p),
                switch_wait,
                row_decl: decl(row_bits),
                row_zero: lit(row_bits, 0),
                row_one: lit(row_bits, 1),
                row_last: lit(row_bits, (p.rows - 1) as u64),
                since_decl: decl(since_bits),
                since_full: lit(since_bits, switch_wait as u64),
                since_one: lit(since_bits, 1),
                addr_decl: decl(addr_bits),
                addr_zero: lit(addr_bits, 0),
                addr_one: lit(addr_bits, 1),
                pipelines,
                nets,
                instances,
                acc_decl: decl(p.acc_bits),
                acc_zero: lit(p.acc_bits, 0),
                acc_last: p.acc_depth - 1,
                acc_columns,
                out_concat: concat_high_to_low(p.cols, |c| format!("acc_sum_c{c}")),
            };
            super::render(tera, "ws_top.v.tera", &view)
        }
    }
}
