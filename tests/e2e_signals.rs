//! End to end, healthy receiver: Config -> Exporter -> RecordSender -> pipeline ->
//! HttpTransport -> the fake collector, decoded by the official `opentelemetry-proto` crate.
//!
//! * all three signals arrive exactly as sent, with the resource and their scopes;
//! * every encoding x every compression is labelled right and decodes the same;
//! * `OTEL_*` variables (given as a map, never the process environment) reach the wire.

mod e2e_common;
mod support;

use e2e_common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use otlp_sync::compress::Compression;
use otlp_sync::config::ConfigBuilder;
use otlp_sync::encode::Encoding;
use otlp_sync::model::{InstrumentationScope, LogRecord, Metric, Span};
use otlp_sync::pipeline::{RecordSender, SignalStats};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::collector::{CapturedRequest, Collector};
use support::oracle::{self, assert_same};

/// What [`send_sample`] sent, grouped as it must arrive: scope a first, then scope b.
struct Sample {
    spans: Vec<(InstrumentationScope, Vec<Span>)>,
    logs: Vec<(InstrumentationScope, Vec<LogRecord>)>,
    metrics: Vec<(InstrumentationScope, Vec<Metric>)>,
}

/// Sends 5 spans, 3 logs and 3 metrics (a gauge, a sum, a histogram) from two scopes,
/// interleaving the scopes.
fn send_sample(tx: &RecordSender) -> Sample {
    let a = scope("e2e.scope.a", "1.2.3");
    let b = scope("e2e.scope.b", "0.9.0");
    let pick = |n: u64| if n % 2 == 0 { &a } else { &b };
    // Spans 0, 2, 4 go to a; 1, 3 to b.
    for n in 0..5 {
        tx.send_span(pick(n), span(n)).expect("queue has room");
    }
    for n in 0..3 {
        tx.send_log(pick(n), log(n)).expect("queue has room");
    }
    tx.send_metric(&a, gauge(0)).expect("queue has room");
    tx.send_metric(&b, histogram(0)).expect("queue has room");
    tx.send_metric(&a, sum(0)).expect("queue has room");
    let (sa, sb) = ((*a).clone(), (*b).clone());
    Sample {
        spans: vec![
            (sa.clone(), vec![span(0), span(2), span(4)]),
            (sb.clone(), vec![span(1), span(3)]),
        ],
        logs: vec![
            (sa.clone(), vec![log(0), log(2)]),
            (sb.clone(), vec![log(1)]),
        ],
        metrics: vec![(sa, vec![gauge(0), sum(0)]), (sb, vec![histogram(0)])],
    }
}

/// Asserts that the requests hold exactly the sample: one request per signal, equal to
/// the oracle's conversion of what was sent.
fn assert_sample_arrived(requests: &[CapturedRequest], sample: Sample) {
    assert_all_decoded(requests);
    assert_eq!(requests.len(), 3, "one request per signal: {requests:#?}");
    let mut traces = trace_requests(requests, true);
    let mut logs = log_requests(requests, true);
    let mut metrics = metric_requests(requests, true);
    assert_eq!((traces.len(), logs.len(), metrics.len()), (1, 1, 1));
    sort_resources_traces(&mut traces[0]);
    sort_resources_logs(&mut logs[0]);
    sort_resources_metrics(&mut metrics[0]);
    assert_same(&traces[0], &oracle::expected_traces(&batch(sample.spans)));
    assert_same(&logs[0], &oracle::expected_logs(&batch(sample.logs)));
    assert_same(
        &metrics[0],
        &oracle::expected_metrics(&batch(sample.metrics)),
    );
}

fn assert_clean(name: &str, s: &SignalStats, n: u64) {
    assert_eq!(
        (s.offered, s.exported, s.dropped.total(), s.queued),
        (n, n, 0, 0),
        "{name}: {s:?}"
    );
    assert_eq!((s.requests, s.retries), (1, 0), "{name}: {s:?}");
}

