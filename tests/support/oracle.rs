//! The wire oracle: random batches of model records, and what the official
//! `opentelemetry-proto` types say each batch must look like once exported.
//!
//! `expected_*` are straightforward, independent conversions from our model to the
//! official prost structs, written with the OTLP rules in mind, not our encoders:
//!
//! * `Resource{Spans,Logs,Metrics}.resource` and `Scope*.scope` are always present.
//! * `Span.status` is always present; `ExponentialHistogramDataPoint.positive` and
//!   `negative` are always present.
//! * A `KeyValue`'s `value` is always present: `AnyValue::Empty` is an `AnyValue` with no
//!   `value`. `LogRecord.body` is absent when the body is `AnyValue::Empty`.
//! * Invalid (all-zero) trace and span ids are empty byte strings.
//! * Doubles without presence (`zero_threshold`, `SummaryDataPoint.sum`, quantiles) are
//!   not written when they equal zero, so `-0.0` there reads back as `0.0`; `optional`
//!   and `oneof` doubles keep their sign.

use std::borrow::Cow;
use std::fmt::Debug;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pc;
use opentelemetry_proto::tonic::logs::v1 as pl;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::resource::v1 as pr;
use opentelemetry_proto::tonic::trace::v1 as pt;
use otlp_sync::model::{
    AggregationTemporality, AnyValue, Buckets, Event, Exemplar, ExponentialHistogramDataPoint,
    HistogramDataPoint, InstrumentationScope, KeyValue, Link, LogRecord, Metric, MetricData,
    NumberDataPoint, NumberValue, Resource, ResourceGroup, ScopeGroup, Severity, Span, SpanId,
    SpanKind, Status, StatusCode, Str, SummaryDataPoint, TraceId, ValueAtQuantile,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

/// An owned batch: resources, each with its scopes, each with its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    /// `(resource, [(scope, records)])`, in export order.
    #[allow(
        clippy::type_complexity,
        reason = "the nesting mirrors the wire grouping"
    )]
    pub resources: Vec<(Resource, Vec<(InstrumentationScope, Vec<T>)>)>,
}

impl<T> Batch<T> {
    /// Calls `f` with the borrowed grouping view the encoders take.
    pub fn with_groups<R>(&self, f: impl FnOnce(&[ResourceGroup<'_, T>]) -> R) -> R {
        let scopes: Vec<Vec<ScopeGroup<'_, T>>> = self
            .resources
            .iter()
            .map(|(_, scopes)| {
                scopes
                    .iter()
                    .map(|(scope, records)| ScopeGroup { scope, records })
                    .collect()
            })
            .collect();
        let groups: Vec<ResourceGroup<'_, T>> = self
            .resources
            .iter()
            .zip(&scopes)
            .map(|((resource, _), scopes)| ResourceGroup { resource, scopes })
            .collect();
        f(&groups)
    }

    /// Records across all resources and scopes.
    pub fn record_count(&self) -> usize {
        self.resources
            .iter()
            .flat_map(|(_, scopes)| scopes.iter().map(|(_, records)| records.len()))
            .sum()
    }
}

// ---------------------------------------------------------------------------------------
// Strategies.

/// Literal strings, stored as `Cow::Borrowed`.
const STATIC_STRS: &[&str] = &[
    "",
    "a",
    "service.name",
    "http.response.status_code",
    "héllo wörld",
    "日本語テキスト",
    "🦀 crab",
    "quote \" backslash \\ slash / tab \t newline \n nul \u{0}",
    "\u{7f}\u{80}\u{ffff}\u{10ffff}",
];

/// Strings: empty, ASCII, any Unicode, control characters; borrowed or owned.
pub fn arb_str() -> impl Strategy<Value = Str> {
    prop_oneof![
        select(STATIC_STRS).prop_map(Cow::Borrowed),
        Just(Cow::Owned(String::new())),
        "[a-z._]{1,12}".prop_map(Cow::Owned),
        "\\PC{0,10}".prop_map(Cow::Owned),
        ".{0,6}".prop_map(Cow::Owned),
    ]
}

/// Doubles including NaN, both infinities, both zeros and the extremes.
pub fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(f64::MIN),
        (-1000i32..1000).prop_map(|i| f64::from(i) * 0.25),
    ]
}

/// Signed integers including both extremes, zero and -1.
pub fn arb_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        any::<i64>(),
        -300i64..300,
    ]
}

