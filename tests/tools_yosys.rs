//! Yosys wrapper: the log and stat parsers on recorded Yosys 0.23 output (tests/fixtures/yosys/,
//! re-record with `sh record.sh` there), and real runs showing that `check` catches planted faults
//! and that generic synthesis reports sensible figures.

mod common;
use accelc::tools::yosys::{self, parse_check_log, parse_stat_json, Problem};
use common::{design_dir, design_files};
use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/yosys").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------- log parser on recorded output

#[test]
fn recorded_clean_log_has_no_problem() {
    assert_eq!(parse_check_log(&fixture("check_clean.log")), vec![]);
}

#[test]
fn recorded_latch_log_is_a_latch() {
    // proc_dlatch's "Latch inferred" line and the select -assert-none backstop name the same latch:
    // it is reported once, by signal name.
    let problems = parse_check_log(&fixture("check_latch.log"));
    assert_eq!(problems, vec![Problem::Latch { signal: "lat.q".into() }]);
    assert!(problems[0].to_string().starts_with("latch inferred for lat.q"));
}

#[test]
fn latch_backstop_reports_cells_when_proc_dlatch_is_silent() {
    let log: String = fixture("check_latch.log")
        .lines()
        .filter(|l| !l.starts_with("Latch inferred"))
        .map(|l| format!("{l}\n"))
        .collect();
    let problems = parse_check_log(&log);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(matches!(&problems[0], Problem::Latch { signal } if signal.contains("lat/$auto$proc_dlatch")));
}

#[test]
fn recorded_undriven_log_names_both_wires() {
    let problems = parse_check_log(&fixture("check_undriven.log"));
    assert_eq!(
        problems,
        vec![Problem::Undriven { wire: "und.z".into() }, Problem::Undriven { wire: "und.n".into() }]
    );
}

