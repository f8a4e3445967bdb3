//! The `tracing` layer end to end: tracing spans and events -> `OtlpLayer` -> exporter ->
//! the fake collector, decoded with the official `opentelemetry-proto` types.
//!
//! No test sets a global subscriber: each runs its code under
//! `tracing::subscriber::with_default`, with its own exporter and collector.
#![cfg(all(feature = "tracing", feature = "http"))]

mod support;

use opentelemetry_proto::tonic::common::v1::{KeyValue as PKv, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord as PLog;
use opentelemetry_proto::tonic::trace::v1::{Span as PSpan, span::SpanKind as PKind, status};
use otlp_sync::bridge::tracing::{EventMode, OtlpLayer};
use otlp_sync::config::Config;
use otlp_sync::exporter::Exporter;
use otlp_sync::trace::current_span_context;
use std::time::Duration;
use support::collector::{Collector, Decoded};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(5);

fn exporter(c: &Collector) -> Exporter {
    let config = Config::builder()
        .endpoint(c.url(""))
        .service_name("tracing-test")
        .build()
        .unwrap();
    Exporter::new(config).unwrap()
}

fn layer(e: &Exporter) -> OtlpLayer {
    OtlpLayer::new(e.tracer("app"), e.logger("app"))
}

/// Every span and log record the collector decoded.
fn received(c: &Collector) -> (Vec<PSpan>, Vec<PLog>) {
    let (mut spans, mut logs) = (Vec::new(), Vec::new());
    for r in c.requests() {
        match r.decoded {
            Some(Decoded::Traces(req)) => spans.extend(
                req.resource_spans
                    .into_iter()
                    .flat_map(|rs| rs.scope_spans)
                    .flat_map(|ss| ss.spans),
            ),
            Some(Decoded::Logs(req)) => logs.extend(
                req.resource_logs
                    .into_iter()
                    .flat_map(|rl| rl.scope_logs)
                    .flat_map(|sl| sl.log_records),
            ),
            other => panic!("unexpected request {other:?} {:?}", r.decode_error),
        }
    }
    (spans, logs)
}

fn attr<'a>(attrs: &'a [PKv], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn s(v: &str) -> any_value::Value {
    any_value::Value::StringValue(v.to_owned())
}

fn body(r: &PLog) -> Option<&str> {
    match r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(any_value::Value::StringValue(b)) => Some(b),
        _ => None,
    }
}

fn span<'a>(spans: &'a [PSpan], name: &str) -> &'a PSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {:?}", names(spans)))
}

