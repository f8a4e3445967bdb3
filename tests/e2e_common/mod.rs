//! Helpers shared by the end-to-end tests (`tests/e2e_*.rs`): a fast configuration against
//! the fake collector, sample records, and readers of what the collector decoded.
#![allow(dead_code)]

use crate::support::collector::{CapturedRequest, Collector, Decoded};
use crate::support::oracle;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pc;
use opentelemetry_proto::tonic::trace::v1 as pt;
use otlp_sync::config::{ConfigBuilder, Jitter, RetryPolicy};
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{
    AggregationTemporality, AnyValue, Event, HistogramDataPoint, InstrumentationScope, KeyValue,
    LogRecord, Metric, MetricData, NumberDataPoint, NumberValue, Resource, Severity, Signal, Span,
    SpanId, SpanKind, Status, StatusCode, TraceId,
};
use otlp_sync::pipeline::{SignalStats, Stats};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Slack allowed past a deadline on a loaded machine.
pub const MARGIN: Duration = Duration::from_millis(200);
/// The service name every test configures.
pub const SERVICE: &str = "e2e-service";
/// A timestamp in 2025, in nanoseconds.
pub const T0: u64 = 1_750_000_000_000_000_000;

/// A retry policy with short waits and no jitter (deterministic, fast).
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        multiplier: 2.0,
        jitter: Jitter::None,
        max_attempts,
        ..RetryPolicy::default()
    }
}

/// The base configuration of the suite: the collector's base endpoint, a known service
/// name and resource attribute, fast retries, a 5 s export timeout, and schedule delays
/// long enough that only record counts and flushes cut batches.
pub fn builder(c: &Collector) -> ConfigBuilder {
    let mut b = ConfigBuilder::new()
        .endpoint(c.url(""))
        .service_name(SERVICE)
        .resource_attributes([KeyValue::new("deployment.environment", "e2e")])
        .retry(fast_retry(5))
        .timeout(Duration::from_secs(5))
        .shutdown_timeout(Duration::from_secs(3));
    for s in Signal::ALL {
        b = b.schedule_delay(s, Duration::from_secs(30));
    }
    b
}

/// Builds and starts an exporter, panicking with the reason on failure (test code).
pub fn start(b: ConfigBuilder) -> Exporter {
    let config = b.build().expect("valid test configuration");
    Exporter::new(config).expect("exporter starts")
}

/// The resource attributes every request of the suite must carry, sorted by key.
pub fn expected_resource_attributes() -> Vec<KeyValue> {
    let mut attrs = vec![
        KeyValue::new("deployment.environment", "e2e"),
        KeyValue::new("service.name", SERVICE),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.name", "otlp-sync"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    attrs.sort_by(|a, b| a.key.cmp(&b.key));
    attrs
}

/// The expected resource, attributes sorted by key.
pub fn expected_resource() -> Resource {
    Resource::new(expected_resource_attributes())
}

/// A scope with a name, version and one attribute.
pub fn scope(name: &'static str, version: &'static str) -> Arc<InstrumentationScope> {
    let mut s = InstrumentationScope::new(name);
    s.version = version.into();
    s.attributes.push(KeyValue::new("scope.kind", "e2e"));
    Arc::new(s)
}

/// Distinct, valid ids from a number.
pub fn trace_id(n: u64) -> TraceId {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&0x5eed_0000_0000_0001_u64.to_be_bytes());
    b[8..].copy_from_slice(&(n + 1).to_be_bytes());
    TraceId::from_bytes(b)
}

/// Distinct, valid span ids from a number.
pub fn span_id(n: u64) -> SpanId {
    SpanId::from_bytes((n + 1).to_be_bytes())
}

/// A span with every commonly used field set, all derived from `n`.
pub fn span(n: u64) -> Span {
    let mut s = Span::new(format!("op-{n}"), trace_id(n / 4), span_id(n));
    s.parent_span_id = if n % 4 == 0 {
        SpanId::INVALID
    } else {
        span_id(n - 1)
    };
    s.kind = if n % 2 == 0 {
        SpanKind::Server
    } else {
        SpanKind::Client
    };
    s.flags = 1;
    s.start_time_unix_nano = T0 + n * 1000;
    s.end_time_unix_nano = T0 + n * 1000 + 500;
    s.attributes = vec![
        KeyValue::new("n", i64::try_from(n).unwrap_or(i64::MAX)),
        KeyValue::new("http.route", "/pumps/{id}"),
        KeyValue::new("ok", n % 3 != 0),
        KeyValue::new("ratio", 0.25 + n as f64),
        KeyValue::new(
            "raw",
            AnyValue::Bytes(vec![0, 1, 2, u8::try_from(n % 256).unwrap_or(0)]),
        ),
        KeyValue::new(
            "tags",
            AnyValue::Array(vec![AnyValue::from("a"), AnyValue::Int(7)]),
        ),
    ];
    s.events.push(Event {
        time_unix_nano: T0 + n * 1000 + 100,
        name: "checkpoint".into(),
        attributes: vec![KeyValue::new("step", 1)],
        dropped_attributes_count: 0,
    });
    if n % 5 == 4 {
        s.status = Status {
            code: StatusCode::Error,
            message: "pump stalled".into(),
        };
    }
    s
}

