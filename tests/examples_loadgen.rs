//! The examples: `loadgen`'s pieces (examples/support/workload.rs) in process, then the
//! built `loadgen` and `demo` binaries against the fake collector.
//!
//! Plain `cargo test` builds the examples before it runs the tests; those binaries are used
//! when they are newer than every source file. Otherwise (`cargo test --test
//! examples_loadgen`, say) they are built once per run with the `cargo` that runs the tests
//! (`env!("CARGO")`), for this package's features and profile, in the same target
//! directory. Every child process is waited for with a deadline and killed past it.
#![cfg(feature = "http")]

mod support;
#[path = "../examples/support/workload.rs"]
mod workload;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use otlp_sync::encode::protobuf::{ProtoEncoder, span_encoded_len};
use otlp_sync::model::{
    AnyValue, InstrumentationScope, MetricData, Resource, ResourceGroup, ScopeGroup, Severity,
    SpanKind, StatusCode,
};
use otlp_sync::pipeline::{Dropped, SignalStats};
use prost::Message;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};
use support::collector::{Collector, Decoded};
use workload::{ArgError, LoadArgs, Parsed, SignalArg, Totals, XorShift};

// ---- In process: arguments, records, the final line -----------------------------------------

fn args(s: &str) -> Result<Parsed, ArgError> {
    workload::parse(s.split_whitespace().map(str::to_owned))
}

fn err(s: &str) -> String {
    match args(s) {
        Err(e) => e.to_string(),
        Ok(p) => panic!("{s:?} parsed as {p:?}"),
    }
}

#[test]
fn parses_every_flag_both_ways() {
    let parsed = args(
        "--signal all --count=100 --threads 3 --rate 2.5 --queue=64 --batch 32 \
         --shutdown-timeout 7",
    );
    assert_eq!(
        parsed,
        Ok(Parsed::Run(LoadArgs {
            signal: SignalArg::All,
            count: 100,
            threads: 3,
            rate: Some(2.5),
            queue: Some(64),
            batch: Some(32),
            shutdown_timeout: Duration::from_secs(7),
        }))
    );
    let Ok(Parsed::Run(minimal)) = args("--threads 1 --count 1 --signal metrics") else {
        panic!("minimal arguments rejected");
    };
    assert_eq!(minimal.signal, SignalArg::Metrics);
    assert_eq!(
        (minimal.rate, minimal.queue, minimal.batch),
        (None, None, None)
    );
    assert_eq!(minimal.shutdown_timeout, Duration::from_secs(60));
    assert_eq!(args("--count 1 --help"), Ok(Parsed::Help));
}

#[test]
fn bad_arguments_name_the_flag_and_the_value() {
    let cases = [
        (
            "--signal spans --count 1 --threads 1",
            &["--signal", "\"spans\""][..],
        ),
        ("--signal logs --count 0 --threads 1", &["--count", "\"0\""]),
        (
            "--signal logs --count -5 --threads 1",
            &["--count", "\"-5\""],
        ),
        (
            "--signal logs --count 1 --threads 0",
            &["--threads", "\"0\""],
        ),
        (
            "--signal logs --count 1 --threads 5000",
            &["--threads", "1024"],
        ),
        (
            "--signal logs --count 1 --threads x",
            &["--threads", "\"x\""],
        ),
        (
            "--signal logs --count 1 --threads 1 --rate 0",
            &["--rate", "\"0\""],
        ),
        (
            "--signal logs --count 1 --threads 1 --rate inf",
            &["--rate"],
        ),
        (
            "--signal logs --count 1 --threads 1 --queue 0",
            &["--queue"],
        ),
        (
            "--signal logs --count 1 --threads 1 --batch 1.5",
            &["--batch", "\"1.5\""],
        ),
        (
            "--signal logs --count 1 --threads",
            &["--threads needs a value"],
        ),
        ("--signal logs --count 1", &["missing --threads"]),
        ("--count 1 --threads 1", &["missing --signal"]),
        (
            "--signal logs --count 1 --threads 1 --fast",
            &["unknown argument", "--fast"],
        ),
        (
            "--signal logs --count 1 --count 2 --threads 1",
            &["--count given more than once"],
        ),
    ];
    for (line, needles) in cases {
        let message = err(line);
        for needle in needles {
            assert!(
                message.contains(needle),
                "{line:?}: {message:?} does not mention {needle:?}"
            );
        }
    }
}

