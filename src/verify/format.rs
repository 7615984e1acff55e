//! The text files that pass between accelc and the generated Verilator testbench.
//!
//! **Packing.** A field (one port) carries `lanes` signed values of `lane_bits` each. It is written as
//! one hex word, most significant digit first, exactly `ceil(lanes * lane_bits / 4)` digits, no `0x`:
//! lane 0 sits in the low bits, lane i in bits `[i*lane_bits, (i+1)*lane_bits)`, each lane masked to
//! `lane_bits` (two's complement). Ports of any width use the same form (`sim/accelc_tb.h` reads and
//! writes Verilator's 8/16/32/64-bit and `VlWide` ports from it). Reading back sign-extends each lane,
//! except 1-bit lanes, which are flags (`in_last`, `a_first`, ...) and read back as 0 or 1.
//!
//! **Stimulus** (`stimulus.txt`, written by accelc, read by the testbench). `#` starts a comment line.
//! ```text
//! expect <number of output beats>
//! channel <name> <fields> <beats>      one block per input channel, in the interface's order
//! <hex field 0> <hex field 1> ...      one line per beat, in the order the producer offers them
//! ```
//! **Trace** (`expected.txt` from the model, `got.txt` from the testbench; same format, so they diff):
//! ```text
//! taken <channel> <beat index> <edge>  the edge at which that input beat was taken (valid && ready)
//! out <edge> <hex field 0> ...          an output beat and the edge it left at (out_valid before it)
//! end <status> <edges>                  status: expected (model), done, or timeout (cycle limit hit);
//!                                       edges: rising edges simulated after reset
//! ```
//! Edge numbering is the model's: edge 0 is the first rising edge after reset at which beats are offered.

use crate::interface::{Channel, Field, Interface};
use crate::model::{mac_unit::sext, Traced};
use anyhow::{bail, ensure, Context, Result};
use std::fmt::Write as _;

/// Packs `lanes` into one hex word (see the module doc). Values are masked to `lane_bits`.
pub fn pack_lanes(lanes: &[i64], lane_bits: u32) -> String {
    assert!((1..=64).contains(&lane_bits), "lane_bits must be 1..=64, got {lane_bits}");
    let width = lanes.len() as u64 * lane_bits as u64;
    let mut words = vec![0u64; width.div_ceil(64).max(1) as usize];
    for (i, &v) in lanes.iter().enumerate() {
        let bits = (v as u64) & mask(lane_bits);
        let off = i as u64 * lane_bits as u64;
        let (w, sh) = ((off / 64) as usize, (off % 64) as u32);
        words[w] |= bits << sh;
        if sh > 0 && sh + lane_bits > 64 {
            words[w + 1] |= bits >> (64 - sh);
        }
    }
    let digits = width.div_ceil(4).max(1) as usize;
    let mut s = String::with_capacity(digits);
    for d in (0..digits).rev() {
        let nibble = (words[d / 16] >> ((d % 16) * 4)) & 0xf;
        s.push(char::from_digit(nibble as u32, 16).expect("nibble"));
    }
    s
}

