//! A load generator: many records of the shapes in `shared/bench/WORKLOAD.md`, from several
//! threads, through the real exporter.
//!
//! ```sh
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
//!   cargo run --release --example loadgen -- --signal all --count 100000 --threads 2
//! ```
//!
//! The exporter is configured from the `OTEL_*` variables (`ConfigBuilder::from_env()`)
//! plus `--queue` and `--batch`. Producer threads wait on a barrier and start together;
//! thread `t` does `count / threads` iterations, the last one also the remainder. One
//! iteration sends one record of each chosen signal:
//!
//! * traces: one span, `bench-span`, 8 attributes, one event with 2 attributes, status OK,
//!   random ids from a per-thread xorshift, wall-clock times;
//! * logs: one INFO record, a constant body, 4 attributes;
//! * metrics: two metrics, a monotonic Sum (`bench.counter`) and a Histogram
//!   (`bench.duration`), one data point each, with 4 attributes. The exporter counts
//!   metrics, so `--signal metrics --count N` offers `2 * N` records (and `2 * N` points).
//!
//! `--rate R` paces the threads to `R` iterations per second in total, spread evenly
//! (thread `t` is offset by `t / R` seconds); a thread that falls behind does not sleep
//! until it has caught up. After the producers finish, the exporter is shut down (exporting
//! everything still queued) within `--shutdown-timeout` seconds.
//!
//! The last line of standard output is the accounting, over the chosen signals:
//!
//! ```text
//! offered=N exported=N dropped=N queue_full=N rejected=N retries_exhausted=N too_large=N shutdown=N partial_rejected=N worker_panic=N compress_failed=N
//! ```
//!
//! where `dropped` is the sum of the reasons after it. Exit status: 0 when the run finished
//! (whatever was dropped), 2 for a bad command line, 1 when the exporter could not be built,
//! 3 when the shutdown did not finish in time (then `offered > exported + dropped`).

#[path = "support/workload.rs"]
mod workload;

use otlp_sync::config::ConfigBuilder;
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{InstrumentationScope, Signal};
use otlp_sync::pipeline::{RecordSender, ShutdownError, Stats};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use workload::{LoadArgs, Parsed, SignalArg, Totals, XorShift};

/// The longest single sleep of the rate pacing.
const MAX_SLEEP: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let args = match workload::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{}", workload::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{}", workload::USAGE);
            return ExitCode::from(2);
        }
    };

    let mut builder = ConfigBuilder::from_env();
    for signal in Signal::ALL {
        if let Some(q) = args.queue {
            builder = builder.max_queue_size(signal, q);
        }
        if let Some(b) = args.batch {
            builder = builder.max_export_batch_size(signal, b);
        }
    }
    let config = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("loadgen: cannot build the exporter: {e}");
            return ExitCode::from(1);
        }
    };
    for warning in config.warnings() {
        eprintln!("loadgen: warning: {warning}");
    }
    for signal in chosen(args.signal) {
        let s = config.signal(signal);
        println!(
            "{}: endpoint={} encoding={:?} compression={:?} queue={} batch={} delay={:?}",
            signal.name(),
            s.endpoint(),
            s.encoding(),
            s.compression(),
            s.batch().max_queue_size(),
            s.batch().max_export_batch_size(),
            s.batch().schedule_delay(),
        );
    }
    let exporter = match Exporter::new(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("loadgen: cannot build the exporter: {e}");
            return ExitCode::from(1);
        }
    };
    let Some(sender) = exporter.sender() else {
        eprintln!("loadgen: the SDK is disabled (OTEL_SDK_DISABLED): nothing is sent");
        println!("{}", Totals::default().final_line());
        return ExitCode::SUCCESS;
    };

    let (produce, total, shutdown) = run(&args, &exporter, &sender);

    let stats = exporter.stats();
    let totals = report(&args, &stats, produce, total);
    let mut code = ExitCode::SUCCESS;
    match shutdown {
        Ok(()) | Err(ShutdownError::Failed { .. }) => {}
        Err(e) => {
            eprintln!(
                "loadgen: shutdown did not finish: {e}; {} records unaccounted for",
                totals.queued
            );
            code = ExitCode::from(3);
        }
    }
    if let Some(message) = exporter.last_error_message() {
        eprintln!("loadgen: last export error: {message}");
    }
    println!("{}", totals.final_line());
    code
}

