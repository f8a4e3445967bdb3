//! Starting spans ([`SpanBuilder`]) and recording into them ([`ActiveSpan`]).

use super::context::{
    ContextGuard, SpanContext, TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, TraceState,
    current_span_context, enter_context,
};
use super::limits::{
    SpanLimits, apply_to_list, key_bit, key_hash, set_attribute, truncate_str, truncate_value,
};
use super::sampler::{SamplingDecision, SamplingParams};
use super::tracer::{Inner, Tracer};
use crate::clock::unix_nanos;
use crate::encode::protobuf::{
    Leaf, close_field, find_key_value, fixed64_field, for_each_key, key_value_field, leaf_field,
    open_field, put_record_header, span_fields, str_field, uint_field,
};
use crate::model::{
    AnyValue, Event, KeyValue, Link, SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE,
    SPAN_FLAGS_CONTEXT_IS_REMOTE, Signal, Span, SpanId, SpanKind, Status, StatusCode, Str, TraceId,
};
use crate::scratch;
use alloc::sync::Arc;
use core::cell::RefCell;
use core::fmt;
use std::time::SystemTime;

/// Where a new span's parent comes from.
#[derive(Debug)]
enum ParentChoice {
    /// The thread's current span context, if any.
    Current,
    /// This context (a root span when it is invalid).
    Explicit(SpanContext),
    /// No parent.
    Root,
}

/// A span about to start: set its kind, attributes, links and parent, then
/// [`start`](Self::start) it. Made by [`Tracer::span`].
///
/// When the tracer is disabled (or its sampler is `AlwaysOff`) the setters store nothing.
#[must_use = "a span builder does nothing until .start()"]
pub struct SpanBuilder<'a> {
    // Kept small (the setters move it): what most spans use is inline, the rest boxed.
    tracer: &'a Tracer,
    name: Str,
    /// What is given, when it can be recorded: in a pooled box, so that the setters,
    /// which move the builder, move a pointer and the compiler can keep the rest in
    /// registers. The attributes are encoded as given when the tracer's spans are sent
    /// encoded and its sampler does not read attributes, else kept as values in the box's
    /// span (`Fields::span`).
    fields: Option<Box<Fields>>,
    extra: Option<Box<Extra>>,
    kind: SpanKind,
    /// The export queue was full when the builder was made: the span will not be recorded.
    shed: bool,
}

/// The less used parts of a [`SpanBuilder`].
#[derive(Debug)]
struct Extra {
    links: Vec<Link>,
    parent: ParentChoice,
    start_time: Option<SystemTime>,
}

impl Default for Extra {
    fn default() -> Self {
        Extra {
            links: Vec::new(),
            parent: ParentChoice::Current,
            start_time: None,
        }
    }
}

impl fmt::Debug for SpanBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanBuilder")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field(
                "attributes",
                &self.fields.as_ref().map(|f| &f.span.attributes),
            )
            .field("extra", &self.extra)
            .finish()
    }
}

