//! Energy model: operation counts on tiny hand-computed GEMMs, linearity in K, the SAC zero-weight
//! case, a planted wrong count, the table's consistency with its source, and the report's JSON.

use accelc::config::{Dataflow, Params, PeKind, FORMAT_VERSION};
use accelc::energy::{array_config, energy, EnergyTable, OpCounts};
use accelc::model::{run_gemm, Matrix};
use ndarray::{array, Array2};

fn params(kind: PeKind, rows: u32, cols: u32, bits: u32, ks: u32, acc_bits: u32) -> accelc::config::Params {
    let mut c = array_config(kind, rows, cols, bits, ks);
    c.pe.acc_bits = Some(acc_bits);
    c.validate("test").expect("valid config");
    c.params()
}

fn counts(p: &accelc::config::Params, a: &Matrix, b: &Matrix) -> OpCounts {
    let run = run_gemm(p, a, b);
    OpCounts::from_run(p, &run, a.ncols())
}

fn adds(c: &OpCounts, what: &str, bits: u32) -> u64 {
    c.adds.iter().filter(|a| a.what == what && a.bits == bits).map(|a| a.count).sum()
}

fn reg(c: &OpCounts, what: &str) -> u64 {
    c.register_bit_writes.iter().filter(|r| r.what == what).map(|r| r.bits).sum()
}

fn stream_bits(c: &OpCounts, name: &str) -> u64 {
    c.streams.iter().find(|s| s.name == name).map_or(0, |s| s.bits)
}

/// The hand arithmetic for a 1x1 output-stationary MAC array, 8-bit operands, acc 20, one fold of K.
fn check_mac_os_1x1(c: &OpCounts, k: u64) -> Result<(), String> {
    let expect = |what: &str, got: u64, want: u64| {
        if got == want {
            Ok(())
        } else {
            Err(format!("{what}: counted {got}, hand arithmetic says {want}"))
        }
    };
    expect("multiplies", c.total_multiplies(), k)?;
    expect(
        "8x8 multiplies",
        c.multiplies.iter().filter(|m| m.a_bits == 8 && m.b_bits == 8).map(|m| m.count).sum(),
        k,
    )?;
    expect("20-bit adds", adds(c, "pe_mac", 20), k)?;
    expect("adds", c.total_adds(), k)?;
    expect("acc bits", reg(c, "pe_acc"), 20 * k)?;
    expect("pipeline bits", reg(c, "pe_pipeline"), (8 + 8 + 2) * k)?;
    expect("skew bits", reg(c, "input_skew"), 0)?;
    expect("result bits", reg(c, "pe_result"), 20)?;
    expect("in stream bits", stream_bits(c, "in"), 17 * k)?;
    expect("out stream bits", stream_bits(c, "out"), 20)?;
    expect("buffers", c.buffers.len() as u64, 0)
}

#[test]
fn mac_os_1x1_counts_match_hand_arithmetic() {
    let p = params(PeKind::Mac, 1, 1, 8, 16, 20);
    let a = array![[1i64, -2, 3, 4]];
    let b = array![[5i64], [6], [-7], [8]];
    let c = counts(&p, &a, &b);
    check_mac_os_1x1(&c, 4).unwrap();
    assert_eq!(c.useful_macs, 4);

    // Energy by hand: 4 x (3.1*64/1024) + 4 x (0.1*20/32) + (80+72+20) x 0.1/32 + (68+20) x 10/64.
    let e = energy(&c, &EnergyTable::default());
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    assert!(close(e.multiply_pj, 4.0 * 0.19375), "{}", e.multiply_pj);
    assert!(close(e.add_pj, 4.0 * 0.0625), "{}", e.add_pj);
    assert!(close(e.register_pj, 172.0 * 0.003125), "{}", e.register_pj);
    assert!(close(e.stream_pj, 88.0 * 0.15625), "{}", e.stream_pj);
    assert!(close(e.buffer_pj, 0.0));
    assert!(close(e.core_pj, 0.775 + 0.25 + 0.5375));
    assert!(close(e.total_pj, e.core_pj + 13.75));
}

#[test]
fn a_planted_wrong_count_is_caught() {
    let p = params(PeKind::Mac, 1, 1, 8, 16, 20);
    let a = array![[1i64, -2, 3, 4]];
    let b = array![[5i64], [6], [-7], [8]];
    let good = counts(&p, &a, &b);
    check_mac_os_1x1(&good, 4).unwrap();
    let table = EnergyTable::default();

    let mut bad = good.clone();
    bad.multiplies[0].count += 1; // one phantom multiply
    assert!(check_mac_os_1x1(&bad, 4).unwrap_err().contains("multiplies"));
    assert!(energy(&bad, &table).multiply_pj > energy(&good, &table).multiply_pj);

    let mut bad = good.clone();
    bad.reg("pe_acc", 1); // one extra accumulator bit write
    assert!(check_mac_os_1x1(&bad, 4).unwrap_err().contains("acc bits"));

    let mut bad = good.clone();
    bad.adds[0].bits = 16; // the accumulate at the wrong width
    assert!(check_mac_os_1x1(&bad, 4).is_err());
}

