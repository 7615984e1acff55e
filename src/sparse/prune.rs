//! Stochastic gradient pruning (SparseTrain): the division-free integer rule, the LFSR-driven pruner,
//! tau estimators, and the statistical unbiasedness check. Definitions in the module docs of
//! [`crate::sparse`].

use super::{check_bits, fits, qmax, Lfsr, SparseError};
use serde::Serialize;

/// Default draw width B: the rule's bias is then below `tau / 65536` per element.
pub const DEFAULT_DRAW_BITS: u32 = 16;
/// Largest draw width (keeps `r * tau` and `|g| << B` within 56 bits for 32-bit gradients).
pub const MAX_DRAW_BITS: u32 = 24;

/// Gradient width and draw width of a pruning unit. Construct with [`PruneParams::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PruneParams {
    /// Gradient width, two's complement, `2..=32`.
    pub bits: u32,
    /// B: bits per random draw, `1..=24`.
    pub draw_bits: u32,
}

impl PruneParams {
    pub fn new(bits: u32, draw_bits: u32) -> Result<Self, SparseError> {
        check_bits(bits)?;
        if !(1..=MAX_DRAW_BITS).contains(&draw_bits) {
            return Err(SparseError::BadDrawBits { draw_bits, width: 32 });
        }
        Ok(Self { bits, draw_bits })
    }

    /// The largest tau: `2^(bits-1) - 1`, so that `±tau` fits `bits` bits.
    pub fn tau_max(&self) -> u64 {
        qmax(self.bits) as u64
    }

    /// Fails unless `tau <= tau_max`.
    pub fn check_tau(&self, tau: u64) -> Result<(), SparseError> {
        if tau > self.tau_max() {
            return Err(SparseError::BadTau { tau, max: self.tau_max(), bits: self.bits });
        }
        Ok(())
    }
}

/// The pruning rule on one element, exactly as the hardware computes it. With `a = |g|`:
/// `a >= tau` gives `g`; otherwise `sign(g) * tau` if `r * tau < a << draw_bits` (unsigned, exact),
/// else 0. `r` is the element's draw (`< 2^draw_bits`). `a = 0` gives 0.
pub fn prune_value(g: i64, tau: u64, r: u64, draw_bits: u32) -> i64 {
    let a = g.unsigned_abs();
    if a >= tau {
        return g;
    }
    if u128::from(r) * u128::from(tau) < u128::from(a) << draw_bits {
        g.signum() * tau as i64
    } else {
        0
    }
}

/// For `a < tau`: how many of the `2^B` draws promote, `ceil(a * 2^B / tau)`, so that
/// `P(promote) = keep_count / 2^B`, in `[a/tau, a/tau + 2^-B)`. For `a >= tau`: `2^B` (always kept).
pub fn keep_count(a: u64, tau: u64, draw_bits: u32) -> u64 {
    if a >= tau {
        return 1 << draw_bits;
    }
    ((u128::from(a) << draw_bits).div_ceil(u128::from(tau))) as u64
}

/// `E[g']` under the integer rule with a uniform `B`-bit draw: `g` if `|g| >= tau`, else
/// `sign(g) * tau * keep_count / 2^B`. Exceeds `|g|` in magnitude by less than `tau * 2^-B`.
pub fn expected_pruned(g: i64, tau: u64, draw_bits: u32) -> f64 {
    let a = g.unsigned_abs();
    if a >= tau {
        return g as f64;
    }
    g.signum() as f64 * tau as f64 * keep_count(a, tau, draw_bits) as f64 / (1u64 << draw_bits) as f64
}

/// A pruning unit: parameters and its LFSR. Every element consumes one draw (B LFSR steps), whatever
/// its value, so element `i` of the sequence pruned since construction uses draw `i`; successive calls
/// to [`Pruner::prune`] continue the sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruner {
    params: PruneParams,
    lfsr: Lfsr,
}

impl Pruner {
    /// A pruner on the 32-bit LFSR ([`super::LFSR32_TAPS`]) seeded with `seed` (nonzero).
    pub fn new(params: PruneParams, seed: u32) -> Result<Self, SparseError> {
        Self::with_lfsr(params, Lfsr::new32(seed)?)
    }

    /// A pruner on any LFSR at least `draw_bits` wide.
    pub fn with_lfsr(params: PruneParams, lfsr: Lfsr) -> Result<Self, SparseError> {
        if params.draw_bits > lfsr.width() {
            return Err(SparseError::BadDrawBits { draw_bits: params.draw_bits, width: lfsr.width() });
        }
        Ok(Self { params, lfsr })
    }

