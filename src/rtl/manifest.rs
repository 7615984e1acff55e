//! manifest.json: what a user (or a script) needs to drive the generated top without reading it.

use crate::config::{Config, Params, FORMAT_VERSION};
use crate::interface::Interface;
use anyhow::Result;
use serde_json::json;

pub fn manifest(config: &Config, p: &Params, files: &[(String, String)]) -> Result<String> {
    let iface = Interface::of(p);
    let mut ports = vec![
        json!({"name": "clk", "direction": "input", "width": 1, "meaning": "clock; everything updates on its rising edge"}),
        json!({"name": "rst", "direction": "input", "width": 1, "meaning": "synchronous reset, active high"}),
    ];
    for ch in &iface.inputs {
        ports.push(json!({"name": ch.valid, "direction": "input", "width": 1, "meaning": format!("channel {}: a beat is offered", ch.name)}));
        if let Some(ready) = &ch.ready {
            ports.push(json!({"name": ready, "direction": "output", "width": 1, "meaning": format!("channel {}: the beat is taken at this edge if valid is 1", ch.name)}));
        }
        for f in &ch.fields {
            ports.push(json!({"name": f.port, "direction": "input", "width": f.width(), "lanes": f.lanes, "lane_bits": f.lane_bits, "encoding": f.encoding, "signed": f.is_signed(), "meaning": f.meaning}));
        }
    }
    ports.push(json!({"name": iface.output.valid, "direction": "output", "width": 1, "meaning": "an output beat leaves at this edge"}));
    for f in &iface.output.fields {
        ports.push(json!({"name": f.port, "direction": "output", "width": f.width(), "lanes": f.lanes, "lane_bits": f.lane_bits, "encoding": f.encoding, "signed": f.is_signed(), "meaning": f.meaning}));
    }
    let mut doc = json!({
        "format_version": FORMAT_VERSION,
        "generator": format!("accelc {}", env!("CARGO_PKG_VERSION")),
        "name": config.name,
        "top": p.name,
        "files": files.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "config": config,
        "parameters": p,
        "ports": ports,
        "channels": {"inputs": iface.inputs, "output": iface.output},
        "protocol": iface.protocol,
        "arithmetic": format!(
            "A is signed {}-bit, B signed {}-bit; each product is exact ({} bits) and sums wrap modulo 2^{} (two's complement, no saturation).",
            p.act_bits, p.weight_bits, p.prod_bits, p.acc_bits
        ),
    });
    if let Some(sp) = crate::system::SystemParams::of(config) {
        // The system top: the ports, registers, descriptor and stream layouts a host needs.
        doc["system"] = crate::system::manifest::system_manifest(&sp);
    }
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}