/// Timestamps and counts: zero, `u64::MAX`, anything.
pub fn arb_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), Just(u64::MAX), any::<u64>(), 0u64..300]
}

/// Dropped counts and flags: zero, `u32::MAX`, anything.
pub fn arb_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0), Just(u32::MAX), any::<u32>(), 0u32..300]
}

/// Trace ids, a quarter of them invalid.
pub fn arb_trace_id() -> impl Strategy<Value = TraceId> {
    prop_oneof![
        1 => Just(TraceId::INVALID),
        1 => Just(TraceId::from_bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
        2 => any::<[u8; 16]>().prop_map(TraceId::from_bytes),
    ]
}

/// Span ids, a quarter of them invalid.
pub fn arb_span_id() -> impl Strategy<Value = SpanId> {
    prop_oneof![
        1 => Just(SpanId::INVALID),
        1 => Just(SpanId::from_bytes([0x80, 0, 0, 0, 0, 0, 0, 0])),
        2 => any::<[u8; 8]>().prop_map(SpanId::from_bytes),
    ]
}

fn arb_leaf_value() -> impl Strategy<Value = AnyValue> {
    prop_oneof![
        Just(AnyValue::Empty),
        arb_str().prop_map(AnyValue::Str),
        any::<bool>().prop_map(AnyValue::Bool),
        arb_i64().prop_map(AnyValue::Int),
        arb_f64().prop_map(AnyValue::Double),
        vec(any::<u8>(), 0..8).prop_map(AnyValue::Bytes),
    ]
}

/// Any attribute value, with arrays and key-value lists nested at most 3 deep.
pub fn arb_any_value() -> impl Strategy<Value = AnyValue> {
    arb_leaf_value().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
            vec(
                (arb_str(), inner).prop_map(|(key, value)| KeyValue { key, value }),
                0..4
            )
            .prop_map(AnyValue::KvList),
        ]
    })
}

/// One attribute.
pub fn arb_key_value() -> impl Strategy<Value = KeyValue> {
    (arb_str(), arb_any_value()).prop_map(|(key, value)| KeyValue { key, value })
}

/// Up to three attributes.
pub fn arb_attrs() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(arb_key_value(), 0..4)
}

/// A resource with attributes, a dropped count and a schema URL.
pub fn arb_resource() -> impl Strategy<Value = Resource> {
    (arb_attrs(), arb_u32(), arb_str()).prop_map(|(attributes, dropped, schema_url)| Resource {
        attributes,
        dropped_attributes_count: dropped,
        schema_url,
    })
}

/// An instrumentation scope with every field set at random.
pub fn arb_scope() -> impl Strategy<Value = InstrumentationScope> {
    (arb_str(), arb_str(), arb_attrs(), arb_u32(), arb_str()).prop_map(
        |(name, version, attributes, dropped, schema_url)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count: dropped,
            schema_url,
        },
    )
}

/// A batch of 0-3 resources, each with 0-3 scopes (possibly none), each with 0-3 records.
pub fn arb_batch<T: Debug + Clone>(
    record: impl Strategy<Value = T>,
) -> impl Strategy<Value = Batch<T>> {
    vec(
        (arb_resource(), vec((arb_scope(), vec(record, 0..4)), 0..4)),
        0..4,
    )
    .prop_map(|resources| Batch { resources })
}

fn arb_event() -> impl Strategy<Value = Event> {
    (arb_u64(), arb_str(), arb_attrs(), arb_u32()).prop_map(|(time, name, attributes, dropped)| {
        Event {
            time_unix_nano: time,
            name,
            attributes,
            dropped_attributes_count: dropped,
        }
    })
}

fn arb_link() -> impl Strategy<Value = Link> {
    (
        arb_trace_id(),
        arb_span_id(),
        arb_str(),
        arb_attrs(),
        arb_u32(),
        arb_u32(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped, flags)| Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count: dropped,
                flags,
            },
        )
}

/// A span with every field random, all kinds and status codes, events and links.
pub fn arb_span() -> impl Strategy<Value = Span> {
    let kinds = vec![
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];
    let codes = vec![StatusCode::Unset, StatusCode::Ok, StatusCode::Error];
    (
        (
            arb_trace_id(),
            arb_span_id(),
            arb_str(),
            arb_span_id(),
            arb_u32(),
            arb_str(),
            select(kinds),
        ),
        (arb_u64(), arb_u64(), arb_attrs(), arb_u32()),
        (
            vec(arb_event(), 0..3),
            arb_u32(),
            vec(arb_link(), 0..3),
            arb_u32(),
            select(codes),
            arb_str(),
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, trace_state, parent_span_id, flags, name, kind),
                (start, end, attributes, dropped_attributes_count),
                (events, dropped_events_count, links, dropped_links_count, code, message),
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status: Status { code, message },
            },
        )
}

