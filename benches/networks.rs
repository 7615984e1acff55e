//! `make bench-networks`: whole real networks compiled for system tops (`network::program`) and run
//! on the cycle-exact system model (`run::CycleModel`): the PP-OCR text-direction classifier (one
//! 48 x 192 crop, calibrated on 12 crops) and the PP-OCRv4 text detector (one 96 x 160 image,
//! calibrated on its 3 samples), on MAC 8x8 and 16x16 arrays of both dataflows and an 8x8 SAC array.
//! Per accelerator layer and in total: cycles (START to DONE of each layer's run, loads and stores
//! included), utilization (useful MACs / (cycles x PEs)) and energy per inference
//! (`network::energy`: compute, scratchpads, streams; 45 nm Horowitz table, no leakage).
//!
//! The banks keep the presets' sizes in words; the SAC array (CSD, KS = C = 8) has R = 8 rows, so its
//! activation fetcher (one word per edge, R per kneading group) bounds it at one group per 8 edges,
//! a MAC array's pace, however many weight bits are zero (the 4x8 preset keeps R = 4 for that
//! reason); the zero bits show in its energy.
//!
//! Then fidelity: the int8 programs (fast backend: the system top's integers) against the float
//! networks on all real samples, by calibration set and method (classifier top-1 agreement on 36
//! crops, detector text-mask IoU per image); the kneading-stride sweep of the SAC design
//! (`network::kneading`); and pruning: for each setting, the classifier's accelerator layers' value
//! sparsity and zero-bit fraction, top-1 agreement of the int8 program with the unpruned float
//! network over all 36 crops, the SQNR of its logits against the float logits, total cycles and
//! energy per design on one crop, and the detector pruned alike: its int8 text-mask IoU against the
//! unpruned float detector.
//!
//! Writes rtl_out/bench/networks.json, networks.csv (per layer and design), networks_pruning.csv
//! and networks_pruning_cycles.svg.

use accelc::config::{Config, PeKind};
use accelc::energy::EnergyTable;
use accelc::network::energy::{layer_energy, LayerEnergy};
use accelc::network::program::{compile, Calibration, Program};
use accelc::network::prune::{prune, sparsity_report, PruneSpec};
use accelc::network::run::{run, sqnr_db, CycleModel, Fast, IntRun};
use accelc::network::{float, import_file, kneading, samples, Network, Op, Value};
use accelc::system::SystemParams;
use anyhow::{anyhow, Context, Result};
use ndarray::{ArrayD, Axis};
use plotters::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// A system top the networks run on.
struct Design {
    name: String,
    sp: SystemParams,
}

/// A preset with the array resized to `rows x cols` (the stream one channel vector wide, a SAC
/// kneading group one activation word); the banks keep their sizes in words. Validated.
fn design(preset: &str, rows: u32, cols: u32) -> Result<Design> {
    let path = PathBuf::from("configs").join(format!("{preset}.toml"));
    let mut c = Config::load(&path).map_err(|e| anyhow!("{e}"))?;
    let kind = match c.pe.kind {
        PeKind::Sac => "sac",
        _ => "mac",
    };
    c.name = format!("{kind}_{}_{rows}x{cols}", c.array.dataflow.short());
    c.array.rows = rows;
    c.array.cols = cols;
    if c.pe.kind == PeKind::Sac {
        c.pe.kneading_stride = Some(cols);
    }
    let s = c.system.as_mut().context("a system preset")?;
    s.stream_bits = cols * 8;
    s.out_words = s.out_words.max(rows);
    let c = Config::parse(&c.name, &toml::to_string(&c)?).map_err(|e| anyhow!("{e}"))?;
    let sp = SystemParams::of(&c).context("a system")?;
    Ok(Design { name: c.name, sp })
}

