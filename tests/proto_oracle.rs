//! Our protobuf bytes against the official `opentelemetry-proto` types: they decode to the
//! expected message, they are byte-identical to prost's canonical encoding, the
//! per-record sizes add up, and a reused encoder gives the same bytes as a fresh one.
//! Deeply nested `AnyValue`s are cut at the same depth as the JSON encoder cuts them.

mod support;

use std::cell::RefCell;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pc;
use otlp_sync::encode::MAX_ANY_VALUE_DEPTH;
use otlp_sync::encode::json::JsonEncoder;
use otlp_sync::encode::protobuf::{
    EncodedRecord, ProtoEncoder, log_encoded_len, metric_encoded_len, span_encoded_len,
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

/// The request made from the same records each encoded on its own (as the pipeline
/// queues them), by one reused encoder.
fn encode_records<T>(
    b: &Batch<T>,
    one: impl Fn(&mut ProtoEncoder, &T) -> EncodedRecord,
) -> Vec<u8> {
    let mut enc = ProtoEncoder::new();
    let records = Batch {
        resources: b
            .resources
            .iter()
            .map(|(resource, scopes)| {
                let scopes = scopes
                    .iter()
                    .map(|(scope, recs)| {
                        (
                            scope.clone(),
                            recs.iter().map(|r| one(&mut enc, r)).collect(),
                        )
                    })
                    .collect();
                (resource.clone(), scopes)
            })
            .collect(),
    };
    let mut out = Vec::new();
    records.with_groups(|g| enc.encode_records(g, &mut out));
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
    fn records_encoded_one_by_one_decode_to_expected(
        spans in arb_span_batch(),
        logs in arb_log_batch(),
        metrics in arb_metric_batch(),
    ) {
        let out = encode_records(&spans, |e, s| e.span_record(s));
        let got = ExportTraceServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &expected_traces(&spans));
        prop_assert_eq!(out, encode_traces(&spans));
        let out = encode_records(&logs, |e, r| e.log_record(r));
        let got = ExportLogsServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &expected_logs(&logs));
        prop_assert_eq!(out, encode_logs(&logs));
        let out = encode_records(&metrics, |e, m| e.metric_record(m));
        let got = ExportMetricsServiceRequest::decode(out.as_slice()).expect("decodes");
        assert_same(&got, &expected_metrics(&metrics));
        prop_assert_eq!(out, encode_metrics(&metrics));
        // Each record's bytes are what `*_encoded_len` promised, body after the header.
        let mut enc = ProtoEncoder::new();
        for (_, scopes) in &spans.resources {
            for (_, recs) in scopes {
                for s in recs {
                    let r = enc.span_record(s);
                    prop_assert_eq!(r.len(), span_encoded_len(s));
                    prop_assert_eq!(r.as_bytes().ends_with(r.body()), true);
                    prop_assert_eq!(r.as_bytes().first().copied(), Some(0x12));
                }
            }
        }
    }

    #[test]
    fn spans_with_fields_encoded_as_recorded_decode_to_the_same_span(b in arb_span_batch()) {
        // What the tracer does for a sampled span: attributes and events encoded one by
        // one as recorded, the rest of the span at the end.
        let as_recorded = encode_records(&b, |_, s| {
            let mut fields = Vec::new();
            let mut e2 = ProtoEncoder::new();
            for kv in &s.attributes {
                e2.key_value_field(9, kv, &mut fields);
            }
            for e in &s.events {
                e2.event_field(e.time_unix_nano, &e.name, &e.attributes, e.dropped_attributes_count, &mut fields);
            }
            let mut rest = s.clone();
            rest.attributes.clear();
            rest.events.clear();
            e2.span_record_with(&rest, &fields)
        });
        let got = ExportTraceServiceRequest::decode(as_recorded.as_slice()).expect("decodes");
        assert_same(&got, &expected_traces(&b));
        prop_assert_eq!(as_recorded.len(), encode_traces(&b).len());
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

// ---------- AnyValue nesting limit: the same cut in both encodings ----------

/// `levels` nested arrays (or single-entry key-value lists) around `Int(7)`, built
/// iteratively.
fn nested(levels: usize, kvlist: bool) -> AnyValue {
    let mut v = AnyValue::Int(7);
    for _ in 0..levels {
        v = if kvlist {
            AnyValue::KvList(vec![KeyValue::new("k", v)])
        } else {
            AnyValue::Array(vec![v])
        };
    }
    v
}

/// Takes a nested value apart from the outside in. Dropping a value nested a hundred
/// thousand levels deep in one piece recurses once per level and overflows the stack (a
/// property of the model's derived `Drop`, not of the encoders).
fn dismantle(mut v: AnyValue) {
    loop {
        let inner = match &mut v {
            AnyValue::Array(items) => items.pop(),
            AnyValue::KvList(kvs) => kvs.pop().map(|kv| kv.value),
            _ => None,
        };
        match inner {
            Some(inner) => v = inner,
            None => break,
        }
    }
}

/// What both encodings must carry for `nested(levels, kvlist)`: at most
/// `MAX_ANY_VALUE_DEPTH` levels, and an empty `AnyValue` where the cut happened.
fn expected_nested(levels: usize, kvlist: bool) -> pc::AnyValue {
    use pc::any_value::Value as V;
    let mut v = if levels > MAX_ANY_VALUE_DEPTH {
        pc::AnyValue { value: None }
    } else {
        pc::AnyValue {
            value: Some(V::IntValue(7)),
        }
    };
    for _ in 0..levels.min(MAX_ANY_VALUE_DEPTH) {
        v = pc::AnyValue {
            value: Some(if kvlist {
                V::KvlistValue(pc::KeyValueList {
                    values: vec![pc::KeyValue {
                        key: "k".into(),
                        value: Some(v),
                        ..Default::default()
                    }],
                })
            } else {
                V::ArrayValue(pc::ArrayValue { values: vec![v] })
            }),
        };
    }
    v
}

/// A log record carrying the nested value as its body and as an attribute; a span
/// carrying it as an attribute. Encodes both in protobuf and JSON, decodes each with the
/// official crate, and checks both against the expected cut. Returns the record and span
/// so the caller can take them apart.
fn check_nested(levels: usize, kvlist: bool) -> (LogRecord, Span) {
    let ctx = format!("levels {levels}, kvlist {kvlist}");
    let record = LogRecord {
        body: nested(levels, kvlist),
        attributes: vec![KeyValue::new("a", nested(levels, kvlist))],
        ..Default::default()
    };
    let sp = Span {
        attributes: vec![KeyValue::new("a", nested(levels, kvlist))],
        ..Default::default()
    };
    let want = expected_nested(levels, kvlist);

    // Logs, protobuf and JSON.
    let logs = Batch {
        resources: vec![(
            Resource::default(),
            vec![(InstrumentationScope::default(), vec![record])],
        )],
    };
    let pb = encode_logs(&logs);
    let mut js = Vec::new();
    logs.with_groups(|g| JsonEncoder::new().encode_logs(g, &mut js));
    let from_pb = ExportLogsServiceRequest::decode(pb.as_slice()).expect("protobuf decodes");
    let from_js: ExportLogsServiceRequest =
        serde_json::from_slice(&js).expect("official serde parses our JSON");
    assert_eq!(from_pb, from_js, "{ctx}");
    let got = &from_pb.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(got.body.as_ref(), Some(&want), "{ctx}");
    assert_eq!(got.attributes[0].value.as_ref(), Some(&want), "{ctx}");
    // Canonical bytes, and the size function agrees with the write pass.
    assert_eq!(pb, from_pb.encode_to_vec(), "{ctx}");
    let record = logs
        .resources
        .into_iter()
        .next()
        .unwrap()
        .1
        .remove(0)
        .1
        .remove(0);
    assert_eq!(
        one_record_request_len(log_encoded_len(&record)),
        pb.len(),
        "{ctx}"
    );

    // Traces, protobuf and JSON.
    let spans = Batch {
        resources: vec![(
            Resource::default(),
            vec![(InstrumentationScope::default(), vec![sp])],
        )],
    };
    let pb = encode_traces(&spans);
    let mut js = Vec::new();
    spans.with_groups(|g| JsonEncoder::new().encode_traces(g, &mut js));
    let from_pb = ExportTraceServiceRequest::decode(pb.as_slice()).expect("protobuf decodes");
    let from_js: ExportTraceServiceRequest =
        serde_json::from_slice(&js).expect("official serde parses our JSON");
    assert_eq!(from_pb, from_js, "{ctx}");
    let got = &from_pb.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(got.attributes[0].value.as_ref(), Some(&want), "{ctx}");
    assert_eq!(pb, from_pb.encode_to_vec(), "{ctx}");
    let sp = spans
        .resources
        .into_iter()
        .next()
        .unwrap()
        .1
        .remove(0)
        .1
        .remove(0);
    assert_eq!(
        one_record_request_len(span_encoded_len(&sp)),
        pb.len(),
        "{ctx}"
    );
    (record, sp)
}

/// At and around the limit, protobuf (decoded by prost) and JSON (parsed by the official
/// serde types) carry exactly the same value: 16 levels survive whole, the 17th level is
/// an empty `AnyValue` in both.
#[test]
fn nesting_is_cut_at_the_same_depth_in_both_encodings() {
    assert_eq!(MAX_ANY_VALUE_DEPTH, 16);
    for levels in [0, 1, 15, 16, 17, 18, 40] {
        for kvlist in [false, true] {
            check_nested(levels, kvlist);
        }
    }
    // Depth 17 really is cut: the leaf is gone.
    let want = expected_nested(17, false);
    let mut cur = &want;
    for _ in 0..16 {
        let Some(pc::any_value::Value::ArrayValue(a)) = &cur.value else {
            panic!("expected an array");
        };
        cur = &a.values[0];
    }
    assert_eq!(cur.value, None);
}

/// A value nested 100,000 levels deep encodes without exhausting the stack in either
/// encoding, and comes out cut at the limit.
#[test]
fn a_100_000_level_value_encodes_in_both_encodings() {
    for kvlist in [false, true] {
        let (record, sp) = check_nested(100_000, kvlist);
        let LogRecord {
            body, attributes, ..
        } = record;
        dismantle(body);
        for kv in attributes.into_iter().chain(sp.attributes) {
            dismantle(kv.value);
        }
    }
}
