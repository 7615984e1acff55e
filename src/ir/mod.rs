//! The elaborated design: module definitions and, for the top, a petgraph graph whose nodes are PE
//! instances and the top's own logic (sources and sinks) and whose edges are nets. Invariants (every
//! input driven exactly once, widths agree, no combinational loop) are checked after elaboration;
//! the emitter renders instances and nets from this graph, never from the config directly.

pub mod elaborate;
pub mod names;

pub use elaborate::{elaborate, pe_module};
pub use names::ModuleNames;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Input,
    Output,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortDef {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
    /// Declared `[width-1:0]` even at width 1, because the module's body slices it.
    pub vector: bool,
}

/// A module the design instantiates. `registered` says every output comes from a flip-flop, so no
/// combinational path crosses the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDef {
    pub name: String,
    pub ports: Vec<PortDef>,
    pub registered: bool,
}

impl ModuleDef {
    pub fn port(&self, name: &str) -> Option<&PortDef> {
        self.ports.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An instance of `modules[module]` named `name` (e.g. `pe_r0_c1`).
    Instance { name: String, module: usize },
    /// A signal the top's own logic drives into instances (a skew line output, a constant).
    Source { net: String, width: u32 },
    /// The top's own logic reading an instance output (readout, de-skew).
    Sink { name: String },
}

/// A net from the driver node's `from` port (None for a Source) to the sink node's `to` port
/// (None for a Sink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    pub from: Option<String>,
    pub to: Option<String>,
    pub width: u32,
}

#[derive(Debug, Clone, Default)]
pub struct DesignIr {
    pub modules: Vec<ModuleDef>,
    pub graph: DiGraph<Node, Net>,
}

/// A broken invariant of the IR: an elaboration bug, never a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IrError {
    #[error("{instance}.{port}: input driven by {drivers} nets (must be exactly 1)")]
    Drivers { instance: String, port: String, drivers: usize },
    #[error("{net}: width {net_width} does not match {port} of width {port_width}")]
    Width { net: String, net_width: u32, port: String, port_width: u32 },
    #[error("{instance}: no port named {port}")]
    NoPort { instance: String, port: String },
    #[error("combinational loop through {0}")]
    Loop(String),
}

impl DesignIr {
    pub fn add_module(&mut self, def: ModuleDef) -> usize {
        self.modules.push(def);
        self.modules.len() - 1
    }

    pub fn instance(&mut self, name: String, module: usize) -> NodeIndex {
        self.graph.add_node(Node::Instance { name, module })
    }

    pub fn source(&mut self, net: String, width: u32) -> NodeIndex {
        self.graph.add_node(Node::Source { net, width })
    }

    pub fn sink(&mut self, name: &str) -> NodeIndex {
        self.graph.add_node(Node::Sink { name: name.into() })
    }

    /// Connects `from.from_port` (None for a source) to `to.to_port` (None for a sink).
    pub fn connect(
        &mut self,
        from: NodeIndex,
        from_port: Option<&str>,
        to: NodeIndex,
        to_port: Option<&str>,
        width: u32,
    ) {
        self.graph.add_edge(
            from,
            to,
            Net { from: from_port.map(Into::into), to: to_port.map(Into::into), width },
        );
    }

    pub fn node_name(&self, n: NodeIndex) -> &str {
        match &self.graph[n] {
            Node::Instance { name, .. } => name,
            Node::Source { net, .. } => net,
            Node::Sink { name } => name,
        }
    }

    /// The name of the net an instance output drives: `unused_`-prefixed when nothing reads it, so
    /// that Verilator's default unused-signal pattern documents the array edge it comes from.
    pub fn output_net(&self, inst: NodeIndex, port: &str) -> String {
        let used = self
            .graph
            .edges_directed(inst, Direction::Outgoing)
            .any(|e| e.weight().from.as_deref() == Some(port));
        let base = format!("{}_{}", self.node_name(inst), port);
        if used {
            base
        } else {
            format!("unused_{base}")
        }
    }

    /// The net driving an instance input (after `check`, exactly one exists).
    pub fn input_net(&self, inst: NodeIndex, port: &str) -> Option<String> {
        self.graph
            .edges_directed(inst, Direction::Incoming)
            .find(|e| e.weight().to.as_deref() == Some(port))
            .map(|e| self.net_name(e.source(), e.weight()))
    }

    fn net_name(&self, driver: NodeIndex, net: &Net) -> String {
        match (&self.graph[driver], &net.from) {
            (Node::Source { net, .. }, _) => net.clone(),
            (_, Some(port)) => self.output_net(driver, port),
            (_, None) => self.node_name(driver).to_string(),
        }
    }