    pub fn params(&self) -> PruneParams {
        self.params
    }

    pub fn lfsr(&self) -> &Lfsr {
        &self.lfsr
    }

    /// The next draw: B steps, then the low B bits of the state.
    pub fn draw(&mut self) -> u64 {
        u64::from(self.lfsr.draw(self.params.draw_bits))
    }

    /// Prunes `grads` in order with threshold `tau`. Fails (before drawing anything) if tau exceeds
    /// `tau_max` or a gradient does not fit `bits`.
    pub fn prune(&mut self, grads: &[i64], tau: u64) -> Result<Vec<i64>, SparseError> {
        self.params.check_tau(tau)?;
        let bits = self.params.bits;
        if let Some((index, &value)) = grads.iter().enumerate().find(|(_, &g)| !fits(g, bits)) {
            return Err(SparseError::GradientOutOfRange { value, index, bits });
        }
        Ok(grads
            .iter()
            .map(|&g| {
                let r = self.draw();
                prune_value(g, tau, r, self.params.draw_bits)
            })
            .collect())
    }
}

/// The fraction of zeros in `xs` (0 for an empty slice).
pub fn sparsity(xs: &[i64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.iter().filter(|&&x| x == 0).count() as f64 / xs.len() as f64
}

/// Sorted magnitudes with prefix sums: `E(tau)` in `O(log n)`.
struct Magnitudes {
    sorted: Vec<u64>,
    /// `prefix[i] = sum of sorted[..i]`.
    prefix: Vec<u64>,
    zeros: usize,
}

impl Magnitudes {
    fn new(grads: &[i64]) -> Self {
        let mut sorted: Vec<u64> = grads.iter().map(|g| g.unsigned_abs()).collect();
        sorted.sort_unstable();
        let mut prefix = Vec::with_capacity(sorted.len() + 1);
        prefix.push(0u64);
        for &a in &sorted {
            prefix.push(prefix.last().unwrap() + a);
        }
        let zeros = sorted.partition_point(|&a| a == 0);
        Self { sorted, prefix, zeros }
    }

    /// `(#{g = 0} + sum_{0 < |g| < tau} (1 - |g|/tau)) / n`.
    fn expected(&self, tau: u64) -> f64 {
        let n = self.sorted.len();
        if n == 0 {
            return 0.0;
        }
        if tau == 0 {
            return self.zeros as f64 / n as f64;
        }
        let below = self.sorted.partition_point(|&a| a < tau);
        let sum = self.prefix[below] as f64; // the zeros add nothing
        (below as f64 - sum / tau as f64) / n as f64
    }
}

/// Expected fraction of zeros after stochastic pruning with `tau` (ideal probabilities `|g|/tau`):
/// `(#{g = 0} + sum_{0 < |g| < tau} (1 - |g|/tau)) / n`.
pub fn expected_sparsity(grads: &[i64], tau: u64) -> f64 {
    Magnitudes::new(grads).expected(tau)
}

fn check_inputs(grads: &[i64], target: f64, bits: u32) -> Result<(), SparseError> {
    check_bits(bits)?;
    if !(0.0..=1.0).contains(&target) {
        return Err(SparseError::BadTarget { target });
    }
    if let Some((index, &value)) = grads.iter().enumerate().find(|(_, &g)| !fits(g, bits)) {
        return Err(SparseError::GradientOutOfRange { value, index, bits });
    }
    Ok(())
}

/// Chooses a layer's tau from its gradients for a target sparsity. Implementations return
/// `tau <= 2^(bits-1) - 1` and fail on a target outside `[0, 1]` or a gradient that does not fit `bits`.
pub trait TauEstimator {
    /// A short name for reports.
    fn name(&self) -> &'static str;
    fn tau(&self, grads: &[i64], target: f64, bits: u32) -> Result<u64, SparseError>;
}

/// The tau whose expected sparsity under the stochastic rule is nearest the target (module docs §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpectedSparsity;

impl TauEstimator for ExpectedSparsity {
    fn name(&self) -> &'static str {
        "expected_sparsity"
    }

    fn tau(&self, grads: &[i64], target: f64, bits: u32) -> Result<u64, SparseError> {
        check_inputs(grads, target, bits)?;
        let m = Magnitudes::new(grads);
        let tau_max = qmax(bits) as u64;
        if m.expected(0) >= target {
            return Ok(0);
        }
        if m.expected(tau_max) < target {
            return Ok(tau_max);
        }
        // Invariant: E(lo) < target <= E(hi).
        let (mut lo, mut hi) = (0u64, tau_max);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if m.expected(mid) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(if target - m.expected(lo) < m.expected(hi) - target { lo } else { hi })
    }
}

