//! `<top>_regs.h`: the C view of a system top (register offsets, CTRL bits, error codes, descriptor
//! fields, sizes) and a descriptor packer, generated from the tables in this module's siblings so
//! that driver software cannot drift from the hardware. Plain C99 (`<stdint.h>` only); every name
//! starts with the upper-cased top name (`SYSTEM_OS_8X8_I8_SYSTEM_`), functions and types with the
//! top name itself. A SAC system's header adds the layout of its kneaded weight streams
//! (`<PREFIX>SAC_*`, from [`super::kneaded`]); `<PREFIX>SAC` is 1 there and 0 on a MAC system.

use super::descriptor::{FieldDef, FIELDS, FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU, OP_CONV2D};
use super::kneaded::{SacSystem, DIRECTORY_WORDS};
use super::regs::{Access, ADDR_BITS, CTRL_DONE, CTRL_IDLE, CTRL_START, ID_VALUE, REGISTERS};
use super::{JobError, SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
use crate::knead::Encoding;

/// File name of the header: `<top>_regs.h`.
pub fn c_header_file_name(sp: &SystemParams) -> String {
    format!("{}_regs.h", sp.top)
}

/// The `#define` prefix: the top name upper-cased, then `_`.
pub fn c_prefix(sp: &SystemParams) -> String {
    format!("{}_", sp.top.to_ascii_uppercase())
}

/// Fields of the descriptor struct: every field but the reserved bytes (packed as 0).
fn struct_fields() -> impl Iterator<Item = &'static FieldDef> {
    FIELDS.iter().filter(|f| !f.name.starts_with("reserved"))
}

fn c_type(f: &FieldDef) -> &'static str {
    match (f.bytes, f.signed) {
        (1, false) => "uint8_t",
        (1, true) => "int8_t",
        (2, false) => "uint16_t",
        (2, true) => "int16_t",
        (4, false) => "uint32_t",
        (4, true) => "int32_t",
        (n, _) => panic!("descriptor field {} has {n} bytes: no C type", f.name),
    }
}

/// Text safe inside a `/* */` comment.
fn comment(text: &str) -> String {
    text.replace("*/", "* /")
}

fn access(a: Access) -> &'static str {
    match a {
        Access::ReadOnly => "read-only",
        Access::ReadWrite => "read/write",
        Access::ReadWrite1Clear => "read, write 1 to clear",
        Access::Control => "control",
    }
}

/// The comment above a SAC system's `SAC_*` constants: the frame and stream layout of `super::kneaded`.
const SAC_COMMENT: [&str; 7] = [
    "/* SAC weights. With LOAD_WEIGHTS, after the records: SAC_DIRECTORY_WORDS directory words, then",
    " * column 0's L_0 stream words, column 1's, ..., column C-1's (one stream word per frame word,",
    " * little-endian). Column c's stream: per output-channel tile nt, per reduction group",
    " * g = (ky*kw + kx)*CB + cb, the KS weights w[nt*C + c][ky][kx][cb*C + i] (0 past out_c or in_c)",
    " * kneaded: per digit position p the group's digits in increasing index i; word j takes the j-th",
    " * digit of every position (an empty, all-zero slot where there is none); an all-zero group is",
    " * one empty word. group_end is set on a group's last word, fold_end also on the tile's last. */",
];

/// Values of the encoding constants `<PREFIX>SAC_ENCODING_*`.
pub const ENCODINGS: [(Encoding, u32); 2] = [(Encoding::SignMagnitude, 0), (Encoding::Csd, 1)];

