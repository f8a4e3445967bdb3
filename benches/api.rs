//! Instrumentation API benchmarks: the cost an application thread pays per record, ours
//! (`otlp_sync`) against the official OpenTelemetry Rust SDK 0.33 (`official_sdk_0_33`),
//! measured in the same run. `cargo bench --bench api` runs every group and ends with a
//! summary table on stdout.
//!
//! Groups (rows `<impl>/<threads>`, 1 and 2 producer threads):
//!
//! * `traces_span`: the `shared/bench/WORKLOAD.md` span: start with 8 attributes, 1 event
//!   with 2 attributes, status OK, end. Plus two diagnostic rows of ours on 1 thread,
//!   `otlp_sync_disabled` (a no-op tracer) and `otlp_sync_record_only` (recorded, never
//!   sent: the rest of the full row is the hand-off to the export thread).
//! * `counter_add_3_attrs`: `u64` counter `add(1, &[3 attributes])` on an existing series
//!   (all threads hit the same series).
//! * `histogram_record_3_attrs`: `f64` histogram (default boundaries) `record(v, &[3
//!   attributes])` on an existing series, values spread over the buckets.
//! * `log_emit`: the WORKLOAD.md logs record: INFO, severity text `"INFO"`, timestamp now,
//!   the constant body, 4 attributes (`log.str0`, `log.str1`, `log.int` = i, `log.bool` =
//!   i % 2 == 0), scope `"otlp-bench"`, no active span.
//!
//! Timing, the same for every row (`iter_custom`): every producer thread runs its share of
//! records after a barrier and times its own loop ([`timed`]); the sample is the mean of
//! the threads' loop times ([`run_threads`]), i.e. the application's ns per record per
//! thread. The loop time is the thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`: user +
//! system), so other processes on a shared machine do not inflate it;
//! `API_BENCH_CLOCK=wall` measures wall time instead (which also counts time the producer
//! is preempted, e.g. by the export thread). Off unix it is always wall time.
//!
//! Pipelines: ours is a real [`Pipeline`] whose transport accepts every request at once
//! (our worker still encodes each batch to protobuf); the official side is the SDK's
//! batch processor (spans, logs) with an exporter that only counts. Both queues hold
//! [`QUEUE`] records, and spans and log records are produced in chunks of half a queue
//! with an untimed flush of both pipelines after each chunk ([`run_chunked`]), so a full
//! queue should never drop anything; what was dropped anyway (offered minus exported) is
//! printed under the summary. Metrics queue nothing per measurement (both sides aggregate
//! in place; our pipeline collects the [`MeterProvider`] and the official periodic reader
//! exports to a no-op exporter, both every hour, i.e. not during the run), so nothing can
//! be dropped there. Both sides use cumulative temporality.
//!
//! Warm-up and measurement times and the sample count come from criterion's command line
//! (`-- --warm-up-time 1 --measurement-time 2`); every group samples flat (each sample the
//! same number of iterations).
//!
//! The summary: per group and thread count, the median ns per record of ours and of the
//! official SDK, the ratio ours/official, and "cheaper" when the ratio is below 1. The
//! medians are computed here from the samples this harness timed, not read from
//! criterion's files: the measurement samples are the final run of samples with the same
//! iteration count (flat sampling; the warm-up's doubling counts come before them), and
//! the median is taken over each sample's time / iterations, which is the statistic of
//! criterion's `median` estimate.

use std::hint::black_box;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use otlp_sync::config::TemporalityPreference;
use otlp_sync::logs::Logger;
use otlp_sync::metrics::MeterProvider;
use otlp_sync::model::{
    InstrumentationScope, KeyValue, Resource, Severity, Signal, SpanKind, StatusCode,
};
use otlp_sync::pipeline::{EncodeOnSend, FullPolicy, Pipeline, PipelineConfig};
use otlp_sync::trace::{
    Sampler, SamplingDecision, SamplingParams, ShouldSample, TraceSettings, Tracer,
};
use otlp_sync::transport::{Request, Response, Transport, TransportError};

