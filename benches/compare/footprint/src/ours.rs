//! Footprint probe, our side: the smallest complete otlp-sync program that exports ONE
//! span over OTLP/HTTP. Built twice: `ours-http` (no TLS) and `ours-tls` (default
//! features, rustls). Same argv/exit contract as `official.rs`.
//!
//! Endpoint: argv[1], else `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://127.0.0.1:4318`.
//! Exits 0 only if the exporter's counters say exactly one span was exported.

use otlp_sync::config::Config;
use otlp_sync::exporter::Exporter;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .unwrap_or_else(|| "http://127.0.0.1:4318".to_owned());
    let config = match Config::builder()
        .endpoint(endpoint)
        .service_name("footprint")
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("footprint: {e}");
            return ExitCode::FAILURE;
        }
    };
    let exporter = match Exporter::new(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("footprint: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tracer = exporter.tracer("footprint");
    tracer.span("hello").attr("answer", 42).start().end();
    let shutdown = exporter.shutdown(Duration::from_secs(10));
    let exported = exporter.stats().traces.exported;
    println!("exported {exported} span(s), shutdown {shutdown:?}");
    if exported == 1 && shutdown.is_ok() {
        ExitCode::SUCCESS
    } else {
        if let Some(e) = exporter.last_error_message() {
            eprintln!("footprint: {e}");
        }
        ExitCode::FAILURE
    }
}
