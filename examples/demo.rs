//! The otlp-sync demo: a few spans, log records and metric points through the real
//! exporter, and what arrived.
//!
//! ```sh
//! cargo run --example demo
//! ```
//!
//! With no `OTEL_EXPORTER_OTLP_ENDPOINT` (nor any `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}
//! _ENDPOINT`) set, the demo starts a small OTLP/HTTP receiver of its own on 127.0.0.1 (the
//! fake collector of the tests, which decodes every request with the official
//! `opentelemetry-proto` crate), points the exporter at it, sends, flushes, and prints what
//! the receiver decoded next to the exporter's counters. It exits with status 1 unless the
//! receiver got exactly the records that were sent, so running it is a check in itself.
//! The other `OTEL_*` variables still apply: try `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` or
//! `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`.
//!
//! With an endpoint variable set, the same records go there instead and the demo prints the
//! exporter's counters only (status 1 if anything was dropped).
//!
//! It also prints the encoded size of the same batch in protobuf and JSON, with each
//! compression, using `otlp_sync::encode` and `otlp_sync::compress` directly.

#[path = "../tests/support/collector.rs"]
mod collector;

use collector::{CapturedRequest, Collector, Decoded};
use opentelemetry_proto::tonic::common::v1 as pb_common;
use opentelemetry_proto::tonic::metrics::v1 as pb_metrics;
use otlp_sync::compress::{Compression, Compressor};
use otlp_sync::config::{Config, ConfigBuilder};
use otlp_sync::encode::json::JsonEncoder;
use otlp_sync::encode::protobuf::ProtoEncoder;
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{
    AggregationTemporality, AnyValue, Event, HistogramDataPoint, InstrumentationScope, KeyValue,
    LogRecord, Metric, MetricData, NumberDataPoint, NumberValue, ResourceGroup, ScopeGroup,
    Severity, Signal, Span, SpanId, SpanKind, Status, StatusCode, TraceId,
};
use otlp_sync::pipeline::Stats;
use std::borrow::Cow;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The variables that name a receiver.
const ENDPOINT_VARS: [&str; 4] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

