//! SCALE-Sim topology files as workloads: a conv topology (`Layer name, IFMAP Height, IFMAP Width,
//! Filter Height, Filter Width, Channels, Num Filter, Strides,`) or a GEMM topology (`Layer, M, N, K,`),
//! each row turned into the GEMM the array runs. As in SCALE-Sim, the IFMAP dimensions already include
//! any padding: a conv layer is M = out_h * out_w output pixels with out = (ifmap - filter) / stride + 1,
//! K = filter_h * filter_w * channels, N = num_filter.

use crate::error::BadInput;
use anyhow::Result;
use std::path::Path;

/// One layer of a topology as a GEMM C[MxN] = A[MxK] . B[KxN].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemmShape {
    pub name: String,
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

fn bad(file: &str, line: usize, what: String) -> anyhow::Error {
    BadInput(format!("{file}:{line}: {what}")).into()
}

/// Reads a SCALE-Sim topology file (conv or GEMM, told apart by the header).
pub fn read_topology(path: &Path) -> Result<Vec<GemmShape>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| BadInput(format!("{file}: cannot read: {e}")))?;
    parse_topology(&file, &text)
}

/// Parses topology text; `file` names the source in error messages (`file:line: problem`).
pub fn parse_topology(file: &str, text: &str) -> Result<Vec<GemmShape>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad(file, 1, "empty topology file".into()))?;
    let columns: Vec<String> =
        header.split(',').map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect();
    let gemm = match columns.len() {
        4 if columns[1] == "m" && columns[2] == "n" && columns[3] == "k" => true,
        8 if columns[1].starts_with("ifmap") => false,
        _ => {
            return Err(bad(
                file,
                1,
                format!(
                    "header {header:?}: expected SCALE-Sim's conv columns (Layer name, IFMAP Height, IFMAP Width, \
                     Filter Height, Filter Width, Channels, Num Filter, Strides) or GEMM columns (Layer, M, N, K)"
                ),
            ))
        }
    };
    let mut shapes = Vec::new();
    for (index, line) in lines {
        let no = index + 1;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let values = &fields[1..];
        let wanted = if gemm { 3 } else { 7 };
        if values.iter().filter(|v| !v.is_empty()).count() != wanted {
            return Err(bad(file, no, format!("expected a name and {wanted} numbers, got {line:?}")));
        }
        let numbers: Vec<usize> = values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| v.parse::<usize>().ok().filter(|&n| n > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| bad(file, no, format!("every size must be a positive integer: {line:?}")))?;
        let name = fields[0].to_string();
        let shape = if gemm {
            GemmShape { name, m: numbers[0], n: numbers[1], k: numbers[2] }
        } else {
            let [ih, iw, fh, fw, channels, filters, stride] = numbers[..] else { unreachable!("7 numbers") };
            if fh > ih || fw > iw {
                return Err(bad(file, no, format!("filter {fh}x{fw} is larger than the ifmap {ih}x{iw}")));
            }
            let (oh, ow) = ((ih - fh) / stride + 1, (iw - fw) / stride + 1);
            GemmShape { name, m: oh * ow, n: filters, k: fh * fw * channels }
        };
        shapes.push(shape);
    }
    if shapes.is_empty() {
        return Err(bad(file, 2, "no layers after the header".into()));
    }
    Ok(shapes)
}
