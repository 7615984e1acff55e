//! The int8 pipeline of a whole network on a system top: the PP-OCR text-direction classifier
//! compiled (quantized, lowered to accelerator layers and host steps, planned into jobs) runs on the
//! cycle-exact model and on the generated RTL in Verilator with identical tensors and cycles; every
//! accelerator layer's int8 output is checked against plain float arithmetic (and a planted wrong
//! requantization shift is caught); the int8 classifier agrees with the float one on real crops; the
//! commands reject bad input with one line and exit code 2, writing nothing.

use crate::common;

use accelc::network::program::{compile, AccelLayer, Calibration, Program, Step};
use accelc::network::run::{self, check_layers, CycleModel, Fast, Reference, Rtl};
use accelc::network::{float, import_file, samples, Network, Value};
use accelc::system::SystemParams;
use ndarray::{ArrayD, Axis};
use std::process::Command;

fn classifier() -> Network {
    import_file(&samples::classifier_path()).expect("the shipped classifier imports")
}

/// The classifier compiled for `preset`, calibrated on 4 real crops (debug test builds run the float
/// executor unoptimized; `make bench-networks` calibrates on 12 and measures all 36).
fn compiled(preset: &str) -> (Program, SystemParams) {
    let config = common::preset(preset);
    let sp = SystemParams::of(&config).unwrap();
    let s = samples::cls_samples().unwrap();
    let calib = s.inputs.select(Axis(0), &[0, 9, 18, 27]);
    (compile(&classifier(), &config.name, &sp, &[calib], Calibration::Mse).unwrap(), sp)
}

/// The 8x8 compilation, shared by the tests that read it.
fn compiled_8x8() -> (Program, SystemParams) {
    static ONCE: std::sync::OnceLock<(Program, SystemParams)> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| compiled("system_os_8x8_i8")).clone()
}

fn crop(i: usize) -> ArrayD<f32> {
    samples::cls_samples().unwrap().inputs.select(Axis(0), &[i])
}

#[test]
fn the_classifier_on_the_model_equals_the_rtl_bit_and_cycle_exact() {
    let (program, sp) = compiled("system_os_4x4_i8");
    assert_eq!(program.layers().count(), 43, "35 convs, 18 squeeze-excite convs... as accelerator layers");
    let x = crop(5);
    let model = run::run(&program, &sp, &x, &mut CycleModel { sp: sp.clone() }, &mut |_, _| {}).unwrap();
    let config = common::preset("system_os_4x4_i8");
    let root = common::verify_root();
    let work = root.join(format!("network-int-{}", std::process::id()));
    let mut rtl = Rtl::build(&config, &root.join(".build"), work).unwrap();
    let hw = run::run(&program, &sp, &x, &mut rtl, &mut |_, _| {}).unwrap();
    let reference = run::run(&program, &sp, &x, &mut Reference, &mut |_, _| {}).unwrap();
    let fast = run::run(&program, &sp, &x, &mut Fast, &mut |_, _| {}).unwrap();
    let cycles = |r: &run::IntRun| r.layers.iter().map(|l| l.cycles).collect::<Vec<_>>();
    eprintln!(
        "classifier on system_os_4x4_i8: {} jobs, {} cycles (model) {} cycles (RTL)",
        model.layers.iter().map(|l| l.jobs).sum::<usize>(),
        model.cycles().unwrap(),
        hw.cycles().unwrap()
    );
    assert_eq!(cycles(&model), cycles(&hw), "per-layer cycles, model vs RTL");
    for (name, t) in &model.tensors {
        assert_eq!(Some(t), hw.tensors.get(name), "tensor {name:?}, model vs RTL");
        assert_eq!(
            Some(t),
            reference.tensors.get(name),
            "tensor {name:?}, model vs plain integer convolution"
        );
        assert_eq!(
            Some(t),
            fast.tensors.get(name),
            "tensor {name:?}, model vs the whole-layer fast convolution"
        );
    }
    assert_eq!(model.outputs, hw.outputs);
    assert!(check_layers(&program, &model).is_empty(), "{:?}", check_layers(&program, &model));
}

