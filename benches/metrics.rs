//! The recording hot path: ours against the official `opentelemetry_sdk` 0.33, in the same
//! run.
//!
//! * `counter_add_3_attrs`: `u64` counter `add(1, &[3 attributes])` on an existing series.
//! * `histogram_record_3_attrs`: `f64` histogram (default boundaries) `record(v, &[3
//!   attributes])` on an existing series, values spread over the buckets.
//!
//! Each on 1 thread, and on 2 threads hitting the same series at once (the time is per
//! operation of one thread while the other does the same). Both sides cumulative; the
//! official provider has a periodic reader with a one-hour interval and an exporter that
//! drops everything, so only recording is measured. Run with
//! `cargo bench --bench metrics`; medians land in `target/criterion/<group>/<id>/`.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use otlp_sync::config::TemporalityPreference;
use otlp_sync::metrics::MeterProvider;

/// Drops everything.
struct Sink;

impl PushMetricExporter for Sink {
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

fn official_provider() -> SdkMeterProvider {
    let reader = PeriodicReader::builder(Sink)
        .with_interval(Duration::from_secs(3600))
        .build();
    SdkMeterProvider::builder().with_reader(reader).build()
}

fn ours_attrs() -> [otlp_sync::model::KeyValue; 3] {
    use otlp_sync::model::KeyValue;
    [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("http.route", "/api/users/{id}"),
    ]
}

fn official_attrs() -> [opentelemetry::KeyValue; 3] {
    use opentelemetry::KeyValue;
    [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("http.route", "/api/users/{id}"),
    ]
}

/// Times `iters` calls of `op` on this thread while `threads - 1` other threads make as
/// many calls of their own copy at the same time.
fn contended<F>(threads: usize, iters: u64, make: impl Fn() -> F) -> Duration
where
    F: FnMut(u64) + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(threads));
    let helpers: Vec<_> = (1..threads)
        .map(|_| {
            let mut op = make();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..iters {
                    op(i);
                }
            })
        })
        .collect();
    let mut op = make();
    barrier.wait();
    let start = Instant::now();
    for i in 0..iters {
        op(i);
    }
    let elapsed = start.elapsed();
    for h in helpers {
        h.join().expect("helper thread");
    }
    elapsed
}

/// A value spread over the default buckets.
fn value(i: u64) -> f64 {
    ((i * 7919) % 12_000) as f64 * 0.9
}

fn counter(c: &mut Criterion) {
    let ours = MeterProvider::new(TemporalityPreference::Cumulative);
    let ours_counter = ours.meter("bench").u64_counter("requests").build();
    let official = official_provider();
    let official_counter = official.meter("bench").u64_counter("requests").build();
    // Create the series first: the benchmark is about existing series.
    ours_counter.add(1, &ours_attrs());
    official_counter.add(1, &official_attrs());

    let mut g = c.benchmark_group("counter_add_3_attrs");
    for threads in [1usize, 2] {
        let oc = ours_counter.clone();
        g.bench_function(BenchmarkId::new("ours", threads), |b| {
            b.iter_custom(|iters| {
                contended(threads, iters, || {
                    let (c, a) = (oc.clone(), ours_attrs());
                    move |_| c.add(black_box(1), black_box(&a))
                })
            })
        });
        let fc = official_counter.clone();
        g.bench_function(BenchmarkId::new("official", threads), |b| {
            b.iter_custom(|iters| {
                contended(threads, iters, || {
                    let (c, a) = (fc.clone(), official_attrs());
                    move |_| c.add(black_box(1), black_box(&a))
                })
            })
        });
    }
    g.finish();
    let _ = official.shutdown();
}

fn histogram(c: &mut Criterion) {
    let ours = MeterProvider::new(TemporalityPreference::Cumulative);
    let ours_h = ours.meter("bench").f64_histogram("latency").build();
    let official = official_provider();
    let official_h = official.meter("bench").f64_histogram("latency").build();
    ours_h.record(1.0, &ours_attrs());
    official_h.record(1.0, &official_attrs());

    let mut g = c.benchmark_group("histogram_record_3_attrs");
    for threads in [1usize, 2] {
        let oh = ours_h.clone();
        g.bench_function(BenchmarkId::new("ours", threads), |b| {
            b.iter_custom(|iters| {
                contended(threads, iters, || {
                    let (h, a) = (oh.clone(), ours_attrs());
                    move |i| h.record(black_box(value(i)), black_box(&a))
                })
            })
        });
        let fh = official_h.clone();
        g.bench_function(BenchmarkId::new("official", threads), |b| {
            b.iter_custom(|iters| {
                contended(threads, iters, || {
                    let (h, a) = (fh.clone(), official_attrs());
                    move |i| h.record(black_box(value(i)), black_box(&a))
                })
            })
        });
    }
    g.finish();
    let _ = official.shutdown();
}

criterion_group!(benches, counter, histogram);
criterion_main!(benches);
