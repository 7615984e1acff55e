//! `accelc knead WEIGHTS.npy --bits B --ks KS [--csd] [-o OUT]`: quantize a layer's float32 weights, knead
//! its B matrix, check the packed stream against the quantized weights, and write the stream and a report.

use super::group::knead_matrix;
use super::pack::{check_stream, KneadedStream};
use super::stats::KneadStats;
use super::{Encoding, KneadParams};
use crate::error::BadInput;
use crate::workload::{quantized_b_matrix, Layer, Op};
use anyhow::{Context, Result};
use clap::Args;
use ndarray::{ArrayD, Ix4};
use ndarray_npy::ReadNpyExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where `accelc knead` writes unless told otherwise: `rtl_out/knead/<stem of WEIGHTS>/`.
pub const DEFAULT_OUT_ROOT: &str = "rtl_out/knead";

#[derive(Args, Debug, Clone)]
pub struct KneadArgs {
    /// Float32 weights (.npy): a conv kernel OIHW (out, in, kh, kw) or a fully connected (out, in)
    pub weights: PathBuf,
    /// Quantized weight width, sign included (2..=16); per-layer symmetric, round half away from zero
    #[arg(long, default_value_t = 16)]
    pub bits: u32,
    /// Kneading stride KS: weights per group along the reduction axis (1..=64)
    #[arg(long, default_value_t = 16)]
    pub ks: usize,
    /// Canonical-signed-digit recoding before kneading (default: sign-magnitude, as in Tetris)
    #[arg(long)]
    pub csd: bool,
    /// Output folder (replaced atomically); default rtl_out/knead/<stem of WEIGHTS>
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// What a knead run produced.
#[derive(Debug, Clone)]
pub struct KneadOutput {
    pub out_dir: PathBuf,
    pub stats: KneadStats,
    pub report: serde_json::Value,
    pub summary: String,
}

pub fn main(args: &KneadArgs) -> Result<ExitCode> {
    let out = run(args)?;
    print!("{}", out.summary);
    Ok(ExitCode::SUCCESS)
}

fn bad(msg: String) -> anyhow::Error {
    BadInput(msg).into()
}

/// Reads a float32 OIHW / OI `.npy` as a [`Layer`] (a plain file carries no stride, pads or groups: the
/// layer is taken as ungrouped, which is all the B matrix needs). Every problem is [`BadInput`].
pub fn read_weights(path: &Path) -> Result<Layer> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| bad(format!("{shown}: cannot read: {e}")))?;
    let raw = ArrayD::<f32>::read_npy(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("{shown}: not a float32 .npy file: {e}")))?;
    let (op, shape) = match raw.shape() {
        &[o, i] => (Op::Dense, [o, i, 1, 1]),
        &[o, i, kh, kw] => (Op::Conv, [o, i, kh, kw]),
        s => {
            return Err(bad(format!(
                "{shown}: shape {s:?}: weights must be 4-D OIHW (conv) or 2-D (out, in) (fully connected)"
            )))
        }
    };
    if shape.contains(&0) {
        return Err(bad(format!("{shown}: shape {:?} has an empty axis", raw.shape())));
    }
    if let Some((i, v)) = raw.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(bad(format!("{shown}: element {i} is not finite ({v})")));
    }
    let weights = raw
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(shape)
        .expect("element count unchanged")
        .into_dimensionality::<Ix4>()
        .expect("4-D");
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "weights".into());
    Ok(Layer {
        network: String::new(),
        index: 0,
        name,
        op,
        shape,
        stride: [1, 1],
        pads: [0; 4],
        groups: 1,
        depthwise: false,
        bn_folded: false,
        weights,
        bias: None,
        file: path.to_path_buf(),
    })
}

