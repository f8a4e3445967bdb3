//! A fake OTLP/HTTP collector for tests, on 127.0.0.1 only.
//!
//! * [`Collector::start`] binds port 0; [`Collector::start_on`] rebinds a known port (for
//!   "receiver down, then up" tests). A server thread accepts connections until the
//!   collector is dropped; each connection gets its own thread that speaks minimal
//!   HTTP/1.1 with keep-alive (`Content-Length` bodies only; a chunked request gets a 411
//!   and the connection is closed).
//! * Each request body is decompressed by its `Content-Encoding` (`gzip`, `deflate` as a
//!   zlib stream, `zstd`) and decoded by its path (`/v1/traces`, `/v1/logs`,
//!   `/v1/metrics`) and `Content-Type` (`application/x-protobuf` with the prost types of
//!   the official `opentelemetry-proto` crate, `application/json` with its serde types),
//!   an independent decoder. A body that cannot be decompressed or decoded is answered
//!   400 (415 for an unknown content type or encoding) with a `google.rpc.Status`, without
//!   consuming the script, and recorded with its `decode_error`. Other paths are recorded
//!   undecoded and answered by the script.
//! * The answer to each request is the next [`Behavior`] of the script, or, when the
//!   script is empty, 200 with an empty `Export*ServiceResponse` in the request's content
//!   type.
//! * Every wait is bounded: [`Collector::wait_for_requests`] takes a timeout, `Hang` lasts
//!   at most [`MAX_HANG`], idle connections are closed after [`MAX_IDLE`], and dropping
//!   the collector stops every thread within a few tens of milliseconds.
#![allow(dead_code)]

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest a `Hang` lasts before the connection is closed anyway.
pub const MAX_HANG: Duration = Duration::from_secs(30);
/// An idle keep-alive connection is closed after this long.
pub const MAX_IDLE: Duration = Duration::from_secs(60);
/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The largest request body (and decompressed body) accepted.
const MAX_BODY: usize = 256 * 1024 * 1024;
/// The longest one response write may block (a client that stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(10);

/// How the collector answers one request.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// Answer exactly this (a `Content-Length` header is added).
    Respond {
        /// HTTP status.
        status: u16,
        /// Extra headers, in order.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// 200 with `partial_success { rejected_*: .0, error_message: .1 }`, in the request's
    /// content type.
    PartialSuccess(i64, String),
    /// Wait this long (bounded by the collector's drop), then answer the default 200.
    Delay(Duration),
    /// Read the request, then close the socket without answering.
    CloseWithoutResponse,
    /// Read the request and never answer (until the collector drops, or [`MAX_HANG`]).
    Hang,
    /// This HTTP status with a `google.rpc.Status { code, message: .1 }` body (protobuf,
    /// or JSON for a JSON request); `code` is the gRPC code matching the HTTP status.
    Status(u16, String),
}

