//! `cargo bench --bench sac` (`make bench-sac`): the measured MAC vs SAC (Tetris) comparison of issue 3.
//!
//! 1. Cycles, from the reference model, of every dense conv of PP-OCRv4 det (48) and MTCNN (12, plus its
//!    small fully connected heads reported separately) on an 8x8 output-stationary MAC array and on 8x8
//!    SAC arrays: 8 and 16 bits, KS 4/8/16, sign-magnitude and CSD, with 1 (lockstep), 2 (default) and 4
//!    buffered activation groups per row. GEMM per layer: M = 8 output pixels (one tile of array rows,
//!    random activations), K = in*kh*kw, N = out channels, weights quantized per layer. Cycles of both
//!    arrays depend on the weights and the shapes only, never on the activation values; and since M is
//!    one tile of rows, each further tile of M repeats the same folds, so the per-layer ratio holds for
//!    any M that is a multiple of 8 (up to the few edges of pipeline fill at the very start and end).
//!    Next to the measured speedup: the ideal per-group speedup of the kneading statistics
//!    (weights / kneaded words) and two bounds that explain the gap (`accelc::model::sac_array::SacBounds`).
//! 2. A sample of layers run model vs Verilator RTL on a tile (real weights, K cut to a few groups, one N
//!    tile), one SAC preset at 8 and one at 16 bits: outputs and cycle counts must match exactly; any
//!    mismatch ends the bench with a non-zero exit.
//! 3. Yosys generic synthesis (cached in rtl_out/.synth) of 8x8 MAC and SAC arrays: cells and the CMOS
//!    transistor estimate of the array, of one PE (the `<name>_pe` / `<name>_sac_unit` module), and speedup
//!    per area. `SAC_BENCH_SYNTH=cached` uses cached results only (skips what is not cached);
//!    `SAC_BENCH_SYNTH=0` skips area.
//!
//! Writes rtl_out/bench/sac.json and rtl_out/bench/sac.csv (`format_version` 1). Data come from the
//! crate's data/: data/weights/<net>/ (the layers the tests use) plus data/bench/weights/<net>/ (the rest
//! of the dense layers; see data/README.md).

use accelc::config::{Config, Params};
use accelc::interface::Interface;
use accelc::knead::{knead_matrix, Encoding, KneadParams, KneadStats};
use accelc::model::sac_array::{sac_bounds, SacBounds};
use accelc::model::{run_gemm, GemmRun, Matrix};
use accelc::rng::SplitMix64;
use accelc::rtl::{generate, Design};
use accelc::verify::check_run;
use accelc::verify::harness::{self, Limits};
use accelc::workload::{quantized_b_matrix, Layer, Op, WeightStore};
use anyhow::{bail, ensure, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const FORMAT_VERSION: u32 = 1;
const ROWS: usize = 8;
const COLS: usize = 8;
/// GEMM M: one tile of array rows.
const M: usize = ROWS;
const NETS: [&str; 2] = ["ppocrv4_det", "mtcnn"];
const BITS: [u32; 2] = [8, 16];
const KS: [usize; 3] = [4, 8, 16];
const ENCODINGS: [Encoding; 2] = [Encoding::SignMagnitude, Encoding::Csd];
/// act_buffer_groups: 1 = lockstep per group, 2 = the default, 4 and 8.
const RINGS: [usize; 4] = [1, 2, 4, 8];
/// The ring the headline speedup uses (the config default).
const HEADLINE_RING: usize = 2;
const SEED: u64 = 0x5AC_BE4C;

// ------------------------------------------------------------------------------------------------
// Configs
// ------------------------------------------------------------------------------------------------

fn enc_key(e: Encoding) -> &'static str {
    match e {
        Encoding::SignMagnitude => "sm",
        Encoding::Csd => "csd",
    }
}

/// The SAC config text. `act_buffer_groups` is written only when it is not the default (2), so that the
/// default configs are the same (and give the same Verilog, hence synthesis cache hits) as the presets.
fn sac_config(bits: u32, ks: usize, enc: Encoding, ring: usize) -> Config {
    let suffix = match ring {
        2 => String::new(),
        1 => "_lockstep".into(),
        r => format!("_ring{r}"),
    };
    let name = format!("sac_{ROWS}x{COLS}_i{bits}_ks{ks}_{}{suffix}", enc_key(enc));
    let ring_line = if ring == 2 { String::new() } else { format!("act_buffer_groups = {ring}\n") };
    let text = format!(
        "name = \"{name}\"\n\n[array]\nrows = {ROWS}\ncols = {COLS}\ndataflow = \"output_stationary\"\n{ring_line}\n\
         [pe]\nkind = \"sac\"\nweight_bits = {bits}\nact_bits = {bits}\nkneading_stride = {ks}\nencoding = \"{}\"\n",
        enc.name()
    );
    Config::parse(&name, &text).expect("bench SAC config is valid")
}

