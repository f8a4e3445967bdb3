//! The official Rust SDK peer of `shared/bench/WORKLOAD.md`: `opentelemetry` +
//! `opentelemetry_sdk` + `opentelemetry-otlp` 0.33, OTLP/HTTP protobuf through the blocking
//! reqwest client, `BatchSpanProcessor` / `BatchLogProcessor` (queue `--queue`, batch
//! `--batch` (512), delay 200 ms), `--attrs` span attributes (8). Prints one JSON line of
//! figures (see `otlp_compare::print_result`).

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{
    Compression, LogExporter, SpanExporter, WithExportConfig, WithHttpConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchLogProcessor, LogBatch, LogExporter as LogExporterTrait, SdkLoggerProvider,
};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter as SpanExporterTrait,
};
use otlp_compare::{
    Args, BenchValue, RunFigures, SignalArg, extra_attr, extra_keys, print_result, process_cpu_s,
    run_producers, sink_reset, sink_stats, workload_attr,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

const DELAY: Duration = Duration::from_millis(200);

/// Counts what reaches the exporter and failed exports, then forwards everything.
#[derive(Debug)]
struct Counting<E> {
    inner: E,
    handed: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

impl<E: SpanExporterTrait> SpanExporterTrait for Counting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.handed.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let r = self.inner.export(batch).await;
        if r.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

impl<E: LogExporterTrait> LogExporterTrait for Counting<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.handed
            .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        let r = self.inner.export(batch).await;
        if r.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn shutdown(&self) -> OTelSdkResult {
        self.inner.shutdown()
    }
    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource)
    }
}

/// One scaling attribute as the official API's `KeyValue` (`'static` key, no allocation).
#[inline]
fn kv(key: &'static str, value: BenchValue) -> KeyValue {
    match value {
        BenchValue::Str(s) => KeyValue::new(key, s),
        BenchValue::Int(v) => KeyValue::new(key, v),
        BenchValue::F64(v) => KeyValue::new(key, v),
        BenchValue::Bool(v) => KeyValue::new(key, v),
    }
}

fn resource() -> Resource {
    // Resource::builder() starts from the SDK detectors (telemetry.sdk.*, service.name).
    Resource::builder()
        .with_attributes([
            KeyValue::new("service.name", "otlp-bench"),
            KeyValue::new("service.version", "1.0.0"),
            KeyValue::new("host.name", "bench-host"),
            KeyValue::new("deployment.environment", "bench"),
        ])
        .build()
}

fn compression(args: &Args) -> Option<Compression> {
    args.gzip.then_some(Compression::Gzip)
}

fn main() {
    let args = Args::parse("peer_official");
    sink_reset(&args);
    let handed = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let cpu0 = process_cpu_s();
    let (produced, wall, shutdown_ok) = match args.signal {
        SignalArg::Traces => run_traces(&args, &handed, &failed),
        SignalArg::Logs => run_logs(&args, &handed, &failed),
    };
    let cpu_s = process_cpu_s() - cpu0;
    let stats = sink_stats(&args);
    let figures = RunFigures {
        peer: "official",
        offered: args.count,
        handed_to_exporter: Some(handed.load(Ordering::Relaxed)),
        failed_exports: Some(failed.load(Ordering::Relaxed)),
        produced,
        wall,
        cpu_s,
        shutdown_ok,
    };
    print_result(&args, &figures, &stats);
}

