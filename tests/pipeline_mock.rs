//! The pipeline against a scripted mock transport: batching, flush barrier, retries,
//! deadlines, shutdown, panics, full queues, partial success. Every wait is bounded.

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use otlp_sync::model::{
    AnyValue, InstrumentationScope, KeyValue, LogRecord, Metric, MetricData, NumberDataPoint,
    NumberValue, Resource, Signal, Span, SpanId, TraceId,
};
use otlp_sync::pipeline::{
    ErrorKind, FlushError, FullPolicy, Pipeline, PipelineConfig, RecordError, ShutdownError, Stats,
};
use otlp_sync::retry::{Jitter, RetryPolicy};
use otlp_sync::transport::{Request, Response, Transport, TransportError, TransportErrorKind};
use prost::Message;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Slack allowed past a deadline on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_millis(400);
/// The longest a mock call ever blocks.
const MAX_BLOCK: Duration = Duration::from_secs(10);
const HOUR: Duration = Duration::from_secs(3600);

/// One scripted answer.
enum Step {
    Status {
        status: u16,
        retry_after: Option<&'static str>,
        body: Vec<u8>,
    },
    Error(TransportErrorKind),
    /// Blocks until released (or `MAX_BLOCK`), ignoring the request timeout, then 200.
    Block,
    Panic,
}

fn status(status: u16) -> Step {
    Step::Status {
        status,
        retry_after: None,
        body: Vec::new(),
    }
}

#[derive(Debug, Clone)]
struct Call {
    signal: Signal,
    body_len: usize,
    timeout: Duration,
}

struct MockInner {
    script: Mutex<VecDeque<Step>>,
    /// Answer when the script is empty.
    default: Mutex<fn() -> Step>,
    delay: Duration,
    calls: Mutex<Vec<Call>>,
    release_tx: Mutex<mpsc::Sender<()>>,
    release_rx: Mutex<mpsc::Receiver<()>>,
}

#[derive(Clone)]
struct Mock(Arc<MockInner>);

impl Mock {
    fn new(script: Vec<Step>) -> Self {
        Mock::with_delay(script, Duration::ZERO)
    }

    fn with_delay(script: Vec<Step>, delay: Duration) -> Self {
        let (tx, rx) = mpsc::channel();
        Mock(Arc::new(MockInner {
            script: Mutex::new(script.into()),
            default: Mutex::new(|| status(200)),
            delay,
            calls: Mutex::new(Vec::new()),
            release_tx: Mutex::new(tx),
            release_rx: Mutex::new(rx),
        }))
    }

    fn set_default(&self, f: fn() -> Step) {
        *self.0.default.lock().unwrap() = f;
    }

    fn calls(&self) -> Vec<Call> {
        self.0.calls.lock().unwrap().clone()
    }

    fn call_count(&self) -> usize {
        self.0.calls.lock().unwrap().len()
    }

    fn release(&self) {
        let _ = self.0.release_tx.lock().unwrap().send(());
    }

    fn boxed(&self) -> Box<dyn Transport> {
        Box::new(self.clone())
    }
}

impl Transport for Mock {
    fn send(&mut self, request: &Request<'_>) -> Result<Response, TransportError> {
        self.0.calls.lock().unwrap().push(Call {
            signal: request.signal,
            body_len: request.body.len(),
            timeout: request.timeout,
        });
        if !self.0.delay.is_zero() {
            thread::sleep(self.0.delay);
        }
        let step = self.0.script.lock().unwrap().pop_front();
        let step = step.unwrap_or_else(|| (*self.0.default.lock().unwrap())());
        match step {
            Step::Status {
                status,
                retry_after,
                body,
            } => Ok(Response {
                status,
                retry_after: retry_after.map(String::from),
                content_type: Some("application/x-protobuf".into()),
                body,
            }),
            Step::Error(kind) => Err(TransportError::new(kind, "scripted failure")),
            Step::Block => {
                let _ = self.0.release_rx.lock().unwrap().recv_timeout(MAX_BLOCK);
                Ok(Response {
                    status: 200,
                    ..Default::default()
                })
            }
            Step::Panic => panic!("scripted transport panic"),
        }
    }
}

fn span(i: usize) -> Span {
    let mut id = [0u8; 8];
    id.copy_from_slice(&(i as u64 + 1).to_be_bytes());
    Span::new("op", TraceId::from_bytes([7; 16]), SpanId::from_bytes(id))
}

