//! Logs: a [`Logger`] that turns log records into OTLP log records and queues them for
//! export.
//!
//! A logger is a cheap handle (one `Arc`), `Clone + Send + Sync`, made by
//! [`Exporter::logger`](crate::exporter::Exporter::logger) or [`Logger::new`]. Emitting
//! never blocks (unless the pipeline is configured to block on a full queue) and never
//! fails loudly: a record that cannot be queued is counted as dropped in the exporter's
//! stats ([`Logger::try_emit`] hands it back instead). A logger made without a sender
//! (the SDK is disabled) does nothing.
//!
//! On emit the logger completes the record as the OpenTelemetry logs SDK specifies:
//! * `observed_time_unix_nano` is set to now when it is 0;
//! * `severity_text` is derived from the severity number when it is empty (`"INFO"`,
//!   `"WARN2"`, ..., see [`severity_text`]);
//! * the trace context (trace id, span id, trace flags) is taken from the current span when
//!   the record has no trace id.
//!
//! The shortcuts ([`Logger::info`] and friends, and [`LogRecordBuilder::emit`]) also set
//! the record's `time_unix_nano` to now when it is unset.
//!
//! ```
//! use otlp_sync::logs::Logger;
//! use otlp_sync::model::{AnyValue, InstrumentationScope, Severity};
//! use otlp_sync::pipeline::{Pipeline, PipelineConfig};
//! # use otlp_sync::transport::{Request, Response, Transport, TransportError};
//! # struct Sink;
//! # impl Transport for Sink {
//! #     fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
//! #         Ok(Response { status: 200, ..Default::default() })
//! #     }
//! # }
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let pipeline = Pipeline::start(PipelineConfig::default(), Default::default(), Box::new(Sink))?;
//! let logger = Logger::new(Some(pipeline.sender()), Arc::new(InstrumentationScope::new("sensor")));
//! logger.info("pressure high");
//! logger
//!     .record(Severity::WARN)
//!     .body("valve stuck")
//!     .attr("valve", 3)
//!     .event_name("valve.stuck")
//!     .emit();
//! pipeline.flush(Duration::from_secs(5)).expect("flushed");
//! assert_eq!(pipeline.stats().logs.exported, 2);
//!
//! // Without a sender every call is a no-op.
//! Logger::noop().info("nobody hears this");
//! # Ok::<(), otlp_sync::pipeline::StartError>(())
//! ```

use crate::clock::{unix_nanos, unix_nanos_now};
use crate::encode::protobuf::{key_value_field, log_record_fields, put_record_header};
use crate::model::{
    AnyValue, Attributes, InstrumentationScope, KeyValue, LogRecord, Severity, SpanId, Str, TraceId,
};
use crate::pipeline::{RecordError, RecordSender, ScopeHandle};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// The trace context of the thread's current span: trace id, span id, W3C trace flags.
fn current_trace_context() -> Option<(TraceId, SpanId, u8)> {
    crate::trace::current_span_context()
        .filter(|c| c.is_valid())
        .map(|c| (c.trace_id, c.span_id, c.trace_flags))
}

/// The short name the OpenTelemetry log data model gives a severity number: `"TRACE"`,
/// `"TRACE2"` ... `"FATAL4"`; empty for 0 (unspecified) and numbers outside 1 to 24.
///
/// ```
/// use otlp_sync::logs::severity_text;
/// use otlp_sync::model::Severity;
/// assert_eq!(severity_text(Severity::INFO), "INFO");
/// assert_eq!(severity_text(Severity(14)), "WARN2");
/// assert_eq!(severity_text(Severity::UNSPECIFIED), "");
/// ```
pub fn severity_text(severity: Severity) -> &'static str {
    const NAMES: [&str; 24] = [
        "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4", "INFO",
        "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3",
        "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
    ];
    usize::try_from(severity.0)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("")
}

struct Inner {
    /// The sender, and the logger's scope as registered with its pipeline.
    sender: Option<(RecordSender, ScopeHandle)>,
    scope: Arc<InstrumentationScope>,
    /// The pipeline takes log records encoded: [`LogRecordBuilder`] encodes attributes
    /// as they are added.
    encode: bool,
}

