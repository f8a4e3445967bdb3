//! Log records.

use super::ids::{SpanId, TraceId};
use super::value::{AnyValue, Attributes, Str};

/// OTLP severity number, 0 (unspecified) to 24 (FATAL4).
///
/// ```
/// use otlp_sync::model::Severity;
/// assert_eq!(Severity::INFO.0, 9);
/// assert_eq!(Severity::ERROR.0, 17);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Severity(pub i32);

impl Severity {
    /// Not specified (0).
    pub const UNSPECIFIED: Severity = Severity(0);
    /// TRACE (1).
    pub const TRACE: Severity = Severity(1);
    /// DEBUG (5).
    pub const DEBUG: Severity = Severity(5);
    /// INFO (9).
    pub const INFO: Severity = Severity(9);
    /// WARN (13).
    pub const WARN: Severity = Severity(13);
    /// ERROR (17).
    pub const ERROR: Severity = Severity(17);
    /// FATAL (21).
    pub const FATAL: Severity = Severity(21);
}

/// One log record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRecord {
    /// When the event happened, nanoseconds since the Unix epoch; 0 when unknown.
    pub time_unix_nano: u64,
    /// When the record was observed by the SDK, nanoseconds since the Unix epoch.
    pub observed_time_unix_nano: u64,
    /// Severity number.
    pub severity_number: Severity,
    /// Severity text as the source gave it (e.g. `"INFO"`); empty when none.
    pub severity_text: Str,
    /// The body; [`AnyValue::Empty`] when none.
    pub body: AnyValue,
    /// Attributes.
    pub attributes: Attributes,
    /// Attributes dropped by limits.
    pub dropped_attributes_count: u32,
    /// W3C trace flags (bits 0-7).
    pub flags: u32,
    /// Trace id of the active span, or invalid.
    pub trace_id: TraceId,
    /// Span id of the active span, or invalid.
    pub span_id: SpanId,
    /// Event name for records that are events; empty otherwise.
    pub event_name: Str,
}
