//! The configuration layer through its public API, with the environment given as a
//! `HashMap` (the process environment is never read or changed here).

use otlp_sync::compress::Compression;
use otlp_sync::config::{
    BuildErrorKind, Config, ConfigBuilder, QueueFullPolicy, RetryPolicy, TemporalityPreference,
    Timeout,
};
use otlp_sync::encode::Encoding;
use otlp_sync::model::{AnyValue, KeyValue, Signal};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

fn env(pairs: &[(&str, &str)]) -> ConfigBuilder {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConfigBuilder::from_env_with(move |k| map.get(k).cloned())
}

fn build(pairs: &[(&str, &str)]) -> Config {
    env(pairs).build().expect("config builds")
}

fn warned_about(config: &Config, var: &str) -> bool {
    config.warnings().iter().any(|w| w.source_name() == var)
}

const T: Signal = Signal::Traces;
const M: Signal = Signal::Metrics;
const L: Signal = Signal::Logs;

fn ms(n: u64) -> Timeout {
    Timeout::from_millis(n)
}

// ---- Endpoints ---------------------------------------------------------------------------

#[test]
fn endpoint_defaults() {
    let c = build(&[]);
    assert_eq!(c.endpoint(T), "http://localhost:4318/v1/traces");
    assert_eq!(c.endpoint(M), "http://localhost:4318/v1/metrics");
    assert_eq!(c.endpoint(L), "http://localhost:4318/v1/logs");
}

#[test]
fn per_signal_endpoint_is_used_as_is_except_empty_path() {
    let c = build(&[
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://collector:4318",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "https://m.example:443/custom/metrics",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4318/"),
    ]);
    assert_eq!(c.endpoint(T), "http://collector:4318/");
    assert_eq!(c.endpoint(M), "https://m.example:443/custom/metrics");
    assert!(c.signal(M).is_https());
    assert_eq!(c.endpoint(L), "http://logs:4318/");
}

#[test]
fn base_endpoint_gets_signal_path_with_one_slash() {
    let c = build(&[(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "http://collector:4318/mycollector/",
    )]);
    assert_eq!(c.endpoint(T), "http://collector:4318/mycollector/v1/traces");
    assert_eq!(
        c.endpoint(M),
        "http://collector:4318/mycollector/v1/metrics"
    );
    assert_eq!(c.endpoint(L), "http://collector:4318/mycollector/v1/logs");

    let c = build(&[(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "http://collector:4318/mycollector",
    )]);
    assert_eq!(c.endpoint(T), "http://collector:4318/mycollector/v1/traces");

    let c = build(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector")]);
    assert_eq!(c.endpoint(L), "https://collector/v1/logs");
    assert!(c.signal(L).is_https());
}

#[test]
fn per_signal_variable_beats_base_variable() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/t"),
    ]);
    assert_eq!(c.endpoint(T), "http://traces:4318/t");
    assert_eq!(c.endpoint(M), "http://base:4318/v1/metrics");
}

#[test]
fn endpoint_precedence_code_over_env() {
    let vars = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://envbase:4318"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://envtraces:4318/x",
        ),
    ];
    // The base setter behaves like the generic variable (path appended) but wins over both
    // variables, because code wins.
    let c = env(&vars).endpoint("http://codebase:4318").build().unwrap();
    assert_eq!(c.endpoint(T), "http://codebase:4318/v1/traces");
    assert_eq!(c.endpoint(L), "http://codebase:4318/v1/logs");
    // The per-signal setter behaves like the per-signal variable (as-is) and wins over all.
    let c = env(&vars)
        .endpoint("http://codebase:4318")
        .signal_endpoint(T, "http://codetraces:4318")
        .build()
        .unwrap();
    assert_eq!(c.endpoint(T), "http://codetraces:4318/");
    assert_eq!(c.endpoint(M), "http://codebase:4318/v1/metrics");
}