/// Emits log records under one instrumentation scope. Cheap to clone (one `Arc`),
/// `Send + Sync`; see the [module docs](self).
#[derive(Clone)]
pub struct Logger {
    inner: Arc<Inner>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("scope", &self.inner.scope.name)
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Logger {
    /// A logger that queues records through `sender` under `scope`; with `None` it does
    /// nothing.
    pub fn new(sender: Option<RecordSender>, scope: Arc<InstrumentationScope>) -> Logger {
        let encode = sender
            .as_ref()
            .is_some_and(|s| s.encodes_on_send(crate::model::Signal::Logs));
        Logger {
            inner: Arc::new(Inner {
                sender: sender.map(|s| {
                    let handle = s.register_scope(&scope);
                    (s, handle)
                }),
                scope,
                encode,
            }),
        }
    }

    /// A logger that does nothing.
    pub fn noop() -> Logger {
        Logger::new(None, Arc::new(InstrumentationScope::default()))
    }

    /// Whether records go anywhere (`false` for a no-op logger). Records may still be
    /// dropped later (full queue, shutdown); the exporter's stats count them.
    pub fn is_enabled(&self) -> bool {
        self.inner.sender.is_some()
    }

    /// The instrumentation scope of this logger's records.
    pub fn scope(&self) -> &Arc<InstrumentationScope> {
        &self.inner.scope
    }

    /// Completes `record` (observed time, severity text, trace context; see the
    /// [module docs](self)) and queues it. A record that cannot be queued is dropped and
    /// counted in the exporter's stats.
    pub fn emit(&self, record: LogRecord) {
        let _ = self.try_emit(record);
    }

    /// Like [`emit`](Self::emit), but hands back a record that could not be queued. A
    /// no-op logger discards the record and returns `Ok`.
    ///
    /// # Errors
    /// [`RecordError::Full`] when the logs queue is full, [`RecordError::ShutDown`] after
    /// the exporter shut down; the record is counted dropped either way.
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as the pipeline does"
    )]
    pub fn try_emit(&self, record: LogRecord) -> Result<(), RecordError<LogRecord>> {
        match &self.inner.sender {
            Some((sender, scope)) => send(sender, *scope, record),
            None => Ok(()),
        }
    }

    /// Emits `body` at `severity`, timestamped now.
    pub fn log(&self, severity: Severity, body: impl Into<AnyValue>) {
        if let Some((sender, scope)) = &self.inner.sender {
            let now = unix_nanos_now();
            let record = LogRecord {
                time_unix_nano: now,
                observed_time_unix_nano: now,
                severity_number: severity,
                body: body.into(),
                ..LogRecord::default()
            };
            let _ = send(sender, *scope, record);
        }
    }

    /// Emits `body` at [`Severity::TRACE`].
    pub fn trace(&self, body: impl Into<AnyValue>) {
        self.log(Severity::TRACE, body);
    }

    /// Emits `body` at [`Severity::DEBUG`].
    pub fn debug(&self, body: impl Into<AnyValue>) {
        self.log(Severity::DEBUG, body);
    }

    /// Emits `body` at [`Severity::INFO`].
    pub fn info(&self, body: impl Into<AnyValue>) {
        self.log(Severity::INFO, body);
    }

    /// Emits `body` at [`Severity::WARN`].
    pub fn warn(&self, body: impl Into<AnyValue>) {
        self.log(Severity::WARN, body);
    }

    /// Emits `body` at [`Severity::ERROR`].
    pub fn error(&self, body: impl Into<AnyValue>) {
        self.log(Severity::ERROR, body);
    }

    /// Emits `body` at [`Severity::FATAL`].
    pub fn fatal(&self, body: impl Into<AnyValue>) {
        self.log(Severity::FATAL, body);
    }

    /// Starts a record at `severity`; finish it with [`LogRecordBuilder::emit`].
    #[inline]
    pub fn record(&self, severity: Severity) -> LogRecordBuilder<'_> {
        LogRecordBuilder {
            logger: self,
            record: LogRecord {
                severity_number: severity,
                ..LogRecord::default()
            },
            fields: self.inner.encode.then(|| {
                let mut buf = crate::scratch::take_buffer();
                buf.extend_from_slice(&[0; HEADER_ROOM]);
                buf
            }),
        }
    }

    /// Completes and queues `record` under `scope` instead of the logger's own.
    #[cfg_attr(not(feature = "log"), allow(dead_code))]
    pub(crate) fn emit_in(&self, scope: &Arc<InstrumentationScope>, mut record: LogRecord) {
        if let Some((sender, _)) = &self.inner.sender {
            complete(&mut record, unix_nanos_now);
            let _ = sender.send_log(scope, record);
        }
    }
}

/// Completes `record` and queues it.
#[expect(
    clippy::result_large_err,
    reason = "the record is handed back by value, as the pipeline does"
)]
fn send(
    sender: &RecordSender,
    scope: ScopeHandle,
    mut record: LogRecord,
) -> Result<(), RecordError<LogRecord>> {
    complete(&mut record, unix_nanos_now);
    sender.send_log_in(scope, record)
}

