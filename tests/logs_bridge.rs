//! The `log` bridge end to end: `log` records -> `OtlpLogger` -> exporter -> the fake
//! collector, decoded with the official `opentelemetry-proto` types.
//!
//! Only `global_composite_logger_drops_own_diagnostics` sets the global logger (a user's
//! composite logger with an `OtlpLogger` inside); every other test calls its own
//! `OtlpLogger` through `log::Log::log`, so they do not see each other's records.
#![cfg(all(feature = "log", feature = "http"))]

mod support;

use log::{Level, LevelFilter, Log, Metadata, Record};
use opentelemetry_proto::tonic::common::v1::{AnyValue as PAny, KeyValue as PKv, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord as PLog;
use otlp_sync::bridge::log::{OtlpLogger, TargetMode};
use otlp_sync::config::Config;
use otlp_sync::exporter::Exporter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::collector::{Collector, Decoded};

const WAIT: Duration = Duration::from_secs(5);

fn exporter(c: &Collector) -> Exporter {
    let config = Config::builder()
        .endpoint(c.url(""))
        .service_name("bridge-test")
        .build()
        .unwrap();
    Exporter::new(config).unwrap()
}

/// (scope name, record) for every record the collector decoded.
fn received(c: &Collector) -> Vec<(String, PLog)> {
    let mut out = Vec::new();
    for r in c.requests() {
        let Some(Decoded::Logs(req)) = r.decoded else {
            panic!("not decoded: {:?}", r.decode_error)
        };
        for sl in req.resource_logs.into_iter().flat_map(|rl| rl.scope_logs) {
            let scope = sl.scope.unwrap_or_default().name;
            out.extend(sl.log_records.into_iter().map(|rec| (scope.clone(), rec)));
        }
    }
    out
}

fn value(v: &Option<PAny>) -> Option<&any_value::Value> {
    v.as_ref().and_then(|a| a.value.as_ref())
}

fn attr<'a>(attrs: &'a [PKv], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| value(&kv.value))
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.to_owned())
}

fn body(r: &PLog) -> &str {
    match value(&r.body) {
        Some(any_value::Value::StringValue(b)) => b,
        other => panic!("body {other:?}"),
    }
}

/// Sends one record with key-values to `logger` directly.
fn log_to(
    logger: &dyn Log,
    level: Level,
    target: &str,
    kvs: &[(&str, log::kv::Value<'_>)],
    msg: &str,
) {
    logger.log(
        &Record::builder()
            .level(level)
            .target(target)
            .module_path_static(Some("app::module"))
            .file_static(Some("src/app.rs"))
            .line(Some(42))
            .key_values(&kvs)
            .args(format_args!("{msg}"))
            .build(),
    );
}

#[test]
fn kv_pairs_become_typed_attributes() {
    let c = Collector::start();
    let e = exporter(&c);
    let bridge = OtlpLogger::new(e.logger("fallback"));
    let ip = std::net::Ipv4Addr::new(10, 0, 0, 1);
    let kvs = [
        ("user", log::kv::Value::from(42i64)),
        ("count", log::kv::Value::from(7u64)),
        ("huge", log::kv::Value::from(u64::MAX)),
        ("ratio", log::kv::Value::from(0.25f64)),
        ("ok", log::kv::Value::from(true)),
        ("name", log::kv::Value::from("bob")),
        ("ip", log::kv::Value::from_display(&ip)),
    ];
    log_to(&bridge, Level::Warn, "app::db", &kvs, "login failed");
    e.flush(WAIT).unwrap();

    let got = received(&c);
    assert_eq!(got.len(), 1);
    let (scope, r) = &got[0];
    assert_eq!(scope, "app::db", "the target is the scope by default");
    assert_eq!(body(r), "login failed");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (13, "WARN"));
    assert!(r.time_unix_nano > 0 && r.observed_time_unix_nano > 0);
    use any_value::Value::{BoolValue, DoubleValue, IntValue};
    assert_eq!(attr(&r.attributes, "user"), Some(&IntValue(42)));
    assert_eq!(attr(&r.attributes, "count"), Some(&IntValue(7)));
    assert_eq!(
        attr(&r.attributes, "huge"),
        Some(&s("18446744073709551615"))
    );
    assert_eq!(attr(&r.attributes, "ratio"), Some(&DoubleValue(0.25)));
    assert_eq!(attr(&r.attributes, "ok"), Some(&BoolValue(true)));
    assert_eq!(attr(&r.attributes, "name"), Some(&s("bob")));
    assert_eq!(attr(&r.attributes, "ip"), Some(&s("10.0.0.1")));
    assert_eq!(r.attributes.len(), 7, "no code.* attributes by default");
    e.shutdown(WAIT).unwrap();
}

#[test]
fn attribute_mode_and_code_attributes() {
    let c = Collector::start();
    let e = exporter(&c);
    let bridge = OtlpLogger::new(e.logger("my-app"))
        .target_mode(TargetMode::Attribute)
        .code_attributes(true);
    log_to(&bridge, Level::Error, "app::net", &[], "timeout");
    log_to(&bridge, Level::Info, "app::db", &[], "connected");
    e.flush(WAIT).unwrap();

    let got = received(&c);
    assert_eq!(got.len(), 2);
    for (scope, _) in &got {
        assert_eq!(scope, "my-app", "one scope for every target");
    }
    let (_, r) = got.iter().find(|(_, r)| body(r) == "timeout").unwrap();
    assert_eq!((r.severity_number, r.severity_text.as_str()), (17, "ERROR"));
    assert_eq!(attr(&r.attributes, "log.target"), Some(&s("app::net")));
    assert_eq!(
        attr(&r.attributes, "code.namespace"),
        Some(&s("app::module"))
    );
    assert_eq!(
        attr(&r.attributes, "code.file.path"),
        Some(&s("src/app.rs"))
    );
    assert_eq!(
        attr(&r.attributes, "code.line.number"),
        Some(&any_value::Value::IntValue(42))
    );
    e.shutdown(WAIT).unwrap();
}

#[test]
fn level_filter_and_excluded_targets() {
    let c = Collector::start();
    let e = exporter(&c);
    let bridge = OtlpLogger::new(e.logger("app")).max_level(LevelFilter::Warn);
    let meta = |level, target| Metadata::builder().level(level).target(target).build();
    assert!(bridge.enabled(&meta(Level::Warn, "app")));
    assert!(!bridge.enabled(&meta(Level::Info, "app")));
    assert!(!bridge.enabled(&meta(Level::Error, "otlp_sync")));

    for (level, target) in [
        (Level::Error, "app"),
        (Level::Warn, "app::x"),
        (Level::Info, "app"),                  // below the filter
        (Level::Debug, "app"),                 // below the filter
        (Level::Error, "otlp_sync"),           // our own diagnostics
        (Level::Error, "otlp_sync::pipeline"), // ours too
        (Level::Error, "ureq::unversioned"),   // the export thread's HTTP client
        (Level::Error, "otlp_sync_companion"), // someone else's crate
    ] {
        log_to(&bridge, level, target, &[], target);
    }
    e.flush(WAIT).unwrap();
    let mut bodies: Vec<String> = received(&c)
        .iter()
        .map(|(_, r)| body(r).to_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["app", "app::x", "otlp_sync_companion"]);
    e.shutdown(WAIT).unwrap();
}

/// What a user's composite logger looks like: our bridge plus something else (here a
/// counter of this crate's own diagnostics, standing in for a stderr logger).
struct Composite {
    otlp: OtlpLogger,
}

static OWN_DIAGNOSTICS_SEEN: AtomicUsize = AtomicUsize::new(0);

impl Log for Composite {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("otlp_sync") || self.otlp.enabled(metadata)
    }
    fn log(&self, record: &Record<'_>) {
        if record.target() == "otlp_sync" || record.target().starts_with("otlp_sync::") {
            OWN_DIAGNOSTICS_SEEN.fetch_add(1, Ordering::SeqCst);
        }
        self.otlp.log(record);
    }
    fn flush(&self) {
        self.otlp.flush();
    }
}