/// Queue capacity of both sides' span and log queues: spans and log records are produced
/// in chunks of half of it between flushes.
const QUEUE: usize = 1 << 17;
/// Records per export batch (workload).
const BATCH: usize = 512;
/// Batch delay (workload).
const DELAY: Duration = Duration::from_millis(200);
/// Producer thread counts.
const THREADS: [usize; 2] = [1, 2];
/// Our rows' name.
const OURS: &str = "otlp_sync";
/// The official SDK rows' name.
const OFFICIAL: &str = "official_sdk_0_33";
/// The groups compared in the summary, in order.
const GROUPS: [&str; 4] = [
    "traces_span",
    "counter_add_3_attrs",
    "histogram_record_3_attrs",
    "log_emit",
];
/// Fewer measurement samples than this (e.g. `-- --test`: one) give no verdict.
const MIN_SAMPLES: usize = 10;
/// How long a flush between chunks may take.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

// ---- timing ---------------------------------------------------------------------------

/// The calling thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`), or `None` off unix.
fn thread_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Some(Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        ))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Whether loops are timed by wall clock (`API_BENCH_CLOCK=wall`) instead of CPU time.
fn wall_clock() -> bool {
    std::env::var("API_BENCH_CLOCK").is_ok_and(|v| v == "wall") || thread_cpu_time().is_none()
}

/// Times `f` on the calling thread: CPU time, or wall time (see the module docs).
#[inline]
fn timed(f: impl FnOnce()) -> Duration {
    if wall_clock() {
        let start = Instant::now();
        f();
        return start.elapsed();
    }
    let before = thread_cpu_time().unwrap_or_default();
    f();
    thread_cpu_time().unwrap_or_default().saturating_sub(before)
}

/// Runs `work(thread_index, indices)` on `threads` threads started together (one thread:
/// on the calling thread); returns the mean of the durations the threads report (each
/// times its own loop).
fn run_threads<F>(threads: usize, indices: Range<u64>, work: &F) -> Duration
where
    F: Fn(usize, Range<u64>) -> Duration + Sync,
{
    if threads == 1 {
        return work(0, indices);
    }
    let barrier = Barrier::new(threads);
    let total: Duration = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, indices) = (&barrier, indices.clone());
                s.spawn(move || {
                    barrier.wait();
                    work(t, indices)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("producer thread"))
            .sum()
    });
    total / threads as u32
}

/// [`run_threads`] for `iters` records per thread, in chunks of half a queue over all
/// threads, calling `drain` (untimed) after each chunk; returns the summed times.
fn run_chunked<F>(threads: usize, iters: u64, work: &F, mut drain: impl FnMut()) -> Duration
where
    F: Fn(usize, Range<u64>) -> Duration + Sync,
{
    let chunk = (QUEUE / 2 / threads) as u64;
    let mut total = Duration::ZERO;
    let mut start = 0;
    while start < iters {
        let end = iters.min(start + chunk);
        total += run_threads(threads, start..end, work);
        drain();
        start = end;
    }
    total
}

// ---- summary --------------------------------------------------------------------------

/// The samples of one row, as timed by this harness.
struct Row {
    group: &'static str,
    name: &'static str,
    threads: usize,
    /// `(iterations, time)` of every call criterion made, warm-up included.
    samples: Vec<(u64, Duration)>,
}

impl Row {
    /// The median ns per iteration of the measurement samples (the final run of samples
    /// with the iteration count of the last one: flat sampling), and their number.
    fn median_ns(&self) -> Option<(f64, usize)> {
        let &(iters, _) = self.samples.last()?;
        let mut per_iter: Vec<f64> = self
            .samples
            .iter()
            .rev()
            .take_while(|s| s.0 == iters)
            .map(|&(n, d)| d.as_nanos() as f64 / n.max(1) as f64)
            .collect();
        per_iter.sort_by(f64::total_cmp);
        let mid = per_iter.len() / 2;
        let median = if per_iter.len() % 2 == 1 {
            per_iter[mid]
        } else {
            (per_iter[mid - 1] + per_iter[mid]) / 2.0
        };
        Some((median, per_iter.len()))
    }
}