#[test]
fn the_last_thread_takes_the_remainder() {
    for (count, threads) in [(10, 3), (1, 4), (100_000, 2), (7, 7), (5, 1)] {
        let shares: Vec<u64> = (0..threads)
            .map(|t| workload::share(count, threads, t))
            .collect();
        assert_eq!(shares.iter().sum::<u64>(), count, "{count}/{threads}");
        assert!(
            shares[..threads - 1]
                .iter()
                .all(|s| *s == count / threads as u64)
        );
    }
    assert_eq!(workload::share(10, 3, 2), 4);
}

#[test]
fn span_has_the_workload_shape_and_decodes() {
    let mut rng = XorShift::new(1);
    let span = workload::span(5, 1, &mut rng);
    assert_eq!(span.name, "bench-span");
    assert_eq!(span.kind, SpanKind::Internal);
    assert!(span.trace_id.is_valid() && span.span_id.is_valid());
    assert!(span.parent_span_id.is_none() && span.links.is_empty());
    assert_eq!(span.status.code, StatusCode::Ok);
    assert!(span.start_time_unix_nano > 1_600_000_000_000_000_000);
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    let keys: Vec<&str> = span.attributes.iter().map(|kv| &*kv.key).collect();
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
    let values: Vec<&AnyValue> = span.attributes.iter().map(|kv| &kv.value).collect();
    assert_eq!(values[2], &AnyValue::from("charlie-01234567"));
    assert_eq!(
        values[4..],
        [
            &AnyValue::Int(5),
            &AnyValue::Int(1),
            &AnyValue::Double(1.25),
            &AnyValue::Bool(false)
        ]
    );
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "bench-event");
    assert_eq!(span.events[0].attributes.len(), 2);
    assert_eq!(span.events[0].attributes[1].value, AnyValue::Int(5));
    // Fresh ids every time.
    let other = workload::span(5, 1, &mut rng);
    assert_ne!(span.trace_id, other.trace_id);
    assert_ne!(span.span_id, other.span_id);

    // WORKLOAD.md: about 365 bytes per span on the wire (512-span requests).
    let len = span_encoded_len(&span);
    assert!((330..=380).contains(&len), "{len} bytes per span");

    // And the official decoder reads it back.
    let resource = Resource::default();
    let scope = InstrumentationScope::new("otlp-bench");
    let spans = [span];
    let scopes = [ScopeGroup {
        scope: &scope,
        records: &spans[..],
    }];
    let groups = [ResourceGroup {
        resource: &resource,
        scopes: &scopes,
    }];
    let mut body = Vec::new();
    ProtoEncoder::new().encode_traces(&groups, &mut body);
    let decoded = ExportTraceServiceRequest::decode(&body[..]).expect("decodes");
    let s = &decoded.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(s.name, "bench-span");
    assert_eq!(s.trace_id, spans[0].trace_id.as_bytes());
    assert_eq!(s.attributes.len(), 8);
    assert_eq!(
        s.attributes[6].value.as_ref().and_then(|v| v.value.clone()),
        Some(Value::DoubleValue(1.25))
    );
    assert_eq!(s.events[0].attributes.len(), 2);
}

