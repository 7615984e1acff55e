//! The shipped real layers (data/weights/): loading, GEMM B shapes against the manifest, quantization
//! round trip, bit statistics against data/README.md, `real_weight_matrix`, and typed errors.

use accelc::workload::{
    gemm_b_matrix, load_network, magnitude_zero_bits, quantize_symmetric, quantized_b_matrix,
    real_weight_matrix, shipped_layers, try_real_weight_matrix, Layer, Op, WeightStore, WorkloadError,
};
use ndarray::Array2;
use std::path::{Path, PathBuf};

fn crate_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn layer(net: &str, name: &str) -> Layer {
    load_network(net)
        .unwrap()
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{net}: no {name}"))
}

/// The manifest row of `name`, read with serde_json directly (not through the loader under test).
fn manifest_row(net: &str, name: &str) -> serde_json::Value {
    let path = crate_data().join("weights").join(net).join("manifest.json");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m["layers"].as_array().unwrap().iter().find(|l| l["name"] == name).unwrap().clone()
}

fn usizes(v: &serde_json::Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

#[test]
fn shipped_networks_load_and_match_their_manifests() {
    let nets = WeightStore::default().networks();
    assert!(nets.iter().any(|n| n == "mtcnn") && nets.iter().any(|n| n == "ppocrv4_det"), "{nets:?}");
    let mut total_bytes = 0u64;
    for net in ["ppocrv4_det", "mtcnn"] {
        let layers = load_network(net).unwrap();
        assert!(layers.len() >= 5, "{net}: {} layers", layers.len());
        for l in &layers {
            let row = manifest_row(net, &l.name);
            assert_eq!(l.params() as u64, row["params"].as_u64().unwrap(), "{}", l.name);
            assert_eq!(l.reduction_len() as u64, row["reduction_len"].as_u64().unwrap(), "{}", l.name);
            assert_eq!(l.out_channels() as u64, row["out_channels"].as_u64().unwrap(), "{}", l.name);
            assert_eq!(l.groups as u64, row["groups"].as_u64().unwrap());
            assert_eq!(l.stride.to_vec(), usizes(&row["stride"]));
            assert_eq!(l.pads.to_vec(), usizes(&row["pads"]));
            let absmax = row["absmax"].as_f64().unwrap();
            assert!((f64::from(l.absmax()) - absmax).abs() <= 1e-6 * absmax, "{}: absmax", l.name);
            if let Some(b) = &l.bias {
                assert_eq!(b.len(), l.out_channels());
            }
            let size = std::fs::metadata(&l.file).unwrap().len();
            assert!(size < 1 << 20, "{}: {size} bytes, every shipped file must be < 1 MiB", l.file.display());
            total_bytes += size;
        }
    }
    assert!(total_bytes < 2 << 20, "shipped weights total {total_bytes} bytes, must stay well under 2 MiB");
}

/// B is K x N with K = in/groups * kh * kw (input-channel-major) and N = out, for a 1x1 conv, a 3x3 conv
/// and a fully connected layer, checked against the manifest; entries against a nested-loop reading of OIHW.
#[test]
fn gemm_b_shapes_and_layout_against_the_manifest() {
    for (net, name, op, kernel) in [
        ("ppocrv4_det", "p2o.Conv.8", Op::Conv, (1, 1)),
        ("ppocrv4_det", "p2o.Conv.49", Op::Conv, (3, 3)),
        ("mtcnn", "pnet.conv2", Op::Conv, (3, 3)),
        ("mtcnn", "rnet.fc4", Op::Dense, (1, 1)),
    ] {
        let l = layer(net, name);
        assert_eq!(l.op, op);
        let row = manifest_row(net, name);
        let shape = usizes(&row["shape"]);
        let k: usize = shape[1..].iter().product();
        let n = shape[0];
        assert_eq!((l.shape[2], l.shape[3]), kernel, "{name}");
        assert_eq!(k as u64, row["reduction_len"].as_u64().unwrap(), "{name}");
        let b = gemm_b_matrix(&l, 8);
        assert_eq!(b.dim(), (k, n), "{name}: B must be K x N");

        let (q, _) = quantize_symmetric(&l.weights, 8);
        let [o_n, c_n, kh, kw] = l.shape;
        for o in 0..o_n {
            for c in 0..c_n {
                for y in 0..kh {
                    for x in 0..kw {
                        assert_eq!(b[((c * kh + y) * kw + x, o)], q[(o, c, y, x)], "{name}: B[k, o]");
                    }
                }
            }
        }
    }
    // Named shapes from the manifest, written out: 1x1 96x48, 3x3 24x96x3x3, FC 128x576.
    assert_eq!(gemm_b_matrix(&layer("ppocrv4_det", "p2o.Conv.8"), 8).dim(), (48, 96));
    assert_eq!(gemm_b_matrix(&layer("ppocrv4_det", "p2o.Conv.49"), 8).dim(), (864, 24));
    assert_eq!(gemm_b_matrix(&layer("mtcnn", "rnet.fc4"), 8).dim(), (576, 128));
}

/// Dequantized values are within scale/2 of the originals, and absmax lands on +-qmax.
#[test]
fn dequantized_real_layer_is_within_half_a_step() {
    for (net, name) in [("ppocrv4_det", "p2o.Conv.14"), ("mtcnn", "rnet.fc4")] {
        let l = layer(net, name);
        for bits in [4u32, 8, 16] {
            let (q, scale) = quantize_symmetric(&l.weights, bits);
            let qmax = (1i64 << (bits - 1)) - 1;
            assert!((scale - f64::from(l.absmax()) / qmax as f64).abs() <= 1e-15, "{name}: scale");
            let mut worst = 0.0f64;
            for (&w, &v) in l.weights.iter().zip(q.iter()) {
                assert!(v.abs() <= qmax);
                worst = worst.max((v as f64 * scale - f64::from(w)).abs());
            }
            assert!(
                worst <= scale / 2.0 * (1.0 + 1e-9),
                "{name} @{bits}: error {worst} > scale/2 = {}",
                scale / 2.0
            );
            assert!(worst > scale / 4.0, "{name} @{bits}: real weights should use most of the half-step");
            assert_eq!(q.iter().map(|v| v.abs()).max(), Some(qmax), "{name} @{bits}: absmax maps to qmax");
        }
    }
}

/// Zero-bit fraction (sign-magnitude magnitude bits) of the shipped dense convs at 8 bits, against the
/// whole-network figures of data/README.md (ppocrv4_det 0.792, mtcnn 0.712). The shipped layers are a
/// subset, so the bound is loose (+-0.06); it still separates real weights from uniform random ones.
#[test]
fn zero_bit_fraction_is_near_the_readme_figure() {
    fn conv_fraction(layers: &[Layer], bits: u32) -> f64 {
        let (mut z, mut t) = (0, 0);
        for l in layers.iter().filter(|l| l.op == Op::Conv && !l.depthwise) {
            let (q, _) = quantize_symmetric(&l.weights, bits);
            let (lz, lt) = magnitude_zero_bits(q.iter(), bits);
            z += lz;
            t += lt;
        }
        z as f64 / t as f64
    }
    let within = |got: f64, want: f64| (got - want).abs() <= 0.06;
    for (net, want8, want16) in [("ppocrv4_det", 0.792, 0.656), ("mtcnn", 0.712, 0.606)] {
        let layers = load_network(net).unwrap();
        let f8 = conv_fraction(&layers, 8);
        let f16 = conv_fraction(&layers, 16);
        assert!(within(f8, want8), "{net}: 8-bit zero-bit fraction {f8:.3}, README says {want8}");
        assert!(within(f16, want16), "{net}: 16-bit zero-bit fraction {f16:.3}, README says {want16}");
    }
    // The largest shipped layer alone is close to its network's figure.
    let big = vec![layer("ppocrv4_det", "p2o.Conv.14")];
    assert!((conv_fraction(&big, 8) - 0.792).abs() <= 0.02);

    // Planted faults the bound must catch: uniform random 8-bit weights (about half the bits zero), and
    // counting two's-complement bits (negative values are mostly ones).
    let mut s = 1u64;
    let uniform: Vec<i64> = (0..10_000)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) % 255) as i64 - 127
        })
        .collect();
    let (z, t) = magnitude_zero_bits(uniform.iter(), 8);
    assert!(!within(z as f64 / t as f64, 0.792) && !within(z as f64 / t as f64, 0.712));
    let l = layer("ppocrv4_det", "p2o.Conv.14");
    let (q, _) = quantize_symmetric(&l.weights, 8);
    let twos_zero =
        q.iter().map(|&v| 8 - u64::from((v as u8).count_ones())).sum::<u64>() as f64 / (8 * q.len()) as f64;
    assert!(!within(twos_zero, 0.792), "two's-complement count {twos_zero:.3} must fall outside the bound");
}