/// Rows and notes collected over the run, printed at the end.
#[derive(Default)]
struct Summary {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Summary {
    fn median_ns(&self, group: &str, name: &str, threads: usize) -> Option<(f64, usize)> {
        self.rows
            .iter()
            .find(|r| r.group == group && r.name == name && r.threads == threads)
            .and_then(Row::median_ns)
    }

    /// Prints the comparison table and the notes to stdout.
    fn print(&self) {
        let clock = if wall_clock() {
            "wall time"
        } else {
            "thread CPU time"
        };
        println!();
        println!("API bench summary: median ns per record per thread ({clock}),");
        println!("computed from this harness's measurement samples");
        println!(
            "{:<26} {:>7} {:>11} {:>11} {:>8}  verdict",
            "group", "threads", OURS, "official", "ratio"
        );
        for group in GROUPS {
            for threads in THREADS {
                let ours = self.median_ns(group, OURS, threads);
                let official = self.median_ns(group, OFFICIAL, threads);
                let cell = |v: Option<(f64, usize)>| {
                    v.map_or_else(|| "n/a".to_string(), |(ns, _)| format!("{ns:.1}"))
                };
                let samples = |v: Option<(f64, usize)>| v.map_or(0, |(_, n)| n);
                let (ratio, verdict) = match (ours, official) {
                    _ if samples(ours).min(samples(official)) < MIN_SAMPLES => {
                        ("n/a".to_string(), "too few samples")
                    }
                    (Some((o, _)), Some((f, _))) if f > 0.0 => {
                        let r = o / f;
                        (
                            format!("{r:.2}"),
                            if r < 1.0 { "cheaper" } else { "NOT cheaper" },
                        )
                    }
                    _ => ("n/a".to_string(), "n/a"),
                };
                println!(
                    "{group:<26} {threads:>7} {:>11} {:>11} {ratio:>8}  {verdict}",
                    cell(ours),
                    cell(official)
                );
            }
        }
        for note in &self.notes {
            println!("{note}");
        }
    }
}

/// Benchmarks one row (`name/threads` in `group`), where `sample(iters)` times `iters`
/// records per thread, and keeps its samples for the summary.
fn bench_row(
    g: &mut BenchmarkGroup<'_, WallTime>,
    summary: &mut Summary,
    group: &'static str,
    name: &'static str,
    threads: usize,
    mut sample: impl FnMut(u64) -> Duration,
) {
    let mut samples = Vec::new();
    g.bench_function(BenchmarkId::new(name, threads), |b| {
        b.iter_custom(|iters| {
            let d = sample(iters);
            samples.push((iters, d));
            d
        })
    });
    summary.rows.push(Row {
        group,
        name,
        threads,
        samples,
    });
}

/// A group with the settings every group uses.
fn group<'a>(c: &'a mut Criterion, name: &'static str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// The drop line of one side of a group.
fn drop_note(group: &str, side: &str, offered: u64, exported: u64) -> String {
    format!(
        "{group} {side}: offered {offered} exported {exported} dropped {}",
        offered.saturating_sub(exported)
    )
}

// ---- our pipeline ---------------------------------------------------------------------

/// Accepts every request at once (200).
struct NoopTransport;

impl Transport for NoopTransport {
    fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
        Ok(Response {
            status: 200,
            ..Default::default()
        })
    }
}

/// The workload resource (service attributes; each SDK adds its `telemetry.sdk.*`).
fn workload_attributes() -> [(&'static str, &'static str); 4] {
    [
        ("service.name", "otlp-bench"),
        ("service.version", "1.0.0"),
        ("host.name", "bench-host"),
        ("deployment.environment", "bench"),
    ]
}

