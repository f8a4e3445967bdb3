//! W3C Trace Context propagation: the `traceparent` and `tracestate` headers.
//!
//! [`inject`] writes a span context into outgoing headers (anything implementing
//! [`Injector`]); [`extract`] reads one from incoming headers (an [`Extractor`]) and
//! marks it remote. Use the extracted context as a parent with
//! [`SpanBuilder::parent`](crate::trace::SpanBuilder::parent) or make it current with
//! [`SpanContext::enter`].
//!
//! ```
//! use otlp_sync::propagation::{extract, inject};
//! use std::collections::HashMap;
//!
//! let mut incoming = HashMap::new();
//! incoming.insert(
//!     "traceparent".to_string(),
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
//! );
//! incoming.insert("tracestate".to_string(), "congo=t61rcWkgMzE".to_string());
//! let ctx = extract(&incoming).expect("valid traceparent");
//! assert!(ctx.is_remote && ctx.is_sampled());
//! assert_eq!(ctx.trace_state.get("congo"), Some("t61rcWkgMzE"));
//!
//! let mut outgoing: HashMap<String, String> = HashMap::new();
//! inject(&ctx, &mut outgoing);
//! assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
//! assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE");
//! ```
//!
//! Parsing follows the W3C Trace Context rules: lowercase hex only; version `ff` is
//! invalid; version `00` must be exactly 55 characters; a higher version must be at
//! least 55 characters and, when longer, continue with `-` after the flags (the extra
//! fields are ignored); all-zero trace or parent ids are invalid. Spaces and tabs around
//! the header value are ignored. An invalid `tracestate` is dropped entirely while the
//! `traceparent` is still used. Trace flags other than `sampled` and `random` are
//! cleared, and the context is re-emitted as version `00`.

use crate::model::{SpanId, TraceId};
use crate::trace::{SpanContext, TRACE_FLAGS_KNOWN, TraceState, current_span_context};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The `traceparent` header name.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header name.
pub const TRACESTATE: &str = "tracestate";

/// Somewhere to write outgoing headers (an HTTP request, message metadata, a map).
pub trait Injector {
    /// Sets header `key` (lowercase) to `value`, replacing an earlier value.
    fn set(&mut self, key: &str, value: String);
}

/// Somewhere to read incoming headers from.
pub trait Extractor {
    /// The value of header `key`. Header names are case-insensitive: implementations
    /// should match `key` (given in lowercase) in any case.
    fn get(&self, key: &str) -> Option<&str>;

    /// Every value of header `key`, in order, for headers that may repeat (several
    /// `tracestate` fields are joined with `,`). Defaults to [`get`](Self::get).
    fn get_all(&self, key: &str) -> Vec<&str> {
        self.get(key).into_iter().collect()
    }
}

impl Injector for HashMap<String, String> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_string(), value);
    }
}

impl Extractor for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(v) = HashMap::get(self, key) {
            return Some(v);
        }
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl Injector for Vec<(String, String)> {
    fn set(&mut self, key: &str, value: String) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.push((key.to_string(), value));
    }
}

