//! The blocking OTLP/HTTP transport, on [ureq](https://docs.rs/ureq) (feature `http`;
//! `https://` endpoints also need the feature `tls`).
//!
//! [`HttpTransport`] POSTs each [`Request`] to the endpoint of its signal over one
//! keep-alive connection pool and returns whatever the receiver answered, 4xx and 5xx
//! included, as a [`Response`]. It never judges the answer: that is the job of the retry
//! policy.
//!
//! What goes on the wire, per request:
//!
//! * `POST` to the already resolved endpoint URL of the signal, used as given;
//! * `Content-Type`: exactly [`Encoding::content_type`](crate::encode::Encoding::content_type);
//! * `Content-Encoding`: exactly
//!   [`Compression::content_encoding`](crate::compress::Compression::content_encoding), and
//!   no header at all for no compression;
//! * `User-Agent`: [`HttpConfig::user_agent`] (a `User-Agent` entry in
//!   [`HttpConfig::headers`] replaces it);
//! * the custom [`HttpConfig::headers`];
//! * no `Accept-Encoding`: responses are read as sent, never inflated.
//!
//! Bounds: every phase of a call (DNS, connect and TLS handshake, sending, waiting for the
//! response, reading its body) is limited by [`Request::timeout`], and the whole call by the
//! same value, so [`Transport::send`] returns within that timeout plus scheduling slack. The
//! response body is read up to [`HttpConfig::max_response_body_bytes`]; a longer body is a
//! [`TransportErrorKind::InvalidResponse`] error (the OTLP specification makes it
//! non-retryable). Redirects are not followed: a 3xx comes back as a [`Response`].
//!
//! Proxies: when [`HttpConfig::proxy_from_env`] is on (the default), the proxy is read once,
//! at construction, from the environment the way ureq's `Proxy::try_from_env` does it: the
//! first of `ALL_PROXY`, `all_proxy`, `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`,
//! `http_proxy` that holds a valid proxy URL is used for every endpoint (whatever its
//! scheme), and hosts listed in `NO_PROXY` / `no_proxy` (comma separated: exact names,
//! `*.suffix`, `.suffix`, or `*`) bypass it.
//!
//! Secrets: header values never appear in `Debug` output, log lines or error messages, and
//! user information in endpoint URLs is removed from error messages.

use super::{Request, Response, Transport, TransportError, TransportErrorKind};
use crate::model::Signal;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use ureq::http::{HeaderName, HeaderValue, Uri};

/// The default `User-Agent`: `OTel-OTLP-Exporter-Rust-otlp-sync/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "OTel-OTLP-Exporter-Rust-otlp-sync/",
    env!("CARGO_PKG_VERSION")
);

/// The default response body bound, 4 MiB, as the OTLP specification recommends.
pub const DEFAULT_MAX_RESPONSE_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The default connect timeout (TCP connect plus TLS handshake), 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Header names the transport sets itself; they may not be given as custom headers.
const RESERVED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
];