/// The MAC baseline: output-stationary, same widths and accumulator as the SAC config at `bits`.
fn mac_config(bits: u32) -> Config {
    let acc_bits = sac_config(bits, 16, Encoding::SignMagnitude, 2).params().acc_bits;
    // 16 bits: the same name and text as the lead's `mac_os_8x8_i16` (acc 44), so its synthesis is reused.
    let name = if bits == 16 {
        format!("mac_os_{ROWS}x{COLS}_i16")
    } else {
        format!("mac_os_{ROWS}x{COLS}_i{bits}_acc{acc_bits}")
    };
    let text = format!(
        "name = \"{name}\"\n\n[array]\nrows = {ROWS}\ncols = {COLS}\ndataflow = \"output_stationary\"\n\n\
         [pe]\nkind = \"mac\"\nweight_bits = {bits}\nact_bits = {bits}\nacc_bits = {acc_bits}\n"
    );
    Config::parse(&name, &text).expect("bench MAC config is valid")
}

// ------------------------------------------------------------------------------------------------
// Data
// ------------------------------------------------------------------------------------------------

/// The dense layers of `net`: data/weights/<net>/ plus data/bench/weights/<net>/, in network order.
fn dense_layers(net: &str) -> Result<Vec<Layer>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut layers = WeightStore::new(&data).load_network(net)?;
    let extra = WeightStore::new(data.join("bench"));
    if extra.manifest_path(net).is_file() {
        layers.extend(extra.load_network(net)?);
    }
    layers.retain(|l| !l.depthwise && matches!(l.op, Op::Conv | Op::Dense));
    layers.sort_by_key(|l| l.index);
    let before = layers.len();
    layers.dedup_by_key(|l| l.index);
    ensure!(layers.len() == before, "{net}: a layer is in both data/weights and data/bench/weights");
    Ok(layers)
}

fn kind(l: &Layer) -> &'static str {
    match l.op {
        Op::Dense => "fc",
        _ => "conv",
    }
}

fn random_acts(m: usize, k: usize, bits: u32, rng: &mut SplitMix64) -> Matrix {
    let (lo, hi) = accelc::bits::signed_range(bits);
    Matrix::from_shape_fn((m, k), |_| rng.range_i64(lo, hi))
}

// ------------------------------------------------------------------------------------------------
// Cycles
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Row {
    net: String,
    index: usize,
    layer: String,
    kind: String,
    k: usize,
    n: usize,
    bits: u32,
    encoding: String,
    ks: usize,
    mac_cycles: u64,
    /// SAC cycles per ring size (RINGS order).
    sac_cycles: Vec<u64>,
    /// MAC / SAC per ring size.
    speedup: Vec<f64>,
    weights: u64,
    words: u64,
    zero_groups: u64,
    groups: u64,
    ideal_speedup: f64,
    bounds: SacBounds,
}

/// Sums of rows (one network, one kind of layer, one configuration).
#[derive(Debug, Clone, Serialize)]
struct Total {
    net: String,
    kind: String,
    layers: usize,
    bits: u32,
    encoding: String,
    ks: usize,
    mac_cycles: u64,
    sac_cycles: Vec<u64>,
    speedup: Vec<f64>,
    weights: u64,
    words: u64,
    ideal_speedup: f64,
    bounds: SacBounds,
    /// weights / (words + one beat per all-zero group): the per-group ideal with the array's empty beats.
    beat_ideal_speedup: f64,
    /// MAC cycles / the column bound: about the best a SAC with an unlimited ring could reach here.
    bound_speedup: f64,
}

fn speedups(mac: u64, sac: &[u64]) -> Vec<f64> {
    sac.iter().map(|&s| mac as f64 / s as f64).collect()
}

