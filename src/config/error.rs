//! [`BuildError`] and [`Warning`]: what building a [`Config`](super::Config) reports.

use std::fmt;

/// Where a configuration value came from: a setter of
/// [`ConfigBuilder`](super::ConfigBuilder), an environment variable, or the built-in
/// default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A setter, by its method name (`"endpoint"`, `"signal_timeout"`).
    Code(&'static str),
    /// An environment variable, by its name.
    Env(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Code(setter) => write!(f, "ConfigBuilder::{setter}"),
            Source::Env(var) => f.write_str(var),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// What kind of [`BuildError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// An endpoint is not a usable URL (no host, bad port, spaces, ...).
    InvalidEndpoint,
    /// An endpoint's scheme is neither `http` nor `https`.
    UnsupportedScheme,
    /// The protocol is `grpc`, which this crate does not speak (it speaks OTLP/HTTP:
    /// `http/protobuf` and `http/json`).
    UnsupportedProtocol,
    /// A header set in code has an invalid name or value.
    InvalidHeader,
    /// The TLS settings are inconsistent: an empty path, or a client key without a client
    /// certificate (or the reverse).
    InvalidTls,
    /// The value names a codec or encoding whose cargo feature is off in this build:
    /// compression `gzip` or `deflate` without the feature `gzip`, `zstd` without `zstd`,
    /// protocol `http/json` without `json`. The message names the feature.
    FeatureDisabled,
    /// Any other value set in code that cannot be used (a zero queue size, a retry
    /// multiplier below 1, a thread name with a NUL byte, ...).
    InvalidValue,
}

/// A configuration that cannot be built. Its `Display` names the environment variable or
/// setter that supplied the bad value, and the value (header values are never shown).
///
/// ```
/// use otlp_sync::config::{BuildErrorKind, ConfigBuilder};
/// let err = ConfigBuilder::new().endpoint("ftp://collector:4318").build().unwrap_err();
/// assert_eq!(err.kind(), BuildErrorKind::UnsupportedScheme);
/// assert!(err.to_string().contains("ConfigBuilder::endpoint"));
/// assert!(err.to_string().contains("ftp://collector:4318"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    kind: BuildErrorKind,
    source: Source,
    value: Option<String>,
    reason: String,
}

impl BuildError {
    pub(crate) fn new(
        kind: BuildErrorKind,
        source: Source,
        value: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        BuildError {
            kind,
            source,
            value,
            reason: reason.into(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> BuildErrorKind {
        self.kind
    }

    /// The environment variable (`OTEL_EXPORTER_OTLP_ENDPOINT`) or setter
    /// (`ConfigBuilder::endpoint`) that supplied the bad value.
    pub fn source_name(&self) -> String {
        self.source.to_string()
    }

    /// The bad value, when it may be shown (never for header values).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(
                f,
                "invalid configuration: {}={:?}: {}",
                self.source, v, self.reason
            ),
            None => write!(f, "invalid configuration: {}: {}", self.source, self.reason),
        }
    }
}

impl std::error::Error for BuildError {}

/// A configuration value that was ignored or adjusted: a malformed environment variable
/// that fell back to the next layer or the default, a batch size clamped to the queue size,
/// and so on. Building never logs; [`Config::warnings`](super::Config::warnings) lists these
/// for the caller (or the crate's diagnostics) to report.
///
/// The `Display` form names the variable or setter and the bad value (header values are
/// never shown):
///
/// ```
/// use otlp_sync::config::ConfigBuilder;
/// let env = |k: &str| (k == "OTEL_BSP_MAX_QUEUE_SIZE").then(|| "lots".to_string());
/// let config = ConfigBuilder::from_env_with(env).build().unwrap();
/// assert_eq!(config.warnings().len(), 1);
/// let w = &config.warnings()[0];
/// assert_eq!(w.source_name(), "OTEL_BSP_MAX_QUEUE_SIZE");
/// assert_eq!(w.value(), Some("lots"));
/// assert!(w.to_string().starts_with("OTEL_BSP_MAX_QUEUE_SIZE=\"lots\""));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    source: Source,
    value: Option<String>,
    reason: String,
}

impl Warning {
    pub(crate) fn new(source: Source, value: Option<String>, reason: impl Into<String>) -> Self {
        Warning {
            source,
            value,
            reason: reason.into(),
        }
    }

    pub(crate) fn env(var: &str, value: &str, reason: impl Into<String>) -> Self {
        Warning::new(
            Source::Env(var.to_string()),
            Some(value.to_string()),
            reason,
        )
    }

    /// The environment variable or setter the warning is about.
    pub fn source_name(&self) -> String {
        self.source.to_string()
    }

    /// The offending value, when it may be shown (never for header values).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What was wrong and what was done instead.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={:?}: {}", self.source, v, self.reason),
            None => write!(f, "{}: {}", self.source, self.reason),
        }
    }
}