#[test]
fn log_and_metrics_have_the_documented_shape() {
    let log = workload::log(3);
    assert_eq!(log.severity_number, Severity::INFO);
    assert_eq!(log.severity_text, "INFO");
    assert_eq!(log.body, AnyValue::from("bench log record body 0123456789"));
    assert_eq!(log.attributes.len(), 4);
    assert_eq!(log.attributes[2].value, AnyValue::Int(3));
    assert_eq!(log.attributes[3].value, AnyValue::Bool(false));
    assert!(log.trace_id.is_none() && log.span_id.is_none());
    let len = otlp_sync::encode::protobuf::log_encoded_len(&log);
    assert!((130..=170).contains(&len), "{len} bytes per log record");

    for i in [0u64, 3, 7, 399, 400, 1_000_001] {
        let [counter, histogram] = workload::metrics(i, 2, 1);
        assert_eq!(counter.name, "bench.counter");
        match &counter.data {
            MetricData::Sum {
                points,
                is_monotonic: true,
                ..
            } => {
                assert_eq!(points.len(), 1);
                assert_eq!(points[0].attributes.len(), 4);
                assert_eq!(
                    points[0].value,
                    otlp_sync::model::NumberValue::Int(i as i64 + 1)
                );
            }
            other => panic!("counter is {other:?}"),
        }
        match &histogram.data {
            MetricData::Histogram { points, .. } => {
                let p = &points[0];
                assert_eq!(points.len(), 1);
                assert_eq!(p.count, 1);
                assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
                assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
                let v = p.sum.expect("a sum");
                assert_eq!((p.min, p.max), (Some(v), Some(v)));
                let bucket = p
                    .bucket_counts
                    .iter()
                    .position(|c| *c == 1)
                    .expect("a bucket");
                assert!(bucket == p.explicit_bounds.len() || v <= p.explicit_bounds[bucket]);
                assert!(bucket == 0 || v > p.explicit_bounds[bucket - 1]);
            }
            other => panic!("histogram is {other:?}"),
        }
    }
}

#[test]
fn final_line_adds_up_and_parses() {
    let mut totals = Totals::default();
    let signal = |offered, exported, dropped: Dropped| SignalStats {
        offered,
        exported,
        dropped,
        ..SignalStats::default()
    };
    totals.add(&signal(
        10,
        6,
        Dropped {
            queue_full: 3,
            rejected: 1,
            ..Dropped::default()
        },
    ));
    totals.add(&signal(
        5,
        4,
        Dropped {
            partial_rejected: 1,
            ..Dropped::default()
        },
    ));
    let line = totals.final_line();
    assert!(
        line.starts_with("offered=15 exported=10 dropped=5 queue_full=3 rejected=1 "),
        "{line}"
    );
    let fields: HashMap<String, u64> = workload::parse_final_line(&line)
        .expect("parses")
        .into_iter()
        .collect();
    assert_eq!(fields["partial_rejected"], 1);
    let reasons: u64 = fields
        .iter()
        .filter(|(k, _)| !["offered", "exported", "dropped"].contains(&k.as_str()))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(reasons, fields["dropped"]);
    assert_eq!(fields.len(), 11);
    assert_eq!(workload::parse_final_line("traces: offered=1"), None);
    assert_eq!(workload::parse_final_line("offered=1 exported=x"), None);
}

// ---- The built binaries ---------------------------------------------------------------------