fn big_span(i: usize, bytes: usize) -> Span {
    let mut s = span(i);
    s.attributes.push(KeyValue::new(
        "blob",
        AnyValue::Str("x".repeat(bytes).into()),
    ));
    s
}

fn log(i: usize) -> LogRecord {
    LogRecord {
        body: AnyValue::Str(format!("line {i}").into()),
        ..Default::default()
    }
}

fn metric(i: usize) -> Metric {
    Metric {
        name: format!("m{i}").into(),
        description: "".into(),
        unit: "".into(),
        data: MetricData::Gauge(vec![NumberDataPoint {
            value: NumberValue::Int(i as i64),
            ..Default::default()
        }]),
        metadata: Vec::new(),
    }
}

fn scope() -> Arc<InstrumentationScope> {
    Arc::new(InstrumentationScope::new("test"))
}

/// A config where nothing leaves by delay and retries are fast and deterministic.
fn config() -> PipelineConfig {
    let mut c = PipelineConfig::default();
    for s in Signal::ALL {
        let sc = c.signal_mut(s);
        sc.schedule_delay = HOUR;
        sc.export_timeout = Duration::from_secs(5);
    }
    c.retry = RetryPolicy {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        jitter: Jitter::None,
        ..RetryPolicy::default()
    };
    c.shutdown_timeout = Duration::from_secs(2);
    c
}

fn start(config: PipelineConfig, mock: &Mock) -> Pipeline {
    Pipeline::start(config, Resource::default(), mock.boxed()).expect("spawn")
}

/// offered == exported + dropped + queued for every signal, and queued is zero.
fn assert_settled(stats: &Stats) {
    for s in Signal::ALL {
        let st = stats.signal(s);
        assert_eq!(
            st.offered,
            st.exported + st.dropped.total(),
            "{s:?}: {st:?}"
        );
        assert_eq!(st.queued, 0, "{s:?}");
    }
}

/// Polls `cond` every few milliseconds for at most `limit`.
fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(2));
    }
    cond()
}

#[test]
fn batches_by_count() {
    let mock = Mock::new(vec![]);
    let mut c = config();
    c.traces.max_batch_records = 4;
    let p = start(c, &mock);
    let tx = p.sender();
    let sc = scope();
    for i in 0..8 {
        tx.send_span(&sc, span(i)).unwrap();
    }
    // Two full batches leave without a flush.
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() == 2));
    assert_eq!(p.stats().traces.exported, 8);
    for i in 8..10 {
        tx.send_span(&sc, span(i)).unwrap();
    }
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(mock.call_count(), 3);
    let st = p.stats();
    assert_eq!(st.traces.exported, 10);
    assert_eq!(st.traces.requests, 3);
    assert!(mock.calls().iter().all(|c| c.signal == Signal::Traces));
    assert_settled(&st);
    p.shutdown(Duration::from_secs(2)).unwrap();
}

#[test]
fn batches_by_bytes() {
    let mock = Mock::new(vec![]);
    let mut c = config();
    c.traces.max_batch_records = 1000;
    c.traces.max_batch_bytes = 35_000;
    let p = start(c, &mock);
    let tx = p.sender();
    let sc = scope();
    // About 10 kB each: three fit under 35 kB, four do not.
    for i in 0..9 {
        tx.send_span(&sc, big_span(i, 10_000)).unwrap();
    }
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() >= 2));
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(mock.call_count(), 3);
    assert_eq!(p.stats().traces.exported, 9);
    assert_settled(&p.stats());
}

#[test]
fn oversized_record_dropped_as_too_large() {
    let mock = Mock::new(vec![]);
    let mut c = config();
    c.max_request_bytes = 5_000;
    let p = start(c, &mock);
    let tx = p.sender();
    let sc = scope();
    tx.send_span(&sc, big_span(0, 20_000)).unwrap();
    tx.send_span(&sc, span(1)).unwrap();
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 1 })
    );
    let st = p.stats();
    assert_eq!(st.traces.dropped.too_large, 1);
    assert_eq!(st.traces.exported, 1);
    assert_eq!(mock.call_count(), 1);
    assert_settled(&st);
}

#[test]
fn batches_by_delay() {
    let mock = Mock::new(vec![]);
    let mut c = config();
    c.logs.schedule_delay = Duration::from_millis(100);
    let p = start(c, &mock);
    let started = Instant::now();
    p.sender().send_log(&scope(), log(1)).unwrap();
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() == 1));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(90), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(100) + MARGIN, "{elapsed:?}");
    assert_eq!(mock.calls()[0].signal, Signal::Logs);
    assert!(wait_until(Duration::from_secs(1), || p
        .stats()
        .logs
        .exported
        == 1));
}