impl Behavior {
    /// Shorthand for [`Behavior::Respond`] with no headers.
    pub fn respond(status: u16, body: impl Into<Vec<u8>>) -> Behavior {
        Behavior::Respond {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// A decoded export request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// `/v1/traces`.
    Traces(ExportTraceServiceRequest),
    /// `/v1/logs`.
    Logs(ExportLogsServiceRequest),
    /// `/v1/metrics`.
    Metrics(ExportMetricsServiceRequest),
}

impl Decoded {
    /// Number of spans.
    pub fn spans(&self) -> usize {
        match self {
            Decoded::Traces(r) => r
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum(),
            _ => 0,
        }
    }

    /// Number of log records.
    pub fn logs(&self) -> usize {
        match self {
            Decoded::Logs(r) => r
                .resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .map(|sl| sl.log_records.len())
                .sum(),
            _ => 0,
        }
    }

    /// Number of metric data points (of every metric type).
    pub fn points(&self) -> usize {
        match self {
            Decoded::Metrics(r) => r
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .map(|m| match &m.data {
                    Some(Data::Gauge(g)) => g.data_points.len(),
                    Some(Data::Sum(s)) => s.data_points.len(),
                    Some(Data::Histogram(h)) => h.data_points.len(),
                    Some(Data::ExponentialHistogram(e)) => e.data_points.len(),
                    Some(Data::Summary(s)) => s.data_points.len(),
                    None => 0,
                })
                .sum(),
            _ => 0,
        }
    }
}

/// One request as the collector received it.
#[derive(Debug, Clone)]
pub struct CapturedRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/v1/traces`.
    pub path: String,
    /// All headers in order; names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    /// The body as received (still compressed).
    pub body: Vec<u8>,
    /// The body after decompression (empty when decompression failed).
    pub decompressed: Vec<u8>,
    /// The decoded message (`None` for an unknown path or a decode failure).
    pub decoded: Option<Decoded>,
    /// Why decompression or decoding failed.
    pub decode_error: Option<String>,
    /// Which accepted connection (0-based) carried it.
    pub connection: usize,
    /// The status answered, or `None` when the script closed or hung the connection.
    pub answered: Option<u16>,
}

impl CapturedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Spans in this request.
    pub fn spans(&self) -> usize {
        self.decoded.as_ref().map_or(0, Decoded::spans)
    }

    /// Log records in this request.
    pub fn logs(&self) -> usize {
        self.decoded.as_ref().map_or(0, Decoded::logs)
    }

    /// Metric data points in this request.
    pub fn points(&self) -> usize {
        self.decoded.as_ref().map_or(0, Decoded::points)
    }

    /// Whether it was answered with a 2xx status.
    pub fn accepted(&self) -> bool {
        matches!(self.answered, Some(200..=299))
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Behavior>,
    requests: Vec<CapturedRequest>,
    connections: usize,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps up to `d`, in slices, returning early (false) when the collector stops.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep(POLL.min(end - now));
        }
    }
}

/// The fake collector. Dropping it stops its threads and closes every connection.
pub struct Collector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Collector {
    /// Starts on `127.0.0.1:0`. Panics if it cannot bind (test code).
    pub fn start() -> Collector {
        match Collector::start_on(0) {
            Ok(c) => c,
            Err(e) => panic!("fake collector: cannot bind 127.0.0.1:0: {e}"),
        }
    }

    /// Starts on `127.0.0.1:port`, retrying the bind for up to 2 s (the port may be in
    /// TIME_WAIT or just released).
    pub fn start_on(port: u16) -> io::Result<Collector> {
        let deadline = Instant::now() + Duration::from_secs(2);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        };
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name(format!("fake-collector-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(Collector {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>`, e.g. `url("/v1/traces")`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Appends one behavior to the script.
    pub fn push(&self, behavior: Behavior) {
        self.shared.lock().script.push_back(behavior);
    }

    /// Appends several behaviors to the script, in order.
    pub fn push_all(&self, behaviors: impl IntoIterator<Item = Behavior>) {
        self.shared.lock().script.extend(behaviors);
    }

    /// Behaviors not consumed yet.
    pub fn script_len(&self) -> usize {
        self.shared.lock().script.len()
    }

    /// Waits until at least `n` requests have been captured; false on timeout.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.requests.len() >= n {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = match self.shared.changed.wait_timeout(state, deadline - now) {
                Ok((s, _)) => s,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Every captured request so far, in arrival order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Number of captured requests.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Number of TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    /// Spans in all captured requests (retried duplicates included).
    pub fn total_spans(&self) -> usize {
        self.sum(CapturedRequest::spans, false)
    }

    /// Log records in all captured requests (retried duplicates included).
    pub fn total_logs(&self) -> usize {
        self.sum(CapturedRequest::logs, false)
    }

    /// Metric data points in all captured requests (retried duplicates included).
    pub fn total_points(&self) -> usize {
        self.sum(CapturedRequest::points, false)
    }

    /// Spans in requests answered 2xx.
    pub fn accepted_spans(&self) -> usize {
        self.sum(CapturedRequest::spans, true)
    }

    /// Log records in requests answered 2xx.
    pub fn accepted_logs(&self) -> usize {
        self.sum(CapturedRequest::logs, true)
    }

    /// Metric data points in requests answered 2xx.
    pub fn accepted_points(&self) -> usize {
        self.sum(CapturedRequest::points, true)
    }

    fn sum(&self, count: fn(&CapturedRequest) -> usize, accepted_only: bool) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| !accepted_only || r.accepted())
            .map(count)
            .sum()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopped() {
        match listener.accept() {
            Ok((stream, _)) => {
                let id = {
                    let mut state = shared.lock();
                    state.connections += 1;
                    state.connections - 1
                };
                let conn_shared = Arc::clone(&shared);
                let spawned = thread::Builder::new()
                    .name(format!("fake-collector-conn-{id}"))
                    .spawn(move || serve(stream, &conn_shared, id));
                if let Ok(handle) = spawned {
                    workers.push(handle);
                }
                workers.retain(|h| !h.is_finished());
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
    drop(listener);
    for handle in workers {
        let _ = handle.join();
    }
}

/// Reads more bytes into `buf`. Ok(false) on EOF; Err on stop, idle timeout or error.
fn read_more(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared,
    idle_deadline: Instant,
) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if shared.stopped() {
            return Err(io::Error::other("collector stopped"));
        }
        if Instant::now() >= idle_deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "idle"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_head(bytes: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Some(Head {
        method,
        path,
        headers,
    })
}

/// Serves one connection until EOF, `Connection: close`, a close/hang behavior, an error,
/// idleness or the collector's stop.
fn serve(mut stream: TcpStream, shared: &Shared, id: usize) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let idle_deadline = Instant::now() + MAX_IDLE;
        // The head.
        let head_end = loop {
            if let Some(pos) = find(&buf, b"\r\n\r\n") {
                break pos;
            }
            if buf.len() > MAX_HEAD {
                return;
            }
            match read_more(&mut stream, &mut buf, shared, idle_deadline) {
                Ok(true) => {}
                Ok(false) | Err(_) => return,
            }
        };
        let Some(head) = parse_head(&buf[..head_end]) else {
            let _ = write_response(&mut stream, 400, &[], b"bad request head", true);
            return;
        };
        let body_start = head_end + 4;
        if head
            .get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            let _ = write_response(
                &mut stream,
                411,
                &[],
                b"the fake collector reads Content-Length bodies only",
                true,
            );
            return;
        }
        let length = match head.get("content-length").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) if n <= MAX_BODY => n,
            Some(_) => {
                let _ = write_response(&mut stream, 413, &[], b"bad or too large length", true);
                return;
            }
        };
        while buf.len() < body_start + length {
            match read_more(&mut stream, &mut buf, shared, idle_deadline) {
                Ok(true) => {}
                Ok(false) | Err(_) => return,
            }
        }
        let body = buf[body_start..body_start + length].to_vec();
        buf.drain(..body_start + length);
        let close_after = head
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));

        let action = handle_request(head, body, shared, id);
        match action {
            Action::Write {
                status,
                headers,
                body,
                delay,
            } => {
                if let Some(d) = delay {
                    if !shared.sleep(d) {
                        return;
                    }
                }
                if write_response(&mut stream, status, &headers, &body, close_after).is_err()
                    || close_after
                {
                    return;
                }
            }
            Action::Close => return,
            Action::Hang => {
                shared.sleep(MAX_HANG);
                return;
            }
        }
    }
}

