//! `accelc energy CONFIG --network NET`: energy per layer and for the whole network on a generated
//! design, from the reference model's operation counts and the per-operation table. MAC and SAC arrays
//! run every dense layer as a GEMM (M rows of activations, trained weights quantized to the config);
//! a sparse row array runs the forward pass of the conv layers whose kernel width is its taps, on
//! feature maps of the given size and activation density.

use super::{energy, EnergyReport, EnergyTable, OpCounts};
use crate::bits::signed_range;
use crate::config::Config;
use crate::config::Params;
use crate::error::BadInput;
use crate::model::sparse_array::Feed;
use crate::model::{run_gemm, Matrix};
use crate::rng::SplitMix64;
use crate::sparse::conv2d::{forward_jobs, run_phase, Conv2dShape};
use crate::workload::{gemm_b_matrix, load_network, quantize_symmetric, Layer, Op};
use anyhow::Result;
use clap::Args;
use ndarray::Array3;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct EnergyArgs {
    /// Accelerator config (TOML)
    pub config: PathBuf,
    /// A network shipped in data/weights (mtcnn, ppocrv4_det)
    #[arg(long)]
    pub network: String,
    /// MAC/SAC: GEMM rows per layer (output pixels of a batch)
    #[arg(long, default_value_t = 64)]
    pub m: usize,
    /// Sparse rows: feature-map height and width (at most the config's row_len)
    #[arg(long)]
    pub map: Option<usize>,
    /// Sparse rows: fraction of nonzero activations
    #[arg(long, default_value_t = 0.5)]
    pub density: f64,
    /// Seed of the random activations
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// One layer's figures.
pub struct LayerEnergy {
    pub name: String,
    pub shape: String,
    pub cycles: u64,
    pub report: EnergyReport,
}

fn random_acts(p: &Params, shape: (usize, usize), rng: &mut SplitMix64) -> Matrix {
    let (lo, hi) = signed_range(p.act_bits);
    Matrix::from_shape_fn(shape, |_| rng.range_i64(lo, hi))
}

/// A dense layer as a GEMM on a MAC or SAC array.
fn gemm_layer(p: &Params, layer: &Layer, m: usize, rng: &mut SplitMix64, table: &EnergyTable) -> LayerEnergy {
    let b = gemm_b_matrix(layer, p.weight_bits);
    let a = random_acts(p, (m, b.nrows()), rng);
    let run = run_gemm(p, &a, &b);
    LayerEnergy {
        name: layer.name.clone(),
        shape: format!("M={m} N={} K={}", b.ncols(), b.nrows()),
        cycles: run.cycles,
        report: energy(&OpCounts::from_run(p, &run, b.nrows()), table),
    }
}

/// A conv layer's forward pass on a sparse row array, or why it cannot run there.
fn sparse_layer(
    p: &Params,
    layer: &Layer,
    map: usize,
    density: f64,
    rng: &mut SplitMix64,
    table: &EnergyTable,
) -> std::result::Result<LayerEnergy, String> {
    let sp = p.sparse.as_ref().expect("a sparse config");
    let [c_out, c_in, kh, kw] = layer.shape;
    if layer.op != Op::Conv || layer.depthwise {
        return Err("not a dense conv layer".into());
    }
    if kw != p.cols {
        return Err(format!("kernel width {kw}, the array has {} taps", p.cols));
    }
    if layer.stride[1] > sp.max_stride || layer.pads[1] > sp.max_pad {
        return Err(format!("stride {:?} / pads {:?} beyond the array's limits", layer.stride, layer.pads));
    }
    let s = Conv2dShape {
        c_in,
        c_out,
        h: map,
        w: map,
        kh,
        kw,
        stride: layer.stride,
        pads: layer.pads,
        dilation: 1,
    };
    let (w, _) = quantize_symmetric(&layer.weights, p.weight_bits);
    let (lo, hi) = signed_range(p.act_bits);
    let x = Array3::from_shape_fn((c_in, map, map), |_| {
        if (rng.below(1 << 20) as f64) < density * (1 << 20) as f64 {
            rng.range_i64(lo, hi)
        } else {
            0
        }
    });
    let jobs = forward_jobs(p.rows, &s, &x, &w);
    let run = run_phase(p, &jobs, Feed::Compressed);
    Ok(LayerEnergy {
        name: layer.name.clone(),
        shape: format!("{c_in}x{map}x{map} -> {c_out}x{}x{}, {kh}x{kw}", s.out_h(), s.out_w()),
        cycles: run.cycles,
        report: energy(&OpCounts::from_sparse_run(p, &jobs.jobs, &run), table),
    })
}

pub fn main(args: &EnergyArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    let p = config.params();
    let layers =
        load_network(&args.network).map_err(|e| BadInput(format!("--network {}: {e}", args.network)))?;
    if !(0.0..=1.0).contains(&args.density) {
        return Err(BadInput(format!("--density {}: must be between 0 and 1", args.density)).into());
    }
    let table = EnergyTable::horowitz_45nm();
    let mut rng = SplitMix64::new(args.seed);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    match &p.sparse {
        Some(sp) => {
            let map = args.map.unwrap_or(sp.row_len.min(32));
            if !(1..=sp.row_len).contains(&map) {
                return Err(
                    BadInput(format!("--map {map}: must be between 1 and row_len = {}", sp.row_len)).into()
                );
            }
            println!(
                "energy {} on {}: forward pass, {map}x{map} maps, {:.0}% nonzero activations",
                config.name,
                args.network,
                100.0 * args.density
            );
            for layer in &layers {
                match sparse_layer(&p, layer, map, args.density, &mut rng, &table) {
                    Ok(r) => rows.push(r),
                    Err(why) => skipped.push(format!("{}: {why}", layer.name)),
                }
            }
        }
        None => {
            println!("energy {} on {}: every layer as a GEMM with M = {}", config.name, args.network, args.m);
            for layer in layers.iter().filter(|l| !l.depthwise) {
                rows.push(gemm_layer(&p, layer, args.m, &mut rng, &table));
            }
        }
    }
    println!(
        "{:<16} {:<32} {:>10} {:>12} {:>12} {:>10}",
        "layer", "shape", "cycles", "core nJ", "total nJ", "pJ/MAC"
    );
    let (mut cycles, mut core, mut total, mut macs) = (0u64, 0.0, 0.0, 0u64);
    for r in &rows {
        println!(
            "{:<16} {:<32} {:>10} {:>12.3} {:>12.3} {:>10.3}",
            r.name,
            r.shape,
            r.cycles,
            r.report.core_pj / 1000.0,
            r.report.total_pj / 1000.0,
            r.report.total_pj / r.report.useful_macs.max(1) as f64
        );
        cycles += r.cycles;
        core += r.report.core_pj;
        total += r.report.total_pj;
        macs += r.report.useful_macs;
    }
    for s in &skipped {
        println!("  skipped {s}");
    }
    println!(
        "energy {} on {}: {} layers, {cycles} cycles, core {:.3} nJ, total {:.3} nJ, {:.3} pJ per useful MAC \
         (45 nm per-operation table, src/energy/table.rs)",
        config.name,
        args.network,
        rows.len(),
        core / 1000.0,
        total / 1000.0,
        total / macs.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}