/// A bare span: only ids and a name (small, for volume tests).
pub fn small_span(n: u64) -> Span {
    Span::new("tick", trace_id(n), span_id(n))
}

/// A log record derived from `n`, correlated with span `n`.
pub fn log(n: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: T0 + n,
        observed_time_unix_nano: T0 + n + 1,
        severity_number: if n % 2 == 0 {
            Severity::INFO
        } else {
            Severity::ERROR
        },
        severity_text: if n % 2 == 0 { "INFO" } else { "ERROR" }.into(),
        body: AnyValue::from(format!("log line {n}")),
        attributes: vec![
            KeyValue::new("n", i64::try_from(n).unwrap_or(i64::MAX)),
            KeyValue::new("component", "valve"),
        ],
        trace_id: trace_id(n / 4),
        span_id: span_id(n),
        flags: 1,
        ..Default::default()
    }
}

/// A gauge with one double point.
pub fn gauge(n: u64) -> Metric {
    Metric {
        name: format!("pump.temperature.{n}").into(),
        description: "temperature of the pump housing".into(),
        unit: "Cel".into(),
        data: MetricData::Gauge(vec![NumberDataPoint {
            attributes: vec![KeyValue::new("pump", "p1")],
            time_unix_nano: T0 + n,
            value: NumberValue::Double(21.5 + n as f64),
            ..Default::default()
        }]),
        metadata: Vec::new(),
    }
}

/// A monotonic cumulative sum with two integer points.
pub fn sum(n: u64) -> Metric {
    let point = |pump: &'static str, v: i64| NumberDataPoint {
        attributes: vec![KeyValue::new("pump", pump)],
        start_time_unix_nano: T0,
        time_unix_nano: T0 + 1_000_000_000 + n,
        value: NumberValue::Int(v),
        ..Default::default()
    };
    Metric {
        name: format!("pump.strokes.{n}").into(),
        description: "strokes since start".into(),
        unit: "{stroke}".into(),
        data: MetricData::Sum {
            points: vec![point("p1", 1200), point("p2", 7)],
            temporality: AggregationTemporality::Cumulative,
            is_monotonic: true,
        },
        metadata: Vec::new(),
    }
}

/// A delta histogram with one point.
pub fn histogram(n: u64) -> Metric {
    Metric {
        name: format!("valve.latency.{n}").into(),
        description: String::new().into(),
        unit: "ms".into(),
        data: MetricData::Histogram {
            points: vec![HistogramDataPoint {
                attributes: vec![KeyValue::new("valve", "v2")],
                start_time_unix_nano: T0,
                time_unix_nano: T0 + 60_000_000_000 + n,
                count: 6,
                sum: Some(61.5),
                bucket_counts: vec![1, 2, 3, 0],
                explicit_bounds: vec![1.0, 10.0, 100.0],
                min: Some(0.5),
                max: Some(30.0),
                ..Default::default()
            }],
            temporality: AggregationTemporality::Delta,
        },
        metadata: Vec::new(),
    }
}

/// Asserts that every captured request was decoded by the official decoder.
pub fn assert_all_decoded(requests: &[CapturedRequest]) {
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(
            r.decode_error, None,
            "request {i} to {} did not decode",
            r.path
        );
        assert!(
            r.decoded.is_some() || r.path.is_empty(),
            "request {i} not decoded"
        );
    }
}