#[test]
fn sac_1x1_counts_match_hand_arithmetic() {
    // 8-bit sign-magnitude, KS = 4: 3 = 2^1 + 2^0, -5 = -(2^2 + 2^0), 0, 1 = 2^0.
    // Digits per position: p0: 3, p1: 1, p2: 1 -> 3 words, 5 valid slots; 7 positions, slot 4 bits.
    let p = params(PeKind::Sac, 1, 1, 8, 4, 20);
    let a = array![[10i64, -20, 30, 40]];
    let b = array![[3i64], [-5], [0], [1]];
    let run = run_gemm(&p, &a, &b);
    assert_eq!(run.c[(0, 0)], 30 + 100 + 40);
    let c = OpCounts::from_run(&p, &run, 4);
    assert_eq!(c.total_multiplies(), 0);
    // Segment S_p is 20 - p bits wide.
    assert_eq!(adds(&c, "sac_segment", 20), 3);
    assert_eq!(adds(&c, "sac_segment", 19), 1);
    assert_eq!(adds(&c, "sac_segment", 18), 1);
    assert_eq!(c.adds_of("sac_segment"), 5);
    assert_eq!(adds(&c, "sac_tree", 20), 6); // 7 positions -> 6 tree adds, once per fold
    assert_eq!(c.total_adds(), 11);
    assert_eq!(reg(&c, "sac_segment"), 3 * 20 + 19 + 18);
    assert_eq!(reg(&c, "sac_result"), 20);
    assert_eq!(reg(&c, "sac_segment_clear"), (0..7).map(|q| 20 - q).sum::<u64>());
    let ring = &c.buffers[0];
    assert_eq!((ring.reads, ring.read_bits), (5, 5 * 8));
    assert_eq!((ring.writes, ring.write_bits), (1, 4 * 8));
    assert_eq!(stream_bits(&c, "a"), 32);
    assert_eq!(stream_bits(&c, "w0"), 3 * (7 * 4 + 2));
    assert_eq!(stream_bits(&c, "out"), 20);
    assert_eq!(reg(&c, "sac_segment_final") + reg(&c, "sac_operand"), 0);

    // Pipelined: the final segments once per fold (1 stage), and each valid slot's operand (2).
    let piped = |stages| OpCounts::from_run(&Params { pipeline: stages, ..p.clone() }, &run, 4);
    let finals = (0..7).map(|q| 20 - q).sum::<u64>();
    assert_eq!((reg(&piped(1), "sac_segment_final"), reg(&piped(1), "sac_operand")), (finals, 0));
    assert_eq!(
        (reg(&piped(2), "sac_segment_final"), reg(&piped(2), "sac_operand")),
        (finals, 3 * 20 + 19 + 18)
    );
}

#[test]
fn ws_counts_match_hand_arithmetic() {
    // 2x2 WS, K = 4 -> two K folds; M = 2 rows per fold; acc 20.
    let mut cfg = array_config(PeKind::Mac, 2, 2, 8, 16);
    cfg.array.dataflow = Dataflow::WeightStationary;
    cfg.pe.acc_bits = Some(20);
    let p = cfg.params();
    let a = Array2::from_shape_fn((2, 4), |(i, j)| (i * 4 + j) as i64 - 3);
    let b = Array2::from_shape_fn((4, 2), |(i, j)| (i as i64 - 2) * (j as i64 + 1));
    let c = counts(&p, &a, &b);
    assert_eq!(c.total_multiplies(), 2 * 2 * 4); // 4 A beats x 4 PEs = M*N*K
    assert_eq!(adds(&c, "pe_mac", 20), 16);
    assert_eq!(adds(&c, "acc_buffer", 20), 4); // the second fold's 2 rows x 2 columns
    let buf = &c.buffers[0];
    assert_eq!((buf.reads, buf.read_bits, buf.writes, buf.write_bits), (4, 80, 4, 80));
    assert_eq!(reg(&c, "pe_weight_shadow"), 4 * 2 * 8);
    assert_eq!(reg(&c, "pe_weight_active"), 2 * 4 * 8);
    assert_eq!(reg(&c, "pe_pipeline"), 4 * 4 * (8 + 20 + 2));
    assert_eq!(reg(&c, "input_skew"), 4 * 8);
    assert_eq!(reg(&c, "output_deskew"), 4 * 20);
    assert_eq!(stream_bits(&c, "w"), 4 * 16);
    assert_eq!(stream_bits(&c, "a"), 4 * 19);
    assert_eq!(stream_bits(&c, "out"), 2 * 40);
    assert_eq!(reg(&c, "pe_product") + reg(&c, "pe_operands"), 0, "no MAC pipeline registers");

    // Pipelined MACs: every multiply also writes the product register (16 bits), with 2 stages the
    // operand registers (8 + 8 bits), with 3 a second product register; nothing else changes.
    for (stages, product, operands) in [(1, 16 * 16, 0), (2, 16 * 16, 16 * 16), (3, 2 * 16 * 16, 16 * 16)] {
        cfg.pe.pipeline = stages;
        let piped = counts(&cfg.params(), &a, &b);
        assert_eq!((reg(&piped, "pe_product"), reg(&piped, "pe_operands")), (product, operands));
        let others = |c: &OpCounts| {
            let mut r = c.clone();
            r.register_bit_writes.retain(|r| r.what != "pe_product" && r.what != "pe_operands");
            r
        };
        assert_eq!(others(&piped), others(&c), "pipeline = {stages}");
    }
}

