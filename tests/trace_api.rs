//! The tracing API end to end: spans made with `Tracer` go through the exporter to the
//! fake collector and are decoded there by the official `opentelemetry-proto` types.
//! Every wait is bounded.

mod support;

use opentelemetry_proto::tonic::common::v1::KeyValue as PKeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span as PSpan;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as PKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as PCode;
use otlp_sync::config::Config;
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{InstrumentationScope, KeyValue, SpanId, SpanKind, StatusCode, TraceId};
use otlp_sync::propagation::{self, extract, inject};
use otlp_sync::trace::{
    ParentBased, Sampler, SamplingDecision, SamplingParams, ShouldSample, SpanContext, SpanLimits,
    TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, TraceSettings, TraceState, Tracer, current_span_context,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::collector::{Collector, Decoded};

const FLUSH: Duration = Duration::from_secs(10);
const HAS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

fn exporter(collector: &Collector) -> Exporter {
    let config = Config::builder()
        .endpoint(collector.url(""))
        .build()
        .expect("config");
    Exporter::new(config).expect("exporter")
}

fn tracer_with(exporter: &Exporter, settings: TraceSettings) -> Tracer {
    Tracer::new(
        exporter.sender(),
        Arc::new(InstrumentationScope::new("test-scope")),
        settings,
    )
}

fn always_on() -> TraceSettings {
    TraceSettings {
        sampler: Sampler::AlwaysOn,
        ..TraceSettings::default()
    }
}

/// Flushes, then returns every span the collector decoded, with its scope name.
fn exported(exporter: &Exporter, collector: &Collector) -> Vec<(String, PSpan)> {
    exporter.flush(FLUSH).expect("flush");
    let mut out = Vec::new();
    for request in collector.requests() {
        if let Some(Decoded::Traces(req)) = request.decoded {
            for rs in req.resource_spans {
                for ss in rs.scope_spans {
                    let scope = ss.scope.map(|s| s.name).unwrap_or_default();
                    out.extend(ss.spans.into_iter().map(|s| (scope.clone(), s)));
                }
            }
        }
    }
    out
}

fn spans(exporter: &Exporter, collector: &Collector) -> Vec<PSpan> {
    exported(exporter, collector)
        .into_iter()
        .map(|(_, s)| s)
        .collect()
}

fn find<'a>(spans: &'a [PSpan], name: &str) -> &'a PSpan {
    let found: Vec<&PSpan> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "exactly one span named {name}");
    found[0]
}

fn attr<'a>(kvs: &'a [PKeyValue], key: &str) -> Option<&'a Value> {
    let found: Vec<&PKeyValue> = kvs.iter().filter(|kv| kv.key == key).collect();
    assert!(found.len() <= 1, "duplicate key {key}");
    found.first()?.value.as_ref()?.value.as_ref()
}

fn text(v: &str) -> Option<Value> {
    Some(Value::StringValue(v.to_string()))
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn remote_context(sampled: bool, trace_state: &str) -> SpanContext {
    let flags = if sampled { "01" } else { "00" };
    let mut headers: HashMap<String, String> = HashMap::new();
    headers.insert(
        "traceparent".into(),
        format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}"),
    );
    if !trace_state.is_empty() {
        headers.insert("tracestate".into(), trace_state.into());
    }
    extract(&headers).expect("valid headers")
}

