//! End to end, the packed queue (records queued as encoded bytes under the default
//! `QueueFullPolicy::Drop`): several producer threads, small queues, every record accounted
//! for, and what arrived decoded by the official `opentelemetry-proto` types.

mod e2e_common;
mod support;

use e2e_common::*;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use otlp_sync::config::QueueFullPolicy;
use otlp_sync::model::{InstrumentationScope, Severity, Signal};
use otlp_sync::pipeline::{EncodeOnSend, FlushError, Stats};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use support::collector::{Behavior, Collector};

const THREADS: u64 = 4;
const PER_THREAD: u64 = 2500;

/// The integer attribute `key` of `attrs`.
fn int_attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<i64> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match v.value {
            Some(Value::IntValue(i)) => Some(i),
            _ => None,
        })
}

/// Flushes, checks the flush's answer against the stats, and returns them.
fn flush_and_check(exporter: &otlp_sync::exporter::Exporter) -> Stats {
    let flushed = exporter.flush(Duration::from_secs(20));
    let stats = exporter.stats();
    let dropped: u64 = Signal::ALL
        .iter()
        .map(|s| stats.signal(*s).dropped.total())
        .sum();
    match flushed {
        Ok(()) => assert_eq!(dropped, 0),
        Err(FlushError::Failed { dropped: d }) => assert_eq!(d, dropped),
        Err(e) => panic!("flush failed: {e:?}"),
    }
    stats
}

/// Queue capacity in [`slow_setup`].
const QUEUE: u64 = 1024;

/// A slow receiver, queues of [`QUEUE`] and batches of 64: the queue may fill now and then.
fn slow_setup(encode: EncodeOnSend) -> (Collector, otlp_sync::exporter::Exporter) {
    let c = Collector::start();
    c.push_all(std::iter::repeat_n(
        Behavior::Delay(Duration::from_millis(1)),
        4000,
    ));
    let mut b = builder(&c).encode_on_send(encode);
    for signal in Signal::ALL {
        b = b
            .max_queue_size(signal, QUEUE as usize)
            .max_export_batch_size(signal, 64);
    }
    (c, start(b))
}

