//! The sparse 1-D convolution's scatter arithmetic against dense convolution written as plain gather
//! loops over an explicitly zero-padded input, for the forward, input-gradient and weight-gradient
//! phases, with strides, dilations, padding and causal TCN layers, at densities from 0 to 100%.

mod common;

use accelc::sparse::conv1d::{forward, input_gradient, weight_gradient, Conv1d};
use accelc::sparse::stream::{encode_row, StreamFormat};
use common::naive_conv::{dense_forward, dense_input_gradient, dense_weight_gradient};
use proptest::prelude::*;

const ACC: u32 = 40;

fn sparse_row(len: usize, density: u32, seed: &[i64]) -> Vec<i64> {
    (0..len).map(|i| if (i as u32 * 37 + 11) % 100 < density { seed[i % seed.len()] } else { 0 }).collect()
}

fn compress(row: &[i64]) -> Vec<accelc::sparse::stream::Entry> {
    encode_row(row, &StreamFormat::new(16, row.len()).unwrap(), 0).unwrap()
}

fn conv_strategy() -> impl Strategy<Value = Conv1d> {
    (1usize..=5, 1usize..=3, 1usize..=4, 0usize..=6, 0usize..=3, 1usize..=40, any::<bool>()).prop_map(
        |(taps, stride, dilation, pad, pad_right, len, causal)| {
            if causal {
                Conv1d::causal(taps, dilation, len)
            } else {
                Conv1d::new(taps, stride, dilation, pad, pad_right, len)
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn all_three_phases_equal_dense_convolution(
        conv in conv_strategy(),
        density in prop_oneof![Just(0u32), Just(5u32), Just(30u32), Just(100u32), 0u32..=100],
        values in proptest::collection::vec(-32768i64..=32767, 1..8),
        w in proptest::collection::vec(-32768i64..=32767, 5),
    ) {
        prop_assume!(conv.out_len > 0);
        let w = &w[..conv.taps];
        let x = sparse_row(conv.in_len, density, &values);
        prop_assert_eq!(forward(&compress(&x), w, &conv, ACC), dense_forward(&x, w, &conv, ACC));
        let dy = sparse_row(conv.out_len, density, &values);
        prop_assert_eq!(input_gradient(&compress(&dy), w, &conv, ACC), dense_input_gradient(&dy, w, &conv, ACC));
        let x_dense: Vec<i64> = (0..conv.in_len).map(|i| values[i % values.len()] / 2 + i as i64).collect();
        prop_assert_eq!(weight_gradient(&compress(&dy), &x_dense, &conv, ACC), dense_weight_gradient(&dy, &x_dense, &conv, ACC));
    }
}

#[test]
fn causal_tcn_output_depends_only_on_the_past() {
    let conv = Conv1d::causal(3, 4, 32);
    assert_eq!((conv.out_len, conv.pad), (32, 8));
    let w = [1, 10, 100];
    let mut x = vec![0i64; 32];
    x[20] = 1;
    let y = forward(&compress(&x), &w, &conv, ACC);
    // Correlation with causal padding: y[t] = w[2] x[t] + w[1] x[t-4] + w[0] x[t-8] (tap KT-1 is the
    // current sample, i.e. the TCN paper's w'[j] = w[KT-1-j]). x[20] reaches y[20], y[24], y[28] only.
    let expected: Vec<i64> = (0..32)
        .map(|t| match t {
            20 => 100,
            24 => 10,
            28 => 1,
            _ => 0,
        })
        .collect();
    assert_eq!(y, expected);
}

#[test]
fn all_zero_and_single_element_rows() {
    let conv = Conv1d::new(3, 1, 1, 1, 1, 8);
    let w = [2, 3, 5];
    let zeros = compress(&[0; 8]);
    assert_eq!(zeros.len(), 1, "an all-zero row is one marker entry");
    assert_eq!(forward(&zeros, &w, &conv, ACC), vec![0; conv.out_len]);
    let mut one = [0i64; 8];
    one[0] = 7;
    let y = forward(&compress(&one), &w, &conv, ACC);
    assert_eq!(y, dense_forward(&one, &w, &conv, ACC));
    assert_eq!(&y[..2], &[21, 14]);
}

#[test]
fn a_wrong_index_in_the_stream_changes_the_result() {
    let conv = Conv1d::new(3, 2, 1, 1, 1, 16);
    let x = sparse_row(16, 30, &[5, -9, 12]);
    let mut stream = compress(&x);
    let good = forward(&stream, &[1, -2, 3], &conv, ACC);
    let e = stream.iter_mut().find(|e| e.valid).unwrap();
    e.index += 1;
    assert_ne!(forward(&stream, &[1, -2, 3], &conv, ACC), good);
}
