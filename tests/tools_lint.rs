//! lint_all: Verilator -Wall, Yosys check and Icarus over a folder with files.f; problems are
//! prefixed by the tool, a clean design prints one line.

use accelc::tools::{lint_all, read_file_list};
use std::path::PathBuf;

/// A folder with `files.f` listing the given (name, text) files in order.
fn design_dir(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-lint-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut list = String::new();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
        list.push_str(name);
        list.push('\n');
    }
    std::fs::write(dir.join("files.f"), list).unwrap();
    dir
}

const LEAF: &str = "module leaf (
    input  wire       clk,
    input  wire [3:0] d,
    output reg  [3:0] q
);
    always @(posedge clk) q <= d;
endmodule
";

const TOP: &str = "module top (
    input  wire       clk,
    input  wire [3:0] d,
    output wire [3:0] q
);
    leaf u_leaf (.clk(clk), .d(d), .q(q));
endmodule
";

#[test]
fn clean_two_file_design_prints_one_clean_line() {
    let dir = design_dir("clean", &[("leaf.v", LEAF), ("top.v", TOP)]);
    assert_eq!(read_file_list(&dir).unwrap(), vec!["leaf.v", "top.v"]);
    let report = lint_all(&dir, "top").unwrap();
    assert!(report.clean(), "{report}");
    assert_eq!(report.to_string(), "lint top: clean (verilator -Wall, yosys check, iverilog -g2005)");
}

#[test]
fn a_planted_latch_is_reported_by_tool() {
    let latch = "module top (
    input  wire       en,
    input  wire [3:0] d,
    output reg  [3:0] q
);
    always @(*) begin
        if (en) q = d;
    end
endmodule
";
    let dir = design_dir("latch", &[("top.v", latch)]);
    let report = lint_all(&dir, "top").unwrap();
    assert!(!report.clean());
    assert!(report.lines.iter().any(|l| l.starts_with("yosys: latch inferred for top.q")), "{report}");
    assert!(report.lines.iter().any(|l| l.starts_with("verilator: %Warning-LATCH")), "{report}");
    assert!(report
        .lines
        .iter()
        .all(|l| l.starts_with("verilator: ") || l.starts_with("yosys: ") || l.starts_with("iverilog: ")));
    assert!(!report.to_string().contains("clean"));
}

#[test]
fn an_implicit_wire_is_reported_by_all_three_tools() {
    let implicit = "module top (
    input  wire a,
    output wire y
);
    assign t = a;
    assign y = t;
endmodule
";
    let dir = design_dir("implicit", &[("top.v", implicit)]);
    let report = lint_all(&dir, "top").unwrap();
    for tool in ["verilator: ", "yosys: ", "iverilog: "] {
        assert!(report.lines.iter().any(|l| l.starts_with(tool)), "{tool} silent:\n{report}");
    }
}

#[test]
fn a_missing_file_list_is_an_error() {
    let dir = std::env::temp_dir().join(format!("accelc-test-lint-nofiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let err = lint_all(&dir, "top").unwrap_err();
    assert!(format!("{err:#}").contains("files.f"), "{err:#}");
}
