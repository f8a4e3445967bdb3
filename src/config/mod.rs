//! Configuration: one consuming [`ConfigBuilder`], the `OTEL_*` environment variables, and
//! an immutable, validated [`Config`].
//!
//! This module is pure: it starts no threads, opens no sockets, and reads the process
//! environment only in [`ConfigBuilder::from_env`]. [`ConfigBuilder::new`] (and `Default`)
//! read nothing; [`ConfigBuilder::from_env_with`] takes the environment as a function, so
//! tests pass a `HashMap`.
//!
//! # Precedence
//!
//! For every setting, highest first:
//!
//! 1. a per-signal setter (`signal_endpoint(Signal::Traces, ..)`),
//! 2. a generic setter (`endpoint(..)`, which applies to all three signals),
//! 3. a per-signal variable (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
//! 4. a generic variable (`OTEL_EXPORTER_OTLP_ENDPOINT`),
//! 5. the default.
//!
//! So `ConfigBuilder::from_env()` followed by setters works: the setters win. A value that
//! cannot be parsed (a garbage number, an unknown enum value) is *ignored* with a
//! [`Warning`], and the next layer applies. A value that cannot be ignored (an endpoint that
//! is not an `http`/`https` URL, protocol `grpc`, a codec or encoding whose cargo feature
//! is off in this build) fails [`ConfigBuilder::build`] with a [`BuildError`] naming the
//! variable or setter and the value. Header values never appear in
//! warnings, errors or `Debug` output.
//!
//! # Endpoints
//!
//! As the OTLP exporter specification says: a per-signal endpoint (variable or
//! [`ConfigBuilder::signal_endpoint`]) is used as-is, except that an empty path becomes `/`;
//! a base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or [`ConfigBuilder::endpoint`]) gets
//! `v1/traces`, `v1/metrics` or `v1/logs` appended to its path, with exactly one `/` between.
//! The default is `http://localhost:4318/v1/<signal>`.
//!
//! ```
//! use otlp_sync::config::ConfigBuilder;
//! use otlp_sync::model::Signal;
//! use std::collections::HashMap;
//!
//! let env = HashMap::from([
//!     ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/mycollector"),
//!     ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4318"),
//! ]);
//! let config = ConfigBuilder::from_env_with(|k| env.get(k).map(|v| v.to_string()))
//!     .signal_endpoint(Signal::Metrics, "https://metrics.example/otlp")
//!     .build()
//!     .unwrap();
//! assert_eq!(config.endpoint(Signal::Traces), "http://collector:4318/mycollector/v1/traces");
//! assert_eq!(config.endpoint(Signal::Logs), "http://logs:4318/");
//! assert_eq!(config.endpoint(Signal::Metrics), "https://metrics.example/otlp");
//! ```
//!
//! # Environment variables read
//!
//! `OTEL_EXPORTER_OTLP_{ENDPOINT, HEADERS, TIMEOUT, COMPRESSION, PROTOCOL, CERTIFICATE,
//! CLIENT_KEY, CLIENT_CERTIFICATE, INSECURE}` and their per-signal forms
//! `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*`; `OTEL_BSP_{SCHEDULE_DELAY, EXPORT_TIMEOUT,
//! MAX_QUEUE_SIZE, MAX_EXPORT_BATCH_SIZE}` (traces); `OTEL_BLRP_*` (logs);
//! `OTEL_METRIC_EXPORT_{INTERVAL,TIMEOUT}`; `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`;
//! `OTEL_SERVICE_NAME`; `OTEL_RESOURCE_ATTRIBUTES`; `OTEL_SDK_DISABLED`. An empty value is
//! the same as unset. `OTEL_CONFIG_FILE` is not supported: when set it is reported as a
//! warning and the variables above are still read.

mod env;
mod error;
mod headers;

/// Retry settings are [`crate::retry`]'s plain data types, re-exported here for
/// convenience; see [`ConfigBuilder::retry`].
pub use crate::retry::{Jitter, RetryPolicy};
pub use error::{BuildError, BuildErrorKind, Warning};
pub use headers::Headers;

use crate::compress::Compression;
use crate::encode::Encoding;
use crate::model::{AnyValue, KeyValue, Signal};
use crate::pipeline::EncodeOnSend;
use error::Source;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The OTLP exporter timeout default: 10 s (`OTEL_EXPORTER_OTLP_TIMEOUT`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// 4 MiB; see [`ConfigBuilder::max_batch_bytes`].
const DEFAULT_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// 64 MiB, the OTLP recommended default.
const DEFAULT_MAX_REQUEST_SIZE: usize = 64 * 1024 * 1024;
/// 4 MiB, the OTLP recommended default.
const DEFAULT_MAX_RESPONSE_SIZE: usize = 4 * 1024 * 1024;
const DEFAULT_THREAD_NAME: &str = "otlp-sync";
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
const SERVICE_NAME: &str = "service.name";

/// A timeout that may be unlimited. A timeout of 0 (in an environment variable, or
/// `Duration::ZERO` given to a setter) means "no limit", as the OTel specification says.
///
/// A worker thread must still not wait forever, so the pipeline should use
/// [`Timeout::capped`], which turns [`Timeout::Unlimited`] into
/// [`Timeout::UNLIMITED_CAP`] (one hour).
///
/// ```
/// use otlp_sync::config::Timeout;
/// use std::time::Duration;
/// assert_eq!(Timeout::from(Duration::ZERO), Timeout::Unlimited);
/// assert_eq!(Timeout::from_millis(250).capped(), Duration::from_millis(250));
/// assert_eq!(Timeout::Unlimited.capped(), Timeout::UNLIMITED_CAP);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeout {
    /// Give up after this long (never zero).
    After(Duration),
    /// No limit was asked for (a value of 0).
    Unlimited,
}

impl Timeout {
    /// What [`Timeout::capped`] uses for [`Timeout::Unlimited`]: one hour. Long enough to be
    /// "no limit" for any export, short enough that a stuck connection eventually frees the
    /// single worker thread.
    pub const UNLIMITED_CAP: Duration = Duration::from_secs(3600);

    /// From integer milliseconds, as the environment variables give it: 0 is unlimited.
    pub fn from_millis(ms: u64) -> Self {
        Timeout::from(Duration::from_millis(ms))
    }

    /// The limit, or `None` when unlimited.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Timeout::After(d) => Some(d),
            Timeout::Unlimited => None,
        }
    }

    /// The limit, with [`Timeout::UNLIMITED_CAP`] standing in for "unlimited". This is what
    /// code that waits should use.
    pub fn capped(self) -> Duration {
        self.duration().unwrap_or(Timeout::UNLIMITED_CAP)
    }
}

impl Timeout {
    /// `After(0)` is `Unlimited`, so a user-made `Timeout::After(Duration::ZERO)` means
    /// what a 0 in the environment means.
    fn normalized(self) -> Self {
        match self {
            Timeout::After(d) => Timeout::from(d),
            Timeout::Unlimited => Timeout::Unlimited,
        }
    }
}

impl From<Duration> for Timeout {
    /// `Duration::ZERO` is [`Timeout::Unlimited`].
    fn from(d: Duration) -> Self {
        if d.is_zero() {
            Timeout::Unlimited
        } else {
            Timeout::After(d)
        }
    }
}

/// What recording does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueueFullPolicy {
    /// Drop the new record and count it (`queue_full`). Recording never blocks. The default,
    /// as the OTel batching processors specify.
    #[default]
    Drop,
    /// Wait up to this long for room, then drop the new record and count it.
    Block(Duration),
    /// Drop the oldest queued record to make room for the new one, and count that.
    DropOldest,
}

/// The metrics temporality preference (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TemporalityPreference {
    /// Cumulative for every instrument kind (the default the specification requires).
    #[default]
    Cumulative,
    /// Delta for Counter, asynchronous Counter and Histogram; cumulative for UpDownCounter
    /// and asynchronous UpDownCounter.
    Delta,
    /// Delta for synchronous Counter and Histogram; cumulative for synchronous
    /// UpDownCounter, asynchronous Counter and asynchronous UpDownCounter.
    LowMemory,
}

/// When and how much one signal's records are batched for export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchConfig {
    schedule_delay: Duration,
    export_timeout: Timeout,
    max_queue_size: usize,
    max_export_batch_size: usize,
}

impl BatchConfig {
    /// The longest a record waits before its batch is exported (for metrics: the export
    /// interval, how often instruments are collected).
    pub fn schedule_delay(&self) -> Duration {
        self.schedule_delay
    }

