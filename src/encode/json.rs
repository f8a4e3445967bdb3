//! OTLP/JSON encoding: model to compact `application/json` request bodies.
//!
//! The output follows the OTLP specification's "JSON Protobuf Encoding": the proto3 JSON
//! mapping with lowerCamelCase keys, plus OTLP's deviations from it:
//!
//! * trace and span ids are lower-case hex strings (not base64); all-zero ids are omitted;
//! * enums (`kind`, `code`, `severityNumber`, `aggregationTemporality`) are integers;
//! * 64-bit integers (`intValue`, `asInt`, `*TimeUnixNano`, `count`, `zeroCount`,
//!   `bucketCounts`) are decimal strings;
//! * `bytesValue` is standard base64 with padding;
//! * doubles are JSON numbers in their shortest round-trip form, and NaN and the
//!   infinities are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
//!
//! Fields holding their default value (empty string, zero, `false`, empty list, invalid id)
//! are omitted, as the proto3 JSON mapping does by default. Set `oneof` members (such as
//! `{"intValue":"0"}`) and `optional` fields that are `Some` are always written. Two
//! defaults are written on purpose, because widely used decoders require them (the
//! `opentelemetry-proto` crate's serde support rejects their absence) and proto3 JSON
//! parsers must accept them: a `KeyValue`'s `"key"` even when empty, and the `"values"`
//! list of an `arrayValue` or `kvlistValue` even when empty. The message fields
//! `resource`, `scope`, a span's `status` and an exponential histogram point's `positive`
//! and `negative` are always written (possibly as `{}`), as the protobuf encoder does.
//!
//! `AnyValue` arrays and key-value lists nested deeper than [`MAX_ANY_VALUE_DEPTH`] are
//! written as empty values (`{}`), the same cut the protobuf encoder makes. This bounds the
//! encoder's stack use on any input and keeps the output within the nesting limits of
//! common JSON decoders (`serde_json` stops at 128 levels; each key-value list level costs
//! five).

use alloc::vec::Vec;
use core::fmt;

use super::MAX_ANY_VALUE_DEPTH;

use crate::model::{
    AnyValue, Buckets, Event, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint,
    InstrumentationScope, KeyValue, Link, LogRecord, Metric, MetricData, NumberDataPoint,
    NumberValue, Resource, ResourceGroup, Span, SpanId, SummaryDataPoint, TraceId,
};

/// Writes OTLP/JSON export request bodies (`Export{Trace,Logs,Metrics}ServiceRequest`).
///
/// Each `encode_*` call appends one complete JSON object to `out` and allocates nothing
/// beyond the growth of `out`.
///
/// ```
/// use otlp_sync::encode::json::JsonEncoder;
/// use otlp_sync::model::{
///     InstrumentationScope, KeyValue, Resource, ResourceGroup, ScopeGroup, Span, SpanId,
///     SpanKind, TraceId,
/// };
///
/// let resource = Resource::new(vec![KeyValue::new("service.name", "pump")]);
/// let scope = InstrumentationScope::new("sensor");
/// let mut span = Span::new("read", TraceId::from_bytes([0xab; 16]), SpanId::from_bytes([1; 8]));
/// span.kind = SpanKind::Server;
/// span.start_time_unix_nano = 1_700_000_000_000_000_000;
/// let spans = [span];
/// let scopes = [ScopeGroup { scope: &scope, records: &spans }];
/// let groups = [ResourceGroup { resource: &resource, scopes: &scopes }];
///
/// let mut out = Vec::new();
/// JsonEncoder::new().encode_traces(&groups, &mut out);
/// let json = String::from_utf8(out).unwrap();
/// assert!(json.starts_with(r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"pump"}}]}"#));
/// assert!(json.contains(r#""traceId":"abababababababababababababababab","spanId":"0101010101010101""#));
/// assert!(json.contains(r#""kind":2,"startTimeUnixNano":"1700000000000000000""#));
/// ```
#[derive(Debug, Clone, Default)]
pub struct JsonEncoder {
    _private: (),
}

impl JsonEncoder {
    /// A new encoder. It holds no buffers; the caller owns and reuses the output `Vec`.
    pub fn new() -> Self {
        JsonEncoder::default()
    }