/// A log record with every field random (severity mostly 0-24, sometimes any `i32`).
pub fn arb_log_record() -> impl Strategy<Value = LogRecord> {
    (
        (
            arb_u64(),
            arb_u64(),
            prop_oneof![4 => 0i32..=24, 1 => any::<i32>()],
            arb_str(),
            arb_any_value(),
            arb_attrs(),
        ),
        (
            arb_u32(),
            arb_u32(),
            arb_trace_id(),
            arb_span_id(),
            arb_str(),
        ),
    )
        .prop_map(
            |(
                (time, observed, severity, severity_text, body, attributes),
                (dropped, flags, trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: observed,
                severity_number: Severity(severity),
                severity_text,
                body,
                attributes,
                dropped_attributes_count: dropped,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn arb_number() -> impl Strategy<Value = NumberValue> {
    prop_oneof![
        arb_i64().prop_map(NumberValue::Int),
        arb_f64().prop_map(NumberValue::Double),
    ]
}

fn arb_exemplar() -> impl Strategy<Value = Exemplar> {
    (
        arb_attrs(),
        arb_u64(),
        arb_number(),
        arb_span_id(),
        arb_trace_id(),
    )
        .prop_map(
            |(filtered_attributes, time, value, span_id, trace_id)| Exemplar {
                filtered_attributes,
                time_unix_nano: time,
                value,
                span_id,
                trace_id,
            },
        )
}

fn arb_exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    vec(arb_exemplar(), 0..3)
}

fn arb_number_point() -> impl Strategy<Value = NumberDataPoint> {
    (
        arb_attrs(),
        arb_u64(),
        arb_u64(),
        arb_number(),
        arb_exemplars(),
        arb_u32(),
    )
        .prop_map(
            |(attributes, start, time, value, exemplars, flags)| NumberDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                value,
                exemplars,
                flags,
            },
        )
}

fn arb_histogram_point() -> impl Strategy<Value = HistogramDataPoint> {
    (
        (arb_attrs(), arb_u64(), arb_u64(), arb_u64()),
        (
            option::of(arb_f64()),
            vec(arb_u64(), 0..5),
            vec(arb_f64(), 0..4),
            arb_exemplars(),
            arb_u32(),
            option::of(arb_f64()),
            option::of(arb_f64()),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count),
                (sum, bucket_counts, explicit_bounds, exemplars, flags, min, max),
            )| HistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                bucket_counts,
                explicit_bounds,
                exemplars,
                flags,
                min,
                max,
            },
        )
}

fn arb_buckets() -> impl Strategy<Value = Buckets> {
    (
        prop_oneof![Just(0), -100i32..100, Just(i32::MIN), Just(i32::MAX)],
        vec(arb_u64(), 0..5),
    )
        .prop_map(|(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        })
}

fn arb_exp_histogram_point() -> impl Strategy<Value = ExponentialHistogramDataPoint> {
    (
        (
            arb_attrs(),
            arb_u64(),
            arb_u64(),
            arb_u64(),
            option::of(arb_f64()),
            prop_oneof![Just(0), -10i32..=20, Just(i32::MIN), Just(i32::MAX)],
            arb_u64(),
        ),
        (
            arb_buckets(),
            arb_buckets(),
            arb_u32(),
            arb_exemplars(),
            option::of(arb_f64()),
            option::of(arb_f64()),
            arb_f64(),
        ),
    )
        .prop_map(
            |(
                (attributes, start, time, count, sum, scale, zero_count),
                (positive, negative, flags, exemplars, min, max, zero_threshold),
            )| ExponentialHistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                scale,
                zero_count,
                positive,
                negative,
                flags,
                exemplars,
                min,
                max,
                zero_threshold,
            },
        )
}

