//! One real exploration end to end (Yosys runs): 2x2 and 4x4 MAC arrays on generic gates, a small GEMM
//! workload. Shards merged give the same bytes as the whole run; figures agree with the direct tools.

use accelc::explore::record::from_csv;
use accelc::explore::{merge, read_points, Plan, Space, Status};
use accelc::model::run_gemm;
use std::path::{Path, PathBuf};
use std::process::Command;

const SPACE: &str = r#"
[space]
name = "e2e"
seed = 3

[config]
array.dataflow = "output_stationary"
array.rows = [2, 4]
array.cols = [2, 4]
pe.kind = "mac"
pe.weight_bits = 8
pe.act_bits = 8

[[workload]]
name = "small"
gemm = [[8, 8, 16], [3, 5, 7]]

[[workload]]
name = "pnet"
network = "mtcnn"
m = 4
layers = ["pnet.conv2"]

[[target]]
name = "generic"
"#;

fn accelc(args: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_accelc")).args(args).current_dir(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "accelc {args:?}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names = vec!["points.json", "points.csv", "pareto.csv", "pareto.md"]
        .into_iter()
        .map(PathBuf::from)
        .collect::<Vec<_>>();
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| Path::new("plots").join(e.unwrap().file_name()))
        .collect();
    svgs.sort();
    names.extend(svgs);
    names.iter().map(|n| (n.display().to_string(), std::fs::read(dir.join(n)).unwrap())).collect()
}

#[test]
fn a_real_small_exploration_and_its_shards_merged_agree() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("explore-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("space.toml"), SPACE).unwrap();
    // A fresh cache: the first run synthesizes for real.
    let common = ["--cache-dir", "cache", "--jobs", "2", "--quiet"];
    let full = accelc(&[&["explore", "space.toml", "-o", "full"][..], &common].concat(), &root);
    assert!(full.contains("4 syntheses (0 from the cache)"), "{full}");
    assert!(full.contains("### small on generic"), "the Pareto table is printed: {full}");

    let file = read_points(&root.join("full")).unwrap();
    let plan = Plan::new(Space::load(&root.join("space.toml")).unwrap()).unwrap();
    assert_eq!(file.points.len(), 8);
    assert_eq!(file.plan_digest, plan.digest());
    for r in &file.points {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert!(r.area.unwrap() > 1000 && r.cycles > 0 && r.energy_pj > 0.0, "{r:?}");
    }
    // Cycles are the model's, summed over the layers, on the same operands.
    for r in &file.points {
        let d = plan.designs.iter().find(|d| d.config.name == r.design).unwrap();
        let w = plan.workloads.iter().find(|w| w.name == r.workload).unwrap();
        let p = d.config.params();
        let cycles: u64 = w
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (a, b) = l.operands(&p, 3, i).unwrap();
                run_gemm(&p, &a, &b).cycles
            })
            .sum();
        assert_eq!(r.cycles, cycles, "{}", r.design);
    }
    // Bigger arrays are faster and larger: 4x4 against 2x2 on every workload.
    let find = |rows: &str, cols: &str, w: &str| {
        file.points.iter().find(|r| r.values == [rows, cols] && r.workload == w).unwrap()
    };
    for w in ["small", "pnet"] {
        let (small, big) = (find("2", "2", w), find("4", "4", w));
        assert!(big.cycles < small.cycles && big.area > small.area, "{small:?} {big:?}");
    }
    // The area is the generic synthesis report's transistor count (from the cache the run filled).
    let d = &plan.designs[0];
    let design = accelc::rtl::generate(&d.config).unwrap();
    let dir = root.join("direct");
    design.write_dir(&dir).unwrap();
    let sources: Vec<_> = design.files.iter().filter(|(n, _)| n.ends_with(".v")).cloned().collect();
    let s =
        accelc::synth::synthesize(&dir, &design.top, &sources, Some(&root.join("cache")), &|| {}).unwrap();
    assert!(s.cached);
    let r = file.points.iter().find(|r| r.design == d.config.name).unwrap();
    assert_eq!(r.area, Some(s.report.transistors));
    // pareto.csv reads back and every row is a feasible point of the run.
    let (_, front) = from_csv(&std::fs::read_to_string(root.join("full/pareto.csv")).unwrap()).unwrap();
    assert!(!front.is_empty() && front.iter().all(|f| file.points.contains(f)));
    assert!(String::from_utf8(std::fs::read(root.join("full/plots/small_generic_area.svg")).unwrap())
        .unwrap()
        .contains("<svg"));

    // Shards from the cache, then merged: the same bytes as the whole run.
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = format!("s{i}");
        let text =
            accelc(&[&["explore", "space.toml", "-o", &out, "--shard", &shard][..], &common].concat(), &root);
        assert!(text.contains(&format!("(shard {i}/3")), "{text}");
    }
    accelc(&["explore", "space.toml", "-o", "merged", "--merge", "s1", "s2", "s3"], &root);
    let (a, b) = (files(&root.join("full")), files(&root.join("merged")));
    assert_eq!(a.len(), b.len());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between the whole run and the merged shards");
    }

    // Merging catches a missing shard and a shard given twice.
    let shard = |i: usize| (root.join(format!("s{i}")), read_points(&root.join(format!("s{i}"))).unwrap());
    let e = merge(&plan, &[shard(1), shard(3)]).unwrap_err().to_string();
    assert!(e.contains("shards 2/3 were not given"), "{e}");
    let e = merge(&plan, &[shard(1), shard(2), shard(3), shard(2)]).unwrap_err().to_string();
    assert!(e.contains("is in two shards"), "{e}");
    let _ = std::fs::remove_dir_all(&root);
}
