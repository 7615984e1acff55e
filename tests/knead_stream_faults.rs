//! The stream checker (`check_stream`: decode + un-knead + compare with the quantized weights) catches
//! planted faults in a kneaded stream of real weights: every single-bit flip of every packed word, and
//! a moved group boundary.

use accelc::knead::{check_stream, knead_layer, unknead, Encoding, KneadParams, KneadedStream};
use accelc::workload::load_network;
use ndarray::Array2;

fn real(net: &str, name: &str, bits: u32, ks: usize, enc: Encoding) -> (Array2<i64>, KneadedStream) {
    let layer = load_network(net).unwrap().into_iter().find(|l| l.name == name).unwrap();
    let p = KneadParams::new(bits, ks, enc).unwrap();
    let (b, _, m) = knead_layer(&layer, &p).unwrap();
    let s = KneadedStream::from_matrix(&m).unwrap();
    check_stream(&s, b.view()).expect("the clean stream passes");
    (b, s)
}

/// Every bit of every word (each bit of the word, a few above it and bit 127) flipped one at a time: the
/// checker fails every time. A small real layer (mtcnn pnet.conv4-1, K x N = 32 x 4).
#[test]
fn every_single_bit_flip_is_caught() {
    for (bits, ks, enc) in [(8, 8, Encoding::SignMagnitude), (8, 4, Encoding::Csd), (16, 16, Encoding::Csd)] {
        let (b, clean) = real("mtcnn", "pnet.conv4-1", bits, ks, enc);
        let mut flips = 0;
        let top = clean.layout().word_bits;
        let bits_to_flip: Vec<u32> = (0..(top + 4).min(128)).chain([127]).collect();
        for r in 0..clean.words.len() {
            for &bit in &bits_to_flip {
                let mut s = clean.clone();
                s.words[r] ^= 1u128 << bit;
                assert!(
                    check_stream(&s, b.view()).is_err(),
                    "{bits}-bit KS {ks} {enc}: flip of bit {bit} in word {r} went unnoticed"
                );
                flips += 1;
            }
        }
        assert!(flips > 1000, "{flips}");
    }
}

/// Flipping the sign or an index bit of a valid slot yields a well-formed word that un-kneads to
/// different weights (or names an activation outside the group): the comparison is what catches it.
/// Checked on the word's own group (decoding only that group) for a sample of words of a 16-bit layer
/// (both lanes in use), and through the whole-stream checker for a few of them.
#[test]
fn flipped_sign_or_index_unkneads_to_different_weights() {
    for enc in [Encoding::SignMagnitude, Encoding::Csd] {
        let (b, clean) = real("mtcnn", "rnet.fc4", 16, 16, enc);
        let layout = clean.layout();
        assert_eq!(layout.lanes, 2);
        let m = clean.decode().unwrap();
        let g_n = m.groups_per_column();
        let mut checked = (0, 0);
        for r in (0..clean.words.len()).step_by(211) {
            // The group that holds word r.
            let gi = clean.group_offsets.partition_point(|&o| o <= r as u64) - 1;
            let (n, g) = (gi / g_n, gi % g_n);
            let (a, z) = (clean.group_offsets[gi] as usize, clean.group_offsets[gi + 1] as usize);
            let original = &m.columns[n].groups[g];
            let want = unknead(original).unwrap();
            for p in 0..layout.positions {
                let base = p as u32 * layout.slot_bits;
                if clean.words[r] >> base & 1 == 0 {
                    continue; // empty slot
                }
                for field in 1..layout.slot_bits {
                    let mut group = original.clone();
                    let flipped = clean.words[r] ^ (1u128 << (base + field));
                    group.words[r - a] = layout.unpack_word(flipped).expect("still a well-formed word");
                    assert_eq!(z - a, group.words.len());
                    match unknead(&group) {
                        Ok(got) => {
                            assert_ne!(got, want, "word {r} slot {p} bit {field}: same weights");
                            checked.0 += 1;
                        }
                        Err(e) => {
                            assert!(e.to_string().contains("outside the group"), "{e}");
                            checked.1 += 1;
                        }
                    }
                    if checked.0 + checked.1 <= 3 {
                        let mut s = clean.clone();
                        s.words[r] = flipped;
                        assert!(check_stream(&s, b.view()).is_err());
                    }
                }
            }
        }
        assert!(checked.0 > 100, "{checked:?}");
    }
}

/// Moving one word from a group to its neighbour (an offset off by one) is caught; so is a truncated
/// stream.
#[test]
fn moved_group_boundary_and_truncation_are_caught() {
    let (b, clean) = real("mtcnn", "pnet.conv4-1", 8, 4, Encoding::SignMagnitude);
    for i in 1..clean.group_offsets.len() - 1 {
        for delta in [-1i64, 1] {
            let mut s = clean.clone();
            let v = s.group_offsets[i] as i64 + delta;
            if v < 0 {
                continue;
            }
            s.group_offsets[i] = v as u64;
            assert!(check_stream(&s, b.view()).is_err(), "offset {i} {delta:+}");
        }
    }
    let mut s = clean.clone();
    s.words.pop();
    assert!(check_stream(&s, b.view()).is_err());
}
