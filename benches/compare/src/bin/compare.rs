//! The comparison driver: starts ONE sink, then for R repetitions runs every case with the
//! official peer and (when built) our peer in alternation, and prints a markdown table of
//! the median of each figure per case and peer, the ours/official ratios, and the issue #5
//! targets with PASS/FAIL.
//!
//! ```text
//! compare [--reps R] [--count N] [--threads T] [--batch B] [--attrs A]
//!         [--cases a,b,..] [--scaling] [--ours | --no-ours]
//!         [--bin-dir DIR] [--raw FILE] [--peer-timeout SECS]
//! ```
//!
//! Cases: traces (queue 2048), traces-gzip, traces-nodrop (queue N), logs, logs-nodrop.
//! By default our peer runs when `peer_ours` exists next to this binary.
//!
//! `--scaling` runs the traces-nodrop case instead, over threads 1/2/4 (attrs 8, batch
//! 512), batch 128/512/2048 (threads 2, attrs 8) and attrs 2/8/32 (threads 2, batch 512),
//! each point also at `--count 1000` for the RSS baseline, and prints one table per
//! dimension.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    signal: &'static str,
    gzip: bool,
    nodrop: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "traces",
        signal: "traces",
        gzip: false,
        nodrop: false,
    },
    Case {
        name: "traces-gzip",
        signal: "traces",
        gzip: true,
        nodrop: false,
    },
    Case {
        name: "traces-nodrop",
        signal: "traces",
        gzip: false,
        nodrop: true,
    },
    Case {
        name: "logs",
        signal: "logs",
        gzip: false,
        nodrop: false,
    },
    Case {
        name: "logs-nodrop",
        signal: "logs",
        gzip: false,
        nodrop: true,
    },
];

/// The case `--scaling` sweeps.
const SCALING_CASE: &str = "traces-nodrop";
/// The count of the RSS baseline run of each scaling point.
const BASELINE_COUNT: u64 = 1000;

struct Opts {
    reps: usize,
    count: u64,
    threads: usize,
    batch: usize,
    attrs: usize,
    cases: Vec<&'static Case>,
    scaling: bool,
    ours: Option<bool>,
    bin_dir: PathBuf,
    raw: Option<PathBuf>,
    peer_timeout: Duration,
}

fn usage(msg: &str) -> ! {
    eprintln!("compare: {msg}");
    eprintln!(
        "usage: compare [--reps R] [--count N] [--threads T] [--batch B] [--attrs A] [--cases traces,traces-gzip,traces-nodrop,logs,logs-nodrop] [--scaling] [--ours|--no-ours] [--bin-dir DIR] [--raw FILE] [--peer-timeout SECS]"
    );
    std::process::exit(2)
}

fn parse() -> Opts {
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let mut o = Opts {
        reps: 3,
        count: 100_000,
        threads: 2,
        batch: 512,
        attrs: 8,
        cases: CASES.iter().collect(),
        scaling: false,
        ours: None,
        bin_dir,
        raw: None,
        peer_timeout: Duration::from_secs(300),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--reps" => o.reps = val().parse().unwrap_or_else(|_| usage("bad --reps")),
            "--count" => o.count = val().parse().unwrap_or_else(|_| usage("bad --count")),
            "--threads" => o.threads = val().parse().unwrap_or_else(|_| usage("bad --threads")),
            "--batch" => o.batch = val().parse().unwrap_or_else(|_| usage("bad --batch")),
            "--attrs" => o.attrs = val().parse().unwrap_or_else(|_| usage("bad --attrs")),
            "--cases" => {
                o.cases = val()
                    .split(',')
                    .map(|n| {
                        CASES
                            .iter()
                            .find(|c| c.name == n.trim())
                            .unwrap_or_else(|| usage(&format!("unknown case {n}")))
                    })
                    .collect()
            }
            "--scaling" => o.scaling = true,
            "--ours" => o.ours = Some(true),
            "--no-ours" => o.ours = Some(false),
            "--bin-dir" => o.bin_dir = PathBuf::from(val()),
            "--raw" => o.raw = Some(PathBuf::from(val())),
            "--peer-timeout" => {
                o.peer_timeout = Duration::from_secs(
                    val()
                        .parse()
                        .unwrap_or_else(|_| usage("bad --peer-timeout")),
                )
            }
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if o.reps == 0 || o.count == 0 || o.threads == 0 || o.batch == 0 {
        usage("--reps, --count, --threads and --batch must be at least 1");
    }
    o
}

/// Kills the sink (our own child) when the driver ends, however it ends.
struct SinkGuard(Child);

impl Drop for SinkGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One peer invocation's parameters.
#[derive(Clone, Copy)]
struct Spec {
    case: &'static Case,
    count: u64,
    threads: usize,
    batch: usize,
    attrs: usize,
}

/// What every run needs: the peers, the sink, where raw lines go, the failures so far.
struct Runner<'a> {
    peers: Vec<(&'static str, &'a Path)>,
    endpoint: String,
    timeout: Duration,
    raw: Option<std::fs::File>,
    failures: Vec<String>,
}