/// The `SAC_*` constants of a SAC system (name without the prefix, value, meaning), every bit position
/// read off the Rust packing (`SlotLayout::pack_slot`, `SacSystem::flags`).
pub fn sac_constants(sac: &SacSystem) -> Vec<(String, u64, String)> {
    let layout = sac.knead.layout();
    let bits = sac.bits();
    let encoding = ENCODINGS.iter().find(|(e, _)| *e == sac.knead.encoding).expect("a known encoding").1;
    let v: [(&str, u64, String); 18] = [
        ("SAC_KS", sac.knead.ks as u64, "kneading stride: weights per group (= C)".into()),
        ("SAC_ENCODING", encoding as u64, format!("digit encoding: {}", sac.knead.encoding.name())),
        ("SAC_WEIGHT_BITS", sac.knead.bits as u64, "weight width (sign included)".into()),
        (
            "SAC_WEIGHT_MAX",
            sac.knead.qmax() as u64,
            "weights lie in -SAC_WEIGHT_MAX..SAC_WEIGHT_MAX (-128 is not representable)".into(),
        ),
        ("SAC_POSITIONS", sac.positions as u64, "slots (digit positions) of a kneaded word".into()),
        ("SAC_INDEX_BITS", layout.index_bits as u64, "bits of a slot's activation index".into()),
        ("SAC_SLOT_BITS", sac.slot_bits as u64, "bits of a slot; slot p at bits p * SAC_SLOT_BITS".into()),
        ("SAC_SLOT_VALID_BIT", bits.slot_valid as u64, "slot bit: the slot holds a digit".into()),
        ("SAC_SLOT_NEGATIVE_BIT", bits.slot_negative as u64, "slot bit: the digit is -1".into()),
        (
            "SAC_SLOT_INDEX_LSB",
            bits.slot_index_lsb as u64,
            "slot bits: the activation index (SAC_INDEX_BITS bits) from here".into(),
        ),
        ("SAC_WORD_BITS", sac.word_bits as u64, "bits of a kneaded word (SAC_POSITIONS slots)".into()),
        ("SAC_GROUP_END_BIT", bits.group_end as u64, "stream word bit: the group's last word".into()),
        (
            "SAC_FOLD_END_BIT",
            bits.fold_end as u64,
            "stream word bit: the last word of the tile's last group".into(),
        ),
        (
            "SAC_STREAM_WORD_BITS",
            sac.stream_word_bits() as u64,
            "bits of a stream word (kneaded word and flags; the bits above are 0)".into(),
        ),
        (
            "SAC_DIRECTORY_WORDS",
            DIRECTORY_WORDS as u64,
            "directory words: lane c of word j = byte j of L_c, column c's stream length".into(),
        ),
        (
            "SAC_LENGTH_BITS",
            8 * DIRECTORY_WORDS as u64,
            "bits of a column's stream length L_c in the directory".into(),
        ),
        (
            "SAC_ENCODING_SIGN_MAGNITUDE",
            ENCODINGS[0].1 as u64,
            "SAC_ENCODING value: the 1-bits of |w|, each with the sign of w".into(),
        ),
        (
            "SAC_ENCODING_CSD",
            ENCODINGS[1].1 as u64,
            "SAC_ENCODING value: canonical signed digits (the non-adjacent form of w)".into(),
        ),
    ];
    v.into_iter().map(|(n, x, m)| (n.to_string(), x, m)).collect()
}

