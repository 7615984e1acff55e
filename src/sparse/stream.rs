//! The compressed (value, index) row stream: encode, validate, decode, and the packed entry (format in
//! the module docs of [`crate::sparse`]).

use super::{check_bits, fits, SparseError, MAX_ROW_LEN};
use crate::bits::signed_range;
use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// What a stream carries: `bits`-bit two's complement values in rows of `len` columns.
/// Construct with [`StreamFormat::new`], which checks the ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StreamFormat {
    /// Value width, sign included: `2..=32`.
    pub bits: u32,
    /// Row length L: `1..=65536`.
    pub len: usize,
}

/// One stream entry (one cycle of a unit that takes an entry per cycle). See the module docs for
/// which combinations are legal: a valid entry holds a nonzero value at `index < L`; an invalid entry is
/// the empty-row marker `{valid: false, last: true, index: 0, value: 0}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Entry {
    pub valid: bool,
    /// Row end: the next entry belongs to the next row.
    pub last: bool,
    pub index: u32,
    pub value: i64,
}

impl Entry {
    /// The empty-row marker: the whole encoding of an all-zero row.
    pub const EMPTY_ROW: Entry = Entry { valid: false, last: true, index: 0, value: 0 };

    /// A valid entry.
    pub fn nonzero(index: u32, value: i64, last: bool) -> Entry {
        Entry { valid: true, last, index, value }
    }
}

/// What [`validate`] found: rows, stored nonzeros, entries (`= sum over rows of max(1, nnz)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamShape {
    pub rows: usize,
    pub nnz: usize,
    pub entries: usize,
}

impl StreamFormat {
    pub fn new(bits: u32, len: usize) -> Result<Self, SparseError> {
        check_bits(bits)?;
        if !(1..=MAX_ROW_LEN).contains(&len) {
            return Err(SparseError::BadRowLen { len });
        }
        Ok(Self { bits, len })
    }

    /// `max(1, ceil(log2 L))`: 1 for L = 1 and 2, 6 for L = 64, 7 for L = 65, 16 for L = 65536.
    pub fn index_bits(&self) -> u32 {
        (self.len as u64).next_power_of_two().trailing_zeros().max(1)
    }

    /// `2 + index_bits + bits`.
    pub fn entry_bits(&self) -> u32 {
        2 + self.index_bits() + self.bits
    }

    /// Least value: `-2^(bits-1)`.
    pub fn vmin(&self) -> i64 {
        signed_range(self.bits).0
    }

    /// Greatest value: `2^(bits-1) - 1`.
    pub fn vmax(&self) -> i64 {
        signed_range(self.bits).1
    }

    /// Packs an entry, LSB first: bit 0 valid, bit 1 last, then `index_bits` of index, then `bits` of
    /// value (two's complement). Fails if the index does not fit `index_bits`, the value does not fit
    /// `bits`, or an invalid entry carries an index or value. (`index < L` is [`validate`]'s business:
    /// every index that fits the field is representable.)
    pub fn pack(&self, e: &Entry) -> Result<u64, SparseError> {
        let bad = |reason: String| SparseError::CannotPack { entry: *e, reason };
        if !e.valid && (e.index != 0 || e.value != 0) {
            return Err(bad(format!("invalid entry with index {} and value {}", e.index, e.value)));
        }
        let ib = self.index_bits();
        if u64::from(e.index) >> ib != 0 {
            return Err(bad(format!("index {} does not fit {ib} bits", e.index)));
        }
        if !fits(e.value, self.bits) {
            return Err(bad(format!("value {} does not fit {} bits", e.value, self.bits)));
        }
        let value_field = (e.value as u64) & ((1u64 << self.bits) - 1);
        Ok(u64::from(e.valid) | u64::from(e.last) << 1 | u64::from(e.index) << 2 | value_field << (2 + ib))
    }

    /// Unpacks an entry (value sign-extended from `bits`). Fails on any bit set at or above
    /// `entry_bits`, and on `valid = 0` with a nonzero index or value field.
    pub fn unpack(&self, packed: u64) -> Result<Entry, SparseError> {
        let bad = |reason: &str| SparseError::BadPacked { packed, reason: reason.to_string() };
        if packed >> self.entry_bits() != 0 {
            return Err(bad(&format!("bits set above the {}-bit entry", self.entry_bits())));
        }
        let ib = self.index_bits();
        let index = ((packed >> 2) & ((1u64 << ib) - 1)) as u32;
        let raw = (packed >> (2 + ib)) & ((1u64 << self.bits) - 1);
        let shift = 64 - self.bits;
        let value = ((raw << shift) as i64) >> shift;
        let e = Entry { valid: packed & 1 != 0, last: packed & 2 != 0, index, value };
        if !e.valid && (index != 0 || value != 0) {
            return Err(bad("invalid entry with a nonzero index or value"));
        }
        Ok(e)
    }