/// Our pipeline: no-op transport, a [`QUEUE`]-record queue for `signal`, workload batch
/// settings, drop when full; collecting `meters` every hour if given.
fn our_pipeline(signal: Signal, meters: Option<MeterProvider>) -> Pipeline {
    let mut config = PipelineConfig::default();
    for s in [&mut config.traces, &mut config.logs, &mut config.metrics] {
        s.max_batch_records = BATCH;
        s.schedule_delay = DELAY;
    }
    config.signal_mut(signal).queue_capacity = QUEUE;
    config.full_policy = FullPolicy::Drop;
    // API_BENCH_ENCODE_ON_SEND=never|backlog|always; unset: the library default.
    match std::env::var("API_BENCH_ENCODE_ON_SEND").as_deref() {
        Ok("never") => config.encode_on_send = EncodeOnSend::Never,
        Ok("backlog") => config.encode_on_send = EncodeOnSend::Backlog,
        Ok("always") => config.encode_on_send = EncodeOnSend::Always,
        _ => {}
    }
    let mut attributes: Vec<KeyValue> = workload_attributes()
        .into_iter()
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    attributes.extend([
        KeyValue::new("telemetry.sdk.name", "otlp-sync"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ]);
    let (resource, transport) = (Resource::new(attributes), Box::new(NoopTransport));
    match meters {
        Some(meters) => Pipeline::start_with_metrics(
            config,
            resource,
            transport,
            Box::new(meters),
            Duration::from_secs(3600),
        ),
        None => Pipeline::start(config, resource, transport),
    }
    .expect("pipeline starts")
}

fn scope() -> Arc<InstrumentationScope> {
    Arc::new(InstrumentationScope::new("otlp-bench"))
}

// ---- our records ----------------------------------------------------------------------

/// One workload span through our tracer.
#[inline]
fn our_span(tracer: &Tracer, t: usize, i: u64) {
    let i = i as i64;
    let mut span = tracer
        .span("bench-span")
        .kind(SpanKind::Internal)
        .attr("bench.str0", "alpha-0123456789")
        .attr("bench.str1", "bravo-0123456789")
        .attr("bench.str2", "charlie-01234567")
        .attr("bench.str3", "delta-0123456789")
        .attr("bench.int0", i)
        .attr("bench.int1", t as i64)
        .attr("bench.f64", i as f64 * 0.25)
        .attr("bench.bool", i % 2 == 0)
        .start();
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

/// The workload log body.
const BODY: &str = "bench log record body 0123456789";

/// One workload log record through our logger.
#[inline]
fn our_log(logger: &Logger, i: u64) {
    let i = i as i64;
    logger
        .record(Severity::INFO)
        .body(BODY)
        .attr("log.str0", "alpha-0123456789")
        .attr("log.str1", "bravo-0123456789")
        .attr("log.int", i)
        .attr("log.bool", i % 2 == 0)
        .emit();
}

/// The 3 attributes of the metrics rows.
fn our_metric_attrs() -> [KeyValue; 3] {
    [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("http.route", "/api/users/{id}"),
    ]
}

/// A histogram value spread over the default buckets.
#[inline]
fn histogram_value(i: u64) -> f64 {
    ((i * 7919) % 12_000) as f64 * 0.9
}

/// Records every span, samples none.
#[derive(Debug)]
struct RecordOnly;

impl ShouldSample for RecordOnly {
    fn should_sample(&self, _: &SamplingParams<'_>) -> SamplingDecision {
        SamplingDecision::RecordOnly
    }
    fn description(&self) -> String {
        "RecordOnly".to_string()
    }
}

// ---- the official SDK -----------------------------------------------------------------

mod official {
    //! The official SDK side: batch processors (spans, logs) and a periodic reader
    //! (metrics) with exporters that only count.
    use super::{BATCH, BODY, DELAY, QUEUE, workload_attributes};
    use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _};
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::logs::{
        BatchLogProcessor, LogBatch, LogExporter, SdkLogger, SdkLoggerProvider,
    };
    use opentelemetry_sdk::metrics::data::ResourceMetrics;
    use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
    use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
    use opentelemetry_sdk::trace::{
        BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
    };
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, SystemTime};

    fn resource() -> Resource {
        Resource::builder()
            .with_attributes(
                workload_attributes()
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v)),
            )
            .build()
    }

    /// Counts the spans it is handed.
    #[derive(Debug)]
    pub struct NoopSpans(pub Arc<AtomicU64>);

    impl SpanExporter for NoopSpans {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok(())
        }
    }

    pub fn tracer_provider(exported: Arc<AtomicU64>) -> (SdkTracerProvider, SdkTracer) {
        let config = opentelemetry_sdk::trace::BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(BATCH)
            .with_scheduled_delay(DELAY)
            .build();
        let processor = BatchSpanProcessor::builder(NoopSpans(exported))
            .with_batch_config(config)
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(resource())
            .build();
        let tracer =
            provider.tracer_with_scope(InstrumentationScope::builder("otlp-bench").build());
        (provider, tracer)
    }

    /// One workload span through the official tracer.
    #[inline]
    pub fn span(tracer: &SdkTracer, t: usize, i: u64) {
        let i = i as i64;
        let mut span = tracer
            .span_builder("bench-span")
            .with_kind(SpanKind::Internal)
            .with_attributes(vec![
                KeyValue::new("bench.str0", "alpha-0123456789"),
                KeyValue::new("bench.str1", "bravo-0123456789"),
                KeyValue::new("bench.str2", "charlie-01234567"),
                KeyValue::new("bench.str3", "delta-0123456789"),
                KeyValue::new("bench.int0", i),
                KeyValue::new("bench.int1", t as i64),
                KeyValue::new("bench.f64", i as f64 * 0.25),
                KeyValue::new("bench.bool", i % 2 == 0),
            ])
            .start(tracer);
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

    /// Counts the log records it is handed.
    #[derive(Debug)]
    pub struct NoopLogs(pub Arc<AtomicU64>);

    impl LogExporter for NoopLogs {
        async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            self.0
                .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
            Ok(())
        }
    }

    pub fn logger_provider(exported: Arc<AtomicU64>) -> (SdkLoggerProvider, SdkLogger) {
        let config = opentelemetry_sdk::logs::BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(BATCH)
            .with_scheduled_delay(DELAY)
            .build();
        let processor = BatchLogProcessor::builder(NoopLogs(exported))
            .with_batch_config(config)
            .build();
        let provider = SdkLoggerProvider::builder()
            .with_resource(resource())
            .with_log_processor(processor)
            .build();
        let logger = provider.logger("otlp-bench");
        (provider, logger)
    }

    /// One workload log record through the official logger.
    #[inline]
    pub fn log(logger: &SdkLogger, i: u64) {
        let i = i as i64;
        let mut record = logger.create_log_record();
        record.set_timestamp(SystemTime::now());
        record.set_severity_number(opentelemetry::logs::Severity::Info);
        record.set_severity_text("INFO");
        record.set_body(AnyValue::String(BODY.into()));
        record.add_attribute("log.str0", "alpha-0123456789");
        record.add_attribute("log.str1", "bravo-0123456789");
        record.add_attribute("log.int", i);
        record.add_attribute("log.bool", i % 2 == 0);
        logger.emit(record);
    }

    /// Drops every collection.
    struct NoopMetrics;

    impl PushMetricExporter for NoopMetrics {
        async fn export(&self, _: &ResourceMetrics) -> OTelSdkResult {
            Ok(())
        }
        fn force_flush(&self) -> OTelSdkResult {
            Ok(())
        }
        fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
            Ok(())
        }
        fn temporality(&self) -> Temporality {
            Temporality::Cumulative
        }
    }

    /// A meter provider whose periodic reader exports (nowhere) every hour.
    pub fn meter_provider() -> SdkMeterProvider {
        let reader = PeriodicReader::builder(NoopMetrics)
            .with_interval(Duration::from_secs(3600))
            .build();
        SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource())
            .build()
    }

    /// The 3 attributes of the metrics rows.
    pub fn metric_attrs() -> [KeyValue; 3] {
        [
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("http.route", "/api/users/{id}"),
        ]
    }

    /// The official counter and histogram of the metrics rows, series created.
    pub fn instruments(
        provider: &SdkMeterProvider,
    ) -> (
        opentelemetry::metrics::Counter<u64>,
        opentelemetry::metrics::Histogram<f64>,
    ) {
        let meter = provider.meter("otlp-bench");
        let counter = meter.u64_counter("requests").build();
        let histogram = meter.f64_histogram("latency").build();
        counter.add(1, &metric_attrs());
        histogram.record(1.0, &metric_attrs());
        (counter, histogram)
    }
}

