//! The benchmark sink of `shared/bench/WORKLOAD.md` section 4.
//!
//! An OTLP/HTTP receiver on `127.0.0.1:PORT` (`--port P`, 0 = any free port; the bound port
//! is printed alone on the first line of stdout). HTTP/1.1 with keep-alive, one thread per
//! connection, no async. Each `POST /v1/{traces,logs,metrics}` body is decompressed (gzip,
//! deflate = zlib, zstd per `Content-Encoding`), decoded with the official
//! `opentelemetry-proto` prost types and counted; only then is it answered `200` with an
//! empty `Export*ServiceResponse`.
//!
//! * `POST /reset` zeroes the counters and takes a new baseline of the sink's own CPU time.
//! * `GET /stats` answers JSON: `{"spans", "log_records", "points", "requests",
//!   "wire_bytes", "decoded_bytes", "errors", "sink_cpu_s"}`.
//!
//! `wire_bytes` counts request bodies as received (compressed when compressed);
//! `decoded_bytes` counts them after decompression. `errors` counts requests that were
//! answered with a 4xx (bad path, undecodable body, unsupported encoding).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Largest request body accepted (decoded or not), to bound memory on a bad request.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Counters {
    spans: AtomicU64,
    log_records: AtomicU64,
    points: AtomicU64,
    requests: AtomicU64,
    wire_bytes: AtomicU64,
    decoded_bytes: AtomicU64,
    errors: AtomicU64,
    /// Process CPU seconds (user + sys) at the last reset.
    cpu_baseline: Mutex<f64>,
}

impl Counters {
    fn reset(&self) {
        for c in [
            &self.spans,
            &self.log_records,
            &self.points,
            &self.requests,
            &self.wire_bytes,
            &self.decoded_bytes,
            &self.errors,
        ] {
            c.store(0, Ordering::SeqCst);
        }
        *lock(&self.cpu_baseline) = process_cpu_s();
    }

    fn stats_json(&self) -> String {
        let cpu = process_cpu_s() - *lock(&self.cpu_baseline);
        format!(
            "{{\"spans\":{},\"log_records\":{},\"points\":{},\"requests\":{},\"wire_bytes\":{},\"decoded_bytes\":{},\"errors\":{},\"sink_cpu_s\":{:.6}}}",
            self.spans.load(Ordering::SeqCst),
            self.log_records.load(Ordering::SeqCst),
            self.points.load(Ordering::SeqCst),
            self.requests.load(Ordering::SeqCst),
            self.wire_bytes.load(Ordering::SeqCst),
            self.decoded_bytes.load(Ordering::SeqCst),
            self.errors.load(Ordering::SeqCst),
            cpu
        )
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// User + system CPU seconds of this whole process (all threads).
fn process_cpu_s() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage, RUSAGE_SELF is a valid `who`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() {
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number"));
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("sink: bind 127.0.0.1:{port}: {e}");
        std::process::exit(1)
    });
    let bound = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{bound}");
        let _ = out.flush();
    }
    let counters = Arc::new(Counters::default());
    counters.reset();
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || {
                    let _ = serve(stream, &counters);
                });
            }
            Err(e) => eprintln!("sink: accept: {e}"),
        }
    }
}

fn usage(msg: &str) -> ! {
    if !msg.is_empty() {
        eprintln!("sink: {msg}");
    }
    eprintln!("usage: sink [--port P]   (prints the bound port on the first stdout line)");
    std::process::exit(2)
}

struct Head {
    method: String,
    path: String,
    content_length: Option<usize>,
    chunked: bool,
    content_encoding: String,
    content_type: String,
    close: bool,
    expect_continue: bool,
}

/// Serves one connection until the peer closes it (or asks to), or it idles out.
fn serve(stream: TcpStream, counters: &Counters) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut body = Vec::new();
    let mut decoded = Vec::new();
    loop {
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        if head.expect_continue {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        body.clear();
        if head.chunked {
            read_chunked(&mut reader, &mut body)?;
        } else if let Some(n) = head.content_length {
            if n > MAX_BODY {
                respond(&mut writer, 413, "text/plain", b"too large", true)?;
                return Ok(());
            }
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        let (status, ctype, resp): (u16, &str, Vec<u8>) =
            handle(&head, &body, &mut decoded, counters);
        respond(&mut writer, status, ctype, &resp, head.close)?;
        if head.close {
            return Ok(());
        }
    }
}

fn handle(
    head: &Head,
    body: &[u8],
    decoded: &mut Vec<u8>,
    counters: &Counters,
) -> (u16, &'static str, Vec<u8>) {
    const PB: &str = "application/x-protobuf";
    match (head.method.as_str(), head.path.as_str()) {
        ("POST", "/reset") => {
            counters.reset();
            (200, "application/json", b"{}".to_vec())
        }
        ("GET", "/stats") => (200, "application/json", counters.stats_json().into_bytes()),
        ("POST", path @ ("/v1/traces" | "/v1/logs" | "/v1/metrics")) => {
            if !head.content_type.is_empty()
                && !head.content_type.starts_with("application/x-protobuf")
                && !head.content_type.starts_with("application/protobuf")
            {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                return (415, "text/plain", b"protobuf only".to_vec());
            }
            let plain: &[u8] = match decompress(&head.content_encoding, body, decoded) {
                Ok(true) => decoded,
                Ok(false) => body,
                Err(msg) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    return (400, "text/plain", msg.into_bytes());
                }
            };
            let counted = match path {
                "/v1/traces" => count_traces(plain),
                "/v1/logs" => count_logs(plain),
                _ => count_metrics(plain),
            };
            match counted {
                Ok((n, field)) => {
                    field_of(counters, field).fetch_add(n, Ordering::Relaxed);
                    counters.requests.fetch_add(1, Ordering::Relaxed);
                    counters
                        .wire_bytes
                        .fetch_add(body.len() as u64, Ordering::Relaxed);
                    counters
                        .decoded_bytes
                        .fetch_add(plain.len() as u64, Ordering::Relaxed);
                    // The encoding of an empty Export*ServiceResponse is zero bytes.
                    (200, PB, Vec::new())
                }
                Err(e) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    (400, "text/plain", format!("decode: {e}").into_bytes())
                }
            }
        }
        _ => {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            (404, "text/plain", b"not found".to_vec())
        }
    }
}