    /// Packs a whole stream, entry by entry.
    pub fn pack_stream(&self, stream: &[Entry]) -> Result<Vec<u64>, SparseError> {
        stream.iter().map(|e| self.pack(e)).collect()
    }

    /// Unpacks a whole stream, entry by entry (no structural check: call [`validate`] or [`decode`]).
    pub fn unpack_stream(&self, packed: &[u64]) -> Result<Vec<Entry>, SparseError> {
        packed.iter().map(|&p| self.unpack(p)).collect()
    }
}

/// The entries of one dense row (`row.len()` must be `L`): its nonzeros in column order with the last
/// one flagged, or the single empty-row marker. `row_no` only names the row in errors.
pub fn encode_row(row: &[i64], fmt: &StreamFormat, row_no: usize) -> Result<Vec<Entry>, SparseError> {
    if row.len() != fmt.len {
        return Err(SparseError::WidthMismatch { got: row.len(), len: fmt.len });
    }
    let mut out = Vec::new();
    for (col, &v) in row.iter().enumerate() {
        if !fits(v, fmt.bits) {
            return Err(SparseError::ValueOutOfRange { value: v, bits: fmt.bits, row: row_no, col });
        }
        if v != 0 {
            out.push(Entry::nonzero(col as u32, v, false));
        }
    }
    match out.last_mut() {
        Some(e) => e.last = true,
        None => out.push(Entry::EMPTY_ROW),
    }
    Ok(out)
}

/// Encodes dense rows (`rows x L`) into the canonical stream, row 0 first.
pub fn encode(dense: ArrayView2<i64>, fmt: &StreamFormat) -> Result<Vec<Entry>, SparseError> {
    if dense.ncols() != fmt.len {
        return Err(SparseError::WidthMismatch { got: dense.ncols(), len: fmt.len });
    }
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(fmt.len);
    for (r, row) in dense.rows().into_iter().enumerate() {
        buf.clear();
        buf.extend(row.iter().copied());
        out.extend(encode_row(&buf, fmt, r)?);
    }
    Ok(out)
}

/// Checks that `stream` is a well-formed stream of `fmt` (every rule of the module docs) and returns its
/// shape. The first violation is returned.
pub fn validate(stream: &[Entry], fmt: &StreamFormat) -> Result<StreamShape, SparseError> {
    let mut row = 0usize;
    let mut nnz = 0usize;
    // Previous index within the current row; None at a row start.
    let mut prev: Option<u32> = None;
    for (entry, e) in stream.iter().enumerate() {
        if !e.valid {
            if prev.is_some() || !e.last || e.index != 0 || e.value != 0 {
                return Err(SparseError::BadEmptyMarker { entry, row });
            }
        } else {
            if e.index as usize >= fmt.len {
                return Err(SparseError::IndexOutOfRange { entry, row, index: e.index, len: fmt.len });
            }
            if let Some(p) = prev {
                if e.index <= p {
                    return Err(SparseError::IndexNotIncreasing { entry, row, index: e.index, prev: p });
                }
            }
            if e.value == 0 {
                return Err(SparseError::ZeroValue { entry, row });
            }
            if !fits(e.value, fmt.bits) {
                return Err(SparseError::EntryValueOutOfRange { entry, row, value: e.value, bits: fmt.bits });
            }
            nnz += 1;
            prev = Some(e.index);
        }
        if e.last {
            row += 1;
            prev = None;
        }
    }
    if let Some(e) = stream.last() {
        if !e.last {
            return Err(SparseError::MissingRowEnd { entry: stream.len() - 1, row });
        }
    }
    Ok(StreamShape { rows: row, nnz, entries: stream.len() })
}

/// Validates `stream`, checks it has `rows` rows, and scatters it into a dense `rows x L` array.
pub fn decode(stream: &[Entry], fmt: &StreamFormat, rows: usize) -> Result<Array2<i64>, SparseError> {
    let shape = validate(stream, fmt)?;
    if shape.rows != rows {
        return Err(SparseError::RowCount { got: shape.rows, expected: rows });
    }
    let mut out = Array2::zeros((rows, fmt.len));
    let mut r = 0;
    for e in stream {
        if e.valid {
            out[[r, e.index as usize]] = e.value;
        }
        if e.last {
            r += 1;
        }
    }
    Ok(out)
}

