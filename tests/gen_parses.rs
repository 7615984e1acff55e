//! Property: every config that `gen` accepts yields Verilog that Verilator (`--lint-only -Wall`) and
//! Icarus (`-g2005 -Wall`) accept without a message, and a config named after a Verilog or
//! SystemVerilog keyword is rejected (it used to generate `module reg (`, which no tool parses).
//! Configs are drawn over every PE kind, dataflow, size, width and option, including names that
//! are keywords.

use accelc::config::Config;
use accelc::rtl::verilog::KEYWORDS;
use proptest::prelude::*;

/// A config's TOML text: the kind decides which tables and keys it has.
#[derive(Debug, Clone)]
struct Drawn {
    name: String,
    kind: u8,
    ws: bool,
    rows: u32,
    cols: u32,
    weight_bits: u32,
    act_bits: u32,
    ks: u32,
    csd: bool,
    row_len: u32,
    max_dilation: u32,
    max_stride: u32,
    load_lanes: u32,
}

impl Drawn {
    fn toml(&self) -> String {
        let dataflow = if self.ws { "weight_stationary" } else { "output_stationary" };
        let kind = ["mac", "sac", "sparse_1d"][self.kind as usize];
        let mut t = format!(
            "name = \"{}\"\n[array]\nrows = {}\ncols = {}\ndataflow = \"{dataflow}\"\n[pe]\nkind = \"{kind}\"\n\
             weight_bits = {}\nact_bits = {}\n",
            self.name, self.rows, self.cols, self.weight_bits, self.act_bits
        );
        match self.kind {
            1 => {
                let enc = if self.csd { "csd" } else { "sign_magnitude" };
                t += &format!("kneading_stride = {}\nencoding = \"{enc}\"\n", self.ks);
            }
            2 => {
                t += &format!(
                    "[sparse]\nrow_len = {}\nmax_dilation = {}\nmax_stride = {}\nload_lanes = {}\n",
                    self.row_len, self.max_dilation, self.max_stride, self.load_lanes
                );
            }
            _ => {}
        }
        t
    }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z_][a-z0-9_]{0,10}",
        1 => prop::sample::select(KEYWORDS).prop_map(str::to_string),
    ]
}

fn drawn() -> impl Strategy<Value = Drawn> {
    (
        (name(), 0u8..3, any::<bool>(), 1u32..=4, 1u32..=4, 2u32..=16, 2u32..=16),
        (
            prop::sample::select(vec![2u32, 4, 8, 16]),
            any::<bool>(),
            4u32..=16,
            1u32..=3,
            prop::sample::select(vec![1u32, 2, 4]),
            1u32..=4,
        ),
    )
        .prop_map(
            |(
                (name, kind, ws, rows, cols, weight_bits, act_bits),
                (ks, csd, row_len, max_dilation, max_stride, load_lanes),
            )| Drawn {
                name,
                kind,
                ws,
                rows,
                cols,
                weight_bits,
                act_bits,
                ks,
                csd,
                row_len,
                max_dilation,
                max_stride,
                load_lanes,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_accepted_config_gives_verilog_that_verilator_and_icarus_parse(d in drawn()) {
        let text = d.toml();
        let parsed = Config::parse("drawn.toml", &text);
        if accelc::rtl::verilog::is_keyword(&d.name) {
            let errors = parsed.expect_err("a keyword name must be rejected").to_string();
            prop_assert!(errors.contains("keyword"), "{errors}");
            return Ok(());
        }
        let Ok(config) = parsed else { return Ok(()) };
        let design = accelc::rtl::generate(&config).unwrap();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("gen-parses-{}", accelc::fsutil::unique_suffix()));
        design.write_dir(&dir).unwrap();
        let files: Vec<String> = design.verilog_files().map(str::to_string).collect();
        let verilator = accelc::tools::verilator::lint(&dir, &files, &design.top).unwrap();
        prop_assert!(verilator.is_empty(), "{text}\nverilator:\n{}", verilator.join("\n"));
        let icarus = accelc::tools::iverilog::compile(&dir, &files, &design.top).unwrap();
        prop_assert!(icarus.is_empty(), "{text}\niverilog:\n{}", icarus.join("\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
