//! The otlp-sync peer of `shared/bench/WORKLOAD.md`: the same producers, resource, scope,
//! batch settings and figures as `peer_official`, through our `Pipeline` and
//! `HttpTransport`. Built with the `ours` cargo feature (on by default).
//!
//! Producer threads build `otlp_sync::model::Span` / `LogRecord` values themselves with the
//! workload's shape: ids from a per-thread xorshift, `SystemTime::now()` timestamps, the
//! `'static` attribute keys and string values, one event, status OK.
//!
//! The pipeline and transport configuration is in [`signal_config`] and [`build_pipeline`];
//! the exporter counters come from the pipeline's stats in [`pipeline_counts`].

use otlp_compare::{
    Args, Produced, RunFigures, SignalArg, XorShift, now_unix_nanos, print_result, process_cpu_s,
    run_producers, sink_reset, sink_stats,
};
use otlp_sync::compress::Compression;
use otlp_sync::encode::Encoding;
use otlp_sync::model::{
    AnyValue, Event, InstrumentationScope, KeyValue, LogRecord, Resource,
    SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, Severity, Span, SpanId, SpanKind, Status, StatusCode,
    TraceId,
};
use otlp_sync::pipeline::{
    DEFAULT_MAX_BATCH_BYTES, FullPolicy, Pipeline, PipelineConfig, ShutdownError, SignalConfig,
    SignalStats,
};
use otlp_sync::transport::http::{HttpConfig, HttpTransport};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

const BATCH: usize = 512;
const DELAY: Duration = Duration::from_millis(200);
/// Generous: shutdown exports everything still queued (up to N items at -nodrop).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);

