//! Operation counts of one GEMM run, derived from the reference model's trace (beats, folds) and the
//! config; the rules mirror the templates (`pe_os`, `pe_ws`, `os_top`, `ws_top`, `sac_unit`, `sac_top`).
//!
//! MAC, output-stationary (per input beat = one k of one fold):
//! - every PE multiplies (weight_bits x act_bits) and adds (acc_bits): rows*cols each, zero-padded
//!   lanes of partial tiles included (the hardware computes them);
//! - every PE writes acc (acc_bits), a_out (act_bits), b_out (weight_bits) and 2 tag bits; the input
//!   skew lines write sum_r r * act_bits + sum_c c * weight_bits bits (tags in the skew not counted);
//! - per fold every PE writes `result` (acc_bits).
//! - pipelined MACs (`pe.pipeline`, OS and WS alike): per multiply the product register (prod_bits)
//!   with 1 or more stages, the operand registers (weight_bits + act_bits) with 2 or more, and a second
//!   product register with 3.
//!
//! MAC, weight-stationary:
//! - weight beat: one PE row's shadow registers (cols * weight_bits); per fold every PE's active
//!   weight register (rows*cols*weight_bits);
//! - A beat: rows*cols multiplies and adds; each PE writes a_out, psum_out and 2 tags; skew
//!   sum_r r * act_bits and de-skew sum_c (cols-1-c) * acc_bits bits;
//! - accumulator buffer (SRAM, one bank per column): a beat with `accumulate` reads cols words and adds
//!   cols times (acc_bits); a beat without `emit` writes cols words.
//!
//! SAC:
//! - each word taken by column c: per valid slot p, every row's unit adds or subtracts one activation
//!   into S_p (one add of acc_bits - p bits), writes S_p (acc_bits - p bits) and reads act_bits from
//!   its row's activation ring; empty slots cost nothing (S_p holds);
//! - a column's fold-end word additionally, per row: the shift-add tree (positions - 1 adds of
//!   acc_bits), `result` (acc_bits) and the clear of every segment (sum_p (acc_bits - p) bits);
//! - each activation beat writes rows * KS * act_bits bits into the ring;
//! - pipelined units (`pe.pipeline`): with 1 or more stages a fold-end word also writes the final
//!   segments (sum_p (acc_bits - p) bits per row); with 2 each valid slot also writes its operand
//!   register (acc_bits - p bits per row).
//!
//! Sparse 1-D rows (`sparse_row`, `sparse_top`), per entry taken: a nonzero entry drives all rows*KT
//! multipliers (weight_bits x act_bits; lanes whose position falls outside the row discard theirs); each
//! lane product that lands costs one add and one accumulator write (acc_bits); empty-row markers cost
//! nothing but their beat. Per dense beat the shadow operands write rows * Q * weight_bits; per row the
//! active operands copy rows * (its dense length) * weight_bits; per job the readout row copies rows *
//! (its output length) * acc_bits. Pipelined rows (`pe.pipeline = 1`) also write every lane's product
//! register (prod_bits) per nonzero entry.
//!
//! Streams (all designs): every input channel's beats times its width (sum of its fields), and every
//! output beat (cols * acc_bits). Control (counters, pointers, flags, valid/ready) is not counted.