fn measure_layer(net: &str, l: &Layer, bits: u32, rng: &mut SplitMix64, rows: &mut Vec<Row>) -> Result<()> {
    let (b, _) = quantized_b_matrix(l, bits);
    let (k, n) = b.dim();
    let a = random_acts(M, k, bits, rng);
    let mac = run_gemm(&mac_config(bits).params(), &a, &b);
    for enc in ENCODINGS {
        for ks in KS {
            let kp = KneadParams::new(bits, ks, enc)?;
            let km = knead_matrix(b.view(), &kp)?;
            let stats = KneadStats::measure(b.view(), &km);
            let mut sac_cycles = Vec::new();
            for ring in RINGS {
                let p = sac_config(bits, ks, enc, ring).params();
                let run = run_gemm(&p, &a, &b);
                // Both arrays compute the same product (same acc_bits): a cheap end-to-end check.
                ensure!(run.c == mac.c, "{net} {}: SAC ({}) and MAC results differ", l.name, p.name);
                sac_cycles.push(run.cycles);
            }
            rows.push(Row {
                net: net.into(),
                index: l.index,
                layer: l.name.clone(),
                kind: kind(l).into(),
                k,
                n,
                bits,
                encoding: enc.name().into(),
                ks,
                mac_cycles: mac.cycles,
                speedup: speedups(mac.cycles, &sac_cycles),
                sac_cycles,
                weights: stats.weights,
                words: stats.words,
                zero_groups: stats.zero_groups,
                groups: stats.groups,
                ideal_speedup: stats.ideal_speedup().unwrap_or(f64::NAN),
                bounds: sac_bounds(&km, COLS),
            });
        }
    }
    Ok(())
}

fn totals(rows: &[Row]) -> Vec<Total> {
    let mut map: BTreeMap<(String, String, u32, String, usize), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        map.entry((r.net.clone(), r.kind.clone(), r.bits, r.encoding.clone(), r.ks)).or_default().push(r);
    }
    let mut out: Vec<Total> = map
        .into_iter()
        .map(|((net, kind, bits, encoding, ks), rs)| {
            let mac: u64 = rs.iter().map(|r| r.mac_cycles).sum();
            let sac: Vec<u64> = (0..RINGS.len()).map(|i| rs.iter().map(|r| r.sac_cycles[i]).sum()).collect();
            let weights: u64 = rs.iter().map(|r| r.weights).sum();
            let words: u64 = rs.iter().map(|r| r.words).sum();
            let bounds: SacBounds = rs.iter().map(|r| r.bounds).sum();
            Total {
                net,
                kind,
                layers: rs.len(),
                bits,
                encoding,
                ks,
                mac_cycles: mac,
                speedup: speedups(mac, &sac),
                sac_cycles: sac,
                weights,
                words,
                ideal_speedup: weights as f64 / words as f64,
                beat_ideal_speedup: weights as f64 / (words + bounds.zero_group_beats) as f64,
                bound_speedup: mac as f64 / bounds.column as f64,
                bounds,
            }
        })
        .collect();
    // Network order as in NETS, convs before fc.
    out.sort_by_key(|t| {
        (NETS.iter().position(|n| *n == t.net), t.kind != "conv", t.bits, t.encoding.clone(), t.ks)
    });
    out
}

fn ring_header() -> String {
    RINGS.iter().map(|r| format!("{:>9}", format!("sac g{r}"))).collect::<String>()
        + &RINGS.iter().map(|r| format!("{:>7}", format!("x g{r}"))).collect::<String>()
}

fn print_totals(totals: &[Total]) {
    println!(
        "\n== Network totals (sum of cycles over layers); 8x8 arrays, M = 8; gN = act_buffer_groups N \
         (g1 = lockstep)"
    );
    println!(
        "{:<12} {:<4} {:>3} {:>4} {:<14} {:>3} {:>10}{} {:>7} {:>7} {:>7}",
        "net",
        "kind",
        "lay",
        "bits",
        "encoding",
        "KS",
        "mac",
        ring_header(),
        "ideal",
        "ideal0",
        "bound"
    );
    for t in totals {
        println!(
            "{:<12} {:<4} {:>3} {:>4} {:<14} {:>3} {:>10}{}{} {:>7.3} {:>7.3} {:>7.3}",
            t.net,
            t.kind,
            t.layers,
            t.bits,
            t.encoding,
            t.ks,
            t.mac_cycles,
            t.sac_cycles.iter().map(|c| format!("{c:>9}")).collect::<String>(),
            t.speedup.iter().map(|s| format!("{s:>7.3}")).collect::<String>(),
            t.ideal_speedup,
            t.beat_ideal_speedup,
            t.bound_speedup
        );
    }
    println!(
        "x gN = MAC / SAC cycles; ideal = weights / kneaded words (the per-group ideal: an all-zero group costs 0);\n\
         ideal0 = the same with the one empty beat the array spends on an all-zero group;\n\
         bound = MAC / (the busiest array column's beats over all folds): about the best any ring depth can reach"
    );
}

