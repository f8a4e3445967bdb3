//! Our protobuf bytes against the official `opentelemetry-proto` types: they decode to the
//! expected message, they are byte-identical to prost's canonical encoding, the
//! per-record sizes add up, and a reused encoder gives the same bytes as a fresh one.

mod support;

use std::cell::RefCell;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otlp_sync::encode::protobuf::{
    ProtoEncoder, log_encoded_len, metric_encoded_len, span_encoded_len,
};
use otlp_sync::model::{
    AnyValue, HistogramDataPoint, InstrumentationScope, KeyValue, LogRecord, Metric, MetricData,
    Resource, Span,
};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use prost::Message;
use prost::encoding::{encoded_len_varint, message};
use support::oracle::{
    Batch, arb_log_batch, arb_metric_batch, arb_span_batch, assert_same, expected_logs,
    expected_metrics, expected_traces, log_record, metric, span,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 300,
        ..ProptestConfig::default()
    }
}

fn encode_traces(b: &Batch<Span>) -> Vec<u8> {
    let mut out = Vec::new();
    b.with_groups(|g| ProtoEncoder::new().encode_traces(g, &mut out));
    out
}

fn encode_logs(b: &Batch<LogRecord>) -> Vec<u8> {
    let mut out = Vec::new();
    b.with_groups(|g| ProtoEncoder::new().encode_logs(g, &mut out));
    out
}

fn encode_metrics(b: &Batch<Metric>) -> Vec<u8> {
    let mut out = Vec::new();
    b.with_groups(|g| ProtoEncoder::new().encode_metrics(g, &mut out));
    out
}

/// Bytes of a one-record request whose resource and scope are empty, given the record's
/// `*_encoded_len` (field 2 of the scope message, tag and length included).
fn one_record_request_len(record_len: usize) -> usize {
    let scope_msg = 2 + record_len; // empty scope: 0a 00
    let resource_msg = 2 + 1 + encoded_len_varint(scope_msg as u64) + scope_msg;
    1 + encoded_len_varint(resource_msg as u64) + resource_msg
}

fn single<T: Clone>(record: &T) -> Batch<T> {
    Batch {
        resources: vec![(
            Resource::default(),
            vec![(InstrumentationScope::default(), vec![record.clone()])],
        )],
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn traces_decode_to_expected_and_match_prost_bytes(b in arb_span_batch()) {
        let out = encode_traces(&b);
        let want = expected_traces(&b);
        let got = ExportTraceServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &want);
        prop_assert_eq!(out, want.encode_to_vec());
    }

    #[test]
    fn logs_decode_to_expected_and_match_prost_bytes(b in arb_log_batch()) {
        let out = encode_logs(&b);
        let want = expected_logs(&b);
        let got = ExportLogsServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &want);
        prop_assert_eq!(out, want.encode_to_vec());
    }

    #[test]
    fn metrics_decode_to_expected_and_match_prost_bytes(b in arb_metric_batch()) {
        let out = encode_metrics(&b);
        let want = expected_metrics(&b);
        let got = ExportMetricsServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &want);
        prop_assert_eq!(out, want.encode_to_vec());
    }

    #[test]
    fn span_encoded_len_adds_up(b in arb_span_batch()) {
        let want = expected_traces(&b);
        for ((_, scopes), rs) in b.resources.iter().zip(&want.resource_spans) {
            for ((_, spans), ss) in scopes.iter().zip(&rs.scope_spans) {
                let mut sum = 0;
                for s in spans {
                    let n = span_encoded_len(s);
                    prop_assert_eq!(n, message::encoded_len(2, &span(s)));
                    prop_assert_eq!(encode_traces(&single(s)).len(), one_record_request_len(n));
                    sum += n;
                }
                let mut without = ss.clone();
                without.spans.clear();
                prop_assert_eq!(ss.encoded_len(), without.encoded_len() + sum);
            }
        }
    }

    #[test]
    fn log_encoded_len_adds_up(b in arb_log_batch()) {
        let want = expected_logs(&b);
        for ((_, scopes), rl) in b.resources.iter().zip(&want.resource_logs) {
            for ((_, records), sl) in scopes.iter().zip(&rl.scope_logs) {
                let mut sum = 0;
                for r in records {
                    let n = log_encoded_len(r);
                    prop_assert_eq!(n, message::encoded_len(2, &log_record(r)));
                    prop_assert_eq!(encode_logs(&single(r)).len(), one_record_request_len(n));
                    sum += n;
                }
                let mut without = sl.clone();
                without.log_records.clear();
                prop_assert_eq!(sl.encoded_len(), without.encoded_len() + sum);
            }
        }
    }

    #[test]
    fn metric_encoded_len_adds_up(b in arb_metric_batch()) {
        let want = expected_metrics(&b);
        for ((_, scopes), rm) in b.resources.iter().zip(&want.resource_metrics) {
            for ((_, metrics), sm) in scopes.iter().zip(&rm.scope_metrics) {
                let mut sum = 0;
                for m in metrics {
                    let n = metric_encoded_len(m);
                    prop_assert_eq!(n, message::encoded_len(2, &metric(m)));
                    prop_assert_eq!(encode_metrics(&single(m)).len(), one_record_request_len(n));
                    sum += n;
                }
                let mut without = sm.clone();
                without.metrics.clear();
                prop_assert_eq!(sm.encoded_len(), without.encoded_len() + sum);
            }
        }
    }
}

