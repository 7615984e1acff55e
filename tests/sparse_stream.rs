//! Compressed row streams: round trips over densities 0..=100%, row lengths 1..=64 and widths 2..=16
//! (proptest), all-zero and single-element rows, and planted faults: a wrong index, every single-bit
//! flip of a packed entry, a lost or extra row end.

use accelc::sparse::{check_stream, decode, encode, validate, Entry, SparseError, StreamFormat, StreamShape};
use ndarray::{Array2, ArrayView2};
use proptest::prelude::*;

/// (bits, L, dense rows) with a per-case density in 0..=100%: each element is nonzero with probability
/// `density`; nonzeros are drawn with extra weight on the extremes -2^(bits-1), 2^(bits-1)-1, ±1.
fn dense_case() -> impl Strategy<Value = (u32, usize, Array2<i64>)> {
    (2u32..=16, 1usize..=64, 0usize..=6, 0u32..=100).prop_flat_map(|(bits, len, rows, density)| {
        let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        let nonzero =
            prop_oneof![4 => lo..=hi, 1 => Just(lo), 1 => Just(hi), 1 => Just(1i64), 1 => Just(-1i64)]
                .prop_map(|v| if v == 0 { 1 } else { v });
        let cell = (0u32..100, nonzero).prop_map(move |(roll, v)| if roll < density { v } else { 0 });
        (Just(bits), Just(len), prop::collection::vec(cell, rows * len))
            .prop_map(move |(b, l, v)| (b, l, Array2::from_shape_vec((rows, l), v).unwrap()))
    })
}