impl<'a> SpanBuilder<'a> {
    #[inline]
    pub(crate) fn new(tracer: &'a Tracer, name: Str) -> Self {
        let may_record = tracer.inner.may_record;
        // A sampled span made now would be dropped by the full queue when it ends: do not
        // build it (the sampler still decides its context, and the drop is counted).
        let shed = may_record
            && tracer
                .inner
                .sender
                .as_ref()
                .is_some_and(|s| s.queue_full(Signal::Traces));
        SpanBuilder {
            shed,
            tracer,
            name,
            kind: SpanKind::Internal,
            fields: (may_record && !shed).then(Fields::take),
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The span kind. Defaults to [`SpanKind::Internal`].
    #[inline]
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.kind = kind;
        self
    }

    /// Adds an attribute. A later attribute with the same key replaces the earlier value.
    #[inline(always)]
    pub fn attr(mut self, key: impl Into<Str>, value: impl Into<AnyValue>) -> Self {
        if let Some(fields) = &mut self.fields {
            let inner = &self.tracer.inner;
            let (key, value) = (key.into(), value.into());
            if !inner.encode_in_builder {
                fields.span.attributes.push(KeyValue { key, value });
            } else if let Some(leaf) = Leaf::of(&value) {
                // Key and value in registers: their variants stay known here, so a literal
                // or scalar pair needs no drop code at all.
                fields.set_leaf(&key, leaf, &inner.settings.limits);
                value.release();
            } else {
                fields.set_attribute(KeyValue { key, value }, &inner.settings.limits);
            }
        }
        self
    }

    /// Adds attributes.
    pub fn attrs(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        if let Some(fields) = &mut self.fields {
            let inner = &self.tracer.inner;
            if inner.encode_in_builder {
                for kv in attributes {
                    fields.set_attribute(kv, &inner.settings.limits);
                }
            } else {
                fields.span.attributes.extend(attributes);
            }
        }
        self
    }

    /// Adds a link to another span's context, with attributes. A link to an invalid
    /// context is kept only when it has attributes or a trace state (specification).
    pub fn link(
        mut self,
        context: &SpanContext,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) -> Self {
        if self.fields.is_some() {
            if let Some(link) = make_link(context, attributes) {
                self.extra().links.push(link);
            }
        }
        self
    }

    /// Uses `parent` as the parent instead of the thread's current span context. An
    /// invalid context makes a root span.
    pub fn parent(mut self, parent: &SpanContext) -> Self {
        self.extra().parent = ParentChoice::Explicit(parent.clone());
        self
    }

    /// Makes a root span (a new trace), whatever the thread's current span context.
    pub fn root(mut self) -> Self {
        self.extra().parent = ParentChoice::Root;
        self
    }

    /// The start time. Defaults to the wall clock when [`start`](Self::start) is called.
    pub fn start_time(mut self, time: SystemTime) -> Self {
        self.extra().start_time = Some(time);
        self
    }

    /// Starts the span: picks ids, asks the sampler, and returns the guard that records
    /// into it and ends it (on [`ActiveSpan::end`] or drop).
    ///
    /// A span the sampler drops (or any span of a disabled tracer) is not recording and
    /// is never sent, but still has a valid context that propagates with `sampled`
    /// unset.
    ///
    /// Load shedding: when the exporter's span queue was already full as the builder was
    /// made (and the queue policy is to drop), the span is not recorded either: its
    /// context is the sampler's as usual (`sampled` propagates), but nothing is stored
    /// and, if sampled, it is counted at once as dropped by a full queue — the fate it
    /// would have met when ending. An application then pays little for spans the
    /// exporter cannot take. A disabled tracer makes no ids: its spans carry the parent's context (or
    /// the invalid one).
    pub fn start(self) -> ActiveSpan {
        if self.fields.is_none() && self.extra.is_none() {
            // Taken apart here, where the boxes are known to be empty: nothing to drop.
            let SpanBuilder {
                tracer,
                name,
                kind,
                shed,
                ..
            } = self;
            return start_unrecorded(tracer, &name, kind, shed);
        }
        let mut builder_fields = self.fields;
        let attributes = builder_fields
            .as_mut()
            .map(|f| core::mem::take(&mut f.span.attributes))
            .unwrap_or_default();
        let Extra {
            links,
            parent,
            start_time,
        } = self.extra.map(|e| *e).unwrap_or_default();
        let parent = match parent {
            ParentChoice::Current => current_span_context(),
            ParentChoice::Explicit(c) => Some(c),
            ParentChoice::Root => None,
        }
        .filter(SpanContext::is_valid);
        let inner = &self.tracer.inner;
        if inner.sender.is_none() {
            Fields::give_back(builder_fields);
            return no_pipeline(parent);
        }
        let Decided {
            context,
            decision,
            parent_span_id,
            parent_is_remote,
        } = decide(inner, parent, &self.name, self.kind, &attributes, &links);
        let settings = &inner.settings;
        let sampled = decision == SamplingDecision::RecordAndSample;
        let trace_flags = context.trace_flags;
        if decision == SamplingDecision::Drop || self.shed {
            Fields::give_back(builder_fields);
            return unrecorded(inner, context, self.shed && sampled);
        }
        let trace_id = context.trace_id;
        let span_id = context.span_id;

        let limits = &settings.limits;
        let mut attributes = attributes;
        let dropped_attributes_count = apply_to_list(
            &mut attributes,
            limits.attribute_count,
            limits.attribute_value_length,
        );
        let mut links = links;
        let dropped_links_count = links.len().saturating_sub(limits.link_count);
        links.truncate(limits.link_count);
        for link in &mut links {
            let dropped = apply_to_list(
                &mut link.attributes,
                limits.attributes_per_link,
                limits.attribute_value_length,
            );
            link.dropped_attributes_count = link.dropped_attributes_count.saturating_add(dropped);
        }
        let remote = if parent_is_remote {
            SPAN_FLAGS_CONTEXT_IS_REMOTE
        } else {
            0
        };
        // Attributes the fields dropped are added to the count when the span ends.
        let mut data = builder_fields.unwrap_or_else(Fields::take);
        data.encoded = if inner.encode_in_builder {
            true
        } else if sampled && inner.encode_spans {
            // Encode the (limited, deduplicated) attributes now; the model keeps none.
            for kv in attributes.drain(..) {
                data.push_new(kv);
            }
            true
        } else {
            false
        };
        data.sampled = sampled;
        // The pooled span is a default one (`give_back`): set what differs, field by field,
        // rather than drop it whole for a new one.
        let s = &mut data.span;
        s.trace_id = trace_id;
        s.span_id = span_id;
        s.trace_state = context.trace_state.to_str();
        s.parent_span_id = parent_span_id;
        s.flags = u32::from(trace_flags) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | remote;
        s.name = self.name;
        s.kind = self.kind;
        s.start_time_unix_nano = unix_nanos(start_time.unwrap_or_else(SystemTime::now));
        s.attributes = attributes;
        s.dropped_attributes_count = dropped_attributes_count;
        s.links = links;
        s.dropped_links_count = u32::try_from(dropped_links_count).unwrap_or(u32::MAX);
        ActiveSpan {
            context,
            recording: Some(Recording {
                tracer: self.tracer.local_inner(),
                data,
            }),
        }
    }
}

/// [`SpanBuilder::start`] of a builder that holds nothing to record (the span is shed, or
/// its tracer records nothing) and was given no parent, link or start time: the context
/// alone, without the rest of `start`.
fn start_unrecorded(tracer: &Tracer, name: &str, kind: SpanKind, shed: bool) -> ActiveSpan {
    let inner = &tracer.inner;
    let parent = current_span_context().filter(SpanContext::is_valid);
    if inner.sender.is_none() {
        return no_pipeline(parent);
    }
    let d = decide(inner, parent, name, kind, &[], &[]);
    let shed = shed && d.decision == SamplingDecision::RecordAndSample;
    unrecorded(inner, d.context, shed)
}

/// `Span.attributes`.
const ATTRIBUTES: u32 = 9;
/// `Span.events`.
const EVENTS: u32 = 11;
/// `ScopeSpans.spans`: the field a finished span is queued as.
const SPANS: u32 = 2;
/// Bytes kept free at the front of [`Fields::buf`] for the span's own field tag and length
/// (a 1-byte tag and a length below 2 MiB).
const HEADER_ROOM: usize = 4;

/// Attribute keys whose 16-bit hash tag [`Fields`] keeps.
const TAGGED: usize = 32;

/// 16 bits of a [`key_hash`] other than the ones [`key_bit`] takes, mixed down from the
/// whole hash (its low bits alone miss the key's last bytes).
#[inline]
fn key_tag(hash: u64) -> u16 {
    ((hash ^ (hash >> 32)).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 48) as u16
}

/// Replaces the `KeyValue` field `field` of key `key` in `buf[from..]` (a run of fields)
/// with what `write` writes, in place; `false`, and nothing changed, when the key is not
/// there.
fn replace_in(
    buf: &mut Vec<u8>,
    from: usize,
    field: u32,
    key: &str,
    write: impl Fn(&mut Vec<u8>),
) -> bool {
    let Some(range) = find_key_value(buf.get(from..).unwrap_or(&[]), field, key) else {
        return false;
    };
    let mut one = Vec::new();
    write(&mut one);
    buf.splice(range.start + from..range.end + from, one);
    true
}

/// What a span records, in a box from a per-thread pool: a builder's attributes, then
/// the started span. Its attributes and events are encoded as they are recorded when the
/// span is sent encoded (`encoded`), else they are kept in `span`.
struct Fields {
    /// [`HEADER_ROOM`] bytes, then `Span` fields 9 (attributes) and 11 (events) in the
    /// order they were recorded; at the end the other fields and, in front, the header.
    buf: Vec<u8>,
    /// Attributes in `buf`.
    attributes: u32,
    /// Attributes discarded by the count limit.
    dropped_attributes: u32,
    /// The [`key_bit`]s of the attribute keys in `buf`: a key whose bit is unset is not
    /// there, so setting it needs no search.
    keys: u64,
    /// 16 more bits of the [`key_hash`] of each of the first [`TAGGED`] keys, made at
    /// the first key whose bit is already set: a key whose tag is not among these is not
    /// there either, so that spans with dozens of attributes (where bits are shared)
    /// rarely search `buf`. Boxed: most spans never need it.
    tags: Option<Box<[u16; TAGGED]>>,
    /// Events in `buf`.
    events: u32,
    /// Some event lost attributes to the per-event limit.
    event_attributes_dropped: bool,
    /// The span: a builder's attributes as given, when they are not encoded as given; once
    /// started, the span itself (without attributes and events when `encoded`).
    span: Span,
    /// The span is sampled: it is exported when it ends.
    sampled: bool,
    /// Attributes and events are in `buf` (a sampled span of a tracer whose pipeline
    /// takes spans encoded).
    encoded: bool,
}

std::thread_local! {
    /// Fields of ended spans, for the next spans started on this thread. Boxed: builders
    /// and spans hold them by pointer, and a box moves in and out without a copy.
    #[allow(clippy::vec_box)]
    static SPARE_FIELDS: RefCell<Vec<Box<Fields>>> = const { RefCell::new(Vec::new()) };
}

impl Fields {
    /// Empty fields around `buf`.
    fn with_buf(buf: Vec<u8>) -> Fields {
        Fields {
            buf,
            attributes: 0,
            dropped_attributes: 0,
            keys: 0,
            tags: None,
            events: 0,
            event_attributes_dropped: false,
            span: Span::default(),
            sampled: false,
            encoded: false,
        }
    }

