//! SparseTrain on the generated sparse 1-D row array: cycles of real conv layers (trained PP-OCRv4 and
//! MTCNN kernels) in the three training phases, compressed (zeros skipped) against the same dataflow fed
//! dense and against the spine's output-stationary MAC array with the same number of multipliers, at
//! activation densities 50/30/10% and output-gradient densities from the stochastic pruning rule at
//! targets 70/80/90%; then Yosys area of a sparse PE row against the MAC array's PEs.
//!
//! Every figure comes from the reference models (bit- and cycle-exact against the RTL, `make verify`)
//! and from Yosys. Writes rtl_out/bench/sparse.json and .csv. `SPARSE_BENCH_SYNTH=0` skips synthesis.

use accelc::bits::signed_range;
use accelc::config::{Config, Params};
use accelc::energy::{energy, EnergyTable, OpCounts};
use accelc::ir::ModuleNames;
use accelc::model::sparse_array::{Feed, SparseRun};
use accelc::model::{run_gemm, Matrix};
use accelc::rng::SplitMix64;
use accelc::sparse::conv2d::{
    forward_jobs, input_gradient_jobs, run_phase, weight_gradient_jobs, Conv2dShape, PhaseJobs,
};
use accelc::sparse::prune::{ExpectedSparsity, PruneParams, Pruner, TauEstimator, DEFAULT_DRAW_BITS};
use accelc::sparse::{dist, sparsity};
use accelc::workload::quantize_symmetric;
use anyhow::{Context, Result};
use ndarray::{Array3, Array4};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

const BITS: u32 = 16;
/// Feature maps are cropped to the row buffer: 32 x 32.
const MAP: usize = 32;
const LAYERS: [(&str, &str); 5] = [
    ("mtcnn", "pnet.conv2"),
    ("mtcnn", "rnet.conv2"),
    ("mtcnn", "onet.conv2"),
    ("ppocrv4_det", "p2o.Conv.0"),
    ("ppocrv4_det", "p2o.Conv.49"),
];

fn sparse_config() -> Config {
    let text =
        "name = \"sparse_8x3_l32_i16\"\n[array]\nrows = 8\ncols = 3\ndataflow = \"output_stationary\"\n\
                [pe]\nkind = \"sparse_1d\"\nweight_bits = 16\nact_bits = 16\n\
                [sparse]\nrow_len = 32\nmax_dilation = 8\nmax_stride = 2\nload_lanes = 8\n";
    Config::parse("bench", text).expect("bench sparse config is valid")
}

/// The MAC baseline: 8 x 3 output-stationary, the same 24 multipliers, widths and accumulator.
fn mac_config(acc_bits: u32) -> Config {
    let text = format!(
        "name = \"mac_os_8x3_i16\"\n[array]\nrows = 8\ncols = 3\ndataflow = \"output_stationary\"\n\
         [pe]\nkind = \"mac\"\nweight_bits = 16\nact_bits = 16\nacc_bits = {acc_bits}\n"
    );
    Config::parse("bench", &text).expect("bench MAC config is valid")
}

#[derive(Serialize, Clone)]
struct Row {
    layer: String,
    phase: String,
    /// Density of the streamed operand: activations (forward) or pruned output gradients.
    operand: String,
    density: f64,
    jobs: usize,
    nnz: u64,
    sparse_cycles: u64,
    dense_feed_cycles: u64,
    mac_array_cycles: u64,
    load_stalls: u64,
    cycles_per_nnz: f64,
    /// Total energy (core + streams), nanojoules: sparse rows, the same rows fed dense, the MAC array.
    sparse_nj: f64,
    dense_feed_nj: f64,
    mac_array_nj: f64,
}

fn random_map(shape: (usize, usize, usize), pct: u64, rng: &mut SplitMix64) -> Array3<i64> {
    let hi = signed_range(BITS).1;
    Array3::from_shape_fn(shape, |_| {
        if rng.below(100) < pct {
            let v = rng.range_i64(1, hi / 4);
            if rng.below(2) == 0 {
                v
            } else {
                -v
            }
        } else {
            0
        }
    })
}