fn designs() -> Result<Vec<Design>> {
    Ok(vec![
        design("system_os_8x8_i8", 8, 8)?,
        design("system_ws_8x8_i8", 8, 8)?,
        design("system_os_8x8_i8", 16, 16)?,
        design("system_ws_8x8_i8", 16, 16)?,
        design("system_sac_4x8_i8", 8, 8)?,
    ])
}

#[derive(Serialize)]
struct LayerRow {
    network: String,
    design: String,
    layer: String,
    jobs: usize,
    macs: u64,
    cycles: u64,
    utilization: f64,
    array_macs: u64,
    adds: u64,
    weight_digits: u64,
    sram_read_bits: u64,
    sram_write_bits: u64,
    stream_in_bytes: u64,
    stream_out_bytes: u64,
    compute_pj: f64,
    sram_pj: f64,
    stream_pj: f64,
    energy_pj: f64,
}

#[derive(Serialize)]
struct DesignTotal {
    network: String,
    design: String,
    layers: usize,
    jobs: usize,
    macs: u64,
    cycles: u64,
    utilization: f64,
    compute_pj: f64,
    sram_pj: f64,
    stream_pj: f64,
    energy_pj: f64,
    pj_per_mac: f64,
    compile_s: f64,
    run_s: f64,
}

#[derive(Serialize)]
struct PruneRow {
    setting: String,
    /// Accelerator-layer weights left (filter pruning removes some), of those before.
    weights_kept: f64,
    value_sparsity: f64,
    zero_bit_fraction: f64,
    top1_agreement: f64,
    label_accuracy: f64,
    logits_sqnr_db: f64,
    /// The int8 logits against the pruned float network's: the quantization error alone.
    quant_sqnr_db: f64,
    cycles: Vec<u64>,
    energy_pj: Vec<f64>,
    /// The detector pruned alike: int8 text-mask IoU against the unpruned float detector, per image
    /// with text.
    det_iou: Vec<f64>,
}

/// One design's run of `program` on `x` (one image) with every layer's energy.
fn cycle_run(
    network: &str,
    d: &Design,
    program: &Program,
    x: &ArrayD<f32>,
) -> Result<(IntRun, Vec<LayerRow>)> {
    let r = run(program, &d.sp, x, &mut CycleModel { sp: d.sp.clone() }, &mut |_, _| {})?;
    let table = EnergyTable::horowitz_45nm();
    let mut rows = Vec::new();
    for (l, rec) in program.layers().zip(&r.layers) {
        let e: LayerEnergy = layer_energy(&d.sp, l, &table);
        anyhow::ensure!(
            rec.name == l.name && rec.jobs == l.jobs.len() && rec.macs == e.macs,
            "{}: the run's jobs ({}, {} MACs) are not the program's ({}, {} MACs)",
            l.name,
            rec.jobs,
            rec.macs,
            l.jobs.len(),
            e.macs
        );
        rows.push(LayerRow {
            network: network.into(),
            design: d.name.clone(),
            layer: l.name.clone(),
            jobs: rec.jobs,
            macs: rec.macs,
            cycles: rec.cycles.context("the cycle model counts cycles")?,
            utilization: rec.utilization.unwrap_or(0.0),
            array_macs: e.array_macs,
            adds: e.adds,
            weight_digits: e.weight_digits,
            sram_read_bits: e.sram_read_bits,
            sram_write_bits: e.sram_write_bits,
            stream_in_bytes: e.stream_in_bytes,
            stream_out_bytes: e.stream_out_bytes,
            compute_pj: e.compute_pj,
            sram_pj: e.sram_pj,
            stream_pj: e.stream_pj,
            energy_pj: e.total_pj,
        });
    }
    Ok((r, rows))
}