    /// Empty fields, from this thread's spares when it has some.
    fn take() -> Box<Fields> {
        let mut f = scratch::pop(&SPARE_FIELDS)
            .unwrap_or_else(|| Box::new(Fields::with_buf(Vec::with_capacity(512))));
        f.buf.extend_from_slice(&[0; HEADER_ROOM]);
        f
    }

    /// Attributes in `buf`.
    #[inline]
    fn count(&self) -> usize {
        self.attributes as usize
    }

    /// Returns the fields, emptied, to this thread's spares (unless the buffer grew large).
    fn give_back(fields: Option<Box<Fields>>) {
        let Some(mut f) = fields else {
            return;
        };
        if f.buf.capacity() > scratch::KEPT_BUFFER_BYTES {
            return;
        }
        f.buf.clear();
        f.attributes = 0;
        f.dropped_attributes = 0;
        f.keys = 0;
        f.tags = None;
        f.events = 0;
        f.event_attributes_dropped = false;
        // Nothing of the span outlives it in the pool.
        f.span = Span::default();
        f.sampled = false;
        f.encoded = false;
        scratch::push(&SPARE_FIELDS, f);
    }

    /// Sets one attribute under the limits: replaces the value of a key already there
    /// (it keeps its position), adds a new one while the count limit allows, else counts
    /// it dropped.
    fn set_attribute(&mut self, mut kv: KeyValue, limits: &SpanLimits) {
        if let Some(limit) = limits.attribute_value_length {
            truncate_value(&mut kv.value, limit);
        }
        self.insert(&kv, limits);
    }