fn names(spans: &[PSpan]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn spans_and_events_as_logs() {
    let c = Collector::start();
    let e = exporter(&c);
    let subscriber = Registry::default().with(layer(&e));
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!(
            "handle",
            otel.kind = "server",
            route = "/level",
            attempt = 2i64,
            big = u64::MAX,
            small = 7u64,
            ratio = 0.5f64,
            cached = true,
            list = ?vec![1, 2],
            shown = %std::net::Ipv4Addr::LOCALHOST,
            late = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_message = tracing::field::Empty,
        );
        let _o = outer.enter();
        tracing::info!(valve = 7, "opened");
        {
            let inner = tracing::debug_span!("read_adc", otel.name = "adc.read", channel = 3);
            let _i = inner.enter();
            tracing::trace!("sampling");
            tracing::debug!(value = 1017u64, "sampled");
            tracing::warn!(target: "otlp_sync", "own diagnostic, never exported");
            tracing::error!(target: "otlp_sync::pipeline", "own diagnostic, never exported");
            tracing::error!(target: "ureq::pool", "http client, never exported");
            tracing::warn!("slow");
        }
        outer.record("late", "set later");
        outer.record("otel.status_code", "error");
        outer.record("otel.status_message", "valve stuck");
        tracing::error!(code = 5, "failed");
        let _own = tracing::info_span!(target: "otlp_sync::export", "own span").entered();
    });
    e.flush(WAIT).unwrap();
    let (spans, logs) = received(&c);

    // Spans: names, kinds, parent and child, attributes with their types, status.
    assert_eq!(spans.len(), 2, "{:?}", names(&spans));
    let outer = span(&spans, "handle");
    let inner = span(&spans, "adc.read");
    assert_eq!(outer.kind, PKind::Server as i32);
    assert_eq!(inner.kind, PKind::Internal as i32);
    assert!(outer.parent_span_id.is_empty(), "root span");
    assert_eq!(inner.parent_span_id, outer.span_id);
    assert_eq!(inner.trace_id, outer.trace_id);
    assert_eq!(outer.trace_id.len(), 16);
    assert!(outer.start_time_unix_nano <= inner.start_time_unix_nano);
    assert!(inner.end_time_unix_nano <= outer.end_time_unix_nano);
    assert!(outer.start_time_unix_nano < outer.end_time_unix_nano);
    let a = &outer.attributes;
    use any_value::Value as V;
    assert_eq!(attr(a, "route"), Some(&s("/level")));
    assert_eq!(attr(a, "attempt"), Some(&V::IntValue(2)));
    assert_eq!(attr(a, "big"), Some(&s(&u64::MAX.to_string())));
    assert_eq!(attr(a, "small"), Some(&V::IntValue(7)));
    assert_eq!(attr(a, "ratio"), Some(&V::DoubleValue(0.5)));
    assert_eq!(attr(a, "cached"), Some(&V::BoolValue(true)));
    assert_eq!(attr(a, "list"), Some(&s("[1, 2]")));
    assert_eq!(attr(a, "shown"), Some(&s("127.0.0.1")));
    assert_eq!(attr(a, "late"), Some(&s("set later")));
    assert_eq!(
        attr(a, "otel.kind"),
        None,
        "otel.* fields are not attributes"
    );
    assert_eq!(attr(a, "otel.status_code"), None);
    assert_eq!(a.len(), 9, "{a:?}");
    assert_eq!(attr(&inner.attributes, "channel"), Some(&V::IntValue(3)));
    assert_eq!(attr(&inner.attributes, "otel.name"), None);
    let st = outer.status.as_ref().expect("status");
    assert_eq!(st.code, status::StatusCode::Error as i32);
    assert_eq!(st.message, "valve stuck");
    assert!(inner.status.as_ref().is_none_or(|s| s.code == 0));
    assert!(
        outer.events.is_empty(),
        "EventMode::Logs puts nothing on spans"
    );

    // Logs: severity, body, attributes, the span's ids; own targets never arrive.
    let by_body = |b: &str| {
        logs.iter()
            .find(|l| body(l) == Some(b))
            .unwrap_or_else(|| panic!("no log {b}"))
    };
    assert_eq!(logs.len(), 5, "{logs:?}");
    assert!(logs.iter().all(|l| !body(l).unwrap().contains("never")));
    let cases = [
        ("opened", 9, "INFO", &outer.span_id),
        ("sampling", 1, "TRACE", &inner.span_id),
        ("sampled", 5, "DEBUG", &inner.span_id),
        ("slow", 13, "WARN", &inner.span_id),
        ("failed", 17, "ERROR", &outer.span_id),
    ];
    for (b, sev, text, span_id) in cases {
        let l = by_body(b);
        assert_eq!(l.severity_number, sev, "{b}");
        assert_eq!(l.severity_text, text, "{b}");
        assert_eq!(&l.span_id, span_id, "{b}");
        assert_eq!(l.trace_id, outer.trace_id, "{b}");
        assert_eq!(l.flags & 1, 1, "{b}: sampled");
        assert!(l.time_unix_nano > 0);
        assert_eq!(attr(&l.attributes, "message"), None);
    }
    assert_eq!(
        attr(&by_body("opened").attributes, "valve"),
        Some(&V::IntValue(7))
    );
    assert_eq!(
        attr(&by_body("sampled").attributes, "value"),
        Some(&V::IntValue(1017))
    );
    assert_eq!(
        attr(&by_body("failed").attributes, "code"),
        Some(&V::IntValue(5))
    );
    e.shutdown(WAIT).unwrap();
}

#[test]
fn span_events_mode_puts_events_on_the_span() {
    let c = Collector::start();
    let e = exporter(&c);
    let subscriber = Registry::default().with(layer(&e).event_mode(EventMode::SpanEvents));
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("work").entered();
        tracing::info!(valve = 7, "opened");
        tracing::error!("failed");
        tracing::error!(target: "otlp_sync", "own diagnostic");
    });
    e.flush(WAIT).unwrap();
    let (spans, logs) = received(&c);
    assert!(logs.is_empty(), "{logs:?}");
    assert_eq!(spans.len(), 1);
    let ev = &spans[0].events;
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(ev[0].name, "opened");
    assert_eq!(attr(&ev[0].attributes, "level"), Some(&s("INFO")));
    assert_eq!(
        attr(&ev[0].attributes, "valve"),
        Some(&any_value::Value::IntValue(7))
    );
    assert_eq!(ev[1].name, "failed");
    assert_eq!(attr(&ev[1].attributes, "level"), Some(&s("ERROR")));
    assert!(ev[0].time_unix_nano >= spans[0].start_time_unix_nano);
    e.shutdown(WAIT).unwrap();
}

