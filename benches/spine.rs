//! `make bench`: figures for the spine, printed (not asserted).
//! 1. Verilog generation time for 8x8, 64x64 and 128x128 arrays.
//! 2. Reference-model speed vs Verilator speed (simulated cycles per second) on the same 16x16 GEMM.
//! 3. Cycles of GEMM 64x64x64 on 8x8 OS and WS next to the SCALE-Sim closed forms, checked in RTL.

use accelc::config::{Config, Params};
use accelc::interface::Interface;
use accelc::model::{run_gemm, GemmRun, Matrix};
use accelc::rng::SplitMix64;
use accelc::rtl::{generate, Design};
use accelc::verify::check_run;
use accelc::verify::harness::{self, Limits};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn config(rows: usize, cols: usize, dataflow: &str, acc_depth: Option<usize>) -> Config {
    let name = format!("bench_{}_{rows}x{cols}", &dataflow[..1]);
    let depth = acc_depth.map(|d| format!("acc_depth = {d}\n")).unwrap_or_default();
    let text = format!(
        "name = \"{name}\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"{dataflow}_stationary\"\n{depth}\
         [pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\n"
    );
    Config::parse("bench", &text).expect("bench config is valid")
}

fn random(rows: usize, cols: usize, bits: u32, rng: &mut SplitMix64) -> Matrix {
    let span = 1u64 << bits;
    Matrix::from_shape_fn((rows, cols), |_| (rng.next_u64() % span) as i64 - (span / 2) as i64)
}

/// Median wall time of `runs` calls.
fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn generation_times() -> Result<()> {
    println!("== Verilog generation (output-stationary, int8; median wall time, files written)");
    println!("{:>9} {:>10} {:>12} {:>10}", "array", "time ms", "top lines", "MB");
    let dir = std::env::temp_dir().join(format!("accelc-bench-gen-{}", std::process::id()));
    for n in [8usize, 64, 128] {
        let cfg = config(n, n, "output", None);
        let mut design = None;
        let t = median_time(if n >= 128 { 3 } else { 5 }, || {
            let d = generate(&cfg).expect("generates");
            d.write_dir(&dir).expect("writes");
            design = Some(d);
        });
        let design = design.expect("ran once");
        let top = design.file(&format!("{}.v", design.top)).unwrap_or("");
        let bytes: usize = design.files.iter().map(|(_, t)| t.len()).sum();
        println!(
            "{:>9} {:>10.1} {:>12} {:>10.2}",
            format!("{n}x{n}"),
            t.as_secs_f64() * 1e3,
            top.lines().count(),
            bytes as f64 / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Runs one GEMM in Verilator against the model; returns the RTL's cycles and the wall time of the
/// simulation alone. Errors on any difference.
fn rtl_run(p: &Params, design: &Design, run: &GemmRun, work: &Path) -> Result<(u64, Duration)> {
    let iface = Interface::of(p);
    let (tb, _) = harness::build(p, design, &iface, &PathBuf::from("rtl_out/.build"))?;
    let checked = check_run(&tb, &iface, run, Limits::for_run(p, run.cycles), &work.join(&p.name), None)?;
    checked.ensure_passed(&p.name)?;
    Ok((checked.cycles_rtl(), checked.sim_time))
}

fn model_vs_verilator(work: &Path) -> Result<()> {
    let (m, n, k) = (256usize, 256usize, 256usize);
    println!("\n== Reference model vs Verilator on the same GEMM {m}x{n}x{k}, 16x16 output-stationary int8");
    let cfg = config(16, 16, "output", None);
    let p = cfg.params();
    let mut rng = SplitMix64::new(7);
    let (a, b) = (random(m, k, 8, &mut rng), random(k, n, 8, &mut rng));
    let mut run = None;
    let runs = 5;
    let t_model = median_time(runs, || run = Some(run_gemm(&p, &a, &b)));
    let run = run.expect("ran");
    let design = generate(&cfg)?;
    rtl_run(&p, &design, &run, work)?; // builds (or reuses) the testbench; the timed run follows
    let (rtl_cycles, t_rtl) = rtl_run(&p, &design, &run, work)?;
    let model_rate = run.cycles as f64 / t_model.as_secs_f64();
    let rtl_rate = rtl_cycles as f64 / t_rtl.as_secs_f64();
    println!("{:>22} {:>10} {:>12} {:>16}", "", "cycles", "wall ms", "cycles/s");
    println!(
        "{:>22} {:>10} {:>12.1} {:>16.0}",
        "reference model",
        run.cycles,
        t_model.as_secs_f64() * 1e3,
        model_rate
    );
    println!(
        "{:>22} {:>10} {:>12.1} {:>16.0}",
        "Verilator (whole run)",
        rtl_cycles,
        t_rtl.as_secs_f64() * 1e3,
        rtl_rate
    );
    println!("model / Verilator speed: {:.1}x (outputs and cycles identical)", model_rate / rtl_rate);
    Ok(())
}

fn scale_sim_comparison(work: &Path) -> Result<()> {
    let (m, n, k, r, c) = (64usize, 64usize, 64usize, 8usize, 8usize);
    println!("\n== GEMM {m}x{n}x{k} on 8x8 (cycles from the model, the same count measured in Verilator)");
    println!(
        "{:>4} {:>6} {:>10} {:>10} {:>14} {:>8} {:>12}",
        "flow", "folds", "model", "rtl", "SCALE-Sim", "ratio", "utilization"
    );
    let mut rng = SplitMix64::new(11);
    let (a, b) = (random(m, k, 8, &mut rng), random(k, n, 8, &mut rng));
    // WS with a 64-row accumulator streams all of M per fold, as SCALE-Sim's WS schedule does.
    for (flow, depth) in [("output", None), ("weight", Some(64))] {
        let cfg = config(r, c, flow, depth);
        let p = cfg.params();
        let run = run_gemm(&p, &a, &b);
        let (rtl_cycles, _) = rtl_run(&p, &generate(&cfg)?, &run, work)?;
        let (folds, formula) = if flow == "output" {
            let folds = m.div_ceil(r) * n.div_ceil(c);
            (folds, folds * (r + c + k - 2) - 1)
        } else {
            let folds = k.div_ceil(r) * n.div_ceil(c);
            (folds, folds * (2 * r + c + m - 2) - 1)
        };
        assert_eq!(folds, run.folds, "fold count agrees with the formula's");
        println!(
            "{:>4} {:>6} {:>10} {:>10} {:>14} {:>8.3} {:>12.3}",
            if flow == "output" { "OS" } else { "WS" },
            run.folds,
            run.cycles,
            rtl_cycles,
            formula,
            run.cycles as f64 / formula as f64,
            run.utilization(&p, (m * n * k) as u64)
        );
    }
    println!("ratio < 1: the array overlaps folds (next fold loads while the previous drains); SCALE-Sim's forms do not.");
    Ok(())
}

fn main() -> Result<()> {
    let work = PathBuf::from("rtl_out/bench");
    generation_times()?;
    model_vs_verilator(&work)?;
    scale_sim_comparison(&work)?;
    Ok(())
}
