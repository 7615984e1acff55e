//! Energy of a compiled network's accelerator layers on a system top: counted actions times the
//! per-action energies of [`EnergyTable`] (Horowitz, ISSCC 2014, 45 nm; every figure and its source
//! in `energy/table.rs`). The counts come from the jobs the host sends for one inference (the layer's
//! descriptors, the ones `run::run` plans) and the layer's int8 weights, following the engines of
//! `model::system` (`os_core`, `ws_core`, `sac_core`, `fetcher`). Per job of shape `s`
//! (`Descriptor::shape`), R x C array, `taps` = the activation words the im2col addressing reads for
//! one pass over the output pixels (padding and pixels past the end are zero words, not read):
//!
//! - **Array**, MAC output-stationary: `nt mt kwords C` beats, each R x C (8 x 8-bit multiply +
//!   32-bit add), pixel-padding lanes included (the hardware computes them).
//!   MAC weight-stationary: `nt pixels K / R` beats of R x C MACs; the accumulator buffer (SRAM, C x
//!   32 bits a word) is read, added into (C 32-bit adds) and written on every beat but a block's
//!   first fold (read) and last fold (write): `nt pixels (K/R - 1)` words each way.
//!   SAC: the kneaded work. Every valid slot at digit position p of a column's kneaded stream
//!   (`system::kneaded::column_streams`, i.e. every essential bit of the weights in the system's
//!   encoding) makes each of the R rows add or subtract an activation into its (acc_bits - p)-bit
//!   segment, once per pixel tile; each fold ends with positions - 1 acc_bits-bit tree adds per PE.
//! - **Scratchpads** (SRAM, priced per bit): the loader writes the activations (`act_words`), the
//!   records (`param_words`) and, with LOAD_WEIGHTS, the weights (MAC: `weight_words` of C bytes; SAC:
//!   the column streams' words of `stream_word_bits`). The engine reads activations (`nt taps`
//!   words; WS: `nt taps C / R`, one read per fold of R reduction indices), weights (OS: one word a
//!   beat; WS: K words per block of `acc_depth` pixels; SAC: every column's stream once per pixel
//!   tile) and the records (8 words a tile). Every output word is written to and read from the
//!   output FIFO.
//! - **Streams**: every frame word in (descriptor, records, weights or the SAC directory and column
//!   streams, activations) and every output word out, C bytes each.
//!
//! Prices (`EnergyTable::horowitz_45nm`): a MAC is an 8 x 8-bit multiply (3.1 pJ x 64 / 1024 =
//! 0.194 pJ) and a 32-bit add (0.1 pJ); a w-bit add 0.1 x w / 32 pJ; an SRAM bit read or written and a
//! stream bit 10 / 64 pJ (an 8 KB SRAM's 64-bit read, 10 pJ; writes taken equal to reads and stream
//! bits priced as the producer's or consumer's SRAM access: the table's stated assumptions).
//!
//! Not counted: registers (pipeline, skew, accumulators, the SAC activation ring), the requantizer,
//! control, clock tree and static (leakage) energy; the host steps. Every SRAM is priced at the 8 KB
//! figure whatever its size: the system banks are larger (8 x 8 MAC presets: 32 KB activation and
//! 64 KB weight banks; Horowitz gives 20 pJ a 64-bit read for 32 KB), so scratchpad energy is
//! underpriced by up to ~2x, and the WS accumulator buffer (acc_depth x C x 32 bits, 512 B on the
//! 8 x 8) overpriced.

use super::program::AccelLayer;
use crate::config::Dataflow;
use crate::energy::EnergyTable;
use crate::system::kneaded::{column_streams, DIRECTORY_WORDS};
use crate::system::{Descriptor, SystemParams, PARAM_WORDS_PER_TILE};
use ndarray::s;
use serde::Serialize;

/// One accelerator layer's counts and energy for one inference.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayerEnergy {
    pub name: String,
    /// Useful multiply-accumulates (`Descriptor::macs`).
    pub macs: u64,
    /// MAC arrays: multiply-accumulates the PEs perform (padding lanes included); SAC: 0.
    pub array_macs: u64,
    /// Adds other than the MACs': WS accumulator-buffer adds, SAC segment and tree adds.
    pub adds: u64,
    /// SAC: the valid kneaded slots (essential bits of the weights) of the jobs' column streams; a
    /// weight counts once per job that computes with it (row bands repeat their channel group's).
    pub weight_digits: u64,
    pub sram_read_bits: u64,
    pub sram_write_bits: u64,
    pub stream_in_bytes: u64,
    pub stream_out_bytes: u64,
    pub compute_pj: f64,
    pub sram_pj: f64,
    pub stream_pj: f64,
    pub total_pj: f64,
}