#[test]
fn real_weight_matrix_fits_bits_and_is_reproducible() {
    for bits in [2u32, 4, 8, 16] {
        let qmax = (1i64 << (bits - 1)) - 1;
        for (k, n, seed) in [(8, 8, 0u64), (16, 4, 1), (64, 64, 2), (300, 300, 3), (1, 1, 4)] {
            let m = real_weight_matrix(k, n, bits, seed);
            assert_eq!(m.dim(), (k, n));
            assert!(m.iter().all(|v| v.abs() <= qmax), "bits {bits}: value out of range");
            assert_eq!(m, real_weight_matrix(k, n, bits, seed), "same seed, same matrix");
        }
        let big = real_weight_matrix(64, 64, bits, 9);
        assert!(big.iter().any(|&v| v != 0), "bits {bits}: all zero");
        if bits >= 4 {
            assert!(big.iter().any(|&v| v.abs() >= 2), "bits {bits}: more than -1/0/1 expected");
        }
    }
    let distinct: std::collections::BTreeSet<Vec<i64>> =
        (0..8).map(|s| real_weight_matrix(8, 8, 8, s).into_raw_vec_and_offset().0).collect();
    assert!(distinct.len() >= 6, "seeds should give different windows: {} distinct of 8", distinct.len());
    assert!(matches!(try_real_weight_matrix(4, 4, 1, 0), Err(WorkloadError::BadBits { bits: 1 })));
}