/// The deterministic magnitude-pruning threshold: the smallest tau with at least `ceil(target * n)` of
/// the `|g|` below it, clamped to `tau_max`. Under the stochastic rule it undershoots the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Percentile;

impl TauEstimator for Percentile {
    fn name(&self) -> &'static str {
        "percentile"
    }

    fn tau(&self, grads: &[i64], target: f64, bits: u32) -> Result<u64, SparseError> {
        check_inputs(grads, target, bits)?;
        let m = Magnitudes::new(grads);
        let k = (target * grads.len() as f64).ceil() as usize;
        if k == 0 {
            return Ok(0);
        }
        Ok((m.sorted[k.min(grads.len()) - 1] + 1).min(qmax(bits) as u64))
    }
}

/// The mean of pruned values over one subset of elements, against the rule's exact expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasReport {
    /// Which elements: "all", "g > 0", "g < 0", or "|g|/tau in [k/4, (k+1)/4)".
    pub subset: String,
    pub n: usize,
    pub mean_original: f64,
    /// Mean of [`expected_pruned`] over the subset.
    pub mean_expected: f64,
    pub mean_pruned: f64,
    /// Standard error of `mean_pruned` for independent draws: `sqrt(sum tau^2 p (1-p)) / n`.
    pub std_error: f64,
    /// `(mean_pruned - mean_expected) / std_error` (0 if both the error and the difference are 0).
    pub z: f64,
    /// `mean_expected - mean_original`: the integer rule's own bias, `|.| < rule_bias_bound`.
    pub rule_bias: f64,
    /// `tau * 2^-B`.
    pub rule_bias_bound: f64,
}

/// The [`BiasReport`] over the elements `idx` of a pruned tensor.
pub fn bias_report(
    subset: &str,
    original: &[i64],
    pruned: &[i64],
    idx: &[usize],
    tau: u64,
    draw_bits: u32,
) -> BiasReport {
    let n = idx.len();
    let (mut so, mut se, mut sp, mut var) = (0f64, 0f64, 0f64, 0f64);
    let full = (1u64 << draw_bits) as f64;
    for &i in idx {
        let g = original[i];
        so += g as f64;
        sp += pruned[i] as f64;
        se += expected_pruned(g, tau, draw_bits);
        if g.unsigned_abs() < tau {
            let p = keep_count(g.unsigned_abs(), tau, draw_bits) as f64 / full;
            var += (tau as f64).powi(2) * p * (1.0 - p);
        }
    }
    let nf = n.max(1) as f64;
    let (mean_original, mean_expected, mean_pruned) = (so / nf, se / nf, sp / nf);
    let std_error = var.sqrt() / nf;
    let diff = mean_pruned - mean_expected;
    let z = if std_error > 0.0 {
        diff / std_error
    } else if diff.abs() < 1e-9 {
        0.0
    } else {
        f64::INFINITY * diff.signum()
    };
    BiasReport {
        subset: subset.to_string(),
        n,
        mean_original,
        mean_expected,
        mean_pruned,
        std_error,
        z,
        rule_bias: mean_expected - mean_original,
        rule_bias_bound: tau as f64 / full,
    }
}