    /// [`set_attribute`](Self::set_attribute) of a value that is not an array or a map.
    #[inline(never)]
    fn set_leaf(&mut self, key: &str, value: Leaf<'_>, limits: &SpanLimits) {
        let value = match (value, limits.attribute_value_length) {
            (Leaf::Str(s), Some(limit)) => Leaf::Str(truncate_str(s, limit)),
            (Leaf::Bytes(b), Some(limit)) => Leaf::Bytes(b.get(..limit).unwrap_or(b)),
            (value, _) => value,
        };
        self.put(
            key,
            limits,
            #[inline(always)]
            |out| leaf_field(ATTRIBUTES, key, value, out),
        );
    }

    /// Sets `kv` (within the value length limit already) under the count limit.
    #[inline]
    fn insert(&mut self, kv: &KeyValue, limits: &SpanLimits) {
        self.put(
            &kv.key,
            limits,
            #[inline(always)]
            |out| key_value_field(ATTRIBUTES, kv, out),
        );
    }

    /// Sets the attribute `key` that `write` appends (as a `Span.attributes` field): in
    /// place of the key's earlier value if it is there, else at the end while the count
    /// limit allows (else it is counted dropped).
    #[inline(always)]
    fn put(&mut self, key: &str, limits: &SpanLimits, write: impl Fn(&mut Vec<u8>)) {
        let hash = key_hash(key.as_bytes());
        let bit = 1u64 << (hash >> 58);
        if self.keys & bit != 0
            && self.may_hold(hash)
            && replace_in(&mut self.buf, HEADER_ROOM, ATTRIBUTES, key, &write)
        {
            return;
        }
        if self.count() >= limits.attribute_count {
            self.dropped_attributes = self.dropped_attributes.saturating_add(1);
            return;
        }
        self.keys |= bit;
        let n = self.count();
        if let Some(tag) = self.tags.as_mut().and_then(|tags| tags.get_mut(n)) {
            *tag = key_tag(hash);
        }
        write(&mut self.buf);
        self.attributes = self.attributes.saturating_add(1);
    }

