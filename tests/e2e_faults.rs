//! End to end against a misbehaving receiver: down at start, throttling (503/429 with
//! `Retry-After`), rejecting (400 with a `google.rpc.Status`), too slow, partially
//! accepting. Each test asserts what arrived, what was retried, what was dropped and why,
//! and that flush returns within its bound.

mod e2e_common;
mod support;

use e2e_common::*;
use otlp_sync::encode::Encoding;
use otlp_sync::model::{InstrumentationScope, Signal};
use otlp_sync::pipeline::{ErrorKind, FlushError, LastError};
use otlp_sync::transport::TransportErrorKind;
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use support::collector::{Behavior, Collector};

fn retry_after(status: u16, seconds: &str) -> Behavior {
    Behavior::Respond {
        status,
        headers: vec![("Retry-After".into(), seconds.into())],
        body: Vec::new(),
    }
}

#[test]
fn receiver_down_at_start_then_up() {
    let port = free_port();
    // The listener is gone: connecting is refused until the collector starts.
    let mut retry = fast_retry(60);
    retry.initial_backoff = Duration::from_millis(50);
    retry.max_backoff = Duration::from_millis(100);
    let config = otlp_sync::config::ConfigBuilder::new()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .service_name(SERVICE)
        .retry(retry)
        .timeout(Duration::from_secs(8))
        .build()
        .expect("valid");
    let exporter = otlp_sync::exporter::Exporter::new(config).expect("starts");
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("down-then-up"));
    for n in 0..5 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    let starter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(400));
        Collector::start_on(port)
    });
    let (flushed, took) = timed(|| exporter.flush(Duration::from_secs(6)));
    let c = starter
        .join()
        .expect("starter thread")
        .expect("collector rebinds the port");
    assert_eq!(flushed, Ok(()), "flush after {took:?}");
    assert!(
        took >= Duration::from_millis(350),
        "delivered before the receiver was up?"
    );

    assert_eq!(c.accepted_spans(), 5);
    let counts = span_id_counts(&trace_requests(&c.requests(), true));
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|&n| n == 1));
    let st = exporter.stats().traces;
    assert!(st.retries > 0, "connection refused must be retried: {st:?}");
    assert_eq!(st.requests, st.retries + 1);
    assert_eq!(
        (st.exported, st.dropped.total(), st.queued),
        (5, 0, 0),
        "{st:?}"
    );
}

#[test]
fn status_503_with_retry_after_is_honoured_then_delivered_once() {
    let c = Collector::start();
    c.push_all([
        retry_after(503, "1"),
        retry_after(503, "1"),
        retry_after(503, "1"),
    ]);
    let exporter = start(builder(&c));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("throttled"));
    for n in 0..4 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    let (flushed, took) = timed(|| exporter.flush(Duration::from_secs(5)));
    assert_eq!(flushed, Ok(()));
    // Three waits of Retry-After: 1 s each; the configured backoff alone is 10-40 ms.
    assert!(
        took >= Duration::from_millis(2950),
        "Retry-After ignored: {took:?}"
    );
    assert!(
        took < Duration::from_secs(3) + Duration::from_millis(900),
        "{took:?}"
    );

    let answered: Vec<Option<u16>> = c.requests().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [Some(503), Some(503), Some(503), Some(200)]);
    assert_eq!(c.accepted_spans(), 4);
    assert_eq!(c.total_spans(), 16, "the same 4 spans, sent 4 times");
    let st = exporter.stats().traces;
    assert_eq!((st.retries, st.requests), (3, 4), "{st:?}");
    assert_eq!(
        (st.exported, st.dropped.total(), st.queued),
        (4, 0, 0),
        "{st:?}"
    );
}