impl Runner<'_> {
    /// Runs `spec` once with every peer (the order flips with `rep`); pushes each result
    /// into `out[peer]`. `label` names the run in the progress and failure lines.
    fn run(&mut self, spec: Spec, rep: usize, reps: usize, label: &str, out: &mut [Vec<Value>]) {
        // Alternate which peer goes first, so neither always runs on a warmer machine.
        let order: Vec<usize> = if rep.is_multiple_of(2) {
            (0..self.peers.len()).collect()
        } else {
            (0..self.peers.len()).rev().collect()
        };
        for pi in order {
            let (pname, bin) = self.peers[pi];
            let queue = if spec.case.nodrop { spec.count } else { 2048 };
            let mut cmd = Command::new(bin);
            cmd.args(["--endpoint", &self.endpoint, "--signal", spec.case.signal])
                .args(["--count", &spec.count.to_string()])
                .args(["--threads", &spec.threads.to_string()])
                .args(["--queue", &queue.to_string()])
                .args(["--batch", &spec.batch.to_string()])
                .args(["--attrs", &spec.attrs.to_string()]);
            if spec.case.gzip {
                cmd.arg("--gzip");
            }
            // Loopback only: no proxy for either peer, whatever this shell has.
            for var in PROXY_VARS {
                cmd.env_remove(var);
            }
            eprintln!("compare: rep {}/{reps} {label} {pname}", rep + 1);
            match run_peer(cmd, self.timeout) {
                Ok(v) => {
                    if let Some(f) = self.raw.as_mut() {
                        let mut v2 = v.clone();
                        v2["case"] = Value::from(label);
                        v2["rep"] = Value::from(rep);
                        let _ = writeln!(f, "{v2}");
                    }
                    out[pi].push(v);
                }
                Err(e) => {
                    eprintln!("compare: {label} {pname} rep {}: {e}", rep + 1);
                    self.failures
                        .push(format!("{label} {pname} rep {}: {e}", rep + 1));
                }
            }
        }
    }
}