#[test]
fn sac_with_all_zero_weights_spends_no_segment_adds() {
    let p = params(PeKind::Sac, 2, 2, 8, 4, 24);
    let a = Array2::from_shape_fn((2, 8), |(i, j)| (i * 8 + j) as i64 - 7);
    let b = Matrix::zeros((8, 2));
    let c = counts(&p, &a, &b);
    assert_eq!(c.adds_of("sac_segment"), 0);
    assert_eq!(reg(&c, "sac_segment"), 0);
    assert_eq!(c.buffers[0].reads, 0);
    // What remains: one empty word per group, the tree and result once per fold.
    assert_eq!(stream_bits(&c, "w0"), 2 * (7 * 4 + 2));
    assert_eq!(adds(&c, "sac_tree", 24), 2 * 2 * 6);
}

/// Energy is affine in K with one fold: the same per-k (per-group) work K times plus per-fold work.
#[test]
fn energy_scales_linearly_with_k() {
    let table = EnergyTable::default();
    let group = [3i64, -5, 0, 1, 7, -127, 64, 0];
    for (kind, ks) in [(PeKind::Mac, 16), (PeKind::Sac, 8)] {
        let p = params(kind, 2, 2, 8, ks, 32);
        let e: Vec<f64> = [8usize, 16, 24, 32]
            .iter()
            .map(|&k| {
                let a = Array2::from_shape_fn((2, k), |(i, j)| ((i * 7 + j * 3) % 255) as i64 - 127);
                let b = Array2::from_shape_fn((k, 2), |(i, j)| group[(i + j) % 8]);
                let c = counts(&p, &a, &b);
                energy(&c, &table).total_pj
            })
            .collect();
        let step = e[1] - e[0];
        assert!(step > 0.0);
        for w in e.windows(2) {
            assert!(((w[1] - w[0]) - step).abs() < 1e-9 * e[3], "{kind:?}: {e:?} not linear in K");
        }
        // The per-k part dominates and doubles with K: E(32) - E(0) = 4 (E(8) - E(0)).
        let e0 = e[0] - step;
        assert!(((e[3] - e0) - 4.0 * (e[0] - e0)).abs() < 1e-9 * e[3]);
    }
}

#[test]
fn the_table_matches_its_source_at_the_published_widths() {
    let t = EnergyTable::horowitz_45nm();
    assert!((t.add_pj(32) - 0.1).abs() < 1e-12);
    assert!((t.mult_pj(32, 32) - 3.1).abs() < 1e-12);
    assert!((t.mult_pj(8, 8) - 0.2).abs() / 0.2 < 0.05, "8x8 multiply scales to {}", t.mult_pj(8, 8));
    assert!((t.add_pj(8) - 0.03).abs() / 0.03 < 0.2, "8-bit add scales to {}", t.add_pj(8));
    assert!((t.sram_read_pj_per_bit * 64.0 - 10.0).abs() < 1e-12);
    assert!(t.rows().iter().all(|r| !r.source.is_empty()));
}

#[test]
fn the_report_is_json_with_the_format_version() {
    let p = params(PeKind::Sac, 2, 2, 8, 4, 24);
    let a = Array2::from_shape_fn((3, 8), |(i, j)| (i + j) as i64 - 5);
    let b = Array2::from_shape_fn((8, 3), |(i, j)| (i as i64 - 4) * (j as i64 + 1));
    let e = energy(&counts(&p, &a, &b), &EnergyTable::default());
    let json = e.to_json();
    assert_eq!(json["format_version"], FORMAT_VERSION);
    assert!(json["table"].as_array().unwrap().len() >= 7);
    let sum = e.multiply_pj + e.add_pj + e.register_pj + e.buffer_pj + e.stream_pj;
    assert!((sum - e.total_pj).abs() < 1e-9);
    assert!(json["counts"]["adds"].is_array());
}