/// Settings of an [`HttpTransport`]: plain data, checked by [`HttpTransport::new`].
///
/// Start from [`HttpConfig::default`] and set the fields:
///
/// ```
/// use otlp_sync::transport::http::HttpConfig;
/// let mut config = HttpConfig::default();
/// config.traces_endpoint = "http://collector:4318/v1/traces".into();
/// config.headers.push(("api-key".into(), "secret".into()));
/// assert_eq!(config.logs_endpoint, "http://localhost:4318/v1/logs");
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Full URL the traces are posted to, used as given (no path is appended).
    /// Defaults to `http://localhost:4318/v1/traces`.
    pub traces_endpoint: String,
    /// Full URL the metrics are posted to, used as given.
    /// Defaults to `http://localhost:4318/v1/metrics`.
    pub metrics_endpoint: String,
    /// Full URL the logs are posted to, used as given.
    /// Defaults to `http://localhost:4318/v1/logs`.
    pub logs_endpoint: String,
    /// Custom headers sent with every request, in order (for example an API key). The
    /// values are secret: they never appear in `Debug` output or error messages. The
    /// framing headers (`Content-Type`, `Content-Encoding`, `Content-Length`,
    /// `Transfer-Encoding`, `Host`, `Connection`) are set by the transport and rejected
    /// here; a `User-Agent` entry replaces [`HttpConfig::user_agent`].
    /// Defaults to no headers.
    pub headers: Vec<(String, String)>,
    /// The `User-Agent` header; empty sends none.
    /// Defaults to [`DEFAULT_USER_AGENT`].
    pub user_agent: String,
    /// The most a new connection (TCP connect plus TLS handshake) may take; the request's
    /// own timeout also applies, whichever is shorter.
    /// Defaults to [`DEFAULT_CONNECT_TIMEOUT`] (10 seconds).
    pub connect_timeout: Duration,
    /// The longest response body read; a longer body fails the attempt with
    /// [`TransportErrorKind::InvalidResponse`].
    /// Defaults to [`DEFAULT_MAX_RESPONSE_BODY_BYTES`] (4 MiB).
    pub max_response_body_bytes: usize,
    /// A PEM file of the CA certificates that `https://` servers are verified against.
    /// When set, only these are trusted; when unset, the built-in Mozilla (webpki) roots
    /// are. Read once, by [`HttpTransport::new`]. Needs the feature `tls`.
    /// Defaults to `None`.
    pub ca_pem_path: Option<PathBuf>,
    /// A PEM file with the client certificate chain for mutual TLS (leaf first); needs
    /// [`HttpConfig::client_key_pem_path`] too. Read once, by [`HttpTransport::new`].
    /// Defaults to `None`.
    pub client_cert_pem_path: Option<PathBuf>,
    /// A PEM file with the private key (PKCS#8, PKCS#1 or SEC1) of the client certificate
    /// for mutual TLS. Read once, by [`HttpTransport::new`].
    /// Defaults to `None`.
    pub client_key_pem_path: Option<PathBuf>,
    /// Whether to use a proxy from the standard environment variables (see the
    /// [module documentation](self)).
    /// Defaults to `true`.
    pub proxy_from_env: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            traces_endpoint: "http://localhost:4318/v1/traces".into(),
            metrics_endpoint: "http://localhost:4318/v1/metrics".into(),
            logs_endpoint: "http://localhost:4318/v1/logs".into(),
            headers: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_body_bytes: DEFAULT_MAX_RESPONSE_BODY_BYTES,
            ca_pem_path: None,
            client_cert_pem_path: None,
            client_key_pem_path: None,
            proxy_from_env: true,
        }
    }
}

impl HttpConfig {
    /// The endpoint URL of a signal.
    ///
    /// ```
    /// use otlp_sync::model::Signal;
    /// use otlp_sync::transport::http::HttpConfig;
    /// let config = HttpConfig::default();
    /// assert_eq!(config.endpoint(Signal::Metrics), "http://localhost:4318/v1/metrics");
    /// ```
    pub fn endpoint(&self, signal: Signal) -> &str {
        match signal {
            Signal::Traces => &self.traces_endpoint,
            Signal::Metrics => &self.metrics_endpoint,
            Signal::Logs => &self.logs_endpoint,
        }
    }
}

/// Prints header names only; every value is shown as `<redacted>`.
impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted<'a>(&'a [(String, String)]);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(name, _)| (name, "<redacted>")))
                    .finish()
            }
        }
        f.debug_struct("HttpConfig")
            .field("traces_endpoint", &redact_url(&self.traces_endpoint))
            .field("metrics_endpoint", &redact_url(&self.metrics_endpoint))
            .field("logs_endpoint", &redact_url(&self.logs_endpoint))
            .field("headers", &Redacted(&self.headers))
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_body_bytes", &self.max_response_body_bytes)
            .field("ca_pem_path", &self.ca_pem_path)
            .field("client_cert_pem_path", &self.client_cert_pem_path)
            .field("client_key_pem_path", &self.client_key_pem_path)
            .field("proxy_from_env", &self.proxy_from_env)
            .finish()
    }
}

/// One checked endpoint.
#[derive(Debug)]
struct Endpoint {
    uri: Uri,
    /// The URL without user information, for error messages.
    display: String,
    https: bool,
}

