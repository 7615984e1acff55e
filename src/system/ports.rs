//! The ports of `<name>_system`, in declaration order: the one table the manifest's port list and the
//! FPGA flow's registered-I/O wrapper read (the template `system_top.v.tera` declares the same ports;
//! `tests/system_synth.rs` checks the two agree).

use super::regs::ADDR_BITS;
use super::SystemParams;

/// Direction of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// One port of the system top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: &'static str,
    pub direction: Direction,
    pub width: u32,
    pub meaning: &'static str,
}

/// The clock port.
pub const CLOCK: &str = "aclk";
/// The reset port (synchronous, active low).
pub const RESET: &str = "aresetn";

/// Ports of `sp.top` in declaration order.
pub fn ports(sp: &SystemParams) -> Vec<Port> {
    use Direction::{Input as I, Output as O};
    let (sb, ab) = (sp.stream_bits, ADDR_BITS);
    let port = |name, direction, width, meaning| Port { name, direction, width, meaning };
    vec![
        port(CLOCK, I, 1, "clock; everything updates on its rising edge"),
        port(RESET, I, 1, "synchronous reset, active low"),
        port("s_axis_tdata", I, sb, "AXI4-Stream slave (input frames): one word, byte c in bits [8c+7:8c] (lane c); no tkeep, every byte is valid"),
        port("s_axis_tvalid", I, 1, "AXI4-Stream slave: a word is offered"),
        port("s_axis_tready", O, 1, "AXI4-Stream slave: the word is taken at this edge if tvalid is 1"),
        port("s_axis_tlast", I, 1, "AXI4-Stream slave: the last word of a frame (one frame per job)"),
        port("m_axis_tdata", O, sb, "AXI4-Stream master (results): one output word, byte c in bits [8c+7:8c] (lane c)"),
        port("m_axis_tvalid", O, 1, "AXI4-Stream master: a word is offered"),
        port("m_axis_tready", I, 1, "AXI4-Stream master: the word leaves at this edge if tvalid is 1"),
        port("m_axis_tlast", O, 1, "AXI4-Stream master: the last word of a job's output"),
        port("s_axi_awaddr", I, ab, "AXI4-Lite write address (byte address of a 32-bit register)"),
        port("s_axi_awvalid", I, 1, "AXI4-Lite write address valid"),
        port("s_axi_awready", O, 1, "AXI4-Lite write address ready: awvalid & wvalid & !bvalid (both channels are taken together)"),
        port("s_axi_wdata", I, 32, "AXI4-Lite write data"),
        port("s_axi_wstrb", I, 4, "AXI4-Lite write strobes: ignored (every write is a full-word write)"),
        port("s_axi_wvalid", I, 1, "AXI4-Lite write data valid"),
        port("s_axi_wready", O, 1, "AXI4-Lite write data ready: equal to awready"),
        port("s_axi_bresp", O, 2, "AXI4-Lite write response: always 0 (OKAY)"),
        port("s_axi_bvalid", O, 1, "AXI4-Lite write response valid: rises after a write is accepted"),
        port("s_axi_bready", I, 1, "AXI4-Lite write response ready: bvalid falls at the edge it is 1"),
        port("s_axi_araddr", I, ab, "AXI4-Lite read address (byte address of a 32-bit register)"),
        port("s_axi_arvalid", I, 1, "AXI4-Lite read address valid"),
        port("s_axi_arready", O, 1, "AXI4-Lite read address ready: !rvalid"),
        port("s_axi_rdata", O, 32, "AXI4-Lite read data, latched at the edge the read is accepted"),
        port("s_axi_rresp", O, 2, "AXI4-Lite read response: always 0 (OKAY)"),
        port("s_axi_rvalid", O, 1, "AXI4-Lite read data valid"),
        port("s_axi_rready", I, 1, "AXI4-Lite read data ready: rvalid falls at the edge it is 1"),
        port("irq", O, 1, "level interrupt: GIE.0 & ISR.0"),
    ]
}
