//! The generated C header (`<top>_regs.h`) agrees with the Rust tables: for both system presets a C99
//! program (`cc -std=c99 -Wall -Wextra -pedantic -Werror`) includes it, packs descriptors and
//! requantization records and prints every constant; the output must equal what Rust computes
//! (`Descriptor::to_bytes`, `Requant::record`, `regs::offset`, `JobError`, `FIELDS`). On the SAC
//! presets the kneaded stream layout (`SAC_*`) must equal the one `system::kneaded` states, and a stream
//! word assembled in C from those constants must equal `kneaded::column_streams`' own. A header with a
//! planted packing fault is caught.

use accelc::config::Config;
use accelc::system::c_header::{c_header, c_header_file_name, c_prefix};
use accelc::system::descriptor::{FIELDS, FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU, OP_CONV2D};
use accelc::system::layout::Requant;
use accelc::system::regs::{self, CTRL_DONE, CTRL_IDLE, CTRL_START, ID_VALUE, REGISTERS};
use accelc::system::{kneaded, Descriptor, JobError, SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
use ndarray::Array4;
use std::path::{Path, PathBuf};
use std::process::Command;

fn system(preset: &str) -> SystemParams {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(format!("{preset}.toml"));
    SystemParams::of(&Config::load(&path).unwrap()).expect("the preset has a [system] table")
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/c_header").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn descriptors() -> Vec<Descriptor> {
    vec![
        Descriptor {
            opcode: OP_CONV2D,
            flags: FLAG_RELU | FLAG_LOAD_WEIGHTS,
            out_zp: -5,
            in_h: 28,
            in_w: 27,
            in_c: 3,
            out_c: 16,
            out_h: 26,
            out_w: 25,
            kh: 3,
            kw: 3,
            stride_h: 1,
            stride_w: 1,
            dil_h: 1,
            dil_w: 1,
            pad_top: 0,
            pad_left: 0,
        },
        // Every byte distinct and high bits set, so a swapped or shifted byte shows.
        Descriptor {
            opcode: 0xA1,
            flags: FLAG_LAST | 0xF0,
            out_zp: -128,
            in_h: 0xBEEF,
            in_w: 0x1234,
            in_c: 0xFEDC,
            out_c: 0x8001,
            out_h: 0x7F80,
            out_w: 0x00FF,
            kh: 0xC1,
            kw: 0xC2,
            stride_h: 0xC3,
            stride_w: 0xC4,
            dil_h: 0xC5,
            dil_w: 0xC6,
            pad_top: 0xC7,
            pad_left: 0xFF,
        },
    ]
}

fn requants() -> Vec<Requant> {
    vec![
        Requant { bias: -1, mult: 0xFFFF, shift: 63 },
        Requant { bias: i32::MIN, mult: 0x8001, shift: 0 },
        Requant { bias: 0x1234_5678, mult: 1, shift: 17 },
    ]
}

/// The C program: packs the descriptors and records, prints `name value` lines.
fn program(sp: &SystemParams) -> String {
    let (top, p) = (&sp.top, c_prefix(sp));
    let mut c = format!(
        "#include <stdio.h>\n#include \"{}\"\n\nint main(void)\n{{\n    uint8_t b[{p}DESC_BYTES];\n    unsigned i;\n",
        c_header_file_name(sp)
    );
    for (n, d) in descriptors().iter().enumerate() {
        let fields = serde_json::to_value(d).unwrap();
        c += &format!("    {{\n        struct {top}_descriptor d{n};\n");
        for (name, value) in fields.as_object().unwrap() {
            c += &format!("        d{n}.{name} = {value};\n");
        }
        c += &format!(
            "        {top}_pack_descriptor(&d{n}, b);\n        printf(\"desc{n}\");\n        \
             for (i = 0u; i < {p}DESC_BYTES; i++) printf(\" %02x\", b[i]);\n        printf(\"\\n\");\n    }}\n"
        );
    }
    for (n, r) in requants().iter().enumerate() {
        let bias = if r.bias == i32::MIN { "INT32_MIN".to_string() } else { r.bias.to_string() };
        c += &format!(
            "    printf(\"record{n} %016llx\\n\", (unsigned long long){top}_requant_record({bias}, {}u, {}u));\n",
            r.mult, r.shift
        );
    }
    for name in expected_values(sp).iter().map(|(n, _)| n) {
        c += &format!("    printf(\"{name} %lu\\n\", (unsigned long){p}{name});\n");
    }
    if sp.sac.is_some() {
        // The stream word of SAC_GROUP, built from the constants.
        c += &format!(
            "    {{\n        uint64_t v = 0u;\n        const uint64_t valid = (uint64_t)1u << {p}SAC_SLOT_VALID_BIT;\n        \
             const uint64_t neg = (uint64_t)1u << {p}SAC_SLOT_NEGATIVE_BIT;\n{}\n        \
             printf(\"word %llx\\n\", (unsigned long long)v);\n    }}\n",
            sac_word_c(sp)
        );
    }
    c + "    return 0;\n}\n"
}

/// Weights of the one group of a 1-channel 1x1 job with in_c = 4: w[1] = 5 and w[3] = -2, whose digits
/// are the same in sign-magnitude and CSD (5 = +4 +1, -2 = -2), one per position: a single word.
const SAC_GROUP: [i8; 4] = [0, 5, 0, -2];
/// Its slots: (position, negative, index).
const SAC_SLOTS: [(u32, bool, u32); 3] = [(0, false, 1), (2, false, 1), (1, true, 3)];

/// C statements that build the group's stream word from the header's constants into `v`.
fn sac_word_c(sp: &SystemParams) -> String {
    let p = c_prefix(sp);
    let mut c: Vec<String> = SAC_SLOTS
        .iter()
        .map(|&(pos, negative, index)| {
            let bits = if negative { "valid | neg" } else { "valid" };
            format!(
                "        v |= (uint64_t)({bits} | ((uint64_t){index}u << {p}SAC_SLOT_INDEX_LSB)) << ({pos}u * {p}SAC_SLOT_BITS);"
            )
        })
        .collect();
    c.push(format!("        v |= (uint64_t)1u << {p}SAC_GROUP_END_BIT;"));
    c.push(format!("        v |= (uint64_t)1u << {p}SAC_FOLD_END_BIT;"));
    c.join("\n")
}

/// The group's stream word as `system::kneaded` makes it.
fn sac_word_rust(sp: &SystemParams) -> u64 {
    let w = Array4::from_shape_fn((1, 1, 1, 4), |(_, _, _, i)| SAC_GROUP[i]);
    let d = Descriptor { in_c: 4, out_c: 1, kh: 1, kw: 1, ..Default::default() };
    let streams = kneaded::column_streams(sp, &d.shape(sp), &w);
    assert_eq!(streams[0].len(), 1, "one word");
    streams[0][0]
}

/// Every checked `#define` (without the prefix) and its value from the Rust tables.
fn expected_values(sp: &SystemParams) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> =
        REGISTERS.iter().map(|r| (format!("REG_{}", r.name), regs::offset(r.name) as u64)).collect();
    v.extend(JobError::ALL.iter().map(|e| (format!("ERR_{}", e.name()), e.code() as u64)));
    for f in FIELDS {
        v.push((format!("DESC_{}_OFFSET", f.name.to_uppercase()), f.offset as u64));
        v.push((format!("DESC_{}_BYTES", f.name.to_uppercase()), f.bytes as u64));
    }
    let named: [(&str, u64); 22] = [
        ("ERR_NONE", 0),
        ("CTRL_START", CTRL_START as u64),
        ("CTRL_DONE", CTRL_DONE as u64),
        ("CTRL_IDLE", CTRL_IDLE as u64),
        ("ID_VALUE", ID_VALUE as u64),
        ("ARRAY_VALUE", (sp.rows | sp.cols << 16) as u64),
        ("ADDR_BITS", regs::ADDR_BITS as u64),
        ("DESC_BYTES", DESCRIPTOR_BYTES as u64),
        ("OP_CONV2D", OP_CONV2D as u64),
        ("FLAG_RELU", FLAG_RELU as u64),
        ("FLAG_LOAD_WEIGHTS", FLAG_LOAD_WEIGHTS as u64),
        ("FLAG_LAST", FLAG_LAST as u64),
        ("ROWS", sp.rows as u64),
        ("COLS", sp.cols as u64),
        ("STREAM_BITS", sp.stream_bits as u64),
        ("WORD_BYTES", sp.word_bytes() as u64),
        ("DESC_WORDS", sp.desc_words as u64),
        ("ACT_WORDS", sp.act_words as u64),
        ("WEIGHT_WORDS", sp.weight_words as u64),
        ("PARAM_TILES", sp.param_tiles as u64),
        ("OUT_WORDS", sp.out_words as u64),
        ("PARAM_WORDS_PER_TILE", PARAM_WORDS_PER_TILE as u64),
    ];
    v.extend(named.iter().map(|(n, x)| (n.to_string(), *x)));
    v.push(("SAC".into(), sp.sac.is_some() as u64));
    if let Some(sac) = &sp.sac {
        // The stream layout as system::kneaded's module comment states it: slot = valid, negative,
        // log2(KS) index bits; group_end and fold_end just above the kneaded word; a 2-word directory.
        let index_bits = sac.knead.ks.trailing_zeros() as u64;
        let slot_bits = 2 + index_bits;
        let positions = sac.knead.positions() as u64;
        let word_bits = positions * slot_bits;
        let csd = sac.knead.encoding == accelc::knead::Encoding::Csd;
        let sac_values: [(&str, u64); 18] = [
            ("SAC_KS", sp.cols as u64),
            ("SAC_ENCODING", csd as u64),
            ("SAC_ENCODING_SIGN_MAGNITUDE", 0),
            ("SAC_ENCODING_CSD", 1),
            ("SAC_WEIGHT_BITS", 8),
            ("SAC_WEIGHT_MAX", 127),
            ("SAC_POSITIONS", positions),
            ("SAC_INDEX_BITS", index_bits),
            ("SAC_SLOT_BITS", slot_bits),
            ("SAC_SLOT_VALID_BIT", 0),
            ("SAC_SLOT_NEGATIVE_BIT", 1),
            ("SAC_SLOT_INDEX_LSB", 2),
            ("SAC_WORD_BITS", word_bits),
            ("SAC_GROUP_END_BIT", word_bits),
            ("SAC_FOLD_END_BIT", word_bits + 1),
            ("SAC_STREAM_WORD_BITS", word_bits + 2),
            ("SAC_DIRECTORY_WORDS", kneaded::DIRECTORY_WORDS as u64),
            ("SAC_LENGTH_BITS", 16),
        ];
        v.extend(sac_values.iter().map(|(n, x)| (n.to_string(), *x)));
    }
    v
}

