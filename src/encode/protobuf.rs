//! OTLP protobuf encoding, written straight from [`crate::model`] values.
//!
//! [`ProtoEncoder`] turns grouped records into the bytes of an
//! `ExportTraceServiceRequest`, `ExportLogsServiceRequest` or
//! `ExportMetricsServiceRequest`, appending them to a caller-owned `Vec<u8>`. No message
//! tree is built: a first pass computes the length of every nested message and caches it
//! in a scratch vector owned by the encoder (reused between calls), a second pass writes
//! the bytes. After warm-up an encode allocates nothing beyond growing `out`.
//!
//! The output is canonical proto3, byte for byte what `prost` produces for the same
//! message:
//!
//! * fields in field-number order (a `oneof` sits at the position of its lowest number, as
//!   `prost` writes it);
//! * scalar fields equal to their default (`0`, `0.0`, `-0.0`, `""`, `false`) omitted, and
//!   invalid (all-zero) trace and span ids omitted;
//! * `optional` fields (histogram `sum`, `min`, `max`) and `oneof` members (an
//!   attribute's `int_value: 0`, a point's `as_double: 0.0`) written whenever they are set;
//! * repeated scalars packed.
//!
//! Message-typed fields are written as follows: `resource` and `scope` always (possibly
//! empty), `Span.status` always, `ExponentialHistogramDataPoint.positive` and `negative`
//! always, a `KeyValue`'s `value` always ([`AnyValue::Empty`] becomes an empty `AnyValue`
//! message), and `LogRecord.body` only when it is not [`AnyValue::Empty`].
//!
//! `AnyValue` arrays and key-value lists nested deeper than [`MAX_ANY_VALUE_DEPTH`] are
//! written as empty `AnyValue` messages, exactly as the JSON encoder writes them as `{}`.
//! This bounds the encoder's stack use on any input (a value nested a hundred thousand
//! levels deep cannot overflow the stack) and keeps both encodings of one batch equal. The
//! `*_encoded_len` functions apply the same cut.

use crate::model::{
    AnyValue, Buckets, Event, Exemplar, ExponentialHistogramDataPoint, HistogramDataPoint,
    InstrumentationScope, KeyValue, Link, LogRecord, Metric, MetricData, NumberDataPoint,
    NumberValue, Resource, ResourceGroup, ScopeGroup, Span, SummaryDataPoint, ValueAtQuantile,
};
use alloc::vec::Vec;

use super::MAX_ANY_VALUE_DEPTH;

/// Protobuf wire type of varint fields.
const VARINT: u32 = 0;
/// Wire type of 8-byte fields (`fixed64`, `sfixed64`, `double`).
const FIXED64: u32 = 1;
/// Wire type of length-delimited fields (strings, bytes, messages, packed scalars).
const LEN: u32 = 2;
/// Wire type of 4-byte fields (`fixed32`).
const FIXED32: u32 = 5;

/// Encodes batches of spans, log records and metrics as OTLP protobuf request bodies.
///
/// The encoder holds only scratch space (the cached lengths of nested messages); keep one
/// per exporter thread and reuse it so that encoding stops allocating after the first
/// batches.
///
/// ```
/// use otlp_sync::encode::protobuf::{ProtoEncoder, span_encoded_len};
/// use otlp_sync::model::{InstrumentationScope, Resource, ResourceGroup, ScopeGroup};
/// use otlp_sync::model::{Span, SpanId, TraceId};
///
/// let resource = Resource::default();
/// let scope = InstrumentationScope::new("demo");
/// let spans = [Span::new("work", TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]))];
/// let scopes = [ScopeGroup { scope: &scope, records: &spans }];
/// let groups = [ResourceGroup { resource: &resource, scopes: &scopes }];
///
/// let mut encoder = ProtoEncoder::new();
/// let mut body = Vec::new();
/// encoder.encode_traces(&groups, &mut body);
/// // ResourceSpans(tag, len) + empty Resource(2) + ScopeSpans(tag, len)
/// // + InstrumentationScope "demo"(2 + 6) + the span.
/// assert_eq!(body.len(), 2 + 2 + 2 + 8 + span_encoded_len(&spans[0]));
///
/// // Encoding appends: the caller clears between batches.
/// let first = body.clone();
/// body.clear();
/// encoder.encode_traces(&groups, &mut body);
/// assert_eq!(body, first);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ProtoEncoder {
    /// Lengths of nested messages in the order the write pass needs them (pre-order).
    sizes: Vec<usize>,
    /// Where a flat record is written before its length is known (single pass).
    scratch: Vec<u8>,
}