fn main() -> ExitCode {
    println!("otlp-sync demo");
    // An empty value is the same as unset, as the config module reads it.
    let set: Vec<&str> = ENDPOINT_VARS
        .into_iter()
        .filter(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
        .collect();
    let result = if set.is_empty() {
        loopback()
    } else {
        remote(&set)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\ndemo FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The records the demo sends.
struct Batch {
    scope: Arc<InstrumentationScope>,
    spans: Vec<Span>,
    logs: Vec<LogRecord>,
    metrics: Vec<Metric>,
}

impl Batch {
    fn points(&self) -> usize {
        self.metrics.iter().map(|m| m.data.point_count()).sum()
    }
}

fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn id<T: std::str::FromStr>(hex: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    hex.parse().expect("a valid literal id")
}

/// One request handled by a server span with two children, three log records in its
/// context, and three metrics (a sum with two series, a gauge and a histogram).
fn batch() -> Batch {
    const MS: u64 = 1_000_000;
    let now = now_unix_nanos();
    let t0 = now - 40 * MS;
    let trace: TraceId = id("4bf92f3577b34da6a3ce929d0e0e4736");
    let root_id: SpanId = id("00f067aa0ba902b7");
    let db_id: SpanId = id("53995c3f42cd8ad8");
    let render_id: SpanId = id("b7ad6b7169203331");

    let mut root = Span::new("GET /orders", trace, root_id);
    root.kind = SpanKind::Server;
    root.flags = 0x01; // sampled
    root.start_time_unix_nano = t0;
    root.end_time_unix_nano = t0 + 38 * MS;
    root.attributes = vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("url.path", "/orders"),
        KeyValue::new("http.response.status_code", 200),
    ];
    root.events.push(Event {
        time_unix_nano: t0 + MS,
        name: Cow::Borrowed("cache.miss"),
        attributes: vec![KeyValue::new("cache.key", "orders:42")],
        dropped_attributes_count: 0,
    });
    root.status = Status {
        code: StatusCode::Ok,
        message: Cow::Borrowed(""),
    };

    let mut db = Span::new("SELECT orders", trace, db_id);
    db.parent_span_id = root_id;
    db.kind = SpanKind::Client;
    db.flags = 0x01;
    db.start_time_unix_nano = t0 + 2 * MS;
    db.end_time_unix_nano = t0 + 30 * MS;
    db.attributes = vec![
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("db.collection.name", "orders"),
        KeyValue::new("db.response.returned_rows", 3),
    ];

    let mut render = Span::new("render orders", trace, render_id);
    render.parent_span_id = root_id;
    render.flags = 0x01;
    render.start_time_unix_nano = t0 + 31 * MS;
    render.end_time_unix_nano = t0 + 37 * MS;
    render.attributes = vec![
        KeyValue::new("template", "orders.html"),
        KeyValue::new("cached", false),
        KeyValue::new("render.ratio", 0.75),
    ];

    let log =
        |at: u64, severity: Severity, text: &'static str, body: &'static str, span| LogRecord {
            time_unix_nano: at,
            observed_time_unix_nano: at,
            severity_number: severity,
            severity_text: Cow::Borrowed(text),
            body: AnyValue::from(body),
            attributes: vec![KeyValue::new("code.function.name", "handle_orders")],
            flags: 0x01,
            trace_id: trace,
            span_id: span,
            ..LogRecord::default()
        };
    let logs = vec![
        log(t0, Severity::INFO, "INFO", "request received", root_id),
        log(
            t0 + MS,
            Severity::WARN,
            "WARN",
            "cache miss for orders:42",
            root_id,
        ),
        log(
            t0 + 37 * MS,
            Severity::INFO,
            "INFO",
            "rendered 3 orders",
            render_id,
        ),
    ];

    let start = now - 60_000 * MS;
    let number = |route: &'static str, value| NumberDataPoint {
        attributes: vec![KeyValue::new("http.route", route)],
        start_time_unix_nano: start,
        time_unix_nano: now,
        value,
        ..NumberDataPoint::default()
    };
    let metrics = vec![
        Metric {
            name: Cow::Borrowed("http.server.requests"),
            description: Cow::Borrowed("requests handled"),
            unit: Cow::Borrowed("{request}"),
            data: MetricData::Sum {
                points: vec![
                    number("/orders", NumberValue::Int(42)),
                    number("/health", NumberValue::Int(7)),
                ],
                temporality: AggregationTemporality::Cumulative,
                is_monotonic: true,
            },
            metadata: Vec::new(),
        },
        Metric {
            name: Cow::Borrowed("device.temperature"),
            description: Cow::Borrowed("board temperature"),
            unit: Cow::Borrowed("Cel"),
            data: MetricData::Gauge(vec![NumberDataPoint {
                time_unix_nano: now,
                value: NumberValue::Double(48.5),
                ..NumberDataPoint::default()
            }]),
            metadata: Vec::new(),
        },
        Metric {
            name: Cow::Borrowed("http.server.request.duration"),
            description: Cow::Borrowed("request duration"),
            unit: Cow::Borrowed("ms"),
            data: MetricData::Histogram {
                // Five requests: 2.5, 6, 9, 20 and 41 ms.
                points: vec![HistogramDataPoint {
                    attributes: vec![KeyValue::new("http.route", "/orders")],
                    start_time_unix_nano: start,
                    time_unix_nano: now,
                    count: 5,
                    sum: Some(78.5),
                    bucket_counts: vec![1, 2, 1, 1, 0, 0],
                    explicit_bounds: vec![5.0, 10.0, 25.0, 50.0, 100.0],
                    min: Some(2.5),
                    max: Some(41.0),
                    ..HistogramDataPoint::default()
                }],
                temporality: AggregationTemporality::Cumulative,
            },
            metadata: Vec::new(),
        },
    ];

    let mut scope = InstrumentationScope::new("otlp-sync-demo");
    scope.version = Cow::Borrowed(env!("CARGO_PKG_VERSION"));
    Batch {
        scope: Arc::new(scope),
        spans: vec![root, db, render],
        logs,
        metrics,
    }
}

/// Builds the exporter from the environment, with `endpoint` (if any) on top.
fn exporter(endpoint: Option<String>) -> Result<(Config, Exporter), String> {
    let mut builder = ConfigBuilder::from_env();
    if let Some(url) = endpoint {
        builder = builder.endpoint(url);
    }
    let config = builder.build().map_err(|e| e.to_string())?;
    for warning in config.warnings() {
        println!("config warning: {warning}");
    }
    let exporter = Exporter::new(config.clone()).map_err(|e| e.to_string())?;
    Ok((config, exporter))
}

/// Sends the batch through the exporter and flushes.
fn send(exporter: &Exporter, batch: &Batch) -> Result<(), String> {
    let Some(sender) = exporter.sender() else {
        return Err("the exporter is disabled (OTEL_SDK_DISABLED=true)".into());
    };
    for span in &batch.spans {
        sender
            .send_span(&batch.scope, span.clone())
            .map_err(|e| format!("span {}: {e}", span.name))?;
    }
    for log in &batch.logs {
        sender
            .send_log(&batch.scope, log.clone())
            .map_err(|e| format!("log record: {e}"))?;
    }
    for metric in &batch.metrics {
        sender
            .send_metric(&batch.scope, metric.clone())
            .map_err(|e| format!("metric {}: {e}", metric.name))?;
    }
    exporter
        .flush(FLUSH_TIMEOUT)
        .map_err(|e| match exporter.last_error_message() {
            Some(m) => format!("flush: {e} (last export error: {m})"),
            None => format!("flush: {e}"),
        })
}

fn loopback() -> Result<(), String> {
    let receiver = Collector::start_on(0)
        .map_err(|e| format!("cannot start the loopback receiver on 127.0.0.1: {e}"))?;
    let url = receiver.url("");
    println!(
        "no OTEL_EXPORTER_OTLP_*ENDPOINT set: exporting to an in-process OTLP/HTTP receiver at {url}"
    );
    let (config, exporter) = exporter(Some(url))?;
    let batch = batch();
    println!(
        "sent: {} spans, {} log records, {} metrics ({} points), service.name={:?}",
        batch.spans.len(),
        batch.logs.len(),
        batch.metrics.len(),
        batch.points(),
        config.service_name(),
    );
    let sent = send(&exporter, &batch);
    let shutdown = exporter.shutdown(SHUTDOWN_TIMEOUT);
    let requests = receiver.requests();

    println!("\nthe receiver got (decoded with opentelemetry-proto):");
    for signal in Signal::ALL {
        print_requests(signal, &requests);
    }
    print_listing(&requests);
    print_stats(&exporter.stats());
    print_sizes(&config, &batch);

    sent?;
    shutdown.map_err(|e| format!("shutdown: {e}"))?;
    check(&config, &batch, &requests, &exporter.stats())?;
    println!("\nOK: the receiver got exactly the records that were sent");
    Ok(())
}

fn remote(vars: &[&str]) -> Result<(), String> {
    println!("{} set: exporting there", vars.join(", "));
    let (config, exporter) = exporter(None)?;
    for signal in Signal::ALL {
        println!("  {:<7} -> {}", signal.name(), config.endpoint(signal));
    }
    let batch = batch();
    let sent = send(&exporter, &batch);
    let shutdown = exporter.shutdown(SHUTDOWN_TIMEOUT);
    let stats = exporter.stats();
    print_stats(&stats);
    print_sizes(&config, &batch);
    sent?;
    shutdown.map_err(|e| format!("shutdown: {e}"))?;
    let lost: u64 = Signal::ALL
        .iter()
        .map(|s| stats.signal(*s).offered - stats.signal(*s).exported)
        .sum();
    if lost > 0 {
        return Err(format!(
            "{lost} records were not exported; last error: {}",
            exporter.last_error_message().unwrap_or_default()
        ));
    }
    println!("\nOK: every record was accepted by the receiver");
    Ok(())
}

// ---- What the receiver got ----------------------------------------------------------------

fn path_of(signal: Signal) -> String {
    format!("/{}", signal.http_path())
}

fn print_requests(signal: Signal, requests: &[CapturedRequest]) {
    let mine: Vec<&CapturedRequest> = requests
        .iter()
        .filter(|r| r.path == path_of(signal))
        .collect();
    let mut types: Vec<String> = Vec::new();
    for r in &mine {
        let t = format!(
            "{}, {}",
            r.header("content-type").unwrap_or("no content type"),
            r.header("content-encoding")
                .map_or("no compression".to_string(), |e| format!("{e} compressed")),
        );
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let records: usize = mine.iter().map(|r| r.spans() + r.logs() + r.points()).sum();
    let unit = match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "points",
        Signal::Logs => "log records",
    };
    let wire: usize = mine.iter().map(|r| r.body.len()).sum();
    let decoded: usize = mine.iter().map(|r| r.decompressed.len()).sum();
    println!(
        "  {:<7}: {} request(s), {}; {records} {unit}; {wire} bytes on the wire ({decoded} decompressed)",
        signal.name(),
        mine.len(),
        if types.is_empty() {
            "-".to_string()
        } else {
            types.join(" / ")
        },
    );
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) {
        return "-".into();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pb_value(v: &Option<pb_common::AnyValue>) -> String {
    use pb_common::any_value::Value;
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        None => "(empty)".into(),
        Some(Value::StringValue(s)) => format!("{s:?}"),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => format!("bytes({})", hex(b)),
        Some(Value::ArrayValue(a)) => format!("[{} values]", a.values.len()),
        Some(Value::KvlistValue(k)) => format!("{{{} pairs}}", k.values.len()),
        Some(other) => format!("{other:?}"),
    }
}

fn model_value(v: &AnyValue) -> String {
    match v {
        AnyValue::Empty => "(empty)".into(),
        AnyValue::Str(s) => format!("{s:?}"),
        AnyValue::Bool(b) => b.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Bytes(b) => format!("bytes({})", hex(b)),
        AnyValue::Array(a) => format!("[{} values]", a.len()),
        AnyValue::KvList(k) => format!("{{{} pairs}}", k.len()),
    }
}

fn pb_attrs(kvs: &[pb_common::KeyValue]) -> String {
    let parts: Vec<String> = kvs
        .iter()
        .map(|kv| format!("{}={}", kv.key, pb_value(&kv.value)))
        .collect();
    parts.join(",")
}

fn model_attrs(kvs: &[KeyValue]) -> String {
    let parts: Vec<String> = kvs
        .iter()
        .map(|kv| format!("{}={}", kv.key, model_value(&kv.value)))
        .collect();
    parts.join(",")
}

fn kind_name(kind: i32) -> &'static str {
    [
        "UNSPECIFIED",
        "INTERNAL",
        "SERVER",
        "CLIENT",
        "PRODUCER",
        "CONSUMER",
    ]
    .get(usize::try_from(kind).unwrap_or(usize::MAX))
    .copied()
    .unwrap_or("?")
}