fn total(network: &str, d: &Design, rows: &[LayerRow], compile_s: f64, run_s: f64) -> DesignTotal {
    let sum = |f: &dyn Fn(&LayerRow) -> f64| rows.iter().map(f).sum::<f64>();
    let (macs, cycles) =
        (rows.iter().map(|r| r.macs).sum::<u64>(), rows.iter().map(|r| r.cycles).sum::<u64>());
    let energy = sum(&|r| r.energy_pj);
    DesignTotal {
        network: network.into(),
        design: d.name.clone(),
        layers: rows.len(),
        jobs: rows.iter().map(|r| r.jobs).sum(),
        macs,
        cycles,
        utilization: macs as f64 / (cycles as f64 * (d.sp.rows * d.sp.cols) as f64),
        compute_pj: sum(&|r| r.compute_pj),
        sram_pj: sum(&|r| r.sram_pj),
        stream_pj: sum(&|r| r.stream_pj),
        energy_pj: energy,
        pj_per_mac: energy / macs as f64,
        compile_s,
        run_s,
    }
}

/// Per layer, side by side per design: cycles, utilization, energy.
fn print_layers(designs: &[Design], rows: &[LayerRow]) {
    let n = rows.len() / designs.len();
    print!("{:<34} {:>9} {:>4}", "layer", "MACs", "jobs");
    for d in designs {
        print!(" | {:^22}", d.name);
    }
    println!();
    print!("{:<34} {:>9} {:>4}", "", "", "");
    for _ in designs {
        print!(" | {:>8} {:>5} {:>7}", "cycles", "util", "nJ");
    }
    println!();
    for i in 0..n {
        let first = &rows[i];
        print!("{:<34} {:>9} {:>4}", short_name(&first.layer), first.macs, first.jobs);
        for k in 0..designs.len() {
            let r = &rows[k * n + i];
            print!(" | {:>8} {:>5.3} {:>7.1}", r.cycles, r.utilization, r.energy_pj / 1e3);
        }
        println!();
    }
}

fn short_name(s: &str) -> String {
    if s.len() <= 34 {
        s.to_string()
    } else {
        format!("..{}", &s[s.len() - 32..])
    }
}

fn print_totals(totals: &[DesignTotal]) {
    println!(
        "{:<16} {:>6} {:>5} {:>11} {:>10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>7} {:>8} {:>7}",
        "design",
        "layers",
        "jobs",
        "MACs",
        "cycles",
        "util",
        "compute uJ",
        "SRAM uJ",
        "stream uJ",
        "total uJ",
        "pJ/MAC",
        "compile s",
        "run s"
    );
    for t in totals {
        println!(
            "{:<16} {:>6} {:>5} {:>11} {:>10} {:>6.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>7.3} {:>8.1} {:>7.1}",
            t.design,
            t.layers,
            t.jobs,
            t.macs,
            t.cycles,
            t.utilization,
            t.compute_pj / 1e6,
            t.sram_pj / 1e6,
            t.stream_pj / 1e6,
            t.energy_pj / 1e6,
            t.pj_per_mac,
            t.compile_s,
            t.run_s
        );
    }
}

/// The first image of a batch, batch 1.
fn first(x: &ArrayD<f32>) -> ArrayD<f32> {
    x.slice_axis(Axis(0), (0..1).into()).to_owned()
}

/// Both networks on every design: (per-layer rows, totals).
fn network_tables(
    designs: &[Design],
    name: &str,
    net: &Network,
    calib: &ArrayD<f32>,
    x: &ArrayD<f32>,
) -> Result<(Vec<LayerRow>, Vec<DesignTotal>)> {
    let (mut rows, mut totals) = (Vec::new(), Vec::new());
    for d in designs {
        let t0 = Instant::now();
        let program = compile(net, &d.name, &d.sp, std::slice::from_ref(calib), Calibration::Mse)?;
        let compile_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (_, r) = cycle_run(name, d, &program, x).with_context(|| format!("{name} on {}", d.name))?;
        let run_s = t1.elapsed().as_secs_f64();
        eprintln!("  {name} on {}: compile {compile_s:.1} s, cycle model {run_s:.1} s", d.name);
        totals.push(total(name, d, &r, compile_s, run_s));
        rows.extend(r);
    }
    Ok((rows, totals))
}

