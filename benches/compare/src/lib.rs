//! Shared parts of the comparison peers: command line, the producer harness (barrier,
//! per-thread wall and CPU time), process CPU and peak RSS, the sink's `/reset` and
//! `/stats`, and the one-line JSON result. See `shared/bench/WORKLOAD.md` section 5 for the
//! definition of every figure.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Which signal a peer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalArg {
    /// Spans to `/v1/traces`.
    Traces,
    /// Log records to `/v1/logs`.
    Logs,
}

/// The peers' command line.
#[derive(Debug, Clone)]
pub struct Args {
    /// Base endpoint of the sink, `http://127.0.0.1:PORT` (no path).
    pub endpoint: String,
    /// `--signal traces|logs`.
    pub signal: SignalArg,
    /// `--count N`: items in total.
    pub count: u64,
    /// `--threads T`: producer threads.
    pub threads: usize,
    /// `--queue Q`: batch processor queue capacity.
    pub queue: usize,
    /// `--gzip`: `Content-Encoding: gzip`.
    pub gzip: bool,
    /// `--batch B`: max export batch size, records (default 512, the workload's).
    pub batch: usize,
    /// `--attrs A`: span attribute count (default 8, the workload's). Fewer than 8: the
    /// first A of the workload's list; more: the workload's 8 plus `A - 8`
    /// [`extra_attr`] attributes. Traces only; log records keep their 4.
    pub attrs: usize,
}

impl Args {
    /// Parses `std::env::args()`; exits with a usage message on error.
    pub fn parse(peer: &str) -> Args {
        let mut a = Args {
            endpoint: String::new(),
            signal: SignalArg::Traces,
            count: 100_000,
            threads: 2,
            queue: 2048,
            gzip: false,
            batch: 512,
            attrs: 8,
        };
        let usage = |msg: &str| -> ! {
            eprintln!("{peer}: {msg}");
            eprintln!(
                "usage: {peer} --endpoint http://127.0.0.1:PORT [--signal traces|logs] [--count N] [--threads T] [--queue Q] [--gzip] [--batch B] [--attrs A]"
            );
            std::process::exit(2)
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let mut val = |name: &str| {
                it.next()
                    .unwrap_or_else(|| usage(&format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--endpoint" => a.endpoint = val("--endpoint").trim_end_matches('/').to_string(),
                "--signal" => {
                    a.signal = match val("--signal").as_str() {
                        "traces" => SignalArg::Traces,
                        "logs" => SignalArg::Logs,
                        other => usage(&format!("unknown signal {other}")),
                    }
                }
                "--count" => {
                    a.count = val("--count")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --count"))
                }
                "--threads" => {
                    a.threads = val("--threads")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --threads"))
                }
                "--queue" => {
                    a.queue = val("--queue")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --queue"))
                }
                "--gzip" => a.gzip = true,
                "--batch" => {
                    a.batch = val("--batch")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --batch"))
                }
                "--attrs" => {
                    a.attrs = val("--attrs")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --attrs"))
                }
                "-h" | "--help" => usage("help"),
                other => usage(&format!("unknown argument {other}")),
            }
        }
        if a.endpoint.is_empty() {
            usage("--endpoint is required");
        }
        if a.threads == 0 || a.count == 0 {
            usage("--threads and --count must be at least 1");
        }
        a
    }

    /// `host:port` of the endpoint, for the sink control requests.
    pub fn host_port(&self) -> &str {
        self.endpoint
            .strip_prefix("http://")
            .unwrap_or(&self.endpoint)
            .split('/')
            .next()
            .unwrap_or("")
    }

    /// The full signal URL, `http://127.0.0.1:PORT/v1/traces` or `/v1/logs`.
    pub fn signal_url(&self) -> String {
        match self.signal {
            SignalArg::Traces => format!("{}/v1/traces", self.endpoint),
            SignalArg::Logs => format!("{}/v1/logs", self.endpoint),
        }
    }

    /// `"traces"` or `"logs"`.
    pub fn signal_name(&self) -> &'static str {
        match self.signal {
            SignalArg::Traces => "traces",
            SignalArg::Logs => "logs",
        }
    }
}

/// An attribute value of the scaling options, converted by each peer into its own type.
/// The conversion is a `match` on a loop-invariant index pattern; both peers pay it alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BenchValue {
    /// A `'static` string.
    Str(&'static str),
    /// An int64.
    Int(i64),
    /// A double.
    F64(f64),
    /// A bool.
    Bool(bool),
}

/// The workload's 8 span attributes (WORKLOAD.md section 2), in order, for loop index `i`
/// and thread `t`. The peers write the first two and, with 8 or more attributes, all
/// eight as literal code (what the workload is); this function serves `--attrs 3..=7`.
pub fn workload_attr(index: usize, i: i64, t: usize) -> (&'static str, BenchValue) {
    match index {
        0 => ("bench.str0", BenchValue::Str("alpha-0123456789")),
        1 => ("bench.str1", BenchValue::Str("bravo-0123456789")),
        2 => ("bench.str2", BenchValue::Str("charlie-01234567")),
        3 => ("bench.str3", BenchValue::Str("delta-0123456789")),
        4 => ("bench.int0", BenchValue::Int(i)),
        5 => ("bench.int1", BenchValue::Int(t as i64)),
        6 => ("bench.f64", BenchValue::F64(i as f64 * 0.25)),
        _ => ("bench.bool", BenchValue::Bool(i % 2 == 0)),
    }
}

/// The `'static` keys `bench.extra0`, `bench.extra1`, ... for `--attrs A` (A > 8): `A - 8`
/// of them, made once at start-up (leaked on purpose, like literals) so that neither
/// peer formats or allocates a key per span.
pub fn extra_keys(attrs: usize) -> Vec<&'static str> {
    (0..attrs.saturating_sub(8))
        .map(|n| &*Box::leak(format!("bench.extra{n}").into_boxed_str()))
        .collect()
}