#[test]
fn bad_scheme_is_an_error_naming_the_variable_and_value() {
    let err = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4318")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::UnsupportedScheme);
    assert_eq!(err.source_name(), "OTEL_EXPORTER_OTLP_ENDPOINT");
    assert_eq!(err.value(), Some("ftp://collector:4318"));
    let text = err.to_string();
    assert!(text.contains("OTEL_EXPORTER_OTLP_ENDPOINT"), "{text}");
    assert!(text.contains("ftp://collector:4318"), "{text}");

    let err = env(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "grpc://c:4317")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::UnsupportedScheme);
    assert!(err.to_string().contains("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"));

    let err = ConfigBuilder::new()
        .signal_endpoint(M, "udp://x")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("ConfigBuilder::signal_endpoint"));
}

#[test]
fn unusable_endpoints_are_errors() {
    for bad in [
        "localhost:4318",
        "collector",
        "http://",
        "http://:4318",
        "http://c:70000",
        "http://c :4318",
    ] {
        let err = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)])
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidEndpoint, "{bad}");
        assert_eq!(err.value(), Some(bad));
    }
}

// ---- Headers -----------------------------------------------------------------------------

#[test]
fn headers_are_percent_decoded_and_trimmed() {
    let c = build(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        " api-key = abc%20def ,x-tenant=a%2Cb%3Dc",
    )]);
    for s in Signal::ALL {
        let h = c.signal(s).headers();
        assert_eq!(h.get("api-key"), Some("abc def"));
        assert_eq!(h.get("x-tenant"), Some("a,b=c"));
        assert_eq!(h.len(), 2);
    }
    assert!(c.warnings().is_empty());
}

#[test]
fn per_signal_headers_replace_generic_headers() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2"),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "c=3"),
    ]);
    let logs = c.signal(L).headers();
    assert_eq!(logs.get("c"), Some("3"));
    assert_eq!(logs.get("a"), None, "replaced, not merged");
    assert_eq!(c.signal(T).headers().get("a"), Some("1"));

    // Code replaces too.
    let c = env(&[("OTEL_EXPORTER_OTLP_HEADERS", "a=1")])
        .headers([("k", "v")])
        .build()
        .unwrap();
    assert_eq!(c.signal(M).headers().get("a"), None);
    assert_eq!(c.signal(M).headers().get("k"), Some("v"));
}