#[test]
fn parent_child_events_status_and_flags() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = exporter.tracer("test-scope");
    let before = now_nanos();

    let mut root = tracer
        .span("root")
        .kind(SpanKind::Server)
        .attr("http.route", "/level")
        .attr("attempt", 2)
        .start();
    assert!(root.is_recording());
    let root_ctx = root.span_context().clone();
    assert!(root_ctx.is_valid() && root_ctx.is_sampled() && !root_ctx.is_remote);
    {
        let _current = root.enter();
        let mut child = tracer.span("child").kind(SpanKind::Client).start();
        assert_eq!(child.span_context().trace_id, root_ctx.trace_id);
        assert_ne!(child.span_context().span_id, root_ctx.span_id);
        child.add_event(
            "retry",
            [KeyValue::new("delay_ms", 40), KeyValue::new("why", "busy")],
        );
        child.set_attribute("ratio", 0.5);
        child.set_status(StatusCode::Error, "boom");
        child.update_name("child-renamed");
    }
    root.set_status(StatusCode::Ok, "ignored with Ok");
    root.end();

    let all = exported(&exporter, &collector);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|(scope, _)| scope == "test-scope"));
    let spans: Vec<PSpan> = all.into_iter().map(|(_, s)| s).collect();
    let r = find(&spans, "root");
    let c = find(&spans, "child-renamed");

    assert_eq!(r.trace_id, root_ctx.trace_id.to_bytes());
    assert_eq!(r.span_id, root_ctx.span_id.to_bytes());
    assert!(r.parent_span_id.is_empty(), "root has no parent");
    assert_eq!(c.trace_id, r.trace_id);
    assert_eq!(c.parent_span_id, r.span_id);
    // Sampled + random (built-in ids), parent remoteness known and local.
    let local = u32::from(TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM) | HAS_REMOTE;
    assert_eq!(r.flags, local);
    assert_eq!(c.flags, local);
    assert!(r.trace_state.is_empty());

    assert_eq!(r.kind, PKind::Server as i32);
    assert_eq!(c.kind, PKind::Client as i32);
    assert_eq!(attr(&r.attributes, "http.route").cloned(), text("/level"));
    assert_eq!(
        attr(&r.attributes, "attempt").cloned(),
        Some(Value::IntValue(2))
    );
    assert_eq!(
        attr(&c.attributes, "ratio").cloned(),
        Some(Value::DoubleValue(0.5))
    );

    let status = r.status.clone().unwrap_or_default();
    assert_eq!(status.code, PCode::Ok as i32);
    assert_eq!(status.message, "", "a description is kept only with Error");
    let status = c.status.clone().unwrap_or_default();
    assert_eq!(
        (status.code, status.message.as_str()),
        (PCode::Error as i32, "boom")
    );

    assert_eq!(c.events.len(), 1);
    let e = &c.events[0];
    assert_eq!(e.name, "retry");
    assert_eq!(
        attr(&e.attributes, "delay_ms").cloned(),
        Some(Value::IntValue(40))
    );
    assert_eq!(attr(&e.attributes, "why").cloned(), text("busy"));

    let after = now_nanos();
    for span in [r, c] {
        assert!(before <= span.start_time_unix_nano);
        assert!(span.start_time_unix_nano <= span.end_time_unix_nano);
        assert!(span.end_time_unix_nano <= after);
    }
    assert!(c.start_time_unix_nano <= e.time_unix_nano && e.time_unix_nano <= c.end_time_unix_nano);
    // The child ended (at the end of its block) before the root did.
    assert!(c.end_time_unix_nano <= r.end_time_unix_nano);
}

#[test]
fn remote_parent_links_and_trace_state() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let remote = remote_context(true, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
    let local = tracer.span("local").start();
    let local_ctx = local.span_context().clone();

    let mut span = tracer
        .span("server")
        .parent(&remote)
        .link(&local_ctx, [KeyValue::new("kind", "local")])
        .start();
    span.add_link(&remote, [KeyValue::new("kind", "remote")]);
    // An invalid context without attributes or state is not a link.
    span.add_link(&SpanContext::INVALID, []);
    assert_eq!(span.span_context().trace_id, remote.trace_id);
    assert_eq!(
        span.span_context().trace_state.as_str(),
        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
    );
    span.end();
    local.end();

    let spans = spans(&exporter, &collector);
    let s = find(&spans, "server");
    assert_eq!(s.trace_id, remote.trace_id.to_bytes());
    assert_eq!(s.parent_span_id, remote.span_id.to_bytes());
    assert_eq!(
        s.flags,
        u32::from(TRACE_FLAG_SAMPLED) | HAS_REMOTE | IS_REMOTE
    );
    assert_eq!(s.trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    assert_eq!(s.links.len(), 2);
    let (l0, l1) = (&s.links[0], &s.links[1]);
    assert_eq!(l0.span_id, local_ctx.span_id.to_bytes());
    assert_eq!(l0.trace_id, local_ctx.trace_id.to_bytes());
    assert_eq!(l0.flags, u32::from(local_ctx.trace_flags) | HAS_REMOTE);
    assert_eq!(attr(&l0.attributes, "kind").cloned(), text("local"));
    assert_eq!(l1.span_id, remote.span_id.to_bytes());
    assert_eq!(l1.flags, 0x01 | HAS_REMOTE | IS_REMOTE);
    assert_eq!(l1.trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    assert_eq!(attr(&l1.attributes, "kind").cloned(), text("remote"));
}

#[test]
fn limits_drop_and_count() {
    // Spans encoded as they are recorded (the default, EncodeOnSend::Backlog)...
    let collector = Collector::start();
    limits_drop_and_count_with(&exporter(&collector), &collector);
    // ... and spans handed over as model values.
    let collector = Collector::start();
    let config = Config::builder()
        .endpoint(collector.url(""))
        .encode_on_send(otlp_sync::pipeline::EncodeOnSend::Never)
        .build()
        .expect("config");
    limits_drop_and_count_with(&Exporter::new(config).expect("exporter"), &collector);
}

fn limits_drop_and_count_with(exporter: &Exporter, collector: &Collector) {
    let limits = SpanLimits {
        attribute_count: 3,
        attribute_value_length: Some(4),
        event_count: 2,
        link_count: 1,
        attributes_per_event: 1,
        attributes_per_link: 1,
    };
    let tracer = tracer_with(
        exporter,
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            limits,
            id_generator: None,
        },
    );
    let other = tracer.span("other").start();
    let other_ctx = other.span_context().clone();
    let mut span = tracer
        .span("limited")
        .attr("a", "héllo wörld")
        .attr("b", 1)
        .attr("a", "second")
        .attr("c", vec![1u8, 2, 3, 4, 5])
        .attr("d", 4) // over the count: dropped
        .link(&other_ctx, [KeyValue::new("x", 1), KeyValue::new("y", 2)])
        .link(&other_ctx, [])
        .start();
    span.set_attribute("b", 10); // replaces: not dropped
    span.set_attribute("e", 5); // dropped
    span.add_event(
        "one",
        [KeyValue::new("k", "long value"), KeyValue::new("j", 1)],
    );
    span.add_event("two", []);
    span.add_event("three", []);
    span.add_link(&other_ctx, []);
    span.end();
    other.end();

    let spans = spans(exporter, collector);
    let s = find(&spans, "limited");
    assert_eq!(s.attributes.len(), 3);
    assert_eq!(s.attributes[0].key, "a");
    assert_eq!(attr(&s.attributes, "a").cloned(), text("seco"));
    assert_eq!(attr(&s.attributes, "b").cloned(), Some(Value::IntValue(10)));
    assert_eq!(
        attr(&s.attributes, "c").cloned(),
        Some(Value::BytesValue(vec![1, 2, 3, 4]))
    );
    assert_eq!(s.dropped_attributes_count, 2);
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.dropped_events_count, 1);
    assert_eq!(s.events[0].attributes.len(), 1);
    assert_eq!(attr(&s.events[0].attributes, "k").cloned(), text("long"));
    assert_eq!(s.events[0].dropped_attributes_count, 1);
    assert_eq!(s.links.len(), 1);
    assert_eq!(s.dropped_links_count, 2);
    assert_eq!(s.links[0].attributes.len(), 1);
    assert_eq!(s.links[0].dropped_attributes_count, 1);
}

