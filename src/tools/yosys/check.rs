//! The structural check (`hierarchy -check; proc; flatten; opt; check -assert` plus a latch
//! assertion) and the parsing of a Yosys log into typed [`Problem`]s.

use super::run::{read_commands, run_script};
use super::unescape;
use anyhow::Result;
use std::fmt;
use std::path::Path;

/// One problem Yosys found in a design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `proc_dlatch` turned a combinational process into a latch: some path does not assign `signal`.
    Latch { signal: String },
    /// A net used without a declaration (Verilog's implicit wire).
    ImplicitDeclaration { location: String, identifier: String },
    /// A wire that is read but driven by nothing.
    Undriven { wire: String },
    /// A combinational loop; `path` lists the cells and wires Yosys reports on it.
    LogicLoop { module: String, path: Vec<String> },
    /// A wire with more than one driver.
    MultipleDrivers { wire: String, drivers: Vec<String> },
    /// Any other Yosys warning (with its detail lines).
    Warning(String),
    /// A Yosys error that stopped the script (syntax error, missing module, ...).
    Error(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Latch { signal } => {
                write!(
                    f,
                    "latch inferred for {signal} (a combinational block does not assign it on every path)"
                )
            }
            Problem::ImplicitDeclaration { location, identifier } => {
                write!(f, "{location}: identifier {identifier} is implicitly declared")
            }
            Problem::Undriven { wire } => write!(f, "wire {wire} is used but has no driver"),
            Problem::LogicLoop { module, path } => {
                write!(f, "combinational loop in module {module}: {}", path.join(", "))
            }
            Problem::MultipleDrivers { wire, drivers } => {
                write!(f, "multiple conflicting drivers for {wire}: {}", drivers.join(", "))
            }
            Problem::Warning(text) => write!(f, "warning: {text}"),
            Problem::Error(text) => write!(f, "error: {text}"),
        }
    }
}

/// The check script: elaborate, lower processes, flatten (so a loop through several instances is
/// seen whole), clean up, then assert that nothing is undriven, multiply driven or looped
/// (`check -assert`) and that no latch survived.
pub fn check_script(files: &[String], top: &str) -> Result<String> {
    let mut s = read_commands(files)?;
    s.push_str(&format!("hierarchy -check -top {top}\n"));
    s.push_str("proc\nflatten\nopt\ncheck -assert\n");
    s.push_str("select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr t:$_DLATCH_* t:$_SR_*\n");
    Ok(s)
}

/// Runs the Yosys structural checks on `files` (relative to `dir`) with top module `top` and
/// returns every problem found, one line each. An empty list means clean. Errors only when Yosys
/// cannot be run at all (missing, or no log); a design Yosys rejects is reported as a problem.
pub fn check(dir: &Path, files: &[String], top: &str) -> Result<Vec<String>> {
    Ok(check_problems(dir, files, top)?.iter().map(|p| p.to_string()).collect())
}

/// [`check`], typed.
pub fn check_problems(dir: &Path, files: &[String], top: &str) -> Result<Vec<Problem>> {
    let run = run_script(dir, &check_script(files, top)?, "yosys-check")?;
    let mut problems = parse_check_log(&run.log);
    if !run.success && problems.is_empty() {
        problems.push(Problem::Error(format!(
            "yosys exited with {} without reporting a problem: {}",
            run.status,
            run.stderr.trim()
        )));
    }
    Ok(problems)
}

/// Parses a Yosys log (from `-l`) into problems. Pure; never panics on unexpected text.
pub fn parse_check_log(log: &str) -> Vec<Problem> {
    let lines: Vec<&str> = log.lines().collect();
    let mut problems = Vec::new();
    let mut latch_assert_cells: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        i += 1;
        // Detail lines that follow a warning or error ("    cell $and...", "    module input a[0]").
        let details = |i: &mut usize| {
            let mut out = Vec::new();
            while *i < lines.len() && lines[*i].starts_with(' ') && !lines[*i].trim().is_empty() {
                out.push(lines[*i].trim().to_string());
                *i += 1;
            }
            out
        };
        if let Some(rest) = line.strip_prefix("Latch inferred for signal ") {
            // Latch inferred for signal `\lat.\q' from process `...': $auto$proc_dlatch...
            let signal = first_quoted(rest).map(unescape).unwrap_or_else(|| rest.to_string());
            problems.push(Problem::Latch { signal });
        } else if let Some(pos) = line.find("Warning: ") {
            let location = line[..pos].trim_end().trim_end_matches(':').to_string();
            let msg = line[pos + "Warning: ".len()..].trim();
            let extra = details(&mut i);
            problems.push(classify_warning(&location, msg, extra));
        } else if let Some(pos) = line.find("ERROR: ") {
            let location = line[..pos].trim_end().trim_end_matches(':').to_string();
            let msg = line[pos + "ERROR: ".len()..].trim();
            if msg.starts_with("Found ") && msg.contains("problems in 'check") {
                // The summary of `check -assert`; its problems were reported as warnings above.
                continue;
            }
            if msg.starts_with("Assertion failed: selection is not empty") && msg.contains("dlatch") {
                // "Selection contains:" then one `module/cell` per line.
                while i < lines.len() {
                    let l = lines[i].trim();
                    if l.is_empty()
                        || l.starts_with("End of script")
                        || l.contains("ERROR")
                        || l.starts_with("Warnings:")
                    {
                        break;
                    }
                    if l != "Selection contains:" {
                        latch_assert_cells.push(unescape(l));
                    }
                    i += 1;
                }
                continue;
            }
            let text = if location.is_empty() { msg.to_string() } else { format!("{location}: {msg}") };
            problems.push(Problem::Error(text));
        }
    }
    // The latch assertion is a backstop: report its cells only if proc_dlatch said nothing.
    if !problems.iter().any(|p| matches!(p, Problem::Latch { .. })) {
        for cell in latch_assert_cells {
            problems.push(Problem::Latch { signal: format!("cell {cell}") });
        }
    }
    dedup_keep_order(merge_undriven_bits(problems))
}