#[test]
fn global_composite_logger_drops_own_diagnostics() {
    let c = Collector::start();
    let e = exporter(&c);
    let otlp = OtlpLogger::new(e.logger("global")).max_level(LevelFilter::Debug);
    log::set_boxed_logger(Box::new(Composite { otlp })).unwrap();
    log::set_max_level(LevelFilter::Debug);

    log::info!(target: "svc", user = 42, ok = true, name = "ann"; "hello {}", "world");
    log::debug!(target: "svc::inner", "debug kept");
    log::trace!(target: "svc", "trace filtered");
    log::error!(target: "otlp_sync", "a diagnostic");
    log::warn!(target: "otlp_sync::exporter", "another diagnostic");

    // A real diagnostic from the crate (feature `diagnostics`): a config warning logged
    // by Exporter::new.
    #[cfg(feature = "diagnostics")]
    {
        let config = otlp_sync::config::ConfigBuilder::from_env_with(|k| match k {
            "OTEL_CONFIG_FILE" => Some("/etc/otel.yaml".into()),
            "OTEL_SDK_DISABLED" => Some("true".into()),
            _ => None,
        })
        .build()
        .unwrap();
        assert!(!config.warnings().is_empty());
        let _quiet = Exporter::new(config).unwrap();
    }
    e.flush(WAIT).unwrap();

    // At least ours (other tests' exporters may add diagnostics of their own).
    let expected_own = if cfg!(feature = "diagnostics") { 3 } else { 2 };
    assert!(OWN_DIAGNOSTICS_SEEN.load(Ordering::SeqCst) >= expected_own);
    let got = received(&c);
    let mut bodies: Vec<&str> = got.iter().map(|(_, r)| body(r)).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["debug kept", "hello world"]);
    let (scope, r) = got.iter().find(|(_, r)| body(r) == "hello world").unwrap();
    assert_eq!(scope, "svc");
    assert_eq!(
        attr(&r.attributes, "user"),
        Some(&any_value::Value::IntValue(42))
    );
    assert_eq!(
        attr(&r.attributes, "ok"),
        Some(&any_value::Value::BoolValue(true))
    );
    assert_eq!(attr(&r.attributes, "name"), Some(&s("ann")));
    let (scope, r) = got.iter().find(|(_, r)| body(r) == "debug kept").unwrap();
    assert_eq!(scope, "svc::inner");
    assert_eq!((r.severity_number, r.severity_text.as_str()), (5, "DEBUG"));
    e.shutdown(WAIT).unwrap();
}