/// Fills what the SDK fills: observed time, severity text, trace context.
fn complete(record: &mut LogRecord, now: impl FnOnce() -> u64) {
    if record.observed_time_unix_nano == 0 {
        record.observed_time_unix_nano = now();
    }
    if record.severity_text.is_empty() {
        record.severity_text = Cow::Borrowed(severity_text(record.severity_number));
    }
    if record.trace_id.is_none() {
        if let Some((trace_id, span_id, flags)) = current_trace_context() {
            record.trace_id = trace_id;
            record.span_id = span_id;
            record.flags = u32::from(flags);
        }
    }
}

/// A log record being built by [`Logger::record`]; nothing is sent until
/// [`emit`](Self::emit).
///
/// When the logger's exporter queues records encoded (protobuf logs and the default
/// [`EncodeOnSend`](crate::pipeline::EncodeOnSend)), attributes are encoded as they are
/// added: no attribute vector is built.
#[must_use = "a record is sent only by .emit()"]
#[derive(Debug)]
pub struct LogRecordBuilder<'a> {
    logger: &'a Logger,
    record: LogRecord,
    /// Attributes encoded as added (`LogRecord` field 6), when the logger encodes.
    fields: Option<Vec<u8>>,
}

/// `LogRecord.attributes`.
const ATTRIBUTES: u32 = 6;
/// `ScopeLogs.log_records`: the field a finished record is queued as.
const LOG_RECORDS: u32 = 2;
/// Bytes kept free at the front of an encoding builder's buffer for the record's own
/// field tag and length (a length below 2 MiB).
const HEADER_ROOM: usize = 4;