/// The expected shape, counted without the library: nonzeros, and one entry per nonzero or per empty row.
fn expected_shape(d: ArrayView2<i64>) -> StreamShape {
    let per_row: Vec<usize> = d.rows().into_iter().map(|r| r.iter().filter(|&&v| v != 0).count()).collect();
    StreamShape {
        rows: d.nrows(),
        nnz: per_row.iter().sum(),
        entries: per_row.iter().map(|&n| n.max(1)).sum(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// encode -> validate -> pack -> unpack -> decode gives the dense rows back; the shape is what the
    /// format promises; the stream has exactly one row end per row.
    #[test]
    fn round_trip((bits, len, dense) in dense_case()) {
        let fmt = StreamFormat::new(bits, len).unwrap();
        let s = encode(dense.view(), &fmt).unwrap();
        prop_assert_eq!(validate(&s, &fmt).unwrap(), expected_shape(dense.view()));
        prop_assert_eq!(s.iter().filter(|e| e.last).count(), dense.nrows());
        let packed = fmt.pack_stream(&s).unwrap();
        prop_assert!(packed.iter().all(|&p| p >> fmt.entry_bits() == 0));
        let back = fmt.unpack_stream(&packed).unwrap();
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(decode(&back, &fmt, dense.nrows()).unwrap(), dense.clone());
        check_stream(&packed, &fmt, dense.view()).unwrap();
    }

    /// Any entry that fits the fields packs and unpacks to itself (whether or not it is legal in a row).
    #[test]
    fn pack_unpack_any_entry(bits in 2u32..=32, len in 1usize..=65536, valid: bool, last: bool,
                             idx_seed: u32, val_seed: i64) {
        let fmt = StreamFormat::new(bits, len).unwrap();
        let e = if valid {
            let index = idx_seed & ((1u32 << fmt.index_bits()) - 1);
            let span = 1i64 << bits;
            Entry { valid, last, index, value: val_seed.rem_euclid(span) + fmt.vmin() }
        } else {
            Entry { valid, last, index: 0, value: 0 }
        };
        let p = fmt.pack(&e).unwrap();
        prop_assert!(p >> fmt.entry_bits() == 0);
        prop_assert_eq!(fmt.unpack(p).unwrap(), e);
    }
}

#[test]
fn all_zero_rows_are_one_marker_each() {
    let fmt = StreamFormat::new(8, 16).unwrap();
    let dense = Array2::<i64>::zeros((5, 16));
    let s = encode(dense.view(), &fmt).unwrap();
    assert_eq!(s, vec![Entry::EMPTY_ROW; 5]);
    assert_eq!(fmt.pack_stream(&s).unwrap(), vec![0b10; 5]);
    assert_eq!(validate(&s, &fmt).unwrap(), StreamShape { rows: 5, nnz: 0, entries: 5 });
    assert_eq!(decode(&s, &fmt, 5).unwrap(), dense);
    // Zero rows between full rows.
    let mut d = Array2::<i64>::zeros((4, 16));
    d.row_mut(1).fill(-3);
    d.row_mut(3).fill(127);
    let s = encode(d.view(), &fmt).unwrap();
    assert_eq!(s.len(), 1 + 16 + 1 + 16);
    assert_eq!(s[0], Entry::EMPTY_ROW);
    assert_eq!(s[17], Entry::EMPTY_ROW);
    assert_eq!(decode(&s, &fmt, 4).unwrap(), d);
}

#[test]
fn single_element_rows() {
    let fmt = StreamFormat::new(4, 1).unwrap();
    assert_eq!((fmt.index_bits(), fmt.entry_bits()), (1, 7));
    let d = Array2::from_shape_vec((5, 1), vec![0, -8, 7, 0, 1]).unwrap();
    let s = encode(d.view(), &fmt).unwrap();
    assert_eq!(
        s,
        vec![
            Entry::EMPTY_ROW,
            Entry::nonzero(0, -8, true),
            Entry::nonzero(0, 7, true),
            Entry::EMPTY_ROW,
            Entry::nonzero(0, 1, true)
        ]
    );
    assert_eq!(decode(&s, &fmt, 5).unwrap(), d);
    // Index 1 fits the 1-bit field but not a row of length 1.
    let mut bad = s.clone();
    bad[1].index = 1;
    assert!(matches!(
        validate(&bad, &fmt),
        Err(SparseError::IndexOutOfRange { entry: 1, row: 1, index: 1, len: 1 })
    ));
    // Single nonzero in a long row, at both ends.
    let fmt = StreamFormat::new(16, 64).unwrap();
    let mut d = Array2::<i64>::zeros((2, 64));
    d[[0, 0]] = -32768;
    d[[1, 63]] = 32767;
    let s = encode(d.view(), &fmt).unwrap();
    assert_eq!(s, vec![Entry::nonzero(0, -32768, true), Entry::nonzero(63, 32767, true)]);
    assert_eq!(decode(&s, &fmt, 2).unwrap(), d);
}

#[test]
fn encode_rejects_bad_dense_input() {
    let fmt = StreamFormat::new(8, 4).unwrap();
    let d = Array2::from_shape_vec((1, 4), vec![0, 128, 0, 0]).unwrap();
    assert!(matches!(
        encode(d.view(), &fmt),
        Err(SparseError::ValueOutOfRange { value: 128, row: 0, col: 1, .. })
    ));
    let d = Array2::<i64>::zeros((1, 5));
    assert!(matches!(encode(d.view(), &fmt), Err(SparseError::WidthMismatch { got: 5, len: 4 })));
}

/// A fixed, deterministic dense case: rows of a 10-bit feature map with mixed densities, some all-zero
/// rows and some full rows. L = 24 (index field 5 bits, so indices 24..31 fit the field but not the row).
fn fixture() -> (StreamFormat, Array2<i64>) {
    let fmt = StreamFormat::new(10, 24).unwrap();
    let mut x: u32 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let d = Array2::from_shape_fn((12, 24), |(r, _)| {
        let density = [0, 5, 30, 100, 50, 0, 10, 90, 70, 100, 0, 20][r];
        let v = next();
        if v % 100 < density {
            let m = (v >> 8) as i64 % 1023 - 511;
            if m == 0 {
                1
            } else {
                m
            }
        } else {
            0
        }
    });
    (fmt, d)
}

/// The planted fault the issue asks for: replace the index of one entry by another value of the index
/// field. Every such stream is caught: `validate` rejects it (out of range, not increasing) or it
/// decodes to different rows than the original. Both outcomes occur.
#[test]
fn a_wrong_index_is_caught_by_validate_or_changes_the_decoded_row() {
    let (fmt, d) = fixture();
    let clean = encode(d.view(), &fmt).unwrap();
    let (mut by_validate, mut by_decode) = (0usize, 0usize);
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (i, e) in clean.iter().enumerate() {
        if !e.valid {
            continue;
        }
        for wrong in 0..1u32 << fmt.index_bits() {
            if wrong == e.index {
                continue;
            }
            let mut s = clean.clone();
            s[i].index = wrong;
            match validate(&s, &fmt) {
                Err(err) => {
                    by_validate += 1;
                    *kinds
                        .entry(match err {
                            SparseError::IndexOutOfRange { .. } => "out of range",
                            SparseError::IndexNotIncreasing { .. } => "not increasing",
                            _ => "other",
                        })
                        .or_default() += 1;
                }
                Ok(_) => {
                    let got = decode(&s, &fmt, d.nrows()).unwrap();
                    assert_ne!(got, d, "entry {i}: index {} -> {wrong} decoded to the same rows", e.index);
                    // Exactly the row of the entry changed, in exactly two columns.
                    let diffs: Vec<(usize, usize)> =
                        got.indexed_iter().filter(|(rc, &v)| d[*rc] != v).map(|(rc, _)| rc).collect();
                    assert_eq!(diffs.len(), 2, "{diffs:?}");
                    assert_eq!(diffs[0].0, diffs[1].0);
                    by_decode += 1;
                }
            }
            let packed = fmt.pack_stream(&s).unwrap();
            assert!(check_stream(&packed, &fmt, d.view()).is_err());
        }
    }
    println!(
        "wrong index: {by_validate} caught by validate {kinds:?}, {by_decode} decode to a different row"
    );
    assert!(by_validate > 1000 && by_decode > 50, "{by_validate} {by_decode}");
    assert_eq!(kinds.get("other"), None);
}

/// Every single-bit flip of every packed entry (all 64 bits, so also above the entry) is caught by
/// `check_stream`: by unpack (above the entry, non-canonical marker), validate (structure), the row
/// count (a lost or extra row end) or the comparison (a moved or changed value).
#[test]
fn every_single_bit_flip_is_caught() {
    let (fmt, d) = fixture();
    let clean = fmt.pack_stream(&encode(d.view(), &fmt).unwrap()).unwrap();
    check_stream(&clean, &fmt, d.view()).unwrap();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..clean.len() {
        for bit in 0..64 {
            let mut s = clean.clone();
            s[i] ^= 1u64 << bit;
            let err =
                check_stream(&s, &fmt, d.view()).expect_err(&format!("entry {i} bit {bit} went unnoticed"));
            let name = format!("{err:?}");
            *counts.entry(name.split([' ', '{']).next().unwrap().to_string()).or_default() += 1;
        }
    }
    println!(
        "{} flips of {} entries ({} bits each): {counts:?}",
        clean.len() * 64,
        clean.len(),
        fmt.entry_bits()
    );
    for kind in ["BadPacked", "RowCount", "Mismatch", "IndexNotIncreasing", "IndexOutOfRange"] {
        assert!(counts.contains_key(kind), "no flip was caught as {kind}: {counts:?}");
    }
}

/// A lost row end at the end of the stream, a moved row end, and a truncated stream.
#[test]
fn row_end_faults_are_caught() {
    let (fmt, d) = fixture();
    let clean = encode(d.view(), &fmt).unwrap();
    let mut s = clean.clone();
    s.last_mut().unwrap().last = false;
    assert!(matches!(validate(&s, &fmt), Err(SparseError::MissingRowEnd { .. })));
    // A row end dropped in the middle merges two rows: caught by validate or by the row count.
    for i in 0..clean.len() - 1 {
        if !clean[i].last {
            continue;
        }
        let mut s = clean.clone();
        s[i].last = false;
        assert!(decode(&s, &fmt, d.nrows()).is_err(), "dropped row end at entry {i}");
    }
    // Truncation by one entry.
    assert!(decode(&clean[..clean.len() - 1], &fmt, d.nrows()).is_err());
}