/// A span of 2 MiB or more: its header no longer fits the room kept in front of its
/// fields, which then move to make room; it still decodes whole.
#[test]
fn a_span_over_two_mebibytes_decodes_whole() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let huge = "s".repeat(2 * 1024 * 1024 + 10);
    tracer.span("huge").attr("big", huge.clone()).start().end();
    tracer.span("after").attr("k", 1).start().end();
    let spans = spans(&exporter, &collector);
    let s = find(&spans, "huge");
    assert_eq!(attr(&s.attributes, "big").cloned(), text(&huge));
    assert_eq!(
        attr(&find(&spans, "after").attributes, "k").cloned(),
        Some(Value::IntValue(1))
    );
}

/// The state a span builds up (attributes, key masks and tags, events, drop counts) is
/// kept in per-thread pooled buffers between spans: a span made after a crowded, limited
/// one on the same thread carries none of it.
#[test]
fn a_span_after_a_limited_one_starts_clean() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let limits = SpanLimits {
        attribute_count: 40,
        attributes_per_event: 1,
        ..SpanLimits::default()
    };
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            limits,
            id_generator: None,
        },
    );
    for round in 0..3 {
        // 50 keys (past the 32 tagged ones, and over the count limit), a duplicate,
        // and an event over its attribute limit.
        let mut b = tracer.span(format!("crowded-{round}"));
        for i in 0..50 {
            b = b.attr(format!("key.{i:02}"), i);
        }
        let mut crowded = b.attr("key.07", "again").start();
        crowded.add_event("e", [KeyValue::new("x", 1), KeyValue::new("y", 2)]);
        crowded.end();
        let mut plain = tracer
            .span(format!("plain-{round}"))
            .attr("key.07", 7)
            .start();
        plain.add_event("f", []);
        plain.end();
    }
    let spans = spans(&exporter, &collector);
    for round in 0..3 {
        let c = find(&spans, &format!("crowded-{round}"));
        assert_eq!(c.attributes.len(), 40);
        assert_eq!(c.dropped_attributes_count, 10);
        assert_eq!(attr(&c.attributes, "key.07").cloned(), text("again"));
        assert_eq!(c.events[0].dropped_attributes_count, 1);
        let p = find(&spans, &format!("plain-{round}"));
        assert_eq!(p.attributes.len(), 1, "round {round}");
        assert_eq!(
            attr(&p.attributes, "key.07").cloned(),
            Some(Value::IntValue(7))
        );
        assert_eq!(p.dropped_attributes_count, 0, "round {round}");
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].name, "f");
        assert_eq!(p.events[0].dropped_attributes_count, 0);
        assert_eq!(p.dropped_events_count, 0);
    }
}

#[test]
fn characters_not_bytes_are_counted_when_truncating() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            limits: SpanLimits {
                attribute_value_length: Some(3),
                ..SpanLimits::default()
            },
            id_generator: None,
        },
    );
    let mut span = tracer.span("utf8").start();
    span.set_attribute("jp", String::from("日本語テキスト"));
    span.set_attribute("mixed", "aé😀b");
    span.end();
    let spans = spans(&exporter, &collector);
    let s = find(&spans, "utf8");
    assert_eq!(attr(&s.attributes, "jp").cloned(), text("日本語"));
    assert_eq!(attr(&s.attributes, "mixed").cloned(), text("aé😀"));
}

