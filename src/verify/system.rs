//! Verification of a system top (`<name>_system`) against the system model (`model::system`),
//! through the hand-written Verilator testbench `sim/system_tb.cpp`: the same stimulus (frames with
//! idle gaps, m_axis_tready per edge) goes to both; every AXI4-Lite write's edge, every input beat's
//! taken edge, every output beat's edge, tlast and bits, the irq edge and the status registers read
//! at the end must agree. Each case's model outputs are also checked against the plain convolution
//! of `system::reference`.

use super::{CaseResult, VerifyOptions, VerifyReport};
use crate::model::system::{self as model, InBeat, Stimulus, SystemRun, SETUP_WRITES};
use crate::rng::SplitMix64;
use crate::rtl::Design;
use crate::system::cases::{self, Geometry, Pacing};
use crate::system::descriptor::{FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU};
use crate::system::layout::{self, unpack_output, ConvJob, Word};
use crate::system::{reference, regs, JobError, SystemParams};
use crate::tools::verilator::{self, Testbench, TestbenchSources, WaveFormat};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The testbench source (embedded so the binary works from any folder).
pub const TB_SOURCE: &str = include_str!("../../sim/system_tb.cpp");

/// One case: the jobs, the stimulus, and what it is about.
#[derive(Debug, Clone)]
pub struct SystemCase {
    pub index: usize,
    pub description: String,
    pub jobs: Vec<ConvJob>,
    pub stim: Stimulus,
    /// The error the case plants (the model must report it).
    pub planted: Option<JobError>,
}

/// What a testbench (or the model) shows of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemTrace {
    pub writes: Vec<(u32, u64)>,
    pub ins: Vec<u64>,
    pub outs: Vec<(u64, bool, String)>,
    pub irq: Option<u64>,
    pub regs: BTreeMap<String, u64>,
}

fn hex(word: &[u8]) -> String {
    let s: String = word.iter().rev().map(|b| format!("{b:02x}")).collect();
    let t = s.trim_start_matches('0');
    if t.is_empty() {
        "0".into()
    } else {
        t.into()
    }
}

impl SystemTrace {
    /// The trace the model predicts.
    pub fn expected(run: &SystemRun) -> SystemTrace {
        let mut regs = BTreeMap::new();
        regs.insert("CTRL".into(), (regs::CTRL_DONE | regs::CTRL_IDLE) as u64);
        regs.insert("ISR".into(), 1);
        regs.insert("CYCLES_LO".into(), run.regs.cycles & 0xffff_ffff);
        regs.insert("CYCLES_HI".into(), run.regs.cycles >> 32);
        regs.insert("ERROR".into(), run.regs.error as u64);
        regs.insert("ERROR_JOB".into(), run.regs.error_job as u64);
        regs.insert("JOBS_DONE".into(), run.regs.jobs_done as u64);
        regs.insert("ID".into(), regs::ID_VALUE as u64);
        let writes = SETUP_WRITES.iter().zip([0u64, 2, 4]).map(|(&(a, _), e)| (a, e)).collect();
        SystemTrace {
            writes,
            ins: run.taken_at.clone(),
            outs: run.outputs.iter().map(|o| (o.edge, o.last, hex(&o.word))).collect(),
            irq: Some(run.done_edge),
            regs,
        }
    }

    pub fn parse(text: &str) -> Result<SystemTrace> {
        let mut t = SystemTrace::default();
        let mut ended = false;
        for (n, line) in text.lines().enumerate() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| -> Result<u64> {
                f.get(i)
                    .context("missing field")?
                    .parse::<u64>()
                    .with_context(|| format!("line {}: {line}", n + 1))
            };
            match f.first().copied() {
                None | Some("#") => {}
                Some(w) if w.starts_with('#') => {}
                Some("write") => t.writes.push((num(1)? as u32, num(2)?)),
                Some("in") => t.ins.push(num(2)?),
                Some("out") => {
                    let data = f.get(3).context("no data")?.trim_start_matches('0');
                    t.outs.push((num(1)?, num(2)? == 1, if data.is_empty() { "0" } else { data }.to_string()))
                }
                Some("irq") => t.irq = Some(num(1)?),
                Some("reg") => {
                    t.regs.insert(f.get(1).context("no name")?.to_string(), num(2)?);
                }
                Some("end") => ended = true,
                Some(other) => anyhow::bail!("line {}: unknown record {other:?}", n + 1),
            }
        }
        anyhow::ensure!(ended, "the trace has no `end` line (the testbench stopped early)");
        Ok(t)
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (a, e) in &self.writes {
            let _ = writeln!(s, "write {a} {e}");
        }
        for (i, e) in self.ins.iter().enumerate() {
            let _ = writeln!(s, "in {i} {e}");
        }
        for (e, l, h) in &self.outs {
            let _ = writeln!(s, "out {e} {} {h}", *l as u8);
        }
        if let Some(e) = self.irq {
            let _ = writeln!(s, "irq {e}");
        }
        for (k, v) in &self.regs {
            let _ = writeln!(s, "reg {k} {v}");
        }
        s
    }
}