#[test]
fn all_three_signals_arrive_exactly_as_sent() {
    let c = Collector::start();
    let exporter = start(builder(&c));
    let tx = exporter.sender().expect("enabled");
    let sample = send_sample(&tx);
    assert_eq!(exporter.flush(Duration::from_secs(5)), Ok(()));
    let requests = c.requests();

    // Spot checks, spelled out.
    let traces = trace_requests(&requests, true);
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].resource_spans.len(), 1);
    let rs = &traces[0].resource_spans[0];
    let res = rs.resource.as_ref().expect("resource present");
    assert_eq!(
        str_attr(&res.attributes, "service.name").as_deref(),
        Some(SERVICE)
    );
    assert_eq!(
        str_attr(&res.attributes, "telemetry.sdk.name").as_deref(),
        Some("otlp-sync")
    );
    assert_eq!(
        str_attr(&res.attributes, "telemetry.sdk.language").as_deref(),
        Some("rust")
    );
    assert_eq!(
        str_attr(&res.attributes, "telemetry.sdk.version").as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(rs.scope_spans.len(), 2, "two scopes, two ScopeSpans");
    let names: Vec<(String, String, usize)> = rs
        .scope_spans
        .iter()
        .map(|ss| {
            let s = ss.scope.clone().unwrap_or_default();
            (s.name, s.version, ss.spans.len())
        })
        .collect();
    assert_eq!(
        names,
        [
            ("e2e.scope.a".to_string(), "1.2.3".to_string(), 3),
            ("e2e.scope.b".to_string(), "0.9.0".to_string(), 2)
        ]
    );
    let first = &rs.scope_spans[0].spans[0];
    assert_eq!(first.span_id, span_id(0).as_bytes().to_vec());
    assert_eq!(first.trace_id, trace_id(0).as_bytes().to_vec());
    assert_eq!(first.name, "op-0");
    let route = first
        .attributes
        .iter()
        .find(|kv| kv.key == "http.route")
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value);
    assert_eq!(route, Some(Value::StringValue("/pumps/{id}".into())));
    let metrics = metric_requests(&requests, true);
    let kinds: Vec<&str> = metrics[0].resource_metrics[0]
        .scope_metrics
        .iter()
        .flat_map(|sm| &sm.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(_)) => "gauge",
            Some(Data::Sum(s)) if s.is_monotonic => "monotonic sum",
            Some(Data::Histogram(_)) => "histogram",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["gauge", "monotonic sum", "histogram"]);

    // Everything, field by field, against the independent oracle.
    assert_sample_arrived(&requests, sample);

    let stats = exporter.stats();
    assert_clean("traces", &stats.traces, 5);
    assert_clean("logs", &stats.logs, 3);
    assert_clean("metrics", &stats.metrics, 3);
    assert_eq!(stats.last_error, None);
    assert_eq!(exporter.last_error_message(), None);
    assert_eq!(exporter.shutdown(Duration::from_secs(2)), Ok(()));
}

#[test]
fn every_encoding_and_compression_is_labelled_and_decodes_the_same() {
    let encodings = [
        (Encoding::Protobuf, "application/x-protobuf"),
        (Encoding::Json, "application/json"),
    ];
    // (compression, Content-Encoding, magic bytes of the compressed body)
    let compressions: [(Compression, Option<&str>, &[u8]); 4] = [
        (Compression::None, None, &[]),
        (Compression::Gzip, Some("gzip"), &[0x1f, 0x8b]),
        (Compression::Deflate, Some("deflate"), &[0x78]),
        (Compression::Zstd, Some("zstd"), &[0x28, 0xb5, 0x2f, 0xfd]),
    ];
    for (encoding, content_type) in encodings {
        for (compression, content_encoding, magic) in compressions {
            let what = format!("{encoding:?} + {compression:?}");
            let c = Collector::start();
            let exporter = start(builder(&c).protocol(encoding).compression(compression));
            let sample = send_sample(&exporter.sender().expect("enabled"));
            assert_eq!(exporter.flush(Duration::from_secs(5)), Ok(()), "{what}");
            let requests = c.requests();
            for r in &requests {
                assert_eq!(r.header("content-type"), Some(content_type), "{what}");
                assert_eq!(r.header("content-encoding"), content_encoding, "{what}");
                assert!(r.body.starts_with(magic), "{what}: body magic");
                if compression == Compression::None {
                    assert_eq!(r.body, r.decompressed, "{what}");
                } else {
                    assert_ne!(r.body, r.decompressed, "{what}: body not compressed");
                }
                assert_eq!(r.answered, Some(200), "{what}");
            }
            assert_sample_arrived(&requests, sample);
            let stats = exporter.stats();
            assert_clean(&what, &stats.traces, 5);
            assert_clean(&what, &stats.logs, 3);
            assert_clean(&what, &stats.metrics, 3);
        }
    }
}

