//! Encoding benchmarks on the batches of `shared/bench/WORKLOAD.md`.
//!
//! Rows per batch (`traces_512`, `logs_512`):
//! * `otlp_sync_protobuf`: our [`ProtoEncoder`] into a reused buffer;
//! * `official_prost_structs`: what `opentelemetry-otlp` does for `http/protobuf`: build
//!   the official `opentelemetry-proto` prost structs from the same data (a `String` per
//!   string, a `Vec` of `KeyValue`s per record, ...) and `encode_to_vec`;
//! * `otlp_sync_json`: our [`JsonEncoder`] into a reused buffer;
//! * `official_serde_json`: what `opentelemetry-otlp` does for `http/json`: build the same
//!   official structs and `serde_json::to_vec` them (the crate's `with-serde` support).
//!
//! Before measuring, each row's output is checked: protobuf byte-identical to prost's,
//! and our JSON parsed by the official serde types equal to the official structs.
//!
//! The batch builders ([`workload_span_batch`], [`workload_log_batch`]) are meant to be
//! reused by further rows (JSON, compression).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sync::encode::json::JsonEncoder;
use otlp_sync::encode::protobuf::ProtoEncoder;
use otlp_sync::model::{
    Event, InstrumentationScope, KeyValue, LogRecord, Resource, SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE,
    Severity, Span, SpanId, SpanKind, Status, StatusCode, TraceId,
};
use prost::Message;
use support::oracle::{Batch, expected_logs, expected_traces};

/// Records per batch (`max_export_batch_size` of the workload).
pub const BATCH: usize = 512;

/// A fixed wall-clock-like start time, nanoseconds since the Unix epoch.
const T0: u64 = 1_750_000_000_000_000_000;

/// Deterministic pseudo-random bits (splitmix64) for ids.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The workload resource: service attributes plus the SDK's `telemetry.sdk.*`.
pub fn workload_resource() -> Resource {
    Resource::new(vec![
        KeyValue::new("service.name", "otlp-bench"),
        KeyValue::new("service.version", "1.0.0"),
        KeyValue::new("host.name", "bench-host"),
        KeyValue::new("deployment.environment", "bench"),
        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", "0.31.0"),
    ])
}

/// The workload scope: name `otlp-bench`, nothing else.
pub fn workload_scope() -> InstrumentationScope {
    InstrumentationScope::new("otlp-bench")
}

/// One span of WORKLOAD.md section 2, for loop index `i` on producer thread `t`.
pub fn workload_span(i: u64, t: u64, rng: &mut u64) -> Span {
    let mut trace = [0u8; 16];
    trace[..8].copy_from_slice(&splitmix(rng).to_be_bytes());
    trace[8..].copy_from_slice(&splitmix(rng).to_be_bytes());
    let span_id = SpanId::from_bytes(splitmix(rng).to_be_bytes());
    let start = T0 + i * 10_000;
    let mut span = Span::new("bench-span", TraceId::from_bytes(trace), span_id);
    span.kind = SpanKind::Internal;
    span.flags = 0x01 | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
    span.start_time_unix_nano = start;
    span.end_time_unix_nano = start + 4_321;
    span.attributes = vec![
        KeyValue::new("bench.str0", "alpha-0123456789"),
        KeyValue::new("bench.str1", "bravo-0123456789"),
        KeyValue::new("bench.str2", "charlie-01234567"),
        KeyValue::new("bench.str3", "delta-0123456789"),
        KeyValue::new("bench.int0", i as i64),
        KeyValue::new("bench.int1", t as i64),
        KeyValue::new("bench.f64", i as f64 * 0.25),
        KeyValue::new("bench.bool", i % 2 == 0),
    ];
    span.events = vec![Event {
        time_unix_nano: start + 1_234,
        name: "bench-event".into(),
        attributes: vec![
            KeyValue::new("event.str", "event-value-0001"),
            KeyValue::new("event.int", i as i64),
        ],
        dropped_attributes_count: 0,
    }];
    span.status = Status {
        code: StatusCode::Ok,
        message: "".into(),
    };
    span
}

/// `n` workload spans (thread 0) under the workload resource and scope.
pub fn workload_span_batch(n: usize) -> Batch<Span> {
    let mut rng = 42;
    let spans = (0..n as u64)
        .map(|i| workload_span(i, 0, &mut rng))
        .collect();
    Batch {
        resources: vec![(workload_resource(), vec![(workload_scope(), spans)])],
    }
}