/// One line per difference (at most a few per kind).
pub fn compare(exp: &SystemTrace, got: &SystemTrace) -> Vec<String> {
    let mut m = Vec::new();
    if exp.writes != got.writes {
        m.push(format!("AXI4-Lite writes accepted at {:?}, model {:?}", got.writes, exp.writes));
    }
    let mut diff = |what: &str, n_exp: usize, n_got: usize, first: Option<String>| {
        if let Some(f) = first {
            m.push(format!("{what}: first difference {f}"));
        }
        if n_exp != n_got {
            m.push(format!("{what}: {n_got} beats, model {n_exp}"));
        }
    };
    let first_in = exp.ins.iter().zip(&got.ins).enumerate().find(|(_, (a, b))| a != b);
    diff(
        "s_axis beats taken",
        exp.ins.len(),
        got.ins.len(),
        first_in.map(|(i, (a, b))| format!("beat {i} taken at edge {b}, model {a}")),
    );
    let first_out = exp.outs.iter().zip(&got.outs).enumerate().find(|(_, (a, b))| a != b);
    diff(
        "m_axis beats",
        exp.outs.len(),
        got.outs.len(),
        first_out.map(|(i, (a, b))| {
            format!(
                "beat {i}: edge {} tlast {} data {}, model edge {} tlast {} data {}",
                b.0, b.1 as u8, b.2, a.0, a.1 as u8, a.2
            )
        }),
    );
    let bad_outs = exp.outs.iter().zip(&got.outs).filter(|(a, b)| a != b).count();
    if bad_outs > 1 {
        m.push(format!("m_axis beats: {bad_outs} differ in all"));
    }
    if exp.irq != got.irq {
        m.push(format!("irq after edge {:?}, model {:?}", got.irq, exp.irq));
    }
    for (k, v) in &exp.regs {
        match got.regs.get(k) {
            Some(g) if g == v => {}
            g => m.push(format!("register {k} = {g:?}, model {v}")),
        }
    }
    m
}

/// The stimulus file the testbench reads.
pub fn stimulus_text(stim: &Stimulus) -> String {
    let mut s = format!("beats {}\n", stim.beats.len());
    for (b, g) in stim.beats.iter().zip(&stim.gaps) {
        let _ = writeln!(s, "{g} {} {}", b.last as u8, hex(&b.word));
    }
    let _ = writeln!(s, "ready {}", stim.ready.len());
    s.extend(stim.ready.iter().map(|&r| if r { '1' } else { '0' }));
    s.push('\n');
    s
}

/// Builds (or reuses) the Verilator testbench of a system design.
pub fn build(sp: &SystemParams, design: &Design, build_root: &Path, wave: WaveFormat) -> Result<Testbench> {
    let tb_cpp = format!("#define ACCELC_TDATA_BITS {}\n{TB_SOURCE}", sp.stream_bits);
    let src = TestbenchSources {
        name: &sp.top,
        top: &sp.top,
        verilog: super::harness::verilog_sources(design),
        tb_cpp: &tb_cpp,
        support: super::harness::SUPPORT.to_vec(),
        wave,
    };
    verilator::build_testbench(build_root, &src)
}

/// Runs the testbench on a stimulus file, writing its trace to `result`, for at most `limit` edges.
fn launch(
    tb: &Testbench,
    stim: &Path,
    result: &Path,
    limit: u64,
    wave: Option<&Path>,
) -> Result<std::process::Output> {
    let abs = |p: &Path| -> PathBuf { std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()) };
    let mut cmd = Command::new(&tb.exe);
    cmd.arg(format!("+stim={}", abs(stim).display()))
        .arg(format!("+result={}", abs(result).display()))
        .arg(format!("+limit={limit}"));
    if let Some(w) = wave {
        cmd.arg(format!("+trace={}", abs(w).display()));
    }
    cmd.output().with_context(|| format!("running {}", tb.exe.display()))
}