#[test]
fn status_429_then_success_on_logs() {
    let c = Collector::start();
    c.push(retry_after(429, "1"));
    let exporter = start(builder(&c));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("throttled"));
    for n in 0..3 {
        tx.send_log(&s, log(n)).expect("room");
    }
    let (flushed, took) = timed(|| exporter.flush(Duration::from_secs(5)));
    assert_eq!(flushed, Ok(()));
    assert!(
        took >= Duration::from_millis(950),
        "Retry-After ignored: {took:?}"
    );
    assert!(
        took < Duration::from_secs(1) + Duration::from_millis(900),
        "{took:?}"
    );
    let answered: Vec<Option<u16>> = c.requests().iter().map(|r| r.answered).collect();
    assert_eq!(answered, [Some(429), Some(200)]);
    assert_eq!(c.accepted_logs(), 3);
    let st = exporter.stats().logs;
    assert_eq!((st.retries, st.requests), (1, 2), "{st:?}");
    assert_eq!(
        (st.exported, st.dropped.total(), st.queued),
        (3, 0, 0),
        "{st:?}"
    );
}

#[test]
fn status_503_without_retry_after_uses_the_short_backoff() {
    let c = Collector::start();
    c.push_all([Behavior::Status(503, "busy".into()), retry_after(503, "0")]);
    let exporter = start(builder(&c));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("throttled"));
    tx.send_metric(&s, sum(0)).expect("room");
    let (flushed, took) = timed(|| exporter.flush(Duration::from_secs(5)));
    assert_eq!(flushed, Ok(()));
    assert!(took < Duration::from_millis(600), "{took:?}");
    assert_eq!(c.request_count(), 3);
    assert_eq!(c.accepted_points(), 2);
    let st = exporter.stats().metrics;
    assert_eq!((st.retries, st.exported, st.dropped.total()), (2, 1, 0));
}

#[test]
fn status_400_is_not_retried_and_counts_rejected() {
    for (signal, encoding) in [
        (Signal::Traces, Encoding::Protobuf),
        (Signal::Logs, Encoding::Json),
    ] {
        let c = Collector::start();
        c.push(Behavior::Status(
            400,
            "attribute 'n' has the wrong type".into(),
        ));
        let exporter = start(builder(&c).protocol(encoding));
        let tx = exporter.sender().expect("enabled");
        let s = Arc::new(InstrumentationScope::new("rejected"));
        for n in 0..3 {
            match signal {
                Signal::Traces => tx.send_span(&s, span(n)).expect("room"),
                _ => tx.send_log(&s, log(n)).expect("room"),
            }
        }
        assert_eq!(
            exporter.flush(Duration::from_secs(5)),
            Err(FlushError::Failed { dropped: 3 }),
            "{signal:?}"
        );
        // No retry: give one a chance to show up.
        thread::sleep(Duration::from_millis(150));
        assert_eq!(
            c.request_count(),
            1,
            "{signal:?}: a 400 must not be retried"
        );
        assert_eq!(c.requests()[0].answered, Some(400));
        let stats = exporter.stats();
        let st = stats.signal(signal);
        assert_eq!(st.dropped.rejected, 3, "{st:?}");
        assert_eq!((st.exported, st.dropped.total(), st.queued), (0, 3, 0));
        assert_eq!((st.requests, st.retries), (1, 0));
        assert_eq!(
            stats.last_error,
            Some(LastError {
                signal,
                kind: ErrorKind::Status(400)
            })
        );
        let message = exporter.last_error_message().unwrap_or_default();
        assert!(
            message.contains("attribute 'n' has the wrong type"),
            "{signal:?}: {message:?}"
        );
        assert!(message.contains("400"), "{message:?}");
    }
}