#[test]
fn the_layer_arithmetic_check_catches_a_wrong_requantization_shift_and_zero_point() {
    let (program, sp) = compiled_8x8();
    // the program uses every kind of activation quantization the check must follow
    let layers: Vec<_> = program.layers().collect();
    assert!(layers.iter().any(|l| l.in_zp != 0), "an input zero point");
    assert!(layers.iter().any(|l| l.out_zp != 0), "an output zero point");
    assert!(layers.iter().any(|l| !l.out_channel_scales.is_empty()), "per-channel output scales");
    let x = crop(20);
    let good = run::run(&program, &sp, &x, &mut Reference, &mut |_, _| {}).unwrap();
    assert_eq!(check_layers(&program, &good), Vec::<String>::new());
    let accel = |p: &mut Program, pick: &dyn Fn(&AccelLayer) -> bool| -> String {
        let l = p
            .steps
            .iter_mut()
            .filter_map(|s| if let Step::Accel(l) = s { Some(l) } else { None })
            .find(|l| pick(l))
            .unwrap();
        l.name.clone()
    };
    // planted: one layer's records shift one bit too little (outputs doubled)
    let mut bad_shift = program.clone();
    let name = accel(&mut bad_shift, &|l| l.name == layers[5].name);
    for s in bad_shift.steps.iter_mut() {
        if let Step::Accel(l) = s {
            if l.name == name {
                l.requant.iter_mut().for_each(|r| r.shift -= 1);
            }
        }
    }
    // planted: a layer reading with a zero point whose biases lack its fold (-zp x sum of weights)
    let mut bad_zp = program.clone();
    let zp_name = accel(&mut bad_zp, &|l| l.in_zp != 0);
    for s in bad_zp.steps.iter_mut() {
        if let Step::Accel(l) = s {
            if l.name == zp_name {
                let zp = l.in_zp as i64;
                for (r, filter) in l.requant.iter_mut().zip(l.weights.outer_iter()) {
                    r.bias += (zp * filter.iter().map(|&v| v as i64).sum::<i64>()) as i32;
                }
            }
        }
    }
    for (what, bad, name) in [("shift", &bad_shift, &name), ("zero point", &bad_zp, &zp_name)] {
        let r = run::run(bad, &sp, &x, &mut Reference, &mut |_, _| {}).unwrap();
        let problems = check_layers(bad, &r);
        eprintln!("planted {what} in {name}: {problems:?}");
        assert!(
            problems.iter().any(|p| p.starts_with(&format!("{name}:"))),
            "{what} not caught: {problems:?}"
        );
    }
}

#[test]
fn the_int8_classifier_agrees_with_float_on_real_crops() {
    let (program, sp) = compiled_8x8();
    let net = classifier();
    let s = samples::cls_samples().unwrap();
    let pick: Vec<usize> = (2..36).step_by(6).collect();
    let x = s.inputs.select(Axis(0), &pick);
    let int = run::run(&program, &sp, &x, &mut Fast, &mut |_, _| {}).unwrap();
    let Value::F32(fy) =
        &float::run(&net, &[(net.inputs[0].0.as_str(), Value::F32(x.clone()))]).unwrap()[&net.outputs[0]]
    else {
        panic!("float output")
    };
    let qy = &int.outputs[0].1;
    let argmax = |y: &ArrayD<f32>, i: usize| (y[[i, 1]] > y[[i, 0]]) as usize;
    let agree = (0..pick.len()).filter(|&i| argmax(fy, i) == argmax(qy, i)).count();
    let sqnr = run::sqnr_db(fy, qy);
    eprintln!(
        "int8 classifier vs float on {} real crops: top-1 agreement {agree}/{}, output SQNR {sqnr:.1} dB",
        pick.len(),
        pick.len()
    );
    assert_eq!(agree, pick.len(), "top-1 agreement");
    assert!(sqnr > 15.0, "output SQNR {sqnr:.1} dB");
}

