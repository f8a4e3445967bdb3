//! The OTLP data model as plain Rust values.
//!
//! Everything here is ordinary owned data: no I/O, no threads, no clocks. Strings that are
//! usually known at compile time (span names, attribute keys, scope names) are
//! [`Str`] = `Cow<'static, str>`, so a `&'static str` is stored without allocating.
//!
//! Records are grouped for export with [`ResourceGroup`] and [`ScopeGroup`], borrowed views
//! that the encoders in [`crate::encode`] walk without copying.
//!
//! ```
//! use otlp_sync::model::{AnyValue, KeyValue, Span, SpanId, SpanKind, TraceId};
//!
//! let mut span = Span::new("read_adc", TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
//! span.kind = SpanKind::Client;
//! span.attributes.push(KeyValue::new("channel", 3));
//! assert_eq!(span.attributes[0].value, AnyValue::Int(3));
//! assert!(span.parent_span_id.is_none());
//! ```

mod ids;
mod log;
mod metric;
mod resource;
mod span;
mod value;

pub use ids::{ParseIdError, SpanId, TraceId};
pub use log::{LogRecord, Severity};
pub use metric::{
    AggregationTemporality, Buckets, DATA_POINT_FLAG_NO_RECORDED_VALUE, Exemplar,
    ExponentialHistogramDataPoint, HistogramDataPoint, Metric, MetricData, NumberDataPoint,
    NumberValue, SummaryDataPoint, ValueAtQuantile,
};
pub use resource::{InstrumentationScope, Resource, ResourceGroup, ScopeGroup};
pub use span::{
    Event, Link, SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, SPAN_FLAGS_CONTEXT_IS_REMOTE,
    SPAN_FLAGS_TRACE_FLAGS_MASK, Span, SpanKind, Status, StatusCode,
};
pub use value::{AnyValue, Attributes, KeyValue, Str};

/// The three OTLP signals this crate exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// Spans, `/v1/traces`.
    Traces,
    /// Metric points, `/v1/metrics`.
    Metrics,
    /// Log records, `/v1/logs`.
    Logs,
}

impl Signal {
    /// All three, in a fixed order.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The default OTLP/HTTP path, relative to a base endpoint: `v1/traces` and so on.
    ///
    /// ```
    /// use otlp_sync::model::Signal;
    /// assert_eq!(Signal::Logs.http_path(), "v1/logs");
    /// ```
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "v1/traces",
            Signal::Metrics => "v1/metrics",
            Signal::Logs => "v1/logs",
        }
    }

    /// Lower-case name: `traces`, `metrics` or `logs`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }
}
