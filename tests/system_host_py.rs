//! The generated Python host library (`<top>_host.py`) against the Rust tables and layouts it was
//! made from, on the 4x4 and 8x8 system presets: random jobs (channel counts that are not multiples
//! of C, strides, dilations, padding, with and without LOAD_WEIGHTS, GEMMs) are written as .npy,
//! packed by the library in the project's Python, and every frame is compared byte for byte with
//! `system::layout::frame`; random output words are unpacked by both sides; the constants
//! (registers, error codes, descriptor fields, sizes) and `quantize_multiplier` are checked too, and
//! the Driver runs two jobs with plain functions against a fake device (`run_blocking`).
//!
//! SAC systems (the system_sac_4x4_i8 and system_sac_4x8_i8 presets): the same on random jobs with
//! weights in -127..=127 and on jobs with every shipped layer's real trained weights (quantized per
//! layer to int8), plus the library's column streams against `system::kneaded::column_streams`, and
//! a weight of -128 (or beyond int8) is rejected with a ValueError that names its index.

mod common;

use accelc::config::Config;
use accelc::rng::SplitMix64;
use accelc::system::descriptor::{self, FIELDS, OP_CONV2D};
use accelc::system::layout::{self, ConvJob, Requant, Word};
use accelc::system::{cases, host_py, kneaded, regs, Descriptor, JobError, SystemParams, DESCRIPTOR_BYTES};
use accelc::workload::{quantize_symmetric, shipped_layers, Op};
use ndarray::{Array1, Array2, Array3, Array4};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SYSTEM_4X4: &str = r#"
name = "system_os_4x4_i8"
[array]
rows = 4
cols = 4
dataflow = "output_stationary"
[pe]
kind = "mac"
weight_bits = 8
act_bits = 8
acc_bits = 32
[system]
stream_bits = 32
act_words = 1024
weight_words = 2048
param_tiles = 16
out_words = 256
"#;

const SYSTEM_8X8: &str = r#"
name = "system_os_8x8_i8"
[array]
rows = 8
cols = 8
dataflow = "output_stationary"
[pe]
kind = "mac"
weight_bits = 8
act_bits = 8
acc_bits = 32
[system]
stream_bits = 64
act_words = 4096
weight_words = 8192
param_tiles = 16
out_words = 512
"#;

/// Packs every job of spec.json with the library and writes, per job i, frame_i.bin (the frame's
/// words concatenated) and y_i.npy (out_i.bin unpacked), then results.json.
const PACK_PY: &str = r#"
import asyncio, importlib, json, sys
import numpy as np

sys.path.insert(0, ".")
lib = importlib.import_module(sys.argv[1])
spec = json.load(open("spec.json"))
res = {"jobs": [], "quant": []}
consts = {k: getattr(lib, k) for k in ("ROWS", "COLS", "WORD_BYTES", "STREAM_BITS", "DESCRIPTOR_BYTES",
          "DESC_WORDS", "PARAM_WORDS_PER_TILE", "ACT_WORDS", "WEIGHT_WORDS", "PARAM_TILES", "PARAM_WORDS",
          "OUT_WORDS", "ID_VALUE", "CTRL_START", "CTRL_DONE", "CTRL_IDLE", "OP_CONV2D", "FLAG_RELU",
          "FLAG_LOAD_WEIGHTS", "FLAG_LAST", "RECORD_BIAS", "RECORD_MULT", "RECORD_SHIFT", "TOP",
          "SAC", "SAC_KS", "SAC_ENCODING", "SAC_WEIGHT_BITS", "SAC_WEIGHT_MAX", "SAC_POSITIONS", "SAC_INDEX_BITS",
          "SAC_SLOT_BITS", "SAC_SLOT_VALID_BIT", "SAC_SLOT_NEGATIVE_BIT", "SAC_SLOT_INDEX_LSB", "SAC_WORD_BITS",
          "SAC_GROUP_END_BIT", "SAC_FOLD_END_BIT", "SAC_STREAM_WORD_BITS", "SAC_DIRECTORY_WORDS",
          "SAC_LENGTH_BITS")}