    /// Whether a key of hash `hash`, whose bit is set, may be in `buf`: by the tags of
    /// the keys there (made now from `buf` if they are not yet).
    fn may_hold(&mut self, hash: u64) -> bool {
        let n = self.count();
        if n > TAGGED {
            return true;
        }
        let buf = &self.buf;
        let tags = self.tags.get_or_insert_with(|| {
            let mut tags = Box::new([0u16; TAGGED]);
            let mut i = 0;
            for_each_key(buf.get(HEADER_ROOM..).unwrap_or(&[]), ATTRIBUTES, |key| {
                if let Some(t) = tags.get_mut(i) {
                    *t = key_tag(key_hash(key));
                }
                i += 1;
            });
            tags
        });
        tags.get(..n)
            .is_none_or(|tags| tags.contains(&key_tag(hash)))
    }

    /// Adds an attribute known to be new and within the limits.
    fn push_new(&mut self, kv: KeyValue) {
        // Tags are made from `buf` when first needed.
        self.tags = None;
        self.keys |= key_bit(&kv.key);
        key_value_field(ATTRIBUTES, &kv, &mut self.buf);
        self.attributes = self.attributes.saturating_add(1);
    }

    /// Adds an event, its attributes under the per-event limits (a later duplicate key
    /// replaces the earlier value).
    fn add_event(
        &mut self,
        time_unix_nano: u64,
        name: &str,
        attributes: impl IntoIterator<Item = KeyValue>,
        limits: &SpanLimits,
    ) {
        let buf = &mut self.buf;
        let at = open_field(EVENTS, buf);
        fixed64_field(1, time_unix_nano, buf);
        str_field(2, name, buf);
        let first = buf.len();
        let (mut keys, mut count, mut dropped) = (0u64, 0usize, 0u32);
        for mut kv in attributes {
            if let Some(limit) = limits.attribute_value_length {
                truncate_value(&mut kv.value, limit);
            }
            let bit = key_bit(&kv.key);
            let replaced = keys & bit != 0
                && replace_in(buf, first, 3, &kv.key, |out| key_value_field(3, &kv, out));
            if !replaced && count >= limits.attributes_per_event {
                dropped = dropped.saturating_add(1);
            } else if !replaced {
                keys |= bit;
                key_value_field(3, &kv, buf);
                count += 1;
            }
            kv.release();
        }
        uint_field(4, u64::from(dropped), buf);
        close_field(at, buf);
        self.events = self.events.saturating_add(1);
        self.event_attributes_dropped |= dropped > 0;
    }

