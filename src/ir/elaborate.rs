//! Config -> IR: the PE module's ports and the grid of PE instances with their nets.

use super::names::{self, ModuleNames};
use super::{DesignIr, Dir, ModuleDef, PortDef};
use crate::config::{Dataflow, Params};
use petgraph::graph::NodeIndex;

/// A single-bit port (clock, reset, strobes and tags).
fn wire(name: &str, dir: Dir) -> PortDef {
    PortDef { name: name.into(), dir, width: 1, vector: false }
}

/// A data port, declared as a vector at any width (the module's body slices it).
fn bus(name: &str, dir: Dir, width: u32) -> PortDef {
    PortDef { name: name.into(), dir, width, vector: true }
}

/// The PE module's interface for the config's PE kind and dataflow: the one list of its ports,
/// which the PE templates declare and the top's instances connect.
pub fn pe_module(p: &Params) -> ModuleDef {
    use Dir::{Input as I, Output as O};
    let (a, w, acc) = (p.act_bits, p.weight_bits, p.acc_bits);
    if let Some(sp) = &p.sparse {
        let ports = vec![
            wire("clk", I),
            wire("rst", I),
            wire("take", I),
            wire("first", I),
            wire("job_end", I),
            wire("wgrad", I),
            bus("value", I, a),
            bus("hit", I, p.cols as u32),
            bus("pos", I, p.cols as u32 * sp.addr_bits),
            wire("load", I),
            bus("chunk", I, sp.chunk_bits),
            bus("load_data", I, sp.load_lanes as u32 * w),
            bus("ro_index", I, sp.addr_bits),
            bus("ro_value", O, acc),
        ];
        // ro_value is a combinational read of the readout row at ro_index.
        return ModuleDef { name: ModuleNames::of(p).sparse_row(), ports, registered: false };
    }
    if let Some(sac) = &p.sac {
        let ports = vec![
            wire("clk", I),
            wire("rst", I),
            bus("acts", I, sac.ks as u32 * a),
            bus("word", I, sac.positions as u32 * sac.slot_bits),
            wire("take", I),
            wire("fold_end", I),
            bus("result", O, acc),
        ];
        return ModuleDef { name: ModuleNames::of(p).sac_unit(), ports, registered: true };
    }
    let ports = match p.dataflow {
        Dataflow::OutputStationary => vec![
            wire("clk", I),
            wire("rst", I),
            bus("a_in", I, a),
            wire("a_valid_in", I),
            wire("a_last_in", I),
            bus("b_in", I, w),
            bus("a_out", O, a),
            wire("a_valid_out", O),
            wire("a_last_out", O),
            bus("b_out", O, w),
            bus("result", O, acc),
        ],
        Dataflow::WeightStationary => vec![
            wire("clk", I),
            wire("rst", I),
            bus("a_in", I, a),
            wire("a_valid_in", I),
            wire("a_first_in", I),
            wire("w_load", I),
            bus("w_in", I, w),
            bus("psum_in", I, acc),
            bus("a_out", O, a),
            wire("a_valid_out", O),
            wire("a_first_out", O),
            bus("psum_out", O, acc),
        ],
    };
    ModuleDef { name: ModuleNames::of(p).mac_pe(), ports, registered: true }
}

