//! Validation: every rule reads like the rule it enforces, and every violation is collected.

use super::{Config, Dataflow, PeKind, SystemConfig};
use std::fmt;

/// One problem in a config: `file: key = value: rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub value: String,
    pub rule: String,
}

impl ConfigError {
    pub fn new(file: &str, key: &str, value: &str, rule: impl Into<String>) -> Self {
        ConfigError { file: file.into(), key: key.into(), value: value.into(), rule: rule.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.key.is_empty(), self.value.is_empty()) {
            (true, _) => write!(f, "{}: {}", self.file, self.rule),
            (false, true) => write!(f, "{}: {}: {}", self.file, self.key, self.rule),
            (false, false) => write!(f, "{}: {} = {}: {}", self.file, self.key, self.value, self.rule),
        }
    }
}

/// All the problems found in one config, one per line when displayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

struct Checker<'a> {
    file: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn require(&mut self, ok: bool, key: &str, value: impl fmt::Display, rule: &str) {
        if !ok {
            self.errors.push(ConfigError::new(self.file, key, &value.to_string(), rule));
        }
    }

    fn range(&mut self, key: &str, value: u32, lo: u32, hi: u32) {
        self.require((lo..=hi).contains(&value), key, value, &format!("must be between {lo} and {hi}"));
    }
}

pub(super) fn validate(c: &Config, file: &str) -> Result<(), super::ConfigErrors> {
    let mut ck = Checker { file, errors: Vec::new() };
    let is_ident = !c.name.is_empty()
        && c.name.len() <= 64
        && c.name.chars().next().is_some_and(|ch| ch.is_ascii_lowercase() || ch == '_')
        && c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    ck.require(
        is_ident,
        "name",
        format!("{:?}", c.name),
        "must be a Verilog identifier of at most 64 characters: lowercase letters, digits and '_', not starting with a digit",
    );
    // The name is the top module's name: a keyword there does not parse (`module reg (`).
    ck.require(
        !crate::rtl::verilog::is_keyword(&c.name),
        "name",
        format!("{:?}", c.name),
        "is a Verilog-2005/SystemVerilog keyword and cannot name a module; choose another name",
    );
    ck.range("array.rows", c.array.rows, 1, 256);
    ck.range("array.cols", c.array.cols, 1, 256);
    ck.range("pe.weight_bits", c.pe.weight_bits, 2, 16);
    ck.range("pe.act_bits", c.pe.act_bits, 2, 16);
    ck.range("pe.max_reduction", c.pe.max_reduction, 1, 1 << 20);
    if let Some(acc) = c.pe.acc_bits {
        let product = c.pe.weight_bits + c.pe.act_bits;
        ck.require(
            acc >= product && acc <= 64,
            "pe.acc_bits",
            acc,
            &format!("must be between weight_bits + act_bits ({product}) and 64, so that one product fits"),
        );
    }
    let max_stages = match c.pe.kind {
        PeKind::Mac => 3,
        PeKind::Sac => 2,
        PeKind::Sparse1d => 1,
    };
    ck.require(
        c.pe.pipeline <= max_stages,
        "pe.pipeline",
        c.pe.pipeline,
        &format!("must be 0 to {max_stages} register stages for pe.kind = \"{}\"", kind_name(c.pe.kind)),
    );
    let sac = c.pe.kind == PeKind::Sac;
    let sac_only = "only applies to pe.kind = \"sac\"";
    if sac {
        ck.require(
            c.array.dataflow == Dataflow::OutputStationary,
            "array.dataflow",
            "\"weight_stationary\"",
            "pe.kind = \"sac\" needs dataflow = \"output_stationary\" (each SAC unit accumulates one output)",
        );
        match c.pe.kneading_stride {
            Some(ks) => ck.require(
                ks.is_power_of_two() && (2..=64).contains(&ks),
                "pe.kneading_stride",
                ks,
                "must be a power of two between 2 and 64",
            ),
            None => ck.require(
                false,
                "pe.kneading_stride",
                "(missing)",
                "pe.kind = \"sac\" needs a kneading stride",
            ),
        }
        ck.require(
            c.pe.encoding.is_some(),
            "pe.encoding",
            "(missing)",
            "pe.kind = \"sac\" needs \"sign_magnitude\" or \"csd\"",
        );
        if let Some(groups) = c.array.act_buffer_groups {
            ck.require(
                matches!(groups, 1 | 2 | 4 | 8),
                "array.act_buffer_groups",
                groups,
                "must be 1, 2, 4 or 8",
            );
        }
    } else {
        if let Some(ks) = c.pe.kneading_stride {
            ck.require(false, "pe.kneading_stride", ks, sac_only);
        }
        if let Some(e) = c.pe.encoding {
            ck.require(false, "pe.encoding", format!("\"{}\"", e.knead().name()), sac_only);
        }
        if let Some(g) = c.array.act_buffer_groups {
            ck.require(false, "array.act_buffer_groups", g, sac_only);
        }
    }
    sparse_rules(&mut ck, c);
    match (c.array.dataflow, c.array.acc_depth) {
        (Dataflow::WeightStationary, Some(depth)) => ck.require(
            depth.is_power_of_two() && (2..=4096).contains(&depth),
            "array.acc_depth",
            depth,
            "must be a power of two between 2 and 4096",
        ),
        (Dataflow::OutputStationary, Some(depth)) => ck.require(
            false,
            "array.acc_depth",
            depth,
            "only applies to dataflow = \"weight_stationary\" (output-stationary PEs accumulate in place)",
        ),
        _ => {}
    }
    system_rules(&mut ck, c);
    if ck.errors.is_empty() {
        Ok(())
    } else {
        Err(super::ConfigErrors(ck.errors))
    }
}