/// The tensor the classifier's last Softmax reads (its output is the graph's, through an Identity).
fn logits_name(net: &Network) -> Result<String> {
    net.nodes()
        .into_iter()
        .rfind(|n| matches!(n.op, Op::Softmax { .. }))
        .map(|n| n.inputs[0].clone())
        .context("the classifier has a Softmax")
}

fn argmax<'a>(row: impl IntoIterator<Item = &'a f32>) -> usize {
    let best = row
        .into_iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
    best.0
}

fn float_f32(env: &std::collections::HashMap<String, Value>, name: &str) -> Result<ArrayD<f32>> {
    match env.get(name) {
        Some(Value::F32(a)) => Ok(a.clone()),
        _ => Err(anyhow!("no float tensor {name:?}")),
    }
}

/// The detector's text mask (probability > 0.3, rapidocr's threshold) IoU of `q` against `f`, image
/// `i`; None when neither has text.
fn mask_iou(f: &ArrayD<f32>, q: &ArrayD<f32>, i: usize) -> Option<f64> {
    let (f, q) = (f.index_axis(Axis(0), i), q.index_axis(Axis(0), i));
    let pairs = || f.iter().zip(q.iter());
    let inter = pairs().filter(|(a, b)| **a > 0.3 && **b > 0.3).count();
    let union = pairs().filter(|(a, b)| **a > 0.3 || **b > 0.3).count();
    (union > 0).then(|| inter as f64 / union as f64)
}

#[derive(Serialize)]
struct FidelityRow {
    network: String,
    calibration: String,
    method: String,
    /// Classifier: crops whose int8 top-1 equals float's, of 36; detector: mask IoU per image.
    top1_agreement: Option<usize>,
    iou: Vec<Option<f64>>,
    output_sqnr_db: f64,
}

/// Int8 against float on the real samples (the fast backend: the system top's integers), by
/// calibration set and method, on `d`.
fn fidelity(
    d: &Design,
    cls_net: &Network,
    cls: &samples::ClsSamples,
    det_net: &Network,
    det: &samples::DetSamples,
) -> Result<Vec<FidelityRow>> {
    let mut rows = Vec::new();
    let float_out = |net: &Network, x: &ArrayD<f32>| -> Result<ArrayD<f32>> {
        let env = float::run(net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))])?;
        float_f32(&env, &net.outputs[0])
    };
    let fy = float_out(cls_net, &cls.inputs)?;
    let sets: [(&str, Vec<usize>); 3] = [
        ("every third crop", (0..36).step_by(3).collect()),
        ("all 36 crops", (0..36).collect()),
        ("first 12 (printed text only)", (0..12).collect()),
    ];
    for (set, pick) in &sets {
        for method in [Calibration::Mse, Calibration::Max] {
            let calib = cls.inputs.select(Axis(0), pick);
            let program = compile(cls_net, &d.name, &d.sp, &[calib], method)?;
            let r = run(&program, &d.sp, &cls.inputs, &mut Fast, &mut |_, _| {})?;
            let qy = &r.outputs[0].1;
            let agree = fy.rows().into_iter().zip(qy.rows()).filter(|(a, b)| argmax(a) == argmax(b)).count();
            rows.push(FidelityRow {
                network: "classifier".into(),
                calibration: set.to_string(),
                method: format!("{method:?}").to_lowercase(),
                top1_agreement: Some(agree),
                iou: vec![],
                output_sqnr_db: sqnr_db(&fy, qy),
            });
        }
    }
    let fy = float_out(det_net, &det.inputs)?;
    for method in [Calibration::Mse, Calibration::Max] {
        let program = compile(det_net, &d.name, &d.sp, std::slice::from_ref(&det.inputs), method)?;
        let r = run(&program, &d.sp, &det.inputs, &mut Fast, &mut |_, _| {})?;
        let qy = &r.outputs[0].1;
        rows.push(FidelityRow {
            network: "detector".into(),
            calibration: "its 3 images".into(),
            method: format!("{method:?}").to_lowercase(),
            top1_agreement: None,
            iou: (0..det.names.len()).map(|i| mask_iou(&fy, qy, i)).collect(),
            output_sqnr_db: sqnr_db(&fy, qy),
        });
    }
    Ok(rows)
}