consts["REGISTERS"] = lib.REGISTERS
consts["REGISTER_NAMES"] = {r: getattr(lib, "REG_" + r) for r in lib.REGISTERS}
consts["ERROR_NAMES"] = {str(k): v for k, v in lib.ERROR_NAMES.items()}
consts["ERROR_CONSTS"] = {v: getattr(lib, "ERROR_" + v) for v in lib.ERROR_NAMES.values()}
consts["DESCRIPTOR_FIELDS"] = [list(f) for f in lib.DESCRIPTOR_FIELDS]
res["constants"] = consts
for j in spec["jobs"]:
    i = j["index"]
    load = lambda n: np.load(f"{n}_{i}.npy")
    kw = dict(out_zp=j["out_zp"], relu=j["relu"], load_weights=j["load_weights"], last=j["last"])
    req = (load("bias"), load("mult"), load("shift")) if j["load_weights"] else (None, None, None)
    if j["gemm"]:
        job = lib.gemm_job(load("a"), load("b"), *req, **kw)
    else:
        if j["out_hw"] is not None:
            kw["out_hw"] = tuple(j["out_hw"])
        job = lib.conv_job(load("x"), load("w"), *req, stride=tuple(j["stride"]), dilation=tuple(j["dilation"]),
                           pad=tuple(j["pad"]), **kw)
    frame = job.frame()
    assert all(isinstance(w, bytes) and len(w) == lib.WORD_BYTES for w in frame)
    open(f"frame_{i}.bin", "wb").write(b"".join(frame))
    raw = open(f"out_{i}.bin", "rb").read()
    words = [raw[k:k + lib.WORD_BYTES] for k in range(0, len(raw), lib.WORD_BYTES)]
    ints = lib.words_to_ints(words)
    assert lib.ints_to_words(ints) == words
    y = lib.unpack_output(ints if i % 2 else words, job)
    assert y.dtype == np.int8 and y.shape == job.out_shape, (y.dtype, y.shape, job.out_shape)
    np.save(f"y_{i}.npy", y)
    entry = {"index": i, "out_shape": list(job.out_shape), "out_words": job.out_words,
             "fields": job.fields, "frame_ints": [str(v) for v in lib.words_to_ints(frame)]}
    if lib.SAC and j["load_weights"]:
        w = np.ascontiguousarray(load("b").T)[:, None, None, :] if j["gemm"] else load("w")
        streams = lib.sac_column_streams(w)
        entry["streams"] = streams
        # The library's own reading of its streams: un-kneading every group gives the weights back.
        out_c, kh, kw, in_c = w.shape
        nt, cb = -(-out_c // lib.COLS), -(-in_c // lib.COLS)
        p = np.zeros((nt * lib.COLS, kh, kw, cb * lib.COLS), np.int64)
        p[:out_c, :, :, :in_c] = w
        for c, stream in enumerate(streams):
            want = [list(g) for t in range(nt) for g in p[t * lib.COLS + c].reshape(-1, lib.COLS)]
            got, words, folds = [], [], 0
            for v in stream:
                words.append(v)
                group_end, fold_end = lib.sac_stream_flags(v)
                assert group_end or not fold_end, (c, v)
                if group_end:
                    got.append(lib.sac_unknead_group(words))
                    words = []
                    folds += fold_end
            assert got == want and folds == nt and not words, (i, c)
    res["jobs"].append(entry)
for s in spec["scales"]:
    try:
        res["quant"].append(list(lib.quantize_multiplier(s)))
    except ValueError:
        res["quant"].append(None)


# Driver.run_blocking with plain functions: a fake device that answers each frame with its output
# packet (zero words), ends the run once every packet was taken, and counts register accesses.
class Fake:
    def __init__(self):
        self.packets, self.writes, self.frames = [], [], []

    def read(self, off):
        if off == lib.REG_CTRL:
            return 0 if self.packets else lib.CTRL_IDLE | lib.CTRL_DONE
        return {lib.REG_CYCLES_LO: 5, lib.REG_CYCLES_HI: 1, lib.REG_JOBS_DONE: len(self.frames)}.get(off, 0)

    def write(self, off, value):
        self.writes.append((off, value))

    def send(self, words):
        d = lib.unpack_descriptor(b"".join(words[: lib.DESC_WORDS]))
        n = -(-d["out_c"] // lib.WORD_BYTES) * d["out_h"] * d["out_w"]
        self.frames.append(len(words))
        self.packets.append([bytes(lib.WORD_BYTES)] * n)

    def recv(self):
        return self.packets.pop(0)

    def pending(self):
        return bool(self.packets)

x, w = np.zeros((3, 4, 5), np.int8), np.zeros((6, 3, 3, 5), np.int8)
jobs = [lib.conv_job(x, w, 0, 1, 0, pad=1), lib.conv_job(x, w, None, None, None, pad=1, load_weights=False, last=True)]
for pending in (True, False):
    fake = Fake()
    drv = lib.Driver(fake.read, fake.write, fake.send, fake.recv, fake.pending if pending else None)
    r = drv.run_blocking(jobs)
    assert [len(o) for o in r.outputs] == [j.out_words for j in jobs], r
    assert fake.frames == [len(j.frame()) for j in jobs], fake.frames
    assert fake.writes[-1] == (lib.REG_CTRL, lib.CTRL_START), fake.writes
    assert (lib.REG_IER, 1) in fake.writes and (lib.REG_GIE, 1) in fake.writes, fake.writes
    assert (r.cycles, r.error, r.jobs_done, r.done_seen) == ((1 << 32) | 5, 0, 2, True), r
async def coro_read(off):  # a register read that suspends, as cocotb's do
    await asyncio.sleep(0)
    return lib.CTRL_IDLE
try:
    lib.Driver(coro_read, fake.write, fake.send, fake.recv).run_blocking(jobs)
    raise AssertionError("run_blocking accepted an async function")
except RuntimeError:
    pass
json.dump(res, open("results.json", "w"))
"#;

/// What the Rust side generated for one job.
struct Case {
    gemm: bool,
    conv: ConvJob,
    /// Output words of the job, random bytes.
    out: Vec<Word>,
    spec: Value,
}

fn system(toml: &str) -> (Config, SystemParams) {
    let config = Config::parse("inline", toml).unwrap();
    let sp = SystemParams::of(&config).expect("the config has a [system] table");
    (config, sp)
}

fn i8s(rng: &mut SplitMix64, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.range_i64(-128, 127) as i8).collect()
}

/// Output size with symmetric padding: an independent statement of the library's default.
fn conv_out(input: usize, pad: usize, k: usize, dil: usize, stride: usize) -> Option<usize> {
    let span = dil * (k - 1) + 1;
    (input + 2 * pad >= span).then(|| (input + 2 * pad - span) / stride + 1)
}

fn random_case(sp: &SystemParams, rng: &mut SplitMix64, index: usize) -> Case {
    let c = sp.cols;
    let gemm = index % 5 == 4;
    let load_weights = index % 3 != 1;
    let mut flags = if load_weights { descriptor::FLAG_LOAD_WEIGHTS } else { 0 };
    if rng.below(2) == 1 {
        flags |= descriptor::FLAG_RELU;
    }
    if rng.below(4) == 0 {
        flags |= descriptor::FLAG_LAST;
    }
    let in_c = rng.range_usize(1, 2 * c + 3);
    let out_c = rng.range_usize(1, 2 * c + 3);
    let (in_h, in_w, kh, kw, stride, dil, pad, out_h, out_w, explicit);
    if gemm {
        (in_h, in_w, kh, kw) = (1, rng.range_usize(1, 3 * sp.rows + 1), 1, 1);
        (stride, dil, pad) = ((1, 1), (1, 1), (0, 0));
        (out_h, out_w, explicit) = (1, in_w, false);
    } else {
        loop {
            let ih = rng.range_usize(1, 7);
            let iw = rng.range_usize(1, 7);
            let (k0, k1) = (rng.range_usize(1, 3), rng.range_usize(1, 3));
            let s = (rng.range_usize(1, 3), rng.range_usize(1, 3));
            let d = (rng.range_usize(1, 2), rng.range_usize(1, 2));
            let p = (rng.range_usize(0, 2), rng.range_usize(0, 2));
            let (Some(oh), Some(ow)) = (conv_out(ih, p.0, k0, d.0, s.0), conv_out(iw, p.1, k1, d.1, s.1))
            else {
                continue;
            };
            (in_h, in_w, kh, kw, stride, dil, pad) = (ih, iw, k0, k1, s, d, p);
            explicit = rng.below(3) == 0;
            (out_h, out_w) = if explicit { (rng.range_usize(1, 6), rng.range_usize(1, 6)) } else { (oh, ow) };
            break;
        }
    }
    let desc = Descriptor {
        opcode: OP_CONV2D,
        flags,
        out_zp: rng.range_i64(-128, 127) as i8,
        in_h: in_h as u16,
        in_w: in_w as u16,
        in_c: in_c as u16,
        out_c: out_c as u16,
        out_h: out_h as u16,
        out_w: out_w as u16,
        kh: kh as u8,
        kw: kw as u8,
        stride_h: stride.0 as u8,
        stride_w: stride.1 as u8,
        dil_h: dil.0 as u8,
        dil_w: dil.1 as u8,
        pad_top: pad.0 as u8,
        pad_left: pad.1 as u8,
    };
    let x = Array3::from_shape_vec((in_h, in_w, in_c), i8s(rng, in_h * in_w * in_c)).unwrap();
    // Any int8 on a MAC system (the same draws as i8s), -127..=127 on a SAC system.
    let w = cases::random_weights(sp, rng, (out_c, kh, kw, in_c));
    let requant: Vec<Requant> = (0..out_c)
        .map(|_| Requant {
            bias: rng.next_u64() as i32,
            mult: rng.next_u64() as u16,
            shift: rng.range_usize(0, 63) as u8,
        })
        .collect();
    let out = random_out(sp, rng, &desc);
    let spec = spec(index, gemm, &desc, explicit);
    Case { gemm, conv: ConvJob { desc, x, w, requant }, out, spec }
}

/// Random output words of a job.
fn random_out(sp: &SystemParams, rng: &mut SplitMix64, desc: &Descriptor) -> Vec<Word> {
    let out_words = desc.shape(sp).out_words;
    (0..out_words).map(|_| (0..sp.cols).map(|_| rng.next_u64() as u8).collect()).collect()
}

/// How pack.py calls the library for a job (`explicit`: pass out_hw).
fn spec(index: usize, gemm: bool, desc: &Descriptor, explicit: bool) -> Value {
    json!({
        "index": index,
        "gemm": gemm,
        "stride": [desc.stride_h, desc.stride_w],
        "dilation": [desc.dil_h, desc.dil_w],
        "pad": [desc.pad_top, desc.pad_left],
        "out_hw": if explicit { json!([desc.out_h, desc.out_w]) } else { Value::Null },
        "out_zp": desc.out_zp,
        "relu": desc.relu(),
        "load_weights": desc.load_weights(),
        "last": desc.last(),
    })
}

/// Jobs with the real trained weights of every shipped layer, quantized per layer to int8 (-127..=127):
/// a convolution (groups = 1) on a small random input with the layer's stride and padding, a dense
/// layer as a GEMM of a few rows.
fn real_cases(sp: &SystemParams, rng: &mut SplitMix64, first_index: usize) -> Vec<Case> {
    let layers = shipped_layers().expect("the shipped weights under data/ load");
    let mut real = Vec::new();
    for layer in layers.iter().filter(|l| l.groups == 1 && matches!(l.op, Op::Conv | Op::Dense)) {
        let (q, _) = quantize_symmetric(&layer.weights, 8);
        let [oc, ic, kh, kw] = layer.shape;
        let w = Array4::from_shape_fn((oc, kh, kw, ic), |(o, y, x, i)| q[(o, i, y, x)] as i8);
        let gemm = layer.op == Op::Dense;
        let (side_h, side_w) = if gemm {
            (1, rng.range_usize(1, 3 * sp.rows))
        } else {
            (rng.range_usize(kh, kh + 4), rng.range_usize(kw, kw + 4))
        };
        let (stride, pad) = if gemm {
            ((1, 1), (0, 0))
        } else {
            ((layer.stride[0], layer.stride[1]), (layer.pads[0], layer.pads[1]))
        };
        let g = cases::Geometry { k: (kh, kw), stride, dil: (1, 1), pad };
        let flags = descriptor::FLAG_LOAD_WEIGHTS | descriptor::FLAG_RELU;
        let desc = cases::conv_descriptor((side_h, side_w, ic), oc, &g, flags, 0);
        let x = cases::random_tensor3(rng, (side_h, side_w, ic));
        let requant = cases::random_requant(rng, oc, desc.shape(sp).k(sp.cols));
        let index = first_index + real.len();
        let spec = spec(index, gemm, &desc, false);
        real.push(Case {
            gemm,
            out: random_out(sp, rng, &desc),
            conv: ConvJob { desc, x, w, requant },
            spec,
        });
    }
    assert!(real.iter().any(|c| c.gemm) && real.iter().any(|c| !c.gemm), "shipped convs and dense layers");
    real
}

/// Writes a case's tensors: x/w (or a/b for a GEMM) and the per-channel records.
fn write_tensors(dir: &Path, i: usize, case: &Case) {
    let npy = |name: &str| dir.join(format!("{name}_{i}.npy"));
    let job = &case.conv;
    if case.gemm {
        // A = the 1 x M image's pixels (M x K), B = the 1x1 kernel transposed (K x N).
        let (_, m, k) = job.x.dim();
        let a: Array2<i8> = job.x.to_shape((m, k)).unwrap().to_owned();
        let n = job.w.dim().0;
        let b: Array2<i8> = job.w.to_shape((n, k)).unwrap().t().to_owned();
        ndarray_npy::write_npy(npy("a"), &a).unwrap();
        ndarray_npy::write_npy(npy("b"), &b).unwrap();
    } else {
        ndarray_npy::write_npy(npy("x"), &job.x).unwrap();
        ndarray_npy::write_npy(npy("w"), &job.w).unwrap();
    }
    let col = |f: fn(&Requant) -> i64| Array1::from_iter(job.requant.iter().map(f));
    ndarray_npy::write_npy(npy("bias"), &col(|r| r.bias as i64).mapv(|v| v as i32)).unwrap();
    ndarray_npy::write_npy(npy("mult"), &col(|r| r.mult as i64).mapv(|v| v as u16)).unwrap();
    ndarray_npy::write_npy(npy("shift"), &col(|r| r.shift as i64).mapv(|v| v as u8)).unwrap();
}

/// Scales for quantize_multiplier: edges, exact ties, errors, and random ones over 2^-40..2^16.
fn scales(rng: &mut SplitMix64) -> Vec<f64> {
    let mut s = vec![
        0.0,
        1.0,
        0.5,
        0.25,
        1.0 / 3.0,
        65535.0,
        65535.49,
        65535.5,
        1e6,
        -1.0,
        1e-30,
        2f64.powi(-47),
        // Ties at the chosen shift: mult must round up.
        40000.5 / 65536.0,
        (32768.5) * 2f64.powi(-20),
        65535.5 / 65536.0,
    ];
    s.extend((0..40).map(|_| 2f64.powf(rng.uniform() * 56.0 - 40.0)));
    s
}

/// |mult / 2^shift - scale| within half a unit, ties up, and 16 significant bits unless shift is 63.
fn check_quant(scale: f64, got: &Value, problems: &mut Vec<String>) {
    let too_large = scale >= 65535.5;
    let invalid = scale < 0.0 || too_large;
    if got.is_null() {
        if !invalid {
            problems.push(format!("quantize_multiplier({scale:e}) raised"));
        }
        return;
    }
    if invalid {
        problems.push(format!("quantize_multiplier({scale:e}) = {got}, expected ValueError"));
        return;
    }
    let (mult, shift) = (got[0].as_i64().unwrap(), got[1].as_i64().unwrap());
    if !(0..=65535).contains(&mult) || !(0..=63).contains(&shift) {
        problems.push(format!("quantize_multiplier({scale:e}) = ({mult}, {shift}) out of range"));
        return;
    }
    if scale == 0.0 {
        if (mult, shift) != (0, 0) {
            problems.push(format!("quantize_multiplier(0) = ({mult}, {shift}), expected (0, 0)"));
        }
        return;
    }
    let target = scale * 2f64.powi(shift as i32); // exact: a power-of-two scaling
    let diff = mult as f64 - target;
    if !(diff > -0.5 && diff <= 0.5) {
        problems.push(format!(
            "quantize_multiplier({scale:e}) = ({mult}, {shift}): {target} is not rounded half up"
        ));
    }
    if mult < 32768 && shift < 63 {
        problems.push(format!(
            "quantize_multiplier({scale:e}) = ({mult}, {shift}): fewer than 16 significant bits"
        ));
    }
}

/// The constants the library exports against the Rust tables.
fn check_constants(sp: &SystemParams, got: &Value, problems: &mut Vec<String>) {
    let mut expect = vec![
        ("TOP", json!(sp.top)),
        ("ROWS", json!(sp.rows)),
        ("COLS", json!(sp.cols)),
        ("WORD_BYTES", json!(sp.word_bytes())),
        ("STREAM_BITS", json!(sp.stream_bits)),
        ("DESCRIPTOR_BYTES", json!(DESCRIPTOR_BYTES)),
        ("DESC_WORDS", json!(sp.desc_words)),
        ("PARAM_WORDS_PER_TILE", json!(accelc::system::PARAM_WORDS_PER_TILE)),
        ("ACT_WORDS", json!(sp.act_words)),
        ("WEIGHT_WORDS", json!(sp.weight_words)),
        ("PARAM_TILES", json!(sp.param_tiles)),
        ("PARAM_WORDS", json!(sp.param_words())),
        ("OUT_WORDS", json!(sp.out_words)),
        ("ID_VALUE", json!(regs::ID_VALUE)),
        ("CTRL_START", json!(regs::CTRL_START)),
        ("CTRL_DONE", json!(regs::CTRL_DONE)),
        ("CTRL_IDLE", json!(regs::CTRL_IDLE)),
        ("OP_CONV2D", json!(OP_CONV2D)),
        ("FLAG_RELU", json!(descriptor::FLAG_RELU)),
        ("FLAG_LOAD_WEIGHTS", json!(descriptor::FLAG_LOAD_WEIGHTS)),
        ("FLAG_LAST", json!(descriptor::FLAG_LAST)),
        // The record layout of layout.rs's module comment.
        ("RECORD_BIAS", json!([0, 32])),
        ("RECORD_MULT", json!([32, 16])),
        ("RECORD_SHIFT", json!([48, 6])),
    ];
    let regs_map: serde_json::Map<String, Value> =
        regs::REGISTERS.iter().map(|r| (r.name.to_string(), json!(r.offset))).collect();
    expect.push(("REGISTERS", Value::Object(regs_map.clone())));
    expect.push(("REGISTER_NAMES", Value::Object(regs_map)));
    let mut names = serde_json::Map::new();
    names.insert("0".into(), json!("NONE"));
    let mut codes = serde_json::Map::new();
    codes.insert("NONE".into(), json!(0));
    for e in JobError::ALL {
        names.insert(e.code().to_string(), json!(e.name()));
        codes.insert(e.name().into(), json!(e.code()));
    }
    expect.push(("ERROR_NAMES", Value::Object(names)));
    expect.push(("ERROR_CONSTS", Value::Object(codes)));
    let fields: Vec<Value> = FIELDS.iter().map(|f| json!([f.name, f.offset, f.bytes, f.signed])).collect();
    expect.push(("DESCRIPTOR_FIELDS", Value::Array(fields)));
    // The SAC weight format as system::kneaded's module comment states it (None on a MAC system).
    let sac = sp.sac.as_ref();
    let index_bits = sac.map(|s| s.knead.ks.trailing_zeros());
    let slot_bits = index_bits.map(|b| 2 + b);
    let word_bits = sac.map(|s| s.positions as u32 * slot_bits.unwrap());
    expect.extend([
        ("SAC", json!(sac.is_some())),
        ("SAC_KS", json!(sac.map(|s| s.knead.ks))),
        ("SAC_ENCODING", json!(sac.map(|s| s.knead.encoding.name()))),
        ("SAC_WEIGHT_BITS", json!(sac.map(|s| s.knead.bits))),
        ("SAC_WEIGHT_MAX", json!(sac.map(|s| (1i64 << (s.knead.bits - 1)) - 1))),
        ("SAC_POSITIONS", json!(sac.map(|s| s.knead.positions()))),
        ("SAC_INDEX_BITS", json!(index_bits)),
        ("SAC_SLOT_BITS", json!(slot_bits)),
        ("SAC_SLOT_VALID_BIT", json!(sac.map(|_| 0))),
        ("SAC_SLOT_NEGATIVE_BIT", json!(sac.map(|_| 1))),
        ("SAC_SLOT_INDEX_LSB", json!(sac.map(|_| 2))),
        ("SAC_WORD_BITS", json!(word_bits)),
        ("SAC_GROUP_END_BIT", json!(word_bits)),
        ("SAC_FOLD_END_BIT", json!(word_bits.map(|b| b + 1))),
        ("SAC_STREAM_WORD_BITS", json!(word_bits.map(|b| b + 2))),
        ("SAC_DIRECTORY_WORDS", json!(sac.map(|_| kneaded::DIRECTORY_WORDS))),
        ("SAC_LENGTH_BITS", json!(sac.map(|_| 16))),
    ]);
    if let Some(sac) = sac {
        assert_eq!((sac.slot_bits, sac.word_bits), (slot_bits.unwrap(), word_bits.unwrap()));
    }
    for (name, want) in expect {
        if got[name] != want {
            problems.push(format!("{}: {name} = {}, expected {want}", sp.top, got[name]));
        }
    }
}

fn tmp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-host-py-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A preset under configs/ as a system.
fn preset(name: &str) -> SystemParams {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs").join(format!("{name}.toml"));
    SystemParams::of(&Config::load(&path).unwrap()).expect("the preset has a [system] table")
}

/// `cases` random jobs, then (`real`) the shipped layers' jobs, packed by the library and by Rust.
fn cross_check(sp: &SystemParams, seed: u64, cases: usize, real: bool) {
    let python = common::python::venv_python(&["numpy"]);
    let sp = sp.clone();
    let dir = tmp_dir(&sp.top);
    let module = host_py::file_name(&sp).trim_end_matches(".py").to_string();
    std::fs::write(dir.join(host_py::file_name(&sp)), host_py::host_library(&sp).unwrap()).unwrap();
    std::fs::write(dir.join("pack.py"), PACK_PY).unwrap();

    let mut rng = SplitMix64::new(seed);
    let mut cases: Vec<Case> = (0..cases).map(|i| random_case(&sp, &mut rng, i)).collect();
    if real {
        let first = cases.len();
        cases.extend(real_cases(&sp, &mut rng, first));
    }
    for (i, case) in cases.iter().enumerate() {
        write_tensors(&dir, i, case);
        let bytes: Vec<u8> = case.out.concat();
        std::fs::write(dir.join(format!("out_{i}.bin")), bytes).unwrap();
    }
    let scales = scales(&mut rng);
    let spec = json!({ "jobs": cases.iter().map(|c| c.spec.clone()).collect::<Vec<_>>(), "scales": scales });
    std::fs::write(dir.join("spec.json"), spec.to_string()).unwrap();
    common::python::run(&python, &dir, Path::new("pack.py"), &[&module], Duration::from_secs(120));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();

    let mut problems = Vec::new();
    check_constants(&sp, &results["constants"], &mut problems);
    for (i, case) in cases.iter().enumerate() {
        let job = &case.conv;
        let what = format!("{} job {i} ({})", sp.top, case.spec);
        let expect: Vec<Word> = layout::frame(&sp, job);
        let got = std::fs::read(dir.join(format!("frame_{i}.bin"))).unwrap();
        let got_words: Vec<&[u8]> = got.chunks(sp.word_bytes()).collect();
        if got.len() != expect.len() * sp.word_bytes() {
            problems.push(format!("{what}: {} frame bytes, expected {} words", got.len(), expect.len()));
        } else if let Some(k) = (0..expect.len()).find(|&k| got_words[k] != expect[k].as_slice()) {
            problems.push(format!(
                "{what}: frame word {k} of {} is {:02x?}, expected {:02x?}",
                expect.len(),
                got_words[k],
                expect[k]
            ));
        }
        let s = job.desc.shape(&sp);
        let r = &results["jobs"][i];
        if sp.sac.is_none() {
            if expect.len() != job.desc.frame_words(&sp, &s) {
                problems.push(format!("{what}: layout::frame and frame_words disagree"));
            }
        } else if job.desc.load_weights() {
            // The library's column streams are Rust's, and the frame is descriptor, records,
            // directory, streams, activations.
            let streams = kneaded::column_streams(&sp, &s, &job.w);
            if r["streams"] != json!(streams) {
                problems.push(format!("{what}: sac_column_streams differs from kneaded::column_streams"));
            }
            let stream_words: usize = streams.iter().map(Vec::len).sum();
            let words = sp.desc_words + s.param_words + kneaded::DIRECTORY_WORDS + stream_words + s.act_words;
            if expect.len() != words {
                problems.push(format!("{what}: layout::frame has {} words, expected {words}", expect.len()));
            }
        } else if expect.len() != sp.desc_words + s.act_words {
            problems.push(format!("{what}: a frame without weights has {} words", expect.len()));
        }
        // words_to_ints: lane c = byte c = tdata bits 8c+7:8c.
        let ints: Vec<String> = expect
            .iter()
            .map(|w| w.iter().enumerate().map(|(c, &b)| (b as u128) << (8 * c)).sum::<u128>().to_string())
            .collect();
        if r["frame_ints"] != json!(ints) {
            problems.push(format!("{what}: words_to_ints differs from little-endian lanes"));
        }
        let d = &job.desc;
        let shape = json!([d.out_h, d.out_w, d.out_c]);
        if r["out_shape"] != shape || r["out_words"] != json!(s.out_words) {
            problems.push(format!(
                "{what}: out_shape {} out_words {}, expected {shape} {}",
                r["out_shape"], r["out_words"], s.out_words
            ));
        }
        let mut fields = serde_json::to_value(d).unwrap();
        fields["reserved0"] = json!(0);
        if r["fields"] != fields {
            problems.push(format!("{what}: Job.fields {} , expected {fields}", r["fields"]));
        }
        let y: Array3<i8> = ndarray_npy::read_npy(dir.join(format!("y_{i}.npy"))).unwrap();
        let want = layout::unpack_output(&sp, d, &case.out);
        if y != want {
            problems.push(format!("{what}: unpack_output differs from layout::unpack_output"));
        }
    }
    for (scale, got) in scales.iter().zip(results["quant"].as_array().unwrap()) {
        check_quant(*scale, got, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "{} problems (files in {}):\n{}",
        problems.len(),
        dir.display(),
        problems.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn host_library_packs_and_unpacks_like_the_layout_4x4() {
    cross_check(&system(SYSTEM_4X4).1, 44, 60, false);
}

#[test]
fn host_library_packs_and_unpacks_like_the_layout_8x8() {
    cross_check(&system(SYSTEM_8X8).1, 88, 60, false);
}

#[test]
fn host_library_kneads_like_the_layout_sac_4x4_sign_magnitude() {
    let sp = preset("system_sac_4x4_i8");
    assert!(sp.sac.is_some());
    cross_check(&sp, 144, 40, true);
}

#[test]
fn host_library_kneads_like_the_layout_sac_4x8_csd() {
    let sp = preset("system_sac_4x8_i8");
    assert!(sp.sac.is_some());
    cross_check(&sp, 148, 40, true);
}

/// Tries weights the hardware cannot take: on a SAC system -128 (and anything beyond int8) raises a
/// ValueError naming the tensor and index, before anything is packed; weights that are not sent are
/// not checked. A MAC system takes -128, and has no kneading.
const REJECT_PY: &str = r#"
import importlib, sys
import numpy as np

sys.path.insert(0, ".")
lib = importlib.import_module(sys.argv[1])


def raises(f, *parts):
    try:
        f()
    except ValueError as e:
        msg = str(e)
        assert all(p in msg for p in parts), (msg, parts)
        return msg
    raise AssertionError(f"no ValueError (expected one naming {parts})")


x = np.zeros((3, 3, 5), np.int8)
w = np.ones((6, 2, 2, 5), np.int8)
w[4, 1, 0, 3] = -128
if lib.SAC:
    print(raises(lambda: lib.conv_job(x, w, 0, 1, 0), "w[4, 1, 0, 3]", "-128"))
    print(raises(lambda: lib.sac_column_streams(w), "w[4, 1, 0, 3]", "-128"))
    print(raises(lambda: lib.weight_words(w), "w[4, 1, 0, 3]", "-128"))
    wide = np.ones((6, 2, 2, 5), np.int16)
    wide[0, 0, 1, 2] = 128
    print(raises(lambda: lib.conv_job(x, wide, 0, 1, 0), "w[0, 0, 1, 2]", "128"))
    b = np.ones((5, 7), np.int8)
    b[2, 6] = -128
    print(raises(lambda: lib.gemm_job(np.zeros((2, 5), np.int8), b, 0, 1, 0), "b[2, 6]", "-128"))
    print(raises(lambda: lib.sac_knead_group([1, -128]), "index 1", "-128"))
    lib.gemm_job(np.zeros((2, 5), np.int8), b, None, None, None, load_weights=False)
    lib.conv_job(x, w, None, None, None, load_weights=False)  # weights not sent: not checked
    w[4, 1, 0, 3] = -127
    lib.conv_job(x, w, 0, 1, 0)
else:
    assert lib.SAC_KS is None
    lib.conv_job(x, w, 0, 1, 0)
    raises(lambda: lib.sac_column_streams(w), "MAC system")
print("ok")
"#;

#[test]
fn host_library_rejects_weights_a_sac_system_cannot_take() {
    let python = common::python::venv_python(&["numpy"]);
    for sp in [preset("system_sac_4x4_i8"), preset("system_sac_4x8_i8"), system(SYSTEM_4X4).1] {
        let dir = tmp_dir(&format!("reject-{}", sp.top));
        let module = host_py::file_name(&sp).trim_end_matches(".py").to_string();
        std::fs::write(dir.join(host_py::file_name(&sp)), host_py::host_library(&sp).unwrap()).unwrap();
        std::fs::write(dir.join("reject.py"), REJECT_PY).unwrap();
        let out =
            common::python::run(&python, &dir, Path::new("reject.py"), &[&module], Duration::from_secs(60));
        assert!(out.trim_end().ends_with("ok"), "{}: {out}", sp.top);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Same config, same text; the module parses as Python (checked by the runs above) and names the top.
#[test]
fn host_library_is_deterministic() {
    let (_, sp) = system(SYSTEM_4X4);
    let a = host_py::host_library(&sp).unwrap();
    assert_eq!(a, host_py::host_library(&sp).unwrap());
    assert_eq!(host_py::file_name(&sp), "system_os_4x4_i8_system_host.py");
    assert!(a.contains("TOP = \"system_os_4x4_i8_system\""));
}
