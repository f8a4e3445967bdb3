//! Footprint probe, official side: the smallest complete program on `opentelemetry` +
//! `opentelemetry_sdk` + `opentelemetry-otlp` 0.33 (OTLP/HTTP protobuf through the
//! blocking reqwest client, `BatchSpanProcessor`) that exports ONE span. Built twice:
//! `official` (no TLS: opentelemetry-otlp turns reqwest's default features off) and
//! `official-tls` (plus the `reqwest-rustls` feature). Same argv/exit contract as
//! `ours.rs`.
//!
//! Endpoint: argv[1], else `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://127.0.0.1:4318`.
//! The SDK keeps no export counters; the closest it offers: `force_flush` returns the
//! result of exporting the batch (an error for a failed request or a non-2xx answer), so
//! this exits 0 only if the flush and the shutdown both return `Ok`.

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use std::process::ExitCode;

fn main() -> ExitCode {
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .unwrap_or_else(|| "http://127.0.0.1:4318".to_owned());
    // `with_endpoint` is used as-is (the signal path is appended only to the variable).
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = match SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("footprint: {e}");
            return ExitCode::FAILURE;
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .with_resource(Resource::builder().with_service_name("footprint").build())
        .build();
    let tracer = provider.tracer("footprint");
    let mut span = tracer.start("hello");
    span.set_attribute(KeyValue::new("answer", 42));
    span.end();
    let flushed = provider.force_flush();
    let shutdown = provider.shutdown();
    println!("flush {flushed:?}, shutdown {shutdown:?}");
    if flushed.is_ok() && shutdown.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