fn arb_summary_point() -> impl Strategy<Value = SummaryDataPoint> {
    (
        arb_attrs(),
        arb_u64(),
        arb_u64(),
        arb_u64(),
        arb_f64(),
        vec(
            (arb_f64(), arb_f64())
                .prop_map(|(quantile, value)| ValueAtQuantile { quantile, value }),
            0..4,
        ),
        arb_u32(),
    )
        .prop_map(
            |(attributes, start, time, count, sum, quantile_values, flags)| SummaryDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: time,
                count,
                sum,
                quantile_values,
                flags,
            },
        )
}

fn arb_temporality() -> impl Strategy<Value = AggregationTemporality> {
    select(vec![
        AggregationTemporality::Unspecified,
        AggregationTemporality::Delta,
        AggregationTemporality::Cumulative,
    ])
}

/// Metric data of every kind, with 0-2 points.
pub fn arb_metric_data() -> impl Strategy<Value = MetricData> {
    prop_oneof![
        vec(arb_number_point(), 0..3).prop_map(MetricData::Gauge),
        (
            vec(arb_number_point(), 0..3),
            arb_temporality(),
            any::<bool>()
        )
            .prop_map(|(points, temporality, is_monotonic)| MetricData::Sum {
                points,
                temporality,
                is_monotonic,
            }),
        (vec(arb_histogram_point(), 0..3), arb_temporality()).prop_map(|(points, temporality)| {
            MetricData::Histogram {
                points,
                temporality,
            }
        }),
        (vec(arb_exp_histogram_point(), 0..3), arb_temporality()).prop_map(
            |(points, temporality)| MetricData::ExponentialHistogram {
                points,
                temporality,
            }
        ),
        vec(arb_summary_point(), 0..3).prop_map(MetricData::Summary),
    ]
}

/// A metric of any kind.
pub fn arb_metric() -> impl Strategy<Value = Metric> {
    (
        arb_str(),
        arb_str(),
        arb_str(),
        arb_metric_data(),
        arb_attrs(),
    )
        .prop_map(|(name, description, unit, data, metadata)| Metric {
            name,
            description,
            unit,
            data,
            metadata,
        })
}

/// Random span batches.
pub fn arb_span_batch() -> impl Strategy<Value = Batch<Span>> {
    arb_batch(arb_span())
}

/// Random log batches.
pub fn arb_log_batch() -> impl Strategy<Value = Batch<LogRecord>> {
    arb_batch(arb_log_record())
}

/// Random metric batches.
pub fn arb_metric_batch() -> impl Strategy<Value = Batch<Metric>> {
    arb_batch(arb_metric())
}

// ---------------------------------------------------------------------------------------
// Expected messages.

fn string(s: &Str) -> String {
    s.to_string()
}

/// An id as OTLP carries it: empty when invalid (all zero).
fn id_bytes(b: &[u8]) -> Vec<u8> {
    if b.iter().all(|&x| x == 0) {
        Vec::new()
    } else {
        b.to_vec()
    }
}

