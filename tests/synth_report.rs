//! Synthesis reports: the cache key, the cache itself (a rerun does not run Yosys), and the report
//! built for a config, on a small hand-written module.

use accelc::config::Config;
use accelc::synth::{cache_key, synthesize, Report};
use std::path::PathBuf;

const ACC: &str = "module acc4 (input wire clk, input wire rst, input wire [3:0] d, output reg [7:0] q);
  always @(posedge clk) begin
    if (rst) q <= 8'd0;
    else q <= q + {4'd0, d};
  end
endmodule
";

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("accelc-test-synth-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sources(text: &str) -> Vec<(String, String)> {
    vec![("acc4.v".to_string(), text.to_string())]
}

#[test]
fn cache_key_depends_on_verilog_version_and_script() {
    let base = cache_key(&sources(ACC), "Yosys 0.23", "synth -top acc4");
    assert_eq!(base, cache_key(&sources(ACC), "Yosys 0.23", "synth -top acc4"));
    assert_eq!(base.len(), 64);
    assert_ne!(base, cache_key(&sources(&ACC.replace("8'd0", "8'd1")), "Yosys 0.23", "synth -top acc4"));
    assert_ne!(base, cache_key(&sources(ACC), "Yosys 0.24", "synth -top acc4"));
    assert_ne!(base, cache_key(&sources(ACC), "Yosys 0.23", "synth -flatten -top acc4"));
    let renamed = vec![("other.v".to_string(), ACC.to_string())];
    assert_ne!(base, cache_key(&renamed, "Yosys 0.23", "synth -top acc4"));
}

#[test]
fn second_run_comes_from_the_cache_and_matches() {
    let dir = temp("cache-design");
    let cache = temp("cache-store");
    std::fs::write(dir.join("acc4.v"), ACC).unwrap();
    let first = synthesize(&dir, "acc4", &sources(ACC), Some(&cache), &|| {}).unwrap();
    assert!(!first.cached);
    assert_eq!(first.report.flip_flops, 8);
    let entry = cache.join(format!("{}.json", first.cache_key));
    assert!(entry.is_file());
    // Remove the Verilog: a cache hit must not need Yosys (which would fail without the file).
    std::fs::remove_file(dir.join("acc4.v")).unwrap();
    let second = synthesize(&dir, "acc4", &sources(ACC), Some(&cache), &|| {}).unwrap();
    assert!(second.cached);
    assert_eq!(second.report, first.report);
    assert_eq!(second.cache_key, first.cache_key);
    // A corrupt entry is a miss (Yosys runs again), not an error.
    std::fs::write(&entry, "{ not json").unwrap();
    std::fs::write(dir.join("acc4.v"), ACC).unwrap();
    let third = synthesize(&dir, "acc4", &sources(ACC), Some(&cache), &|| {}).unwrap();
    assert!(!third.cached);
    assert_eq!(third.report, first.report);
}

#[test]
fn report_has_format_version_config_and_per_pe_figures() {
    let dir = temp("report");
    std::fs::write(dir.join("acc4.v"), ACC).unwrap();
    let s = synthesize(&dir, "acc4", &sources(ACC), None, &|| {}).unwrap();
    let config = Config::parse(
        "t.toml",
        "name = \"t_2x2\"\n[array]\nrows = 2\ncols = 2\ndataflow = \"output_stationary\"\n[pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\n",
    )
    .unwrap();
    let total_cells = s.report.cells;
    let report = Report::new(&config, s);
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["format_version"], accelc::config::FORMAT_VERSION);
    assert_eq!(json["config"]["name"], "t_2x2");
    assert_eq!(json["config"]["digest"], config.digest());
    assert_eq!(json["config"]["params"]["rows"], 2);
    assert!(json["yosys"].as_str().unwrap().starts_with("Yosys "));
    assert_eq!(json["cells"], total_cells);
    assert_eq!(json["flip_flops"], 8);
    assert_eq!(json["cells_by_type"]["$_DFF_P_"], 8);
    assert_eq!(json["per_pe"]["pes"], 4);
    assert_eq!(json["per_pe"]["flip_flops"], 2.0);
    assert_eq!(json["per_pe"]["cells"], (total_cells as f64 / 4.0 * 100.0).round() / 100.0);
    assert!(json["script"].as_str().unwrap().contains("stat -json -tech cmos"));
    // Deterministic: the same inputs give the same bytes.
    let again = Report::new(&config, synthesize(&dir, "acc4", &sources(ACC), None, &|| {}).unwrap());
    assert_eq!(again.to_json().unwrap(), report.to_json().unwrap());
    let summary = report.summary();
    assert!(summary.contains("flip-flops"), "{summary}");
    assert!(summary.contains("per PE"), "{summary}");
}