#[test]
fn malformed_header_pairs_are_skipped_without_revealing_values() {
    let c = build(&[(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "Authorization: Bearer SECRET1,good=ok,bad=SECRET2%zz,=SECRET3",
    )]);
    let h = c.signal(T).headers();
    assert_eq!(h.len(), 1);
    assert_eq!(h.get("good"), Some("ok"));
    assert_eq!(c.warnings().len(), 3);
    for w in c.warnings() {
        assert_eq!(w.source_name(), "OTEL_EXPORTER_OTLP_TRACES_HEADERS");
        assert_eq!(w.value(), None);
        let text = format!("{w} {w:?}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}

#[test]
fn header_values_never_appear_in_debug() {
    let c = env(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=TOPSECRET")])
        .signal_headers(L, [("authorization", "Bearer ALSOSECRET")])
        .build()
        .unwrap();
    let b = env(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=TOPSECRET")])
        .signal_headers(L, [("authorization", "Bearer ALSOSECRET")]);
    for text in [
        format!("{:?}", c.signal(T).headers()),
        format!("{:?}", c.signal(L)),
        format!("{c:?}"),
        format!("{c:#?}"),
        format!("{b:?}"),
    ] {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    assert_eq!(
        format!("{:?}", c.signal(T).headers()),
        r#"{"api-key": "<redacted>"}"#
    );
    // The values are still there for the transport.
    assert_eq!(c.signal(T).headers().get("api-key"), Some("TOPSECRET"));
    assert_eq!(
        c.signal(L).headers().iter().collect::<Vec<_>>(),
        [("authorization", "Bearer ALSOSECRET")]
    );
}

#[test]
fn invalid_code_headers_are_errors_without_the_value() {
    let err = ConfigBuilder::new()
        .headers([("x-key", "SECRET\r\nInjected: 1")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidHeader);
    assert!(err.to_string().contains("x-key"));
    assert!(!err.to_string().contains("SECRET"));
    assert!(!format!("{err:?}").contains("SECRET"));

    let err = ConfigBuilder::new()
        .signal_headers(T, [("bad name", "v")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidHeader);
    assert_eq!(err.source_name(), "ConfigBuilder::signal_headers");
}

// ---- Timeouts and numbers ----------------------------------------------------------------

#[test]
fn timeout_variables_in_milliseconds_with_zero_unlimited() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "1500"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "0"),
    ]);
    assert_eq!(c.signal(T).timeout(), ms(1500));
    assert_eq!(c.signal(L).timeout(), ms(1500));
    assert_eq!(c.signal(M).timeout(), Timeout::Unlimited);
    assert_eq!(c.signal(M).timeout().duration(), None);
    assert_eq!(c.signal(M).timeout().capped(), Timeout::UNLIMITED_CAP);
}

#[test]
fn zero_timeouts_from_code_are_unlimited() {
    let c = ConfigBuilder::new()
        .timeout(Timeout::After(Duration::ZERO))
        .export_timeout(L, Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(c.signal(T).timeout(), Timeout::Unlimited);
    assert_eq!(c.signal(L).batch().export_timeout(), Timeout::Unlimited);
    assert_eq!(c.signal(T).batch().export_timeout(), ms(30_000));
}

#[test]
fn negative_and_garbage_numbers_warn_and_fall_through() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-5"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "10s"),
        ("OTEL_BSP_SCHEDULE_DELAY", "-1"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "big"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "1e3"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "0"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
    ]);
    // A bad per-signal value is ignored: the generic variable applies.
    assert_eq!(c.signal(T).timeout(), ms(2000));
    assert_eq!(c.signal(L).timeout(), ms(2000));
    assert_eq!(
        c.signal(T).batch().schedule_delay(),
        Duration::from_millis(5000)
    );
    assert_eq!(c.signal(T).batch().max_queue_size(), 2048);
    assert_eq!(c.signal(L).batch().export_timeout(), ms(30_000));
    assert_eq!(c.signal(L).batch().max_export_batch_size(), 512);
    assert_eq!(
        c.signal(M).batch().schedule_delay(),
        Duration::from_secs(60)
    );
    for var in [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "OTEL_BLRP_EXPORT_TIMEOUT",
        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
        "OTEL_METRIC_EXPORT_INTERVAL",
    ] {
        assert!(
            warned_about(&c, var),
            "no warning for {var}: {:?}",
            c.warnings()
        );
    }
    assert_eq!(c.warnings().len(), 7);
    let w = c
        .warnings()
        .iter()
        .find(|w| w.source_name() == "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
        .unwrap();
    assert_eq!(w.value(), Some("-5"));
    assert!(w.to_string().contains("negative"));
}

#[test]
fn empty_values_are_unset() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", ""),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "  "),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ""),
        ("OTEL_SDK_DISABLED", ""),
        ("OTEL_SERVICE_NAME", ""),
        ("OTEL_BSP_MAX_QUEUE_SIZE", ""),
    ]);
    assert_eq!(c, ConfigBuilder::new().build().unwrap());
    assert!(c.warnings().is_empty());
}

// ---- Batching ----------------------------------------------------------------------------

#[test]
fn batch_variables_per_signal() {
    let c = build(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "200"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "300"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "40"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "0"),
        ("OTEL_BLRP_EXPORT_TIMEOUT", "0"),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "60"),
        ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "7"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "800"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "900"),
    ]);
    let t = c.signal(T).batch();
    assert_eq!(
        (
            t.schedule_delay(),
            t.export_timeout(),
            t.max_queue_size(),
            t.max_export_batch_size()
        ),
        (Duration::from_millis(100), ms(200), 300, 40)
    );
    let l = c.signal(L).batch();
    assert_eq!(
        (
            l.schedule_delay(),
            l.export_timeout(),
            l.max_queue_size(),
            l.max_export_batch_size()
        ),
        (Duration::ZERO, Timeout::Unlimited, 60, 7)
    );
    let m = c.signal(M).batch();
    assert_eq!(
        (
            m.schedule_delay(),
            m.export_timeout(),
            m.max_queue_size(),
            m.max_export_batch_size()
        ),
        (Duration::from_millis(800), ms(900), 2048, 512)
    );
    assert!(c.warnings().is_empty());
}

