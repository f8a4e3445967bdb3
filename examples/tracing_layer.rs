//! The `tracing` layer: tracing spans and events exported as OTLP spans and log records.
//!
//! ```sh
//! cargo run --example tracing_layer --features tracing
//! ```
//!
//! With no `OTEL_EXPORTER_OTLP_*ENDPOINT` set it exports to a receiver of its own on
//! 127.0.0.1 (the tests' fake collector) and prints what arrived; otherwise it exports
//! there and prints the exporter's counters. Exits with status 1 if nothing arrived.

#[path = "../tests/support/collector.rs"]
mod collector;
#[path = "support/loopback.rs"]
mod loopback;

use collector::Decoded;
use otlp_sync::bridge::tracing::OtlpLayer;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;

const ENDPOINT_VARS: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracing_layer FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let (exporter, receiver) = loopback::exporter("tracing-layer-example", &ENDPOINT_VARS)?;

    let layer = OtlpLayer::new(exporter.tracer("app"), exporter.logger("app"));
    let subscriber = tracing_subscriber::Registry::default().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let request =
            tracing::info_span!("handle_request", otel.kind = "server", route = "/orders");
        let _request = request.enter();
        tracing::info!(items = 3, "order received");
        let _query = tracing::debug_span!("db.query", table = "orders").entered();
        tracing::warn!(latency_ms = 120u64, "slow query");
    });
    exporter
        .shutdown(Duration::from_secs(5))
        .map_err(|e| format!("shutdown: {e}"))?;

    let stats = exporter.stats();
    let (mut spans, mut logs) = (0, 0);
    match &receiver {
        Some(r) => {
            for request in r.requests() {
                match request.decoded {
                    Some(Decoded::Traces(t)) => {
                        for s in t.resource_spans.iter().flat_map(|rs| &rs.scope_spans) {
                            for span in &s.spans {
                                spans += 1;
                                println!(
                                    "span {:?} ({} attributes)",
                                    span.name,
                                    span.attributes.len()
                                );
                            }
                        }
                    }
                    Some(Decoded::Logs(l)) => {
                        for s in l.resource_logs.iter().flat_map(|rl| &rl.scope_logs) {
                            for rec in &s.log_records {
                                logs += 1;
                                let body = rec.body.as_ref().and_then(|b| b.value.as_ref());
                                println!("log  {} {body:?}", rec.severity_text);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        None => {
            spans = stats.traces.exported;
            logs = stats.logs.exported;
        }
    }
    println!("arrived: {spans} spans, {logs} log records");
    if spans == 0 || logs == 0 {
        return Err("nothing arrived".into());
    }
    Ok(())
}