/// Reads `lanes` signed values of `lane_bits` from a hex word written by `pack_lanes` (or by the
/// testbench); 1-bit lanes are flags and read as 0 or 1. Errors on a non-hex digit or on bits set above `lanes * lane_bits`.
pub fn unpack_lanes(hex: &str, lanes: usize, lane_bits: u32) -> Result<Vec<i64>> {
    ensure!((1..=64).contains(&lane_bits), "lane_bits must be 1..=64, got {lane_bits}");
    let hex = hex.strip_prefix("0x").unwrap_or(hex);
    ensure!(!hex.is_empty(), "empty hex word");
    let width = lanes as u64 * lane_bits as u64;
    let mut words = vec![0u64; (hex.len() as u64 * 4).div_ceil(64).max(width.div_ceil(64)) as usize + 1];
    for (d, ch) in hex.chars().rev().enumerate() {
        let nibble = ch.to_digit(16).with_context(|| format!("{hex:?}: {ch:?} is not a hex digit"))? as u64;
        let bit = d as u64 * 4;
        if nibble != 0 {
            ensure!(
                bit + (64 - nibble.leading_zeros() as u64) <= width,
                "{hex:?} has bits set above its {width}-bit width"
            );
        }
        words[(bit / 64) as usize] |= nibble << (bit % 64);
    }
    Ok((0..lanes)
        .map(|i| {
            let off = i as u64 * lane_bits as u64;
            let (w, sh) = ((off / 64) as usize, (off % 64) as u32);
            let mut bits = words[w] >> sh;
            if sh > 0 && sh + lane_bits > 64 {
                bits |= words[w + 1] << (64 - sh);
            }
            let bits = (bits & mask(lane_bits)) as i64;
            if lane_bits == 1 {
                bits
            } else {
                sext(bits, lane_bits)
            }
        })
        .collect())
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// One field's lanes as its hex word.
pub fn pack_field(field: &Field, lanes: &[i64]) -> String {
    assert_eq!(lanes.len(), field.lanes, "port {} has {} lanes", field.port, field.lanes);
    pack_lanes(lanes, field.lane_bits)
}

/// The stimulus file for one run of the model: every input beat of every channel, in order.
pub fn stimulus_text(iface: &Interface, run: &dyn Traced) -> String {
    let mut s = String::from("# accelc stimulus v1 (format: src/verify/format.rs)\n");
    writeln!(s, "expect {}", run.output_beats().len()).unwrap();
    for (ch, trace) in iface.inputs.iter().zip(run.input_traces()) {
        assert_eq!(ch.name, trace.name, "model channels follow the interface");
        writeln!(s, "channel {} {} {}", ch.name, ch.fields.len(), trace.beats.len()).unwrap();
        for beat in &trace.beats {
            let words: Vec<String> =
                ch.fields.iter().zip(&beat.fields).map(|(f, l)| pack_field(f, l)).collect();
            writeln!(s, "{}", words.join(" ")).unwrap();
        }
    }
    s
}

/// One beat's lanes, per field.
pub type BeatLanes = Vec<Vec<i64>>;

/// A stimulus file read back (for tests and tools): the number of outputs expected and, per input
/// channel, its beats.
pub fn parse_stimulus(iface: &Interface, text: &str) -> Result<(usize, Vec<Vec<BeatLanes>>)> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, first) = lines.next().context("empty stimulus")?;
    let expect = match first.split_whitespace().collect::<Vec<_>>()[..] {
        ["expect", n] => n.parse::<usize>()?,
        _ => bail!("stimulus must start with `expect N`, got {first:?}"),
    };
    let mut channels = Vec::new();
    for ch in &iface.inputs {
        let (no, head) = lines.next().with_context(|| format!("no block for channel {}", ch.name))?;
        let parts: Vec<&str> = head.split_whitespace().collect();
        ensure!(
            parts.len() == 4
                && parts[0] == "channel"
                && parts[1] == ch.name
                && parts[2] == ch.fields.len().to_string(),
            "line {}: expected `channel {} {} <beats>`, got {head:?}",
            no + 1,
            ch.name,
            ch.fields.len()
        );
        let n: usize = parts[3].parse()?;
        let mut beats = Vec::with_capacity(n);
        for _ in 0..n {
            let (no, line) = lines.next().with_context(|| format!("channel {}: too few beats", ch.name))?;
            beats.push(parse_fields(&ch.fields, line).with_context(|| format!("line {}", no + 1))?);
        }
        channels.push(beats);
    }
    Ok((expect, channels))
}

fn parse_fields(fields: &[Field], words: &str) -> Result<BeatLanes> {
    let words: Vec<&str> = words.split_whitespace().collect();
    ensure!(words.len() == fields.len(), "{} hex words for {} fields", words.len(), fields.len());
    fields
        .iter()
        .zip(words)
        .map(|(f, w)| unpack_lanes(w, f.lanes, f.lane_bits).with_context(|| format!("port {}", f.port)))
        .collect()
}

