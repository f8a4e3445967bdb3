//! The tracing API: [`Tracer`], [`SpanBuilder`], [`ActiveSpan`], span contexts, sampling
//! and limits.
//!
//! A [`Tracer`] makes spans for one instrumentation scope. [`Tracer::span`] gives a
//! [`SpanBuilder`]; [`SpanBuilder::start`] gives an [`ActiveSpan`] guard that records
//! attributes, events, links and a status, and ends the span exactly once: on
//! [`ActiveSpan::end`] or when dropped. A sampled span is then handed to the export
//! pipeline without blocking.
//!
//! ```
//! use otlp_sync::model::{InstrumentationScope, KeyValue, Resource, SpanKind, StatusCode};
//! use otlp_sync::pipeline::{Pipeline, PipelineConfig};
//! use otlp_sync::trace::{current_span_context, TraceSettings, Tracer};
//! use otlp_sync::transport::{Request, Response, Transport, TransportError};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! struct Sink;
//! impl Transport for Sink {
//!     fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
//!         Ok(Response { status: 200, ..Default::default() })
//!     }
//! }
//! let pipeline = Pipeline::start(PipelineConfig::default(), Resource::default(), Box::new(Sink))?;
//! let scope = Arc::new(InstrumentationScope::new("pump"));
//! let tracer = Tracer::new(Some(pipeline.sender()), scope, TraceSettings::default());
//!
//! let request = tracer.span("handle").kind(SpanKind::Server).attr("route", "/level").start();
//! {
//!     let _current = request.enter();
//!     let mut child = tracer.span("read_adc").attr("channel", 3).start();
//!     assert_eq!(child.span_context().trace_id, request.span_context().trace_id);
//!     child.add_event("sampled", [KeyValue::new("value", 1017)]);
//!     child.set_status(StatusCode::Ok, "");
//! } // child ends here; the guard restores the previous current context
//! assert_eq!(current_span_context(), None);
//! request.end();
//!
//! pipeline.flush(Duration::from_secs(5)).expect("flushed");
//! assert_eq!(pipeline.stats().traces.exported, 2);
//! # Ok::<(), otlp_sync::pipeline::StartError>(())
//! ```
//!
//! # Parents and the current span
//!
//! A new span's parent is, in order: the context given to [`SpanBuilder::parent`]; none
//! after [`SpanBuilder::root`]; otherwise the thread's current span context
//! ([`current_span_context`]), set by [`ActiveSpan::enter`] / [`SpanContext::enter`] for
//! as long as the returned [`ContextGuard`] lives. The current context is a
//! thread-local: it does not follow work to other threads, nor async tasks that a
//! runtime moves between threads; pass contexts explicitly there.
//!
//! # Sampling
//!
//! The [`Sampler`] decides at start. `Drop`: the span records nothing and is never sent,
//! but still gets its own span id and a valid context that propagates (with the
//! `sampled` flag unset). `RecordOnly`: the span records but, as it is not sampled, is
//! not exported either (this crate has no span processors that could look at it).
//! `RecordAndSample`: recorded and exported.
//!
//! # Flags on the wire
//!
//! A span's OTLP `flags` hold its W3C trace flags in bits 0-7, plus
//! [`SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE`](crate::model::SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE)
//! and, when the parent came from another process,
//! [`SPAN_FLAGS_CONTEXT_IS_REMOTE`](crate::model::SPAN_FLAGS_CONTEXT_IS_REMOTE); a link's
//! flags describe the linked context the same way. Root spans made with the built-in id
//! generator carry the W3C Level 2 `random` flag ([`TRACE_FLAG_RANDOM`]), as the
//! OpenTelemetry specification recommends; children inherit it.

mod context;
mod id;
mod limits;
mod sampler;
mod span;
mod tracer;

pub use crate::model::{SpanKind, StatusCode};
pub use context::{
    ContextGuard, SpanContext, TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, TRACE_FLAGS_KNOWN,
    TRACE_STATE_MAX_MEMBERS, TraceState, TraceStateError, current_span_context, enter_context,
};
pub use id::{IdGenerator, random_span_id, random_trace_id, reseed_current_thread};
pub use limits::{DEFAULT_COUNT_LIMIT, SpanLimits, truncate_value};
pub use sampler::{ParentBased, Sampler, SamplingDecision, SamplingParams, ShouldSample};
pub use span::{ActiveSpan, SpanBuilder};
pub use tracer::{TraceSettings, Tracer};