/// Checks that `pruned` is a stochastic pruning of `original` with `tau` and B = `draw_bits`:
/// element by element (`|g| >= tau` unchanged, otherwise 0 or `sign(g) * tau`), then statistically,
/// on the subsets "all", "g > 0", "g < 0" and four bins of `|g|/tau` below 1: `|z| <= z_max` in each
/// nonempty subset (the observed mean within `z_max` standard errors of the rule's exact expectation),
/// and the rule's own bias within its bound. Returns the reports (nonempty subsets only); the error
/// names the first failing subset.
pub fn check_unbiased(
    original: &[i64],
    pruned: &[i64],
    tau: u64,
    draw_bits: u32,
    z_max: f64,
) -> Result<Vec<BiasReport>, SparseError> {
    if original.len() != pruned.len() {
        return Err(SparseError::LengthMismatch { original: original.len(), pruned: pruned.len() });
    }
    for (i, (&g, &p)) in original.iter().zip(pruned).enumerate() {
        let ok = if g.unsigned_abs() >= tau { p == g } else { p == 0 || p == g.signum() * tau as i64 };
        if !ok {
            return Err(SparseError::NotAPruning { index: i, g, pruned: p, tau });
        }
    }
    let mut subsets: Vec<(String, Vec<usize>)> = vec![
        ("all".into(), (0..original.len()).collect()),
        ("g > 0".into(), (0..original.len()).filter(|&i| original[i] > 0).collect()),
        ("g < 0".into(), (0..original.len()).filter(|&i| original[i] < 0).collect()),
    ];
    for k in 0..4u64 {
        // 4|g| in [k tau, (k+1) tau), |g| > 0.
        let idx = (0..original.len())
            .filter(|&i| {
                let a4 = 4 * original[i].unsigned_abs();
                original[i] != 0 && a4 >= k * tau && a4 < (k + 1) * tau
            })
            .collect();
        subsets.push((format!("|g|/tau in [{}/4, {}/4)", k, k + 1), idx));
    }
    let mut out = Vec::new();
    for (name, idx) in subsets {
        if idx.is_empty() {
            continue;
        }
        let r = bias_report(&name, original, pruned, &idx, tau, draw_bits);
        if r.z.abs() > z_max || r.rule_bias.abs() >= r.rule_bias_bound.max(f64::MIN_POSITIVE) * 1.000001 {
            return Err(SparseError::Biased {
                subset: name,
                n: r.n,
                mean_pruned: r.mean_pruned,
                mean_expected: r.mean_expected,
                z: r.z,
                z_max,
            });
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The promotion count is exact: brute force over all draws for small B.
    #[test]
    fn keep_count_matches_brute_force() {
        for b in 1..=8u32 {
            for tau in 1..=40u64 {
                for a in 0..tau {
                    let n = (0..1u64 << b).filter(|&r| prune_value(a as i64, tau, r, b) != 0).count() as u64;
                    assert_eq!(n, keep_count(a, tau, b), "a {a} tau {tau} B {b}");
                    // P in [a/tau, a/tau + 2^-B)
                    let p = n as f64 / (1u64 << b) as f64;
                    let ideal = a as f64 / tau as f64;
                    assert!(p >= ideal && p < ideal + 1.0 / (1u64 << b) as f64);
                    let neg = (0..1u64 << b)
                        .filter(|&r| prune_value(-(a as i64), tau, r, b) == -(tau as i64))
                        .count();
                    assert_eq!(neg as u64, n);
                }
            }
        }
    }

    #[test]
    fn rule_edges() {
        assert_eq!(prune_value(7, 7, 0, 16), 7);
        assert_eq!(prune_value(-9, 7, 0xffff, 16), -9);
        assert_eq!(prune_value(0, 7, 0, 16), 0);
        assert_eq!(prune_value(5, 0, 0, 16), 5);
        assert_eq!(prune_value(0, 0, 0, 16), 0);
        // a = 1, tau = 4, B = 2: promote iff 4r < 4, i.e. r = 0.
        assert_eq!(prune_value(1, 4, 0, 2), 4);
        assert_eq!(prune_value(-1, 4, 1, 2), 0);
        // tau a power of two: exactly unbiased.
        assert_eq!(expected_pruned(3, 8, 16), 3.0);
        assert_eq!(expected_pruned(-5, 8, 3), -5.0);
    }

    #[test]
    fn estimators_on_a_small_case() {
        // |g| = 0, 1, 2, ..., 9
        let g: Vec<i64> = (0..10).map(|i| if i % 2 == 0 { i } else { -i }).collect();
        // E(tau) = (1 + sum_{0<a<tau} (1 - a/tau)) / 10 = (1 + (tau - 1)/2) / 10
        for tau in 1..=10u64 {
            let e = expected_sparsity(&g, tau);
            assert!((e - (1.0 + (tau - 1) as f64 / 2.0) / 10.0).abs() < 1e-12, "{tau}: {e}");
        }
        // target 0.4 -> (1 + (t-1)/2) = 4 -> t = 7 exactly.
        assert_eq!(ExpectedSparsity.tau(&g, 0.4, 8).unwrap(), 7);
        assert_eq!(ExpectedSparsity.tau(&g, 0.05, 8).unwrap(), 0);
        // E(15) = (1 + 9 - 45/15) / 10 = 0.7 < 1: saturates at tau_max = 15 for 5 bits
        assert_eq!(ExpectedSparsity.tau(&g, 1.0, 5).unwrap(), 15);
        // percentile: 4 of 10 below tau -> tau = sorted[3] + 1 = 4
        assert_eq!(Percentile.tau(&g, 0.4, 8).unwrap(), 4);
        assert_eq!(Percentile.tau(&g, 0.0, 8).unwrap(), 0);
        assert!(matches!(ExpectedSparsity.tau(&g, 1.5, 8), Err(SparseError::BadTarget { .. })));
        assert!(matches!(Percentile.tau(&g, 0.5, 4), Err(SparseError::GradientOutOfRange { .. })));
    }
}