#[test]
fn flush_is_a_barrier_across_signals_and_threads() {
    let mock = Mock::new(vec![]);
    let p = start(config(), &mock);
    let sc = scope();
    let producers: Vec<_> = (0..3)
        .map(|t| {
            let tx = p.sender();
            let sc = sc.clone();
            thread::spawn(move || {
                for i in 0..300 {
                    match t {
                        0 => tx.send_span(&sc, span(i)).unwrap(),
                        1 => tx.send_log(&sc, log(i)).unwrap(),
                        _ => tx.send_metric(&sc, metric(i)).unwrap(),
                    }
                }
            })
        })
        .collect();
    for h in producers {
        h.join().unwrap();
    }
    // Nothing is due by size (512) or delay (1 h): only the flush exports.
    p.flush(Duration::from_secs(5)).unwrap();
    let st = p.stats();
    assert_eq!(st.traces.exported, 300);
    assert_eq!(st.logs.exported, 300);
    assert_eq!(st.metrics.exported, 300);
    assert_eq!(mock.call_count(), 3);
    assert_settled(&st);
    // An empty flush sends nothing.
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(mock.call_count(), 3);
}

#[test]
fn throttled_three_times_then_accepted() {
    let throttled = || Step::Status {
        status: 503,
        retry_after: Some("0"),
        body: Vec::new(),
    };
    let mock = Mock::new(vec![throttled(), throttled(), throttled()]);
    let mut c = config();
    // Were Retry-After ignored, the backoff would outlast the flush timeout.
    c.retry.initial_backoff = Duration::from_secs(20);
    c.retry.max_backoff = Duration::from_secs(20);
    let p = start(c, &mock);
    let tx = p.sender();
    for i in 0..5 {
        tx.send_span(&scope(), span(i)).unwrap();
    }
    let started = Instant::now();
    p.flush(Duration::from_secs(3)).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    let st = p.stats();
    assert_eq!(st.traces.requests, 4);
    assert_eq!(st.traces.retries, 3);
    assert_eq!(st.traces.exported, 5);
    assert_eq!(st.traces.dropped.total(), 0);
    assert!(st.traces.bytes_sent >= 4 * st.traces.bytes_uncompressed);
    assert_settled(&st);
}

#[test]
fn retry_after_wait_is_honoured() {
    let mock = Mock::new(vec![Step::Status {
        status: 429,
        retry_after: Some("1"),
        body: Vec::new(),
    }]);
    let p = start(config(), &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    let started = Instant::now();
    p.flush(Duration::from_secs(5)).unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(1) + MARGIN, "{elapsed:?}");
    assert_eq!(p.stats().traces.exported, 1);
}

#[test]
fn bad_request_dropped_without_retry() {
    let mock = Mock::new(vec![Step::Status {
        status: 400,
        retry_after: Some("0"),
        body: b"invalid span".to_vec(),
    }]);
    let p = start(config(), &mock);
    let tx = p.sender();
    for i in 0..3 {
        tx.send_span(&scope(), span(i)).unwrap();
    }
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 3 })
    );
    let st = p.stats();
    assert_eq!(st.traces.requests, 1);
    assert_eq!(st.traces.retries, 0);
    assert_eq!(st.traces.dropped.rejected, 3);
    assert_eq!(st.last_error.map(|e| e.kind), Some(ErrorKind::Status(400)));
    assert_eq!(st.last_error.map(|e| e.signal), Some(Signal::Traces));
    let msg = p.last_error_message().unwrap_or_default();
    assert!(msg.contains("400") && msg.contains("invalid span"), "{msg}");
    assert_settled(&st);
    // The next flush reports only new drops.
    p.flush(Duration::from_secs(5)).unwrap();
}

#[test]
fn non_retryable_transport_error_dropped() {
    let mock = Mock::new(vec![Step::Error(TransportErrorKind::Tls)]);
    let p = start(config(), &mock);
    p.sender().send_log(&scope(), log(0)).unwrap();
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 1 })
    );
    let st = p.stats();
    assert_eq!(st.logs.dropped.rejected, 1);
    assert_eq!(st.logs.requests, 1);
}