fn expected_output(sp: &SystemParams) -> String {
    let mut out = String::new();
    for (n, d) in descriptors().iter().enumerate() {
        let bytes: Vec<String> = d.to_bytes().iter().map(|b| format!(" {b:02x}")).collect();
        out += &format!("desc{n}{}\n", bytes.concat());
    }
    for (n, r) in requants().iter().enumerate() {
        out += &format!("record{n} {:016x}\n", r.record());
    }
    for (name, value) in expected_values(sp) {
        out += &format!("{name} {value}\n");
    }
    if sp.sac.is_some() {
        out += &format!("word {:x}\n", sac_word_rust(sp));
    }
    out
}

/// Compiles and runs the program against `header`; returns its stdout.
fn compile_and_run(sp: &SystemParams, dir: &Path, header: &str) -> String {
    std::fs::write(dir.join(c_header_file_name(sp)), header).unwrap();
    std::fs::write(dir.join("main.c"), program(sp)).unwrap();
    let exe = dir.join("main");
    let cc = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-o"])
        .arg(&exe)
        .arg(dir.join("main.c"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the C compiler `cc` ({e}): install one with `apt-get install gcc`")
        });
    assert!(cc.status.success(), "cc failed:\n{}", String::from_utf8_lossy(&cc.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    String::from_utf8(run.stdout).unwrap()
}

#[test]
fn the_header_compiles_as_c99_and_agrees_with_the_rust_tables() {
    let presets = [
        "system_os_4x4_i8",
        "system_os_8x8_i8",
        "system_ws_8x8_i8",
        "system_sac_4x4_i8",
        "system_sac_4x8_i8",
    ];
    for preset in presets {
        let sp = system(preset);
        assert_eq!(sp.sac.is_some(), preset.contains("sac"));
        let header = c_header(&sp);
        // Every error code, BAD_STREAM (SAC streams) included, on every system.
        assert_eq!(JobError::ALL.len(), 8);
        assert!(header.contains(&format!("#define {}ERR_BAD_STREAM 8u", c_prefix(&sp))), "{preset}");
        let got = compile_and_run(&sp, &work_dir(preset), &header);
        let want = expected_output(&sp);
        assert_eq!(got, want, "{preset}: C output (left) vs Rust (right)");
        // The header can be included twice (include guard).
        assert!(header.contains(&format!("#ifndef {}REGS_H", c_prefix(&sp))));
    }
}

#[test]
fn a_header_with_a_byte_swapped_field_is_caught() {
    let sp = system("system_os_4x4_i8");
    let header = c_header(&sp);
    // in_w at bytes 6..7: swap its two bytes in the packer.
    let planted = header
        .replace("out[6] = (uint8_t)d->in_w;", "out[6] = (uint8_t)((uint32_t)d->in_w >> 8u);")
        .replace("out[7] = (uint8_t)((uint32_t)d->in_w >> 8u);", "out[7] = (uint8_t)d->in_w;");
    assert_ne!(planted, header, "the fault was planted");
    let got = compile_and_run(&sp, &work_dir("planted"), &planted);
    assert_ne!(got, expected_output(&sp));
}
