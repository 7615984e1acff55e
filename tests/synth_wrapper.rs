//! The registered-I/O wrapper (templates/io_wrapper.v.tera): it renders for every preset (MAC and
//! SAC) with at most 14 pins, is clean
//! under Verilator -Wall, Yosys's checks and Icarus, its flip-flop count matches its text, and it
//! keeps the whole array alive through synthesis (a planted fault, an output that reaches no pin,
//! lets Yosys remove the multipliers and is caught).

use accelc::config::Config;
use accelc::synth::wrapper;
use accelc::tools::yosys::{self, FpgaArch};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(preset: &str) -> Config {
    Config::load(&root().join("configs").join(format!("{preset}.toml"))).unwrap()
}

/// Writes the design and its wrapper into a fresh folder; returns it and the Verilog file names.
fn write(preset: &str, tag: &str, wrapper_text: Option<&str>) -> (PathBuf, Vec<String>, wrapper::Wrapper) {
    let config = load(preset);
    let design = accelc::rtl::generate(&config).unwrap();
    let dir = std::env::temp_dir().join(format!("accelc-test-wrapper-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    design.write_dir(&dir).unwrap();
    let w = wrapper::render(&config.params(), &design.top).unwrap();
    std::fs::write(dir.join(&w.file), wrapper_text.unwrap_or(&w.text)).unwrap();
    let mut files: Vec<String> = design.verilog_files().map(String::from).collect();
    files.push(w.file.clone());
    (dir, files, w)
}

/// Sums the widths of the `reg` declarations in a wrapper's text.
fn declared_register_bits(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("reg "))
        .map(|decl| {
            let decl = decl.trim();
            match decl.strip_prefix('[') {
                Some(rest) => {
                    let (msb, _) = rest.split_once(':').unwrap();
                    msb.trim().parse::<u64>().unwrap() + 1
                }
                None => 1,
            }
        })
        .sum()
}

#[test]
fn renders_for_every_preset_with_few_pins_and_counted_registers() {
    let mut presets: Vec<PathBuf> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    presets.sort();
    assert!(presets.len() >= 10);
    for path in presets {
        let config = Config::load(&path).unwrap();
        let p = config.params();
        let w = wrapper::render(&p, &config.name).unwrap();
        assert_eq!(w.module, format!("{}_io_wrapper", config.name));
        // Clock, reset, the serial pins and the XOR pins, whatever the interface.
        assert_eq!(w.pins, 2 + wrapper::SERIAL_PINS + w.xor_out_pins, "{}", config.name);
        assert!(w.xor_out_pins <= wrapper::XOR_PINS && w.pins <= 14, "{}: {} pins", config.name, w.pins);
        // Every input but clock and reset is in the shift register; every output is folded.
        let iface = accelc::interface::Interface::of(&p);
        let inputs: u32 =
            iface.inputs.iter().map(|c| 1 + c.fields.iter().map(|f| f.width()).sum::<u32>()).sum();
        let outputs: u32 = 1
            + iface.inputs.iter().filter(|c| c.ready.is_some()).count() as u32
            + iface.output.fields.iter().map(|f| f.width()).sum::<u32>();
        assert_eq!((w.shift_bits, w.wide_out_bits), (inputs, outputs), "{}", config.name);
        assert_eq!(declared_register_bits(&w.text), w.flip_flops, "{}:\n{}", config.name, w.text);
        // Deterministic.
        assert_eq!(wrapper::render(&p, &config.name).unwrap().text, w.text);
    }
}

#[test]
fn wrapped_designs_lint_clean() {
    for preset in ["mac_os_2x2_i8", "mac_ws_2x2_i4"] {
        let (dir, files, w) = write(preset, &format!("lint-{preset}"), None);
        let problems: Vec<String> = accelc::tools::verilator::lint(&dir, &files, &w.module)
            .unwrap()
            .into_iter()
            .chain(yosys::check(&dir, &files, &w.module).unwrap())
            .chain(accelc::tools::iverilog::compile(&dir, &files, &w.module).unwrap())
            .collect();
        assert!(problems.is_empty(), "{preset}:\n{}\n{}", problems.join("\n"), w.text);
    }
}

#[test]
fn every_multiplier_survives_synthesis_and_a_dangling_output_is_caught() {
    let preset = "mac_os_2x2_i8";
    let (dir, files, w) = write(preset, "keep", None);
    let arch = FpgaArch::Ice40 { dsp: true, spram: false };
    let kept = yosys::synth_fpga_stats(&dir, &files, &w.module, arch, &[]).unwrap();
    let dsp = |r: &yosys::SynthReport| r.cells_by_type.get("SB_MAC16").copied().unwrap_or(0);
    assert_eq!(dsp(&kept), 4, "one SB_MAC16 per PE: {:?}", kept.cells_by_type);
    // Planted fault: the XOR-folded outputs no longer reach the pins.
    let broken_text = w.text.replace(&format!("assign xor_out = xor{}_q;", 2), "assign xor_out = 4'd0;");
    assert_ne!(broken_text, w.text, "the planted fault must change the wrapper");
    let (dir, files, _) = write(preset, "broken", Some(&broken_text));
    let broken = yosys::synth_fpga_stats(&dir, &files, &w.module, arch, &[]).unwrap();
    assert_eq!(dsp(&broken), 0, "{:?}", broken.cells_by_type);
    let luts = |r: &yosys::SynthReport| r.cells_by_type.get("SB_LUT4").copied().unwrap_or(0);
    assert!(luts(&broken) * 4 < luts(&kept), "{} vs {}", luts(&broken), luts(&kept));
}