    /// How long one export (all attempts) may take at the processor level.
    pub fn export_timeout(&self) -> Timeout {
        self.export_timeout
    }

    /// The most records of this signal that may wait in the queue.
    pub fn max_queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// The most records in one export request (never more than `max_queue_size`).
    pub fn max_export_batch_size(&self) -> usize {
        self.max_export_batch_size
    }
}

/// The resolved settings of one signal.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalConfig {
    signal: Signal,
    endpoint: String,
    headers: Headers,
    timeout: Timeout,
    compression: Compression,
    compression_level: Option<u32>,
    encoding: Encoding,
    certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    insecure: bool,
    batch: BatchConfig,
}

impl SignalConfig {
    /// Which signal this is.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The full URL to POST to, e.g. `http://localhost:4318/v1/traces`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether the endpoint uses TLS (`https`).
    pub fn is_https(&self) -> bool {
        self.endpoint
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("https:"))
    }

    /// Extra request headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// How long one export request may take, all retries included.
    pub fn timeout(&self) -> Timeout {
        self.timeout
    }

    /// Request body compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// A codec-specific compression level, when one was set; the codec clamps it to its
    /// range. `None` means the codec's default.
    pub fn compression_level(&self) -> Option<u32> {
        self.compression_level
    }

    /// Body encoding: `http/protobuf` is [`Encoding::Protobuf`], `http/json` is
    /// [`Encoding::Json`].
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Path of a PEM file of trusted CA certificates for the server.
    pub fn certificate(&self) -> Option<&Path> {
        self.certificate.as_deref()
    }

    /// Path of the PEM client private key for mTLS.
    pub fn client_key(&self) -> Option<&Path> {
        self.client_key.as_deref()
    }

    /// Path of the PEM client certificate (chain) for mTLS.
    pub fn client_certificate(&self) -> Option<&Path> {
        self.client_certificate.as_deref()
    }

    /// The `INSECURE` flag. It matters only to gRPC with a scheme-less endpoint; for
    /// OTLP/HTTP the scheme decides whether TLS is used.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// Batching for this signal.
    pub fn batch(&self) -> &BatchConfig {
        &self.batch
    }
}

/// An immutable, validated configuration. Made by [`ConfigBuilder::build`].
///
/// ```
/// use otlp_sync::config::{Config, QueueFullPolicy, Timeout};
/// use otlp_sync::model::Signal;
/// use std::time::Duration;
///
/// let config = Config::builder().build().unwrap();
/// assert_eq!(config.endpoint(Signal::Logs), "http://localhost:4318/v1/logs");
/// let traces = config.signal(Signal::Traces);
/// assert_eq!(traces.timeout(), Timeout::After(Duration::from_secs(10)));
/// assert_eq!(traces.batch().max_queue_size(), 2048);
/// assert_eq!(config.queue_full_policy(), QueueFullPolicy::Drop);
/// assert!(config.service_name().starts_with("unknown_service"));
/// assert!(config.warnings().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    signals: [SignalConfig; 3],
    resource_attributes: Vec<KeyValue>,
    sdk_disabled: bool,
    temporality: TemporalityPreference,
    queue_full_policy: QueueFullPolicy,
    retry: RetryPolicy,
    thread_name: String,
    stack_size: Option<usize>,
    max_batch_bytes: usize,
    max_request_size: usize,
    max_response_size: usize,
    shutdown_timeout: Duration,
    encode_on_send: EncodeOnSend,
    warnings: Vec<Warning>,
}

impl Config {
    /// A builder with every setting at its default; reads no environment.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::new()
    }

    /// The settings of one signal.
    pub fn signal(&self, signal: Signal) -> &SignalConfig {
        &self.signals[index(signal)]
    }

    /// The full endpoint URL of one signal.
    pub fn endpoint(&self, signal: Signal) -> &str {
        self.signal(signal).endpoint()
    }

    /// The resource attributes: `OTEL_RESOURCE_ATTRIBUTES` merged with
    /// [`ConfigBuilder::resource_attributes`], always with a `service.name`.
    pub fn resource_attributes(&self) -> &[KeyValue] {
        &self.resource_attributes
    }

    /// The `service.name` resource attribute as a string.
    pub fn service_name(&self) -> &str {
        self.resource_attributes
            .iter()
            .find(|kv| kv.key == SERVICE_NAME)
            .and_then(|kv| match &kv.value {
                AnyValue::Str(s) => Some(s.as_ref()),
                _ => None,
            })
            .unwrap_or("unknown_service")
    }

    /// Whether the SDK is disabled (`OTEL_SDK_DISABLED=true`): record nothing, export
    /// nothing.
    pub fn sdk_disabled(&self) -> bool {
        self.sdk_disabled
    }

    /// The metrics temporality preference.
    pub fn temporality_preference(&self) -> TemporalityPreference {
        self.temporality
    }

    /// What recording does when the queue is full.
    pub fn queue_full_policy(&self) -> QueueFullPolicy {
        self.queue_full_policy
    }

    /// Retry settings (validated: [`RetryPolicy::validate`] passed).
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The worker thread's name.
    pub fn thread_name(&self) -> &str {
        &self.thread_name
    }

    /// The worker thread's stack size in bytes, or `None` for the platform default.
    pub fn stack_size(&self) -> Option<usize> {
        self.stack_size
    }

    /// The most encoded bytes (before compression) in one export request.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }

    /// The largest request body allowed, before and after compression. A single record
    /// that encodes larger than this is dropped and counted as "too large".
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }

    /// The most response body bytes read (after decompression); more is a non-retryable
    /// error.
    pub fn max_response_size(&self) -> usize {
        self.max_response_size
    }

    /// How long dropping the exporter waits for a final flush and the worker thread.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// Which thread encodes protobuf records; see [`ConfigBuilder::encode_on_send`].
    pub fn encode_on_send(&self) -> EncodeOnSend {
        self.encode_on_send
    }

    /// Every value that was ignored or adjusted while building, in the order found.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
struct Val<T> {
    value: T,
    source: Source,
}

fn code<T>(setter: &'static str, value: T) -> Option<Val<T>> {
    Some(Val {
        value,
        source: Source::Code(setter),
    })
}

fn from_env<T>(var: &str, value: T) -> Option<Val<T>> {
    Some(Val {
        value,
        source: Source::Env(var.to_string()),
    })
}

/// The protocol as read: `grpc` is recognised so that it can be refused by name, and so
/// is `http/json` in a build without the `json` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http(Encoding),
    Grpc,
    #[cfg(not(feature = "json"))]
    Missing(Missing),
}

/// A codec or encoding named in the environment that this build leaves out: its
/// configuration name and the cargo feature that compiles it in. Refused by
/// [`ConfigBuilder::build`] if it is the value in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Missing {
    name: &'static str,
    feature: &'static str,
}

impl Missing {
    fn error(self, source: &Source) -> BuildError {
        BuildError::new(
            BuildErrorKind::FeatureDisabled,
            source.clone(),
            Some(self.name.into()),
            format!(
                "this build of otlp-sync leaves {} out: enable its cargo feature `{}`",
                self.name, self.feature
            ),
        )
    }
}