/// Yosys reports an undriven bus bit by bit (`acc4.gain [3]`, `acc4.gain [2]`, ...); report one
/// problem per wire with its bits (`acc4.gain[3:0]`, or `acc4.gain[5,2]` when not contiguous).
fn merge_undriven_bits(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    let mut bits: Vec<(String, Vec<u64>)> = Vec::new(); // per base wire, in first-seen order
    let mut slot: Vec<Option<usize>> = Vec::new(); // per out entry: index into `bits`
    for p in problems {
        if let Problem::Undriven { wire } = &p {
            if let Some((base, bit)) = split_bit(wire) {
                if let Some(i) = bits.iter().position(|(b, _)| *b == base) {
                    bits[i].1.push(bit);
                } else {
                    bits.push((base, vec![bit]));
                    out.push(p);
                    slot.push(Some(bits.len() - 1));
                }
                continue;
            }
        }
        out.push(p);
        slot.push(None);
    }
    for (p, s) in out.iter_mut().zip(slot) {
        if let Some(i) = s {
            let (base, mut b) = bits[i].clone();
            b.sort_unstable_by(|x, y| y.cmp(x));
            b.dedup();
            let contiguous = b.windows(2).all(|w| w[0] == w[1] + 1);
            let sel = if b.len() == 1 {
                format!("[{}]", b[0])
            } else if contiguous {
                format!("[{}:{}]", b[0], b[b.len() - 1])
            } else {
                format!("[{}]", b.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","))
            };
            *p = Problem::Undriven { wire: format!("{base}{sel}") };
        }
    }
    out
}

/// `acc4.gain [3]` -> (`acc4.gain`, 3).
fn split_bit(wire: &str) -> Option<(String, u64)> {
    let open = wire.rfind('[')?;
    let bit = wire[open + 1..].strip_suffix(']')?.trim().parse().ok()?;
    Some((wire[..open].trim_end().to_string(), bit))
}

fn classify_warning(location: &str, msg: &str, details: Vec<String>) -> Problem {
    if let Some(rest) = msg.strip_prefix("Identifier ") {
        if msg.ends_with("is implicitly declared.") {
            let identifier = first_quoted(rest).map(unescape).unwrap_or_else(|| rest.to_string());
            return Problem::ImplicitDeclaration { location: location.to_string(), identifier };
        }
    }
    if let Some(rest) = msg.strip_prefix("Wire ") {
        if let Some(wire) = rest.strip_suffix(" is used but has no driver.") {
            return Problem::Undriven { wire: unescape(wire) };
        }
    }
    if let Some(rest) = msg.strip_prefix("found logic loop in module ") {
        let module = unescape(rest.trim_end_matches(':'));
        return Problem::LogicLoop { module, path: details.iter().map(|d| unescape(d)).collect() };
    }
    if let Some(rest) = msg.strip_prefix("multiple conflicting drivers for ") {
        let wire = unescape(rest.trim_end_matches(':'));
        return Problem::MultipleDrivers { wire, drivers: details.iter().map(|d| unescape(d)).collect() };
    }
    let mut text = if location.is_empty() { msg.to_string() } else { format!("{location}: {msg}") };
    for d in details {
        text.push_str(" | ");
        text.push_str(&d);
    }
    Problem::Warning(text)
}

/// The text between the first `` ` `` and the following `'` (Yosys's quoting), if any.
fn first_quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('\'')?;
    Some(&s[start..start + len])
}

fn dedup_keep_order(items: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::with_capacity(items.len());
    for p in items {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Warning lines of a Yosys log, one per warning (detail lines joined with ` | `).
pub fn log_warnings(log: &str) -> Vec<String> {
    parse_check_log(log)
        .into_iter()
        .filter(|p| !matches!(p, Problem::Error(_)))
        .map(|p| p.to_string())
        .collect()
}
