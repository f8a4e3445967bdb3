//! The comparison driver: starts ONE sink, then for R repetitions runs every case with the
//! official peer and (when built) our peer in alternation, and prints a markdown table of
//! the median of each figure per case and peer, plus the ours/official ratios.
//!
//! ```text
//! compare [--reps R] [--count N] [--threads T] [--cases a,b,..] [--ours | --no-ours]
//!         [--bin-dir DIR] [--raw FILE] [--peer-timeout SECS]
//! ```
//!
//! Cases: traces (queue 2048), traces-gzip, traces-nodrop (queue N), logs, logs-nodrop.
//! By default our peer runs when `peer_ours` exists next to this binary.

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

struct Opts {
    reps: usize,
    count: u64,
    threads: usize,
    cases: Vec<&'static Case>,
    ours: Option<bool>,
    bin_dir: PathBuf,
    raw: Option<PathBuf>,
    peer_timeout: Duration,
}

fn usage(msg: &str) -> ! {
    eprintln!("compare: {msg}");
    eprintln!(
        "usage: compare [--reps R] [--count N] [--threads T] [--cases traces,traces-gzip,traces-nodrop,logs,logs-nodrop] [--ours|--no-ours] [--bin-dir DIR] [--raw FILE] [--peer-timeout SECS]"
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
        cases: CASES.iter().collect(),
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
    if o.reps == 0 || o.count == 0 || o.threads == 0 {
        usage("--reps, --count and --threads must be at least 1");
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
        "compare: sink at {endpoint}; N={} T={} R={}; peers: official{}",
        o.count,
        o.threads,
        o.reps,
        if run_ours {
            " + ours"
        } else {
            " only (peer_ours not built)"
        }
    );
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let mut raw = o.raw.as_ref().map(|p| {
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
    // results[case][peer] = runs
    let mut results: Vec<Vec<Vec<Value>>> = vec![vec![Vec::new(); peers.len()]; o.cases.len()];
    let mut failures = Vec::new();
    for rep in 0..o.reps {
        for (ci, case) in o.cases.iter().enumerate() {
            // Alternate which peer goes first, so neither always runs on a warmer machine.
            let order: Vec<usize> = if rep.is_multiple_of(2) {
                (0..peers.len()).collect()
            } else {
                (0..peers.len()).rev().collect()
            };
            for pi in order {
                let (pname, bin) = peers[pi];
                let queue = if case.nodrop { o.count } else { 2048 };
                let mut cmd = Command::new(bin);
                cmd.args(["--endpoint", &endpoint, "--signal", case.signal])
                    .args(["--count", &o.count.to_string()])
                    .args(["--threads", &o.threads.to_string()])
                    .args(["--queue", &queue.to_string()]);
                if case.gzip {
                    cmd.arg("--gzip");
                }
                eprintln!("compare: rep {}/{} {} {pname}", rep + 1, o.reps, case.name);
                match run_peer(cmd, o.peer_timeout) {
                    Ok(v) => {
                        if let Some(f) = raw.as_mut() {
                            let mut v2 = v.clone();
                            v2["case"] = Value::from(case.name);
                            v2["rep"] = Value::from(rep);
                            let _ = writeln!(f, "{v2}");
                        }
                        results[ci][pi].push(v);
                    }
                    Err(e) => {
                        eprintln!("compare: {} {pname} rep {}: {e}", case.name, rep + 1);
                        failures.push(format!("{} {pname} rep {}: {e}", case.name, rep + 1));
                    }
                }
            }
        }
    }
    drop(guard);
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    print_tables(&o, &peers, &results, load_before.trim(), load_after.trim());
    if !failures.is_empty() {
        println!("\nFailed runs (not in the medians):");
        for f in &failures {
            println!("- {f}");
        }
        std::process::exit(1);
    }
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

fn print_tables(
    o: &Opts,
    peers: &[(&str, &Path)],
    results: &[Vec<Vec<Value>>],
    load: &str,
    load_after: &str,
) {
    println!(
        "Median of {} run(s) per figure; N = {}, T = {}; one sink, cases run in alternation; load average before: {load}; after: {load_after}\n",
        o.reps, o.count, o.threads
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
        println!("\n(ours/official ratios: our peer was not run)");
        return;
    }
    println!("\nRatios ours / official (of the medians; < 1 means ours is smaller):\n");
    println!(
        "| case | CPU µs/delivered | app ns/item (CPU) | app ns/item (wall) | peak RSS | delivered | delivered/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (ci, case) in o.cases.iter().enumerate() {
        let ratio = |k: &str| match (median(&results[ci][1], k), median(&results[ci][0], k)) {
            (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
            _ => "-".into(),
        };
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
}
