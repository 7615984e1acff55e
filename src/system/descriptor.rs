//! The job descriptor: 32 bytes at the head of every input frame, its fields, the shape derived from
//! it, and the checks the loader makes before it accepts a job (each failure has an error code).

use super::{SystemParams, DESCRIPTOR_BYTES, PARAM_WORDS_PER_TILE};
use serde::{Deserialize, Serialize};

/// The only opcode: a 2-D convolution (a GEMM is a 1x1 convolution over a 1 x M image).
pub const OP_CONV2D: u8 = 1;
/// flags bit 0: clamp results below the output zero point to it (ReLU).
pub const FLAG_RELU: u8 = 1 << 0;
/// flags bit 1: the frame carries weights and requantization records (else the job reuses the last
/// loaded ones, which must have the same out_c tiles and reduction length).
pub const FLAG_LOAD_WEIGHTS: u8 = 1 << 1;
/// flags bit 2: the last job of the run; the loader stops taking beats after its frame.
pub const FLAG_LAST: u8 = 1 << 2;

/// One descriptor field: name, byte offset, bytes, signedness, meaning (the manifest, the C header
/// and the Python host library are generated from this table).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FieldDef {
    pub name: &'static str,
    pub offset: usize,
    pub bytes: usize,
    pub signed: bool,
    pub meaning: &'static str,
}

const fn f(name: &'static str, offset: usize, bytes: usize, meaning: &'static str) -> FieldDef {
    FieldDef { name, offset, bytes, signed: false, meaning }
}

/// The descriptor's fields in byte order; bytes 24..31 are reserved (write 0).
pub const FIELDS: &[FieldDef] = &[
    f("opcode", 0, 1, "1 = CONV2D (the only opcode)"),
    f("flags", 1, 1, "bit 0 RELU, bit 1 LOAD_WEIGHTS, bit 2 LAST"),
    FieldDef { name: "out_zp", offset: 2, bytes: 1, signed: true, meaning: "output zero point (int8)" },
    f("reserved0", 3, 1, "0"),
    f("in_h", 4, 2, "input height"),
    f("in_w", 6, 2, "input width"),
    f("in_c", 8, 2, "input channels"),
    f("out_c", 10, 2, "output channels"),
    f("out_h", 12, 2, "output height"),
    f("out_w", 14, 2, "output width"),
    f("kh", 16, 1, "kernel height"),
    f("kw", 17, 1, "kernel width"),
    f("stride_h", 18, 1, "vertical stride"),
    f("stride_w", 19, 1, "horizontal stride"),
    f("dil_h", 20, 1, "vertical dilation"),
    f("dil_w", 21, 1, "horizontal dilation"),
    f("pad_top", 22, 1, "rows of zeros above the input"),
    f("pad_left", 23, 1, "columns of zeros left of the input"),
];

/// A job descriptor, field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Descriptor {
    pub opcode: u8,
    pub flags: u8,
    pub out_zp: i8,
    pub in_h: u16,
    pub in_w: u16,
    pub in_c: u16,
    pub out_c: u16,
    pub out_h: u16,
    pub out_w: u16,
    pub kh: u8,
    pub kw: u8,
    pub stride_h: u8,
    pub stride_w: u8,
    pub dil_h: u8,
    pub dil_w: u8,
    pub pad_top: u8,
    pub pad_left: u8,
}

/// Error codes of the ERROR register (0: no error). The loader checks them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobError {
    /// opcode is not CONV2D.
    BadOpcode = 1,
    /// A size, kernel, stride or dilation field is 0 (e.g. K = 0).
    BadShape = 2,
    /// The input feature map is larger than an activation bank.
    ActOverflow = 3,
    /// The weights are larger than a weight bank.
    WeightOverflow = 4,
    /// More output-channel tiles than a parameter bank holds.
    ParamOverflow = 5,
    /// No LOAD_WEIGHTS, and no weights of the same out_c tiles and reduction length were loaded in this run.
    NoWeights = 6,
    /// tlast on a beat that is not the frame's last, or no tlast on its last beat.
    Frame = 7,
    /// SAC systems: a column's kneaded stream is empty or its group_end/fold_end flags do not give
    /// kh x kw x ceil(in_c/C) groups per tile and ceil(out_c/C) tiles.
    BadStream = 8,
}

