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
//!
//! # Delivery guarantees
//!
//! Every record offered to a [`RecordSender`] is counted exactly once in
//! [`Exporter::stats`]: exported, dropped with a reason
//! ([`Dropped`](crate::pipeline::Dropped)), or still queued. Once a flush has returned
//! `Ok` or `Failed`, nothing offered before it is still queued, so for each signal
//! `offered == exported + dropped.total()` (until more records are offered).
//!
//! * **Exactly once** while the receiver answers in time. A batch answered 2xx is counted
//!   `exported` and never sent again. A retryable answer (429, 502, 503, 504) or a refused
//!   connection means the receiver did not take the request, so the resend that follows
//!   duplicates nothing.
//! * **At least once** when an acknowledgement is lost: if the connection closes after the
//!   request was sent but before the response arrived, the exporter cannot know whether the
//!   receiver processed it, and sends the same batch again, as OTLP specifies. A receiver
//!   that did process the first copy then holds those records twice. This is the only way
//!   records are duplicated.
//! * **Dropped and counted** otherwise. All attempts and waits of a batch share its export
//!   timeout (the shorter of the signal's OTLP timeout and export timeout), and one attempt
//!   may use all that is left of it: a response slower than that is not waited for, and the
//!   batch is counted `retries_exhausted` and not resent, although the receiver may have
//!   stored it (so `exported` can undercount what arrived, never overcount). Likewise when
//!   the retry attempts run out. A non-retryable answer (400, 401, 413, 500, ...) drops the
//!   batch as `rejected`; a partial success drops the items the receiver rejected as
//!   `partial_rejected`; a full queue drops as `queue_full`; records still undelivered when
//!   the shutdown deadline passes, or offered after shutdown, drop as `shutdown`.

use crate::config::{Config, QueueFullPolicy, SignalConfig as UserSignalConfig};
use crate::metrics::{Meter, MeterProvider};
use crate::model::{InstrumentationScope, Resource, Signal, Str};
use crate::pipeline::{
    FlushError, FullPolicy, Pipeline, PipelineConfig, RecordSender, ShutdownError, SignalConfig,
    StartError, Stats,
};
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
    /// The instruments of [`Exporter::meter`], collected by the pipeline.
    meters: Option<MeterProvider>,
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
                meters: None,
                trace_settings,
            });
        }
        let transport = build_transport(&config).map_err(ExporterError::Transport)?;
        // Instruments are collected every export interval (OTEL_METRIC_EXPORT_INTERVAL).
        let meters = MeterProvider::new(config.temporality_preference());
        let interval = config.signal(Signal::Metrics).batch().schedule_delay();
        let pipeline = Pipeline::start_with_metrics(
            pipeline_config(&config),
            resource(&config),
            transport,
            Box::new(meters.clone()),
            interval,
        )
        .map_err(ExporterError::Start)?;
        Ok(Exporter {
            pipeline: Some(pipeline),
            meters: Some(meters),
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

    /// A logger whose records carry the instrumentation scope `name`; a no-op logger when
    /// the SDK is disabled. Cheap: one scope allocation; clone the logger to share it.
    pub fn logger(&self, name: impl Into<crate::model::Str>) -> crate::logs::Logger {
        let scope = std::sync::Arc::new(crate::model::InstrumentationScope::new(name));
        crate::logs::Logger::new(self.sender(), scope)
    }

    /// A meter whose instruments are collected every export interval
    /// (`OTEL_METRIC_EXPORT_INTERVAL`), at each flush and at shutdown, with the
    /// configured temporality preference. A no-op meter when the SDK is disabled.
    ///
    /// ```
    /// use otlp_sync::config::Config;
    /// use otlp_sync::exporter::Exporter;
    /// use otlp_sync::model::KeyValue;
    ///
    /// let exporter = Exporter::new(Config::builder().endpoint("http://127.0.0.1:9").build()?)?;
    /// let requests = exporter.meter("my.service").u64_counter("requests").build();
    /// requests.add(1, &[KeyValue::new("route", "/")]);
    /// # exporter.shutdown(std::time::Duration::from_millis(100)).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn meter(&self, name: impl Into<crate::model::Str>) -> Meter {
        self.meters
            .as_ref()
            .map_or_else(Meter::noop, |m| m.meter(name))
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

    /// The message of the last partial success the receiver reported, if any: a
    /// rejection (also in [`Exporter::last_error_message`]) or a warning, which rejects
    /// nothing and is reported nowhere else.
    pub fn last_partial_success_message(&self) -> Option<String> {
        self.pipeline
            .as_ref()
            .and_then(Pipeline::last_partial_success_message)
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

/// The resource: the configured attributes (service.name first), the SDK's own, and the
/// detected process and host attributes (see [`crate::resource`]).
fn resource(config: &Config) -> Resource {
    crate::resource::detect(config)
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
    p.retry = *config.retry();
    p.max_request_bytes = config.max_request_size();
    p.thread_name = config.thread_name().to_owned();
    p.stack_size = config.stack_size();
    p.shutdown_timeout = config.shutdown_timeout();
    p.encode_on_send = config.encode_on_send();
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

    #[cfg(feature = "gzip")]
    #[test]
    fn settings_reach_the_pipeline() {
        use crate::compress::Compression;
        use crate::config::Timeout;
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
        assert_eq!(p.retry, crate::retry::RetryPolicy::default());
    }

    #[test]
    fn the_retry_policy_reaches_the_pipeline_unchanged() {
        use crate::retry::{Jitter, RetryPolicy};
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal] {
            let retry = RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(250),
                max_backoff: Duration::from_secs(4),
                multiplier: 1.5,
                jitter,
                ..RetryPolicy::default()
            };
            let config = Config::builder().retry(retry).build().unwrap();
            assert_eq!(pipeline_config(&config).retry, retry);
        }
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
        assert!(e.meter("m").is_noop());
        assert!(e.meter("m").u64_counter("c").build().is_noop());
        assert_eq!(e.flush(Duration::from_millis(10)), Ok(()));
        assert_eq!(e.stats().traces.offered, 0);
    }
}