#[test]
fn spans_from_many_threads_are_all_accounted_for_and_decode() {
    let (c, exporter) = slow_setup(EncodeOnSend::Backlog);
    let scopes = [
        Arc::new(InstrumentationScope::new("even")),
        Arc::new(InstrumentationScope::new("odd")),
    ];
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let scope = (*scopes[(t % 2) as usize]).clone();
            let tracer = exporter.tracer_with_scope(scope);
            thread::spawn(move || {
                for i in 0..PER_THREAD {
                    // Encoded as recorded: the packed queue's bytes path.
                    tracer
                        .span("work")
                        .attr("thread", t as i64)
                        .attr("i", i as i64)
                        .start()
                        .end();
                    if i % 64 == 63 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let stats = flush_and_check(&exporter);
    let st = &stats.traces;
    assert_eq!(st.offered, THREADS * PER_THREAD);
    assert_settled("traces", st);
    assert_eq!(st.offered, st.exported + st.dropped.queue_full, "{st:?}");
    // A full queue at the end is exported by the flush: at least a queue's worth leaves.
    assert!(st.exported >= QUEUE, "{st:?}");
    let requests = c.requests();
    assert_all_decoded(&requests);
    assert_eq!(c.accepted_spans() as u64, st.exported);
    let traces = trace_requests(&requests, true);
    let mut seen = HashSet::new();
    for (scope, span) in spans_of(&traces) {
        let t = int_attr(&span.attributes, "thread").expect("thread attribute");
        let i = int_attr(&span.attributes, "i").expect("i attribute");
        assert!((0..THREADS as i64).contains(&t) && (0..PER_THREAD as i64).contains(&i));
        assert_eq!(scope.name, if t % 2 == 0 { "even" } else { "odd" });
        assert_eq!(span.name, "work");
        assert!(seen.insert((t, i)), "span {t}/{i} twice");
    }
    assert_eq!(seen.len() as u64, st.exported);
    // Each request within its batch bound.
    assert!(requests.iter().all(|r| r.spans() <= 64));
    exporter.shutdown(Duration::from_secs(5)).ok();
}

#[test]
fn logs_from_many_threads_are_all_accounted_for_and_decode() {
    // Every record goes encoded: the builder's bytes and `send_log`'s producer-side
    // encoding both land in the packed queue.
    let (c, exporter) = slow_setup(EncodeOnSend::Always);
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let logger = exporter.logger("logs");
            let sender = exporter.sender().expect("enabled");
            thread::spawn(move || {
                let scope = Arc::new(InstrumentationScope::new("direct"));
                for i in 0..PER_THREAD {
                    if i % 2 == 0 {
                        logger
                            .record(Severity::INFO)
                            .body("hello")
                            .attr("thread", t as i64)
                            .attr("i", i as i64)
                            .emit();
                    } else {
                        let mut r = log(t * PER_THREAD + i);
                        r.attributes = vec![
                            otlp_sync::model::KeyValue::new("thread", t as i64),
                            otlp_sync::model::KeyValue::new("i", i as i64),
                        ];
                        let _ = sender.send_log(&scope, r);
                    }
                    if i % 64 == 63 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let stats = flush_and_check(&exporter);
    let st = &stats.logs;
    assert_eq!(st.offered, THREADS * PER_THREAD);
    assert_settled("logs", st);
    assert_eq!(st.offered, st.exported + st.dropped.queue_full, "{st:?}");
    assert!(st.exported >= QUEUE, "{st:?}");
    let requests = c.requests();
    assert_all_decoded(&requests);
    assert_eq!(c.accepted_logs() as u64, st.exported);
    let mut seen = HashSet::new();
    for r in log_requests(&requests, true) {
        for rl in &r.resource_logs {
            for sl in &rl.scope_logs {
                let scope = sl.scope.clone().unwrap_or_default();
                for record in &sl.log_records {
                    let t = int_attr(&record.attributes, "thread").expect("thread");
                    let i = int_attr(&record.attributes, "i").expect("i");
                    let want = if i % 2 == 0 { "logs" } else { "direct" };
                    assert_eq!(scope.name, want);
                    assert!(seen.insert((t, i)), "record {t}/{i} twice");
                }
            }
        }
    }
    assert_eq!(seen.len() as u64, st.exported);
    exporter.shutdown(Duration::from_secs(5)).ok();
}

#[test]
fn a_queue_emptied_by_the_worker_takes_records_again() {
    // The queue bound counts records, and the worker gives slots back as it batches:
    // fill the queue exactly, flush, fill it again.
    let c = Collector::start();
    let b = builder(&c)
        .max_queue_size(Signal::Traces, 100)
        .max_export_batch_size(Signal::Traces, 512);
    let exporter = start(b);
    let tracer = exporter.tracer("refill");
    for round in 0..3 {
        for _ in 0..100 {
            tracer.span("s").start().end();
        }
        exporter.flush(Duration::from_secs(10)).expect("flushed");
        let st = exporter.stats().traces;
        assert_eq!(st.exported, 100 * (round + 1), "{st:?}");
        assert_eq!(st.dropped.total(), 0, "{st:?}");
    }
    assert_eq!(c.accepted_spans(), 300);
    exporter.shutdown(Duration::from_secs(5)).ok();
}

#[test]
fn an_idle_worker_wakes_for_one_packed_record() {
    // Short delay, no flush: the record must leave by itself.
    let c = Collector::start();
    let b = builder(&c).schedule_delay(Signal::Traces, Duration::from_millis(20));
    let exporter = start(b);
    let tracer = exporter.tracer("idle");
    for n in 1..=3 {
        // Let the worker go idle first.
        thread::sleep(Duration::from_millis(50));
        tracer.span("lonely").start().end();
        assert!(
            c.wait_for_requests(n, Duration::from_secs(5)),
            "record {n} not exported without a flush"
        );
    }
    assert_eq!(c.accepted_spans(), 3);
    exporter.shutdown(Duration::from_secs(5)).ok();
}

#[test]
fn shutdown_racing_producers_loses_nothing_uncounted() {
    for round in 0..4 {
        let c = Collector::start();
        let mut b = builder(&c).queue_full_policy(QueueFullPolicy::Drop);
        for signal in Signal::ALL {
            b = b
                .max_queue_size(signal, 512)
                .max_export_batch_size(signal, 128);
        }
        let exporter = start(b);
        let stop = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..3u64)
            .map(|t| {
                let tracer = exporter.tracer("race");
                let logger = exporter.logger("race");
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let end = Instant::now() + Duration::from_secs(10);
                    let mut i = 0i64;
                    // Bounded: by the stop flag, a count and a deadline.
                    while !stop.load(Ordering::Relaxed) && i < 200_000 && Instant::now() < end {
                        tracer.span("s").attr("i", i).start().end();
                        logger.record(Severity::INFO).attr("t", t as i64).emit();
                        i += 1;
                    }
                    // A few more after shutdown began: refused and counted.
                    for _ in 0..10 {
                        tracer.span("late").start().end();
                    }
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(20 + 10 * round));
        let result = exporter.shutdown(Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        for p in producers {
            p.join().expect("producer");
        }
        assert!(
            !matches!(
                result,
                Err(otlp_sync::pipeline::ShutdownError::TimedOut
                    | otlp_sync::pipeline::ShutdownError::WorkerPanicked)
            ),
            "{result:?}"
        );
        let stats = exporter.stats();
        for signal in [Signal::Traces, Signal::Logs] {
            let st = stats.signal(signal);
            let name = format!("round {round} {}", signal.name());
            assert_settled(&name, st);
            assert_eq!(
                st.offered,
                st.exported + st.dropped.queue_full + st.dropped.shutdown,
                "{name}: {st:?}"
            );
        }
        assert!(stats.traces.dropped.shutdown >= 30, "late spans counted");
        let requests = c.requests();
        assert_all_decoded(&requests);
        assert_eq!(c.accepted_spans() as u64, stats.traces.exported);
        assert_eq!(c.accepted_logs() as u64, stats.logs.exported);
        let unique = span_id_counts(&trace_requests(&requests, true));
        assert!(
            unique.values().all(|&n| n == 1),
            "round {round}: duplicates"
        );
    }
}