/// The signals `arg` produces.
fn chosen(arg: SignalArg) -> Vec<Signal> {
    Signal::ALL
        .into_iter()
        .filter(|s| match s {
            Signal::Traces => arg.traces(),
            Signal::Logs => arg.logs(),
            Signal::Metrics => arg.metrics(),
        })
        .collect()
}

/// Runs the producers and shuts the exporter down. Returns (produce time, time until the
/// shutdown returned, the shutdown result), both times from the barrier's release.
fn run(
    args: &LoadArgs,
    exporter: &Exporter,
    sender: &RecordSender,
) -> (Duration, Duration, Result<(), ShutdownError>) {
    let scope = Arc::new(InstrumentationScope::new("otlp-bench"));
    let barrier = Barrier::new(args.threads + 1);
    let run_start_nanos = workload::now_unix_nanos();
    // Seconds between two iterations of one thread.
    let interval = args.rate.map(|r| args.threads as f64 / r);
    let start = std::thread::scope(|s| {
        for t in 0..args.threads {
            let (sender, scope, barrier) = (sender.clone(), &scope, &barrier);
            let n = workload::share(args.count, args.threads, t);
            let signal = args.signal;
            std::thread::Builder::new()
                .name(format!("loadgen-{t}"))
                .spawn_scoped(s, move || {
                    barrier.wait();
                    let t0 = Instant::now();
                    let mut rng = XorShift::new(t);
                    for i in 0..n {
                        if let Some(interval) = interval {
                            let offset = t as f64 / args.threads as f64;
                            pace(t0, Duration::from_secs_f64((i as f64 + offset) * interval));
                        }
                        // A full queue drops the record and counts it: nothing to do here.
                        if signal.traces() {
                            let _ = sender.send_span(scope, workload::span(i, t, &mut rng));
                        }
                        if signal.logs() {
                            let _ = sender.send_log(scope, workload::log(i));
                        }
                        if signal.metrics() {
                            for m in workload::metrics(i, t, run_start_nanos) {
                                let _ = sender.send_metric(scope, m);
                            }
                        }
                    }
                })
                .unwrap_or_else(|e| panic!("cannot spawn producer thread {t}: {e}"));
        }
        barrier.wait();
        Instant::now()
        // The scope joins every producer here.
    });
    let produce = start.elapsed();
    let shutdown = exporter.shutdown(args.shutdown_timeout);
    (produce, start.elapsed(), shutdown)
}

/// Sleeps until `t0 + due`, in slices of at most [`MAX_SLEEP`]; returns at once when late.
fn pace(t0: Instant, due: Duration) {
    let Some(at) = t0.checked_add(due) else {
        return;
    };
    loop {
        let now = Instant::now();
        if now >= at {
            return;
        }
        std::thread::sleep((at - now).min(MAX_SLEEP));
    }
}

/// Prints the per-signal lines and the timing lines; returns the totals.
fn report(args: &LoadArgs, stats: &Stats, produce: Duration, total: Duration) -> Totals {
    let mut totals = Totals::default();
    for signal in chosen(args.signal) {
        let s = stats.signal(signal);
        totals.add(s);
        println!(
            "{}: offered={} exported={} dropped={} queued={} requests={} retries={} \
             bytes_uncompressed={} bytes_sent={}",
            signal.name(),
            s.offered,
            s.exported,
            s.dropped.total(),
            s.queued,
            s.requests,
            s.retries,
            s.bytes_uncompressed,
            s.bytes_sent,
        );
    }
    let per_sec = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    println!(
        "produce: {:.3} s, {:.0} records/s offered ({} threads, {} iterations{})",
        produce.as_secs_f64(),
        per_sec(totals.offered, produce),
        args.threads,
        args.count,
        args.rate
            .map_or(String::new(), |r| format!(", rate {r}/s asked")),
    );
    println!(
        "total: {:.3} s until shutdown returned, {:.0} records/s exported",
        total.as_secs_f64(),
        per_sec(totals.exported, total),
    );
    totals
}
