//! Instrumentation API benchmarks: the cost an application thread pays per record, ours
//! against the official OpenTelemetry Rust SDK 0.33, measured in the same run.
//!
//! Each row runs the per-record work of `shared/bench/WORKLOAD.md` on 1 and 2 producer
//! threads (`iter_custom`: every thread does `iters` records after a barrier; the time
//! reported is the mean of the threads' own loop times, i.e. the application's ns per
//! record per thread). The loop time is the thread's own CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`: user + system), so other processes on a shared machine do
//! not inflate it; `API_BENCH_CLOCK=wall` measures wall time instead
//! (which also counts time the producer is preempted, e.g. by the export thread). Records go into a real pipeline whose export is a no-op, with a
//! queue big enough that a sample never fills it; both pipelines are flushed between
//! samples, outside the timed loops. What was dropped anyway is printed at the end of
//! each group.
//!
//! Groups: `traces_span` (span start + 8 attributes + 1 event with 2 attributes +
//! status OK + end): `otlp_sync/{1,2}` and `official_sdk_0_33/{1,2}`, plus two diagnostic
//! rows of ours on 1 thread, `otlp_sync_disabled` and `otlp_sync_record_only`. Metrics and logs rows are added as further groups with the same
//! helpers ([`run_threads`], [`our_pipeline`]).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use otlp_sync::model::{InstrumentationScope, KeyValue, Resource, SpanKind, StatusCode};
use otlp_sync::pipeline::{FullPolicy, Pipeline, PipelineConfig};
use otlp_sync::trace::{
    Sampler, SamplingDecision, SamplingParams, ShouldSample, TraceSettings, Tracer,
};
use otlp_sync::transport::{Request, Response, Transport, TransportError};

/// Queue capacity of both pipelines: more than one sample's records.
const QUEUE: usize = 1 << 17;
/// Records per export batch (workload).
const BATCH: usize = 512;
/// Batch delay (workload).
const DELAY: Duration = Duration::from_millis(200);
/// Producer thread counts.
const THREADS: [usize; 2] = [1, 2];

// ---- shared helpers -------------------------------------------------------------------

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
pub fn timed(f: impl FnOnce()) -> Duration {
    if wall_clock() {
        let start = Instant::now();
        f();
        return start.elapsed();
    }
    let before = thread_cpu_time().unwrap_or_default();
    f();
    thread_cpu_time().unwrap_or_default().saturating_sub(before)
}

/// Runs `work(thread_index, iters)` on `threads` threads started together; returns the
/// mean of the durations the threads report (each times its own loop).
pub fn run_threads<F>(threads: usize, iters: u64, work: F) -> Duration
where
    F: Fn(usize, u64) -> Duration + Send + Sync + 'static,
{
    if threads == 1 {
        return work(0, iters);
    }
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let work = Arc::clone(&work);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                work(t, iters)
            })
        })
        .collect();
    let total: Duration = handles
        .into_iter()
        .map(|h| h.join().expect("producer thread"))
        .sum();
    total / threads as u32
}

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

/// The workload resource (service attributes plus `telemetry.sdk.*`).
fn workload_attributes() -> [(&'static str, &'static str); 4] {
    [
        ("service.name", "otlp-bench"),
        ("service.version", "1.0.0"),
        ("host.name", "bench-host"),
        ("deployment.environment", "bench"),
    ]
}

/// Our pipeline: no-op transport, big queues, workload batch settings, drop when full.
pub fn our_pipeline() -> Pipeline {
    let mut config = PipelineConfig::default();
    for s in [&mut config.traces, &mut config.logs, &mut config.metrics] {
        s.queue_capacity = QUEUE;
        s.max_batch_records = BATCH;
        s.schedule_delay = DELAY;
    }
    config.full_policy = FullPolicy::Drop;
    let mut attributes: Vec<KeyValue> = workload_attributes()
        .into_iter()
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    attributes.extend([
        KeyValue::new("telemetry.sdk.name", "otlp-sync"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ]);
    Pipeline::start(config, Resource::new(attributes), Box::new(NoopTransport))
        .expect("pipeline starts")
}

// ---- traces ---------------------------------------------------------------------------

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

mod official {
    //! The official SDK side: `SdkTracerProvider` + `BatchSpanProcessor` + a no-op
    //! exporter that counts what reaches it.
    use super::{BATCH, DELAY, QUEUE, workload_attributes};
    use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{
        BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData,
        SpanExporter,
    };
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Debug)]
    pub struct Noop(pub Arc<AtomicU64>);

    impl SpanExporter for Noop {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok(())
        }
    }

    pub fn provider(exported: Arc<AtomicU64>) -> (SdkTracerProvider, SdkTracer) {
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .with_max_export_batch_size(BATCH)
            .with_scheduled_delay(DELAY)
            .build();
        let processor = BatchSpanProcessor::builder(Noop(exported))
            .with_batch_config(config)
            .build();
        let resource = Resource::builder()
            .with_attributes(
                workload_attributes()
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v)),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(Sampler::AlwaysOn)
            .with_resource(resource)
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

