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
}

/// The objectives: cycles, area, energy (all minimized).
pub fn objectives(r: &PointRecord) -> [f64; 3] {
    [r.cycles as f64, r.area.unwrap_or(u64::MAX) as f64, r.energy_pj]
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
            let objs: Vec<[f64; 3]> = feasible.iter().map(|r| objectives(r)).collect();
            let front = pareto::front(&objs);
            out.push(Group { workload: w, target: t, points, feasible, front });
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
        s += &format!(
            "\n### {} on {}: {} points{}, {} on the Pareto front (cycles, {unit}, energy)\n\n",
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
            head.push("Fmax (MHz)".into());
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
                row.push(r.fmax_mhz.map(|f| format!("{f:.1}")).unwrap_or_else(|| "-".into()));
            }
            s += &format!("| {} |\n", row.join(" | "));
        }
    }
    s
}
