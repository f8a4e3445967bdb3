//! The sink binary, driven over loopback: counts per signal, every Content-Encoding,
//! keep-alive, `/reset`, and the error answers.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    metric::Data,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Sink {
    child: Child,
    addr: String,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sink() -> Sink {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sink"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start sink");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port line");
    let port: u16 = line.trim().parse().expect("port number");
    assert_ne!(port, 0);
    Sink {
        child,
        addr: format!("127.0.0.1:{port}"),
    }
}

/// A minimal keep-alive HTTP/1.1 client connection.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// Sends a request; returns (status, body).
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut msg = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            msg.push_str(&format!("{k}: {v}\r\n"));
        }
        msg.push_str("\r\n");
        let mut bytes = msg.into_bytes();
        bytes.extend_from_slice(body);
        self.writer.write_all(&bytes).unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut len = 0usize;
        loop {
            let mut l = String::new();
            self.reader.read_line(&mut l).unwrap();
            if l.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap();
            }
        }
        let mut resp = vec![0u8; len];
        self.reader.read_exact(&mut resp).unwrap();
        (status, resp)
    }

    fn stats(&mut self) -> Value {
        let (status, body) = self.request("GET", "/stats", &[], b"");
        assert_eq!(status, 200);
        serde_json::from_slice(&body).expect("stats json")
    }
}

fn traces(n: usize) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![
                ScopeSpans {
                    spans: vec![
                        Span {
                            name: "a".into(),
                            ..Default::default()
                        };
                        n
                    ],
                    ..Default::default()
                },
                ScopeSpans {
                    spans: vec![Span::default()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn logs(n: usize) -> Vec<u8> {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    LogRecord {
                        severity_text: "INFO".into(),
                        ..Default::default()
                    };
                    n
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn metrics() -> Vec<u8> {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![
                    Metric {
                        name: "g".into(),
                        data: Some(Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint::default(); 2],
                        })),
                        ..Default::default()
                    },
                    Metric {
                        name: "h".into(),
                        data: Some(Data::Histogram(Histogram {
                            data_points: vec![HistogramDataPoint::default()],
                            aggregation_temporality: 1,
                        })),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

const PB: (&str, &str) = ("Content-Type", "application/x-protobuf");

#[test]
fn counts_every_signal_and_encoding_on_one_keep_alive_connection() {
    let sink = start_sink();
    let mut c = Conn::new(&sink.addr);
    let plain = traces(3); // 4 spans
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::encode_all(&plain[..], 3).unwrap();

    assert_eq!(
        c.request("POST", "/v1/traces", &[PB], &plain),
        (200, Vec::new())
    );
    for (enc, body) in [("gzip", &gz), ("deflate", &zlib), ("zstd", &zst)] {
        let (status, _) = c.request("POST", "/v1/traces", &[PB, ("Content-Encoding", enc)], body);
        assert_eq!(status, 200, "{enc}");
    }
    assert_eq!(c.request("POST", "/v1/logs", &[PB], &logs(5)).0, 200);
    assert_eq!(c.request("POST", "/v1/metrics", &[PB], &metrics()).0, 200);

    let s = c.stats();
    assert_eq!(s["spans"], 16);
    assert_eq!(s["log_records"], 5);
    assert_eq!(s["points"], 3);
    assert_eq!(s["requests"], 6);
    let wire = plain.len() + gz.len() + zlib.len() + zst.len() + logs(5).len() + metrics().len();
    assert_eq!(s["wire_bytes"], wire as u64);
    let decoded = 4 * plain.len() + logs(5).len() + metrics().len();
    assert_eq!(s["decoded_bytes"], decoded as u64);
    assert_eq!(s["errors"], 0);
    assert!(s["sink_cpu_s"].as_f64().unwrap() >= 0.0);

    // Reset zeroes everything; a new connection sees the same counters.
    assert_eq!(c.request("POST", "/reset", &[], b"").0, 200);
    let mut c2 = Conn::new(&sink.addr);
    let s = c2.stats();
    for k in [
        "spans",
        "log_records",
        "points",
        "requests",
        "wire_bytes",
        "decoded_bytes",
        "errors",
    ] {
        assert_eq!(s[k], 0, "{k}");
    }
    assert_eq!(c2.request("POST", "/v1/traces", &[PB], &traces(1)).0, 200);
    assert_eq!(c.stats()["spans"], 2);
}

#[test]
fn bad_requests_are_answered_and_not_counted() {
    let sink = start_sink();
    let mut c = Conn::new(&sink.addr);
    // Not protobuf of the right message: field 1 with wire type 7 is invalid.
    assert_eq!(c.request("POST", "/v1/traces", &[PB], &[0x0f, 0xff]).0, 400);
    assert_eq!(
        c.request(
            "POST",
            "/v1/logs",
            &[PB, ("Content-Encoding", "gzip")],
            b"not gzip"
        )
        .0,
        400
    );
    assert_eq!(
        c.request("POST", "/v1/logs", &[PB, ("Content-Encoding", "br")], b"x")
            .0,
        400
    );
    assert_eq!(
        c.request(
            "POST",
            "/v1/traces",
            &[("Content-Type", "application/json")],
            b"{}"
        )
        .0,
        415
    );
    assert_eq!(c.request("POST", "/v2/else", &[PB], b"").0, 404);
    let s = c.stats();
    assert_eq!(s["errors"], 5);
    assert_eq!(s["requests"], 0);
    assert_eq!(s["spans"], 0);
    assert_eq!(s["wire_bytes"], 0);
}