    /// Appends the span's other fields and writes its header in front: the finished
    /// record's bytes.
    fn finish(&mut self) -> &[u8] {
        span_fields(&self.span, &mut self.buf);
        let start = put_record_header(SPANS, HEADER_ROOM, &mut self.buf);
        self.buf.get(start..).unwrap_or(&[])
    }
}

/// A trace id from the configured generator and the flags a root span starts with.
fn new_trace_id(inner: &Inner) -> (TraceId, u8) {
    match &inner.settings.id_generator {
        None => (super::id::random_trace_id(), TRACE_FLAG_RANDOM),
        Some(g) => {
            let id = g.new_trace_id();
            if id.is_valid() {
                let flags = if g.trace_ids_are_random() {
                    TRACE_FLAG_RANDOM
                } else {
                    0
                };
                (id, flags)
            } else {
                (super::id::random_trace_id(), TRACE_FLAG_RANDOM)
            }
        }
    }
}

fn new_span_id(inner: &Inner) -> SpanId {
    match &inner.settings.id_generator {
        None => super::id::random_span_id(),
        Some(g) => Some(g.new_span_id())
            .filter(SpanId::is_valid)
            .unwrap_or_else(super::id::random_span_id),
    }
}

/// A new span's context and sampling decision ([`decide`]), with what the span keeps of
/// its parent.
struct Decided {
    context: SpanContext,
    decision: SamplingDecision,
    parent_span_id: SpanId,
    parent_is_remote: bool,
}

/// Picks a new span's ids and asks the sampler: its context (`sampled` set by the
/// decision). Not for a tracer without a pipeline ([`no_pipeline`]).
#[inline(always)]
fn decide(
    inner: &Inner,
    parent: Option<SpanContext>,
    name: &str,
    kind: SpanKind,
    attributes: &[KeyValue],
    links: &[Link],
) -> Decided {
    let (trace_id, inherited_flags) = match &parent {
        Some(p) => (p.trace_id, p.trace_flags & !TRACE_FLAG_SAMPLED),
        None => new_trace_id(inner),
    };
    let decision = inner.settings.sampler.should_sample(&SamplingParams {
        parent: parent.as_ref(),
        trace_id,
        name,
        kind,
        attributes,
        links,
    });
    let span_id = new_span_id(inner);
    let sampled = decision == SamplingDecision::RecordAndSample;
    let trace_flags = inherited_flags | if sampled { TRACE_FLAG_SAMPLED } else { 0 };
    let (parent_span_id, parent_is_remote, trace_state) = match parent {
        Some(p) => (p.span_id, p.is_remote, p.trace_state),
        None => (SpanId::INVALID, false, TraceState::EMPTY),
    };
    Decided {
        context: SpanContext {
            trace_id,
            span_id,
            trace_flags,
            trace_state,
            is_remote: false,
        },
        decision,
        parent_span_id,
        parent_is_remote,
    }
}

/// A span of a tracer without a pipeline (disabled): no ids of its own, it carries its
/// parent's context (or the invalid one).
fn no_pipeline(parent: Option<SpanContext>) -> ActiveSpan {
    ActiveSpan {
        context: parent.unwrap_or(SpanContext::INVALID),
        recording: None,
    }
}

/// A span that records nothing, of context `context`; `shed`: a sampled span the full
/// queue sheds, counted as dropped now.
fn unrecorded(inner: &Inner, context: SpanContext, shed: bool) -> ActiveSpan {
    if shed {
        if let Some(sender) = &inner.sender {
            sender.count_queue_full(Signal::Traces);
        }
    }
    ActiveSpan {
        context,
        recording: None,
    }
}

fn make_link(
    context: &SpanContext,
    attributes: impl IntoIterator<Item = KeyValue>,
) -> Option<Link> {
    let attributes: Vec<KeyValue> = attributes.into_iter().collect();
    if !context.is_valid() && attributes.is_empty() && context.trace_state.is_empty() {
        return None;
    }
    Some(Link {
        trace_id: context.trace_id,
        span_id: context.span_id,
        trace_state: context.trace_state.to_str(),
        attributes,
        dropped_attributes_count: 0,
        flags: context.otlp_flags(),
    })
}

/// What a recording span holds: two pointers, so that an [`ActiveSpan`] is small to
/// move and to drop.
struct Recording {
    tracer: Arc<Inner>,
    /// The span and what is recorded into it.
    data: Box<Fields>,
}

impl Recording {
    /// Sets one attribute under the limits, in the model or in the encoded fields.
    fn set_attribute(&mut self, kv: KeyValue) {
        let limits = &self.tracer.settings.limits;
        let d = &mut *self.data;
        if d.encoded {
            d.set_attribute(kv, limits);
        } else {
            set_attribute(
                &mut d.span.attributes,
                &mut d.span.dropped_attributes_count,
                kv,
                limits.attribute_count,
                limits.attribute_value_length,
            );
        }
    }
}

/// A started span. Record into it with its methods; it ends exactly once, on
/// [`end`](Self::end) / [`end_at`](Self::end_at) or when dropped, and a sampled span is
/// then queued for export (never blocking; if the queue is full or the exporter is shut
/// down, the span is dropped and counted in the exporter's stats).
///
/// It is `Send`: a span may be ended on another thread than the one that started it.
/// Everything is a no-op on a span that is not recording.
pub struct ActiveSpan {
    context: SpanContext,
    recording: Option<Recording>,
}

impl fmt::Debug for ActiveSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ActiveSpan");
        d.field("context", &self.context);
        if let Some(r) = &self.recording {
            d.field("span", &r.data.span)
                .field("sampled", &r.data.sampled);
        }
        d.finish()
    }
}