/// How long building the examples may take (a cold build of the crate included).
const BUILD_DEADLINE: Duration = Duration::from_secs(540);
/// How long one run of an example may take.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// This package's enabled features, as a `--features` list.
fn features() -> String {
    let mut f = Vec::new();
    for (name, on) in [
        ("std", cfg!(feature = "std")),
        ("http", cfg!(feature = "http")),
        ("tls", cfg!(feature = "tls")),
        ("diagnostics", cfg!(feature = "diagnostics")),
    ] {
        if on {
            f.push(name);
        }
    }
    f.join(",")
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to completion or `deadline` (then kills it and panics).
fn run(mut cmd: Command, deadline: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let end = Instant::now() + deadline;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} still running after {deadline:?}; killed");
            }
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    Output {
        code: status.code(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// The newest modification time among the files the examples are built from.
fn newest_source() -> SystemTime {
    fn walk(path: &Path, newest: &mut SystemTime) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(modified) = meta.modified() {
            *newest = (*newest).max(modified);
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = SystemTime::UNIX_EPOCH;
    for part in [
        "src",
        "examples",
        "tests/support",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        walk(&root.join(part), &mut newest);
    }
    newest
}

/// `demo` and `loadgen` by name: the ones `cargo test` built next to this test when they
/// are newer than every source file, otherwise built now (once per test run).
fn binaries() -> &'static HashMap<String, PathBuf> {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // <target>/<profile>/deps/<this test>
        let profile_dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
        let newest = newest_source();
        let prebuilt: HashMap<String, PathBuf> = ["demo", "loadgen"]
            .into_iter()
            .map(|name| {
                let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
                (name.to_owned(), profile_dir.join("examples").join(file))
            })
            .filter(|(_, path)| {
                std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|built| built > newest)
            })
            .collect();
        if prebuilt.len() == 2 {
            return prebuilt;
        }
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "--message-format=json-render-diagnostics",
        ])
        .args(["--example", "demo", "--example", "loadgen"])
        .arg("--manifest-path")
        .arg(root_manifest())
        .args(["--no-default-features", "--features", &features()]);
        match profile {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        // Same target directory as this test, so that nothing is built twice.
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            if let Some(target) = profile_dir.parent() {
                if target.join("CACHEDIR.TAG").exists() {
                    cmd.env("CARGO_TARGET_DIR", target);
                }
            }
        }
        let out = run(cmd, BUILD_DEADLINE);
        assert_eq!(
            out.code,
            Some(0),
            "building the examples failed:\n{}",
            out.stderr
        );
        let mut found = HashMap::new();
        for line in out.stdout.lines() {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            if let (Some(name), Some(path)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            {
                found.insert(name.to_owned(), PathBuf::from(path));
            }
        }
        assert!(
            found.contains_key("demo") && found.contains_key("loadgen"),
            "no executables in cargo's output: {found:?}"
        );
        found
    })
}

fn root_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")
}

/// A command for example `name` with no `OTEL_*` variables but `env`.
fn example(name: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(&binaries()[name]);
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// The fields of loadgen's final line, which must be its last line of output.
fn final_fields(out: &Output) -> HashMap<String, u64> {
    let last = out.stdout.lines().last().unwrap_or_default();
    let fields = workload::parse_final_line(last).unwrap_or_else(|| {
        panic!(
            "last line {last:?} is not the final line\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    });
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("offered="))
            .count(),
        1,
        "exactly one final line"
    );
    fields.into_iter().collect()
}

#[test]
fn loadgen_accounts_for_every_record() {
    let collector = Collector::start();
    let endpoint = collector.url("");
    let out = run(
        example(
            "loadgen",
            &[
                "--signal",
                "all",
                "--count",
                "20000",
                "--threads",
                "2",
                "--batch",
                "256",
            ],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        ),
        RUN_DEADLINE,
    );
    println!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let f = final_fields(&out);
    // One span, one log record and two metrics per iteration.
    assert_eq!(f["offered"], 20_000 * 4);
    assert_eq!(f["offered"], f["exported"] + f["dropped"]);
    let reasons = f["queue_full"]
        + f["rejected"]
        + f["retries_exhausted"]
        + f["too_large"]
        + f["shutdown"]
        + f["partial_rejected"]
        + f["worker_panic"]
        + f["compress_failed"];
    assert_eq!(reasons, f["dropped"]);
    // Only a full queue may drop anything against a receiver that accepts everything.
    assert_eq!(f["dropped"], f["queue_full"]);
    // The receiver got exactly what the exporter counts as exported (each metric holds
    // one point), and nothing it could not decode.
    let requests = collector.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.decode_error.is_none() && r.accepted())
    );
    let received =
        collector.accepted_spans() + collector.accepted_logs() + collector.accepted_points();
    assert_eq!(received as u64, f["exported"]);
    assert!(f["exported"] > 0);
    // Batches respect --batch.
    assert!(
        requests
            .iter()
            .all(|r| r.spans() + r.logs() + r.points() <= 256)
    );
    // The shapes made it: spans with 8 attributes and one event.
    let span = requests
        .iter()
        .find_map(|r| match &r.decoded {
            Some(Decoded::Traces(t)) => Some(t.resource_spans[0].scope_spans[0].spans[0].clone()),
            _ => None,
        })
        .expect("a traces request");
    assert_eq!(
        (span.name.as_str(), span.attributes.len(), span.events.len()),
        ("bench-span", 8, 1)
    );
}