#[test]
fn batch_defaults_per_signal() {
    let c = build(&[]);
    let get = |s| {
        let b = *c.signal(s).batch();
        (
            b.schedule_delay().as_millis(),
            b.export_timeout(),
            b.max_queue_size(),
            b.max_export_batch_size(),
        )
    };
    assert_eq!(get(T), (5000, ms(30_000), 2048, 512));
    assert_eq!(get(L), (1000, ms(30_000), 2048, 512));
    assert_eq!(get(M), (60_000, ms(30_000), 2048, 512));
}

#[test]
fn batch_larger_than_queue_is_clamped_with_a_warning() {
    let c = build(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1000"),
    ]);
    assert_eq!(c.signal(T).batch().max_export_batch_size(), 100);
    assert!(warned_about(&c, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"));
    let w = &c.warnings()[0];
    assert_eq!(w.value(), Some("1000"));

    let c = ConfigBuilder::new()
        .max_queue_size(L, 10)
        .max_export_batch_size(L, 20)
        .build()
        .unwrap();
    assert_eq!(c.signal(L).batch().max_export_batch_size(), 10);
    assert!(warned_about(&c, "ConfigBuilder::max_export_batch_size"));
}

#[test]
fn batch_setters_beat_variables() {
    let c = env(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "300"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "900"),
    ])
    .schedule_delay(T, Duration::from_millis(7))
    .max_queue_size(T, 1000)
    .export_timeout(M, Duration::ZERO)
    .build()
    .unwrap();
    assert_eq!(
        c.signal(T).batch().schedule_delay(),
        Duration::from_millis(7)
    );
    assert_eq!(c.signal(T).batch().max_queue_size(), 1000);
    assert_eq!(c.signal(M).batch().export_timeout(), Timeout::Unlimited);
}

// ---- Enums -------------------------------------------------------------------------------

#[test]
fn compression_is_case_insensitive_and_unknown_warns() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZip"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "ZSTD"),
        ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "deflate"),
    ]);
    assert_eq!(c.signal(T).compression(), Compression::Zstd);
    assert_eq!(c.signal(M).compression(), Compression::Gzip);
    assert_eq!(c.signal(L).compression(), Compression::Deflate);

    let c = build(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")]);
    for s in Signal::ALL {
        assert_eq!(c.signal(s).compression(), Compression::None);
    }
    assert_eq!(c.warnings().len(), 1);
    assert_eq!(c.warnings()[0].value(), Some("brotli"));
    assert!(warned_about(&c, "OTEL_EXPORTER_OTLP_COMPRESSION"));

    // An unknown per-signal value falls through to the generic one.
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "lz4"),
    ]);
    assert_eq!(c.signal(M).compression(), Compression::Gzip);
    let c = build(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "NONE")]);
    assert!(c.warnings().is_empty());
}

#[test]
fn compression_level_from_code() {
    let c = ConfigBuilder::new()
        .compression(Compression::Gzip)
        .compression_level(9)
        .signal_compression(L, Compression::Zstd)
        .signal_compression_level(L, 3)
        .build()
        .unwrap();
    assert_eq!(c.signal(T).compression_level(), Some(9));
    assert_eq!(c.signal(L).compression(), Compression::Zstd);
    assert_eq!(c.signal(L).compression_level(), Some(3));
}

#[test]
fn protocol_values() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
    ]);
    assert_eq!(c.signal(T).encoding(), Encoding::Json);
    assert_eq!(c.signal(L).encoding(), Encoding::Protobuf);

    let c = build(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift")]);
    assert_eq!(c.signal(T).encoding(), Encoding::Protobuf);
    assert!(warned_about(&c, "OTEL_EXPORTER_OTLP_PROTOCOL"));
}