/// Proxy variables the peers' HTTP clients would read.
const PROXY_VARS: [&str; 8] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn main() {
    let o = parse();
    let official = o.bin_dir.join("peer_official");
    let ours_bin = o.bin_dir.join("peer_ours");
    let run_ours = match o.ours {
        Some(true) if !ours_bin.exists() => usage(&format!(
            "{} not built (cargo build --release --features ours)",
            ours_bin.display()
        )),
        Some(v) => v,
        None => ours_bin.exists(),
    };
    if !official.exists() {
        usage(&format!("{} not built", official.display()));
    }

    let mut sink = Command::new(o.bin_dir.join("sink"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| usage(&format!("cannot start the sink: {e}")));
    let stdout = sink.stdout.take().unwrap_or_else(|| usage("sink stdout"));
    let guard = SinkGuard(sink);
    let mut line = String::new();
    let mut reader = BufReader::new(stdout);
    if reader.read_line(&mut line).is_err() || line.trim().parse::<u16>().is_err() {
        usage("the sink did not print its port");
    }
    let endpoint = format!("http://127.0.0.1:{}", line.trim());
    eprintln!(
        "compare: sink at {endpoint}; N={} T={} B={} A={} R={}{}; peers: official{}",
        o.count,
        o.threads,
        o.batch,
        o.attrs,
        o.reps,
        if o.scaling { " (scaling)" } else { "" },
        if run_ours {
            " + ours"
        } else {
            " only (peer_ours not built)"
        }
    );
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let raw = o.raw.as_ref().map(|p| {
        std::fs::File::create(p).unwrap_or_else(|e| usage(&format!("--raw {}: {e}", p.display())))
    });
    let peers: Vec<(&str, &Path)> = if run_ours {
        vec![
            ("official", official.as_path()),
            ("ours", ours_bin.as_path()),
        ]
    } else {
        vec![("official", official.as_path())]
    };
    let mut runner = Runner {
        peers,
        endpoint,
        timeout: o.peer_timeout,
        raw,
        failures: Vec::new(),
    };
    if o.scaling {
        let points = scaling_points();
        let mut full = vec![vec![Vec::new(); runner.peers.len()]; points.len()];
        let mut base = vec![vec![Vec::new(); runner.peers.len()]; points.len()];
        for rep in 0..o.reps {
            for (k, p) in points.iter().enumerate() {
                let spec = Spec {
                    case: scaling_case(),
                    count: o.count,
                    threads: p.threads,
                    batch: p.batch,
                    attrs: p.attrs,
                };
                let label = format!("{SCALING_CASE} T={} B={} A={}", p.threads, p.batch, p.attrs);
                runner.run(spec, rep, o.reps, &label, &mut full[k]);
                let spec = Spec {
                    count: BASELINE_COUNT,
                    ..spec
                };
                runner.run(
                    spec,
                    rep,
                    o.reps,
                    &format!("{label} N={BASELINE_COUNT}"),
                    &mut base[k],
                );
            }
        }
        drop(guard);
        let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        print_scaling(
            &o,
            &runner.peers,
            &points,
            &full,
            &base,
            load_before.trim(),
            load_after.trim(),
        );
    } else {
        // results[case][peer] = runs
        let mut results: Vec<Vec<Vec<Value>>> =
            vec![vec![Vec::new(); runner.peers.len()]; o.cases.len()];
        for rep in 0..o.reps {
            for (ci, case) in o.cases.iter().enumerate() {
                let spec = Spec {
                    case,
                    count: o.count,
                    threads: o.threads,
                    batch: o.batch,
                    attrs: o.attrs,
                };
                runner.run(spec, rep, o.reps, case.name, &mut results[ci]);
            }
        }
        drop(guard);
        let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        print_tables(
            &o,
            &runner.peers,
            &results,
            load_before.trim(),
            load_after.trim(),
        );
    }
    if !runner.failures.is_empty() {
        println!("\nFailed runs (not in the medians):");
        for f in &runner.failures {
            println!("- {f}");
        }
        std::process::exit(1);
    }
}

fn scaling_case() -> &'static Case {
    CASES
        .iter()
        .find(|c| c.name == SCALING_CASE)
        .expect("the scaling case is in CASES")
}

/// One point of the scaling sweep.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Point {
    threads: usize,
    batch: usize,
    attrs: usize,
}

/// A scaling dimension: its name, what stays fixed, and its points (threads, batch, attrs).
struct Dimension {
    name: &'static str,
    fixed: &'static str,
    points: [Point; 3],
}

const fn pt(threads: usize, batch: usize, attrs: usize) -> Point {
    Point {
        threads,
        batch,
        attrs,
    }
}

const DIMENSIONS: [Dimension; 3] = [
    Dimension {
        name: "threads",
        fixed: "attrs 8, batch 512",
        points: [pt(1, 512, 8), pt(2, 512, 8), pt(4, 512, 8)],
    },
    Dimension {
        name: "batch",
        fixed: "threads 2, attrs 8",
        points: [pt(2, 128, 8), pt(2, 512, 8), pt(2, 2048, 8)],
    },
    Dimension {
        name: "attrs",
        fixed: "threads 2, batch 512",
        points: [pt(2, 512, 2), pt(2, 512, 8), pt(2, 512, 32)],
    },
];

/// The distinct points of all dimensions (the shared T=2 B=512 A=8 point runs once).
fn scaling_points() -> Vec<Point> {
    let mut v: Vec<Point> = Vec::new();
    for d in &DIMENSIONS {
        for p in d.points {
            if !v.contains(&p) {
                v.push(p);
            }
        }
    }
    v
}

/// Runs one peer with a time bound; returns its last stdout line parsed as JSON.
fn run_peer(mut cmd: Command, timeout: Duration) -> Result<Value, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut s);
        s
    });
    let t0 = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if t0.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let last = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(last).map_err(|e| format!("bad result line {last:?}: {e}"))
}