/// A window really comes from a shipped layer's B matrix (with wrap-around), not from a generator.
#[test]
fn real_weight_matrix_is_a_window_of_a_shipped_layer() {
    let layers = shipped_layers().unwrap();
    let bs: Vec<Array2<i64>> = layers.iter().map(|l| quantized_b_matrix(l, 8).0).collect();
    let is_window = |m: &Array2<i64>| {
        bs.iter().any(|b| {
            let (kk, nn) = b.dim();
            (0..kk).any(|r0| {
                (0..nn).any(|c0| m.indexed_iter().all(|((i, j), &v)| b[((r0 + i) % kk, (c0 + j) % nn)] == v))
            })
        })
    };
    for seed in 0..4 {
        assert!(is_window(&real_weight_matrix(6, 5, 8, seed)), "seed {seed}");
    }
    // Larger than every shipped layer in both dimensions: tiled, so rows repeat with the layer's K.
    let m = real_weight_matrix(1200, 400, 8, 5);
    assert!(is_window(&m.slice(ndarray::s![..6, ..5]).to_owned()));
    let period = bs.iter().map(|b| b.nrows()).find(|&kk| kk < 1200 && m.row(0) == m.row(kk));
    assert!(period.is_some(), "a tiled window repeats after K rows");
    // Planted fault: a matrix nudged by one in one entry is not a window.
    let mut fake = real_weight_matrix(6, 5, 8, 0);
    fake[(3, 2)] = if fake[(3, 2)] == 127 { 126 } else { fake[(3, 2)] + 1 };
    assert!(!is_window(&fake), "the window check must reject a matrix that is not real data");
}

