//! Pipeline benchmarks on the records of `shared/bench/WORKLOAD.md`.
//!
//! Groups:
//! * `handoff_span`, `handoff_log`: the application thread's cost per record.
//!   - `send_1t`: `RecordSender::send_span` / `send_log` of a prebuilt workload record
//!     (cloned outside the timing) from one thread;
//!   - `send_2t`: the same from two threads released together by a barrier; the figure is
//!     the *sum of both threads' send-loop times* per record, i.e. what one application
//!     thread pays per record while another sends too (WORKLOAD.md's "app ns/span");
//!   - `build_send_1t`: building the record (ids, clock reads, attribute `Vec`s, as the
//!     comparison peer does) plus the send, timed together.
//!
//!   The pipeline has a no-op transport (answers 200 at once) and a queue large enough
//!   that nothing is dropped: records are sent in chunks of [`CHUNK`], and the pipeline
//!   is flushed after each chunk outside the timing. The worker thread encodes
//!   concurrently while the senders run, as it does in an application.
//! * `end_to_end`: build and send 10,000 workload spans from one thread, then `flush`,
//!   timed together; throughput in records/s. `noop` transport, and `http`: the real
//!   `HttpTransport` to a loopback sink started in the bench (a `std` `TcpListener`
//!   thread that reads each request and answers `200` with an empty body, keep-alive).
//!
//! Settings as in the workload: batch 512, delay 200 ms, drop on full, protobuf, no
//! compression.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otlp_sync::model::{
    AnyValue, Event, InstrumentationScope, KeyValue, LogRecord, Resource,
    SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, Severity, Span, SpanId, SpanKind, Status, StatusCode,
    TraceId,
};
use otlp_sync::pipeline::{Pipeline, PipelineConfig, RecordSender, SignalConfig};
use otlp_sync::transport::http::{HttpConfig, HttpTransport};
use otlp_sync::transport::{Request, Response, Transport, TransportError};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Records sent between two (untimed) flushes in the hand-off benches.
const CHUNK: u64 = 4096;

/// Records per end-to-end iteration.
const E2E_RECORDS: u64 = 10_000;

/// Flush bound: generous, a flush here takes milliseconds.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts every request at once.
struct Noop;

impl Transport for Noop {
    fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
        Ok(Response {
            status: 200,
            ..Default::default()
        })
    }
}

