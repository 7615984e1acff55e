//! The registered-I/O wrapper that FPGA place and route measures instead of the bare top
//! (`templates/io_wrapper.v.tera`): the array's top ([`render`]) or a system top ([`render_system`],
//! whose clock is `aclk` and whose reset pin is `aresetn`). It is a measurement harness, not a usable
//! interface:
//!
//! - the reset gets its own pin and one register;
//! - every other input (valids, tags, data) is a slice of one shift register loaded
//!   [`SERIAL_PINS`] bits per edge from `ser_in`, in port order (first port in the low bits);
//! - every output (readies, valids, data) is registered once (`out_q`, ports concatenated in order,
//!   first port in the low bits), then folded by XOR, four bits per register per stage (one LUT4
//!   each), until at most [`XOR_PINS`] bits remain on `xor_out`.
//!
//! So every path into and out of the design starts and ends at a flip-flop (Fmax measures the array,
//! not the pads), the pin count is at most 1 + 1 + 4 + 8 = 14 whatever the design's interface (a
//! SAC array has four 1-bit ports per column), and every output bit reaches a pin through an XOR, so
//! Yosys can remove no part of the array. The wrapper's own flip-flops are counted exactly
//! ([`Wrapper::flip_flops`]); its LUTs are the XOR-stage bits ([`Wrapper::xor_luts`]).

use crate::config::Params;
use crate::interface::Interface;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Instance name of the wrapped design inside the wrapper (so the memories of the flattened design
/// are named `dut.<path>`).
pub const DUT: &str = "dut";

/// Data pins feeding the input shift register.
pub const SERIAL_PINS: u32 = 4;
/// At most this many XOR-folded output pins.
pub const XOR_PINS: u32 = 8;
/// Bits folded into one bit per XOR stage (one LUT4).
const FOLD: u32 = 4;

/// A rendered wrapper and the figures the report needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapper {
    pub module: String,
    pub file: String,
    #[serde(skip)]
    pub text: String,
    /// Top-level pins, clock included.
    pub pins: u32,
    /// Flip-flops the wrapper adds around the design (input and output registers, XOR stages).
    pub flip_flops: u64,
    /// LUTs of the XOR stages (one per stage bit).
    pub xor_luts: u64,
    pub serial_in_pins: u32,
    pub xor_out_pins: u32,
    /// Bits of the input shift register (= total width of the inputs but clock and reset).
    pub shift_bits: u32,
    /// Total width of the outputs folded onto `xor_out`.
    pub wide_out_bits: u32,
}

#[derive(Serialize)]
struct BitPort {
    pin: String,
    reg: String,
}

#[derive(Serialize)]
struct OutWire {
    wire: String,
    range: String,
}

#[derive(Serialize)]
struct Connection {
    port: String,
    expr: String,
    sep: &'static str,
}

#[derive(Serialize)]
struct StageBit {
    bit: u32,
    msb: u32,
    lsb: u32,
}

#[derive(Serialize)]
struct Stage {
    index: usize,
    name: String,
    source: String,
    in_bits: u32,
    bits: u32,
    msb: u32,
    assigns: Vec<StageBit>,
}

#[derive(Serialize)]
struct View {
    header: String,
    module: String,
    top: String,
    dut: &'static str,
    ser_pins: u32,
    ser_msb: u32,
    bit_inputs: Vec<BitPort>,
    shift_bits: u32,
    shift_msb: u32,
    shift_next: String,
    outputs: Vec<OutWire>,
    connections: Vec<Connection>,
    wide_out_bits: u32,
    wide_out_msb: u32,
    wide_concat: String,
    stages: Vec<Stage>,
    xor_msb: u32,
    xor_source: String,
}

/// One port of the wrapped top: name, direction, width.
struct Port {
    name: String,
    input: bool,
    width: u32,
}

fn port(name: &str, input: bool, width: u32) -> Port {
    Port { name: name.to_string(), input, width }
}

/// The array top's ports (clock excluded), reset first.
fn top_ports(p: &Params) -> Vec<Port> {
    let iface = Interface::of(p);
    let mut ports = vec![port("rst", true, 1)];
    for ch in &iface.inputs {
        ports.push(port(&ch.valid, true, 1));
        if let Some(ready) = &ch.ready {
            ports.push(port(ready, false, 1));
        }
        for f in &ch.fields {
            ports.push(port(&f.port, true, f.width()));
        }
    }
    ports.push(port(&iface.output.valid, false, 1));
    for f in &iface.output.fields {
        ports.push(port(&f.port, false, f.width()));
    }
    ports
}

fn range(width: u32) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

/// Renders the registered-I/O wrapper around the top of the design made from `p` (the array).
pub fn render(p: &Params, top: &str) -> Result<Wrapper> {
    let module = crate::ir::ModuleNames::new(top, p.kind).io_wrapper();
    render_ports(module, top, "clk", "rst", &top_ports(p))
}

