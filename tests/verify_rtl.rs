//! End to end: generated RTL through Verilator against the model (plain and pipelined MACs), and
//! planted faults that the verifier must catch (a wrong operator in the MAC unit, outputs one edge
//! late, a pipelined array against the unpipelined model), with the failure
//! folder they leave (its waveform with `wave_on_fail`) and its replay. Builds are cached under target/tmp/verify (by content hash).

mod common;
use accelc::config::Config;
use accelc::interface::Interface;
use accelc::model::run_gemm;
use accelc::rtl::Design;
use accelc::verify::{self, CaseData, CaseSpec, Origin};
use common::{preset, verify_options, verify_root};
use std::path::Path;
use std::process::Command;

/// A preset under another name (so its top module, build and failure folders are its own).
fn renamed(name: &str, new_name: &str) -> Config {
    let mut c = preset(name);
    c.name = new_name.to_string();
    c
}

#[test]
fn small_os_and_ws_arrays_match_the_model_bit_and_cycle_exact() {
    for name in ["mac_os_2x2_i8", "mac_ws_2x2_i4"] {
        let report = verify::verify_config_with(&preset(name), 20, 3, &verify_options()).unwrap();
        let sentinel = report.sentinel();
        assert!(report.passed(), "{sentinel}\n{:#?}", report.failed_cases().collect::<Vec<_>>());
        assert!(
            sentinel.starts_with(&format!("verify {name}: PASS 20 cases, 0 mismatches, cycles model=")),
            "{sentinel}"
        );
        let model: u64 = report.cases.iter().map(|c| c.cycles_model).sum();
        assert!(model > 0 && report.cases.iter().all(|c| c.cycles_model == c.cycles_rtl));
    }
}

/// A preset with `pe.pipeline = stages`, under its own name.
fn pipelined(name: &str, stages: u32) -> Config {
    let mut c = renamed(name, &format!("{name}_p{stages}"));
    c.pe.pipeline = stages;
    c
}

#[test]
fn pipelined_arrays_match_the_model_bit_and_cycle_exact_one_edge_later_per_stage() {
    for (name, stages) in [("mac_os_2x2_i8", 1), ("mac_os_2x2_i8", 3), ("mac_ws_2x2_i4", 2)] {
        let config = pipelined(name, stages);
        let report = verify::verify_config_with(&config, 8, 7, &verify_options()).unwrap();
        assert!(report.passed(), "{}\n{:#?}", report.sentinel(), report.failed_cases().collect::<Vec<_>>());
        // The same cases on the unpipelined array (its RTL is checked elsewhere): every output
        // `stages` edges later, latency and not throughput.
        let flat = preset(name).params();
        for c in &report.cases {
            let CaseData::Gemm { a, b } = CaseSpec::generate(&flat, 7, c.index).data else {
                panic!("a GEMM case")
            };
            assert_eq!(c.cycles_rtl, c.cycles_model);
            assert_eq!(
                c.cycles_model,
                run_gemm(&flat, &a, &b).cycles + stages as u64,
                "{} {}",
                config.name,
                c.description
            );
        }
    }
}

#[test]
fn a_pipelined_array_checked_against_the_unpipelined_model_fails_on_its_edges() {
    // The RTL has a product register the model does not know about: every output leaves an edge late.
    let model_config = renamed("mac_os_2x2_i8", "fault_pipe_os_2x2");
    let mut rtl_config = model_config.clone();
    rtl_config.pe.pipeline = 1;
    let design = accelc::rtl::generate(&rtl_config).unwrap();
    let report =
        verify::verify_design(&model_config, &design, Origin::Given, 3, 1, &verify_options()).unwrap();
    assert!(!report.passed(), "{}", report.sentinel());
    for c in &report.cases {
        assert_eq!(c.cycles_rtl, c.cycles_model + 1, "{}", c.description);
        assert!(c.mismatches.iter().all(|m| m.contains("left at edge")), "{:?}", c.mismatches);
    }
}

/// Replaces the first ` + ` of the MAC unit's `assign` with ` - `.
fn plant_minus_in_mac(design: &mut Design) {
    let (name, text) =
        design.files.iter_mut().find(|(n, _)| n.ends_with("mac_unit.v")).expect("a MAC unit file");
    let line =
        text.lines().find(|l| l.trim_start().starts_with("assign") && l.contains(" + ")).expect("an adder");
    let broken = line.replacen(" + ", " - ", 1);
    *text = text.replacen(line, &broken, 1);
    assert!(text.contains(&broken), "fault planted in {name}");
}