/// One encoder used for every signal in turn, appending after existing bytes, gives the
/// bytes a fresh encoder gives.
#[test]
fn a_reused_encoder_gives_identical_output() {
    let encoder = RefCell::new(ProtoEncoder::new());
    let prefix = b"already here".to_vec();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 100,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(arb_span_batch(), arb_log_batch(), arb_metric_batch()),
            |(spans, logs, metrics)| {
                let mut enc = encoder.borrow_mut();
                for _ in 0..2 {
                    let mut out = prefix.clone();
                    spans.with_groups(|g| enc.encode_traces(g, &mut out));
                    prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
                    prop_assert_eq!(&out[prefix.len()..], &encode_traces(&spans)[..]);

                    let mut out = prefix.clone();
                    logs.with_groups(|g| enc.encode_logs(g, &mut out));
                    prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
                    prop_assert_eq!(&out[prefix.len()..], &encode_logs(&logs)[..]);

                    let mut out = prefix.clone();
                    metrics.with_groups(|g| enc.encode_metrics(g, &mut out));
                    prop_assert_eq!(&out[..prefix.len()], &prefix[..]);
                    prop_assert_eq!(&out[prefix.len()..], &encode_metrics(&metrics)[..]);
                }
                Ok(())
            },
        )
        .expect("reused encoder output matches");
}

#[test]
fn an_empty_batch_encodes_to_nothing() {
    let mut out = Vec::new();
    ProtoEncoder::new().encode_traces(&[], &mut out);
    ProtoEncoder::new().encode_logs(&[], &mut out);
    ProtoEncoder::new().encode_metrics(&[], &mut out);
    assert!(out.is_empty());
}

/// Oneof members and `optional` fields are written even when zero; `AnyValue::Empty` is an
/// empty message; plain zero fields are omitted.
#[test]
fn zero_values_follow_presence_rules() {
    let record = LogRecord {
        attributes: vec![
            KeyValue::new("i", 0),
            KeyValue::new("b", false),
            KeyValue {
                key: "e".into(),
                value: AnyValue::Empty,
            },
        ],
        ..Default::default()
    };
    let out = encode_logs(&single(&record));
    let tail: &[u8] = &[
        0x32, 0x07, 0x0a, 0x01, b'i', 0x12, 0x02, 0x18, 0x00, // i = int_value 0
        0x32, 0x07, 0x0a, 0x01, b'b', 0x12, 0x02, 0x10, 0x00, // b = bool_value false
        0x32, 0x05, 0x0a, 0x01, b'e', 0x12, 0x00, // e = empty AnyValue
    ];
    assert!(out.ends_with(tail), "{out:02x?}");

    let m = Metric {
        name: "".into(),
        description: "".into(),
        unit: "".into(),
        data: MetricData::Histogram {
            points: vec![HistogramDataPoint {
                sum: Some(0.0),
                min: Some(-0.0),
                ..Default::default()
            }],
            temporality: otlp_sync::model::AggregationTemporality::Unspecified,
        },
        metadata: Vec::new(),
    };
    let out = encode_metrics(&single(&m));
    let mut tail = vec![0x4a, 0x14, 0x0a, 0x12, 0x29];
    tail.extend_from_slice(&0.0f64.to_le_bytes());
    tail.push(0x59);
    tail.extend_from_slice(&(-0.0f64).to_le_bytes());
    assert!(out.ends_with(&tail), "{out:02x?}");
}