enum Action {
    Write {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Option<Duration>,
    },
    Close,
    Hang,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Traces,
    Logs,
    Metrics,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Protobuf,
    Json,
}

/// Decompresses and decodes, picks the behavior, records the request.
fn handle_request(head: Head, body: Vec<u8>, shared: &Shared, id: usize) -> Action {
    let kind = match head.path.split('?').next().unwrap_or("") {
        "/v1/traces" => Some(Kind::Traces),
        "/v1/logs" => Some(Kind::Logs),
        "/v1/metrics" => Some(Kind::Metrics),
        _ => None,
    };
    let content_type = head.get("content-type").unwrap_or("").to_owned();
    let format = match content_type.as_str() {
        "application/x-protobuf" => Some(Format::Protobuf),
        "application/json" => Some(Format::Json),
        _ => None,
    };
    let reply_format = format.unwrap_or(Format::Protobuf);

    // Failures answered without consuming the script: (status, message).
    let mut failure: Option<(u16, String)> = None;
    let decompressed = match decompress(head.get("content-encoding"), &body) {
        Ok(d) => d,
        Err((status, message)) => {
            failure = Some((status, message));
            Vec::new()
        }
    };
    let mut decoded = None;
    if failure.is_none() {
        if let Some(kind) = kind {
            match format {
                None => failure = Some((415, format!("unsupported content type {content_type:?}"))),
                Some(f) => match decode(kind, f, &decompressed) {
                    Ok(d) => decoded = Some(d),
                    Err(e) => failure = Some((400, e)),
                },
            }
        }
    }

    let mut state = shared.lock();
    let (action, answered) = match &failure {
        Some((status, message)) => (status_action(*status, message, reply_format), Some(*status)),
        None => {
            let behavior = state.script.pop_front();
            behavior_action(behavior, kind.unwrap_or(Kind::Traces), reply_format)
        }
    };
    state.requests.push(CapturedRequest {
        method: head.method,
        path: head.path,
        headers: head.headers,
        body,
        decompressed,
        decoded,
        decode_error: failure.map(|(_, m)| m),
        connection: id,
        answered,
    });
    drop(state);
    shared.changed.notify_all();
    action
}

fn decompress(encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, (u16, String)> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_BODY).unwrap_or(u64::MAX);
    let result = match encoding {
        None | Some("") => {
            out.extend_from_slice(body);
            Ok(0)
        }
        Some("gzip") => flate2::read::GzDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        Some("deflate") => flate2::read::ZlibDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        Some("zstd") => match zstd::stream::read::Decoder::new(body) {
            Ok(d) => d.take(limit).read_to_end(&mut out),
            Err(e) => Err(e),
        },
        Some(other) => return Err((415, format!("unsupported content encoding {other:?}"))),
    };
    match result {
        Ok(_) => Ok(out),
        Err(e) => Err((
            400,
            format!("cannot decompress {:?} body: {e}", encoding.unwrap_or("")),
        )),
    }
}

