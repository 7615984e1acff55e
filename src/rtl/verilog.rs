//! Small Verilog text helpers: declarations, sized literals and lane slices, computed in Rust so
//! templates never do arithmetic.

/// `[w-1:0] ` for a vector, nothing for a single bit.
pub fn decl(width: u32) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

/// `[w-1:0] ` always, even for one bit (for signals that are bit-selected).
pub fn vec_decl(width: u32) -> String {
    format!("[{}:0] ", width - 1)
}

/// A sized unsigned decimal literal, e.g. `4'd8`.
pub fn lit(width: u32, value: u64) -> String {
    format!("{width}'d{value}")
}

/// Lane `lane` of a packed port (lane 0 in the low bits); the port itself when it has one lane.
pub fn lane(port: &str, lanes: usize, lane: usize, lane_bits: u32) -> String {
    if lanes == 1 {
        return port.to_string();
    }
    let lo = lane as u32 * lane_bits;
    if lane_bits == 1 {
        format!("{port}[{lo}]")
    } else {
        format!("{port}[{}:{lo}]", lo + lane_bits - 1)
    }
}

/// Sign-extends `signal` (of `from` bits, signed) to `to` bits.
pub fn sign_extend(signal: &str, from: u32, to: u32) -> String {
    if to == from {
        signal.to_string()
    } else {
        format!("{{{{{}{{{signal}[{}]}}}}, {signal}}}", to - from, from - 1)
    }
}

/// Every keyword of IEEE 1800-2017 (SystemVerilog, Annex B), which includes all of IEEE 1364-2005
/// (Verilog-2005). A module named after one does not parse in some tool, so config names are
/// checked against this list. Sorted, for a binary search.
#[rustfmt::skip]
pub const KEYWORDS: &[&str] = &[
    "accept_on", "alias", "always", "always_comb", "always_ff", "always_latch", "and", "assert", "assign",
    "assume", "automatic", "before", "begin", "bind", "bins", "binsof", "bit", "break", "buf", "bufif0",
    "bufif1", "byte", "case", "casex", "casez", "cell", "chandle", "checker", "class", "clocking", "cmos",
    "config", "const", "constraint", "context", "continue", "cover", "covergroup", "coverpoint", "cross",
    "deassign", "default", "defparam", "design", "disable", "dist", "do", "edge", "else", "end", "endcase",
    "endchecker", "endclass", "endclocking", "endconfig", "endfunction", "endgenerate", "endgroup",
    "endinterface", "endmodule", "endpackage", "endprimitive", "endprogram", "endproperty", "endsequence",
    "endspecify", "endtable", "endtask", "enum", "event", "eventually", "expect", "export", "extends",
    "extern", "final", "first_match", "for", "force", "foreach", "forever", "fork", "forkjoin", "function",
    "generate", "genvar", "global", "highz0", "highz1", "if", "iff", "ifnone", "ignore_bins",
    "illegal_bins", "implements", "implies", "import", "incdir", "include", "initial", "inout", "input",
    "inside", "instance", "int", "integer", "interconnect", "interface", "intersect", "join", "join_any",
    "join_none", "large", "let", "liblist", "library", "local", "localparam", "logic", "longint",
    "macromodule", "matches", "medium", "modport", "module", "nand", "negedge", "nettype", "new",
    "nexttime", "nmos", "nor", "noshowcancelled", "not", "notif0", "notif1", "null", "or", "output",
    "package", "packed", "parameter", "pmos", "posedge", "primitive", "priority", "program", "property",
    "protected", "pull0", "pull1", "pulldown", "pullup", "pulsestyle_ondetect", "pulsestyle_onevent",
    "pure", "rand", "randc", "randcase", "randsequence", "rcmos", "real", "realtime", "ref", "reg",
    "reject_on", "release", "repeat", "restrict", "return", "rnmos", "rpmos", "rtran", "rtranif0",
    "rtranif1", "s_always", "s_eventually", "s_nexttime", "s_until", "s_until_with", "scalared",
    "sequence", "shortint", "shortreal", "showcancelled", "signed", "small", "soft", "solve", "specify",
    "specparam", "static", "string", "strong", "strong0", "strong1", "struct", "super", "supply0",
    "supply1", "sync_accept_on", "sync_reject_on", "table", "tagged", "task", "this", "throughout", "time",
    "timeprecision", "timeunit", "tran", "tranif0", "tranif1", "tri", "tri0", "tri1", "triand", "trior",
    "trireg", "type", "typedef", "union", "unique", "unique0", "unsigned", "until", "until_with",
    "untyped", "use", "uwire", "var", "vectored", "virtual", "void", "wait", "wait_order", "wand", "weak",
    "weak0", "weak1", "while", "wildcard", "wire", "with", "within", "wor", "xnor", "xor",
];

/// True when `name` is a Verilog-2005 or SystemVerilog keyword.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.binary_search(&name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_render_legal_verilog() {
        assert_eq!(decl(1), "");
        assert_eq!(decl(8), "[7:0] ");
        assert_eq!(lit(4, 8), "4'd8");
        assert_eq!(lane("in_a", 4, 2, 8), "in_a[23:16]");
        assert_eq!(lane("in_last", 1, 0, 1), "in_last");
        assert_eq!(sign_extend("p", 16, 28), "{{12{p[15]}}, p}");
        assert_eq!(sign_extend("p", 16, 16), "p");
    }

    #[test]
    fn keywords_are_sorted_and_unique_for_the_binary_search() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(KEYWORDS.len(), 248);
        assert!(["reg", "module", "wire", "always", "begin", "logic"].iter().all(|k| is_keyword(k)));
        assert!(!is_keyword("mac_os_8x8_i8"));
    }
}
