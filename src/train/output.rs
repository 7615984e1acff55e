//! What `accelc train-demo` shows and writes: the terminal summary, `report.json` (options, curves,
//! per-layer counts), `loss_curves.csv`, `loss_curves.svg` and `sample_jobs.json` (the jobs for the RTL
//! cross-check).

use super::adding::TRIVIAL_MSE;
use super::demo::{sample_jobs, DemoReport, RunReport};
use crate::config::Params;
use crate::model::sparse_array::Phase;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::fmt::Write;
use std::path::Path;

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

/// The terminal summary.
pub fn summary(r: &DemoReport, p: &Params) -> String {
    let o = &r.options;
    let mut s = String::new();
    let dil: Vec<String> = o.dilations.iter().map(|d| d.to_string()).collect();
    let _ = writeln!(
        s,
        "network: TCN, T = {}, {} blocks x {} causal convs (dilations {}), {} hidden channels, {} taps, \
         {} parameters, receptive field {}",
        o.len,
        o.dilations.len(),
        o.convs_per_block,
        dil.join(","),
        o.hidden,
        p.cols,
        r.parameters,
        r.receptive_field
    );
    let _ = writeln!(
        s,
        "array: {} ({} PE rows x {} taps, act {} / weight {} / acc {} bits); {} steps of batch {}, Adam lr {} \
         (cosine to {}), seed {}",
        r.config,
        p.rows,
        p.cols,
        p.act_bits,
        p.weight_bits,
        p.acc_bits,
        o.steps,
        o.batch,
        o.lr,
        o.lr * o.lr_floor,
        o.seed
    );
    let _ = writeln!(
        s,
        "\nloss (MSE; train = mean over the last {} batches, eval = {} held-out samples; trivial {:.3})",
        o.log_every, o.eval_samples, TRIVIAL_MSE
    );
    let _ = writeln!(s, "  {:>6}  {:>9} {:>9}   {:>9} {:>9}", "", "unpruned", "", "pruned", "");
    let _ = writeln!(s, "  {:>6}  {:>9} {:>9}   {:>9} {:>9}", "step", "train", "eval", "train", "eval");
    for (u, q) in r.unpruned.curve.iter().zip(&r.pruned.curve) {
        let _ = writeln!(
            s,
            "  {:>6}  {:>9.5} {:>9.5}   {:>9.5} {:>9.5}",
            u.step, u.train_loss, u.eval_loss, q.train_loss, q.eval_loss
        );
    }
    let _ = writeln!(
        s,
        "final held-out loss: unpruned {:.6}, pruned {:.6} (ratio {:.4}): pruned within 10% of unpruned: {}",
        r.unpruned.final_loss,
        r.pruned.final_loss,
        r.loss_ratio(),
        if r.converged_within_10pct() { "yes" } else { "NO" }
    );

    let _ = writeln!(
        s,
        "\noutput-gradient sparsity per conv layer (zeros in the streamed dy; target {:.2})",
        o.target_sparsity
    );
    let _ = writeln!(s, "  {:>5} {:>4}  {:>9} {:>9} {:>9}", "layer", "dil", "unpruned", "pruned", "mean tau");
    let shape = o.shape_for(p);
    for (l, (u, q)) in r.unpruned.layers.iter().zip(&r.pruned.layers).enumerate() {
        let _ = writeln!(
            s,
            "  {:>5} {:>4}  {:>9.3} {:>9.3} {:>9.0}",
            l,
            shape.conv(l).dilation,
            u.grad_sparsity(),
            q.grad_sparsity(),
            q.mean_tau()
        );
    }
    let all = |run: &RunReport, f: fn(&super::array_engine::LayerStats) -> u64| -> u64 {
        run.layers.iter().map(f).sum()
    };
    let _ = writeln!(
        s,
        "  {:>10}  {:>9.3} {:>9.3}",
        "all",
        ratio(all(&r.unpruned, |l| l.grad_zeros_pruned), all(&r.unpruned, |l| l.grad_values)),
        ratio(all(&r.pruned, |l| l.grad_zeros_pruned), all(&r.pruned, |l| l.grad_values))
    );

    let _ = writeln!(
        s,
        "\narray cycles, all layers: compressed stream (zeros skipped) over all {} steps; compressed vs the \
         same dataflow fed dense over the {} steps measured both ways (every {}th and the last)",
        o.steps, r.pruned.dense_steps, o.dense_every
    );
    let _ = writeln!(
        s,
        "  {:<9} {:<16} {:>12} {:>10} | {:>11} {:>11} {:>8}",
        "run", "phase", "all steps", "cycles/nnz", "measured", "dense", "speedup"
    );
    for run in [&r.unpruned, &r.pruned] {
        let name = if run.pruned { "pruned" } else { "unpruned" };
        let (mut ba, mut bc, mut bd) = (0, 0, 0);
        for phase in Phase::ALL {
            let t = run.phase_total(phase);
            if phase != Phase::Forward {
                ba += t.cycles;
                bc += t.measured_cycles;
                bd += t.dense_cycles;
            }
            let _ = writeln!(
                s,
                "  {:<9} {:<16} {:>12} {:>10.2} | {:>11} {:>11} {:>7.2}x",
                name,
                phase.name(),
                t.cycles,
                ratio(t.cycles, t.nnz),
                t.measured_cycles,
                t.dense_cycles,
                ratio(t.dense_cycles, t.measured_cycles)
            );
        }
        let _ = writeln!(
            s,
            "  {:<9} {:<16} {:>12} {:>10} | {:>11} {:>11} {:>7.2}x",
            name,
            "backward",
            ba,
            "",
            bc,
            bd,
            ratio(bd, bc)
        );
    }
    let back = |run: &RunReport| {
        run.phase_total(Phase::InputGradient).cycles + run.phase_total(Phase::WeightGradient).cycles
    };
    let _ = writeln!(
        s,
        "backward speedup of pruning (unpruned compressed / pruned compressed): {:.2}x",
        ratio(back(&r.unpruned), back(&r.pruned))
    );
    let _ = writeln!(
        s,
        "run time: unpruned {:.1} s, pruned {:.1} s (in parallel)",
        r.unpruned.seconds, r.pruned.seconds
    );
    s
}

