//! Kneading figures on real trained weights: the shipped layers (data/) against the figures of
//! data/README.md, and, where the team's full collection (../shared/data) exists, the whole networks.

use accelc::knead::{Encoding, KneadParams, KneadStats};
use accelc::workload::{load_network, Layer, Op, WeightStore};

/// The README's "dense convs": 2-D convolutions that are not depthwise (no FC, no transposed conv).
fn dense_convs(layers: &[Layer]) -> impl Iterator<Item = &Layer> {
    layers.iter().filter(|l| l.op == Op::Conv && !l.depthwise)
}

fn network_stats<'a>(layers: impl Iterator<Item = &'a Layer>, bits: u32, ks: usize, enc: Encoding) -> KneadStats {
    let p = KneadParams::new(bits, ks, enc).unwrap();
    let mut total = KneadStats::default();
    for l in layers {
        total.merge(&KneadStats::of_layer(l, &p).unwrap());
    }
    total
}

/// README figures (whole networks, dense convs, sign-magnitude): (net, bits, zero-bit fraction,
/// ideal speedup at KS = 4, 8, 16).
const README: [(&str, u32, f64, [f64; 3]); 4] = [
    ("ppocrv4_det", 16, 0.656, [1.19, 1.35, 1.50]),
    ("ppocrv4_det", 8, 0.792, [1.60, 1.75, 1.87]),
    ("mtcnn", 16, 0.606, [1.16, 1.31, 1.46]),
    ("mtcnn", 8, 0.712, [1.41, 1.57, 1.71]),
];
const KS: [usize; 3] = [4, 8, 16];

fn table(store: &WeightStore, label: &str) {
    println!("{label}: ideal kneading speedup (dense convs), KS = 4 / 8 / 16");
    for net in ["ppocrv4_det", "mtcnn"] {
        let layers = store.load_network(net).unwrap();
        for bits in [8u32, 16] {
            for enc in [Encoding::SignMagnitude, Encoding::Csd] {
                let s: Vec<KneadStats> = KS
                    .iter()
                    .map(|&ks| network_stats(dense_convs(&layers), bits, ks, enc))
                    .collect();
                println!(
                    "  {net:12} {bits:2}-bit {:15} zero-bit {:.3} zero-digit {:.3} zero-value {:.4}  speedup {:.2} / {:.2} / {:.2}",
                    enc.name(),
                    s[0].zero_bit_fraction(),
                    s[0].zero_digit_fraction(),
                    s[0].zero_value_fraction(),
                    s[0].ideal_speedup().unwrap(),
                    s[1].ideal_speedup().unwrap(),
                    s[2].ideal_speedup().unwrap()
                );
            }
        }
    }
}

/// The shipped subset (5 of 48 ppocrv4_det dense convs, 5 of 12 mtcnn convs) lands near the whole-network
/// README figures: zero-bit fraction within 0.06 (as tests/workload_real_weights.rs) and ideal speedup
/// within 12% (the subset is a little less sparse than the whole networks, see data/README.md). CSD beats
/// sign-magnitude everywhere.
#[test]
fn shipped_layers_land_near_the_readme_figures() {
    table(&WeightStore::default(), "shipped subset (data/)");
    for (net, bits, zbf, speedups) in README {
        let layers = load_network(net).unwrap();
        for (&ks, &want) in KS.iter().zip(&speedups) {
            let sm = network_stats(dense_convs(&layers), bits, ks, Encoding::SignMagnitude);
            let got = sm.ideal_speedup().unwrap();
            assert!(
                (got / want - 1.0).abs() <= 0.12,
                "{net} {bits}-bit KS {ks}: ideal speedup {got:.3}, README {want}"
            );
            assert!((sm.zero_bit_fraction() - zbf).abs() <= 0.06, "{net} {bits}: zero-bit fraction");
            assert_eq!(sm.zero_digit_fraction(), sm.zero_bit_fraction());
            let csd = network_stats(dense_convs(&layers), bits, ks, Encoding::Csd);
            assert!(csd.nonzero_digits < sm.nonzero_digits, "{net}: CSD must have fewer digits");
            assert!(csd.ideal_speedup().unwrap() > got, "{net} {bits}-bit KS {ks}: CSD speedup");
            assert_eq!(csd.weights, sm.weights);
        }
    }
}

/// The whole networks from ../shared/data, when present: the README figures to within 0.02 (speedup) and
/// 0.005 (zero-bit fraction). Skipped with a note in a clone without ../shared.
#[test]
fn shared_collection_matches_the_readme_figures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !dir.join("weights").is_dir() {
        println!("note: {} not found: whole-network comparison skipped", dir.display());
        return;
    }
    let store = WeightStore::new(&dir);
    table(&store, "whole networks (../shared/data)");
    for (net, bits, zbf, speedups) in README {
        let layers = store.load_network(net).unwrap();
        for (&ks, &want) in KS.iter().zip(&speedups) {
            let sm = network_stats(dense_convs(&layers), bits, ks, Encoding::SignMagnitude);
            let got = sm.ideal_speedup().unwrap();
            assert!((got - want).abs() <= 0.02, "{net} {bits}-bit KS {ks}: {got:.3} vs README {want}");
            assert!(
                (sm.zero_bit_fraction() - zbf).abs() <= 0.005,
                "{net} {bits}: zero-bit fraction {:.4} vs README {zbf}",
                sm.zero_bit_fraction()
            );
        }
    }
}
