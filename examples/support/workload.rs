//! The load generator's pieces that are worth testing on their own: the command line, the
//! record builders of `shared/bench/WORKLOAD.md`, and the final summary line.
//!
//! Shared by `examples/loadgen.rs` and `tests/examples_loadgen.rs` (each includes this file
//! with `#[path]`), so not every item is used by both.
#![allow(dead_code)]

use otlp_sync::model::{
    AggregationTemporality, AnyValue, Event, HistogramDataPoint, KeyValue, LogRecord, Metric,
    MetricData, NumberDataPoint, NumberValue, SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, Severity, Span,
    SpanId, SpanKind, Status, StatusCode, TraceId,
};
use otlp_sync::pipeline::{Dropped, SignalStats};
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The usage text printed with `--help` and after a bad argument.
pub const USAGE: &str = "\
usage: loadgen --signal traces|logs|metrics|all --count N --threads T
               [--rate PER_SEC] [--queue Q] [--batch B] [--shutdown-timeout SECS]

  --signal            which records to produce; `all` produces one record of each signal
                      per iteration
  --count N           iterations in total (N >= 1), split over the threads as the
                      workload says: thread t does N / T, the last one also the remainder
  --threads T         producer threads (1..=1024); they start together on a barrier
  --rate PER_SEC      iterations per second over all threads (> 0); default: as fast as
                      possible
  --queue Q           max queue size of every signal (overrides OTEL_BSP_MAX_QUEUE_SIZE ...)
  --batch B           max export batch size of every signal
  --shutdown-timeout  seconds to wait for the final export at shutdown (default 60)

Everything else comes from the OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, ...).
One iteration of `metrics` sends two metrics (a Sum and a Histogram, one point each).";

/// Which signals to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalArg {
    /// Spans only.
    Traces,
    /// Log records only.
    Logs,
    /// Metrics only.
    Metrics,
    /// One of each per iteration.
    All,
}

impl SignalArg {
    /// Whether spans are produced.
    pub fn traces(self) -> bool {
        matches!(self, SignalArg::Traces | SignalArg::All)
    }
    /// Whether log records are produced.
    pub fn logs(self) -> bool {
        matches!(self, SignalArg::Logs | SignalArg::All)
    }
    /// Whether metrics are produced.
    pub fn metrics(self) -> bool {
        matches!(self, SignalArg::Metrics | SignalArg::All)
    }
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadArgs {
    /// `--signal`.
    pub signal: SignalArg,
    /// `--count`: iterations in total.
    pub count: u64,
    /// `--threads`.
    pub threads: usize,
    /// `--rate`: iterations per second over all threads.
    pub rate: Option<f64>,
    /// `--queue`.
    pub queue: Option<usize>,
    /// `--batch`.
    pub batch: Option<usize>,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: Duration,
}

/// What `parse` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Run with these arguments.
    Run(LoadArgs),
    /// `--help` was given.
    Help,
}

/// A bad command line, in words that name the flag and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad(flag: &str, value: &str, why: &str) -> ArgError {
    ArgError(format!("bad value {value:?} for {flag}: {why}"))
}

fn number<T>(flag: &str, value: &str, min: T, max: T) -> Result<T, ArgError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let n: T = value
        .parse()
        .map_err(|_| bad(flag, value, "expected a whole number"))?;
    if n < min || n > max {
        return Err(bad(
            flag,
            value,
            &format!("expected a number from {min} to {max}"),
        ));
    }
    Ok(n)
}