#[test]
fn attribute_keys_stay_unique() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let mut span = tracer
        .span("dup")
        .attr("k", 1)
        .attrs([KeyValue::new("k", 2), KeyValue::new("other", true)])
        .start();
    span.set_attribute("k", "three");
    span.set_attributes([KeyValue::new("other", false)]);
    span.end();
    let spans = spans(&exporter, &collector);
    let s = find(&spans, "dup");
    assert_eq!(s.attributes.len(), 2);
    assert_eq!(attr(&s.attributes, "k").cloned(), text("three"));
    assert_eq!(
        attr(&s.attributes, "other").cloned(),
        Some(Value::BoolValue(false))
    );
    assert_eq!(s.dropped_attributes_count, 0);
}

#[test]
fn always_off_sends_nothing_but_propagates() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::AlwaysOff,
            ..TraceSettings::default()
        },
    );
    let mut ids = Vec::new();
    for i in 0..20 {
        let mut span = tracer.span("off").attr("i", i).start();
        assert!(!span.is_recording());
        span.set_attribute("ignored", true);
        let ctx = span.span_context().clone();
        assert!(ctx.is_valid());
        assert!(!ctx.is_sampled());
        let child = {
            let _g = span.enter();
            tracer.span("child").start()
        };
        assert_eq!(child.span_context().trace_id, ctx.trace_id);
        ids.push(ctx.span_id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "unsampled spans still get their own ids");
    assert!(spans(&exporter, &collector).is_empty());
    assert_eq!(exporter.stats().traces.offered, 0);
}

#[test]
fn ratio_half_samples_about_half() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::trace_id_ratio_based(0.5),
            ..TraceSettings::default()
        },
    );
    const N: usize = 4000;
    let mut sampled = 0;
    for _ in 0..N {
        let span = tracer.span("coin").start();
        let ctx = span.span_context().clone();
        let low = u64::from_be_bytes(ctx.trace_id.to_bytes()[8..].try_into().unwrap());
        assert_eq!(ctx.is_sampled(), low < 1 << 63, "decided by the trace id");
        assert_eq!(span.is_recording(), ctx.is_sampled());
        sampled += usize::from(ctx.is_sampled());
    }
    // Binomial(4000, 0.5): sd ~ 32; 0.45..0.55 is over 6 sd.
    assert!((1800..=2200).contains(&sampled), "{sampled} of {N}");
    let spans = spans(&exporter, &collector);
    assert_eq!(spans.len(), sampled);
    assert_eq!(exporter.stats().traces.exported as usize, sampled);
}

#[test]
fn parent_based_follows_the_parent() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    // Root spans are never sampled, so anything exported followed its parent.
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::parent_based(Sampler::AlwaysOff),
            ..TraceSettings::default()
        },
    );
    let root = tracer.span("root").start();
    assert!(!root.is_recording());

    let from_sampled = tracer
        .span("remote-sampled")
        .parent(&remote_context(true, ""))
        .start();
    assert!(from_sampled.span_context().is_sampled());
    let from_unsampled = tracer
        .span("remote-unsampled")
        .parent(&remote_context(false, ""))
        .start();
    assert!(!from_unsampled.is_recording());

    let local_sampled_child = {
        let _g = from_sampled.enter();
        tracer.span("local-sampled-child").start()
    };
    assert!(local_sampled_child.is_recording());
    let local_unsampled_child = {
        let _g = from_unsampled.enter();
        tracer.span("local-unsampled-child").start()
    };
    assert!(!local_unsampled_child.is_recording());
    assert_eq!(
        local_unsampled_child.span_context().trace_id,
        from_unsampled.span_context().trace_id
    );
    let sampled_parent_id = from_sampled.span_context().span_id;
    drop((root, from_sampled, from_unsampled));
    drop((local_sampled_child, local_unsampled_child));

    let spans = spans(&exporter, &collector);
    let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["local-sampled-child", "remote-sampled"]);
    let child = find(&spans, "local-sampled-child");
    assert_eq!(child.parent_span_id, sampled_parent_id.to_bytes());
    assert_eq!(child.flags & IS_REMOTE, 0, "its parent is local");
    assert_eq!(find(&spans, "remote-sampled").flags & IS_REMOTE, IS_REMOTE);
}

#[test]
fn parent_based_delegates_can_be_replaced() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::ParentBased(Box::new(ParentBased {
                remote_parent_not_sampled: Sampler::AlwaysOn,
                ..ParentBased::new(Sampler::AlwaysOn)
            })),
            ..TraceSettings::default()
        },
    );
    tracer
        .span("forced")
        .parent(&remote_context(false, ""))
        .start()
        .end();
    assert_eq!(spans(&exporter, &collector).len(), 1);
}

