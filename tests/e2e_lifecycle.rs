//! End to end, lifecycle under pressure: flush, shutdown and drop keep their deadlines
//! while the receiver hangs, and full queues under concurrent producers keep the
//! accounting exact for every [`QueueFullPolicy`].

mod e2e_common;
mod support;

use e2e_common::*;
use otlp_sync::config::QueueFullPolicy;
use otlp_sync::model::{InstrumentationScope, Signal};
use otlp_sync::pipeline::{FlushError, RecordSender, ShutdownError, Stats};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::collector::{Behavior, Collector};

/// Sends a few records of each signal.
fn send_some(tx: &RecordSender) {
    let s = Arc::new(InstrumentationScope::new("hang"));
    for n in 0..3 {
        tx.send_span(&s, small_span(n)).expect("room");
        tx.send_log(&s, log(n)).expect("room");
    }
    tx.send_metric(&s, gauge(0)).expect("room");
}

fn assert_all_settled(stats: &Stats) {
    for signal in Signal::ALL {
        assert_settled(signal.name(), stats.signal(signal));
    }
}

#[test]
fn flush_shutdown_and_drop_keep_their_deadlines_while_the_receiver_hangs() {
    let c = Collector::start();
    c.push_all([Behavior::Hang, Behavior::Hang, Behavior::Hang]);
    let exporter = start(builder(&c).timeout(Duration::from_secs(10)));
    let tx = exporter.sender().expect("enabled");
    send_some(&tx);
    let deadline = Duration::from_millis(300);

    let (flushed, took) = timed(|| exporter.flush(deadline));
    assert_eq!(flushed, Err(FlushError::TimedOut));
    assert!(took >= deadline - Duration::from_millis(20), "{took:?}");
    assert!(took < deadline + MARGIN, "flush took {took:?}");
    assert!(c.wait_for_requests(1, Duration::from_secs(2)));

    let (shut, took) = timed(|| exporter.shutdown(deadline));
    assert!(
        matches!(
            shut,
            Err(ShutdownError::TimedOut | ShutdownError::Failed { .. })
        ),
        "{shut:?}"
    );
    assert!(took < deadline + MARGIN, "shutdown took {took:?}");
    assert_eq!(
        exporter.shutdown(deadline),
        Err(ShutdownError::AlreadyShutDown)
    );
    assert!(
        tx.send_span(&Arc::new(InstrumentationScope::new("late")), small_span(99))
            .is_err()
    );

    let ((), took) = timed(|| drop(exporter));
    assert!(took < MARGIN, "drop after shutdown took {took:?}");

    // Stopping the receiver ends the hanging attempt; the worker then counts everything.
    drop(c);
    let stats = wait_settled(|| tx.stats(), Duration::from_secs(5));
    assert_all_settled(&stats);
    assert_eq!(stats.traces.exported, 0);
    assert_eq!(
        stats.traces.dropped.shutdown, 4,
        "3 undelivered + 1 sent late"
    );
}

#[test]
fn drop_without_shutdown_keeps_the_configured_shutdown_timeout() {
    let c = Collector::start();
    c.push_all([Behavior::Hang, Behavior::Hang, Behavior::Hang]);
    let shutdown_timeout = Duration::from_millis(300);
    let exporter = start(
        builder(&c)
            .timeout(Duration::from_secs(10))
            .shutdown_timeout(shutdown_timeout),
    );
    let tx = exporter.sender().expect("enabled");
    send_some(&tx);
    let (flushed, took) = timed(|| exporter.flush(Duration::from_millis(200)));
    assert_eq!(flushed, Err(FlushError::TimedOut));
    assert!(took < Duration::from_millis(200) + MARGIN, "{took:?}");
    let ((), took) = timed(|| drop(exporter));
    assert!(
        took >= shutdown_timeout - Duration::from_millis(20),
        "{took:?}"
    );
    assert!(took < shutdown_timeout + MARGIN, "drop took {took:?}");
    drop(c);
    let stats = wait_settled(|| tx.stats(), Duration::from_secs(5));
    assert_all_settled(&stats);
}