impl LogRecordBuilder<'_> {
    /// The body.
    #[inline]
    pub fn body(mut self, body: impl Into<AnyValue>) -> Self {
        self.record.body = body.into();
        self
    }

    /// Adds an attribute. Keys should be unique; they are not checked.
    #[inline]
    pub fn attr(mut self, key: impl Into<Str>, value: impl Into<AnyValue>) -> Self {
        let kv = KeyValue::new(key, value);
        match &mut self.fields {
            Some(buf) => key_value_field(ATTRIBUTES, &kv, buf),
            None if self.logger.is_enabled() => self.record.attributes.push(kv),
            None => {}
        }
        self
    }

    /// Adds attributes.
    #[inline]
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        match &mut self.fields {
            Some(buf) => {
                for kv in attributes {
                    key_value_field(ATTRIBUTES, &kv, buf);
                }
            }
            None if self.logger.is_enabled() => self.record.attributes.extend(attributes),
            None => {}
        }
        self
    }

    /// Replaces the attributes.
    #[inline]
    pub fn attributes(mut self, attributes: Attributes) -> Self {
        match &mut self.fields {
            Some(buf) => {
                buf.truncate(HEADER_ROOM);
                for kv in &attributes {
                    key_value_field(ATTRIBUTES, kv, buf);
                }
            }
            None => self.record.attributes = attributes,
        }
        self
    }

    /// Marks the record as an event with this name.
    #[inline]
    pub fn event_name(mut self, name: impl Into<Str>) -> Self {
        self.record.event_name = name.into();
        self
    }

    /// The severity text, instead of the one derived from the number.
    #[inline]
    pub fn severity_text(mut self, text: impl Into<Str>) -> Self {
        self.record.severity_text = text.into();
        self
    }

    /// When the event happened.
    ///
    /// Defaults to the time of [`emit`](Self::emit).
    #[inline]
    pub fn time(mut self, time: SystemTime) -> Self {
        self.record.time_unix_nano = unix_nanos(time);
        self
    }

    /// When the event happened, in nanoseconds since the Unix epoch.
    ///
    /// Defaults to the time of [`emit`](Self::emit).
    #[inline]
    pub fn time_unix_nano(mut self, nanos: u64) -> Self {
        self.record.time_unix_nano = nanos;
        self
    }

    /// An explicit trace context, instead of the current span's.
    #[inline]
    pub fn trace_context(mut self, trace_id: TraceId, span_id: SpanId, trace_flags: u8) -> Self {
        self.record.trace_id = trace_id;
        self.record.span_id = span_id;
        self.record.flags = u32::from(trace_flags);
        self
    }

    /// The record as built so far, without sending it (tests of the model path).
    #[cfg(test)]
    fn into_record(self) -> LogRecord {
        self.record
    }

    /// Completes the record and queues it (see [`Logger::emit`]).
    pub fn emit(self) {
        let _ = self.try_emit();
    }

    /// Like [`emit`](Self::emit), saying why a record could not be queued (the record
    /// itself is dropped; use [`Logger::try_emit`] to get a model record back).
    ///
    /// # Errors
    /// As [`Logger::try_emit`].
    pub fn try_emit(self) -> Result<(), RecordError<()>> {
        let Some((sender, scope)) = &self.logger.inner.sender else {
            return Ok(());
        };
        let mut record = self.record;
        if record.time_unix_nano == 0 {
            let now = unix_nanos_now();
            record.time_unix_nano = now;
            if record.observed_time_unix_nano == 0 {
                record.observed_time_unix_nano = now;
            }
        }
        match self.fields {
            Some(fields) if sender.queue_full(crate::model::Signal::Logs) => {
                // It would be dropped anyway: spare the encoding, count it.
                crate::scratch::give_back_buffer(fields);
                sender.count_queue_full(crate::model::Signal::Logs);
                Err(RecordError::Full(()))
            }
            Some(mut fields) => {
                complete(&mut record, unix_nanos_now);
                // The other fields after the attributes, the header in the room in front.
                log_record_fields(&record, &mut fields);
                let start = put_record_header(LOG_RECORDS, HEADER_ROOM, &mut fields);
                let result =
                    sender.send_encoded_log_bytes(*scope, fields.get(start..).unwrap_or(&[]));
                crate::scratch::give_back_buffer(fields);
                result
            }
            None => send(sender, *scope, record).map_err(|e| match e {
                RecordError::Full(_) => RecordError::Full(()),
                RecordError::ShutDown(_) => RecordError::ShutDown(()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn logger_is_send_sync_clone_and_one_pointer() {
        send_sync::<Logger>();
        assert_eq!(std::mem::size_of::<Logger>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn severity_names_cover_the_range() {
        assert_eq!(severity_text(Severity(1)), "TRACE");
        assert_eq!(severity_text(Severity(4)), "TRACE4");
        assert_eq!(severity_text(Severity::DEBUG), "DEBUG");
        assert_eq!(severity_text(Severity::INFO), "INFO");
        assert_eq!(severity_text(Severity(12)), "INFO4");
        assert_eq!(severity_text(Severity::WARN), "WARN");
        assert_eq!(severity_text(Severity::ERROR), "ERROR");
        assert_eq!(severity_text(Severity(19)), "ERROR3");
        assert_eq!(severity_text(Severity::FATAL), "FATAL");
        assert_eq!(severity_text(Severity(24)), "FATAL4");
        assert_eq!(severity_text(Severity(0)), "");
        assert_eq!(severity_text(Severity(25)), "");
        assert_eq!(severity_text(Severity(-1)), "");
        assert_eq!(severity_text(Severity(i32::MIN)), "");
    }

    #[test]
    fn complete_fills_only_what_is_missing() {
        let mut r = LogRecord {
            severity_number: Severity::WARN,
            ..LogRecord::default()
        };
        complete(&mut r, || 77);
        assert_eq!(r.observed_time_unix_nano, 77);
        assert_eq!(r.severity_text, "WARN");
        assert_eq!(r.time_unix_nano, 0);
        assert!(r.trace_id.is_none());

        let mut r = LogRecord {
            observed_time_unix_nano: 5,
            severity_number: Severity::WARN,
            severity_text: "warning".into(),
            trace_id: TraceId::from_bytes([1; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            flags: 1,
            ..LogRecord::default()
        };
        complete(&mut r, || panic!("the clock is not read"));
        assert_eq!(r.observed_time_unix_nano, 5);
        assert_eq!(r.severity_text, "warning");
        assert_eq!(r.trace_id, TraceId::from_bytes([1; 16]));
        assert_eq!(r.flags, 1);
    }

    #[test]
    fn noop_logger_accepts_everything() {
        let l = Logger::noop();
        assert!(!l.is_enabled());
        l.info("x");
        l.record(Severity::ERROR).attr("a", 1).emit();
        assert!(l.try_emit(LogRecord::default()).is_ok());
        let r = l.record(Severity::INFO).attr("a", 1).into_record();
        assert!(r.attributes.is_empty(), "attributes are not even built");
    }

    #[test]
    fn builder_sets_every_field() {
        let l = Logger::noop();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_234);
        let r = l
            .record(Severity::DEBUG)
            .body("b")
            .event_name("e")
            .severity_text("dbg")
            .time(t)
            .trace_context(TraceId::from_bytes([3; 16]), SpanId::from_bytes([4; 8]), 1)
            .attributes(vec![KeyValue::new("k", true)])
            .into_record();
        assert_eq!(r.body, AnyValue::from("b"));
        assert_eq!(r.event_name, "e");
        assert_eq!(r.severity_text, "dbg");
        assert_eq!(r.time_unix_nano, 1_234);
        assert_eq!(r.span_id, SpanId::from_bytes([4; 8]));
        assert_eq!(r.flags, 1);
        assert_eq!(r.attributes, vec![KeyValue::new("k", true)]);
    }
}