/// The curves as CSV: step, unpruned train/eval, pruned train/eval.
pub fn curves_csv(r: &DemoReport) -> String {
    let mut s = String::from("step,unpruned_train,unpruned_eval,pruned_train,pruned_eval\n");
    for (u, q) in r.unpruned.curve.iter().zip(&r.pruned.curve) {
        let _ = writeln!(s, "{},{},{},{},{}", u.step, u.train_loss, u.eval_loss, q.train_loss, q.eval_loss);
    }
    s
}

/// Both held-out loss curves (log scale) and the trivial predictor's loss, as SVG.
pub fn plot_curves(r: &DemoReport, path: &Path) -> Result<()> {
    let points = |run: &RunReport| -> Vec<(f64, f64)> {
        run.curve.iter().map(|c| (c.step as f64, c.eval_loss.max(1e-6))).collect()
    };
    let (u, q) = (points(&r.unpruned), points(&r.pruned));
    let lo = u.iter().chain(&q).map(|p| p.1).fold(TRIVIAL_MSE, f64::min) * 0.7;
    let hi = u.iter().chain(&q).map(|p| p.1).fold(TRIVIAL_MSE, f64::max) * 1.4;
    let steps = r.options.steps as f64;
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("TCN on the adding problem, {}: held-out MSE", r.config), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..steps, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("MSE")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.3}"))
        .draw()?;
    chart
        .draw_series(LineSeries::new([(0.0, TRIVIAL_MSE), (steps, TRIVIAL_MSE)], BLACK.mix(0.4)))?
        .label("trivial predictor (1/6)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    chart
        .draw_series(LineSeries::new(u, BLUE.stroke_width(2)))?
        .label("unpruned")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let target = r.options.target_sparsity;
    chart
        .draw_series(LineSeries::new(q, RED.stroke_width(2)))?
        .label(format!("pruned dy (target sparsity {target})"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

/// Writes report.json, loss_curves.csv, loss_curves.svg and sample_jobs.json into `dir`.
pub fn write_outputs(r: &DemoReport, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, text: String| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("report.json", serde_json::to_string_pretty(r)?)?;
    write("loss_curves.csv", curves_csv(r))?;
    let sample = serde_json::json!({
        "format_version": 1,
        "config": r.config,
        "layer": r.pruned.sample.layer,
        "jobs": sample_jobs(r),
    });
    write("sample_jobs.json", serde_json::to_string_pretty(&sample)?)?;
    let svg = dir.join("loss_curves.svg");
    plot_curves(r, &svg).with_context(|| format!("plotting {}", svg.display()))
}
