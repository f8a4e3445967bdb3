//! Log emit cost on the application thread: our [`Logger`] into a [`Pipeline`] with a
//! no-op transport, vs the official `opentelemetry_sdk` 0.33 `SdkLogger` into a
//! `BatchLogProcessor` with a no-op `LogExporter`. Same run, 1 and 2 producer threads.
//!
//! The record is the `shared/bench/WORKLOAD.md` logs shape: INFO, severity text `"INFO"`,
//! timestamp now, the constant body, 4 attributes (`log.str0`, `log.str1`, `log.int` = i,
//! `log.bool` = i % 2 == 0), scope `"otlp-bench"`, no active span.
//!
//! Rows (`logs_emit/<impl>/<threads>`): each of `threads` producers emits `iters` records
//! after a barrier; the time is the wall time from the first producer's start to the last
//! one's end, so one iteration = `threads` records emitted in parallel (criterion's
//! throughput line gives records/s). Rows `logs_emit_cpu/...` (Unix) time the same runs
//! by the producers' own CPU time, summed over threads: one iteration = the CPU cost of
//! `threads` records; use them when the machine is shared. Both queues hold [`QUEUE`] records and are flushed
//! (untimed) after every half queue of records, so nothing should be dropped; the drop
//! counts are printed at the end.
//!
//! Not equal work behind the queue: our worker encodes every batch to protobuf (the
//! transport then discards it); the official no-op exporter receives borrowed records
//! and encodes nothing. Both consumer threads compete with the producers for the CPUs.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use opentelemetry::logs::{
    AnyValue as OAny, LogRecord as _, Logger as _, LoggerProvider as _, Severity as OSeverity,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider,
};
use otlp_sync::logs::Logger;
use otlp_sync::model::{InstrumentationScope, KeyValue, Resource, Severity, Signal};
use otlp_sync::pipeline::{Pipeline, PipelineConfig};
use otlp_sync::transport::{Request, Response, Transport, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

/// Queue capacity of both pipelines.
const QUEUE: usize = 1 << 19;
/// Records per export batch (workload).
const BATCH: usize = 512;
/// Schedule delay (workload).
const DELAY: Duration = Duration::from_millis(200);
const BODY: &str = "bench log record body 0123456789";

/// Accepts every request.
struct NoopTransport;
impl Transport for NoopTransport {
    fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
        Ok(Response {
            status: 200,
            ..Default::default()
        })
    }
}

/// Counts and discards.
#[derive(Debug)]
struct NoopExporter(Arc<AtomicU64>);
impl LogExporter for NoopExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.0
            .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn workload_resource() -> Vec<(&'static str, &'static str)> {
    vec![
        ("service.name", "otlp-bench"),
        ("service.version", "1.0.0"),
        ("host.name", "bench-host"),
        ("deployment.environment", "bench"),
    ]
}

fn ours() -> (Pipeline, Logger) {
    let mut config = PipelineConfig::default();
    let logs = config.signal_mut(Signal::Logs);
    logs.queue_capacity = QUEUE;
    logs.max_batch_records = BATCH;
    logs.schedule_delay = DELAY;
    let mut attributes: Vec<KeyValue> = workload_resource()
        .into_iter()
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    for (k, v) in [
        ("telemetry.sdk.name", "otlp-sync"),
        ("telemetry.sdk.language", "rust"),
        ("telemetry.sdk.version", "0.1.0"),
    ] {
        attributes.push(KeyValue::new(k, v));
    }
    let pipeline = Pipeline::start(config, Resource::new(attributes), Box::new(NoopTransport))
        .expect("pipeline starts");
    let logger = Logger::new(
        Some(pipeline.sender()),
        Arc::new(InstrumentationScope::new("otlp-bench")),
    );
    (pipeline, logger)
}

fn official() -> (SdkLoggerProvider, Arc<AtomicU64>) {
    let exported = Arc::new(AtomicU64::new(0));
    let processor = BatchLogProcessor::builder(NoopExporter(Arc::clone(&exported)))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .with_max_export_batch_size(BATCH)
                .with_scheduled_delay(DELAY)
                .build(),
        )
        .build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_attributes(
            workload_resource()
                .into_iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(k, v)),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_log_processor(processor)
        .build();
    (provider, exported)
}

#[inline]
fn emit_ours(logger: &Logger, i: i64) {
    logger
        .record(Severity::INFO)
        .body(BODY)
        .attr("log.str0", "alpha-0123456789")
        .attr("log.str1", "bravo-0123456789")
        .attr("log.int", i)
        .attr("log.bool", i % 2 == 0)
        .emit();
}

