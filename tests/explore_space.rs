//! Space files: parsing, enumeration, and one clear line per problem (exit code 2 from the CLI).

use accelc::explore::{Plan, Space};
use std::path::Path;

const GOOD: &str = r#"
[space]
name = "t"

[config]
array.dataflow = "output_stationary"
array.rows = [2, 4, 8]
array.cols = 4
pe.weight_bits = [8, 16]
pe.act_bits = 8

[[axis]]
name = "pe"
values = [{ pe.kind = "mac" }, { pe.kind = "sac", pe.kneading_stride = 8, pe.encoding = "csd" }]

[[workload]]
name = "g"
gemm = [[8, 8, 16], [4, 4, 4]]

[[workload]]
name = "net"
network = "mtcnn"
m = 4
layers = ["pnet.conv2"]

[[target]]
name = "generic"

[[target]]
name = "ice40"
only = { "array.rows" = [2] }
"#;

fn parse(text: &str) -> Result<Space, String> {
    Space::parse("s.toml", text, Path::new(".")).map_err(|e| e.to_string())
}

fn plan(text: &str) -> Result<Plan, String> {
    Plan::new(parse(text)?).map_err(|e| e.to_string())
}

/// The error text of a space that must be rejected; every line names the file.
fn errors(text: &str) -> String {
    let e = plan(text).expect_err("the space must be rejected");
    for line in e.lines() {
        assert!(line.starts_with("s.toml"), "every line names the file: {line}");
    }
    e
}

#[test]
fn a_good_space_enumerates_every_combination_in_odometer_order() {
    let p = plan(GOOD).unwrap();
    // 3 rows x 2 weight widths x 2 kinds, all valid.
    assert_eq!(p.designs.len(), 12);
    assert!(p.skipped.is_empty());
    // generic: 12 designs; ice40 only rows = 2: 4 designs; times 2 workloads.
    assert_eq!(p.points.len(), (12 + 4) * 2);
    assert_eq!(p.columns, ["array.rows", "pe.weight_bits", "pe.kind", "pe.encoding", "pe.kneading_stride"]);
    // [config] axes by key path, then [[axis]]: the pe axis varies fastest.
    let kinds: Vec<&str> = p.designs.iter().map(|d| d.values[2].1.as_str()).collect();
    assert_eq!(&kinds[..4], ["mac", "sac", "mac", "sac"]);
    let rows: Vec<u32> = p.designs.iter().map(|d| d.config.array.rows).collect();
    assert_eq!(rows, [2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8]);
    // Indices are positions; designs are named by kind, size and a hash.
    for (i, pt) in p.points.iter().enumerate() {
        assert_eq!(pt.index, i);
    }
    assert!(p.designs[1].config.name.starts_with("sac_2x4_"), "{}", p.designs[1].config.name);
    assert_eq!(p.workloads[1].layers.len(), 1);
    assert_eq!((p.workloads[1].layers[0].k, p.workloads[1].layers[0].n), (90, 16));
}

#[test]
fn enumeration_is_deterministic() {
    let (a, b) = (plan(GOOD).unwrap(), plan(GOOD).unwrap());
    assert_eq!(a.points, b.points);
    assert_eq!(a.digest(), b.digest());
    let names = |p: &Plan| p.designs.iter().map(|d| d.config.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    // ...and the digest sees a change of the space.
    let c = plan(&GOOD.replace("m = 4", "m = 5")).unwrap();
    assert_ne!(a.digest(), c.digest());
}

#[test]
fn invalid_combinations_are_skipped_with_the_validators_reason() {
    let text = GOOD.replace(
        "array.dataflow = \"output_stationary\"",
        "array.dataflow = [\"output_stationary\", \"weight_stationary\"]",
    );
    let p = plan(&text).unwrap();
    // SAC needs output-stationary: the 6 SAC x WS combinations are skipped, 18 designs remain.
    assert_eq!(p.designs.len(), 18);
    assert_eq!(p.skipped.len(), 6);
    assert!(p.skipped[0].reasons[0].contains("needs dataflow = \"output_stationary\""), "{:?}", p.skipped[0]);
}

#[test]
fn an_unknown_key_is_one_line_naming_it() {
    let e = errors(&GOOD.replace("array.cols = 4", "array.colz = 4"));
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("config.array.colz") && e.contains("unknown field"), "{e}");
}

