//! Every name the generated design uses, in one place: module names (derived from the config's
//! `name`) and the instance and net names shared by the IR and the top-level views. The emitter,
//! synthesis, benches and tests ask here instead of rebuilding `<name>_pe` themselves.

use crate::config::{Params, PeKind};

/// The module names of a design whose top is `top` (the config's `name`). Which of them a design
/// contains depends on its PE kind: [`ModuleNames::pe`] is the one its grid instantiates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleNames {
    top: String,
    kind: PeKind,
}

impl ModuleNames {
    pub fn new(top: &str, kind: PeKind) -> Self {
        ModuleNames { top: top.to_string(), kind }
    }

    pub fn of(p: &Params) -> Self {
        ModuleNames::new(&p.name, p.kind)
    }

    /// The top module (and the config's name).
    pub fn top(&self) -> &str {
        &self.top
    }

    /// The module the top instantiates in its grid: the MAC PE, the SAC unit or the sparse PE row.
    pub fn pe(&self) -> String {
        match self.kind {
            PeKind::Mac => self.mac_pe(),
            PeKind::Sac => self.sac_unit(),
            PeKind::Sparse1d => self.sparse_row(),
        }
    }

    /// The MAC array's processing element.
    pub fn mac_pe(&self) -> String {
        format!("{}_pe", self.top)
    }

    /// The multiply-accumulate inside every MAC PE and every sparse row lane.
    pub fn mac_unit(&self) -> String {
        format!("{}_mac_unit", self.top)
    }

    /// The split-and-accumulate unit (one per SAC PE).
    pub fn sac_unit(&self) -> String {
        format!("{}_sac_unit", self.top)
    }

    /// One PE row of the sparse 1-D array.
    pub fn sparse_row(&self) -> String {
        format!("{}_row", self.top)
    }

    /// The gradient pruning unit that comes with a sparse array.
    pub fn prune_unit(&self) -> String {
        format!("{}_prune_unit", self.top)
    }

    /// The synthesis wrapper that registers the top's ports.
    pub fn io_wrapper(&self) -> String {
        format!("{}_io_wrapper", self.top)
    }

    /// The Verilog file that holds `module`.
    pub fn file(module: &str) -> String {
        format!("{module}.v")
    }
}

/// PE (r, c) of a grid.
pub fn pe(r: usize, c: usize) -> String {
    format!("pe_r{r}_c{c}")
}

/// Row r's skewed A lane (and its tags) entering PE(r, 0).
pub fn row(r: usize, what: &str) -> String {
    format!("row{r}_{what}")
}

/// Column c's skewed B lane entering PE(0, c) (OS) or its weight lane (WS).
pub fn col(c: usize, what: &str) -> String {
    format!("col{c}_{what}")
}

/// SAC: the activation group PE(r, c) reads (row r's slot under column c's pointer).
pub fn group(r: usize, c: usize) -> String {
    format!("grp_r{r}_c{c}")
}

/// Sparse: PE row r.
pub fn sparse_row(r: usize) -> String {
    format!("row{r}")
}

/// Sparse: the top's signal that drives a PE row's input port (shared by every row).
pub fn sparse_source(port: &str) -> &'static str {
    match port {
        "take" => "x_take",
        "first" => "row_start",
        "job_end" => "job_end",
        "wgrad" => "wgrad",
        "value" => "x_value",
        "hit" => "lane_hit",
        "pos" => "lane_pos",
        "load" => "d_take",
        "chunk" => "chunk",
        "ro_index" => "ro_index",
        other => panic!("no top signal for PE row port {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_the_top() {
        let n = ModuleNames::new("acc", PeKind::Mac);
        assert_eq!(
            [n.mac_pe(), n.mac_unit(), n.sac_unit(), n.sparse_row(), n.prune_unit(), n.io_wrapper()],
            ["acc_pe", "acc_mac_unit", "acc_sac_unit", "acc_row", "acc_prune_unit", "acc_io_wrapper"]
        );
        assert_eq!(n.pe(), "acc_pe");
        assert_eq!(ModuleNames::new("acc", PeKind::Sac).pe(), "acc_sac_unit");
        assert_eq!(ModuleNames::new("acc", PeKind::Sparse1d).pe(), "acc_row");
        assert_eq!(ModuleNames::file("acc_pe"), "acc_pe.v");
    }
}
