//! Dense 1-D convolution written as plain gather loops over an explicitly zero-padded input: the
//! reference for the sparse scatter arithmetic and the sparse row array's model.

use accelc::model::mac_unit::wrap;
use accelc::sparse::conv1d::Conv1d;

/// x with `pad` zeros in front and enough zeros behind for every tap.
fn padded(x: &[i64], conv: &Conv1d) -> Vec<i64> {
    let mut p = vec![0i64; conv.pad];
    p.extend_from_slice(x);
    p.resize(conv.pad + x.len() + conv.stride * conv.out_len + conv.dilation * conv.taps + 1, 0);
    p
}

pub fn dense_forward(x: &[i64], w: &[i64], conv: &Conv1d, acc: u32) -> Vec<i64> {
    let xp = padded(x, conv);
    (0..conv.out_len)
        .map(|t| wrap((0..conv.taps).map(|k| w[k] * xp[conv.stride * t + conv.dilation * k]).sum(), acc))
        .collect()
}

/// dx = the transpose of the forward map applied to dy: dx[i] = sum over (t, k) reading x[i].
pub fn dense_input_gradient(dy: &[i64], w: &[i64], conv: &Conv1d, acc: u32) -> Vec<i64> {
    let mut dxp = vec![0i64; padded(&vec![0; conv.in_len], conv).len()];
    for t in 0..conv.out_len {
        for k in 0..conv.taps {
            dxp[conv.stride * t + conv.dilation * k] += dy[t] * w[k];
        }
    }
    dxp[conv.pad..conv.pad + conv.in_len].iter().map(|&v| wrap(v, acc)).collect()
}

pub fn dense_weight_gradient(dy: &[i64], x: &[i64], conv: &Conv1d, acc: u32) -> Vec<i64> {
    let xp = padded(x, conv);
    (0..conv.taps)
        .map(|k| wrap((0..conv.out_len).map(|t| dy[t] * xp[conv.stride * t + conv.dilation * k]).sum(), acc))
        .collect()
}