#[test]
fn errors_are_typed_and_name_the_file() {
    // Unknown network: names the manifest path and lists what is shipped.
    let e = load_network("resnet50").unwrap_err();
    assert!(matches!(e, WorkloadError::UnknownNetwork { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("resnet50") && msg.contains("manifest.json") && msg.contains("mtcnn"), "{msg}");
    // Path-like names are refused before touching the file system.
    assert!(matches!(load_network("../data").unwrap_err(), WorkloadError::BadNetworkName { .. }));

    // A copy of a shipped network with one file missing and one shape wrong.
    let dir = std::env::temp_dir().join(format!("accelc_workload_errors_{}", std::process::id()));
    let net_dir = dir.join("weights").join("mtcnn");
    std::fs::create_dir_all(&net_dir).unwrap();
    let src = crate_data().join("weights").join("mtcnn");
    let manifest_text = std::fs::read_to_string(src.join("manifest.json")).unwrap();
    let store = WeightStore::new(&dir);

    // 1. manifest present, .npy files absent -> Io naming the first weight file.
    std::fs::write(net_dir.join("manifest.json"), &manifest_text).unwrap();
    let e = store.load_network("mtcnn").unwrap_err();
    assert!(matches!(&e, WorkloadError::Io { path, .. } if path.ends_with("001_pnet.conv2.npy")), "{e:?}");
    assert!(e.to_string().contains("001_pnet.conv2.npy"), "{e}");

    // 2. files present, the manifest claims another shape -> ShapeMismatch naming the file.
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, net_dir.join(f.file_name().unwrap())).unwrap();
    }
    assert_eq!(
        store.load_network("mtcnn").unwrap(),
        load_network("mtcnn")
            .unwrap()
            .into_iter()
            .map(|mut l| {
                l.file = net_dir.join(l.file.file_name().unwrap());
                l
            })
            .collect::<Vec<_>>()
    );
    let mut m: serde_json::Value = serde_json::from_str(&manifest_text).unwrap();
    m["layers"][0]["shape"] = serde_json::json!([16, 10, 3, 2]);
    std::fs::write(net_dir.join("manifest.json"), serde_json::to_string(&m).unwrap()).unwrap();
    let e = store.load_network("mtcnn").unwrap_err();
    match &e {
        WorkloadError::ShapeMismatch { path, expected, found, .. } => {
            assert!(path.ends_with("001_pnet.conv2.npy"));
            assert_eq!((expected.as_slice(), found.as_slice()), (&[16, 10, 3, 2][..], &[16, 10, 3, 3][..]));
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    assert!(e.to_string().contains("001_pnet.conv2.npy") && e.to_string().contains("pnet.conv2"), "{e}");

    // 3. a manifest that is not JSON -> Manifest naming manifest.json.
    std::fs::write(net_dir.join("manifest.json"), "{ not json").unwrap();
    let e = store.load_network("mtcnn").unwrap_err();
    assert!(matches!(&e, WorkloadError::Manifest { path, .. } if path.ends_with("manifest.json")), "{e:?}");

    // 4. a .npy of the wrong dtype (an i64 array) -> Npy naming the file.
    std::fs::write(net_dir.join("manifest.json"), &manifest_text).unwrap();
    ndarray_npy::write_npy(
        net_dir.join("001_pnet.conv2.npy"),
        &ndarray::Array4::<i64>::zeros((16, 10, 3, 3)),
    )
    .unwrap();
    let e = store.load_network("mtcnn").unwrap_err();
    assert!(matches!(&e, WorkloadError::Npy { path, .. } if path.ends_with("001_pnet.conv2.npy")), "{e:?}");

    std::fs::remove_dir_all(&dir).unwrap();
}
