//! SparseTrain (DAC'20) building blocks: compressed (value, index) row streams and stochastic gradient
//! pruning with a hardware-reproducible LFSR. The model and the RTL implement the definitions below bit
//! for bit; this page is the specification, the code follows it.
//!
//! # 1. Compressed row stream ([`stream`])
//!
//! A [`StreamFormat`] is `bits` (value width, signed two's complement, `2..=32`) and `L` (row length,
//! `1..=65536`). Dense data is a sequence of rows of `L` values each, `-2^(bits-1) <= v <= 2^(bits-1)-1`.
//!
//! **Entry** ([`Entry`]): `valid` (1 bit), `last` (1 bit, row end), `index` (unsigned,
//! `index_bits = max(1, ceil(log2 L))` bits: 1 for L = 1 or 2, 6 for L = 64, 7 for L = 65), `value`
//! (`bits` bits, two's complement).
//!
//! **Rows.** Each row is a run of entries; the entry that ends a row has `last = 1`, every other entry
//! has `last = 0`. Rows follow each other in order, with no separators.
//! - A row with `nnz >= 1` nonzero values is exactly its nonzeros, one valid entry each
//!   (`valid = 1`, `index` = column, `value` != 0), in strictly increasing `index`, all `< L`, the last
//!   one with `last = 1`. Zeros are never stored.
//! - An all-zero row is exactly one **empty-row marker**: `valid = 0, last = 1, index = 0, value = 0`.
//!   A marker never appears in a row with nonzeros, and never with `last = 0`.
//!
//! So the format is canonical (one dense matrix has exactly one stream) and a row costs
//! `max(1, nnz)` entries, i.e. cycles for a unit that takes one entry per cycle. A consumer scatters
//! each valid entry's value to column `index` of the current row and moves to the next row after an
//! entry with `last = 1`. A stream of R rows has exactly R entries with `last = 1`; the empty stream is
//! zero rows. [`validate`] rejects everything else with a typed error (index `>= L`, index not greater
//! than the previous index of the row, a stored zero, a value out of range, a misplaced or
//! non-canonical marker, a stream that ends without a row end); [`decode`] validates and also checks
//! the row count. [`check_stream`] is the consumer's whole check of a packed stream against the dense
//! data it should carry (unpack, validate, row count, compare).
//!
//! **Packed entry** ([`StreamFormat::pack`]), LSB first, `entry_bits = 2 + index_bits + bits`
//! (at most 50, held in a `u64`):
//!
//! ```text
//! bit 0                          valid
//! bit 1                          last (row end)
//! bits 2 .. 2+index_bits         index, unsigned
//! bits 2+index_bits .. entry_bits value, two's complement (bits bits)
//! ```
//!
//! A marker packs to `0b10` = 2. [`StreamFormat::unpack`] rejects any bit set at or above `entry_bits`
//! and an entry with `valid = 0` but a nonzero index or value.
//!
//! # 2. Stochastic gradient pruning ([`prune`])
//!
//! Gradients `g` are `bits`-bit two's complement integers (fixed point); the threshold `tau` is an
//! integer with `0 <= tau <= 2^(bits-1) - 1` (so that `±tau` fits `bits` bits). With `a = |g|` and a
//! `B`-bit draw `r` (`draw_bits`, `1..=24`, default 16):
//!
//! ```text
//! a >= tau:                  g' = g                     (kept unchanged; tau = 0 keeps everything)
//! a <  tau:  r * tau < a << B   ->  g' = sign(g) * tau  (promoted)
//!            otherwise           ->  g' = 0             (pruned; a = 0 always gives 0)
//! ```
//!
//! No division: one `B x (bits-1)` multiplier and a `B + bits - 1`-bit unsigned compare (for `a < tau`
//! both sides are `< 2^(B+bits-1)`). The draw is made and the LFSR advanced for **every** element,
//! whatever its value, so element `i` (in the order given, row-major) always uses draw `i`.
//!
//! **Bias.** For uniform `r` in `[0, 2^B)`: `P(promote) = ceil(a * 2^B / tau) / 2^B`, which lies in
//! `[a/tau, a/tau + 2^-B)`. Hence `E[g'] = g + sign(g) * delta` with `0 <= delta < tau * 2^-B` per
//! element (bias away from zero, at most `tau / 65536` for B = 16), and `delta = 0` exactly when `tau`
//! divides `a * 2^B` (e.g. `tau` a power of two `<= 2^B`). `Var[g'] = tau^2 p (1 - p)` for `a < tau`,
//! 0 otherwise. (Over a full LFSR period the low `B` bits take the value 0 once less than the others,
//! a relative deviation of `2^-32` from uniform; it is neglected in these bounds.)
//!
//! # 3. The random source ([`lfsr`])
//!
//! A Galois LFSR, right-shifting, of width `W` (32 for pruning) with the feedback polynomial
//! `x^32 + x^22 + x^2 + x + 1` (taps 32, 22, 2, 1 from Xilinx XAPP052's table of maximal-length LFSRs;
//! the 16-bit one used in tests is `x^16 + x^15 + x^13 + x^4 + 1`, taps 16, 15, 13, 4). The toggle mask
//! has bit `t - 1` set for each tap `t`: `0x8020_0003` for 32 bits, `0xD008` for 16. One step:
//!
//! ```text
//! out   = s[0]
//! s     = s >> 1                 (logical, W bits)
//! if out: s = s ^ MASK
//! ```
//!
//! i.e. in Verilog `s_next = {1'b0, s[W-1:1]} ^ ({W{s[0]}} & MASK)`. The state is seeded with a
//! nonzero `W`-bit seed (0 is rejected: it is the lock-up state) and never becomes 0; its period is
//! `2^W - 1` (proved in the tests by jump-ahead for W = 32, exhaustively for W = 16).
//!
//! **Draws.** Draw `i` (`i = 0, 1, ...`) advances the LFSR by `B` steps and takes the low `B` bits of
//! the new state: `r_i = s[B-1:0]` after `(i + 1) * B` steps from the seed. In hardware the `B` steps
//! are one clock of a combinational XOR network (the step above unrolled `B` times). Successive draws
//! come from disjoint windows of the LFSR's output sequence `out_t = s_t[0]`: bit `j` of the state at
//! step `T` is `out_{T+j}` XOR a combination of `out_T .. out_{T+j-1}`, so draw `i` is an invertible
//! function of output bits `(i+1)B .. (i+2)B - 1`. [`Lfsr::jump`] advances by any count in
//! `O(W^2 log n)`: for `K` parallel lanes, lane `k`'s `j`-th draw (element `k + jK`) is the low `B` bits
//! of the state after `(k + jK + 1) * B` steps, so the lane starts from `jump((k + 1) * B)` and jumps
//! `K * B` steps between draws.
//!
//! Golden values (seed 1): states after 1..4 steps `0x80200003, 0xC0300002, 0x60180001, 0xB02C0003`;
//! the first 16-bit draws `0xb6c3, 0x3db5, 0xf3cf, 0x2fa6, 0xde3e, 0x8d95, 0xe500, 0x42a4`; the 8-bit
//! gradients `[5, -5, 19, -19, 20, -128, 0, 10]` pruned with `tau = 20`, B = 16 give
//! `[0, -20, 0, -20, 20, -128, 0, 20]` (tests/sparse_lfsr.rs, tests/sparse_prune.rs).
//!
//! # 4. Choosing tau ([`TauEstimator`])
//!
//! Estimators see the layer's integer gradients and a target sparsity `s` in `[0, 1]` and return
//! `tau` in `0..=2^(bits-1)-1`.
//! - [`ExpectedSparsity`] (the default): the expected fraction of zeros after the stochastic rule is
//!   `E(tau) = (#{g = 0} + sum_{0 < |g| < tau} (1 - |g|/tau)) / n` (the ideal probability; the integer
//!   rule differs by less than `2^-B`). `E` is nondecreasing in `tau`; bisection over the integers
//!   `1..=tau_max` (with sorted `|g|` and prefix sums, each `E` costs a binary search) finds the
//!   smallest `t` with `E(t) >= s`, and the estimator returns whichever of `t - 1` and `t` has `E`
//!   nearer to `s` (ties: `t`). If `E(0) = #{g = 0}/n >= s` it returns 0; if even `E(tau_max) < s` it
//!   returns `tau_max`.
//! - [`Percentile`] (for comparison): the deterministic magnitude-pruning threshold, the smallest `tau`
//!   with at least `ceil(s * n)` of the `|g|` below it (`tau = sorted|g|[ceil(s n) - 1] + 1`, clamped).
//!   Under the stochastic rule it undershoots the target, since elements below tau survive with
//!   probability `|g|/tau`.
//!
//! The most sparsity a width allows is `E(tau_max) ~ 1 - mean|g| / tau_max`: gradients quantized with
//! a scale that leaves `mean|g|` above `(1 - s) * tau_max` cannot reach `s` (the estimator then returns
//! `tau_max`; check [`expected_sparsity`]).
//!
//! [`dist`] (Laplace and Gaussian samples from the LFSR, for tests and benchmarks) is not part of the
//! hardware contract.