/// Wall clock, nanoseconds since the Unix epoch.
fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// xorshift64* bits for ids.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// The workload resource, with the `telemetry.sdk.*` attributes.
fn resource() -> Resource {
    Resource::new(vec![
        KeyValue::new("service.name", "otlp-bench"),
        KeyValue::new("service.version", "1.0.0"),
        KeyValue::new("host.name", "bench-host"),
        KeyValue::new("deployment.environment", "bench"),
        KeyValue::new("telemetry.sdk.name", "otlp-sync"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ])
}

/// One workload span (WORKLOAD.md section 2) for loop index `i` on thread `t`, with
/// clock reads for start, event and end, as the comparison peer builds it.
fn workload_span(i: i64, t: i64, rng: &mut u64) -> Span {
    let mut trace = [0u8; 16];
    trace[..8].copy_from_slice(&next(rng).to_be_bytes());
    trace[8..].copy_from_slice(&(next(rng) | 1).to_be_bytes());
    let span_id = SpanId::from_bytes((next(rng) | 1).to_be_bytes());
    let mut span = Span::new("bench-span", TraceId::from_bytes(trace), span_id);
    span.kind = SpanKind::Internal;
    span.flags = 0x01 | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
    span.start_time_unix_nano = now_nanos();
    span.attributes = vec![
        KeyValue::new("bench.str0", "alpha-0123456789"),
        KeyValue::new("bench.str1", "bravo-0123456789"),
        KeyValue::new("bench.str2", "charlie-01234567"),
        KeyValue::new("bench.str3", "delta-0123456789"),
        KeyValue::new("bench.int0", i),
        KeyValue::new("bench.int1", t),
        KeyValue::new("bench.f64", i as f64 * 0.25),
        KeyValue::new("bench.bool", i % 2 == 0),
    ];
    span.events.push(Event {
        time_unix_nano: now_nanos(),
        name: Cow::Borrowed("bench-event"),
        attributes: vec![
            KeyValue::new("event.str", "event-value-0001"),
            KeyValue::new("event.int", i),
        ],
        dropped_attributes_count: 0,
    });
    span.status = Status {
        code: StatusCode::Ok,
        message: Cow::Borrowed(""),
    };
    span.end_time_unix_nano = now_nanos();
    span
}

/// One workload log record (WORKLOAD.md section 3) for loop index `i`.
fn workload_log(i: i64) -> LogRecord {
    LogRecord {
        time_unix_nano: now_nanos(),
        observed_time_unix_nano: now_nanos(),
        severity_number: Severity::INFO,
        severity_text: Cow::Borrowed("INFO"),
        body: AnyValue::from("bench log record body 0123456789"),
        attributes: vec![
            KeyValue::new("log.str0", "alpha-0123456789"),
            KeyValue::new("log.str1", "bravo-0123456789"),
            KeyValue::new("log.int", i),
            KeyValue::new("log.bool", i % 2 == 0),
        ],
        ..LogRecord::default()
    }
}

/// The workload's batch settings with queue capacity `queue`.
fn signal_config(queue: usize) -> SignalConfig {
    SignalConfig {
        queue_capacity: queue,
        max_batch_records: 512,
        schedule_delay: Duration::from_millis(200),
        export_timeout: Duration::from_secs(10),
        ..SignalConfig::traces()
    }
}

fn start(queue: usize, transport: Box<dyn Transport>) -> Pipeline {
    let config = PipelineConfig {
        traces: signal_config(queue),
        logs: signal_config(queue),
        ..PipelineConfig::default()
    };
    Pipeline::start(config, resource(), transport).expect("start the pipeline")
}

fn flush(pipeline: &Pipeline) {
    pipeline
        .flush(FLUSH_TIMEOUT)
        .expect("flush: nothing dropped");
}

/// What a hand-off bench sends.
trait Kind: Send + Sync + 'static {
    fn build(i: i64, t: i64, rng: &mut u64) -> Self;
    fn send(self, sender: &RecordSender, scope: &Arc<InstrumentationScope>);
}

impl Kind for Span {
    fn build(i: i64, t: i64, rng: &mut u64) -> Self {
        workload_span(i, t, rng)
    }
    fn send(self, sender: &RecordSender, scope: &Arc<InstrumentationScope>) {
        if sender.send_span(scope, self).is_err() {
            panic!("span dropped: the bench queue is too small");
        }
    }
}

impl Kind for LogRecord {
    fn build(i: i64, _t: i64, _rng: &mut u64) -> Self {
        workload_log(i)
    }
    fn send(self, sender: &RecordSender, scope: &Arc<InstrumentationScope>) {
        if sender.send_log(scope, self).is_err() {
            panic!("log record dropped: the bench queue is too small");
        }
    }
}

/// Sends `n` prebuilt copies of `proto` from the calling thread; returns the send loop's
/// time only.
fn send_prebuilt<K: Kind + Clone>(
    proto: &K,
    n: u64,
    sender: &RecordSender,
    scope: &Arc<InstrumentationScope>,
    barrier: Option<&Barrier>,
) -> Duration {
    let mut records: Vec<K> = (0..n).map(|_| proto.clone()).collect();
    if let Some(b) = barrier {
        b.wait();
    }
    let t0 = Instant::now();
    for r in records.drain(..) {
        r.send(sender, scope);
    }
    let elapsed = t0.elapsed();
    drop(records);
    elapsed
}