// ---- groups ---------------------------------------------------------------------------

fn traces(c: &mut Criterion, summary: &mut Summary) {
    const GROUP: &str = "traces_span";
    let mut g = group(c, GROUP);

    let pipeline = our_pipeline(Signal::Traces, None);
    let tracer = Tracer::new(
        Some(pipeline.sender()),
        scope(),
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            ..TraceSettings::default()
        },
    );
    let exported = Arc::new(AtomicU64::new(0));
    let (provider, official_tracer) = official::tracer_provider(Arc::clone(&exported));
    let mut official_ended = 0u64;

    // Diagnostic rows (1 thread, ours only): nothing reaches the queue.
    let record_only = Tracer::new(
        Some(pipeline.sender()),
        scope(),
        TraceSettings {
            sampler: Sampler::Custom(Arc::new(RecordOnly)),
            ..TraceSettings::default()
        },
    );
    for (name, tracer) in [
        ("otlp_sync_disabled", Tracer::noop()),
        ("otlp_sync_record_only", record_only),
    ] {
        let work = |t: usize, r: Range<u64>| {
            timed(|| {
                for i in r {
                    our_span(black_box(&tracer), t, i);
                }
            })
        };
        bench_row(&mut g, summary, GROUP, name, 1, |iters| {
            run_threads(1, 0..iters, &work)
        });
    }

    for threads in THREADS {
        let work = |t: usize, r: Range<u64>| {
            timed(|| {
                for i in r {
                    our_span(black_box(&tracer), t, i);
                }
            })
        };
        bench_row(&mut g, summary, GROUP, OURS, threads, |iters| {
            run_chunked(threads, iters, &work, || {
                let _ = pipeline.flush(FLUSH_TIMEOUT);
            })
        });
        let work = |t: usize, r: Range<u64>| {
            timed(|| {
                for i in r {
                    official::span(black_box(&official_tracer), t, i);
                }
            })
        };
        bench_row(&mut g, summary, GROUP, OFFICIAL, threads, |iters| {
            official_ended += iters * threads as u64;
            run_chunked(threads, iters, &work, || {
                let _ = provider.force_flush();
            })
        });
    }
    g.finish();

    let _ = pipeline.flush(FLUSH_TIMEOUT);
    let _ = provider.force_flush();
    let stats = pipeline.stats();
    summary.notes.push(drop_note(
        GROUP,
        OURS,
        stats.traces.offered,
        stats.traces.exported,
    ));
    summary.notes.push(drop_note(
        GROUP,
        OFFICIAL,
        official_ended,
        exported.load(Ordering::Relaxed),
    ));
    let _ = provider.shutdown();
    let _ = pipeline.shutdown(FLUSH_TIMEOUT);
}