/// Output gradients: Laplace-distributed (the shape of real activation gradients), pruned with the
/// LFSR rule at tau chosen by the expected-sparsity estimator for `target`.
fn pruned_gradients(shape: (usize, usize, usize), target: f64, seed: u32) -> Result<(Array3<i64>, u64)> {
    let n = shape.0 * shape.1 * shape.2;
    let g = dist::laplace(n, 400.0, BITS, seed)?;
    let tau = if target == 0.0 { 0 } else { ExpectedSparsity.tau(&g, target, BITS)? };
    let mut pruner = Pruner::new(PruneParams::new(BITS, DEFAULT_DRAW_BITS)?, seed ^ 0x9e37_79b9)?;
    let pruned = pruner.prune(&g, tau)?;
    Ok((Array3::from_shape_vec(shape, pruned)?, tau))
}

/// The MAC array on the phase's GEMM: cycles and total energy (nJ; counts do not depend on values).
fn mac_run(p: &Params, m: usize, k: usize, n: usize) -> (u64, f64) {
    let run = run_gemm(p, &Matrix::zeros((m, k)), &Matrix::zeros((k, n)));
    let e = energy(&OpCounts::from_run(p, &run, k), &EnergyTable::horowitz_45nm());
    (run.cycles, e.total_pj / 1000.0)
}

fn sparse_nj(p: &Params, jobs: &PhaseJobs, run: &SparseRun) -> f64 {
    energy(&OpCounts::from_sparse_run(p, &jobs.jobs, run), &EnergyTable::horowitz_45nm()).total_pj / 1000.0
}

/// One table row: a phase of a layer on the three machines.
#[allow(clippy::too_many_arguments)] // every column is an argument
fn row(
    p: &Params,
    layer: &str,
    phase: &str,
    operand: &str,
    density: f64,
    jobs: &PhaseJobs,
    s: &SparseRun,
    d: &SparseRun,
    (mac, mac_nj): (u64, f64),
) -> Row {
    Row {
        layer: layer.into(),
        phase: phase.into(),
        operand: operand.into(),
        density,
        jobs: jobs.jobs.len(),
        nnz: s.nnz,
        sparse_cycles: s.cycles,
        dense_feed_cycles: d.cycles,
        mac_array_cycles: mac,
        load_stalls: s.load_stalls,
        cycles_per_nnz: s.cycles as f64 / s.nnz.max(1) as f64,
        sparse_nj: sparse_nj(p, jobs, s),
        dense_feed_nj: sparse_nj(p, jobs, d),
        mac_array_nj: mac_nj,
    }
}

fn print_row(r: &Row) {
    println!(
        "{:<24} {:<15} {:>5.1}% {:>10} {:>11} {:>11} {:>11} {:>7.2}x {:>7.2}x {:>8.3}",
        r.layer,
        r.phase,
        100.0 * r.density,
        r.nnz,
        r.sparse_cycles,
        r.dense_feed_cycles,
        r.mac_array_cycles,
        r.dense_feed_cycles as f64 / r.sparse_cycles as f64,
        r.mac_array_cycles as f64 / r.sparse_cycles as f64,
        r.cycles_per_nnz
    );
}

/// Backward-pass totals over the layers at one pruning target.
#[derive(Default)]
struct BackwardSum {
    target: f64,
    achieved: Vec<f64>,
    sparse: u64,
    dense: u64,
    mac: u64,
    nnz: u64,
    sparse_nj: f64,
    dense_nj: f64,
    mac_nj: f64,
}

impl BackwardSum {
    fn add(&mut self, achieved: f64, r: &Row) {
        self.achieved.push(achieved);
        self.sparse += r.sparse_cycles;
        self.dense += r.dense_feed_cycles;
        self.mac += r.mac_array_cycles;
        self.nnz += r.nnz;
        self.sparse_nj += r.sparse_nj;
        self.dense_nj += r.dense_feed_nj;
        self.mac_nj += r.mac_array_nj;
    }