#[test]
fn both_mode_and_the_otlp_api_inside_tracing_spans() {
    let c = Collector::start();
    let e = exporter(&c);
    let tracer = e.tracer("direct");
    let logger = e.logger("direct");
    let subscriber = Registry::default().with(layer(&e).event_mode(EventMode::Both));
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(current_span_context(), None);
        let outer = tracing::info_span!("outer");
        {
            let _o = outer.enter();
            let ctx = current_span_context().expect("entered span is current");
            // The crate's own API sees the tracing span as the current one.
            tracer.in_span("direct_child", |_| {
                logger.info("direct log");
                // A tracing span made inside an otlp_sync span is its child.
                let _t = tracing::info_span!("tracing_grandchild").entered();
                tracing::info!("deep");
            });
            assert_eq!(current_span_context(), Some(ctx));
            // `parent: None` makes a root span whatever is current.
            let _r = tracing::info_span!(parent: None, "detached").entered();
        }
        assert_eq!(current_span_context(), None, "exit restores");
    });
    e.flush(WAIT).unwrap();
    let (spans, logs) = received(&c);
    assert_eq!(spans.len(), 4, "{:?}", names(&spans));
    let outer = span(&spans, "outer");
    let child = span(&spans, "direct_child");
    let grandchild = span(&spans, "tracing_grandchild");
    let detached = span(&spans, "detached");
    assert_eq!(child.parent_span_id, outer.span_id);
    assert_eq!(grandchild.parent_span_id, child.span_id);
    assert_eq!(grandchild.trace_id, outer.trace_id);
    assert!(detached.parent_span_id.is_empty());
    assert_ne!(detached.trace_id, outer.trace_id);
    assert_eq!(grandchild.events.len(), 1);
    assert_eq!(grandchild.events[0].name, "deep");
    assert_eq!(logs.len(), 2, "{logs:?}");
    let direct = logs.iter().find(|l| body(l) == Some("direct log")).unwrap();
    assert_eq!(direct.span_id, child.span_id);
    let deep = logs.iter().find(|l| body(l) == Some("deep")).unwrap();
    assert_eq!(deep.span_id, grandchild.span_id);
    e.shutdown(WAIT).unwrap();
}

#[test]
fn target_and_code_attributes_on_request() {
    let c = Collector::start();
    let e = exporter(&c);
    let subscriber =
        Registry::default().with(layer(&e).target_attribute(true).code_attributes(true));
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!(target: "app::db", "query").entered();
        tracing::info!(target: "app::db", "done");
    });
    e.flush(WAIT).unwrap();
    let (spans, logs) = received(&c);
    assert_eq!((spans.len(), logs.len()), (1, 1));
    for attrs in [&spans[0].attributes, &logs[0].attributes] {
        assert_eq!(attr(attrs, "tracing.target"), Some(&s("app::db")));
        assert_eq!(
            attr(attrs, "code.file.path"),
            Some(&s("tests/tracing_layer.rs"))
        );
        assert!(matches!(
            attr(attrs, "code.line.number"),
            Some(any_value::Value::IntValue(n)) if *n > 0
        ));
        assert_eq!(attr(attrs, "code.namespace"), Some(&s("tracing_layer")));
    }
    e.shutdown(WAIT).unwrap();
}

#[test]
fn foreign_parents_fall_back_to_the_current_context_and_exits_may_interleave() {
    let c = Collector::start();
    let e = exporter(&c);
    let tracer = e.tracer("direct");
    let subscriber = Registry::default().with(layer(&e));
    tracing::subscriber::with_default(subscriber, || {
        tracer.in_span("direct", |_| {
            // The layer skips its own target's spans: their children take the thread's
            // current context (here the otlp_sync span) as parent.
            let _own = tracing::info_span!(target: "otlp_sync::x", "own").entered();
            let _c = tracing::info_span!("under_own").entered();
        });
        // Exiting in another order than entering keeps the current context right.
        let a = tracing::info_span!("a");
        let b = tracing::info_span!(parent: None, "b");
        let ga = a.enter();
        let gb = b.enter();
        let b_ctx = current_span_context().expect("b is current");
        drop(ga);
        assert_eq!(current_span_context(), Some(b_ctx), "b stays current");
        drop(gb);
        assert_eq!(current_span_context(), None);
    });
    e.flush(WAIT).unwrap();
    let (spans, _) = received(&c);
    assert_eq!(spans.len(), 4, "{:?}", names(&spans));
    let direct = span(&spans, "direct");
    let under_own = span(&spans, "under_own");
    assert_eq!(under_own.parent_span_id, direct.span_id);
    assert_eq!(under_own.trace_id, direct.trace_id);
    assert!(span(&spans, "a").parent_span_id.is_empty());
    assert!(span(&spans, "b").parent_span_id.is_empty());
    e.shutdown(WAIT).unwrap();
}
