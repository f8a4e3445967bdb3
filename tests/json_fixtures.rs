//! OTLP/JSON output checked field by field: against `serde_json::Value` for the exact
//! spec form, and against the official `opentelemetry-proto` serde types as an independent
//! decoder. Where that crate's serde support deviates from the OTLP/JSON spec, the test
//! says so and checks the spec form with `serde_json::Value` instead.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as pc;
use opentelemetry_proto::tonic::logs::v1 as pl;
use opentelemetry_proto::tonic::metrics::v1 as pm;
use opentelemetry_proto::tonic::resource::v1 as pr;
use opentelemetry_proto::tonic::trace::v1 as pt;
use otlp_sync::encode::MAX_ANY_VALUE_DEPTH;
use otlp_sync::encode::json::JsonEncoder;
use otlp_sync::model::*;
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------- helpers ----------

fn encode_spans(resource: &Resource, scope: &InstrumentationScope, spans: &[Span]) -> Vec<u8> {
    let scopes = [ScopeGroup {
        scope,
        records: spans,
    }];
    let groups = [ResourceGroup {
        resource,
        scopes: &scopes,
    }];
    let mut out = Vec::new();
    JsonEncoder::new().encode_traces(&groups, &mut out);
    out
}

fn encode_logs(resource: &Resource, scope: &InstrumentationScope, logs: &[LogRecord]) -> Vec<u8> {
    let scopes = [ScopeGroup {
        scope,
        records: logs,
    }];
    let groups = [ResourceGroup {
        resource,
        scopes: &scopes,
    }];
    let mut out = Vec::new();
    JsonEncoder::new().encode_logs(&groups, &mut out);
    out
}

fn encode_metrics(metrics: &[Metric]) -> Vec<u8> {
    let resource = Resource::default();
    let scope = InstrumentationScope::new("m");
    let scopes = [ScopeGroup {
        scope: &scope,
        records: metrics,
    }];
    let groups = [ResourceGroup {
        resource: &resource,
        scopes: &scopes,
    }];
    let mut out = Vec::new();
    JsonEncoder::new().encode_metrics(&groups, &mut out);
    out
}

fn value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn official<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "official serde rejected ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })
}

fn p_any(v: &AnyValue) -> pc::AnyValue {
    use pc::any_value::Value as V;
    pc::AnyValue {
        value: match v {
            AnyValue::Empty => None,
            AnyValue::Str(s) => Some(V::StringValue(s.to_string())),
            AnyValue::Bool(b) => Some(V::BoolValue(*b)),
            AnyValue::Int(i) => Some(V::IntValue(*i)),
            AnyValue::Double(d) => Some(V::DoubleValue(*d)),
            AnyValue::Bytes(b) => Some(V::BytesValue(b.clone())),
            AnyValue::Array(a) => Some(V::ArrayValue(pc::ArrayValue {
                values: a.iter().map(p_any).collect(),
            })),
            AnyValue::KvList(kvs) => Some(V::KvlistValue(pc::KeyValueList {
                values: p_attrs(kvs),
            })),
        },
    }
}

fn p_attrs(kvs: &[KeyValue]) -> Vec<pc::KeyValue> {
    kvs.iter()
        .map(|kv| pc::KeyValue {
            key: kv.key.to_string(),
            value: Some(p_any(&kv.value)),
            ..Default::default()
        })
        .collect()
}

fn all_value_kinds() -> Attributes {
    vec![
        KeyValue::new("s", "text"),
        KeyValue::new("b", true),
        KeyValue::new("f", false),
        KeyValue::new("i", -42),
        KeyValue::new("zero", 0),
        KeyValue::new("max", i64::MAX),
        KeyValue::new("d", 2.5),
        KeyValue::new("bytes", vec![0u8, 1, 2, 0xfe, 0xff]),
        KeyValue::new("empty_bytes", Vec::<u8>::new()),
        KeyValue::new(
            "arr",
            vec![AnyValue::Int(1), AnyValue::from("x"), AnyValue::Empty],
        ),
        KeyValue::new("empty_arr", Vec::<AnyValue>::new()),
        KeyValue::new(
            "kv",
            vec![
                KeyValue::new("inner", 1.0),
                KeyValue::new("", AnyValue::Empty),
            ],
        ),
        KeyValue::new("empty", AnyValue::Empty),
        KeyValue::new("", "empty key"),
    ]
}

fn tid() -> TraceId {
    "5b8efff798038103d269b633813fc60c".parse().unwrap()
}