fn accelc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accelc")).args(args).output().unwrap()
}

#[test]
fn bad_models_configs_and_inputs_are_one_line_and_exit_2_writing_nothing() {
    let dir = std::env::temp_dir().join(format!("accelc-test-network-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.onnx");
    std::fs::write(&junk, b"\xff\xff not a model").unwrap();
    let bad_x = dir.join("x.npy");
    ndarray_npy::write_npy(&bad_x, &ndarray::Array4::<f32>::zeros((1, 1, 48, 192))).unwrap();
    let model = samples::classifier_path();
    let model = model.to_str().unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let sys = format!("{root}/configs/system_os_8x8_i8.toml");
    let plain = format!("{root}/configs/mac_os_8x8_i8.toml");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["compile", junk.to_str().unwrap(), "--config", &sys, "--calib", "cls-samples", "-o", o],
            "not an ONNX model",
        ),
        (vec!["compile", model, "--config", &plain, "--calib", "cls-samples", "-o", o], "no [system] table"),
        (
            vec!["compile", model, "--config", &sys, "--calib", bad_x.to_str().unwrap(), "-o", o],
            "does not fit the model's input",
        ),
        (
            vec!["compile", model, "--config", &sys, "--calib", "nowhere.npy", "-o", o],
            "no such file or folder",
        ),
        (
            vec![
                "compile",
                model,
                "--config",
                &sys,
                "--calib",
                "cls-samples",
                "--prune",
                "magnitude:2",
                "-o",
                o,
            ],
            "bad prune spec",
        ),
        (vec!["run", o, "--input", "cls-samples"], "not a folder written by `accelc compile`"),
    ];
    for (args, expect) in cases {
        let r = accelc(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compile_with_pruning_then_run_writes_the_program_report_and_output() {
    let dir = std::env::temp_dir().join(format!("accelc-test-network-compile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("cls");
    let model = samples::classifier_path();
    let sys = format!("{}/configs/system_os_8x8_i8.toml", env!("CARGO_MANIFEST_DIR"));
    let o = out.to_str().unwrap();
    let r = accelc(&[
        "compile",
        model.to_str().unwrap(),
        "--config",
        &sys,
        "--calib",
        "cls-samples:0",
        "--prune",
        "nm:2:4",
        "-o",
        o,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let pruned = &report["weights"]["pruned"]["totals"];
    eprintln!("nm:2:4 report totals: {pruned}");
    let sparsity = pruned["value_sparsity"].as_f64().unwrap();
    assert!((0.45..0.5).contains(&sparsity), "2:4 sparsity {sparsity}");
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 43);
    assert!(layers.iter().all(|l| l["cycles"].as_u64().unwrap() > 0 && l["sqnr_db"].is_number()));
    let y = dir.join("y.npy");
    let r = accelc(&["run", o, "--input", "cls-samples:1", "--cycle-model", "-o", y.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{stdout}{}", String::from_utf8_lossy(&r.stderr));
    let total: u64 = layers.iter().map(|l| l["cycles"].as_u64().unwrap()).sum();
    // cycles do not depend on the activations: the run on another crop takes what compile measured
    assert!(stdout.contains(&format!("{total} cycles")), "{stdout}");
    let y: ArrayD<f32> = ndarray_npy::read_npy(&y).unwrap();
    assert_eq!(y.shape(), &[1, 2]);
    // the default: one fast integer convolution per layer and compile's cycles: the same output and total
    let y2 = dir.join("y2.npy");
    let r = accelc(&["run", o, "--input", "cls-samples:1", "-o", y2.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success() && stdout.contains(&format!("{total} cycles")), "{stdout}");
    assert_eq!(y, ndarray_npy::read_npy::<_, ArrayD<f32>>(&y2).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