#[derive(Clone, Copy)]
enum Field {
    Spans,
    Logs,
    Points,
}

fn field_of(c: &Counters, f: Field) -> &AtomicU64 {
    match f {
        Field::Spans => &c.spans,
        Field::Logs => &c.log_records,
        Field::Points => &c.points,
    }
}

fn count_traces(b: &[u8]) -> Result<(u64, Field), prost::DecodeError> {
    let req = ExportTraceServiceRequest::decode(b)?;
    let n = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum();
    Ok((n, Field::Spans))
}

fn count_logs(b: &[u8]) -> Result<(u64, Field), prost::DecodeError> {
    let req = ExportLogsServiceRequest::decode(b)?;
    let n = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len() as u64)
        .sum();
    Ok((n, Field::Logs))
}

fn count_metrics(b: &[u8]) -> Result<(u64, Field), prost::DecodeError> {
    let req = ExportMetricsServiceRequest::decode(b)?;
    let n = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len() as u64,
            Some(Data::Sum(s)) => s.data_points.len() as u64,
            Some(Data::Histogram(h)) => h.data_points.len() as u64,
            Some(Data::ExponentialHistogram(h)) => h.data_points.len() as u64,
            Some(Data::Summary(s)) => s.data_points.len() as u64,
            None => 0,
        })
        .sum();
    Ok((n, Field::Points))
}

/// Decompresses `body` into `out` per `Content-Encoding`. `Ok(false)`: not compressed, use
/// `body` as is.
fn decompress(encoding: &str, body: &[u8], out: &mut Vec<u8>) -> Result<bool, String> {
    out.clear();
    let res = match encoding {
        "" | "identity" => return Ok(false),
        "gzip" | "x-gzip" => flate2::read::GzDecoder::new(body)
            .take(MAX_BODY as u64 + 1)
            .read_to_end(out),
        "deflate" => flate2::read::ZlibDecoder::new(body)
            .take(MAX_BODY as u64 + 1)
            .read_to_end(out),
        "zstd" => zstd::stream::read::Decoder::new(body)
            .and_then(|d| d.take(MAX_BODY as u64 + 1).read_to_end(out)),
        other => return Err(format!("unsupported Content-Encoding {other}")),
    };
    match res {
        Ok(_) if out.len() > MAX_BODY => Err("decoded body too large".into()),
        Ok(_) => Ok(true),
        Err(e) => Err(format!("{encoding}: {e}")),
    }
}

/// Reads one request head. `Ok(None)`: the connection was closed cleanly between requests.
fn read_head(r: &mut BufReader<TcpStream>) -> io::Result<Option<Head>> {
    let mut line = String::new();
    // Skip stray empty lines between requests (allowed by RFC 9112).
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("HTTP/1.1");
    let mut head = Head {
        method,
        path,
        content_length: None,
        chunked: false,
        content_encoding: String::new(),
        content_type: String::new(),
        close: version == "HTTP/1.0",
        expect_continue: false,
    };
    let mut total = line.len();
    loop {
        line.clear();
        let n = r.read_line(&mut line)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        total += n;
        if total > 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => head.content_length = value.parse().ok(),
            "transfer-encoding" => head.chunked = lower.contains("chunked"),
            "content-encoding" => head.content_encoding = lower,
            "content-type" => head.content_type = lower,
            "connection" => {
                if lower.contains("close") {
                    head.close = true;
                } else if lower.contains("keep-alive") {
                    head.close = false;
                }
            }
            "expect" => head.expect_continue = lower == "100-continue",
            _ => {}
        }
    }
    Ok(Some(head))
}

fn read_chunked(r: &mut BufReader<TcpStream>, out: &mut Vec<u8>) -> io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let size_hex = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers until the empty line.
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                    return Ok(());
                }
            }
        }
        if out.len() + size > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let start = out.len();
        out.resize(start + size, 0);
        r.read_exact(&mut out[start..])?;
        line.clear();
        r.read_line(&mut line)?; // CRLF after the chunk
    }
}

fn respond(
    w: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        _ => "Error",
    };
    let conn = if close { "close" } else { "keep-alive" };
    let mut msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: {conn}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    msg.extend_from_slice(body);
    w.write_all(&msg)?;
    w.flush()
}
