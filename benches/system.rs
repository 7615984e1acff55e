//! `make bench` (system): whole real conv layers (trained PP-OCRv4 and MTCNN kernels, quantized per
//! layer to int8) on the system presets, sent as the host would (row bands and output-channel groups
//! that fit the banks, `system::plan`), at full stream speed: cycles from the START write to the last
//! result beat (the CYCLES register), MACs per PE per cycle including loads and stores, bytes moved
//! per MAC. Figures come from the system model, which is bit- and cycle-exact against the RTL
//! (`make verify`); the smallest layer of each preset is also run in Verilator here and its cycles
//! compared. The SAC presets (Tetris split-and-accumulate over kneaded weights) skip the weights' zero
//! bits, so their MACs per PE per cycle can exceed 1; their bound is the larger of the fetcher's R
//! activation reads per kneading group and the busiest column's kneaded words, per pixel tile.
//! Writes rtl_out/bench/system.json and .csv.

use accelc::config::Config;
use accelc::model::system::run;
use accelc::rng::SplitMix64;
use accelc::system::cases::{self, Geometry, Pacing};
use accelc::system::layout::ConvJob;
use accelc::system::plan::plan_layer;
use accelc::system::SystemParams;
use accelc::verify::system::{build, check_case, SystemCase};
use accelc::workload::{quantize_symmetric, shipped_layers, Op};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::PathBuf;

/// Input feature maps are MAP x MAP.
const MAP: usize = 32;

#[derive(Serialize)]
struct Row {
    preset: String,
    layer: String,
    shape: String,
    reduction_k: usize,
    jobs: usize,
    macs: u64,
    cycles: u64,
    macs_per_pe_cycle: f64,
    compute_bound: f64,
    bytes_in: u64,
    bytes_out: u64,
    bytes_per_mac: f64,
}

fn preset(name: &str) -> Result<(Config, SystemParams)> {
    let path = PathBuf::from("configs").join(format!("{name}.toml"));
    let config = Config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sp = SystemParams::of(&config).context("a system preset")?;
    Ok((config, sp))
}

/// The edges the array needs at least for a job: one per beat on a MAC array; on a SAC array, per
/// output-channel tile and pixel tile, the larger of the fetcher's R reads per kneading group and the
/// busiest column's kneaded words.
fn array_edges(sp: &SystemParams, job: &ConvJob) -> u64 {
    let s = job.desc.shape(sp);
    if sp.sac.is_none() {
        return sp.array_beats(&s) as u64;
    }
    let streams = accelc::system::kneaded::column_streams(sp, &s, &job.w);
    let fetch = (s.kwords * sp.rows) as u64;
    let mut starts = vec![0usize; sp.cols];
    let mut total = 0;
    for _ in 0..s.nt {
        let mut busiest = 0;
        for (c, stream) in streams.iter().enumerate() {
            let fold_end = |v: u64| sp.sac.expect("a SAC system").flags(v).1;
            let len = stream[starts[c]..].iter().position(|&v| fold_end(v)).expect("a fold_end") + 1;
            starts[c] += len;
            busiest = busiest.max(len as u64);
        }
        total += s.mt as u64 * busiest.max(fetch);
    }
    total
}

