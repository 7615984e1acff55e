//! points.csv and points.json read back to the same records; shards partition the points.

use accelc::config::Config;
use accelc::explore::record::{from_csv, to_csv};
use accelc::explore::{Plan, PointRecord, PointsFile, Shard, Space, Status};
use std::collections::BTreeMap;
use std::path::Path;

fn records() -> Vec<PointRecord> {
    let base = PointRecord {
        index: 0,
        design: "mac_4x4_0011aabb".into(),
        workload: "mtcnn".into(),
        target: "generic".into(),
        values: vec!["4".into(), "mac".into(), "".into()],
        status: Status::Ok,
        note: String::new(),
        cycles: 123_456,
        macs: 7_000_000,
        energy_pj: 0.1 + 0.2,
        core_energy_pj: 1e-7,
        area: Some(530_348),
        area_unit: "transistors".into(),
        cells: Some(60_741),
        flip_flops: Some(5_971),
        dsp: None,
        fmax_mhz: None,
    };
    let fpga = PointRecord {
        index: 1,
        target: "ice40-hx8k".into(),
        values: vec!["4".into(), "sac".into(), "8".into()],
        status: Status::DoesNotFit,
        note: "does not fit iCE40HX8K-CT256: ICESTORM_LC 26171/7680, \"quoted\"\nsecond line".into(),
        energy_pj: 123456789.12345679, // a float with a long shortest form
        area: Some(25_115),
        area_unit: "LUT4".into(),
        cells: None,
        dsp: Some(0),
        fmax_mhz: Some(31.700000000000003),
        ..base.clone()
    };
    let failed = PointRecord {
        index: 2,
        status: Status::Failed,
        note: "synthesis: yosys exited with 1".into(),
        area: None,
        area_unit: String::new(),
        cells: None,
        flip_flops: None,
        ..base.clone()
    };
    vec![base, fpga, failed]
}

fn columns() -> Vec<String> {
    vec!["array.rows".into(), "pe.kind".into(), "pe.kneading_stride".into()]
}

#[test]
fn csv_round_trips_every_field() {
    let text = to_csv(&columns(), &records());
    let (cols, back) = from_csv(&text).unwrap();
    assert_eq!(cols, columns());
    assert_eq!(back, records());
    // The reader really reads: a changed figure comes back changed.
    let (_, changed) = from_csv(&text.replace("123456,", "123457,")).unwrap();
    assert_ne!(changed, records());
    assert!(from_csv("index,design\n1,x\n").is_err(), "a foreign header is rejected");
    assert!(from_csv(&text.replace("7000000", "lots")).is_err(), "a bad count is rejected");
}

#[test]
fn json_round_trips_with_format_version() {
    let config = Config::parse("c", "name = \"x\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"output_stationary\"\n[pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\n").unwrap();
    let file = PointsFile {
        format_version: accelc::explore::record::FORMAT_VERSION,
        space: "s".into(),
        plan_digest: "abc".into(),
        total_points: 3,
        shard: Some(Shard { index: 2, count: 3 }),
        columns: columns(),
        workloads: vec!["mtcnn".into()],
        targets: vec!["generic".into(), "ice40-hx8k".into()],
        designs: BTreeMap::from([("mac_4x4_0011aabb".to_string(), config)]),
        skipped: Vec::new(),
        points: records(),
    };
    let text = file.to_json();
    assert!(text.contains("\"format_version\": 1"));
    assert_eq!(PointsFile::from_json(&text).unwrap(), file);
    let future = text.replace("\"format_version\": 1", "\"format_version\": 99");
    assert!(PointsFile::from_json(&future).unwrap_err().to_string().contains("format_version 99"));
}

const SPACE: &str = r#"
[space]
name = "shards"
[config]
array.dataflow = "output_stationary"
array.rows = [2, 4, 8]
array.cols = [2, 4]
pe.kind = "mac"
pe.weight_bits = [4, 8]
pe.act_bits = 8
[[workload]]
name = "a"
gemm = [[4, 4, 4]]
[[workload]]
name = "b"
gemm = [[8, 8, 8]]
[[target]]
name = "generic"
[[target]]
name = "xilinx"
only = { "pe.weight_bits" = 4 }
"#;

#[test]
fn shards_partition_the_points_and_keep_a_synthesis_in_one_shard() {
    let plan = Plan::new(Space::parse("s.toml", SPACE, Path::new(".")).unwrap()).unwrap();
    assert_eq!(plan.points.len(), (12 + 6) * 2);
    for count in 1..=7 {
        let mut seen = vec![0; plan.points.len()];
        let mut unit_shard = BTreeMap::new();
        for index in 1..=count {
            for p in plan.shard(Shard { index, count }) {
                seen[p.index] += 1;
                assert_eq!(plan.shard_of_point(p.index, count), index);
                let prev = unit_shard.insert((p.design, p.target), index);
                assert!(
                    prev.is_none_or(|s| s == index),
                    "design {} target {} split over shards",
                    p.design,
                    p.target
                );
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "count {count}: every point exactly once: {seen:?}");
    }
    // Shards are not all empty but one: 18 synthesis units over 4 shards.
    let sizes: Vec<usize> = (1..=4).map(|i| plan.shard(Shard { index: i, count: 4 }).len()).collect();
    assert!(sizes.iter().all(|&n| n >= 8), "{sizes:?}");
    assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, count: 4 });
    for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}
