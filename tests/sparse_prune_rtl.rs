//! The RTL gradient pruning unit against the model's LFSR pruner, bit for bit and edge for edge, and a
//! planted fault in its LFSR feedback that verification must catch.

mod common;
use accelc::verify::{self, prune};
use common::{preset, verify_options};

#[test]
fn the_pruning_unit_reproduces_the_model_bit_for_bit() {
    for name in ["sparse_4x3_l32_i8", "sparse_8x5_l64_i16"] {
        let config = preset(name);
        let report = verify::verify_prune_unit(&config, None, 24, 3, &verify_options()).unwrap();
        assert!(report.passed(), "{}", report.sentinel());
        // The cases exercise all three outcomes of the rule: kept, promoted to ±tau, pruned to 0.
        let p = config.params();
        let (mut promoted, mut zeroed) = (0, 0);
        for i in 0..24 {
            let case = prune::generate(&p, 3, i);
            let mut pruner = accelc::sparse::Pruner::new(
                accelc::sparse::PruneParams::new(p.act_bits, accelc::sparse::DEFAULT_DRAW_BITS).unwrap(),
                case.seed,
            )
            .unwrap();
            for (g, o) in case.grads.iter().zip(pruner.prune(&case.grads, case.tau).unwrap()) {
                if (g.unsigned_abs()) < case.tau {
                    if o == 0 {
                        zeroed += 1;
                    } else {
                        promoted += 1;
                    }
                }
            }
        }
        assert!(promoted > 20 && zeroed > 20, "{name}: promoted {promoted}, zeroed {zeroed}");
    }
}

#[test]
fn a_wrong_lfsr_tap_is_caught() {
    let mut config = preset("sparse_4x3_l32_i8");
    config.name = "fault_prune_tap".into();
    let mut design = accelc::rtl::generate_prune_unit(&config).unwrap();
    let text = &mut design.files[0].1;
    // Tap 3 instead of tap 2: x^32 + x^22 + x^3 + x + 1.
    assert_eq!(text.matches("& 32'h80200003)").count(), 16, "one mask per unrolled step");
    *text = text.replacen("& 32'h80200003)", "& 32'h80200005)", 1);
    let report = verify::verify_prune_unit(&config, Some(&design), 12, 3, &verify_options()).unwrap();
    assert!(!report.passed(), "the fault must be caught: {}", report.sentinel());
}
