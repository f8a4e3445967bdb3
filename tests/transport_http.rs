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