/// What happened on the interface: taken edges per input channel, output beats, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    /// Per input channel (interface order): the edge each beat was taken at, by beat index.
    pub taken: Vec<Vec<u64>>,
    /// Every output beat: the edge it left at and, per field, its lanes.
    pub outputs: Vec<(u64, Vec<Vec<i64>>)>,
    /// `expected`, `done` or `timeout`.
    pub status: String,
    /// Rising edges simulated after reset.
    pub edges: u64,
}

impl Trace {
    /// The model's trace of one run.
    pub fn expected(iface: &Interface, run: &dyn Traced) -> Trace {
        Trace {
            taken: run.input_traces().iter().map(|c| c.taken_at.clone()).collect(),
            outputs: run
                .output_beats()
                .iter()
                .map(|o| (o.cycle, split_lanes(&iface.output, &o.lanes)))
                .collect(),
            status: "expected".into(),
            edges: run.cycles(),
        }
    }

    /// Edges from the first beat to the last output, inclusive (the model's `cycles`).
    pub fn cycles(&self) -> u64 {
        self.outputs.last().map_or(0, |(e, _)| e + 1)
    }

    pub fn to_text(&self, iface: &Interface) -> String {
        let mut s = String::from("# accelc trace v1 (format: src/verify/format.rs)\n");
        for (ch, edges) in iface.inputs.iter().zip(&self.taken) {
            for (i, e) in edges.iter().enumerate() {
                writeln!(s, "taken {} {i} {e}", ch.name).unwrap();
            }
        }
        for (edge, fields) in &self.outputs {
            let words: Vec<String> =
                iface.output.fields.iter().zip(fields).map(|(f, l)| pack_field(f, l)).collect();
            writeln!(s, "out {edge} {}", words.join(" ")).unwrap();
        }
        writeln!(s, "end {} {}", self.status, self.edges).unwrap();
        s
    }

    pub fn parse(iface: &Interface, text: &str) -> Result<Trace> {
        let mut t = Trace { taken: vec![Vec::new(); iface.inputs.len()], ..Trace::default() };
        let mut ended = false;
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let ctx = || format!("line {}: {line:?}", no + 1);
            let (kind, rest) = line.split_once(' ').with_context(ctx)?;
            match kind {
                "taken" => {
                    let p: Vec<&str> = rest.split_whitespace().collect();
                    ensure!(p.len() == 3, "{}: want `taken CHANNEL BEAT EDGE`", ctx());
                    let ch = iface
                        .inputs
                        .iter()
                        .position(|c| c.name == p[0])
                        .with_context(|| format!("{}: no channel {}", ctx(), p[0]))?;
                    let (beat, edge): (usize, u64) =
                        (p[1].parse().with_context(ctx)?, p[2].parse().with_context(ctx)?);
                    ensure!(beat == t.taken[ch].len(), "{}: beats of a channel are listed in order", ctx());
                    t.taken[ch].push(edge);
                }
                "out" => {
                    let (edge, words) = rest.split_once(' ').unwrap_or((rest, ""));
                    let fields = parse_fields(&iface.output.fields, words).with_context(ctx)?;
                    t.outputs.push((edge.parse().with_context(ctx)?, fields));
                }
                "end" => {
                    let (status, edges) = rest.split_once(' ').with_context(ctx)?;
                    t.status = status.to_string();
                    t.edges = edges.trim().parse().with_context(ctx)?;
                    ended = true;
                }
                _ => bail!("{}: unknown record {kind:?}", ctx()),
            }
        }
        ensure!(ended, "trace has no `end` line (the testbench did not finish)");
        Ok(t)
    }
}

/// The model's output lanes (all fields' lanes concatenated) split per field.
pub fn split_lanes(ch: &Channel, lanes: &[i64]) -> Vec<Vec<i64>> {
    let total: usize = ch.fields.iter().map(|f| f.lanes).sum();
    assert_eq!(total, lanes.len(), "output beat has {} lanes, channel {} has {total}", lanes.len(), ch.name);
    let mut rest = lanes;
    ch.fields
        .iter()
        .map(|f| {
            let (head, tail) = rest.split_at(f.lanes);
            rest = tail;
            head.to_vec()
        })
        .collect()
}