/// The sparse 1-D row array: `[sparse]` present exactly for `pe.kind = "sparse_1d"`, buffers and
/// runtime limits in range.
fn sparse_rules(ck: &mut Checker, c: &Config) {
    let sparse = c.pe.kind == PeKind::Sparse1d;
    match (&c.sparse, sparse) {
        (None, true) => ck.require(
            false,
            "sparse",
            "(missing)",
            "pe.kind = \"sparse_1d\" needs a [sparse] table with row_len",
        ),
        (Some(_), false) => ck.require(false, "sparse", "(table)", "only applies to pe.kind = \"sparse_1d\""),
        _ => {}
    }
    let Some(s) = c.sparse.as_ref().filter(|_| sparse) else { return };
    ck.require(
        c.array.dataflow == Dataflow::OutputStationary,
        "array.dataflow",
        "\"weight_stationary\"",
        "pe.kind = \"sparse_1d\" needs dataflow = \"output_stationary\" (each PE row holds its output row)",
    );
    ck.range("array.rows", c.array.rows, 1, 64);
    ck.require(
        (1..=16).contains(&c.array.cols),
        "array.cols",
        c.array.cols,
        "is the kernel taps of a sparse_1d PE row: must be between 1 and 16",
    );
    ck.require(
        (2..=256).contains(&s.row_len) && s.row_len >= c.array.cols,
        "sparse.row_len",
        s.row_len,
        &format!("must be between 2 and 256 and at least the taps (array.cols = {})", c.array.cols),
    );
    ck.range("sparse.max_dilation", s.max_dilation, 1, 64);
    ck.require(
        matches!(s.max_stride, 1 | 2 | 4),
        "sparse.max_stride",
        s.max_stride,
        "must be 1, 2 or 4 (strides are powers of two)",
    );
    if let Some(q) = s.load_lanes {
        ck.require(
            q >= 1 && q <= s.row_len,
            "sparse.load_lanes",
            q,
            &format!("must be between 1 and sparse.row_len ({})", s.row_len),
        );
    }
}