#[test]
fn grpc_protocol_is_an_error_naming_the_variable() {
    let err = env(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "gRPC")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::UnsupportedProtocol);
    assert_eq!(err.source_name(), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    assert!(
        err.to_string()
            .contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
    );
    assert!(err.to_string().contains("grpc"));
    // Overridden in code, it no longer matters.
    let c = env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])
        .protocol(Encoding::Json)
        .build()
        .unwrap();
    assert_eq!(c.signal(M).encoding(), Encoding::Json);
    // A per-signal variable hides a generic grpc for that signal only.
    let err = env(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
    ])
    .build()
    .unwrap_err();
    assert_eq!(err.source_name(), "OTEL_EXPORTER_OTLP_PROTOCOL");
}

#[test]
fn temporality_preference() {
    let var = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
    assert_eq!(
        build(&[(var, "Delta")]).temporality_preference(),
        TemporalityPreference::Delta
    );
    assert_eq!(
        build(&[(var, "LOWMEMORY")]).temporality_preference(),
        TemporalityPreference::LowMemory
    );
    assert_eq!(
        build(&[(var, "cumulative")]).temporality_preference(),
        TemporalityPreference::Cumulative
    );
    let c = build(&[(var, "sometimes")]);
    assert_eq!(
        c.temporality_preference(),
        TemporalityPreference::Cumulative
    );
    assert!(warned_about(&c, var));
    let c = env(&[(var, "delta")])
        .temporality_preference(TemporalityPreference::LowMemory)
        .build()
        .unwrap();
    assert_eq!(c.temporality_preference(), TemporalityPreference::LowMemory);
}

// ---- TLS ---------------------------------------------------------------------------------

#[test]
fn tls_paths_and_insecure() {
    let c = build(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/key.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/etc/cert.pem"),
        ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/etc/logs-ca.pem"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "TRUE"),
        ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "false"),
    ]);
    let t = c.signal(T);
    assert_eq!(t.certificate(), Some(Path::new("/etc/ca.pem")));
    assert_eq!(t.client_key(), Some(Path::new("/etc/key.pem")));
    assert_eq!(t.client_certificate(), Some(Path::new("/etc/cert.pem")));
    assert!(t.insecure());
    assert_eq!(
        c.signal(L).certificate(),
        Some(Path::new("/etc/logs-ca.pem"))
    );
    assert!(!c.signal(M).insecure());

    let c = build(&[("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "yes")]);
    assert!(!c.signal(T).insecure());
    assert!(warned_about(&c, "OTEL_EXPORTER_OTLP_TRACES_INSECURE"));
}

#[test]
fn tls_per_signal_and_code_precedence() {
    let c = env(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/env/ca.pem"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "/env/traces-ca.pem",
        ),
    ])
    .certificate("/code/ca.pem")
    .signal_certificate(M, "/code/metrics-ca.pem")
    .signal_insecure(L, true)
    .build()
    .unwrap();
    assert_eq!(c.signal(T).certificate(), Some(Path::new("/code/ca.pem")));
    assert_eq!(
        c.signal(M).certificate(),
        Some(Path::new("/code/metrics-ca.pem"))
    );
    assert!(c.signal(L).insecure());
    assert!(!c.signal(T).insecure());
}

#[test]
fn client_key_needs_client_certificate() {
    let err = env(&[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidTls);
    assert_eq!(err.source_name(), "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    let err = ConfigBuilder::new()
        .signal_client_certificate(L, "/c.pem")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidTls);
    assert!(
        err.to_string()
            .contains("ConfigBuilder::signal_client_certificate")
    );
    assert!(
        ConfigBuilder::new()
            .client_key("/k.pem")
            .signal_client_certificate(L, "/c.pem")
            .build()
            .is_err(),
        "traces and metrics have a key without a certificate"
    );
    let c = ConfigBuilder::new()
        .client_key("/k.pem")
        .client_certificate("/c.pem")
        .build()
        .unwrap();
    assert_eq!(c.signal(M).client_key(), Some(Path::new("/k.pem")));

    let err = ConfigBuilder::new().certificate("").build().unwrap_err();
    assert_eq!(err.kind(), BuildErrorKind::InvalidTls);
}

// ---- Resource, service name, SDK ---------------------------------------------------------

fn attr<'a>(c: &'a Config, key: &str) -> Option<&'a AnyValue> {
    c.resource_attributes()
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| &kv.value)
}