/// The energy of `layer`'s jobs for one inference on the system top `sp`, priced with `table`
/// (the model is in the module's documentation).
pub fn layer_energy(sp: &SystemParams, layer: &AccelLayer, table: &EnergyTable) -> LayerEnergy {
    let (r, c) = (sp.rows as u64, sp.cols as u64);
    let (acc, word_bits) = (sp.acc_bits, c * 8);
    let mut e = LayerEnergy { name: layer.name.clone(), ..Default::default() };
    let mut add_pj = 0.0;
    for job in &layer.jobs {
        let d = &job.descriptor;
        let sh = d.shape(sp);
        let (nt, mt, pixels, k) = (sh.nt as u64, sh.mt as u64, sh.pixels as u64, sh.k(sp.cols) as u64);
        let taps = taps(d) * sh.cb as u64;
        e.macs += d.macs();
        // words of C bytes: activations and outputs (FIFO in and out), records read per tile
        let mut reads = (nt * PARAM_WORDS_PER_TILE as u64 + sh.out_words as u64) * word_bits;
        let mut writes = (sh.act_words + sh.out_words) as u64 * word_bits;
        let mut frame_words = (sp.desc_words + sh.act_words) as u64;
        if d.load_weights() {
            writes += sh.param_words as u64 * word_bits;
            frame_words += sh.param_words as u64;
        }
        match (&sp.sac, sp.dataflow) {
            (Some(sac), _) => {
                let w = layer.weights.slice(s![job.co0..job.co0 + d.out_c as usize, .., .., ..]).to_owned();
                let streams = column_streams(sp, &sh, &w);
                for v in streams.iter().flatten() {
                    for (p, slot) in sac.word(*v).slots.iter().enumerate() {
                        if slot.valid {
                            e.weight_digits += 1;
                            e.adds += r * mt;
                            add_pj += (r * mt) as f64 * table.add_pj(acc - p as u32);
                        }
                    }
                }
                let tree = nt * mt * r * c * (sac.positions as u64 - 1);
                e.adds += tree;
                add_pj += tree as f64 * table.add_pj(acc);
                let stream_words: u64 = streams.iter().map(|st| st.len() as u64).sum();
                let stream_bits = stream_words * sac.stream_word_bits() as u64;
                reads += nt * taps * word_bits + mt * stream_bits;
                if d.load_weights() {
                    writes += stream_bits;
                    frame_words += DIRECTORY_WORDS as u64 + stream_words;
                }
            }
            (None, dataflow) => {
                if d.load_weights() {
                    writes += sh.weight_words as u64 * word_bits;
                    frame_words += sh.weight_words as u64;
                }
                if dataflow == Dataflow::OutputStationary {
                    e.array_macs += nt * mt * k * r * c;
                    reads += (nt * taps + nt * mt * k) * word_bits;
                } else {
                    e.array_macs += nt * pixels * k * c;
                    let buffered = nt * pixels * (k / r - 1);
                    e.adds += buffered * c;
                    add_pj += (buffered * c) as f64 * table.add_pj(acc);
                    let blocks = pixels.div_ceil(sp.acc_depth as u64);
                    reads += (nt * taps * c / r + nt * blocks * k) * word_bits + buffered * c * acc as u64;
                    writes += buffered * c * acc as u64;
                }
            }
        }
        e.sram_read_bits += reads;
        e.sram_write_bits += writes;
        e.stream_in_bytes += frame_words * c;
        e.stream_out_bytes += sh.out_words as u64 * c;
    }
    e.compute_pj = e.array_macs as f64 * (table.mult_pj(8, 8) + table.add_pj(acc)) + add_pj;
    e.sram_pj = e.sram_read_bits as f64 * table.sram_read_pj_per_bit
        + e.sram_write_bits as f64 * table.sram_write_pj_per_bit;
    e.stream_pj = (e.stream_in_bytes + e.stream_out_bytes) as f64 * 8.0 * table.stream_pj_per_bit;
    e.total_pj = e.compute_pj + e.sram_pj + e.stream_pj;
    e
}

