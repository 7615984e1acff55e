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
}
