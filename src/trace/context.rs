//! Span contexts, the W3C `tracestate` list, and the thread's current span context.

use crate::model::{
    SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, SPAN_FLAGS_CONTEXT_IS_REMOTE, SpanId, Str, TraceId,
};
use alloc::borrow::Cow;
use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;
use std::cell::RefCell;

/// W3C trace flag `sampled` (bit 0): the caller may have recorded the trace; spans with it
/// are exported.
pub const TRACE_FLAG_SAMPLED: u8 = 0x01;
/// W3C Trace Context Level 2 trace flag `random` (bit 1): the rightmost 56 bits of the
/// trace id are random.
pub const TRACE_FLAG_RANDOM: u8 = 0x02;
/// The trace flags this crate knows; others are cleared when a context is extracted.
pub const TRACE_FLAGS_KNOWN: u8 = TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM;

/// The most list members a [`TraceState`] holds (W3C).
pub const TRACE_STATE_MAX_MEMBERS: usize = 32;

/// The part of a span that travels: ids, trace flags, trace state, and whether it came
/// from another process.
///
/// ```
/// use otlp_sync::model::{SpanId, TraceId};
/// use otlp_sync::trace::{SpanContext, TraceState, TRACE_FLAG_SAMPLED};
/// let ctx = SpanContext::new(
///     TraceId::from_bytes([1; 16]),
///     SpanId::from_bytes([2; 8]),
///     TRACE_FLAG_SAMPLED,
///     true,
///     TraceState::default(),
/// );
/// assert!(ctx.is_valid() && ctx.is_sampled() && ctx.is_remote);
/// assert!(!otlp_sync::trace::SpanContext::INVALID.is_valid());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct SpanContext {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id.
    pub span_id: SpanId,
    /// W3C trace flags: [`TRACE_FLAG_SAMPLED`], [`TRACE_FLAG_RANDOM`].
    pub trace_flags: u8,
    /// The W3C `tracestate` list.
    pub trace_state: TraceState,
    /// Whether the context was received from another process (extracted by a
    /// propagator).
    pub is_remote: bool,
}

impl SpanContext {
    /// The invalid context: zero ids, no flags, empty state, local.
    pub const INVALID: SpanContext = SpanContext {
        trace_id: TraceId::INVALID,
        span_id: SpanId::INVALID,
        trace_flags: 0,
        trace_state: TraceState::EMPTY,
        is_remote: false,
    };

    /// A context from its parts.
    pub const fn new(
        trace_id: TraceId,
        span_id: SpanId,
        trace_flags: u8,
        is_remote: bool,
        trace_state: TraceState,
    ) -> Self {
        SpanContext {
            trace_id,
            span_id,
            trace_flags,
            trace_state,
            is_remote,
        }
    }

    /// Both ids are non-zero.
    pub fn is_valid(&self) -> bool {
        self.trace_id.is_valid() && self.span_id.is_valid()
    }

    /// The `sampled` flag is set.
    pub fn is_sampled(&self) -> bool {
        self.trace_flags & TRACE_FLAG_SAMPLED != 0
    }

    /// The OTLP `flags` field for a link to (or a span whose parent is) this context:
    /// the trace flags in bits 0-7, plus the "is-remote known" bit and the is-remote bit.
    pub fn otlp_flags(&self) -> u32 {
        let remote = if self.is_remote {
            SPAN_FLAGS_CONTEXT_IS_REMOTE
        } else {
            0
        };
        u32::from(self.trace_flags) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | remote
    }

    /// Makes this context the thread's current one until the guard is dropped (see
    /// [`current_span_context`]). Useful for a context extracted from a request.
    pub fn enter(&self) -> ContextGuard {
        enter_context(self.clone())
    }
}