pub mod conv1d;
pub mod conv2d;
pub mod dist;
pub mod lfsr;
pub mod prune;
pub mod stream;

pub use lfsr::{Lfsr, LFSR16_TAPS, LFSR32_TAPS};
pub use prune::{
    bias_report, check_unbiased, expected_pruned, expected_sparsity, keep_count, prune_value, sparsity,
    BiasReport, ExpectedSparsity, Percentile, PruneParams, Pruner, TauEstimator, DEFAULT_DRAW_BITS,
};
pub use stream::{check_stream, decode, encode, encode_row, validate, Entry, StreamFormat, StreamShape};

/// Value widths a stream or a pruner takes: 2..=32 bits, two's complement.
pub const BITS_RANGE: std::ops::RangeInclusive<u32> = 2..=32;
/// Largest row length: indices are at most 16 bits.
pub const MAX_ROW_LEN: usize = 1 << 16;

/// The largest magnitude of a `bits`-bit two's complement value that can also be negated:
/// `2^(bits-1) - 1`.
pub fn qmax(bits: u32) -> i64 {
    crate::bits::signed_range(bits).1
}

/// Errors of the sparse module. Parameter errors are bad input; stream errors name the entry (its
/// position in the stream) and the row it belongs to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SparseError {
    #[error("bits = {bits}: the value width must be between 2 and 32")]
    BadBits { bits: u32 },
    #[error("row length = {len}: must be between 1 and 65536")]
    BadRowLen { len: usize },
    #[error("dense rows have {got} columns, the stream format has row length {len}")]
    WidthMismatch { got: usize, len: usize },
    #[error("value {value} at row {row}, column {col}: does not fit {bits}-bit two's complement")]
    ValueOutOfRange { value: i64, bits: u32, row: usize, col: usize },

    #[error("entry {entry} (row {row}): index {index} is outside the row (length {len})")]
    IndexOutOfRange { entry: usize, row: usize, index: u32, len: usize },
    #[error(
        "entry {entry} (row {row}): index {index} after index {prev}: indices must increase within a row"
    )]
    IndexNotIncreasing { entry: usize, row: usize, index: u32, prev: u32 },
    #[error("entry {entry} (row {row}): a valid entry holds 0 (zeros are never stored)")]
    ZeroValue { entry: usize, row: usize },
    #[error("entry {entry} (row {row}): value {value} does not fit {bits}-bit two's complement")]
    EntryValueOutOfRange { entry: usize, row: usize, value: i64, bits: u32 },
    #[error(
        "entry {entry} (row {row}): an empty-row marker (valid = 0) must be alone in its row, with last = 1, \
         index 0 and value 0"
    )]
    BadEmptyMarker { entry: usize, row: usize },
    #[error("the stream ends inside row {row}: its last entry ({entry}) has no row end (last = 0)")]
    MissingRowEnd { entry: usize, row: usize },
    #[error("the stream has {got} rows, expected {expected}")]
    RowCount { got: usize, expected: usize },
    #[error("row {row}, column {col}: the stream holds {got}, expected {expected}")]
    Mismatch { row: usize, col: usize, got: i64, expected: i64 },
    #[error("entry {entry:?} cannot be packed: {reason}")]
    CannotPack { entry: stream::Entry, reason: String },
    #[error("packed entry {packed:#x}: {reason}")]
    BadPacked { packed: u64, reason: String },

    #[error(
        "LFSR width {width} with taps {taps:?}: the width must be 2..=32, the taps 1..=width with width"
    )]
    BadTaps { width: u32, taps: Vec<u32> },
    #[error("LFSR seed 0 in the low {width} bits: the all-zero state is the lock-up state")]
    ZeroSeed { width: u32 },
    #[error("draw_bits = {draw_bits}: must be between 1 and 24 and at most the LFSR width {width}")]
    BadDrawBits { draw_bits: u32, width: u32 },
    #[error("tau = {tau}: must be at most {max} so that ±tau fits {bits} bits")]
    BadTau { tau: u64, max: u64, bits: u32 },
    #[error("gradient {value} at element {index}: does not fit {bits}-bit two's complement")]
    GradientOutOfRange { value: i64, index: usize, bits: u32 },
    #[error("target sparsity {target}: must be between 0 and 1")]
    BadTarget { target: f64 },
    #[error("{pruned} pruned values for {original} gradients")]
    LengthMismatch { original: usize, pruned: usize },
    #[error("element {index}: gradient {g} became {pruned}, which the rule with tau = {tau} cannot produce")]
    NotAPruning { index: usize, g: i64, pruned: i64, tau: u64 },
    #[error(
        "biased pruning on subset {subset} ({n} elements): mean {mean_pruned} against the rule's expected \
         {mean_expected}, z = {z:.2} (|z| must be <= {z_max})"
    )]
    Biased { subset: String, n: usize, mean_pruned: f64, mean_expected: f64, z: f64, z_max: f64 },
}

pub(crate) fn check_bits(bits: u32) -> Result<(), SparseError> {
    if BITS_RANGE.contains(&bits) {
        Ok(())
    } else {
        Err(SparseError::BadBits { bits })
    }
}

/// `-2^(bits-1) <= v <= 2^(bits-1) - 1`.
pub(crate) fn fits(v: i64, bits: u32) -> bool {
    let (lo, hi) = crate::bits::signed_range(bits);
    (lo..=hi).contains(&v)
}