#[test]
fn a_value_of_the_wrong_type_is_one_line_naming_key_and_value() {
    let e = errors(&GOOD.replace("array.rows = [2, 4, 8]", "array.rows = [2, \"four\"]"));
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("config.array.rows = \"four\"") && e.contains("invalid type"), "{e}");
}

#[test]
fn an_empty_list_is_rejected() {
    let e = errors(&GOOD.replace("pe.weight_bits = [8, 16]", "pe.weight_bits = []"));
    assert!(e.contains("s.toml: config.pe.weight_bits = []: an axis needs at least one value"), "{e}");
}

#[test]
fn a_value_no_valid_config_uses_is_rejected_with_the_rule() {
    let e = errors(&GOOD.replace("array.rows = [2, 4, 8]", "array.rows = [2, 300]"));
    assert!(e.contains("config.array.rows = 300: no valid config has this value"), "{e}");
    assert!(e.contains("must be between 1 and 256"), "{e}");
}

#[test]
fn space_level_problems_are_all_reported_at_once() {
    let text = GOOD
        .replace("name = \"generic\"", "name = \"asic\"")
        .replace("gemm = [[8, 8, 16], [4, 4, 4]]", "gemm = [[8, 0, 16]]")
        .replace("network = \"mtcnn\"", "network = \"nonet\"");
    let e = errors(&text);
    assert!(e.contains("target[0].name = \"asic\": must be generic, ice40, ecp5 or xilinx"), "{e}");
    assert!(e.contains("workload[0].gemm = [8, 0, 16]: M, N and K must be at least 1"), "{e}");
    assert!(e.contains("workload[1].network = \"nonet\""), "{e}");
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn syntax_and_section_errors_name_the_line() {
    let e = errors(&GOOD.replace("[[workload]]\nname = \"g\"", "[[workload]]\nname = \"g\"\nsize = 3"));
    assert!(e.starts_with("s.toml:") && e.contains("unknown field `size`"), "{e}");
    let e = errors(&GOOD.replace("name = \"t\"", "name = \"t\"\nbogus = 1"));
    assert!(e.contains("unknown field `bogus`"), "{e}");
}

#[test]
fn overlapping_axes_and_filters_that_match_nothing_are_rejected() {
    let e = errors(&GOOD.replace("array.cols = 4", "array.cols = 4\npe.kind = \"mac\""));
    assert!(e.contains("pe.kind: is set by both [config] and axis.pe"), "{e}");
    let e = errors(&GOOD.replace("only = { \"array.rows\" = [2] }", "only = { \"array.rows\" = [3] }"));
    assert!(e.contains("target[1].only: no valid config of the space matches"), "{e}");
}

#[test]
fn the_cli_exits_2_with_one_line_per_problem() {
    let dir = std::env::temp_dir().join(format!("accelc-explore-space-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        GOOD.replace("pe.weight_bits = [8, 16]", "pe.weight_bits = []").replace("m = 4", "m = 0"),
    )
    .unwrap();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_accelc")).arg("explore").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(stderr.contains("pe.weight_bits = []") && stderr.contains("workload[1].m = 0"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_shipped_example_space_routes_its_8_bit_mac_arrays_on_an_ecp5() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = Plan::new(Space::load(&root.join("spaces/example.toml")).unwrap()).unwrap();
    let ecp5 = plan.space.targets.iter().position(|t| t.target.name() == "ecp5").expect("an ECP5 target");
    let mut sizes: Vec<(String, String)> = plan
        .points
        .iter()
        .filter(|p| p.target == ecp5)
        .map(|p| {
            let c = &plan.designs[p.design].config;
            (format!("{}x{} {:?}", c.array.rows, c.array.cols, c.pe.kind), format!("{}", c.pe.weight_bits))
        })
        .collect();
    sizes.sort();
    sizes.dedup();
    assert_eq!(sizes, [("4x4 Mac".to_string(), "8".to_string()), ("8x8 Mac".to_string(), "8".to_string())]);
}
