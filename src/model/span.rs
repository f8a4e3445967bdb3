//! Spans, their events, links and status.

use super::ids::{SpanId, TraceId};
use super::value::{Attributes, Str};
use alloc::borrow::Cow;
use alloc::vec::Vec;

/// Bits 0-7 of [`Span::flags`] and [`Link::flags`]: the W3C trace flags.
pub const SPAN_FLAGS_TRACE_FLAGS_MASK: u32 = 0x0000_00ff;
/// Bit 8: the `is_remote` bit below is known.
pub const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE: u32 = 0x0000_0100;
/// Bit 9: the parent (or linked) span context came from another process.
pub const SPAN_FLAGS_CONTEXT_IS_REMOTE: u32 = 0x0000_0200;

/// What role a span plays in a trace. Wire values are those of OTLP `Span.SpanKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum SpanKind {
    /// Unspecified (0); receivers treat it as internal.
    Unspecified = 0,
    /// An internal operation (1).
    #[default]
    Internal = 1,
    /// Handling a synchronous request (2).
    Server = 2,
    /// Making a synchronous request (3).
    Client = 3,
    /// Sending a message (4).
    Producer = 4,
    /// Receiving a message (5).
    Consumer = 5,
}

/// The status code of a span. Wire values are those of OTLP `Status.StatusCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum StatusCode {
    /// Not set (0).
    #[default]
    Unset = 0,
    /// Explicitly OK (1).
    Ok = 1,
    /// An error (2).
    Error = 2,
}

/// A span's status.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// The code.
    pub code: StatusCode,
    /// A developer-facing message; empty when none.
    pub message: Str,
}

/// Something that happened at a point in time during a span.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// Nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Event name.
    pub name: Str,
    /// Event attributes.
    pub attributes: Attributes,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
}

/// A pointer from a span to another span (possibly in another trace).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    /// Trace id of the linked span.
    pub trace_id: TraceId,
    /// Span id of the linked span.
    pub span_id: SpanId,
    /// W3C `tracestate` of the linked span context; empty when none.
    pub trace_state: Str,
    /// Link attributes.
    pub attributes: Attributes,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// Trace flags and remote bits, see [`SPAN_FLAGS_TRACE_FLAGS_MASK`].
    pub flags: u32,
}

/// A finished span, as exported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Span {
    /// Trace id.
    pub trace_id: TraceId,
    /// Span id.
    pub span_id: SpanId,
    /// W3C `tracestate`; empty when none.
    pub trace_state: Str,
    /// Parent span id; [`SpanId::INVALID`] for a root span.
    pub parent_span_id: SpanId,
    /// Trace flags and remote bits, see [`SPAN_FLAGS_TRACE_FLAGS_MASK`].
    pub flags: u32,
    /// Span name.
    pub name: Str,
    /// Span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// Span attributes.
    pub attributes: Attributes,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// Events, in time order.
    pub events: Vec<Event>,
    /// Events dropped by limits.
    pub dropped_events_count: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links dropped by limits.
    pub dropped_links_count: u32,
    /// Status.
    pub status: Status,
}

impl Span {
    /// A root span with a name and ids; everything else default (kind internal, no time).
    pub fn new(name: impl Into<Str>, trace_id: TraceId, span_id: SpanId) -> Self {
        Span {
            trace_id,
            span_id,
            trace_state: Cow::Borrowed(""),
            name: name.into(),
            ..Default::default()
        }
    }
}