fn sid(n: u8) -> SpanId {
    SpanId::from_bytes([0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, n])
}

fn full_span() -> Span {
    Span {
        trace_id: tid(),
        span_id: sid(0x74),
        trace_state: "ro=1".into(),
        parent_span_id: sid(0x01),
        flags: 0x301,
        name: "GET /\"quoted\"\n".into(),
        kind: SpanKind::Server,
        start_time_unix_nano: 1_544_712_660_000_000_000,
        end_time_unix_nano: u64::MAX,
        attributes: all_value_kinds(),
        dropped_attributes_count: 3,
        events: vec![Event {
            time_unix_nano: 1_544_712_660_500_000_000,
            name: "ev".into(),
            attributes: vec![KeyValue::new("k", "v")],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 4,
        links: vec![Link {
            trace_id: TraceId::from_bytes([0xab; 16]),
            span_id: sid(9),
            trace_state: "a=b".into(),
            attributes: vec![KeyValue::new("l", 1)],
            dropped_attributes_count: 2,
            flags: 0x101,
        }],
        dropped_links_count: 5,
        status: Status {
            code: StatusCode::Error,
            message: "boom".into(),
        },
    }
}

fn full_resource() -> Resource {
    Resource {
        attributes: vec![KeyValue::new("service.name", "svc")],
        dropped_attributes_count: 7,
        schema_url: "https://opentelemetry.io/schemas/1.0.0".into(),
    }
}

fn full_scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "lib".into(),
        version: "1.2.3".into(),
        attributes: vec![KeyValue::new("scope.attr", 1)],
        dropped_attributes_count: 8,
        schema_url: "https://opentelemetry.io/schemas/1.1.0".into(),
    }
}

fn p_resource(r: &Resource) -> pr::Resource {
    pr::Resource {
        attributes: p_attrs(&r.attributes),
        dropped_attributes_count: r.dropped_attributes_count,
        ..Default::default()
    }
}