impl ProtoEncoder {
    /// A new encoder with empty scratch space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an `ExportTraceServiceRequest` holding `groups` to `out`.
    pub fn encode_traces(&mut self, groups: &[ResourceGroup<'_, Span>], out: &mut Vec<u8>) {
        self.encode(groups, out);
    }

    /// Appends an `ExportLogsServiceRequest` holding `groups` to `out`.
    pub fn encode_logs(&mut self, groups: &[ResourceGroup<'_, LogRecord>], out: &mut Vec<u8>) {
        self.encode(groups, out);
    }

    /// Appends an `ExportMetricsServiceRequest` holding `groups` to `out`.
    pub fn encode_metrics(&mut self, groups: &[ResourceGroup<'_, Metric>], out: &mut Vec<u8>) {
        self.encode(groups, out);
    }

    /// Appends a request holding records encoded earlier ([`span_record`](Self::span_record)
    /// and its siblings) to `out`. The request's message type is that of the records: the
    /// resource and scope framing is the same for all three signals.
    ///
    /// The bytes equal those of [`encode_traces`](Self::encode_traces) (or its siblings) for
    /// the same records:
    ///
    /// ```
    /// use otlp_sync::encode::protobuf::ProtoEncoder;
    /// use otlp_sync::model::{InstrumentationScope, Resource, ResourceGroup, ScopeGroup};
    /// use otlp_sync::model::{Span, SpanId, TraceId};
    ///
    /// let resource = Resource::default();
    /// let scope = InstrumentationScope::new("demo");
    /// let spans = [Span::new("work", TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]))];
    /// let mut encoder = ProtoEncoder::new();
    ///
    /// let mut direct = Vec::new();
    /// let scopes = [ScopeGroup { scope: &scope, records: &spans }];
    /// encoder.encode_traces(&[ResourceGroup { resource: &resource, scopes: &scopes }], &mut direct);
    ///
    /// let encoded = [encoder.span_record(&spans[0])];
    /// let mut from_records = Vec::new();
    /// let scopes = [ScopeGroup { scope: &scope, records: &encoded }];
    /// encoder.encode_records(&[ResourceGroup { resource: &resource, scopes: &scopes }], &mut from_records);
    /// assert_eq!(from_records, direct);
    /// ```
    pub fn encode_records(
        &mut self,
        groups: &[ResourceGroup<'_, EncodedRecord>],
        out: &mut Vec<u8>,
    ) {
        self.encode(groups, out);
    }

    #[cfg(feature = "std")] // used by the export pipeline only
    /// Appends an export request (any signal: the envelope's field numbers are the same)
    /// for runs of records encoded on their own, as
    /// [`encode_records`](Self::encode_records) does for single records.
    pub(crate) fn encode_record_runs(
        &mut self,
        groups: &[ResourceGroup<'_, EncodedRecords<'_>>],
        out: &mut Vec<u8>,
    ) {
        self.encode(groups, out);
    }

    /// Encodes one span on its own, ready to be copied into a request by
    /// [`encode_records`](Self::encode_records). The allocation is exactly the size of
    /// the bytes.
    pub fn span_record(&mut self, span: &Span) -> EncodedRecord {
        self.record(span)
    }

    /// Encodes one span as [`span_record`](Self::span_record) does, with `fields` (further
    /// `Span` fields already encoded, such as attributes from
    /// [`key_value_field`](Self::key_value_field) and events from
    /// [`event_field`](Self::event_field)) appended to its message. Protobuf readers merge
    /// a message's fields in any order, repeated ones keeping their relative order.
    ///
    /// ```
    /// use otlp_sync::encode::protobuf::ProtoEncoder;
    /// use otlp_sync::model::{Event, KeyValue, Span, SpanId, TraceId};
    /// let mut enc = ProtoEncoder::new();
    /// let mut span = Span::new("work", TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
    /// let mut fields = Vec::new();
    /// enc.key_value_field(9, &KeyValue::new("k", 1), &mut fields);
    /// enc.event_field(5, "e", &[], 0, &mut fields);
    /// let record = enc.span_record_with(&span, &fields);
    /// // The same fields, written after the others: the same bytes, in another order.
    /// span.attributes.push(KeyValue::new("k", 1));
    /// span.events.push(Event { time_unix_nano: 5, name: "e".into(), ..Default::default() });
    /// let canonical = enc.span_record(&span);
    /// assert_eq!(record.len(), canonical.len());
    /// assert!(record.as_bytes().ends_with(&fields));
    /// ```
    pub fn span_record_with(&mut self, span: &Span, fields: &[u8]) -> EncodedRecord {
        self.record_with(span, fields)
    }

    /// Encodes one log record with `fields` (further `LogRecord` fields already encoded,
    /// such as attributes from [`key_value_field`](Self::key_value_field) with field 6)
    /// appended to its message; see [`span_record_with`](Self::span_record_with).
    ///
    /// ```
    /// use otlp_sync::encode::protobuf::ProtoEncoder;
    /// use otlp_sync::model::{KeyValue, LogRecord, Severity};
    /// let mut enc = ProtoEncoder::new();
    /// let mut r = LogRecord { severity_number: Severity::INFO, body: "hi".into(), ..Default::default() };
    /// let mut fields = Vec::new();
    /// enc.key_value_field(6, &KeyValue::new("k", 1), &mut fields);
    /// let record = enc.log_record_with(&r, &fields);
    /// // Attributes are field 6, after the body (5) and before the rest: here the same bytes.
    /// r.attributes.push(KeyValue::new("k", 1));
    /// assert_eq!(record.len(), enc.log_record(&r).len());
    /// ```
    pub fn log_record_with(&mut self, record: &LogRecord, fields: &[u8]) -> EncodedRecord {
        self.record_with(record, fields)
    }

    /// Appends one `KeyValue` as field `field` (9 for a span's attributes) to `out`.
    ///
    /// [`key_value_field`] does the same without an encoder, allocating scratch space only
    /// for array and map values.
    pub fn key_value_field(&mut self, field: u32, kv: &KeyValue, out: &mut Vec<u8>) {
        if let Some(leaf) = Leaf::of(&kv.value) {
            leaf_field(field, &kv.key, leaf, out);
            return;
        }
        self.sizes.clear();
        key_value_len(kv, 1, &mut self.sizes);
        let mut w = Writer {
            out,
            sizes: &self.sizes,
            next: 0,
        };
        w.key_value(field, kv, 1);
        self.trim();
    }

    /// Appends one span event (`Span` field 11) to `out`.
    pub fn event_field(
        &mut self,
        time_unix_nano: u64,
        name: &str,
        attributes: &[KeyValue],
        dropped_attributes_count: u32,
        out: &mut Vec<u8>,
    ) {
        let fixed = fixed64_len(1, time_unix_nano)
            + str_len(2, name)
            + uint_len(4, u64::from(dropped_attributes_count));
        // Leaf attributes need no cached lengths: sum them on the spot when all are.
        let leaves = attributes.iter().try_fold(0, |n, kv| {
            leaf_key_value_len(kv, 1).map(|len| n + len_field(3, len))
        });
        self.sizes.clear();
        let n = match leaves {
            Some(attrs) => fixed + attrs,
            None => {
                let slot = self.sizes.open();
                let n = fixed + attrs_len(3, attributes, &mut self.sizes);
                self.sizes.close(slot, n);
                // The write pass reads the event's own slot first.
                self.sizes.remove(slot);
                n
            }
        };
        let mut w = Writer {
            out,
            sizes: &self.sizes,
            next: 0,
        };
        w.header(11, n);
        w.fixed64(1, time_unix_nano);
        w.str(2, name);
        w.attrs(3, attributes);
        w.uint(4, u64::from(dropped_attributes_count));
        self.trim();
    }

    /// Drops scratch space grown past [`MAX_KEPT_SIZES`] or [`MAX_KEPT_SCRATCH`]: a record
    /// with thousands of nested messages must not pin that much in every thread that
    /// ever encoded one.
    fn trim(&mut self) {
        if self.sizes.capacity() > MAX_KEPT_SIZES {
            self.sizes = Vec::new();
        }
        if self.scratch.capacity() > MAX_KEPT_SCRATCH {
            self.scratch = Vec::new();
        }
    }

    /// Encodes one log record on its own; see [`span_record`](Self::span_record).
    pub fn log_record(&mut self, record: &LogRecord) -> EncodedRecord {
        self.record(record)
    }

    /// Encodes one metric on its own; see [`span_record`](Self::span_record).
    pub fn metric_record(&mut self, metric: &Metric) -> EncodedRecord {
        self.record(metric)
    }

    fn record<T: Record>(&mut self, r: &T) -> EncodedRecord {
        self.record_with(r, &[])
    }

    /// Encodes `r` as field 2 of its `Scope*` message with `fields` (already encoded
    /// fields of the same message) appended to its body, into one exact-size allocation.
    fn record_with<T: Record>(&mut self, r: &T, fields: &[u8]) -> EncodedRecord {
        let mut out = Vec::new();
        let header = self.record_into(r, fields, &mut out);
        EncodedRecord {
            header,
            bytes: out.into_boxed_slice(),
        }
    }

    /// Appends what [`record_with`](Self::record_with) encodes to `out` (reserving
    /// exactly the room it needs); returns the length of its field tag and length prefix.
    fn record_into<T: Record>(&mut self, r: &T, fields: &[u8], out: &mut Vec<u8>) -> u8 {
        let start = out.len();
        let body_len = if r.is_flat() {
            // One pass: no nested length to cache, so write the record (after a
            // placeholder header) into scratch space and copy it behind the real header.
            self.scratch.clear();
            r.write(&mut Writer {
                out: &mut self.scratch,
                sizes: &[0],
                next: 0,
            });
            let own = self.scratch.get(2..).unwrap_or(&[]);
            let body_len = own.len() + fields.len();
            out.reserve_exact(len_field(2, body_len));
            Writer {
                out,
                sizes: &[],
                next: 0,
            }
            .header(2, body_len);
            out.extend_from_slice(own);
            body_len
        } else {
            self.sizes.clear();
            let body_len = r.body_len(&mut self.sizes) + fields.len();
            // The record's own length is the first slot the length pass opened.
            if let Some(first) = self.sizes.first_mut() {
                *first = body_len;
            }
            out.reserve_exact(len_field(2, body_len));
            r.write(&mut Writer {
                out,
                sizes: &self.sizes,
                next: 0,
            });
            body_len
        };
        out.extend_from_slice(fields);
        self.trim();
        u8::try_from(out.len() - start - body_len).unwrap_or(u8::MAX)
    }

    #[cfg(feature = "std")] // used by the export pipeline only
    /// Appends one span to `out` as [`span_record`](Self::span_record) encodes it.
    pub(crate) fn span_record_into(&mut self, span: &Span, out: &mut Vec<u8>) {
        self.record_into(span, &[], out);
    }

    #[cfg(feature = "std")] // used by the export pipeline only
    /// Appends one log record to `out` as [`log_record`](Self::log_record) encodes it.
    pub(crate) fn log_record_into(&mut self, record: &LogRecord, out: &mut Vec<u8>) {
        self.record_into(record, &[], out);
    }

    #[cfg(feature = "std")] // used by the export pipeline only
    /// Appends one metric to `out` as [`metric_record`](Self::metric_record) encodes it.
    pub(crate) fn metric_record_into(&mut self, metric: &Metric, out: &mut Vec<u8>) {
        self.record_into(metric, &[], out);
    }

    fn encode<T: Record>(&mut self, groups: &[ResourceGroup<'_, T>], out: &mut Vec<u8>) {
        self.sizes.clear();
        let mut total = 0;
        for g in groups {
            total += len_field(1, resource_group_len(g, &mut self.sizes));
        }
        out.reserve(total);
        let mut w = Writer {
            out,
            sizes: &self.sizes,
            next: 0,
        };
        for g in groups {
            w.resource_group(g);
        }
    }
}

/// Scratch lengths an encoder keeps between single-record encodes (4 KiB on 64-bit).
const MAX_KEPT_SIZES: usize = 512;
/// Scratch bytes an encoder keeps between single-record encodes.
const MAX_KEPT_SCRATCH: usize = 16 * 1024;

/// One span, log record or metric encoded on its own (by [`ProtoEncoder::span_record`]
/// and its siblings): the bytes it takes inside its `Scope*` message, field tag and length
/// prefix included. [`ProtoEncoder::encode_records`] copies them into a request.
///
/// This is how the export pipeline queues records: encoded on the thread that sends them,
/// a record costs the queue its wire size (one allocation), instead of the model's
/// several allocations, and the export thread only copies bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedRecord {
    bytes: alloc::boxed::Box<[u8]>,
    /// Length of the field tag and length prefix at the front of `bytes`.
    header: u8,
}

impl EncodedRecord {
    /// The bytes, field tag and length prefix included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, field tag and length prefix included, without copying them.
    pub fn into_bytes(self) -> alloc::boxed::Box<[u8]> {
        self.bytes
    }

    /// The record's message body (without the field tag and length prefix).
    pub fn body(&self) -> &[u8] {
        self.bytes.get(usize::from(self.header)..).unwrap_or(&[])
    }

    /// Bytes the record adds to a request: `as_bytes().len()`.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes (never the case for an encoded record).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl core::fmt::Debug for EncodedRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncodedRecord")
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Record for EncodedRecord {
    fn body_len<S: Sizes>(&self, _: &mut S) -> usize {
        self.bytes.len().saturating_sub(usize::from(self.header))
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.out.extend_from_slice(&self.bytes);
    }
}

#[cfg(feature = "std")] // used by the export pipeline only
/// A run of records of one scope encoded on their own: the bytes of several
/// [`EncodedRecord::as_bytes`], one after the other (how the export pipeline's packed
/// queue and batches hold them). [`ProtoEncoder::encode_record_runs`] copies runs into a
/// request as they are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EncodedRecords<'a>(pub(crate) &'a [u8]);

#[cfg(feature = "std")]
impl Record for EncodedRecords<'_> {
    /// Not one message: [`field_len`](Record::field_len) gives the run's size.
    fn body_len<S: Sizes>(&self, _: &mut S) -> usize {
        self.0.len()
    }

    fn field_len<S: Sizes>(&self, _: &mut S) -> usize {
        self.0.len()
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.out.extend_from_slice(self.0);
    }
}

/// Appends one `KeyValue` as field `field` to `out`; see [`ProtoEncoder::key_value_field`],
/// which this calls with a new encoder for array and map values only.
///
/// ```
/// use otlp_sync::encode::protobuf::{ProtoEncoder, key_value_field};
/// use otlp_sync::model::{AnyValue, KeyValue};
/// for kv in [KeyValue::new("k", "v"), KeyValue::new("list", vec![AnyValue::from(1)])] {
///     let (mut a, mut b) = (Vec::new(), Vec::new());
///     key_value_field(6, &kv, &mut a);
///     ProtoEncoder::new().key_value_field(6, &kv, &mut b);
///     assert_eq!(a, b);
/// }
/// ```
#[inline(always)]
pub fn key_value_field(field: u32, kv: &KeyValue, out: &mut Vec<u8>) {
    match Leaf::of(&kv.value) {
        Some(leaf) => leaf_field(field, &kv.key, leaf, out),
        None => key_value_field_slow(field, kv, out),
    }
}

/// A value that is not an array or a map, borrowed: what most attributes hold, passed in
/// registers where an [`AnyValue`] would be passed in memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Leaf<'a> {
    /// `AnyValue::Empty`.
    Empty,
    /// `AnyValue::Str`.
    Str(&'a str),
    /// `AnyValue::Bool`.
    Bool(bool),
    /// `AnyValue::Int`.
    Int(i64),
    /// `AnyValue::Double`.
    Double(f64),
    /// `AnyValue::Bytes`.
    Bytes(&'a [u8]),
}

impl<'a> Leaf<'a> {
    /// The leaf `v` is; `None` for an array or a map.
    #[inline(always)]
    pub(crate) fn of(v: &'a AnyValue) -> Option<Leaf<'a>> {
        match v {
            AnyValue::Empty => Some(Leaf::Empty),
            AnyValue::Str(s) => Some(Leaf::Str(s)),
            AnyValue::Bool(b) => Some(Leaf::Bool(*b)),
            AnyValue::Int(i) => Some(Leaf::Int(*i)),
            AnyValue::Double(d) => Some(Leaf::Double(*d)),
            AnyValue::Bytes(b) => Some(Leaf::Bytes(b)),
            AnyValue::Array(_) | AnyValue::KvList(_) => None,
        }
    }

    /// The body of its `AnyValue` message.
    #[inline]
    fn body_len(self) -> usize {
        match self {
            Leaf::Empty => 0,
            Leaf::Str(x) => len_field(1, x.len()),
            Leaf::Bool(_) => 2,
            Leaf::Int(i) => 1 + varint_len(i as u64),
            Leaf::Double(_) => 9,
            Leaf::Bytes(b) => len_field(7, b.len()),
        }
    }
}

/// Appends `key: value` as a `KeyValue` field `field`: the bytes [`key_value_field`] writes
/// for the pair.
#[inline(always)]
pub(crate) fn leaf_field(field: u32, key: &str, value: Leaf<'_>, out: &mut Vec<u8>) {
    Writer {
        out,
        sizes: &[],
        next: 0,
    }
    .leaf_key_value(field, key, value);
}

/// [`leaf_field`] of any pair, with varint lengths: the pairs
/// [`Writer::short_leaf`] does not take. Out of line and cold (a pair of 128 bytes or
/// more is rare), and given the output alone, so that the writer on the short path stays
/// in registers.
#[cold]
#[inline(never)]
fn long_leaf_field(field: u32, key: &str, value: Leaf<'_>, out: &mut Vec<u8>) {
    let mut w = Writer {
        out,
        sizes: &[],
        next: 0,
    };
    w.header(field, str_len(1, key) + len_field(2, value.body_len()));
    w.str(1, key);
    w.leaf_value(2, value);
}

/// [`key_value_field`] for the pairs its fast path does not take.
#[cold]
#[inline(never)]
fn key_value_field_slow(field: u32, kv: &KeyValue, out: &mut Vec<u8>) {
    ProtoEncoder::new().key_value_field(field, kv, out);
}

/// Appends the fields of `span` (its message body, without a tag or length) to `out`.
///
/// With [`put_record_header`] this makes the same record as [`ProtoEncoder::span_record`]
/// when written behind fields that instrumentation encoded as it recorded (attributes
/// with [`key_value_field`], events with [`open_field`]): a span that holds no events or
/// links and only leaf attributes, the common case, is written in one pass with no
/// scratch space.
pub fn span_fields(span: &Span, out: &mut Vec<u8>) {
    let flat = span.events.is_empty()
        && span.links.is_empty()
        && span
            .attributes
            .iter()
            .all(|kv| !matches!(kv.value, AnyValue::Array(_) | AnyValue::KvList(_)));
    record_fields(span, flat, out, |w, s| w.span_fields(s));
}

/// Appends the fields of `record` (its message body, without a tag or length) to `out`;
/// the log record twin of [`span_fields`]. A record whose body and attributes are
/// leaves (no arrays or maps) is written in one pass with no scratch space.
pub fn log_record_fields(record: &LogRecord, out: &mut Vec<u8>) {
    record_fields(record, record.is_flat(), out, |w, r| w.log_record_fields(r));
}

/// Writes `r`'s fields with `write`: at once when `flat` (no nested length to cache),
/// else after a length pass whose first slot, the record's own length, is skipped.
fn record_fields<T: Record>(r: &T, flat: bool, out: &mut Vec<u8>, write: fn(&mut Writer<'_>, &T)) {
    let mut sizes = Vec::new();
    if !flat {
        r.body_len(&mut sizes);
    }
    write(
        &mut Writer {
            out,
            sizes: &sizes,
            next: usize::from(!flat),
        },
        r,
    );
}

/// Starts a length-delimited field `tag` whose length is not known yet: writes its key
/// and a one-byte placeholder length, and returns where the length goes, for
/// [`close_field`].
pub fn open_field(tag: u32, out: &mut Vec<u8>) -> usize {
    Writer {
        out,
        sizes: &[],
        next: 0,
    }
    .key(tag, LEN);
    out.push(0);
    out.len() - 1
}

/// Sets the length of the field opened at `at` by [`open_field`] to the bytes written
/// after it, moving them when the length takes more than one byte.
pub fn close_field(at: usize, out: &mut Vec<u8>) {
    let len = out.len().saturating_sub(at + 1);
    if len < 0x80 {
        if let Some(b) = out.get_mut(at) {
            *b = len as u8;
        }
        return;
    }
    let mut prefix = Vec::with_capacity(4);
    Writer {
        out: &mut prefix,
        sizes: &[],
        next: 0,
    }
    .varint(len as u64);
    if at < out.len() {
        out.splice(at..=at, prefix);
    }
}

/// Appends a 64-bit fixed-width field (omitted when zero).
pub fn fixed64_field(tag: u32, v: u64, out: &mut Vec<u8>) {
    Writer {
        out,
        sizes: &[],
        next: 0,
    }
    .fixed64(tag, v);
}

/// Appends a string field (omitted when empty).
pub fn str_field(tag: u32, v: &str, out: &mut Vec<u8>) {
    Writer {
        out,
        sizes: &[],
        next: 0,
    }
    .str(tag, v);
}

/// Appends a varint field (omitted when zero).
pub fn uint_field(tag: u32, v: u64, out: &mut Vec<u8>) {
    Writer {
        out,
        sizes: &[],
        next: 0,
    }
    .uint(tag, v);
}

/// Writes the key and length of field `tag` holding `buf[reserved..]` into the end of the
/// first `reserved` bytes of `buf` (kept free for it), and returns where the field now
/// starts: `buf[start..]` is the whole field. When the header needs more than `reserved`
/// bytes (a field of 2 MiB or more behind 4 bytes), `buf` grows at the front to make room
/// and the field starts at 0.
///
/// ```
/// use otlp_sync::encode::protobuf::put_record_header;
/// let mut buf = vec![0, 0, 0, 0, b'h', b'i'];
/// let start = put_record_header(2, 4, &mut buf);
/// assert_eq!(&buf[start..], &[0x12, 2, b'h', b'i']);
/// // No room kept: the header is inserted.
/// let mut buf = vec![b'h', b'i'];
/// let start = put_record_header(2, 0, &mut buf);
/// assert_eq!(&buf[start..], &[0x12, 2, b'h', b'i']);
/// ```
pub fn put_record_header(tag: u32, reserved: usize, buf: &mut Vec<u8>) -> usize {
    let reserved = reserved.min(buf.len());
    let len = buf.len() - reserved;
    let mut head = [0u8; 20];
    let mut n = 0;
    for v in [u64::from((tag << 3) | LEN), len as u64] {
        let mut v = v;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if let Some(b) = head.get_mut(n) {
                *b = if v == 0 { byte } else { byte | 0x80 };
            }
            n += 1;
            if v == 0 {
                break;
            }
        }
    }
    let head = head.get(..n).unwrap_or(&[]);
    match (reserved.checked_sub(n), buf.get_mut(..reserved)) {
        (Some(start), Some(room)) => {
            if let Some(room) = room.get_mut(start..) {
                room.copy_from_slice(head);
            }
            start
        }
        _ => header_in_front(head, reserved, buf),
    }
}

/// [`put_record_header`] when the header does not fit the room kept (a record of 2 MiB or
/// more behind 4 bytes): the body moves to make room.
#[cold]
#[inline(never)]
fn header_in_front(head: &[u8], reserved: usize, buf: &mut Vec<u8>) -> usize {
    buf.splice(..reserved, head.iter().copied());
    0
}

/// The byte range, within `buf` (a run of length-delimited fields, as
/// [`ProtoEncoder::key_value_field`] and [`ProtoEncoder::event_field`] append them), of the
/// first `KeyValue` field `field` whose key is `key`. `None` when there is none, or when
/// `buf` is not such a run.
pub fn find_key_value(buf: &[u8], field: u32, key: &str) -> Option<core::ops::Range<usize>> {
    let wanted = u64::from((field << 3) | LEN);
    let mut i = 0;
    while i < buf.len() {
        let start = i;
        let (tag, n) = read_varint(buf.get(i..)?)?;
        i += n;
        let (len, n) = read_varint(buf.get(i..)?)?;
        i += n;
        let end = i.checked_add(usize::try_from(len).ok()?)?;
        let payload = buf.get(i..end)?;
        if tag == wanted {
            let found = match payload.first() {
                // The key (field 1) comes first; an empty key is not written.
                Some(0x0a) => {
                    let (klen, n) = read_varint(payload.get(1..)?)?;
                    let from = 1 + n;
                    let to = from.checked_add(usize::try_from(klen).ok()?)?;
                    payload.get(from..to) == Some(key.as_bytes())
                }
                _ => key.is_empty(),
            };
            if found {
                return Some(start..end);
            }
        }
        i = end;
    }
    None
}

/// Calls `f` with the key of each `KeyValue` field `field` in `buf` (a run of
/// length-delimited fields, as for [`find_key_value`]), in order; stops at the first
/// malformed field.
pub fn for_each_key(buf: &[u8], field: u32, mut f: impl FnMut(&[u8])) {
    let wanted = u64::from((field << 3) | LEN);
    let mut i = 0;
    while i < buf.len() {
        let Some((tag, n)) = buf.get(i..).and_then(read_varint) else {
            return;
        };
        i += n;
        let Some((len, n)) = buf.get(i..).and_then(read_varint) else {
            return;
        };
        i += n;
        let Some(end) = usize::try_from(len).ok().and_then(|l| i.checked_add(l)) else {
            return;
        };
        let Some(payload) = buf.get(i..end) else {
            return;
        };
        if tag == wanted {
            let key = match payload.first() {
                Some(0x0a) => payload
                    .get(1..)
                    .and_then(read_varint)
                    .and_then(|(klen, n)| payload.get(1 + n..1 + n + usize::try_from(klen).ok()?)),
                _ => Some(&[][..]),
            };
            if let Some(key) = key {
                f(key);
            }
        }
        i = end;
    }
}

/// A varint at the start of `b` and its length in bytes; `None` if cut short or longer
/// than 10 bytes.
fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Bytes `span` takes inside its `ScopeSpans` message, including the field tag and the
/// length prefix.
///
/// ```
/// use otlp_sync::encode::protobuf::span_encoded_len;
/// use otlp_sync::model::{Span, SpanId, TraceId};
/// // name "a" (3 bytes), kind INTERNAL (2) and an empty status (2) in a 2-byte header.
/// assert_eq!(span_encoded_len(&Span::new("a", TraceId::INVALID, SpanId::INVALID)), 9);
/// ```
pub fn span_encoded_len(span: &Span) -> usize {
    len_field(2, span.body_len(&mut NoCache))
}

/// Bytes `r` takes inside its `ScopeLogs` message, including the field tag and the length
/// prefix.
///
/// ```
/// use otlp_sync::encode::protobuf::log_encoded_len;
/// use otlp_sync::model::{LogRecord, Severity};
/// let r = LogRecord { severity_number: Severity::INFO, ..Default::default() };
/// assert_eq!(log_encoded_len(&r), 4);
/// ```
pub fn log_encoded_len(r: &LogRecord) -> usize {
    len_field(2, r.body_len(&mut NoCache))
}

/// Bytes `m` takes inside its `ScopeMetrics` message, including the field tag and the
/// length prefix.
///
/// ```
/// use otlp_sync::encode::protobuf::metric_encoded_len;
/// use otlp_sync::model::{Metric, MetricData};
/// let m = Metric {
///     name: "up".into(),
///     description: "".into(),
///     unit: "".into(),
///     data: MetricData::Gauge(Vec::new()),
///     metadata: Vec::new(),
/// };
/// // name (4 bytes) and an empty gauge (2 bytes) in a 2-byte header.
/// assert_eq!(metric_encoded_len(&m), 8);
/// ```
pub fn metric_encoded_len(m: &Metric) -> usize {
    len_field(2, m.body_len(&mut NoCache))
}

// ---------------------------------------------------------------------------------------
// Lengths.

/// Where the length pass puts the lengths of nested messages.
trait Sizes {
    /// Reserves the next slot (pre-order position) and returns its index.
    fn open(&mut self) -> usize;
    /// Fills a slot returned by [`Sizes::open`].
    fn close(&mut self, slot: usize, len: usize);
}

/// Lengths are only summed, not kept (the `*_encoded_len` functions).
struct NoCache;

impl Sizes for NoCache {
    #[inline(always)]
    fn open(&mut self) -> usize {
        0
    }
    #[inline(always)]
    fn close(&mut self, _slot: usize, _len: usize) {}
}

impl Sizes for Vec<usize> {
    #[inline(always)]
    fn open(&mut self) -> usize {
        let slot = self.len();
        self.push(0);
        slot
    }
    #[inline(always)]
    fn close(&mut self, slot: usize, len: usize) {
        if let Some(s) = self.get_mut(slot) {
            *s = len;
        }
    }
}

/// Bytes of `v` as a varint.
#[inline(always)]
fn varint_len(v: u64) -> usize {
    // 1 byte per started group of 7 bits; `| 1` makes 0 take one byte.
    ((64 - (v | 1).leading_zeros() as usize) * 9 + 64) / 64
}

/// Bytes of the key of field `tag` (all OTLP field numbers are below 2048).
#[inline(always)]
fn key_len(tag: u32) -> usize {
    if tag < 16 { 1 } else { 2 }
}

/// Bytes of a length-delimited field whose payload is `n` bytes.
#[inline(always)]
fn len_field(tag: u32, n: usize) -> usize {
    key_len(tag) + varint_len(n as u64) + n
}

/// A string field, omitted when empty.
#[inline(always)]
fn str_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        len_field(tag, s.len())
    }
}

/// A varint field, omitted when zero.
#[inline(always)]
fn uint_len(tag: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        key_len(tag) + varint_len(v)
    }
}

/// An `int32` or enum field: negative values take ten bytes (sign-extended).
#[inline(always)]
fn int32_len(tag: u32, v: i32) -> usize {
    uint_len(tag, i64::from(v) as u64)
}

/// A `sint32` field (zigzag).
#[inline(always)]
fn sint32_len(tag: u32, v: i32) -> usize {
    uint_len(tag, u64::from(zigzag32(v)))
}

#[inline(always)]
fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// A `fixed64` field, omitted when zero.
#[inline(always)]
fn fixed64_len(tag: u32, v: u64) -> usize {
    if v == 0 { 0 } else { key_len(tag) + 8 }
}

/// A `fixed32` field, omitted when zero.
#[inline(always)]
fn fixed32_len(tag: u32, v: u32) -> usize {
    if v == 0 { 0 } else { key_len(tag) + 4 }
}

/// A plain `double` field, omitted when it compares equal to zero (so `-0.0` is omitted
/// too, as `prost` does; NaN is written).
#[inline(always)]
fn double_len(tag: u32, v: f64) -> usize {
    if v != 0.0 { key_len(tag) + 8 } else { 0 }
}

/// An `optional double` field, written whenever present.
#[inline(always)]
fn opt_double_len(tag: u32, v: Option<f64>) -> usize {
    if v.is_some() { key_len(tag) + 8 } else { 0 }
}

/// A trace or span id: omitted when invalid (all zero).
#[inline(always)]
fn id_len(tag: u32, bytes: &[u8]) -> usize {
    if bytes.iter().all(|&b| b == 0) {
        0
    } else {
        len_field(tag, bytes.len())
    }
}

/// Repeated `KeyValue` field `tag` of a record, resource or scope (values at depth 1).
fn attrs_len<S: Sizes>(tag: u32, attrs: &[KeyValue], s: &mut S) -> usize {
    kvs_len(tag, attrs, 1, s)
}

/// Repeated `KeyValue` field `tag` whose values sit at nesting depth `depth`.
fn kvs_len<S: Sizes>(tag: u32, kvs: &[KeyValue], depth: usize, s: &mut S) -> usize {
    let mut n = 0;
    for kv in kvs {
        n += len_field(tag, key_value_len(kv, depth, s));
    }
    n
}

fn key_value_len<S: Sizes>(kv: &KeyValue, depth: usize, s: &mut S) -> usize {
    if let Some(n) = leaf_key_value_len(kv, depth) {
        // No slot: the write pass computes it again, cheaper than caching it.
        return n;
    }
    let slot = s.open();
    let n = str_len(1, &kv.key) + len_field(2, any_value_len(&kv.value, depth, s));
    s.close(slot, n);
    n
}

/// Body of a `KeyValue` whose value is a leaf (or a composite cut at `depth`), `None`
/// for a composite: the body of a leaf pair needs no cached lengths.
#[inline(always)]
fn leaf_key_value_len(kv: &KeyValue, depth: usize) -> Option<usize> {
    match &kv.value {
        AnyValue::Array(_) | AnyValue::KvList(_) if depth <= MAX_ANY_VALUE_DEPTH => None,
        leaf => Some(str_len(1, &kv.key) + len_field(2, leaf_any_value_len(leaf))),
    }
}

/// Body of an `AnyValue` message at nesting depth `depth` (the outermost value is 1).
/// Composite values cache the body of their inner `ArrayValue` / `KeyValueList`; the body
/// of a leaf value is computed on the spot. A composite deeper than
/// [`MAX_ANY_VALUE_DEPTH`] is an empty `AnyValue` (no slot, no recursion), exactly as the
/// write pass and the JSON encoder treat it.
fn any_value_len<S: Sizes>(v: &AnyValue, depth: usize, s: &mut S) -> usize {
    match v {
        AnyValue::Array(_) | AnyValue::KvList(_) if depth > MAX_ANY_VALUE_DEPTH => 0,
        AnyValue::Array(items) => {
            let slot = s.open();
            let mut n = 0;
            for item in items {
                n += len_field(1, any_value_len(item, depth + 1, s));
            }
            s.close(slot, n);
            len_field(5, n)
        }
        AnyValue::KvList(kvs) => {
            let slot = s.open();
            let n = kvs_len(1, kvs, depth + 1, s);
            s.close(slot, n);
            len_field(6, n)
        }
        leaf => leaf_any_value_len(leaf),
    }
}

/// Body of a leaf (non-composite) `AnyValue`; `0` for composites, which never get here.
#[inline(always)]
fn leaf_any_value_len(v: &AnyValue) -> usize {
    Leaf::of(v).map_or(0, Leaf::body_len)
}

fn resource_group_len<T: Record, S: Sizes>(g: &ResourceGroup<'_, T>, s: &mut S) -> usize {
    let slot = s.open();
    let mut n = len_field(1, resource_len(g.resource, s));
    for sg in g.scopes {
        n += len_field(2, scope_group_len(sg, s));
    }
    n += str_len(3, &g.resource.schema_url);
    s.close(slot, n);
    n
}

fn resource_len<S: Sizes>(r: &Resource, s: &mut S) -> usize {
    let slot = s.open();
    let n = attrs_len(1, &r.attributes, s) + uint_len(2, u64::from(r.dropped_attributes_count));
    s.close(slot, n);
    n
}

fn scope_group_len<T: Record, S: Sizes>(g: &ScopeGroup<'_, T>, s: &mut S) -> usize {
    let slot = s.open();
    let mut n = len_field(1, scope_len(g.scope, s));
    for r in g.records {
        n += r.field_len(s);
    }
    n += str_len(3, &g.scope.schema_url);
    s.close(slot, n);
    n
}

fn scope_len<S: Sizes>(sc: &InstrumentationScope, s: &mut S) -> usize {
    let slot = s.open();
    let n = str_len(1, &sc.name)
        + str_len(2, &sc.version)
        + attrs_len(3, &sc.attributes, s)
        + uint_len(4, u64::from(sc.dropped_attributes_count));
    s.close(slot, n);
    n
}

/// A record kind: spans, log records, metrics.
trait Record {
    /// Body length of the record's message, caching nested lengths in `s`.
    fn body_len<S: Sizes>(&self, s: &mut S) -> usize;
    /// Bytes the record takes in its `Scope*` message (field 2, tag and length included).
    fn field_len<S: Sizes>(&self, s: &mut S) -> usize {
        len_field(2, self.body_len(s))
    }
    /// Writes the record as field 2 of its `Scope*` message.
    fn write(&self, w: &mut Writer<'_>);
    /// Whether the record's only nested message of unknown length is itself (every
    /// other length is computed on the spot while writing), so that it can be written
    /// in one pass with its own length taken as the first and only cached one.
    fn is_flat(&self) -> bool {
        false
    }
}

impl Record for Span {
    fn body_len<S: Sizes>(&self, s: &mut S) -> usize {
        let slot = s.open();
        let mut n = id_len(1, self.trace_id.as_bytes())
            + id_len(2, self.span_id.as_bytes())
            + str_len(3, &self.trace_state)
            + id_len(4, self.parent_span_id.as_bytes())
            + str_len(5, &self.name)
            + int32_len(6, self.kind as i32)
            + fixed64_len(7, self.start_time_unix_nano)
            + fixed64_len(8, self.end_time_unix_nano)
            + attrs_len(9, &self.attributes, s)
            + uint_len(10, u64::from(self.dropped_attributes_count));
        for e in &self.events {
            n += len_field(11, event_len(e, s));
        }
        n += uint_len(12, u64::from(self.dropped_events_count));
        for l in &self.links {
            n += len_field(13, link_len(l, s));
        }
        n += uint_len(14, u64::from(self.dropped_links_count))
            + len_field(15, status_len(self))
            + fixed32_len(16, self.flags);
        s.close(slot, n);
        n
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.span(self);
    }
}

fn event_len<S: Sizes>(e: &Event, s: &mut S) -> usize {
    let slot = s.open();
    let n = fixed64_len(1, e.time_unix_nano)
        + str_len(2, &e.name)
        + attrs_len(3, &e.attributes, s)
        + uint_len(4, u64::from(e.dropped_attributes_count));
    s.close(slot, n);
    n
}

fn link_len<S: Sizes>(l: &Link, s: &mut S) -> usize {
    let slot = s.open();
    let n = id_len(1, l.trace_id.as_bytes())
        + id_len(2, l.span_id.as_bytes())
        + str_len(3, &l.trace_state)
        + attrs_len(4, &l.attributes, s)
        + uint_len(5, u64::from(l.dropped_attributes_count))
        + fixed32_len(6, l.flags);
    s.close(slot, n);
    n
}

/// Body of `Span.status` (constant time, not cached).
#[inline(always)]
fn status_len(span: &Span) -> usize {
    str_len(2, &span.status.message) + int32_len(3, span.status.code as i32)
}

impl Record for LogRecord {
    fn body_len<S: Sizes>(&self, s: &mut S) -> usize {
        let slot = s.open();
        let body = match &self.body {
            AnyValue::Empty => 0,
            v => len_field(5, any_value_len(v, 1, s)),
        };
        let n = fixed64_len(1, self.time_unix_nano)
            + int32_len(2, self.severity_number.0)
            + str_len(3, &self.severity_text)
            + body
            + attrs_len(6, &self.attributes, s)
            + uint_len(7, u64::from(self.dropped_attributes_count))
            + fixed32_len(8, self.flags)
            + id_len(9, self.trace_id.as_bytes())
            + id_len(10, self.span_id.as_bytes())
            + fixed64_len(11, self.observed_time_unix_nano)
            + str_len(12, &self.event_name);
        s.close(slot, n);
        n
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.log_record(self);
    }

    fn is_flat(&self) -> bool {
        !matches!(self.body, AnyValue::Array(_) | AnyValue::KvList(_))
            && self
                .attributes
                .iter()
                .all(|kv| !matches!(kv.value, AnyValue::Array(_) | AnyValue::KvList(_)))
    }
}

/// Field number of a metric's data inside `Metric`.
fn data_tag(d: &MetricData) -> u32 {
    match d {
        MetricData::Gauge(_) => 5,
        MetricData::Sum { .. } => 7,
        MetricData::Histogram { .. } => 9,
        MetricData::ExponentialHistogram { .. } => 10,
        MetricData::Summary(_) => 11,
    }
}

impl Record for Metric {
    fn body_len<S: Sizes>(&self, s: &mut S) -> usize {
        let slot = s.open();
        let n = str_len(1, &self.name)
            + str_len(2, &self.description)
            + str_len(3, &self.unit)
            + len_field(data_tag(&self.data), metric_data_len(&self.data, s))
            + attrs_len(12, &self.metadata, s);
        s.close(slot, n);
        n
    }

    fn write(&self, w: &mut Writer<'_>) {
        w.metric(self);
    }
}

fn metric_data_len<S: Sizes>(d: &MetricData, s: &mut S) -> usize {
    let slot = s.open();
    let mut n = 0;
    match d {
        MetricData::Gauge(points) => {
            for p in points {
                n += len_field(1, number_point_len(p, s));
            }
        }
        MetricData::Sum {
            points,
            temporality,
            is_monotonic,
        } => {
            for p in points {
                n += len_field(1, number_point_len(p, s));
            }
            n += int32_len(2, *temporality as i32) + uint_len(3, u64::from(*is_monotonic));
        }
        MetricData::Histogram {
            points,
            temporality,
        } => {
            for p in points {
                n += len_field(1, histogram_point_len(p, s));
            }
            n += int32_len(2, *temporality as i32);
        }
        MetricData::ExponentialHistogram {
            points,
            temporality,
        } => {
            for p in points {
                n += len_field(1, exp_histogram_point_len(p, s));
            }
            n += int32_len(2, *temporality as i32);
        }
        MetricData::Summary(points) => {
            for p in points {
                n += len_field(1, summary_point_len(p, s));
            }
        }
    }
    s.close(slot, n);
    n
}

fn exemplars_len<S: Sizes>(tag: u32, exemplars: &[Exemplar], s: &mut S) -> usize {
    let mut n = 0;
    for e in exemplars {
        n += len_field(tag, exemplar_len(e, s));
    }
    n
}

fn exemplar_len<S: Sizes>(e: &Exemplar, s: &mut S) -> usize {
    let slot = s.open();
    // The value is a oneof (`as_double` 3 or `as_int` 6): always 1 + 8 bytes.
    let n = fixed64_len(2, e.time_unix_nano)
        + 9
        + id_len(4, e.span_id.as_bytes())
        + id_len(5, e.trace_id.as_bytes())
        + attrs_len(7, &e.filtered_attributes, s);
    s.close(slot, n);
    n
}

fn number_point_len<S: Sizes>(p: &NumberDataPoint, s: &mut S) -> usize {
    let slot = s.open();
    // The value is a oneof (`as_double` 4 or `as_int` 6): always 1 + 8 bytes.
    let n = fixed64_len(2, p.start_time_unix_nano)
        + fixed64_len(3, p.time_unix_nano)
        + 9
        + exemplars_len(5, &p.exemplars, s)
        + attrs_len(7, &p.attributes, s)
        + uint_len(8, u64::from(p.flags));
    s.close(slot, n);
    n
}

/// A packed repeated field of 8-byte scalars, omitted when empty.
#[inline(always)]
fn packed_fixed_len(tag: u32, count: usize) -> usize {
    if count == 0 {
        0
    } else {
        len_field(tag, count * 8)
    }
}

fn histogram_point_len<S: Sizes>(p: &HistogramDataPoint, s: &mut S) -> usize {
    let slot = s.open();
    let n = fixed64_len(2, p.start_time_unix_nano)
        + fixed64_len(3, p.time_unix_nano)
        + fixed64_len(4, p.count)
        + opt_double_len(5, p.sum)
        + packed_fixed_len(6, p.bucket_counts.len())
        + packed_fixed_len(7, p.explicit_bounds.len())
        + exemplars_len(8, &p.exemplars, s)
        + attrs_len(9, &p.attributes, s)
        + uint_len(10, u64::from(p.flags))
        + opt_double_len(11, p.min)
        + opt_double_len(12, p.max);
    s.close(slot, n);
    n
}

fn exp_histogram_point_len<S: Sizes>(p: &ExponentialHistogramDataPoint, s: &mut S) -> usize {
    let slot = s.open();
    let mut n = attrs_len(1, &p.attributes, s)
        + fixed64_len(2, p.start_time_unix_nano)
        + fixed64_len(3, p.time_unix_nano)
        + fixed64_len(4, p.count)
        + opt_double_len(5, p.sum)
        + sint32_len(6, p.scale)
        + fixed64_len(7, p.zero_count);
    n += len_field(8, buckets_len(&p.positive, s));
    n += len_field(9, buckets_len(&p.negative, s));
    n += uint_len(10, u64::from(p.flags))
        + exemplars_len(11, &p.exemplars, s)
        + opt_double_len(12, p.min)
        + opt_double_len(13, p.max)
        + double_len(14, p.zero_threshold);
    s.close(slot, n);
    n
}

/// Body of a `Buckets` message. The packed varint payload is what gets cached.
fn buckets_len<S: Sizes>(b: &Buckets, s: &mut S) -> usize {
    let slot = s.open();
    let payload: usize = b.bucket_counts.iter().map(|&c| varint_len(c)).sum();
    s.close(slot, payload);
    buckets_body_len(b, payload)
}

#[inline(always)]
fn buckets_body_len(b: &Buckets, payload: usize) -> usize {
    sint32_len(1, b.offset)
        + if b.bucket_counts.is_empty() {
            0
        } else {
            len_field(2, payload)
        }
}

fn summary_point_len<S: Sizes>(p: &SummaryDataPoint, s: &mut S) -> usize {
    let slot = s.open();
    let mut n = fixed64_len(2, p.start_time_unix_nano)
        + fixed64_len(3, p.time_unix_nano)
        + fixed64_len(4, p.count)
        + double_len(5, p.sum);
    for q in &p.quantile_values {
        n += len_field(6, quantile_len(q));
    }
    n += attrs_len(7, &p.attributes, s) + uint_len(8, u64::from(p.flags));
    s.close(slot, n);
    n
}

/// Body of a `ValueAtQuantile` (constant time, not cached).
#[inline(always)]
fn quantile_len(q: &ValueAtQuantile) -> usize {
    double_len(1, q.quantile) + double_len(2, q.value)
}

// ---------------------------------------------------------------------------------------
// Writing.

/// The write pass: appends to `out`, taking nested lengths from `sizes` in the order the
/// length pass stored them.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    sizes: &'a [usize],
    next: usize,
}

impl Writer<'_> {
    /// The next cached length. The length pass visits messages in the same order, so the
    /// slot always exists; a missing one would write a zero length rather than panic.
    #[inline(always)]
    fn cached(&mut self) -> usize {
        let n = self.sizes.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        n
    }

    #[inline(always)]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    #[inline(always)]
    fn key(&mut self, tag: u32, wire_type: u32) {
        self.varint(u64::from((tag << 3) | wire_type));
    }

    /// Key and length prefix of a length-delimited field.
    #[inline(always)]
    fn header(&mut self, tag: u32, len: usize) {
        self.key(tag, LEN);
        self.varint(len as u64);
    }

    /// A length-delimited field with the given payload, written even when empty.
    #[inline(always)]
    fn bytes(&mut self, tag: u32, b: &[u8]) {
        self.header(tag, b.len());
        self.out.extend_from_slice(b);
    }

    /// A string field, omitted when empty.
    #[inline(always)]
    fn str(&mut self, tag: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(tag, s.as_bytes());
        }
    }

    /// A varint field, omitted when zero.
    #[inline(always)]
    fn uint(&mut self, tag: u32, v: u64) {
        if v != 0 {
            self.key(tag, VARINT);
            self.varint(v);
        }
    }

    #[inline(always)]
    fn int32(&mut self, tag: u32, v: i32) {
        self.uint(tag, i64::from(v) as u64);
    }

    #[inline(always)]
    fn sint32(&mut self, tag: u32, v: i32) {
        self.uint(tag, u64::from(zigzag32(v)));
    }

    /// An 8-byte field, always written.
    #[inline(always)]
    fn fixed64_always(&mut self, tag: u32, v: u64) {
        self.key(tag, FIXED64);
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    #[inline(always)]
    fn fixed64(&mut self, tag: u32, v: u64) {
        if v != 0 {
            self.fixed64_always(tag, v);
        }
    }

    #[inline(always)]
    fn fixed32(&mut self, tag: u32, v: u32) {
        if v != 0 {
            self.key(tag, FIXED32);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    #[inline(always)]
    fn double(&mut self, tag: u32, v: f64) {
        if v != 0.0 {
            self.fixed64_always(tag, v.to_bits());
        }
    }

    #[inline(always)]
    fn opt_double(&mut self, tag: u32, v: Option<f64>) {
        if let Some(v) = v {
            self.fixed64_always(tag, v.to_bits());
        }
    }

    #[inline(always)]
    fn id(&mut self, tag: u32, bytes: &[u8]) {
        if bytes.iter().any(|&b| b != 0) {
            self.bytes(tag, bytes);
        }
    }

    /// The trace and span id fields (1 and 2) of a span, each omitted when all zero; in
    /// one copy when both are set.
    #[inline(always)]
    fn ids(&mut self, trace_id: &[u8; 16], span_id: &[u8; 8]) {
        if u128::from_ne_bytes(*trace_id) != 0 && u64::from_ne_bytes(*span_id) != 0 {
            let mut b = [0u8; 28];
            b[0] = (1 << 3) | LEN as u8;
            b[1] = 16;
            b[2..18].copy_from_slice(trace_id);
            b[18] = (2 << 3) | LEN as u8;
            b[19] = 8;
            b[20..].copy_from_slice(span_id);
            self.out.extend_from_slice(&b);
        } else {
            self.id(1, trace_id);
            self.id(2, span_id);
        }
    }

    /// Repeated `KeyValue` field `tag` of a record, resource or scope (values at depth 1).
    fn attrs(&mut self, tag: u32, attrs: &[KeyValue]) {
        self.kvs(tag, attrs, 1);
    }

    /// Repeated `KeyValue` field `tag` whose values sit at nesting depth `depth`.
    fn kvs(&mut self, tag: u32, kvs: &[KeyValue], depth: usize) {
        for kv in kvs {
            self.key_value(tag, kv, depth);
        }
    }

    fn key_value(&mut self, tag: u32, kv: &KeyValue, depth: usize) {
        if let Some(leaf) = Leaf::of(&kv.value) {
            self.leaf_key_value(tag, &kv.key, leaf);
            return;
        }
        let n = match leaf_key_value_len(kv, depth) {
            Some(n) => n,
            None => self.cached(),
        };
        self.header(tag, n);
        self.str(1, &kv.key);
        self.any_value(2, &kv.value, depth);
    }

    /// A `KeyValue` whose value is a leaf, as field `tag`: by [`short_leaf`](Self::short_leaf)
    /// when it takes the pair, else in full ([`long_leaf_field`]).
    #[inline(always)]
    fn leaf_key_value(&mut self, tag: u32, key: &str, value: Leaf<'_>) {
        if !self.short_leaf(tag, key.as_bytes(), value) {
            long_leaf_field(tag, key, value, self.out);
        }
    }

    /// An `AnyValue` message holding a leaf, as field `tag` (written even when empty).
    #[inline(always)]
    fn leaf_value(&mut self, tag: u32, value: Leaf<'_>) {
        self.header(tag, value.body_len());
        match value {
            Leaf::Empty => {}
            Leaf::Str(x) => self.bytes(1, x.as_bytes()),
            Leaf::Bool(b) => {
                self.key(2, VARINT);
                self.out.push(u8::from(b));
            }
            Leaf::Int(i) => {
                self.key(3, VARINT);
                self.varint(i as u64);
            }
            Leaf::Double(d) => self.fixed64_always(4, d.to_bits()),
            Leaf::Bytes(b) => self.bytes(7, b),
        }
    }

    /// The common attribute, written with a few fixed-size copies: a non-empty key and a
    /// string, integer, double or boolean value whose key-value message is under 128
    /// bytes (every length then takes one byte), as field `tag` below 16. Writes the same
    /// bytes as the general path; returns `false`, having written nothing, for any other
    /// pair.
    #[inline(always)]
    fn short_leaf(&mut self, tag: u32, key: &[u8], value: Leaf<'_>) -> bool {
        let k = key.len();
        if tag >= 16 || k == 0 || k > 120 {
            return false;
        }
        // Key byte of a length-delimited field below 16; the length bytes below are < 128.
        let field = ((tag << 3) | LEN) as u8;
        // The KeyValue body: key (2 + k) and value (2 + the AnyValue body `a`).
        let head = |a: usize| [field, (k + a + 4) as u8, 0x0a, k as u8];
        match value {
            Leaf::Str(s) => {
                let v = s.len();
                let a = v + 2;
                if k + a + 4 > 127 {
                    return false;
                }
                self.out.reserve(k + a + 6);
                self.out.extend_from_slice(&head(a));
                self.out.extend_from_slice(key);
                // AnyValue { string_value (1) }
                self.out.extend_from_slice(&[0x12, a as u8, 0x0a, v as u8]);
                self.out.extend_from_slice(s.as_bytes());
            }
            Leaf::Int(i) => {
                let a = 1 + varint_len(i as u64);
                if k + a + 4 > 127 {
                    return false;
                }
                self.out.reserve(k + a + 6);
                self.out.extend_from_slice(&head(a));
                self.out.extend_from_slice(key);
                // AnyValue { int_value (3) }
                self.out.extend_from_slice(&[0x12, a as u8, 0x18]);
                self.varint(i as u64);
            }
            Leaf::Double(d) => {
                if k + 13 > 127 {
                    return false;
                }
                self.out.reserve(k + 15);
                self.out.extend_from_slice(&head(9));
                self.out.extend_from_slice(key);
                // AnyValue { double_value (4) }
                self.out.extend_from_slice(&[0x12, 9, 0x21]);
                self.out.extend_from_slice(&d.to_bits().to_le_bytes());
            }
            Leaf::Bool(b) => {
                if k + 6 > 127 {
                    return false;
                }
                self.out.reserve(k + 8);
                self.out.extend_from_slice(&head(2));
                self.out.extend_from_slice(key);
                // AnyValue { bool_value (2) }
                self.out.extend_from_slice(&[0x12, 2, 0x10, u8::from(b)]);
            }
            Leaf::Empty | Leaf::Bytes(_) => return false,
        }
        true
    }

    /// An `AnyValue` message at nesting depth `depth` as field `tag` (always written,
    /// empty for `Empty` and for composites deeper than [`MAX_ANY_VALUE_DEPTH`]).
    fn any_value(&mut self, tag: u32, v: &AnyValue, depth: usize) {
        match v {
            AnyValue::Array(_) | AnyValue::KvList(_) if depth > MAX_ANY_VALUE_DEPTH => {
                self.header(tag, 0);
            }
            AnyValue::Array(items) => {
                let n = self.cached();
                self.header(tag, len_field(5, n));
                self.header(5, n);
                for item in items {
                    self.any_value(1, item, depth + 1);
                }
            }
            AnyValue::KvList(kvs) => {
                let n = self.cached();
                self.header(tag, len_field(6, n));
                self.header(6, n);
                self.kvs(1, kvs, depth + 1);
            }
            leaf => match Leaf::of(leaf) {
                Some(leaf) => self.leaf_value(tag, leaf),
                // Not reached: composites are the arms above.
                None => self.header(tag, 0),
            },
        }
    }

    fn resource_group<T: Record>(&mut self, g: &ResourceGroup<'_, T>) {
        let n = self.cached();
        self.header(1, n);
        let n = self.cached();
        self.header(1, n);
        self.attrs(1, &g.resource.attributes);
        self.uint(2, u64::from(g.resource.dropped_attributes_count));
        for sg in g.scopes {
            self.scope_group(sg);
        }
        self.str(3, &g.resource.schema_url);
    }

    fn scope_group<T: Record>(&mut self, g: &ScopeGroup<'_, T>) {
        let n = self.cached();
        self.header(2, n);
        let n = self.cached();
        self.header(1, n);
        let sc = g.scope;
        self.str(1, &sc.name);
        self.str(2, &sc.version);
        self.attrs(3, &sc.attributes);
        self.uint(4, u64::from(sc.dropped_attributes_count));
        for r in g.records {
            r.write(self);
        }
        self.str(3, &sc.schema_url);
    }

    fn span(&mut self, sp: &Span) {
        let n = self.cached();
        self.header(2, n);
        self.span_fields(sp);
    }

    /// A span's fields, without its own tag and length.
    fn span_fields(&mut self, sp: &Span) {
        self.ids(sp.trace_id.as_bytes(), sp.span_id.as_bytes());
        self.str(3, &sp.trace_state);
        self.id(4, sp.parent_span_id.as_bytes());
        self.str(5, &sp.name);
        self.int32(6, sp.kind as i32);
        let (start, end) = (sp.start_time_unix_nano, sp.end_time_unix_nano);
        if start != 0 && end != 0 {
            // Fields 7 and 8 (fixed64) in one copy.
            let mut b = [0u8; 18];
            b[0] = (7 << 3) | FIXED64 as u8;
            b[1..9].copy_from_slice(&start.to_le_bytes());
            b[9] = (8 << 3) | FIXED64 as u8;
            b[10..].copy_from_slice(&end.to_le_bytes());
            self.out.extend_from_slice(&b);
        } else {
            self.fixed64(7, start);
            self.fixed64(8, end);
        }
        self.attrs(9, &sp.attributes);
        self.uint(10, u64::from(sp.dropped_attributes_count));
        for e in &sp.events {
            self.event(e);
        }
        self.uint(12, u64::from(sp.dropped_events_count));
        for l in &sp.links {
            self.link(l);
        }
        self.uint(14, u64::from(sp.dropped_links_count));
        self.header(15, status_len(sp));
        self.str(2, &sp.status.message);
        self.int32(3, sp.status.code as i32);
        self.fixed32(16, sp.flags);
    }

    fn event(&mut self, e: &Event) {
        let n = self.cached();
        self.header(11, n);
        self.fixed64(1, e.time_unix_nano);
        self.str(2, &e.name);
        self.attrs(3, &e.attributes);
        self.uint(4, u64::from(e.dropped_attributes_count));
    }

    fn link(&mut self, l: &Link) {
        let n = self.cached();
        self.header(13, n);
        self.id(1, l.trace_id.as_bytes());
        self.id(2, l.span_id.as_bytes());
        self.str(3, &l.trace_state);
        self.attrs(4, &l.attributes);
        self.uint(5, u64::from(l.dropped_attributes_count));
        self.fixed32(6, l.flags);
    }

    fn log_record(&mut self, r: &LogRecord) {
        let n = self.cached();
        self.header(2, n);
        self.log_record_fields(r);
    }

    /// A log record's fields, without its own tag and length.
    fn log_record_fields(&mut self, r: &LogRecord) {
        self.fixed64(1, r.time_unix_nano);
        self.int32(2, r.severity_number.0);
        self.str(3, &r.severity_text);
        if !matches!(r.body, AnyValue::Empty) {
            self.any_value(5, &r.body, 1);
        }
        self.attrs(6, &r.attributes);
        self.uint(7, u64::from(r.dropped_attributes_count));
        self.fixed32(8, r.flags);
        self.id(9, r.trace_id.as_bytes());
        self.id(10, r.span_id.as_bytes());
        self.fixed64(11, r.observed_time_unix_nano);
        self.str(12, &r.event_name);
    }

    fn metric(&mut self, m: &Metric) {
        let n = self.cached();
        self.header(2, n);
        self.str(1, &m.name);
        self.str(2, &m.description);
        self.str(3, &m.unit);
        let n = self.cached();
        self.header(data_tag(&m.data), n);
        match &m.data {
            MetricData::Gauge(points) => {
                for p in points {
                    self.number_point(p);
                }
            }
            MetricData::Sum {
                points,
                temporality,
                is_monotonic,
            } => {
                for p in points {
                    self.number_point(p);
                }
                self.int32(2, *temporality as i32);
                self.uint(3, u64::from(*is_monotonic));
            }
            MetricData::Histogram {
                points,
                temporality,
            } => {
                for p in points {
                    self.histogram_point(p);
                }
                self.int32(2, *temporality as i32);
            }
            MetricData::ExponentialHistogram {
                points,
                temporality,
            } => {
                for p in points {
                    self.exp_histogram_point(p);
                }
                self.int32(2, *temporality as i32);
            }
            MetricData::Summary(points) => {
                for p in points {
                    self.summary_point(p);
                }
            }
        }
        self.attrs(12, &m.metadata);
    }

    /// A oneof number value: `as_double` at `double_tag`, `as_int` (sfixed64) at 6.
    #[inline(always)]
    fn number_value(&mut self, double_tag: u32, v: NumberValue) {
        match v {
            NumberValue::Double(d) => self.fixed64_always(double_tag, d.to_bits()),
            NumberValue::Int(i) => self.fixed64_always(6, i as u64),
        }
    }

    fn exemplars(&mut self, tag: u32, exemplars: &[Exemplar]) {
        for e in exemplars {
            let n = self.cached();
            self.header(tag, n);
            self.fixed64(2, e.time_unix_nano);
            self.number_value(3, e.value);
            self.id(4, e.span_id.as_bytes());
            self.id(5, e.trace_id.as_bytes());
            self.attrs(7, &e.filtered_attributes);
        }
    }

    fn number_point(&mut self, p: &NumberDataPoint) {
        let n = self.cached();
        self.header(1, n);
        self.fixed64(2, p.start_time_unix_nano);
        self.fixed64(3, p.time_unix_nano);
        self.number_value(4, p.value);
        self.exemplars(5, &p.exemplars);
        self.attrs(7, &p.attributes);
        self.uint(8, u64::from(p.flags));
    }

    /// A packed repeated field of 8-byte scalars, omitted when empty.
    #[inline(always)]
    fn packed_fixed(&mut self, tag: u32, values: impl ExactSizeIterator<Item = u64>) {
        if values.len() != 0 {
            self.header(tag, values.len() * 8);
            for v in values {
                self.out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    fn histogram_point(&mut self, p: &HistogramDataPoint) {
        let n = self.cached();
        self.header(1, n);
        self.fixed64(2, p.start_time_unix_nano);
        self.fixed64(3, p.time_unix_nano);
        self.fixed64(4, p.count);
        self.opt_double(5, p.sum);
        self.packed_fixed(6, p.bucket_counts.iter().copied());
        self.packed_fixed(7, p.explicit_bounds.iter().map(|b| b.to_bits()));
        self.exemplars(8, &p.exemplars);
        self.attrs(9, &p.attributes);
        self.uint(10, u64::from(p.flags));
        self.opt_double(11, p.min);
        self.opt_double(12, p.max);
    }

    fn exp_histogram_point(&mut self, p: &ExponentialHistogramDataPoint) {
        let n = self.cached();
        self.header(1, n);
        self.attrs(1, &p.attributes);
        self.fixed64(2, p.start_time_unix_nano);
        self.fixed64(3, p.time_unix_nano);
        self.fixed64(4, p.count);
        self.opt_double(5, p.sum);
        self.sint32(6, p.scale);
        self.fixed64(7, p.zero_count);
        self.buckets(8, &p.positive);
        self.buckets(9, &p.negative);
        self.uint(10, u64::from(p.flags));
        self.exemplars(11, &p.exemplars);
        self.opt_double(12, p.min);
        self.opt_double(13, p.max);
        self.double(14, p.zero_threshold);
    }

    fn buckets(&mut self, tag: u32, b: &Buckets) {
        let payload = self.cached();
        self.header(tag, buckets_body_len(b, payload));
        self.sint32(1, b.offset);
        if !b.bucket_counts.is_empty() {
            self.header(2, payload);
            for &c in &b.bucket_counts {
                self.varint(c);
            }
        }
    }

    fn summary_point(&mut self, p: &SummaryDataPoint) {
        let n = self.cached();
        self.header(1, n);
        self.fixed64(2, p.start_time_unix_nano);
        self.fixed64(3, p.time_unix_nano);
        self.fixed64(4, p.count);
        self.double(5, p.sum);
        for q in &p.quantile_values {
            self.header(6, quantile_len(q));
            self.double(1, q.quantile);
            self.double(2, q.value);
        }
        self.attrs(7, &p.attributes);
        self.uint(8, u64::from(p.flags));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_len_matches_the_encoding() {
        for v in [
            0u64,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            let mut w = Writer {
                out: &mut out,
                sizes: &[],
                next: 0,
            };
            w.varint(v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn zigzag_matches_protobuf() {
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag32(i32::MIN), u32::MAX);
        assert_eq!(zigzag32(i32::MAX), u32::MAX - 1);
    }

    #[test]
    fn flags_use_a_two_byte_key() {
        let span = Span {
            kind: crate::model::SpanKind::Unspecified,
            flags: 0x301,
            ..Default::default()
        };
        let resource = Resource::default();
        let scope = InstrumentationScope::default();
        let spans = [span];
        let scopes = [ScopeGroup {
            scope: &scope,
            records: &spans,
        }];
        let groups = [ResourceGroup {
            resource: &resource,
            scopes: &scopes,
        }];
        let mut out = Vec::new();
        ProtoEncoder::new().encode_traces(&groups, &mut out);
        // Span body: status (7a 00) then flags fixed32 with key 0x85 0x01.
        assert!(out.ends_with(&[0x12, 0x08, 0x7a, 0x00, 0x85, 0x01, 0x01, 0x03, 0x00, 0x00]));
    }
}
