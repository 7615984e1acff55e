//! Kneaded words, groups, columns and matrices; kneading and un-kneading.

use super::encoding::digits;
use super::{KneadError, KneadParams};
use ndarray::{Array2, ArrayView2};

/// One bit slot of a kneaded word. Slot `p` of a word stands for bit position (digit weight) `2^p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Slot {
    /// The slot carries a digit. An empty slot has `negative = false, index = 0`.
    pub valid: bool,
    /// The digit is -1 (subtract the activation from segment register S_p), else +1 (add it).
    pub negative: bool,
    /// Which activation of the group the digit belongs to: `0..group.len`.
    pub index: u8,
}

impl Slot {
    pub const EMPTY: Slot = Slot { valid: false, negative: false, index: 0 };
}

/// A kneaded weight: `slots[p]` is the digit (if any) routed to segment register S_p this cycle.
/// `slots.len() == digit_positions(bits, encoding)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KneadedWord {
    pub slots: Vec<Slot>,
}

impl KneadedWord {
    /// Number of valid slots (digits) in the word.
    pub fn digits(&self) -> usize {
        self.slots.iter().filter(|s| s.valid).count()
    }
}

/// The kneaded form of one group of `len` consecutive weights along K (`1 <= len <= KS`; only a column's
/// last group can be shorter than KS). `words.len() == max_p (digits at position p)`, 0 for an all-zero
/// group. Within position p the digits appear in increasing activation index, word 0 first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KneadedGroup {
    pub words: Vec<KneadedWord>,
    pub len: usize,
}

/// The groups of one B-matrix column (one output channel), in order along K.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KneadedColumn {
    pub groups: Vec<KneadedGroup>,
}

impl KneadedColumn {
    /// Kneaded words of the column: the SAC cycles one PE spends on it (ignoring pipeline overheads).
    pub fn words(&self) -> usize {
        self.groups.iter().map(|g| g.words.len()).sum()
    }
}

/// A kneaded `K x N` B matrix: `columns[n].groups[g]` covers `B[g*KS .. min((g+1)*KS, K), n]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KneadedMatrix {
    pub params: KneadParams,
    /// Reduction length (rows of B).
    pub k: usize,
    /// Output channels (columns of B).
    pub n: usize,
    pub columns: Vec<KneadedColumn>,
}

impl KneadedMatrix {
    /// Groups per column: `ceil(K / KS)`.
    pub fn groups_per_column(&self) -> usize {
        self.k.div_ceil(self.params.ks)
    }

    /// Total kneaded words over all columns.
    pub fn words(&self) -> usize {
        self.columns.iter().map(KneadedColumn::words).sum()
    }

    /// Kneaded words per column.
    pub fn column_words(&self) -> Vec<usize> {
        self.columns.iter().map(KneadedColumn::words).collect()
    }

    /// Reconstructs the `K x N` matrix ([`unknead`] of every group). Fails on a group whose length does
    /// not match its place in the matrix, or on any slot [`unknead`] rejects.
    pub fn unknead(&self) -> Result<Array2<i64>, KneadError> {
        let ks = self.params.ks;
        let g_n = self.groups_per_column();
        if self.columns.len() != self.n {
            return Err(KneadError::BadStream(format!(
                "{} columns, expected N = {}",
                self.columns.len(),
                self.n
            )));
        }
        let mut b = Array2::zeros((self.k, self.n));
        for (n, col) in self.columns.iter().enumerate() {
            if col.groups.len() != g_n {
                return Err(KneadError::BadStream(format!(
                    "column {n}: {} groups, expected ceil(K/KS) = {g_n}",
                    col.groups.len()
                )));
            }
            for (g, group) in col.groups.iter().enumerate() {
                let want = ks.min(self.k - g * ks);
                if group.len != want {
                    return Err(KneadError::BadStream(format!(
                        "column {n} group {g}: length {}, expected {want}",
                        group.len
                    )));
                }
                let w = unknead(group)
                    .map_err(|e| KneadError::BadStream(format!("column {n} group {g}: {e}")))?;
                for (i, v) in w.into_iter().enumerate() {
                    b[(g * ks + i, n)] = v;
                }
            }
        }
        Ok(b)
    }
}

fn check_range(w: i64, params: &KneadParams, at: impl FnOnce() -> String) -> Result<(), KneadError> {
    let qmax = params.qmax();
    if w.abs() > qmax {
        return Err(KneadError::WeightOutOfRange { value: w, bits: params.bits, qmax, at: at() });
    }
    Ok(())
}

