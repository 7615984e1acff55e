//! The Pareto fronts of a finished exploration, per (workload, target) group, as records (for
//! `pareto.csv`) and as a markdown table (for the terminal and the README).

use super::pareto;
use super::record::{PointRecord, PointsFile};

/// One group: its points (feasible or not) and the front (indices into `points`, by cycles).
pub struct Group<'a> {
    pub workload: &'a str,
    pub target: &'a str,
    pub points: Vec<&'a PointRecord>,
    /// Feasible points of the group, the ones the front is taken over.
    pub feasible: Vec<&'a PointRecord>,
    /// Indices into `feasible`.
    pub front: Vec<usize>,
    /// Every feasible point was routed (has an Fmax): time is the workload's latency in seconds at
    /// Fmax, not cycles, so a design that takes more cycles at a faster clock can win.
    pub timed: bool,
}

/// The objectives: time (the workload's latency at Fmax when `timed`, else cycles), area, energy
/// (all minimized).
pub fn objectives(r: &PointRecord, timed: bool) -> [f64; 3] {
    let time = if timed { r.latency_us().unwrap_or(f64::INFINITY) } else { r.cycles as f64 };
    [time, r.area.unwrap_or(u64::MAX) as f64, r.energy_pj]
}

/// Groups in the file's workload order, then target order; groups without points are left out.
pub fn groups(file: &PointsFile) -> Vec<Group<'_>> {
    let mut out = Vec::new();
    for w in &file.workloads {
        for t in &file.targets {
            let points: Vec<&PointRecord> =
                file.points.iter().filter(|r| r.group() == (w.as_str(), t.as_str())).collect();
            if points.is_empty() {
                continue;
            }
            let feasible: Vec<&PointRecord> = points.iter().copied().filter(|r| r.feasible()).collect();
            let timed = !feasible.is_empty() && feasible.iter().all(|r| r.fmax_mhz.is_some());
            let objs: Vec<[f64; 3]> = feasible.iter().map(|r| objectives(r, timed)).collect();
            let front = pareto::front(&objs);
            out.push(Group { workload: w, target: t, points, feasible, front, timed });
        }
    }
    out
}

/// Every front member, group by group.
pub fn front_records(file: &PointsFile) -> Vec<PointRecord> {
    groups(file).iter().flat_map(|g| g.front.iter().map(|&i| g.feasible[i].clone())).collect()
}

/// The markdown tables of every group's front.
pub fn markdown(file: &PointsFile) -> String {
    let mut s = String::new();
    for g in groups(file) {
        let unit = g.points[0].area_unit.clone();
        let infeasible = g.points.len() - g.feasible.len();
        let time = if g.timed { "latency at Fmax" } else { "cycles" };
        s += &format!(
            "\n### {} on {}: {} points{}, {} on the Pareto front ({time}, {unit}, energy)\n\n",
            g.workload,
            g.target,
            g.points.len(),
            if infeasible > 0 { format!(" ({infeasible} infeasible or failed)") } else { String::new() },
            g.front.len()
        );
        let fmax = g.front.iter().any(|&i| g.feasible[i].fmax_mhz.is_some());
        let mut head: Vec<String> = vec!["design".into()];
        head.extend(file.columns.iter().cloned());
        head.extend(["cycles".into(), unit.clone(), "energy (uJ)".into()]);
        if fmax {
            head.extend(["Fmax (MHz)".into(), "latency (us)".into(), "GMAC/s".into()]);
        }
        s += &format!("| {} |\n", head.join(" | "));
        let aligns: Vec<&str> = head
            .iter()
            .enumerate()
            .map(|(i, _)| if i <= file.columns.len() { "---" } else { "---:" })
            .collect();
        s += &format!("|{}|\n", aligns.join("|"));
        for &i in &g.front {
            let r = g.feasible[i];
            let mut row = vec![r.design.clone()];
            row.extend(r.values.iter().map(|v| if v.is_empty() { "-".to_string() } else { v.clone() }));
            row.push(r.cycles.to_string());
            row.push(r.area.map(|a| a.to_string()).unwrap_or_default());
            row.push(format!("{:.3}", r.energy_pj / 1e6));
            if fmax {
                let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
                row.push(opt(r.fmax_mhz, 1));
                row.push(opt(r.latency_us(), 1));
                row.push(opt(r.gmacs(), 3));
            }
            s += &format!("| {} |\n", row.join(" | "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::record::Status;

    fn point(index: usize, cycles: u64, fmax_mhz: Option<f64>) -> PointRecord {
        PointRecord {
            index,
            design: format!("d{index}"),
            workload: "w".into(),
            target: "ecp5".into(),
            values: vec![],
            status: Status::Ok,
            note: String::new(),
            cycles,
            macs: 1_000_000,
            energy_pj: 1.0,
            core_energy_pj: 1.0,
            area: Some(100),
            area_unit: "LUTs".into(),
            cells: None,
            flip_flops: None,
            dsp: None,
            fmax_mhz,
        }
    }

    fn file(points: Vec<PointRecord>) -> PointsFile {
        PointsFile {
            format_version: crate::config::FORMAT_VERSION,
            space: "s".into(),
            plan_digest: String::new(),
            total_points: points.len(),
            shard: None,
            columns: vec![],
            workloads: vec!["w".into()],
            targets: vec!["ecp5".into()],
            designs: Default::default(),
            skipped: vec![],
            points,
        }
    }

    /// Routed points compete on latency at Fmax: 20% more cycles at twice the clock wins; without
    /// an Fmax for every point the group compares cycles.
    #[test]
    fn routed_groups_compare_latency_not_cycles() {
        let f = file(vec![point(0, 1000, Some(50.0)), point(1, 1200, Some(100.0))]);
        let g = &groups(&f)[0];
        assert!(g.timed);
        assert_eq!(g.front.iter().map(|&i| g.feasible[i].index).collect::<Vec<_>>(), vec![1]);
        assert_eq!(f.points[1].latency_us(), Some(12.0));
        assert_eq!(f.points[1].gmacs(), Some(1_000_000.0 / 1200.0 * 100.0 / 1000.0));
        assert!(markdown(&f).contains("latency at Fmax"));
        let f = file(vec![point(0, 1000, Some(50.0)), point(1, 1200, None)]);
        let g = &groups(&f)[0];
        assert!(!g.timed);
        assert_eq!(g.front.iter().map(|&i| g.feasible[i].index).collect::<Vec<_>>(), vec![0]);
    }
}