fn print_layers(rows: &[Row], bits: u32, enc: Encoding, ks: usize) {
    println!("\n== Per layer: {bits}-bit {} KS={ks}", enc.name());
    println!(
        "{:<12} {:>3} {:<22} {:>5} {:>4} {:>8}{} {:>7} {:>7} {:>6}",
        "net",
        "idx",
        "layer",
        "K",
        "N",
        "mac",
        ring_header(),
        "ideal",
        "bound",
        "zerog"
    );
    for r in rows.iter().filter(|r| r.bits == bits && r.encoding == enc.name() && r.ks == ks) {
        println!(
            "{:<12} {:>3} {:<22} {:>5} {:>4} {:>8}{}{} {:>7.3} {:>7.3} {:>6}",
            r.net,
            r.index,
            format!("{} ({})", r.layer, r.kind),
            r.k,
            r.n,
            r.mac_cycles,
            r.sac_cycles.iter().map(|c| format!("{c:>9}")).collect::<String>(),
            r.speedup.iter().map(|s| format!("{s:>7.3}")).collect::<String>(),
            r.ideal_speedup,
            r.mac_cycles as f64 / r.bounds.column as f64,
            r.zero_groups
        );
    }
}

// ------------------------------------------------------------------------------------------------
// RTL cross-check
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct RtlCheck {
    config: String,
    net: String,
    layer: String,
    m: usize,
    k: usize,
    n: usize,
    model_cycles: u64,
    rtl_cycles: u64,
    outputs: usize,
    equal: bool,
}

/// Runs `run` (the model's) through Verilator; returns the RTL's cycles. Errors on any difference.
fn rtl_run(p: &Params, design: &Design, run: &GemmRun, work: &Path, tag: &str) -> Result<u64> {
    let iface = Interface::of(p);
    let (tb, _) = harness::build(p, design, &iface, &PathBuf::from("rtl_out/.build"))?;
    let checked =
        check_run(&tb, &iface, run, Limits::for_run(p, run.cycles), &work.join(format!("sac-{tag}")), None)?;
    checked.ensure_passed(tag)?;
    Ok(checked.cycles_rtl())
}