/// The header text (deterministic: the same parameters give the same bytes).
pub fn c_header(sp: &SystemParams) -> String {
    let p = c_prefix(sp);
    let top = &sp.top;
    let guard = format!("{}REGS_H", p);
    let mut h = String::new();
    let mut line = |s: String| {
        h.push_str(&s);
        h.push('\n');
    };
    line(format!(
        "/* Generated by accelc {} -- do not edit; regenerate with `accelc gen`.",
        env!("CARGO_PKG_VERSION")
    ));
    line(format!(
        " * {top}: registers, descriptor and sizes of the system top (interface version {}).",
        ID_VALUE & 0xFFFF
    ));
    let pes = match &sp.sac {
        None => "int8 MACs".to_string(),
        Some(sac) => {
            format!("int8 SAC PEs (kneaded weights, KS = {}, {})", sac.knead.ks, sac.knead.encoding.name())
        }
    };
    line(format!(
        " * Array {} x {} (R x C) of {pes} with int32 accumulators; a stream word is C = {} bytes",
        sp.rows, sp.cols, sp.cols
    ));
    line(format!(
        " * ({} bits), byte c in tdata[8c+7:8c]. Registers are 32-bit, at byte offsets on the",
        sp.stream_bits
    ));
    line(format!(" * AXI4-Lite slave ({ADDR_BITS} address bits). A job's input frame is a descriptor ({DESCRIPTOR_BYTES} bytes, packed"));
    line(format!(
        " * by {top}_pack_descriptor), then (flag LOAD_WEIGHTS) the requantization records and weights,"
    ));
    line(
        " * then the activations; the word layouts are in the system section of manifest.json. Plain C99. */"
            .into(),
    );
    line(format!("#ifndef {guard}"));
    line(format!("#define {guard}"));
    line(String::new());
    line("#include <stdint.h>".into());
    line(String::new());

    line("/* Register byte offsets. */".into());
    for r in REGISTERS {
        line(format!("/* {} ({}): {} */", r.name, access(r.access), comment(r.meaning)));
        line(format!("#define {p}REG_{} 0x{:02X}u", r.name, r.offset));
    }
    line(format!("#define {p}ADDR_BITS {ADDR_BITS}u"));
    line(String::new());

    line("/* CTRL bits. */".into());
    for (name, bit) in [("START", CTRL_START), ("DONE", CTRL_DONE), ("IDLE", CTRL_IDLE)] {
        line(format!("#define {p}CTRL_{name} (1u << {}u)", bit.trailing_zeros()));
    }
    line("/* Value of the ID register. */".into());
    line(format!("#define {p}ID_VALUE 0x{ID_VALUE:08X}u"));
    line("/* Value of the ARRAY register: bits 15:0 rows, bits 31:16 columns. */".into());
    line(format!("#define {p}ARRAY_VALUE 0x{:08X}u", (sp.cols << 16) | sp.rows));
    line(String::new());

    line("/* Error codes of the ERROR register, in the order the loader checks them. */".into());
    line(format!("#define {p}ERR_NONE 0u"));
    for e in JobError::ALL {
        line(format!("/* {} */", comment(e.meaning())));
        line(format!("#define {p}ERR_{} {}u", e.name(), e.code()));
    }
    line(String::new());

    line("/* Descriptor: opcode, flags, field byte offsets and sizes (little-endian fields; other bytes 0). */".into());
    line(format!("#define {p}DESC_BYTES {DESCRIPTOR_BYTES}u"));
    line(format!("#define {p}OP_CONV2D {OP_CONV2D}u"));
    for (name, bit) in [("RELU", FLAG_RELU), ("LOAD_WEIGHTS", FLAG_LOAD_WEIGHTS), ("LAST", FLAG_LAST)] {
        line(format!("#define {p}FLAG_{name} (1u << {}u)", bit.trailing_zeros()));
    }
    for f in FIELDS {
        let name = f.name.to_ascii_uppercase();
        line(format!("#define {p}DESC_{name}_OFFSET {}u", f.offset));
        line(format!("#define {p}DESC_{name}_BYTES {}u", f.bytes));
    }
    line(String::new());

    line(
        "/* Sizes: array, stream word, scratchpad banks (words per bank; two banks each), output FIFO. */"
            .into(),
    );
    let constants: [(&str, usize, &str); 11] = [
        ("ROWS", sp.rows, "R: array rows (output pixels per fold)"),
        ("COLS", sp.cols, "C: array columns (output channels per fold, bytes per stream word)"),
        ("STREAM_BITS", sp.stream_bits as usize, "tdata width of both AXI4-Stream ports"),
        ("WORD_BYTES", sp.word_bytes(), "bytes of a stream word"),
        ("DESC_WORDS", sp.desc_words, "stream words of a descriptor"),
        ("ACC_BITS", sp.acc_bits as usize, "accumulator width"),
        ("ACT_WORDS", sp.act_words, "words per activation bank"),
        (
            "WEIGHT_WORDS",
            sp.weight_words,
            if sp.sac.is_some() {
                "stream words per weight bank of each column"
            } else {
                "words per weight bank"
            },
        ),
        ("PARAM_TILES", sp.param_tiles, "output-channel tiles per parameter bank"),
        ("OUT_WORDS", sp.out_words, "words of the output FIFO"),
        ("PARAM_WORDS_PER_TILE", PARAM_WORDS_PER_TILE, "parameter words per output-channel tile"),
    ];
    for (name, value, meaning) in constants {
        line(format!("#define {p}{name} {value}u /* {meaning} */"));
    }
    line(String::new());

    match &sp.sac {
        None => {
            line("/* A MAC array: weights are plain int8 words (no kneaded streams). */".into());
            line(format!("#define {p}SAC 0u"));
        }
        Some(sac) => {
            for text in SAC_COMMENT {
                line(text.into());
            }
            line(format!("#define {p}SAC 1u"));
            for (name, value, meaning) in sac_constants(sac) {
                line(format!("#define {p}{name} {value}u /* {} */", comment(&meaning)));
            }
        }
    }
    line(String::new());

    line("/* A job descriptor, field by field. */".into());
    line(format!("struct {top}_descriptor {{"));
    for f in struct_fields() {
        line(format!("    {} {}; /* {} */", c_type(f), f.name, comment(f.meaning)));
    }
    line("};".into());
    line(String::new());
    line(format!("/* Packs *d into the {DESCRIPTOR_BYTES} bytes that head a job's input frame (any host byte order). */"));
    line(format!(
        "static inline void {top}_pack_descriptor(const struct {top}_descriptor *d, uint8_t out[{p}DESC_BYTES])"
    ));
    line("{".into());
    line("    unsigned i;".into());
    line(format!("    for (i = 0u; i < {p}DESC_BYTES; i++) {{"));
    line("        out[i] = 0u;".into());
    line("    }".into());
    for f in struct_fields() {
        for b in 0..f.bytes {
            let value = if b == 0 {
                format!("(uint8_t)d->{}", f.name)
            } else {
                format!("(uint8_t)((uint32_t)d->{} >> {}u)", f.name, 8 * b)
            };
            line(format!("    out[{}] = {value};", f.offset + b));
        }
    }
    line("}".into());
    line(String::new());
    line(
        "/* The 64-bit requantization record of one output channel: bits 31:0 bias, 47:32 multiplier,".into(),
    );
    line(" * 53:48 shift; byte j of channel nt*C + c is lane c of parameter word nt * PARAM_WORDS_PER_TILE + j. */".into());
    line(format!("static inline uint64_t {top}_requant_record(int32_t bias, uint16_t mult, uint8_t shift)"));
    line("{".into());
    line(
        "    return (uint64_t)(uint32_t)bias | ((uint64_t)mult << 32) | ((uint64_t)(shift & 63u) << 48);"
            .into(),
    );
    line("}".into());
    line(String::new());
    line(format!("#endif /* {guard} */"));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn params() -> SystemParams {
        let text = "name = \"s\"\n[array]\nrows = 4\ncols = 8\ndataflow = \"output_stationary\"\n\
                    [pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\n\
                    [system]\nstream_bits = 64\nact_words = 64\nweight_words = 64\nparam_tiles = 2\nout_words = 8\n";
        SystemParams::of(&Config::parse("t.toml", text).unwrap()).unwrap()
    }

    #[test]
    fn names_every_register_error_and_field_under_the_prefix() {
        let sp = params();
        let h = c_header(&sp);
        assert!(h.starts_with("/* Generated by accelc"));
        assert!(h.contains("#ifndef S_SYSTEM_REGS_H\n#define S_SYSTEM_REGS_H\n"));
        for r in REGISTERS {
            assert!(
                h.contains(&format!("#define S_SYSTEM_REG_{} 0x{:02X}u\n", r.name, r.offset)),
                "{}",
                r.name
            );
        }
        for e in JobError::ALL {
            assert!(
                h.contains(&format!("#define S_SYSTEM_ERR_{} {}u\n", e.name(), e.code())),
                "{}",
                e.name()
            );
        }
        for f in FIELDS {
            let n = f.name.to_ascii_uppercase();
            assert!(h.contains(&format!("#define S_SYSTEM_DESC_{n}_OFFSET {}u\n", f.offset)), "{n}");
        }
        // Every #define is under the prefix, and none is defined twice.
        let defines: Vec<&str> = h
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert!(defines.iter().all(|d| d.starts_with("S_SYSTEM_")), "{defines:?}");
        let mut unique = defines.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), defines.len());
        assert_eq!(c_header(&sp), h, "deterministic");
        assert_eq!(c_header_file_name(&sp), "s_system_regs.h");
        assert!(h.contains("#define S_SYSTEM_SAC 0u\n") && !h.contains("S_SYSTEM_SAC_KS"));
    }

    #[test]
    fn a_sac_system_has_its_stream_layout() {
        let text = "name = \"s\"\n[array]\nrows = 4\ncols = 8\ndataflow = \"output_stationary\"\n\
                    [pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\nkneading_stride = 8\n\
                    encoding = \"csd\"\n[system]\nstream_bits = 64\nact_words = 64\nweight_words = 64\n\
                    param_tiles = 2\nout_words = 8\n";
        let sp = SystemParams::of(&Config::parse("t.toml", text).unwrap()).unwrap();
        let h = c_header(&sp);
        // KS = 8: 3 index bits, 5-bit slots; int8 CSD: 8 positions, a 40-bit word, flags at 40 and 41.
        for (name, value) in [
            ("SAC", 1),
            ("SAC_KS", 8),
            ("SAC_ENCODING", 1),
            ("SAC_ENCODING_CSD", 1),
            ("SAC_ENCODING_SIGN_MAGNITUDE", 0),
            ("SAC_WEIGHT_MAX", 127),
            ("SAC_POSITIONS", 8),
            ("SAC_INDEX_BITS", 3),
            ("SAC_SLOT_BITS", 5),
            ("SAC_SLOT_VALID_BIT", 0),
            ("SAC_SLOT_NEGATIVE_BIT", 1),
            ("SAC_SLOT_INDEX_LSB", 2),
            ("SAC_WORD_BITS", 40),
            ("SAC_GROUP_END_BIT", 40),
            ("SAC_FOLD_END_BIT", 41),
            ("SAC_STREAM_WORD_BITS", 42),
            ("SAC_DIRECTORY_WORDS", 2),
            ("SAC_LENGTH_BITS", 16),
        ] {
            assert!(h.contains(&format!("#define S_SYSTEM_{name} {value}u")), "{name}");
        }
        assert!(h.contains("#define S_SYSTEM_ERR_BAD_STREAM 8u\n"));
    }
}