/// Renders the registered-I/O wrapper around the system top `sp.top` (`<top>_io_wrapper`): its
/// AXI4-Stream and AXI4-Lite ports are far more than an iCE40UP5K-SG48 (39 I/O) or an ECP5 CABGA256
/// (197) has pins, so they go through the same harness as an array's ports; `aresetn` has its own pin.
pub fn render_system(sp: &crate::system::SystemParams) -> Result<Wrapper> {
    use crate::system::ports::{self, Direction};
    let ports: Vec<Port> = ports::ports(sp)
        .iter()
        .filter(|p| p.name != ports::CLOCK)
        .map(|p| port(p.name, p.direction == Direction::Input, p.width))
        .collect();
    render_ports(format!("{}_io_wrapper", sp.top), &sp.top, ports::CLOCK, ports::RESET, &ports)
}

/// Renders the wrapper `module` around `top`, whose clock port is `clock`, whose `reset` input gets
/// its own pin and register, and whose other ports are `ports` (clock excluded).
fn render_ports(module: String, top: &str, clock: &str, reset: &str, ports: &[Port]) -> Result<Wrapper> {
    let mut bit_inputs = Vec::new();
    let mut outputs = Vec::new();
    let mut connections = vec![Connection { port: clock.into(), expr: "clk".into(), sep: "," }];
    let mut shift_lsb = 0u32;
    let mut wide_out: Vec<(String, u32)> = Vec::new();
    for port in ports {
        let expr = if port.input && port.name == reset {
            let reg = format!("{}_q", port.name);
            bit_inputs.push(BitPort { pin: port.name.clone(), reg: reg.clone() });
            reg
        } else if port.input {
            let w = port.width;
            let expr = if w == 1 {
                format!("shift_q[{shift_lsb}]")
            } else {
                format!("shift_q[{}:{}]", shift_lsb + w - 1, shift_lsb)
            };
            shift_lsb += w;
            expr
        } else {
            let wire = format!("dut_{}", port.name);
            outputs.push(OutWire { wire: wire.clone(), range: range(port.width) });
            wide_out.push((wire.clone(), port.width));
            wire
        };
        connections.push(Connection { port: port.name.clone(), expr, sep: "," });
    }
    if let Some(last) = connections.last_mut() {
        last.sep = "";
    }
    let shift_bits = shift_lsb;
    let wide_out_bits: u32 = wide_out.iter().map(|(_, w)| w).sum();
    if shift_bits < SERIAL_PINS || wide_out_bits == 0 {
        bail!(
            "the I/O wrapper needs at least {SERIAL_PINS} bits of wide inputs and one wide output on {top}"
        );
    }
    let shift_next = if shift_bits == SERIAL_PINS {
        "ser_in".to_string()
    } else {
        format!("{{shift_q[{}:0], ser_in}}", shift_bits - SERIAL_PINS - 1)
    };
    // Later ports in the high bits, as in the input shift register.
    let wide_concat = if wide_out.len() == 1 {
        wide_out[0].0.clone()
    } else {
        format!("{{{}}}", wide_out.iter().rev().map(|(w, _)| w.as_str()).collect::<Vec<_>>().join(", "))
    };
    let mut stages = Vec::new();
    let mut source = "out_q".to_string();
    let mut width = wide_out_bits;
    while width > XOR_PINS {
        let bits = width.div_ceil(FOLD);
        let assigns = (0..bits)
            .map(|b| StageBit { bit: b, lsb: b * FOLD, msb: ((b + 1) * FOLD).min(width) - 1 })
            .collect();
        let name = format!("xor{}_q", stages.len() + 1);
        stages.push(Stage {
            index: stages.len() + 1,
            name: name.clone(),
            source: source.clone(),
            in_bits: width,
            bits,
            msb: bits - 1,
            assigns,
        });
        source = name;
        width = bits;
    }
    let xor_luts: u64 = stages.iter().map(|s| s.bits as u64).sum();
    let flip_flops = bit_inputs.len() as u64 + shift_bits as u64 + wide_out_bits as u64 + xor_luts;
    let pins = 1 + bit_inputs.len() as u32 + SERIAL_PINS + width;
    let header = format!(
        "// Generated by accelc {} -- do not edit; made by `accelc synth --target ice40|ecp5`.\n\
         // Registered-I/O measurement wrapper around {top}: every input and output is registered, the\n\
         // inputs come from a shift register, the outputs are XOR-folded onto {width} pins. A timing and\n\
         // area harness for place and route, not a usable interface.",
        env!("CARGO_PKG_VERSION")
    );
    let view = View {
        header,
        module: module.clone(),
        top: top.to_string(),
        dut: DUT,
        ser_pins: SERIAL_PINS,
        ser_msb: SERIAL_PINS - 1,
        bit_inputs,
        shift_bits,
        shift_msb: shift_bits - 1,
        shift_next,
        outputs,
        connections,
        wide_out_bits,
        wide_out_msb: wide_out_bits - 1,
        wide_concat,
        stages,
        xor_msb: width - 1,
        xor_source: source,
    };
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_template("io_wrapper.v.tera", include_str!("../../templates/io_wrapper.v.tera"))?;
    let text = crate::rtl::render(&tera, "io_wrapper.v.tera", &view)?;
    Ok(Wrapper {
        file: format!("{module}.v"),
        module,
        text,
        pins,
        flip_flops,
        xor_luts,
        serial_in_pins: SERIAL_PINS,
        xor_out_pins: width,
        shift_bits,
        wide_out_bits,
    })
}
