//! Yosys: structural checks and synthesis reports.
