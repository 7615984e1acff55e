//! The Python host library of a system top, `<top>_host.py`: constants from the tables in this
//! module's siblings (registers, descriptor fields, error codes, record layout), frame packing and
//! output unpacking (numpy), and a `Driver` that runs jobs through register and stream functions
//! (a board's MMIO and DMA, or cocotbext-axi in the cocotb test). Rendered from
//! `templates/system_host.py.tera`; every number in it is computed here. On a SAC system the library
//! also kneads the weights into the per-column streams of [`super::kneaded`] (in Python, with the
//! layout constants read off the Rust packing here).

use super::descriptor::{self, JobError, FIELDS};
use super::kneaded::{SacSystem, DIRECTORY_WORDS};
use super::layout::Requant;
use super::regs::{self, Access, REGISTERS};
use super::{SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
use crate::config::Dataflow;
use anyhow::Result;
use serde::Serialize;

/// File name of the host library: `<top>_host.py`.
pub fn file_name(sp: &SystemParams) -> String {
    format!("{}_host.py", sp.top)
}

/// The host library's text.
pub fn host_library(sp: &SystemParams) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_template(TEMPLATE, include_str!("../../templates/system_host.py.tera"))?;
    crate::rtl::render(&tera, TEMPLATE, &HostView::of(sp))
}

const TEMPLATE: &str = "system_host.py.tera";

#[derive(Serialize)]
struct HostView {
    version: &'static str,
    top: String,
    /// The array's dataflow for the docstring: `output-stationary`, `weight-stationary`.
    dataflow: &'static str,
    /// The array's PE kind for the docstring: `MAC`, `SAC (...)`.
    pe: String,
    rows: usize,
    cols: usize,
    word_bytes: usize,
    stream_bits: u32,
    acc_bits: u32,
    desc_bytes: usize,
    desc_words: usize,
    param_words_per_tile: usize,
    act_words: usize,
    weight_words: usize,
    param_tiles: usize,
    param_words: usize,
    out_words: usize,
    addr_bits: u32,
    registers: Vec<RegisterView>,
    id_value: String,
    ctrl_start: String,
    ctrl_done: String,
    ctrl_idle: String,
    errors: Vec<ErrorView>,
    op_conv2d: u8,
    flag_relu: String,
    flag_load_weights: String,
    flag_last: String,
    fields: Vec<FieldView>,
    record: RecordView,
    /// SAC systems: the kneaded weight format.
    sac: Option<SacView>,
}

/// A SAC system's weight format: every bit position read off the Rust packing
/// (`SlotLayout::pack_slot`, `SacSystem::flags`), so the Python cannot drift from it.
#[derive(Serialize)]
struct SacView {
    ks: usize,
    /// The encoding's name (`sign_magnitude`, `csd`) as a Python string literal.
    encoding_py: String,
    weight_bits: u32,
    /// The largest |w|: 2^(weight_bits-1) - 1.
    weight_max: i64,
    positions: usize,
    index_bits: u32,
    slot_bits: u32,
    word_bits: u32,
    /// word_bits - 1.
    word_msb: u32,
    /// Bits of a packed slot: valid, negative, the index's least significant bit.
    slot_valid_bit: u32,
    slot_negative_bit: u32,
    slot_index_lsb: u32,
    group_end_bit: u32,
    fold_end_bit: u32,
    /// Bits of a stream word of a column: the kneaded word and its two flags.
    stream_word_bits: u32,
    directory_words: usize,
    /// Bits of a column length in the directory: one byte per directory word.
    length_bits: usize,
}

impl SacView {
    fn of(sac: &SacSystem) -> SacView {
        let bits = sac.bits();
        SacView {
            ks: sac.knead.ks,
            encoding_py: py_str(sac.knead.encoding.name()),
            weight_bits: sac.knead.bits,
            weight_max: sac.knead.qmax(),
            positions: sac.positions,
            index_bits: sac.knead.layout().index_bits,
            slot_bits: sac.slot_bits,
            word_bits: sac.word_bits,
            word_msb: sac.word_bits - 1,
            slot_valid_bit: bits.slot_valid,
            slot_negative_bit: bits.slot_negative,
            slot_index_lsb: bits.slot_index_lsb,
            group_end_bit: bits.group_end,
            fold_end_bit: bits.fold_end,
            stream_word_bits: sac.stream_word_bits(),
            directory_words: DIRECTORY_WORDS,
            length_bits: 8 * DIRECTORY_WORDS,
        }
    }
}

/// The array's PE kind (and the kneading of a SAC array).
fn pe_description(sp: &SystemParams) -> String {
    match &sp.sac {
        None => "MAC".into(),
        Some(sac) => format!("SAC (KS = {}, {})", sac.knead.ks, sac.knead.encoding.name()),
    }
}

