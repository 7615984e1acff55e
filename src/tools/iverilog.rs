//! Icarus Verilog: Verilog-2005 acceptance.