    fn summary(&self) -> Backward {
        Backward {
            target: self.target,
            achieved_sparsity: self.achieved.iter().sum::<f64>() / self.achieved.len() as f64,
            sparse_cycles: self.sparse,
            dense_feed_cycles: self.dense,
            mac_array_cycles: self.mac,
            speedup_vs_dense_feed: self.dense as f64 / self.sparse as f64,
            speedup_vs_mac: self.mac as f64 / self.sparse as f64,
            cycles_per_nnz: self.sparse as f64 / self.nnz as f64,
            sparse_nj: self.sparse_nj,
            energy_vs_dense_feed: self.dense_nj / self.sparse_nj,
            energy_vs_mac: self.mac_nj / self.sparse_nj,
        }
    }
}

#[derive(Serialize)]
struct Backward {
    target: f64,
    achieved_sparsity: f64,
    sparse_cycles: u64,
    dense_feed_cycles: u64,
    mac_array_cycles: u64,
    speedup_vs_dense_feed: f64,
    speedup_vs_mac: f64,
    cycles_per_nnz: f64,
    sparse_nj: f64,
    /// Energy of the dense feed (resp. the MAC array) over the sparse rows' (>1: sparse spends less).
    energy_vs_dense_feed: f64,
    energy_vs_mac: f64,
}

#[derive(Serialize)]
struct Area {
    /// What the figures cover.
    part: String,
    cells: u64,
    flip_flops: u64,
    transistors: u64,
    multipliers: usize,
}

impl Area {
    fn of_module(part: &str, m: &accelc::tools::yosys::ModuleStat, multipliers: usize) -> Area {
        Area {
            part: part.into(),
            cells: m.hier_cells,
            flip_flops: m.hier_flip_flops,
            transistors: m.hier_transistors,
            multipliers,
        }
    }
}

#[derive(Serialize)]
struct Report {
    format_version: u32,
    sparse_config: String,
    mac_config: String,
    rows: Vec<Row>,
    backward: Vec<Backward>,
    area: Vec<Area>,
    wall_seconds: f64,
}

/// Generic Yosys synthesis of a config (cached), its report.
fn synthesize(config: &Config) -> Result<accelc::tools::yosys::SynthReport> {
    let design = accelc::rtl::generate(config)?;
    let dir = std::path::Path::new("rtl_out/bench/synth").join(&config.name);
    design.write_dir(&dir)?;
    let sources: Vec<(String, String)> =
        design.files.iter().filter(|(n, _)| n.ends_with(".v")).cloned().collect();
    let cache = std::path::PathBuf::from(accelc::synth::DEFAULT_CACHE_DIR);
    let progress = || println!("  synthesizing {} (not cached) ...", config.name);
    Ok(accelc::synth::synthesize(&dir, &design.top, &sources, Some(&cache), &progress)?.report)
}

fn module<'a>(
    r: &'a accelc::tools::yosys::SynthReport,
    name: &str,
) -> Result<&'a accelc::tools::yosys::ModuleStat> {
    r.modules.get(name).with_context(|| format!("no module {name} in the synthesis report"))
}

/// Area of the sparse array against the MAC array: a PE row against as many MAC PEs, the shared top
/// logic, and the whole arrays.
fn areas(sparse: &Config, p: &Params, mac: &Config) -> Result<Vec<Area>> {
    let (sr, mr) = (synthesize(sparse)?, synthesize(mac)?);
    let row = module(&sr, &ModuleNames::of(p).sparse_row())?;
    let top = module(&sr, &sparse.name)?;
    let pe = module(&mr, &ModuleNames::of(&mac.params()).mac_pe())?;
    let own = |m: &accelc::tools::yosys::ModuleStat, part: &str| Area {
        part: part.into(),
        cells: m.cells,
        flip_flops: m.flip_flops,
        transistors: m.transistors,
        multipliers: 0,
    };
    let mp = mac.params();
    Ok(vec![
        Area::of_module("sparse PE row (with its MAC lanes)", row, p.cols),
        Area { multipliers: 3, ..Area::of_module(&format!("{} MAC-array PEs", p.cols), pe, 1) }
            .times(p.cols as u64),
        own(top, "sparse top: stream decode, lane positions, control, readout"),
        Area::of_module(&format!("sparse array {}x{}", p.rows, p.cols), top, p.rows * p.cols),
        Area::of_module(
            &format!("MAC array {}x{}", mp.rows, mp.cols),
            module(&mr, &mac.name)?,
            mp.rows * mp.cols,
        ),
    ])
}

