//! The logs API end to end: `Exporter::logger` -> pipeline -> OTLP/HTTP -> the fake
//! collector, decoded with the official `opentelemetry-proto` types.
#![cfg(feature = "http")]

mod support;

use opentelemetry_proto::tonic::common::v1::{AnyValue as PAny, KeyValue as PKv, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord as PLog;
use opentelemetry_proto::tonic::resource::v1::Resource as PResource;
use otlp_sync::config::{Config, ConfigBuilder};
use otlp_sync::exporter::Exporter;
use otlp_sync::logs::Logger;
use otlp_sync::model::{AnyValue, LogRecord, Severity, SpanId, TraceId};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::collector::{Collector, Decoded};

const WAIT: Duration = Duration::from_secs(5);

fn exporter(c: &Collector) -> Exporter {
    let config = Config::builder()
        .endpoint(c.url(""))
        .service_name("logs-test")
        .resource_attributes([otlp_sync::model::KeyValue::new("host.name", "test-host")])
        .build()
        .unwrap();
    Exporter::new(config).unwrap()
}

/// Every (scope name, record) the collector decoded, plus the resources.
fn received(c: &Collector) -> (Vec<PResource>, Vec<(String, String, PLog)>) {
    let mut resources = Vec::new();
    let mut out = Vec::new();
    for r in c.requests() {
        assert_eq!(r.path, "/v1/logs");
        let Some(Decoded::Logs(req)) = r.decoded else {
            panic!("not decoded: {:?}", r.decode_error)
        };
        for rl in req.resource_logs {
            resources.push(rl.resource.unwrap_or_default());
            for sl in rl.scope_logs {
                let scope = sl.scope.unwrap_or_default();
                for rec in sl.log_records {
                    out.push((scope.name.clone(), scope.version.clone(), rec));
                }
            }
        }
    }
    (resources, out)
}

fn value(v: &Option<PAny>) -> Option<&any_value::Value> {
    v.as_ref().and_then(|a| a.value.as_ref())
}

fn attr<'a>(attrs: &'a [PKv], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| value(&kv.value))
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.to_owned())
}

fn now_nanos() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

#[test]
fn records_reach_the_collector_with_every_field() {
    let c = Collector::start();
    let e = exporter(&c);
    let before = now_nanos();
    let logger = e.logger("sensor");
    logger.info("pressure high");
    logger
        .record(Severity::WARN)
        .body("valve stuck")
        .attr("valve", 3)
        .attr("ratio", 0.5)
        .attr("open", false)
        .attr("name", "v-3")
        .event_name("valve.stuck")
        .emit();
    logger.error(AnyValue::Int(42));
    e.logger("other").debug("from another scope");
    e.flush(WAIT).unwrap();
    let after = now_nanos();

    let (resources, records) = received(&c);
    assert_eq!(records.len(), 4);
    let find = |body: any_value::Value| {
        records
            .iter()
            .find(|(_, _, r)| value(&r.body) == Some(&body))
            .unwrap_or_else(|| panic!("no record with body {body:?}"))
    };

    let (scope, version, info) = find(s("pressure high"));
    assert_eq!((scope.as_str(), version.as_str()), ("sensor", ""));
    assert_eq!(info.severity_number, 9);
    assert_eq!(info.severity_text, "INFO");
    assert!(info.observed_time_unix_nano >= before && info.observed_time_unix_nano <= after);
    assert_eq!(info.time_unix_nano, info.observed_time_unix_nano);
    assert!(info.trace_id.is_empty() && info.span_id.is_empty());
    assert!(info.attributes.is_empty());
    assert_eq!(info.event_name, "");

    let (scope, _, warn) = find(s("valve stuck"));
    assert_eq!(scope, "sensor");
    assert_eq!(warn.severity_number, 13);
    assert_eq!(warn.severity_text, "WARN");
    assert_eq!(warn.event_name, "valve.stuck");
    assert!(warn.observed_time_unix_nano >= before);
    assert_eq!(
        attr(&warn.attributes, "valve"),
        Some(&any_value::Value::IntValue(3))
    );
    assert_eq!(
        attr(&warn.attributes, "ratio"),
        Some(&any_value::Value::DoubleValue(0.5))
    );
    assert_eq!(
        attr(&warn.attributes, "open"),
        Some(&any_value::Value::BoolValue(false))
    );
    assert_eq!(attr(&warn.attributes, "name"), Some(&s("v-3")));
    let keys: Vec<&str> = warn.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        ["valve", "ratio", "open", "name"],
        "insertion order kept"
    );

    let (_, _, err) = find(any_value::Value::IntValue(42));
    assert_eq!(
        (err.severity_number, err.severity_text.as_str()),
        (17, "ERROR")
    );

    let (scope, _, dbg) = find(s("from another scope"));
    assert_eq!(scope, "other");
    assert_eq!(
        (dbg.severity_number, dbg.severity_text.as_str()),
        (5, "DEBUG")
    );

    // The resource: configured attributes win, SDK and detected ones are added.
    let r = &resources[0];
    assert_eq!(attr(&r.attributes, "service.name"), Some(&s("logs-test")));
    assert_eq!(attr(&r.attributes, "host.name"), Some(&s("test-host")));
    assert_eq!(
        attr(&r.attributes, "telemetry.sdk.name"),
        Some(&s("otlp-sync"))
    );
    assert_eq!(
        attr(&r.attributes, "telemetry.sdk.language"),
        Some(&s("rust"))
    );
    assert_eq!(
        attr(&r.attributes, "process.pid"),
        Some(&any_value::Value::IntValue(i64::from(std::process::id())))
    );
    assert_eq!(
        attr(&r.attributes, "service.instance.id"),
        Some(&s(otlp_sync::resource::service_instance_id()))
    );
    assert_eq!(
        r.attributes
            .iter()
            .filter(|kv| kv.key == "host.name")
            .count(),
        1
    );
    e.shutdown(WAIT).unwrap();
}