/// The OTLP exporter settings of one layer (code or environment), generic or per signal.
#[derive(Debug, Clone, Default, PartialEq)]
struct OtlpLayer {
    endpoint: Option<Val<String>>,
    headers: Option<Val<Headers>>,
    timeout: Option<Val<Timeout>>,
    compression: Option<Val<Result<Compression, Missing>>>,
    compression_level: Option<Val<u32>>,
    protocol: Option<Val<Protocol>>,
    certificate: Option<Val<PathBuf>>,
    client_key: Option<Val<PathBuf>>,
    client_certificate: Option<Val<PathBuf>>,
    insecure: Option<Val<bool>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct BatchLayer {
    schedule_delay: Option<Val<Duration>>,
    export_timeout: Option<Val<Timeout>>,
    max_queue_size: Option<Val<usize>>,
    max_export_batch_size: Option<Val<usize>>,
}

/// Everything that has both a setter and an environment variable.
#[derive(Debug, Clone, Default, PartialEq)]
struct Layer {
    generic: OtlpLayer,
    signals: [OtlpLayer; 3],
    batch: [BatchLayer; 3],
    service_name: Option<Val<String>>,
    resource: Option<Val<Vec<KeyValue>>>,
    sdk_disabled: Option<Val<bool>>,
    temporality: Option<Val<TemporalityPreference>>,
}

/// Builds a [`Config`]: a consuming builder (`fn x(mut self, ..) -> Self`).
///
/// Start from [`ConfigBuilder::new`] (defaults only) or [`ConfigBuilder::from_env`]
/// (defaults plus the `OTEL_*` variables), override in code, then [`build`](Self::build).
/// Values set in code always win over the environment; see the [module docs](self) for the
/// full precedence.
///
/// ```
/// # #[cfg(feature = "gzip")] {
/// use otlp_sync::config::{ConfigBuilder, Timeout};
/// use otlp_sync::compress::Compression;
/// use otlp_sync::model::Signal;
/// use std::time::Duration;
///
/// let env = |name: &str| match name {
///     "OTEL_EXPORTER_OTLP_TIMEOUT" => Some("2000".to_string()),
///     "OTEL_EXPORTER_OTLP_COMPRESSION" => Some("GZIP".to_string()),
///     _ => None,
/// };
/// let config = ConfigBuilder::from_env_with(env)
///     .signal_timeout(Signal::Logs, Duration::from_millis(500))
///     .service_name("pump-controller")
///     .build()
///     .unwrap();
/// assert_eq!(config.signal(Signal::Traces).timeout(), Timeout::After(Duration::from_secs(2)));
/// assert_eq!(config.signal(Signal::Logs).timeout(), Timeout::After(Duration::from_millis(500)));
/// assert_eq!(config.signal(Signal::Metrics).compression(), Compression::Gzip);
/// assert_eq!(config.service_name(), "pump-controller");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigBuilder {
    code: Layer,
    env: Layer,
    env_warnings: Vec<Warning>,
    queue_full_policy: QueueFullPolicy,
    retry: RetryPolicy,
    thread_name: String,
    stack_size: Option<usize>,
    max_batch_bytes: usize,
    max_request_size: usize,
    max_response_size: usize,
    shutdown_timeout: Duration,
    encode_on_send: EncodeOnSend,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder::new()
    }
}

fn env_name(signal: Option<Signal>, suffix: &str) -> String {
    match signal {
        None => format!("OTEL_EXPORTER_OTLP_{suffix}"),
        Some(Signal::Traces) => format!("OTEL_EXPORTER_OTLP_TRACES_{suffix}"),
        Some(Signal::Metrics) => format!("OTEL_EXPORTER_OTLP_METRICS_{suffix}"),
        Some(Signal::Logs) => format!("OTEL_EXPORTER_OTLP_LOGS_{suffix}"),
    }
}