/// Elaborates the top's PE grid. A and its tags flow right along rows; B flows down (OS) or partial
/// sums flow down and weights are broadcast per row and column (WS).
// Grid wiring reads best with explicit (r, c) indices.
#[allow(clippy::needless_range_loop)]
pub fn elaborate(p: &Params) -> DesignIr {
    if p.sac.is_some() {
        return elaborate_sac(p);
    }
    if p.sparse.is_some() {
        return elaborate_sparse(p);
    }
    let mut ir = DesignIr::default();
    let pe_def = pe_module(p);
    let width = |name: &str| pe_def.port(name).map(|d| d.width).expect("PE port exists");
    let (a_w, b_w, acc_w) = (width("a_in"), p.weight_bits, p.acc_bits);
    let pe = ir.add_module(pe_def);
    let grid: Vec<Vec<NodeIndex>> =
        (0..p.rows).map(|r| (0..p.cols).map(|c| ir.instance(names::pe(r, c), pe)).collect()).collect();
    let tag = match p.dataflow {
        Dataflow::OutputStationary => "last",
        Dataflow::WeightStationary => "first",
    };
    // Rows: A, valid and the fold tag enter at column 0 and move right.
    for (r, row) in grid.iter().enumerate() {
        for (what, w) in [("a", a_w), ("valid", 1), (tag, 1)] {
            let src = ir.source(names::row(r, what), w);
            let port = if what == "a" { "a_in".to_string() } else { format!("a_{what}_in") };
            ir.connect(src, None, row[0], Some(&port), w);
        }
        for c in 1..p.cols {
            for (out, inp, w) in [
                ("a_out".to_string(), "a_in".to_string(), a_w),
                ("a_valid_out".into(), "a_valid_in".into(), 1),
                (format!("a_{tag}_out"), format!("a_{tag}_in"), 1),
            ] {
                ir.connect(row[c - 1], Some(&out), row[c], Some(&inp), w);
            }
        }
    }
    match p.dataflow {
        Dataflow::OutputStationary => {
            for c in 0..p.cols {
                let src = ir.source(names::col(c, "b"), b_w);
                ir.connect(src, None, grid[0][c], Some("b_in"), b_w);
                for r in 1..p.rows {
                    ir.connect(grid[r - 1][c], Some("b_out"), grid[r][c], Some("b_in"), b_w);
                }
            }
            let readout = ir.sink("readout");
            for row in &grid {
                for &pe in row {
                    ir.connect(pe, Some("result"), readout, None, acc_w);
                }
                let last = row[p.cols - 1];
                ir.connect(last, Some("a_valid_out"), readout, None, 1);
                ir.connect(last, Some("a_last_out"), readout, None, 1);
            }
        }
        Dataflow::WeightStationary => {
            let zero = ir.source("psum_zero".into(), acc_w);
            let deskew = ir.sink("deskew");
            for c in 0..p.cols {
                ir.connect(zero, None, grid[0][c], Some("psum_in"), acc_w);
                for r in 1..p.rows {
                    ir.connect(grid[r - 1][c], Some("psum_out"), grid[r][c], Some("psum_in"), acc_w);
                }
                ir.connect(grid[p.rows - 1][c], Some("psum_out"), deskew, None, acc_w);
            }
            let lanes: Vec<NodeIndex> = (0..p.cols).map(|c| ir.source(names::col(c, "w"), b_w)).collect();
            for (r, row) in grid.iter().enumerate() {
                let load = ir.source(names::row(r, "w_load"), 1);
                for (&pe, &lane) in row.iter().zip(&lanes) {
                    ir.connect(load, None, pe, Some("w_load"), 1);
                    ir.connect(lane, None, pe, Some("w_in"), b_w);
                }
            }
        }
    }
    ir
}

/// SAC grid: no nets between PEs. Each PE reads its row's activation group through its column's slot
/// pointer (`grp_r<r>_c<c>`) and its column's word and strobes; the readout reads every result.
pub fn elaborate_sac(p: &Params) -> DesignIr {
    let mut ir = DesignIr::default();
    let def = pe_module(p);
    let width = |name: &str| def.port(name).map(|d| d.width).expect("SAC port exists");
    let (acts_w, word_w) = (width("acts"), width("word"));
    let pe = ir.add_module(def);
    let readout = ir.sink("readout");
    let columns: Vec<[NodeIndex; 3]> = (0..p.cols)
        .map(|c| {
            [
                ir.source(names::col(c, "word"), word_w),
                ir.source(names::col(c, "take"), 1),
                ir.source(names::col(c, "fold_end"), 1),
            ]
        })
        .collect();
    for r in 0..p.rows {
        for (c, [word, take, fold_end]) in columns.iter().enumerate() {
            let inst = ir.instance(names::pe(r, c), pe);
            let group = ir.source(names::group(r, c), acts_w);
            ir.connect(group, None, inst, Some("acts"), acts_w);
            ir.connect(*word, None, inst, Some("word"), word_w);
            ir.connect(*take, None, inst, Some("take"), 1);
            ir.connect(*fold_end, None, inst, Some("fold_end"), 1);
            ir.connect(inst, Some("result"), readout, None, p.acc_bits);
        }
    }
    ir
}

/// Sparse row array: every PE row reads the broadcast entry, lane positions and control from the
/// top, its own chunk of the load beat (`row<r>_load_data`); the readout reads every row.
pub fn elaborate_sparse(p: &Params) -> DesignIr {
    let mut ir = DesignIr::default();
    let def = pe_module(p);
    let shared: Vec<(String, String, u32)> = def
        .ports
        .iter()
        .filter(|d| d.dir == Dir::Input && !["clk", "rst", "load_data"].contains(&d.name.as_str()))
        .map(|d| (d.name.clone(), names::sparse_source(&d.name).to_string(), d.width))
        .collect();
    let load_w = def.port("load_data").map(|d| d.width).expect("row port exists");
    let row = ir.add_module(def);
    let sources: Vec<(String, NodeIndex, u32)> =
        shared.iter().map(|(port, net, w)| (port.clone(), ir.source(net.clone(), *w), *w)).collect();
    let readout = ir.sink("readout");
    for r in 0..p.rows {
        let inst = ir.instance(names::sparse_row(r), row);
        for (port, src, w) in &sources {
            ir.connect(*src, None, inst, Some(port), *w);
        }
        let load = ir.source(names::row(r, "load_data"), load_w);
        ir.connect(load, None, inst, Some("load_data"), load_w);
        ir.connect(inst, Some("ro_value"), readout, None, p.acc_bits);
    }
    ir
}
