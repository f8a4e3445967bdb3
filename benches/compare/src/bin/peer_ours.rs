//! The otlp-sync peer of `shared/bench/WORKLOAD.md`: the same producers, resource, scope,
//! batch settings and figures as `peer_official`, through our public API exactly as an
//! application uses it: `Exporter::new(Config::builder()...build())`, then
//! `exporter.tracer(..)` / `exporter.logger(..)`. Built with the `ours` cargo feature (on
//! by default).
//!
//! * Spans: `tracer.span("bench-span").attr(..)` × 8 `.start()`, `add_event`,
//!   `set_status(Ok)`, `end()`. Ids and timestamps come from the SDK.
//! * Logs: `logger.record(INFO)` with the workload's timestamp, severity text, body and 4
//!   attributes, `.emit()` (the SDK stamps the observed time).
//!
//! The configuration is in [`config`]; the exporter counters come from
//! `Exporter::stats()` in [`exporter_counts`].

use otlp_compare::{
    Args, BenchValue, Produced, RunFigures, SignalArg, extra_attr, extra_keys, print_result,
    process_cpu_s, run_producers, sink_reset, sink_stats, workload_attr,
};
use otlp_sync::compress::Compression;
use otlp_sync::config::{Config, QueueFullPolicy};
use otlp_sync::encode::Encoding;
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{AnyValue, KeyValue, Severity, Signal, StatusCode};
use otlp_sync::pipeline::{EncodeOnSend, ShutdownError, SignalStats};
use otlp_sync::trace::SpanBuilder;
use std::time::{Duration, SystemTime};

const DELAY: Duration = Duration::from_millis(200);
/// Generous: shutdown exports everything still queued (up to N items at -nodrop).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(60);
/// The export timeout: the official OTLP exporter's default (10 s), which the workload
/// keeps ("SDK default"). No export comes near it: the sink answers 200 at once.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exporter configuration, in code only (`Config::builder()` reads no `OTEL_*`
/// variable): base endpoint (we append `/v1/traces` and `/v1/logs`), protobuf, gzip only
/// with `--gzip`, queue `--queue`, batch `--batch`, delay 200 ms, timeout 10 s, drop on a
/// full queue, and the workload's resource attributes.
///
/// The exporter adds `telemetry.sdk.{name=otlp-sync, language=rust, version}` and the
/// detected `service.instance.id`, `process.pid`, `process.executable.name` and
/// `os.type` (the configured `host.name = bench-host` wins over the detected one). The
/// public API has no switch for detection: those four extra attributes are the
/// difference from WORKLOAD.md's resource (about 130 bytes per request, not per span).
/// The batch byte bound keeps its default (4 MiB), which only the largest scaling runs
/// approach (2048 spans × about 1.1 KB at `--attrs 32`).
fn config(args: &Args) -> Config {
    let mut b = Config::builder()
        .endpoint(args.endpoint.clone())
        .protocol(Encoding::Protobuf)
        .compression(if args.gzip {
            Compression::Gzip
        } else {
            Compression::None
        })
        .timeout(EXPORT_TIMEOUT)
        .queue_full_policy(QueueFullPolicy::Drop)
        .service_name("otlp-bench")
        .resource_attributes([
            KeyValue::new("service.version", "1.0.0"),
            KeyValue::new("host.name", "bench-host"),
            KeyValue::new("deployment.environment", "bench"),
        ]);
    // OURS_ENCODE_ON_SEND=never|backlog|always (unset: the library default, backlog).
    match std::env::var("OURS_ENCODE_ON_SEND").as_deref() {
        Ok("always") => b = b.encode_on_send(EncodeOnSend::Always),
        Ok("never") => b = b.encode_on_send(EncodeOnSend::Never),
        Ok("backlog") | Err(_) => {}
        Ok(other) => {
            eprintln!("peer_ours: OURS_ENCODE_ON_SEND={other}: expected never, backlog or always");
            std::process::exit(2)
        }
    }
    for signal in [Signal::Traces, Signal::Logs] {
        b = b
            .max_queue_size(signal, args.queue)
            .max_export_batch_size(signal, args.batch)
            .schedule_delay(signal, DELAY)
            .export_timeout(signal, EXPORT_TIMEOUT);
    }
    b.build().unwrap_or_else(|e| {
        eprintln!("peer_ours: building the config: {e}");
        std::process::exit(1)
    })
}

