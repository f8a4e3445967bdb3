//! The examples' exporter: to the `OTEL_EXPORTER_OTLP_*ENDPOINT` given, or else to a
//! receiver of their own on 127.0.0.1 (the tests' fake collector, which the example
//! includes as `mod collector`).

use crate::collector::Collector;
use otlp_sync::config::ConfigBuilder;
use otlp_sync::exporter::Exporter;

/// An exporter for `service` from the environment; when none of `endpoint_vars` is set,
/// also the loopback receiver it exports to.
pub fn exporter(
    service: &str,
    endpoint_vars: &[&str],
) -> Result<(Exporter, Option<Collector>), String> {
    let remote = endpoint_vars
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    let receiver = match remote {
        true => None,
        false => Some(Collector::start_on(0).map_err(|e| format!("loopback receiver: {e}"))?),
    };
    let mut builder = ConfigBuilder::from_env().service_name(service);
    if let Some(r) = &receiver {
        builder = builder.endpoint(r.url(""));
    }
    let config = builder.build().map_err(|e| e.to_string())?;
    let exporter = Exporter::new(config).map_err(|e| e.to_string())?;
    Ok((exporter, receiver))
}