/// The value of extra attribute `n` (key `bench.extra{n}`) at loop index `i`: cycling
/// string / int64 / double / bool. Strings are a 16-byte constant like the workload's.
#[inline]
pub fn extra_attr(n: usize, i: i64) -> BenchValue {
    match n % 4 {
        0 => BenchValue::Str("extra-0123456789"),
        1 => BenchValue::Int(i + n as i64),
        2 => BenchValue::F64(i as f64 * 0.5 + n as f64),
        _ => BenchValue::Bool((i + n as i64) % 2 == 0),
    }
}

/// User + system CPU seconds of this process so far, `getrusage(RUSAGE_SELF)`.
pub fn process_cpu_s() -> f64 {
    let ru = rusage();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Peak resident set size of this process over its lifetime, KiB (`ru_maxrss` on Linux).
pub fn peak_rss_kib() -> u64 {
    rusage().ru_maxrss.max(0) as u64
}

fn rusage() -> libc::rusage {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage and RUSAGE_SELF a valid `who`.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru
}

/// CPU time of the calling thread, nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_ns() -> u64 {
    // SAFETY: timespec is plain old data; all-zero is a valid value.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is valid on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Wall clock now, nanoseconds since the Unix epoch.
#[inline]
pub fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A fast xorshift64* generator, one per producer thread (ids for our peer).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// Seeded from the thread index and the clock; never zero.
    pub fn new(thread: usize) -> Self {
        let seed = now_unix_nanos() ^ ((thread as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        XorShift(seed | 1)
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 16 random bytes, never all zero (a valid trace id).
    #[inline]
    pub fn trace_id(&mut self) -> [u8; 16] {
        let hi = self.next_u64();
        let lo = self.next_u64() | 1;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi.to_be_bytes());
        b[8..].copy_from_slice(&lo.to_be_bytes());
        b
    }

    /// 8 random bytes, never all zero (a valid span id).
    #[inline]
    pub fn span_id(&mut self) -> [u8; 8] {
        (self.next_u64() | 1).to_be_bytes()
    }
}

/// What the producer harness measured.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The instant the barrier released the producers.
    pub start: Instant,
    /// From `start` until all producer threads were joined.
    pub produce_wall: Duration,
    /// Sum over threads of the loop's monotonic time, ns.
    pub loop_wall_ns: u64,
    /// Sum over threads of the loop's thread CPU time, ns.
    pub loop_cpu_ns: u64,
}

/// Runs `threads` producer threads released together by a barrier. Thread `t` calls
/// `produce(t, n)` once, where `n = count / threads` (the last thread also takes the
/// remainder); `produce` runs the item loop `for i in 0..n`. The loop's wall and thread
/// CPU time are measured around that call.
pub fn run_producers<F>(threads: usize, count: u64, produce: F) -> Produced
where
    F: Fn(usize, u64) + Sync,
{
    let barrier = Barrier::new(threads + 1);
    let per = count / threads as u64;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let n = if t == threads - 1 {
                    count - per * (threads as u64 - 1)
                } else {
                    per
                };
                let barrier = &barrier;
                let produce = &produce;
                std::thread::Builder::new()
                    .name(format!("producer-{t}"))
                    .spawn_scoped(s, move || {
                        barrier.wait();
                        let w0 = Instant::now();
                        let c0 = thread_cpu_ns();
                        produce(t, n);
                        let c1 = thread_cpu_ns();
                        (w0.elapsed().as_nanos() as u64, c1.saturating_sub(c0))
                    })
                    .expect("spawn producer thread")
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut loop_wall_ns = 0;
        let mut loop_cpu_ns = 0;
        for h in handles {
            let (w, c) = h.join().expect("producer thread panicked");
            loop_wall_ns += w;
            loop_cpu_ns += c;
        }
        Produced {
            start,
            produce_wall: start.elapsed(),
            loop_wall_ns,
            loop_cpu_ns,
        }
    })
}

/// One plain HTTP/1.1 request to the sink with `Connection: close`; returns the body.
fn sink_request(host_port: &str, method: &str, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(host_port)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    if !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!(
            "sink {method} {path}: {}",
            head.lines().next().unwrap_or("")
        )));
    }
    Ok(body.to_string())
}

