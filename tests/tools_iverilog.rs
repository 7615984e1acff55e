//! Icarus wrapper: output parsing, and real runs on a clean module and on planted faults.

mod common;
use accelc::tools::iverilog::{compile, parse_output};
use common::{design_dir, design_files};

#[test]
fn continuation_lines_join_their_message_and_the_summary_is_dropped() {
    // Recorded from iverilog 11.
    let text = "w.v:2: warning: Constant bit select [5] is after vector a[3:0].\n\
                w.v:2:        : Replacing select with a constant 1'bx.\n\
                error: Unable to find the root module \"nosuch\" in the Verilog source.\n     \
                : Perhaps ``-s nosuch'' is incorrect?\n\
                1 error(s) during elaboration.\n";
    assert_eq!(
        parse_output(text),
        vec![
            "w.v:2: warning: Constant bit select [5] is after vector a[3:0]. Replacing select with a constant 1'bx.",
            "error: Unable to find the root module \"nosuch\" in the Verilog source. Perhaps ``-s nosuch'' is incorrect?",
        ]
    );
    assert_eq!(parse_output(""), Vec::<String>::new());
}

#[test]
fn clean_module_compiles_without_a_message() {
    let dir = design_dir("iverilog", 
        "clean",
        "module m (input wire clk, input wire [3:0] d, output reg [3:0] q);\n  always @(posedge clk) q <= d;\nendmodule\n",
    );
    assert_eq!(compile(&dir, &design_files(), "m").unwrap(), Vec::<String>::new());
}

#[test]
fn planted_faults_are_reported() {
    // An implicit wire (a -Wall warning) and an out-of-range select.
    let dir = design_dir("iverilog", 
        "warn",
        "module m (input wire [3:0] a, output wire y, output wire z);\n  assign t = a[0];\n  assign y = t;\n  assign z = a[5];\nendmodule\n",
    );
    let problems = compile(&dir, &design_files(), "m").unwrap();
    assert!(problems.iter().any(|p| p.contains("implicit definition of wire 't'")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("[5]")), "{problems:?}");
    // A syntax error and a wrong top are errors, not panics or Err.
    let dir = design_dir("iverilog", "syntax", "module m(input a, output y);\n assign y = a &;\nendmodule\n");
    let problems = compile(&dir, &design_files(), "m").unwrap();
    assert!(problems.iter().any(|p| p.contains("syntax error")), "{problems:?}");
    let problems = compile(&dir, &design_files(), "nosuch").unwrap();
    assert!(!problems.is_empty());
}
