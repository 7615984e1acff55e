//! Output-stationary array (mirrors `templates/os_top.v.tera` and `pe_os.v.tera`).
//!
//! PE(r, c) owns C[m0+r][n0+c] of the current fold and accumulates it over k. A streams right along
//! rows, B down columns, both skewed so that element k meets at PE(r, c) at edge t_k + r + c. On the
//! last k each PE copies its sum into a hold register and restarts from zero, so the next fold runs
//! while the previous one is read out one row per edge through a row multiplexer.
//!
//! Timing: beats are taken back to back, except that a fold's last beat waits until
//! `fold_gap = max(rows, cols)` edges after the previous fold's last beat (row r of a fold is read
//! out `cols` edges after its last MAC; the next fold must not overwrite the hold registers before,
//! and two folds' rows must not compete for the output port). Row r of a fold whose last beat was
//! taken at edge L leaves at edge L + r + cols + 1 + pipeline: a pipelined MAC (`pe.pipeline` register
//! stages before the add) delays when each sum is complete, not when the next beat may enter.

use super::gemm::{at, beat, ceil_div, channel, GemmRun, Matrix};
use super::mac_unit::mac;
use super::OutBeat;
use crate::config::Params;

pub(super) fn run(p: &Params, a: &Matrix, b: &Matrix) -> GemmRun {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (rows, cols) = (p.rows, p.cols);
    let mut input = channel("in");
    let mut outputs = Vec::new();
    let mut c_out = Matrix::zeros((m, n));
    let mut next_edge = 0u64;
    let mut prev_last: Option<u64> = None;
    let mut folds = 0;
    for mt in 0..ceil_div(m, rows) {
        for nt in 0..ceil_div(n, cols) {
            folds += 1;
            let (m0, n0) = (mt * rows, nt * cols);
            let mut acc = vec![vec![0i64; cols]; rows];
            for kk in 0..k {
                let last = kk + 1 == k;
                let a_lanes: Vec<i64> = (0..rows).map(|r| at(a, m0 + r, kk)).collect();
                let b_lanes: Vec<i64> = (0..cols).map(|c| at(b, kk, n0 + c)).collect();
                let mut edge = next_edge;
                if let (true, Some(prev)) = (last, prev_last) {
                    edge = edge.max(prev + p.fold_gap as u64);
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    for (c, sum) in row.iter_mut().enumerate() {
                        *sum = mac(*sum, a_lanes[r], b_lanes[c], p.acc_bits);
                    }
                }
                input.beats.push(beat(vec![a_lanes, b_lanes, vec![last as i64]]));
                input.taken_at.push(edge);
                next_edge = edge + 1;
                if last {
                    prev_last = Some(edge);
                    for (r, row) in acc.iter().enumerate() {
                        let leaves = edge + r as u64 + cols as u64 + 1 + p.pipeline as u64;
                        outputs.push(OutBeat { cycle: leaves, lanes: row.clone() });
                        for (c, &v) in row.iter().enumerate() {
                            if m0 + r < m && n0 + c < n {
                                c_out[(m0 + r, n0 + c)] = v;
                            }
                        }
                    }
                }
            }
        }
    }
    GemmRun { c: c_out, inputs: vec![input], outputs, folds, cycles: 0 }
}