/// The whole command without printing: validate, read, quantize, knead, self-check, write.
pub fn run(args: &KneadArgs) -> Result<KneadOutput> {
    let encoding = if args.csd { Encoding::Csd } else { Encoding::SignMagnitude };
    let params = KneadParams::new(args.bits, args.ks, encoding).map_err(|e| bad(e.to_string()))?;
    let layer = read_weights(&args.weights)?;
    let bytes =
        std::fs::read(&args.weights).with_context(|| format!("reading {}", args.weights.display()))?;
    let sha = format!("{:x}", Sha256::digest(&bytes));

    let (b, scale) = quantized_b_matrix(&layer, params.bits);
    let m = knead_matrix(b.view(), &params).context("kneading the quantized weights")?;
    let stats = KneadStats::measure(b.view(), &m);
    let stream = KneadedStream::from_matrix(&m).context("packing the kneaded words")?;
    // The compiler checks its own output: the packed stream must un-knead to the quantized weights.
    check_stream(&stream, b.view()).context("self-check of the kneaded stream")?;
    let layout = params.layout();

    let out_dir = args.out.clone().unwrap_or_else(|| Path::new(DEFAULT_OUT_ROOT).join(&layer.name));
    let file_name = args.weights.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let report = serde_json::json!({
        "format_version": crate::config::FORMAT_VERSION,
        "kind": "knead",
        "source": { "file": file_name, "sha256": sha },
        "shape": layer.weights.shape().iter().take(if layer.op == Op::Dense { 2 } else { 4 }).collect::<Vec<_>>(),
        "layout": if layer.op == Op::Dense { "OI" } else { "OIHW" },
        "k": m.k,
        "n": m.n,
        "bits": params.bits,
        "ks": params.ks,
        "encoding": params.encoding,
        "quantization": {
            "scheme": "per-layer symmetric, q = clamp(round_half_away_from_zero(w / scale), -qmax, qmax)",
            "scale": scale,
            "qmax": params.qmax(),
        },
        "digit_positions": params.positions(),
        "slot_layout": layout,
        "groups_per_column": m.groups_per_column(),
        "stats": stats.to_json(),
        "column_words": m.column_words(),
        "files": {
            "words": "words.npy",
            "group_offsets": "group_offsets.npy",
            "weights_q": "weights_q.npy",
        },
    });

    let staged = |dir: &Path| -> Result<()> {
        ndarray_npy::write_npy(dir.join("words.npy"), &stream.words_array()).context("writing words.npy")?;
        ndarray_npy::write_npy(dir.join("group_offsets.npy"), &stream.offsets_array())
            .context("writing group_offsets.npy")?;
        ndarray_npy::write_npy(dir.join("weights_q.npy"), &b).context("writing weights_q.npy")?;
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        std::fs::write(dir.join("report.json"), text).context("writing report.json")?;
        Ok(())
    };
    crate::fsutil::write_dir_atomic(&out_dir, staged)?;

    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let mut summary = format!(
        "knead {file_name}: {} {} -> B {} x {} (K x N), {}-bit {}, KS {}\n",
        if layer.op == Op::Dense { "fc" } else { "conv" },
        report["shape"]
            .as_array()
            .map(|a| a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("x"))
            .unwrap_or_default(),
        m.k,
        m.n,
        params.bits,
        params.encoding,
        params.ks
    );
    summary += &format!(
        "  weights {}: zero values {}, zero bits {} (sign-magnitude), zero digits {} ({}, {} positions)\n",
        stats.weights,
        pct(stats.zero_value_fraction()),
        pct(stats.zero_bit_fraction()),
        pct(stats.zero_digit_fraction()),
        params.encoding,
        params.positions()
    );
    summary += &format!(
        "  groups {} ({} all-zero, taking 0 words), kneaded words {}, ideal speedup {}\n",
        stats.groups,
        stats.zero_groups,
        stats.words,
        stats.ideal_speedup().map_or("n/a (no words)".to_string(), |s| format!("{s:.3}x")),
    );
    summary += &format!(
        "  stream: {} words x {} bits ({} slots x {} bits), self-check OK -> {}\n",
        stats.words,
        layout.word_bits,
        layout.positions,
        layout.slot_bits,
        out_dir.display()
    );
    Ok(KneadOutput { out_dir, stats, report, summary })
}