#[test]
fn loadgen_paces_with_rate() {
    let collector = Collector::start();
    let endpoint = collector.url("");
    // 200 iterations at 1000/s over 2 threads: about 0.2 s.
    let out = run(
        example(
            "loadgen",
            &["--signal=logs", "--count=200", "--threads=2", "--rate=1000"],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
        ),
        RUN_DEADLINE,
    );
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    let f = final_fields(&out);
    assert_eq!((f["offered"], f["exported"], f["dropped"]), (200, 200, 0));
    assert_eq!(collector.accepted_logs(), 200);
    let produce = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("produce: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no produce line in:\n{}", out.stdout));
    assert!((0.15..5.0).contains(&produce), "produce took {produce} s");
}

#[test]
fn loadgen_rejects_bad_arguments_and_settings() {
    let out = run(
        example(
            "loadgen",
            &["--signal", "spans", "--count", "1", "--threads", "1"],
            &[],
        ),
        RUN_DEADLINE,
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("--signal") && out.stderr.contains("\"spans\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("usage: loadgen"));
    assert!(out.stdout.is_empty());

    let out = run(
        example(
            "loadgen",
            &["--signal", "logs", "--count", "1", "--threads", "1"],
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://127.0.0.1:1")],
        ),
        RUN_DEADLINE,
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("cannot build the exporter")
            && out.stderr.contains("ftp://127.0.0.1:1"),
        "{}",
        out.stderr
    );
}

#[test]
fn demo_checks_its_loopback_receiver() {
    let out = run(example("demo", &[], &[]), RUN_DEADLINE);
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    for needle in [
        "in-process OTLP/HTTP receiver",
        "3 spans",
        "4 points",
        "3 log records",
        "span 53995c3f42cd8ad8 parent 00f067aa0ba902b7",
        "\"cache miss for orders:42\"",
        "offered=3 exported=3 dropped=0",
        "OK: the receiver got exactly the records that were sent",
    ] {
        assert!(
            out.stdout.contains(needle),
            "no {needle:?} in:\n{}",
            out.stdout
        );
    }
    // The disabled SDK sends nothing: the demo says so and fails.
    let out = run(
        example("demo", &[], &[("OTEL_SDK_DISABLED", "true")]),
        RUN_DEADLINE,
    );
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("demo FAILED") && out.stderr.contains("OTEL_SDK_DISABLED"));
}

#[test]
fn demo_sends_to_the_configured_endpoint() {
    let collector = Collector::start();
    let endpoint = collector.url("");
    let out = run(
        example(
            "demo",
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ],
        ),
        RUN_DEADLINE,
    );
    assert_eq!(
        out.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("OTEL_EXPORTER_OTLP_ENDPOINT set"));
    assert!(!out.stdout.contains("in-process"));
    assert_eq!(
        (
            collector.accepted_spans(),
            collector.accepted_logs(),
            collector.accepted_points()
        ),
        (3, 3, 4)
    );
    assert!(
        collector
            .requests()
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip"))
    );
}
