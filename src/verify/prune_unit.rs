//! Verification glue of the gradient pruning unit (`crate::model::prune_unit`): generated cases
//! (seeds, thresholds from 0 to the largest, gradients over the whole range and around ±tau).

use crate::config::Params;
use crate::model::prune_unit::PruneCase;
use crate::rng::SplitMix64;

/// Case `index` of `seed`: thresholds 0, the largest, and random; gradients uniform over the range,
/// small (most below tau), and at the rule's edges (0, ±tau, ±(tau - 1), the most negative value).
pub fn generate(p: &Params, seed: u64, index: usize) -> PruneCase {
    let bits = p.act_bits;
    let mut rng = SplitMix64::for_case(seed ^ 0x9_5EED, index);
    let (lo, hi) = crate::bits::signed_range(bits);
    let n = rng.range_usize(1, 64);
    let lfsr_seed = rng.range_i64(1, u32::MAX as i64) as u32;
    let (tau, kind) = match index % 4 {
        0 => (0, "tau = 0"),
        1 => (hi as u64, "largest tau"),
        _ => (rng.range_i64(1, hi) as u64, "random tau"),
    };
    let t = tau as i64;
    let (grads, what): (Vec<i64>, &str) = match index % 3 {
        0 => ((0..n).map(|_| rng.range_i64(lo, hi)).collect(), "uniform"),
        1 => ((0..n).map(|_| rng.range_i64(-t.max(1), t.max(1)).clamp(lo, hi)).collect(), "small"),
        _ => {
            let edges = [0, t, -t, (t - 1).max(0), -(t - 1).max(0), lo, hi, 1, -1];
            ((0..n).map(|_| edges[rng.range_usize(0, edges.len() - 1)].clamp(lo, hi)).collect(), "edges")
        }
    };
    PruneCase {
        seed: lfsr_seed,
        tau,
        grads,
        description: format!("prune case {index} [{kind}, {what}] n={n} tau={tau} seed={lfsr_seed:#x}"),
    }
}
