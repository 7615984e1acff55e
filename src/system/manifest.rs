//! The system section of manifest.json: what a driver (or a script) needs to use `<name>_system`
//! without reading its Verilog: ports, registers, descriptor, flags, error codes, stream word
//! layouts, the requantization arithmetic and what runs and errors do. Every table is read from this
//! module's siblings; the prose follows the interface spec of issue 9. A SAC system's weights are
//! kneaded per-column streams ([`super::kneaded`]): its `layouts.weights` describes them, with every
//! number of the format in `layouts.weights.sac`.

use super::descriptor::{FIELDS, FLAG_LAST, FLAG_LOAD_WEIGHTS, FLAG_RELU, OP_CONV2D};
use super::kneaded::{SacBits, SacSystem, DIRECTORY_WORDS};
use super::regs::{ADDR_BITS, CTRL_DONE, CTRL_IDLE, CTRL_START, ID_VALUE, REGISTERS};
use super::{JobError, SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
use crate::config::Dataflow;
use serde_json::{json, Value};

/// Ports of `<top>` in declaration order (the table in `ports.rs`).
fn ports(sp: &SystemParams) -> Vec<Value> {
    super::ports::ports(sp)
        .iter()
        .map(|p| json!({"name": p.name, "direction": p.direction.name(), "width": p.width, "meaning": p.meaning}))
        .collect()
}

fn bit(name: &str, mask: u32, meaning: &str) -> Value {
    json!({"name": name, "bit": mask.trailing_zeros(), "mask": mask, "meaning": meaning})
}

/// The weight layout of a MAC system: int8 words, C output channels per word.
fn mac_weights() -> Value {
    json!({
        "tensor": "OHWI int8 w[co][ky][kx][ci]",
        "words": "NT x K",
        "word": "nt * K + k, k = ((ky * kw + kx) * CB + cb) * C + i",
        "lane": "lane c = w[nt*C + c][ky][kx][cb*C + i] (0 past out_c or in_c)",
    })
}

/// The weight layout of a SAC system: a directory and one kneaded stream per array column; every bit
/// position read off the Rust packing (`SlotLayout::pack_slot`, `SacSystem::flags`).
fn sac_weights(sac: &SacSystem) -> Value {
    let layout = sac.knead.layout();
    let SacBits { slot_valid: valid, slot_negative: negative, slot_index_lsb: index, group_end, fold_end } =
        sac.bits();
    let index_bits = match layout.index_bits {
        0 => "none (KS = 1)".to_string(),
        n => format!("{}:{index}", index + n - 1),
    };
    json!({
        "format": "kneaded per-column streams (SAC)",
        "tensor": format!("OHWI int8 w[co][ky][kx][ci], each in -{0}..{0} (a sign and a {1}-bit magnitude: -{2} is not representable)", sac.knead.qmax(), sac.knead.bits - 1, sac.knead.qmax() + 1),
        "words": format!("{DIRECTORY_WORDS} + L_0 + ... + L_(C-1)"),
        "order": format!("the directory ({DIRECTORY_WORDS} words), then column 0's L_0 stream words, column 1's, ..., column C-1's; one stream word per frame word, little-endian (bytes above the stream word are 0)"),
        "directory": {
            "words": DIRECTORY_WORDS,
            "lane": format!("lane c of directory word j = bits 8j+7:8j of L_c, the number of stream words of column c ({} bits; 1..=weight_words)", 8 * DIRECTORY_WORDS),
        },
        "stream": "column c: for each output-channel tile nt, for each reduction group g = (ky * kw + kx) * CB + cb, the kneaded words of the KS = C weights w[nt*C + c][ky][kx][cb*C + i], i = 0..C-1 (0 past out_c or in_c); an all-zero group is one empty word",
        "kneading": format!("{} digits of each weight; per digit position p, the group's digits at p in increasing index i; word j takes the j-th digit of every position (an empty slot, all zeros, where a position has fewer); a group has as many words as its most populated position", sac.knead.encoding.name()),
        "encoding": match sac.knead.encoding {
            crate::knead::Encoding::SignMagnitude => "sign_magnitude: the 1-bits of |w|, each with the sign of w",
            crate::knead::Encoding::Csd => "csd: the non-adjacent form of w (while n != 0: if n is odd, digit d = 2 - (n mod 4) at the current position and n -= d; n /= 2)",
        },
        "stream_word": [
            {"name": "kneaded word", "bits": format!("{}:0", sac.word_bits - 1), "meaning": format!("{} slots of {} bits, slot p at bits p * {} (the digit of weight 2^p)", sac.positions, sac.slot_bits, sac.slot_bits)},
            {"name": "group_end", "bit": group_end, "meaning": "the group's last word"},
            {"name": "fold_end", "bit": fold_end, "meaning": "the last word of the tile's last group (a group_end word)"},
        ],
        "slot": [
            {"name": "valid", "bit": valid, "meaning": "the slot holds a digit (an empty slot is all zeros)"},
            {"name": "negative", "bit": negative, "meaning": "the digit is -1 (else +1)"},
            {"name": "index", "bits": index_bits, "meaning": "which weight (activation) i of the group the digit belongs to"},
        ],
        "sac": {
            "ks": sac.knead.ks,
            "encoding": sac.knead.encoding.name(),
            "weight_bits": sac.knead.bits,
            "weight_max": sac.knead.qmax(),
            "positions": sac.positions,
            "index_bits": layout.index_bits,
            "slot_bits": sac.slot_bits,
            "word_bits": sac.word_bits,
            "group_end_bit": group_end,
            "fold_end_bit": fold_end,
            "stream_word_bits": sac.stream_word_bits(),
            "directory_words": DIRECTORY_WORDS,
            "length_bits": 8 * DIRECTORY_WORDS,
            "act_groups": sac.act_groups,
        },
    })
}

/// The system section of manifest.json for the top `sp.top`.
pub fn system_manifest(sp: &SystemParams) -> Value {
    let c = sp.cols;
    let registers: Vec<Value> = REGISTERS
        .iter()
        .map(|r| {
            json!({"name": r.name, "offset": r.offset, "offset_hex": format!("0x{:02X}", r.offset),
                   "access": r.access, "meaning": r.meaning})
        })
        .collect();
    let errors: Vec<Value> = JobError::ALL
        .iter()
        .map(|e| json!({"code": e.code(), "name": e.name(), "meaning": e.meaning()}))
        .collect();
    let sac = sp.sac.as_ref();
    let (error_order, error_semantics, input_words) = match sac {
        None => (
            "the loader checks codes 1-6 on each descriptor in this order, then the frame's tlast (7); the first failure is the job's error",
            "the loader checks each descriptor (codes 1-6 in order) and the frame's tlast (7)",
            "desc_words + (LOAD_WEIGHTS ? param_words + weight_words : 0) + act_words".to_string(),
        ),
        Some(_) => (
            "the loader checks codes 1-6 on each descriptor in this order (4, WEIGHT_OVERFLOW, not on the descriptor: on the directory), then, with LOAD_WEIGHTS, the directory (4: a column length over weight_words, else 8: a column length of 0) and every column stream word's group_end/fold_end flags (8), and the frame's tlast (7) on every beat; the first failure is the job's error",
            "the loader checks each descriptor (codes 1-6 in order), the directory (4, 8), each column stream word's flags (8) and the frame's tlast (7)",
            format!("desc_words + (LOAD_WEIGHTS ? param_words + {DIRECTORY_WORDS} + L_0 + ... + L_(C-1) : 0) + act_words"),
        ),
    };
    json!({
        "top": sp.top,
        "parameters": sp,
        "ports": ports(sp),
        "axi_lite": {
            "address_bits": ADDR_BITS,
            "data_bits": 32,
            "write": "accepted at an edge where awvalid & wvalid & !bvalid (awready = wready = that condition, both channels together); bvalid rises after it and falls at the edge bready is 1; wstrb is ignored (full-word writes); bresp is always OKAY",
            "read": "accepted at an edge where arvalid & !rvalid (arready = !rvalid); rdata is latched at that edge; rvalid falls at the edge rready is 1; rresp is always OKAY",
        },
        "registers": registers,
        "register_bits": {
            "CTRL": [
                bit("START", CTRL_START, "write 1 to start a run when idle; reads 1 while a run is in progress"),
                bit("DONE", CTRL_DONE, "1 once a run has finished; cleared when CTRL is read and when a run starts"),
                bit("IDLE", CTRL_IDLE, "1 when no run is in progress"),
            ],
            "GIE": [bit("ENABLE", 1, "global interrupt enable")],
            "IER": [bit("DONE", 1, "enable the run-done interrupt")],
            "ISR": [bit("DONE", 1, "a run finished while IER.0 was 1; write 1 to clear")],
        },
        "id_value": ID_VALUE,
        "array_value": (sp.cols << 16) | sp.rows,
        "engine": {
            "dataflow": match sp.dataflow {
                Dataflow::OutputStationary => "output_stationary",
                Dataflow::WeightStationary => "weight_stationary",
            },
            "acc_depth": (sp.dataflow == Dataflow::WeightStationary).then_some(sp.acc_depth),
            "schedule": sp.schedule(),
        },
        "descriptor": {
            "bytes": DESCRIPTOR_BYTES,
            "words": sp.desc_words,
            "byte_order": "little-endian fields; descriptor byte b is lane b % C of the frame's word b / C",
            "reserved": "bytes not covered by a field (3, 24..31) are written 0 and ignored",
            "fields": FIELDS,
        },
        "opcodes": [{"name": "CONV2D", "value": OP_CONV2D,
                     "meaning": "a 2-D convolution; a GEMM (M x K) x (K x N) is a 1x1 convolution over a 1 x M image with in_c = K, out_c = N"}],
        "flags": [
            bit("RELU", FLAG_RELU as u32, "clamp results below the output zero point to it"),
            bit("LOAD_WEIGHTS", FLAG_LOAD_WEIGHTS as u32, "the frame carries requantization records and weights; else the job reuses the last loaded ones, which must have the same ceil(out_c/C) and kh x kw x ceil(in_c/C)"),
            bit("LAST", FLAG_LAST as u32, "the last job of the run: the loader takes no beat after its frame"),
        ],
        "errors": {
            "none": 0,
            "order": error_order,
            "codes": errors,
        },
        "streams": {
            "word_bits": sp.stream_bits,
            "word_bytes": sp.word_bytes(),
            "lanes": "a word is C bytes: byte (lane) c in tdata bits [8c+7:8c], an int8 value of channel (block * C + c)",
            "input": format!(
                "frames, one per job: the descriptor ({} words), then if flags.LOAD_WEIGHTS the requantization records ({PARAM_WORDS_PER_TILE} words per output-channel tile) and the weights, then the activations; tlast on the frame's last word and nowhere else",
                sp.desc_words
            ),
            "input_words": input_words,
            "output": "per job, ceil(out_c/C) x out_h x out_w words (tile-major, then pixel), tlast on each job's last word; the output layout is the activation layout of the next layer (no host arithmetic)",
        },
        "layouts": {
            "notation": format!("C = {c} (array columns, lanes per word), CB = ceil(in_c/C) input-channel blocks, NT = ceil(out_c/C) output-channel tiles, K = kh x kw x CB x C reduction length"),
            "activations": {
                "tensor": "HWC int8 x[iy][ix][ci]",
                "words": "CB x in_h x in_w",
                "word": "cb * in_h * in_w + iy * in_w + ix",
                "lane": "lane c = x[iy][ix][cb*C + c] (0 past in_c)",
                "order": "blocks of C channels, each a whole plane (the output layout)",
            },
            "weights": sac.map_or_else(mac_weights, sac_weights),
            "params": {
                "tensor": "one 64-bit little-endian requantization record per output channel",
                "words": format!("NT x {PARAM_WORDS_PER_TILE}"),
                "word": format!("nt * {PARAM_WORDS_PER_TILE} + j"),
                "lane": "lane c = byte j of the record of channel nt*C + c (0 past out_c)",
                "record": [
                    {"name": "bias", "bits": "31:0", "type": "int32"},
                    {"name": "mult", "bits": "47:32", "type": "uint16"},
                    {"name": "shift", "bits": "53:48", "type": "uint6 (0..63)"},
                ],
            },
            "outputs": {
                "tensor": "HWC int8 y[oy][ox][co]",
                "words": "NT x out_h x out_w",
                "word": "nt * out_h * out_w + oy * out_w + ox",
                "lane": "lane c = y[oy][ox][nt*C + c]; lanes past out_c carry the requantization of a zero record (the zero point, clamped)",
            },
        },
        "requantization": {
            "per_channel": "record: bias int32, mult uint16, shift 0..63",
            "per_job": "out_zp int8 (descriptor), RELU (flags bit 0)",
            "steps": [
                "sum  = acc + bias   (acc: the exact int32 dot product; sum exact, 33 bits)",
                "prod = sum * mult   (exact, signed)",
                "q    = shift == 0 ? prod : (prod + 2^(shift-1)) >> shift   (arithmetic shift: round half up)",
                "v    = q + out_zp; if RELU: v = max(v, out_zp); y = clamp(v, -128, 127)",
            ],
            "reference": "out[oy][ox][co] = requant(sum over ky, kx, ci of x[oy*stride_h + ky*dil_h - pad_top][ox*stride_w + kx*dil_w - pad_left][ci] * w[co][ky][kx][ci]); inputs outside the image are 0",
        },
        "semantics": {
            "run_start": "a run starts at the edge a write of CTRL with bit 0 = 1 is accepted while idle (ERROR, ERROR_JOB, JOBS_DONE, CYCLES and DONE are cleared at that edge); s_axis_tready can be 1 from the next edge on",
            "jobs": "jobs run in order; the loader fills one bank while the engine computes the previous job from the other",
            "run_end": "a frame with flags.LAST ends the run: the loader takes no beat after it; the run ends (CTRL.DONE = 1, CTRL.IDLE = 1, ISR.0 set if IER.0) when every accepted job's last output beat has left",
            "errors": format!("{error_semantics}; on an error it records ERROR (first error only) and ERROR_JOB, discards beats up to and including the frame's tlast (if that beat has not come yet), takes no more frames, and the run ends when the jobs accepted before have left"),
            "irq": "level interrupt output: GIE.0 & ISR.0",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn params() -> SystemParams {
        let text = "name = \"m\"\n[array]\nrows = 8\ncols = 8\ndataflow = \"output_stationary\"\n\
                    [pe]\nkind = \"mac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\n\
                    [system]\nstream_bits = 64\nact_words = 4096\nweight_words = 8192\nparam_tiles = 16\nout_words = 512\n";
        SystemParams::of(&Config::parse("t.toml", text).unwrap()).unwrap()
    }

    #[test]
    fn holds_every_register_error_code_field_and_flag() {
        let m = system_manifest(&params());
        assert_eq!(m["top"], "m_system");
        let regs = m["registers"].as_array().unwrap();
        assert_eq!(regs.len(), REGISTERS.len());
        for (got, r) in regs.iter().zip(REGISTERS) {
            assert_eq!((got["name"].as_str(), got["offset"].as_u64()), (Some(r.name), Some(r.offset as u64)));
            assert_eq!(got["meaning"], r.meaning);
        }
        let codes = m["errors"]["codes"].as_array().unwrap();
        assert_eq!(codes.len(), JobError::ALL.len());
        for e in JobError::ALL {
            assert!(
                codes
                    .iter()
                    .any(|c| c["code"] == e.code() && c["name"] == e.name() && c["meaning"] == e.meaning()),
                "{}",
                e.name()
            );
        }
        let fields = m["descriptor"]["fields"].as_array().unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, FIELDS.iter().map(|f| f.name).collect::<Vec<_>>());
        let flags: Vec<u64> =
            m["flags"].as_array().unwrap().iter().map(|f| f["mask"].as_u64().unwrap()).collect();
        assert_eq!(flags, [FLAG_RELU as u64, FLAG_LOAD_WEIGHTS as u64, FLAG_LAST as u64]);
        assert_eq!(m["id_value"], ID_VALUE);
        assert_eq!(m["descriptor"]["words"], 4);
    }

    fn sac_params(ks: usize, encoding: &str, stream_bits: u32) -> SystemParams {
        let text = format!(
            "name = \"k\"\n[array]\nrows = 4\ncols = {ks}\ndataflow = \"output_stationary\"\n\
             [pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nacc_bits = 32\nkneading_stride = {ks}\n\
             encoding = \"{encoding}\"\n[system]\nstream_bits = {stream_bits}\nact_words = 1024\n\
             weight_words = 2048\nparam_tiles = 16\nout_words = 256\n"
        );
        SystemParams::of(&Config::parse("t.toml", &text).unwrap()).unwrap()
    }

    /// A SAC system's weights section gives the kneaded stream format and its numbers (KS = 4,
    /// sign-magnitude int8: 7 slots of 2 + 2 bits, a 28-bit word, flags at 28 and 29; KS = 8 CSD: 8
    /// slots of 5 bits, 40 bits, flags at 40 and 41); a MAC system's is the plain word layout.
    #[test]
    fn a_sac_system_describes_its_kneaded_weight_streams() {
        for (ks, encoding, stream_bits, positions, slot_bits, word_bits) in
            [(4, "sign_magnitude", 32, 7, 4, 28), (8, "csd", 64, 8, 5, 40)]
        {
            let sp = sac_params(ks, encoding, stream_bits);
            let m = system_manifest(&sp);
            let w = &m["layouts"]["weights"];
            let n = &w["sac"];
            assert_eq!(n["ks"], ks);
            assert_eq!(n["encoding"], encoding);
            assert_eq!((n["weight_bits"].as_u64(), n["weight_max"].as_u64()), (Some(8), Some(127)));
            assert_eq!(n["positions"], positions);
            assert_eq!(n["index_bits"], ks.trailing_zeros());
            assert_eq!(
                (n["slot_bits"].as_u64(), n["word_bits"].as_u64()),
                (Some(slot_bits), Some(word_bits))
            );
            assert_eq!(
                (n["group_end_bit"].as_u64(), n["fold_end_bit"].as_u64()),
                (Some(word_bits), Some(word_bits + 1))
            );
            assert_eq!(n["stream_word_bits"], word_bits + 2);
            assert_eq!((n["directory_words"].as_u64(), n["length_bits"].as_u64()), (Some(2), Some(16)));
            assert_eq!(w["directory"]["words"], 2);
            let field = |list: &str, name: &str| {
                w[list].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap().clone()
            };
            assert_eq!(field("stream_word", "kneaded word")["bits"], format!("{}:0", word_bits - 1));
            assert_eq!(field("stream_word", "group_end")["bit"], word_bits);
            assert_eq!(field("stream_word", "fold_end")["bit"], word_bits + 1);
            assert_eq!(field("slot", "valid")["bit"], 0);
            assert_eq!(field("slot", "negative")["bit"], 1);
            assert_eq!(field("slot", "index")["bits"], format!("{}:2", 1 + ks.trailing_zeros()));
            assert!(w["tensor"].as_str().unwrap().contains("-128 is not representable"));
            assert!(w["encoding"].as_str().unwrap().starts_with(encoding));
            assert!(m["errors"]["order"].as_str().unwrap().contains("directory"));
            assert!(m["streams"]["input_words"].as_str().unwrap().contains("L_0"));
            assert_eq!(m["errors"]["codes"].as_array().unwrap().len(), JobError::ALL.len());
            assert!(m["errors"]["codes"].as_array().unwrap().iter().any(|c| c["name"] == "BAD_STREAM"));
        }
        let mac = system_manifest(&params());
        assert_eq!(mac["layouts"]["weights"]["words"], "NT x K");
        assert!(mac["layouts"]["weights"].get("sac").is_none());
    }

    #[test]
    fn ports_have_the_stream_and_axi_lite_widths() {
        let m = system_manifest(&params());
        let ports = m["ports"].as_array().unwrap();
        let width = |name: &str| ports.iter().find(|p| p["name"] == name).unwrap()["width"].as_u64().unwrap();
        assert_eq!((width("s_axis_tdata"), width("m_axis_tdata")), (64, 64));
        assert_eq!((width("s_axi_awaddr"), width("s_axi_araddr")), (6, 6));
        assert_eq!((width("s_axi_wdata"), width("s_axi_rdata"), width("s_axi_wstrb")), (32, 32, 4));
        let mut names: Vec<&str> = ports.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), 28);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 28, "no port twice");
        assert!(ports.iter().all(|p| p["direction"] == "input" || p["direction"] == "output"));
    }
}