impl ActiveSpan {
    /// This span's context: what children and propagators use.
    pub fn span_context(&self) -> &SpanContext {
        &self.context
    }

    /// Whether the span records what is set on it (the sampler said `RecordOnly` or
    /// `RecordAndSample`, and it has not ended).
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Makes this span the thread's current span until the guard is dropped: spans
    /// started meanwhile on this thread become its children. Guards nest.
    pub fn enter(&self) -> ContextGuard {
        enter_context(self.context.clone())
    }

    /// Sets an attribute: replaces the value when the key is already there, otherwise
    /// adds it if the attribute count limit allows (else counts it dropped).
    pub fn set_attribute(&mut self, key: impl Into<Str>, value: impl Into<AnyValue>) {
        if let Some(r) = &mut self.recording {
            r.set_attribute(KeyValue::new(key, value));
        }
    }

    /// Sets several attributes, as [`set_attribute`](Self::set_attribute) does.
    pub fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        if let Some(r) = &mut self.recording {
            for kv in attributes {
                r.set_attribute(kv);
            }
        }
    }

    /// Adds an event timestamped now.
    pub fn add_event(
        &mut self,
        name: impl Into<Str>,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        if self.recording.is_some() {
            self.add_event_at(name, SystemTime::now(), attributes);
        } else {
            // Not recording: the attributes go, scalars and strings dropped inline.
            attributes.into_iter().for_each(KeyValue::release);
        }
    }

    /// Adds an event with its own timestamp. Beyond the event count limit the event is
    /// discarded and counted; beyond the per-event attribute limit, its extra attributes.
    pub fn add_event_at(
        &mut self,
        name: impl Into<Str>,
        time: SystemTime,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        let Some(r) = &mut self.recording else {
            return;
        };
        let limits = &r.tracer.settings.limits;
        let d = &mut *r.data;
        let events = if d.encoded {
            d.events as usize
        } else {
            d.span.events.len()
        };
        if events >= limits.event_count {
            d.span.dropped_events_count = d.span.dropped_events_count.saturating_add(1);
            return;
        }
        if d.encoded {
            d.add_event(unix_nanos(time), &name.into(), attributes, limits);
            return;
        }
        let mut attributes: Vec<KeyValue> = attributes.into_iter().collect();
        let dropped_attributes_count = apply_to_list(
            &mut attributes,
            limits.attributes_per_event,
            limits.attribute_value_length,
        );
        if d.span.events.capacity() == 0 {
            // Most spans have few events: start with room for exactly one.
            d.span.events.reserve_exact(1);
        }
        d.span.events.push(Event {
            time_unix_nano: unix_nanos(time),
            name: name.into(),
            attributes,
            dropped_attributes_count,
        });
    }

    /// Adds a link after the start (the sampler does not see it). Beyond the link count
    /// limit it is discarded and counted.
    pub fn add_link(
        &mut self,
        context: &SpanContext,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) {
        let Some(r) = &mut self.recording else {
            return;
        };
        let limits = &r.tracer.settings.limits;
        let Some(mut link) = make_link(context, attributes) else {
            return;
        };
        let s = &mut r.data.span;
        if s.links.len() >= limits.link_count {
            s.dropped_links_count = s.dropped_links_count.saturating_add(1);
            return;
        }
        link.dropped_attributes_count = apply_to_list(
            &mut link.attributes,
            limits.attributes_per_link,
            limits.attribute_value_length,
        );
        s.links.push(link);
    }

    /// Sets the status, by the specification's rules: `Ok` is final (later calls are
    /// ignored), setting `Unset` is ignored, and the message is kept only with `Error`.
    pub fn set_status(&mut self, code: StatusCode, message: impl Into<Str>) {
        let Some(r) = &mut self.recording else {
            return;
        };
        let s = &mut r.data.span;
        match (s.status.code, code) {
            (StatusCode::Ok, _) | (_, StatusCode::Unset) => {}
            (_, StatusCode::Ok) => {
                s.status = Status {
                    code,
                    message: Str::Borrowed(""),
                }
            }
            (_, StatusCode::Error) => {
                s.status = Status {
                    code,
                    message: message.into(),
                }
            }
        }
    }

    /// Renames the span.
    pub fn update_name(&mut self, name: impl Into<Str>) {
        if let Some(r) = &mut self.recording {
            r.data.span.name = name.into();
        }
    }

    /// Ends the span now.
    #[inline]
    pub fn end(mut self) {
        self.finish(None);
    }

    /// Ends the span with the given end time.
    pub fn end_at(mut self, time: SystemTime) {
        self.finish(Some(time));
    }

    #[inline]
    fn finish(&mut self, time: Option<SystemTime>) {
        if self.recording.is_some() {
            self.finish_recording(time);
        }
    }

    /// [`finish`](Self::finish) of a recording span: queues it if it is sampled, and gives
    /// its box back to the thread's pool.
    #[inline(never)]
    fn finish_recording(&mut self, time: Option<SystemTime>) {
        let Some(Recording { tracer, mut data }) = self.recording.take() else {
            return;
        };
        if data.sampled {
            let d = &mut *data;
            let encoded = d.encoded;
            let s = &mut d.span;
            if encoded {
                s.dropped_attributes_count = s
                    .dropped_attributes_count
                    .saturating_add(d.dropped_attributes);
            }
            let dropped_event_attributes = s.events.iter().any(|e| e.dropped_attributes_count > 0)
                || (encoded && d.event_attributes_dropped);
            let dropped_link_attributes = s.links.iter().any(|l| l.dropped_attributes_count > 0);
            if s.dropped_attributes_count > 0
                || s.dropped_events_count > 0
                || s.dropped_links_count > 0
                || dropped_event_attributes
                || dropped_link_attributes
            {
                // Once per span at most, and rate-limited per call site by `diag!`.
                diag!(
                    Warn,
                    "span {:?} hit the span limits: {} attributes, {} events, {} links dropped \
                     (and some event or link attributes: {})",
                    s.name,
                    s.dropped_attributes_count,
                    s.dropped_events_count,
                    s.dropped_links_count,
                    dropped_event_attributes || dropped_link_attributes
                );
            }
            s.end_time_unix_nano = unix_nanos(time.unwrap_or_else(SystemTime::now));
            // Full or shut down: already counted as dropped by the pipeline.
            if let (Some(sender), Some(scope)) = (&tracer.sender, tracer.scope_handle) {
                if encoded {
                    let _ = sender.send_encoded_span_bytes(scope, d.finish());
                } else {
                    let _ = sender.send_span_in(scope, core::mem::take(&mut d.span));
                }
            }
        }
        Fields::give_back(Some(data));
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        self.finish(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builder moves on every setter call, the span handle on `start` and `end`:
    /// both stay a few words (the rest is in the pooled box).
    #[test]
    fn builder_and_span_handles_stay_small() {
        let word = size_of::<usize>();
        assert!(
            size_of::<SpanBuilder<'_>>() <= 7 * word,
            "SpanBuilder is {} bytes",
            size_of::<SpanBuilder<'_>>()
        );
        assert!(
            size_of::<ActiveSpan>() <= size_of::<SpanContext>() + 2 * word,
            "ActiveSpan is {} bytes",
            size_of::<ActiveSpan>()
        );
    }
}
