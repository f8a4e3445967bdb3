//! Decoding of export responses (being written).
//!
//! STUB for pipeline development: replaced at merge. A minimal protobuf reader for
//! `Export*ServiceResponse.partial_success` so the pipeline's tests can run.

use super::Encoding;
use crate::model::Signal;
use alloc::string::String;

/// STUB for pipeline development: replaced at merge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialSuccess {
    /// Rejected items.
    pub rejected: i64,
    /// The receiver's message.
    pub error_message: String,
}

/// STUB for pipeline development: replaced at merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError;

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid export response")
    }
}

/// STUB for pipeline development: replaced at merge.
pub fn decode_export_response(
    signal: Signal,
    encoding: Encoding,
    body: &[u8],
) -> Result<Option<PartialSuccess>, DecodeError> {
    let _ = signal;
    if encoding == Encoding::Json || body.is_empty() {
        return Ok(None);
    }
    let mut r = Reader { buf: body, pos: 0 };
    let mut found = None;
    while r.pos < r.buf.len() {
        let key = r.varint()?;
        match (key >> 3, key & 7) {
            (1, 2) => {
                let inner = r.bytes()?;
                let mut ir = Reader { buf: inner, pos: 0 };
                let mut ps = PartialSuccess::default();
                while ir.pos < ir.buf.len() {
                    let k = ir.varint()?;
                    match (k >> 3, k & 7) {
                        (1, 0) => ps.rejected = ir.varint()? as i64,
                        (2, 2) => ps.error_message = String::from_utf8_lossy(ir.bytes()?).into(),
                        (_, w) => ir.skip(w)?,
                    }
                }
                found = Some(ps);
            }
            (_, w) => r.skip(w)?,
        }
    }
    Ok(found)
}

/// STUB for pipeline development: replaced at merge.
pub fn error_message(content_type: Option<&str>, body: &[u8]) -> String {
    let _ = content_type;
    let end = body.len().min(256);
    String::from_utf8_lossy(body.get(..end).unwrap_or_default()).into()
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or(DecodeError)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError)
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.varint()?).map_err(|_| DecodeError)?;
        let end = self.pos.checked_add(len).ok_or(DecodeError)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError)?;
        self.pos = end;
        Ok(s)
    }

    fn skip(&mut self, wire: u64) -> Result<(), DecodeError> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.advance(8),
            2 => self.bytes().map(|_| ()),
            5 => self.advance(4),
            _ => Err(DecodeError),
        }
    }

    fn advance(&mut self, n: usize) -> Result<(), DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError)?;
        if end > self.buf.len() {
            return Err(DecodeError);
        }
        self.pos = end;
        Ok(())
    }
}