/// Kneads one group of `1..=KS` weights (each `|w| <= 2^(bits-1) - 1`).
///
/// Per position p, the group's digits at p form a column of entries (activation index, sign) in index
/// order; word j takes the j-th entry of every position's column (an empty slot where a column is
/// shorter). Words = max over positions of the column length; 0 for an all-zero group.
pub fn knead_group(weights: &[i64], params: &KneadParams) -> Result<KneadedGroup, KneadError> {
    if weights.is_empty() || weights.len() > params.ks {
        return Err(KneadError::BadStream(format!(
            "a group holds 1..={} weights, got {}",
            params.ks,
            weights.len()
        )));
    }
    let positions = params.positions();
    let mut columns: Vec<Vec<Slot>> = vec![Vec::new(); positions];
    for (i, &w) in weights.iter().enumerate() {
        check_range(w, params, || format!("group index {i}"))?;
        for d in digits(w, params.encoding) {
            columns[d.position as usize].push(Slot {
                valid: true,
                negative: d.negative,
                index: i as u8, // i < KS <= 64
            });
        }
    }
    let n_words = columns.iter().map(Vec::len).max().unwrap_or(0);
    let words = (0..n_words)
        .map(|j| KneadedWord {
            slots: columns.iter().map(|c| c.get(j).copied().unwrap_or(Slot::EMPTY)).collect(),
        })
        .collect();
    Ok(KneadedGroup { words, len: weights.len() })
}

/// Reconstructs a group's weights: `w[i] = sum over words, positions p with a valid slot naming i of
/// ±2^p`. Independent of the encoding (a CSD and a sign-magnitude group both un-knead this way).
/// Fails on a slot whose index is `>= len`, a non-canonical empty slot (sign or index set), or a word
/// with more than 62 slots.
pub fn unknead(group: &KneadedGroup) -> Result<Vec<i64>, KneadError> {
    let mut w = vec![0i64; group.len];
    for (j, word) in group.words.iter().enumerate() {
        if word.slots.len() > 62 {
            return Err(KneadError::BadStream(format!("word {j}: {} slots", word.slots.len())));
        }
        for (p, s) in word.slots.iter().enumerate() {
            if !s.valid {
                if s.negative || s.index != 0 {
                    return Err(KneadError::BadStream(format!(
                        "word {j} slot {p}: empty slot with sign or index set"
                    )));
                }
                continue;
            }
            let i = s.index as usize;
            if i >= group.len {
                return Err(KneadError::BadStream(format!(
                    "word {j} slot {p}: index {i} outside the group of {}",
                    group.len
                )));
            }
            let v = 1i64 << p;
            w[i] += if s.negative { -v } else { v };
        }
    }
    Ok(w)
}

/// Kneads a `K x N` B matrix (K the reduction axis): per column n, groups of KS rows along K.
/// Fails (naming the entry) if a value does not fit `bits`.
pub fn knead_matrix(b: ArrayView2<i64>, params: &KneadParams) -> Result<KneadedMatrix, KneadError> {
    let (k, n) = b.dim();
    let mut buf = Vec::with_capacity(params.ks);
    let mut columns = Vec::with_capacity(n);
    for c in 0..n {
        let col = b.column(c);
        let mut groups = Vec::with_capacity(k.div_ceil(params.ks));
        for g0 in (0..k).step_by(params.ks) {
            buf.clear();
            buf.extend(col.iter().skip(g0).take(params.ks).copied());
            for (i, &w) in buf.iter().enumerate() {
                check_range(w, params, || format!("B[{}, {c}]", g0 + i))?;
            }
            groups.push(knead_group(&buf, params)?);
        }
        columns.push(KneadedColumn { groups });
    }
    Ok(KneadedMatrix { params: *params, k, n, columns })
}

/// Quantizes a layer per layer to `params.bits` ([`crate::workload::quantized_b_matrix`]) and kneads its
/// `K x N` B matrix. Returns the quantized B (the oracle for [`KneadedMatrix::unknead`]), its scale, and
/// the kneaded matrix.
pub fn knead_layer(
    layer: &crate::workload::Layer,
    params: &KneadParams,
) -> Result<(Array2<i64>, f64, KneadedMatrix), KneadError> {
    let (b, scale) = crate::workload::quantized_b_matrix(layer, params.bits);
    let m = knead_matrix(b.view(), params)?;
    Ok((b, scale, m))
}
