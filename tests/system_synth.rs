//! The FPGA flow keeps a system top's RAMs in block RAM: on the iCE40 UP5K, Yosys maps the 4x4
//! preset's weight banks to SPRAM (the flow's `ram_style = "huge"` plan) and every other scratchpad
//! bank and the output FIFO to EBR; no RAM is left as flip-flops. Also: the port table the manifest
//! and the I/O wrapper read matches the Verilog, the SPRAM plan of both presets, the parser of
//! Yosys's memory-mapping log lines, and the checker catching a planted fault (a bank in flip-flops).
//! And the engine's narrow requantization tail (written for timing: no 64-bit adders, shifter or
//! comparators) is proven equal, bit for bit over all inputs, to the 64-bit form of the spec by a
//! Yosys SAT miter (2 s), which finds a counterexample to a planted one-off saturation bound.
//!
//! Fast by construction (about 5 s cold on the 2-core development machine, instant cached): the
//! scratchpads are synthesized with the system top's logic blocks (control, loader, engine, array)
//! replaced by black boxes of the same ports, so Yosys maps the RAMs and the top's bank muxes only;
//! the FIFO storage, which sits inside the engine, is synthesized alone with the geometry the engine
//! gives it. Results are cached by `accelc::synth::cache_key` (Verilog, Yosys version, script) in
//! the test target folder, like `accelc synth` does.

mod common;

use accelc::rtl::system::{rams, Ram};
use accelc::synth::fpga::{ram_styles, spram_plan};
use accelc::system::ports::{ports, Direction};
use accelc::system::SystemParams;
use accelc::tools::nextpnr::{Device, Family};
use accelc::tools::yosys::{self, FpgaArch, MemoryMapping, RamStyle, SynthReport};
use std::path::{Path, PathBuf};

fn system(name: &str) -> (accelc::config::Config, SystemParams) {
    let config = common::preset(name);
    let sp = SystemParams::of(&config).expect("a system preset");
    (config, sp)
}

fn up5k() -> Device {
    Device::parse(Family::Ice40, "up5k").unwrap()
}

/// The module text reduced to its port list: a black box with the same ports.
fn black_box(text: &str) -> String {
    let start = text.find("\nmodule ").expect("a module") + 1;
    let end = start + text[start..].find("\n);").expect("the end of the port list") + 3;
    format!("(* blackbox *)\n{}\nendmodule\n", &text[start..end])
}

/// iCE40 EBR (SB_RAM40_4K, 4 kbit) blocks a `words` x `bits` RAM needs at best: the best of its four
/// shapes 256x16, 512x8, 1024x4, 2048x2. Written out here, independent of Yosys's choice.
fn ebr_blocks(words: usize, bits: u32) -> u64 {
    [(256usize, 16u32), (512, 8), (1024, 4), (2048, 2)]
        .iter()
        .map(|&(d, w)| words.div_ceil(d) as u64 * bits.div_ceil(w) as u64)
        .min()
        .unwrap()
}

/// SPRAM (16K x 16) blocks of a RAM.
fn spram_blocks(words: usize, bits: u32) -> u64 {
    words.div_ceil(16384) as u64 * bits.div_ceil(16) as u64
}