fn status_name(code: i32) -> &'static str {
    ["UNSET", "OK", "ERROR"]
        .get(usize::try_from(code).unwrap_or(usize::MAX))
        .copied()
        .unwrap_or("?")
}

/// Every received record, one line each, in a form also made from the sent records
/// ([`expected`]) so that the two can be compared. Sorted.
#[derive(Debug, Default, PartialEq)]
struct Lines {
    spans: Vec<String>,
    logs: Vec<String>,
    points: Vec<String>,
}

impl Lines {
    fn sort(mut self) -> Self {
        self.spans.sort();
        self.logs.sort();
        self.points.sort();
        self
    }
}

fn received(requests: &[CapturedRequest]) -> Lines {
    use pb_metrics::metric::Data;
    use pb_metrics::number_data_point::Value;
    let mut lines = Lines::default();
    let number = |v: &Option<Value>| match v {
        Some(Value::AsInt(i)) => i.to_string(),
        Some(Value::AsDouble(d)) => d.to_string(),
        None => "(none)".into(),
    };
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in requests {
        match &r.decoded {
            Some(Decoded::Traces(t)) => {
                for s in t
                    .resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .flat_map(|ss| &ss.spans)
                {
                    let events: Vec<String> = s
                        .events
                        .iter()
                        .map(|e| format!("{}({})", e.name, pb_attrs(&e.attributes)))
                        .collect();
                    lines.spans.push(format!(
                        "{:?} {} trace={} span={} parent={} attrs[{}] events[{}] status={}",
                        s.name,
                        kind_name(s.kind),
                        hex(&s.trace_id),
                        hex(&s.span_id),
                        hex(&s.parent_span_id),
                        pb_attrs(&s.attributes),
                        events.join(" "),
                        status_name(s.status.as_ref().map_or(0, |st| st.code)),
                    ));
                }
            }
            Some(Decoded::Logs(l)) => {
                for rec in l
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .flat_map(|sl| &sl.log_records)
                {
                    lines.logs.push(format!(
                        "{}({}) {} trace={} span={} attrs[{}]",
                        rec.severity_text,
                        rec.severity_number,
                        pb_value(&rec.body),
                        hex(&rec.trace_id),
                        hex(&rec.span_id),
                        pb_attrs(&rec.attributes),
                    ));
                }
            }
            Some(Decoded::Metrics(m)) => {
                for metric in m
                    .resource_metrics
                    .iter()
                    .flat_map(|rm| &rm.scope_metrics)
                    .flat_map(|sm| &sm.metrics)
                {
                    let name = &metric.name;
                    match &metric.data {
                        Some(Data::Sum(s)) => {
                            for p in &s.data_points {
                                lines.points.push(format!(
                                    "{name} sum{{{}}} = {}",
                                    pb_attrs(&p.attributes),
                                    number(&p.value)
                                ));
                            }
                        }
                        Some(Data::Gauge(g)) => {
                            for p in &g.data_points {
                                lines.points.push(format!(
                                    "{name} gauge{{{}}} = {}",
                                    pb_attrs(&p.attributes),
                                    number(&p.value)
                                ));
                            }
                        }
                        Some(Data::Histogram(h)) => {
                            for p in &h.data_points {
                                lines.points.push(format!(
                                    "{name} histogram{{{}}} = count {} sum {} min {} max {} buckets {:?}",
                                    pb_attrs(&p.attributes),
                                    p.count,
                                    opt(p.sum),
                                    opt(p.min),
                                    opt(p.max),
                                    p.bucket_counts,
                                ));
                            }
                        }
                        other => lines
                            .points
                            .push(format!("{name} unexpected data {other:?}")),
                    }
                }
            }
            None => {}
        }
    }
    lines.sort()
}