fn median(runs: &[Value], key: &str) -> Option<f64> {
    let mut v: Vec<f64> = runs.iter().filter_map(|r| r.get(key)?.as_f64()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn fmt(x: Option<f64>, decimals: usize) -> String {
    match x {
        None => "-".into(),
        Some(x) if decimals == 0 => group(x.round() as i64),
        Some(x) => format!("{x:.decimals$}"),
    }
}

/// 1234567 -> "1,234,567".
fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Ratio ours / official of the medians of `key`, when both exist and the official's is
/// not 0.
fn ratio_of(official: &[Value], ours: &[Value], key: &str) -> Option<f64> {
    match (median(ours, key), median(official, key)) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

fn print_tables(
    o: &Opts,
    peers: &[(&str, &Path)],
    results: &[Vec<Vec<Value>>],
    load: &str,
    load_after: &str,
) {
    println!(
        "Median of {} run(s) per figure; N = {}, T = {}, batch = {}, attrs = {}; one sink, cases run in alternation; load average before: {load}; after: {load_after}\n",
        o.reps, o.count, o.threads, o.batch, o.attrs
    );
    println!(
        "| case | peer | runs | offered | delivered | dropped | wall s | produce wall s | CPU s | peak RSS MiB | delivered/s | CPU µs/delivered | CPU µs/offered | app ns/item (wall / thread CPU) | sink CPU s | wire B/item |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (ci, case) in o.cases.iter().enumerate() {
        for (pi, (pname, _)) in peers.iter().enumerate() {
            let r = &results[ci][pi];
            let m = |k: &str| median(r, k);
            println!(
                "| {} | {pname} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} |",
                case.name,
                r.len(),
                fmt(m("offered"), 0),
                fmt(m("delivered"), 0),
                fmt(m("dropped"), 0),
                fmt(m("wall_s"), 3),
                fmt(m("produce_wall_s"), 3),
                fmt(m("cpu_s"), 3),
                fmt(m("peak_rss_kib").map(|k| k / 1024.0), 1),
                fmt(m("delivered_per_s"), 0),
                fmt(m("cpu_us_per_delivered"), 2),
                fmt(m("cpu_us_per_offered"), 3),
                fmt(m("app_ns_wall"), 0),
                fmt(m("app_ns_cpu"), 0),
                fmt(m("sink_cpu_s"), 3),
                fmt(m("wire_bytes_per_item"), 1),
            );
        }
    }
    if peers.len() < 2 {
        println!("\n(ours/official ratios and targets: our peer was not run)");
        return;
    }
    println!("\nRatios ours / official (of the medians; < 1 means ours is smaller):\n");
    println!(
        "| case | CPU µs/delivered | app ns/item (CPU) | app ns/item (wall) | peak RSS | delivered | delivered/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (ci, case) in o.cases.iter().enumerate() {
        let ratio = |k: &str| fmt(ratio_of(&results[ci][0], &results[ci][1], k), 2);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            case.name,
            ratio("cpu_us_per_delivered"),
            ratio("app_ns_cpu"),
            ratio("app_ns_wall"),
            ratio("peak_rss_kib"),
            ratio("delivered"),
            ratio("delivered_per_s"),
        );
    }
    print_targets(o, results);
}

/// One bar of issue #5: the ratio ours / official of `key` must be at most (`at_most`) or
/// at least `bar`, in each of `cases`.
struct Target {
    figure: &'static str,
    key: &'static str,
    cases: &'static [&'static str],
    at_most: bool,
    bar: f64,
    bar_text: &'static str,
}

const TARGETS: [Target; 4] = [
    Target {
        figure: "CPU µs/delivered",
        key: "cpu_us_per_delivered",
        cases: &["traces", "traces-nodrop"],
        at_most: true,
        bar: 0.25,
        bar_text: "≤ 0.25",
    },
    Target {
        figure: "app-thread CPU ns/span",
        key: "app_ns_cpu",
        cases: &["traces", "traces-nodrop"],
        at_most: true,
        bar: 1.0 / 3.0,
        bar_text: "≤ 1/3 (0.333)",
    },
    Target {
        figure: "peak RSS",
        key: "peak_rss_kib",
        cases: &["traces-nodrop", "logs-nodrop"],
        at_most: true,
        bar: 1.0 / 3.0,
        bar_text: "≤ 1/3 (0.333)",
    },
    Target {
        figure: "delivered (queue 2048)",
        key: "delivered",
        cases: &["traces"],
        at_most: false,
        bar: 5.0,
        bar_text: "≥ 5",
    },
];

/// The issue #5 targets: each ratio of the medians against its bar, PASS or FAIL; a case
/// that was not run (or has no result for a peer) is reported as such.
fn print_targets(o: &Opts, results: &[Vec<Vec<Value>>]) {
    println!("\nTargets (issue #5; ratio ours / official of the medians):\n");
    println!("| figure | case | ours / official | bar | result |");
    println!("|---|---|---|---|---|");
    let (mut pass, mut total, mut not_run) = (0, 0, 0);
    for t in &TARGETS {
        for case in t.cases {
            total += 1;
            let ratio = o
                .cases
                .iter()
                .position(|c| c.name == *case)
                .and_then(|ci| ratio_of(&results[ci][0], &results[ci][1], t.key));
            let verdict = match ratio {
                None => {
                    not_run += 1;
                    "not run".to_string()
                }
                Some(r) if (t.at_most && r <= t.bar) || (!t.at_most && r >= t.bar) => {
                    pass += 1;
                    "PASS".to_string()
                }
                Some(_) => "FAIL".to_string(),
            };
            println!(
                "| {} | {case} | {} | {} | {verdict} |",
                t.figure,
                fmt(ratio, 3),
                t.bar_text
            );
        }
    }
    println!(
        "\n{pass} of {} evaluated targets PASS ({not_run} of {total} not run).",
        total - not_run
    );
}

/// Peak RSS growth per item of the full run over the baseline run, bytes:
/// (median peak RSS at N − median peak RSS at N = 1000) / N.
fn rss_per_item(full: &[Value], base: &[Value], count: u64) -> Option<f64> {
    let f = median(full, "peak_rss_kib")?;
    let b = median(base, "peak_rss_kib")?;
    Some((f - b) * 1024.0 / count as f64)
}

fn print_scaling(
    o: &Opts,
    peers: &[(&str, &Path)],
    points: &[Point],
    full: &[Vec<Vec<Value>>],
    base: &[Vec<Vec<Value>>],
    load: &str,
    load_after: &str,
) {
    println!(
        "Scaling, case {SCALING_CASE} (queue N); median of {} run(s) per figure; N = {}; RSS baseline at N = {BASELINE_COUNT} (same peer, threads, batch, attrs); one sink, peers in alternation; load average before: {load}; after: {load_after}",
        o.reps, o.count
    );
    println!(
        "\nRSS B/queued span = (peak RSS at N − peak RSS at N = {BASELINE_COUNT}) / N: the memory a span costs while it waits in the queue (capacity N), plus what a larger run grows otherwise (allocator slack, batch buffers). The divisor is N, not the true peak queue depth, so it is a lower bound on the per-queued-span cost when the exporter keeps up with part of the load."
    );
    for d in &DIMENSIONS {
        let value = |p: &Point| match d.name {
            "threads" => p.threads,
            "batch" => p.batch,
            _ => p.attrs,
        };
        let idx = |p: &Point| points.iter().position(|q| q == p).expect("point was run");
        println!("\n### {} ({})\n", d.name, d.fixed);
        println!(
            "| {} | peer | runs | delivered | wall s | CPU s | peak RSS MiB | RSS MiB at N={BASELINE_COUNT} | RSS B/queued span | delivered/s | CPU µs/delivered | CPU µs/offered | app ns/item (wall / thread CPU) | wire B/item |",
            d.name
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for p in &d.points {
            let k = idx(p);
            for (pi, (pname, _)) in peers.iter().enumerate() {
                let r = &full[k][pi];
                let m = |key: &str| median(r, key);
                println!(
                    "| {} | {pname} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
                    value(p),
                    r.len(),
                    fmt(m("delivered"), 0),
                    fmt(m("wall_s"), 3),
                    fmt(m("cpu_s"), 3),
                    fmt(m("peak_rss_kib").map(|x| x / 1024.0), 1),
                    fmt(median(&base[k][pi], "peak_rss_kib").map(|x| x / 1024.0), 1),
                    fmt(rss_per_item(r, &base[k][pi], o.count), 0),
                    fmt(m("delivered_per_s"), 0),
                    fmt(m("cpu_us_per_delivered"), 2),
                    fmt(m("cpu_us_per_offered"), 3),
                    fmt(m("app_ns_wall"), 0),
                    fmt(m("app_ns_cpu"), 0),
                    fmt(m("wire_bytes_per_item"), 1),
                );
            }
        }
        if peers.len() < 2 {
            continue;
        }
        println!("\nRatios ours / official, {}:\n", d.name);
        println!(
            "| {} | CPU µs/delivered | app ns/item (CPU) | app ns/item (wall) | peak RSS | RSS B/queued span | delivered | delivered/s |",
            d.name
        );
        println!("|---|---|---|---|---|---|---|---|");
        for p in &d.points {
            let k = idx(p);
            let ratio = |key: &str| fmt(ratio_of(&full[k][0], &full[k][1], key), 2);
            let per_span = match (
                rss_per_item(&full[k][1], &base[k][1], o.count),
                rss_per_item(&full[k][0], &base[k][0], o.count),
            ) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                value(p),
                ratio("cpu_us_per_delivered"),
                ratio("app_ns_cpu"),
                ratio("app_ns_wall"),
                ratio("peak_rss_kib"),
                fmt(per_span, 2),
                ratio("delivered"),
                ratio("delivered_per_s"),
            );
        }
    }
}
