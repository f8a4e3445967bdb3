//! The pipeline's diagnostics through the `log` facade: what is reported, how often, with
//! which target, and that header values never appear. Run with `--features diagnostics`.
//!
//! One test function only: the logger is process-global and every `diag!` call site is
//! rate-limited process-wide, so the steps below share one timeline on purpose.
#![cfg(feature = "diagnostics")]

mod support;

use log::{Level, LevelFilter, Log, Metadata, Record};
use otlp_sync::config::{ConfigBuilder, RetryPolicy};
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{InstrumentationScope, Resource, Signal, Span, SpanId, TraceId};
use otlp_sync::pipeline::{FlushError, Pipeline, PipelineConfig, RecordError};
use otlp_sync::transport::{Request, Response, Transport, TransportError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::collector::{Behavior, Collector};

/// What the test logger keeps of a record.
#[derive(Debug, Clone)]
struct Captured {
    level: Level,
    target: String,
    message: String,
}

static RECORDS: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

struct TestLogger;

impl Log for TestLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let captured = Captured {
            level: record.level(),
            target: record.target().to_owned(),
            message: record.args().to_string(),
        };
        RECORDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(captured);
    }

    fn flush(&self) {}
}

static LOGGER: TestLogger = TestLogger;

/// The crate's records so far (other crates, such as the HTTP client, are left out).
fn ours() -> Vec<Captured> {
    RECORDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|r| r.target == "otlp_sync")
        .cloned()
        .collect()
}

fn matching(level: Level, needle: &str) -> Vec<Captured> {
    ours()
        .into_iter()
        .filter(|r| r.level == level && r.message.contains(needle))
        .collect()
}

const SECRET: &str = "s3cret-token-8f2a";
const WAIT: Duration = Duration::from_secs(10);

fn span() -> Span {
    Span::new(
        "work",
        TraceId::from_bytes([1; 16]),
        SpanId::from_bytes([2; 8]),
    )
}

/// A transport that panics on its first call.
struct Panics;

impl Transport for Panics {
    fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
        panic!("scripted transport panic");
    }
}

#[test]
fn pipeline_diagnostics() {
    log::set_logger(&LOGGER).expect("no other logger in this test binary");
    log::set_max_level(LevelFilter::Trace);

    let collector = Collector::start();
    let config = ConfigBuilder::new()
        .endpoint(collector.url(""))
        .headers([("authorization", format!("Bearer {SECRET}"))])
        .retry(RetryPolicy::disabled())
        .schedule_delay(Signal::Traces, Duration::from_secs(3600))
        .max_queue_size(Signal::Traces, 1)
        .max_export_batch_size(Signal::Traces, 1)
        .build()
        .expect("valid config");
    let exporter = Exporter::new(config).expect("exporter starts");
    let sender = exporter.sender().expect("enabled");
    let scope = Arc::new(InstrumentationScope::new("diag-test"));

    // 1. A rejected export: exactly one warning, with the signal, the count and the
    //    status, and no header value even though the receiver echoes it in its body.
    collector.push(Behavior::Status(400, format!("bad credentials {SECRET}")));
    sender.send_span(&scope, span()).expect("queued");
    assert_eq!(exporter.flush(WAIT), Err(FlushError::Failed { dropped: 1 }));
    let requests = collector.requests();
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {SECRET}").as_str()),
        "the secret really was sent"
    );
    let warnings: Vec<_> = ours()
        .into_iter()
        .filter(|r| r.level == Level::Warn)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w.target, "otlp_sync");
    assert!(w.message.contains("traces"), "{w:?}");
    assert!(w.message.contains("dropped 1 records"), "{w:?}");
    assert!(w.message.contains("HTTP 400"), "{w:?}");

    // 2. A second rejection at once: counted, but the call site stays quiet.
    collector.push(Behavior::Status(400, "still bad".into()));
    sender.send_span(&scope, span()).expect("queued");
    assert_eq!(exporter.flush(WAIT), Err(FlushError::Failed { dropped: 1 }));
    assert_eq!(matching(Level::Warn, "export dropped").len(), 1);
    assert_eq!(exporter.stats().traces.dropped.rejected, 2);

    // 3. A partial success: the rejected count and the receiver's message.
    collector.push(Behavior::PartialSuccess(1, "span name missing".into()));
    sender.send_span(&scope, span()).expect("queued");
    assert_eq!(exporter.flush(WAIT), Err(FlushError::Failed { dropped: 1 }));
    let partial = matching(Level::Warn, "partly rejected");
    assert_eq!(partial.len(), 1, "{:?}", ours());
    assert!(
        partial[0].message.contains("rejected 1 items"),
        "{partial:?}"
    );
    assert!(
        partial[0].message.contains("span name missing"),
        "{partial:?}"
    );

    // 4. A full queue: the first dropped record is reported, the others only counted.
    //    The worker is held in a slow request, the queue holds one span.
    let before = collector.request_count();
    collector.push(Behavior::Delay(Duration::from_secs(2)));
    sender.send_span(&scope, span()).expect("queued");
    assert!(collector.wait_for_requests(before + 1, WAIT));
    let mut full = 0;
    for _ in 0..5 {
        if let Err(RecordError::Full(_)) = sender.send_span(&scope, span()) {
            full += 1;
        }
    }
    assert!(full >= 4, "{full} of 5 refused");
    let reported = matching(Level::Warn, "queue is full");
    assert_eq!(reported.len(), 1, "{:?}", ours());
    assert!(reported[0].message.contains("traces"), "{reported:?}");
    assert_eq!(exporter.stats().traces.dropped.queue_full, full);

    // 5. Shutdown: one summary line, since records were dropped.
    let _ = exporter.shutdown(WAIT);
    let summary = matching(Level::Info, "shut down");
    assert_eq!(summary.len(), 1, "{:?}", ours());
    let line = &summary[0].message;
    assert!(!line.contains('\n'), "{line}");
    assert!(line.contains("rejected 2"), "{line}");
    assert!(line.contains(&format!("queue full {full}")), "{line}");
    assert!(line.contains("partial success 1"), "{line}");

    // 6. A worker panic is an error.
    let pipeline = Pipeline::start(
        PipelineConfig::default(),
        Resource::default(),
        Box::new(Panics),
    )
    .expect("starts");
    pipeline.sender().send_span(&scope, span()).expect("queued");
    assert_eq!(pipeline.flush(WAIT), Err(FlushError::WorkerPanicked));
    let errors = matching(Level::Error, "panicked");
    assert_eq!(errors.len(), 1, "{:?}", ours());

    // Nothing the crate logged quotes the header value.
    for r in ours() {
        assert!(!r.message.contains(SECRET), "{r:?}");
    }
}
