//! Codecs and encodings behind cargo features (`gzip`, `zstd`, `json`): with the feature on
//! the `OTEL_*` value configures it; with it off the value in effect fails the build with
//! an error naming the variable, the value and the feature; never a silent fallback. These
//! tests build and pass in both cases: CI runs them with all features and again with
//! `--no-default-features --features std,http` (see `.ci/run`).

use otlp_sync::compress::Compression;
use otlp_sync::config::{BuildError, BuildErrorKind, Config, ConfigBuilder};
use otlp_sync::encode::Encoding;
use otlp_sync::model::Signal;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> ConfigBuilder {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConfigBuilder::from_env_with(move |k| map.get(k).cloned())
}

/// The build error for a value whose feature is off, checked to name everything needed.
#[cfg_attr(
    all(feature = "gzip", feature = "zstd", feature = "json"),
    allow(dead_code)
)]
fn feature_error(result: Result<Config, BuildError>, var: &str, value: &str, feature: &str) {
    let err = result.expect_err("a disabled codec or encoding must fail the build");
    assert_eq!(err.kind(), BuildErrorKind::FeatureDisabled, "{err}");
    assert_eq!(err.source_name(), var, "{err}");
    assert_eq!(err.value(), Some(value), "{err}");
    let text = err.to_string();
    assert!(text.contains(var), "{text}");
    assert!(
        text.contains(&format!("cargo feature `{feature}`")),
        "{text}"
    );
}

#[test]
fn gzip_and_deflate_variables_need_the_gzip_feature() {
    for (value, name) in [("gzip", "gzip"), (" GZip ", "gzip"), ("Deflate", "deflate")] {
        let result = env(&[("OTEL_EXPORTER_OTLP_COMPRESSION", value)]).build();
        #[cfg(feature = "gzip")]
        {
            let config = result.expect("gzip is compiled in");
            let want = if name == "gzip" {
                Compression::Gzip
            } else {
                Compression::Deflate
            };
            for s in [Signal::Traces, Signal::Metrics, Signal::Logs] {
                assert_eq!(config.signal(s).compression(), want, "{value:?}");
            }
            assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        }
        #[cfg(not(feature = "gzip"))]
        feature_error(result, "OTEL_EXPORTER_OTLP_COMPRESSION", name, "gzip");
        assert_eq!(Compression::parse(value).is_some(), cfg!(feature = "gzip"));
    }
}

#[test]
fn zstd_variable_needs_the_zstd_feature() {
    let result = env(&[("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "ZSTD")]).build();
    #[cfg(feature = "zstd")]
    {
        let config = result.expect("zstd is compiled in");
        assert_eq!(config.signal(Signal::Logs).compression(), Compression::Zstd);
        assert_eq!(
            config.signal(Signal::Traces).compression(),
            Compression::None
        );
    }
    #[cfg(not(feature = "zstd"))]
    feature_error(
        result,
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
        "zstd",
        "zstd",
    );
    assert_eq!(Compression::parse("zstd").is_some(), cfg!(feature = "zstd"));
}

#[test]
fn http_json_variable_needs_the_json_feature() {
    let result = env(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/JSON")]).build();
    #[cfg(feature = "json")]
    {
        let config = result.expect("json is compiled in");
        assert_eq!(config.signal(Signal::Traces).encoding(), Encoding::Json);
        assert_eq!(config.signal(Signal::Logs).encoding(), Encoding::Protobuf);
    }
    #[cfg(not(feature = "json"))]
    feature_error(
        result,
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "http/json",
        "json",
    );
}

#[test]
fn a_disabled_value_that_is_overridden_is_not_an_error() {
    // Only the value in effect matters, as for `grpc`: a per-signal variable and a setter
    // both beat the generic variable.
    let config = env(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"),
    ])
    .signal_compression(Signal::Metrics, Compression::None)
    .signal_compression(Signal::Logs, Compression::None)
    .protocol(Encoding::Protobuf)
    .build()
    .expect("every disabled value is overridden");
    for s in [Signal::Traces, Signal::Metrics, Signal::Logs] {
        assert_eq!(config.signal(s).compression(), Compression::None);
        assert_eq!(config.signal(s).encoding(), Encoding::Protobuf);
    }
}

#[test]
fn unknown_codec_names_still_warn_and_fall_through() {
    // Not a disabled feature: just a bad value, ignored with a warning as before.
    let config = env(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")])
        .build()
        .expect("an unknown value is ignored");
    assert_eq!(
        config.signal(Signal::Traces).compression(),
        Compression::None
    );
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| w.source_name() == "OTEL_EXPORTER_OTLP_COMPRESSION"),
        "{:?}",
        config.warnings()
    );
}
