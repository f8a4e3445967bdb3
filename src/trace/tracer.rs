//! [`Tracer`]: makes spans for one instrumentation scope.

use super::id::IdGenerator;
use super::limits::SpanLimits;
use super::sampler::Sampler;
use super::span::{ActiveSpan, SpanBuilder};
use crate::config::Warning;
use crate::model::{InstrumentationScope, Str};
use crate::pipeline::{RecordSender, SHARDS, ScopeHandle, shard_index};
use alloc::sync::Arc;
use core::fmt;
use std::sync::OnceLock;

/// How a tracer samples, limits and identifies spans.
#[derive(Debug, Clone, Default)]
pub struct TraceSettings {
    /// The head sampler. Defaults to `ParentBased(root = AlwaysOn)`.
    pub sampler: Sampler,
    /// Span limits. Defaults to the specification's (128 of everything, no value length
    /// limit).
    pub limits: SpanLimits,
    /// Where trace and span ids come from. Defaults to `None`: the built-in per-thread
    /// random generator ([`random_trace_id`](super::random_trace_id)).
    pub id_generator: Option<Arc<dyn IdGenerator>>,
}

impl TraceSettings {
    /// The settings from the process environment; see
    /// [`from_env_with`](Self::from_env_with).
    pub fn from_env() -> (TraceSettings, Vec<Warning>) {
        TraceSettings::from_env_with(|k| std::env::var(k).ok())
    }

    /// The sampler ([`Sampler::from_env_with`]) and limits
    /// ([`SpanLimits::from_env_with`]) from `lookup`, with the warnings of both.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> (TraceSettings, Vec<Warning>) {
        let (sampler, mut warnings) = Sampler::from_env_with(&lookup);
        let (limits, more) = SpanLimits::from_env_with(&lookup);
        warnings.extend(more);
        (
            TraceSettings {
                sampler,
                limits,
                id_generator: None,
            },
            warnings,
        )
    }
}

/// What all clones of a tracer share.
#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) sender: Option<RecordSender>,
    pub(crate) scope: Arc<InstrumentationScope>,
    /// `scope` as registered with the sender's pipeline (spans are sent by it).
    pub(crate) scope_handle: Option<ScopeHandle>,
    pub(crate) settings: TraceSettings,
    /// `false` when no span of this tracer can ever be recorded (disabled, or
    /// `AlwaysOff`): builders then skip storing attributes and links.
    pub(crate) may_record: bool,
    /// The pipeline takes spans encoded (protobuf traces, encoding on send allowed):
    /// sampled spans then encode their attributes and events as they are recorded.
    pub(crate) encode_spans: bool,
    /// `encode_spans`, and the sampler does not read attributes: builders then encode
    /// attributes as they are given (the sampler is shown none).
    pub(crate) encode_in_builder: bool,
}

/// Makes spans for one instrumentation scope and hands the finished ones to the export
/// pipeline.
///
/// Cheap to clone (one `Arc`), `Send + Sync`. A tracer made without a sender (for
/// example by a disabled exporter) is a no-op: its spans record nothing, make no ids and
/// are never sent.
///
/// ```
/// use otlp_sync::trace::Tracer;
/// let tracer = Tracer::noop();
/// let answer = tracer.in_span("compute", |span| {
///     span.set_attribute("input", 6);
///     42
/// });
/// assert_eq!(answer, 42);
/// let span = tracer.span("read_adc").attr("channel", 3).start();
/// assert!(!span.is_recording());
/// span.end();
/// ```
#[derive(Clone)]
pub struct Tracer {
    pub(crate) inner: Arc<Inner>,
    /// Copies of `inner` for the recording spans of each thread shard
    /// ([`local_inner`](Self::local_inner)), made on first use.
    locals: Arc<[OnceLock<Arc<Inner>>; SHARDS]>,
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("scope", &self.inner.scope.name)
            .field("enabled", &self.inner.sender.is_some())
            .field("sampler", &self.inner.settings.sampler)
            .field("limits", &self.inner.settings.limits)
            .finish()
    }
}

