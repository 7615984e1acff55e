//! Pareto fronts: a point is on the front when no other point of its group is at least as good in
//! every objective and better in one (all objectives are minimized). Points with equal objectives
//! are all kept: neither dominates the other.

/// Indices (into `objectives`) of the non-dominated vectors, in ascending lexicographic order of
/// their objectives (ties by index). A lexicographic sweep: a vector can only be dominated by one
/// that sorts before it, and if it is dominated at all, it is dominated by a front member.
pub fn front<const D: usize>(objectives: &[[f64; D]]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..objectives.len()).collect();
    order.sort_by(|&a, &b| {
        objectives[a]
            .iter()
            .zip(&objectives[b])
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if !kept.iter().any(|&k| dominates(&objectives[k], &objectives[i])) {
            kept.push(i);
        }
    }
    kept
}

/// `a` dominates `b`: no worse in every objective, better in at least one.
pub fn dominates<const D: usize>(a: &[f64; D], b: &[f64; D]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}