fn expected(batch: &Batch) -> Lines {
    let mut lines = Lines::default();
    let number = |v: &NumberValue| match v {
        NumberValue::Int(i) => i.to_string(),
        NumberValue::Double(d) => d.to_string(),
    };
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    for s in &batch.spans {
        let events: Vec<String> = s
            .events
            .iter()
            .map(|e| format!("{}({})", e.name, model_attrs(&e.attributes)))
            .collect();
        lines.spans.push(format!(
            "{:?} {} trace={} span={} parent={} attrs[{}] events[{}] status={}",
            s.name,
            kind_name(s.kind as i32),
            hex(s.trace_id.as_bytes()),
            hex(s.span_id.as_bytes()),
            hex(s.parent_span_id.as_bytes()),
            model_attrs(&s.attributes),
            events.join(" "),
            status_name(s.status.code as i32),
        ));
    }
    for rec in &batch.logs {
        lines.logs.push(format!(
            "{}({}) {} trace={} span={} attrs[{}]",
            rec.severity_text,
            rec.severity_number.0,
            model_value(&rec.body),
            hex(rec.trace_id.as_bytes()),
            hex(rec.span_id.as_bytes()),
            model_attrs(&rec.attributes),
        ));
    }
    for metric in &batch.metrics {
        let name = &metric.name;
        match &metric.data {
            MetricData::Sum { points, .. } => {
                for p in points {
                    lines.points.push(format!(
                        "{name} sum{{{}}} = {}",
                        model_attrs(&p.attributes),
                        number(&p.value)
                    ));
                }
            }
            MetricData::Gauge(points) => {
                for p in points {
                    lines.points.push(format!(
                        "{name} gauge{{{}}} = {}",
                        model_attrs(&p.attributes),
                        number(&p.value)
                    ));
                }
            }
            MetricData::Histogram { points, .. } => {
                for p in points {
                    lines.points.push(format!(
                        "{name} histogram{{{}}} = count {} sum {} min {} max {} buckets {:?}",
                        model_attrs(&p.attributes),
                        p.count,
                        opt(p.sum),
                        opt(p.min),
                        opt(p.max),
                        p.bucket_counts,
                    ));
                }
            }
            other => lines
                .points
                .push(format!("{name} unexpected data {other:?}")),
        }
    }
    lines.sort()
}

