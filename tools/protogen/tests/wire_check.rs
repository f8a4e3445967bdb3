//! Independent wire check: messages built with OUR generated types (`otlp_sync::proto`)
//! are encoded with prost and decoded with the official `opentelemetry-proto` crate,
//! and the other way round.
//!
//! Three layers of evidence per message:
//! * named fields arrive with the expected values in the official types (flags,
//!   event_name, metadata, exponential histogram, partial success, ...), including
//!   negative values that would expose a signed/zigzag/fixed mismatch;
//! * the `Debug` rendering of ours and of the official decode are identical, so every
//!   populated field has the same name, nesting and value on both sides;
//! * re-encoding the official decode gives our exact bytes (prost drops unknown
//!   fields, so a field-number mismatch would lose data and change the bytes).

use opentelemetry_proto::tonic as official;
use otlp_sync::proto as ours;
use prost::Message;

fn check_round_trip<
    O: Message + std::fmt::Debug + Default,
    T: Message + std::fmt::Debug + Default,
>(
    ours: &O,
) -> T {
    let bytes = ours.encode_to_vec();
    let theirs = T::decode(bytes.as_slice()).expect("official crate decodes our bytes");
    assert_eq!(
        format!("{ours:?}"),
        format!("{theirs:?}"),
        "field names or values differ"
    );
    assert_eq!(
        theirs.encode_to_vec(),
        bytes,
        "official re-encode lost or changed fields"
    );
    let back = O::decode(theirs.encode_to_vec().as_slice()).expect("we decode official bytes");
    assert_eq!(format!("{back:?}"), format!("{ours:?}"));
    theirs
}

mod build {
    use super::ours::common::v1::{
        AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
        any_value::Value,
    };
    use super::ours::resource::v1::Resource;

    pub fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            key_strindex: 0,
        }
    }

    /// Attributes using every AnyValue member, including nested array and kvlist.
    pub fn attrs() -> Vec<KeyValue> {
        vec![
            kv("s", Value::StringValue("text".into())),
            kv("b", Value::BoolValue(true)),
            kv("i", Value::IntValue(-42)),
            kv("d", Value::DoubleValue(1.5)),
            kv("bytes", Value::BytesValue(vec![0, 1, 255])),
            kv(
                "arr",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(Value::IntValue(7)),
                        },
                        AnyValue { value: None },
                    ],
                }),
            ),
            kv(
                "map",
                Value::KvlistValue(KeyValueList {
                    values: vec![kv("inner", Value::BoolValue(false))],
                }),
            ),
            KeyValue {
                key: String::new(),
                value: Some(AnyValue {
                    value: Some(Value::StringValueStrindex(-5)),
                }),
                key_strindex: 9,
            },
        ]
    }

    pub fn resource() -> Resource {
        Resource {
            attributes: attrs(),
            dropped_attributes_count: 2,
            entity_refs: vec![EntityRef {
                schema_url: "https://example.com/entity".into(),
                r#type: "host".into(),
                id_keys: vec!["host.id".into()],
                description_keys: vec!["host.name".into(), "host.arch".into()],
            }],
        }
    }

    pub fn scope() -> InstrumentationScope {
        InstrumentationScope {
            name: "lib".into(),
            version: "1.2.3".into(),
            attributes: vec![kv("scope.attr", Value::IntValue(1))],
            dropped_attributes_count: 3,
        }
    }
}

