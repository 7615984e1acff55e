//! The generated C header (`<top>_regs.h`) agrees with the Rust tables: for both system presets a C99
//! program (`cc -std=c99 -Wall -Wextra -pedantic -Werror`) includes it, packs descriptors and
//! requantization records and prints every constant; the output must equal what Rust computes
//! (`Descriptor::to_bytes`, `Requant::record`, `regs::offset`, `JobError`, `FIELDS`). A header with a
//! planted packing fault is caught.

use accelc::config::Config;
use accelc::system::c_header::{c_header, c_header_file_name, c_prefix};
use accelc::system::descriptor::{FIELDS, FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU, OP_CONV2D};
use accelc::system::layout::Requant;
use accelc::system::regs::{self, CTRL_DONE, CTRL_IDLE, CTRL_START, ID_VALUE, REGISTERS};
use accelc::system::{Descriptor, JobError, SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
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
    c + "    return 0;\n}\n"
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
    for preset in ["system_os_4x4_i8", "system_os_8x8_i8", "system_ws_8x8_i8"] {
        let sp = system(preset);
        let header = c_header(&sp);
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