#[test]
fn otel_variables_reach_the_wire() {
    let c = Collector::start();
    let endpoint = c.url("");
    let env: HashMap<&str, String> = HashMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".into()),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf".into()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".into()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-tenant=acme,x-team=pumps".into(),
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "x-tenant=metrics-only".into(),
        ),
        ("OTEL_SERVICE_NAME", "env-service".into()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=staging,team=pumps%20and%20valves".into(),
        ),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "30000".into()),
    ]);
    let config = ConfigBuilder::from_env_with(|k| env.get(k).cloned())
        .retry(fast_retry(3))
        .build()
        .expect("valid");
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let exporter = otlp_sync::exporter::Exporter::new(config).expect("starts");
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(otlp_sync::model::InstrumentationScope::new("env"));
    for n in 0..5 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    tx.send_log(&s, log(0)).expect("room");
    tx.send_metric(&s, gauge(0)).expect("room");
    assert_eq!(exporter.flush(Duration::from_secs(5)), Ok(()));

    let requests = c.requests();
    assert_all_decoded(&requests);
    let by_path =
        |p: &str| -> Vec<&CapturedRequest> { requests.iter().filter(|r| r.path == p).collect() };
    let traces = by_path("/v1/traces");
    let spans: Vec<usize> = traces.iter().map(|r| r.spans()).collect();
    assert_eq!(
        spans,
        [2, 2, 1],
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2 cuts the batches"
    );
    for r in &traces {
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("x-tenant"), Some("acme"));
        assert_eq!(r.header("x-team"), Some("pumps"));
    }
    let logs = by_path("/v1/logs");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].logs(), 1);
    assert_eq!(logs[0].header("content-type"), Some("application/json"));
    assert_eq!(logs[0].header("content-encoding"), Some("gzip"));
    assert_eq!(logs[0].header("x-tenant"), Some("acme"));
    let metrics = by_path("/v1/metrics");
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].points(), 1);
    assert_eq!(metrics[0].header("content-type"), Some("application/json"));
    assert_eq!(metrics[0].header("x-tenant"), Some("metrics-only"));
    assert_eq!(
        metrics[0].header("x-team"),
        None,
        "per-signal headers replace"
    );

    let traces = trace_requests(&requests, true);
    for t in &traces {
        let attrs = &t.resource_spans[0]
            .resource
            .as_ref()
            .expect("resource")
            .attributes;
        assert_eq!(
            str_attr(attrs, "service.name").as_deref(),
            Some("env-service")
        );
        assert_eq!(
            str_attr(attrs, "deployment.environment").as_deref(),
            Some("staging")
        );
        assert_eq!(str_attr(attrs, "team").as_deref(), Some("pumps and valves"));
    }
    let stats = exporter.stats();
    assert_eq!((stats.traces.exported, stats.traces.requests), (5, 3));
    assert_eq!((stats.logs.exported, stats.metrics.exported), (1, 1));
}

#[test]
fn records_encoded_by_the_sending_thread_arrive_exactly_as_sent() {
    // Every record is queued as its protobuf bytes (EncodeOnSend::Always); the requests
    // must be the same as when the worker encodes.
    let c = Collector::start();
    let exporter = start(builder(&c).encode_on_send(otlp_sync::pipeline::EncodeOnSend::Always));
    let tx = exporter.sender().expect("enabled");
    let sample = send_sample(&tx);
    assert_eq!(exporter.flush(Duration::from_secs(5)), Ok(()));
    assert_sample_arrived(&c.requests(), sample);
    let stats = exporter.stats();
    assert_clean("traces", &stats.traces, 5);
    assert_clean("logs", &stats.logs, 3);
    assert_clean("metrics", &stats.metrics, 3);
    assert_eq!(exporter.shutdown(Duration::from_secs(2)), Ok(()));
}