#[test]
fn trace_request_matches_official() {
    use ours::collector::trace::v1::ExportTraceServiceRequest;
    use ours::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

    let span = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        trace_state: "k=v".into(),
        parent_span_id: vec![3; 8],
        flags: 0x0000_0301,
        name: "op".into(),
        kind: span::SpanKind::Client as i32,
        start_time_unix_nano: 1_700_000_000_000_000_000,
        end_time_unix_nano: 1_700_000_000_000_000_500,
        attributes: build::attrs(),
        dropped_attributes_count: 4,
        events: vec![span::Event {
            time_unix_nano: 1_700_000_000_000_000_100,
            name: "ev".into(),
            attributes: build::attrs(),
            dropped_attributes_count: 5,
        }],
        dropped_events_count: 6,
        links: vec![span::Link {
            trace_id: vec![4; 16],
            span_id: vec![5; 8],
            trace_state: "a=b".into(),
            attributes: build::attrs(),
            dropped_attributes_count: 7,
            flags: 0x0000_0101,
        }],
        dropped_links_count: 8,
        status: Some(Status {
            message: "bad".into(),
            code: 2,
        }),
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(build::resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(build::scope()),
                spans: vec![span],
                schema_url: "https://example.com/scope".into(),
            }],
            schema_url: "https://example.com/resource".into(),
        }],
    };

    let theirs: official::collector::trace::v1::ExportTraceServiceRequest =
        check_round_trip(&request);
    let rs = &theirs.resource_spans[0];
    assert_eq!(rs.schema_url, "https://example.com/resource");
    let resource = rs.resource.as_ref().unwrap();
    assert_eq!(resource.entity_refs[0].r#type, "host");
    assert_eq!(resource.entity_refs[0].description_keys.len(), 2);
    assert_eq!(resource.attributes[7].key_strindex, 9);
    use official::common::v1::any_value::Value as V;
    assert_eq!(
        resource.attributes[7].value.as_ref().unwrap().value,
        Some(V::StringValueStrindex(-5))
    );
    assert_eq!(
        resource.attributes[2].value.as_ref().unwrap().value,
        Some(V::IntValue(-42))
    );
    let ss = &rs.scope_spans[0];
    assert_eq!(ss.schema_url, "https://example.com/scope");
    assert_eq!(ss.scope.as_ref().unwrap().dropped_attributes_count, 3);
    let s = &ss.spans[0];
    assert_eq!(s.flags, 0x0000_0301);
    assert_eq!(s.kind, official::trace::v1::span::SpanKind::Client as i32);
    assert_eq!(s.dropped_attributes_count, 4);
    assert_eq!(s.dropped_events_count, 6);
    assert_eq!(s.dropped_links_count, 8);
    assert_eq!(s.events[0].dropped_attributes_count, 5);
    assert_eq!(s.links[0].flags, 0x0000_0101);
    assert_eq!(s.links[0].dropped_attributes_count, 7);
    assert_eq!(s.status.as_ref().unwrap().code, 2);
    // Enum values agree too.
    assert_eq!(
        ours::trace::v1::SpanFlags::ContextIsRemoteMask as i32,
        official::trace::v1::SpanFlags::ContextIsRemoteMask as i32
    );
}

#[test]
fn log_request_matches_official() {
    use ours::collector::logs::v1::ExportLogsServiceRequest;
    use ours::common::v1::{AnyValue, any_value::Value};
    use ours::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};

    let record = LogRecord {
        time_unix_nano: 11,
        observed_time_unix_nano: 12,
        severity_number: SeverityNumber::Warn3 as i32,
        severity_text: "WARN".into(),
        body: Some(AnyValue {
            value: Some(Value::StringValue("hello".into())),
        }),
        attributes: build::attrs(),
        dropped_attributes_count: 13,
        flags: 1,
        trace_id: vec![6; 16],
        span_id: vec![7; 8],
        event_name: "app.login".into(),
    };
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(build::resource()),
            scope_logs: vec![ScopeLogs {
                scope: Some(build::scope()),
                log_records: vec![record],
                schema_url: "https://example.com/scope".into(),
            }],
            schema_url: "https://example.com/resource".into(),
        }],
    };

    let theirs: official::collector::logs::v1::ExportLogsServiceRequest =
        check_round_trip(&request);
    let r = &theirs.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(r.event_name, "app.login");
    assert_eq!(
        r.severity_number,
        official::logs::v1::SeverityNumber::Warn3 as i32
    );
    assert_eq!(r.observed_time_unix_nano, 12);
    assert_eq!(r.flags, 1);
    assert_eq!(r.dropped_attributes_count, 13);
    assert_eq!(r.span_id, vec![7; 8]);
}

