//! The AXI4-Lite register map (32-bit registers, byte addresses), HLS-style: control at 0x00, global
//! interrupt enable 0x04, interrupt enable 0x08, interrupt status 0x0C.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    ReadOnly,
    ReadWrite,
    /// Read; write 1 to a bit to clear it.
    ReadWrite1Clear,
    /// Read; write 1 to bit 0 (START) to start a run.
    Control,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Register {
    pub name: &'static str,
    pub offset: u32,
    pub access: Access,
    pub meaning: &'static str,
}

const fn reg(name: &'static str, offset: u32, access: Access, meaning: &'static str) -> Register {
    Register { name, offset, access, meaning }
}

/// ID register value: "AC" + format version 1.
pub const ID_VALUE: u32 = 0xACC0_0001;
/// Bits of CTRL.
pub const CTRL_START: u32 = 1 << 0;
pub const CTRL_DONE: u32 = 1 << 1;
pub const CTRL_IDLE: u32 = 1 << 2;
/// Address bits decoded (registers 0x00..0x3C).
pub const ADDR_BITS: u32 = 6;

pub const REGISTERS: &[Register] = &[
    reg("CTRL", 0x00, Access::Control, "bit 0 START: write 1 to start a run when idle, reads 1 while a run is in progress; bit 1 DONE: 1 once a run has finished, cleared when CTRL is read and when a run starts; bit 2 IDLE: 1 when no run is in progress"),
    reg("GIE", 0x04, Access::ReadWrite, "bit 0: global interrupt enable (the `irq` output is GIE.0 & ISR.0)"),
    reg("IER", 0x08, Access::ReadWrite, "bit 0: enable the run-done interrupt"),
    reg("ISR", 0x0C, Access::ReadWrite1Clear, "bit 0: a run finished while IER.0 was 1; write 1 to clear"),
    reg("CYCLES_LO", 0x10, Access::ReadOnly, "clock edges of the current or last run, bits 31:0 (from the edge after START is accepted to the edge DONE is set, inclusive)"),
    reg("CYCLES_HI", 0x14, Access::ReadOnly, "bits 63:32 of the cycle count"),
    reg("ERROR", 0x18, Access::ReadOnly, "first error of the run (0: none; codes in the manifest and the C header); the failing frame is drained to its tlast and no further frame is taken"),
    reg("ERROR_JOB", 0x1C, Access::ReadOnly, "index (from 0) of the job whose frame failed"),
    reg("JOBS_DONE", 0x20, Access::ReadOnly, "jobs of the run whose last output beat has left"),
    reg("ID", 0x24, Access::ReadOnly, "0xACC00001: accelc system top, interface version 1"),
    reg("ARRAY", 0x28, Access::ReadOnly, "bits 15:0 array rows R, bits 31:16 array columns C (8-bit lanes per stream word)"),
    reg("ACT_WORDS", 0x2C, Access::ReadOnly, "words per activation bank"),
    reg("WEIGHT_WORDS", 0x30, Access::ReadOnly, "words per weight bank (SAC systems: stream words per column bank)"),
    reg("PARAM_TILES", 0x34, Access::ReadOnly, "output-channel tiles per parameter bank"),
    reg("OUT_WORDS", 0x38, Access::ReadOnly, "words of the output FIFO"),
];

pub fn offset(name: &str) -> u32 {
    REGISTERS.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no register {name}")).offset
}
