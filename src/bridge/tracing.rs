//! The `tracing` crate bridge: [`OtlpLayer`], a `tracing-subscriber` [`Layer`] that turns
//! tracing spans into OTLP spans and tracing events into OTLP log records or span events
//! (feature `tracing`).
//!
//! | `tracing` | OTLP |
//! | --- | --- |
//! | span | a span of the layer's [`Tracer`]: started when the tracing span is created, ended when it closes (its last handle is dropped) |
//! | span name (the `span!` name) | span name; the field `otel.name` overrides it |
//! | field `otel.kind` (`"server"`, `"client"`, `"producer"`, `"consumer"`, `"internal"`) | span kind, when recorded at creation (a kind cannot change after the start); [`SpanKind::Internal`] otherwise |
//! | fields `otel.status_code` (`"ok"`, `"error"`) and `otel.status_message` | span status, set when the span ends (the message is kept only with `error`) |
//! | other fields, at creation and through `Span::record` | attributes: `i64`, `u64` (one above `i64::MAX` as its decimal string), `f64`, `bool` and `&str` keep their types; errors by their `Display` form, anything else by its `Debug` form |
//! | parent span | parent: the parent tracing span's OTLP span (or a context entered with this crate's API inside it, such as an [`ActiveSpan`]'s: the innermost wins); for a span whose parent is not one of this layer's spans (or that has no tracing parent), the thread's [`current_span_context`] (a root span when there is none); a span made with `parent: None` is a root |
//! | `follows_from` | a link |
//! | event | a log record of the layer's [`Logger`] ([`EventMode::Logs`], the default), an event on the event's span ([`EventMode::SpanEvents`]), or both ([`EventMode::Both`]) |
//! | event level | severity: `TRACE` 1, `DEBUG` 5, `INFO` 9, `WARN` 13, `ERROR` 17 (span events: the attribute `level`) |
//! | the event's `message` field | body (span events: the event name) |
//! | other event fields | attributes, typed as span fields are |
//! | the event's span | the record's trace id, span id and trace flags |
//! | target, module path, file, line | `tracing.target` with [`OtlpLayer::target_attribute`]; `code.namespace`, `code.file.path`, `code.line.number` with [`OtlpLayer::code_attributes`] (both off by default) |
//!
//! While a tracing span is entered, its OTLP context is also the thread's current span
//! context of this crate ([`current_span_context`]): [`Logger`] records and [`Tracer`]
//! spans made inside it are tied to it, as are tracing spans made inside an entered
//! [`ActiveSpan`].
//!
//! # No loops
//!
//! Spans and events whose target is `otlp_sync` or starts with `otlp_sync::` (this
//! crate's own diagnostics) are never exported, and neither are those of the export
//! thread's HTTP and TLS stacks (`ureq`, `ureq_proto`, `rustls` and their submodules):
//! exporting them could produce more of them. The layer only skips them; other layers
//! of the subscriber still see them.
//!
//! ```
//! use otlp_sync::bridge::tracing::{EventMode, OtlpLayer};
//! use otlp_sync::logs::Logger;
//! use otlp_sync::trace::Tracer;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! // Normally: OtlpLayer::new(exporter.tracer("app"), exporter.logger("app")).
//! let layer = OtlpLayer::new(Tracer::noop(), Logger::noop()).event_mode(EventMode::Both);
//! let subscriber = tracing_subscriber::Registry::default().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("work", otel.kind = "server", items = 3);
//!     let _entered = span.enter();
//!     tracing::info!(valve = 7, "opened");
//! });
//! ```

use crate::logs::Logger;
use crate::model::{AnyValue, KeyValue, Severity, SpanKind, StatusCode, Str};
use crate::trace::{ActiveSpan, ContextGuard, SpanContext, Tracer, current_span_context};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The target prefix that is always excluded: this crate's own diagnostics.
pub const OWN_TARGET: &str = "otlp_sync";

/// The targets excluded besides [`OWN_TARGET`]: the export thread's HTTP and TLS stacks.
pub const EXCLUDED_TARGETS: [&str; 3] = ["ureq", "ureq_proto", "rustls"];

/// Where tracing events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventMode {
    /// Log records of the layer's [`Logger`], tied to the event's span.
    #[default]
    Logs,
    /// Events on the event's span. An event outside any of the layer's spans is dropped.
    SpanEvents,
    /// Both.
    Both,
}