impl Extractor for Vec<(String, String)> {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn get_all(&self, key: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The `traceparent` value for `context`: `00-<trace id>-<span id>-<flags>`, all
/// lowercase hex (flags limited to the known ones).
pub fn traceparent(context: &SpanContext) -> String {
    let mut s = String::with_capacity(55);
    let _ = write!(
        s,
        "00-{}-{}-{:02x}",
        context.trace_id,
        context.span_id,
        context.trace_flags & TRACE_FLAGS_KNOWN
    );
    s
}

/// Writes `traceparent` (and `tracestate` when not empty) for `context`. An invalid
/// context writes nothing.
pub fn inject(context: &SpanContext, injector: &mut impl Injector) {
    if !context.is_valid() {
        return;
    }
    injector.set(TRACEPARENT, traceparent(context));
    if !context.trace_state.is_empty() {
        injector.set(TRACESTATE, context.trace_state.as_str().to_string());
    }
}

/// [`inject`] of the thread's current span context, if there is one.
pub fn inject_current(injector: &mut impl Injector) {
    if let Some(context) = current_span_context() {
        inject(&context, injector);
    }
}

/// Reads a remote span context from `traceparent` and `tracestate`; `None` when
/// `traceparent` is missing or invalid.
pub fn extract(extractor: &impl Extractor) -> Option<SpanContext> {
    let mut context = parse_traceparent(extractor.get(TRACEPARENT)?)?;
    let fields = extractor.get_all(TRACESTATE);
    if !fields.is_empty() {
        // Several fields combine like one list (RFC 7230 field order).
        let joined;
        let header = if fields.len() == 1 {
            fields[0]
        } else {
            joined = fields.join(",");
            &joined
        };
        // An invalid tracestate is discarded; the traceparent stands.
        context.trace_state = TraceState::parse(header).unwrap_or_default();
    }
    Some(context)
}

fn hex_lower(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// `N` bytes from `2 * N` lowercase hex digits.
fn parse_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (hex_lower(s[2 * i])? << 4) | hex_lower(s[2 * i + 1])?;
    }
    Some(out)
}

/// Parses a `traceparent` value into a remote span context (empty trace state).
///
/// ```
/// use otlp_sync::propagation::parse_traceparent;
/// assert!(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some());
/// assert!(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
/// assert!(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what").is_some());
/// ```
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let v = value.trim_matches([' ', '\t']).as_bytes();
    if v.len() < 55 {
        return None;
    }
    let version = parse_hex::<1>(&v[0..2])?[0];
    if version == 0xff {
        return None;
    }
    if version == 0 && v.len() != 55 {
        return None;
    }
    if v.len() > 55 && v[55] != b'-' {
        return None;
    }
    if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let trace_id = TraceId::from_bytes(parse_hex::<16>(&v[3..35])?);
    let span_id = SpanId::from_bytes(parse_hex::<8>(&v[36..52])?);
    let flags = parse_hex::<1>(&v[53..55])?[0];
    let context = SpanContext::new(
        trace_id,
        span_id,
        flags & TRACE_FLAGS_KNOWN,
        true,
        TraceState::EMPTY,
    );
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn invalid_traceparents() {
        let cases = [
            ("", "empty"),
            ("00", "too short"),
            (&TP[..54], "one short"),
            (&format!("{TP}-"), "v00 too long"),
            (&format!("{TP}0"), "v00 too long"),
            (&TP.replacen("00-", "ff-", 1), "version ff"),
            (&TP.replacen("00-", "0g-", 1), "version not hex"),
            (&TP.replacen("00-", "0A-", 1), "version uppercase"),
            (&TP.replace("4bf9", "4BF9"), "uppercase trace id"),
            (&TP.replace("00f067aa", "00F067AA"), "uppercase span id"),
            (&TP.replace("-01", "-0A"), "uppercase flags"),
            (&TP.replace("-01", "-0x"), "flags not hex"),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "zero trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "zero span id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                "bad separator",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
                "shifted separator",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e47z6-00f067aa0ba902b7-01",
                "trace id not hex",
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                "future version, no dash after flags",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
                "non-ascii",
            ),
        ];
        for (value, why) in cases {
            assert_eq!(parse_traceparent(value), None, "{why}: {value:?}");
        }
    }

    #[test]
    fn valid_traceparents() {
        let c = parse_traceparent(TP).unwrap();
        assert_eq!(c.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(c.span_id.to_string(), "00f067aa0ba902b7");
        assert!(c.is_sampled() && c.is_remote);
        assert_eq!(parse_traceparent(&format!(" \t{TP} ")), Some(c.clone()));
        let unsampled = parse_traceparent(&TP.replace("-01", "-00")).unwrap();
        assert!(!unsampled.is_sampled());
        // Unknown flags are cleared; random is kept.
        assert_eq!(
            parse_traceparent(&TP.replace("-01", "-ff"))
                .unwrap()
                .trace_flags,
            0x03
        );
        // Future versions: extra fields after a dash, or exactly 55 characters.
        let future = parse_traceparent(&format!("{}-extra-stuff", TP.replacen("00", "cc", 1)));
        assert_eq!(future.map(|f| f.trace_id), Some(c.trace_id));
        assert!(parse_traceparent(&TP.replacen("00", "fe", 1)).is_some());
    }

    #[test]
    fn inject_extract_round_trip() {
        let ts = TraceState::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE").unwrap();
        let ctx = SpanContext::new(
            TraceId::from_bytes([0xab; 16]),
            SpanId::from_bytes([0xcd; 8]),
            0x03,
            false,
            ts.clone(),
        );
        let mut headers: HashMap<String, String> = HashMap::new();
        inject(&ctx, &mut headers);
        assert_eq!(
            headers["traceparent"],
            "00-abababababababababababababababab-cdcdcdcdcdcdcdcd-03"
        );
        let back = extract(&headers).unwrap();
        assert_eq!(
            back,
            SpanContext {
                is_remote: true,
                ..ctx
            }
        );

        let mut pairs: Vec<(String, String)> = Vec::new();
        inject(&back, &mut pairs);
        inject(&back, &mut pairs);
        assert_eq!(pairs.len(), 2, "set replaces");
        assert_eq!(extract(&pairs), Some(back));

        let mut none: HashMap<String, String> = HashMap::new();
        inject(&SpanContext::INVALID, &mut none);
        assert!(none.is_empty());
        let without_state = SpanContext {
            trace_state: TraceState::EMPTY,
            ..ctx
        };
        inject(&without_state, &mut none);
        assert_eq!(none.len(), 1);
    }

    #[test]
    fn header_names_are_case_insensitive() {
        let mut h: HashMap<String, String> = HashMap::new();
        h.insert("TraceParent".into(), TP.into());
        h.insert("TRACESTATE".into(), "a=1".into());
        let c = extract(&h).unwrap();
        assert_eq!(c.trace_state.as_str(), "a=1");
    }

    #[test]
    fn tracestate_handling() {
        let with = |ts: &str| {
            let mut h: HashMap<String, String> = HashMap::new();
            h.insert("traceparent".into(), TP.into());
            h.insert("tracestate".into(), ts.into());
            extract(&h).unwrap().trace_state
        };
        assert_eq!(with(" a=1 ,\tb=2 ").as_str(), "a=1,b=2");
        assert_eq!(with("").as_str(), "");
        assert_eq!(with("a=1,A=2"), TraceState::EMPTY, "invalid key drops all");
        assert_eq!(with("a=1,a=2"), TraceState::EMPTY, "duplicate drops all");
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(with(&many.join(",")), TraceState::EMPTY);
        // Repeated fields combine.
        let pairs = vec![
            ("traceparent".to_string(), TP.to_string()),
            ("tracestate".to_string(), "a=1".to_string()),
            ("Tracestate".to_string(), "b=2".to_string()),
        ];
        assert_eq!(extract(&pairs).unwrap().trace_state.as_str(), "a=1,b=2");
        // No tracestate is parsed when traceparent is invalid.
        let bad = vec![
            ("traceparent".to_string(), "garbage".to_string()),
            ("tracestate".to_string(), "a=1".to_string()),
        ];
        assert_eq!(extract(&bad), None);
    }
}