#[test]
fn metric_request_matches_official() {
    use ours::collector::metrics::v1::ExportMetricsServiceRequest;
    use ours::common::v1::any_value::Value;
    use ours::metrics::v1::{
        AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint,
        Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
        ScopeMetrics, Sum, Summary, SummaryDataPoint, exemplar,
        exponential_histogram_data_point::Buckets, metric, number_data_point,
        summary_data_point::ValueAtQuantile,
    };

    let exemplar = Exemplar {
        filtered_attributes: vec![build::kv("f", Value::BoolValue(true))],
        time_unix_nano: 21,
        value: Some(exemplar::Value::AsInt(-9)),
        span_id: vec![8; 8],
        trace_id: vec![9; 16],
    };
    let metrics = vec![
        Metric {
            name: "latency".into(),
            description: "request latency".into(),
            unit: "ms".into(),
            metadata: vec![build::kv(
                "prometheus.type",
                Value::StringValue("histogram".into()),
            )],
            data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    attributes: build::attrs(),
                    start_time_unix_nano: 1,
                    time_unix_nano: 2,
                    count: 10,
                    sum: Some(55.5),
                    scale: -2,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: -3,
                        bucket_counts: vec![1, 2, 3],
                    }),
                    negative: Some(Buckets {
                        offset: 4,
                        bucket_counts: vec![3],
                    }),
                    flags: 1,
                    exemplars: vec![exemplar.clone()],
                    min: Some(-1.0),
                    max: Some(20.0),
                    zero_threshold: 0.001,
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
        },
        Metric {
            name: "g".into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint {
                    attributes: build::attrs(),
                    start_time_unix_nano: 3,
                    time_unix_nano: 4,
                    value: Some(number_data_point::Value::AsInt(-100)),
                    exemplars: vec![exemplar.clone()],
                    flags: 1,
                }],
            })),
            ..Default::default()
        },
        Metric {
            name: "s".into(),
            data: Some(metric::Data::Sum(Sum {
                data_points: vec![NumberDataPoint {
                    value: Some(number_data_point::Value::AsDouble(2.5)),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "h".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: build::attrs(),
                    start_time_unix_nano: 5,
                    time_unix_nano: 6,
                    count: 3,
                    sum: Some(6.0),
                    bucket_counts: vec![1, 1, 1],
                    explicit_bounds: vec![1.0, 2.0],
                    exemplars: vec![exemplar],
                    flags: 0,
                    min: Some(0.5),
                    max: Some(3.5),
                }],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            })),
            ..Default::default()
        },
        Metric {
            name: "q".into(),
            data: Some(metric::Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    attributes: build::attrs(),
                    start_time_unix_nano: 7,
                    time_unix_nano: 8,
                    count: 4,
                    sum: 10.0,
                    quantile_values: vec![ValueAtQuantile {
                        quantile: 0.5,
                        value: 2.0,
                    }],
                    flags: 1,
                }],
            })),
            ..Default::default()
        },
    ];
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(build::resource()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(build::scope()),
                metrics,
                schema_url: "https://example.com/scope".into(),
            }],
            schema_url: "https://example.com/resource".into(),
        }],
    };

    let theirs: official::collector::metrics::v1::ExportMetricsServiceRequest =
        check_round_trip(&request);
    let ms = &theirs.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(ms[0].metadata[0].key, "prometheus.type");
    use official::metrics::v1::metric::Data;
    let Some(Data::ExponentialHistogram(eh)) = &ms[0].data else {
        panic!("exponential histogram expected, got {:?}", ms[0].data);
    };
    let p = &eh.data_points[0];
    assert_eq!(p.scale, -2);
    assert_eq!(p.positive.as_ref().unwrap().offset, -3);
    assert_eq!(p.positive.as_ref().unwrap().bucket_counts, vec![1, 2, 3]);
    assert_eq!(p.negative.as_ref().unwrap().offset, 4);
    assert_eq!((p.sum, p.min, p.max), (Some(55.5), Some(-1.0), Some(20.0)));
    assert_eq!(p.zero_threshold, 0.001);
    assert_eq!(p.zero_count, 1);
    assert_eq!(
        p.exemplars[0].value,
        Some(official::metrics::v1::exemplar::Value::AsInt(-9))
    );
    let Some(Data::Gauge(g)) = &ms[1].data else {
        panic!("gauge expected")
    };
    assert_eq!(
        g.data_points[0].value,
        Some(official::metrics::v1::number_data_point::Value::AsInt(-100))
    );
    let Some(Data::Sum(s)) = &ms[2].data else {
        panic!("sum expected")
    };
    assert!(s.is_monotonic);
    let Some(Data::Histogram(h)) = &ms[3].data else {
        panic!("histogram expected")
    };
    assert_eq!(h.data_points[0].explicit_bounds, vec![1.0, 2.0]);
    let Some(Data::Summary(q)) = &ms[4].data else {
        panic!("summary expected")
    };
    assert_eq!(q.data_points[0].quantile_values[0].quantile, 0.5);
    assert_eq!(
        ours::metrics::v1::DataPointFlags::NoRecordedValueMask as i32,
        official::metrics::v1::DataPointFlags::NoRecordedValueMask as i32
    );
}

#[test]
fn partial_success_responses_match_official() {
    use ours::collector::{logs, metrics, trace};

    let t = trace::v1::ExportTraceServiceResponse {
        partial_success: Some(trace::v1::ExportTracePartialSuccess {
            rejected_spans: 5,
            error_message: "spans".into(),
        }),
    };
    let theirs: official::collector::trace::v1::ExportTraceServiceResponse = check_round_trip(&t);
    assert_eq!(theirs.partial_success.unwrap().rejected_spans, 5);

    let l = logs::v1::ExportLogsServiceResponse {
        partial_success: Some(logs::v1::ExportLogsPartialSuccess {
            rejected_log_records: 6,
            error_message: "logs".into(),
        }),
    };
    let theirs: official::collector::logs::v1::ExportLogsServiceResponse = check_round_trip(&l);
    assert_eq!(theirs.partial_success.unwrap().rejected_log_records, 6);

    let m = metrics::v1::ExportMetricsServiceResponse {
        partial_success: Some(metrics::v1::ExportMetricsPartialSuccess {
            rejected_data_points: 7,
            error_message: "points".into(),
        }),
    };
    let theirs: official::collector::metrics::v1::ExportMetricsServiceResponse =
        check_round_trip(&m);
    let ps = theirs.partial_success.unwrap();
    assert_eq!(
        (ps.rejected_data_points, ps.error_message.as_str()),
        (7, "points")
    );
}