#[derive(Debug)]
struct RecordOnlyForName(&'static str);

impl ShouldSample for RecordOnlyForName {
    fn should_sample(&self, params: &SamplingParams<'_>) -> SamplingDecision {
        if params.name == self.0 {
            SamplingDecision::RecordOnly
        } else {
            SamplingDecision::RecordAndSample
        }
    }
    fn description(&self) -> String {
        format!("RecordOnlyForName{{{}}}", self.0)
    }
}

#[test]
fn record_only_records_but_is_not_exported() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::Custom(Arc::new(RecordOnlyForName("quiet"))),
            ..TraceSettings::default()
        },
    );
    let quiet = tracer.span("quiet").start();
    assert!(quiet.is_recording());
    assert!(!quiet.span_context().is_sampled());
    quiet.end();
    tracer.span("loud").start().end();
    let spans = spans(&exporter, &collector);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "loud");
}

#[test]
fn nested_enter_restores_context() {
    let tracer = Tracer::noop();
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let real = tracer_with(&exporter, always_on());
    assert_eq!(current_span_context(), None);
    let a = real.span("a").start();
    let b = real.span("b").root().start();
    let c = real.span("c").root().start();
    {
        let _ga = a.enter();
        assert_eq!(current_span_context().as_ref(), Some(a.span_context()));
        {
            let _gb = b.enter();
            assert_eq!(current_span_context().as_ref(), Some(b.span_context()));
            {
                let _gc = c.enter();
                assert_eq!(current_span_context().as_ref(), Some(c.span_context()));
            }
            assert_eq!(current_span_context().as_ref(), Some(b.span_context()));
            // root() ignores the current span; parent() overrides it.
            let r = real.span("r").root().start();
            assert_ne!(r.span_context().trace_id, b.span_context().trace_id);
            let p = real.span("p").parent(a.span_context()).start();
            assert_eq!(p.span_context().trace_id, a.span_context().trace_id);
        }
        assert_eq!(current_span_context().as_ref(), Some(a.span_context()));
        // in_span makes its span current inside and restores after.
        let inner_ctx = real.in_span("inner", |span| {
            let ctx = span.span_context().clone();
            assert_eq!(current_span_context(), Some(ctx.clone()));
            assert_eq!(ctx.trace_id, a.span_context().trace_id);
            real.in_span("innermost", |deep| {
                assert_eq!(deep.span_context().trace_id, ctx.trace_id);
            });
            assert_eq!(current_span_context(), Some(ctx.clone()));
            ctx
        });
        assert_ne!(&inner_ctx, a.span_context());
        assert_eq!(current_span_context().as_ref(), Some(a.span_context()));
        // A no-op tracer's span keeps the current context as its own.
        let noop = tracer.span("noop").start();
        assert_eq!(noop.span_context(), a.span_context());
    }
    assert_eq!(current_span_context(), None);
    let a_id = a.span_context().span_id;
    drop((a, b, c));
    let spans = spans(&exporter, &collector);
    assert_eq!(find(&spans, "inner").parent_span_id, a_id.to_bytes());
    assert_eq!(
        find(&spans, "innermost").parent_span_id,
        find(&spans, "inner").span_id
    );
}

#[test]
fn spans_cross_threads() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let started_here = tracer.span("moved").start();
    let parent_ctx = started_here.span_context().clone();
    let t = tracer.clone();
    let handle = std::thread::spawn(move || {
        // The thread does not see the spawner's current span...
        assert_eq!(current_span_context(), None);
        // ...but takes an explicit parent, and ends the span it was given.
        let mut moved = started_here;
        moved.set_attribute("ended_on", "worker");
        moved.end();
        t.span("worker-child").parent(&parent_ctx).start().end();
    });
    handle.join().expect("worker thread");
    let spans = spans(&exporter, &collector);
    let moved = find(&spans, "moved");
    assert_eq!(attr(&moved.attributes, "ended_on").cloned(), text("worker"));
    assert_eq!(find(&spans, "worker-child").parent_span_id, moved.span_id);
}

#[test]
fn span_ends_exactly_once() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let end = start + Duration::from_millis(250);
    let span = tracer.span("once").start_time(start).start();
    span.end_at(end); // consumes the guard; its drop must not send it again
    {
        let _dropped = tracer.span("dropped").start();
    }
    let spans = spans(&exporter, &collector);
    assert_eq!(spans.len(), 2);
    let once = find(&spans, "once");
    assert_eq!(once.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(once.end_time_unix_nano, 1_700_000_000_250_000_000);
    find(&spans, "dropped");
    assert_eq!(exporter.stats().traces.offered, 2);
}

#[test]
fn status_rules() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let mut a = tracer.span("error-then-ok").start();
    a.set_status(StatusCode::Error, "first");
    a.set_status(StatusCode::Unset, "ignored");
    a.set_status(StatusCode::Ok, "");
    a.set_status(StatusCode::Error, "ignored after ok");
    a.end();
    let mut b = tracer.span("error-twice").start();
    b.set_status(StatusCode::Error, "first");
    b.set_status(StatusCode::Error, "second");
    b.end();
    let spans = spans(&exporter, &collector);
    let a = find(&spans, "error-then-ok")
        .status
        .clone()
        .unwrap_or_default();
    assert_eq!((a.code, a.message.as_str()), (PCode::Ok as i32, ""));
    let b = find(&spans, "error-twice")
        .status
        .clone()
        .unwrap_or_default();
    assert_eq!(
        (b.code, b.message.as_str()),
        (PCode::Error as i32, "second")
    );
}

