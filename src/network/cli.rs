//! `accelc compile MODEL.onnx --config SYSTEM.toml --calib X -o OUT` and `accelc run OUT --input X
//! [--rtl] [-o Y.npy]`: a trained ONNX network compiled for a system top, and run on its model or RTL.

use super::program::{Calibration, Program, Step};
use super::prune::{prune, sparsity_report, PruneSpec};
use super::run::{self, Accelerator, CycleModel, IntRun, Rtl};
use super::{float, import_file, samples, Network, Value};
use crate::config::Config;
use crate::error::BadInput;
use crate::system::SystemParams;
use anyhow::{Context, Result};
use clap::Args;
use ndarray::{ArrayD, Axis};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The system config as the program folder keeps it (`accelc run` rebuilds the system top from it).
pub const SYSTEM_FILE: &str = "system.toml";
pub const REPORT_FILE: &str = "report.json";

#[derive(Args, Debug, Clone)]
pub struct CompileArgs {
    /// The trained network (ONNX)
    pub model: PathBuf,
    /// A config with a [system] table: the system top to compile for
    #[arg(long)]
    pub config: PathBuf,
    /// Calibration inputs: a float32 .npy (N x the model's input), a folder of them, or `cls-samples` /
    /// `det-samples` (the shipped real images of the PP-OCR classifier / detector)
    #[arg(long)]
    pub calib: String,
    /// How activation scales are chosen: mse (clip where the expected squared error is least) or max
    #[arg(long, default_value = "mse", value_parser = ["mse", "max"])]
    pub calibration: String,
    /// Prune the weights first: magnitude:F, global:F, nm:N:M (nm:2:4, nm:1:4) or filter:F
    #[arg(long)]
    pub prune: Option<String>,
    /// Output folder (replaced whole)
    #[arg(short, long)]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A folder written by `accelc compile`
    pub program: PathBuf,
    /// Input: a float32 .npy of the model's input shape (any batch), or `cls-samples` / `det-samples`
    /// (the shipped real images; `cls-samples:I` for image I alone)
    #[arg(long)]
    pub input: String,
    /// Run the accelerator layers on the generated system RTL in Verilator; the cycle-exact model runs
    /// too and every tensor and layer's cycles must agree (exit 1 if not)
    #[arg(long, conflicts_with = "cycle_model")]
    pub rtl: bool,
    /// Step the system's cycle-exact model through every job (several times slower) instead of the
    /// default: one fast integer convolution per layer, with each layer's cycles as `compile` measured
    /// them on that model (exact: the system's timing does not depend on the activations)
    #[arg(long)]
    pub cycle_model: bool,
    /// Write the network's (first) output here as float32 .npy
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

fn bad(msg: String) -> anyhow::Error {
    BadInput(msg).into()
}

/// A float32 .npy, a folder of them, or a shipped sample set.
pub fn load_inputs(spec: &str) -> Result<Vec<ArrayD<f32>>> {
    let (set, pick) = spec.split_once(':').map_or((spec, None), |(a, b)| (a, Some(b)));
    let shipped = match set {
        "cls-samples" => Some(samples::cls_samples()?.inputs),
        "det-samples" => Some(samples::det_samples()?.inputs),
        _ => None,
    };
    if let Some(all) = shipped {
        let n = all.shape()[0];
        return match pick.map(|i| i.parse::<usize>()) {
            None => Ok(vec![all]),
            Some(Ok(i)) if i < n => Ok(vec![all.slice_axis(Axis(0), (i..i + 1).into()).to_owned()]),
            Some(_) => Err(bad(format!("{spec}: {set} has inputs 0..{n}; give {set}:I with I < {n}"))),
        };
    }
    let path = Path::new(spec);
    let read = |p: &Path| -> Result<ArrayD<f32>> {
        ndarray_npy::read_npy(p).map_err(|e| bad(format!("{}: not a float32 .npy ({e})", p.display())))
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "npy"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(bad(format!("{spec}: a folder without .npy files")));
        }
        return files.iter().map(|p| read(p)).collect();
    }
    if !path.is_file() {
        return Err(bad(format!(
            "{spec}: no such file or folder (give a float32 .npy, a folder of them, cls-samples or det-samples)"
        )));
    }
    Ok(vec![read(path)?])
}