/// The blocking OTLP/HTTP [`Transport`]: one ureq agent (keep-alive connection pool) and
/// the checked settings of an [`HttpConfig`].
///
/// ```
/// use otlp_sync::transport::http::{HttpConfig, HttpTransport};
/// use otlp_sync::transport::TransportErrorKind;
/// let mut config = HttpConfig::default();
/// config.traces_endpoint = "not a url".into();
/// let err = HttpTransport::new(config).err().map(|e| e.kind());
/// assert_eq!(err, Some(TransportErrorKind::Config));
/// ```
pub struct HttpTransport {
    agent: ureq::Agent,
    traces: Endpoint,
    metrics: Endpoint,
    logs: Endpoint,
    /// Values are marked sensitive, so `http`'s own `Debug` hides them too.
    headers: Vec<(HeaderName, HeaderValue)>,
    connect_timeout: Duration,
    max_response_body_bytes: u64,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("traces", &self.traces.display)
            .field("metrics", &self.metrics.display)
            .field("logs", &self.logs.display)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_body_bytes", &self.max_response_body_bytes)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// Checks the configuration, reads the PEM files and builds the agent.
    ///
    /// Fails with [`TransportErrorKind::Config`] for an endpoint that is not an absolute
    /// `http://` or `https://` URL with a host (or is `https://` without the feature
    /// `tls`), a header name or value that is not valid HTTP or is reserved, a PEM file
    /// that cannot be read, or a client certificate without its key (or the reverse); and
    /// with [`TransportErrorKind::Tls`] for a PEM file without usable certificates or key.
    /// Messages name the field, file or URL at fault, never a header value.
    pub fn new(config: HttpConfig) -> Result<HttpTransport, TransportError> {
        let traces = check_endpoint("traces_endpoint", &config.traces_endpoint)?;
        let metrics = check_endpoint("metrics_endpoint", &config.metrics_endpoint)?;
        let logs = check_endpoint("logs_endpoint", &config.logs_endpoint)?;
        let headers = check_headers(&config.headers)?;

        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(config.user_agent.as_str())
            .timeout_connect(Some(config.connect_timeout));
        let builder = if config.proxy_from_env {
            builder
        } else {
            builder.proxy(None)
        };
        #[cfg(feature = "tls")]
        let builder = builder.tls_config(tls::tls_config(&config)?);
        #[cfg(not(feature = "tls"))]
        no_tls_check(&config)?;

        Ok(HttpTransport {
            agent: builder.build().new_agent(),
            traces,
            metrics,
            logs,
            headers,
            connect_timeout: config.connect_timeout,
            max_response_body_bytes: u64::try_from(config.max_response_body_bytes)
                .unwrap_or(u64::MAX),
        })
    }

    fn endpoint(&self, signal: Signal) -> &Endpoint {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, request: &Request<'_>) -> Result<Response, TransportError> {
        let endpoint = self.endpoint(request.signal);
        let timeout = Some(request.timeout);
        let connect = Some(self.connect_timeout.min(request.timeout));

        let mut builder = self
            .agent
            .post(endpoint.uri.clone())
            .header("content-type", request.encoding.content_type());
        if let Some(encoding) = request.compression.content_encoding() {
            builder = builder.header("content-encoding", encoding);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let builder = builder
            .config()
            .timeout_global(timeout)
            .timeout_per_call(timeout)
            .timeout_resolve(timeout)
            .timeout_connect(connect)
            .timeout_send_request(timeout)
            .timeout_send_body(timeout)
            .timeout_recv_response(timeout)
            .timeout_recv_body(timeout)
            .timeout_per_read(timeout)
            .timeout_per_write(timeout)
            .build();

        let response = builder
            .send(request.body)
            .map_err(|e| map_error(e, endpoint, "sending the request"))?;

        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let retry_after = header("retry-after");
        let content_type = header("content-type");
        let body = response
            .into_body()
            .into_with_config()
            .limit(self.max_response_body_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => TransportError::new(
                    TransportErrorKind::InvalidResponse,
                    format!(
                        "the response body from {} (status {status}) is over the bound of {} bytes",
                        endpoint.display, self.max_response_body_bytes
                    ),
                ),
                other => map_error(other, endpoint, "reading the response body"),
            })?;

        Ok(Response {
            status,
            retry_after,
            content_type,
            body,
        })
    }
}

/// Parses and checks one endpoint URL.
fn check_endpoint(field: &str, url: &str) -> Result<Endpoint, TransportError> {
    let display = redact_url(url);
    let bad = |why: &str| {
        TransportError::new(
            TransportErrorKind::Config,
            format!("{field} {display:?} {why}"),
        )
    };
    let uri: Uri = url.parse().map_err(|_| bad("is not a valid URL"))?;
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        Some(_) => return Err(bad("has a scheme other than http or https")),
        None => return Err(bad("is not an absolute http:// or https:// URL")),
    };
    match uri.host() {
        Some(host) if !host.is_empty() => {}
        _ => return Err(bad("has no host")),
    }
    if https && !cfg!(feature = "tls") {
        return Err(bad(
            "is https, but this build has no TLS (enable the `tls` feature of otlp-sync)",
        ));
    }
    Ok(Endpoint {
        uri,
        display,
        https,
    })
}