impl Tracer {
    /// A tracer for `scope` that sends finished, sampled spans through `sender`; `None`
    /// makes a no-op tracer.
    pub fn new(
        sender: Option<RecordSender>,
        scope: Arc<InstrumentationScope>,
        settings: TraceSettings,
    ) -> Tracer {
        let may_record = sender.is_some() && !matches!(settings.sampler, Sampler::AlwaysOff);
        let scope_handle = sender.as_ref().map(|s| s.register_scope(&scope));
        let encode_spans = sender
            .as_ref()
            .is_some_and(|s| s.encodes_on_send(crate::model::Signal::Traces));
        let encode_in_builder = encode_spans && !settings.sampler.reads_attributes();
        Tracer {
            inner: Arc::new(Inner {
                sender,
                scope,
                scope_handle,
                settings,
                may_record,
                encode_spans,
                encode_in_builder,
            }),
            locals: Arc::new(Default::default()),
        }
    }

    /// The tracer's state for a recording span to hold: a copy of `inner` shared only by
    /// the threads of the calling thread's shard. A recording span keeps its tracer's
    /// state alive, and one `Arc` shared by every thread would have each span's clone and
    /// drop write the same cache line as every other thread's (and as the settings they
    /// all read), costing two threads a few hundred nanoseconds a span between them.
    #[inline]
    pub(crate) fn local_inner(&self) -> Arc<Inner> {
        match self.locals.get(shard_index()) {
            Some(local) => Arc::clone(local.get_or_init(|| Arc::new(Inner::clone(&self.inner)))),
            None => Arc::clone(&self.inner),
        }
    }

    /// A tracer that records and sends nothing.
    pub fn noop() -> Tracer {
        Tracer::new(
            None,
            Arc::new(InstrumentationScope::default()),
            TraceSettings::default(),
        )
    }

    /// Whether spans can be sent (the tracer has a sender).
    pub fn is_enabled(&self) -> bool {
        self.inner.sender.is_some()
    }

    /// The instrumentation scope of this tracer's spans.
    pub fn scope(&self) -> &Arc<InstrumentationScope> {
        &self.inner.scope
    }

    /// The sampler, limits and id generator.
    pub fn settings(&self) -> &TraceSettings {
        &self.inner.settings
    }

    /// A builder for a span named `name`; call [`SpanBuilder::start`] on it. Its parent
    /// is the thread's current span context unless the builder says otherwise.
    pub fn span(&self, name: impl Into<Str>) -> SpanBuilder<'_> {
        SpanBuilder::new(self, name.into())
    }

    /// Starts a span named `name`, makes it current on this thread while `f` runs, and
    /// ends it when `f` returns (or unwinds).
    ///
    /// The span is current only on this thread: threads `f` spawns, and async tasks that
    /// move between threads, do not see it unless given its context
    /// ([`ActiveSpan::span_context`], [`SpanBuilder::parent`]).
    pub fn in_span<T>(&self, name: impl Into<Str>, f: impl FnOnce(&mut ActiveSpan) -> T) -> T {
        let mut span = self.span(name).start();
        let guard = span.enter();
        let out = f(&mut span);
        drop(guard);
        drop(span);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_reuses_its_copy_of_the_tracer_state() {
        let tracer = Tracer::noop();
        let a = tracer.local_inner();
        let b = tracer.local_inner();
        assert!(Arc::ptr_eq(&a, &b), "one copy per shard, made once");
        assert!(
            !Arc::ptr_eq(&a, &tracer.inner),
            "not the shared state itself"
        );
        assert!(Arc::ptr_eq(&a.scope, &tracer.inner.scope), "the same scope");
        // A clone of the tracer shares the copies.
        assert!(Arc::ptr_eq(&tracer.clone().local_inner(), &a));
        // Another thread may be in another shard; its copy still has the same state.
        let other = std::thread::scope(|s| s.spawn(|| tracer.local_inner()).join().unwrap());
        assert!(Arc::ptr_eq(&other.scope, &tracer.inner.scope));
        assert_eq!(other.may_record, tracer.inner.may_record);
    }
}
