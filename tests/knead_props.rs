//! Properties of kneading, un-kneading and packing (proptest), for both encodings.

use accelc::knead::{
    check_stream, digits, knead_group, knead_matrix, unknead, Encoding, KneadError, KneadParams, KneadStats,
    KneadedStream, KneadedWord, Slot,
};
use ndarray::Array2;
use proptest::prelude::*;

/// (bits, ks, encoding, a group of 1..=ks weights in range). Weights are drawn with many zeros and many
/// maximal values, so all-zero groups and full columns both occur.
fn group_case() -> impl Strategy<Value = (u32, usize, Encoding, Vec<i64>)> {
    (2u32..=16, 1usize..=64, any::<bool>()).prop_flat_map(|(bits, ks, csd)| {
        let q = (1i64 << (bits - 1)) - 1;
        let w = prop_oneof![3 => -q..=q, 1 => Just(0i64), 1 => Just(q), 1 => Just(-q)];
        (
            Just(bits),
            Just(ks),
            Just(if csd { Encoding::Csd } else { Encoding::SignMagnitude }),
            prop::collection::vec(w, 1..=ks),
        )
    })
}

/// Words a group must take, counted independently of the library's kneading: the largest number of
/// weights with a digit at one position.
fn expected_words(ws: &[i64], positions: usize, enc: Encoding) -> usize {
    (0..positions as u32)
        .map(|p| ws.iter().filter(|&&w| digits(w, enc).iter().any(|d| d.position == p)).count())
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn knead_unknead_round_trip_and_word_count((bits, ks, enc, ws) in group_case()) {
        let p = KneadParams::new(bits, ks, enc).unwrap();
        let g = knead_group(&ws, &p).unwrap();
        prop_assert_eq!(unknead(&g).unwrap(), ws.clone());
        prop_assert_eq!(g.len, ws.len());
        prop_assert!(g.words.len() <= ks && g.words.len() <= ws.len());
        prop_assert_eq!(g.words.len(), expected_words(&ws, p.positions(), enc));
        prop_assert_eq!(g.words.is_empty(), ws.iter().all(|&w| w == 0));
        let mut digits_total = 0;
        for w in &g.words {
            prop_assert_eq!(w.slots.len(), p.positions());
            prop_assert!(w.digits() > 0, "no empty word");
            for s in &w.slots {
                prop_assert!(!s.valid || (s.index as usize) < ws.len());
                prop_assert!(s.valid || *s == Slot::EMPTY);
            }
            digits_total += w.digits();
        }
        let want: usize = ws.iter().map(|&w| digits(w, enc).len()).sum();
        prop_assert_eq!(digits_total, want);
        // Every word packs into the layout's bits and unpacks to itself.
        let layout = p.layout();
        for w in &g.words {
            let bits = layout.pack_word(w).unwrap();
            prop_assert!(layout.word_bits == 128 || bits >> layout.word_bits == 0);
            prop_assert_eq!(&layout.unpack_word(bits).unwrap(), w);
        }
    }

    /// A K x N matrix through the packed stream (and its .npy arrays) and back; the stats agree with the
    /// matrix.
    #[test]
    fn matrix_stream_round_trip(
        bits in 2u32..=16, ks in 1usize..=20, k in 1usize..=40, n in 1usize..=5, csd: bool, seed: u64,
    ) {
        let enc = if csd { Encoding::Csd } else { Encoding::SignMagnitude };
        let p = KneadParams::new(bits, ks, enc).unwrap();
        let q = p.qmax();
        let mut s = seed;
        let b = Array2::from_shape_fn((k, n), |_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (s >> 33) as i64;
            if r % 3 == 0 { 0 } else { r % (2 * q + 1) - q }
        });
        let m = knead_matrix(b.view(), &p).unwrap();
        prop_assert_eq!(m.groups_per_column(), k.div_ceil(ks));
        prop_assert_eq!(m.unknead().unwrap(), b.clone());
        let stream = KneadedStream::from_matrix(&m).unwrap();
        let back = KneadedStream::from_arrays(p, k, n, stream.words_array().view(), stream.offsets_array().view()).unwrap();
        prop_assert_eq!(&back, &stream);
        prop_assert_eq!(back.decode().unwrap(), m.clone());
        check_stream(&back, b.view()).unwrap();
        let st = KneadStats::measure(b.view(), &m);
        prop_assert_eq!(st.weights as usize, k * n);
        prop_assert_eq!(st.words as usize, m.words());
        prop_assert_eq!(m.column_words().iter().sum::<usize>(), m.words());
        prop_assert!(st.words <= st.weights);
        if let Some(x) = st.ideal_speedup() { prop_assert!(x >= 1.0); }
    }
}