/// Parses the custom headers; messages name the header, never its value.
fn check_headers(
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, HeaderValue)>, TransportError> {
    headers
        .iter()
        .map(|(name, value)| {
            let parsed = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                TransportError::new(
                    TransportErrorKind::Config,
                    format!("header name {name:?} is not a valid HTTP header name"),
                )
            })?;
            if RESERVED_HEADERS.contains(&parsed.as_str()) {
                return Err(TransportError::new(
                    TransportErrorKind::Config,
                    format!("header {name:?} is set by the transport and cannot be configured"),
                ));
            }
            let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                TransportError::new(
                    TransportErrorKind::Config,
                    format!("the value of header {name:?} is not a valid HTTP header value"),
                )
            })?;
            value.set_sensitive(true);
            Ok((parsed, value))
        })
        .collect()
}

/// Without the `tls` feature, TLS files cannot be used: say so instead of ignoring them.
#[cfg(not(feature = "tls"))]
fn no_tls_check(config: &HttpConfig) -> Result<(), TransportError> {
    let set = [
        ("ca_pem_path", &config.ca_pem_path),
        ("client_cert_pem_path", &config.client_cert_pem_path),
        ("client_key_pem_path", &config.client_key_pem_path),
    ];
    for (field, value) in set {
        if value.is_some() {
            return Err(TransportError::new(
                TransportErrorKind::Config,
                format!(
                    "{field} is set, but this build has no TLS (enable the `tls` feature of otlp-sync)"
                ),
            ));
        }
    }
    Ok(())
}

/// Removes user information (`user:password@`) from a URL, for messages.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest_start = scheme_end.saturating_add(3);
    let rest = url.get(rest_start..).unwrap_or("");
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or("");
    match authority.rfind('@') {
        Some(at) => {
            let mut out = String::with_capacity(url.len());
            out.push_str(url.get(..rest_start).unwrap_or(""));
            out.push_str("<redacted>@");
            out.push_str(rest.get(at.saturating_add(1)..).unwrap_or(""));
            out
        }
        None => url.to_owned(),
    }
}

/// Maps a ureq error to our kinds. The message names the endpoint and the phase; ureq's
/// own messages never carry request header values.
fn map_error(err: ureq::Error, endpoint: &Endpoint, phase: &str) -> TransportError {
    use TransportErrorKind as K;
    use ureq::Error as E;
    let kind = match &err {
        E::Timeout(_) => K::Timeout,
        E::HostNotFound | E::ConnectionFailed | E::ConnectProxyFailed(_) => K::Connect,
        E::Io(io) => map_io_kind(io.kind(), endpoint.https),
        E::Tls(_) => K::Tls,
        #[cfg(feature = "tls")]
        E::Pem(_) | E::Rustls(_) => K::Tls,
        E::Protocol(_)
        | E::LargeResponseHeader(..)
        | E::BodyExceedsLimit(_)
        | E::TooManyRedirects
        | E::RedirectFailed
        | E::StatusCode(_) => K::InvalidResponse,
        E::BadUri(_)
        | E::Http(_)
        | E::InvalidProxyUrl
        | E::RequireHttpsOnly(_)
        | E::TlsRequired => K::Config,
        _ => K::Io,
    };
    TransportError::new(kind, format!("{phase} to {}: {err}", endpoint.display))
}

/// Maps an I/O error kind. `InvalidData` is what rustls handshake and record failures
/// surface as, so it means TLS on an `https` endpoint and a broken response otherwise.
fn map_io_kind(kind: std::io::ErrorKind, https: bool) -> TransportErrorKind {
    use TransportErrorKind as K;
    use std::io::ErrorKind as I;
    match kind {
        I::ConnectionRefused
        | I::HostUnreachable
        | I::NetworkUnreachable
        | I::NetworkDown
        | I::AddrNotAvailable
        | I::NotConnected => K::Connect,
        I::TimedOut | I::WouldBlock => K::Timeout,
        I::ConnectionReset | I::ConnectionAborted | I::BrokenPipe | I::UnexpectedEof => {
            K::ConnectionClosed
        }
        I::InvalidData if https => K::Tls,
        I::InvalidData => K::InvalidResponse,
        _ => K::Io,
    }
}

#[cfg(feature = "tls")]
mod tls {
    //! Reading the PEM files into ureq's TLS configuration.

    use super::{HttpConfig, TransportError, TransportErrorKind};
    use std::path::Path;
    use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