/// Why `report` (iCE40 mapping of `rams`, with the memories of `spram` pinned to SPRAM; memory
/// names without a scope) does not keep the RAMs in block RAM, or Ok.
fn check_block_rams(report: &SynthReport, rams: &[&Ram], spram: &[String]) -> Result<(), String> {
    let mut problems = Vec::new();
    for ram in rams {
        let want = if spram.contains(&ram.memory) { "$__ICE40_SPRAM_" } else { "$__ICE40_RAM4K_" };
        match report.memories.iter().find(|m| m.memory == ram.memory) {
            Some(m) if m.mapped_to == want => {}
            Some(m) => problems.push(format!("{} mapped to {}, expected {want}", ram.memory, m.mapped_to)),
            None => problems.push(format!("{}: no mapping in the log", ram.memory)),
        }
    }
    let count = |cell: &str| report.cells_by_type.get(cell).copied().unwrap_or(0);
    let ebr: u64 =
        rams.iter().filter(|r| !spram.contains(&r.memory)).map(|r| ebr_blocks(r.words, r.bits)).sum();
    let sp: u64 =
        rams.iter().filter(|r| spram.contains(&r.memory)).map(|r| spram_blocks(r.words, r.bits)).sum();
    if count("SB_RAM40_4K") != ebr {
        problems.push(format!("{} SB_RAM40_4K, expected {ebr}", count("SB_RAM40_4K")));
    }
    if count("SB_SPRAM256KA") != sp {
        problems.push(format!("{} SB_SPRAM256KA, expected {sp}", count("SB_SPRAM256KA")));
    }
    // A bank left as flip-flops costs one per bit (tens of thousands); the glue needs a few.
    let ffs: u64 = report.cells_by_type.iter().filter(|(t, _)| t.starts_with("SB_DFF")).map(|(_, n)| n).sum();
    let smallest = rams.iter().map(|r| r.total_bits()).min().unwrap_or(0);
    if ffs >= smallest.min(256) {
        problems.push(format!("{ffs} flip-flops: a RAM is (partly) in flip-flops"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// FPGA synthesis of `sources` (written into a fresh folder) with top `top`, cached by content.
fn synth_cached(tag: &str, sources: &[(String, String)], top: &str, styles: &[RamStyle]) -> SynthReport {
    let arch = FpgaArch::Ice40 { dsp: true, spram: !styles.is_empty() };
    let files: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    let script = yosys::fpga_script_for_key(&files, top, arch, styles).unwrap();
    let key = accelc::synth::cache_key(sources, &yosys::version().unwrap(), &script);
    let cache: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("system-synth-cache");
    let entry = cache.join(format!("{key}.json"));
    if let Some(r) = std::fs::read_to_string(&entry).ok().and_then(|t| serde_json::from_str(&t).ok()) {
        return r;
    }
    let dir = std::env::temp_dir().join(format!("accelc-test-system-synth-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in sources {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let report = yosys::synth_fpga_stats(&dir, &files, top, arch, styles).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let tmp = cache.join(format!(".{key}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string(&report).unwrap()).unwrap();
    std::fs::rename(&tmp, &entry).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    report
}

#[test]
fn ice40_maps_the_4x4_scratchpads_to_ebr_and_spram_and_the_fifo_to_ebr() {
    let (config, sp) = system("system_os_4x4_i8");
    let design = accelc::rtl::generate(&config).unwrap();
    let all = rams(&sp);
    let styles = ram_styles(&sp, &up5k(), None);
    let spram: Vec<String> = styles.iter().map(|s| s.memory.clone()).collect();
    assert_eq!(spram, ["u_wgt0.mem", "u_wgt1.mem"]);

    // The banks: the system top with its logic blocks as black boxes.
    let logic = ["_system_ctrl.v", "_system_loader.v", "_system_engine.v"];
    let array_file = format!("{}.v", config.name);
    let sources: Vec<(String, String)> = design
        .files
        .iter()
        .filter(|(n, _)| n.ends_with(".v"))
        .filter(|(n, _)| !n.ends_with("_mac_unit.v") && !n.ends_with("_pe.v") && *n != array_file)
        .map(|(n, t)| {
            (n.clone(), if logic.iter().any(|l| n.ends_with(l)) { black_box(t) } else { t.clone() })
        })
        .collect();
    let report = synth_cached("banks", &sources, &sp.top, &styles);
    let banks: Vec<&Ram> = all.iter().filter(|r| r.group != "fifo").collect();
    assert_eq!(banks.len(), 6);
    check_block_rams(&report, &banks, &spram).unwrap_or_else(|e| panic!("{e}\n{report:#?}"));

    // The FIFO storage, as the engine instantiates it.
    let fifo = all.iter().find(|r| r.group == "fifo").unwrap();
    let (ab, w) = (fifo.words.trailing_zeros(), fifo.bits);
    let engine = design.files.iter().find(|(n, _)| n.ends_with("_system_engine.v")).unwrap();
    assert!(engine.1.contains(&format!("{} #(.WIDTH(W + 1), .ABITS({ab})) u_fifo", fifo.module)), "engine");
    let probe = format!(
        "module fifo_probe (input wire clk, input wire we, input wire [{a}:0] waddr, input wire [{d}:0] wdata,\n\
         input wire re, input wire [{a}:0] raddr, output wire [{d}:0] rdata);\n\
         {m} #(.WIDTH({w}), .ABITS({ab})) u_engine_u_fifo (.clk(clk), .we(we), .waddr(waddr), .wdata(wdata),\n\
         .re(re), .raddr(raddr), .rdata(rdata));\nendmodule\n",
        a = ab - 1,
        d = w - 1,
        m = fifo.module
    );
    let fifo_file = design.files.iter().find(|(n, _)| n.ends_with("_system_fifo_mem.v")).unwrap().clone();
    let report = synth_cached("fifo", &[fifo_file, ("fifo_probe.v".into(), probe)], "fifo_probe", &[]);
    let mut renamed = report.clone();
    for m in &mut renamed.memories {
        m.memory = m.memory.replace("u_engine_u_fifo.", "u_engine.u_fifo.");
    }
    check_block_rams(&renamed, &[fifo], &[]).unwrap_or_else(|e| panic!("{e}\n{report:#?}"));
}

#[test]
fn the_checker_catches_a_bank_left_in_flip_flops() {
    let (_, sp) = system("system_os_4x4_i8");
    let all = rams(&sp);
    let banks: Vec<&Ram> = all.iter().filter(|r| r.group == "par").collect();
    let good = SynthReport {
        yosys: "Yosys".into(),
        top: sp.top.clone(),
        cells: 4,
        cells_by_type: [("SB_RAM40_4K".to_string(), 4), ("SB_LUT4".to_string(), 3)].into_iter().collect(),
        flip_flops: 0,
        latches: 0,
        transistors: 0,
        transistors_exact: true,
        uncosted_cell_types: Vec::new(),
        wires: 0,
        wire_bits: 0,
        modules: Default::default(),
        warnings: Vec::new(),
        memories: banks
            .iter()
            .map(|r| MemoryMapping { memory: r.memory.clone(), mapped_to: "$__ICE40_RAM4K_".into() })
            .collect(),
    };
    check_block_rams(&good, &banks, &[]).unwrap();
    // Planted: the second bank went to flip-flops (128 x 32 of them) and its two EBRs are gone.
    let mut bad = good.clone();
    bad.memories[1].mapped_to = MemoryMapping::FLIP_FLOPS.into();
    bad.cells_by_type.insert("SB_RAM40_4K".into(), 2);
    bad.cells_by_type.insert("SB_DFFE".into(), 128 * 32);
    let err = check_block_rams(&bad, &banks, &[]).unwrap_err();
    assert!(err.contains("u_par1.mem mapped to flip-flops"), "{err}");
    assert!(err.contains("2 SB_RAM40_4K, expected 4") && err.contains("4096 flip-flops"), "{err}");
    // Planted: a bank that should be in SPRAM stayed in EBR.
    let err = check_block_rams(&good, &banks, &["u_par0.mem".to_string()]).unwrap_err();
    assert!(err.contains("u_par0.mem mapped to $__ICE40_RAM4K_, expected $__ICE40_SPRAM_"), "{err}");
}

#[test]
fn spram_plan_of_the_presets() {
    let (_, s4) = system("system_os_4x4_i8");
    // 2K x 32 weight banks: 2 SPRAMs each; 1K x 32 activation banks would need 2 more each.
    assert_eq!(spram_plan(&rams(&s4), 4), ["u_wgt0.mem", "u_wgt1.mem"]);
    assert_eq!(spram_plan(&rams(&s4), 0), Vec::<String>::new());
    assert_eq!(spram_plan(&rams(&s4), 8), ["u_wgt0.mem", "u_wgt1.mem", "u_act0.mem", "u_act1.mem"]);
    // 64-bit words: 4 SPRAMs per bank, so no scratchpad's two banks fit in four.
    let (_, s8) = system("system_os_8x8_i8");
    assert_eq!(spram_plan(&rams(&s8), 4), Vec::<String>::new());
    // Never the FIFO (two ports; SPRAM has one).
    assert!(!spram_plan(&rams(&s4), 100).iter().any(|m| m.contains("fifo")));
    // Only iCE40 UltraPlus parts get a plan.
    assert!(ram_styles(&s4, &Device::parse(Family::Ice40, "hx8k").unwrap(), None).is_empty());
    assert!(ram_styles(&s4, &Device::parse(Family::Ecp5, "45k").unwrap(), None).is_empty());
    let scoped = ram_styles(&s4, &up5k(), Some("dut"));
    assert_eq!(scoped[0], RamStyle { memory: "dut.u_wgt0.mem".into(), style: "huge".into() });
}

#[test]
fn memory_mapping_lines_of_a_yosys_log() {
    let log = "\
10.30. Executing MEMORY_LIBMAP pass (mapping memories to cells).
mapping memory top_io_wrapper.dut.u_act0.mem via $__ICE40_RAM4K_
mapping memory top_io_wrapper.dut.u_wgt0.mem via $__ICE40_SPRAM_
10.33.2. Executing MEMORY_MAP pass (converting memories to logic and flip-flops).
Mapping memory \\dut.u_engine.aq in module \\top_io_wrapper:
";
    let m = yosys::parse_memory_mappings(log);
    let pairs: Vec<(&str, &str)> = m.iter().map(|m| (m.memory.as_str(), m.mapped_to.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("dut.u_act0.mem", "$__ICE40_RAM4K_"),
            ("dut.u_wgt0.mem", "$__ICE40_SPRAM_"),
            ("dut.u_engine.aq", MemoryMapping::FLIP_FLOPS)
        ]
    );
}

#[test]
fn the_port_table_matches_the_system_top_verilog() {
    for name in ["system_os_4x4_i8", "system_os_8x8_i8", "system_ws_4x4_i8", "system_ws_8x8_i8"] {
        let (config, sp) = system(name);
        let design = accelc::rtl::generate(&config).unwrap();
        let top = &design.files.iter().find(|(n, _)| *n == format!("{}.v", sp.top)).unwrap().1;
        let header = &top[top.find(&format!("module {} (", sp.top)).unwrap()..top.find("\n);").unwrap()];
        let declared: Vec<(String, String, u32)> = header
            .lines()
            .filter_map(|l| {
                let l = l.split("//").next().unwrap().trim().trim_end_matches(',');
                let mut words = l.split_whitespace();
                let dir = words.next().filter(|d| *d == "input" || *d == "output")?.to_string();
                let rest: Vec<&str> = words.filter(|w| *w != "wire" && *w != "reg").collect();
                let (width, name) = match rest.as_slice() {
                    [range, name] => {
                        let msb: u32 =
                            range.trim_start_matches('[').split(':').next().unwrap().parse().unwrap();
                        (msb + 1, name.to_string())
                    }
                    [name] => (1, name.to_string()),
                    other => panic!("{other:?}"),
                };
                Some((name, dir, width))
            })
            .collect();
        let table: Vec<(String, String, u32)> = ports(&sp)
            .iter()
            .map(|p| {
                let dir = if p.direction == Direction::Input { "input" } else { "output" };
                (p.name.to_string(), dir.to_string(), p.width)
            })
            .collect();
        assert_eq!(declared, table, "{name}");
    }
}

/// The requantization tail of the spec in 64-bit arithmetic (the engine's first form):
/// y = clamp(relu ? max(q + zp, zp) : q + zp, -128, 127), q = (P + 2^(shift-1)) >>> shift.
const REQUANT_REFERENCE: &str = "\
module lane_ref (input wire [49:0] s2_prod, input wire [5:0] shift, input wire [7:0] a_zp,
                 input wire a_relu, output wire [7:0] y_out);
    wire [63:0] ext = { {14{s2_prod[49]}}, s2_prod };
    wire [63:0] half = (shift == 6'd0) ? 64'd0 : (64'd1 << (shift - 6'd1));
    wire [63:0] rounded = ext + half;
    wire [63:0] q = $signed(rounded) >>> shift;
    wire [63:0] zp64 = { {56{a_zp[7]}}, a_zp };
    wire [63:0] v = q + zp64;
    wire [63:0] vr = (a_relu && ($signed(v) < $signed(zp64))) ? zp64 : v;
    assign y_out = ($signed(vr) > 64'sd127) ? 8'h7f : ($signed(vr) < -64'sd128) ? 8'h80 : vr[7:0];
endmodule
";

/// The engine's requantization tail (from `wire [71:0] p72` to `wire [7:0] y`) as a module.
fn requant_tail(engine: &str) -> String {
    let start = engine.find("wire [71:0] p72").expect("the narrow requantizer");
    let end = start + engine[start..].find("wire [7:0] y =").unwrap();
    let end = end + engine[end..].find(";\n").unwrap() + 2;
    let body: String = engine[start..end]
        .lines()
        .filter(|l| !l.contains("unused_rec"))
        .map(|l| format!("    {}\n", l.trim()))
        .collect();
    format!(
        "module lane_rtl (input wire [49:0] s2_prod, input wire [5:0] shift, input wire [7:0] a_zp,\n\
         input wire a_relu, output wire [7:0] y_out);\n{body}    assign y_out = y;\nendmodule\n"
    )
}

/// Whether Yosys's SAT solver proves `rtl` (module lane_rtl) equal to the reference for every input.
fn proven_equal(tag: &str, rtl: &str) -> bool {
    let dir = common::design_dir("yosys", &format!("requant-{tag}"), REQUANT_REFERENCE);
    std::fs::write(dir.join("rtl.v"), rtl).unwrap();
    let log = dir.join("sat.log");
    let status = std::process::Command::new(yosys::binary().unwrap())
        .current_dir(&dir)
        .arg("-q")
        .arg("-l")
        .arg(&log)
        .arg("-p")
        .arg(
            "read_verilog design.v rtl.v; proc; miter -equiv -flatten -make_assert lane_ref lane_rtl miter; \
             hierarchy -top miter; flatten; opt; sat -verify -prove-asserts -show-inputs miter",
        )
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let proven = status.status.success() && text.contains("SAT proof finished - no model found: SUCCESS!");
    let refuted = text.contains("model found: FAIL!");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("ERROR")).collect();
    assert!(proven || refuted, "yosys neither proved nor refuted: {errors:?}");
    proven
}

#[test]
fn the_narrow_requantizer_equals_the_64_bit_form_for_every_input() {
    let (config, _) = system("system_os_8x8_i8");
    let design = accelc::rtl::generate(&config).unwrap();
    let engine = &design.files.iter().find(|(n, _)| n.ends_with("_system_engine.v")).unwrap().1;
    let rtl = requant_tail(engine);
    assert!(proven_equal("rtl", &rtl), "{rtl}");
    // Planted: saturate at 254 instead of 255.
    let planted = rtl.replacen("10'h0ff : (sat_lo", "10'h0fe : (sat_lo", 1);
    assert_ne!(planted, rtl);
    assert!(!proven_equal("planted", &planted), "the miter missed a planted fault");
}