/// The batching variables of a signal: (schedule delay or interval, export timeout, max
/// queue size, max export batch size). Metrics have no queue/batch variables.
fn batch_vars(signal: Signal) -> [Option<&'static str>; 4] {
    match signal {
        Signal::Traces => [
            Some("OTEL_BSP_SCHEDULE_DELAY"),
            Some("OTEL_BSP_EXPORT_TIMEOUT"),
            Some("OTEL_BSP_MAX_QUEUE_SIZE"),
            Some("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        ],
        Signal::Logs => [
            Some("OTEL_BLRP_SCHEDULE_DELAY"),
            Some("OTEL_BLRP_EXPORT_TIMEOUT"),
            Some("OTEL_BLRP_MAX_QUEUE_SIZE"),
            Some("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"),
        ],
        Signal::Metrics => [
            Some("OTEL_METRIC_EXPORT_INTERVAL"),
            Some("OTEL_METRIC_EXPORT_TIMEOUT"),
            None,
            None,
        ],
    }
}

/// The batching defaults: (schedule delay, export timeout, queue, batch).
fn batch_defaults(signal: Signal) -> BatchConfig {
    let (delay, queue, batch) = match signal {
        Signal::Traces => (5_000, 2048, 512),
        Signal::Logs => (1_000, 2048, 512),
        Signal::Metrics => (60_000, 2048, 512),
    };
    BatchConfig {
        schedule_delay: Duration::from_millis(delay),
        export_timeout: Timeout::After(Duration::from_millis(30_000)),
        max_queue_size: queue,
        max_export_batch_size: batch,
    }
}

fn first<T>(candidates: [&Option<Val<T>>; 4]) -> Option<&Val<T>> {
    candidates.into_iter().find_map(Option::as_ref)
}

impl ConfigBuilder {
    /// A builder with every setting at its default. Reads no environment variable.
    pub fn new() -> Self {
        ConfigBuilder {
            code: Layer::default(),
            env: Layer::default(),
            env_warnings: Vec::new(),
            queue_full_policy: QueueFullPolicy::Drop,
            retry: RetryPolicy::default(),
            thread_name: DEFAULT_THREAD_NAME.to_string(),
            stack_size: None,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            encode_on_send: EncodeOnSend::Backlog,
        }
    }

    /// A builder with the defaults overridden by the process environment's `OTEL_*`
    /// variables (see the [module docs](self)). Setters called afterwards win over the
    /// environment. Variables that are not valid Unicode are treated as unset.
    pub fn from_env() -> Self {
        ConfigBuilder::from_env_with(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), with the environment given as a lookup function
    /// (a `HashMap` in tests). Malformed values are recorded as warnings, shown by
    /// [`Config::warnings`]; endpoint and protocol values are checked by
    /// [`build`](Self::build), and only if they are the ones in effect.
    ///
    /// ```
    /// use otlp_sync::config::ConfigBuilder;
    /// use std::collections::HashMap;
    /// let env = HashMap::from([("OTEL_SDK_DISABLED".to_string(), "TRUE".to_string())]);
    /// let config = ConfigBuilder::from_env_with(|k| env.get(k).cloned()).build().unwrap();
    /// assert!(config.sdk_disabled());
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = ConfigBuilder::new();
        let w = &mut b.env_warnings;

        if let Some(v) = get("OTEL_CONFIG_FILE") {
            w.push(Warning::env(
                "OTEL_CONFIG_FILE",
                &v,
                "configuration files are not supported; the other OTEL_* variables are read",
            ));
        }

        read_otlp_layer(&get, None, &mut b.env.generic, w);
        for signal in Signal::ALL {
            read_otlp_layer(&get, Some(signal), &mut b.env.signals[index(signal)], w);
            read_batch_layer(&get, signal, &mut b.env.batch[index(signal)], w);
        }

        if let Some(v) = get("OTEL_SERVICE_NAME") {
            b.env.service_name = from_env("OTEL_SERVICE_NAME", v.trim().to_string());
        }
        if let Some(v) = get("OTEL_RESOURCE_ATTRIBUTES") {
            match env::parse_resource_attributes(&v) {
                Ok(pairs) => {
                    let attrs = pairs
                        .into_iter()
                        .map(|(k, v)| KeyValue::new(k, v))
                        .collect();
                    b.env.resource = from_env("OTEL_RESOURCE_ATTRIBUTES", attrs);
                }
                Err(reason) => w.push(Warning::env(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    &v,
                    format!("{reason}; the whole variable is discarded"),
                )),
            }
        }
        if let Some(v) = get("OTEL_SDK_DISABLED") {
            let disabled = env::parse_bool("OTEL_SDK_DISABLED", &v, w);
            b.env.sdk_disabled = from_env("OTEL_SDK_DISABLED", disabled);
        }
        let var = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
        if let Some(v) = get(var) {
            let t = v.trim();
            let parsed = if t.eq_ignore_ascii_case("cumulative") {
                Some(TemporalityPreference::Cumulative)
            } else if t.eq_ignore_ascii_case("delta") {
                Some(TemporalityPreference::Delta)
            } else if t.eq_ignore_ascii_case("lowmemory") {
                Some(TemporalityPreference::LowMemory)
            } else {
                w.push(Warning::env(
                    var,
                    &v,
                    "unknown temporality (expected cumulative, delta or lowmemory); using cumulative",
                ));
                None
            };
            if let Some(t) = parsed {
                b.env.temporality = from_env(var, t);
            }
        }
        b
    }

    // ---- OTLP exporter settings -------------------------------------------------------

    /// The base endpoint for all signals, e.g. `http://collector:4318`: `v1/traces`,
    /// `v1/metrics` or `v1/logs` is appended to its path (with exactly one `/` between).
    /// Behaves like `OTEL_EXPORTER_OTLP_ENDPOINT`, which it overrides; a per-signal
    /// endpoint, set in code, wins over it. The scheme must be `http` or `https`, or
    /// [`build`](Self::build) fails.
    ///
    /// Defaults to `http://localhost:4318`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.code.generic.endpoint = code("endpoint", url.into());
        self
    }

    /// The endpoint of one signal, used as-is (an empty path becomes `/`). Behaves like
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT`, and wins over everything else.
    ///
    /// ```
    /// use otlp_sync::config::ConfigBuilder;
    /// use otlp_sync::model::Signal;
    /// let config = ConfigBuilder::new()
    ///     .endpoint("http://collector:4318/base/")
    ///     .signal_endpoint(Signal::Logs, "http://logs:4318")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.endpoint(Signal::Traces), "http://collector:4318/base/v1/traces");
    /// assert_eq!(config.endpoint(Signal::Logs), "http://logs:4318/");
    /// ```
    ///
    /// Defaults to the base endpoint plus `v1/<signal>`, that is
    /// `http://localhost:4318/v1/<signal>`.
    pub fn signal_endpoint(mut self, signal: Signal, url: impl Into<String>) -> Self {
        self.code.signals[index(signal)].endpoint = code("signal_endpoint", url.into());
        self
    }

    /// Extra headers for every signal's requests; replaces (does not merge with) the
    /// headers of `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_{S}_HEADERS`. A
    /// per-signal header set in code replaces this one. An invalid header name or a value
    /// with a control character fails [`build`](Self::build).
    ///
    /// Defaults to no headers.
    pub fn headers<K, V>(mut self, headers: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.code.generic.headers = code("headers", headers.into_iter().collect());
        self
    }

    /// Extra headers for one signal's requests; replaces any other headers for that signal.
    /// Behaves like `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_HEADERS`.
    ///
    /// Defaults to the generic headers ([`headers`](Self::headers),
    /// `OTEL_EXPORTER_OTLP_HEADERS`), or none.
    pub fn signal_headers<K, V>(
        mut self,
        signal: Signal,
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.code.signals[index(signal)].headers =
            code("signal_headers", headers.into_iter().collect());
        self
    }

    /// How long one export may take, all retries included, for every signal. A
    /// `Duration::ZERO` means no limit ([`Timeout::Unlimited`]). Overrides
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` and `OTEL_EXPORTER_OTLP_{S}_TIMEOUT` (milliseconds).
    ///
    /// Defaults to 10 s.
    pub fn timeout(mut self, timeout: impl Into<Timeout>) -> Self {
        self.code.generic.timeout = code("timeout", timeout.into().normalized());
        self
    }

    /// Like [`timeout`](Self::timeout) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_TIMEOUT`.
    ///
    /// Defaults to the generic timeout, or 10 s.
    pub fn signal_timeout(mut self, signal: Signal, timeout: impl Into<Timeout>) -> Self {
        self.code.signals[index(signal)].timeout =
            code("signal_timeout", timeout.into().normalized());
        self
    }

    /// Request body compression for every signal. Overrides
    /// `OTEL_EXPORTER_OTLP_COMPRESSION` and `OTEL_EXPORTER_OTLP_{S}_COMPRESSION` (`none`,
    /// `gzip`, `deflate`, `zstd`, case-insensitive; anything else warns and is ignored).
    /// `gzip` and `deflate` need the cargo feature `gzip`, `zstd` the feature `zstd`: in a
    /// build without it, such a variable fails [`build`](Self::build) with
    /// [`BuildErrorKind::FeatureDisabled`] if it is the value in effect.
    ///
    /// Defaults to [`Compression::None`], as most OTel SDKs.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.code.generic.compression = code("compression", Ok(compression));
        self
    }

    /// Like [`compression`](Self::compression) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_COMPRESSION`.
    ///
    /// Defaults to the generic compression, or none.
    pub fn signal_compression(mut self, signal: Signal, compression: Compression) -> Self {
        self.code.signals[index(signal)].compression = code("signal_compression", Ok(compression));
        self
    }

    /// A compression level for every signal, codec-specific (gzip/deflate 0 to 10, zstd 1
    /// to 22); the codec clamps it to its range. No environment variable.
    ///
    /// Defaults to the codec's default level.
    pub fn compression_level(mut self, level: u32) -> Self {
        self.code.generic.compression_level = code("compression_level", level);
        self
    }

    /// Like [`compression_level`](Self::compression_level) for one signal.
    ///
    /// Defaults to the generic level, or the codec's default.
    pub fn signal_compression_level(mut self, signal: Signal, level: u32) -> Self {
        self.code.signals[index(signal)].compression_level =
            code("signal_compression_level", level);
        self
    }

    /// The body encoding for every signal: [`Encoding::Protobuf`] is `http/protobuf`,
    /// [`Encoding::Json`] is `http/json`. Overrides `OTEL_EXPORTER_OTLP_PROTOCOL` and
    /// `OTEL_EXPORTER_OTLP_{S}_PROTOCOL` (case-insensitive). Those variables may say `grpc`,
    /// which this crate does not speak: if that value is the one in effect,
    /// [`build`](Self::build) fails with [`BuildErrorKind::UnsupportedProtocol`] naming the
    /// variable, rather than silently sending OTLP/HTTP to what is likely a gRPC port. The
    /// same goes for `http/json` in a build without the cargo feature `json`
    /// ([`BuildErrorKind::FeatureDisabled`]). An unknown value warns and is ignored.
    ///
    /// Defaults to `http/protobuf`.
    pub fn protocol(mut self, encoding: Encoding) -> Self {
        self.code.generic.protocol = code("protocol", Protocol::Http(encoding));
        self
    }

    /// Like [`protocol`](Self::protocol) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_PROTOCOL`.
    ///
    /// Defaults to the generic protocol, or `http/protobuf`.
    pub fn signal_protocol(mut self, signal: Signal, encoding: Encoding) -> Self {
        self.code.signals[index(signal)].protocol =
            code("signal_protocol", Protocol::Http(encoding));
        self
    }

    /// Path of a PEM file of CA certificates trusted to verify the server, for every
    /// signal. Overrides `OTEL_EXPORTER_OTLP_CERTIFICATE` and
    /// `OTEL_EXPORTER_OTLP_{S}_CERTIFICATE`. An empty path fails [`build`](Self::build).
    ///
    /// Defaults to none (the platform's trust roots).
    pub fn certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.code.generic.certificate = code("certificate", path.into());
        self
    }

    /// Like [`certificate`](Self::certificate) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CERTIFICATE`.
    ///
    /// Defaults to the generic certificate, or none.
    pub fn signal_certificate(mut self, signal: Signal, path: impl Into<PathBuf>) -> Self {
        self.code.signals[index(signal)].certificate = code("signal_certificate", path.into());
        self
    }

    /// Path of the PEM private key for mTLS, for every signal; needs a client certificate
    /// too, or [`build`](Self::build) fails. Overrides `OTEL_EXPORTER_OTLP_CLIENT_KEY` and
    /// `OTEL_EXPORTER_OTLP_{S}_CLIENT_KEY`.
    ///
    /// Defaults to none (no client authentication).
    pub fn client_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.code.generic.client_key = code("client_key", path.into());
        self
    }

    /// Like [`client_key`](Self::client_key) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CLIENT_KEY`.
    ///
    /// Defaults to the generic client key, or none.
    pub fn signal_client_key(mut self, signal: Signal, path: impl Into<PathBuf>) -> Self {
        self.code.signals[index(signal)].client_key = code("signal_client_key", path.into());
        self
    }

    /// Path of the PEM client certificate (chain) for mTLS, for every signal; needs a
    /// client key too, or [`build`](Self::build) fails. Overrides
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
    /// `OTEL_EXPORTER_OTLP_{S}_CLIENT_CERTIFICATE`.
    ///
    /// Defaults to none (no client authentication).
    pub fn client_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.code.generic.client_certificate = code("client_certificate", path.into());
        self
    }

    /// Like [`client_certificate`](Self::client_certificate) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_CLIENT_CERTIFICATE`.
    ///
    /// Defaults to the generic client certificate, or none.
    pub fn signal_client_certificate(mut self, signal: Signal, path: impl Into<PathBuf>) -> Self {
        self.code.signals[index(signal)].client_certificate =
            code("signal_client_certificate", path.into());
        self
    }

    /// The `INSECURE` flag for every signal. It has no effect on OTLP/HTTP (the `http` or
    /// `https` scheme decides) and is kept for a future gRPC transport. Overrides
    /// `OTEL_EXPORTER_OTLP_INSECURE` and `OTEL_EXPORTER_OTLP_{S}_INSECURE` (true only for a
    /// case-insensitive `true`).
    ///
    /// Defaults to `false`.
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.code.generic.insecure = code("insecure", insecure);
        self
    }

    /// Like [`insecure`](Self::insecure) for one signal;
    /// `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_INSECURE`.
    ///
    /// Defaults to the generic flag, or `false`.
    pub fn signal_insecure(mut self, signal: Signal, insecure: bool) -> Self {
        self.code.signals[index(signal)].insecure = code("signal_insecure", insecure);
        self
    }

    // ---- Batching ---------------------------------------------------------------------

    /// The longest a record waits before its batch is exported; for metrics, the export
    /// interval. Overrides `OTEL_BSP_SCHEDULE_DELAY` (traces), `OTEL_BLRP_SCHEDULE_DELAY`
    /// (logs) and `OTEL_METRIC_EXPORT_INTERVAL` (metrics), all in milliseconds. A zero
    /// delay exports as soon as records arrive; a zero metrics interval is refused (it would
    /// collect in a busy loop): [`build`](Self::build) fails, and the variable warns and is
    /// ignored.
    ///
    /// Defaults to 5 s for traces, 1 s for logs, 60 s for metrics.
    pub fn schedule_delay(mut self, signal: Signal, delay: Duration) -> Self {
        self.code.batch[index(signal)].schedule_delay = code("schedule_delay", delay);
        self
    }

    /// How long one export may take at the processor level (`Duration::ZERO` is no limit).
    /// Overrides `OTEL_BSP_EXPORT_TIMEOUT`, `OTEL_BLRP_EXPORT_TIMEOUT` and
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (milliseconds).
    ///
    /// Defaults to 30 s for every signal.
    pub fn export_timeout(mut self, signal: Signal, timeout: impl Into<Timeout>) -> Self {
        self.code.batch[index(signal)].export_timeout =
            code("export_timeout", timeout.into().normalized());
        self
    }

    /// The most records of a signal that may wait in the queue (at least 1). Overrides
    /// `OTEL_BSP_MAX_QUEUE_SIZE` and `OTEL_BLRP_MAX_QUEUE_SIZE`; metrics have no variable
    /// (their records are one per instrument and attribute set, collected each interval).
    ///
    /// Defaults to 2048 for every signal.
    pub fn max_queue_size(mut self, signal: Signal, size: usize) -> Self {
        self.code.batch[index(signal)].max_queue_size = code("max_queue_size", size);
        self
    }

    /// The most records in one export request (at least 1); a value above the queue size is
    /// clamped to it, with a warning. Overrides `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` and
    /// `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`; metrics have no variable.
    ///
    /// Defaults to 512 for every signal.
    pub fn max_export_batch_size(mut self, signal: Signal, size: usize) -> Self {
        self.code.batch[index(signal)].max_export_batch_size = code("max_export_batch_size", size);
        self
    }

    /// The most encoded bytes (before compression) in one request; a batch is cut when the
    /// next record would pass it. Kept well under the Collector's default receiver limit of
    /// 20 MiB (applied after decompression; over it the Collector answers 400 or 413 and the
    /// whole batch is lost), and equal to gRPC's customary 4 MiB message limit, so that one
    /// batch fits any common receiver and a small device never holds much more than this in
    /// a request buffer. Clamped to [`max_request_size`](Self::max_request_size) with a
    /// warning. Must not be 0. No environment variable.
    ///
    /// Defaults to 4 MiB (4 194 304 bytes).
    pub fn max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// The largest request body allowed, checked before and after compression (OTLP "Max
    /// Request Size"). A request over it is never sent; a single record that encodes larger
    /// than this is dropped and counted as "too large". Must not be 0. No environment
    /// variable.
    ///
    /// Defaults to 64 MiB (67 108 864 bytes), the OTLP recommendation.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.max_request_size = bytes;
        self
    }

    /// The most response body bytes read, after decompression (OTLP "Max Response Size");
    /// a larger response is a non-retryable error. Must not be 0. No environment variable.
    ///
    /// Defaults to 4 MiB (4 194 304 bytes), the OTLP recommendation.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    // ---- Pipeline ---------------------------------------------------------------------

    /// What recording does when the queue is full. No environment variable.
    ///
    /// Defaults to [`QueueFullPolicy::Drop`]: recording never blocks.
    pub fn queue_full_policy(mut self, policy: QueueFullPolicy) -> Self {
        self.queue_full_policy = policy;
        self
    }

    /// Retry of failed exports (429, 502, 503, 504, and connection failures): exponential
    /// backoff with jitter; [`RetryPolicy::disabled`] turns retry off. An inconsistent
    /// policy (see [`RetryPolicy::validate`]: multiplier below 1 or not finite, zero
    /// attempts, initial backoff above the maximum) fails [`build`](Self::build) with the
    /// reason. No environment variable.
    ///
    /// Defaults to [`RetryPolicy::default`]: enabled, at most 6 attempts, first wait 1 s,
    /// ×2 per attempt, at most 30 s per wait, equal jitter (each wait between half and all
    /// of the exponential delay).
    ///
    /// Whatever the policy, the pipeline stops retrying a batch when the next wait would
    /// overrun that batch's export timeout (the signal's [`SignalConfig::timeout`]): the
    /// timeout bounds all attempts together, and `max_backoff` bounds each wait. A
    /// `Retry-After` from the receiver replaces the computed wait, still within that
    /// timeout.
    ///
    /// ```
    /// use otlp_sync::config::{ConfigBuilder, RetryPolicy};
    /// use std::time::Duration;
    ///
    /// let retry = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    /// let config = ConfigBuilder::new().retry(retry).build().unwrap();
    /// assert_eq!(config.retry().max_attempts, 3);
    /// assert_eq!(config.retry().initial_backoff, Duration::from_secs(1));
    ///
    /// let bad = RetryPolicy { multiplier: 0.5, ..RetryPolicy::default() };
    /// assert!(ConfigBuilder::new().retry(bad).build().is_err());
    /// ```
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The worker thread's name (no NUL bytes). No environment variable.
    ///
    /// Defaults to `otlp-sync`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// The worker thread's stack size in bytes (not 0); small targets may want less than
    /// the platform default. No environment variable.
    ///
    /// Defaults to the platform's default stack size.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// How long dropping the exporter waits for a final flush and the worker thread. No
    /// environment variable.
    ///
    /// Defaults to 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Which thread encodes protobuf records: the export worker ([`EncodeOnSend::Never`]),
    /// or the application thread that sends them, once the queue backs up (the default,
    /// [`EncodeOnSend::Backlog`]) or always. Encoding on send trades a few hundred nanoseconds per record on
    /// the sending thread for about 2.5 times less memory per queued record and a cheaper
    /// worker; see [`EncodeOnSend`]. No environment variable.
    ///
    /// ```
    /// use otlp_sync::config::Config;
    /// use otlp_sync::pipeline::EncodeOnSend;
    /// let config = Config::builder().encode_on_send(EncodeOnSend::Always).build()?;
    /// assert_eq!(config.encode_on_send(), EncodeOnSend::Always);
    /// assert_eq!(Config::builder().build()?.encode_on_send(), EncodeOnSend::Backlog);
    /// # Ok::<(), otlp_sync::config::BuildError>(())
    /// ```
    pub fn encode_on_send(mut self, mode: EncodeOnSend) -> Self {
        self.encode_on_send = mode;
        self
    }

    // ---- Resource and SDK -------------------------------------------------------------

    /// The `service.name` resource attribute. Overrides `OTEL_SERVICE_NAME`, which in turn
    /// overrides a `service.name` in `OTEL_RESOURCE_ATTRIBUTES`; it also wins over a
    /// `service.name` given to [`resource_attributes`](Self::resource_attributes).
    ///
    /// Defaults to `unknown_service:<executable name>` (or `unknown_service` when the
    /// executable's name cannot be found).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.code.service_name = code("service_name", name.into());
        self
    }

    /// Resource attributes. They are merged with `OTEL_RESOURCE_ATTRIBUTES`
    /// (`key=value,...`, percent-decoded; on any decoding error the whole variable is
    /// discarded with a warning); on equal keys these win. A `service.name` here wins over
    /// `OTEL_SERVICE_NAME`.
    ///
    /// ```
    /// use otlp_sync::config::ConfigBuilder;
    /// use otlp_sync::model::KeyValue;
    /// let env = |k: &str| (k == "OTEL_RESOURCE_ATTRIBUTES").then(|| "a=1,b=x%2Cy".to_string());
    /// let config = ConfigBuilder::from_env_with(env)
    ///     .resource_attributes([KeyValue::new("a", 2)])
    ///     .build()
    ///     .unwrap();
    /// let attrs = config.resource_attributes();
    /// assert!(attrs.contains(&KeyValue::new("a", 2)));
    /// assert!(attrs.contains(&KeyValue::new("b", "x,y")));
    /// ```
    ///
    /// Defaults to no attributes beyond `service.name`.
    pub fn resource_attributes(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.code.resource = code("resource_attributes", attributes.into_iter().collect());
        self
    }

    /// Disables the SDK: nothing is recorded or exported. Overrides `OTEL_SDK_DISABLED`
    /// (true only for a case-insensitive `true`; other values than `false` warn).
    ///
    /// Defaults to `false`.
    pub fn sdk_disabled(mut self, disabled: bool) -> Self {
        self.code.sdk_disabled = code("sdk_disabled", disabled);
        self
    }

    /// The metrics temporality preference. Overrides
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (`cumulative`, `delta`,
    /// `lowmemory`, case-insensitive; anything else warns and is ignored).
    ///
    /// Defaults to [`TemporalityPreference::Cumulative`].
    pub fn temporality_preference(mut self, preference: TemporalityPreference) -> Self {
        self.code.temporality = code("temporality_preference", preference);
        self
    }

    // ---- Build ------------------------------------------------------------------------

    /// Resolves every setting (code, then per-signal variable, then generic variable, then
    /// default), validates, and returns the immutable [`Config`].
    ///
    /// # Errors
    ///
    /// A [`BuildError`] naming the setter or variable and the value, when the value in
    /// effect is unusable: an endpoint that is not an `http`/`https` URL, protocol `grpc`,
    /// an invalid header set in code, an empty TLS path or a client key without a client
    /// certificate (or the reverse), a zero queue, batch or size limit set in code, a zero
    /// metrics interval set in code, an inconsistent [`RetryPolicy`], a thread name with a
    /// NUL byte, or a zero stack size.
    pub fn build(self) -> Result<Config, BuildError> {
        let mut warnings = self.env_warnings.clone();
        let signals = [
            self.build_signal(Signal::Traces, &mut warnings)?,
            self.build_signal(Signal::Metrics, &mut warnings)?,
            self.build_signal(Signal::Logs, &mut warnings)?,
        ];

        let invalid = |setter: &'static str, value: String, reason: &str| {
            BuildError::new(
                BuildErrorKind::InvalidValue,
                Source::Code(setter),
                Some(value),
                reason,
            )
        };
        for (setter, size) in [
            ("max_batch_bytes", self.max_batch_bytes),
            ("max_request_size", self.max_request_size),
            ("max_response_size", self.max_response_size),
        ] {
            if size == 0 {
                return Err(invalid(setter, "0".into(), "must be at least 1 byte"));
            }
        }
        let mut max_batch_bytes = self.max_batch_bytes;
        if max_batch_bytes > self.max_request_size {
            warnings.push(Warning::new(
                Source::Code("max_batch_bytes"),
                Some(max_batch_bytes.to_string()),
                format!(
                    "larger than max_request_size; clamped to {}",
                    self.max_request_size
                ),
            ));
            max_batch_bytes = self.max_request_size;
        }
        if let Err(reason) = self.retry.validate() {
            return Err(invalid("retry", format!("{:?}", self.retry), reason));
        }
        if self.thread_name.contains('\0') {
            return Err(invalid(
                "thread_name",
                self.thread_name.escape_debug().to_string(),
                "a thread name must not contain a NUL byte",
            ));
        }
        if self.stack_size == Some(0) {
            return Err(invalid("stack_size", "0".into(), "must not be 0"));
        }

        let sdk_disabled = self
            .code
            .sdk_disabled
            .as_ref()
            .or(self.env.sdk_disabled.as_ref())
            .is_some_and(|v| v.value);
        let temporality = self
            .code
            .temporality
            .as_ref()
            .or(self.env.temporality.as_ref())
            .map_or(TemporalityPreference::Cumulative, |v| v.value);

        Ok(Config {
            signals,
            resource_attributes: self.build_resource(),
            sdk_disabled,
            temporality,
            queue_full_policy: self.queue_full_policy,
            retry: self.retry,
            thread_name: self.thread_name,
            stack_size: self.stack_size,
            max_batch_bytes,
            max_request_size: self.max_request_size,
            max_response_size: self.max_response_size,
            shutdown_timeout: self.shutdown_timeout,
            encode_on_send: self.encode_on_send,
            warnings,
        })
    }

    fn build_signal(
        &self,
        signal: Signal,
        warnings: &mut Vec<Warning>,
    ) -> Result<SignalConfig, BuildError> {
        let i = index(signal);
        let (cs, cg, es, eg) = (
            &self.code.signals[i],
            &self.code.generic,
            &self.env.signals[i],
            &self.env.generic,
        );

        // Endpoint: per-signal values are used as-is, generic ones get v1/<signal>.
        let candidates = [
            (&cs.endpoint, false),
            (&cg.endpoint, true),
            (&es.endpoint, false),
            (&eg.endpoint, true),
        ];
        let endpoint = match candidates
            .into_iter()
            .find_map(|(v, base)| v.as_ref().map(|v| (v, base)))
        {
            None => format!("http://localhost:4318/{}", signal.http_path()),
            Some((v, base)) => {
                let resolved = if base {
                    env::resolve_base_endpoint(&v.value, signal)
                } else {
                    env::resolve_signal_endpoint(&v.value)
                };
                resolved.map_err(|e| {
                    let (kind, reason) = match e {
                        env::UrlError::Scheme => (
                            BuildErrorKind::UnsupportedScheme,
                            "the scheme must be http or https",
                        ),
                        env::UrlError::Invalid(reason) => (BuildErrorKind::InvalidEndpoint, reason),
                    };
                    BuildError::new(kind, v.source.clone(), Some(v.value.clone()), reason)
                })?
            }
        };

        let encoding = match first([&cs.protocol, &cg.protocol, &es.protocol, &eg.protocol]) {
            None => Encoding::Protobuf,
            Some(Val {
                value: Protocol::Http(e),
                ..
            }) => *e,
            #[cfg(not(feature = "json"))]
            Some(Val {
                value: Protocol::Missing(missing),
                source,
            }) => return Err(missing.error(source)),
            Some(Val {
                value: Protocol::Grpc,
                source,
            }) => {
                return Err(BuildError::new(
                    BuildErrorKind::UnsupportedProtocol,
                    source.clone(),
                    Some("grpc".into()),
                    "this crate speaks OTLP/HTTP only (http/protobuf or http/json); \
                     point the endpoint at the OTLP/HTTP port (usually 4318) and set http/protobuf",
                ));
            }
        };

        let compression = match first([
            &cs.compression,
            &cg.compression,
            &es.compression,
            &eg.compression,
        ]) {
            None => Compression::None,
            Some(Val { value: Ok(c), .. }) => *c,
            Some(Val {
                value: Err(missing),
                source,
            }) => return Err(missing.error(source)),
        };

        let headers = match first([&cs.headers, &cg.headers, &es.headers, &eg.headers]) {
            None => Headers::new(),
            Some(v) => {
                if let Some((name, reason)) = v.value.first_invalid() {
                    let reason = match name {
                        Some(name) => format!("header {name:?}: {reason}"),
                        None => reason.to_string(),
                    };
                    return Err(BuildError::new(
                        BuildErrorKind::InvalidHeader,
                        v.source.clone(),
                        None,
                        reason,
                    ));
                }
                v.value.clone()
            }
        };

        let path = |v: Option<&Val<PathBuf>>| -> Result<Option<PathBuf>, BuildError> {
            match v {
                None => Ok(None),
                Some(v) if v.value.as_os_str().is_empty() => Err(BuildError::new(
                    BuildErrorKind::InvalidTls,
                    v.source.clone(),
                    Some(String::new()),
                    "an empty path",
                )),
                Some(v) => Ok(Some(v.value.clone())),
            }
        };
        let certificate = path(first([
            &cs.certificate,
            &cg.certificate,
            &es.certificate,
            &eg.certificate,
        ]))?;
        let key_val = first([
            &cs.client_key,
            &cg.client_key,
            &es.client_key,
            &eg.client_key,
        ]);
        let cert_val = first([
            &cs.client_certificate,
            &cg.client_certificate,
            &es.client_certificate,
            &eg.client_certificate,
        ]);
        let client_key = path(key_val)?;
        let client_certificate = path(cert_val)?;
        match (key_val, cert_val) {
            (Some(k), None) => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidTls,
                    k.source.clone(),
                    Some(k.value.display().to_string()),
                    format!(
                        "a client key needs a client certificate too (for {}: {} or \
                         ConfigBuilder::client_certificate)",
                        signal.name(),
                        env_name(Some(signal), "CLIENT_CERTIFICATE"),
                    ),
                ));
            }
            (None, Some(c)) => {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidTls,
                    c.source.clone(),
                    Some(c.value.display().to_string()),
                    format!(
                        "a client certificate needs a client key too (for {}: {} or \
                         ConfigBuilder::client_key)",
                        signal.name(),
                        env_name(Some(signal), "CLIENT_KEY"),
                    ),
                ));
            }
            _ => {}
        }

        Ok(SignalConfig {
            signal,
            endpoint,
            headers,
            timeout: first([&cs.timeout, &cg.timeout, &es.timeout, &eg.timeout])
                .map_or(Timeout::After(DEFAULT_TIMEOUT), |v| v.value),
            compression,
            compression_level: first([
                &cs.compression_level,
                &cg.compression_level,
                &es.compression_level,
                &eg.compression_level,
            ])
            .map(|v| v.value),
            encoding,
            certificate,
            client_key,
            client_certificate,
            insecure: first([&cs.insecure, &cg.insecure, &es.insecure, &eg.insecure])
                .is_some_and(|v| v.value),
            batch: self.build_batch(signal, warnings)?,
        })
    }

    fn build_batch(
        &self,
        signal: Signal,
        warnings: &mut Vec<Warning>,
    ) -> Result<BatchConfig, BuildError> {
        let (c, e) = (
            &self.code.batch[index(signal)],
            &self.env.batch[index(signal)],
        );
        let d = batch_defaults(signal);
        let zero = |v: &Val<usize>| {
            (v.value == 0).then(|| {
                BuildError::new(
                    BuildErrorKind::InvalidValue,
                    v.source.clone(),
                    Some("0".into()),
                    format!(
                        "the {} queue and batch sizes must be at least 1",
                        signal.name()
                    ),
                )
            })
        };
        if let Some(err) = [&c.max_queue_size, &c.max_export_batch_size]
            .into_iter()
            .flatten()
            .find_map(zero)
        {
            return Err(err);
        }
        let schedule_delay = c.schedule_delay.as_ref().or(e.schedule_delay.as_ref());
        if let Some(v) = schedule_delay {
            if signal == Signal::Metrics && v.value.is_zero() {
                return Err(BuildError::new(
                    BuildErrorKind::InvalidValue,
                    v.source.clone(),
                    Some("0".into()),
                    "the metrics export interval must not be 0",
                ));
            }
        }
        let queue = c
            .max_queue_size
            .as_ref()
            .or(e.max_queue_size.as_ref())
            .map_or(d.max_queue_size, |v| v.value);
        let batch_val = c
            .max_export_batch_size
            .as_ref()
            .or(e.max_export_batch_size.as_ref());
        let mut batch = batch_val.map_or(d.max_export_batch_size, |v| v.value);
        if batch > queue {
            let (source, value) = match batch_val {
                Some(v) => (v.source.clone(), v.value.to_string()),
                None => (Source::Default, batch.to_string()),
            };
            warnings.push(Warning::new(
                source,
                Some(value),
                format!(
                    "the {} export batch size is larger than the queue size; clamped to {queue}",
                    signal.name()
                ),
            ));
            batch = queue;
        }
        Ok(BatchConfig {
            schedule_delay: schedule_delay.map_or(d.schedule_delay, |v| v.value),
            export_timeout: c
                .export_timeout
                .as_ref()
                .or(e.export_timeout.as_ref())
                .map_or(d.export_timeout, |v| v.value),
            max_queue_size: queue,
            max_export_batch_size: batch,
        })
    }

    fn build_resource(&self) -> Vec<KeyValue> {
        fn upsert(attrs: &mut Vec<KeyValue>, kv: KeyValue) {
            match attrs.iter_mut().find(|a| a.key == kv.key) {
                Some(slot) => *slot = kv,
                None => attrs.push(kv),
            }
        }
        let mut attrs: Vec<KeyValue> = Vec::new();
        // Lowest first; each later step wins on equal keys.
        if let Some(v) = &self.env.resource {
            attrs.extend(v.value.iter().cloned());
        }
        if let Some(v) = &self.env.service_name {
            upsert(&mut attrs, KeyValue::new(SERVICE_NAME, v.value.clone()));
        }
        if let Some(v) = &self.code.resource {
            for kv in &v.value {
                upsert(&mut attrs, kv.clone());
            }
        }
        if let Some(v) = &self.code.service_name {
            upsert(&mut attrs, KeyValue::new(SERVICE_NAME, v.value.clone()));
        }
        if !attrs.iter().any(|kv| kv.key == SERVICE_NAME) {
            attrs.insert(0, KeyValue::new(SERVICE_NAME, default_service_name()));
        }
        attrs
    }
}