impl JobError {
    pub const ALL: [JobError; 8] = [
        JobError::BadOpcode,
        JobError::BadShape,
        JobError::ActOverflow,
        JobError::WeightOverflow,
        JobError::ParamOverflow,
        JobError::NoWeights,
        JobError::Frame,
        JobError::BadStream,
    ];

    pub fn code(self) -> u32 {
        self as u32
    }

    pub fn name(self) -> &'static str {
        match self {
            JobError::BadOpcode => "BAD_OPCODE",
            JobError::BadShape => "BAD_SHAPE",
            JobError::ActOverflow => "ACT_OVERFLOW",
            JobError::WeightOverflow => "WEIGHT_OVERFLOW",
            JobError::ParamOverflow => "PARAM_OVERFLOW",
            JobError::NoWeights => "NO_WEIGHTS",
            JobError::Frame => "FRAME",
            JobError::BadStream => "BAD_STREAM",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            JobError::BadOpcode => "opcode is not 1 (CONV2D)",
            JobError::BadShape => "in_h, in_w, in_c, out_c, out_h, out_w, kh, kw, a stride or a dilation is 0",
            JobError::ActOverflow => "ceil(in_c/C) x in_h x in_w exceeds the activation bank (act_words)",
            JobError::WeightOverflow => {
                "ceil(out_c/C) x kh x kw x ceil(in_c/C) x C exceeds the weight bank (weight_words); SAC systems: a column's stream length L_c in the directory exceeds weight_words"
            }
            JobError::ParamOverflow => "ceil(out_c/C) exceeds the parameter bank (param_tiles)",
            JobError::NoWeights => {
                "LOAD_WEIGHTS is 0 but no weights with the same ceil(out_c/C) and kh x kw x ceil(in_c/C) were loaded in this run"
            }
            JobError::Frame => "tlast came before the frame's last beat, or not on it",
            JobError::BadStream => {
                "SAC systems: a column's stream length is 0, or its group_end/fold_end flags are not kh x kw x ceil(in_c/C) groups per tile, ceil(out_c/C) tiles, fold_end on each tile's last word and the column's last word the last tile's"
            }
        }
    }
}

/// What a valid descriptor asks of the hardware, in words and folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JobShape {
    /// Input channel blocks of C: ceil(in_c / C).
    pub cb: usize,
    /// Output channel tiles of C: ceil(out_c / C).
    pub nt: usize,
    /// Reduction words per fold (kh x kw x cb); the reduction length is kwords x C.
    pub kwords: usize,
    /// Output pixels: out_h x out_w.
    pub pixels: usize,
    /// Pixel tiles of R: ceil(pixels / R).
    pub mt: usize,
    /// Input pixels: in_h x in_w.
    pub plane: usize,
    pub act_words: usize,
    pub weight_words: usize,
    pub param_words: usize,
    /// Output words: nt x pixels.
    pub out_words: usize,
}

impl JobShape {
    /// Reduction length K of every fold.
    pub fn k(&self, cols: usize) -> usize {
        self.kwords * cols
    }
}

impl Descriptor {
    /// The convolution's kernel, stride, dilation and top/left padding.
    pub fn geometry(&self) -> super::cases::Geometry {
        super::cases::Geometry {
            k: (self.kh as usize, self.kw as usize),
            stride: (self.stride_h as usize, self.stride_w as usize),
            dil: (self.dil_h as usize, self.dil_w as usize),
            pad: (self.pad_top as usize, self.pad_left as usize),
        }
    }

    pub fn relu(&self) -> bool {
        self.flags & FLAG_RELU != 0
    }
    pub fn load_weights(&self) -> bool {
        self.flags & FLAG_LOAD_WEIGHTS != 0
    }
    pub fn last(&self) -> bool {
        self.flags & FLAG_LAST != 0
    }

