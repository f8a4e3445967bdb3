//! One signal's batch under construction, grouped by instrumentation scope, and the
//! per-signal glue to the encoders.

use crate::encode::Encoding;
#[cfg(feature = "json")]
use crate::encode::json::JsonEncoder;
use crate::encode::protobuf::{
    EncodedRecords, ProtoEncoder, log_encoded_len, metric_encoded_len, span_encoded_len,
};
use crate::model::{
    InstrumentationScope, LogRecord, Metric, Resource, ResourceGroup, ScopeGroup, Signal, Span,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Estimated bytes a record adds to a request beyond its own encoding (field tag and
/// length prefix).
pub(crate) const RECORD_OVERHEAD: usize = 8;

/// Both encoders, one chosen by the configured encoding.
#[derive(Debug)]
pub(crate) struct Encoders {
    pub(crate) encoding: Encoding,
    proto: ProtoEncoder,
    #[cfg(feature = "json")]
    json: JsonEncoder,
}

impl Encoders {
    pub(crate) fn new(encoding: Encoding) -> Self {
        Encoders {
            encoding,
            proto: ProtoEncoder::new(),
            #[cfg(feature = "json")]
            json: JsonEncoder::new(),
        }
    }
}

/// What the worker needs to know about each signal's record type.
pub(crate) trait Record: Send + Sized + 'static {
    /// The signal.
    const SIGNAL: Signal;
    /// Estimated encoded size (protobuf), used to cut batches by bytes.
    fn encoded_len(&self) -> usize;
    /// Appends the request body for `groups` to `out`.
    fn encode(encoders: &mut Encoders, groups: &[ResourceGroup<'_, Self>], out: &mut Vec<u8>);
    /// Appends one record (protobuf) encoded on its own, for the queue: the bytes of
    /// [`EncodedRecord::as_bytes`](crate::encode::protobuf::EncodedRecord::as_bytes).
    fn append_encoded(encoder: &mut ProtoEncoder, record: &Self, out: &mut Vec<u8>);
}

/// A record in a queue and a batch: encoded by the thread that sent it (the signal's
/// encoding is protobuf), or the model value, boxed so that a queue slot stays small
/// whatever the record type (the JSON encoder works from the model).
#[derive(Debug)]
pub(crate) enum Queued<T> {
    /// The model value.
    Model(Box<T>),
    /// The protobuf bytes, as [`EncodedRecord::as_bytes`] has them (field tag and length
    /// prefix included).
    Encoded(Box<[u8]>),
}

impl<T: Record> Queued<T> {
    /// Estimated (model) or exact (encoded) bytes in a request, without the overhead.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Queued::Model(r) => r.encoded_len(),
            Queued::Encoded(e) => e.len(),
        }
    }
}

impl Record for Span {
    const SIGNAL: Signal = Signal::Traces;
    fn encoded_len(&self) -> usize {
        span_encoded_len(self)
    }
    fn encode(encoders: &mut Encoders, groups: &[ResourceGroup<'_, Self>], out: &mut Vec<u8>) {
        match encoders.encoding {
            Encoding::Protobuf => encoders.proto.encode_traces(groups, out),
            #[cfg(feature = "json")]
            Encoding::Json => encoders.json.encode_traces(groups, out),
        }
    }
    fn append_encoded(encoder: &mut ProtoEncoder, record: &Self, out: &mut Vec<u8>) {
        encoder.span_record_into(record, out);
    }
}

impl Record for LogRecord {
    const SIGNAL: Signal = Signal::Logs;
    fn encoded_len(&self) -> usize {
        log_encoded_len(self)
    }
    fn encode(encoders: &mut Encoders, groups: &[ResourceGroup<'_, Self>], out: &mut Vec<u8>) {
        match encoders.encoding {
            Encoding::Protobuf => encoders.proto.encode_logs(groups, out),
            #[cfg(feature = "json")]
            Encoding::Json => encoders.json.encode_logs(groups, out),
        }
    }
    fn append_encoded(encoder: &mut ProtoEncoder, record: &Self, out: &mut Vec<u8>) {
        encoder.log_record_into(record, out);
    }
}

impl Record for Metric {
    const SIGNAL: Signal = Signal::Metrics;
    fn encoded_len(&self) -> usize {
        metric_encoded_len(self)
    }
    fn encode(encoders: &mut Encoders, groups: &[ResourceGroup<'_, Self>], out: &mut Vec<u8>) {
        match encoders.encoding {
            Encoding::Protobuf => encoders.proto.encode_metrics(groups, out),
            #[cfg(feature = "json")]
            Encoding::Json => encoders.json.encode_metrics(groups, out),
        }
    }
    fn append_encoded(encoder: &mut ProtoEncoder, record: &Self, out: &mut Vec<u8>) {
        encoder.metric_record_into(record, out);
    }
}

/// Records of one scope.
#[derive(Debug)]
struct Bucket<T> {
    scope: Arc<InstrumentationScope>,
    /// Model records.
    records: Vec<T>,
    /// Records queued encoded: their bytes (field tag and length prefix included), one
    /// after the other, as they go inside the scope's `Scope*` message.
    encoded: Vec<u8>,
}

impl<T> Bucket<T> {
    fn new(scope: Arc<InstrumentationScope>) -> Self {
        Bucket {
            scope,
            records: Vec::new(),
            encoded: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.encoded.is_empty()
    }
}

/// A batch being filled: records grouped by scope, with its size and age.
#[derive(Debug)]
pub(crate) struct Batch<T> {
    buckets: Vec<Bucket<T>>,
    /// Index of the bucket used last (records tend to come in runs of one scope).
    last: usize,
    len: usize,
    bytes: usize,
    first_at: Option<Instant>,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            buckets: Vec::new(),
            last: 0,
            len: 0,
            bytes: 0,
            first_at: None,
        }
    }
}

impl<T> Batch<T> {
    /// Records in the batch.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch holds no record.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Estimated encoded bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// When the first record of the batch came, if it holds records.
    pub(crate) fn started(&self) -> Option<Instant> {
        self.first_at
    }

    /// When the batch must be exported by age, if it holds records.
    pub(crate) fn due_at(&self, delay: Duration) -> Option<Instant> {
        self.first_at.map(|t| {
            t.checked_add(delay)
                .unwrap_or(t + Duration::from_secs(86_400))
        })
    }

    /// Adds a record of estimated size `estimate` (overhead included).
    pub(crate) fn push(
        &mut self,
        scope: &Arc<InstrumentationScope>,
        record: Queued<T>,
        estimate: usize,
        now: Instant,
    ) {
        let Some(bucket) = self.bucket(scope) else {
            return;
        };
        match record {
            Queued::Model(r) => bucket.records.push(*r),
            Queued::Encoded(e) => bucket.encoded.extend_from_slice(&e),
        }
        self.counted(estimate, now);
    }

    /// Adds a record queued encoded (its bytes as [`EncodedRecord::as_bytes`] has them) of
    /// estimated size `estimate` (overhead included).
    pub(crate) fn push_bytes(
        &mut self,
        scope: &Arc<InstrumentationScope>,
        record: &[u8],
        estimate: usize,
        now: Instant,
    ) {
        if let Some(bucket) = self.bucket(scope) {
            bucket.encoded.extend_from_slice(record);
            self.counted(estimate, now);
        }
    }

    /// The bucket of `scope`, made if need be; the last used from now on. (Never `None`:
    /// there is a bucket once one is pushed.)
    fn bucket(&mut self, scope: &Arc<InstrumentationScope>) -> Option<&mut Bucket<T>> {
        let i = self.bucket_index(scope);
        if i >= self.buckets.len() {
            self.buckets.push(Bucket::new(Arc::clone(scope)));
        }
        self.last = i.min(self.buckets.len().saturating_sub(1));
        self.buckets.get_mut(self.last)
    }

    /// Counts a record just added.
    fn counted(&mut self, estimate: usize, now: Instant) {
        self.len += 1;
        self.bytes = self.bytes.saturating_add(estimate);
        if self.first_at.is_none() {
            self.first_at = Some(now);
        }
    }

    /// The bucket for `scope`: the same `Arc` first, then an equal scope; a new index
    /// (`buckets.len()`) when none matches.
    fn bucket_index(&self, scope: &Arc<InstrumentationScope>) -> usize {
        if let Some(b) = self.buckets.get(self.last) {
            if Arc::ptr_eq(&b.scope, scope) {
                return self.last;
            }
        }
        if let Some(i) = self
            .buckets
            .iter()
            .position(|b| Arc::ptr_eq(&b.scope, scope))
        {
            return i;
        }
        self.buckets
            .iter()
            .position(|b| *b.scope == **scope)
            .unwrap_or(self.buckets.len())
    }

    /// The scope groups of the model records, in first-seen order, skipping empty
    /// buckets.
    pub(crate) fn scope_groups(&self) -> Vec<ScopeGroup<'_, T>> {
        self.buckets
            .iter()
            .filter(|b| !b.records.is_empty())
            .map(|b| ScopeGroup {
                scope: &b.scope,
                records: &b.records,
            })
            .collect()
    }

    /// Empties the batch, keeping the buckets (and their capacity) of scopes that had
    /// records in it; buckets of scopes idle for a whole batch are freed.
    pub(crate) fn clear(&mut self) {
        self.buckets.retain(|b| !b.is_empty());
        for b in &mut self.buckets {
            b.records.clear();
            b.encoded.clear();
        }
        self.last = 0;
        self.len = 0;
        self.bytes = 0;
        self.first_at = None;
    }
}

impl<T: Record> Batch<T> {
    /// Appends the encoded request for this batch under `resource` to `out`.
    ///
    /// Records queued encoded are copied (protobuf only: a signal's records are queued
    /// encoded only when its encoding is protobuf). A batch holding both kinds becomes one
    /// request with two `Resource*` entries for the same resource: concatenated protobuf
    /// messages merge their repeated fields.
    pub(crate) fn encode(&self, resource: &Resource, encoders: &mut Encoders, out: &mut Vec<u8>) {
        let scopes = self.scope_groups();
        let packed: Vec<&Bucket<T>> = self
            .buckets
            .iter()
            .filter(|b| !b.encoded.is_empty())
            .collect();
        if !scopes.is_empty() || packed.is_empty() {
            let groups = [ResourceGroup {
                resource,
                scopes: &scopes,
            }];
            T::encode(encoders, &groups, out);
        }
        if !packed.is_empty() {
            debug_assert_eq!(encoders.encoding, Encoding::Protobuf);
            let runs: Vec<EncodedRecords<'_>> =
                packed.iter().map(|b| EncodedRecords(&b.encoded)).collect();
            let scopes: Vec<ScopeGroup<'_, EncodedRecords<'_>>> = packed
                .iter()
                .zip(&runs)
                .map(|(b, run)| ScopeGroup {
                    scope: &b.scope,
                    records: core::slice::from_ref(run),
                })
                .collect();
            let groups = [ResourceGroup {
                resource,
                scopes: &scopes,
            }];
            encoders.proto.encode_record_runs(&groups, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::protobuf::EncodedRecord;
    use crate::model::{SpanId, TraceId};

    fn span(name: &'static str) -> Span {
        Span::new(
            name,
            TraceId::from_bytes([1; 16]),
            SpanId::from_bytes([2; 8]),
        )
    }

    fn model(span: Span) -> Queued<Span> {
        Queued::Model(Box::new(span))
    }

    fn names(g: &ScopeGroup<'_, Span>) -> Vec<String> {
        g.records.iter().map(|s| s.name.to_string()).collect()
    }

    #[test]
    fn groups_by_scope_pointer_then_equality() {
        let a = Arc::new(InstrumentationScope::new("a"));
        let b = Arc::new(InstrumentationScope::new("b"));
        // Equal to `a` but a different allocation: same group.
        let a2 = Arc::new(InstrumentationScope::new("a"));
        let mut v = InstrumentationScope::new("a");
        v.version = "2".into();
        let a_v2 = Arc::new(v);
        let now = Instant::now();
        let mut batch = Batch::default();
        batch.push(&a, model(span("1")), 10, now);
        batch.push(&b, model(span("2")), 10, now);
        batch.push(&a2, model(span("3")), 10, now);
        batch.push(&a_v2, model(span("4")), 10, now);
        batch.push(&b, model(span("5")), 10, now);
        batch.push(&a, model(span("6")), 10, now);
        assert_eq!(batch.len(), 6);
        assert_eq!(batch.bytes(), 60);
        let groups = batch.scope_groups();
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].scope.name, "a");
        assert_eq!(groups[0].scope.version, "");
        assert_eq!(names(&groups[0]), ["1", "3", "6"]);
        assert_eq!(groups[1].scope.name, "b");
        assert_eq!(names(&groups[1]), ["2", "5"]);
        assert_eq!(groups[2].scope.version, "2");
        assert_eq!(names(&groups[2]), ["4"]);
        let resource = Resource::default();
        let rg = ResourceGroup {
            resource: &resource,
            scopes: &groups,
        };
        assert_eq!(rg.record_count(), 6);
    }

    #[test]
    fn encoded_and_model_records_encode_to_the_same_spans() {
        let a = Arc::new(InstrumentationScope::new("a"));
        let b = Arc::new(InstrumentationScope::new("b"));
        let now = Instant::now();
        let mut proto = ProtoEncoder::new();
        let resource = Resource::default();
        let mut encoders = Encoders::new(Encoding::Protobuf);

        // All model: the plain encoder's bytes.
        let mut models = Batch::default();
        models.push(&a, model(span("1")), 10, now);
        models.push(&b, model(span("2")), 10, now);
        let mut expected = Vec::new();
        models.encode(&resource, &mut encoders, &mut expected);

        // All encoded: byte for byte the same request.
        let mut encoded = Batch::<Span>::default();
        encoded.push(
            &a,
            Queued::Encoded(proto.span_record(&span("1")).into_bytes()),
            10,
            now,
        );
        encoded.push(
            &b,
            Queued::Encoded(proto.span_record(&span("2")).into_bytes()),
            10,
            now,
        );
        let mut got = Vec::new();
        encoded.encode(&resource, &mut encoders, &mut got);
        assert_eq!(got, expected);
        assert_eq!(encoded.len(), 2);
        encoded.clear();
        assert!(encoded.is_empty());
        assert_eq!(encoded.buckets.len(), 2);

        // Mixed: the model part, then the encoded part as a second resource entry.
        let mut mixed = Batch::<Span>::default();
        mixed.push(&a, model(span("1")), 10, now);
        mixed.push(
            &b,
            Queued::Encoded(proto.span_record(&span("2")).into_bytes()),
            10,
            now,
        );
        let mut got = Vec::new();
        mixed.encode(&resource, &mut encoders, &mut got);
        let mut first = Vec::new();
        let only_a = [ScopeGroup {
            scope: &a,
            records: &[span("1")][..],
        }];
        proto.encode_traces(
            &[ResourceGroup {
                resource: &resource,
                scopes: &only_a,
            }],
            &mut first,
        );
        let mut second = Vec::new();
        let rec = [proto.span_record(&span("2"))];
        let only_b = [ScopeGroup {
            scope: &b,
            records: &rec[..],
        }];
        proto.encode_records(
            &[ResourceGroup {
                resource: &resource,
                scopes: &only_b,
            }],
            &mut second,
        );
        first.extend_from_slice(&second);
        assert_eq!(got, first);
    }

    #[test]
    fn clear_keeps_active_buckets_only() {
        let a = Arc::new(InstrumentationScope::new("a"));
        let b = Arc::new(InstrumentationScope::new("b"));
        let t0 = Instant::now();
        let mut batch = Batch::default();
        assert_eq!(batch.due_at(Duration::from_secs(1)), None);
        batch.push(&a, model(span("1")), 10, t0);
        batch.push(&b, model(span("2")), 10, t0 + Duration::from_secs(5));
        assert_eq!(
            batch.due_at(Duration::from_secs(1)),
            Some(t0 + Duration::from_secs(1))
        );
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.bytes(), 0);
        assert_eq!(batch.due_at(Duration::from_secs(1)), None);
        assert!(batch.scope_groups().is_empty());
        batch.push(&b, model(span("3")), 10, t0);
        batch.clear();
        // `a` was idle for a whole batch: its bucket is gone.
        assert_eq!(batch.buckets.len(), 1);
        assert_eq!(batch.buckets[0].scope.name, "b");
    }

    #[test]
    fn packed_records_encode_as_encode_records_does() {
        use crate::model::{AnyValue, KeyValue, LogRecord};
        let mut a = InstrumentationScope::new("a");
        a.version = "1.2".into();
        a.attributes = vec![
            KeyValue::new("k", "v"),
            KeyValue::new("list", vec![AnyValue::from(1), AnyValue::from("x")]),
        ];
        a.dropped_attributes_count = 3;
        a.schema_url = "https://example.com/scope".into();
        let a = Arc::new(a);
        // An empty scope: every field omitted.
        let b = Arc::new(InstrumentationScope::default());
        let mut resource = Resource::new(vec![KeyValue::new("service.name", "svc")]);
        resource.dropped_attributes_count = 1;
        resource.schema_url = "https://example.com/resource".into();
        let mut proto = ProtoEncoder::new();
        let now = Instant::now();
        for resource in [resource, Resource::default()] {
            // Spans: one of them large enough for two-byte length prefixes.
            let mut big = span("big");
            big.attributes = (0..40).map(|i| KeyValue::new("key", i)).collect();
            let spans = [span("1"), big, span("3")];
            let records: Vec<EncodedRecord> = spans.iter().map(|s| proto.span_record(s)).collect();
            let mut batch = Batch::<Span>::default();
            batch.push_bytes(&a, records[0].as_bytes(), 10, now);
            batch.push(&b, Queued::Encoded(records[1].as_bytes().into()), 10, now);
            batch.push(
                &a,
                Queued::Encoded(records[2].clone().into_bytes()),
                10,
                now,
            );
            let mut got = Vec::new();
            batch.encode(&resource, &mut Encoders::new(Encoding::Protobuf), &mut got);
            let in_a = [records[0].clone(), records[2].clone()];
            let in_b = [records[1].clone()];
            let scopes = [
                ScopeGroup {
                    scope: &a,
                    records: &in_a[..],
                },
                ScopeGroup {
                    scope: &b,
                    records: &in_b[..],
                },
            ];
            let mut want = Vec::new();
            proto.encode_records(
                &[ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }],
                &mut want,
            );
            assert_eq!(got, want);
            // And it is what the model encoder writes.
            let mut direct = Vec::new();
            let (sa, sb) = ([spans[0].clone(), spans[2].clone()], [spans[1].clone()]);
            let scopes = [
                ScopeGroup {
                    scope: &a,
                    records: &sa[..],
                },
                ScopeGroup {
                    scope: &b,
                    records: &sb[..],
                },
            ];
            proto.encode_traces(
                &[ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }],
                &mut direct,
            );
            assert_eq!(got, direct);

            // Logs: the same envelope.
            let log = LogRecord {
                body: "hello".into(),
                ..Default::default()
            };
            let encoded = proto.log_record(&log);
            let mut logs = Batch::<LogRecord>::default();
            logs.push_bytes(&b, encoded.as_bytes(), 10, now);
            let mut got = Vec::new();
            logs.encode(&resource, &mut Encoders::new(Encoding::Protobuf), &mut got);
            let mut want = Vec::new();
            let one = [log];
            let scopes = [ScopeGroup {
                scope: &b,
                records: &one[..],
            }];
            proto.encode_logs(
                &[ResourceGroup {
                    resource: &resource,
                    scopes: &scopes,
                }],
                &mut want,
            );
            assert_eq!(got, want);
        }
    }
}