fn print_fidelity(rows: &[FidelityRow], det: &samples::DetSamples) {
    println!(
        "{:<11} {:<30} {:<6} {:>12} {:>10}  detector mask IoU per image",
        "network", "calibrated on", "method", "top-1 (/36)", "SQNR dB"
    );
    for r in rows {
        let iou: Vec<String> = r
            .iou
            .iter()
            .zip(&det.names)
            .map(|(v, n)| format!("{n}: {}", v.map_or("no text".into(), |v| format!("{v:.3}"))))
            .collect();
        println!(
            "{:<11} {:<30} {:<6} {:>12} {:>10.1}  {}",
            r.network,
            r.calibration,
            r.method,
            r.top1_agreement.map_or("-".into(), |a| a.to_string()),
            r.output_sqnr_db,
            iou.join(", ")
        );
    }
}

/// The pruning table on the classifier.
fn pruning(
    designs: &[Design],
    net: &Network,
    cls: &samples::ClsSamples,
    det_net: &Network,
    det: &samples::DetSamples,
) -> Result<Vec<PruneRow>> {
    let det_float = {
        let env = float::run(det_net, &[(det_net.inputs[0].0.as_str(), Value::F32(det.inputs.clone()))])?;
        float_f32(&env, &det_net.outputs[0])?
    };
    let logits = logits_name(net)?;
    let input = net.inputs[0].0.clone();
    let env = float::run(net, &[(input.as_str(), Value::F32(cls.inputs.clone()))])?;
    let float_logits = float_f32(&env, &logits)?;
    let float_top: Vec<usize> = float_logits.rows().into_iter().map(argmax).collect();
    let calib = cls.inputs.slice_axis(Axis(0), (0..12).into()).to_owned();
    let crop = first(&cls.inputs);
    let n = cls.labels.len();
    let settings =
        ["none", "magnitude:0.2", "magnitude:0.5", "global:0.5", "nm:2:4", "nm:1:4", "filter:0.25"];
    let mut out = Vec::new();
    for setting in settings {
        let t0 = Instant::now();
        let mut pruned = net.clone();
        let report = match setting {
            "none" => sparsity_report(&pruned),
            s => prune(&mut pruned, &s.parse::<PruneSpec>()?)?,
        };
        let (mut cycles, mut energy, mut int_logits, mut int_top) = (vec![], vec![], vec![], vec![]);
        for (i, d) in designs.iter().enumerate() {
            let program = compile(&pruned, &d.name, &d.sp, std::slice::from_ref(&calib), Calibration::Mse)?;
            if i == 0 {
                // accuracy: the reference backend (the same integers as every design), one crop at a time
                for b in 0..n {
                    let x = cls.inputs.slice_axis(Axis(0), (b..b + 1).into()).to_owned();
                    let r = run(&program, &d.sp, &x, &mut Fast, &mut |_, _| {})?;
                    let l = r.tensors.get(&logits).and_then(|t| t.float()).context("the logits")?;
                    int_top.push(argmax(l.iter()));
                    int_logits.push(l);
                }
            }
            let (_, rows) = cycle_run("classifier", d, &program, &crop)?;
            cycles.push(rows.iter().map(|r| r.cycles).sum::<u64>());
            energy.push(rows.iter().map(|r| r.energy_pj).sum::<f64>());
        }
        let env = float::run(&pruned, &[(input.as_str(), Value::F32(cls.inputs.clone()))])?;
        let pruned_logits = float_f32(&env, &logits)?;
        let views: Vec<_> = int_logits.iter().map(|a| a.view()).collect();
        let int_logits = ndarray::concatenate(Axis(0), &views)?;
        let mut det_pruned = det_net.clone();
        if setting != "none" {
            prune(&mut det_pruned, &setting.parse::<PruneSpec>()?)?;
        }
        let d0 = &designs[0];
        let program =
            compile(&det_pruned, &d0.name, &d0.sp, std::slice::from_ref(&det.inputs), Calibration::Mse)?;
        let r = run(&program, &d0.sp, &det.inputs, &mut Fast, &mut |_, _| {})?;
        let det_iou = (0..det.names.len()).filter_map(|i| mask_iou(&det_float, &r.outputs[0].1, i)).collect();
        let agree = int_top.iter().zip(&float_top).filter(|(a, b)| a == b).count();
        let correct = int_top.iter().zip(&cls.labels).filter(|(a, b)| a == b).count();
        let row = PruneRow {
            setting: setting.into(),
            weights_kept: report.totals.weights as f64 / report.totals.weights_before as f64,
            value_sparsity: report.totals.value_sparsity,
            zero_bit_fraction: report.totals.zero_bit_fraction,
            top1_agreement: agree as f64 / n as f64,
            label_accuracy: correct as f64 / n as f64,
            logits_sqnr_db: sqnr_db(&float_logits, &int_logits),
            quant_sqnr_db: sqnr_db(&pruned_logits, &int_logits),
            cycles,
            energy_pj: energy,
            det_iou,
        };
        eprintln!("  pruning {setting}: {:.1} s", t0.elapsed().as_secs_f64());
        out.push(row);
    }
    Ok(out)
}