/// One log record of WORKLOAD.md section 3, for loop index `i`.
pub fn workload_log(i: u64) -> LogRecord {
    let now = T0 + i * 10_000;
    LogRecord {
        time_unix_nano: now,
        observed_time_unix_nano: now + 100,
        severity_number: Severity::INFO,
        severity_text: "INFO".into(),
        body: "bench log record body 0123456789".into(),
        attributes: vec![
            KeyValue::new("log.str0", "alpha-0123456789"),
            KeyValue::new("log.str1", "bravo-0123456789"),
            KeyValue::new("log.int", i as i64),
            KeyValue::new("log.bool", i % 2 == 0),
        ],
        ..Default::default()
    }
}

/// `n` workload log records under the workload resource and scope.
pub fn workload_log_batch(n: usize) -> Batch<LogRecord> {
    let records = (0..n as u64).map(workload_log).collect();
    Batch {
        resources: vec![(workload_resource(), vec![(workload_scope(), records)])],
    }
}

fn traces(c: &mut Criterion) {
    let batch = workload_span_batch(BATCH);
    let mut encoder = ProtoEncoder::new();
    let mut buf = Vec::new();
    batch.with_groups(|groups| encoder.encode_traces(groups, &mut buf));
    assert_eq!(buf, expected_traces(&batch).encode_to_vec(), "same bytes");

    let mut g = c.benchmark_group("traces_512");
    g.throughput(Throughput::Elements(BATCH as u64));
    batch.with_groups(|groups| {
        g.bench_function("otlp_sync_protobuf", |b| {
            b.iter(|| {
                buf.clear();
                encoder.encode_traces(black_box(groups), &mut buf);
                black_box(buf.len())
            })
        });
    });
    g.bench_function("official_prost_structs", |b| {
        b.iter(|| black_box(expected_traces(black_box(&batch)).encode_to_vec()))
    });

    let mut json = JsonEncoder::new();
    let mut jbuf = Vec::new();
    batch.with_groups(|groups| json.encode_traces(groups, &mut jbuf));
    let parsed: ExportTraceServiceRequest =
        serde_json::from_slice(&jbuf).expect("official serde parses our JSON");
    assert_eq!(parsed, expected_traces(&batch), "same JSON content");
    batch.with_groups(|groups| {
        g.bench_function("otlp_sync_json", |b| {
            b.iter(|| {
                jbuf.clear();
                json.encode_traces(black_box(groups), &mut jbuf);
                black_box(jbuf.len())
            })
        });
    });
    g.bench_function("official_serde_json", |b| {
        b.iter(|| {
            let request = expected_traces(black_box(&batch));
            black_box(serde_json::to_vec(&request).expect("serializes"))
        })
    });
    g.finish();
}

fn logs(c: &mut Criterion) {
    let batch = workload_log_batch(BATCH);
    let mut encoder = ProtoEncoder::new();
    let mut buf = Vec::new();
    batch.with_groups(|groups| encoder.encode_logs(groups, &mut buf));
    assert_eq!(buf, expected_logs(&batch).encode_to_vec(), "same bytes");

    let mut g = c.benchmark_group("logs_512");
    g.throughput(Throughput::Elements(BATCH as u64));
    batch.with_groups(|groups| {
        g.bench_function("otlp_sync_protobuf", |b| {
            b.iter(|| {
                buf.clear();
                encoder.encode_logs(black_box(groups), &mut buf);
                black_box(buf.len())
            })
        });
    });
    g.bench_function("official_prost_structs", |b| {
        b.iter(|| black_box(expected_logs(black_box(&batch)).encode_to_vec()))
    });

    let mut json = JsonEncoder::new();
    let mut jbuf = Vec::new();
    batch.with_groups(|groups| json.encode_logs(groups, &mut jbuf));
    let parsed: ExportLogsServiceRequest =
        serde_json::from_slice(&jbuf).expect("official serde parses our JSON");
    assert_eq!(parsed, expected_logs(&batch), "same JSON content");
    batch.with_groups(|groups| {
        g.bench_function("otlp_sync_json", |b| {
            b.iter(|| {
                jbuf.clear();
                json.encode_logs(black_box(groups), &mut jbuf);
                black_box(jbuf.len())
            })
        });
    });
    g.bench_function("official_serde_json", |b| {
        b.iter(|| {
            let request = expected_logs(black_box(&batch));
            black_box(serde_json::to_vec(&request).expect("serializes"))
        })
    });
    g.finish();
}

criterion_group!(benches, traces, logs);
criterion_main!(benches);