#[test]
fn resource_attributes_are_percent_decoded() {
    let c = build(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=prod, host.name = h%C3%A9 ,note=a%2Cb%3Dc,service.name=from-attrs",
    )]);
    assert_eq!(
        attr(&c, "deployment.environment"),
        Some(&AnyValue::from("prod"))
    );
    assert_eq!(attr(&c, "host.name"), Some(&AnyValue::from("hé")));
    assert_eq!(attr(&c, "note"), Some(&AnyValue::from("a,b=c")));
    assert_eq!(c.service_name(), "from-attrs");
    assert_eq!(c.resource_attributes().len(), 4);
    assert!(c.warnings().is_empty());
}

#[test]
fn resource_attributes_are_discarded_whole_on_any_error() {
    for bad in ["a=1,b=%ZZ", "a=1,novalue", "a=1,=2", "a=%FF"] {
        let c = build(&[("OTEL_RESOURCE_ATTRIBUTES", bad)]);
        assert_eq!(attr(&c, "a"), None, "{bad}");
        assert_eq!(c.resource_attributes().len(), 1, "only service.name: {bad}");
        assert!(c.service_name().starts_with("unknown_service"));
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(c.warnings()[0].value(), Some(bad));
        assert!(c.warnings()[0].to_string().contains("discarded"));
    }
}

#[test]
fn service_name_precedence() {
    let attrs = ("OTEL_RESOURCE_ATTRIBUTES", "service.name=attrs,x=1");
    let svc = ("OTEL_SERVICE_NAME", "env-name");
    assert!(build(&[]).service_name().starts_with("unknown_service:"));
    assert_eq!(build(&[attrs]).service_name(), "attrs");
    assert_eq!(build(&[attrs, svc]).service_name(), "env-name");
    let c = env(&[attrs, svc])
        .resource_attributes([KeyValue::new("service.name", "code-attrs")])
        .build()
        .unwrap();
    assert_eq!(c.service_name(), "code-attrs");
    let c = env(&[attrs, svc])
        .resource_attributes([KeyValue::new("service.name", "code-attrs")])
        .service_name("code-name")
        .build()
        .unwrap();
    assert_eq!(c.service_name(), "code-name");
    assert_eq!(attr(&c, "x"), Some(&AnyValue::from("1")));
    let names = c
        .resource_attributes()
        .iter()
        .filter(|kv| kv.key == "service.name")
        .count();
    assert_eq!(names, 1);
}

#[test]
fn sdk_disabled_only_for_true() {
    assert!(build(&[("OTEL_SDK_DISABLED", "true")]).sdk_disabled());
    assert!(build(&[("OTEL_SDK_DISABLED", "True")]).sdk_disabled());
    let c = build(&[("OTEL_SDK_DISABLED", "false")]);
    assert!(!c.sdk_disabled());
    assert!(c.warnings().is_empty());
    let c = build(&[("OTEL_SDK_DISABLED", "1")]);
    assert!(!c.sdk_disabled());
    assert!(warned_about(&c, "OTEL_SDK_DISABLED"));
    assert!(
        !env(&[("OTEL_SDK_DISABLED", "true")])
            .sdk_disabled(false)
            .build()
            .unwrap()
            .sdk_disabled()
    );
}

#[test]
fn config_file_variable_warns() {
    let c = build(&[("OTEL_CONFIG_FILE", "/etc/otel.yaml")]);
    assert!(warned_about(&c, "OTEL_CONFIG_FILE"));
}

// ---- Precedence across all four layers ---------------------------------------------------

