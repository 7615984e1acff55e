//! The gradient pruning unit that comes with a sparse row array: its view of
//! `templates/prune_unit.v.tera` (every width, literal and step name computed here), its module name,
//! and the design of the unit alone. Its ports and cycle model: `crate::model::prune_unit`; its
//! verification: `crate::verify::prune_unit`; tests/prune_unit.rs.

use super::sparse::zext;
use super::verilog::lit;
use super::{engine, header, render, Design};
use crate::config::{Config, Params};
use anyhow::Result;
use serde::Serialize;

/// The unit's module name: `<name>_prune_unit` (not instantiated by the array's top: it sits between
/// the backward pass's output and the stream encoder).
pub fn prune_unit_name(p: &Params) -> String {
    crate::ir::ModuleNames::of(p).prune_unit()
}

/// `<name>_prune_unit.v` of the config's array: (file name, text).
pub(super) fn file(tera: &tera::Tera, header: &str, p: &Params) -> Result<(String, String)> {
    let name = prune_unit_name(p);
    let text = render_prune_unit(tera, header, p.act_bits, crate::sparse::DEFAULT_DRAW_BITS, &name)?;
    Ok((crate::ir::ModuleNames::file(&name), text))
}

/// A design of the pruning unit alone (its own top), for verification and synthesis.
pub fn generate_prune_unit(config: &Config) -> Result<Design> {
    let p = config.params();
    anyhow::ensure!(p.sparse.is_some(), "{}: the pruning unit comes with sparse_1d arrays", config.name);
    let (name, text) = file(&engine()?, &header(config, &p), &p)?;
    Ok(Design { top: prune_unit_name(&p), system: None, files: vec![(name, text)] })
}

#[derive(Serialize)]
struct Step {
    name: String,
    prev: String,
}

#[derive(Serialize)]
struct PruneView {
    header: String,
    module: String,
    bits: u32,
    draw_bits: u32,
    lfsr_bits: u32,
    lfsr_msb: u32,
    mask: String,
    tau_msb: u32,
    tau_max: i64,
    g_msb: u32,
    g_zero: String,
    draw_msb: u32,
    steps: Vec<Step>,
    last_step: String,
    cmp_msb: u32,
    draw_ext: String,
    tau_cmp: String,
    mag_shifted: String,
}

/// The gradient pruning unit: `bits`-bit gradients, `draw_bits` draws from the 32-bit LFSR.
pub fn render_prune_unit(
    tera: &tera::Tera,
    header: &str,
    bits: u32,
    draw_bits: u32,
    module: &str,
) -> Result<String> {
    let lfsr_bits = 32;
    let mask = crate::sparse::Lfsr::new32(1).expect("seed 1 is legal").mask();
    let cmp = draw_bits + bits;
    let view = PruneView {
        header: header.into(),
        module: module.into(),
        bits,
        draw_bits,
        lfsr_bits,
        lfsr_msb: lfsr_bits - 1,
        mask: format!("{lfsr_bits}'h{mask:08x}"),
        tau_msb: bits - 2,
        tau_max: crate::sparse::qmax(bits),
        g_msb: bits - 1,
        g_zero: lit(bits, 0),
        draw_msb: draw_bits - 1,
        steps: (1..=draw_bits)
            .map(|i| Step { name: format!("step{i}"), prev: format!("step{}", i - 1) })
            .collect(),
        last_step: format!("step{draw_bits}"),
        cmp_msb: cmp - 1,
        draw_ext: zext("draw", draw_bits, cmp),
        tau_cmp: zext("tau", bits - 1, cmp),
        mag_shifted: format!("{{magnitude, {}}}", lit(draw_bits, 0)),
    };
    render(tera, "prune_unit.v.tera", &view)
}