fn decode(kind: Kind, format: Format, bytes: &[u8]) -> Result<Decoded, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot decode request: {e}");
    match (kind, format) {
        (Kind::Traces, Format::Protobuf) => ExportTraceServiceRequest::decode(bytes)
            .map(Decoded::Traces)
            .map_err(|e| err(&e)),
        (Kind::Logs, Format::Protobuf) => ExportLogsServiceRequest::decode(bytes)
            .map(Decoded::Logs)
            .map_err(|e| err(&e)),
        (Kind::Metrics, Format::Protobuf) => ExportMetricsServiceRequest::decode(bytes)
            .map(Decoded::Metrics)
            .map_err(|e| err(&e)),
        (Kind::Traces, Format::Json) => serde_json::from_slice(bytes)
            .map(Decoded::Traces)
            .map_err(|e| err(&e)),
        (Kind::Logs, Format::Json) => serde_json::from_slice(bytes)
            .map(Decoded::Logs)
            .map_err(|e| err(&e)),
        (Kind::Metrics, Format::Json) => serde_json::from_slice(bytes)
            .map(Decoded::Metrics)
            .map_err(|e| err(&e)),
    }
}

/// `google.rpc.Status`, without `details` (decoders skip the unknown field anyway).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// The gRPC code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// The developer-facing message.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The gRPC code that goes with an HTTP status (as the Collector maps them).
pub fn rpc_code(http_status: u16) -> i32 {
    match http_status {
        400 => 3,        // INVALID_ARGUMENT
        401 => 16,       // UNAUTHENTICATED
        403 => 7,        // PERMISSION_DENIED
        404 => 5,        // NOT_FOUND
        413 | 429 => 8,  // RESOURCE_EXHAUSTED
        500 => 13,       // INTERNAL
        501 => 12,       // UNIMPLEMENTED
        502..=504 => 14, // UNAVAILABLE
        _ => 2,          // UNKNOWN
    }
}

fn content_type_of(format: Format) -> &'static str {
    match format {
        Format::Protobuf => "application/x-protobuf",
        Format::Json => "application/json",
    }
}

fn status_action(status: u16, message: &str, format: Format) -> Action {
    let code = rpc_code(status);
    let body = match format {
        Format::Protobuf => RpcStatus {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Format::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    Action::Write {
        status,
        headers: vec![("Content-Type".into(), content_type_of(format).into())],
        body,
        delay: None,
    }
}

fn success_body(kind: Kind, format: Format, rejected: i64, message: Option<&str>) -> Vec<u8> {
    let message = message.map(str::to_owned);
    macro_rules! body {
        ($resp:ident, $partial:ident, $field:ident) => {{
            let response = $resp {
                partial_success: message.map(|error_message| $partial {
                    $field: rejected,
                    error_message,
                }),
            };
            match format {
                Format::Protobuf => response.encode_to_vec(),
                Format::Json => serde_json::to_vec(&response).unwrap_or_default(),
            }
        }};
    }
    match kind {
        Kind::Traces => body!(
            ExportTraceServiceResponse,
            ExportTracePartialSuccess,
            rejected_spans
        ),
        Kind::Logs => body!(
            ExportLogsServiceResponse,
            ExportLogsPartialSuccess,
            rejected_log_records
        ),
        Kind::Metrics => body!(
            ExportMetricsServiceResponse,
            ExportMetricsPartialSuccess,
            rejected_data_points
        ),
    }
}

fn behavior_action(
    behavior: Option<Behavior>,
    kind: Kind,
    format: Format,
) -> (Action, Option<u16>) {
    let ok = |rejected: i64, message: Option<&str>, delay: Option<Duration>| Action::Write {
        status: 200,
        headers: vec![("Content-Type".into(), content_type_of(format).into())],
        body: success_body(kind, format, rejected, message),
        delay,
    };
    match behavior {
        None => (ok(0, None, None), Some(200)),
        Some(Behavior::Respond {
            status,
            headers,
            body,
        }) => (
            Action::Write {
                status,
                headers,
                body,
                delay: None,
            },
            Some(status),
        ),
        Some(Behavior::PartialSuccess(rejected, message)) => {
            (ok(rejected, Some(&message), None), Some(200))
        }
        Some(Behavior::Delay(d)) => (ok(0, None, Some(d)), Some(200)),
        Some(Behavior::CloseWithoutResponse) => (Action::Close, None),
        Some(Behavior::Hang) => (Action::Hang, None),
        Some(Behavior::Status(status, message)) => {
            (status_action(status, &message, format), Some(status))
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}