fn metrics(c: &mut Criterion, summary: &mut Summary) {
    let meters = MeterProvider::new(TemporalityPreference::Cumulative);
    let pipeline = our_pipeline(Signal::Metrics, Some(meters.clone()));
    let meter = meters.meter("otlp-bench");
    let counter = meter.u64_counter("requests").build();
    let histogram = meter.f64_histogram("latency").build();
    // Create the series first: the rows are about existing series.
    counter.add(1, &our_metric_attrs());
    histogram.record(1.0, &our_metric_attrs());
    let official_provider = official::meter_provider();
    let (official_counter, official_histogram) = official::instruments(&official_provider);

    const COUNTER: &str = "counter_add_3_attrs";
    let mut g = group(c, COUNTER);
    for threads in THREADS {
        let work = |_: usize, r: Range<u64>| {
            let attrs = our_metric_attrs();
            timed(|| {
                for _ in r {
                    counter.add(black_box(1), black_box(&attrs));
                }
            })
        };
        bench_row(&mut g, summary, COUNTER, OURS, threads, |iters| {
            run_threads(threads, 0..iters, &work)
        });
        let work = |_: usize, r: Range<u64>| {
            let attrs = official::metric_attrs();
            timed(|| {
                for _ in r {
                    official_counter.add(black_box(1), black_box(&attrs));
                }
            })
        };
        bench_row(&mut g, summary, COUNTER, OFFICIAL, threads, |iters| {
            run_threads(threads, 0..iters, &work)
        });
    }
    g.finish();

    const HISTOGRAM: &str = "histogram_record_3_attrs";
    let mut g = group(c, HISTOGRAM);
    for threads in THREADS {
        let work = |_: usize, r: Range<u64>| {
            let attrs = our_metric_attrs();
            timed(|| {
                for i in r {
                    histogram.record(black_box(histogram_value(i)), black_box(&attrs));
                }
            })
        };
        bench_row(&mut g, summary, HISTOGRAM, OURS, threads, |iters| {
            run_threads(threads, 0..iters, &work)
        });
        let work = |_: usize, r: Range<u64>| {
            let attrs = official::metric_attrs();
            timed(|| {
                for i in r {
                    official_histogram.record(black_box(histogram_value(i)), black_box(&attrs));
                }
            })
        };
        bench_row(&mut g, summary, HISTOGRAM, OFFICIAL, threads, |iters| {
            run_threads(threads, 0..iters, &work)
        });
    }
    g.finish();

    let _ = official_provider.shutdown();
    let _ = pipeline.shutdown(FLUSH_TIMEOUT);
}

