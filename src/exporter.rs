//! The exporter: a [`Pipeline`] and its OTLP/HTTP transport, built from a [`Config`].
//!
//! This is the glue between the user-facing configuration (code settings and `OTEL_*`
//! variables) and the pieces that do the work. It owns nothing clever itself.
//!
//! ```
//! use otlp_sync::config::Config;
//! use otlp_sync::exporter::Exporter;
//! use std::time::Duration;
//!
//! // Nothing listens on this port: records are retried, then dropped and counted.
//! let config = Config::builder().endpoint("http://127.0.0.1:9").build()?;
//! let exporter = Exporter::new(config)?;
//! assert!(exporter.sender().is_some());
//! exporter.shutdown(Duration::from_secs(1)).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::config::{Config, QueueFullPolicy, SignalConfig as UserSignalConfig};
use crate::model::{InstrumentationScope, KeyValue, Resource, Signal, Str};
use crate::pipeline::{
    FlushError, FullPolicy, Pipeline, PipelineConfig, RecordSender, ShutdownError, SignalConfig,
    StartError, Stats,
};
use crate::retry::{Jitter, RetryPolicy};
use crate::trace::{TraceSettings, Tracer};
use crate::transport::http::{HttpConfig, HttpTransport};
use crate::transport::{Request, Response, Transport, TransportError};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why an exporter could not be built.
#[derive(Debug)]
pub enum ExporterError {
    /// A setting or `OTEL_*` variable has a value that cannot be used.
    Config(crate::config::BuildError),
    /// The transport could not be set up (bad URL, unreadable certificate file, ...).
    Transport(TransportError),
    /// The worker thread could not be started.
    Start(StartError),
}

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExporterError::Config(e) => write!(f, "bad exporter configuration: {e}"),
            ExporterError::Transport(e) => write!(f, "cannot set up the OTLP transport: {e}"),
            ExporterError::Start(e) => write!(f, "cannot start the export thread: {e}"),
        }
    }
}

impl std::error::Error for ExporterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExporterError::Config(e) => Some(e),
            ExporterError::Transport(e) => Some(e),
            ExporterError::Start(e) => Some(e),
        }
    }
}

/// An OTLP exporter: one background thread exporting all three signals over HTTP.
///
/// Dropping it shuts it down, waiting at most the configured shutdown timeout.
#[must_use = "dropping the exporter shuts it down"]
pub struct Exporter {
    pipeline: Option<Pipeline>,
    /// Sampler and span limits for tracers, from `OTEL_TRACES_SAMPLER*` and the span
    /// limit variables, read in [`Exporter::new`].
    trace_settings: TraceSettings,
}

impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("enabled", &self.pipeline.is_some())
            .finish()
    }
}

impl Exporter {
    /// Reads every `OTEL_*` variable this crate knows and starts an exporter with the
    /// result. Values that had to be ignored are reported through the `diagnostics`
    /// feature (and are in [`Config::warnings`] when building the config yourself).
    ///
    /// # Errors
    /// A variable whose value cannot be used (the error names it), or see
    /// [`Exporter::new`].
    pub fn from_env() -> Result<Exporter, ExporterError> {
        let config = crate::config::ConfigBuilder::from_env()
            .build()
            .map_err(ExporterError::Config)?;
        Exporter::new(config)
    }

    /// Builds the transport and starts the pipeline for `config`.
    ///
    /// With `OTEL_SDK_DISABLED=true` (or [`crate::config::ConfigBuilder::sdk_disabled`])
    /// no thread is started and [`Exporter::sender`] returns `None`.
    ///
    /// # Errors
    /// A transport that cannot be set up (for example an unreadable CA file) or a thread
    /// that cannot be spawned.
    pub fn new(config: Config) -> Result<Exporter, ExporterError> {
        for warning in config.warnings() {
            diag!(Warn, "{warning}");
        }
        let (trace_settings, trace_warnings) = TraceSettings::from_env();
        for warning in trace_warnings {
            diag!(Warn, "{warning}");
        }
        if config.sdk_disabled() {
            return Ok(Exporter {
                pipeline: None,
                trace_settings,
            });
        }
        let transport = build_transport(&config).map_err(ExporterError::Transport)?;
        let pipeline = Pipeline::start(pipeline_config(&config), resource(&config), transport)
            .map_err(ExporterError::Start)?;
        Ok(Exporter {
            pipeline: Some(pipeline),
            trace_settings,
        })
    }