/// Why a `tracestate` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceStateError {
    /// A key does not follow the W3C key grammar.
    InvalidKey,
    /// A value does not follow the W3C value grammar (1 to 256 printable ASCII
    /// characters, no `,` or `=`, not ending in a space).
    InvalidValue,
    /// A list member has no `=`.
    MissingEquals,
    /// The same key appears twice.
    DuplicateKey,
    /// More than 32 list members.
    TooManyMembers,
}

impl fmt::Display for TraceStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceStateError::InvalidKey => "invalid tracestate key",
            TraceStateError::InvalidValue => "invalid tracestate value",
            TraceStateError::MissingEquals => "tracestate list member without '='",
            TraceStateError::DuplicateKey => "duplicate tracestate key",
            TraceStateError::TooManyMembers => "more than 32 tracestate list members",
        })
    }
}

impl std::error::Error for TraceStateError {}

/// The W3C `tracestate` list: vendor-specific `key=value` members, at most 32, each key
/// once. Immutable; the editing methods return a new list.
///
/// Kept as its normalized header text (members joined by `,`, no optional whitespace,
/// no empty members), so it is copied to exported spans as is. The empty list costs
/// nothing to clone.
///
/// Keys follow the W3C Trace Context Recommendation: a *simple key* (a lowercase letter,
/// then up to 255 of `a-z 0-9 _ - * /`) or a *multi-tenant key* `tenant@system` (tenant:
/// a lowercase letter or digit then up to 240 of those characters; system: a lowercase
/// letter then up to 13). Values are 1 to 256 printable ASCII characters other than `,`
/// and `=`, not ending in a space.
///
/// ```
/// use otlp_sync::trace::TraceState;
/// let ts: TraceState = " rojo=00f067aa0ba902b7 ,, congo=t61rcWkgMzE".parse().unwrap();
/// assert_eq!(ts.as_str(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// assert_eq!(ts.get("congo"), Some("t61rcWkgMzE"));
/// let ts = ts.insert("congo", "ucfJifl5GOE").unwrap();
/// assert_eq!(ts.as_str(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
/// assert!("Bad=1".parse::<TraceState>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct TraceState(Str);

impl TraceState {
    /// The empty list.
    pub const EMPTY: TraceState = TraceState(Cow::Borrowed(""));