fn print_pruning(designs: &[Design], rows: &[PruneRow], float_accuracy: f64) {
    println!(
        "(kept: accelerator-layer weights left; sparsity: their zero fraction; 0-bits: zero magnitude bits of \
         their int8 values; top-1: the int8 program's decision against the unpruned float network's, 36 crops; \
         labels: against the crops' true orientation (float unpruned {:.3}); SQNR: int8 logits against the \
         unpruned float logits, SQNRq: against the pruned float logits; det IoU: the detector pruned alike, int8, \
         its text mask against the unpruned float detector's on its images with text; cycles on one crop)",
        float_accuracy
    );
    print!(
        "{:<14} {:>5} {:>8} {:>6} {:>6} {:>6} {:>6} {:>6} {:>11}",
        "setting", "kept", "sparsity", "0-bits", "top-1", "labels", "SQNR", "SQNRq", "det IoU"
    );
    for d in designs {
        print!(" {:>14}", d.name);
    }
    println!();
    for r in rows {
        print!(
            "{:<14} {:>5.3} {:>8.3} {:>6.3} {:>6.3} {:>6.3} {:>6.1} {:>6.1} {:>11}",
            r.setting,
            r.weights_kept,
            r.value_sparsity,
            r.zero_bit_fraction,
            r.top1_agreement,
            r.label_accuracy,
            r.logits_sqnr_db,
            r.quant_sqnr_db,
            r.det_iou.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join("/")
        );
        for c in &r.cycles {
            print!(" {c:>14}");
        }
        println!();
    }
    println!("energy per inference (uJ), same settings:");
    print!("{:<14}", "setting");
    for d in designs {
        print!(" {:>14}", d.name);
    }
    println!();
    for r in rows {
        print!("{:<14}", r.setting);
        for e in &r.energy_pj {
            print!(" {:>14.3}", e / 1e6);
        }
        println!();
    }
}

