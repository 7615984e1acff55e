//! accelc: an RTL-generating accelerator compiler. A config (TOML) is validated, elaborated into a
//! design IR, emitted as Verilog-2005 through templates, and verified bit- and cycle-exact against the
//! reference model in `model` through Verilator testbenches.

pub mod bits;
pub mod cli;
pub mod config;
pub mod energy;
pub mod error;
pub mod explore;
pub mod fsutil;
pub mod interface;
pub mod ir;
pub mod knead;
pub mod model;
pub mod network;
pub mod rng;
pub mod rtl;
pub mod sparse;
pub mod synth;
pub mod system;
pub mod tools;
pub mod train;
pub mod verify;
pub mod workload;