#[inline]
fn emit_official(logger: &opentelemetry_sdk::logs::SdkLogger, i: i64) {
    let mut rec = logger.create_log_record();
    rec.set_timestamp(SystemTime::now());
    rec.set_severity_number(OSeverity::Info);
    rec.set_severity_text("INFO");
    rec.set_body(OAny::String(BODY.into()));
    rec.add_attribute("log.str0", "alpha-0123456789");
    rec.add_attribute("log.str1", "bravo-0123456789");
    rec.add_attribute("log.int", i);
    rec.add_attribute("log.bool", i % 2 == 0);
    logger.emit(rec);
}

/// What a producer's time is measured in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Clock {
    /// Monotonic wall time: first producer's start to last producer's end.
    Wall,
    /// The producers' own CPU time (`CLOCK_THREAD_CPUTIME_ID`), summed: robust when the
    /// machine is shared, and still includes contention on the queues (cache misses,
    /// spinning), but not time spent descheduled.
    #[cfg(unix)]
    ThreadCpu,
}

#[cfg(unix)]
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Runs `emit(i)` `iters` times on each of `threads` threads (after a barrier) and
/// returns the time by `clock`. One thread runs on the calling thread, with no barrier.
fn run_parallel<F: Fn(i64) + Sync>(clock: Clock, threads: usize, iters: u64, emit: &F) -> Duration {
    let run = || {
        #[cfg(unix)]
        let cpu0 = thread_cpu();
        let start = Instant::now();
        for i in 0..iters {
            emit(i as i64);
        }
        let end = Instant::now();
        #[cfg(unix)]
        let cpu = thread_cpu().saturating_sub(cpu0);
        #[cfg(not(unix))]
        let cpu = Duration::ZERO;
        (start, end, cpu)
    };
    let spans: Vec<(Instant, Instant, Duration)> = if threads == 1 {
        vec![run()]
    } else {
        let barrier = Barrier::new(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        run()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("producer"))
                .collect()
        })
    };
    match clock {
        Clock::Wall => {
            let start = spans.iter().map(|s| s.0).min().expect("threads > 0");
            let end = spans.iter().map(|s| s.1).max().expect("threads > 0");
            end - start
        }
        #[cfg(unix)]
        Clock::ThreadCpu => spans.iter().map(|s| s.2).sum(),
    }
}

/// Runs `iters` rounds in chunks that fit the queues, calling `drain` (untimed) after
/// each chunk; returns the summed producer time.
fn run_chunked<F: Fn(i64) + Sync>(
    clock: Clock,
    threads: usize,
    iters: u64,
    emit: &F,
    mut drain: impl FnMut(),
) -> Duration {
    let chunk = (QUEUE / 2 / threads) as u64;
    let mut left = iters;
    let mut total = Duration::ZERO;
    while left > 0 {
        let n = left.min(chunk);
        total += run_parallel(clock, threads, n, emit);
        drain();
        left -= n;
    }
    total
}

fn bench_emit(c: &mut Criterion) {
    let (pipeline, logger) = ours();
    let (provider, official_exported) = official();
    let official_logger = provider.logger("otlp-bench");
    let mut offered_ours = 0u64;
    let mut offered_official = 0u64;

    let clocks = [
        ("logs_emit", Clock::Wall),
        #[cfg(unix)]
        ("logs_emit_cpu", Clock::ThreadCpu),
    ];
    for (name, clock) in clocks {
        let mut group = c.benchmark_group(name);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for threads in [1usize, 2] {
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_function(format!("otlp_sync/{threads}"), |b| {
                b.iter_custom(|iters| {
                    offered_ours += iters * threads as u64;
                    run_chunked(clock, threads, iters, &|i| emit_ours(&logger, i), || {
                        let _ = pipeline.flush(Duration::from_secs(30));
                    })
                });
            });
            group.bench_function(format!("official_sdk/{threads}"), |b| {
                b.iter_custom(|iters| {
                    offered_official += iters * threads as u64;
                    run_chunked(
                        clock,
                        threads,
                        iters,
                        &|i| emit_official(&official_logger, i),
                        || {
                            let _ = provider.force_flush();
                        },
                    )
                });
            });
        }
        group.finish();
    }

    let _ = pipeline.flush(Duration::from_secs(30));
    let _ = provider.force_flush();
    let stats = pipeline.stats();
    let official_delivered = official_exported.load(Ordering::Relaxed);
    println!(
        "otlp_sync: offered {offered_ours}, exported {}, dropped {}",
        stats.logs.exported,
        offered_ours.saturating_sub(stats.logs.exported)
    );
    println!(
        "official_sdk: offered {offered_official}, exported {official_delivered}, dropped {}",
        offered_official.saturating_sub(official_delivered)
    );
    let _ = pipeline.shutdown(Duration::from_secs(30));
    let _ = provider.shutdown();
}

criterion_group!(benches, bench_emit);
criterion_main!(benches);
