//! Weight-stationary array (mirrors `templates/ws_top.v.tera` and `pe_ws.v.tera`).
//!
//! PE(r, c) holds W[r][c] = B[k0+r][n0+c] of the current fold. A row m enters skewed (lane r delayed
//! r edges) and flows right; partial sums flow down the columns, so column c's sum for row m leaves
//! the bottom at edge t_m + rows - 1 + c. A de-skew aligns the columns, and the accumulator buffer adds
//! the sum to what earlier k folds left in its row (or starts from zero), then stores it or, on the
//! last k fold, sends it out. Folds run in the order (M block of acc_depth rows, N tile, K tile).
//!
//! Weights are double-buffered: each PE has an active and a shadow register. Weight beat r writes
//! the shadow registers of PE row r; the first A row of a fold switches each PE to its shadow as it
//! passes. Timing:
//! - weight beat 0 of fold f is taken at least max(1, cols - 1) edges after fold f-1's first row,
//!   when that row has switched all of PE row 0; beats r > 0 follow no faster than one per edge, so
//!   row r loads at least r + cols - 1 edges after the switch front passed it (PE(r, cols-1));
//! - the first row of fold f is taken at least 1 edge after its last weight beat;
//! - a row taken at edge t with a_emit = 1 leaves at edge t + rows + cols + pipeline (every PE of a
//!   pipelined array adds its product `pe.pipeline` edges late; the partial sums keep pace).

use super::gemm::{at, beat, ceil_div, channel, GemmRun, Matrix};
use super::mac_unit::{acc_add, mac};
use super::OutBeat;
use crate::config::Params;

// Row i of a fold is both a beat index and an accumulator row: explicit indices read best.
#[allow(clippy::needless_range_loop)]
pub(super) fn run(p: &Params, a: &Matrix, b: &Matrix) -> GemmRun {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (rows, cols, depth) = (p.rows, p.cols, p.acc_depth);
    let k_tiles = ceil_div(k, rows);
    let mut w_chan = channel("w");
    let mut a_chan = channel("a");
    let mut outputs = Vec::new();
    let mut c_out = Matrix::zeros((m, n));
    let mut acc_buf = vec![vec![0i64; cols]; depth];
    let (mut w_next, mut a_next) = (0u64, 0u64);
    let mut prev_first: Option<u64> = None;
    let mut folds = 0;
    for mb in 0..ceil_div(m, depth) {
        let block_rows = depth.min(m - mb * depth);
        for nt in 0..ceil_div(n, cols) {
            for kt in 0..k_tiles {
                folds += 1;
                let (k0, n0) = (kt * rows, nt * cols);
                let weights: Vec<Vec<i64>> =
                    (0..rows).map(|r| (0..cols).map(|c| at(b, k0 + r, n0 + c)).collect()).collect();
                for (r, w_row) in weights.iter().enumerate() {
                    let mut edge = w_next;
                    if let (0, Some(first)) = (r, prev_first) {
                        edge = edge.max(first + (cols - 1).max(1) as u64);
                    }
                    w_chan.beats.push(beat(vec![w_row.clone()]));
                    w_chan.taken_at.push(edge);
                    w_next = edge + 1;
                }
                let (accumulate, emit) = (kt > 0, kt + 1 == k_tiles);
                for i in 0..block_rows {
                    let row = mb * depth + i;
                    let mut edge = a_next;
                    if i == 0 {
                        edge = edge.max(w_next);
                        prev_first = Some(edge);
                    }
                    a_next = edge + 1;
                    let a_lanes: Vec<i64> = (0..rows).map(|r| at(a, row, k0 + r)).collect();
                    let sums: Vec<i64> = (0..cols)
                        .map(|c| {
                            let column =
                                (0..rows).fold(0, |psum, r| mac(psum, a_lanes[r], weights[r][c], p.acc_bits));
                            if accumulate {
                                acc_add(acc_buf[i][c], column, p.acc_bits)
                            } else {
                                column
                            }
                        })
                        .collect();
                    let flags = [(i == 0) as i64, accumulate as i64, emit as i64];
                    a_chan.beats.push(beat(vec![a_lanes, vec![flags[0]], vec![flags[1]], vec![flags[2]]]));
                    a_chan.taken_at.push(edge);
                    if emit {
                        for (c, &v) in sums.iter().enumerate() {
                            if n0 + c < n {
                                c_out[(row, n0 + c)] = v;
                            }
                        }
                        outputs
                            .push(OutBeat { cycle: edge + (rows + cols + p.pipeline) as u64, lanes: sums });
                    } else {
                        acc_buf[i] = sums;
                    }
                }
            }
        }
    }
    GemmRun { c: c_out, inputs: vec![w_chan, a_chan], outputs, folds, cycles: 0 }
}