    /// Instances in insertion order (row-major for the PE grid).
    pub fn instances(&self) -> impl Iterator<Item = (NodeIndex, &str, &ModuleDef)> {
        self.graph.node_indices().filter_map(|n| match &self.graph[n] {
            Node::Instance { name, module } => Some((n, name.as_str(), &self.modules[*module])),
            _ => None,
        })
    }

    /// Checks the invariants; returns every violation found.
    pub fn check(&self) -> Result<(), Vec<IrError>> {
        let mut errors = Vec::new();
        for (node, name, def) in self.instances() {
            for port in def.ports.iter().filter(|p| p.dir == Dir::Input && p.name != "clk" && p.name != "rst")
            {
                let drivers: Vec<_> = self
                    .graph
                    .edges_directed(node, Direction::Incoming)
                    .filter(|e| e.weight().to.as_deref() == Some(port.name.as_str()))
                    .collect();
                if drivers.len() != 1 {
                    errors.push(IrError::Drivers {
                        instance: name.into(),
                        port: port.name.clone(),
                        drivers: drivers.len(),
                    });
                }
            }
        }
        for edge in self.graph.edge_references() {
            let net = edge.weight();
            for (node, port) in [(edge.source(), &net.from), (edge.target(), &net.to)] {
                let (Node::Instance { name, module }, Some(port)) = (&self.graph[node], port) else {
                    continue;
                };
                match self.modules[*module].port(port) {
                    None => errors.push(IrError::NoPort { instance: name.clone(), port: port.clone() }),
                    Some(def) if def.width != net.width => errors.push(IrError::Width {
                        net: self.net_name(edge.source(), net),
                        net_width: net.width,
                        port: format!("{name}.{port}"),
                        port_width: def.width,
                    }),
                    Some(_) => {}
                }
            }
        }
        // A loop can only close through modules with combinational input-to-output paths.
        let combinational = self.graph.filter_map(
            |_, node| Some(node.clone()),
            |e, net| {
                let target = &self.graph[self.graph.edge_endpoints(e)?.1];
                match target {
                    Node::Instance { module, .. } if !self.modules[*module].registered => Some(net.clone()),
                    _ => None,
                }
            },
        );
        if let Err(cycle) = petgraph::algo::toposort(&combinational, None) {
            errors.push(IrError::Loop(self.node_name(cycle.node_id()).to_string()));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl fmt::Display for DesignIr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} modules, {} nodes, {} nets",
            self.modules.len(),
            self.graph.node_count(),
            self.graph.edge_count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn params(df: &str) -> crate::config::Params {
        let text = format!("name = \"t\"\n[array]\nrows = 3\ncols = 2\ndataflow = \"{df}\"\n[pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\n");
        Config::parse("t.toml", &text).unwrap().params()
    }

    #[test]
    fn elaborated_grids_pass_their_checks() {
        for df in ["output_stationary", "weight_stationary"] {
            let ir = elaborate(&params(df));
            assert_eq!(ir.instances().count(), 6);
            ir.check().unwrap();
        }
    }

    #[test]
    fn check_catches_an_undriven_input_a_double_driver_a_width_and_a_loop() {
        let mut ir = elaborate(&params("output_stationary"));
        let edge = ir.graph.edge_indices().next().unwrap();
        ir.graph.remove_edge(edge);
        assert!(matches!(ir.check().unwrap_err()[0], IrError::Drivers { drivers: 0, .. }));

        let mut ir = elaborate(&params("output_stationary"));
        let (pe0, _, _) = ir.instances().next().unwrap();
        let extra = ir.source("stray".into(), 8);
        ir.connect(extra, None, pe0, Some("a_in"), 8);
        assert!(matches!(ir.check().unwrap_err()[0], IrError::Drivers { drivers: 2, .. }));

        let mut ir = elaborate(&params("output_stationary"));
        let sink = ir.sink("probe");
        ir.connect(pe0, Some("result"), sink, None, 7);
        assert!(matches!(ir.check().unwrap_err()[0], IrError::Width { .. }));

        let mut ir = DesignIr::default();
        let comb = ir.add_module(ModuleDef {
            name: "buf".into(),
            ports: vec![
                PortDef { name: "i".into(), dir: Dir::Input, width: 1, vector: false },
                PortDef { name: "o".into(), dir: Dir::Output, width: 1, vector: false },
            ],
            registered: false,
        });
        let (x, y) = (ir.instance("x".into(), comb), ir.instance("y".into(), comb));
        ir.connect(x, Some("o"), y, Some("i"), 1);
        ir.connect(y, Some("o"), x, Some("i"), 1);
        assert!(ir.check().unwrap_err().iter().any(|e| matches!(e, IrError::Loop(_))));
    }
}