/// `unknown_service:<executable file stem>`, or `unknown_service` when that is unknown.
fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| !s.is_empty())
        .map_or_else(
            || "unknown_service".to_string(),
            |exe| format!("unknown_service:{exe}"),
        )
}

/// Reads the nine OTLP exporter variables of one layer (generic or one signal).
fn read_otlp_layer(
    get: &impl Fn(&str) -> Option<String>,
    signal: Option<Signal>,
    layer: &mut OtlpLayer,
    w: &mut Vec<Warning>,
) {
    let var = |suffix| env_name(signal, suffix);

    let name = var("ENDPOINT");
    if let Some(v) = get(&name) {
        layer.endpoint = from_env(&name, v.trim().to_string());
    }
    let name = var("HEADERS");
    if let Some(v) = get(&name) {
        layer.headers = from_env(&name, env::parse_headers(&name, &v, w));
    }
    let name = var("TIMEOUT");
    if let Some(v) = get(&name) {
        if let Some(ms) = env::parse_u64(&name, &v, w) {
            layer.timeout = from_env(&name, Timeout::from_millis(ms));
        }
    }
    let name = var("COMPRESSION");
    if let Some(v) = get(&name) {
        match Compression::lookup(&v) {
            Ok(c) => layer.compression = from_env(&name, Ok(c)),
            Err(Some((codec, feature))) => {
                let missing = Missing {
                    name: codec,
                    feature,
                };
                layer.compression = from_env(&name, Err(missing));
            }
            Err(None) => w.push(Warning::env(
                &name,
                &v,
                "unknown compression (expected none, gzip, deflate or zstd); ignored",
            )),
        }
    }
    let name = var("PROTOCOL");
    if let Some(v) = get(&name) {
        let t = v.trim();
        let parsed = [
            ("http/protobuf", Protocol::Http(Encoding::Protobuf)),
            #[cfg(feature = "json")]
            ("http/json", Protocol::Http(Encoding::Json)),
            #[cfg(not(feature = "json"))]
            (
                "http/json",
                Protocol::Missing(Missing {
                    name: "http/json",
                    feature: "json",
                }),
            ),
            ("grpc", Protocol::Grpc),
        ]
        .into_iter()
        .find(|(n, _)| t.eq_ignore_ascii_case(n));
        match parsed {
            Some((_, p)) => layer.protocol = from_env(&name, p),
            None => w.push(Warning::env(
                &name,
                &v,
                "unknown protocol (expected http/protobuf or http/json); ignored",
            )),
        }
    }
    for (suffix, slot) in [
        ("CERTIFICATE", &mut layer.certificate),
        ("CLIENT_KEY", &mut layer.client_key),
        ("CLIENT_CERTIFICATE", &mut layer.client_certificate),
    ] {
        let name = var(suffix);
        if let Some(v) = get(&name) {
            *slot = from_env(&name, PathBuf::from(v.trim()));
        }
    }
    let name = var("INSECURE");
    if let Some(v) = get(&name) {
        layer.insecure = from_env(&name, env::parse_bool(&name, &v, w));
    }
}