    /// Builds the TLS configuration: the CA file's roots (or the webpki roots) and the
    /// client certificate and key.
    pub(super) fn tls_config(config: &HttpConfig) -> Result<TlsConfig, TransportError> {
        let mut builder = TlsConfig::builder();
        if let Some(path) = &config.ca_pem_path {
            let certs = read_certs("ca_pem_path", path)?;
            builder = builder.root_certs(RootCerts::new_with_certs(&certs));
        }
        match (&config.client_cert_pem_path, &config.client_key_pem_path) {
            (Some(cert_path), Some(key_path)) => {
                let chain = read_certs("client_cert_pem_path", cert_path)?;
                let key = read_key("client_key_pem_path", key_path)?;
                builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(TransportError::new(
                    TransportErrorKind::Config,
                    "client_cert_pem_path is set but client_key_pem_path is not (mutual TLS needs both)",
                ));
            }
            (None, Some(_)) => {
                return Err(TransportError::new(
                    TransportErrorKind::Config,
                    "client_key_pem_path is set but client_cert_pem_path is not (mutual TLS needs both)",
                ));
            }
        }
        Ok(builder.build())
    }

    fn read_file(field: &str, path: &Path) -> Result<Vec<u8>, TransportError> {
        std::fs::read(path).map_err(|e| {
            TransportError::new(
                TransportErrorKind::Config,
                format!("{field}: cannot read {}: {e}", path.display()),
            )
        })
    }

    fn read_certs(field: &str, path: &Path) -> Result<Vec<Certificate<'static>>, TransportError> {
        let bytes = read_file(field, path)?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&bytes) {
            match item {
                Ok(PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {}
                Err(e) => {
                    return Err(TransportError::new(
                        TransportErrorKind::Tls,
                        format!("{field}: {} is not valid PEM: {e}", path.display()),
                    ));
                }
            }
        }
        if certs.is_empty() {
            return Err(TransportError::new(
                TransportErrorKind::Tls,
                format!("{field}: {} holds no PEM certificate", path.display()),
            ));
        }
        Ok(certs)
    }

    fn read_key(field: &str, path: &Path) -> Result<PrivateKey<'static>, TransportError> {
        let bytes = read_file(field, path)?;
        // The key's bytes are secret: the message names the file only.
        PrivateKey::from_pem(&bytes).map_err(|_| {
            TransportError::new(
                TransportErrorKind::Tls,
                format!(
                    "{field}: {} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1)",
                    path.display()
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_removes_user_info_only() {
        assert_eq!(
            redact_url("https://user:pw@host:4318/v1/traces"),
            "https://<redacted>@host:4318/v1/traces"
        );
        assert_eq!(redact_url("http://host/a@b"), "http://host/a@b");
        assert_eq!(redact_url("no scheme"), "no scheme");
    }

    #[test]
    fn endpoints_are_checked() {
        let kind = |url: &str| {
            check_endpoint("traces_endpoint", url)
                .err()
                .map(|e| e.kind())
        };
        assert_eq!(kind("http://localhost:4318/v1/traces"), None);
        assert_eq!(kind("ftp://host/x"), Some(TransportErrorKind::Config));
        assert_eq!(kind("/v1/traces"), Some(TransportErrorKind::Config));
        assert_eq!(kind("http://"), Some(TransportErrorKind::Config));
        assert_eq!(kind("http://a b"), Some(TransportErrorKind::Config));
        let https = kind("https://host/v1/traces");
        if cfg!(feature = "tls") {
            assert_eq!(https, None);
        } else {
            assert_eq!(https, Some(TransportErrorKind::Config));
        }
    }

    #[test]
    fn header_errors_never_show_values() {
        let err = check_headers(&[("api-key".into(), "sec\nret".into())]).err();
        let message = err
            .as_ref()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        assert!(message.contains("api-key"), "{message}");
        assert!(!message.contains("sec"), "{message}");
        let reserved = check_headers(&[("Content-Type".into(), "text/plain".into())]).err();
        assert_eq!(reserved.map(|e| e.kind()), Some(TransportErrorKind::Config));
        let ok = check_headers(&[("x-a".into(), " v ".into())]).unwrap_or_default();
        assert_eq!(ok.len(), 1);
        assert!(
            ok.iter()
                .all(|(_, v)| v.is_sensitive() && v.as_bytes() == b"v")
        );
    }

    #[test]
    fn io_kinds_map() {
        use std::io::ErrorKind as I;
        assert_eq!(
            map_io_kind(I::ConnectionRefused, false),
            TransportErrorKind::Connect
        );
        assert_eq!(map_io_kind(I::TimedOut, false), TransportErrorKind::Timeout);
        assert_eq!(
            map_io_kind(I::UnexpectedEof, false),
            TransportErrorKind::ConnectionClosed
        );
        assert_eq!(map_io_kind(I::InvalidData, true), TransportErrorKind::Tls);
        assert_eq!(
            map_io_kind(I::InvalidData, false),
            TransportErrorKind::InvalidResponse
        );
        assert_eq!(
            map_io_kind(I::PermissionDenied, false),
            TransportErrorKind::Io
        );
    }
}