fn handoff<K: Kind + Clone>(c: &mut Criterion, group: &str) {
    let pipeline = start(2 * CHUNK as usize, Box::new(Noop));
    let sender = pipeline.sender();
    let scope = Arc::new(InstrumentationScope::new("otlp-bench"));
    let mut rng = 0x1234_5678_9abc_def1;
    let proto = K::build(7, 0, &mut rng);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));

    g.bench_function("send_1t", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                total += send_prebuilt(&proto, n, &sender, &scope, None);
                flush(&pipeline);
                left -= n;
            }
            total
        })
    });

    g.bench_function("send_2t", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                let halves = [n / 2, n - n / 2];
                let barrier = Barrier::new(2);
                total += std::thread::scope(|s| {
                    let handles: Vec<_> = halves
                        .iter()
                        .map(|&h| {
                            let (proto, sender, scope, barrier) =
                                (&proto, &sender, &scope, &barrier);
                            s.spawn(move || send_prebuilt(proto, h, sender, scope, Some(barrier)))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("sender thread"))
                        .sum::<Duration>()
                });
                flush(&pipeline);
                left -= n;
            }
            total
        })
    });

    g.bench_function("build_send_1t", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            let mut rng = 0x9abc_def1_2345_6789;
            while left > 0 {
                let n = left.min(CHUNK);
                let t0 = Instant::now();
                for i in 0..n {
                    K::build(i as i64, 0, &mut rng).send(&sender, &scope);
                }
                total += t0.elapsed();
                flush(&pipeline);
                left -= n;
            }
            total
        })
    });
    g.finish();
    pipeline.shutdown(FLUSH_TIMEOUT).expect("shutdown");
}

fn handoff_span(c: &mut Criterion) {
    handoff::<Span>(c, "handoff_span");
}

fn handoff_log(c: &mut Criterion) {
    handoff::<LogRecord>(c, "handoff_log");
}

/// A loopback OTLP/HTTP sink: answers 200 (empty protobuf body) to each request, keeping
/// the connection alive; one thread per connection. The threads end with the process.
fn loopback_sink() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the loopback sink");
    let addr = listener.local_addr().expect("sink address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    format!("http://{addr}")
}

/// Serves one keep-alive connection until the client closes it.
fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        // Request line and headers.
        let mut content_length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(content_length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n";
        if out.write_all(answer).is_err() {
            return;
        }
    }
}

fn end_to_end(c: &mut Criterion) {
    let scope = Arc::new(InstrumentationScope::new("otlp-bench"));
    let mut g = c.benchmark_group("end_to_end");
    g.throughput(Throughput::Elements(E2E_RECORDS));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));

    let base = loopback_sink();
    let mut http = HttpConfig::default();
    http.traces_endpoint = format!("{base}/v1/traces");
    http.logs_endpoint = format!("{base}/v1/logs");
    http.proxy_from_env = false;
    let transports: [(&str, Box<dyn Transport>); 2] = [
        ("noop_10k_spans", Box::new(Noop)),
        (
            "http_10k_spans",
            Box::new(HttpTransport::new(http).expect("http transport")),
        ),
    ];
    for (name, transport) in transports {
        let pipeline = start(2 * E2E_RECORDS as usize, transport);
        let sender = pipeline.sender();
        let mut rng = 0x0f0e_0d0c_0b0a_0908;
        g.bench_function(name, |b| {
            b.iter(|| {
                for i in 0..E2E_RECORDS {
                    workload_span(i as i64, 0, &mut rng).send(&sender, &scope);
                }
                flush(&pipeline);
            })
        });
        let stats = pipeline.stats();
        assert_eq!(
            stats.traces.offered, stats.traces.exported,
            "{name}: all exported"
        );
        pipeline.shutdown(FLUSH_TIMEOUT).expect("shutdown");
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = handoff_span, handoff_log, end_to_end
}
criterion_main!(benches);