#[derive(Serialize)]
struct RegisterView {
    name: &'static str,
    /// The name as a Python string literal.
    name_py: String,
    offset: String,
    access: &'static str,
    meaning: String,
}

#[derive(Serialize)]
struct ErrorView {
    code: u32,
    name: &'static str,
    name_py: String,
    meaning: String,
}

#[derive(Serialize)]
struct FieldView {
    name_py: String,
    offset: usize,
    bytes: usize,
    /// `True` / `False`.
    signed: &'static str,
    meaning: String,
}

/// Where each field sits in the 64-bit requantization record, read off `Requant::record` itself.
#[derive(Serialize)]
struct RecordView {
    bias_lsb: u32,
    bias_bits: u32,
    bias_msb: u32,
    mult_lsb: u32,
    mult_bits: u32,
    mult_msb: u32,
    shift_lsb: u32,
    shift_bits: u32,
    shift_msb: u32,
    bytes: usize,
}

impl RecordView {
    fn of() -> RecordView {
        // A field's bits: the record with only that field all ones (the shift field is 6 bits wide).
        let span = |r: Requant| {
            let bits = r.record();
            (bits.trailing_zeros(), bits.count_ones())
        };
        let (bias_lsb, bias_bits) = span(Requant { bias: -1, ..Requant::default() });
        let (mult_lsb, mult_bits) = span(Requant { mult: u16::MAX, ..Requant::default() });
        let (shift_lsb, shift_bits) = span(Requant { shift: u8::MAX, ..Requant::default() });
        RecordView {
            bias_lsb,
            bias_bits,
            bias_msb: bias_lsb + bias_bits - 1,
            mult_lsb,
            mult_bits,
            mult_msb: mult_lsb + mult_bits - 1,
            shift_lsb,
            shift_bits,
            shift_msb: shift_lsb + shift_bits - 1,
            bytes: std::mem::size_of::<u64>(),
        }
    }
}

/// A Python string literal (a JSON string is one: same quotes and escapes).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// Text for a one-line `#` comment.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn hex(v: u32) -> String {
    format!("0x{v:02X}")
}

fn access(a: Access) -> &'static str {
    match a {
        Access::ReadOnly => "read-only",
        Access::ReadWrite => "read/write",
        Access::ReadWrite1Clear => "read, write 1 to clear",
        Access::Control => "control",
    }
}

impl HostView {
    fn of(sp: &SystemParams) -> HostView {
        HostView {
            version: env!("CARGO_PKG_VERSION"),
            top: sp.top.clone(),
            dataflow: match sp.dataflow {
                Dataflow::OutputStationary => "output-stationary",
                Dataflow::WeightStationary => "weight-stationary",
            },
            pe: pe_description(sp),
            rows: sp.rows,
            cols: sp.cols,
            word_bytes: sp.word_bytes(),
            stream_bits: sp.stream_bits,
            acc_bits: sp.acc_bits,
            desc_bytes: DESCRIPTOR_BYTES,
            desc_words: sp.desc_words,
            param_words_per_tile: PARAM_WORDS_PER_TILE,
            act_words: sp.act_words,
            weight_words: sp.weight_words,
            param_tiles: sp.param_tiles,
            param_words: sp.param_words(),
            out_words: sp.out_words,
            addr_bits: regs::ADDR_BITS,
            registers: REGISTERS
                .iter()
                .map(|r| RegisterView {
                    name: r.name,
                    name_py: py_str(r.name),
                    offset: hex(r.offset),
                    access: access(r.access),
                    meaning: comment(r.meaning),
                })
                .collect(),
            id_value: format!("0x{:08X}", regs::ID_VALUE),
            ctrl_start: hex(regs::CTRL_START),
            ctrl_done: hex(regs::CTRL_DONE),
            ctrl_idle: hex(regs::CTRL_IDLE),
            errors: JobError::ALL
                .iter()
                .map(|e| ErrorView {
                    code: e.code(),
                    name: e.name(),
                    name_py: py_str(e.name()),
                    meaning: comment(e.meaning()),
                })
                .collect(),
            op_conv2d: descriptor::OP_CONV2D,
            flag_relu: hex(descriptor::FLAG_RELU.into()),
            flag_load_weights: hex(descriptor::FLAG_LOAD_WEIGHTS.into()),
            flag_last: hex(descriptor::FLAG_LAST.into()),
            fields: FIELDS
                .iter()
                .map(|f| FieldView {
                    name_py: py_str(f.name),
                    offset: f.offset,
                    bytes: f.bytes,
                    signed: if f.signed { "True" } else { "False" },
                    meaning: comment(f.meaning),
                })
                .collect(),
            record: RecordView::of(),
            sac: sp.sac.as_ref().map(SacView::of),
        }
    }
}