/// Checks that every input has the model's input rank and fixed dimensions.
fn check_inputs(net: &Network, inputs: &[ArrayD<f32>], what: &str) -> Result<()> {
    let (name, dims) = &net.inputs[0];
    for x in inputs {
        let fits =
            x.ndim() == dims.len() && dims.iter().zip(x.shape()).all(|(d, &n)| d.is_none_or(|d| d == n));
        if !fits || x.shape()[1..] != inputs[0].shape()[1..] {
            return Err(bad(format!(
                "{what}: shape {:?} does not fit the model's input {name:?} {:?} (None: any)",
                x.shape(),
                dims
            )));
        }
    }
    Ok(())
}

fn load_system(path: &Path) -> Result<(Config, SystemParams, String)> {
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("{}: cannot read ({e})", path.display())))?;
    let config = Config::parse(&path.display().to_string(), &text)?;
    let sp = SystemParams::of(&config).ok_or_else(|| {
        bad(format!("{}: no [system] table (a network compiles for a system top)", path.display()))
    })?;
    Ok((config, sp, text))
}

pub fn compile_main(args: &CompileArgs) -> Result<ExitCode> {
    let (config, sp, config_text) = load_system(&args.config)?;
    let mut net = import_file(&args.model).map_err(|e| bad(e.to_string()))?;
    let spec: Option<PruneSpec> = args
        .prune
        .as_deref()
        .map(|s| s.parse().map_err(|e: super::prune::BadPruneSpec| bad(e.to_string())))
        .transpose()?;
    let calib = load_inputs(&args.calib)?;
    check_inputs(&net, &calib, "--calib")?;
    let baseline = sparsity_report(&net);
    let pruned = match &spec {
        Some(spec) => Some(prune(&mut net, spec).map_err(|e| bad(e.to_string()))?),
        None => None,
    };
    let method = if args.calibration == "max" { Calibration::Max } else { Calibration::Mse };
    let mut program = super::program::compile(&net, &config.name, &sp, &calib, method)?;
    // the first calibration image through the program (cycle model) and the float network
    let x0 = calib[0].slice_axis(Axis(0), (0..1).into()).to_owned();
    let run = run::run(
        &program,
        &sp,
        &x0,
        &mut CycleModel { sp: sp.clone() },
        &mut progress_bar("compile: cycles"),
    )?;
    let accel = program.steps.iter_mut().filter_map(|s| if let Step::Accel(l) = s { Some(l) } else { None });
    for (layer, r) in accel.zip(&run.layers) {
        layer.cycles = r.cycles;
    }
    let float_env = float::run(&net, &[(net.inputs[0].0.as_str(), Value::F32(x0))])?;
    // SAC systems: would a per-layer kneading stride pay? (the hardware's KS is its column count)
    let kneading = match &sp.sac {
        Some(sac) => Some(
            program
                .layers()
                .map(|l| super::kneading::sweep(l, &super::kneading::STRIDES, sac.knead.encoding))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };
    let report = serde_json::json!({
        "format_version": 1,
        "model": args.model.display().to_string(),
        "system": config.name,
        "input": program.input,
        "input_shape": program.input_shape,
        "calibration": { "method": method, "inputs": calib.iter().map(|c| c.shape()[0]).sum::<usize>() },
        "weights": { "before_pruning": baseline, "pruned": pruned },
        "steps": { "accelerator": program.layers().count(), "host": program.steps.len() - program.layers().count(),
                   "host_ops": host_ops(&program) },
        "layers": layer_rows(&program, &run, &sp, Some(&float_env)),
        "kneading": kneading,
        "total": totals(&run, &sp),
    });
    program.save(
        &args.out,
        &[(SYSTEM_FILE, config_text), (REPORT_FILE, serde_json::to_string_pretty(&report)? + "\n")],
    )?;
    print_layers(&program, &run, &sp);
    if let Some(k) = &kneading {
        print_kneading(k, sp.cols);
    }
    println!(
        "compiled {} for {}: {} accelerator layers, {} host steps -> {}",
        args.model.display(),
        config.name,
        program.layers().count(),
        program.steps.len() - program.layers().count(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn host_ops(p: &Program) -> std::collections::BTreeMap<&'static str, usize> {
    let mut m = std::collections::BTreeMap::new();
    for s in &p.steps {
        if let Step::Host(n) = s {
            *m.entry(n.op.name()).or_default() += 1;
        }
    }
    m
}

/// Per accelerator layer: shape, jobs, MACs, cycles, utilization, and SQNR against the float run.
fn layer_rows(
    p: &Program,
    run: &IntRun,
    sp: &SystemParams,
    float_env: Option<&std::collections::HashMap<String, Value>>,
) -> Vec<serde_json::Value> {
    let energy = layer_energy_uj(p, run, sp);
    p.layers()
        .zip(&run.layers)
        .zip(energy)
        .map(|((l, r), uj)| {
            let (o, kh, kw, i) = l.weights.dim();
            let sqnr = float_env.and_then(|env| match (env.get(&l.output), run.tensors.get(&l.output)) {
                (Some(Value::F32(f)), Some(t)) => t.float().filter(|q| q.shape() == f.shape()).map(|q| run::sqnr_db(f, &q)),
                _ => None,
            });
            serde_json::json!({
                "name": l.name, "kind": l.kind, "in_c": i, "out_c": o, "kernel": [kh, kw], "stride": l.stride,
                "relu": l.relu, "jobs": r.jobs, "macs": r.macs, "cycles": r.cycles, "utilization": r.utilization,
                "energy_uj": uj, "sqnr_db": sqnr, "in_scale": l.in_scale, "out_scale": l.out_scale,
            })
        })
        .collect()
}

fn totals(run: &IntRun, sp: &SystemParams) -> serde_json::Value {
    let macs: u64 = run.layers.iter().map(|l| l.macs).sum();
    let cycles = run.cycles();
    serde_json::json!({
        "macs": macs,
        "cycles": cycles,
        "utilization": cycles.map(|c| run::utilization(sp, macs, c)),
    })
}

fn print_layers(p: &Program, run: &IntRun, sp: &SystemParams) {
    println!(
        "{:<12} {:>5} {:>5} {:>6} {:>4} {:>10} {:>9} {:>6} {:>9}",
        "layer", "in_c", "out_c", "kernel", "jobs", "MACs", "cycles", "util", "energy_uJ"
    );
    let energy = layer_energy_uj(p, run, sp);
    for ((l, r), uj) in p.layers().zip(&run.layers).zip(&energy) {
        let (o, kh, kw, i) = l.weights.dim();
        println!(
            "{:<12} {:>5} {:>5} {:>6} {:>4} {:>10} {:>9} {:>6} {:>9.3}",
            l.name,
            i,
            o,
            format!("{kh}x{kw}"),
            r.jobs,
            r.macs,
            r.cycles.map_or("-".into(), |c| c.to_string()),
            r.utilization.map_or("-".into(), |u| format!("{u:.2}")),
            uj
        );
    }
    let t = totals(run, sp);
    println!(
        "total: {} MACs, {} cycles, utilization {} on {}x{}, {:.3} uJ (accelerator layers; network::energy)",
        t["macs"],
        t["cycles"],
        t["utilization"].as_f64().map_or("-".into(), |u| format!("{u:.3}")),
        sp.rows,
        sp.cols,
        energy.iter().sum::<f64>()
    );
}

/// The kneading sweep's totals: words at each stride, and with each layer at its best stride.
fn print_kneading(layers: &[super::kneading::LayerStrides], cols: usize) {
    let t = super::kneading::totals(layers);
    let at: Vec<String> = super::kneading::STRIDES
        .iter()
        .zip(&t.words)
        .map(|(ks, w)| format!("KS {ks}: {w}{}", if *ks == cols { " (this system)" } else { "" }))
        .collect();
    println!(
        "kneaded words per pixel tile, all layers: {}; each layer at its best KS: {} (layers by the narrowest \
         KS reaching their fewest words: {:?})",
        at.join(", "),
        t.best,
        t.narrowest
    );
}

/// Each accelerator layer's energy in the run, uJ: its energy per inference (`network::energy`,
/// Horowitz 45 nm) times the images the run took.
fn layer_energy_uj(p: &Program, run: &IntRun, sp: &SystemParams) -> Vec<f64> {
    let table = crate::energy::EnergyTable::horowitz_45nm();
    p.layers()
        .zip(&run.layers)
        .map(|(l, r)| {
            let images = r.jobs / l.jobs.len().max(1);
            super::energy::layer_energy(sp, l, &table).total_pj * images as f64 * 1e-6
        })
        .collect()
}

/// A progress bar on stderr when it is a terminal (steps done / steps).
fn progress_bar(what: &'static str) -> impl FnMut(usize, usize) {
    let tty = std::io::stderr().is_terminal();
    move |done, all| {
        if tty {
            let width = 30;
            let filled = done * width / all.max(1);
            eprint!("\r{what} [{}{}] {done}/{all}", "#".repeat(filled), " ".repeat(width - filled));
            if done == all {
                eprintln!();
            }
        }
    }
}

pub fn run_main(args: &RunArgs) -> Result<ExitCode> {
    if !args.program.join("program.json").is_file() {
        return Err(bad(format!(
            "{}: not a folder written by `accelc compile` (no program.json)",
            args.program.display()
        )));
    }
    let program = Program::load(&args.program)?;
    let (config, sp, _) = load_system(&args.program.join(SYSTEM_FILE))?;
    let inputs = load_inputs(&args.input)?;
    let x = inputs.into_iter().next().context("no input")?;
    if x.ndim() != program.input_shape.len() || x.shape()[1..] != program.input_shape[1..] {
        return Err(bad(format!(
            "--input: shape {:?}, the program takes {:?} (any batch)",
            x.shape(),
            program.input_shape
        )));
    }
    let fast = !args.rtl && !args.cycle_model;
    let mut acc: Box<dyn Accelerator> = if args.rtl {
        let root = PathBuf::from("rtl_out");
        let work = root.join(".network-run").join(crate::fsutil::unique_suffix());
        Box::new(Rtl::build(&config, &root.join(".build"), work)?)
    } else if args.cycle_model {
        Box::new(CycleModel { sp: sp.clone() })
    } else {
        Box::new(run::Fast)
    };
    let label = if args.rtl {
        "run (RTL)"
    } else if args.cycle_model {
        "run (cycle model)"
    } else {
        "run"
    };
    let mut result = run::run(&program, &sp, &x, acc.as_mut(), &mut progress_bar(label))?;
    if fast {
        run::measured_cycles(&program, &mut result, x.shape()[0], &sp);
    }
    print_layers(&program, &result, &sp);
    let mut code = ExitCode::SUCCESS;
    if args.rtl {
        let model = run::run(
            &program,
            &sp,
            &x,
            &mut CycleModel { sp: sp.clone() },
            &mut progress_bar("run (model)"),
        )?;
        let mismatches = compare_runs(&model, &result);
        if mismatches.is_empty() {
            println!(
                "RTL equals the model: {} tensors bit for bit, {} layers' cycles",
                model.tensors.len(),
                model.layers.len()
            );
        } else {
            for m in &mismatches {
                println!("MISMATCH {m}");
            }
            code = ExitCode::from(1);
        }
    }
    let (name, y) = &result.outputs[0];
    println!("output {name:?}: shape {:?}", y.shape());
    if y.ndim() == 2 {
        for (i, row) in y.axis_iter(Axis(0)).enumerate().take(64) {
            let best =
                row.iter().enumerate().fold((0, f32::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
            println!("  input {i}: argmax {} ({:.4})", best.0, best.1);
        }
    }
    if let Some(out) = &args.out {
        let tmp = out.with_extension(format!("tmp-{}", crate::fsutil::unique_suffix()));
        ndarray_npy::write_npy(&tmp, y).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(code)
}

/// Differences between two runs of a program: tensors and per-layer cycles.
pub fn compare_runs(a: &IntRun, b: &IntRun) -> Vec<String> {
    let mut m = Vec::new();
    let mut names: Vec<&String> = a.tensors.keys().collect();
    names.sort();
    for name in names {
        if a.tensors.get(name) != b.tensors.get(name) {
            m.push(format!("tensor {name:?} differs"));
        }
    }
    for (x, y) in a.layers.iter().zip(&b.layers) {
        if x.cycles != y.cycles {
            m.push(format!("layer {}: cycles {:?} (model) vs {:?} (RTL)", x.name, x.cycles, y.cycles));
        }
    }
    m
}