/// A [`Layer`] that exports tracing spans and events; see the [module docs](self).
#[derive(Debug)]
pub struct OtlpLayer {
    tracer: Tracer,
    logger: Logger,
    event_mode: EventMode,
    target_attribute: bool,
    code_attributes: bool,
}

impl OtlpLayer {
    /// A layer making spans with `tracer` and log records with `logger`, e.g.
    /// `OtlpLayer::new(exporter.tracer("app"), exporter.logger("app"))`.
    pub fn new(tracer: Tracer, logger: Logger) -> OtlpLayer {
        OtlpLayer {
            tracer,
            logger,
            event_mode: EventMode::Logs,
            target_attribute: false,
            code_attributes: false,
        }
    }

    /// Where events go.
    ///
    /// Defaults to [`EventMode::Logs`].
    pub fn event_mode(mut self, mode: EventMode) -> Self {
        self.event_mode = mode;
        self
    }

    /// Whether spans and events get their target as the attribute `tracing.target`.
    ///
    /// Defaults to `false`.
    pub fn target_attribute(mut self, on: bool) -> Self {
        self.target_attribute = on;
        self
    }

    /// Whether spans and events get their module path, file and line as `code.namespace`,
    /// `code.file.path` and `code.line.number`.
    ///
    /// Defaults to `false`.
    pub fn code_attributes(mut self, on: bool) -> Self {
        self.code_attributes = on;
        self
    }

    /// The metadata attributes (target, code location) that are switched on.
    fn metadata_attributes(&self, meta: &Metadata<'_>, out: &mut Vec<KeyValue>) {
        if self.target_attribute {
            out.push(KeyValue::new("tracing.target", meta.target().to_owned()));
        }
        if self.code_attributes {
            if let Some(m) = meta.module_path() {
                out.push(KeyValue::new("code.namespace", m.to_owned()));
            }
            if let Some(f) = meta.file() {
                out.push(KeyValue::new("code.file.path", f.to_owned()));
            }
            if let Some(l) = meta.line() {
                out.push(KeyValue::new("code.line.number", l));
            }
        }
    }
}

/// `target` is excluded: ours, or the export thread's HTTP or TLS stack.
fn excluded(target: &str) -> bool {
    under(target, OWN_TARGET) || EXCLUDED_TARGETS.iter().any(|p| under(target, p))
}

/// `target` is `prefix` or below it (`prefix::...`).
fn under(target: &str, prefix: &str) -> bool {
    match target.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with("::"),
        None => false,
    }
}

/// The OTLP severity of a tracing level.
pub fn severity_of(level: &Level) -> Severity {
    match *level {
        Level::ERROR => Severity::ERROR,
        Level::WARN => Severity::WARN,
        Level::INFO => Severity::INFO,
        Level::DEBUG => Severity::DEBUG,
        Level::TRACE => Severity::TRACE,
    }
}

/// The span kind named by an `otel.kind` value.
fn parse_kind(s: &str) -> Option<SpanKind> {
    Some(match s.to_ascii_lowercase().as_str() {
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        "internal" => SpanKind::Internal,
        _ => return None,
    })
}

/// The status code named by an `otel.status_code` value.
fn parse_status(s: &str) -> Option<StatusCode> {
    Some(match s.to_ascii_lowercase().as_str() {
        "ok" => StatusCode::Ok,
        "error" => StatusCode::Error,
        "unset" => StatusCode::Unset,
        _ => return None,
    })
}

/// What the layer keeps in a tracing span's extensions.
struct SpanData {
    span: ActiveSpan,
    status: Option<StatusCode>,
    status_message: Option<String>,
}

/// Fields of a span or an event, sorted into what they mean.
#[derive(Default)]
struct Fields {
    attributes: Vec<KeyValue>,
    /// `message` (events only).
    message: Option<String>,
    name: Option<String>,
    kind: Option<SpanKind>,
    status: Option<StatusCode>,
    status_message: Option<String>,
    /// Whether `message` is taken out of the attributes.
    is_event: bool,
}

impl Fields {
    fn event() -> Fields {
        Fields {
            is_event: true,
            ..Fields::default()
        }
    }