/// Two producer threads flood all three signals into queues of 64 (batches of 16) while
/// the receiver takes 15 ms per request. Returns the stats after a flush, the number of
/// sends refused per signal, and the collector.
fn flood(policy: QueueFullPolicy) -> (Stats, [u64; 3], Collector) {
    const PER_THREAD: u64 = 1000;
    let c = Collector::start();
    c.push_all(std::iter::repeat_n(
        Behavior::Delay(Duration::from_millis(15)),
        2000,
    ));
    let mut b = builder(&c).queue_full_policy(policy);
    for signal in Signal::ALL {
        b = b
            .max_queue_size(signal, 64)
            .max_export_batch_size(signal, 16);
    }
    let exporter = start(b);
    let producers: Vec<_> = (0..2u64)
        .map(|t| {
            let tx = exporter.sender().expect("enabled");
            thread::spawn(move || {
                let s = Arc::new(InstrumentationScope::new("flood"));
                let mut refused = [0u64; 3];
                for i in 0..PER_THREAD {
                    let n = t * PER_THREAD + i;
                    refused[0] += u64::from(tx.send_span(&s, small_span(n)).is_err());
                    refused[1] += u64::from(tx.send_metric(&s, gauge(n)).is_err());
                    refused[2] += u64::from(tx.send_log(&s, log(n)).is_err());
                    if i % 32 == 31 {
                        // Let the worker drain and export meanwhile.
                        thread::sleep(Duration::from_millis(2));
                    }
                }
                refused
            })
        })
        .collect();
    let mut refused = [0u64; 3];
    for p in producers {
        let r = p.join().expect("producer");
        for i in 0..3 {
            refused[i] += r[i];
        }
    }
    let flushed = exporter.flush(Duration::from_secs(10));
    let stats = exporter.stats();
    let dropped = Signal::ALL
        .iter()
        .map(|s| stats.signal(*s).dropped.total())
        .sum::<u64>();
    match flushed {
        Ok(()) => assert_eq!(dropped, 0),
        Err(FlushError::Failed { dropped: d }) => assert_eq!(d, dropped),
        Err(e) => panic!("{policy:?}: flush failed: {e:?}"),
    }
    exporter.shutdown(Duration::from_secs(2)).ok();
    (stats, refused, c)
}

fn assert_flood_accounting(policy: QueueFullPolicy, stats: &Stats, c: &Collector) {
    for signal in Signal::ALL {
        let st = stats.signal(signal);
        let name = format!("{policy:?} {}", signal.name());
        assert_eq!(st.offered, 2000, "{name}");
        assert_settled(&name, st);
        assert!(
            st.dropped.queue_full > 0,
            "{name}: the queue never filled: {st:?}"
        );
        assert_eq!(
            st.offered,
            st.exported + st.dropped.queue_full,
            "{name}: no other reason: {st:?}"
        );
        assert_eq!(st.retries, 0, "{name}");
    }
    assert_eq!(c.accepted_spans() as u64, stats.traces.exported);
    assert_eq!(c.accepted_logs() as u64, stats.logs.exported);
    // One point per gauge.
    assert_eq!(c.accepted_points() as u64, stats.metrics.exported);
    let counts = span_id_counts(&trace_requests(&c.requests(), true));
    assert!(counts.values().all(|&n| n == 1), "{policy:?}: duplicates");
    assert!(
        c.requests()
            .iter()
            .all(|r| r.spans() + r.logs() + r.points() <= 16)
    );
}

#[test]
fn full_queue_drop_keeps_exact_accounting() {
    let policy = QueueFullPolicy::Drop;
    let (stats, refused, c) = flood(policy);
    assert_flood_accounting(policy, &stats, &c);
    for (i, signal) in Signal::ALL.iter().enumerate() {
        assert_eq!(
            refused[i],
            stats.signal(*signal).dropped.queue_full,
            "Drop: every refused send is one queue_full drop"
        );
    }
}

#[test]
fn full_queue_drop_oldest_keeps_exact_accounting() {
    let policy = QueueFullPolicy::DropOldest;
    let (stats, refused, c) = flood(policy);
    assert_flood_accounting(policy, &stats, &c);
    for (i, signal) in Signal::ALL.iter().enumerate() {
        // Evicted records are counted although their send succeeded.
        assert!(refused[i] <= stats.signal(*signal).dropped.queue_full);
    }
    // The newest span overall (the last of one of the two threads) had nothing sent after
    // it, so it cannot have been evicted.
    let counts = span_id_counts(&trace_requests(&c.requests(), true));
    let last = [999, 1999].map(|n| counts.contains_key(span_id(n).as_bytes().as_slice()));
    assert!(last.iter().any(|&x| x), "the newest span was evicted");
}

#[test]
fn full_queue_block_with_a_tiny_timeout_keeps_exact_accounting() {
    let policy = QueueFullPolicy::Block(Duration::from_micros(200));
    let (stats, refused, c) = flood(policy);
    assert_flood_accounting(policy, &stats, &c);
    for (i, signal) in Signal::ALL.iter().enumerate() {
        assert_eq!(refused[i], stats.signal(*signal).dropped.queue_full);
    }
}