/// Parses the arguments after the program name. `--flag value` and `--flag=value` are both
/// accepted; every flag at most once.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, ArgError> {
    let mut signal = None;
    let mut count = None;
    let mut threads = None;
    let mut rate = None;
    let mut queue = None;
    let mut batch = None;
    let mut shutdown_timeout = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Parsed::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let known = [
            "--signal",
            "--count",
            "--threads",
            "--rate",
            "--queue",
            "--batch",
            "--shutdown-timeout",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(ArgError(format!("unknown argument {arg:?}")));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| ArgError(format!("{flag} needs a value")))?,
        };
        let seen = match flag.as_str() {
            "--signal" => signal
                .replace(match value.as_str() {
                    "traces" => SignalArg::Traces,
                    "logs" => SignalArg::Logs,
                    "metrics" => SignalArg::Metrics,
                    "all" => SignalArg::All,
                    _ => {
                        return Err(bad(&flag, &value, "expected traces, logs, metrics or all"));
                    }
                })
                .is_some(),
            "--count" => count
                .replace(number(&flag, &value, 1u64, u64::MAX)?)
                .is_some(),
            "--threads" => threads
                .replace(number(&flag, &value, 1usize, 1024)?)
                .is_some(),
            "--rate" => {
                let r: f64 = value
                    .parse()
                    .map_err(|_| bad(&flag, &value, "expected a number of records per second"))?;
                if !(r.is_finite() && r > 0.0) {
                    return Err(bad(&flag, &value, "expected a number above 0"));
                }
                rate.replace(r).is_some()
            }
            "--queue" => queue
                .replace(number(&flag, &value, 1usize, usize::MAX)?)
                .is_some(),
            "--batch" => batch
                .replace(number(&flag, &value, 1usize, usize::MAX)?)
                .is_some(),
            _ => shutdown_timeout
                .replace(Duration::from_secs(number(&flag, &value, 1u64, 86_400)?))
                .is_some(),
        };
        if seen {
            return Err(ArgError(format!("{flag} given more than once")));
        }
    }
    let missing = |flag: &str| ArgError(format!("missing {flag}"));
    Ok(Parsed::Run(LoadArgs {
        signal: signal.ok_or_else(|| missing("--signal"))?,
        count: count.ok_or_else(|| missing("--count"))?,
        threads: threads.ok_or_else(|| missing("--threads"))?,
        rate,
        queue,
        batch,
        shutdown_timeout: shutdown_timeout.unwrap_or(Duration::from_secs(60)),
    }))
}

/// How many iterations thread `t` of `threads` does: `count / threads`, the last thread
/// also the remainder.
pub fn share(count: u64, threads: usize, t: usize) -> u64 {
    let threads = threads.max(1) as u64;
    let base = count / threads;
    if t as u64 + 1 == threads {
        base + count % threads
    } else {
        base
    }
}