fn main() -> Result<()> {
    let mut rows = Vec::new();
    for name in [
        "system_os_8x8_i8",
        "system_ws_8x8_i8",
        "system_os_4x4_i8",
        "system_ws_4x4_i8",
        "system_sac_4x8_i8",
        "system_sac_4x4_i8",
    ] {
        let (config, sp) = preset(name)?;
        let pes = (sp.rows * sp.cols) as f64;
        println!(
            "\n== {name}: {}x{} array, stream {} bits, banks act {} / weight {} words",
            sp.rows, sp.cols, sp.stream_bits, sp.act_words, sp.weight_words
        );
        println!(
            "{:<26} {:>22} {:>5} {:>5} {:>10} {:>9} {:>8} {:>8} {:>9}",
            "layer", "shape", "K", "jobs", "MACs", "cycles", "MAC/PE/c", "bound", "bytes/MAC"
        );
        let mut smallest: Option<(u64, Vec<ConvJob>, String)> = None;
        for layer in shipped_layers()?.iter().filter(|l| l.op == Op::Conv && l.groups == 1) {
            let [oc, ic, kh, kw] = layer.shape;
            let mut rng = SplitMix64::new(layer.index as u64 + 1);
            let (q, _) = quantize_symmetric(&layer.weights, 8);
            let w = ndarray::Array4::from_shape_fn((oc, kh, kw, ic), |(o, y, x, i)| q[(o, i, y, x)] as i8);
            let x = ndarray::Array3::from_shape_simple_fn((MAP, MAP, ic), || rng.range_i64(0, 127) as i8);
            let g = Geometry {
                k: (kh, kw),
                stride: (layer.stride[0], layer.stride[1]),
                dil: (1, 1),
                pad: (layer.pads[0], layer.pads[1]),
            };
            let rq = cases::random_requant(&mut rng, oc, kh * kw * ic);
            let plan = match plan_layer(&sp, &x, &w, &rq, &g, 0, true) {
                Ok(p) => p,
                Err(e) => {
                    println!("{:<26} does not fit: {e}", format!("{}/{}", layer.network, layer.name));
                    continue;
                }
            };
            let jobs: Vec<ConvJob> = plan.into_iter().map(|p| p.job).collect();
            let stim = cases::stimulus(&sp, &jobs, Pacing::FULL_SPEED, &mut rng);
            let r = run(&sp, config.params().acc_bits, &stim, u64::MAX).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(r.regs.error == 0, "{}: error {}", layer.name, r.regs.error);
            let (oh, ow) = g.out_hw(MAP, MAP);
            let macs = (oh * ow * oc * kh * kw * ic) as u64;
            let cycles = r.regs.cycles;
            let compute: u64 = jobs.iter().map(|j| array_edges(&sp, j)).sum();
            let bytes_in = (stim.beats.len() * sp.word_bytes()) as u64;
            let bytes_out = (r.outputs.len() * sp.word_bytes()) as u64;
            let row = Row {
                preset: name.into(),
                layer: format!("{}/{}", layer.network, layer.name),
                shape: format!("{MAP}x{MAP}x{ic}->{oh}x{ow}x{oc} k{kh}x{kw}/{}", layer.stride[0]),
                reduction_k: kh * kw * ic,
                jobs: jobs.len(),
                macs,
                cycles,
                macs_per_pe_cycle: macs as f64 / (pes * cycles as f64),
                compute_bound: compute as f64 / cycles as f64,
                bytes_in,
                bytes_out,
                bytes_per_mac: (bytes_in + bytes_out) as f64 / macs as f64,
            };
            println!(
                "{:<26} {:>22} {:>5} {:>5} {:>10} {:>9} {:>8.3} {:>8.3} {:>9.4}",
                row.layer,
                row.shape,
                row.reduction_k,
                row.jobs,
                row.macs,
                row.cycles,
                row.macs_per_pe_cycle,
                row.compute_bound,
                row.bytes_per_mac
            );
            if smallest.as_ref().is_none_or(|(c, _, _)| cycles < *c) {
                smallest = Some((cycles, jobs, row.layer.clone()));
            }
            rows.push(row);
        }
        println!(
            "(MAC/PE/c: useful MACs / (PEs x cycles), START to last result beat, loads and stores included;"
        );
        println!(
            " bound: fraction of those cycles the array had a beat to take (MACs on channel padding count))"
        );
        if let Some((cycles, jobs, layer)) = smallest {
            let design = accelc::rtl::generate(&config)?;
            let tb = build(
                &sp,
                &design,
                &PathBuf::from("rtl_out/.build"),
                accelc::tools::verilator::WaveFormat::Vcd,
            )?;
            let mut rng = SplitMix64::new(1);
            let stim = cases::stimulus(&sp, &jobs, Pacing::FULL_SPEED, &mut rng);
            let case = SystemCase { index: 0, description: layer.clone(), jobs, stim, planted: None };
            let checked = check_case(
                &tb,
                &sp,
                config.params().acc_bits,
                &case,
                &PathBuf::from("rtl_out/bench/system_rtl"),
                None,
            )?;
            anyhow::ensure!(
                checked.mismatches.is_empty(),
                "RTL differs on {layer}: {:?}",
                checked.mismatches
            );
            let rtl = checked.got.as_ref().and_then(|g| g.regs.get("CYCLES_LO").copied()).unwrap_or(0);
            println!("RTL check ({layer}, Verilator): cycles model {cycles}, rtl {rtl}, outputs bit-exact");
        }
    }
    let dir = PathBuf::from("rtl_out/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("system.json"),
        serde_json::to_string_pretty(&serde_json::json!({"format_version": 1, "map": MAP, "rows": rows}))?,
    )?;
    let mut csv = csv::Writer::from_path(dir.join("system.csv"))?;
    for r in &rows {
        csv.serialize(r)?;
    }
    csv.flush()?;
    println!("\nwrote rtl_out/bench/system.json and system.csv");
    Ok(())
}
