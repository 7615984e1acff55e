//! The accelc command line: a thin layer over the library. Exit codes: 0 success, 1 a failed check
//! (a mismatch, a lint warning, a tool that failed), 2 bad input (config, arguments, files).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "accelc",
    version,
    about = "RTL-generating accelerator compiler: config -> Verilog, verified against a Rust model"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Generate Verilog, files.f and manifest.json for a config
    Gen(accelc::cli::GenArgs),
    /// Lint the generated Verilog with Verilator -Wall, Yosys (latches, undriven nets, loops) and Icarus
    Lint(accelc::cli::LintArgs),
    /// Verify the generated RTL against the reference model in Verilator, bit- and cycle-exact
    Verify(accelc::verify::VerifyArgs),
    /// Re-run a failing case written by `accelc verify`
    Replay(accelc::verify::ReplayArgs),
    /// Cycles of every layer of a SCALE-Sim topology on the config's array (reference model)
    Cycles(accelc::cli::CyclesArgs),
    /// Synthesize with Yosys (generic gates) or for an FPGA (ice40/ecp5 with nextpnr, xilinx estimate)
    Synth(accelc::synth::SynthArgs),
    /// Knead a layer's quantized weights into the SAC stream (Tetris), with a sparsity report
    Knead(accelc::knead::KneadArgs),
    /// Energy per layer and for a whole shipped network on the config's design (model op counts x 45 nm table)
    Energy(accelc::energy::cli::EnergyArgs),
    /// Explore a design space: cycles, area and energy of every point, Pareto front, SVG plots
    Explore(accelc::explore::cli::ExploreArgs),
    /// Compile a trained ONNX network for a system top: quantize (int8), optionally prune, plan the jobs
    Compile(accelc::network::cli::CompileArgs),
    /// Run a compiled network on the system top's cycle-exact model (default) or its RTL (--rtl)
    Run(accelc::network::cli::RunArgs),
    /// Train a small TCN on the adding problem on the sparse array's model, with and without gradient pruning
    TrainDemo(accelc::train::cli::TrainDemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Gen(args) => accelc::cli::gen(&args),
        Cmd::Lint(args) => accelc::cli::lint(&args),
        Cmd::Verify(args) => accelc::verify::main(&args),
        Cmd::Replay(args) => accelc::verify::replay_main(&args),
        Cmd::Synth(args) => accelc::synth::main(&args),
        Cmd::Cycles(args) => accelc::cli::cycles(&args),
        Cmd::Knead(args) => accelc::knead::main(&args),
        Cmd::Explore(args) => accelc::explore::cli::main(&args),
        Cmd::Energy(args) => accelc::energy::cli::main(&args),
        Cmd::Compile(args) => accelc::network::cli::compile_main(&args),
        Cmd::Run(args) => accelc::network::cli::run_main(&args),
        Cmd::TrainDemo(args) => accelc::train::cli::main(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{}", accelc::error::describe(&err));
            ExitCode::from(accelc::error::exit_code(&err))
        }
    }
}