/// Reads the batching variables of one signal.
fn read_batch_layer(
    get: &impl Fn(&str) -> Option<String>,
    signal: Signal,
    layer: &mut BatchLayer,
    w: &mut Vec<Warning>,
) {
    let [delay, timeout, queue, batch] = batch_vars(signal);
    if let Some(name) = delay {
        if let Some(v) = get(name) {
            match env::parse_u64(name, &v, w) {
                Some(0) if signal == Signal::Metrics => w.push(Warning::env(
                    name,
                    &v,
                    "the export interval must not be 0; ignored",
                )),
                Some(ms) => layer.schedule_delay = from_env(name, Duration::from_millis(ms)),
                None => {}
            }
        }
    }
    if let Some(name) = timeout {
        if let Some(v) = get(name) {
            if let Some(ms) = env::parse_u64(name, &v, w) {
                layer.export_timeout = from_env(name, Timeout::from_millis(ms));
            }
        }
    }
    for (name, slot) in [
        (queue, &mut layer.max_queue_size),
        (batch, &mut layer.max_export_batch_size),
    ] {
        let Some(name) = name else { continue };
        let Some(v) = get(name) else { continue };
        match env::parse_u64(name, &v, w).map(usize::try_from) {
            Some(Ok(0)) => w.push(Warning::env(name, &v, "must be at least 1; ignored")),
            Some(Ok(n)) => *slot = from_env(name, n),
            Some(Err(_)) => w.push(Warning::env(name, &v, "too large; ignored")),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn build_env(pairs: &[(&str, &str)]) -> ConfigBuilder {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConfigBuilder::from_env_with(move |k| map.get(k).cloned())
    }

    #[test]
    fn new_reads_no_environment_and_has_spec_defaults() {
        let c = ConfigBuilder::new().build().unwrap();
        for s in Signal::ALL {
            let sc = c.signal(s);
            assert_eq!(sc.signal(), s);
            assert_eq!(
                sc.endpoint(),
                format!("http://localhost:4318/{}", s.http_path())
            );
            assert_eq!(sc.timeout(), Timeout::After(Duration::from_secs(10)));
            assert_eq!(sc.compression(), Compression::None);
            assert_eq!(sc.compression_level(), None);
            assert_eq!(sc.encoding(), Encoding::Protobuf);
            assert!(sc.headers().is_empty());
            assert!(!sc.insecure() && !sc.is_https());
            assert_eq!(sc.certificate(), None);
            assert_eq!(sc.batch().export_timeout(), Timeout::from_millis(30_000));
        }
        let delays: Vec<u128> = Signal::ALL
            .iter()
            .map(|s| c.signal(*s).batch().schedule_delay().as_millis())
            .collect();
        assert_eq!(delays, [5000, 60000, 1000]);
        assert_eq!(c.max_batch_bytes(), 4 << 20);
        assert_eq!(c.max_request_size(), 64 << 20);
        assert_eq!(c.max_response_size(), 4 << 20);
        assert_eq!(c.thread_name(), "otlp-sync");
        assert_eq!(c.stack_size(), None);
        assert_eq!(c.shutdown_timeout(), Duration::from_secs(5));
        assert_eq!(
            c.temporality_preference(),
            TemporalityPreference::Cumulative
        );
        assert!(!c.sdk_disabled());
        assert_eq!(c.retry(), &RetryPolicy::default());
        assert_eq!(ConfigBuilder::default(), ConfigBuilder::new());
    }

    #[test]
    fn default_service_name_names_the_executable() {
        let name = default_service_name();
        let exe = std::env::current_exe().unwrap();
        let stem = exe.file_stem().unwrap().to_string_lossy();
        assert_eq!(name, format!("unknown_service:{stem}"));
        let c = ConfigBuilder::new().build().unwrap();
        assert_eq!(c.service_name(), name);
        assert_eq!(c.resource_attributes().len(), 1);
    }

    #[test]
    fn code_layers_beat_env_layers() {
        let b = build_env(&[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2000"),
        ]);
        let c = b.clone().build().unwrap();
        assert_eq!(
            c.signal(Signal::Traces).timeout(),
            Timeout::from_millis(2000)
        );
        assert_eq!(c.signal(Signal::Logs).timeout(), Timeout::from_millis(1000));
        let c = b
            .clone()
            .timeout(Duration::from_millis(3000))
            .build()
            .unwrap();
        assert_eq!(
            c.signal(Signal::Traces).timeout(),
            Timeout::from_millis(3000)
        );
        let c = b
            .timeout(Duration::from_millis(3000))
            .signal_timeout(Signal::Logs, Duration::ZERO)
            .build()
            .unwrap();
        assert_eq!(c.signal(Signal::Logs).timeout(), Timeout::Unlimited);
        assert_eq!(
            c.signal(Signal::Metrics).timeout(),
            Timeout::from_millis(3000)
        );
    }

    #[test]
    fn bad_env_endpoint_is_irrelevant_when_code_overrides_it() {
        let b = build_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x")]);
        assert_eq!(
            b.clone().build().unwrap_err().kind(),
            BuildErrorKind::UnsupportedScheme
        );
        let c = b.endpoint("http://ok:4318").build().unwrap();
        assert_eq!(c.endpoint(Signal::Metrics), "http://ok:4318/v1/metrics");
    }

    #[test]
    fn https_is_detected() {
        let c = ConfigBuilder::new()
            .endpoint("HTTPS://secure")
            .build()
            .unwrap();
        assert!(c.signal(Signal::Traces).is_https());
    }

    #[test]
    fn code_value_validation() {
        let kind = |b: ConfigBuilder| b.build().unwrap_err().kind();
        let b = ConfigBuilder::new;
        assert_eq!(kind(b().max_request_size(0)), BuildErrorKind::InvalidValue);
        assert_eq!(kind(b().max_batch_bytes(0)), BuildErrorKind::InvalidValue);
        assert_eq!(kind(b().max_response_size(0)), BuildErrorKind::InvalidValue);
        assert_eq!(kind(b().stack_size(0)), BuildErrorKind::InvalidValue);
        assert_eq!(kind(b().thread_name("a\0b")), BuildErrorKind::InvalidValue);
        assert_eq!(
            kind(b().max_queue_size(Signal::Logs, 0)),
            BuildErrorKind::InvalidValue
        );
        assert_eq!(
            kind(b().schedule_delay(Signal::Metrics, Duration::ZERO)),
            BuildErrorKind::InvalidValue
        );
        let r = RetryPolicy {
            multiplier: 0.5,
            ..RetryPolicy::default()
        };
        let err = b().retry(r).build().unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValue);
        assert_eq!(err.source_name(), "ConfigBuilder::retry");
        assert!(
            err.to_string()
                .ends_with(": the multiplier must be a finite number of at least 1.0"),
            "{err}"
        );
        let r = RetryPolicy {
            initial_backoff: Duration::from_secs(60),
            ..RetryPolicy::default()
        };
        let err = b().retry(r).build().unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValue);
        assert!(
            err.to_string()
                .ends_with(": initial_backoff must not exceed max_backoff"),
            "{err}"
        );
        let r = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert_eq!(kind(b().retry(r)), BuildErrorKind::InvalidValue);
        let r = RetryPolicy {
            multiplier: f64::NAN,
            ..RetryPolicy::default()
        };
        assert_eq!(kind(b().retry(r)), BuildErrorKind::InvalidValue);
        // Every jitter mode is valid, and a disabled policy builds.
        for jitter in [Jitter::None, Jitter::Full, Jitter::Equal] {
            let r = RetryPolicy {
                jitter,
                ..RetryPolicy::default()
            };
            assert_eq!(b().retry(r).build().unwrap().retry(), &r);
        }
        assert!(b().retry(RetryPolicy::disabled()).build().is_ok());
        // A zero schedule delay is fine for traces and logs.
        assert!(
            b().schedule_delay(Signal::Traces, Duration::ZERO)
                .build()
                .is_ok()
        );
        assert!(b().stack_size(64 * 1024).build().is_ok());
    }

    #[test]
    fn batch_bytes_clamped_to_request_size() {
        let c = ConfigBuilder::new().max_request_size(1000).build().unwrap();
        assert_eq!(c.max_batch_bytes(), 1000);
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(
            c.warnings()[0].source_name(),
            "ConfigBuilder::max_batch_bytes"
        );
    }

    #[test]
    fn default_batch_clamped_to_small_queue() {
        let c = ConfigBuilder::new()
            .max_queue_size(Signal::Traces, 100)
            .build()
            .unwrap();
        assert_eq!(
            c.signal(Signal::Traces).batch().max_export_batch_size(),
            100
        );
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(c.warnings()[0].source_name(), "the default");
    }
}