#[test]
fn disabled_exporter_gives_noop_tracers() {
    let config = Config::builder().sdk_disabled(true).build().unwrap();
    let exporter = Exporter::new(config).unwrap();
    let tracer = exporter.tracer("off");
    assert!(!tracer.is_enabled());
    let span = tracer.span("nothing").attr("k", 1).start();
    assert!(!span.is_recording());
    assert!(!span.span_context().is_valid(), "no parent, no ids");
    let remote = remote_context(true, "a=1");
    let child = tracer.span("child").parent(&remote).start();
    assert_eq!(
        child.span_context(),
        &remote,
        "carries the parent's context"
    );
    assert_eq!(exporter.stats().traces.offered, 0);
}

#[test]
fn propagation_round_trip_through_spans() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    // Service A: a client span; its context goes into the outgoing headers.
    let remote = remote_context(true, "congo=t61rcWkgMzE");
    let client = tracer
        .span("client")
        .kind(SpanKind::Client)
        .parent(&remote)
        .start();
    let mut headers: Vec<(String, String)> = Vec::new();
    {
        let _g = client.enter();
        propagation::inject_current(&mut headers);
    }
    inject(client.span_context(), &mut headers); // same again: replaced, not repeated
    assert_eq!(headers.len(), 2);
    // Service B: extracts it and makes a server span under it.
    let incoming = extract(&headers).expect("extracted");
    assert!(incoming.is_remote);
    assert_eq!(incoming.trace_id, client.span_context().trace_id);
    assert_eq!(incoming.span_id, client.span_context().span_id);
    assert_eq!(incoming.trace_state.as_str(), "congo=t61rcWkgMzE");
    let server = {
        let _g = incoming.enter();
        tracer.span("server").kind(SpanKind::Server).start()
    };
    let client_id = client.span_context().span_id;
    drop((client, server));
    let spans = spans(&exporter, &collector);
    let server = find(&spans, "server");
    assert_eq!(server.parent_span_id, client_id.to_bytes());
    assert_eq!(server.flags & IS_REMOTE, IS_REMOTE);
    assert_eq!(server.trace_state, "congo=t61rcWkgMzE");
}

#[test]
fn custom_id_generator_is_used() {
    #[derive(Debug)]
    struct Fixed;
    impl otlp_sync::trace::IdGenerator for Fixed {
        fn new_trace_id(&self) -> TraceId {
            TraceId::from_bytes([7; 16])
        }
        fn new_span_id(&self) -> SpanId {
            SpanId::from_bytes([9; 8])
        }
    }
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::AlwaysOn,
            id_generator: Some(Arc::new(Fixed)),
            ..TraceSettings::default()
        },
    );
    let span = tracer.span("fixed").start();
    assert_eq!(span.span_context().trace_id, TraceId::from_bytes([7; 16]));
    assert_eq!(span.span_context().span_id, SpanId::from_bytes([9; 8]));
    assert_eq!(
        span.span_context().trace_flags,
        TRACE_FLAG_SAMPLED,
        "no random flag for ids not known to be random"
    );
    span.end();
    let spans = spans(&exporter, &collector);
    assert_eq!(find(&spans, "fixed").flags, 0x01 | HAS_REMOTE);
}

#[test]
fn trace_state_type_is_exported_as_text() {
    let ts = TraceState::parse("a=1").unwrap().insert("b", "2").unwrap();
    let ctx = SpanContext::new(
        TraceId::from_bytes([1; 16]),
        SpanId::from_bytes([2; 8]),
        TRACE_FLAG_SAMPLED,
        false,
        ts,
    );
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    tracer.span("with-state").parent(&ctx).start().end();
    let spans = spans(&exporter, &collector);
    assert_eq!(find(&spans, "with-state").trace_state, "b=2,a=1");
}

/// A transport that holds each export until the test lets it go (bounded: 10 s).
struct Gate {
    release: std::sync::mpsc::Receiver<()>,
    entered: std::sync::mpsc::Sender<()>,
}

impl otlp_sync::transport::Transport for Gate {
    fn send(
        &mut self,
        _: &otlp_sync::transport::Request<'_>,
    ) -> Result<otlp_sync::transport::Response, otlp_sync::transport::TransportError> {
        let _ = self.entered.send(());
        let _ = self.release.recv_timeout(Duration::from_secs(10));
        Ok(otlp_sync::transport::Response {
            status: 200,
            ..Default::default()
        })
    }
}