/// Runs a stimulus on the RTL (no model): the trace the testbench writes, for at most `limit` edges.
pub fn run_rtl(tb: &Testbench, stim: &Stimulus, work: &Path, limit: u64) -> Result<SystemTrace> {
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let (stim_path, result) = (work.join("stimulus.txt"), work.join("got.txt"));
    std::fs::write(&stim_path, stimulus_text(stim))?;
    let _ = std::fs::remove_file(&result);
    let out = launch(tb, &stim_path, &result, limit, None)?;
    anyhow::ensure!(
        out.status.success(),
        "testbench exited with {}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    SystemTrace::parse(&std::fs::read_to_string(&result)?)
}

/// A trace's output word (hex, lane 0 in the low byte) as `bytes` lanes.
pub fn word_from_hex(hex: &str, bytes: usize) -> Result<Word> {
    let digits: Vec<u8> = hex.bytes().rev().collect();
    (0..bytes)
        .map(|b| {
            let pair: String =
                digits.iter().skip(2 * b).take(2).rev().map(|&d| d as char).collect::<String>();
            if pair.is_empty() {
                Ok(0)
            } else {
                u8::from_str_radix(&pair, 16).with_context(|| format!("output word {hex:?}"))
            }
        })
        .collect()
}

/// A case's model run and the RTL's, compared.
#[derive(Debug, Clone)]
pub struct SystemChecked {
    pub run: SystemRun,
    pub expected: SystemTrace,
    pub got: Option<SystemTrace>,
    pub mismatches: Vec<String>,
    pub log: String,
}

/// Model outputs against the plain convolution, for the jobs that completed.
fn check_model_outputs(sp: &SystemParams, case: &SystemCase, run: &SystemRun) -> Vec<String> {
    let mut m = Vec::new();
    if case.planted.is_some() && run.regs.error != case.planted.map_or(0, JobError::code) {
        m.push(format!("model: ERROR = {}, the case planted {:?}", run.regs.error, case.planted));
    }
    if case.planted.is_none() && run.regs.error != 0 {
        m.push(format!("model: ERROR = {} on a case without a planted error", run.regs.error));
    }
    let mut at = 0;
    for (i, job) in case.jobs.iter().take(run.regs.jobs_done as usize).enumerate() {
        let n = job.desc.shape(sp).out_words;
        let Some(outs) = run.outputs.get(at..at + n) else {
            m.push(format!("model: job {i} has fewer than {n} output words"));
            break;
        };
        let words: Vec<Word> = outs.iter().map(|o| o.word.clone()).collect();
        if unpack_output(sp, &job.desc, &words) != reference::conv(job) {
            m.push(format!("model: job {i} differs from the plain convolution"));
        }
        at += n;
    }
    m
}

/// Runs one case on the built testbench in `work` (created), with a waveform when `wave` is given.
pub fn check_case(
    tb: &Testbench,
    sp: &SystemParams,
    acc_bits: u32,
    case: &SystemCase,
    work: &Path,
    wave: Option<&Path>,
) -> Result<SystemChecked> {
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let run = model::run(sp, acc_bits, &case.stim, 50_000_000).map_err(anyhow::Error::msg)?;
    let expected = SystemTrace::expected(&run);
    let stim_path = work.join("stimulus.txt");
    std::fs::write(&stim_path, stimulus_text(&case.stim))?;
    std::fs::write(work.join("expected.txt"), expected.to_text())?;
    let result = work.join("got.txt");
    let _ = std::fs::remove_file(&result);
    let limit = run.done_edge + run.done_edge / 2 + 1000;
    let out = launch(tb, &stim_path, &result, limit, wave)?;
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let mut mismatches = check_model_outputs(sp, case, &run);
    let got = if out.status.success() {
        match std::fs::read_to_string(&result)
            .map_err(anyhow::Error::from)
            .and_then(|t| SystemTrace::parse(&t))
        {
            Ok(got) => {
                mismatches.extend(compare(&expected, &got));
                Some(got)
            }
            Err(e) => {
                mismatches.push(format!("no trace from the testbench: {e:#}"));
                None
            }
        }
    } else {
        mismatches.push(format!("testbench exited with {}: {}", out.status, log.trim()));
        None
    };
    Ok(SystemChecked { run, expected, got, mismatches, log })
}

// ---------------------------------------------------------------- cases

fn job_with(
    sp: &SystemParams,
    rng: &mut SplitMix64,
    x: (usize, usize, usize),
    out_c: usize,
    g: Geometry,
    flags: u8,
) -> ConvJob {
    let desc = cases::conv_descriptor(
        x,
        out_c,
        &g,
        flags | FLAG_LOAD_WEIGHTS,
        if rng.pick(2) == 0 { 0 } else { rng.range_i64(-10, 10) as i8 },
    );
    let s = desc.shape(sp);
    ConvJob {
        desc,
        x: cases::random_tensor3(rng, x),
        w: cases::random_weights(sp, rng, (out_c, g.k.0, g.k.1, x.2)),
        requant: cases::random_requant(rng, out_c, s.k(sp.cols)),
    }
}

/// A shipped conv layer (real trained weights, quantized per layer to int8) on a random input that
/// fits the banks; output channels beyond what a bank holds are left out (the description says so).
fn real_layer_job(sp: &SystemParams, rng: &mut SplitMix64) -> Result<(ConvJob, String)> {
    let layers: Vec<_> = crate::workload::shipped_layers()?
        .iter()
        .filter(|l| l.op == crate::workload::Op::Conv && l.groups == 1)
        .collect();
    let layer = layers[rng.pick(layers.len())];
    let [oc, ic, kh, kw] = layer.shape;
    let (q, _) = crate::workload::quantize_symmetric(&layer.weights, 8);
    let cb = ic.div_ceil(sp.cols);
    let per_tile = kh * kw * cb * sp.cols;
    let tiles = (sp.weight_words / per_tile).min(sp.param_tiles).min(oc.div_ceil(sp.cols));
    anyhow::ensure!(tiles > 0, "layer {} does not fit a weight bank", layer.name);
    let out_c = (tiles * sp.cols).min(oc);
    let side_max = ((sp.act_words / cb) as f64).sqrt() as usize;
    let side = rng.range_usize(kh.max(kw).max(2), side_max.clamp(kh.max(kw).max(2), 10));
    let g = Geometry {
        k: (kh, kw),
        stride: (layer.stride[0], layer.stride[1]),
        dil: (1, 1),
        pad: (layer.pads[0], layer.pads[1]),
    };
    let desc = cases::conv_descriptor((side, side, ic), out_c, &g, FLAG_LOAD_WEIGHTS | FLAG_RELU, 0);
    let s = desc.shape(sp);
    let w = ndarray::Array4::from_shape_fn((out_c, kh, kw, ic), |(o, y, x, i)| q[(o, i, y, x)] as i8);
    // post-ReLU activations are non-negative
    let x = ndarray::Array3::from_shape_simple_fn((side, side, ic), || rng.range_i64(0, 127) as i8);
    let job = ConvJob { desc, x, w, requant: cases::random_requant(rng, out_c, s.k(sp.cols)) };
    let what = format!(
        "real layer {}/{} ({oc}x{ic}x{kh}x{kw}, stride {:?}) on a {side}x{side} input, {out_c} of {oc} output channels",
        layer.network, layer.name, layer.stride
    );
    Ok((job, what))
}

/// A malformed frame (after `jobs`, which run first), and the error it must raise.
fn malformed(sp: &SystemParams, rng: &mut SplitMix64, jobs: &[ConvJob]) -> (Vec<InBeat>, JobError) {
    let kinds = [
        JobError::BadOpcode,
        JobError::BadShape,
        JobError::ActOverflow,
        JobError::WeightOverflow,
        JobError::ParamOverflow,
        JobError::NoWeights,
        JobError::Frame,
        JobError::BadStream,
    ];
    // a MAC system has no kneaded streams; a SAC system's weight overflow is a directory length
    let kinds: Vec<JobError> = kinds
        .into_iter()
        .filter(|&k| match (k, sp.sac.is_some()) {
            (JobError::BadStream, sac) => sac,
            (JobError::WeightOverflow, true) => sp.weight_words < 65535,
            _ => true,
        })
        .collect();
    let kind = kinds[rng.pick(kinds.len())];
    let g = Geometry { k: (1, 1), stride: (1, 1), dil: (1, 1), pad: (0, 0) };
    let mut job = job_with(sp, rng, (3, 3, sp.cols), sp.cols, g, 0);
    match kind {
        JobError::BadOpcode => job.desc.opcode = 9,
        JobError::BadShape => job.desc.kh = 0,
        JobError::ActOverflow => job.desc.in_h = (sp.act_words + 1).min(65535) as u16,
        JobError::WeightOverflow | JobError::BadStream if sp.sac.is_some() => {
            return (corrupt_streams(sp, rng, &job, kind), kind);
        }
        JobError::WeightOverflow => {
            // 255x255 kernels over >= 5 channel blocks: more than 2^20 (the largest bank) weight words
            job.desc.in_h = 1;
            job.desc.in_w = 1;
            job.desc.in_c = (sp.cols * sp.act_words.min(65535 / sp.cols)) as u16;
            job.desc.kh = 255;
            job.desc.kw = 255;
        }
        JobError::ParamOverflow => job.desc.out_c = ((sp.param_tiles + 1) * sp.cols).min(65535) as u16,
        JobError::NoWeights => {
            // weights of another shape than any loaded before
            job.desc.flags &= !FLAG_LOAD_WEIGHTS;
            job.desc.in_c =
                (jobs.iter().map(|j| j.desc.in_c).max().unwrap_or(0) as usize + sp.cols + 1) as u16;
        }
        JobError::Frame | JobError::BadStream => {}
    }
    let mut words = layout::descriptor_words(sp, &job.desc);
    // a FRAME case carries the job's whole payload (its tlast misplaced); the others a few words
    let payload = if kind == JobError::Frame {
        layout::frame(sp, &job).len() - words.len()
    } else {
        rng.range_usize(1, 12)
    };
    let mut rng2 = rng.fork(7);
    if kind == JobError::Frame && sp.sac.is_some() {
        // the real payload: random words would carry a random directory (WEIGHT_OVERFLOW first)
        words = layout::frame(sp, &job);
    } else {
        words.extend(
            (0..payload).map(|_| (0..sp.cols).map(|_| rng2.range_i64(0, 255) as u8).collect::<Word>()),
        );
    }
    let n = words.len();
    let last_at = if kind == JobError::Frame {
        if rng.pick(2) == 0 {
            rng.range_usize(1, n - 2) // early tlast
        } else {
            n // no tlast on the frame's last word: one more word carries it
        }
    } else {
        n - 1
    };
    if last_at == n {
        words.push(vec![0; sp.cols]);
    }
    let beats =
        words.into_iter().enumerate().map(|(i, word)| InBeat { word, last: i == last_at.min(n) }).collect();
    (beats, kind)
}

/// A SAC job's whole frame with its directory or one column stream corrupted: a column longer than
/// the bank (WEIGHT_OVERFLOW), or an empty column or a flipped group_end/fold_end flag (BAD_STREAM).
fn corrupt_streams(sp: &SystemParams, rng: &mut SplitMix64, job: &ConvJob, kind: JobError) -> Vec<InBeat> {
    let sac = sp.sac.expect("a SAC system");
    let s = job.desc.shape(sp);
    let mut words = layout::frame(sp, job);
    let dir = sp.desc_words + s.param_words;
    let c = rng.pick(sp.cols);
    let lens: Vec<usize> =
        (0..sp.cols).map(|l| words[dir][l] as usize | (words[dir + 1][l] as usize) << 8).collect();
    let set_len = |words: &mut Vec<Word>, len: usize| {
        words[dir][c] = len as u8;
        words[dir + 1][c] = (len >> 8) as u8;
    };
    match kind {
        JobError::WeightOverflow => set_len(&mut words, sp.weight_words + 1),
        _ if rng.pick(3) == 0 => set_len(&mut words, 0),
        _ => {
            let at = dir + 2 + lens[..c].iter().sum::<usize>() + rng.pick(lens[c]);
            let bit = sac.word_bits + rng.pick(2) as u32;
            words[at][bit as usize / 8] ^= 1 << (bit % 8);
        }
    }
    let n = words.len();
    words.into_iter().enumerate().map(|(i, word)| InBeat { word, last: i + 1 == n }).collect()
}

/// Case `index` of `seed`: kinds rotate through random jobs, back-to-back jobs sharing weights, a
/// real layer, geometry edge cases, a GEMM, a malformed frame, and heavy backpressure.
pub fn generate(sp: &SystemParams, seed: u64, index: usize) -> SystemCase {
    let mut rng = SplitMix64::for_case(seed, index);
    let mut planted = None;
    let mut extra_beats = Vec::new();
    let (mut jobs, pacing, description) = match index % 7 {
        0 => (vec![cases::random_job(sp, &mut rng, None)], Pacing::FULL_SPEED, "one random conv".to_string()),
        1 => {
            let first = cases::random_job(sp, &mut rng, None);
            let second = cases::random_job(sp, &mut rng, Some(&first));
            let third = cases::random_job(sp, &mut rng, None);
            (
                vec![first, second, third],
                Pacing::RANDOM,
                "three jobs back to back, the second reusing weights, random gaps and backpressure".into(),
            )
        }
        2 => match real_layer_job(sp, &mut rng) {
            Ok((job, what)) => (vec![job], Pacing::RANDOM, what),
            Err(e) => {
                (vec![cases::random_job(sp, &mut rng, None)], Pacing::RANDOM, format!("random conv ({e})"))
            }
        },
        3 => {
            let variants = [
                (
                    "1x1 conv, in_c = 1 (K = C)",
                    (5, 7, 1),
                    1,
                    Geometry { k: (1, 1), stride: (1, 1), dil: (1, 1), pad: (0, 0) },
                ),
                (
                    "3x3 stride 2, padding 1, odd sizes",
                    (9, 7, sp.cols + 1),
                    sp.cols + 3,
                    Geometry { k: (3, 3), stride: (2, 2), dil: (1, 1), pad: (1, 1) },
                ),
                (
                    "3x3 dilation 2, padding 2",
                    (8, 8, 3),
                    2 * sp.cols,
                    Geometry { k: (3, 3), stride: (1, 1), dil: (2, 2), pad: (2, 2) },
                ),
                (
                    "1x3 kernel, stride (1, 3), output 1 pixel wide",
                    (4, 3, sp.cols),
                    sp.cols,
                    Geometry { k: (1, 3), stride: (1, 3), dil: (1, 1), pad: (0, 0) },
                ),
                (
                    "5x5 kernel larger than the input (padding 2)",
                    (3, 3, 2),
                    3,
                    Geometry { k: (5, 5), stride: (1, 1), dil: (1, 1), pad: (2, 2) },
                ),
                (
                    "one output pixel (fewer pixels than rows)",
                    (3, 3, sp.cols),
                    sp.cols,
                    Geometry { k: (3, 3), stride: (1, 1), dil: (1, 1), pad: (0, 0) },
                ),
            ];
            let (what, x, oc, g) = variants[(index / 7) % variants.len()];
            (vec![job_with(sp, &mut rng, x, oc, g, FLAG_RELU)], Pacing::RANDOM, what.to_string())
        }
        4 => {
            let (m, k, n) =
                (rng.range_usize(1, 40), rng.range_usize(1, 3 * sp.cols), rng.range_usize(1, 3 * sp.cols));
            let g = Geometry { k: (1, 1), stride: (1, 1), dil: (1, 1), pad: (0, 0) };
            (
                vec![job_with(sp, &mut rng, (1, m, k), n, g, 0)],
                Pacing::RANDOM,
                format!("GEMM {m}x{k} . {k}x{n} (1x1 conv over a 1x{m} image)"),
            )
        }
        5 => {
            let jobs = if rng.pick(2) == 0 { vec![cases::random_job(sp, &mut rng, None)] } else { vec![] };
            let (beats, kind) = malformed(sp, &mut rng, &jobs);
            planted = Some(kind);
            extra_beats = beats;
            let what = format!("malformed frame ({}) after {} good job(s)", kind.name(), jobs.len());
            (jobs, Pacing::RANDOM, what)
        }
        _ => (
            vec![cases::random_job(sp, &mut rng, None)],
            Pacing { gap_prob: 0.5, max_gap: 8, stall_prob: 0.8 },
            "one random conv, heavy backpressure (m_axis_tready 20% of edges)".into(),
        ),
    };
    if planted.is_none() {
        cases::mark_last(&mut jobs);
    }
    let mut stim = cases::stimulus(sp, &jobs, pacing, &mut rng);
    if !extra_beats.is_empty() {
        let mut gaps_rng = rng.fork(3);
        stim.gaps.extend(extra_beats.iter().map(|_| if gaps_rng.pick(5) == 0 { 2 } else { 0 }));
        stim.beats.extend(extra_beats);
    }
    let shapes: Vec<String> = jobs
        .iter()
        .map(|j| {
            let d = &j.desc;
            format!(
                "{}x{}x{}->{}x{}x{} k{}x{} s{}x{}",
                d.in_h, d.in_w, d.in_c, d.out_h, d.out_w, d.out_c, d.kh, d.kw, d.stride_h, d.stride_w
            )
        })
        .collect();
    let _ = FLAG_LAST;
    SystemCase {
        index,
        description: format!("case {index}: {description} [{}]", shapes.join("; ")),
        jobs,
        stim,
        planted,
    }
}

/// Verifies `cases` cases of `seed` on the system top of `design`.
pub fn verify(
    sp: &SystemParams,
    acc_bits: u32,
    design: &Design,
    cases: usize,
    seed: u64,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let tb = build(sp, design, &opts.out_root.join(".build"), WaveFormat::Vcd)?;
    let work_root = opts.out_root.join(".verify").join(format!(
        "{}-seed{seed}-{}",
        sp.top,
        crate::fsutil::unique_suffix()
    ));
    let mut results = Vec::new();
    for index in 0..cases {
        let case = generate(sp, seed, index);
        let work = work_root.join(format!("case{index}"));
        let r = check_case(&tb, sp, acc_bits, &case, &work, None)?;
        let cycles_rtl = r.got.as_ref().and_then(|g| g.regs.get("CYCLES_LO").copied()).unwrap_or(0);
        let mut result = CaseResult {
            index,
            description: case.description.clone(),
            cycles_model: r.run.regs.cycles,
            cycles_rtl,
            mismatches: r.mismatches.clone(),
            failure_dir: None,
        };
        let dir = opts.out_root.join("failures").join(format!("{}-seed{seed}-case{index}", sp.top));
        let _ = std::fs::remove_dir_all(&dir);
        if !result.mismatches.is_empty() {
            std::fs::create_dir_all(dir.join("rtl"))?;
            for f in ["stimulus.txt", "expected.txt", "got.txt"] {
                if work.join(f).is_file() {
                    std::fs::copy(work.join(f), dir.join(f))?;
                }
            }
            for (name, text) in super::harness::verilog_sources(design) {
                std::fs::write(dir.join("rtl").join(name), text)?;
            }
            let wave = opts.wave_on_fail.then(|| dir.join(super::FAILURE_WAVE));
            if let Some(w) = &wave {
                let traced = build(sp, design, &opts.out_root.join(".build"), WaveFormat::Vcd)?;
                check_case(&traced, sp, acc_bits, &case, &dir.join("rerun"), Some(w))?;
            }
            let mut readme = format!("# verify {}: seed {seed} {}\n\n", sp.top, case.description);
            for m in &result.mismatches {
                let _ = writeln!(readme, "- {m}");
            }
            let _ = writeln!(readme, "\nFiles: stimulus.txt (what the testbench drove), expected.txt (the model), got.txt (the RTL), rtl/ (the Verilog).");
            let _ = writeln!(readme, "Run again: `accelc verify <config> --seed {seed} --cases {}` (case {index}), or the testbench directly:\n`{} +stim=stimulus.txt +result=got.txt +limit={}`", index + 1, tb.exe.display(), r.run.done_edge * 2 + 1000);
            std::fs::write(dir.join("README.md"), readme)?;
            result.failure_dir = Some(dir);
        }
        if opts.progress {
            let verdict = if result.mismatches.is_empty() {
                "ok".to_string()
            } else {
                format!("MISMATCH ({})", result.mismatches.len())
            };
            println!(
                "  {}: {verdict}, cycles model={} rtl={}",
                result.description, result.cycles_model, result.cycles_rtl
            );
            for m in result.mismatches.iter().take(6) {
                println!("    {m}");
            }
            if let Some(d) = &result.failure_dir {
                println!("    failure folder: {}", d.display());
            }
        }
        if !opts.keep {
            let _ = std::fs::remove_dir_all(&work);
        }
        results.push(result);
    }
    if !opts.keep {
        let _ = std::fs::remove_dir(&work_root);
    }
    Ok(VerifyReport { name: sp.top.clone(), seed, testbench: tb, cases: results })
}