#[test]
fn emit_keeps_what_the_record_has_and_fills_the_rest() {
    let c = Collector::start();
    let e = exporter(&c);
    let logger = e.logger("raw");
    logger.emit(LogRecord {
        time_unix_nano: 1_000,
        severity_number: Severity(11),
        body: "given everything".into(),
        trace_id: TraceId::from_bytes([7; 16]),
        span_id: SpanId::from_bytes([8; 8]),
        flags: 1,
        ..LogRecord::default()
    });
    logger.emit(LogRecord {
        observed_time_unix_nano: 2_000,
        severity_number: Severity::INFO,
        severity_text: "notice".into(),
        body: "own text".into(),
        ..LogRecord::default()
    });
    let result = logger
        .record(Severity::FATAL)
        .body("explicit time")
        .time_unix_nano(3_000)
        .try_emit();
    assert!(result.is_ok());
    e.flush(WAIT).unwrap();

    let (_, records) = received(&c);
    assert_eq!(records.len(), 3);
    let find = |body: &str| {
        &records
            .iter()
            .find(|(_, _, r)| value(&r.body) == Some(&s(body)))
            .unwrap()
            .2
    };
    let a = find("given everything");
    assert_eq!(a.time_unix_nano, 1_000);
    assert!(a.observed_time_unix_nano > 1_000, "observed time filled");
    assert_eq!(a.severity_text, "INFO3");
    assert_eq!(a.trace_id, vec![7; 16]);
    assert_eq!(a.span_id, vec![8; 8]);
    assert_eq!(a.flags, 1);

    let b = find("own text");
    assert_eq!(b.observed_time_unix_nano, 2_000);
    assert_eq!(b.time_unix_nano, 0, "emit does not invent an event time");
    assert_eq!(b.severity_text, "notice");

    let f = find("explicit time");
    assert_eq!(f.time_unix_nano, 3_000);
    assert!(f.observed_time_unix_nano > 3_000);
    assert_eq!((f.severity_number, f.severity_text.as_str()), (21, "FATAL"));
    e.shutdown(WAIT).unwrap();
}

#[test]
fn loggers_are_shared_across_threads() {
    let c = Collector::start();
    let e = exporter(&c);
    let logger = e.logger("threads");
    std::thread::scope(|s| {
        for t in 0..4 {
            let l = logger.clone();
            s.spawn(move || {
                for i in 0..50 {
                    l.record(Severity::INFO)
                        .body("tick")
                        .attr("t", t)
                        .attr("i", i)
                        .emit();
                }
            });
        }
    });
    e.flush(WAIT).unwrap();
    assert_eq!(c.total_logs(), 200);
    assert_eq!(e.stats().logs.exported, 200);
    e.shutdown(WAIT).unwrap();
}

#[test]
fn after_shutdown_records_are_counted_dropped_and_handed_back() {
    let c = Collector::start();
    let e = exporter(&c);
    let logger = e.logger("late");
    e.shutdown(WAIT).unwrap();
    logger.info("dropped");
    let back = logger.try_emit(LogRecord {
        body: "handed back".into(),
        ..LogRecord::default()
    });
    let err = back.unwrap_err();
    assert!(err.is_shut_down());
    assert_eq!(err.into_inner().body, AnyValue::from("handed back"));
    let stats = e.stats();
    assert_eq!(stats.logs.offered, 2);
    assert_eq!(stats.logs.exported, 0);
    assert_eq!(c.total_logs(), 0);
}