impl Area {
    fn times(self, n: u64) -> Area {
        Area {
            cells: self.cells * n,
            flip_flops: self.flip_flops * n,
            transistors: self.transistors * n,
            ..self
        }
    }
}

fn bench() -> Result<()> {
    let start = Instant::now();
    let sparse = sparse_config();
    let p = sparse.params();
    let mac = mac_config(p.acc_bits);
    let mp = mac.params();
    println!(
        "bench sparse: {} ({} PE rows x {} taps, rows of {}, {} load lanes) vs {} ({}x{} MACs); feature maps {MAP}x{MAP}",
        sparse.name,
        p.rows,
        p.cols,
        MAP,
        p.sparse.as_ref().unwrap().load_lanes,
        mac.name,
        mp.rows,
        mp.cols
    );
    println!(
        "{:<24} {:<15} {:>6} {:>10} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8}",
        "layer",
        "phase",
        "dens.",
        "nnz",
        "sparse cyc",
        "dense feed",
        "MAC array",
        "vs dense",
        "vs MAC",
        "cyc/nnz"
    );
    let mut rows = Vec::new();
    let mut sums: Vec<BackwardSum> =
        [0.7, 0.8, 0.9].iter().map(|&target| BackwardSum { target, ..BackwardSum::default() }).collect();
    for (li, (net, name)) in LAYERS.iter().enumerate() {
        let layer = accelc::workload::load_network(net)?
            .into_iter()
            .find(|l| l.name == *name)
            .with_context(|| format!("{net} has no layer {name}"))?;
        let [c_out, c_in, kh, kw] = layer.shape;
        let s = Conv2dShape {
            c_in,
            c_out,
            h: MAP,
            w: MAP,
            kh,
            kw,
            stride: layer.stride,
            pads: layer.pads,
            dilation: 1,
        };
        let (w, _) = quantize_symmetric(&layer.weights, BITS);
        let w: Array4<i64> = w;
        let label = format!("{net}/{name}");
        let mut rng = SplitMix64::new(li as u64 + 1);
        let (oh, ow) = (s.out_h(), s.out_w());
        // Forward at activation densities 50/30/10%.
        let mac_fwd = mac_run(&mp, oh * ow, c_in * kh * kw, c_out);
        for pct in [50, 30, 10] {
            let x = random_map((c_in, MAP, MAP), pct, &mut rng);
            let jobs = forward_jobs(p.rows, &s, &x, &w);
            let (sr, dr) = (run_phase(&p, &jobs, Feed::Compressed), run_phase(&p, &jobs, Feed::Dense));
            let r = row(&p, &label, "forward", "activations", pct as f64 / 100.0, &jobs, &sr, &dr, mac_fwd);
            print_row(&r);
            rows.push(r);
        }
        // Backward: activations at 50% (ReLU), output gradients pruned at 70/80/90%.
        let x = random_map((c_in, MAP, MAP), 50, &mut rng);
        let mac_igrad = mac_run(&mp, MAP * MAP, c_out * kh * kw, c_in);
        let mac_wgrad = mac_run(&mp, c_out, oh * ow, c_in * kh * kw);
        for (bi, target) in [0.7, 0.8, 0.9].into_iter().enumerate() {
            let (dy, _tau) = pruned_gradients((c_out, oh, ow), target, 17 + li as u32 * 7 + bi as u32)?;
            let achieved = sparsity(dy.as_slice().expect("standard layout"));
            let ig = input_gradient_jobs(p.rows, &s, &dy, &w);
            let wg = weight_gradient_jobs(p.rows, &s, &x, &dy);
            let runs = [("input_gradient", &ig, mac_igrad), ("weight_gradient", &wg, mac_wgrad)];
            for (phase, jobs, mac_c) in runs {
                let (sr, dr) = (run_phase(&p, jobs, Feed::Compressed), run_phase(&p, jobs, Feed::Dense));
                let r = row(&p, &label, phase, "pruned dy", 1.0 - achieved, jobs, &sr, &dr, mac_c);
                print_row(&r);
                sums[bi].add(achieved, &r);
                rows.push(r);
            }
        }
    }
    println!("\nbackward pass (input + weight gradient, all {} layers):", LAYERS.len());
    println!(
        "{:>7} {:>9} {:>12} {:>12} {:>12} {:>9} {:>9} {:>8} {:>10} {:>9} {:>9}",
        "target",
        "achieved",
        "sparse cyc",
        "dense feed",
        "MAC array",
        "vs dense",
        "vs MAC",
        "cyc/nnz",
        "sparse uJ",
        "E dense",
        "E MAC"
    );
    let backward: Vec<Backward> = sums.iter().map(BackwardSum::summary).collect();
    for b in &backward {
        println!(
            "{:>6.0}% {:>8.1}% {:>12} {:>12} {:>12} {:>8.2}x {:>8.2}x {:>8.3} {:>10.1} {:>8.2}x {:>8.2}x",
            100.0 * b.target,
            100.0 * b.achieved_sparsity,
            b.sparse_cycles,
            b.dense_feed_cycles,
            b.mac_array_cycles,
            b.speedup_vs_dense_feed,
            b.speedup_vs_mac,
            b.cycles_per_nnz,
            b.sparse_nj / 1000.0,
            b.energy_vs_dense_feed,
            b.energy_vs_mac
        );
    }
    println!(
        "(E dense, E MAC: energy of the dense feed and of the MAC array over the sparse rows'; 45 nm per-op \
         table of src/energy, core + streams)"
    );
    let target_met = backward.iter().filter(|b| b.target >= 0.8).all(|b| b.speedup_vs_dense_feed >= 2.7);
    println!(
        "target (>= 2.7x fewer backward cycles than dense at 80-90% sparsity): {}",
        if target_met { "met" } else { "NOT met" }
    );

    let mut areas = Vec::new();
    if std::env::var("SPARSE_BENCH_SYNTH").as_deref() != Ok("0") {
        println!("\narea (Yosys generic synthesis, through the hierarchy; cached in rtl_out/.synth):");
        areas = self::areas(&sparse, &p, &mac)?;
        println!("{:<62} {:>9} {:>9} {:>12} {:>5}", "part", "cells", "FFs", "transistors", "MACs");
        for a in &areas {
            println!(
                "{:<62} {:>9} {:>9} {:>12} {:>5}",
                a.part, a.cells, a.flip_flops, a.transistors, a.multipliers
            );
        }
        let ratio = |i: usize, j: usize| areas[i].transistors as f64 / areas[j].transistors as f64;
        let b90 = backward.iter().find(|b| b.target == 0.9).expect("the 90% target ran");
        println!(
            "sparse row / {} MAC PEs: {:.2}x area; sparse array / MAC array: {:.2}x area; backward speedup per \
             area at 90%: {:.2} (vs the MAC array)",
            p.cols,
            ratio(0, 1),
            ratio(3, 4),
            b90.speedup_vs_mac / ratio(3, 4)
        );
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    let report = Report {
        format_version: 1,
        sparse_config: toml::to_string(&sparse)?,
        mac_config: toml::to_string(&mac)?,
        rows: rows.clone(),
        backward,
        area: areas,
        wall_seconds,
    };
    let dir = std::path::Path::new("rtl_out/bench");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("sparse.json"), serde_json::to_string_pretty(&report)?)?;
    let mut csv = String::from(
        "layer,phase,operand,density,jobs,nnz,sparse_cycles,dense_feed_cycles,mac_array_cycles,load_stalls,cycles_per_nnz\n",
    );
    for r in &rows {
        csv.push_str(&format!(
            "{},{},{},{:.4},{},{},{},{},{},{},{:.4}\n",
            r.layer,
            r.phase,
            r.operand,
            r.density,
            r.jobs,
            r.nnz,
            r.sparse_cycles,
            r.dense_feed_cycles,
            r.mac_array_cycles,
            r.load_stalls,
            r.cycles_per_nnz
        ));
    }
    std::fs::write(dir.join("sparse.csv"), csv)?;
    println!("\nwrote rtl_out/bench/sparse.json and sparse.csv; wall time {wall_seconds:.1} s");
    Ok(())
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench sparse: {e:#}");
            ExitCode::FAILURE
        }
    }
}