#[test]
fn a_span_begun_on_a_full_queue_is_not_built_but_counted() {
    use otlp_sync::model::Resource;
    use otlp_sync::pipeline::{Pipeline, PipelineConfig};
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let mut config = PipelineConfig::default();
    config.traces.queue_capacity = 1;
    config.traces.max_batch_records = 1;
    let pipeline = Pipeline::start(
        config,
        Resource::default(),
        Box::new(Gate {
            release: release_rx,
            entered: entered_tx,
        }),
    )
    .expect("start");
    let tracer = Tracer::new(
        Some(pipeline.sender()),
        Arc::new(InstrumentationScope::new("shed")),
        always_on(),
    );
    // The first span is taken by the worker, which then waits in the transport.
    tracer.span("first").start().end();
    entered_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("export began");
    // The second fills the queue (capacity 1).
    let second = tracer.span("second").attr("k", 1).start();
    assert!(second.is_recording());
    second.end();
    assert_eq!(pipeline.stats().traces.offered, 2);
    // The third finds the queue full: a valid, sampled context, nothing recorded, and
    // counted at once as offered and dropped by a full queue.
    let mut third = tracer.span("third").attr("k", 2).start();
    assert!(!third.is_recording());
    assert!(third.span_context().is_valid());
    assert!(third.span_context().is_sampled());
    third.set_attribute("ignored", true);
    third.end();
    let stats = pipeline.stats();
    assert_eq!(stats.traces.offered, 3);
    assert_eq!(stats.traces.dropped.queue_full, 1);
    assert_eq!(stats.traces.dropped.total(), 1);
    // Release both exports; everything else is delivered.
    for _ in 0..2 {
        let _ = release_tx.send(());
    }
    let _ = pipeline.flush(FLUSH);
    let stats = pipeline.stats();
    assert_eq!(stats.traces.exported, 2);
    assert_eq!(
        stats.traces.offered,
        stats.traces.exported + stats.traces.dropped.total()
    );
    drop(release_tx);
    pipeline.shutdown(FLUSH).expect("shutdown");
}

/// Samples only spans whose builder set `keep = true`: it must be shown the attributes.
#[derive(Debug)]
struct KeepAttribute;

impl ShouldSample for KeepAttribute {
    fn should_sample(&self, params: &SamplingParams<'_>) -> SamplingDecision {
        let keep = params
            .attributes
            .iter()
            .any(|kv| kv.key.as_ref() == "keep" && kv.value == true.into());
        if keep {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        }
    }
    fn description(&self) -> String {
        "KeepAttribute".to_owned()
    }
}

#[test]
fn a_custom_sampler_sees_the_builder_attributes() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(
        &exporter,
        TraceSettings {
            sampler: Sampler::Custom(Arc::new(KeepAttribute)),
            ..TraceSettings::default()
        },
    );
    tracer
        .span("kept")
        .attr("keep", true)
        .attr("n", 1)
        .start()
        .end();
    tracer.span("dropped").attr("keep", false).start().end();
    let spans = spans(&exporter, &collector);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "kept");
    assert_eq!(
        attr(&spans[0].attributes, "n").cloned(),
        Some(Value::IntValue(1))
    );
    assert_eq!(spans[0].attributes.len(), 2);
}

/// Events and spans whose lengths take more than one byte (an event over 127 bytes) or
/// more than the room kept for the span's header (a span over 2 MiB) decode intact.
#[test]
fn long_events_and_huge_spans_decode() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let long = "x".repeat(300);
    let huge = "y".repeat(2 * 1024 * 1024 + 10);
    let mut span = tracer
        .span("long")
        .attr("a", 1)
        .attr("big", huge.clone())
        .start();
    span.add_event(
        "e",
        [
            KeyValue::new("k", long.clone()),
            KeyValue::new("j", 2),
            KeyValue::new("k", "again"),
        ],
    );
    span.add_event("short", [KeyValue::new("m", 3)]);
    span.end();
    let spans = spans(&exporter, &collector);
    let s = find(&spans, "long");
    assert_eq!(attr(&s.attributes, "big").cloned(), text(&huge));
    assert_eq!(attr(&s.attributes, "a").cloned(), Some(Value::IntValue(1)));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[0].name, "e");
    // The later "k" replaced the earlier value, in the earlier position.
    assert_eq!(s.events[0].attributes.len(), 2);
    assert_eq!(s.events[0].attributes[0].key, "k");
    assert_eq!(attr(&s.events[0].attributes, "k").cloned(), text("again"));
    assert_eq!(s.events[1].name, "short");
    assert_eq!(
        attr(&s.events[1].attributes, "m").cloned(),
        Some(Value::IntValue(3))
    );
}