#[test]
fn disabled_sdk_gives_a_noop_logger() {
    let config =
        ConfigBuilder::from_env_with(|k| (k == "OTEL_SDK_DISABLED").then(|| "true".into()))
            .build()
            .unwrap();
    let e = Exporter::new(config).unwrap();
    let logger: Logger = e.logger("off");
    assert!(!logger.is_enabled());
    logger.info("nothing");
    assert_eq!(e.stats().logs.offered, 0);
}

/// A record emitted while a span is entered carries that span's trace context; outside
/// any span it carries none.
#[test]
fn records_inside_an_entered_span_carry_its_context() {
    let c = Collector::start();
    let exporter = exporter(&c);
    let tracer = exporter.tracer("ctx");
    let logger = exporter.logger("ctx");
    let span = tracer.span("work").start();
    let ctx = span.span_context().clone();
    {
        let _guard = span.enter();
        logger.info("inside");
    }
    logger.info("outside");
    // The span is still open, so only log records are exported by this flush.
    exporter.flush(WAIT).unwrap();
    let (_, records) = received(&c);
    drop(span);
    let find = |body: &str| {
        records
            .iter()
            .map(|(_, _, r)| r)
            .find(|r| matches!(value(&r.body), Some(any_value::Value::StringValue(s)) if s == body))
            .cloned()
            .unwrap()
    };
    let inside = find("inside");
    assert_eq!(inside.trace_id, ctx.trace_id.to_bytes().to_vec());
    assert_eq!(inside.span_id, ctx.span_id.to_bytes().to_vec());
    assert_eq!(inside.flags & 0xff, u32::from(ctx.trace_flags));
    assert!(ctx.is_sampled());
    let outside = find("outside");
    assert!(outside.trace_id.is_empty() && outside.span_id.is_empty());
    assert_eq!(outside.flags, 0);
}

#[test]
fn builder_attribute_setters_compose_on_the_encoded_path() {
    // The default exporter encodes builder attributes as they are added: `attributes`
    // replaces what came before, `attrs` appends, in order.
    let c = Collector::start();
    let e = exporter(&c);
    let logger = e.logger("compose");
    let result = logger
        .record(Severity::INFO)
        .body("composed")
        .attr("x", 1)
        .attributes(vec![otlp_sync::model::KeyValue::new("y", 2)])
        .attrs([otlp_sync::model::KeyValue::new("z", true)])
        .attr("w", "last")
        .try_emit();
    assert!(result.is_ok());
    e.flush(WAIT).unwrap();
    let (_, records) = received(&c);
    assert_eq!(records.len(), 1);
    let keys: Vec<&str> = records[0]
        .2
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    assert_eq!(keys, ["y", "z", "w"]);
    assert_eq!(
        attr(&records[0].2.attributes, "y"),
        Some(&any_value::Value::IntValue(2))
    );
    assert_eq!(records[0].2.severity_text, "INFO");
    assert!(records[0].2.time_unix_nano > 0);
}

#[test]
fn nested_bodies_and_huge_records_decode_on_the_encoded_path() {
    // A map body (not flat: its lengths are computed first) and a record over 2 MiB (its
    // header does not fit the room kept in front of the builder's buffer).
    let c = Collector::start();
    let e = exporter(&c);
    let logger = e.logger("big");
    let huge = "h".repeat(2 * 1024 * 1024 + 10);
    let map = otlp_sync::model::AnyValue::KvList(vec![otlp_sync::model::KeyValue::new(
        "inner",
        vec![otlp_sync::model::AnyValue::from(1), "two".into()],
    )]);
    let first = logger
        .record(Severity::WARN)
        .body(map)
        .attr("k", "v")
        .try_emit();
    let second = logger
        .record(Severity::INFO)
        .body("huge")
        .attr("big", huge.clone())
        .try_emit();
    assert!(first.is_ok() && second.is_ok());
    e.flush(WAIT).unwrap();
    let (_, records) = received(&c);
    assert_eq!(records.len(), 2);
    let nested = records
        .iter()
        .find(|r| r.2.severity_text == "WARN")
        .expect("the map-body record");
    let Some(any_value::Value::KvlistValue(list)) =
        nested.2.body.as_ref().and_then(|b| b.value.clone())
    else {
        panic!("body is not a map: {:?}", nested.2.body);
    };
    assert_eq!(list.values[0].key, "inner");
    assert_eq!(
        attr(&nested.2.attributes, "k"),
        Some(&any_value::Value::StringValue("v".into()))
    );
    let big = records
        .iter()
        .find(|r| r.2.severity_text == "INFO")
        .expect("the huge record");
    assert_eq!(
        attr(&big.2.attributes, "big"),
        Some(&any_value::Value::StringValue(huge))
    );
}
