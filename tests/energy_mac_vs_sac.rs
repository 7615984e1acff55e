//! MAC against SAC energy on one real layer (16-bit, KS = 16, 8x8). Run with `--nocapture` to see the
//! figures and the assumptions behind them.

use accelc::config::{PeKind, WeightEncoding};
use accelc::energy::{array_config, compare_configs, compare_mac_sac, EnergyTable};
use accelc::workload::{gemm_b_matrix, load_network};
use ndarray::Array2;

#[test]
fn mac_vs_sac_on_a_real_layer() {
    let layers = load_network("mtcnn").expect("shipped mtcnn weights");
    // The first non-depthwise layer with a K x N GEMM of a modest size (the SAC model steps every edge).
    let layer = layers
        .iter()
        .find(|l| !l.depthwise && l.reduction_len() >= 64 && l.reduction_len() * l.out_channels() <= 40_000)
        .expect("a layer of modest size");
    let b = gemm_b_matrix(layer, 16);
    let (k, n) = b.dim();
    let m = 64; // 64 output pixels; activation values do not change the counted operations
    let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7919 + j * 104_729) % 65_535) as i64 - 32_767);
    let cmp = compare_mac_sac(8, 8, 16, 16, &a, &b, &EnergyTable::default());
    println!(
        "layer {}/{} ({}), B = {k} x {n}, 16-bit, KS = 16, 8x8 arrays",
        layer.network, layer.name, layer.index
    );
    print!("{}", cmp.render());
    // No direction is asserted: the ratio is a finding of the model, not a requirement.
    assert!(cmp.core_ratio.is_finite() && (0.1..10.0).contains(&cmp.core_ratio), "{}", cmp.core_ratio);
    assert_eq!(cmp.mac.useful_macs, (m * k * n) as u64);
    assert_eq!(cmp.mac.counts.total_multiplies(), cmp.mac.useful_macs);
    assert_eq!(cmp.sac.counts.total_multiplies(), 0);
    let json = serde_json::to_value(&cmp).unwrap();
    assert_eq!(json["format_version"], accelc::config::FORMAT_VERSION);

    if std::env::var_os("ENERGY_COUNTS").is_some() {
        println!("MAC counts: {}", serde_json::to_string(&cmp.mac.counts).unwrap());
        println!("SAC counts: {}", serde_json::to_string(&cmp.sac.counts).unwrap());
    }

    // The same layer at 8 bits, for context (same activations scaled down).
    let b8 = gemm_b_matrix(layer, 8);
    let a8 = a.mapv(|v| v >> 8);
    let cmp8 = compare_mac_sac(8, 8, 8, 16, &a8, &b8, &EnergyTable::default());
    println!("\nthe same layer at 8 bits, KS = 16, 8x8:");
    println!(
        "MAC core {:.1} pJ ({:.3} pJ/MAC), SAC core {:.1} pJ ({:.3} pJ/MAC): core {:.2}x, total {:.2}x, core EDP {:.2}x",
        cmp8.mac.core_pj,
        cmp8.mac.core_pj / cmp8.mac.useful_macs as f64,
        cmp8.sac.core_pj,
        cmp8.sac.core_pj / cmp8.sac.useful_macs as f64,
        cmp8.core_ratio,
        cmp8.total_ratio,
        cmp8.core_edp_ratio
    );

    // Sensitivity at 16 bits: CSD digits, and the accumulator cut to what this K needs (16+16+7 = 39
    // bits instead of the default 44, sized for max_reduction = 4096), on both designs.
    println!("\nsensitivity, 16-bit, KS = 16, 8x8 (MAC/SAC ratios):");
    for (label, encoding, acc) in [
        ("sign-magnitude, acc 44", WeightEncoding::SignMagnitude, None),
        ("csd, acc 44", WeightEncoding::Csd, None),
        ("sign-magnitude, acc 39", WeightEncoding::SignMagnitude, Some(39)),
        ("csd, acc 39", WeightEncoding::Csd, Some(39)),
    ] {
        let mut mac = array_config(PeKind::Mac, 8, 8, 16, 16);
        let mut sac = array_config(PeKind::Sac, 8, 8, 16, 16);
        sac.pe.encoding = Some(encoding);
        mac.pe.acc_bits = acc;
        sac.pe.acc_bits = acc;
        mac.validate("mac").unwrap();
        sac.validate("sac").unwrap();
        let c = compare_configs(&mac, &sac, &a, &b, &EnergyTable::default());
        println!(
            "  {label:<24} MAC {:.3} pJ/MAC, SAC {:.3} pJ/MAC (core): core {:.2}x, total {:.2}x, core EDP {:.2}x, cycles {} vs {}",
            c.mac.core_pj / c.mac.useful_macs as f64,
            c.sac.core_pj / c.sac.useful_macs as f64,
            c.core_ratio,
            c.total_ratio,
            c.core_edp_ratio,
            c.mac_cycles,
            c.sac_cycles
        );
    }
}