    /// A tracer for the instrumentation scope `name`, with the sampler and span limits
    /// read from the environment (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`,
    /// `OTEL_SPAN_*_LIMIT`, ...) when the exporter was made. A no-op tracer when the SDK
    /// is disabled.
    pub fn tracer(&self, name: impl Into<Str>) -> Tracer {
        self.tracer_with_scope(InstrumentationScope::new(name))
    }

    /// Like [`tracer`](Self::tracer), with a full scope (version, attributes, schema URL).
    pub fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        Tracer::new(self.sender(), Arc::new(scope), self.trace_settings.clone())
    }

    /// A cheap, cloneable handle that application threads send records through; `None`
    /// when the SDK is disabled.
    pub fn sender(&self) -> Option<RecordSender> {
        self.pipeline.as_ref().map(Pipeline::sender)
    }

    /// Counters of everything offered, exported and dropped so far.
    pub fn stats(&self) -> Stats {
        self.pipeline
            .as_ref()
            .map(Pipeline::stats)
            .unwrap_or_default()
    }

    /// The last export error, in words, if any.
    pub fn last_error_message(&self) -> Option<String> {
        self.pipeline
            .as_ref()
            .and_then(Pipeline::last_error_message)
    }

    /// Exports everything offered so far; returns by `timeout`.
    ///
    /// # Errors
    /// See [`Pipeline::flush`].
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        match &self.pipeline {
            Some(p) => p.flush(timeout),
            None => Ok(()),
        }
    }

    /// Flushes and stops the export thread; returns by `timeout`. Idempotent.
    ///
    /// # Errors
    /// See [`Pipeline::shutdown`].
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownError> {
        match &self.pipeline {
            Some(p) => p.shutdown(timeout),
            None => Ok(()),
        }
    }
}

/// The resource: the configured attributes (service.name first) plus the SDK's own.
fn resource(config: &Config) -> Resource {
    let mut attributes: Vec<KeyValue> = config.resource_attributes().to_vec();
    for (key, value) in [
        ("telemetry.sdk.name", "otlp-sync"),
        ("telemetry.sdk.language", "rust"),
        ("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ] {
        if !attributes.iter().any(|kv| kv.key == key) {
            attributes.push(KeyValue::new(key, value));
        }
    }
    Resource::new(attributes)
}

fn pipeline_config(config: &Config) -> PipelineConfig {
    let mut p = PipelineConfig::default();
    for signal in Signal::ALL {
        let user = config.signal(signal);
        let batch = user.batch();
        let export_timeout = batch.export_timeout().capped().min(user.timeout().capped());
        *p.signal_mut(signal) = SignalConfig {
            encoding: user.encoding(),
            compression: user.compression(),
            compression_level: user
                .compression_level()
                .map(|l| u8::try_from(l).unwrap_or(u8::MAX)),
            queue_capacity: batch.max_queue_size(),
            max_batch_records: batch.max_export_batch_size(),
            max_batch_bytes: config.max_batch_bytes(),
            schedule_delay: batch.schedule_delay(),
            export_timeout,
        };
    }
    p.full_policy = match config.queue_full_policy() {
        QueueFullPolicy::Drop => FullPolicy::Drop,
        QueueFullPolicy::Block(d) => FullPolicy::Block(d),
        QueueFullPolicy::DropOldest => FullPolicy::DropOldest,
    };
    let retry = config.retry();
    p.retry = RetryPolicy {
        enabled: retry.enabled,
        max_attempts: retry.max_attempts,
        initial_backoff: retry.initial_backoff,
        max_backoff: retry.max_backoff,
        multiplier: retry.multiplier,
        jitter: if retry.jitter > 0.0 {
            Jitter::Equal
        } else {
            Jitter::None
        },
    };
    p.max_request_bytes = config.max_request_size();
    p.thread_name = config.thread_name().to_owned();
    p.stack_size = config.stack_size();
    p.shutdown_timeout = config.shutdown_timeout();
    p
}

/// The parts of a signal's settings that make its HTTP client differ from another's.
fn client_key(s: &UserSignalConfig) -> impl PartialEq + '_ {
    (
        s.headers().iter().collect::<Vec<_>>(),
        s.certificate(),
        s.client_certificate(),
        s.client_key(),
    )
}

