//! SVG plots of one (workload, target) group with plotters' SVG backend: cycles against area and
//! cycles against energy, log-log. Grey: every feasible point; red: the Pareto front over (cycles,
//! area, energy), with the two-objective front of the plotted pair as a red staircase. Text is left
//! to the SVG viewer's fonts (no font files are read), so the plots build anywhere.

use super::pareto;
use super::record::PointRecord;
use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// Which objective goes on the y axis.
#[derive(Debug, Clone, Copy)]
pub enum YAxis {
    Area,
    Energy,
}

/// An SVG document; `front` are indices into `points` (all feasible, same group).
pub fn svg(title: &str, points: &[&PointRecord], front: &[usize], y: YAxis) -> Result<String> {
    let yv = |p: &PointRecord| match y {
        YAxis::Area => p.area.unwrap_or(0) as f64,
        YAxis::Energy => p.energy_pj / 1e6,
    };
    let y_desc = match y {
        YAxis::Area => points.first().map(|p| p.area_unit.clone()).unwrap_or_default(),
        YAxis::Energy => "energy (uJ)".to_string(),
    };
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.cycles as f64, yv(p))).collect();
    anyhow::ensure!(xy.iter().all(|&(x, y)| x > 0.0 && y > 0.0), "{title}: log axes need positive figures");
    let range = |vals: Vec<f64>| {
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(0.0, f64::max);
        (lo / 1.5)..(hi * 1.5)
    };
    let xr = range(xy.iter().map(|p| p.0).collect());
    let yr = range(xy.iter().map(|p| p.1).collect());
    // The staircase: the front of just the two plotted objectives, by cycles.
    let pairs: Vec<[f64; 2]> = xy.iter().map(|&(x, y)| [x, y]).collect();
    let mut stairs: Vec<(f64, f64)> = Vec::new();
    for i in pareto::front(&pairs) {
        let (x, y) = xy[i];
        if let Some(&(_, prev_y)) = stairs.last() {
            stairs.push((x, prev_y));
        }
        stairs.push((x, y));
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (800, 560)).into_drawing_area();
        let err = |e: &dyn std::fmt::Debug| anyhow!("plotting {title}: {e:?}");
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(xr.log_scale(), yr.log_scale())
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("cycles")
            .y_desc(y_desc)
            .x_label_formatter(&|v| short(*v))
            .y_label_formatter(&|v| short(*v))
            .draw()
            .map_err(|e| err(&e))?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(xy.iter().map(|&p| Circle::new(p, 4, grey.filled())))
            .map_err(|e| err(&e))?
            .label("points")
            .legend(move |p| Circle::new(p, 4, grey.filled()));
        chart.draw_series(LineSeries::new(stairs, RED.stroke_width(1))).map_err(|e| err(&e))?;
        chart
            .draw_series(front.iter().map(|&i| Circle::new(xy[i], 5, RED.filled())))
            .map_err(|e| err(&e))?
            .label("Pareto front (cycles, area, energy)")
            .legend(|p| Circle::new(p, 5, RED.filled()));
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

/// 1.5k, 2.3M: short axis labels.
fn short(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let digits = if scaled.abs() >= 100.0 || scaled.fract() == 0.0 { 0 } else { 1 };
    format!("{scaled:.digits$}{suffix}")
}