/// The workload resource: the 4 service attributes plus the three `telemetry.sdk.*` ones
/// that the official SDKs add (ours names itself).
fn resource() -> Resource {
    Resource::new(vec![
        KeyValue::new("service.name", "otlp-bench"),
        KeyValue::new("service.version", "1.0.0"),
        KeyValue::new("host.name", "bench-host"),
        KeyValue::new("deployment.environment", "bench"),
        KeyValue::new("telemetry.sdk.name", "otlp-sync"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ])
}

/// The exporter timeout: the official OTLP exporter's default (10 s), which the workload
/// keeps ("SDK default"). No export comes near it: the sink answers 200 at once.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The workload's batch settings for one signal: protobuf, gzip only with `--gzip`,
/// queue `args.queue`, batch 512 records, delay 200 ms. `max_batch_bytes` keeps the
/// library default (4 MiB): a 512-span batch is about 190 KB, so only the record count
/// cuts batches, as in the official batch processors.
fn signal_config(args: &Args) -> SignalConfig {
    SignalConfig {
        encoding: Encoding::Protobuf,
        compression: if args.gzip {
            Compression::Gzip
        } else {
            Compression::None
        },
        compression_level: None,
        queue_capacity: args.queue,
        max_batch_records: BATCH,
        max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
        schedule_delay: DELAY,
        export_timeout: EXPORT_TIMEOUT,
    }
}

/// Builds and starts the pipeline: HTTP transport to the sink's `/v1/traces` and
/// `/v1/logs`, the workload's batch settings on both signals, drop on a full queue.
fn build_pipeline(args: &Args) -> Pipeline {
    let mut http = HttpConfig::default();
    http.traces_endpoint = format!("{}/v1/traces", args.endpoint);
    http.logs_endpoint = format!("{}/v1/logs", args.endpoint);
    http.metrics_endpoint = format!("{}/v1/metrics", args.endpoint);
    // Loopback: never through a proxy, whatever the environment says.
    http.proxy_from_env = false;
    let transport = HttpTransport::new(http).unwrap_or_else(|e| {
        eprintln!("peer_ours: building the transport: {e}");
        std::process::exit(1)
    });
    let mut config = PipelineConfig {
        full_policy: FullPolicy::Drop,
        ..PipelineConfig::default()
    };
    config.traces = signal_config(args);
    config.logs = signal_config(args);
    Pipeline::start(config, resource(), Box::new(transport)).unwrap_or_else(|e| {
        eprintln!("peer_ours: starting the pipeline: {e}");
        std::process::exit(1)
    })
}

/// (items handed to the exporter, failed exports) from the pipeline's stats, read after
/// shutdown: handed = offered − dropped at the queue (what the worker took and tried to
/// export); failed = records lost in exports (rejected, retries exhausted, too large,
/// compression failure, partial rejection, or still queued at shutdown).
fn pipeline_counts(stats: &SignalStats) -> (Option<u64>, Option<u64>) {
    let handed = stats.offered.saturating_sub(stats.dropped.queue_full);
    let d = &stats.dropped;
    let failed = d.rejected
        + d.retries_exhausted
        + d.too_large
        + d.compress_failed
        + d.partial_rejected
        + d.shutdown
        + d.worker_panic;
    (Some(handed), Some(failed))
}

fn main() {
    let args = Args::parse("peer_ours");
    sink_reset(&args);
    let cpu0 = process_cpu_s();
    let pipeline = build_pipeline(&args);
    let scope = Arc::new(InstrumentationScope::new("otlp-bench"));
    let produced = match args.signal {
        SignalArg::Traces => produce_spans(&args, &pipeline, &scope),
        SignalArg::Logs => produce_logs(&args, &pipeline, &scope),
    };
    // `Failed { dropped }` only reports the queue drops counted in the stats: the
    // shutdown itself completed (the official SDK's shutdown returns Ok in that case).
    let shutdown_ok = match pipeline.shutdown(SHUTDOWN_TIMEOUT) {
        Ok(()) | Err(ShutdownError::Failed { .. }) => true,
        Err(e) => {
            eprintln!("peer_ours: shutdown: {e}");
            false
        }
    };
    let wall = produced.start.elapsed();
    let cpu_s = process_cpu_s() - cpu0;
    let stats = pipeline.stats();
    let (handed, failed) = pipeline_counts(match args.signal {
        SignalArg::Traces => &stats.traces,
        SignalArg::Logs => &stats.logs,
    });
    let sink = sink_stats(&args);
    let figures = RunFigures {
        peer: "ours",
        offered: args.count,
        handed_to_exporter: handed,
        failed_exports: failed,
        produced,
        wall,
        cpu_s,
        shutdown_ok,
    };
    print_result(&args, &figures, &sink);
}

fn produce_spans(args: &Args, pipeline: &Pipeline, scope: &Arc<InstrumentationScope>) -> Produced {
    let sender = pipeline.sender();
    run_producers(args.threads, args.count, |t, n| {
        let sender = sender.clone();
        let mut rng = XorShift::new(t);
        for i in 0..n {
            let i = i as i64;
            let start = now_unix_nanos();
            let mut span = Span::new(
                "bench-span",
                TraceId::from_bytes(rng.trace_id()),
                SpanId::from_bytes(rng.span_id()),
            );
            span.kind = SpanKind::Internal;
            // Sampled, local root (what the official SDK writes for the same span).
            span.flags = 0x01 | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
            span.start_time_unix_nano = start;
            span.attributes = vec![
                KeyValue::new("bench.str0", "alpha-0123456789"),
                KeyValue::new("bench.str1", "bravo-0123456789"),
                KeyValue::new("bench.str2", "charlie-01234567"),
                KeyValue::new("bench.str3", "delta-0123456789"),
                KeyValue::new("bench.int0", i),
                KeyValue::new("bench.int1", t as i64),
                KeyValue::new("bench.f64", i as f64 * 0.25),
                KeyValue::new("bench.bool", i % 2 == 0),
            ];
            span.events.push(Event {
                time_unix_nano: now_unix_nanos(),
                name: Cow::Borrowed("bench-event"),
                attributes: vec![
                    KeyValue::new("event.str", "event-value-0001"),
                    KeyValue::new("event.int", i),
                ],
                dropped_attributes_count: 0,
            });
            span.status = Status {
                code: StatusCode::Ok,
                message: Cow::Borrowed(""),
            };
            span.end_time_unix_nano = now_unix_nanos();
            // A full queue drops the span (the workload's "drop on full").
            let _ = sender.send_span(scope, span);
        }
    })
}

fn produce_logs(args: &Args, pipeline: &Pipeline, scope: &Arc<InstrumentationScope>) -> Produced {
    let sender = pipeline.sender();
    run_producers(args.threads, args.count, |_t, n| {
        let sender = sender.clone();
        for i in 0..n {
            let i = i as i64;
            let time = now_unix_nanos();
            let record = LogRecord {
                time_unix_nano: time,
                // The official SDK stamps the observed time at emit: one more clock read.
                observed_time_unix_nano: now_unix_nanos(),
                severity_number: Severity::INFO,
                severity_text: Cow::Borrowed("INFO"),
                body: AnyValue::from("bench log record body 0123456789"),
                attributes: vec![
                    KeyValue::new("log.str0", "alpha-0123456789"),
                    KeyValue::new("log.str1", "bravo-0123456789"),
                    KeyValue::new("log.int", i),
                    KeyValue::new("log.bool", i % 2 == 0),
                ],
                ..LogRecord::default()
            };
            let _ = sender.send_log(scope, record);
        }
    })
}