/// A proto3 double without presence: zero (either sign) is not on the wire, so it reads
/// back as `+0.0`.
fn plain_double(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

/// The official `AnyValue` for a model value.
pub fn any_value(v: &AnyValue) -> pc::AnyValue {
    use pc::any_value::Value;
    let value = match v {
        AnyValue::Empty => None,
        AnyValue::Str(s) => Some(Value::StringValue(string(s))),
        AnyValue::Bool(b) => Some(Value::BoolValue(*b)),
        AnyValue::Int(i) => Some(Value::IntValue(*i)),
        AnyValue::Double(d) => Some(Value::DoubleValue(*d)),
        AnyValue::Bytes(b) => Some(Value::BytesValue(b.clone())),
        AnyValue::Array(items) => Some(Value::ArrayValue(pc::ArrayValue {
            values: items.iter().map(any_value).collect(),
        })),
        AnyValue::KvList(kvs) => Some(Value::KvlistValue(pc::KeyValueList {
            values: attributes(kvs),
        })),
    };
    pc::AnyValue { value }
}

/// The official `KeyValue`s for model attributes.
pub fn attributes(kvs: &[KeyValue]) -> Vec<pc::KeyValue> {
    kvs.iter()
        .map(|kv| pc::KeyValue {
            key: string(&kv.key),
            value: Some(any_value(&kv.value)),
            ..Default::default()
        })
        .collect()
}

/// The official `Resource`.
pub fn resource(r: &Resource) -> pr::Resource {
    pr::Resource {
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
        ..Default::default()
    }
}

/// The official `InstrumentationScope`.
pub fn scope(s: &InstrumentationScope) -> pc::InstrumentationScope {
    pc::InstrumentationScope {
        name: string(&s.name),
        version: string(&s.version),
        attributes: attributes(&s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
    }
}

/// The official `Span`.
pub fn span(s: &Span) -> pt::Span {
    pt::Span {
        trace_id: id_bytes(s.trace_id.as_bytes()),
        span_id: id_bytes(s.span_id.as_bytes()),
        trace_state: string(&s.trace_state),
        parent_span_id: id_bytes(s.parent_span_id.as_bytes()),
        flags: s.flags,
        name: string(&s.name),
        kind: s.kind as i32,
        start_time_unix_nano: s.start_time_unix_nano,
        end_time_unix_nano: s.end_time_unix_nano,
        attributes: attributes(&s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
        events: s
            .events
            .iter()
            .map(|e| pt::span::Event {
                time_unix_nano: e.time_unix_nano,
                name: string(&e.name),
                attributes: attributes(&e.attributes),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: s.dropped_events_count,
        links: s
            .links
            .iter()
            .map(|l| pt::span::Link {
                trace_id: id_bytes(l.trace_id.as_bytes()),
                span_id: id_bytes(l.span_id.as_bytes()),
                trace_state: string(&l.trace_state),
                attributes: attributes(&l.attributes),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: l.flags,
            })
            .collect(),
        dropped_links_count: s.dropped_links_count,
        status: Some(pt::Status {
            message: string(&s.status.message),
            code: s.status.code as i32,
        }),
    }
}

/// The official `LogRecord`.
pub fn log_record(r: &LogRecord) -> pl::LogRecord {
    pl::LogRecord {
        time_unix_nano: r.time_unix_nano,
        observed_time_unix_nano: r.observed_time_unix_nano,
        severity_number: r.severity_number.0,
        severity_text: string(&r.severity_text),
        body: match &r.body {
            AnyValue::Empty => None,
            v => Some(any_value(v)),
        },
        attributes: attributes(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
        flags: r.flags,
        trace_id: id_bytes(r.trace_id.as_bytes()),
        span_id: id_bytes(r.span_id.as_bytes()),
        event_name: string(&r.event_name),
    }
}

fn exemplar(e: &Exemplar) -> pm::Exemplar {
    pm::Exemplar {
        filtered_attributes: attributes(&e.filtered_attributes),
        time_unix_nano: e.time_unix_nano,
        span_id: id_bytes(e.span_id.as_bytes()),
        trace_id: id_bytes(e.trace_id.as_bytes()),
        value: Some(match e.value {
            NumberValue::Int(i) => pm::exemplar::Value::AsInt(i),
            NumberValue::Double(d) => pm::exemplar::Value::AsDouble(d),
        }),
    }
}

fn number_point(p: &NumberDataPoint) -> pm::NumberDataPoint {
    pm::NumberDataPoint {
        attributes: attributes(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        exemplars: p.exemplars.iter().map(exemplar).collect(),
        flags: p.flags,
        value: Some(match p.value {
            NumberValue::Int(i) => pm::number_data_point::Value::AsInt(i),
            NumberValue::Double(d) => pm::number_data_point::Value::AsDouble(d),
        }),
    }
}

fn histogram_point(p: &HistogramDataPoint) -> pm::HistogramDataPoint {
    pm::HistogramDataPoint {
        attributes: attributes(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        count: p.count,
        sum: p.sum,
        bucket_counts: p.bucket_counts.clone(),
        explicit_bounds: p.explicit_bounds.clone(),
        exemplars: p.exemplars.iter().map(exemplar).collect(),
        flags: p.flags,
        min: p.min,
        max: p.max,
    }
}

fn buckets(b: &Buckets) -> pm::exponential_histogram_data_point::Buckets {
    pm::exponential_histogram_data_point::Buckets {
        offset: b.offset,
        bucket_counts: b.bucket_counts.clone(),
    }
}

fn exp_histogram_point(p: &ExponentialHistogramDataPoint) -> pm::ExponentialHistogramDataPoint {
    pm::ExponentialHistogramDataPoint {
        attributes: attributes(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        count: p.count,
        sum: p.sum,
        scale: p.scale,
        zero_count: p.zero_count,
        positive: Some(buckets(&p.positive)),
        negative: Some(buckets(&p.negative)),
        flags: p.flags,
        exemplars: p.exemplars.iter().map(exemplar).collect(),
        min: p.min,
        max: p.max,
        zero_threshold: plain_double(p.zero_threshold),
    }
}

fn summary_point(p: &SummaryDataPoint) -> pm::SummaryDataPoint {
    pm::SummaryDataPoint {
        attributes: attributes(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        count: p.count,
        sum: plain_double(p.sum),
        quantile_values: p
            .quantile_values
            .iter()
            .map(|q| pm::summary_data_point::ValueAtQuantile {
                quantile: plain_double(q.quantile),
                value: plain_double(q.value),
            })
            .collect(),
        flags: p.flags,
    }
}

/// The official `Metric`.
pub fn metric(m: &Metric) -> pm::Metric {
    use pm::metric::Data;
    let data = match &m.data {
        MetricData::Gauge(points) => Data::Gauge(pm::Gauge {
            data_points: points.iter().map(number_point).collect(),
        }),
        MetricData::Sum {
            points,
            temporality,
            is_monotonic,
        } => Data::Sum(pm::Sum {
            data_points: points.iter().map(number_point).collect(),
            aggregation_temporality: *temporality as i32,
            is_monotonic: *is_monotonic,
        }),
        MetricData::Histogram {
            points,
            temporality,
        } => Data::Histogram(pm::Histogram {
            data_points: points.iter().map(histogram_point).collect(),
            aggregation_temporality: *temporality as i32,
        }),
        MetricData::ExponentialHistogram {
            points,
            temporality,
        } => Data::ExponentialHistogram(pm::ExponentialHistogram {
            data_points: points.iter().map(exp_histogram_point).collect(),
            aggregation_temporality: *temporality as i32,
        }),
        MetricData::Summary(points) => Data::Summary(pm::Summary {
            data_points: points.iter().map(summary_point).collect(),
        }),
    };
    pm::Metric {
        name: string(&m.name),
        description: string(&m.description),
        unit: string(&m.unit),
        metadata: attributes(&m.metadata),
        data: Some(data),
    }
}

/// The `ExportTraceServiceRequest` a span batch must decode to.
pub fn expected_traces(b: &Batch<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: b
            .resources
            .iter()
            .map(|(r, scopes)| pt::ResourceSpans {
                resource: Some(resource(r)),
                scope_spans: scopes
                    .iter()
                    .map(|(s, spans)| pt::ScopeSpans {
                        scope: Some(scope(s)),
                        spans: spans.iter().map(span).collect(),
                        schema_url: string(&s.schema_url),
                    })
                    .collect(),
                schema_url: string(&r.schema_url),
            })
            .collect(),
    }
}

/// The `ExportLogsServiceRequest` a log batch must decode to.
pub fn expected_logs(b: &Batch<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: b
            .resources
            .iter()
            .map(|(r, scopes)| pl::ResourceLogs {
                resource: Some(resource(r)),
                scope_logs: scopes
                    .iter()
                    .map(|(s, records)| pl::ScopeLogs {
                        scope: Some(scope(s)),
                        log_records: records.iter().map(log_record).collect(),
                        schema_url: string(&s.schema_url),
                    })
                    .collect(),
                schema_url: string(&r.schema_url),
            })
            .collect(),
    }
}

/// The `ExportMetricsServiceRequest` a metric batch must decode to.
pub fn expected_metrics(b: &Batch<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: b
            .resources
            .iter()
            .map(|(r, scopes)| pm::ResourceMetrics {
                resource: Some(resource(r)),
                scope_metrics: scopes
                    .iter()
                    .map(|(s, metrics)| pm::ScopeMetrics {
                        scope: Some(scope(s)),
                        metrics: metrics.iter().map(metric).collect(),
                        schema_url: string(&s.schema_url),
                    })
                    .collect(),
                schema_url: string(&r.schema_url),
            })
            .collect(),
    }
}

/// Asserts `got` and `want` are the same message, comparing their `Debug` renderings: NaN
/// equals NaN, but `-0.0` differs from `0.0`. Panics with the first differing line.
pub fn assert_same<M: Debug>(got: &M, want: &M) {
    let got = format!("{got:#?}");
    let want = format!("{want:#?}");
    if got == want {
        return;
    }
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let at = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let from = at.saturating_sub(8);
    panic!(
        "messages differ at line {at}\n--- got (from line {from}):\n{}\n--- want:\n{}",
        g[from..(at + 4).min(g.len())].join("\n"),
        w[from..(at + 4).min(w.len())].join("\n"),
    );
}