fn run_traces(
    args: &Args,
    handed: &Arc<AtomicU64>,
    failed: &Arc<AtomicU64>,
) -> (otlp_compare::Produced, Duration, bool) {
    let mut builder = SpanExporter::builder()
        .with_http()
        .with_endpoint(args.signal_url());
    if let Some(c) = compression(args) {
        builder = builder.with_compression(c);
    }
    let exporter = builder.build().unwrap_or_else(|e| {
        eprintln!("peer_official: building the span exporter: {e}");
        std::process::exit(1)
    });
    let exporter = Counting {
        inner: exporter,
        handed: Arc::clone(handed),
        failed: Arc::clone(failed),
    };
    let config = opentelemetry_sdk::trace::BatchConfigBuilder::default()
        .with_max_queue_size(args.queue)
        .with_max_export_batch_size(args.batch)
        .with_scheduled_delay(DELAY)
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer_with_scope(InstrumentationScope::builder("otlp-bench").build());

    let attrs = args.attrs;
    let extras = extra_keys(attrs);
    let produced = run_producers(args.threads, args.count, |t, n| {
        for i in 0..n {
            let i = i as i64;
            // --attrs 8 (the workload): exactly the 8 literal attributes below.
            let mut kvs = Vec::with_capacity(attrs);
            if attrs >= 2 {
                kvs.push(KeyValue::new("bench.str0", "alpha-0123456789"));
                kvs.push(KeyValue::new("bench.str1", "bravo-0123456789"));
            }
            if attrs >= 8 {
                kvs.push(KeyValue::new("bench.str2", "charlie-01234567"));
                kvs.push(KeyValue::new("bench.str3", "delta-0123456789"));
                kvs.push(KeyValue::new("bench.int0", i));
                kvs.push(KeyValue::new("bench.int1", t as i64));
                kvs.push(KeyValue::new("bench.f64", i as f64 * 0.25));
                kvs.push(KeyValue::new("bench.bool", i % 2 == 0));
            } else {
                for k in (if attrs >= 2 { 2 } else { 0 })..attrs {
                    let (key, value) = workload_attr(k, i, t);
                    kvs.push(kv(key, value));
                }
            }
            for (n, key) in extras.iter().enumerate() {
                kvs.push(kv(key, extra_attr(n, i)));
            }
            let mut span = tracer
                .span_builder("bench-span")
                .with_kind(SpanKind::Internal)
                .with_attributes(kvs)
                .start(&tracer);
            span.add_event(
                "bench-event",
                vec![
                    KeyValue::new("event.str", "event-value-0001"),
                    KeyValue::new("event.int", i),
                ],
            );
            span.set_status(Status::Ok);
            span.end();
        }
    });
    let ok = match provider.shutdown() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("peer_official: shutdown: {e}");
            false
        }
    };
    let wall = produced.start.elapsed();
    (produced, wall, ok)
}

fn run_logs(
    args: &Args,
    handed: &Arc<AtomicU64>,
    failed: &Arc<AtomicU64>,
) -> (otlp_compare::Produced, Duration, bool) {
    let mut builder = LogExporter::builder()
        .with_http()
        .with_endpoint(args.signal_url());
    if let Some(c) = compression(args) {
        builder = builder.with_compression(c);
    }
    let exporter = builder.build().unwrap_or_else(|e| {
        eprintln!("peer_official: building the log exporter: {e}");
        std::process::exit(1)
    });
    let exporter = Counting {
        inner: exporter,
        handed: Arc::clone(handed),
        failed: Arc::clone(failed),
    };
    let config = opentelemetry_sdk::logs::BatchConfigBuilder::default()
        .with_max_queue_size(args.queue)
        .with_max_export_batch_size(args.batch)
        .with_scheduled_delay(DELAY)
        .build();
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(config)
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .with_resource(resource())
        .build();
    let logger = provider.logger("otlp-bench");

    let produced = run_producers(args.threads, args.count, |_t, n| {
        for i in 0..n {
            let i = i as i64;
            let mut rec = logger.create_log_record();
            rec.set_timestamp(SystemTime::now());
            rec.set_severity_number(Severity::Info);
            rec.set_severity_text("INFO");
            rec.set_body(AnyValue::String("bench log record body 0123456789".into()));
            rec.add_attribute("log.str0", "alpha-0123456789");
            rec.add_attribute("log.str1", "bravo-0123456789");
            rec.add_attribute("log.int", i);
            rec.add_attribute("log.bool", i % 2 == 0);
            logger.emit(rec);
        }
    });
    let ok = match provider.shutdown() {
        Ok(()) => true,
        Err(e) => {
            eprintln!("peer_official: shutdown: {e}");
            false
        }
    };
    let wall = produced.start.elapsed();
    (produced, wall, ok)
}