fn logs(c: &mut Criterion, summary: &mut Summary) {
    const GROUP: &str = "log_emit";
    let mut g = group(c, GROUP);

    let pipeline = our_pipeline(Signal::Logs, None);
    let logger = Logger::new(Some(pipeline.sender()), scope());
    let exported = Arc::new(AtomicU64::new(0));
    let (provider, official_logger) = official::logger_provider(Arc::clone(&exported));
    let mut official_emitted = 0u64;

    for threads in THREADS {
        let work = |_: usize, r: Range<u64>| {
            timed(|| {
                for i in r {
                    our_log(black_box(&logger), i);
                }
            })
        };
        bench_row(&mut g, summary, GROUP, OURS, threads, |iters| {
            run_chunked(threads, iters, &work, || {
                let _ = pipeline.flush(FLUSH_TIMEOUT);
            })
        });
        let work = |_: usize, r: Range<u64>| {
            timed(|| {
                for i in r {
                    official::log(black_box(&official_logger), i);
                }
            })
        };
        bench_row(&mut g, summary, GROUP, OFFICIAL, threads, |iters| {
            official_emitted += iters * threads as u64;
            run_chunked(threads, iters, &work, || {
                let _ = provider.force_flush();
            })
        });
    }
    g.finish();

    let _ = pipeline.flush(FLUSH_TIMEOUT);
    let _ = provider.force_flush();
    let stats = pipeline.stats();
    summary.notes.push(drop_note(
        GROUP,
        OURS,
        stats.logs.offered,
        stats.logs.exported,
    ));
    summary.notes.push(drop_note(
        GROUP,
        OFFICIAL,
        official_emitted,
        exported.load(Ordering::Relaxed),
    ));
    let _ = provider.shutdown();
    let _ = pipeline.shutdown(FLUSH_TIMEOUT);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut summary = Summary::default();
    traces(&mut c, &mut summary);
    metrics(&mut c, &mut summary);
    logs(&mut c, &mut summary);
    c.final_summary();
    summary.print();
}