/// The system top (`crate::system`): an int8 MAC array (either dataflow) with int32 accumulators
/// whose columns are the byte lanes of the stream word, and scratchpads of sizes the RTL can address.
fn system_rules(ck: &mut Checker, c: &Config) {
    let Some(s) = c.system.as_ref() else { return };
    ck.require(
        c.pe.kind != PeKind::Sparse1d,
        "pe.kind",
        format!("\"{}\"", kind_name(c.pe.kind)),
        "[system] wraps GEMM arrays only: needs pe.kind = \"mac\" or \"sac\" (sparse 1-D rows stream their own compressed rows)",
    );
    if c.pe.kind == PeKind::Sac {
        sac_system_rules(ck, c, s);
    }
    let int8 = "must be 8 with a [system] table (the streams carry int8 lanes)";
    ck.require(c.pe.act_bits == 8, "pe.act_bits", c.pe.act_bits, int8);
    ck.require(c.pe.weight_bits == 8, "pe.weight_bits", c.pe.weight_bits, int8);
    let acc_rule = "must be 32 with a [system] table (int32 accumulators and biases)";
    match c.pe.acc_bits {
        Some(acc) => ck.require(acc == 32, "pe.acc_bits", acc, acc_rule),
        None => {
            // The default width (derive.rs), which the array would be built with.
            let derived =
                (c.pe.weight_bits + c.pe.act_bits + super::derive::clog2(c.pe.max_reduction as u64)).min(64);
            ck.require(
                derived == 32,
                "pe.acc_bits",
                format!("{derived} (derived from pe.max_reduction = {})", c.pe.max_reduction),
                &format!("{acc_rule}; set pe.acc_bits = 32"),
            );
        }
    }
    let (rows, cols) = (c.array.rows, c.array.cols);
    ck.require(rows.is_power_of_two(), "array.rows", rows, "must be a power of two with a [system] table");
    ck.require(
        matches!(cols, 4 | 8 | 16 | 32),
        "array.cols",
        cols,
        "must be 4, 8, 16 or 32 with a [system] table (the byte lanes of a stream word)",
    );
    ck.require(
        rows <= cols,
        "array.rows",
        rows,
        &format!("must be at most array.cols ({cols}) with a [system] table"),
    );
    let beat = cols.saturating_mul(8);
    ck.require(
        s.stream_bits == beat,
        "system.stream_bits",
        s.stream_bits,
        &format!("must be array.cols x 8 = {beat}: one channel vector per beat"),
    );
    ck.range("system.act_words", s.act_words, 1, 1 << 20);
    ck.range("system.weight_words", s.weight_words, 1, 1 << 20);
    ck.range("system.param_tiles", s.param_tiles, 1, 256);
    ck.require(
        s.out_words >= rows && s.out_words <= 1 << 16,
        "system.out_words",
        s.out_words,
        &format!("must be between array.rows ({rows}) and 65536 (the output FIFO holds at least one fold: R words)"),
    );
}

/// A SAC system: an activation group is one stream word (KS = C channels of one pixel), and a kneaded
/// word with its group_end and fold_end flags is one stream word of a column's weight stream.
fn sac_system_rules(ck: &mut Checker, c: &Config, s: &SystemConfig) {
    let (Some(ks), Some(encoding)) = (c.pe.kneading_stride, c.pe.encoding) else { return };
    let cols = c.array.cols;
    ck.require(
        ks == cols,
        "pe.kneading_stride",
        ks,
        &format!(
            "must equal array.cols ({cols}) with a [system] table (a kneading group is one activation word)"
        ),
    );
    if ks.is_power_of_two() && (2..=64).contains(&ks) && (2..=32).contains(&c.pe.weight_bits) {
        let positions = crate::knead::digit_positions(c.pe.weight_bits, encoding.knead()) as u32;
        let word = positions * (2 + ks.trailing_zeros()) + 2;
        ck.require(
            word <= s.stream_bits,
            "pe.encoding",
            format!("\"{}\"", encoding.knead().name()),
            &format!(
                "a kneaded word and its 2 flags take {word} bits, more than system.stream_bits ({}): use a wider array or \"sign_magnitude\"",
                s.stream_bits
            ),
        );
    }
    ck.require(
        s.weight_words < 1 << 16,
        "system.weight_words",
        s.weight_words,
        "must be at most 65535 on a SAC system (the directory holds 16-bit column lengths)",
    );
}

fn kind_name(k: PeKind) -> &'static str {
    match k {
        PeKind::Mac => "mac",
        PeKind::Sac => "sac",
        PeKind::Sparse1d => "sparse_1d",
    }
}