#[test]
fn precedence_code_signal_generic_default() {
    let vars = [
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd"),
    ];
    // default
    assert_eq!(build(&[]).signal(T).compression(), Compression::None);
    // generic variable
    assert_eq!(build(&vars[..1]).signal(T).compression(), Compression::Gzip);
    // per-signal variable over generic
    let c = build(&vars);
    assert_eq!(c.signal(T).compression(), Compression::Zstd);
    assert_eq!(c.signal(L).compression(), Compression::Gzip);
    // generic code over both variables
    let c = env(&vars)
        .compression(Compression::Deflate)
        .build()
        .unwrap();
    assert_eq!(c.signal(T).compression(), Compression::Deflate);
    // per-signal code over generic code
    let c = env(&vars)
        .compression(Compression::Deflate)
        .signal_compression(T, Compression::None)
        .build()
        .unwrap();
    assert_eq!(c.signal(T).compression(), Compression::None);
    assert_eq!(c.signal(M).compression(), Compression::Deflate);
}

#[test]
fn code_only_settings() {
    let retry = RetryPolicy::disabled();
    let c = ConfigBuilder::new()
        .queue_full_policy(QueueFullPolicy::Block(Duration::from_millis(10)))
        .retry(retry)
        .thread_name("exporter")
        .stack_size(128 * 1024)
        .shutdown_timeout(Duration::from_secs(1))
        .max_batch_bytes(1 << 20)
        .max_request_size(2 << 20)
        .max_response_size(1 << 16)
        .build()
        .unwrap();
    assert_eq!(
        c.queue_full_policy(),
        QueueFullPolicy::Block(Duration::from_millis(10))
    );
    assert!(!c.retry().enabled);
    assert_eq!(c.retry(), &retry);
    assert_eq!(
        ConfigBuilder::new().build().unwrap().retry(),
        &RetryPolicy::default()
    );
    assert_eq!(c.thread_name(), "exporter");
    assert_eq!(c.stack_size(), Some(128 * 1024));
    assert_eq!(c.shutdown_timeout(), Duration::from_secs(1));
    assert_eq!(c.max_batch_bytes(), 1 << 20);
    assert_eq!(c.max_request_size(), 2 << 20);
    assert_eq!(c.max_response_size(), 1 << 16);
    assert!(c.warnings().is_empty());
}

#[test]
fn every_exporter_variable_per_signal() {
    for s in Signal::ALL {
        let up = s.name().to_uppercase();
        let name = |x: &str| format!("OTEL_EXPORTER_OTLP_{up}_{x}");
        let pairs: Vec<(String, String)> = vec![
            (name("ENDPOINT"), "https://h:1/p".into()),
            (name("HEADERS"), "k=v".into()),
            (name("TIMEOUT"), "123".into()),
            (name("COMPRESSION"), "gzip".into()),
            (name("PROTOCOL"), "http/json".into()),
            (name("CERTIFICATE"), "/ca".into()),
            (name("CLIENT_KEY"), "/key".into()),
            (name("CLIENT_CERTIFICATE"), "/cert".into()),
            (name("INSECURE"), "true".into()),
        ];
        let map: HashMap<String, String> = pairs.into_iter().collect();
        let c = ConfigBuilder::from_env_with(|k| map.get(k).cloned())
            .build()
            .unwrap();
        let sc = c.signal(s);
        assert_eq!(sc.endpoint(), "https://h:1/p");
        assert_eq!(sc.headers().get("k"), Some("v"));
        assert_eq!(sc.timeout(), ms(123));
        assert_eq!(sc.compression(), Compression::Gzip);
        assert_eq!(sc.encoding(), Encoding::Json);
        assert_eq!(sc.certificate(), Some(Path::new("/ca")));
        assert_eq!(sc.client_key(), Some(Path::new("/key")));
        assert_eq!(sc.client_certificate(), Some(Path::new("/cert")));
        assert!(sc.insecure());
        // The other signals are untouched.
        for other in Signal::ALL.into_iter().filter(|o| *o != s) {
            assert_eq!(
                c.signal(other),
                ConfigBuilder::new().build().unwrap().signal(other)
            );
        }
        assert!(c.warnings().is_empty());
    }
}