/// A short listing of what was decoded.
fn print_listing(requests: &[CapturedRequest]) {
    use pb_metrics::metric::Data;
    use pb_metrics::number_data_point::Value;
    let number = |v: &Option<Value>| match v {
        Some(Value::AsInt(i)) => i.to_string(),
        Some(Value::AsDouble(d)) => d.to_string(),
        None => "(none)".into(),
    };
    for r in requests {
        match &r.decoded {
            Some(Decoded::Traces(t)) => {
                for s in t
                    .resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .flat_map(|ss| &ss.spans)
                {
                    println!(
                        "  span   {:<16} trace {} span {} parent {:<16} {} attrs, {} event(s)",
                        s.name,
                        hex(&s.trace_id),
                        hex(&s.span_id),
                        hex(&s.parent_span_id),
                        s.attributes.len(),
                        s.events.len(),
                    );
                }
            }
            Some(Decoded::Logs(l)) => {
                for rec in l
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .flat_map(|sl| &sl.log_records)
                {
                    println!(
                        "  log    {:<5} {:<28} span {}",
                        rec.severity_text,
                        pb_value(&rec.body),
                        hex(&rec.span_id),
                    );
                }
            }
            Some(Decoded::Metrics(m)) => {
                for metric in m
                    .resource_metrics
                    .iter()
                    .flat_map(|rm| &rm.scope_metrics)
                    .flat_map(|sm| &sm.metrics)
                {
                    let values: Vec<String> = match &metric.data {
                        Some(Data::Sum(s)) => s
                            .data_points
                            .iter()
                            .map(|p| format!("{}: {}", pb_attrs(&p.attributes), number(&p.value)))
                            .collect(),
                        Some(Data::Gauge(g)) => {
                            g.data_points.iter().map(|p| number(&p.value)).collect()
                        }
                        Some(Data::Histogram(h)) => h
                            .data_points
                            .iter()
                            .map(|p| {
                                format!(
                                    "count {} sum {} buckets {:?}",
                                    p.count,
                                    p.sum.unwrap_or(0.0),
                                    p.bucket_counts
                                )
                            })
                            .collect(),
                        _ => vec!["?".into()],
                    };
                    println!(
                        "  metric {:<28} {} {}",
                        metric.name,
                        metric.unit,
                        values.join("; ")
                    );
                }
            }
            None => {
                if let Some(e) = &r.decode_error {
                    println!("  {} {}: NOT DECODED: {e}", r.method, r.path);
                }
            }
        }
    }
}