    /// Parses a `tracestate` header value (members joined with `,`, optional spaces and
    /// tabs around members, empty members allowed and dropped).
    ///
    /// # Errors
    /// Any invalid member, a duplicate key, or more than 32 members: the whole list is
    /// refused, as the W3C specification asks.
    pub fn parse(header: &str) -> Result<TraceState, TraceStateError> {
        let mut out = String::with_capacity(header.len());
        let mut count = 0usize;
        for member in header.split(',') {
            let member = member.trim_matches(is_ows);
            if member.is_empty() {
                continue;
            }
            let (key, value) = member
                .split_once('=')
                .ok_or(TraceStateError::MissingEquals)?;
            if !valid_key(key) {
                return Err(TraceStateError::InvalidKey);
            }
            if !valid_value(value) {
                return Err(TraceStateError::InvalidValue);
            }
            count += 1;
            if count > TRACE_STATE_MAX_MEMBERS {
                return Err(TraceStateError::TooManyMembers);
            }
            if members(&out).any(|(k, _)| k == key) {
                return Err(TraceStateError::DuplicateKey);
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        if out.is_empty() {
            return Ok(TraceState::EMPTY);
        }
        Ok(TraceState(Cow::Owned(out)))
    }

    /// The normalized header text; empty when there are no members.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as a [`Str`] (a cheap clone when empty or `'static`).
    pub fn to_str(&self) -> Str {
        self.0.clone()
    }

    /// No members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many members.
    pub fn len(&self) -> usize {
        members(&self.0).count()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        members(&self.0).find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The members, left to right.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        members(&self.0)
    }

    /// A list with `key=value` first and any earlier member of `key` removed (the W3C
    /// rule for a modified or added key). When that makes 33 members, the last one is
    /// dropped.
    ///
    /// # Errors
    /// An invalid key or value.
    pub fn insert(&self, key: &str, value: &str) -> Result<TraceState, TraceStateError> {
        if !valid_key(key) {
            return Err(TraceStateError::InvalidKey);
        }
        if !valid_value(value) {
            return Err(TraceStateError::InvalidValue);
        }
        let mut out = String::with_capacity(self.0.len() + key.len() + value.len() + 2);
        out.push_str(key);
        out.push('=');
        out.push_str(value);
        for (k, v) in members(&self.0)
            .filter(|(k, _)| *k != key)
            .take(TRACE_STATE_MAX_MEMBERS - 1)
        {
            out.push(',');
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        Ok(TraceState(Cow::Owned(out)))
    }

    /// A list without `key`.
    pub fn remove(&self, key: &str) -> TraceState {
        if self.get(key).is_none() {
            return self.clone();
        }
        let mut out = String::with_capacity(self.0.len());
        for (k, v) in members(&self.0).filter(|(k, _)| *k != key) {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        if out.is_empty() {
            TraceState::EMPTY
        } else {
            TraceState(Cow::Owned(out))
        }
    }
}

impl FromStr for TraceState {
    type Err = TraceStateError;
    fn from_str(s: &str) -> Result<Self, TraceStateError> {
        TraceState::parse(s)
    }
}

impl fmt::Display for TraceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The members of normalized text.
fn members(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(',')
        .filter(|m| !m.is_empty())
        .filter_map(|m| m.split_once('='))
}

/// W3C optional whitespace: space or horizontal tab.
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/')
}

/// `simple-key / multi-tenant-key` of the W3C Trace Context Recommendation.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    match key.split_once('@') {
        None => {
            !b.is_empty()
                && b.len() <= 256
                && b[0].is_ascii_lowercase()
                && b.iter().copied().all(is_key_char)
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t.iter().copied().all(is_key_char)
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && s.iter().copied().all(is_key_char)
        }
    }
}

/// `value = 0*255(chr) nblk-chr`.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    let nblk = |c: u8| (0x21..=0x7e).contains(&c) && c != b',' && c != b'=';
    match b.split_last() {
        None => false,
        Some((&last, rest)) => {
            b.len() <= 256 && nblk(last) && rest.iter().all(|&c| c == b' ' || nblk(c))
        }
    }
}

// ---- the thread's current span context ------------------------------------------------

thread_local! {
    // A RefCell, not a Cell: reading the context (every span start) is a borrow, not a
    // move out and back of the whole context. Only these three functions borrow it, and
    // none calls out while borrowing, so a borrow never fails.
    static CURRENT: RefCell<Option<SpanContext>> = const { RefCell::new(None) };
}

/// The calling thread's current span context: the one last entered with
/// [`ActiveSpan::enter`](super::ActiveSpan::enter) (or [`SpanContext::enter`]) whose guard
/// is still alive. New spans use it as their parent unless told otherwise.
///
/// This is a thread-local: it does not follow work to another thread, nor an async task
/// that a runtime moves between threads. Pass the context explicitly there
/// ([`SpanBuilder::parent`](super::SpanBuilder::parent)).
pub fn current_span_context() -> Option<SpanContext> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|v| v.clone()))
        .ok()
        .flatten()
}

/// Makes `context` the thread's current span context until the returned guard is
/// dropped; the guard then restores what was current before.
pub fn enter_context(context: SpanContext) -> ContextGuard {
    let previous = CURRENT
        .try_with(|c| c.try_borrow_mut().ok().and_then(|mut v| v.replace(context)))
        .ok()
        .flatten();
    ContextGuard {
        previous,
        _not_send: PhantomData,
    }
}