#[test]
fn retries_exhausted_by_deadline() {
    let mock = Mock::new(vec![]);
    mock.set_default(|| Step::Error(TransportErrorKind::Connect));
    let mut c = config();
    c.traces.export_timeout = Duration::from_millis(300);
    c.retry.max_attempts = 1000;
    c.retry.initial_backoff = Duration::from_millis(40);
    c.retry.max_backoff = Duration::from_millis(40);
    let p = start(c, &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    let started = Instant::now();
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 1 })
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(300) + MARGIN, "{elapsed:?}");
    let st = p.stats();
    assert_eq!(st.traces.dropped.retries_exhausted, 1);
    assert!(st.traces.requests >= 3, "{:?}", st.traces);
    assert_eq!(st.traces.retries, st.traces.requests - 1);
    // Each attempt's timeout is what is left of the export deadline.
    let calls = mock.calls();
    assert!(
        calls
            .iter()
            .all(|c| c.timeout <= Duration::from_millis(300))
    );
    assert!(calls.windows(2).all(|w| w[1].timeout < w[0].timeout));
    assert_eq!(
        st.last_error.map(|e| e.kind),
        Some(ErrorKind::Transport(TransportErrorKind::Connect))
    );
    assert_settled(&st);
}

#[test]
fn retries_exhausted_by_attempts() {
    let mock = Mock::new(vec![]);
    mock.set_default(|| status(502));
    let mut c = config();
    c.retry.max_attempts = 3;
    let p = start(c, &mock);
    p.sender().send_metric(&scope(), metric(0)).unwrap();
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 1 })
    );
    let st = p.stats();
    assert_eq!(st.metrics.requests, 3);
    assert_eq!(st.metrics.dropped.retries_exhausted, 1);
    assert_eq!(
        st.last_error.map(|e| e.kind),
        Some(ErrorKind::RetriesExhausted { last_status: 502 })
    );
}

/// A pipeline whose first export (one span, batch size 1) fails with 503 and then backs
/// off for 20 s.
fn in_long_backoff(mock: &Mock) -> Pipeline {
    let mut c = config();
    c.traces.max_batch_records = 1;
    c.traces.export_timeout = Duration::from_secs(60);
    c.retry.initial_backoff = Duration::from_secs(20);
    c.retry.max_backoff = Duration::from_secs(20);
    let p = start(c, mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() == 1));
    // Let the worker enter its wait.
    thread::sleep(Duration::from_millis(50));
    p
}

#[test]
fn flush_cuts_backoff_short() {
    let mock = Mock::new(vec![status(503)]);
    let p = in_long_backoff(&mock);
    let started = Instant::now();
    p.flush(Duration::from_secs(5)).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let st = p.stats();
    assert_eq!(st.traces.requests, 2);
    assert_eq!(st.traces.retries, 1);
    assert_eq!(st.traces.exported, 1);
    assert_settled(&st);
}

#[test]
fn shutdown_cuts_backoff_short() {
    let mock = Mock::new(vec![]);
    mock.set_default(|| status(503));
    let p = in_long_backoff(&mock);
    let started = Instant::now();
    assert_eq!(
        p.shutdown(Duration::from_secs(5)),
        Err(ShutdownError::Failed { dropped: 1 })
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let st = p.stats();
    // One last attempt, then dropped as a shutdown loss.
    assert_eq!(st.traces.requests, 2);
    assert_eq!(st.traces.dropped.shutdown, 1);
    assert_settled(&st);
}

#[test]
fn deadlines_hold_while_the_transport_blocks() {
    let mock = Mock::new(vec![Step::Block]);
    let mut c = config();
    c.traces.max_batch_records = 1;
    let p = start(c, &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() == 1));
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    assert_eq!(p.flush(timeout), Err(FlushError::TimedOut));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < timeout + MARGIN,
        "{elapsed:?}"
    );
    let started = Instant::now();
    assert_eq!(p.shutdown(timeout), Err(ShutdownError::TimedOut));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < timeout + MARGIN,
        "{elapsed:?}"
    );
    // Sends after shutdown are refused at once, even though the worker is still busy.
    assert!(
        p.sender()
            .send_span(&scope(), span(1))
            .unwrap_err()
            .is_shut_down()
    );
    mock.release();
    // Dropping after a timed-out shutdown neither waits nor panics.
    let started = Instant::now();
    let tx = p.sender();
    drop(p);
    assert!(started.elapsed() < MARGIN);
    // The worker, released, finishes on its own and accounts for everything.
    assert!(wait_until(Duration::from_secs(3), || {
        let st = tx.stats();
        st.traces.queued == 0
    }));
    assert_settled(&tx.stats());
}