    /// The 32 bytes on the stream (little-endian fields, reserved bytes 0).
    pub fn to_bytes(&self) -> [u8; DESCRIPTOR_BYTES] {
        let mut b = [0u8; DESCRIPTOR_BYTES];
        b[0] = self.opcode;
        b[1] = self.flags;
        b[2] = self.out_zp as u8;
        let mut put16 = |at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
        put16(4, self.in_h);
        put16(6, self.in_w);
        put16(8, self.in_c);
        put16(10, self.out_c);
        put16(12, self.out_h);
        put16(14, self.out_w);
        let bytes8 = [
            self.kh,
            self.kw,
            self.stride_h,
            self.stride_w,
            self.dil_h,
            self.dil_w,
            self.pad_top,
            self.pad_left,
        ];
        b[16..24].copy_from_slice(&bytes8);
        b
    }

    /// The descriptor in 32 bytes (reserved bytes are ignored).
    pub fn from_bytes(b: &[u8; DESCRIPTOR_BYTES]) -> Descriptor {
        let get16 = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        Descriptor {
            opcode: b[0],
            flags: b[1],
            out_zp: b[2] as i8,
            in_h: get16(4),
            in_w: get16(6),
            in_c: get16(8),
            out_c: get16(10),
            out_h: get16(12),
            out_w: get16(14),
            kh: b[16],
            kw: b[17],
            stride_h: b[18],
            stride_w: b[19],
            dil_h: b[20],
            dil_w: b[21],
            pad_top: b[22],
            pad_left: b[23],
        }
    }

    /// Useful multiply-accumulates: out_c x out_h x out_w x kh x kw x in_c.
    pub fn macs(&self) -> u64 {
        [self.out_c, self.out_h, self.out_w, self.kh as u16, self.kw as u16, self.in_c]
            .iter()
            .map(|&v| v as u64)
            .product()
    }

    /// The shape in words and folds (no checks; zero fields give zero counts).
    pub fn shape(&self, sp: &SystemParams) -> JobShape {
        let (r, c) = (sp.rows, sp.cols);
        let cb = (self.in_c as usize).div_ceil(c);
        let nt = (self.out_c as usize).div_ceil(c);
        let kwords = self.kh as usize * self.kw as usize * cb;
        let pixels = self.out_h as usize * self.out_w as usize;
        let plane = self.in_h as usize * self.in_w as usize;
        JobShape {
            cb,
            nt,
            kwords,
            pixels,
            mt: pixels.div_ceil(r),
            plane,
            act_words: cb * plane,
            weight_words: nt * kwords * c,
            param_words: nt * PARAM_WORDS_PER_TILE,
            out_words: nt * pixels,
        }
    }

    /// The loader's checks, in order: the first that fails is the job's error. `loaded` is the
    /// (nt, kwords) of the weights loaded earlier in the run, if any.
    pub fn check(&self, sp: &SystemParams, loaded: Option<(usize, usize)>) -> Result<JobShape, JobError> {
        if self.opcode != OP_CONV2D {
            return Err(JobError::BadOpcode);
        }
        let sizes = [self.in_h, self.in_w, self.in_c, self.out_c, self.out_h, self.out_w];
        let kernel = [self.kh, self.kw, self.stride_h, self.stride_w, self.dil_h, self.dil_w];
        if sizes.contains(&0) || kernel.contains(&0) {
            return Err(JobError::BadShape);
        }
        let s = self.shape(sp);
        if s.act_words > sp.act_words {
            return Err(JobError::ActOverflow);
        }
        if self.load_weights() {
            // (a SAC system checks its column streams' lengths when the directory arrives)
            if sp.sac.is_none() && s.weight_words > sp.weight_words {
                return Err(JobError::WeightOverflow);
            }
            if s.nt > sp.param_tiles {
                return Err(JobError::ParamOverflow);
            }
        } else if loaded != Some((s.nt, s.kwords)) {
            return Err(JobError::NoWeights);
        }
        Ok(s)
    }

    /// Stream words of the frame this descriptor heads (descriptor, params, weights, activations) on a
    /// MAC system (a SAC system's weight words depend on the kneaded weights: `layout::frame`).
    pub fn frame_words(&self, sp: &SystemParams, s: &JobShape) -> usize {
        let weights = if self.load_weights() { s.param_words + s.weight_words } else { 0 };
        sp.desc_words + weights + s.act_words
    }
}
