//! Comparing what the RTL did with what the model says: every input beat's taken edge, every
//! output beat's leaving edge and bits, the number of beats, and how the run ended.

use super::format::Trace;
use crate::interface::Interface;

/// The differences between the model's trace and the RTL's. Each entry is one mismatching beat
/// (or a missing/extra one, or a timeout), in words.
pub fn compare(iface: &Interface, expected: &Trace, got: &Trace) -> Vec<String> {
    let mut diffs = Vec::new();
    if got.status != "done" {
        diffs.push(format!("run ended with `{}` after {} edges (cycle limit)", got.status, got.edges));
    }
    for (c, ch) in iface.inputs.iter().enumerate() {
        let want = &expected.taken[c];
        let have: &[u64] = got.taken.get(c).map_or(&[], |v| v.as_slice());
        for (i, &e) in want.iter().enumerate() {
            match have.get(i) {
                Some(&h) if h == e => {}
                Some(&h) => diffs.push(format!("{} beat {i}: taken at edge {h}, model {e}", ch.name)),
                None => diffs.push(format!("{} beat {i}: never taken, model edge {e}", ch.name)),
            }
        }
        if have.len() > want.len() {
            diffs.push(format!("{}: {} beats taken, only {} offered", ch.name, have.len(), want.len()));
        }
    }
    let names: Vec<&str> = iface.output.fields.iter().map(|f| f.port.as_str()).collect();
    for i in 0..expected.outputs.len().max(got.outputs.len()) {
        match (expected.outputs.get(i), got.outputs.get(i)) {
            (Some((we, wf)), Some((ge, gf))) => {
                let mut what = Vec::new();
                if we != ge {
                    what.push(format!("left at edge {ge}, model {we}"));
                }
                for (f, (w, g)) in wf.iter().zip(gf).enumerate() {
                    let lanes: Vec<String> = w
                        .iter()
                        .zip(g)
                        .enumerate()
                        .filter(|(_, (a, b))| a != b)
                        .map(|(l, (a, b))| format!("lane {l} = {b}, model {a}"))
                        .collect();
                    if !lanes.is_empty() {
                        what.push(format!("{}: {}", names[f], lanes.join(", ")));
                    }
                }
                if !what.is_empty() {
                    diffs.push(format!("out beat {i} (model edge {we}): {}", what.join("; ")));
                }
            }
            (Some((we, wf)), None) => {
                diffs.push(format!("out beat {i}: missing (model edge {we}, lanes {wf:?})"))
            }
            (None, Some((ge, gf))) => diffs.push(format!("out beat {i}: extra, at edge {ge}, lanes {gf:?}")),
            (None, None) => unreachable!(),
        }
    }
    diffs
}