#[test]
fn response_slower_than_the_export_timeout_is_dropped_within_the_bound() {
    let c = Collector::start();
    c.push(Behavior::Delay(Duration::from_millis(1500)));
    let timeout = Duration::from_millis(300);
    let exporter = start(builder(&c).timeout(timeout));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("slow"));
    for n in 0..3 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    let flush_timeout = Duration::from_secs(2);
    let (flushed, took) = timed(|| exporter.flush(flush_timeout));
    // The one attempt gets the whole export budget; when it times out no budget is left
    // for a retry, so the batch is dropped as `retries_exhausted`.
    assert_eq!(flushed, Err(FlushError::Failed { dropped: 3 }));
    assert!(took >= timeout - Duration::from_millis(20), "{took:?}");
    assert!(
        took < timeout + MARGIN + Duration::from_millis(300),
        "{took:?}"
    );
    assert!(took < flush_timeout + MARGIN);
    let stats = exporter.stats();
    let st = stats.traces;
    assert_settled("traces", &st);
    assert_eq!(st.dropped.retries_exhausted, 3, "{st:?}");
    assert_eq!((st.exported, st.requests, st.retries), (0, 1, 0), "{st:?}");
    assert_eq!(
        stats.last_error,
        Some(LastError {
            signal: Signal::Traces,
            kind: ErrorKind::Transport(TransportErrorKind::Timeout)
        })
    );
    // The receiver did get them: counted dropped here, delivered there (see the
    // "Delivery guarantees" section of the exporter docs).
    assert_eq!(c.total_spans(), 3);
    // The next batch is exported normally.
    tx.send_span(&s, small_span(10)).expect("room");
    assert_eq!(exporter.flush(Duration::from_secs(2)), Ok(()));
    assert_eq!(exporter.stats().traces.exported, 1);
}

#[test]
fn partial_success_is_counted_not_retried() {
    // Protobuf spans.
    let c = Collector::start();
    c.push(Behavior::PartialSuccess(
        2,
        "2 spans had an empty name".into(),
    ));
    let exporter = start(builder(&c));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("partial"));
    for n in 0..10 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    assert_eq!(
        exporter.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 2 })
    );
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        c.request_count(),
        1,
        "a partial success must not be retried"
    );
    let stats = exporter.stats();
    let st = stats.traces;
    assert_eq!(st.exported + st.dropped.partial_rejected, 10);
    assert_eq!((st.exported, st.dropped.partial_rejected), (8, 2));
    assert_eq!((st.dropped.total(), st.partial_success_reported), (2, 2));
    assert_eq!((st.requests, st.retries, st.queued), (1, 0, 0));
    assert_eq!(
        stats.last_error,
        Some(LastError {
            signal: Signal::Traces,
            kind: ErrorKind::PartialSuccess { rejected: 2 }
        })
    );
    assert_eq!(
        exporter.last_error_message().as_deref(),
        Some("2 spans had an empty name")
    );
    assert_eq!(
        exporter.last_partial_success_message().as_deref(),
        Some("2 spans had an empty name")
    );

    // JSON logs, and then a warning (rejected 0 with a message): all exported.
    let c = Collector::start();
    c.push_all([
        Behavior::PartialSuccess(1, "1 log record too old".into()),
        Behavior::PartialSuccess(0, "clock skew detected".into()),
    ]);
    let exporter = start(builder(&c).protocol(Encoding::Json));
    let tx = exporter.sender().expect("enabled");
    for n in 0..4 {
        tx.send_log(&s, log(n)).expect("room");
    }
    assert_eq!(
        exporter.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 1 })
    );
    assert_eq!(
        exporter.last_error_message().as_deref(),
        Some("1 log record too old")
    );
    for n in 4..7 {
        tx.send_log(&s, log(n)).expect("room");
    }
    assert_eq!(
        exporter.flush(Duration::from_secs(5)),
        Ok(()),
        "a warning drops nothing"
    );
    assert_eq!(
        exporter.last_partial_success_message().as_deref(),
        Some("clock skew detected")
    );
    let st = exporter.stats().logs;
    assert_eq!((st.exported, st.dropped.partial_rejected), (6, 1), "{st:?}");
    assert_eq!((st.requests, st.retries, st.queued), (2, 0, 0));
    assert_eq!(c.request_count(), 2);
}