#[test]
fn all_zero_group_takes_no_words_and_short_last_group() {
    let p = KneadParams::new(8, 4, Encoding::SignMagnitude).unwrap();
    let g = knead_group(&[0, 0, 0, 0], &p).unwrap();
    assert!(g.words.is_empty());
    assert_eq!(unknead(&g).unwrap(), vec![0; 4]);
    // K = 6, KS = 4: groups of 4 and 2; column 1 is all zero (2 groups, 0 words).
    let b = ndarray::array![[3, 0], [5, 0], [-1, 0], [0, 0], [127, 0], [-127, 0]];
    let m = knead_matrix(b.view(), &p).unwrap();
    assert_eq!(m.columns[0].groups[1].len, 2);
    assert_eq!(m.column_words(), vec![3 + 2, 0]);
    let st = KneadStats::measure(b.view(), &m);
    assert_eq!((st.groups, st.zero_groups, st.words), (4, 2, 5));
    assert_eq!(st.ideal_speedup(), Some(12.0 / 5.0));
    let zero = Array2::<i64>::zeros((5, 3));
    assert_eq!(KneadStats::of_matrix(zero.view(), &p).unwrap().ideal_speedup(), None);
}

/// A worked example: the group [5, -3, 6, 1] at 4 bits, KS 4 (sign-magnitude).
/// Position 0: weights 0 (+), 1 (-), 3 (+); position 1: 1 (-), 2 (+); position 2: 0 (+), 2 (+). 3 words.
#[test]
fn worked_example_and_packed_layout() {
    let p = KneadParams::new(4, 4, Encoding::SignMagnitude).unwrap();
    let g = knead_group(&[5, -3, 6, 1], &p).unwrap();
    let s = |index, negative| Slot { valid: true, negative, index };
    let e = Slot::EMPTY;
    assert_eq!(
        g.words,
        vec![
            KneadedWord { slots: vec![s(0, false), s(1, true), s(0, false)] },
            KneadedWord { slots: vec![s(1, true), s(2, false), s(2, false)] },
            KneadedWord { slots: vec![s(3, false), e, e] },
        ]
    );
    // index_bits 2, slot 4 bits: slot = index<<2 | negative<<1 | valid, slot 0 in the low bits.
    let layout = p.layout();
    assert_eq!((layout.index_bits, layout.slot_bits, layout.word_bits, layout.lanes), (2, 4, 12, 1));
    assert_eq!(layout.pack_word(&g.words[0]).unwrap(), 0b0001_0111_0001);
    assert_eq!(layout.pack_word(&g.words[2]).unwrap(), 0b0000_0000_1101);
    // Widest layout: 16-bit CSD, KS 64: 16 slots x 8 bits = 128 bits, two lanes.
    let wide = KneadParams::new(16, 64, Encoding::Csd).unwrap().layout();
    assert_eq!((wide.positions, wide.slot_bits, wide.word_bits, wide.lanes), (16, 8, 128, 2));
    assert_eq!(KneadParams::new(16, 1, Encoding::SignMagnitude).unwrap().layout().index_bits, 0);
}

#[test]
fn bad_parameters_and_out_of_range_weights_are_errors() {
    assert_eq!(KneadParams::new(1, 4, Encoding::Csd), Err(KneadError::BadBits { bits: 1 }));
    assert_eq!(KneadParams::new(17, 4, Encoding::Csd), Err(KneadError::BadBits { bits: 17 }));
    assert_eq!(KneadParams::new(8, 0, Encoding::Csd), Err(KneadError::BadKs { ks: 0 }));
    assert_eq!(KneadParams::new(8, 65, Encoding::Csd), Err(KneadError::BadKs { ks: 65 }));
    let p = KneadParams::new(8, 4, Encoding::SignMagnitude).unwrap();
    let b = ndarray::array![[1], [128]];
    let e = knead_matrix(b.view(), &p).unwrap_err();
    assert!(matches!(e, KneadError::WeightOutOfRange { value: 128, .. }), "{e:?}");
    assert!(e.to_string().contains("B[1, 0]"), "{e}");
    assert!(knead_group(&[], &p).is_err() && knead_group(&[1; 5], &p).is_err());
}
