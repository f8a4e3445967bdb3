//! Decoding of the receiver's answers: export responses (partial success) and
//! `google.rpc.Status` error bodies, in protobuf and in JSON.
//!
//! The readers here are small, bounds-checked and tolerant: they skip unknown fields of
//! every kind, never panic on any input, never allocate more than the input's size, and
//! limit nesting depth.

#[cfg(feature = "json")]
use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use super::Encoding;
use crate::model::Signal;

/// A receiver's partial success: it accepted the request but rejected some of the data,
/// or accepted all of it with a warning (`rejected == 0`, non-empty `error_message`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialSuccess {
    /// How many spans, data points or log records the receiver rejected.
    pub rejected: i64,
    /// The receiver's explanation; may be empty.
    pub error_message: String,
}

/// A `google.rpc.Status`: the body of an OTLP/HTTP 4xx or 5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpcStatus {
    /// The gRPC status code (OTLP receivers may leave it 0).
    pub code: i32,
    /// The developer-facing error message; may be empty.
    pub message: String,
}

/// Why a response body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    what: &'static str,
    offset: usize,
}

impl DecodeError {
    fn new(what: &'static str, offset: usize) -> Self {
        DecodeError { what, offset }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid response body: {} at byte {}",
            self.what, self.offset
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// Decodes an `Export{Trace,Metrics,Logs}ServiceResponse` for `signal`.
///
/// Returns `Ok(None)` for a full success: an empty body, no `partial_success`, or one with
/// nothing rejected and no message. JSON integers may be numbers or strings; unknown
/// fields are ignored in both encodings.
///
/// # Errors
///
/// A [`DecodeError`] naming the problem when the body is not a well-formed message.
///
/// JSON bodies need the cargo feature `json` (on by default).
///
/// ```
/// use otlp_sync::encode::Encoding;
/// use otlp_sync::encode::response::{decode_export_response, PartialSuccess};
/// use otlp_sync::model::Signal;
///
/// let body = br#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"bad span"}}"#;
/// # #[cfg(feature = "json")]
/// assert_eq!(
///     decode_export_response(Signal::Traces, Encoding::Json, body),
///     Ok(Some(PartialSuccess { rejected: 2, error_message: "bad span".into() }))
/// );
/// assert_eq!(decode_export_response(Signal::Logs, Encoding::Protobuf, b""), Ok(None));
/// // partial_success { rejected_data_points: 3 } in protobuf:
/// let pb = [0x0a, 0x02, 0x08, 0x03];
/// let got = decode_export_response(Signal::Metrics, Encoding::Protobuf, &pb).unwrap();
/// assert_eq!(got.map(|p| p.rejected), Some(3));
/// ```
pub fn decode_export_response(
    signal: Signal,
    encoding: Encoding,
    body: &[u8],
) -> Result<Option<PartialSuccess>, DecodeError> {
    #[cfg(not(feature = "json"))]
    let _ = signal;
    let ps = match encoding {
        Encoding::Protobuf => pb_export_response(body)?,
        #[cfg(feature = "json")]
        Encoding::Json => json_export_response(signal, body)?,
    };
    Ok(ps.filter(|p| p.rejected != 0 || !p.error_message.is_empty()))
}

/// Decodes a `google.rpc.Status` (`code` = 1, `message` = 2; `details` = 3 is skipped).
///
/// An empty body is the default status (code 0, no message).
///
/// # Errors
///
/// A [`DecodeError`] naming the problem when the body is not a well-formed message.
///
/// ```
/// use otlp_sync::encode::Encoding;
/// use otlp_sync::encode::response::decode_status;
///
/// # #[cfg(feature = "json")] {
/// let st = decode_status(Encoding::Json, br#"{"code":3,"message":"no"}"#).unwrap();
/// assert_eq!((st.code, st.message.as_str()), (3, "no"));
/// # }
/// let st = decode_status(Encoding::Protobuf, b"\x08\x0e\x12\x02hi").unwrap();
/// assert_eq!((st.code, st.message.as_str()), (14, "hi"));
/// assert!(decode_status(Encoding::Protobuf, b"\x12\x05hi").is_err());
/// ```
pub fn decode_status(encoding: Encoding, body: &[u8]) -> Result<RpcStatus, DecodeError> {
    match encoding {
        Encoding::Protobuf => pb_status(body),
        #[cfg(feature = "json")]
        Encoding::Json => json_status(body),
    }
}

/// The most useful error text in an error response, never failing.
///
/// With a protobuf or JSON `Content-Type` whose body decodes as a `google.rpc.Status`
/// with a message, that message (JSON with the cargo feature `json`). Otherwise the body as (lossy) UTF-8 text, trimmed. The
/// result is at most [`MAX_ERROR_MESSAGE_LEN`] bytes, cut on a character boundary. An
/// empty body gives an empty string.
///
/// ```
/// use otlp_sync::encode::response::error_message;
///
/// assert_eq!(error_message(Some("text/plain"), b"  overloaded\n"), "overloaded");
/// # #[cfg(feature = "json")]
/// assert_eq!(
///     error_message(Some("application/json; charset=utf-8"), br#"{"message":"bad id"}"#),
///     "bad id"
/// );
/// assert_eq!(error_message(Some("application/x-protobuf"), b"\x12\x03bad"), "bad");
/// assert_eq!(error_message(None, b""), "");
/// ```
pub fn error_message(content_type: Option<&str>, body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let encoding = content_type.and_then(|ct| {
        let media = ct.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Some(Encoding::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json")
            || media
                .get(media.len().saturating_sub(5)..)
                .is_some_and(|s| s.eq_ignore_ascii_case("+json"))
        {
            json_encoding()
        } else {
            None
        }
    });
    if let Some(encoding) = encoding {
        match decode_status(encoding, body) {
            Ok(st) if !st.message.trim().is_empty() => {
                return clip(st.message.trim());
            }
            // A well-formed binary Status without a message: its bytes are not text.
            Ok(_) if encoding == Encoding::Protobuf => return String::new(),
            _ => {}
        }
    }
    // Only the first bytes can survive the cut; decode no more than those (and up to
    // 3 more, so a character straddling the cut is not turned into a replacement).
    let head = body.get(..MAX_ERROR_MESSAGE_LEN + 3).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    clip(text.trim())
}

/// [`Encoding::Json`] when this build has it.
fn json_encoding() -> Option<Encoding> {
    #[cfg(feature = "json")]
    return Some(Encoding::Json);
    #[cfg(not(feature = "json"))]
    None
}

/// The longest text [`error_message`] returns, in bytes.
pub const MAX_ERROR_MESSAGE_LEN: usize = 512;

fn clip(s: &str) -> String {
    let mut end = s.len().min(MAX_ERROR_MESSAGE_LEN);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    String::from(s[..end].trim_end())
}

// ===================== protobuf =====================

/// Nesting limit for skipped groups (protobuf) and skipped values (JSON).
const MAX_DEPTH: usize = 64;

const WT_VARINT: u8 = 0;
const WT_I64: u8 = 1;
const WT_LEN: u8 = 2;
const WT_SGROUP: u8 = 3;
const WT_EGROUP: u8 = 4;
const WT_I32: u8 = 5;

struct Pb<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the whole body, for error positions.
    base: usize,
}

impl<'a> Pb<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Pb { buf, pos: 0, base }
    }

    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError::new(what, self.base + self.pos)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            if i == 9 && b > 1 {
                return Err(self.err("varint longer than 64 bits"));
            }
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 64 bits"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let rest = self.buf.len() - self.pos.min(self.buf.len());
        match usize::try_from(n) {
            Ok(n) if n <= rest => {
                let s = &self.buf[self.pos..self.pos + n];
                self.pos += n;
                Ok(s)
            }
            _ => Err(self.err("field runs past the end of the body")),
        }
    }

    /// The next field's number and wire type, or `None` at the end.
    fn key(&mut self) -> Result<Option<(u32, u8)>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let at = self.pos;
        let tag = self.varint()?;
        let field = tag >> 3;
        if field == 0 || field > u64::from(u32::MAX >> 3) {
            return Err(DecodeError::new("invalid field number", self.base + at));
        }
        Ok(Some((field as u32, (tag & 7) as u8)))
    }

    /// A length-delimited field's bytes and their offset in the whole body.
    fn len_delimited(&mut self) -> Result<(&'a [u8], usize), DecodeError> {
        let n = self.varint()?;
        let at = self.base + self.pos;
        Ok((self.take(n)?, at))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let (bytes, at) = self.len_delimited()?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| DecodeError::new("string field is not valid UTF-8", at))
    }

    /// Skips one field's value of any wire type, groups included.
    fn skip(&mut self, field: u32, wire_type: u8) -> Result<(), DecodeError> {
        match wire_type {
            WT_VARINT => self.varint().map(drop),
            WT_I64 => self.take(8).map(drop),
            WT_LEN => self.len_delimited().map(drop),
            WT_I32 => self.take(4).map(drop),
            WT_SGROUP => self.skip_group(field),
            WT_EGROUP => Err(self.err("unexpected end of group")),
            _ => Err(self.err("invalid wire type")),
        }
    }

    fn skip_group(&mut self, field: u32) -> Result<(), DecodeError> {
        let mut open = [0u32; MAX_DEPTH];
        open[0] = field;
        let mut depth = 1;
        while depth > 0 {
            let Some((f, wt)) = self.key()? else {
                return Err(self.err("unterminated group"));
            };
            match wt {
                WT_SGROUP => {
                    if depth == MAX_DEPTH {
                        return Err(self.err("groups nested too deeply"));
                    }
                    open[depth] = f;
                    depth += 1;
                }
                WT_EGROUP => {
                    if open[depth - 1] != f {
                        return Err(self.err("mismatched end of group"));
                    }
                    depth -= 1;
                }
                _ => self.skip(f, wt)?,
            }
        }
        Ok(())
    }

    fn expect_wire_type(&self, got: u8, want: u8) -> Result<(), DecodeError> {
        if got == want {
            Ok(())
        } else {
            Err(self.err("known field has the wrong wire type"))
        }
    }
}

