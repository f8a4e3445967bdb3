//! The WORKLOAD.md span and log record, made `--count` times on one thread into a queue
//! big enough to hold them all (the exporter points at a closed port and never gets to
//! send within the run). Built for instruction counts with callgrind, whose totals do not
//! drift with the machine's load:
//!
//! ```text
//! cargo build --release --example profile_workload
//! valgrind --tool=callgrind --toggle-collect='*profile_workload::produce*' \
//!     target/release/examples/profile_workload spans 20000
//! ```
//!
//! `callgrind_annotate --inclusive=yes` on the output then splits the per-record cost.
//! `shed` instead of `spans` makes the queue 16 records, so that nearly every span is shed
//! (the cost of a span the exporter cannot take).
//! The program checks its own counts: every record offered must be queued (none dropped).

use otlp_sync::config::{Config, QueueFullPolicy};
use otlp_sync::encode::Encoding;
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{KeyValue, Severity, Signal, StatusCode};
use std::time::Duration;

#[inline(never)]
fn produce_spans(exporter: &Exporter, n: u64) {
    let tracer = exporter.tracer("otlp-bench");
    for i in 0..n {
        let i = i as i64;
        let mut span = tracer
            .span("bench-span")
            .attr("bench.str0", "alpha-0123456789")
            .attr("bench.str1", "bravo-0123456789")
            .attr("bench.str2", "charlie-01234567")
            .attr("bench.str3", "delta-0123456789")
            .attr("bench.int0", i)
            .attr("bench.int1", 0_i64)
            .attr("bench.f64", i as f64 * 0.25)
            .attr("bench.bool", i % 2 == 0)
            .start();
        span.add_event(
            "bench-event",
            [
                KeyValue::new("event.str", "event-value-0001"),
                KeyValue::new("event.int", i),
            ],
        );
        span.set_status(StatusCode::Ok, "");
        span.end();
    }
}

#[inline(never)]
fn produce_logs(exporter: &Exporter, n: u64) {
    let logger = exporter.logger("otlp-bench");
    for i in 0..n {
        let i = i as i64;
        logger
            .record(Severity::INFO)
            .severity_text("INFO")
            .body("bench log record body 0123456789")
            .attr("log.str0", "alpha-0123456789")
            .attr("log.str1", "bravo-0123456789")
            .attr("log.int", i)
            .attr("log.bool", i % 2 == 0)
            .emit();
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "spans".to_owned());
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    // `shed`: the spans workload into a queue of 16, so nearly every span is shed.
    let queue = if what == "shed" {
        16
    } else {
        usize::try_from(n).unwrap_or(usize::MAX).saturating_add(16)
    };
    let mut b = Config::builder()
        // Port 9 (discard): nothing listens; the run ends before the first batch is due.
        .endpoint("http://127.0.0.1:9")
        .protocol(Encoding::Protobuf)
        .queue_full_policy(QueueFullPolicy::Drop)
        .service_name("otlp-bench");
    for signal in [Signal::Traces, Signal::Logs] {
        b = b
            .max_queue_size(signal, queue)
            .max_export_batch_size(signal, 512)
            .schedule_delay(signal, Duration::from_secs(3600));
    }
    let exporter = Exporter::new(b.build().expect("config")).expect("exporter");
    match what.as_str() {
        "spans" | "shed" => produce_spans(&exporter, n),
        "logs" => produce_logs(&exporter, n),
        other => panic!("expected spans, shed or logs, got {other}"),
    }
    let stats = exporter.stats();
    let (signal, offered, dropped) = match what.as_str() {
        "logs" => ("logs", stats.logs.offered, stats.logs.dropped.queue_full),
        _ => (
            "spans",
            stats.traces.offered,
            stats.traces.dropped.queue_full,
        ),
    };
    assert_eq!(offered, n, "{signal}: offered");
    if what == "shed" {
        // All but the queue's worth (and what the worker took meanwhile) were shed.
        assert!(
            dropped + 64 >= n && dropped < n,
            "{signal}: {dropped} dropped of {n}"
        );
    } else {
        assert_eq!(dropped, 0, "{signal}: dropped at the queue");
    }
    let _ = exporter.shutdown(Duration::from_millis(10));
}