fn print_stats(stats: &Stats) {
    println!("\nexporter stats:");
    for signal in Signal::ALL {
        let s = stats.signal(signal);
        println!(
            "  {:<7}: offered={} exported={} dropped={} requests={} bytes_sent={}",
            signal.name(),
            s.offered,
            s.exported,
            s.dropped.total(),
            s.requests,
            s.bytes_sent,
        );
    }
}

/// The resource's `service.name` in every received request.
fn service_names(requests: &[CapturedRequest]) -> Vec<String> {
    let resources: Vec<&[pb_common::KeyValue]> = requests
        .iter()
        .flat_map(|r| match &r.decoded {
            Some(Decoded::Traces(t)) => t
                .resource_spans
                .iter()
                .map(|x| x.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]))
                .collect(),
            Some(Decoded::Logs(l)) => l
                .resource_logs
                .iter()
                .map(|x| x.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]))
                .collect(),
            Some(Decoded::Metrics(m)) => m
                .resource_metrics
                .iter()
                .map(|x| x.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]))
                .collect(),
            None => Vec::new(),
        })
        .collect();
    resources
        .iter()
        .map(|attrs| {
            attrs
                .iter()
                .find(|kv| kv.key == "service.name")
                .map_or("(none)".to_string(), |kv| pb_value(&kv.value))
        })
        .collect()
}