/// Trace requests among `requests`, optionally only those answered 2xx.
pub fn trace_requests(
    requests: &[CapturedRequest],
    accepted_only: bool,
) -> Vec<ExportTraceServiceRequest> {
    requests
        .iter()
        .filter(|r| !accepted_only || r.accepted())
        .filter_map(|r| match &r.decoded {
            Some(Decoded::Traces(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Log requests among `requests`.
pub fn log_requests(
    requests: &[CapturedRequest],
    accepted_only: bool,
) -> Vec<ExportLogsServiceRequest> {
    requests
        .iter()
        .filter(|r| !accepted_only || r.accepted())
        .filter_map(|r| match &r.decoded {
            Some(Decoded::Logs(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Metric requests among `requests`.
pub fn metric_requests(
    requests: &[CapturedRequest],
    accepted_only: bool,
) -> Vec<ExportMetricsServiceRequest> {
    requests
        .iter()
        .filter(|r| !accepted_only || r.accepted())
        .filter_map(|r| match &r.decoded {
            Some(Decoded::Metrics(t)) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// Every span in `requests`, with its scope, in arrival order.
pub fn spans_of(
    requests: &[ExportTraceServiceRequest],
) -> Vec<(pc::InstrumentationScope, pt::Span)> {
    requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| {
            let scope = ss.scope.clone().unwrap_or_default();
            ss.spans.iter().map(move |s| (scope.clone(), s.clone()))
        })
        .collect()
}

/// How often each span id occurs in `requests`.
pub fn span_id_counts(requests: &[ExportTraceServiceRequest]) -> HashMap<Vec<u8>, usize> {
    let mut counts = HashMap::new();
    for (_, s) in spans_of(requests) {
        *counts.entry(s.span_id).or_insert(0) += 1;
    }
    counts
}

/// Attributes the exporter detects from the machine (values vary by host).
const DETECTED: [&str; 5] = [
    "service.instance.id",
    "process.pid",
    "process.executable.name",
    "host.name",
    "os.type",
];

/// Checks that the detected attributes are there (host.name may be missing on a host
/// without a name), removes them, and sorts the rest by key.
fn normalize_resource(res: &mut opentelemetry_proto::tonic::resource::v1::Resource) {
    for key in [
        "service.instance.id",
        "process.pid",
        "process.executable.name",
        "os.type",
    ] {
        assert!(
            res.attributes.iter().any(|kv| kv.key == key),
            "detected resource attribute {key} missing"
        );
    }
    res.attributes
        .retain(|kv| !DETECTED.contains(&kv.key.as_str()));
    res.attributes.sort_by(|a, b| a.key.cmp(&b.key));
}

/// Sorts resource attributes by key, so that a decoded request compares with
/// [`expected_resource`] whatever order the exporter writes them in.
pub fn sort_resources_traces(r: &mut ExportTraceServiceRequest) {
    for rs in &mut r.resource_spans {
        if let Some(res) = &mut rs.resource {
            normalize_resource(res);
        }
    }
}

/// As [`sort_resources_traces`], for logs.
pub fn sort_resources_logs(r: &mut ExportLogsServiceRequest) {
    for rl in &mut r.resource_logs {
        if let Some(res) = &mut rl.resource {
            normalize_resource(res);
        }
    }
}

/// As [`sort_resources_traces`], for metrics.
pub fn sort_resources_metrics(r: &mut ExportMetricsServiceRequest) {
    for rm in &mut r.resource_metrics {
        if let Some(res) = &mut rm.resource {
            normalize_resource(res);
        }
    }
}

/// A one-resource oracle batch.
pub fn batch<T>(scopes: Vec<(InstrumentationScope, Vec<T>)>) -> oracle::Batch<T> {
    oracle::Batch {
        resources: vec![(expected_resource(), scopes)],
    }
}

/// Asserts the accounting identity of one signal after a completed flush: nothing queued,
/// and every record offered is exported or dropped for a reason.
pub fn assert_settled(name: &str, s: &SignalStats) {
    assert_eq!(s.queued, 0, "{name}: records still queued: {s:?}");
    assert_eq!(
        s.offered,
        s.exported + s.dropped.total(),
        "{name}: offered != exported + dropped: {s:?}"
    );
}

/// Polls `stats` until every signal has nothing queued (bounded by `timeout`).
pub fn wait_settled(stats: impl Fn() -> Stats, timeout: Duration) -> Stats {
    let end = Instant::now() + timeout;
    loop {
        let s = stats();
        let queued = s.traces.queued + s.metrics.queued + s.logs.queued;
        if queued == 0 || Instant::now() >= end {
            return s;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `f` and returns its result and how long it took.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed())
}

/// A port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// The string value of a resource attribute in a decoded request.
pub fn str_attr(attrs: &[pc::KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(pc::any_value::Value::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
}
