//! Verilator: lint and testbench builds.