#[test]
fn recorded_loop_log_is_a_logic_loop_with_its_path() {
    let problems = parse_check_log(&fixture("check_loop.log"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    match &problems[0] {
        Problem::LogicLoop { module, path } => {
            assert_eq!(module, "lp");
            assert!(path.contains(&"wire x".to_string()), "{path:?}");
            assert!(path.contains(&"wire y".to_string()), "{path:?}");
            assert!(path.iter().any(|p| p.starts_with("cell $xor")), "{path:?}");
        }
        other => panic!("expected a logic loop, got {other:?}"),
    }
}

#[test]
fn recorded_multi_driver_log_lists_the_drivers() {
    let problems = parse_check_log(&fixture("check_multi.log"));
    assert_eq!(
        problems,
        vec![Problem::MultipleDrivers {
            wire: "md.a".into(),
            drivers: vec!["module input a[0]".into(), "module input b[0]".into()],
        }]
    );
}

#[test]
fn recorded_implicit_log_is_an_implicit_declaration() {
    let problems = parse_check_log(&fixture("check_implicit.log"));
    assert_eq!(
        problems,
        vec![Problem::ImplicitDeclaration { location: "implicit.v:2".into(), identifier: "tmp".into() }]
    );
    assert_eq!(problems[0].to_string(), "implicit.v:2: identifier tmp is implicitly declared");
}

#[test]
fn recorded_errors_are_errors() {
    let syntax = parse_check_log(&fixture("check_syntax.log"));
    assert_eq!(syntax, vec![Problem::Error("syn.v:2: syntax error, unexpected ';'".into())]);
    let missing = parse_check_log(&fixture("check_missing_module.log"));
    assert_eq!(missing.len(), 1);
    assert!(missing[0].to_string().contains("Module `\\sub' referenced in module `\\top'"), "{missing:?}");
}

#[test]
fn parser_survives_garbage() {
    for text in [
        "",
        "\n\n",
        "Warning: ",
        "ERROR: ",
        "Latch inferred for signal ",
        "Warning: found logic loop in module x:",
        "\u{0}\u{1}ERROR:",
    ] {
        let _ = parse_check_log(text);
    }
    assert!(parse_stat_json("", "x").is_err());
    assert!(parse_stat_json("{\"design\": {\"estimated_num_transistors\": \"12a\"}}", "x").is_err());
    assert!(parse_stat_json("{\"modules\": {}}", "x").is_err());
}

// ---------------------------------------------------------------- stat parser on recorded output

#[test]
fn recorded_flat_stat() {
    let r = parse_stat_json(&fixture("stat_mac2_flat.json"), "mac2").unwrap();
    assert_eq!(r.yosys, "Yosys 0.23 (git sha1 7ce5011c24b)");
    assert_eq!(r.cells, 210);
    assert_eq!(r.cells_by_type.values().sum::<u64>(), 210);
    assert_eq!(r.cells_by_type["$_XOR_"], 53);
    // mac2's accumulator is 2*W+2 = 10 bits with a synchronous reset: dffunmap leaves 10 $_DFF_P_.
    assert_eq!(r.flip_flops, 10);
    assert_eq!(r.latches, 0);
    assert_eq!((r.transistors, r.transistors_exact), (1748, true));
    assert!(r.uncosted_cell_types.is_empty());
    assert_eq!((r.wires, r.wire_bits), (200, 260));
    assert_eq!(r.modules.keys().collect::<Vec<_>>(), vec!["mac2"]);
}

#[test]
fn recorded_hierarchical_stat_with_async_reset() {
    let r = parse_stat_json(&fixture("stat_arr_hier_async.json"), "arr").unwrap();
    // Totals come from the design section: both pe instances expanded.
    assert_eq!(r.cells, 228);
    assert_eq!(r.flip_flops, 16);
    assert_eq!(r.cells_by_type["$_DFF_PN0_"], 16);
    assert!(!r.cells_by_type.contains_key("pe"), "instances are expanded in the totals");
    // Yosys 0.23 has no CMOS cost for async-reset flops: "1620+" is a lower bound, and we say why.
    assert_eq!((r.transistors, r.transistors_exact), (1620, false));
    assert_eq!(r.uncosted_cell_types, vec!["$_DFF_PN0_".to_string()]);
    let pe = &r.modules["pe"];
    assert_eq!((pe.cells, pe.flip_flops, pe.transistors, pe.transistors_exact), (114, 8, 810, false));
    assert_eq!(r.modules["arr"].cells_by_type["pe"], 2);
    // Expanded through the hierarchy, the top module's figures are the design totals.
    assert_eq!((pe.hier_cells, pe.hier_flip_flops, pe.hier_transistors), (114, 8, 810));
    let arr = &r.modules["arr"];
    assert_eq!((arr.hier_cells, arr.hier_flip_flops, arr.hier_transistors), (228, 16, 1620));
}

// ---------------------------------------------------------------- real Yosys runs

const CLEAN: &str = "
module acc4 (input wire clk, input wire rst, input wire en, input wire [3:0] d, output reg [7:0] q);
  always @(posedge clk) begin
    if (rst) q <= 8'd0;
    else if (en) q <= q + {4'd0, d};
  end
endmodule
";

#[test]
fn check_passes_a_clean_module() {
    let dir = design_dir("yosys", "clean", CLEAN);
    assert_eq!(yosys::check(&dir, &design_files(), "acc4").unwrap(), Vec::<String>::new());
}

#[test]
fn check_catches_a_planted_latch() {
    // The clean module with its enable moved into a combinational block that forgets the else.
    let dir = design_dir(
        "yosys",
        "latch",
        "
module acc4 (input wire clk, input wire en, input wire [3:0] d, output reg [7:0] q);
  reg [7:0] next;
  always @(*) begin
    if (en) next = q + {4'd0, d};
  end
  always @(posedge clk) q <= next;
endmodule
",
    );
    let problems = yosys::check_problems(&dir, &design_files(), "acc4").unwrap();
    assert_eq!(problems, vec![Problem::Latch { signal: "acc4.next".into() }]);
}

#[test]
fn check_catches_a_planted_undriven_net() {
    let dir = design_dir(
        "yosys",
        "undriven",
        "
module acc4 (input wire clk, input wire [3:0] d, output reg [7:0] q);
  wire [3:0] gain;  // declared, read, never assigned
  always @(posedge clk) q <= q + {4'd0, d & gain};
endmodule
",
    );
    let problems = yosys::check_problems(&dir, &design_files(), "acc4").unwrap();
    // Yosys reports the bus bit by bit; the wrapper reports the wire once, with its bits.
    assert_eq!(problems, vec![Problem::Undriven { wire: "acc4.gain[3:0]".into() }]);
    assert_eq!(problems[0].to_string(), "wire acc4.gain[3:0] is used but has no driver");
}

#[test]
fn check_catches_a_planted_loop_multiple_drivers_and_implicit_wire() {
    let dir = design_dir(
        "yosys",
        "misc",
        "
module bad (input wire a, input wire b, output wire y, output wire z);
  wire x;
  assign x = a ^ y;
  assign y = x & b;
  assign z = a;
  assign z = b;
  assign t = a;
endmodule
",
    );
    let problems = yosys::check_problems(&dir, &design_files(), "bad").unwrap();
    assert!(
        problems.iter().any(|p| matches!(p, Problem::LogicLoop { module, .. } if module == "bad")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| matches!(p, Problem::MultipleDrivers { .. })), "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::ImplicitDeclaration { identifier, .. } if identifier == "t")),
        "{problems:?}"
    );
}

#[test]
fn check_reports_a_syntax_error_and_a_missing_top_as_problems() {
    let dir = design_dir("yosys", "syntax", "module m(input a, output y);\n assign y = a &;\nendmodule\n");
    let problems = yosys::check(&dir, &design_files(), "m").unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("error: design.v:2: syntax error"), "{problems:?}");
    let dir = design_dir("yosys", "notop", CLEAN);
    let problems = yosys::check(&dir, &design_files(), "nosuch").unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("nosuch"), "{problems:?}");
}

#[test]
fn synth_generic_on_a_small_module() {
    let dir = design_dir("yosys", "synth", CLEAN);
    let r = yosys::synth_generic(&dir, &design_files(), "acc4").unwrap();
    assert!(r.yosys.starts_with("Yosys "), "{}", r.yosys);
    assert_eq!(r.top, "acc4");
    // 8 accumulator bits; enable and sync reset become muxes/gates after dffunmap, so plain flops.
    assert_eq!(r.flip_flops, 8);
    assert_eq!(r.cells_by_type.get("$_DFF_P_"), Some(&8));
    assert_eq!(r.latches, 0);
    assert_eq!(r.cells, r.cells_by_type.values().sum::<u64>());
    assert!(r.cells > 8 && r.cells < 200, "{r:?}");
    assert!(r.transistors_exact);
    // 16 transistors per $_DFF_P_ in Yosys's CMOS table, plus the logic.
    assert!(r.transistors > 8 * 16, "{r:?}");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn synth_generic_reports_a_broken_design_as_an_error() {
    let dir = design_dir("yosys", "synth-bad", "module m(input a, output y);\n assign y = a &;\nendmodule\n");
    let err = yosys::synth_generic(&dir, &design_files(), "m").unwrap_err();
    assert!(format!("{err:#}").contains("syntax error"), "{err:#}");
}

#[test]
fn undriven_bits_are_merged_per_wire() {
    let log = "Warning: Wire m.\\a [5] is used but has no driver.\n\
               Warning: Wire m.\\b is used but has no driver.\n\
               Warning: Wire m.\\a [2] is used but has no driver.\n";
    let problems = parse_check_log(log);
    assert_eq!(
        problems,
        vec![Problem::Undriven { wire: "m.a[5,2]".into() }, Problem::Undriven { wire: "m.b".into() }]
    );
}

/// Leaf cell counts of `module`, expanding submodule instances recursively (our own arithmetic,
/// to cross-check Yosys's `design` totals).
fn expand(r: &yosys::SynthReport, module: &str) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for (ty, n) in &r.modules[module].cells_by_type {
        if r.modules.contains_key(ty) {
            for (leaf, m) in expand(r, ty) {
                *out.entry(leaf).or_insert(0) += n * m;
            }
        } else {
            *out.entry(ty.clone()).or_insert(0) += n;
        }
    }
    out
}

#[test]
fn recorded_generated_2x2_stat_with_yosys_023_stray_line() {
    let json = fixture("stat_mac_os_2x2_i8.json");
    // The recorded file really is broken JSON (Yosys 0.23 prints a hierarchy text line into it).
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_err());
    assert!(serde_json::from_str::<serde_json::Value>(&yosys::repair_stat_json(&json)).is_ok());
    let r = parse_stat_json(&json, "mac_os_2x2_i8").unwrap();
    assert_eq!(r.cells, 3554);
    assert_eq!(r.cells, r.cells_by_type.values().sum::<u64>());
    assert_eq!(r.cells_by_type, expand(&r, "mac_os_2x2_i8"), "design totals = expanded hierarchy");
    assert_eq!(r.latches, 0);
    assert_eq!(r.modules.len(), 3);
    let ff_by_hand: u64 =
        r.cells_by_type.iter().filter(|(t, _)| t.starts_with("$_DFF")).map(|(_, n)| n).sum();
    assert_eq!(r.flip_flops, ff_by_hand);
    let top = &r.modules["mac_os_2x2_i8"];
    assert_eq!(
        (top.hier_cells, top.hier_flip_flops, top.hier_transistors),
        (r.cells, r.flip_flops, r.transistors)
    );
    let pe = &r.modules["mac_os_2x2_i8_pe"];
    assert!(pe.hier_cells > pe.cells, "the PE contains a mac_unit instance");
}