/// The in-bounds (output pixel, kernel tap) pairs of a job: rows and columns are independent.
fn taps(d: &Descriptor) -> u64 {
    let axis = |out: u16, k: u8, stride: u8, dil: u8, pad: u8, len: u16| -> u64 {
        let mut n = 0;
        for o in 0..out as i64 {
            for t in 0..k as i64 {
                let i = o * stride as i64 + t * dil as i64 - pad as i64;
                n += u64::from(i >= 0 && i < len as i64);
            }
        }
        n
    };
    axis(d.out_h, d.kh, d.stride_h, d.dil_h, d.pad_top, d.in_h)
        * axis(d.out_w, d.kw, d.stride_w, d.dil_w, d.pad_left, d.in_w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::network::program::JobPlan;
    use crate::system::cases::Geometry;
    use crate::system::layout::{frame, Requant};
    use crate::system::plan::plan_layer;
    use ndarray::{Array3, Array4};

    /// A 4 x 4 system top: `array` and `pe` tables after the shared lines.
    fn system(array: &str, pe: &str) -> SystemParams {
        let text = format!(
            "name = \"t\"\n[array]\nrows = 4\ncols = 4\n{array}\n[pe]\nweight_bits = 8\nact_bits = 8\n\
             acc_bits = 32\n{pe}\n[system]\nstream_bits = 32\nact_words = 256\nweight_words = 256\n\
             param_tiles = 4\nout_words = 16\n"
        );
        SystemParams::of(&Config::parse("t.toml", &text).expect("a valid config")).expect("a system")
    }

    /// The layer of `x * w` (one job here), and its frames' words as the host sends them.
    fn layer(sp: &SystemParams, x: &Array3<i8>, w: Array4<i8>, g: Geometry) -> (AccelLayer, usize) {
        let rq = vec![Requant::default(); w.dim().0];
        let plan = plan_layer(sp, x, &w, &rq, &g, 0, false).expect("fits");
        let frame_words = plan.iter().map(|p| frame(sp, &p.job).len()).sum();
        let l = AccelLayer {
            macs: plan.iter().map(|p| p.job.desc.macs()).sum(),
            jobs: plan.iter().map(JobPlan::from).collect(),
            ..AccelLayer::for_test(w, &g)
        };
        (l, frame_words)
    }

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() < 1e-9 * want.max(1.0)
    }

    /// 3 x 3 x 4 input, 4 filters 3 x 3, padding 1: 3 x 3 outputs (9 pixels, 3 tiles of R = 4),
    /// K = 36, one job. In-bounds (pixel, tap) pairs: (2 + 3 + 2) per axis, 49.
    #[test]
    fn mac_layer_energy_matches_a_hand_count() {
        let table = EnergyTable::horowitz_45nm();
        let g = Geometry { k: (3, 3), stride: (1, 1), dil: (1, 1), pad: (1, 1) };
        let x = Array3::<i8>::zeros((3, 3, 4));
        let w = Array4::from_shape_fn((4, 3, 3, 4), |(o, y, xx, i)| (o + y + xx + i) as i8 - 5);
        let mac = 3.1 * 64.0 / 1024.0 + 0.1; // 8 x 8 multiply + 32-bit add
        let bit = 10.0 / 64.0; // SRAM and stream, per bit

        let sp = system("dataflow = \"output_stationary\"", "kind = \"mac\"");
        let (l, frame_words) = layer(&sp, &x, w.clone(), g);
        let e = layer_energy(&sp, &l, &table);
        // 3 pixel tiles x 36 reduction indices x 16 PEs
        assert_eq!((e.macs, e.array_macs, e.adds), (4 * 9 * 36, 3 * 36 * 16, 0));
        // reads: 8 records, 9 FIFO words, 49 activations, one weight a beat (3 x 36);
        // writes: 9 activations, 9 FIFO words, 8 records, 36 weights
        assert_eq!((e.sram_read_bits, e.sram_write_bits), ((8 + 9 + 49 + 108) * 32, (9 + 9 + 8 + 36) * 32));
        // descriptor 8 words, records 8, weights 36, activations 9; 9 outputs
        assert_eq!((e.stream_in_bytes, e.stream_out_bytes), ((8 + 8 + 36 + 9) * 4, 9 * 4));
        assert_eq!(e.stream_in_bytes, frame_words as u64 * 4, "the frames the host sends");
        assert!(close(e.compute_pj, 1728.0 * mac), "{e:?}");
        assert!(close(e.sram_pj, (5568.0 + 1984.0) * bit), "{e:?}");
        assert!(close(e.total_pj, 1728.0 * mac + 7552.0 * bit + 280.0 * 8.0 * bit), "{e:?}");
        assert!(close(e.total_pj, 2037.6), "{e:?}");

        // weight-stationary, accumulator depth 8: 9 pixels x 9 folds of R = 4 beats, blocks of 8
        // pixels (2); the buffer is read, added and written on 8 folds of each pixel (72 words)
        let sp = system("dataflow = \"weight_stationary\"\nacc_depth = 8", "kind = \"mac\"");
        let (l, frame_words) = layer(&sp, &x, w, g);
        let e = layer_energy(&sp, &l, &table);
        assert_eq!((e.array_macs, e.adds), (9 * 9 * 16, 72 * 4));
        // activations: 49 words, each read once per fold of its C / R = 1 folds; weights 2 x 36
        assert_eq!(
            (e.sram_read_bits, e.sram_write_bits),
            ((8 + 9 + 49 + 72) * 32 + 72 * 128, (9 + 9 + 8 + 36) * 32 + 72 * 128)
        );
        assert_eq!(e.stream_in_bytes, frame_words as u64 * 4);
        assert!(close(e.total_pj, 1296.0 * mac + 288.0 * 0.1 + (13632.0 + 11200.0) * bit + 2240.0 * bit));
        assert!(close(e.total_pj, 4639.5), "{e:?}");
    }

    /// A 1 x 2 x 4 input, four 1 x 1 filters on a SAC array (KS = 4, sign-magnitude: 7 positions,
    /// 30-bit column words): filter 0 = [1, 2, 0, 0] is one word with digits at positions 0 and 1,
    /// [3, 0, 0, 0] one word (0 and 1), [0, 0, 0, 0] one empty word, [1, 1, 1, 0] three words
    /// (position 0 each): 6 column words, 7 digits, one pixel tile.
    #[test]
    fn sac_layer_energy_counts_the_weights_essential_bits() {
        let table = EnergyTable::horowitz_45nm();
        let sp = system(
            "dataflow = \"output_stationary\"",
            "kind = \"sac\"\nkneading_stride = 4\nencoding = \"sign_magnitude\"",
        );
        let g = Geometry { k: (1, 1), stride: (1, 1), dil: (1, 1), pad: (0, 0) };
        let rows = [[1, 2, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 0]];
        let w = Array4::from_shape_fn((4, 1, 1, 4), |(o, _, _, i)| rows[o][i]);
        let (l, frame_words) = layer(&sp, &Array3::zeros((1, 2, 4)), w, g);
        let e = layer_energy(&sp, &l, &table);
        // 7 digits x 4 rows, and 6 tree adds per PE of the one fold
        assert_eq!((e.weight_digits, e.array_macs, e.adds), (7, 0, 7 * 4 + 16 * 6));
        let segments = (5.0 * 32.0 + 2.0 * 31.0) / 32.0 * 0.1 * 4.0; // 5 digits at position 0, 2 at 1
        assert!(close(e.compute_pj, segments + 96.0 * 0.1), "{e:?}");
        // reads: 8 records, 2 FIFO words, 2 activations (32 bits), the 6 column words (30 bits);
        // writes: 2 activations, 2 FIFO words, 8 records, 6 column words
        assert_eq!((e.sram_read_bits, e.sram_write_bits), (12 * 32 + 180, 12 * 32 + 180));
        // descriptor 8, records 8, directory 2, column words 6, activations 2; 2 outputs
        assert_eq!((e.stream_in_bytes, e.stream_out_bytes), (26 * 4, 2 * 4));
        assert_eq!(e.stream_in_bytes, frame_words as u64 * 4);
        assert!(close(e.total_pj, 12.375 + 1128.0 * 10.0 / 64.0 + 112.0 * 8.0 * 10.0 / 64.0), "{e:?}");
        assert!(close(e.total_pj, 328.625), "{e:?}");
    }
}