/// Many attributes (past the 32 keys whose hash tags a span keeps, and sharing mask
/// bits): later duplicates still replace the earlier value in place, and distinct keys
/// are all kept.
#[test]
fn duplicates_among_many_attributes_are_replaced() {
    let collector = Collector::start();
    let exporter = exporter(&collector);
    let tracer = tracer_with(&exporter, always_on());
    let keys: Vec<String> = (0..40)
        .map(|i| format!("app.request.attr_{i:02}"))
        .collect();
    let mut builder = tracer.span("many");
    for (i, k) in keys.iter().enumerate() {
        builder = builder.attr(k.clone(), i as i64);
    }
    // Duplicates before and past the tagged keys, given again on the builder and later.
    builder = builder
        .attr(keys[5].clone(), 500)
        .attr(keys[35].clone(), 3500);
    let mut span = builder.start();
    span.set_attribute(keys[20].clone(), 2000);
    span.set_attribute("app.request.new", 1);
    span.end();
    let spans = spans(&exporter, &collector);
    let s = find(&spans, "many");
    assert_eq!(s.attributes.len(), 41);
    assert_eq!(s.dropped_attributes_count, 0);
    for (i, k) in keys.iter().enumerate() {
        let want = match i {
            5 => 500,
            20 => 2000,
            35 => 3500,
            _ => i as i64,
        };
        assert_eq!(s.attributes[i].key, *k, "position {i}");
        assert_eq!(
            attr(&s.attributes, k).cloned(),
            Some(Value::IntValue(want)),
            "{k}"
        );
    }
}

/// A span keeps its state in a box from a per-thread pool that the next span on the
/// thread reuses: nothing of a busy span (remote parent and trace state, status, links,
/// events over the limit, a new name, an explicit end time) may show in the plain span
/// started after it, for a tracer that encodes attributes in the builder (`AlwaysOn`)
/// and for one whose sampler reads attributes (kept as values until the start), with a
/// recorded but unsampled span in between.
#[test]
fn a_span_after_a_busy_one_inherits_nothing_from_the_pool() {
    for (label, sampler) in [
        ("always-on", Sampler::AlwaysOn),
        (
            "custom",
            Sampler::Custom(Arc::new(RecordOnlyForName("quiet"))),
        ),
    ] {
        let collector = Collector::start();
        let exporter = exporter(&collector);
        let tracer = tracer_with(
            &exporter,
            TraceSettings {
                sampler,
                limits: SpanLimits {
                    event_count: 1,
                    ..SpanLimits::default()
                },
                id_generator: None,
            },
        );
        let parent = remote_context(true, "k=v");
        let linked = remote_context(false, "");
        let end = SystemTime::now() + Duration::from_secs(5);
        for round in 0..3 {
            let mut busy = tracer
                .span("busy-draft")
                .kind(SpanKind::Server)
                .parent(&parent)
                .attr("busy", true)
                .start();
            busy.add_link(&linked, [KeyValue::new("why", "retry")]);
            busy.add_event("first", [KeyValue::new("n", 1)]);
            busy.add_event("second", []);
            busy.set_status(StatusCode::Error, "boom");
            busy.update_name(format!("busy-{round}"));
            busy.end_at(end);
            let mut quiet = tracer.span("quiet").attr("q", 1).start();
            quiet.set_status(StatusCode::Error, "quiet boom");
            quiet.end();
            tracer.span(format!("plain-{round}")).start().end();
        }
        let spans = spans(&exporter, &collector);
        let end_nanos = end.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        for round in 0..3 {
            let b = find(&spans, &format!("busy-{round}"));
            assert_eq!(b.trace_state, "k=v", "{label}");
            assert_eq!(b.links.len(), 1, "{label}");
            assert_eq!(b.events.len(), 1, "{label}");
            assert_eq!(b.dropped_events_count, 1, "{label}");
            assert_eq!(b.status.as_ref().map(|s| s.message.as_str()), Some("boom"));
            assert_eq!(b.end_time_unix_nano, end_nanos, "{label}");
            assert_eq!(b.flags & IS_REMOTE, IS_REMOTE, "{label}");

            let p = find(&spans, &format!("plain-{round}"));
            assert!(p.attributes.is_empty(), "{label} round {round}");
            assert!(
                p.links.is_empty() && p.events.is_empty(),
                "{label} round {round}"
            );
            assert_eq!(p.dropped_events_count, 0, "{label}");
            assert_eq!(p.dropped_links_count, 0, "{label}");
            assert_eq!(p.dropped_attributes_count, 0, "{label}");
            assert!(p.trace_state.is_empty(), "{label} round {round}");
            assert!(p.parent_span_id.is_empty(), "{label} round {round}");
            assert_ne!(
                p.trace_id, b.trace_id,
                "{label}: a new root has its own trace"
            );
            assert_eq!(p.kind, PKind::Internal as i32, "{label}");
            assert_eq!(p.flags & IS_REMOTE, 0, "{label}");
            let status = p.status.clone().unwrap_or_default();
            assert_eq!(status.code, PCode::Unset as i32, "{label} round {round}");
            assert!(status.message.is_empty(), "{label} round {round}");
            assert!(p.start_time_unix_nano > 0, "{label}");
            assert!(p.end_time_unix_nano >= p.start_time_unix_nano, "{label}");
            assert!(p.end_time_unix_nano < end_nanos, "{label}");
        }
        let quiet_exported = spans.iter().filter(|s| s.name == "quiet").count();
        let want = if label == "custom" { 0 } else { 3 };
        assert_eq!(quiet_exported, want, "{label}");
    }
}