    /// Text fields, which may be one of the `otel.*` ones or the message.
    fn text(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" if self.is_event => self.message = Some(value),
            "otel.name" => self.name = Some(value),
            "otel.kind" => self.kind = parse_kind(&value),
            "otel.status_code" => self.status = parse_status(&value),
            "otel.status_message" => self.status_message = Some(value),
            name => self.attributes.push(KeyValue::new(name, value)),
        }
    }

    fn push(&mut self, field: &Field, value: AnyValue) {
        self.attributes.push(KeyValue {
            key: Cow::Borrowed(field.name()),
            value,
        });
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, AnyValue::Double(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, AnyValue::Int(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(i) => self.push(field, AnyValue::Int(i)),
            Err(_) => self.push(field, AnyValue::Str(Cow::Owned(value.to_string()))),
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        match i64::try_from(value) {
            Ok(i) => self.push(field, AnyValue::Int(i)),
            Err(_) => self.push(field, AnyValue::Str(Cow::Owned(value.to_string()))),
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        match i64::try_from(value) {
            Ok(i) => self.push(field, AnyValue::Int(i)),
            Err(_) => self.push(field, AnyValue::Str(Cow::Owned(value.to_string()))),
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, AnyValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value.to_owned());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, format!("{value:?}"));
    }
}

thread_local! {
    /// The OTLP contexts made current by entered tracing spans, innermost last.
    static ENTERED: RefCell<Vec<(Id, SpanContext, ContextGuard)>> = const { RefCell::new(Vec::new()) };
    /// Set while the layer emits, so that anything emitted meanwhile is not looped back.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` unless the layer is already busy on this thread.
fn guarded(f: impl FnOnce()) {
    let entered = BUSY.try_with(|b| !b.replace(true)).unwrap_or(false);
    if entered {
        f();
        let _ = BUSY.try_with(|b| b.set(false));
    }
}

impl OtlpLayer {
    /// The OTLP context of the span `id`, if it is one of ours.
    fn context_of<S>(ctx: &Context<'_, S>, id: &Id) -> Option<SpanContext>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        let ext = span.extensions();
        ext.get::<SpanData>().map(|d| d.span.span_context().clone())
    }
}

impl<S> Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if excluded(meta.target()) || !self.tracer.is_enabled() {
            return;
        }
        let Some(span_ref) = ctx.span(id) else {
            return;
        };
        guarded(|| {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.metadata_attributes(meta, &mut fields.attributes);
            let parent = if attrs.is_root() {
                None
            } else {
                let current = current_span_context();
                let ours = span_ref.parent().and_then(|p| {
                    p.extensions()
                        .get::<SpanData>()
                        .map(|d| d.span.span_context().clone())
                });
                match ours {
                    // A context entered through this crate's API inside the (entered)
                    // tracing parent is the innermost one: it wins.
                    Some(p) if attrs.is_contextual() && current.is_some() => {
                        let top = ENTERED
                            .try_with(|e| e.borrow().last().map(|(_, c, _)| c.clone()))
                            .ok()
                            .flatten();
                        if current == top { Some(p) } else { current }
                    }
                    Some(p) => Some(p),
                    None => current,
                }
            };
            let name: Str = match fields.name.take() {
                Some(n) => Cow::Owned(n),
                None => Cow::Borrowed(meta.name()),
            };
            let builder = self
                .tracer
                .span(name)
                .kind(fields.kind.unwrap_or(SpanKind::Internal))
                .attrs(fields.attributes);
            let builder = match &parent {
                Some(p) => builder.parent(p),
                None => builder.root(),
            };
            let span = builder.start();
            span_ref.extensions_mut().insert(SpanData {
                span,
                status: fields.status,
                status_message: fields.status_message,
            });
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(id) else {
            return;
        };
        let mut ext = span_ref.extensions_mut();
        let Some(data) = ext.get_mut::<SpanData>() else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        data.span.set_attributes(fields.attributes);
        if let Some(name) = fields.name {
            data.span.update_name(name);
        }
        if fields.status.is_some() {
            data.status = fields.status;
        }
        if fields.status_message.is_some() {
            data.status_message = fields.status_message;
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        let Some(target) = Self::context_of(&ctx, follows) else {
            return;
        };
        let Some(span_ref) = ctx.span(id) else {
            return;
        };
        if let Some(data) = span_ref.extensions_mut().get_mut::<SpanData>() {
            data.span.add_link(&target, []);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if excluded(meta.target()) {
            return;
        }
        let to_logs = self.event_mode != EventMode::SpanEvents && self.logger.is_enabled();
        let to_span = self.event_mode != EventMode::Logs && self.tracer.is_enabled();
        if !to_logs && !to_span {
            return;
        }
        guarded(|| {
            let mut fields = Fields::event();
            event.record(&mut fields);
            self.metadata_attributes(meta, &mut fields.attributes);
            let span_ref = ctx.event_span(event);
            let message = fields.message.take();
            if to_span {
                if let Some(span_ref) = &span_ref {
                    if let Some(data) = span_ref.extensions_mut().get_mut::<SpanData>() {
                        let mut attributes = Vec::with_capacity(fields.attributes.len() + 1);
                        attributes.push(KeyValue::new("level", meta.level().as_str()));
                        attributes.extend(fields.attributes.iter().cloned());
                        let name: Str = match &message {
                            Some(m) => Cow::Owned(m.clone()),
                            None => Cow::Borrowed(meta.name()),
                        };
                        data.span.add_event(name, attributes);
                    }
                }
            }
            if to_logs {
                let mut record = self
                    .logger
                    .record(severity_of(meta.level()))
                    .attrs(fields.attributes);
                if let Some(m) = message {
                    record = record.body(m);
                }
                let context = span_ref
                    .as_ref()
                    .and_then(|s| {
                        s.extensions()
                            .get::<SpanData>()
                            .map(|d| d.span.span_context().clone())
                    })
                    .filter(SpanContext::is_valid);
                if let Some(c) = context {
                    record = record.trace_context(c.trace_id, c.span_id, c.trace_flags);
                }
                record.emit();
            }
        });
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(context) = Self::context_of(&ctx, id) {
            let guard = context.enter();
            let _ = ENTERED.try_with(|e| e.borrow_mut().push((id.clone(), context, guard)));
        }
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|e| {
            let mut stack = e.borrow_mut();
            let Some(pos) = stack.iter().rposition(|(i, _, _)| i == id) else {
                return;
            };
            // Guards restore what was current before them, so undo the ones entered
            // later (an out-of-order exit), drop this one, and enter those again.
            let later: Vec<(Id, SpanContext, ContextGuard)> = stack.drain(pos + 1..).collect();
            let mut contexts = Vec::with_capacity(later.len());
            for (i, c, g) in later.into_iter().rev() {
                drop(g);
                contexts.push((i, c));
            }
            stack.pop();
            for (i, c) in contexts.into_iter().rev() {
                let g = c.enter();
                stack.push((i, c, g));
            }
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(&id) else {
            return;
        };
        let data = span_ref.extensions_mut().remove::<SpanData>();
        if let Some(mut data) = data {
            if let Some(code) = data.status {
                data.span
                    .set_status(code, data.status_message.take().unwrap_or_default());
            }
            data.span.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_excluded_on_module_boundaries() {
        assert!(excluded("otlp_sync"));
        assert!(excluded("otlp_sync::pipeline"));
        assert!(excluded("ureq::pool"));
        assert!(excluded("ureq_proto"));
        assert!(excluded("rustls::client"));
        assert!(!excluded("otlp_sync_extra"));
        assert!(!excluded("ureqx"));
        assert!(!excluded("app::otlp_sync"));
    }

    #[test]
    fn levels_kinds_and_statuses() {
        assert_eq!(severity_of(&Level::TRACE).0, 1);
        assert_eq!(severity_of(&Level::DEBUG).0, 5);
        assert_eq!(severity_of(&Level::INFO).0, 9);
        assert_eq!(severity_of(&Level::WARN).0, 13);
        assert_eq!(severity_of(&Level::ERROR).0, 17);
        assert_eq!(parse_kind("Server"), Some(SpanKind::Server));
        assert_eq!(parse_kind("consumer"), Some(SpanKind::Consumer));
        assert_eq!(parse_kind("bogus"), None);
        assert_eq!(parse_status("ERROR"), Some(StatusCode::Error));
        assert_eq!(parse_status("ok"), Some(StatusCode::Ok));
        assert_eq!(parse_status("fine"), None);
    }
}