/// Restores the previous current span context when dropped. Guards nest: drop them in
/// reverse order of creation (as scopes do). Not `Send`: it belongs to the thread whose
/// context it changed.
#[must_use = "the context is current only while the guard lives"]
#[derive(Debug)]
pub struct ContextGuard {
    previous: Option<SpanContext>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut v) = c.try_borrow_mut() {
                *v = previous;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(n: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n; 8]),
            TRACE_FLAG_SAMPLED,
            false,
            TraceState::EMPTY,
        )
    }

    #[test]
    fn guards_nest_and_restore() {
        assert_eq!(current_span_context(), None);
        let a = enter_context(ctx(1));
        assert_eq!(current_span_context(), Some(ctx(1)));
        {
            let _b = enter_context(ctx(2));
            assert_eq!(current_span_context(), Some(ctx(2)));
        }
        assert_eq!(current_span_context(), Some(ctx(1)));
        drop(a);
        assert_eq!(current_span_context(), None);
    }

    #[test]
    fn otlp_flags_carry_remote_bits() {
        let mut c = ctx(1);
        assert_eq!(c.otlp_flags(), 0x101);
        c.is_remote = true;
        assert_eq!(c.otlp_flags(), 0x301);
    }

    #[test]
    fn trace_state_keys() {
        for ok in [
            "a",
            "a-b_c*d/e",
            "0tenant@sys",
            "t@s",
            &"a".repeat(256),
            &format!("{}@{}", "t".repeat(241), "s".repeat(14)),
        ] {
            assert!(valid_key(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "0abc",
            "a b",
            "a.b",
            "@s",
            "t@",
            "t@0s",
            "t@s@x",
            &"a".repeat(257),
            &format!("{}@s", "t".repeat(242)),
            &format!("t@{}", "s".repeat(15)),
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn trace_state_values() {
        assert!(valid_value("x"));
        assert!(valid_value(" leading ok"));
        assert!(valid_value(&"v".repeat(256)));
        assert!(!valid_value(""));
        assert!(!valid_value("trailing "));
        assert!(!valid_value("a,b"));
        assert!(!valid_value("a=b"));
        assert!(!valid_value("tab\there"));
        assert!(!valid_value("é"));
        assert!(!valid_value(&"v".repeat(257)));
    }

    #[test]
    fn trace_state_parse_rules() {
        assert_eq!(TraceState::parse("").unwrap(), TraceState::EMPTY);
        assert_eq!(TraceState::parse(" , \t,").unwrap(), TraceState::EMPTY);
        let ts = TraceState::parse("a=1,\tb= 2 ").unwrap();
        assert_eq!(ts.as_str(), "a=1,b= 2");
        assert_eq!(ts.get("b"), Some(" 2"));
        assert_eq!(ts.len(), 2);
        assert_eq!(
            TraceState::parse("a=1,a=2"),
            Err(TraceStateError::DuplicateKey)
        );
        assert_eq!(TraceState::parse("a"), Err(TraceStateError::MissingEquals));
        let max: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        assert_eq!(TraceState::parse(&max.join(",")).unwrap().len(), 32);
        let over: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            TraceState::parse(&over.join(",")),
            Err(TraceStateError::TooManyMembers)
        );
    }

    #[test]
    fn trace_state_edits() {
        let ts = TraceState::parse("a=1,b=2").unwrap();
        assert_eq!(ts.insert("c", "3").unwrap().as_str(), "c=3,a=1,b=2");
        assert_eq!(ts.insert("b", "9").unwrap().as_str(), "b=9,a=1");
        assert_eq!(ts.remove("a").as_str(), "b=2");
        assert_eq!(ts.remove("a").remove("b"), TraceState::EMPTY);
        assert_eq!(ts.insert("B", "1"), Err(TraceStateError::InvalidKey));
        let full: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        let full = TraceState::parse(&full.join(",")).unwrap();
        let more = full.insert("new", "v").unwrap();
        assert_eq!(more.len(), 32);
        assert_eq!(more.get("k31"), None);
        assert_eq!(more.iter().next(), Some(("new", "v")));
    }
}