/// Nanoseconds since the Unix epoch, from the wall clock.
pub fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A fast per-thread PRNG (xorshift64*) for trace and span ids.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from the thread index and the clock; never zero.
    pub fn new(thread: usize) -> Self {
        let seed = now_unix_nanos() ^ ((thread as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        XorShift(seed | 1)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A valid (never all-zero) trace id.
    #[inline]
    pub fn trace_id(&mut self) -> TraceId {
        let hi = self.next_u64();
        let lo = self.next_u64() | 1;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi.to_be_bytes());
        b[8..].copy_from_slice(&lo.to_be_bytes());
        TraceId::from_bytes(b)
    }

    /// A valid (never all-zero) span id.
    #[inline]
    pub fn span_id(&mut self) -> SpanId {
        SpanId::from_bytes((self.next_u64() | 1).to_be_bytes())
    }
}

/// The workload span for loop index `i` of thread `t`: `bench-span`, INTERNAL, a sampled
/// root, 8 attributes, one event with 2 attributes, status OK, wall-clock times.
pub fn span(i: u64, t: usize, rng: &mut XorShift) -> Span {
    let i = i64::try_from(i).unwrap_or(i64::MAX);
    let start = now_unix_nanos();
    let mut span = Span::new("bench-span", rng.trace_id(), rng.span_id());
    span.kind = SpanKind::Internal;
    // Sampled, local root: what the official SDK writes for the same span.
    span.flags = 0x01 | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
    span.start_time_unix_nano = start;
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
        time_unix_nano: now_unix_nanos(),
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
    span.end_time_unix_nano = now_unix_nanos();
    span
}

/// The workload log record for loop index `i`: INFO, the constant body, 4 attributes, no
/// trace context.
pub fn log(i: u64) -> LogRecord {
    let i = i64::try_from(i).unwrap_or(i64::MAX);
    let time = now_unix_nanos();
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
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

/// The histogram's bucket bounds (milliseconds).
pub const HISTOGRAM_BOUNDS: [f64; 8] = [0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0];

/// The two metrics of one `metrics` iteration, for loop index `i` of thread `t`; `start` is
/// the cumulative start time (the run's start).
///
/// * `bench.counter`: a monotonic cumulative Sum, one int point with value `i + 1` (thread
///   `t`'s running count);
/// * `bench.duration`: a cumulative Histogram, one point holding one measurement
///   `(i % 400) * 0.25` ms in the buckets [`HISTOGRAM_BOUNDS`], with sum, min and max.
///
/// Both points carry the log record's attribute shapes: two constant 16-byte strings, an
/// int (`t`) and a bool (`i % 2 == 0`), so each thread feeds two series per metric, each
/// of them increasing.
pub fn metrics(i: u64, t: usize, start: u64) -> [Metric; 2] {
    let now = now_unix_nanos();
    let attributes = vec![
        KeyValue::new("metric.str0", "alpha-0123456789"),
        KeyValue::new("metric.str1", "bravo-0123456789"),
        KeyValue::new("metric.int", t),
        KeyValue::new("metric.bool", i % 2 == 0),
    ];
    let value = (i % 400) as f64 * 0.25;
    let mut bucket_counts = vec![0u64; HISTOGRAM_BOUNDS.len() + 1];
    let bucket = HISTOGRAM_BOUNDS
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(HISTOGRAM_BOUNDS.len());
    bucket_counts[bucket] = 1;
    let counter = Metric {
        name: Cow::Borrowed("bench.counter"),
        description: Cow::Borrowed("iterations done by a producer thread"),
        unit: Cow::Borrowed("{iteration}"),
        data: MetricData::Sum {
            points: vec![NumberDataPoint {
                attributes: attributes.clone(),
                start_time_unix_nano: start,
                time_unix_nano: now,
                value: NumberValue::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                ..NumberDataPoint::default()
            }],
            temporality: AggregationTemporality::Cumulative,
            is_monotonic: true,
        },
        metadata: Vec::new(),
    };
    let histogram = Metric {
        name: Cow::Borrowed("bench.duration"),
        description: Cow::Borrowed("a made-up duration"),
        unit: Cow::Borrowed("ms"),
        data: MetricData::Histogram {
            points: vec![HistogramDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: now,
                count: 1,
                sum: Some(value),
                bucket_counts,
                explicit_bounds: HISTOGRAM_BOUNDS.to_vec(),
                min: Some(value),
                max: Some(value),
                ..HistogramDataPoint::default()
            }],
            temporality: AggregationTemporality::Cumulative,
        },
        metadata: Vec::new(),
    };
    [counter, histogram]
}

/// Totals over the produced signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Records offered.
    pub offered: u64,
    /// Records exported.
    pub exported: u64,
    /// Records dropped, by reason.
    pub dropped: Dropped,
    /// Records still queued (only after a shutdown that timed out).
    pub queued: u64,
}

impl Totals {
    /// Adds one signal's counters.
    pub fn add(&mut self, s: &SignalStats) {
        self.offered += s.offered;
        self.exported += s.exported;
        self.queued += s.queued;
        let d = &mut self.dropped;
        d.queue_full += s.dropped.queue_full;
        d.rejected += s.dropped.rejected;
        d.retries_exhausted += s.dropped.retries_exhausted;
        d.too_large += s.dropped.too_large;
        d.shutdown += s.dropped.shutdown;
        d.worker_panic += s.dropped.worker_panic;
        d.compress_failed += s.dropped.compress_failed;
        d.partial_rejected += s.dropped.partial_rejected;
    }

    /// The final line: `offered=N exported=N dropped=N` and every drop reason.
    pub fn final_line(&self) -> String {
        let d = &self.dropped;
        format!(
            "offered={} exported={} dropped={} queue_full={} rejected={} \
             retries_exhausted={} too_large={} shutdown={} partial_rejected={} \
             worker_panic={} compress_failed={}",
            self.offered,
            self.exported,
            d.total(),
            d.queue_full,
            d.rejected,
            d.retries_exhausted,
            d.too_large,
            d.shutdown,
            d.partial_rejected,
            d.worker_panic,
            d.compress_failed,
        )
    }
}

/// The `key=value` pairs of a final line, in order; `None` unless it starts with
/// `offered=` and every field is `key=<u64>`.
pub fn parse_final_line(line: &str) -> Option<Vec<(String, u64)>> {
    if !line.starts_with("offered=") {
        return None;
    }
    line.split_whitespace()
        .map(|field| {
            let (k, v) = field.split_once('=')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect()
}
