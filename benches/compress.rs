//! Compression time and ratio on a realistic OTLP trace request.
//!
//! The body is one `ExportTraceServiceRequest` of 512 spans shaped exactly like the
//! project benchmark workload (`WORKLOAD.md`: 8 attributes, one event with 2 attributes,
//! random ids, wall-clock-like timestamps, the bench resource), encoded with the official
//! `opentelemetry-proto` types and prost: about 190 KB. (Our own encoder was being written
//! in parallel; the bytes are the same protobuf either way.)
//!
//! Criterion measures time; the compressed size and ratio of each codec are printed once
//! to stderr before it is timed. Run with `cargo bench --bench compress`.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use otlp_sync::compress::{Compression, Compressor};
use prost::Message;

/// Deterministic xorshift64* generator for ids and timing jitter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(v: &str) -> Value {
    Value::StringValue(v.to_owned())
}

/// One 512-span request as in WORKLOAD.md, protobuf-encoded.
fn otlp_body() -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut now: u64 = 1_760_000_000_000_000_000;
    let spans = (0..512i64)
        .map(|i| {
            let start = now;
            let event = start + 200 + rng.next() % 500;
            let end = event + 300 + rng.next() % 2_000;
            now = end + rng.next() % 1_000;
            Span {
                trace_id: rng.bytes(16),
                span_id: rng.bytes(8),
                name: "bench-span".to_owned(),
                kind: span::SpanKind::Internal as i32,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes: vec![
                    kv("bench.str0", s("alpha-0123456789")),
                    kv("bench.str1", s("bravo-0123456789")),
                    kv("bench.str2", s("charlie-01234567")),
                    kv("bench.str3", s("delta-0123456789")),
                    kv("bench.int0", Value::IntValue(i)),
                    kv("bench.int1", Value::IntValue(i % 2)),
                    kv("bench.f64", Value::DoubleValue(i as f64 * 0.25)),
                    kv("bench.bool", Value::BoolValue(i % 2 == 0)),
                ],
                events: vec![span::Event {
                    time_unix_nano: event,
                    name: "bench-event".to_owned(),
                    attributes: vec![
                        kv("event.str", s("event-value-0001")),
                        kv("event.int", Value::IntValue(i)),
                    ],
                    ..Default::default()
                }],
                status: Some(Status {
                    code: 1,
                    ..Default::default()
                }),
                flags: 0x101,
                ..Default::default()
            }
        })
        .collect();
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s("otlp-bench")),
                    kv("service.version", s("1.0.0")),
                    kv("host.name", s("bench-host")),
                    kv("deployment.environment", s("bench")),
                    kv("telemetry.sdk.name", s("otlp-sync")),
                    kv("telemetry.sdk.language", s("rust")),
                    kv("telemetry.sdk.version", s("0.1.0")),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "otlp-bench".to_owned(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    request.encode_to_vec()
}

/// A codec under test: a name and a function appending one compressed body to `out`.
type Codec = (String, Box<dyn FnMut(&[u8], &mut Vec<u8>)>);

fn ours(compression: Compression, level: Option<u8>, name: &str) -> Codec {
    let mut c = Compressor::new(compression, level);
    (
        name.to_owned(),
        Box::new(move |input, out| c.compress(input, out).expect("compress")),
    )
}

fn codecs() -> Vec<Codec> {
    let mut c_zstd = zstd::bulk::Compressor::new(1).expect("zstd level 1");
    vec![
        ours(Compression::None, None, "none"),
        ours(Compression::Gzip, Some(1), "gzip-1 (default)"),
        ours(Compression::Gzip, Some(6), "gzip-6"),
        ours(Compression::Gzip, Some(9), "gzip-9"),
        ours(Compression::Deflate, Some(1), "deflate-1"),
        ours(Compression::Deflate, Some(6), "deflate-6"),
        ours(Compression::Zstd, None, "zstd (ruzstd Fastest)"),
        (
            "ref: C zstd level 1".to_owned(),
            Box::new(move |input, out| {
                out.extend(c_zstd.compress(input).expect("C zstd"));
            }),
        ),
        (
            "ref: flate2 gzip 1".to_owned(),
            Box::new(|input, out| {
                let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(1));
                e.write_all(input).expect("flate2");
                e.finish().expect("flate2");
            }),
        ),
        (
            "ref: flate2 gzip 6".to_owned(),
            Box::new(|input, out| {
                let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
                e.write_all(input).expect("flate2");
                e.finish().expect("flate2");
            }),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let body = otlp_body();
    eprintln!("input: {} bytes (512-span OTLP trace request)", body.len());
    let mut group = c.benchmark_group("compress");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.measurement_time(Duration::from_secs(4));
    for (name, mut codec) in codecs() {
        let mut out = Vec::with_capacity(body.len() + 64);
        codec(&body, &mut out);
        eprintln!(
            "{name:<24} {:>7} bytes  ratio {:>5.2}",
            out.len(),
            body.len() as f64 / out.len() as f64
        );
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                out.clear();
                codec(black_box(&body), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