#[test]
fn a_wrong_operator_in_the_mac_unit_fails_with_a_replayable_failure_folder() {
    let config = renamed("mac_os_2x2_i8", "fault_minus_os_2x2");
    let mut design = accelc::rtl::generate(&config).unwrap();
    plant_minus_in_mac(&mut design);
    let opts = verify::VerifyOptions { wave_on_fail: true, ..verify_options() };
    let report = verify::verify_design(&config, &design, Origin::Given, 6, 1, &opts).unwrap();
    let sentinel = report.sentinel();
    assert!(!report.passed(), "{sentinel}");
    assert!(sentinel.starts_with("verify fault_minus_os_2x2: FAIL "), "{sentinel}");
    let failed = report.failed_cases().next().unwrap();
    assert!(failed.mismatches.iter().any(|m| m.contains("out_data: lane")), "{:?}", failed.mismatches);
    let dir = failed.failure_dir.clone().expect("a failure folder");
    assert_eq!(
        dir,
        verify_root().join("failures").join(format!("fault_minus_os_2x2-seed1-case{}", failed.index))
    );
    for f in [
        "README.md",
        "case.json",
        "config.toml",
        "a.npy",
        "b.npy",
        "stimulus.txt",
        "expected.txt",
        "got.txt",
        "wave.vcd",
    ] {
        assert!(dir.join(f).is_file(), "{} has {f}", dir.display());
    }
    assert!(std::fs::read_to_string(dir.join("wave.vcd")).unwrap().contains("$enddefinitions"));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("accelc replay {}", dir.display())) && readme.contains("out_data: lane")
    );
    // Replay runs the saved (faulty) Verilog of a given design and finds the same mismatches.
    let replay = verify::replay(&dir, false, &verify_root(), None).unwrap();
    assert_eq!(replay.mismatches, failed.mismatches);
}

/// The generated top renamed `<top>_inner`, under a wrapper that registers the output channel: every
/// output leaves one edge late, with the right data.
fn delay_outputs_by_one_edge(config: &Config, design: &mut Design) {
    let top = design.top.clone();
    let inner = format!("{top}_inner");
    let (_, text) = design.files.iter_mut().find(|(n, _)| n == &format!("{top}.v")).expect("the top's file");
    let at = [format!("module {top} "), format!("module {top}(")]
        .iter()
        .find_map(|pat| text.find(pat.as_str()))
        .expect("the top module");
    text.replace_range(at..at + "module ".len() + top.len(), &format!("module {inner}"));
    let iface = Interface::of(&config.params());
    let (mut ports, mut conns) = (
        vec!["input wire clk".to_string(), "input wire rst".into()],
        vec![".clk(clk)".to_string(), ".rst(rst)".into()],
    );
    for ch in &iface.inputs {
        ports.push(format!("input wire {}", ch.valid));
        conns.push(format!(".{0}({0})", ch.valid));
        if let Some(r) = &ch.ready {
            ports.push(format!("output wire {r}"));
            conns.push(format!(".{r}({r})"));
        }
        for f in &ch.fields {
            ports.push(format!("input wire [{}:0] {}", f.width() - 1, f.port));
            conns.push(format!(".{0}({0})", f.port));
        }
    }
    let out = &iface.output;
    let mut regs = vec![(out.valid.clone(), 1)];
    regs.extend(out.fields.iter().map(|f| (f.port.clone(), f.width())));
    let mut body = String::new();
    for (port, width) in &regs {
        ports.push(format!("output reg [{}:0] {port}", width - 1));
        conns.push(format!(".{port}({port}_early)"));
        body.push_str(&format!("    wire [{}:0] {port}_early;\n", width - 1));
    }
    body.push_str(&format!("    {inner} inner ({});\n    always @(posedge clk) begin\n", conns.join(", ")));
    for (port, _) in &regs {
        body.push_str(&format!("        {port} <= rst ? 0 : {port}_early;\n"));
    }
    body.push_str("    end\n");
    text.push_str(&format!("\nmodule {top} (\n    {}\n);\n{body}endmodule\n", ports.join(",\n    ")));
}

#[test]
fn outputs_one_edge_late_fail_on_their_edges() {
    let config = renamed("mac_ws_2x2_i4", "fault_late_ws_2x2");
    let mut design = accelc::rtl::generate(&config).unwrap();
    delay_outputs_by_one_edge(&config, &mut design);
    let report = verify::verify_design(&config, &design, Origin::Given, 4, 1, &verify_options()).unwrap();
    assert!(!report.passed(), "{}", report.sentinel());
    assert_eq!(report.failed_cases().count(), 4, "every case has outputs");
    for c in &report.cases {
        assert_eq!(c.cycles_rtl, c.cycles_model + 1, "{}", c.description);
        assert!(c.mismatches.iter().all(|m| m.contains("left at edge")), "{:?}", c.mismatches);
    }
}

#[test]
fn the_cli_ends_with_the_sentinel_line_and_replays_a_folder() {
    let exe = env!("CARGO_BIN_EXE_accelc");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/mac_os_2x2_i8.toml");
    let out = Command::new(exe)
        .arg("verify")
        .arg(&config)
        .args(["--cases", "3", "--seed", "5", "--out"])
        .arg(verify_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("verify mac_os_2x2_i8: PASS 3 cases, 0 mismatches, cycles model="), "{last}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("verify mac_os_2x2_i8: PASS")).count(), 1);

    // A failure folder of a given (faulty) design replays as a failure: exit code 1.
    let config = renamed("mac_os_2x2_i8", "fault_cli_os_2x2");
    let mut design = accelc::rtl::generate(&config).unwrap();
    plant_minus_in_mac(&mut design);
    let report = verify::verify_design(&config, &design, Origin::Given, 3, 1, &verify_options()).unwrap();
    let dir = report.failed_cases().next().and_then(|c| c.failure_dir.clone()).expect("a failing case");
    assert!(!dir.join("wave.vcd").exists(), "failure folders get a waveform only with --wave-on-fail");
    let out = Command::new(exe).arg("replay").arg(&dir).current_dir(verify_root()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().last().unwrap().contains(": FAIL "), "{stdout}");
}