fn http_config(config: &Config, s: &UserSignalConfig) -> HttpConfig {
    HttpConfig {
        traces_endpoint: config.endpoint(Signal::Traces).to_owned(),
        metrics_endpoint: config.endpoint(Signal::Metrics).to_owned(),
        logs_endpoint: config.endpoint(Signal::Logs).to_owned(),
        headers: s
            .headers()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        max_response_body_bytes: config.max_response_size(),
        ca_pem_path: s.certificate().map(Into::into),
        client_cert_pem_path: s.client_certificate().map(Into::into),
        client_key_pem_path: s.client_key().map(Into::into),
        ..HttpConfig::default()
    }
}

/// One HTTP client when all signals share headers and TLS files (the usual case),
/// otherwise one per signal behind a router.
fn build_transport(config: &Config) -> Result<Box<dyn Transport>, TransportError> {
    let [t, m, l] = Signal::ALL.map(|s| config.signal(s));
    if client_key(t) == client_key(m) && client_key(t) == client_key(l) {
        return Ok(Box::new(HttpTransport::new(http_config(config, t))?));
    }
    Ok(Box::new(BySignal {
        traces: HttpTransport::new(http_config(config, t))?,
        metrics: HttpTransport::new(http_config(config, m))?,
        logs: HttpTransport::new(http_config(config, l))?,
    }))
}

/// Routes each request to its signal's own client.
struct BySignal {
    traces: HttpTransport,
    metrics: HttpTransport,
    logs: HttpTransport,
}

impl Transport for BySignal {
    fn send(&mut self, request: &Request<'_>) -> Result<Response, TransportError> {
        match request.signal {
            Signal::Traces => self.traces.send(request),
            Signal::Metrics => self.metrics.send(request),
            Signal::Logs => self.logs.send(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::Compression;
    use crate::config::Timeout;

    #[test]
    fn settings_reach_the_pipeline() {
        let config = Config::builder()
            .signal_compression(Signal::Logs, Compression::Gzip)
            .timeout(Timeout::After(Duration::from_secs(3)))
            .max_queue_size(Signal::Traces, 100)
            .max_export_batch_size(Signal::Traces, 10)
            .build()
            .unwrap();
        let p = pipeline_config(&config);
        assert_eq!(p.logs.compression, Compression::Gzip);
        assert_eq!(p.traces.compression, Compression::None);
        assert_eq!(p.traces.export_timeout, Duration::from_secs(3));
        assert_eq!(p.traces.queue_capacity, 100);
        assert_eq!(p.traces.max_batch_records, 10);
        assert_eq!(p.logs.schedule_delay, Duration::from_millis(1000));
    }

    #[test]
    fn resource_has_service_and_sdk_attributes() {
        let config = Config::builder().service_name("pump").build().unwrap();
        let r = resource(&config);
        let get = |k: &str| {
            r.attributes
                .iter()
                .find(|kv| kv.key == k)
                .map(|kv| kv.value.clone())
        };
        assert_eq!(get("service.name"), Some("pump".to_string().into()));
        assert_eq!(get("telemetry.sdk.language"), Some("rust".into()));
        assert_eq!(get("telemetry.sdk.name"), Some("otlp-sync".into()));
    }

    #[test]
    fn disabled_sdk_starts_nothing() {
        let config = Config::builder().sdk_disabled(true).build().unwrap();
        let e = Exporter::new(config).unwrap();
        assert!(e.sender().is_none());
        assert_eq!(e.flush(Duration::from_millis(10)), Ok(()));
        assert_eq!(e.stats().traces.offered, 0);
    }
}