fn p_scope(s: &InstrumentationScope) -> pc::InstrumentationScope {
    pc::InstrumentationScope {
        name: s.name.to_string(),
        version: s.version.to_string(),
        attributes: p_attrs(&s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
    }
}

// ---------- traces ----------

#[test]
fn span_fields_have_the_spec_form() {
    let out = encode_spans(&full_resource(), &full_scope(), &[full_span()]);
    let v = value(&out);
    let rs = &v["resourceSpans"][0];
    assert_eq!(
        rs["resource"],
        json!({"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],"droppedAttributesCount":7})
    );
    assert_eq!(rs["schemaUrl"], "https://opentelemetry.io/schemas/1.0.0");
    let ss = &rs["scopeSpans"][0];
    assert_eq!(
        ss["scope"],
        json!({"name":"lib","version":"1.2.3","attributes":[{"key":"scope.attr","value":{"intValue":"1"}}],"droppedAttributesCount":8})
    );
    assert_eq!(ss["schemaUrl"], "https://opentelemetry.io/schemas/1.1.0");
    let s = &ss["spans"][0];
    assert_eq!(s["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(s["spanId"], "eee19b7ec3c1b174");
    assert_eq!(s["parentSpanId"], "eee19b7ec3c1b101");
    assert_eq!(s["traceState"], "ro=1");
    assert_eq!(s["flags"], 0x301);
    assert_eq!(s["name"], "GET /\"quoted\"\n");
    assert_eq!(s["kind"], 2);
    assert_eq!(s["startTimeUnixNano"], "1544712660000000000");
    assert_eq!(s["endTimeUnixNano"], "18446744073709551615");
    assert_eq!(s["droppedAttributesCount"], 3);
    assert_eq!(s["droppedEventsCount"], 4);
    assert_eq!(s["droppedLinksCount"], 5);
    assert_eq!(s["status"], json!({"message":"boom","code":2}));
    assert_eq!(
        s["events"],
        json!([{"timeUnixNano":"1544712660500000000","name":"ev","attributes":[{"key":"k","value":{"stringValue":"v"}}],"droppedAttributesCount":1}])
    );
    assert_eq!(
        s["links"],
        json!([{"traceId":"abababababababababababababababab","spanId":"eee19b7ec3c1b109","traceState":"a=b","attributes":[{"key":"l","value":{"intValue":"1"}}],"droppedAttributesCount":2,"flags":257}])
    );
    assert_eq!(
        s["attributes"],
        json!([
            {"key":"s","value":{"stringValue":"text"}},
            {"key":"b","value":{"boolValue":true}},
            {"key":"f","value":{"boolValue":false}},
            {"key":"i","value":{"intValue":"-42"}},
            {"key":"zero","value":{"intValue":"0"}},
            {"key":"max","value":{"intValue":"9223372036854775807"}},
            {"key":"d","value":{"doubleValue":2.5}},
            {"key":"bytes","value":{"bytesValue":"AAEC/v8="}},
            {"key":"empty_bytes","value":{"bytesValue":""}},
            {"key":"arr","value":{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"x"},{}]}}},
            {"key":"empty_arr","value":{"arrayValue":{"values":[]}}},
            {"key":"kv","value":{"kvlistValue":{"values":[{"key":"inner","value":{"doubleValue":1}},{"key":"","value":{}}]}}},
            {"key":"empty","value":{}},
            {"key":"","value":{"stringValue":"empty key"}}
        ])
    );
    // No snake_case key anywhere, and no base64 id.
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("_count") && !text.contains("trace_id") && !text.contains("unix_nano"));
}

#[test]
fn span_decodes_with_the_official_serde_types() {
    let (resource, scope, span) = (full_resource(), full_scope(), full_span());
    let out = encode_spans(&resource, &scope, std::slice::from_ref(&span));
    let got: ExportTraceServiceRequest = official(&out);
    let want = ExportTraceServiceRequest {
        resource_spans: vec![pt::ResourceSpans {
            resource: Some(p_resource(&resource)),
            scope_spans: vec![pt::ScopeSpans {
                scope: Some(p_scope(&scope)),
                spans: vec![pt::Span {
                    trace_id: tid().to_bytes().to_vec(),
                    span_id: sid(0x74).to_bytes().to_vec(),
                    trace_state: "ro=1".into(),
                    parent_span_id: sid(0x01).to_bytes().to_vec(),
                    flags: 0x301,
                    name: span.name.to_string(),
                    kind: 2,
                    start_time_unix_nano: span.start_time_unix_nano,
                    end_time_unix_nano: u64::MAX,
                    attributes: p_attrs(&span.attributes),
                    dropped_attributes_count: 3,
                    events: vec![pt::span::Event {
                        time_unix_nano: 1_544_712_660_500_000_000,
                        name: "ev".into(),
                        attributes: p_attrs(&span.events[0].attributes),
                        dropped_attributes_count: 1,
                    }],
                    dropped_events_count: 4,
                    links: vec![pt::span::Link {
                        trace_id: vec![0xab; 16],
                        span_id: sid(9).to_bytes().to_vec(),
                        trace_state: "a=b".into(),
                        attributes: p_attrs(&span.links[0].attributes),
                        dropped_attributes_count: 2,
                        flags: 0x101,
                    }],
                    dropped_links_count: 5,
                    status: Some(pt::Status {
                        message: "boom".into(),
                        code: 2,
                    }),
                }],
                schema_url: scope.schema_url.to_string(),
            }],
            schema_url: resource.schema_url.to_string(),
        }],
    };
    assert_eq!(got, want);
}

#[test]
fn default_fields_are_omitted() {
    let span = Span {
        kind: SpanKind::Unspecified,
        ..Default::default()
    };
    let out = encode_spans(
        &Resource::default(),
        &InstrumentationScope::default(),
        &[span],
    );
    assert_eq!(
        value(&out),
        json!({"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"status":{}}]}]}]})
    );
    let got: ExportTraceServiceRequest = official(&out);
    assert_eq!(
        got.resource_spans[0].scope_spans[0].spans[0],
        pt::Span {
            status: Some(pt::Status::default()),
            ..Default::default()
        }
    );

    let out = encode_logs(
        &Resource::default(),
        &InstrumentationScope::default(),
        &[LogRecord::default()],
    );
    assert_eq!(
        value(&out),
        json!({"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{}]}]}]})
    );
    let got: ExportLogsServiceRequest = official(&out);
    assert_eq!(
        got.resource_logs[0].scope_logs[0].log_records[0],
        pl::LogRecord::default()
    );
}

#[test]
fn several_groups_and_appending() {
    let r1 = Resource::new(vec![KeyValue::new("n", 1)]);
    let r2 = Resource::new(vec![KeyValue::new("n", 2)]);
    let (s1, s2) = (
        InstrumentationScope::new("a"),
        InstrumentationScope::new("b"),
    );
    let spans = [Span::new("x", tid(), sid(1)), Span::new("y", tid(), sid(2))];
    let g1 = [
        ScopeGroup {
            scope: &s1,
            records: &spans[..1],
        },
        ScopeGroup {
            scope: &s2,
            records: &spans[1..],
        },
    ];
    let g2 = [ScopeGroup {
        scope: &s2,
        records: &spans[..],
    }];
    let groups = [
        ResourceGroup {
            resource: &r1,
            scopes: &g1,
        },
        ResourceGroup {
            resource: &r2,
            scopes: &g2,
        },
    ];
    let mut enc = JsonEncoder::new();
    let mut out = Vec::new();
    enc.encode_traces(&groups, &mut out);
    let first_len = out.len();
    enc.encode_traces(&groups, &mut out);
    assert_eq!(
        out[..first_len],
        out[first_len..],
        "the encoder keeps no state"
    );
    let got: ExportTraceServiceRequest = official(&out[..first_len]);
    let names: Vec<Vec<(String, Vec<String>)>> = got
        .resource_spans
        .iter()
        .map(|rs| {
            rs.scope_spans
                .iter()
                .map(|ss| {
                    (
                        ss.scope.as_ref().unwrap().name.clone(),
                        ss.spans.iter().map(|s| s.name.clone()).collect(),
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(
        names,
        vec![
            vec![
                ("a".into(), vec!["x".into()]),
                ("b".into(), vec!["y".into()])
            ],
            vec![("b".into(), vec!["x".into(), "y".into()])],
        ]
    );
}

// ---------- logs ----------

#[test]
fn log_record_spec_form_and_official_decode() {
    let rec = LogRecord {
        time_unix_nano: 1,
        observed_time_unix_nano: 1_700_000_000_000_000_001,
        severity_number: Severity::WARN,
        severity_text: "WARN".into(),
        body: AnyValue::KvList(vec![KeyValue::new("msg", "tab\there \u{1}")]),
        attributes: vec![KeyValue::new("code.line", 12)],
        dropped_attributes_count: 2,
        flags: 1,
        trace_id: tid(),
        span_id: sid(3),
        event_name: "app.start".into(),
    };
    let (resource, scope) = (full_resource(), full_scope());
    let out = encode_logs(&resource, &scope, std::slice::from_ref(&rec));
    let v = value(&out);
    let r = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(
        r,
        &json!({
            "timeUnixNano":"1",
            "observedTimeUnixNano":"1700000000000000001",
            "severityNumber":13,
            "severityText":"WARN",
            "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"tab\there \u{1}"}}]}},
            "attributes":[{"key":"code.line","value":{"intValue":"12"}}],
            "droppedAttributesCount":2,
            "flags":1,
            "traceId":"5b8efff798038103d269b633813fc60c",
            "spanId":"eee19b7ec3c1b103",
            "eventName":"app.start"
        })
    );
    assert!(String::from_utf8_lossy(&out).contains(r#"tab\there \u0001"#));
    let got: ExportLogsServiceRequest = official(&out);
    let want = ExportLogsServiceRequest {
        resource_logs: vec![pl::ResourceLogs {
            resource: Some(p_resource(&resource)),
            scope_logs: vec![pl::ScopeLogs {
                scope: Some(p_scope(&scope)),
                log_records: vec![pl::LogRecord {
                    time_unix_nano: 1,
                    observed_time_unix_nano: rec.observed_time_unix_nano,
                    severity_number: 13,
                    severity_text: "WARN".into(),
                    body: Some(p_any(&rec.body)),
                    attributes: p_attrs(&rec.attributes),
                    dropped_attributes_count: 2,
                    flags: 1,
                    trace_id: tid().to_bytes().to_vec(),
                    span_id: sid(3).to_bytes().to_vec(),
                    event_name: "app.start".into(),
                }],
                schema_url: scope.schema_url.to_string(),
            }],
            schema_url: resource.schema_url.to_string(),
        }],
    };
    assert_eq!(got, want);
}

// ---------- metrics ----------

fn exemplar() -> Exemplar {
    Exemplar {
        filtered_attributes: vec![KeyValue::new("user", "u1")],
        time_unix_nano: 5,
        value: NumberValue::Double(0.25),
        span_id: sid(7),
        trace_id: tid(),
    }
}

fn all_metrics() -> Vec<Metric> {
    let attrs = vec![KeyValue::new("host", "h1")];
    vec![
        Metric {
            name: "g".into(),
            description: "a gauge".into(),
            unit: "1".into(),
            data: MetricData::Gauge(vec![
                NumberDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: 1,
                    time_unix_nano: 2,
                    value: NumberValue::Int(0),
                    exemplars: vec![exemplar()],
                    flags: DATA_POINT_FLAG_NO_RECORDED_VALUE,
                },
                NumberDataPoint {
                    value: NumberValue::Double(0.0),
                    ..Default::default()
                },
            ]),
            metadata: vec![KeyValue::new("meta", true)],
        },
        Metric {
            name: "s".into(),
            description: String::new().into(),
            unit: "By".into(),
            data: MetricData::Sum {
                points: vec![NumberDataPoint {
                    value: NumberValue::Int(i64::MIN),
                    time_unix_nano: 3,
                    ..Default::default()
                }],
                temporality: AggregationTemporality::Delta,
                is_monotonic: true,
            },
            metadata: vec![],
        },
        Metric {
            name: "h".into(),
            description: "".into(),
            unit: "ms".into(),
            data: MetricData::Histogram {
                points: vec![HistogramDataPoint {
                    attributes: attrs.clone(),
                    start_time_unix_nano: 10,
                    time_unix_nano: 20,
                    count: u64::MAX,
                    sum: Some(0.0),
                    bucket_counts: vec![1, 0, u64::MAX],
                    explicit_bounds: vec![-1.5, 1e300],
                    exemplars: vec![],
                    flags: 0,
                    min: Some(-1e-10),
                    max: None,
                }],
                temporality: AggregationTemporality::Cumulative,
            },
            metadata: vec![],
        },
        Metric {
            name: "e".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::ExponentialHistogram {
                points: vec![ExponentialHistogramDataPoint {
                    count: 6,
                    sum: None,
                    scale: -3,
                    zero_count: 1,
                    positive: Buckets {
                        offset: -2,
                        bucket_counts: vec![2, 3],
                    },
                    negative: Buckets::default(),
                    min: Some(0.5),
                    max: Some(8.0),
                    zero_threshold: 1e-9,
                    exemplars: vec![Exemplar {
                        value: NumberValue::Int(-3),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                temporality: AggregationTemporality::Delta,
            },
            metadata: vec![],
        },
        Metric {
            name: "q".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Summary(vec![SummaryDataPoint {
                count: 4,
                sum: 10.5,
                quantile_values: vec![
                    ValueAtQuantile {
                        quantile: 0.0,
                        value: 1.0,
                    },
                    ValueAtQuantile {
                        quantile: 1.0,
                        value: 9.0,
                    },
                ],
                ..Default::default()
            }]),
            metadata: vec![],
        },
    ]
}

#[test]
fn metric_fields_have_the_spec_form() {
    let v = value(&encode_metrics(&all_metrics()));
    let m = &v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
    assert_eq!(
        m[0],
        json!({
            "name":"g","description":"a gauge","unit":"1",
            "gauge":{"dataPoints":[
                {"attributes":[{"key":"host","value":{"stringValue":"h1"}}],
                 "startTimeUnixNano":"1","timeUnixNano":"2","asInt":"0",
                 "exemplars":[{"filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}],
                               "timeUnixNano":"5","asDouble":0.25,
                               "spanId":"eee19b7ec3c1b107","traceId":"5b8efff798038103d269b633813fc60c"}],
                 "flags":1},
                {"asDouble":0}
            ]},
            "metadata":[{"key":"meta","value":{"boolValue":true}}]
        })
    );
    assert_eq!(
        m[1],
        json!({"name":"s","unit":"By","sum":{"dataPoints":[{"timeUnixNano":"3","asInt":"-9223372036854775808"}],"aggregationTemporality":1,"isMonotonic":true}})
    );
    assert_eq!(
        m[2],
        json!({"name":"h","unit":"ms","histogram":{"dataPoints":[{
            "attributes":[{"key":"host","value":{"stringValue":"h1"}}],
            "startTimeUnixNano":"10","timeUnixNano":"20","count":"18446744073709551615",
            "sum":0,"bucketCounts":["1","0","18446744073709551615"],
            "explicitBounds":[-1.5,1e300],"min":-1e-10}],"aggregationTemporality":2}})
    );
    assert_eq!(
        m[3],
        json!({"name":"e","exponentialHistogram":{"dataPoints":[{
            "count":"6","scale":-3,"zeroCount":"1",
            "positive":{"offset":-2,"bucketCounts":["2","3"]},"negative":{},
            "exemplars":[{"asInt":"-3"}],
            "min":0.5,"max":8,"zeroThreshold":1e-9}],"aggregationTemporality":1}})
    );
    assert_eq!(
        m[4],
        json!({"name":"q","summary":{"dataPoints":[{"count":"4","sum":10.5,
            "quantileValues":[{"value":1},{"quantile":1,"value":9}]}]}})
    );
}

#[test]
fn metrics_decode_with_the_official_serde_types() {
    let metrics = all_metrics();
    let got: ExportMetricsServiceRequest = official(&encode_metrics(&metrics));
    let got = &got.resource_metrics[0].scope_metrics[0].metrics;
    use pm::metric::Data;
    let np = |p: &NumberDataPoint| pm::NumberDataPoint {
        attributes: p_attrs(&p.attributes),
        start_time_unix_nano: p.start_time_unix_nano,
        time_unix_nano: p.time_unix_nano,
        exemplars: p.exemplars.iter().map(p_exemplar).collect(),
        flags: p.flags,
        value: Some(match p.value {
            NumberValue::Int(i) => pm::number_data_point::Value::AsInt(i),
            NumberValue::Double(d) => pm::number_data_point::Value::AsDouble(d),
        }),
    };
    let want: Vec<pm::Metric> = metrics
        .iter()
        .map(|m| pm::Metric {
            name: m.name.to_string(),
            description: m.description.to_string(),
            unit: m.unit.to_string(),
            metadata: p_attrs(&m.metadata),
            data: Some(match &m.data {
                MetricData::Gauge(ps) => Data::Gauge(pm::Gauge {
                    data_points: ps.iter().map(np).collect(),
                }),
                MetricData::Sum {
                    points,
                    temporality,
                    is_monotonic,
                } => Data::Sum(pm::Sum {
                    data_points: points.iter().map(np).collect(),
                    aggregation_temporality: *temporality as i32,
                    is_monotonic: *is_monotonic,
                }),
                MetricData::Histogram {
                    points,
                    temporality,
                } => Data::Histogram(pm::Histogram {
                    data_points: points
                        .iter()
                        .map(|p| pm::HistogramDataPoint {
                            attributes: p_attrs(&p.attributes),
                            start_time_unix_nano: p.start_time_unix_nano,
                            time_unix_nano: p.time_unix_nano,
                            count: p.count,
                            sum: p.sum,
                            bucket_counts: p.bucket_counts.clone(),
                            explicit_bounds: p.explicit_bounds.clone(),
                            exemplars: p.exemplars.iter().map(p_exemplar).collect(),
                            flags: p.flags,
                            min: p.min,
                            max: p.max,
                        })
                        .collect(),
                    aggregation_temporality: *temporality as i32,
                }),
                MetricData::ExponentialHistogram {
                    points,
                    temporality,
                } => Data::ExponentialHistogram(pm::ExponentialHistogram {
                    data_points: points
                        .iter()
                        .map(|p| pm::ExponentialHistogramDataPoint {
                            attributes: p_attrs(&p.attributes),
                            start_time_unix_nano: p.start_time_unix_nano,
                            time_unix_nano: p.time_unix_nano,
                            count: p.count,
                            sum: p.sum,
                            scale: p.scale,
                            zero_count: p.zero_count,
                            positive: p_buckets(&p.positive),
                            negative: p_buckets(&p.negative),
                            flags: p.flags,
                            exemplars: p.exemplars.iter().map(p_exemplar).collect(),
                            min: p.min,
                            max: p.max,
                            zero_threshold: p.zero_threshold,
                        })
                        .collect(),
                    aggregation_temporality: *temporality as i32,
                }),
                MetricData::Summary(ps) => Data::Summary(pm::Summary {
                    data_points: ps
                        .iter()
                        .map(|p| pm::SummaryDataPoint {
                            attributes: p_attrs(&p.attributes),
                            start_time_unix_nano: p.start_time_unix_nano,
                            time_unix_nano: p.time_unix_nano,
                            count: p.count,
                            sum: p.sum,
                            quantile_values: p
                                .quantile_values
                                .iter()
                                .map(|q| pm::summary_data_point::ValueAtQuantile {
                                    quantile: q.quantile,
                                    value: q.value,
                                })
                                .collect(),
                            flags: p.flags,
                        })
                        .collect(),
                }),
            }),
        })
        .collect();
    assert_eq!(got, &want);
}

fn p_exemplar(e: &Exemplar) -> pm::Exemplar {
    let id = |valid: bool, b: &[u8]| if valid { b.to_vec() } else { vec![] };
    pm::Exemplar {
        filtered_attributes: p_attrs(&e.filtered_attributes),
        time_unix_nano: e.time_unix_nano,
        span_id: id(e.span_id.is_valid(), e.span_id.as_bytes()),
        trace_id: id(e.trace_id.is_valid(), e.trace_id.as_bytes()),
        value: Some(match e.value {
            NumberValue::Int(i) => pm::exemplar::Value::AsInt(i),
            NumberValue::Double(d) => pm::exemplar::Value::AsDouble(d),
        }),
    }
}

fn p_buckets(b: &Buckets) -> Option<pm::exponential_histogram_data_point::Buckets> {
    Some(pm::exponential_histogram_data_point::Buckets {
        offset: b.offset,
        bucket_counts: b.bucket_counts.clone(),
    })
}

// ---------- non-finite doubles ----------

#[test]
fn non_finite_doubles_are_the_spec_strings() {
    let nan_point = |v: f64| NumberDataPoint {
        value: NumberValue::Double(v),
        ..Default::default()
    };
    let metrics = vec![
        Metric {
            name: "g".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Gauge(vec![
                nan_point(f64::NAN),
                nan_point(f64::INFINITY),
                nan_point(f64::NEG_INFINITY),
            ]),
            metadata: vec![KeyValue::new("d", f64::NAN)],
        },
        Metric {
            name: "h".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Histogram {
                points: vec![HistogramDataPoint {
                    sum: Some(f64::INFINITY),
                    min: Some(f64::NEG_INFINITY),
                    max: Some(f64::NAN),
                    explicit_bounds: vec![f64::NEG_INFINITY, 0.0, f64::INFINITY],
                    bucket_counts: vec![0, 0, 0, 0],
                    ..Default::default()
                }],
                temporality: AggregationTemporality::Delta,
            },
            metadata: vec![],
        },
        Metric {
            name: "q".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Summary(vec![SummaryDataPoint {
                sum: f64::NAN,
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: f64::INFINITY,
                }],
                ..Default::default()
            }]),
            metadata: vec![],
        },
    ];
    let out = encode_metrics(&metrics);
    let v = value(&out);
    let m = &v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
    assert_eq!(
        m[0]["gauge"]["dataPoints"],
        json!([{"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"}])
    );
    assert_eq!(m[0]["metadata"][0]["value"], json!({"doubleValue":"NaN"}));
    assert_eq!(
        m[1]["histogram"]["dataPoints"][0],
        json!({"sum":"Infinity","bucketCounts":["0","0","0","0"],
               "explicitBounds":["-Infinity",0,"Infinity"],"min":"-Infinity","max":"NaN"})
    );
    assert_eq!(
        m[2]["summary"]["dataPoints"][0],
        json!({"sum":"NaN","quantileValues":[{"quantile":0.5,"value":"Infinity"}]})
    );

    // Deviation of opentelemetry-proto 0.33's serde: only ValueAtQuantile reads the
    // special strings; every other double (asDouble, doubleValue, sum, min, max,
    // explicitBounds, zeroThreshold) is a plain f64 and rejects them.
    assert!(serde_json::from_slice::<ExportMetricsServiceRequest>(&out).is_err());
    let q: pm::summary_data_point::ValueAtQuantile =
        serde_json::from_value(m[2]["summary"]["dataPoints"][0]["quantileValues"][0].clone())
            .unwrap();
    assert_eq!(q.value, f64::INFINITY);
    // Worse, the flattened `oneof` of a data point swallows the error: "NaN" as asDouble
    // is read as a point with no value at all.
    let p: pm::NumberDataPoint = serde_json::from_value(json!({"asDouble":"NaN"})).unwrap();
    assert_eq!(p.value, None);
    let e: pm::Exemplar = serde_json::from_value(json!({"asDouble":"Infinity"})).unwrap();
    assert_eq!(e.value, None);
    assert!(serde_json::from_value::<pc::AnyValue>(json!({"doubleValue":"NaN"})).is_err());
}

// ---------- documented deviations of the official serde support ----------

#[test]
fn official_serde_deviations_that_shape_our_output() {
    // An empty arrayValue / kvlistValue without "values" (what proto3 JSON omission
    // gives) is rejected: `values` has no serde default. We always write "values".
    assert!(serde_json::from_value::<pc::AnyValue>(json!({"arrayValue":{}})).is_err());
    assert!(serde_json::from_value::<pc::AnyValue>(json!({"kvlistValue":{}})).is_err());
    // A KeyValue without "key" (an empty key omitted) is rejected. We always write "key".
    assert!(serde_json::from_value::<pc::KeyValue>(json!({"value":{"intValue":"1"}})).is_err());
    // An empty AnyValue `{}` is accepted and read as "no value", as the spec means.
    let empty: pc::AnyValue = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty.value, None);
    // Its serializer writes the partial-success int64 as a JSON number, not a string.
    let resp = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse {
        partial_success: Some(
            opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess {
                rejected_spans: 2,
                error_message: String::new(),
            },
        ),
    };
    assert_eq!(
        serde_json::to_value(&resp).unwrap(),
        json!({"partialSuccess":{"rejectedSpans":2,"errorMessage":""}})
    );
}

// ---------- properties ----------

fn arb_str() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        proptest::collection::vec(any::<char>(), 0..12).prop_map(|v| v.into_iter().collect()),
    ]
}

fn arb_any() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        Just(AnyValue::Empty),
        arb_str().prop_map(AnyValue::from),
        any::<bool>().prop_map(AnyValue::Bool),
        any::<i64>().prop_map(AnyValue::Int),
        // Finite only: the official serde rejects the spec's NaN strings here.
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(AnyValue::Double),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(AnyValue::Bytes),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
            proptest::collection::vec((arb_str(), inner), 0..4).prop_map(|kvs| AnyValue::KvList(
                kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn any_attributes_and_names_round_trip(
        name in arb_str(),
        attrs in proptest::collection::vec((arb_str(), arb_any()), 0..6),
        start in any::<u64>(),
        trace in any::<[u8; 16]>(),
        span in any::<[u8; 8]>(),
    ) {
        let attrs: Attributes = attrs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
        let mut s = Span::new(name.clone(), TraceId::from_bytes(trace), SpanId::from_bytes(span));
        s.attributes = attrs.clone();
        s.start_time_unix_nano = start;
        let out = encode_spans(&Resource::default(), &InstrumentationScope::default(), &[s]);
        let got: ExportTraceServiceRequest = official(&out);
        let got = &got.resource_spans[0].scope_spans[0].spans[0];
        prop_assert_eq!(&got.name, &name);
        prop_assert_eq!(got.start_time_unix_nano, start);
        let want_trace = if trace == [0; 16] { vec![] } else { trace.to_vec() };
        let want_span = if span == [0; 8] { vec![] } else { span.to_vec() };
        prop_assert_eq!(&got.trace_id, &want_trace);
        prop_assert_eq!(&got.span_id, &want_span);
        // f64 compares by value here; -0.0 == 0.0 is fine, NaN never occurs.
        prop_assert_eq!(&got.attributes, &p_attrs(&attrs));
    }

    #[test]
    fn doubles_round_trip_bit_exactly(d in any::<f64>().prop_filter("finite", |d| d.is_finite())) {
        let m = Metric {
            name: "g".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Gauge(vec![NumberDataPoint { value: NumberValue::Double(d), ..Default::default() }]),
            metadata: vec![],
        };
        let got: ExportMetricsServiceRequest = official(&encode_metrics(&[m]));
        let Some(pm::metric::Data::Gauge(g)) = &got.resource_metrics[0].scope_metrics[0].metrics[0].data else {
            panic!("not a gauge");
        };
        let Some(pm::number_data_point::Value::AsDouble(back)) = g.data_points[0].value else {
            panic!("not asDouble");
        };
        prop_assert_eq!(back.to_bits(), d.to_bits());
    }
}

#[test]
fn nesting_limit_keeps_output_parseable() {
    let mut v = AnyValue::from("leaf");
    for _ in 0..200 {
        v = AnyValue::KvList(vec![KeyValue::new("k", v)]);
    }
    let span = Span {
        attributes: vec![KeyValue::new("deep", v)],
        ..Default::default()
    };
    let out = encode_spans(
        &Resource::default(),
        &InstrumentationScope::default(),
        &[span],
    );
    let got: ExportTraceServiceRequest = official(&out);
    let mut cur = got.resource_spans[0].scope_spans[0].spans[0].attributes[0]
        .value
        .clone()
        .unwrap();
    let mut depth = 0;
    while let Some(pc::any_value::Value::KvlistValue(l)) = cur.value {
        cur = l.values[0].value.clone().unwrap();
        depth += 1;
    }
    assert_eq!(depth, MAX_ANY_VALUE_DEPTH);
    assert_eq!(cur.value, None);
}
