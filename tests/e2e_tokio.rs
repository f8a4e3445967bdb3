//! End to end from inside tokio runtimes (multi-thread and current-thread): the exporter
//! has its own thread and no runtime of its own, so creating it, sending, flushing,
//! shutting down and dropping it work from async code and from `spawn_blocking`, without
//! panics ("cannot start a runtime from within a runtime") or deadlocks, within their
//! timeouts.

mod e2e_common;
mod support;

use e2e_common::*;
use otlp_sync::model::InstrumentationScope;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::collector::Collector;

const FLUSH: Duration = Duration::from_secs(2);

async fn exercise_the_exporter_inside_a_runtime() {
    let c = Collector::start();
    // Created inside the runtime.
    let exporter = Arc::new(start(builder(&c)));
    let tx = exporter.sender().expect("enabled");
    let s = Arc::new(InstrumentationScope::new("tokio"));

    // Directly from async code.
    for n in 0..5 {
        tx.send_span(&s, small_span(n)).expect("room");
    }
    let (flushed, took) = timed(|| exporter.flush(FLUSH));
    assert_eq!(flushed, Ok(()));
    assert!(took < FLUSH + MARGIN, "{took:?}");
    assert_eq!(c.accepted_spans(), 5);

    // From a spawned task (on a runtime worker thread).
    let (tx2, s2) = (tx.clone(), Arc::clone(&s));
    tokio::spawn(async move {
        tx2.send_metric(&s2, gauge(0)).expect("room");
        tx2.send_metric(&s2, sum(0)).expect("room");
    })
    .await
    .expect("task");

    // From spawn_blocking.
    let (e2, tx3, s3) = (Arc::clone(&exporter), tx.clone(), Arc::clone(&s));
    let flushed = tokio::task::spawn_blocking(move || {
        for n in 0..4 {
            tx3.send_log(&s3, log(n)).expect("room");
        }
        let start = Instant::now();
        (e2.flush(FLUSH), start.elapsed())
    })
    .await
    .expect("blocking task");
    assert_eq!(flushed.0, Ok(()));
    assert!(flushed.1 < FLUSH + MARGIN, "{:?}", flushed.1);
    assert_eq!(c.accepted_logs(), 4);
    assert_eq!(c.accepted_points(), 3, "a gauge point and two sum points");

    // Shutdown from spawn_blocking, then from async code (already shut down).
    let e3 = Arc::clone(&exporter);
    let shut = tokio::task::spawn_blocking(move || e3.shutdown(FLUSH))
        .await
        .expect("blocking task");
    assert_eq!(shut, Ok(()));
    let (again, took) = timed(|| exporter.shutdown(FLUSH));
    assert!(again.is_err());
    assert!(took < MARGIN);
    let st = exporter.stats();
    assert_eq!(
        (st.traces.exported, st.metrics.exported, st.logs.exported),
        (5, 2, 4)
    );
    assert_eq!(
        st.traces.dropped.total() + st.metrics.dropped.total() + st.logs.dropped.total(),
        0
    );

    // Create and drop an exporter inside the runtime: the drop shuts down (a final
    // flush) promptly.
    let other = start(builder(&c));
    other
        .sender()
        .expect("enabled")
        .send_span(&s, small_span(100))
        .expect("room");
    let ((), took) = timed(|| drop(other));
    assert!(took < Duration::from_secs(3) + MARGIN, "{took:?}");
    assert_eq!(c.accepted_spans(), 6, "the drop flushed the last span");

    // And inside a spawned task.
    let c2 = Collector::start();
    let b = builder(&c2);
    tokio::spawn(async move {
        let e = start(b);
        let s = Arc::new(InstrumentationScope::new("task"));
        e.sender()
            .expect("enabled")
            .send_log(&s, log(7))
            .expect("room");
        drop(e);
    })
    .await
    .expect("task");
    assert_eq!(c2.accepted_logs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    exercise_the_exporter_inside_a_runtime().await;
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    exercise_the_exporter_inside_a_runtime().await;
}