use crate::config::{Dataflow, Params, PeKind};
use crate::model::sparse_array::{Job, SparseRun};
use crate::model::GemmRun;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MulCount {
    pub what: String,
    pub a_bits: u32,
    pub b_bits: u32,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddCount {
    pub what: String,
    pub bits: u32,
    pub count: u64,
}

/// Bits written to flip-flops, by purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BitCount {
    pub what: String,
    pub bits: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferKind {
    /// An SRAM-like memory (the WS accumulator buffer).
    Sram,
    /// Flip-flops read through a mux (the SAC activation ring).
    Registers,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BufferCount {
    pub what: String,
    pub kind: BufferKind,
    pub reads: u64,
    pub read_bits: u64,
    pub writes: u64,
    pub write_bits: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamCount {
    pub name: String,
    pub beats: u64,
    pub bits_per_beat: u64,
    pub bits: u64,
}

/// Operation counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    pub design: String,
    /// M * N * K of the GEMM.
    pub useful_macs: u64,
    pub multiplies: Vec<MulCount>,
    pub adds: Vec<AddCount>,
    pub register_bit_writes: Vec<BitCount>,
    pub buffers: Vec<BufferCount>,
    pub streams: Vec<StreamCount>,
}

impl OpCounts {
    /// The counts of `run` (a run of `p` on a GEMM with reduction length `k`).
    pub fn from_run(p: &Params, run: &GemmRun, k: usize) -> OpCounts {
        let (m, n) = run.c.dim();
        let mut c =
            OpCounts { design: p.name.clone(), useful_macs: (m * n * k) as u64, ..OpCounts::default() };
        match (p.kind, p.dataflow) {
            (PeKind::Mac, Dataflow::OutputStationary) => c.mac_os(p, run),
            (PeKind::Mac, Dataflow::WeightStationary) => c.mac_ws(p, run),
            (PeKind::Sac, _) => c.sac(p, run),
            (PeKind::Sparse1d, _) => panic!("sparse_1d arrays do not run GEMMs"),
        }
        let out_bits = (p.cols as u64) * p.acc_bits as u64;
        c.streams.push(StreamCount {
            name: "out".into(),
            beats: run.outputs.len() as u64,
            bits_per_beat: out_bits,
            bits: run.outputs.len() as u64 * out_bits,
        });
        c
    }

    pub fn add(&mut self, what: &str, bits: u32, count: u64) {
        match self.adds.iter_mut().find(|a| a.what == what && a.bits == bits) {
            Some(a) => a.count += count,
            None => self.adds.push(AddCount { what: what.into(), bits, count }),
        }
    }

    pub fn mul(&mut self, what: &str, a_bits: u32, b_bits: u32, count: u64) {
        match self.multiplies.iter_mut().find(|x| x.what == what && x.a_bits == a_bits && x.b_bits == b_bits)
        {
            Some(x) => x.count += count,
            None => self.multiplies.push(MulCount { what: what.into(), a_bits, b_bits, count }),
        }
    }

    pub fn reg(&mut self, what: &str, bits: u64) {
        match self.register_bit_writes.iter_mut().find(|r| r.what == what) {
            Some(r) => r.bits += bits,
            None => self.register_bit_writes.push(BitCount { what: what.into(), bits }),
        }
    }

    fn buffer(&mut self, what: &str, kind: BufferKind) -> &mut BufferCount {
        if let Some(i) = self.buffers.iter().position(|b| b.what == what) {
            return &mut self.buffers[i];
        }
        self.buffers.push(BufferCount {
            what: what.into(),
            kind,
            reads: 0,
            read_bits: 0,
            writes: 0,
            write_bits: 0,
        });
        self.buffers.last_mut().expect("just pushed")
    }

    fn stream(&mut self, name: &str, beats: usize, bits_per_beat: u64) {
        self.streams.push(StreamCount {
            name: name.into(),
            beats: beats as u64,
            bits_per_beat,
            bits: beats as u64 * bits_per_beat,
        });
    }

    /// The counts of a sparse row array's run of `jobs`.
    pub fn from_sparse_run(p: &Params, jobs: &[Job], run: &SparseRun) -> OpCounts {
        let sp = p.sparse.as_ref().expect("a sparse_1d config");
        let mut c = OpCounts { design: p.name.clone(), useful_macs: run.macs, ..OpCounts::default() };
        let (rows, taps) = (p.rows as u64, p.cols as u64);
        let (wb, acc) = (u64::from(p.weight_bits), u64::from(p.acc_bits));
        c.mul("row_lane", p.weight_bits, p.act_bits, run.nnz * rows * taps);
        c.add("row_accumulate", p.acc_bits, run.macs);
        if p.pipeline > 0 {
            c.reg("row_product", run.nnz * rows * taps * u64::from(p.prod_bits));
        }
        c.reg("row_acc", run.macs * acc);
        c.reg("row_operand_shadow", run.load_beats * rows * sp.load_lanes as u64 * wb);
        let operand_copy: u64 = jobs.iter().map(|j| j.rows.len() as u64 * j.dense_len() as u64).sum();
        c.reg("row_operand_active", operand_copy * rows * wb);
        let outputs: u64 = jobs.iter().map(|j| j.out_len() as u64).sum();
        c.reg("row_readout", outputs * rows * acc);
        c.stream("x", run.entries as usize, u64::from(sp.stream.entry_bits()) + 1);
        let geometry = 2 + sp.shift_bits + sp.dilation_bits + sp.pad_bits + 2 * sp.len_bits;
        c.stream("d", run.load_beats as usize, rows * sp.load_lanes as u64 * wb + 1 + u64::from(geometry));
        c.stream("out", outputs as usize, rows * acc);
        c
    }

    /// Total adds whose `what` is `what`, over all widths.
    pub fn adds_of(&self, what: &str) -> u64 {
        self.adds.iter().filter(|a| a.what == what).map(|a| a.count).sum()
    }

    pub fn total_multiplies(&self) -> u64 {
        self.multiplies.iter().map(|m| m.count).sum()
    }

    pub fn total_adds(&self) -> u64 {
        self.adds.iter().map(|a| a.count).sum()
    }

    pub fn total_register_bits(&self) -> u64 {
        self.register_bit_writes.iter().map(|r| r.bits).sum()
    }

    pub fn total_stream_bits(&self) -> u64 {
        self.streams.iter().map(|s| s.bits).sum()
    }

    /// The registers a pipelined MAC unit writes on each of its `macs` multiplies.
    fn mac_stages(&mut self, p: &Params, macs: u64) {
        if p.pipeline >= 1 {
            let product_regs = if p.pipeline >= 3 { 2 } else { 1 };
            self.reg("pe_product", macs * product_regs * p.prod_bits as u64);
        }
        if p.pipeline >= 2 {
            self.reg("pe_operands", macs * (p.act_bits + p.weight_bits) as u64);
        }
    }

    fn mac_os(&mut self, p: &Params, run: &GemmRun) {
        let (rows, cols) = (p.rows as u64, p.cols as u64);
        let (wb, ab, acc) = (p.weight_bits as u64, p.act_bits as u64, p.acc_bits as u64);
        let beats = run.inputs[0].beats.len() as u64;
        let pes = rows * cols;
        self.mul("pe_mac", p.weight_bits, p.act_bits, beats * pes);
        self.add("pe_mac", p.acc_bits, beats * pes);
        self.reg("pe_acc", beats * pes * acc);
        self.reg("pe_pipeline", beats * pes * (ab + wb + 2));
        self.mac_stages(p, beats * pes);
        self.reg("input_skew", beats * (tri(rows) * ab + tri(cols) * wb));
        self.reg("pe_result", run.folds as u64 * pes * acc);
        self.stream("in", run.inputs[0].beats.len(), rows * ab + cols * wb + 1);
    }

    fn mac_ws(&mut self, p: &Params, run: &GemmRun) {
        let (rows, cols) = (p.rows as u64, p.cols as u64);
        let (wb, ab, acc) = (p.weight_bits as u64, p.act_bits as u64, p.acc_bits as u64);
        let pes = rows * cols;
        let w = run.inputs.iter().find(|c| c.name == "w").expect("WS weight channel");
        let a = run.inputs.iter().find(|c| c.name == "a").expect("WS activation channel");
        let (w_beats, a_beats) = (w.beats.len() as u64, a.beats.len() as u64);
        self.reg("pe_weight_shadow", w_beats * cols * wb);
        self.reg("pe_weight_active", run.folds as u64 * pes * wb);
        self.mul("pe_mac", p.weight_bits, p.act_bits, a_beats * pes);
        self.add("pe_mac", p.acc_bits, a_beats * pes);
        self.reg("pe_pipeline", a_beats * pes * (ab + acc + 2));
        self.mac_stages(p, a_beats * pes);
        self.reg("input_skew", a_beats * tri(rows) * ab);
        self.reg("output_deskew", a_beats * tri(cols) * acc);
        let (mut reads, mut writes) = (0u64, 0u64);
        for beat in &a.beats {
            let (accumulate, emit) = (beat.fields[2][0] != 0, beat.fields[3][0] != 0);
            if accumulate {
                reads += cols;
            }
            if !emit {
                writes += cols;
            }
        }
        self.add("acc_buffer", p.acc_bits, reads);
        let buf = self.buffer("ws_acc_buffer", BufferKind::Sram);
        buf.reads += reads;
        buf.read_bits += reads * acc;
        buf.writes += writes;
        buf.write_bits += writes * acc;
        self.stream("w", w.beats.len(), cols * wb);
        self.stream("a", a.beats.len(), rows * ab + 3);
    }

    fn sac(&mut self, p: &Params, run: &GemmRun) {
        let sac = p.sac.as_ref().expect("SAC params");
        let (rows, ab, acc) = (p.rows as u64, p.act_bits as u64, p.acc_bits as u64);
        let positions = sac.positions;
        let seg_bits_total: u64 = (0..positions).map(|q| sac.segment_bits(p.acc_bits, q) as u64).sum();
        let word_bits = positions as u64 * sac.slot_bits as u64 + 2;
        for chan in &run.inputs {
            if chan.name == "a" {
                let bits = rows * sac.ks as u64 * ab;
                let ring = self.buffer("sac_act_ring", BufferKind::Registers);
                ring.writes += chan.beats.len() as u64 * rows;
                ring.write_bits += chan.beats.len() as u64 * bits;
                self.stream("a", chan.beats.len(), bits);
                continue;
            }
            let mut ring_reads = 0u64;
            for beat in &chan.beats {
                for (q, &slot) in beat.fields[0].iter().enumerate() {
                    if slot & 1 != 0 {
                        let seg = sac.segment_bits(p.acc_bits, q);
                        self.add("sac_segment", seg, rows);
                        self.reg("sac_segment", rows * seg as u64);
                        if p.pipeline >= 2 {
                            self.reg("sac_operand", rows * seg as u64);
                        }
                        ring_reads += rows;
                    }
                }
                if beat.fields[2][0] != 0 {
                    self.add("sac_tree", p.acc_bits, rows * positions.saturating_sub(1) as u64);
                    self.reg("sac_result", rows * acc);
                    self.reg("sac_segment_clear", rows * seg_bits_total);
                    if p.pipeline >= 1 {
                        self.reg("sac_segment_final", rows * seg_bits_total);
                    }
                }
            }
            let ring = self.buffer("sac_act_ring", BufferKind::Registers);
            ring.reads += ring_reads;
            ring.read_bits += ring_reads * ab;
            self.stream(&chan.name, chan.beats.len(), word_bits);
        }
    }
}

/// 0 + 1 + ... + (n - 1): the register stages of a skew over n lanes.
fn tri(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}