/// Cycles per design (one line each) across the pruning settings.
fn plot(designs: &[Design], rows: &[PruneRow]) -> Result<String> {
    let err = |e: &dyn std::fmt::Debug| anyhow!("plotting: {e:?}");
    let max = rows.iter().flat_map(|r| r.cycles.iter().copied()).max().unwrap_or(1) as f64;
    let names: Vec<String> = rows.iter().map(|r| r.setting.clone()).collect();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("PP-OCR classifier, one crop: cycles per pruning setting", ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.3f64..(rows.len() as f64 - 0.7), 0f64..max * 1.45)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(rows.len())
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("pruning")
            .y_desc("cycles (CycleModel)")
            .y_label_formatter(&|v| format!("{:.0}k", v / 1e3))
            .draw()
            .map_err(|e| err(&e))?;
        let colors = [RED, BLUE, GREEN, MAGENTA, BLACK];
        for (k, d) in designs.iter().enumerate() {
            let color = colors[k % colors.len()];
            let pts: Vec<(f64, f64)> =
                rows.iter().enumerate().map(|(i, r)| (i as f64, r.cycles[k] as f64)).collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(d.name.clone())
                .legend(move |p| Circle::new(p, 4, color.filled()));
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(text)
}

fn main() -> Result<()> {
    let start = Instant::now();
    let designs = designs()?;
    for d in &designs {
        let sp = &d.sp;
        println!(
            "design {:<16} {}x{} {:?}{}, stream {} bits, banks act {} / weight {} words",
            d.name,
            sp.rows,
            sp.cols,
            sp.dataflow,
            sp.sac.map_or(String::new(), |s| format!(" SAC KS {} {}", s.knead.ks, s.knead.encoding)),
            sp.stream_bits,
            sp.act_words,
            sp.weight_words
        );
    }
    let cls_net = import_file(&samples::classifier_path())?;
    let cls = samples::cls_samples()?;
    let det_net = import_file(&samples::det_path())?;
    let det = samples::det_samples()?;

    let mut rows = Vec::new();
    let mut totals = Vec::new();
    let cls_calib = cls.inputs.slice_axis(Axis(0), (0..12).into()).to_owned();
    for (name, net, calib, x, what) in [
        ("classifier", &cls_net, &cls_calib, first(&cls.inputs), format!("crop {:?}", cls.names[0])),
        ("detector", &det_net, &det.inputs, first(&det.inputs), format!("image {:?}", det.names[0])),
    ] {
        let t0 = Instant::now();
        let (r, t) = network_tables(&designs, name, net, calib, &x)?;
        println!(
            "\n== {name}: input {:?} ({what}), calibrated (MSE) on {} images; per accelerator layer:",
            x.shape(),
            calib.shape()[0]
        );
        print_layers(&designs, &r);
        println!("\n{name}, totals per inference:");
        print_totals(&t);
        eprintln!("  {name}: {:.1} s", t0.elapsed().as_secs_f64());
        rows.extend(r);
        totals.extend(t);
    }
    println!(
        "(cycles: each layer's run on the cycle model, START to DONE, frames at full stream speed; util: useful \
         MACs / (cycles x PEs); energy: network::energy, 45 nm, no leakage, registers not priced)"
    );

    let t0 = Instant::now();
    let fidelity_rows = fidelity(&designs[0], &cls_net, &cls, &det_net, &det)?;
    println!("\n== int8 against float on the real samples ({}; the system top's integers):", designs[0].name);
    print_fidelity(&fidelity_rows, &det);
    eprintln!("  fidelity: {:.1} s", t0.elapsed().as_secs_f64());

    let sac = designs.iter().find(|d| d.sp.sac.is_some()).context("a SAC design")?;
    println!(
        "\n== kneading stride per layer ({}'s weights; words = SAC beats per pixel tile, all layers):",
        sac.name
    );
    let mut strides_json = Vec::new();
    for (name, net, calib) in [("classifier", &cls_net, &cls_calib), ("detector", &det_net, &det.inputs)] {
        let program = compile(net, &sac.name, &sac.sp, std::slice::from_ref(calib), Calibration::Mse)?;
        let encoding = sac.sp.sac.as_ref().map(|s| s.knead.encoding).context("SAC")?;
        let layers = program
            .layers()
            .map(|l| kneading::sweep(l, &kneading::STRIDES, encoding))
            .collect::<Result<Vec<_>>>()?;
        let t = kneading::totals(&layers);
        print!("{name:<11}");
        for (ks, w) in kneading::STRIDES.iter().zip(&t.words) {
            print!("  KS {ks:>2}: {w:>8} words ({:.2} w/word)", t.weights as f64 / *w as f64);
        }
        println!(
            "\n{:<11}  each layer at its best KS: {} words (a smaller stride only ties the largest); \
             layers by the narrowest KS reaching their fewest words: {:?}",
            "", t.best, t.narrowest
        );
        strides_json.push(serde_json::json!({"network": name, "layers": layers}));
    }

    let t0 = Instant::now();
    let float_accuracy = {
        let env = float::run(&cls_net, &[(cls_net.inputs[0].0.as_str(), Value::F32(cls.inputs.clone()))])?;
        let p = float_f32(&env, &cls_net.outputs[0])?;
        let top: Vec<usize> = p.rows().into_iter().map(argmax).collect();
        top.iter().zip(&cls.labels).filter(|(a, b)| a == b).count() as f64 / cls.labels.len() as f64
    };
    let prune_rows = pruning(&designs, &cls_net, &cls, &det_net, &det)?;
    println!("\n== pruning the classifier (before quantization, no fine-tuning):");
    print_pruning(&designs, &prune_rows, float_accuracy);
    let pruning_s = t0.elapsed().as_secs_f64();

    let dir = PathBuf::from("rtl_out/bench");
    std::fs::create_dir_all(&dir)?;
    let svg = plot(&designs, &prune_rows)?;
    std::fs::write(dir.join("networks_pruning_cycles.svg"), svg)?;
    let elapsed = start.elapsed().as_secs_f64();
    std::fs::write(
        dir.join("networks.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "format_version": 1,
            "designs": designs.iter().map(|d| &d.sp).collect::<Vec<_>>(),
            "energy_table": EnergyTable::horowitz_45nm().rows(),
            "totals": totals,
            "layers": rows,
            "fidelity": fidelity_rows,
            "kneading_strides": strides_json,
            "pruning": {"float_label_accuracy": float_accuracy, "designs": designs.iter().map(|d| &d.name).collect::<Vec<_>>(), "rows": prune_rows},
            "seconds": {"total": elapsed, "pruning": pruning_s},
        }))?,
    )?;
    let mut csv = csv::Writer::from_path(dir.join("networks.csv"))?;
    for r in &rows {
        csv.serialize(r)?;
    }
    csv.flush()?;
    let mut csv = csv::Writer::from_path(dir.join("networks_pruning.csv"))?;
    csv.write_record(
        [
            "setting",
            "weights_kept",
            "value_sparsity",
            "zero_bit_fraction",
            "top1_agreement",
            "label_accuracy",
            "logits_sqnr_db",
            "quant_sqnr_db",
            "det_iou",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(designs.iter().map(|d| format!("cycles_{}", d.name)))
        .chain(designs.iter().map(|d| format!("energy_pj_{}", d.name))),
    )?;
    for r in &prune_rows {
        let figures = [
            r.weights_kept,
            r.value_sparsity,
            r.zero_bit_fraction,
            r.top1_agreement,
            r.label_accuracy,
            r.logits_sqnr_db,
            r.quant_sqnr_db,
        ];
        csv.write_record(
            std::iter::once(r.setting.clone())
                .chain(figures.iter().map(|v| v.to_string()))
                .chain(std::iter::once(r.det_iou.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("/")))
                .chain(r.cycles.iter().map(|c| c.to_string()))
                .chain(r.energy_pj.iter().map(|e| e.to_string())),
        )?;
    }
    csv.flush()?;
    println!(
        "\nwrote rtl_out/bench/networks.json, networks.csv, networks_pruning.csv, networks_pruning_cycles.svg \
         ({elapsed:.0} s)"
    );
    Ok(())
}
