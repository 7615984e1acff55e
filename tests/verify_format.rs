//! The verification harness's pieces that need no simulator: hex packing and the stimulus/trace
//! file formats, the SplitMix64 generator, case generation, and the testbench rendering.

use accelc::config::{Config, Params};
use accelc::interface::Interface;
use accelc::model::run_gemm;
use accelc::rng::SplitMix64;
use accelc::verify::format::{pack_lanes, parse_stimulus, stimulus_text, unpack_lanes, Trace};
use accelc::verify::{harness, vectors};
use proptest::prelude::*;

fn params(rows: u32, cols: u32, dataflow: &str, w: u32, a: u32, acc: Option<u32>) -> Params {
    let acc = acc.map_or(String::new(), |b| format!("acc_bits = {b}\n"));
    let text = format!(
        "name = \"t\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"{dataflow}\"\n\
         [pe]\nkind = \"mac\"\nweight_bits = {w}\nact_bits = {a}\n{acc}"
    );
    Config::parse("t.toml", &text).expect("valid test config").params()
}

#[test]
fn lane_zero_is_in_the_low_bits_and_lanes_are_masked() {
    assert_eq!(pack_lanes(&[1, 2], 4), "21");
    assert_eq!(pack_lanes(&[-1, 0], 4), "0f");
    assert_eq!(pack_lanes(&[-8, 7, -1], 4), "f78");
    // 3 lanes of 3 bits = 9 bits: 3 hex digits, the top digit holds 1 bit.
    assert_eq!(pack_lanes(&[-1, -1, -1], 3), "1ff");
    assert_eq!(pack_lanes(&[1], 1), "1");
    assert_eq!(unpack_lanes("1", 1, 1).unwrap(), vec![1], "1-bit lanes are flags: 0 or 1");
    assert_eq!(unpack_lanes("f78", 3, 4).unwrap(), vec![-8, 7, -1]);
    assert_eq!(unpack_lanes("1ff", 3, 3).unwrap(), vec![-1, -1, -1]);
}

#[test]
fn fields_wider_than_64_bits_straddle_words() {
    // 3 lanes of 44 bits = 132 bits: lane 1 straddles the first 64-bit word.
    let lanes = [-(1i64 << 43), (1i64 << 43) - 1, -2];
    let hex = pack_lanes(&lanes, 44);
    assert_eq!(hex.len(), 33);
    assert_eq!(hex, "ffffffffffe7ffffffffff80000000000");
    assert_eq!(unpack_lanes(&hex, 3, 44).unwrap(), lanes);
    // 64-bit lanes: a whole word each.
    let wide = [i64::MIN, -1, i64::MAX];
    assert_eq!(unpack_lanes(&pack_lanes(&wide, 64), 3, 64).unwrap(), wide);
}

#[test]
fn unpacking_rejects_bits_above_the_width_and_bad_digits() {
    assert!(unpack_lanes("3ff", 3, 3).is_err(), "bit 9 set in a 9-bit field");
    assert!(unpack_lanes("1fg", 3, 3).is_err());
    assert!(unpack_lanes("", 1, 3).is_err());
    // Leading zero digits are fine (a testbench may print more digits than needed).
    assert_eq!(unpack_lanes("0001ff", 3, 3).unwrap(), vec![-1, -1, -1]);
}

proptest! {
    #[test]
    fn pack_then_unpack_is_the_identity(bits in 1u32..=64, raw in prop::collection::vec(any::<i64>(), 1..20)) {
        let flag = |v: i64| v & 1;
        let lanes: Vec<i64> =
            raw.iter().map(|&v| if bits == 1 { flag(v) } else { accelc::model::mac_unit::sext(v, bits) }).collect();
        let hex = pack_lanes(&lanes, bits);
        prop_assert_eq!(hex.len() as u64, (lanes.len() as u64 * bits as u64).div_ceil(4));
        prop_assert_eq!(unpack_lanes(&hex, lanes.len(), bits).unwrap(), lanes);
    }
}

#[test]
fn stimulus_and_traces_round_trip_through_their_text() {
    for p in
        [params(3, 4, "output_stationary", 8, 8, None), params(2, 3, "weight_stationary", 4, 6, Some(64))]
    {
        let iface = Interface::of(&p);
        let case = vectors::generate(&p, 7, 3);
        let run = run_gemm(&p, &case.a, &case.b);
        let (expect, channels) = parse_stimulus(&iface, &stimulus_text(&iface, &run)).unwrap();
        assert_eq!(expect, run.outputs.len());
        for (beats, trace) in channels.iter().zip(&run.inputs) {
            let model: Vec<Vec<Vec<i64>>> = trace.beats.iter().map(|b| b.fields.clone()).collect();
            assert_eq!(beats, &model);
        }
        let t = Trace::expected(&iface, &run);
        assert_eq!(Trace::parse(&iface, &t.to_text(&iface)).unwrap(), t);
        assert_eq!(t.cycles(), run.cycles);
    }
}