#[test]
fn shutdown_is_idempotent_from_any_thread() {
    let mock = Mock::new(vec![]);
    let p = Arc::new(start(config(), &mock));
    let sc = scope();
    for i in 0..10 {
        p.sender().send_log(&sc, log(i)).unwrap();
    }
    let results: Vec<_> = (0..4)
        .map(|_| {
            let p = Arc::clone(&p);
            thread::spawn(move || p.shutdown(Duration::from_secs(5)))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Err(ShutdownError::AlreadyShutDown))
            .count(),
        3
    );
    assert!(p.is_shut_down());
    // Shutdown flushed first.
    assert_eq!(p.stats().logs.exported, 10);
    assert_eq!(
        p.shutdown(Duration::from_secs(1)),
        Err(ShutdownError::AlreadyShutDown)
    );
    assert_eq!(
        p.flush(Duration::from_secs(1)),
        Err(FlushError::AlreadyShutDown)
    );
}

#[test]
fn sends_after_shutdown_are_handed_back() {
    let mock = Mock::new(vec![]);
    let p = start(config(), &mock);
    let tx = p.sender();
    p.shutdown(Duration::from_secs(5)).unwrap();
    let sent = span(42);
    match tx.send_span(&scope(), sent.clone()) {
        Err(RecordError::ShutDown(back)) => assert_eq!(back, sent),
        other => panic!("expected ShutDown, got {other:?}"),
    }
    let err = tx.send_log(&scope(), log(1)).unwrap_err();
    assert!(err.is_shut_down() && !err.is_full());
    assert_eq!(err.into_inner(), log(1));
    let st = p.stats();
    assert_eq!(st.traces.offered, 1);
    assert_eq!(st.traces.dropped.shutdown, 1);
    assert_eq!(st.logs.dropped.shutdown, 1);
    assert_settled(&st);
    assert_eq!(mock.call_count(), 0);
}

#[test]
fn drop_shuts_down_and_exports() {
    let mock = Mock::new(vec![]);
    let p = start(config(), &mock);
    let tx = p.sender();
    for i in 0..5 {
        tx.send_span(&scope(), span(i)).unwrap();
    }
    drop(p);
    let st = tx.stats();
    assert_eq!(st.traces.exported, 5);
    assert_settled(&st);
    assert!(tx.send_span(&scope(), span(9)).is_err());
}

#[test]
fn drop_never_hangs_on_a_blocked_transport() {
    let mock = Mock::new(vec![Step::Block]);
    let mut c = config();
    c.traces.max_batch_records = 1;
    c.shutdown_timeout = Duration::from_millis(200);
    let p = start(c, &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    assert!(wait_until(Duration::from_secs(3), || mock.call_count() == 1));
    let started = Instant::now();
    drop(p);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(200) + MARGIN, "{elapsed:?}");
    mock.release();
}

#[test]
fn worker_panic_is_reported() {
    let mock = Mock::new(vec![Step::Panic]);
    let mut c = config();
    c.traces.max_batch_records = 1;
    let p = start(c, &mock);
    let tx = p.sender();
    tx.send_span(&scope(), span(0)).unwrap();
    assert!(wait_until(Duration::from_secs(3), || p
        .stats()
        .worker_panics
        == 1));
    let started = Instant::now();
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::WorkerPanicked)
    );
    assert!(started.elapsed() < MARGIN);
    // Records offered now are refused and counted.
    let err = tx.send_span(&scope(), span(1)).unwrap_err();
    assert!(err.is_shut_down());
    let st = p.stats();
    assert_eq!(st.worker_panics, 1);
    assert_eq!(st.traces.dropped.worker_panic, 2);
    assert_settled(&st);
    assert_eq!(
        p.shutdown(Duration::from_secs(5)),
        Err(ShutdownError::WorkerPanicked)
    );
    drop(p);
}

#[test]
fn flush_waiting_while_the_worker_panics_is_answered() {
    let mock = Mock::with_delay(vec![Step::Panic], Duration::from_millis(200));
    let p = start(config(), &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    let started = Instant::now();
    // The flush itself triggers the export that panics.
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::WorkerPanicked)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.stats().worker_panics, 1);
    assert_settled(&p.stats());
}

