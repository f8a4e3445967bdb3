//! The `log` bridge: `log` records exported as OTLP log records.
//!
//! ```sh
//! cargo run --example log_bridge --features log
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
use otlp_sync::bridge::log::OtlpLogger;
use std::process::ExitCode;
use std::time::Duration;

const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("log_bridge FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let (exporter, receiver) = loopback::exporter("log-bridge-example", &ENDPOINT_VARS)?;

    OtlpLogger::new(exporter.logger("app"))
        .max_level(log::LevelFilter::Debug)
        .install()
        .map_err(|e| e.to_string())?;
    log::info!(items = 3; "order received");
    log::debug!(table = "orders"; "query planned");
    log::warn!(latency_ms = 120; "slow query");
    exporter
        .shutdown(Duration::from_secs(5))
        .map_err(|e| format!("shutdown: {e}"))?;

    let mut logs = exporter.stats().logs.exported;
    if let Some(r) = &receiver {
        logs = 0;
        for request in r.requests() {
            let Some(Decoded::Logs(l)) = request.decoded else {
                continue;
            };
            for s in l.resource_logs.iter().flat_map(|rl| &rl.scope_logs) {
                for rec in &s.log_records {
                    logs += 1;
                    let body = rec.body.as_ref().and_then(|b| b.value.as_ref());
                    println!("log  {} {body:?}", rec.severity_text);
                }
            }
        }
    }
    println!("arrived: {logs} log records");
    if logs == 0 {
        return Err("nothing arrived".into());
    }
    Ok(())
}