/// Turns a TOML parse/shape error into our one-line form: the line number, the key path (from the
/// `[table]` header above the line and the key on it) and the value written there.
pub(super) fn from_toml_error(file: &str, text: &str, e: &toml::de::Error) -> super::ConfigErrors {
    let message = e.message().trim().replace('\n', " ");
    let err = match e.span() {
        // An empty span at the start (a missing field) or one over several lines names no place.
        Some(span)
            if span.start == 0
                && text
                    .get(span.clone())
                    .is_none_or(|t| t.trim().is_empty() || t.trim_end().contains('\n')) =>
        {
            ConfigError::new(file, "", "", message)
        }
        Some(span) => {
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let line = text.lines().nth(line_no - 1).unwrap_or("");
            let table = text
                .lines()
                .take(line_no)
                .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
                .last();
            match line.split_once('=') {
                Some((key, value)) if !line.trim_start().starts_with('[') => {
                    let key = key.trim();
                    let path = table.map_or(key.to_string(), |t| format!("{}.{key}", t.trim()));
                    let value = value.split('#').next().unwrap_or("").trim();
                    ConfigError::new(&format!("{file}:{line_no}"), &path, value, message)
                }
                _ => ConfigError::new(&format!("{file}:{line_no}"), "", "", message),
            }
        }
        None => ConfigError::new(file, "", "", message),
    };
    super::ConfigErrors(vec![err])
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn system(rows: u32, cols: u32, acc: &str, sizes: &str) -> String {
        format!(
            "name = \"s\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"output_stationary\"\n\
             [pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\n{acc}\n\
             [system]\nstream_bits = {}\n{sizes}\n",
            cols * 8
        )
    }

    #[test]
    fn system_rules_accept_their_bounds() {
        let largest = "act_words = 1048576\nweight_words = 1048576\nparam_tiles = 256\nout_words = 65536";
        let smallest = "act_words = 1\nweight_words = 1\nparam_tiles = 1\nout_words = 32";
        for (rows, cols) in [(1, 4), (4, 4), (2, 8), (8, 8), (16, 16), (32, 32)] {
            for sizes in [largest, smallest] {
                let text = system(rows, cols, "acc_bits = 32", sizes);
                assert!(
                    Config::parse("t.toml", &text).is_ok(),
                    "{text}\n{:?}",
                    Config::parse("t.toml", &text)
                );
            }
        }
        // A derived accumulator of 32 bits is accepted: 8 + 8 + log2(65536).
        let derived = system(4, 4, "max_reduction = 65536", smallest);
        assert!(Config::parse("t.toml", &derived).is_ok());
        // The same sizes one past either end are rejected, one line each.
        let errs = Config::parse(
            "t.toml",
            &system(
                32,
                32,
                "acc_bits = 32",
                "act_words = 0\nweight_words = 1048577\nparam_tiles = 0\nout_words = 31",
            ),
        )
        .unwrap_err();
        let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["system.act_words", "system.weight_words", "system.param_tiles", "system.out_words"]
        );
    }

    fn sac_system(cols: u32, ks: u32, encoding: &str, weight_words: u32) -> String {
        format!(
            "name = \"s\"\n[array]\nrows = 4\ncols = {cols}\ndataflow = \"output_stationary\"\n\
             [pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\nkneading_stride = {ks}\n\
             encoding = \"{encoding}\"\n[system]\nstream_bits = {}\nact_words = 64\nweight_words = {weight_words}\n\
             param_tiles = 2\nout_words = 16\n",
            cols * 8
        )
    }

    #[test]
    fn sac_system_rules() {
        // KS = C, and the word with its flags fits the stream word: 7 x 4 + 2 = 30 <= 32; 8 x 5 + 2 = 42 <= 64
        for text in [sac_system(4, 4, "sign_magnitude", 65535), sac_system(8, 8, "csd", 1)] {
            assert!(Config::parse("t.toml", &text).is_ok(), "{text}\n{:?}", Config::parse("t.toml", &text));
        }
        let keys = |text: String| -> Vec<String> {
            Config::parse("t.toml", &text).unwrap_err().0.into_iter().map(|e| e.key).collect()
        };
        // CSD at KS = 4 is 8 x 4 + 2 = 34 bits, more than a 32-bit stream word
        assert_eq!(keys(sac_system(4, 4, "csd", 64)), ["pe.encoding"]);
        assert_eq!(keys(sac_system(8, 4, "sign_magnitude", 64)), ["pe.kneading_stride"]);
        assert_eq!(keys(sac_system(4, 4, "sign_magnitude", 65536)), ["system.weight_words"]);
    }
}