fn traces(c: &mut Criterion) {
    let mut group = c.benchmark_group("traces_span");
    // Flat sampling and short samples: one sample's spans (~30k per thread) fit the
    // queue, so nothing is dropped (the drop counts are printed at the end).
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(100);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    let pipeline = Arc::new(our_pipeline());
    let tracer = Tracer::new(
        Some(pipeline.sender()),
        Arc::new(InstrumentationScope::new("otlp-bench")),
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            ..TraceSettings::default()
        },
    );
    let exported = Arc::new(AtomicU64::new(0));
    let (provider, official_tracer) = official::provider(Arc::clone(&exported));
    let official_ended = Arc::new(AtomicU64::new(0));

    // Diagnostic rows (1 thread): the same span on a disabled tracer (what the API costs
    // when off), and recorded but never sent (a `RecordOnly` sampler): the rest of the
    // full row's cost is the hand-off to the export thread.
    let record_only = Tracer::new(
        Some(pipeline.sender()),
        Arc::new(InstrumentationScope::new("otlp-bench")),
        TraceSettings {
            sampler: Sampler::Custom(Arc::new(RecordOnly)),
            ..TraceSettings::default()
        },
    );
    for (label, tracer) in [
        ("otlp_sync_disabled", Tracer::noop()),
        ("otlp_sync_record_only", record_only),
    ] {
        group.bench_function(BenchmarkId::new(label, 1), |b| {
            b.iter_custom(|iters| {
                let tracer = tracer.clone();
                run_threads(1, iters, move |t, n| {
                    timed(|| {
                        for i in 0..n {
                            our_span(black_box(&tracer), t, i);
                        }
                    })
                })
            })
        });
    }
    for threads in THREADS {
        group.bench_function(BenchmarkId::new("otlp_sync", threads), |b| {
            b.iter_custom(|iters| {
                let tracer = tracer.clone();
                let d = run_threads(threads, iters, move |t, n| {
                    timed(|| {
                        for i in 0..n {
                            our_span(black_box(&tracer), t, i);
                        }
                    })
                });
                // Drain outside the timed loops so the next sample starts empty.
                let _ = pipeline.flush(Duration::from_secs(60));
                d
            })
        });
        group.bench_function(BenchmarkId::new("official_sdk_0_33", threads), |b| {
            b.iter_custom(|iters| {
                let tracer = official_tracer.clone();
                let d = run_threads(threads, iters, move |t, n| {
                    timed(|| {
                        for i in 0..n {
                            official::span(black_box(&tracer), t, i);
                        }
                    })
                });
                official_ended.fetch_add(iters * threads as u64, Ordering::Relaxed);
                let _ = provider.force_flush();
                d
            })
        });
    }
    group.finish();

    let stats = pipeline.stats();
    eprintln!(
        "traces_span otlp_sync: offered {} exported {} dropped {}",
        stats.traces.offered,
        stats.traces.exported,
        stats.traces.offered.saturating_sub(stats.traces.exported)
    );
    let ended = official_ended.load(Ordering::Relaxed);
    let delivered = exported.load(Ordering::Relaxed);
    eprintln!(
        "traces_span official: ended {ended} exported {delivered} dropped {}",
        ended.saturating_sub(delivered)
    );
    let _ = provider.shutdown();
    let _ = pipeline.shutdown(Duration::from_secs(10));
}

criterion_group!(benches, traces);
criterion_main!(benches);