fn rtl_checks(layers: &BTreeMap<&str, Vec<Layer>>, work: &Path) -> Result<Vec<RtlCheck>> {
    // (bits, KS, encoding): one SAC preset at 8 and one at 16 bits (configs/sac_8x8_*.toml).
    let configs = [(8u32, 8usize, Encoding::Csd), (16, 16, Encoding::SignMagnitude)];
    // Small-K layers: two 1x1 convs and a 3x3 stem.
    let picks = [("ppocrv4_det", "p2o.Conv.2"), ("mtcnn", "pnet.conv4-1"), ("ppocrv4_det", "p2o.Conv.0")];
    println!("\n== Model vs Verilator RTL on tiles of real layers (M = 8 random activations, K cut to <= 4 groups, one N tile)");
    println!(
        "{:<22} {:<12} {:<14} {:>9} {:>13} {:>11} {:>8}",
        "config", "net", "layer", "M x K x N", "model cycles", "rtl cycles", "outputs"
    );
    let mut out = Vec::new();
    let mut rng = SplitMix64::new(SEED ^ 0x77);
    for (bits, ks, enc) in configs {
        let cfg = sac_config(bits, ks, enc, 2);
        let p = cfg.params();
        let design = generate(&cfg)?;
        for (net, name) in picks {
            let l =
                layers[net].iter().find(|l| l.name == name).with_context(|| format!("{net}: no {name}"))?;
            let (b, _) = quantized_b_matrix(l, bits);
            let (k, n) = (b.nrows().min(4 * ks), b.ncols().min(COLS));
            let b = b.slice(ndarray::s![..k, ..n]).to_owned();
            let a = random_acts(M, k, bits, &mut rng);
            let run = run_gemm(&p, &a, &b);
            let tag = format!("{}-{}", p.name, name.replace('.', "_"));
            let rtl_cycles = rtl_run(&p, &design, &run, work, &tag)?;
            println!(
                "{:<22} {:<12} {:<14} {:>9} {:>13} {:>11} {:>8}   RTL cycles = model cycles",
                p.name,
                net,
                name,
                format!("{M}x{k}x{n}"),
                run.cycles,
                rtl_cycles,
                run.outputs.len()
            );
            out.push(RtlCheck {
                config: p.name.clone(),
                net: net.into(),
                layer: name.into(),
                m: M,
                k,
                n,
                model_cycles: run.cycles,
                rtl_cycles,
                outputs: run.outputs.len(),
                equal: true,
            });
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// Area
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Area {
    config: String,
    kind: String,
    bits: u32,
    /// SAC only: encoding, KS and act_buffer_groups ("" / 0 for MAC).
    encoding: String,
    ks: usize,
    ring: usize,
    /// The whole 8x8 array.
    cells: u64,
    transistors: u64,
    transistors_exact: bool,
    flip_flops: u64,
    /// The PE module alone: `<name>_pe` (MAC) or `<name>_sac_unit` (SAC), through its hierarchy.
    pe_module: String,
    pe_cells: u64,
    pe_transistors: u64,
    pe_flip_flops: u64,
    cached: bool,
    seconds: f64,
}

enum SynthMode {
    Run,
    CachedOnly,
    Skip,
}

fn synth_one(cfg: &Config, mode: &SynthMode) -> Result<Option<Area>> {
    let p = cfg.params();
    let design = generate(cfg)?;
    let dir = PathBuf::from("rtl_out/bench/synth").join(&cfg.name);
    design.write_dir(&dir)?;
    let sources: Vec<(String, String)> =
        design.files.iter().filter(|(name, _)| name.ends_with(".v")).cloned().collect();
    let cache = PathBuf::from(accelc::synth::DEFAULT_CACHE_DIR);
    let start = Instant::now();
    let ran = std::cell::Cell::new(false);
    let progress = || {
        ran.set(true);
        eprintln!("synth {}: running yosys generic synthesis (not cached; may take minutes)...", cfg.name)
    };
    if let SynthMode::CachedOnly = mode {
        // A cache hit never calls `on_run`; a miss is skipped by failing from inside it is not possible,
        // so look the entry up first.
        let files: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
        let version = accelc::tools::yosys::version()?;
        let script = accelc::tools::yosys::synth_script_for_key(&files, &design.top)?;
        let key = accelc::synth::cache_key(&sources, &version, &script);
        if !cache.join(format!("{key}.json")).is_file() {
            println!("  {}: not cached, skipped (SAC_BENCH_SYNTH=cached)", cfg.name);
            return Ok(None);
        }
    }
    let s = accelc::synth::synthesize(&dir, &design.top, &sources, Some(&cache), &progress)?;
    let seconds = start.elapsed().as_secs_f64();
    let pe_module = accelc::ir::ModuleNames::of(&p).pe();
    let pe =
        s.report.modules.get(&pe_module).with_context(|| format!("no module {pe_module} in the report"))?;
    Ok(Some(Area {
        config: cfg.name.clone(),
        kind: format!("{:?}", p.kind).to_lowercase(),
        bits: p.weight_bits,
        encoding: p.sac.as_ref().map(|s| s.encoding.knead().name().to_string()).unwrap_or_default(),
        ks: p.sac.as_ref().map_or(0, |s| s.ks),
        ring: p.sac.as_ref().map_or(0, |s| s.act_groups),
        cells: s.report.cells,
        transistors: s.report.transistors,
        transistors_exact: s.report.transistors_exact,
        flip_flops: s.report.flip_flops,
        pe_module,
        pe_cells: pe.hier_cells,
        pe_transistors: pe.hier_transistors,
        pe_flip_flops: pe.hier_flip_flops,
        cached: s.cached && !ran.get(),
        seconds,
    }))
}

fn areas(mode: &SynthMode) -> Result<Vec<Area>> {
    if let SynthMode::Skip = mode {
        println!("\n== Area: skipped (SAC_BENCH_SYNTH=0)");
        return Ok(Vec::new());
    }
    println!("\n== Area: Yosys generic synthesis of 8x8 arrays (cache rtl_out/.synth)");
    let cfgs = [
        mac_config(16),
        sac_config(16, 16, Encoding::SignMagnitude, 2),
        sac_config(16, 16, Encoding::Csd, 2),
        sac_config(16, 16, Encoding::SignMagnitude, 1),
        sac_config(16, 16, Encoding::SignMagnitude, 4),
        sac_config(16, 16, Encoding::SignMagnitude, 8),
        mac_config(8),
        sac_config(8, 16, Encoding::SignMagnitude, 2),
        sac_config(8, 16, Encoding::Csd, 2),
        sac_config(8, 16, Encoding::Csd, 1),
        sac_config(8, 16, Encoding::Csd, 4),
        sac_config(8, 16, Encoding::Csd, 8),
    ];
    let mut out = Vec::new();
    println!(
        "{:<30} {:>10} {:>12} {:>8} {:>9} {:>12} {:>7} {:>8}",
        "config", "cells", "transistors", "FFs", "PE cells", "PE transist", "PE FFs", "synth s"
    );
    for cfg in &cfgs {
        match synth_one(cfg, mode) {
            Ok(Some(a)) => {
                println!(
                    "{:<30} {:>10} {:>12} {:>8} {:>9} {:>12} {:>7} {:>8}",
                    a.config,
                    a.cells,
                    format!("{}{}", a.transistors, if a.transistors_exact { "" } else { "+" }),
                    a.flip_flops,
                    a.pe_cells,
                    a.pe_transistors,
                    a.pe_flip_flops,
                    if a.cached { "cached".to_string() } else { format!("{:.1}", a.seconds) }
                );
                out.push(a);
            }
            Ok(None) => {}
            Err(e) => println!("  {}: synthesis failed or Yosys missing, area skipped: {e:#}", cfg.name),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
struct PerArea {
    config: String,
    net: String,
    bits: u32,
    encoding: String,
    ks: usize,
    ring: usize,
    /// MAC array transistors / SAC array transistors (same bits, 8x8).
    area_ratio: f64,
    speedup: f64,
    speedup_per_area: f64,
}

fn per_area(ts: &[Total], areas: &[Area]) -> Vec<PerArea> {
    let mut out = Vec::new();
    for a in areas.iter().filter(|a| a.kind == "sac") {
        let Some(mac) = areas.iter().find(|m| m.kind == "mac" && m.bits == a.bits) else { continue };
        let Some(ri) = RINGS.iter().position(|&r| r == a.ring) else { continue };
        for net in NETS {
            let Some(t) = ts.iter().find(|t| {
                t.net == net
                    && t.kind == "conv"
                    && t.bits == a.bits
                    && t.encoding == a.encoding
                    && t.ks == a.ks
            }) else {
                continue;
            };
            let area_ratio = mac.transistors as f64 / a.transistors as f64;
            out.push(PerArea {
                config: a.config.clone(),
                net: net.into(),
                bits: a.bits,
                encoding: a.encoding.clone(),
                ks: a.ks,
                ring: a.ring,
                area_ratio,
                speedup: t.speedup[ri],
                speedup_per_area: area_ratio * t.speedup[ri],
            });
        }
    }
    out
}

fn print_per_area(rows: &[PerArea]) {
    if rows.is_empty() {
        return;
    }
    println!("\n== Speedup per unit area vs the MAC array (8x8, dense convs; area = Yosys CMOS transistor estimate)");
    println!(
        "{:<30} {:<12} {:>12} {:>9} {:>14}",
        "SAC config", "net", "MAC/SAC area", "speedup", "speedup/area"
    );
    for r in rows {
        println!(
            "{:<30} {:<12} {:>12.3} {:>9.3} {:>14.3}",
            r.config, r.net, r.area_ratio, r.speedup, r.speedup_per_area
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Targets
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct Target {
    what: String,
    target: f64,
    measured: f64,
    met: bool,
    note: String,
}

fn total<'a>(ts: &'a [Total], net: &str, bits: u32, enc: Encoding, ks: usize) -> Option<&'a Total> {
    ts.iter().find(|t| {
        t.net == net && t.kind == "conv" && t.bits == bits && t.encoding == enc.name() && t.ks == ks
    })
}

fn ring_index(ring: usize) -> usize {
    RINGS.iter().position(|&r| r == ring).expect("a measured ring")
}

fn targets(ts: &[Total], areas: &[Area]) -> Vec<Target> {
    let h = ring_index(HEADLINE_RING);
    let best = ring_index(*RINGS.last().unwrap());
    let mut out = Vec::new();
    for (bits, enc, goal) in
        [(16u32, Encoding::SignMagnitude, 1.45), (16, Encoding::Csd, 1.75), (8, Encoding::Csd, 1.9)]
    {
        if let Some(t) = total(ts, "ppocrv4_det", bits, enc, 16) {
            out.push(Target {
                what: format!("PP-OCRv4 dense convs, {bits}-bit {}, KS=16: SAC/MAC cycles", enc.name()),
                target: goal,
                measured: t.speedup[h],
                met: t.speedup[h] >= goal,
                note: format!(
                    "act_buffer_groups = {HEADLINE_RING}; lockstep {:.3}, 4 groups {:.3}, {} groups {:.3}; \
                     per-group ideal {:.3}, with empty beats for all-zero groups {:.3}; column bound {:.3}",
                    t.speedup[0],
                    t.speedup[ring_index(4)],
                    RINGS[best],
                    t.speedup[best],
                    t.ideal_speedup,
                    t.beat_ideal_speedup,
                    t.bound_speedup
                ),
            });
        }
    }
    let find = |name: String| areas.iter().find(|a| a.config == name);
    for enc in ENCODINGS {
        let (mac, sac) = (find(mac_config(16).name), find(sac_config(16, 16, enc, 2).name));
        if let (Some(mac), Some(sac), Some(t)) = (mac, sac, total(ts, "ppocrv4_det", 16, enc, 16)) {
            let ratio = mac.transistors as f64 / sac.transistors as f64;
            let per_area = ratio * t.speedup[h];
            out.push(Target {
                what: format!(
                    "16-bit {} KS=16 8x8 array: speedup per unit area vs MAC (PP-OCRv4 dense convs)",
                    enc.name()
                ),
                target: 1.3,
                measured: per_area,
                met: per_area >= 1.3,
                note: format!(
                    "MAC/SAC array transistors {} / {} = {ratio:.3} (cells {:.3}); x speedup {:.3}; \
                     PE alone: {} / {} transistors = {:.3}",
                    mac.transistors,
                    sac.transistors,
                    mac.cells as f64 / sac.cells as f64,
                    t.speedup[h],
                    mac.pe_transistors,
                    sac.pe_transistors,
                    mac.pe_transistors as f64 / sac.pe_transistors as f64
                ),
            });
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Output
// ------------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct Report<'a> {
    format_version: u32,
    bench: &'static str,
    command: &'static str,
    array: [usize; 2],
    m: usize,
    activations: String,
    rings: Vec<usize>,
    headline_ring: usize,
    mac: &'static str,
    rows: &'a [Row],
    totals: &'a [Total],
    rtl_checks: &'a [RtlCheck],
    area: &'a [Area],
    speedup_per_area: &'a [PerArea],
    targets: &'a [Target],
    model_seconds: f64,
    wall_seconds: f64,
}

fn csv(rows: &[Row], totals: &[Total]) -> String {
    let mut s =
        format!("# format_version={FORMAT_VERSION}\nnet,index,layer,kind,k,n,bits,encoding,ks,mac_cycles");
    for r in RINGS {
        s.push_str(&format!(",sac_cycles_g{r}"));
    }
    for r in RINGS {
        s.push_str(&format!(",speedup_g{r}"));
    }
    s.push_str(",weights,words,ideal_speedup,bound_lockstep,bound_column,zero_group_beats\n");
    let line = |s: &mut String,
                head: String,
                mac: u64,
                sac: &[u64],
                sp: &[f64],
                w: u64,
                wd: u64,
                id: f64,
                b: &SacBounds| {
        s.push_str(&head);
        s.push_str(&format!(",{mac}"));
        sac.iter().for_each(|c| s.push_str(&format!(",{c}")));
        sp.iter().for_each(|x| s.push_str(&format!(",{x:.4}")));
        s.push_str(&format!(",{w},{wd},{id:.4},{},{},{}\n", b.lockstep, b.column, b.zero_group_beats));
    };
    for r in rows {
        let head = format!(
            "{},{},{},{},{},{},{},{},{}",
            r.net, r.index, r.layer, r.kind, r.k, r.n, r.bits, r.encoding, r.ks
        );
        line(
            &mut s,
            head,
            r.mac_cycles,
            &r.sac_cycles,
            &r.speedup,
            r.weights,
            r.words,
            r.ideal_speedup,
            &r.bounds,
        );
    }
    for t in totals {
        let head = format!("{},,TOTAL,{},,,{},{},{}", t.net, t.kind, t.bits, t.encoding, t.ks);
        line(
            &mut s,
            head,
            t.mac_cycles,
            &t.sac_cycles,
            &t.speedup,
            t.weights,
            t.words,
            t.ideal_speedup,
            &t.bounds,
        );
    }
    s
}

fn run() -> Result<bool> {
    let wall = Instant::now();
    let work = PathBuf::from("rtl_out/bench");
    std::fs::create_dir_all(&work)?;
    let synth_mode = match std::env::var("SAC_BENCH_SYNTH").as_deref() {
        Ok("0") => SynthMode::Skip,
        Ok("cached") => SynthMode::CachedOnly,
        Ok("" | "1") | Err(_) => SynthMode::Run,
        Ok(v) => bail!("SAC_BENCH_SYNTH={v:?}: expected 0, cached or 1"),
    };

    let mut layers = BTreeMap::new();
    for net in NETS {
        layers.insert(net, dense_layers(net)?);
    }
    println!(
        "== MAC vs SAC (Tetris) on real layers: 8x8 output-stationary arrays, GEMM per layer M = {M} \
         (one tile of rows, random activations), K = in*kh*kw, N = out, weights quantized per layer"
    );
    for net in NETS {
        let ls = &layers[net];
        let convs = ls.iter().filter(|l| kind(l) == "conv").count();
        println!("  {net}: {convs} dense convs, {} fully connected (reported separately)", ls.len() - convs);
    }

    let model_start = Instant::now();
    let mut rows = Vec::new();
    let mut rng = SplitMix64::new(SEED);
    for net in NETS {
        let t = Instant::now();
        for bits in BITS {
            for l in &layers[net] {
                measure_layer(net, l, bits, &mut rng, &mut rows)?;
            }
        }
        eprintln!("model: {net} done in {:.1} s", t.elapsed().as_secs_f64());
    }
    let model_seconds = model_start.elapsed().as_secs_f64();
    let totals = totals(&rows);
    print_layers(&rows, 16, Encoding::SignMagnitude, 16);
    print_layers(&rows, 8, Encoding::Csd, 16);
    print_totals(&totals);
    println!(
        "model runs: {} MAC + {} SAC GEMMs in {model_seconds:.1} s",
        rows.len() / (ENCODINGS.len() * KS.len()),
        rows.len() * RINGS.len()
    );

    let checks = rtl_checks(&layers, &work)?;
    let area = areas(&synth_mode)?;
    let per_area = per_area(&totals, &area);
    print_per_area(&per_area);
    let targets = targets(&totals, &area);
    println!("\n== Targets (issue 3)");
    for t in &targets {
        println!(
            "  [{}] {}: {:.3} (target >= {:.2})\n        {}",
            if t.met { "met   " } else { "MISSED" },
            t.what,
            t.measured,
            t.target,
            t.note
        );
    }

    let wall_seconds = wall.elapsed().as_secs_f64();
    let report = Report {
        format_version: FORMAT_VERSION,
        bench: "sac",
        command: "cargo bench --bench sac",
        array: [ROWS, COLS],
        m: M,
        activations: format!("uniform random act_bits values, SplitMix64 seed {SEED:#x}"),
        rings: RINGS.to_vec(),
        headline_ring: HEADLINE_RING,
        mac: "kind = mac, output_stationary, same weight/act/acc bits as the SAC config",
        rows: &rows,
        totals: &totals,
        rtl_checks: &checks,
        area: &area,
        speedup_per_area: &per_area,
        targets: &targets,
        model_seconds,
        wall_seconds,
    };
    let json = work.join("sac.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")?;
    let csv_path = work.join("sac.csv");
    std::fs::write(&csv_path, csv(&rows, &totals))?;
    println!("\nwrote {} and {}; wall time {wall_seconds:.1} s", json.display(), csv_path.display());
    Ok(true)
}

fn main() -> ExitCode {
    match run() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench sac FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}