/// The whole check of a packed stream against the dense rows it should carry: unpack every entry,
/// validate, check the row count, and compare value by value. The first difference is the error.
pub fn check_stream(
    packed: &[u64],
    fmt: &StreamFormat,
    expected: ArrayView2<i64>,
) -> Result<(), SparseError> {
    if expected.ncols() != fmt.len {
        return Err(SparseError::WidthMismatch { got: expected.ncols(), len: fmt.len });
    }
    let stream = fmt.unpack_stream(packed)?;
    let got = decode(&stream, fmt, expected.nrows())?;
    for ((row, col), &e) in expected.indexed_iter() {
        if got[[row, col]] != e {
            return Err(SparseError::Mismatch { row, col, got: got[[row, col]], expected: e });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn index_bits_follow_the_row_length() {
        for (len, ib) in [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (64, 6), (65, 7), (65536, 16)] {
            assert_eq!(StreamFormat::new(8, len).unwrap().index_bits(), ib, "L = {len}");
        }
        assert!(StreamFormat::new(8, 0).is_err());
        assert!(StreamFormat::new(8, 65537).is_err());
        assert!(StreamFormat::new(1, 4).is_err());
        assert!(StreamFormat::new(33, 4).is_err());
    }

    /// A worked example, written out by hand: the documented bit layout.
    #[test]
    fn worked_example_of_the_layout() {
        let fmt = StreamFormat::new(8, 8).unwrap(); // index_bits 3, entry_bits 13
        let dense = array![[0, 5, 0, 0, 0, 0, 0, -1], [0, 0, 0, 0, 0, 0, 0, 0], [-128, 0, 0, 0, 0, 0, 0, 0]];
        let s = encode(dense.view(), &fmt).unwrap();
        assert_eq!(
            s,
            vec![
                Entry::nonzero(1, 5, false),
                Entry::nonzero(7, -1, true),
                Entry::EMPTY_ROW,
                Entry::nonzero(0, -128, true),
            ]
        );
        let packed = fmt.pack_stream(&s).unwrap();
        // valid | last<<1 | index<<2 | (value & 0xff)<<5
        assert_eq!(packed, vec![1 | 1 << 2 | 5 << 5, 1 | 2 | 7 << 2 | 0xff << 5, 0b10, 1 | 2 | 0x80 << 5]);
        assert_eq!(fmt.unpack_stream(&packed).unwrap(), s);
        assert_eq!(decode(&s, &fmt, 3).unwrap(), dense);
        assert_eq!(validate(&s, &fmt).unwrap(), StreamShape { rows: 3, nnz: 3, entries: 4 });
    }

    #[test]
    fn structural_errors_are_typed() {
        let fmt = StreamFormat::new(8, 4).unwrap();
        let v = |s: &[Entry]| validate(s, &fmt);
        assert!(matches!(v(&[Entry::nonzero(4, 1, true)]), Err(SparseError::IndexOutOfRange { .. })));
        assert!(matches!(
            v(&[Entry::nonzero(2, 1, false), Entry::nonzero(2, 1, true)]),
            Err(SparseError::IndexNotIncreasing { entry: 1, row: 0, .. })
        ));
        assert!(matches!(v(&[Entry::nonzero(2, 0, true)]), Err(SparseError::ZeroValue { .. })));
        assert!(matches!(v(&[Entry::nonzero(2, 128, true)]), Err(SparseError::EntryValueOutOfRange { .. })));
        assert!(matches!(
            v(&[Entry::nonzero(1, 1, false), Entry::EMPTY_ROW]),
            Err(SparseError::BadEmptyMarker { entry: 1, .. })
        ));
        assert!(matches!(
            v(&[Entry { last: false, ..Entry::EMPTY_ROW }, Entry::nonzero(1, 1, true)]),
            Err(SparseError::BadEmptyMarker { entry: 0, .. })
        ));
        assert!(matches!(
            v(&[Entry::nonzero(1, 1, true), Entry::nonzero(3, 1, false)]),
            Err(SparseError::MissingRowEnd { entry: 1, row: 1 })
        ));
        assert_eq!(v(&[]).unwrap().rows, 0);
        assert!(matches!(
            decode(&[Entry::EMPTY_ROW], &fmt, 2),
            Err(SparseError::RowCount { got: 1, expected: 2 })
        ));
    }
}