#[test]
fn a_trace_without_its_end_line_is_an_error() {
    let p = params(2, 2, "output_stationary", 8, 8, None);
    let iface = Interface::of(&p);
    let err = Trace::parse(&iface, "taken in 0 0\nout 3 0000000000000\n").unwrap_err();
    assert!(format!("{err:#}").contains("no `end` line"), "{err:#}");
}

#[test]
fn splitmix64_is_deterministic_and_matches_the_reference_stream() {
    // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
    let mut r = SplitMix64::new(0);
    assert_eq!(r.next_u64(), 0xe220a8397b1dcdaf);
    assert_eq!(r.next_u64(), 0x6e789e6aa1b965f4);
    let a: Vec<u64> = (0..5).map(|i| SplitMix64::for_case(42, i).next_u64()).collect();
    let b: Vec<u64> = (0..5).map(|i| SplitMix64::for_case(42, i).next_u64()).collect();
    assert_eq!(a, b);
    assert_ne!(a[0], a[1]);
    assert_ne!(SplitMix64::for_case(42, 0).next_u64(), SplitMix64::for_case(43, 0).next_u64());
    let mut r = SplitMix64::new(5);
    for _ in 0..1000 {
        let v = r.range_i64(-8, 7);
        assert!((-8..=7).contains(&v));
    }
}

#[test]
fn case_i_of_seed_s_is_reproducible_and_in_range() {
    let p = params(4, 4, "weight_stationary", 4, 8, None);
    for i in 0..30 {
        let c = vectors::generate(&p, 9, i);
        assert_eq!(c, vectors::generate(&p, 9, i), "case {i}");
        assert!(c.a.iter().all(|&v| (-128..=127).contains(&v)), "A is act_bits = 8 wide");
        assert!(c.b.iter().all(|&v| (-8..=7).contains(&v)), "B is weight_bits = 4 wide");
        assert_eq!(c.a.ncols(), c.b.nrows());
    }
    assert_ne!(vectors::generate(&p, 9, 0), vectors::generate(&p, 10, 0));
}

#[test]
fn the_cases_cover_k1_extremes_wrapping_and_odd_shapes() {
    let p = params(4, 4, "output_stationary", 8, 8, None);
    let cases: Vec<_> = (0..50).map(|i| vectors::generate(&p, 1, i)).collect();
    use vectors::CaseKind::*;
    assert!(cases.iter().any(|c| c.kind == KOne && c.a.ncols() == 1));
    assert!(cases.iter().any(|c| c.kind == AllMax && c.a.iter().all(|&v| v == 127)));
    assert!(cases.iter().any(|c| c.kind == AllMin && c.b.iter().all(|&v| v == -128)));
    assert!(cases
        .iter()
        .any(|c| c.kind == Alternating && c.a.iter().any(|&v| v == 127) && c.a.iter().any(|&v| v == -128)));
    assert!(cases.iter().any(|c| c.kind == RealWeights && c.note.is_empty()), "real weights load");
    // The wrap cases do wrap: the model's result differs from the exact i64 product.
    let wrap = cases.iter().find(|c| c.kind == Wrap).expect("a wrap case");
    let exact = wrap.a.dot(&wrap.b);
    assert_ne!(run_gemm(&p, &wrap.a, &wrap.b).c, exact, "the accumulator wraps");
    let (m_shapes, n_shapes): (Vec<usize>, Vec<usize>) =
        cases.iter().map(|c| (c.a.nrows(), c.b.ncols())).unzip();
    assert!(m_shapes.iter().any(|&m| m < 4) && m_shapes.iter().any(|&m| m > 4 && m % 4 != 0));
    assert!(n_shapes.iter().any(|&n| n % 4 == 0 && n > 0) && n_shapes.iter().any(|&n| n > 4 && n % 4 != 0));
}

#[test]
fn the_testbench_lists_every_port_and_no_other() {
    for p in
        [params(16, 16, "weight_stationary", 16, 16, None), params(2, 2, "output_stationary", 8, 8, None)]
    {
        let iface = Interface::of(&p);
        let cpp = harness::render_tb(&p, "t", &iface).unwrap();
        for ch in iface.inputs.iter().chain([&iface.output]) {
            assert!(cpp.contains(&format!("top->{}", ch.valid)), "{}", ch.valid);
            if let Some(r) = &ch.ready {
                assert!(cpp.contains(&format!("top->{r}")), "{r}");
            }
            for f in &ch.fields {
                assert!(
                    cpp.contains(&format!("top->{}, {}", f.port, f.width())),
                    "{} width {}",
                    f.port,
                    f.width()
                );
            }
        }
        assert!(!cpp.contains("{{") && !cpp.contains("{%"), "fully rendered");
    }
}