/// (items handed to the exporter, failed exports) from `Exporter::stats()` read after
/// shutdown: handed = offered − dropped at the queue (what the worker took and tried to
/// export); failed = records lost in exports (rejected, retries exhausted, too large,
/// compression failure, partial rejection, still queued at shutdown, worker panic).
fn exporter_counts(stats: &SignalStats) -> (Option<u64>, Option<u64>) {
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
    let exporter = Exporter::new(config(&args)).unwrap_or_else(|e| {
        eprintln!("peer_ours: starting the exporter: {e}");
        std::process::exit(1)
    });
    let produced = match args.signal {
        SignalArg::Traces => produce_spans(&args, &exporter),
        SignalArg::Logs => produce_logs(&args, &exporter),
    };
    // `Failed { dropped }` only reports the queue drops counted in the stats: the
    // shutdown itself completed (the official SDK's shutdown returns Ok in that case).
    let shutdown_ok = match exporter.shutdown(SHUTDOWN_TIMEOUT) {
        Ok(()) | Err(ShutdownError::Failed { .. }) => true,
        Err(e) => {
            eprintln!("peer_ours: shutdown: {e}");
            false
        }
    };
    let wall = produced.start.elapsed();
    let cpu_s = process_cpu_s() - cpu0;
    let stats = exporter.stats();
    let (handed, failed) = exporter_counts(match args.signal {
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

/// Adds one scaling attribute to the builder.
#[inline]
fn attr<'a>(b: SpanBuilder<'a>, key: &'static str, value: BenchValue) -> SpanBuilder<'a> {
    match value {
        BenchValue::Str(s) => b.attr(key, s),
        BenchValue::Int(v) => b.attr(key, v),
        BenchValue::F64(v) => b.attr(key, v),
        BenchValue::Bool(v) => b.attr(key, v),
    }
}

/// The workload's spans. The sampler is the exporter's default, `ParentBased(root =
/// AlwaysOn)` (the `Exporter` API sets it only through `OTEL_TRACES_SAMPLER`, left
/// unset): for these root spans it samples every span, as `AlwaysOn` does.
fn produce_spans(args: &Args, exporter: &Exporter) -> Produced {
    let tracer = exporter.tracer("otlp-bench");
    let attrs = args.attrs;
    let extras = extra_keys(attrs);
    run_producers(args.threads, args.count, |t, n| {
        for i in 0..n {
            let i = i as i64;
            let mut b = tracer.span("bench-span");
            // --attrs 8 (the workload): exactly the 8 literal `.attr` calls below.
            if attrs >= 2 {
                b = b
                    .attr("bench.str0", "alpha-0123456789")
                    .attr("bench.str1", "bravo-0123456789");
            }
            if attrs >= 8 {
                b = b
                    .attr("bench.str2", "charlie-01234567")
                    .attr("bench.str3", "delta-0123456789")
                    .attr("bench.int0", i)
                    .attr("bench.int1", t as i64)
                    .attr("bench.f64", i as f64 * 0.25)
                    .attr("bench.bool", i % 2 == 0);
            } else {
                for k in (if attrs >= 2 { 2 } else { 0 })..attrs {
                    let (key, value) = workload_attr(k, i, t);
                    b = attr(b, key, value);
                }
            }
            for (n, key) in extras.iter().enumerate() {
                b = attr(b, key, extra_attr(n, i));
            }
            let mut span = b.start();
            span.add_event(
                "bench-event",
                [
                    KeyValue::new("event.str", "event-value-0001"),
                    KeyValue::new("event.int", i),
                ],
            );
            span.set_status(StatusCode::Ok, "");
            span.end();
        }
    })
}

/// The workload's log records: timestamp = `SystemTime::now()`, observed time left to
/// the SDK (stamped at emit), severity INFO / "INFO", the constant body, 4 attributes.
fn produce_logs(args: &Args, exporter: &Exporter) -> Produced {
    let logger = exporter.logger("otlp-bench");
    run_producers(args.threads, args.count, |_t, n| {
        for i in 0..n {
            let i = i as i64;
            logger
                .record(Severity::INFO)
                .time(SystemTime::now())
                .severity_text("INFO")
                .body(AnyValue::from("bench log record body 0123456789"))
                .attr("log.str0", "alpha-0123456789")
                .attr("log.str1", "bravo-0123456789")
                .attr("log.int", i)
                .attr("log.bool", i % 2 == 0)
                .emit();
        }
    })
}