    /// Appends an `ExportTraceServiceRequest` holding `groups` to `out`.
    pub fn encode_traces(&mut self, groups: &[ResourceGroup<'_, Span>], out: &mut Vec<u8>) {
        W { out }.envelope(groups, SPANS_KEYS, W::span);
    }

    /// Appends an `ExportLogsServiceRequest` holding `groups` to `out`.
    pub fn encode_logs(&mut self, groups: &[ResourceGroup<'_, LogRecord>], out: &mut Vec<u8>) {
        W { out }.envelope(groups, LOGS_KEYS, W::log_record);
    }

    /// Appends an `ExportMetricsServiceRequest` holding `groups` to `out`.
    pub fn encode_metrics(&mut self, groups: &[ResourceGroup<'_, Metric>], out: &mut Vec<u8>) {
        W { out }.envelope(groups, METRICS_KEYS, W::metric);
    }
}

/// The three nesting keys of one signal's envelope.
struct EnvelopeKeys {
    resource: &'static str,
    scope: &'static str,
    records: &'static str,
}

const SPANS_KEYS: EnvelopeKeys = EnvelopeKeys {
    resource: "resourceSpans",
    scope: "scopeSpans",
    records: "spans",
};
const LOGS_KEYS: EnvelopeKeys = EnvelopeKeys {
    resource: "resourceLogs",
    scope: "scopeLogs",
    records: "logRecords",
};
const METRICS_KEYS: EnvelopeKeys = EnvelopeKeys {
    resource: "resourceMetrics",
    scope: "scopeMetrics",
    records: "metrics",
};

const HEX: &[u8; 16] = b"0123456789abcdef";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `core::fmt::Write` into a `Vec<u8>`, so floats are formatted without a temporary string.
struct FmtVec<'a>(&'a mut Vec<u8>);

impl fmt::Write for FmtVec<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The JSON writer. Commas are placed by looking at the last byte written: a key or an
/// array element directly after `{` or `[` needs none, anything else does.
struct W<'a> {
    out: &'a mut Vec<u8>,
}

impl W<'_> {
    // ----- structure -----

    fn open(&mut self) {
        self.out.push(b'{');
    }

    fn close(&mut self) {
        self.out.push(b'}');
    }

    fn open_arr(&mut self) {
        self.out.push(b'[');
    }

    fn close_arr(&mut self) {
        self.out.push(b']');
    }