/// Whether the receiver got exactly what was sent, and the exporter says so too.
fn check(
    config: &Config,
    batch: &Batch,
    requests: &[CapturedRequest],
    stats: &Stats,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for r in requests {
        if let Some(e) = &r.decode_error {
            problems.push(format!("{} could not be decoded: {e}", r.path));
        } else if !r.accepted() {
            problems.push(format!("{} was answered {:?}", r.path, r.answered));
        }
    }
    let want = expected(batch);
    let got = received(requests);
    for (what, want, got) in [
        ("spans", &want.spans, &got.spans),
        ("log records", &want.logs, &got.logs),
        ("metric points", &want.points, &got.points),
    ] {
        if want != got {
            problems.push(format!(
                "{what} differ:\n    sent:\n      {}\n    received:\n      {}",
                want.join("\n      "),
                got.join("\n      ")
            ));
        }
    }
    let service = format!("{:?}", config.service_name());
    for name in service_names(requests) {
        if name != service {
            problems.push(format!("resource service.name {name}, expected {service}"));
        }
    }
    for (signal, sent) in [
        (Signal::Traces, batch.spans.len()),
        (Signal::Logs, batch.logs.len()),
        (Signal::Metrics, batch.metrics.len()),
    ] {
        let s = stats.signal(signal);
        let sent = sent as u64;
        if (s.offered, s.exported, s.dropped.total()) != (sent, sent, 0) {
            problems.push(format!(
                "{} stats: offered={} exported={} dropped={}, expected {sent}/{sent}/0",
                signal.name(),
                s.offered,
                s.exported,
                s.dropped.total()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

// ---- Sizes ----------------------------------------------------------------------------------

/// The encoded size of the batch (one request body per signal) in each encoding, and
/// after each compression.
fn print_sizes(config: &Config, batch: &Batch) {
    // The resource the exporter sends (configured, SDK and detected attributes).
    let resource = otlp_sync::resource::detect(config);
    let mut proto = ProtoEncoder::new();
    let mut json = JsonEncoder::new();
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Deflate,
        Compression::Zstd,
    ];
    println!(
        "\nrequest body size of this batch in bytes (otlp_sync::encode + otlp_sync::compress):"
    );
    println!(
        "  {:<8} {:>9} {:>6} {:>8} {:>6} | {:>6} {:>6} {:>8} {:>6}",
        "signal", "protobuf", "gzip", "deflate", "zstd", "json", "gzip", "deflate", "zstd"
    );
    for signal in Signal::ALL {
        let (mut p, mut j) = (Vec::new(), Vec::new());
        match signal {
            Signal::Traces => {
                let scopes = [ScopeGroup {
                    scope: &batch.scope,
                    records: &batch.spans,
                }];
                let groups = [ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }];
                proto.encode_traces(&groups, &mut p);
                json.encode_traces(&groups, &mut j);
            }
            Signal::Logs => {
                let scopes = [ScopeGroup {
                    scope: &batch.scope,
                    records: &batch.logs,
                }];
                let groups = [ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }];
                proto.encode_logs(&groups, &mut p);
                json.encode_logs(&groups, &mut j);
            }
            Signal::Metrics => {
                let scopes = [ScopeGroup {
                    scope: &batch.scope,
                    records: &batch.metrics,
                }];
                let groups = [ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }];
                proto.encode_metrics(&groups, &mut p);
                json.encode_metrics(&groups, &mut j);
            }
        }
        let sizes = |body: &[u8]| -> Vec<String> {
            codecs
                .iter()
                .map(|c| {
                    let mut out = Vec::new();
                    match Compressor::new(*c, None).compress(body, &mut out) {
                        Ok(()) => out.len().to_string(),
                        Err(e) => format!("({e})"),
                    }
                })
                .collect()
        };
        let (ps, js) = (sizes(&p), sizes(&j));
        println!(
            "  {:<8} {:>9} {:>6} {:>8} {:>6} | {:>6} {:>6} {:>8} {:>6}",
            signal.name(),
            ps[0],
            ps[1],
            ps[2],
            ps[3],
            js[0],
            js[1],
            js[2],
            js[3]
        );
    }
    println!("  (a handful of records barely compresses; 512-span batches shrink 5-7x with gzip)");
}