/// `POST /reset` on the sink.
pub fn sink_reset(args: &Args) {
    if let Err(e) = sink_request(args.host_port(), "POST", "/reset") {
        eprintln!("sink reset failed: {e}");
        std::process::exit(1);
    }
}

/// `GET /stats` from the sink, parsed.
pub fn sink_stats(args: &Args) -> Value {
    match sink_request(args.host_port(), "GET", "/stats")
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_str(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("sink stats failed: {e}");
            std::process::exit(1);
        }
    }
}

/// Everything a run measured, besides the sink's counters.
#[derive(Debug, Clone)]
pub struct RunFigures {
    /// `"official"` or `"ours"`.
    pub peer: &'static str,
    /// Items offered by the producers (`count`).
    pub offered: u64,
    /// Items that reached the exporter, when the peer can tell.
    pub handed_to_exporter: Option<u64>,
    /// Failed exports, when the peer can tell.
    pub failed_exports: Option<u64>,
    /// The producer harness result.
    pub produced: Produced,
    /// Barrier release until shutdown returned.
    pub wall: Duration,
    /// Process CPU s between just before the exporter was built and just after shutdown.
    pub cpu_s: f64,
    /// Whether shutdown reported success.
    pub shutdown_ok: bool,
}

/// Prints the one-line JSON result of a run (WORKLOAD.md section 5 figures).
pub fn print_result(args: &Args, f: &RunFigures, stats: &Value) {
    let get = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
    let delivered = match args.signal {
        SignalArg::Traces => get("spans"),
        SignalArg::Logs => get("log_records"),
    };
    let wall_s = f.wall.as_secs_f64();
    let offered = f.offered;
    let per = |x: f64, n: u64| {
        if n == 0 {
            Value::Null
        } else {
            json!(x / n as f64)
        }
    };
    let line = json!({
        "peer": f.peer,
        "signal": args.signal_name(),
        "gzip": args.gzip,
        "count": args.count,
        "threads": args.threads,
        "queue": args.queue,
        "batch": args.batch,
        "attrs": args.attrs,
        "offered": offered,
        "delivered": delivered,
        "dropped": offered.saturating_sub(delivered),
        "handed_to_exporter": f.handed_to_exporter,
        "failed_exports": f.failed_exports,
        "shutdown_ok": f.shutdown_ok,
        "wall_s": wall_s,
        "produce_wall_s": f.produced.produce_wall.as_secs_f64(),
        "cpu_s": f.cpu_s,
        "peak_rss_kib": peak_rss_kib(),
        "delivered_per_s": if wall_s > 0.0 { json!(delivered as f64 / wall_s) } else { Value::Null },
        "cpu_us_per_delivered": per(f.cpu_s * 1e6, delivered),
        "cpu_us_per_offered": per(f.cpu_s * 1e6, offered),
        "app_ns_wall": per(f.produced.loop_wall_ns as f64, offered),
        "app_ns_cpu": per(f.produced.loop_cpu_ns as f64, offered),
        "sink_cpu_s": stats.get("sink_cpu_s").cloned().unwrap_or(Value::Null),
        "sink_requests": get("requests"),
        "sink_errors": get("errors"),
        "wire_bytes": get("wire_bytes"),
        "decoded_bytes": get("decoded_bytes"),
        "wire_bytes_per_item": per(get("wire_bytes") as f64, delivered),
        "decoded_bytes_per_item": per(get("decoded_bytes") as f64, delivered),
    });
    println!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_numbered_from_zero_beyond_the_workload_eight() {
        assert!(extra_keys(2).is_empty());
        assert!(extra_keys(8).is_empty());
        let keys = extra_keys(32);
        assert_eq!(keys.len(), 24);
        assert_eq!(keys[0], "bench.extra0");
        assert_eq!(keys[23], "bench.extra23");
    }

    #[test]
    fn extra_values_cycle_string_int_double_bool() {
        assert_eq!(extra_attr(0, 7), BenchValue::Str("extra-0123456789"));
        assert_eq!(extra_attr(1, 7), BenchValue::Int(8));
        assert_eq!(extra_attr(2, 7), BenchValue::F64(5.5));
        assert_eq!(extra_attr(3, 7), BenchValue::Bool(true));
        assert_eq!(extra_attr(4, 7), BenchValue::Str("extra-0123456789"));
        assert_eq!(extra_attr(7, 2), BenchValue::Bool(false));
    }

    #[test]
    fn workload_attrs_follow_the_workload_table() {
        let keys: Vec<&str> = (0..8).map(|k| workload_attr(k, 6, 1).0).collect();
        assert_eq!(
            keys,
            [
                "bench.str0",
                "bench.str1",
                "bench.str2",
                "bench.str3",
                "bench.int0",
                "bench.int1",
                "bench.f64",
                "bench.bool"
            ]
        );
        assert_eq!(workload_attr(4, 6, 1).1, BenchValue::Int(6));
        assert_eq!(workload_attr(5, 6, 1).1, BenchValue::Int(1));
        assert_eq!(workload_attr(6, 6, 1).1, BenchValue::F64(1.5));
        assert_eq!(workload_attr(7, 6, 1).1, BenchValue::Bool(true));
    }
}