    /// Writes `,"name":` (or `"name":` first in an object). `name` is a plain ASCII key.
    fn key(&mut self, name: &str) {
        if self.out.last() != Some(&b'{') {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Starts an array element.
    fn elem(&mut self) {
        if self.out.last() != Some(&b'[') {
            self.out.push(b',');
        }
    }

    // ----- scalars -----

    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => b"",
                _ => continue,
            };
            self.out.extend_from_slice(&bytes[start..i]);
            start = i + 1;
            if esc.is_empty() {
                self.out.extend_from_slice(b"\\u00");
                self.out.push(HEX[usize::from(b >> 4)]);
                self.out.push(HEX[usize::from(b & 0xf)]);
            } else {
                self.out.extend_from_slice(esc);
            }
        }
        self.out.extend_from_slice(&bytes[start..]);
        self.out.push(b'"');
    }

    fn digits(&mut self, mut v: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.out.extend_from_slice(&buf[i..]);
    }

    fn signed(&mut self, v: i64) {
        if v < 0 {
            self.out.push(b'-');
        }
        self.digits(v.unsigned_abs());
    }

    /// A 64-bit unsigned integer as a decimal string.
    fn u64_str(&mut self, v: u64) {
        self.out.push(b'"');
        self.digits(v);
        self.out.push(b'"');
    }

    /// A 64-bit signed integer as a decimal string.
    fn i64_str(&mut self, v: i64) {
        self.out.push(b'"');
        self.signed(v);
        self.out.push(b'"');
    }

    fn f64(&mut self, v: f64) {
        use fmt::Write as _;
        if v.is_nan() {
            self.out.extend_from_slice(b"\"NaN\"");
        } else if v.is_infinite() {
            if v > 0.0 {
                self.out.extend_from_slice(b"\"Infinity\"");
            } else {
                self.out.extend_from_slice(b"\"-Infinity\"");
            }
        } else {
            let a = v.abs();
            // Both forms print the shortest digits that read back as the same double;
            // plain notation only where it stays short (the range JavaScript uses).
            let _ = if a == 0.0 || (1e-7..1e21).contains(&a) {
                write!(FmtVec(self.out), "{v}")
            } else {
                write!(FmtVec(self.out), "{v:e}")
            };
        }
    }

    fn hex(&mut self, bytes: &[u8]) {
        self.out.push(b'"');
        for &b in bytes {
            self.out.push(HEX[usize::from(b >> 4)]);
            self.out.push(HEX[usize::from(b & 0xf)]);
        }
        self.out.push(b'"');
    }

    fn base64(&mut self, bytes: &[u8]) {
        self.out.push(b'"');
        let mut chunks = bytes.chunks_exact(3);
        for c in &mut chunks {
            let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
            for shift in [18, 12, 6, 0] {
                self.out.push(B64[((n >> shift) & 0x3f) as usize]);
            }
        }
        match *chunks.remainder() {
            [a] => {
                let n = u32::from(a) << 16;
                self.out.push(B64[((n >> 18) & 0x3f) as usize]);
                self.out.push(B64[((n >> 12) & 0x3f) as usize]);
                self.out.extend_from_slice(b"==");
            }
            [a, b] => {
                let n = (u32::from(a) << 16) | (u32::from(b) << 8);
                self.out.push(B64[((n >> 18) & 0x3f) as usize]);
                self.out.push(B64[((n >> 12) & 0x3f) as usize]);
                self.out.push(B64[((n >> 6) & 0x3f) as usize]);
                self.out.push(b'=');
            }
            _ => {}
        }
        self.out.push(b'"');
    }

    // ----- fields that are omitted when default -----

    fn f_str(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.key(name);
            self.string(v);
        }
    }

    fn f_u32(&mut self, name: &str, v: u32) {
        if v != 0 {
            self.key(name);
            self.digits(u64::from(v));
        }
    }

    fn f_i32(&mut self, name: &str, v: i32) {
        if v != 0 {
            self.key(name);
            self.signed(i64::from(v));
        }
    }

    fn f_u64(&mut self, name: &str, v: u64) {
        if v != 0 {
            self.key(name);
            self.u64_str(v);
        }
    }

    fn f_bool(&mut self, name: &str, v: bool) {
        if v {
            self.key(name);
            self.out.extend_from_slice(b"true");
        }
    }

    /// A plain (non-optional) double: omitted when zero, as protobuf omits it.
    fn f_f64(&mut self, name: &str, v: f64) {
        if v != 0.0 {
            self.key(name);
            self.f64(v);
        }
    }

    /// An `optional double`: written whenever present.
    fn f_f64_opt(&mut self, name: &str, v: Option<f64>) {
        if let Some(v) = v {
            self.key(name);
            self.f64(v);
        }
    }

    fn f_trace_id(&mut self, name: &str, id: &TraceId) {
        if id.is_valid() {
            self.key(name);
            self.hex(id.as_bytes());
        }
    }

    fn f_span_id(&mut self, name: &str, id: &SpanId) {
        if id.is_valid() {
            self.key(name);
            self.hex(id.as_bytes());
        }
    }

    fn f_u64_list(&mut self, name: &str, v: &[u64]) {
        if !v.is_empty() {
            self.key(name);
            self.open_arr();
            for &n in v {
                self.elem();
                self.u64_str(n);
            }
            self.close_arr();
        }
    }

    fn f_f64_list(&mut self, name: &str, v: &[f64]) {
        if !v.is_empty() {
            self.key(name);
            self.open_arr();
            for &x in v {
                self.elem();
                self.f64(x);
            }
            self.close_arr();
        }
    }

    /// A repeated message field: omitted when empty.
    fn f_list<T>(&mut self, name: &str, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        if !items.is_empty() {
            self.key(name);
            self.open_arr();
            for item in items {
                self.elem();
                each(self, item);
            }
            self.close_arr();
        }
    }

    fn f_attrs(&mut self, name: &str, attrs: &[KeyValue]) {
        self.f_list(name, attrs, |w, kv| w.key_value(kv, 1));
    }

    // ----- common messages -----

    fn key_value(&mut self, kv: &KeyValue, depth: usize) {
        self.open();
        self.key("key");
        self.string(&kv.key);
        self.key("value");
        self.any_value(&kv.value, depth);
        self.close();
    }

    fn any_value(&mut self, v: &AnyValue, depth: usize) {
        self.open();
        match v {
            AnyValue::Empty => {}
            AnyValue::Str(s) => {
                self.key("stringValue");
                self.string(s);
            }
            AnyValue::Bool(b) => {
                self.key("boolValue");
                self.out
                    .extend_from_slice(if *b { b"true" as &[u8] } else { b"false" });
            }
            AnyValue::Int(i) => {
                self.key("intValue");
                self.i64_str(*i);
            }
            AnyValue::Double(d) => {
                self.key("doubleValue");
                self.f64(*d);
            }
            AnyValue::Bytes(b) => {
                self.key("bytesValue");
                self.base64(b);
            }
            AnyValue::Array(_) | AnyValue::KvList(_) if depth > MAX_ANY_VALUE_DEPTH => {}
            AnyValue::Array(values) => {
                self.key("arrayValue");
                self.open();
                self.key("values");
                self.open_arr();
                for v in values {
                    self.elem();
                    self.any_value(v, depth + 1);
                }
                self.close_arr();
                self.close();
            }
            AnyValue::KvList(values) => {
                self.key("kvlistValue");
                self.open();
                self.key("values");
                self.open_arr();
                for kv in values {
                    self.elem();
                    self.key_value(kv, depth + 1);
                }
                self.close_arr();
                self.close();
            }
        }
        self.close();
    }

    fn resource(&mut self, r: &Resource) {
        self.key("resource");
        self.open();
        self.f_attrs("attributes", &r.attributes);
        self.f_u32("droppedAttributesCount", r.dropped_attributes_count);
        self.close();
    }

    fn scope(&mut self, s: &InstrumentationScope) {
        self.key("scope");
        self.open();
        self.f_str("name", &s.name);
        self.f_str("version", &s.version);
        self.f_attrs("attributes", &s.attributes);
        self.f_u32("droppedAttributesCount", s.dropped_attributes_count);
        self.close();
    }

    fn envelope<T>(
        &mut self,
        groups: &[ResourceGroup<'_, T>],
        keys: EnvelopeKeys,
        record: fn(&mut Self, &T),
    ) {
        self.open();
        self.f_list(keys.resource, groups, |w, g| {
            w.open();
            w.resource(g.resource);
            w.f_list(keys.scope, g.scopes, |w, sg| {
                w.open();
                w.scope(sg.scope);
                w.f_list(keys.records, sg.records, record);
                w.f_str("schemaUrl", &sg.scope.schema_url);
                w.close();
            });
            w.f_str("schemaUrl", &g.resource.schema_url);
            w.close();
        });
        self.close();
    }

    // ----- traces -----

    fn span(&mut self, s: &Span) {
        self.open();
        self.f_trace_id("traceId", &s.trace_id);
        self.f_span_id("spanId", &s.span_id);
        self.f_str("traceState", &s.trace_state);
        self.f_span_id("parentSpanId", &s.parent_span_id);
        self.f_u32("flags", s.flags);
        self.f_str("name", &s.name);
        self.f_i32("kind", s.kind as i32);
        self.f_u64("startTimeUnixNano", s.start_time_unix_nano);
        self.f_u64("endTimeUnixNano", s.end_time_unix_nano);
        self.f_attrs("attributes", &s.attributes);
        self.f_u32("droppedAttributesCount", s.dropped_attributes_count);
        self.f_list("events", &s.events, Self::event);
        self.f_u32("droppedEventsCount", s.dropped_events_count);
        self.f_list("links", &s.links, Self::link);
        self.f_u32("droppedLinksCount", s.dropped_links_count);
        self.key("status");
        self.open();
        self.f_str("message", &s.status.message);
        self.f_i32("code", s.status.code as i32);
        self.close();
        self.close();
    }

    fn event(&mut self, e: &Event) {
        self.open();
        self.f_u64("timeUnixNano", e.time_unix_nano);
        self.f_str("name", &e.name);
        self.f_attrs("attributes", &e.attributes);
        self.f_u32("droppedAttributesCount", e.dropped_attributes_count);
        self.close();
    }

    fn link(&mut self, l: &Link) {
        self.open();
        self.f_trace_id("traceId", &l.trace_id);
        self.f_span_id("spanId", &l.span_id);
        self.f_str("traceState", &l.trace_state);
        self.f_attrs("attributes", &l.attributes);
        self.f_u32("droppedAttributesCount", l.dropped_attributes_count);
        self.f_u32("flags", l.flags);
        self.close();
    }

    // ----- logs -----

    fn log_record(&mut self, r: &LogRecord) {
        self.open();
        self.f_u64("timeUnixNano", r.time_unix_nano);
        self.f_u64("observedTimeUnixNano", r.observed_time_unix_nano);
        self.f_i32("severityNumber", r.severity_number.0);
        self.f_str("severityText", &r.severity_text);
        if r.body != AnyValue::Empty {
            self.key("body");
            self.any_value(&r.body, 1);
        }
        self.f_attrs("attributes", &r.attributes);
        self.f_u32("droppedAttributesCount", r.dropped_attributes_count);
        self.f_u32("flags", r.flags);
        self.f_trace_id("traceId", &r.trace_id);
        self.f_span_id("spanId", &r.span_id);
        self.f_str("eventName", &r.event_name);
        self.close();
    }

    // ----- metrics -----

    fn metric(&mut self, m: &Metric) {
        self.open();
        self.f_str("name", &m.name);
        self.f_str("description", &m.description);
        self.f_str("unit", &m.unit);
        match &m.data {
            MetricData::Gauge(points) => {
                self.key("gauge");
                self.open();
                self.f_list("dataPoints", points, Self::number_point);
                self.close();
            }
            MetricData::Sum {
                points,
                temporality,
                is_monotonic,
            } => {
                self.key("sum");
                self.open();
                self.f_list("dataPoints", points, Self::number_point);
                self.f_i32("aggregationTemporality", *temporality as i32);
                self.f_bool("isMonotonic", *is_monotonic);
                self.close();
            }
            MetricData::Histogram {
                points,
                temporality,
            } => {
                self.key("histogram");
                self.open();
                self.f_list("dataPoints", points, Self::histogram_point);
                self.f_i32("aggregationTemporality", *temporality as i32);
                self.close();
            }
            MetricData::ExponentialHistogram {
                points,
                temporality,
            } => {
                self.key("exponentialHistogram");
                self.open();
                self.f_list("dataPoints", points, Self::exp_histogram_point);
                self.f_i32("aggregationTemporality", *temporality as i32);
                self.close();
            }
            MetricData::Summary(points) => {
                self.key("summary");
                self.open();
                self.f_list("dataPoints", points, Self::summary_point);
                self.close();
            }
        }
        self.f_attrs("metadata", &m.metadata);
        self.close();
    }

    fn number_value(&mut self, v: &NumberValue) {
        match *v {
            NumberValue::Double(d) => {
                self.key("asDouble");
                self.f64(d);
            }
            NumberValue::Int(i) => {
                self.key("asInt");
                self.i64_str(i);
            }
        }
    }

    fn exemplar(&mut self, e: &Exemplar) {
        self.open();
        self.f_attrs("filteredAttributes", &e.filtered_attributes);
        self.f_u64("timeUnixNano", e.time_unix_nano);
        self.number_value(&e.value);
        self.f_span_id("spanId", &e.span_id);
        self.f_trace_id("traceId", &e.trace_id);
        self.close();
    }

    fn number_point(&mut self, p: &NumberDataPoint) {
        self.open();
        self.f_attrs("attributes", &p.attributes);
        self.f_u64("startTimeUnixNano", p.start_time_unix_nano);
        self.f_u64("timeUnixNano", p.time_unix_nano);
        self.number_value(&p.value);
        self.f_list("exemplars", &p.exemplars, Self::exemplar);
        self.f_u32("flags", p.flags);
        self.close();
    }

    fn histogram_point(&mut self, p: &HistogramDataPoint) {
        self.open();
        self.f_attrs("attributes", &p.attributes);
        self.f_u64("startTimeUnixNano", p.start_time_unix_nano);
        self.f_u64("timeUnixNano", p.time_unix_nano);
        self.f_u64("count", p.count);
        self.f_f64_opt("sum", p.sum);
        self.f_u64_list("bucketCounts", &p.bucket_counts);
        self.f_f64_list("explicitBounds", &p.explicit_bounds);
        self.f_list("exemplars", &p.exemplars, Self::exemplar);
        self.f_u32("flags", p.flags);
        self.f_f64_opt("min", p.min);
        self.f_f64_opt("max", p.max);
        self.close();
    }

    fn buckets(&mut self, name: &str, b: &Buckets) {
        self.key(name);
        self.open();
        self.f_i32("offset", b.offset);
        self.f_u64_list("bucketCounts", &b.bucket_counts);
        self.close();
    }

    fn exp_histogram_point(&mut self, p: &ExponentialHistogramDataPoint) {
        self.open();
        self.f_attrs("attributes", &p.attributes);
        self.f_u64("startTimeUnixNano", p.start_time_unix_nano);
        self.f_u64("timeUnixNano", p.time_unix_nano);
        self.f_u64("count", p.count);
        self.f_f64_opt("sum", p.sum);
        self.f_i32("scale", p.scale);
        self.f_u64("zeroCount", p.zero_count);
        self.buckets("positive", &p.positive);
        self.buckets("negative", &p.negative);
        self.f_u32("flags", p.flags);
        self.f_list("exemplars", &p.exemplars, Self::exemplar);
        self.f_f64_opt("min", p.min);
        self.f_f64_opt("max", p.max);
        self.f_f64("zeroThreshold", p.zero_threshold);
        self.close();
    }

    fn summary_point(&mut self, p: &SummaryDataPoint) {
        self.open();
        self.f_attrs("attributes", &p.attributes);
        self.f_u64("startTimeUnixNano", p.start_time_unix_nano);
        self.f_u64("timeUnixNano", p.time_unix_nano);
        self.f_u64("count", p.count);
        self.f_f64("sum", p.sum);
        self.f_list("quantileValues", &p.quantile_values, |w, q| {
            w.open();
            w.f_f64("quantile", q.quantile);
            w.f_f64("value", q.value);
            w.close();
        });
        self.f_u32("flags", p.flags);
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentationScope, Resource, ScopeGroup};
    use alloc::string::String;
    use alloc::vec;

    fn w_out(f: impl FnOnce(&mut W<'_>)) -> String {
        let mut out = Vec::new();
        f(&mut W { out: &mut out });
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped() {
        let s = w_out(|w| w.string("a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}é😀\u{7f}/"));
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001fé😀\u{7f}/\"");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\n\t\r\u{8}\u{c}\u{1}\u{1f}é😀\u{7f}/");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(w_out(|w| w.base64(input.as_bytes())), format!("\"{want}\""));
        }
        assert_eq!(w_out(|w| w.base64(&[0xff, 0xfe, 0xfd])), "\"//79\"");
    }

    #[test]
    fn integers_cover_extremes() {
        assert_eq!(w_out(|w| w.u64_str(u64::MAX)), "\"18446744073709551615\"");
        assert_eq!(w_out(|w| w.i64_str(i64::MIN)), "\"-9223372036854775808\"");
        assert_eq!(w_out(|w| w.i64_str(0)), "\"0\"");
        assert_eq!(w_out(|w| w.signed(i64::from(i32::MIN))), "-2147483648");
    }

    #[test]
    fn doubles_are_short_and_round_trip() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e21, "1e21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "0.00000015"),
            (1e-8, "1e-8"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"Infinity\""),
            (f64::NEG_INFINITY, "\"-Infinity\""),
        ];
        for (v, want) in cases {
            let s = w_out(|w| w.f64(v));
            assert_eq!(s, want, "{v:?}");
            if v.is_finite() {
                let back: f64 = serde_json::from_str(&s).unwrap();
                assert_eq!(back.to_bits(), v.to_bits(), "{s}");
            }
        }
    }

    #[test]
    fn empty_batch_is_an_empty_object_and_output_is_appended() {
        let mut out = b"xyz".to_vec();
        JsonEncoder::new().encode_traces(&[], &mut out);
        assert_eq!(out, b"xyz{}");
    }

    #[test]
    fn deep_any_values_are_cut_at_the_depth_limit() {
        let mut v = AnyValue::Int(7);
        for _ in 0..(MAX_ANY_VALUE_DEPTH + 10) {
            v = AnyValue::Array(vec![v]);
        }
        let s = w_out(|w| w.any_value(&v, 1));
        let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        let mut cur = &parsed;
        let mut depth = 0;
        while let Some(inner) = cur.get("arrayValue") {
            cur = &inner["values"][0];
            depth += 1;
        }
        assert_eq!(depth, MAX_ANY_VALUE_DEPTH);
        assert_eq!(cur, &serde_json::json!({}));
    }

    #[test]
    fn defaults_are_omitted() {
        let resource = Resource::default();
        let scope = InstrumentationScope::default();
        let spans = [Span::default()];
        let scopes = [ScopeGroup {
            scope: &scope,
            records: &spans,
        }];
        let groups = [ResourceGroup {
            resource: &resource,
            scopes: &scopes,
        }];
        let mut out = Vec::new();
        JsonEncoder::new().encode_traces(&groups, &mut out);
        // Span::default() has kind Internal (1).
        assert_eq!(
            core::str::from_utf8(&out).unwrap(),
            r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"kind":1,"status":{}}]}]}]}"#
        );
    }
}
