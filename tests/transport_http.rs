//! The OTLP/HTTP transport against the fake collector (tests/support/collector.rs).
#![cfg(feature = "http")]

mod support;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric::Data,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_sync::compress::Compression;
use otlp_sync::encode::Encoding;
use otlp_sync::model::Signal;
use otlp_sync::transport::http::{DEFAULT_USER_AGENT, HttpConfig, HttpTransport};
use otlp_sync::transport::{Request, Response, Transport, TransportError, TransportErrorKind};
use prost::Message;
use std::io::Write;
use std::time::{Duration, Instant};
use support::collector::{Behavior, Collector, Decoded, RpcStatus};

const TIMEOUT: Duration = Duration::from_secs(5);
const WAIT: Duration = Duration::from_secs(5);

fn traces(n: usize) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            name: format!("span-{i}"),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(n: usize) -> ExportLogsServiceRequest {
    let log_records = (0..n)
        .map(|i| LogRecord {
            severity_number: 9,
            time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metrics(n: usize) -> ExportMetricsServiceRequest {
    let data_points = (0..n).map(|_| NumberDataPoint::default()).collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "g".into(),
                    data: Some(Data::Gauge(Gauge { data_points })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn config(c: &Collector) -> HttpConfig {
    let mut config = HttpConfig::default();
    config.traces_endpoint = c.url("/v1/traces");
    config.metrics_endpoint = c.url("/v1/metrics");
    config.logs_endpoint = c.url("/v1/logs");
    config
}

fn transport(config: HttpConfig) -> HttpTransport {
    match HttpTransport::new(config) {
        Ok(t) => t,
        Err(e) => panic!("transport: {e}"),
    }
}

fn request<'a>(signal: Signal, encoding: Encoding, body: &'a [u8]) -> Request<'a> {
    Request {
        signal,
        encoding,
        compression: Compression::None,
        body,
        timeout: TIMEOUT,
    }
}

fn send_ok(t: &mut HttpTransport, r: &Request<'_>) -> Response {
    match t.send(r) {
        Ok(response) => response,
        Err(e) => panic!("send failed: {e}"),
    }
}

fn send_err(t: &mut HttpTransport, r: &Request<'_>) -> TransportError {
    match t.send(r) {
        Ok(response) => panic!("expected an error, got status {}", response.status),
        Err(e) => e,
    }
}

#[test]
fn protobuf_traces_arrive_decoded_with_exact_headers() {
    let c = Collector::start();
    let mut t = transport(config(&c));
    let body = traces(3).encode_to_vec();
    let response = send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));

    assert_eq!(response.status, 200);
    assert_eq!(
        response.content_type.as_deref(),
        Some("application/x-protobuf")
    );
    assert_eq!(response.retry_after, None);
    assert_eq!(
        ExportTraceServiceResponse::decode(response.body.as_slice()).ok(),
        Some(ExportTraceServiceResponse::default())
    );
    let requests = c.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/traces");
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("accept-encoding"), None, "no gzip feature in ureq");
    assert_eq!(r.header("user-agent"), Some(DEFAULT_USER_AGENT));
    assert!(DEFAULT_USER_AGENT.starts_with("OTel-OTLP-Exporter-Rust-otlp-sync/"));
    assert_eq!(
        r.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert_eq!(r.body, body);
    assert_eq!(r.decoded, Some(Decoded::Traces(traces(3))));
    assert_eq!(c.total_spans(), 3);
}

#[test]
fn json_logs_and_protobuf_metrics_go_to_their_endpoints() {
    let c = Collector::start();
    let mut t = transport(config(&c));
    let json = serde_json::to_vec(&logs(4)).unwrap_or_default();
    let response = send_ok(&mut t, &request(Signal::Logs, Encoding::Json, &json));
    assert_eq!(response.status, 200);
    assert_eq!(response.content_type.as_deref(), Some("application/json"));
    let parsed: Option<ExportLogsServiceResponse> = serde_json::from_slice(&response.body).ok();
    assert_eq!(parsed, Some(ExportLogsServiceResponse::default()));

    let pb = metrics(5).encode_to_vec();
    assert_eq!(
        send_ok(&mut t, &request(Signal::Metrics, Encoding::Protobuf, &pb)).status,
        200
    );

    let requests = c.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/v1/logs");
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(requests[0].decode_error, None);
    assert_eq!(requests[0].decoded, Some(Decoded::Logs(logs(4))));
    assert_eq!(requests[1].path, "/v1/metrics");
    assert_eq!(requests[1].decoded, Some(Decoded::Metrics(metrics(5))));
    assert_eq!(
        (c.total_logs(), c.total_points(), c.total_spans()),
        (4, 5, 0)
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

#[test]
fn compressed_bodies_carry_exact_content_encoding() {
    let c = Collector::start();
    let mut t = transport(config(&c));
    let plain = traces(2).encode_to_vec();
    let cases = [
        (Compression::Gzip, gzip(&plain), "gzip"),
        (Compression::Deflate, zlib(&plain), "deflate"),
        (
            Compression::Zstd,
            zstd::encode_all(plain.as_slice(), 3).unwrap_or_default(),
            "zstd",
        ),
    ];
    for (compression, body, _) in &cases {
        assert!(!body.is_empty());
        let mut r = request(Signal::Traces, Encoding::Protobuf, body);
        r.compression = *compression;
        assert_eq!(send_ok(&mut t, &r).status, 200);
    }
    let requests = c.requests();
    assert_eq!(requests.len(), 3);
    for (r, (_, body, name)) in requests.iter().zip(&cases) {
        assert_eq!(r.header("content-encoding"), Some(*name));
        assert_eq!(&r.body, body);
        assert_eq!(r.decompressed, plain);
        assert_eq!(r.decode_error, None);
        assert_eq!(r.spans(), 2);
    }
}

#[test]
fn custom_headers_and_user_agent_arrive() {
    let c = Collector::start();
    let mut cfg = config(&c);
    cfg.headers = vec![
        ("api-key".into(), "s3cret-value".into()),
        ("X-Tenant".into(), "acme".into()),
    ];
    cfg.user_agent = "my-distro OTel-OTLP-Exporter-Rust-otlp-sync/9".into();
    let mut t = transport(cfg);
    let body = traces(1).encode_to_vec();
    send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    let r = &c.requests()[0];
    assert_eq!(r.header("api-key"), Some("s3cret-value"));
    assert_eq!(r.header("x-tenant"), Some("acme"));
    assert_eq!(
        r.header("user-agent"),
        Some("my-distro OTel-OTLP-Exporter-Rust-otlp-sync/9")
    );
    assert_eq!(
        r.headers.iter().filter(|(n, _)| n == "user-agent").count(),
        1
    );
}

#[test]
fn a_user_agent_header_replaces_the_configured_one() {
    let c = Collector::start();
    let mut cfg = config(&c);
    cfg.headers = vec![("User-Agent".into(), "custom/1".into())];
    let mut t = transport(cfg);
    let body = traces(1).encode_to_vec();
    send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    let r = &c.requests()[0];
    let agents: Vec<&str> = r
        .headers
        .iter()
        .filter(|(n, _)| n == "user-agent")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(agents, vec!["custom/1"]);
}

#[test]
fn partial_success_comes_back_as_a_response_with_its_body() {
    let c = Collector::start();
    c.push(Behavior::PartialSuccess(2, "two spans dropped".into()));
    let mut t = transport(config(&c));
    let body = traces(5).encode_to_vec();
    let response = send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(response.status, 200);
    let decoded = ExportTraceServiceResponse::decode(response.body.as_slice()).ok();
    let partial = decoded.and_then(|d| d.partial_success);
    assert_eq!(partial.as_ref().map(|p| p.rejected_spans), Some(2));
    assert_eq!(
        partial.map(|p| p.error_message),
        Some("two spans dropped".to_owned())
    );
}

#[test]
fn status_503_with_retry_after_is_a_response() {
    let c = Collector::start();
    c.push(Behavior::Respond {
        status: 503,
        headers: vec![("Retry-After".into(), "7".into())],
        body: b"busy".to_vec(),
    });
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let response = send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(response.status, 503);
    assert_eq!(response.retry_after.as_deref(), Some("7"));
    assert_eq!(response.content_type, None);
    assert_eq!(response.body, b"busy");
}

#[test]
fn status_400_carries_a_google_rpc_status() {
    let c = Collector::start();
    c.push(Behavior::Status(400, "bad trace id".into()));
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let response = send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(response.status, 400);
    assert_eq!(
        response.content_type.as_deref(),
        Some("application/x-protobuf")
    );
    let status = RpcStatus::decode(response.body.as_slice()).ok();
    assert_eq!(
        status,
        Some(RpcStatus {
            code: 3,
            message: "bad trace id".into()
        })
    );
}

#[test]
fn redirects_are_not_followed() {
    let c = Collector::start();
    c.push(Behavior::Respond {
        status: 307,
        headers: vec![("Location".into(), c.url("/elsewhere"))],
        body: Vec::new(),
    });
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let response = send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(response.status, 307);
    assert_eq!(c.request_count(), 1);
}

#[test]
fn a_slow_response_is_a_timeout_within_the_bound() {
    let c = Collector::start();
    c.push(Behavior::Delay(Duration::from_secs(3)));
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let mut r = request(Signal::Traces, Encoding::Protobuf, &body);
    r.timeout = Duration::from_millis(300);
    let start = Instant::now();
    let err = send_err(&mut t, &r);
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(800), "{elapsed:?}");
}

#[test]
fn a_hanging_receiver_is_a_timeout_within_the_bound() {
    let c = Collector::start();
    c.push(Behavior::Hang);
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let mut r = request(Signal::Traces, Encoding::Protobuf, &body);
    r.timeout = Duration::from_millis(200);
    let start = Instant::now();
    let err = send_err(&mut t, &r);
    let elapsed = start.elapsed();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(elapsed < Duration::from_millis(700), "{elapsed:?}");
    // The next request gets a fresh connection and the default answer.
    r.timeout = TIMEOUT;
    assert_eq!(send_ok(&mut t, &r).status, 200);
    assert_eq!(c.connections(), 2);
}

/// A receiver that reads the request and closes the socket is `ConnectionClosed`: ureq
/// reports the EOF before a response head as `io::ErrorKind::UnexpectedEof`, which the
/// transport maps to `ConnectionClosed` (retryable, as the specification asks for a
/// server that disconnects without a response), not to the catch-all `Io`.
#[test]
fn close_without_response_is_connection_closed() {
    let c = Collector::start();
    c.push(Behavior::CloseWithoutResponse);
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let err = send_err(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(err.kind(), TransportErrorKind::ConnectionClosed, "{err}");
    assert!(c.wait_for_requests(1, WAIT));
    assert_eq!(c.requests()[0].answered, None);
}

#[test]
fn connection_refused_is_connect() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0");
        match listener.and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => panic!("bind: {e}"),
        }
    };
    let mut cfg = HttpConfig::default();
    cfg.traces_endpoint = format!("http://127.0.0.1:{port}/v1/traces");
    let mut t = transport(cfg);
    let body = traces(1).encode_to_vec();
    let start = Instant::now();
    let err = send_err(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(start.elapsed() < TIMEOUT);
}

#[test]
fn receiver_down_then_up_on_the_same_port() {
    let c = Collector::start();
    let cfg = config(&c);
    let port = c.port();
    let mut t = transport(cfg);
    let body = traces(1).encode_to_vec();
    let r = request(Signal::Traces, Encoding::Protobuf, &body);
    assert_eq!(send_ok(&mut t, &r).status, 200);
    drop(c);
    let err = send_err(&mut t, &r);
    assert!(
        matches!(
            err.kind(),
            TransportErrorKind::Connect | TransportErrorKind::ConnectionClosed
        ),
        "{err}"
    );
    let c = match Collector::start_on(port) {
        Ok(c) => c,
        Err(e) => panic!("rebind {port}: {e}"),
    };
    assert_eq!(send_ok(&mut t, &r).status, 200);
    assert_eq!(c.total_spans(), 1);
}

#[test]
fn an_oversize_response_body_is_invalid_response() {
    let c = Collector::start();
    c.push(Behavior::respond(200, vec![7u8; 1024]));
    c.push(Behavior::respond(200, vec![7u8; 1025]));
    c.push(Behavior::respond(503, vec![7u8; 64 * 1024]));
    let mut cfg = config(&c);
    cfg.max_response_body_bytes = 1024;
    let mut t = transport(cfg);
    let body = traces(1).encode_to_vec();
    let r = request(Signal::Traces, Encoding::Protobuf, &body);
    assert_eq!(
        send_ok(&mut t, &r).body.len(),
        1024,
        "exactly the bound is fine"
    );
    let err = send_err(&mut t, &r);
    assert_eq!(err.kind(), TransportErrorKind::InvalidResponse, "{err}");
    assert!(err.message().contains("1024"), "{err}");
    let err = send_err(&mut t, &r);
    assert_eq!(err.kind(), TransportErrorKind::InvalidResponse, "{err}");
    // The transport is still usable afterwards.
    assert_eq!(send_ok(&mut t, &r).status, 200);
}

#[test]
fn the_default_bound_is_4_mib() {
    let c = Collector::start();
    c.push(Behavior::respond(200, vec![0u8; 4 * 1024 * 1024 + 1]));
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let err = send_err(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    assert_eq!(err.kind(), TransportErrorKind::InvalidResponse, "{err}");
}

#[test]
fn keep_alive_reuses_one_connection() {
    let c = Collector::start();
    let mut t = transport(config(&c));
    let body = traces(1).encode_to_vec();
    let json = serde_json::to_vec(&logs(1)).unwrap_or_default();
    for i in 0..6 {
        let r = if i % 2 == 0 {
            request(Signal::Traces, Encoding::Protobuf, &body)
        } else {
            request(Signal::Logs, Encoding::Json, &json)
        };
        assert_eq!(send_ok(&mut t, &r).status, 200);
    }
    // Error statuses keep the connection too.
    c.push(Behavior::Status(503, "later".into()));
    assert_eq!(
        send_ok(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body)).status,
        503
    );
    assert_eq!(c.request_count(), 7);
    assert_eq!(c.connections(), 1);
    assert!(c.requests().iter().all(|r| r.connection == 0));
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let mut cfg = HttpConfig::default();
    cfg.headers = vec![("authorization".into(), "Bearer topsecret".into())];
    cfg.traces_endpoint = "http://user:hunter2@127.0.0.1:1/v1/traces".into();
    let debug = format!("{cfg:?}");
    assert!(debug.contains("authorization"), "{debug}");
    assert!(!debug.contains("topsecret"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");

    let mut t = transport(cfg);
    assert!(!format!("{t:?}").contains("topsecret"));
    let body = traces(1).encode_to_vec();
    let err = send_err(&mut t, &request(Signal::Traces, Encoding::Protobuf, &body));
    let text = format!("{err} {err:?}");
    assert!(!text.contains("topsecret"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");

    let mut bad = HttpConfig::default();
    bad.headers = vec![("api-key".into(), "leaky\r\nsecret".into())];
    let err = HttpTransport::new(bad).err();
    assert_eq!(
        err.as_ref().map(|e| e.kind()),
        Some(TransportErrorKind::Config)
    );
    let text = format!("{err:?}");
    assert!(
        text.contains("api-key") && !text.contains("leaky"),
        "{text}"
    );
}

#[test]
fn bad_configuration_is_a_config_error_at_construction() {
    let bad = |f: &dyn Fn(&mut HttpConfig)| {
        let mut cfg = HttpConfig::default();
        f(&mut cfg);
        HttpTransport::new(cfg)
            .err()
            .map(|e| (e.kind(), e.message().to_owned()))
    };
    let (kind, message) = bad(&|c| c.logs_endpoint = "localhost:4318/v1/logs".into())
        .unwrap_or((TransportErrorKind::Io, String::new()));
    assert_eq!(kind, TransportErrorKind::Config);
    assert!(message.contains("logs_endpoint"), "{message}");
    assert!(message.contains("localhost:4318/v1/logs"), "{message}");
    let reserved = bad(&|c| c.headers = vec![("Content-Encoding".into(), "br".into())]);
    assert_eq!(reserved.map(|e| e.0), Some(TransportErrorKind::Config));
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_without_tls_is_a_config_error() {
    let mut cfg = HttpConfig::default();
    cfg.metrics_endpoint = "https://collector:4318/v1/metrics".into();
    let err = HttpTransport::new(cfg).err();
    assert_eq!(
        err.as_ref().map(|e| e.kind()),
        Some(TransportErrorKind::Config)
    );
    let message = err.map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(
        message.contains("https://collector:4318/v1/metrics"),
        "{message}"
    );
    assert!(message.contains("tls"), "{message}");
}

#[cfg(feature = "tls")]
#[test]
fn unreadable_or_bad_pem_files_are_named() {
    let dir = std::env::temp_dir().join(format!("otlp-sync-pem-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let missing = dir.join("missing.pem");
    let mut cfg = HttpConfig::default();
    cfg.ca_pem_path = Some(missing.clone());
    let err = HttpTransport::new(cfg).err();
    assert_eq!(
        err.as_ref().map(|e| e.kind()),
        Some(TransportErrorKind::Config)
    );
    let message = err.map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("missing.pem"), "{message}");

    let junk = dir.join("junk.pem");
    let _ = std::fs::write(&junk, b"not a certificate");
    let mut cfg = HttpConfig::default();
    cfg.ca_pem_path = Some(junk);
    let err = HttpTransport::new(cfg).err();
    assert_eq!(
        err.as_ref().map(|e| e.kind()),
        Some(TransportErrorKind::Tls)
    );
    assert!(
        err.map(|e| e.message().contains("junk.pem"))
            .unwrap_or(false)
    );

    let mut cfg = HttpConfig::default();
    cfg.client_cert_pem_path = Some(missing);
    let err = HttpTransport::new(cfg).err();
    assert_eq!(err.map(|e| e.kind()), Some(TransportErrorKind::Config));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `https://` with a private CA file and mutual TLS, against a small rustls server on
/// 127.0.0.1 with rcgen-made certificates.
#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use rustls::RootCertStore;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::WebPkiClientVerifier;
    use std::io::Read;
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::{self, JoinHandle};

    /// What the TLS server saw of one connection.
    #[derive(Debug, Clone, PartialEq)]
    struct Seen {
        path: Option<String>,
        body_len: usize,
        client_cert: bool,
    }

    struct Pki {
        dir: PathBuf,
        ca_der: CertificateDer<'static>,
        server_chain: Vec<CertificateDer<'static>>,
        server_key: PrivateKeyDer<'static>,
    }

    impl Drop for Pki {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn check<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
        match r {
            Ok(v) => v,
            Err(e) => panic!("{what}: {e}"),
        }
    }

    /// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by
    /// the CA; the CA, client certificate and client key are written as PEM files.
    fn pki(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("otlp-sync-tls-{name}-{}", std::process::id()));
        check(std::fs::create_dir_all(&dir), "temp dir");

        let ca_key = check(KeyPair::generate(), "ca key");
        let mut ca_params = check(CertificateParams::new(Vec::<String>::new()), "ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "otlp-sync test CA");
        let ca_cert = check(ca_params.self_signed(&ca_key), "ca cert");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = check(KeyPair::generate(), "server key");
        let server_params = check(CertificateParams::new(vec!["127.0.0.1".to_owned()]), "p");
        let server_cert = check(server_params.signed_by(&server_key, &issuer), "server cert");

        let client_key = check(KeyPair::generate(), "client key");
        let mut client_params = check(CertificateParams::new(vec!["client".to_owned()]), "p");
        client_params
            .distinguished_name
            .push(DnType::CommonName, "otlp-sync test client");
        let client_cert = check(client_params.signed_by(&client_key, &issuer), "client cert");

        check(std::fs::write(dir.join("ca.pem"), ca_cert.pem()), "write");
        check(
            std::fs::write(dir.join("client.pem"), client_cert.pem()),
            "write",
        );
        check(
            std::fs::write(dir.join("client.key"), client_key.serialize_pem()),
            "write",
        );
        Pki {
            dir,
            ca_der: ca_cert.der().clone(),
            server_chain: vec![server_cert.der().clone()],
            server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        }
    }

    struct TlsServer {
        port: u16,
        seen: Arc<Mutex<Vec<Seen>>>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Drop for TlsServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    impl TlsServer {
        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().map(|s| s.clone()).unwrap_or_default()
        }
    }

    /// A one-connection-at-a-time HTTPS server answering 200 to every request; with
    /// `require_client_cert` it demands a client certificate signed by the CA. It stops
    /// on drop, or after 30 s at most.
    fn tls_server(pki: &Pki, require_client_cert: bool) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = check(
            rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions(),
            "versions",
        );
        let builder = if require_client_cert {
            let mut roots = RootCertStore::empty();
            check(roots.add(pki.ca_der.clone()), "root");
            let verifier = check(
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build(),
                "verifier",
            );
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = Arc::new(check(
            builder.with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key()),
            "server config",
        ));
        let listener = check(TcpListener::bind("127.0.0.1:0"), "bind");
        check(listener.set_nonblocking(true), "nonblocking");
        let port = check(listener.local_addr(), "addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_seen, thread_stop) = (Arc::clone(&seen), Arc::clone(&stop));
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !thread_stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                let Ok((tcp, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = tcp.set_nonblocking(false);
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                let mut stream = rustls::StreamOwned::new(conn, tcp);
                let seen = serve_one(&mut stream);
                if let Ok(mut all) = thread_seen.lock() {
                    all.push(seen);
                }
            }
        });
        TlsServer {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Reads one request (head and Content-Length body) and answers 200 with no body.
    fn serve_one(
        stream: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
    ) -> Seen {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut seen = Seen {
            path: None,
            body_len: 0,
            client_cert: false,
        };
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            match stream.read(&mut chunk) {
                Ok(n) if n > 0 && buf.len() < 65536 => buf.extend_from_slice(&chunk[..n]),
                _ => return seen,
            }
        };
        seen.client_cert = stream
            .conn
            .peer_certificates()
            .is_some_and(|c| !c.is_empty());
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        seen.path = head
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .map(str::to_owned);
        let length = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while buf.len() < head_end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => return seen,
            }
        }
        seen.body_len = length;
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let _ = stream.flush();
        stream.conn.send_close_notify();
        let _ = stream.flush();
        seen
    }

    fn https_config(port: u16) -> HttpConfig {
        let mut cfg = HttpConfig::default();
        cfg.traces_endpoint = format!("https://127.0.0.1:{port}/v1/traces");
        cfg
    }

    #[test]
    fn a_ca_file_makes_a_private_server_trusted() {
        let pki = pki("ca");
        let server = tls_server(&pki, false);
        let body = traces(2).encode_to_vec();
        let r = request(Signal::Traces, Encoding::Protobuf, &body);

        // With the built-in roots the private CA is unknown: a TLS error
        // ("invalid peer certificate: UnknownIssuer").
        let mut t = transport(https_config(server.port));
        let err = send_err(&mut t, &r);
        assert_eq!(err.kind(), TransportErrorKind::Tls, "{err}");

        let mut cfg = https_config(server.port);
        cfg.ca_pem_path = Some(pki.dir.join("ca.pem"));
        let mut t = transport(cfg);
        assert_eq!(send_ok(&mut t, &r).status, 200);
        let seen = server.seen();
        let served: Vec<&Seen> = seen.iter().filter(|s| s.path.is_some()).collect();
        assert_eq!(
            served,
            vec![&Seen {
                path: Some("/v1/traces".into()),
                body_len: body.len(),
                client_cert: false
            }]
        );
    }

    #[test]
    fn mutual_tls_sends_the_client_certificate() {
        let pki = pki("mtls");
        let server = tls_server(&pki, true);
        let body = traces(1).encode_to_vec();
        let r = request(Signal::Traces, Encoding::Protobuf, &body);

        // Without a client certificate the server aborts the handshake. In TLS 1.3 the
        // client has already sent its request by then, so it sees either the server's
        // alert ("received fatal alert: CertificateRequired", Tls) or the broken pipe
        // (ConnectionClosed), depending on timing.
        let mut cfg = https_config(server.port);
        cfg.ca_pem_path = Some(pki.dir.join("ca.pem"));
        let mut t = transport(cfg.clone());
        let err = send_err(&mut t, &r);
        assert!(
            matches!(
                err.kind(),
                TransportErrorKind::Tls | TransportErrorKind::ConnectionClosed
            ),
            "{err}"
        );

        cfg.client_cert_pem_path = Some(pki.dir.join("client.pem"));
        cfg.client_key_pem_path = Some(pki.dir.join("client.key"));
        let mut t = transport(cfg);
        assert_eq!(send_ok(&mut t, &r).status, 200);
        let seen = server.seen();
        assert!(
            seen.iter()
                .any(|s| s.client_cert && s.path.as_deref() == Some("/v1/traces")),
            "{seen:?}"
        );
        assert!(
            seen.iter().all(|s| s.path.is_none() || s.client_cert),
            "no request is served without a client certificate: {seen:?}"
        );
    }

    #[test]
    fn a_key_file_without_a_key_is_a_tls_error() {
        let pki = pki("nokey");
        let mut cfg = https_config(1);
        cfg.client_cert_pem_path = Some(pki.dir.join("client.pem"));
        cfg.client_key_pem_path = Some(pki.dir.join("ca.pem"));
        let err = HttpTransport::new(cfg).err();
        assert_eq!(
            err.as_ref().map(|e| e.kind()),
            Some(TransportErrorKind::Tls)
        );
        let message = err.map(|e| e.message().to_owned()).unwrap_or_default();
        assert!(message.contains("ca.pem"), "{message}");
    }
}