fn pb_export_response(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError> {
    let mut r = Pb::new(body, 0);
    let mut ps: Option<PartialSuccess> = None;
    while let Some((field, wt)) = r.key()? {
        if field == 1 {
            r.expect_wire_type(wt, WT_LEN)?;
            let (sub, at) = r.len_delimited()?;
            // A repeated singular message field merges into the earlier one.
            let acc = ps.get_or_insert_with(PartialSuccess::default);
            let mut s = Pb::new(sub, at);
            while let Some((f, wt)) = s.key()? {
                match f {
                    1 => {
                        s.expect_wire_type(wt, WT_VARINT)?;
                        acc.rejected = s.varint()? as i64;
                    }
                    2 => {
                        s.expect_wire_type(wt, WT_LEN)?;
                        acc.error_message = s.string()?;
                    }
                    _ => s.skip(f, wt)?,
                }
            }
        } else {
            r.skip(field, wt)?;
        }
    }
    Ok(ps)
}

fn pb_status(body: &[u8]) -> Result<RpcStatus, DecodeError> {
    let mut r = Pb::new(body, 0);
    let mut st = RpcStatus::default();
    while let Some((field, wt)) = r.key()? {
        match field {
            1 => {
                r.expect_wire_type(wt, WT_VARINT)?;
                // int32: negative values are sign-extended to 64 bits on the wire.
                st.code = r.varint()? as i32;
            }
            2 => {
                r.expect_wire_type(wt, WT_LEN)?;
                st.message = r.string()?;
            }
            _ => r.skip(field, wt)?,
        }
    }
    Ok(st)
}

// ===================== JSON =====================

#[cfg(feature = "json")]
struct Json<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

#[cfg(feature = "json")]
impl<'a> Json<'a> {
    fn new(buf: &'a [u8]) -> Self {
        // Tolerate a UTF-8 byte order mark.
        let pos = if buf.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        Json { buf, pos, depth: 0 }
    }

    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError::new(what, self.pos)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.buf.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.buf.get(self.pos).copied()
    }

    fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), DecodeError> {
        if self.buf.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err("invalid literal"))
        }
    }

    /// Consumes `null` if it is next.
    fn null(&mut self) -> Result<bool, DecodeError> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.buf.get(self.pos) {
                Some(&c @ b'0'..=b'9') => c - b'0',
                Some(&c @ b'a'..=b'f') => c - b'a' + 10,
                Some(&c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = (v << 4) | u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// A string; borrowed when it has no escapes. The output is never longer than the
    /// input it came from.
    fn string(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        if self.peek() != Some(b'"') {
            return Err(self.err("expected a string"));
        }
        self.pos += 1;
        let start = self.pos;
        // Fast path: find the closing quote; if there is no backslash before it, borrow.
        let mut i = start;
        loop {
            match self.buf.get(i) {
                None => return Err(DecodeError::new("unterminated string", i)),
                Some(b'"') => {
                    let s = core::str::from_utf8(&self.buf[start..i])
                        .map_err(|_| DecodeError::new("string is not valid UTF-8", start))?;
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(_) => i += 1,
            }
        }
        let mut out = String::new();
        let mut run = start;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            if b != b'"' && b != b'\\' {
                self.pos += 1;
                continue;
            }
            let chunk = core::str::from_utf8(&self.buf[run..self.pos])
                .map_err(|_| DecodeError::new("string is not valid UTF-8", run))?;
            out.push_str(chunk);
            self.pos += 1;
            if b == b'"' {
                return Ok(Cow::Owned(out));
            }
            let Some(&e) = self.buf.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            let c = match e {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hi = self.hex4()?;
                    if (0xd800..0xdc00).contains(&hi)
                        && self.buf.get(self.pos..self.pos + 2) == Some(b"\\u")
                    {
                        let save = self.pos;
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if (0xdc00..0xe000).contains(&lo) {
                            char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                                .unwrap_or(char::REPLACEMENT_CHARACTER)
                        } else {
                            self.pos = save;
                            char::REPLACEMENT_CHARACTER
                        }
                    } else {
                        char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                }
                _ => return Err(self.err("invalid escape in string")),
            };
            out.push(c);
            run = self.pos;
        }
    }

    /// A JSON number token, validated against the JSON grammar.
    fn number(&mut self) -> Result<&'a str, DecodeError> {
        self.ws();
        let start = self.pos;
        let digits = |s: &mut Self| {
            let from = s.pos;
            while let Some(b'0'..=b'9') = s.buf.get(s.pos) {
                s.pos += 1;
            }
            s.pos > from
        };
        if self.buf.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        if !digits(self) {
            return Err(self.err("expected a number"));
        }
        if self.buf.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.buf.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.buf.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err("invalid number"));
            }
        }
        // Only ASCII was consumed.
        core::str::from_utf8(&self.buf[start..self.pos]).map_err(|_| self.err("invalid number"))
    }

    /// An integer given as a JSON number or a string holding one; `None` for `null`.
    fn int(&mut self) -> Result<Option<i64>, DecodeError> {
        let at = self.pos;
        let text: Cow<'a, str> = match self.peek() {
            Some(b'n') => {
                self.literal(b"null")?;
                return Ok(None);
            }
            Some(b'"') => self.string()?,
            _ => Cow::Borrowed(self.number()?),
        };
        parse_int(text.trim())
            .map(Some)
            .ok_or(DecodeError::new("not an integer", at))
    }

    /// A string, or `None` for `null`.
    fn opt_string(&mut self) -> Result<Option<Cow<'a, str>>, DecodeError> {
        if self.null()? {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    fn enter(&mut self) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("JSON nested too deeply"));
        }
        self.depth += 1;
        Ok(())
    }

    /// Walks an object, calling `field` with the reader positioned on each value. `field`
    /// must consume the value.
    fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &str) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.peek() != Some(b'{') {
            return Err(self.err("expected an object"));
        }
        self.enter()?;
        self.pos += 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.pos += 1;
            field(self, &key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn skip_value(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            Some(b'{') => self.object(|r, _| r.skip_value()),
            Some(b'[') => {
                self.enter()?;
                self.pos += 1;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_value()?;
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            Some(b'"') => self.skip_string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of body")),
        }
    }

    /// Skips a string without allocating.
    fn skip_string(&mut self) -> Result<(), DecodeError> {
        self.pos += 1;
        loop {
            match self.buf.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
    }

    /// The whole body as one object; an empty body or `null` is the default message.
    fn document(
        &mut self,
        field: impl FnMut(&mut Self, &str) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if !(self.at_end() || self.null()?) {
            self.object(field)?;
        }
        if self.at_end() {
            Ok(())
        } else {
            Err(self.err("trailing characters after the JSON value"))
        }
    }
}

/// Parses a decimal integer, also accepting an integral float form such as `"3.0"` or
/// `"1e3"` (proto3 JSON parsers accept those for integer fields).
#[cfg(feature = "json")]
fn parse_int(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let f = s.parse::<f64>().ok()?;
    // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) && f == (f as i64) as f64
    {
        Some(f as i64)
    } else {
        None
    }
}

#[cfg(feature = "json")]
fn json_export_response(
    signal: Signal,
    body: &[u8],
) -> Result<Option<PartialSuccess>, DecodeError> {
    let (camel, snake) = match signal {
        Signal::Traces => ("rejectedSpans", "rejected_spans"),
        Signal::Metrics => ("rejectedDataPoints", "rejected_data_points"),
        Signal::Logs => ("rejectedLogRecords", "rejected_log_records"),
    };
    let mut ps: Option<PartialSuccess> = None;
    Json::new(body).document(|r, key| match key {
        "partialSuccess" | "partial_success" => {
            if r.null()? {
                return Ok(());
            }
            let acc = ps.get_or_insert_with(PartialSuccess::default);
            r.object(|r, key| {
                if key == camel || key == snake {
                    acc.rejected = r.int()?.unwrap_or(0);
                } else if key == "errorMessage" || key == "error_message" {
                    acc.error_message = r.opt_string()?.map(Cow::into_owned).unwrap_or_default();
                } else {
                    r.skip_value()?;
                }
                Ok(())
            })
        }
        _ => r.skip_value(),
    })?;
    Ok(ps)
}

#[cfg(feature = "json")]
fn json_status(body: &[u8]) -> Result<RpcStatus, DecodeError> {
    let mut st = RpcStatus::default();
    Json::new(body).document(|r, key| {
        match key {
            "code" => {
                let at = r.pos;
                let v = r.int()?.unwrap_or(0);
                st.code =
                    i32::try_from(v).map_err(|_| DecodeError::new("code is not an int32", at))?;
            }
            "message" => {
                st.message = r.opt_string()?.map(Cow::into_owned).unwrap_or_default();
            }
            _ => r.skip_value()?,
        }
        Ok(())
    })?;
    Ok(st)
}

// The tests decode JSON next to protobuf throughout; they need the `json` feature.
#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;
    use opentelemetry_proto::tonic::collector::logs::v1::{
        ExportLogsPartialSuccess, ExportLogsServiceResponse,
    };
    use opentelemetry_proto::tonic::collector::metrics::v1::{
        ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use proptest::prelude::*;
    use prost::Message;

    /// `google.rpc.Status`, as the official definition has it, for prost to encode.
    #[derive(Clone, PartialEq, prost::Message)]
    struct PbStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
        #[prost(message, repeated, tag = "3")]
        details: Vec<PbAny>,
    }

    /// `google.protobuf.Any`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct PbAny {
        #[prost(string, tag = "1")]
        type_url: String,
        #[prost(bytes = "vec", tag = "2")]
        value: Vec<u8>,
    }

    fn ps(rejected: i64, msg: &str) -> Option<PartialSuccess> {
        Some(PartialSuccess {
            rejected,
            error_message: msg.to_string(),
        })
    }

    fn pb_responses(rejected: i64, msg: &str) -> [(Signal, Vec<u8>, Vec<u8>); 3] {
        let t = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: msg.to_string(),
            }),
        };
        let m = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: rejected,
                error_message: msg.to_string(),
            }),
        };
        let l = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: msg.to_string(),
            }),
        };
        [
            (
                Signal::Traces,
                t.encode_to_vec(),
                serde_json::to_vec(&t).unwrap(),
            ),
            (
                Signal::Metrics,
                m.encode_to_vec(),
                serde_json::to_vec(&m).unwrap(),
            ),
            (
                Signal::Logs,
                l.encode_to_vec(),
                serde_json::to_vec(&l).unwrap(),
            ),
        ]
    }

    #[test]
    fn official_partial_success_decodes_in_both_encodings() {
        for (rejected, msg) in [
            (5, "5 spans had no name"),
            (0, "warning only"),
            (-1, "negative"),
            (i64::MAX, "max"),
            (i64::MIN, ""),
            (1, "unicode ✓ \"quoted\" \n newline"),
        ] {
            for (signal, pb, json) in pb_responses(rejected, msg) {
                let want = ps(rejected, msg);
                assert_eq!(
                    decode_export_response(signal, Encoding::Protobuf, &pb),
                    Ok(want.clone()),
                    "{signal:?} pb"
                );
                assert_eq!(
                    decode_export_response(signal, Encoding::Json, &json),
                    Ok(want),
                    "{signal:?} json {}",
                    String::from_utf8_lossy(&json)
                );
            }
        }
    }

    #[test]
    fn full_success_forms_are_none() {
        for (signal, pb, json) in pb_responses(0, "") {
            assert_eq!(
                decode_export_response(signal, Encoding::Protobuf, &pb),
                Ok(None)
            );
            assert_eq!(
                decode_export_response(signal, Encoding::Json, &json),
                Ok(None)
            );
        }
        let empty_t = ExportTraceServiceResponse {
            partial_success: None,
        };
        assert!(empty_t.encode_to_vec().is_empty());
        for signal in Signal::ALL {
            for enc in [Encoding::Protobuf, Encoding::Json] {
                assert_eq!(decode_export_response(signal, enc, b""), Ok(None));
            }
            for body in [
                &b"{}"[..],
                b" { } ",
                b"null",
                br#"{"partialSuccess":null}"#,
                br#"{"partialSuccess":{}}"#,
                br#"{"partialSuccess":{"rejectedSpans":0,"rejectedDataPoints":"0","errorMessage":""}}"#,
            ] {
                assert_eq!(
                    decode_export_response(signal, Encoding::Json, body),
                    Ok(None),
                    "{}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn json_int64_as_string_number_or_float_and_field_names_by_signal() {
        let body = br#"{"partialSuccess":{"rejectedSpans":"12","rejectedLogRecords":7,"rejectedDataPoints":3e0,"errorMessage":"x"}}"#;
        assert_eq!(
            decode_export_response(Signal::Traces, Encoding::Json, body),
            Ok(ps(12, "x"))
        );
        assert_eq!(
            decode_export_response(Signal::Logs, Encoding::Json, body),
            Ok(ps(7, "x"))
        );
        assert_eq!(
            decode_export_response(Signal::Metrics, Encoding::Json, body),
            Ok(ps(3, "x"))
        );
        // Original proto field names are accepted too; unknown fields of every kind are skipped.
        let body = br#"{"unknown":[1,{"a":[true,false,null,"s\"]"]}],"partial_success":{"x":{},"rejected_spans":"-4","error_message":"a\u00e9\ud83d\ude00\/b"},"more":-1.5e-3}"#;
        assert_eq!(
            decode_export_response(Signal::Traces, Encoding::Json, body),
            Ok(ps(-4, "aé😀/b"))
        );
    }

    #[test]
    fn protobuf_unknown_fields_of_every_wire_type_are_skipped() {
        let msg = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 9,
                error_message: "m".into(),
            }),
        }
        .encode_to_vec();
        let mut body = Vec::new();
        body.extend_from_slice(&[0x10, 0x96, 0x01]); // field 2 varint
        body.extend_from_slice(&[0x19, 1, 2, 3, 4, 5, 6, 7, 8]); // field 3 fixed64
        body.extend_from_slice(&[0x25, 1, 2, 3, 4]); // field 4 fixed32
        body.extend_from_slice(&[0x2a, 2, b'h', b'i']); // field 5 bytes
        body.extend_from_slice(&[0x33, 0x08, 0x01, 0x3b, 0x3c, 0x34]); // group 6 { 1: 1, group 7 {} }
        body.extend_from_slice(&msg);
        body.extend_from_slice(&[0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00]); // field 2^29-1 varint
        assert_eq!(
            decode_export_response(Signal::Logs, Encoding::Protobuf, &body),
            Ok(ps(9, "m"))
        );
        // Unknown fields inside partial_success as well.
        let inner = [0x0a, 0x08, 0x18, 0x05, 0x08, 0x02, 0x12, 0x02, b'o', b'k'];
        assert_eq!(
            decode_export_response(Signal::Traces, Encoding::Protobuf, &inner),
            Ok(ps(2, "ok"))
        );
    }

    #[test]
    fn official_status_decodes_in_both_encodings() {
        let st = PbStatus {
            code: 3,
            message: "invalid trace id".into(),
            details: vec![PbAny {
                type_url: "type.googleapis.com/google.rpc.BadRequest".into(),
                value: vec![1, 2, 3],
            }],
        };
        assert_eq!(
            decode_status(Encoding::Protobuf, &st.encode_to_vec()),
            Ok(RpcStatus {
                code: 3,
                message: "invalid trace id".into()
            })
        );
        let neg = PbStatus {
            code: -7,
            message: String::new(),
            details: vec![],
        };
        assert_eq!(
            decode_status(Encoding::Protobuf, &neg.encode_to_vec()),
            Ok(RpcStatus {
                code: -7,
                message: String::new()
            })
        );
        let json = serde_json::json!({
            "code": 8,
            "message": "slow down",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "5s"}]
        });
        assert_eq!(
            decode_status(Encoding::Json, json.to_string().as_bytes()),
            Ok(RpcStatus {
                code: 8,
                message: "slow down".into()
            })
        );
        assert_eq!(
            decode_status(Encoding::Json, br#"{"code":"14"}"#),
            Ok(RpcStatus {
                code: 14,
                message: String::new()
            })
        );
        assert!(decode_status(Encoding::Json, br#"{"code":3000000000}"#).is_err());
        assert_eq!(
            decode_status(Encoding::Protobuf, b""),
            Ok(RpcStatus::default())
        );
    }

    #[test]
    fn malformed_inputs_are_errors_that_say_what() {
        let cases: &[(Encoding, &[u8], &str)] = &[
            (Encoding::Protobuf, b"\x0a\x05\x08", "past the end"),
            (Encoding::Protobuf, b"\x0a\x02\x08\x80", "truncated varint"),
            (Encoding::Protobuf, b"\x08\x01", "wrong wire type"),
            (Encoding::Protobuf, b"\x00", "invalid field number"),
            (Encoding::Protobuf, b"\x17", "invalid wire type"),
            (Encoding::Protobuf, b"\x14", "unexpected end of group"),
            (Encoding::Protobuf, b"\x13\x08\x01", "unterminated group"),
            (Encoding::Protobuf, b"\x13\x1c", "mismatched end of group"),
            (Encoding::Protobuf, b"\x0a\x03\x12\x01\xff", "UTF-8"),
            (
                Encoding::Protobuf,
                b"\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",
                "longer than 64 bits",
            ),
            (Encoding::Json, b"{", "expected"),
            (Encoding::Json, b"[]", "expected an object"),
            (Encoding::Json, b"{} x", "trailing"),
            (Encoding::Json, br#"{"a":tru}"#, "invalid literal"),
            (Encoding::Json, br#"{"a":"x}"#, "unterminated string"),
            (Encoding::Json, br#"{"a":1.}"#, "invalid number"),
            (
                Encoding::Json,
                br#"{"partialSuccess":{"errorMessage":"\q"}}"#,
                "invalid escape",
            ),
            (
                Encoding::Json,
                br#"{"partialSuccess":{"rejectedSpans":"1.5"}}"#,
                "not an integer",
            ),
            (
                Encoding::Json,
                br#"{"partialSuccess":{"rejectedSpans":"99999999999999999999"}}"#,
                "not an integer",
            ),
            (
                Encoding::Json,
                br#"{"partialSuccess":{"errorMessage":5}}"#,
                "expected a string",
            ),
        ];
        for (enc, body, want) in cases {
            let err = decode_export_response(Signal::Traces, *enc, body)
                .expect_err(&String::from_utf8_lossy(body));
            let text = err.to_string();
            assert!(text.contains(want), "{body:?}: {text}");
        }
        let mut deep = Vec::new();
        deep.extend_from_slice(b"{\"a\":");
        deep.extend(core::iter::repeat_n(b'[', 100_000));
        let err = decode_export_response(Signal::Traces, Encoding::Json, &deep).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
        let mut groups = Vec::new();
        groups.extend(core::iter::repeat_n(0x1bu8, 100_000));
        let err = decode_status(Encoding::Protobuf, &groups).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
    }

    #[test]
    fn error_message_prefers_the_status_and_falls_back_to_text() {
        let st = PbStatus {
            code: 3,
            message: "  bad data ".into(),
            details: vec![],
        }
        .encode_to_vec();
        assert_eq!(
            error_message(Some("application/x-protobuf"), &st),
            "bad data"
        );
        assert_eq!(error_message(Some("Application/Protobuf"), &st), "bad data");
        // A protobuf Status without a message has no text to show.
        let silent = PbStatus {
            code: 3,
            message: String::new(),
            details: vec![],
        }
        .encode_to_vec();
        assert_eq!(error_message(Some("application/x-protobuf"), &silent), "");
        // A receiver that labels plain text as protobuf: the text.
        assert_eq!(
            error_message(Some("application/x-protobuf"), b"Bad request\n"),
            "Bad request"
        );
        assert_eq!(
            error_message(Some("application/problem+json"), br#"{"message":"m"}"#),
            "m"
        );
        // JSON that is not a Status with a message: the JSON text itself.
        assert_eq!(
            error_message(Some("application/json"), br#"{"error":"quota"}"#),
            r#"{"error":"quota"}"#
        );
        assert_eq!(error_message(None, b"\xffoops"), "\u{fffd}oops");
        let long = "é".repeat(400); // 800 bytes
        let got = error_message(Some("text/plain"), long.as_bytes());
        assert_eq!(got.len(), 512);
        assert!(long.starts_with(&got));
        let got = error_message(Some("text/plain"), &[b'a'; 5000]);
        assert_eq!(got.len(), MAX_ERROR_MESSAGE_LEN);
        let st = serde_json::json!({"message": "x".repeat(600)}).to_string();
        assert_eq!(
            error_message(Some("application/json"), st.as_bytes()).len(),
            512
        );
    }

    #[test]
    fn truncations_of_valid_messages_never_panic() {
        for (signal, pb, json) in pb_responses(77, "some message") {
            for n in 0..pb.len() {
                let _ = decode_export_response(signal, Encoding::Protobuf, &pb[..n]);
            }
            for n in 0..json.len() {
                assert!(
                    decode_export_response(signal, Encoding::Json, &json[..n]).is_err() || n == 0,
                    "{}",
                    String::from_utf8_lossy(&json[..n])
                );
            }
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            for signal in Signal::ALL {
                for enc in [Encoding::Protobuf, Encoding::Json] {
                    let _ = decode_export_response(signal, enc, &body);
                    let _ = decode_status(enc, &body);
                }
            }
            for ct in [None, Some("application/json"), Some("application/x-protobuf")] {
                let msg = error_message(ct, &body);
                prop_assert!(msg.len() <= MAX_ERROR_MESSAGE_LEN);
            }
        }

        #[test]
        fn json_like_text_never_panics(body in "[{}\\[\\]\",:0-9a-zA-Z\\\\. eE+-]{0,200}") {
            for signal in Signal::ALL {
                let _ = decode_export_response(signal, Encoding::Json, body.as_bytes());
            }
            let _ = decode_status(Encoding::Json, body.as_bytes());
        }

        #[test]
        fn any_partial_success_round_trips(rejected in any::<i64>(), msg in "\\PC{0,40}") {
            for (signal, pb, json) in pb_responses(rejected, &msg) {
                let want = if rejected == 0 && msg.is_empty() { None } else { ps(rejected, &msg) };
                prop_assert_eq!(decode_export_response(signal, Encoding::Protobuf, &pb), Ok(want.clone()));
                prop_assert_eq!(decode_export_response(signal, Encoding::Json, &json), Ok(want));
            }
        }
    }
}