/// Two producers flood a small queue behind a slow transport.
fn flood(policy: FullPolicy) -> (Stats, u64) {
    let mock = Mock::with_delay(vec![], Duration::from_millis(2));
    let mut c = config();
    c.full_policy = policy;
    c.traces.queue_capacity = 16;
    c.traces.max_batch_records = 8;
    let p = start(c, &mock);
    let sc = scope();
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let tx = p.sender();
            let sc = sc.clone();
            thread::spawn(move || {
                let mut refused = 0u64;
                for i in 0..500 {
                    if let Err(e) = tx.send_span(&sc, span(i)) {
                        assert!(e.is_full());
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    let refused = producers.into_iter().map(|h| h.join().unwrap()).sum();
    p.flush(Duration::from_secs(10)).ok();
    let st = p.stats();
    p.shutdown(Duration::from_secs(5)).ok();
    (st, refused)
}

#[test]
fn full_queue_drop_policy() {
    let (st, refused) = flood(FullPolicy::Drop);
    assert_eq!(st.traces.offered, 1000);
    assert!(st.traces.dropped.queue_full > 0);
    assert_eq!(st.traces.dropped.queue_full, refused);
    assert_eq!(st.traces.exported + refused, 1000);
    assert_settled(&st);
}

#[test]
fn full_queue_block_policy() {
    let (st, refused) = flood(FullPolicy::Block(Duration::from_secs(5)));
    assert_eq!(st.traces.offered, 1000);
    assert_eq!(refused, 0);
    assert_eq!(st.traces.exported, 1000);
    assert_settled(&st);
}

#[test]
fn full_queue_drop_oldest_policy() {
    let (st, refused) = flood(FullPolicy::DropOldest);
    assert_eq!(st.traces.offered, 1000);
    assert!(st.traces.dropped.queue_full > refused, "{st:?}");
    assert_eq!(
        st.traces.exported + st.traces.dropped.queue_full,
        1000,
        "{st:?}"
    );
    assert_settled(&st);
}

fn partial_success_body(rejected: i64, message: &str) -> Vec<u8> {
    ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: message.into(),
        }),
    }
    .encode_to_vec()
}

#[test]
fn partial_success_counted() {
    let mock = Mock::new(vec![Step::Status {
        status: 200,
        retry_after: None,
        body: partial_success_body(2, "two spans had no name"),
    }]);
    let p = start(config(), &mock);
    let tx = p.sender();
    for i in 0..5 {
        tx.send_span(&scope(), span(i)).unwrap();
    }
    assert_eq!(
        p.flush(Duration::from_secs(5)),
        Err(FlushError::Failed { dropped: 2 })
    );
    let st = p.stats();
    assert_eq!(st.traces.exported, 3);
    assert_eq!(st.traces.dropped.partial_rejected, 2);
    assert_eq!(st.traces.partial_success_reported, 2);
    assert_eq!(st.traces.requests, 1);
    assert_eq!(
        p.last_partial_success_message().as_deref(),
        Some("two spans had no name")
    );
    assert_eq!(
        st.last_error.map(|e| e.kind),
        Some(ErrorKind::PartialSuccess { rejected: 2 })
    );
    assert_settled(&st);
}

#[test]
fn partial_success_warning_is_kept_but_drops_nothing() {
    let mock = Mock::new(vec![Step::Status {
        status: 200,
        retry_after: None,
        body: partial_success_body(0, "deprecated attribute"),
    }]);
    let p = start(config(), &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(p.stats().traces.exported, 1);
    assert_eq!(p.stats().last_error, None);
    assert_eq!(
        p.last_partial_success_message().as_deref(),
        Some("deprecated attribute")
    );
}

#[test]
fn records_of_many_scopes_share_one_request() {
    let mock = Mock::new(vec![]);
    let p = start(config(), &mock);
    let tx = p.sender();
    let scopes: Vec<_> = (0..5)
        .map(|i| Arc::new(InstrumentationScope::new(format!("scope{i}"))))
        .collect();
    for i in 0..50 {
        tx.send_span(&scopes[i % 5], span(i)).unwrap();
    }
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(mock.call_count(), 1);
    assert_eq!(p.stats().traces.exported, 50);
}

#[test]
fn thread_name_and_zero_sizes_are_accepted() {
    let mock = Mock::new(vec![]);
    let mut c = config();
    c.thread_name = "bad\0name".into();
    c.stack_size = Some(256 * 1024);
    c.traces.queue_capacity = 0;
    c.traces.max_batch_records = 0;
    c.traces.max_batch_bytes = 0;
    let p = start(c, &mock);
    p.sender().send_span(&scope(), span(0)).unwrap();
    p.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(p.stats().traces.exported, 1);
    assert!(mock.calls().iter().all(|c| c.body_len > 0));
}
