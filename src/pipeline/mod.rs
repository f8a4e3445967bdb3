//! The export pipeline: queues, the worker thread, batching, flush and shutdown.
//!
//! This is the only module with threads and channels. Application threads hand finished
//! records to a [`RecordSender`]; one background thread (the *worker*) batches them per
//! signal, encodes, compresses and sends each batch with a [`Transport`], retrying
//! transient failures by [`crate::retry`], and keeps [`Stats`].
//!
//! * Each signal has its own bounded queue, so a flood of logs cannot starve spans. A send
//!   never blocks (unless [`FullPolicy::Block`] is chosen) and allocates nothing beyond the
//!   record itself; when the queue is full the [`FullPolicy`] decides what is lost, and the
//!   loss is counted.
//! * Flush and shutdown travel on a separate small control channel, so they never wait
//!   behind data. Both take a timeout and return by it (plus a few milliseconds), whatever
//!   the receiver does.
//! * A batch leaves when it reaches its record count, its estimated encoded size, or its
//!   schedule delay; a flush exports everything offered before it.
//! * Backoff waits are cut short by flush (retry at once) and shutdown (one last attempt).
//!   A transport call already in progress is not interrupted: it is bounded by the
//!   request's timeout, what is left of the batch's export timeout; a flush or shutdown
//!   whose own timeout is shorter returns `TimedOut` meanwhile.
//! * With the `diagnostics` feature, losses are also reported through the `log` facade
//!   (target `otlp_sync`, each call site at most once per 10 s): the first record a full
//!   queue drops, per signal and pipeline (a warning; later ones are only counted); a
//!   dropped export batch, with its signal, record count and a short reason such as the
//!   HTTP status (a warning; never header values, nor the receiver's error text, which is
//!   kept for [`Pipeline::last_error_message`]); a partial success, with the rejected count
//!   and the receiver's message cut to 200 bytes (a warning); a worker panic (an error);
//!   and at shutdown, if anything was dropped, a one-line summary by signal and reason
//!   (info). The record path does no formatting unless such a message is enabled.
//!
//!
//! # Memory, and sizing for small devices
//!
//! Memory is bounded by the configuration, whatever the receiver does:
//!
//! * **Queue slots**: a channel of 32-byte slots per signal, allocated when the pipeline
//!   starts (a 24-byte item, a boxed model record or boxed encoded bytes, never a record
//!   inline, and the channel's 8-byte stamp): `queue_capacity × 32` bytes under
//!   [`FullPolicy::Block`] and [`FullPolicy::DropOldest`]. Under [`FullPolicy::Drop`] (the
//!   default) the channel holds model values only, so it has `min(queue_capacity, D)`
//!   slots, `D` the depth from which records are queued encoded (below; 1 slot with
//!   [`EncodeOnSend::Always`], `queue_capacity` for a JSON signal or
//!   [`EncodeOnSend::Never`]), and encoded records go to a packed store: 8 shards of
//!   128 bytes per signal, and chunks of 32 KiB allocated as records come.
//! * **Queued records**: a record queued as its model value costs its allocations. One
//!   queued encoded ([`EncodeOnSend`]) costs, under [`FullPolicy::Drop`], its protobuf size
//!   plus a 6-byte header, packed in the store's chunks (no allocation of its own), plus
//!   the chunks' slack: per shard in use (a thread keeps to one) the unfilled end of its
//!   last chunk and one spare chunk, and up to 8 spare chunks held by the worker, so at
//!   most 24 chunks (768 KiB) per signal beyond the records, about 3 chunks per sending
//!   thread in practice. Under the other policies it costs its protobuf size plus the
//!   allocator's header (8 to 16 bytes). For the benchmark span of
//!   `shared/bench/WORKLOAD.md` (8 attributes, one event with 2): about 912 bytes as a model
//!   value (`Span` 224 + 8 attributes × 56 + the event 64 + its 2 attributes × 56, plus 4
//!   allocation headers) and 369 packed (363 bytes on the wire). A log record of that
//!   workload: about 168 bytes packed (162 on the wire). With the default [`EncodeOnSend::Backlog`], the
//!   first `D = max(2 × max_batch_records, 1024)` queued records of a signal may be model
//!   values, every further one is encoded; so under [`FullPolicy::Drop`] a full queue of
//!   `Q` such spans holds at most
//!   `min(Q, D) × (32 + 912) + max(0, Q − D) × 369 + 768 KiB` bytes
//!   (about 37 MiB for `Q` = 100,000 and the default batch of 512). A record's queue slot
//!   is given back once the worker has moved it into a batch (in bulk, before an export),
//!   so records taken from the store and not yet batched still count against
//!   `queue_capacity`. A sending thread reserves store slots a block at a time (a
//!   sixteenth of the free room, at most 32, one at a time near capacity) and the worker
//!   takes unspent ones back whenever it takes that thread's shard, so slots reserved and
//!   not yet spent never exceed half of what was free: the bound above holds, and a full
//!   queue is full to within a slot or so per sending thread.
//! * **The worker**: the batch in hand (up to `max_batch_records` records, bounded by
//!   `max_batch_bytes`), the request body (its encoded size, at most `max_batch_bytes`,
//!   4 MiB by default; about 186 KiB for 512 workload spans), the compressed body when
//!   compression is on (smaller), the HTTP client's buffers, and the thread's stack
//!   ([`PipelineConfig::stack_size`]; the platform default when unset, of which only
//!   touched pages are resident). Buffers are kept and reused between batches.
//!
//! Measured (benches/compare, `BENCHMARKS.md`): with 100,000 workload spans queued at
//! once, peak RSS of the whole process was 33 MiB, against 121 MiB for the official SDK
//! in the same run.
//!
//! Sizing a small device: pick `queue_capacity` as the record rate times the longest
//! receiver outage to ride out (records beyond it are dropped and counted, never
//! blocked on); with [`EncodeOnSend::Always`] budget
//! `queue_capacity × (encoded size + 6)` bytes plus 768 KiB for the queue under
//! [`FullPolicy::Drop`], `queue_capacity × (encoded size + 48)` under the other policies
//! (a 32-byte slot and about 16 bytes of allocator header per record); keep `max_batch_records × encoded size` well under
//! `max_batch_bytes`; turn compression on when the link, not the CPU, is the constraint
//! (gzip level 1 shrinks the workload's requests about 5.8 times for about 1.7 µs of CPU
//! per span).
//!
//! ```
//! use otlp_sync::model::{InstrumentationScope, Resource, Span, SpanId, TraceId};
//! use otlp_sync::pipeline::{Pipeline, PipelineConfig};
//! use otlp_sync::transport::{Request, Response, Transport, TransportError};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! /// Accepts everything.
//! struct Sink;
//! impl Transport for Sink {
//!     fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
//!         Ok(Response { status: 200, ..Default::default() })
//!     }
//! }
//!
//! let pipeline = Pipeline::start(PipelineConfig::default(), Resource::default(), Box::new(Sink))?;
//! let sender = pipeline.sender();
//! let scope = Arc::new(InstrumentationScope::new("demo"));
//! let span = Span::new("work", TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
//! sender.send_span(&scope, span).expect("queue has room");
//! pipeline.flush(Duration::from_secs(5)).expect("flushed");
//! let stats = pipeline.stats();
//! assert_eq!((stats.traces.offered, stats.traces.exported), (1, 1));
//! pipeline.shutdown(Duration::from_secs(5)).expect("shut down");
//! assert!(sender.send_span(&scope, Span::default()).is_err());
//! # Ok::<(), otlp_sync::pipeline::StartError>(())
//! ```

mod batch;
mod config;
mod producer;
mod stats;
mod store;
pub(crate) use store::{SHARDS, shard_index};
mod worker;

pub use config::{
    DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_REQUEST_BYTES, EncodeOnSend, FullPolicy, PipelineConfig,
    SignalConfig,
};
pub use producer::MetricProducer;
pub use stats::{Dropped, ErrorKind, LastError, SignalStats, Stats};

use crate::encode::Encoding;
use crate::encode::protobuf::ProtoEncoder;
use crate::model::{InstrumentationScope, LogRecord, Metric, Resource, Span};
use crate::transport::Transport;
use batch::{Queued, Record};
use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError};
use stats::{Counters, Reason};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a caller of flush or shutdown waits past its deadline for the worker's reply
/// (the worker itself works to the deadline).
const REPLY_GRACE: Duration = Duration::from_millis(25);

/// Capacity of the control channel (flush and shutdown requests).
const CONTROL_CAPACITY: usize = 16;

/// A record on its way to the worker, with the id of its scope in [`Shared::scopes`].
///
/// An id rather than an `Arc` clone: cloning (and the worker dropping) the scope's `Arc`
/// per record made its reference count a cache line shared by every producer and the
/// worker.
type Item<T> = (ScopeId, Queued<T>);

/// Index of a scope in the pipeline's scope registry ([`Shared::scopes`]).
type ScopeId = u32;

/// The registry's entry 0: the default scope, used for a [`ScopeHandle`] of another
/// pipeline and when the registry is full.
const DEFAULT_SCOPE: ScopeId = 0;

/// The most distinct scopes a pipeline registers; later ones are sent under their
/// equal-by-value registered scope, or else the default scope.
const MAX_SCOPES: usize = 1 << 16;

/// Tags each pipeline, so a [`ScopeHandle`] is only honoured by the pipeline that made it.
static NEXT_PIPELINE_TAG: AtomicU32 = AtomicU32::new(1);

/// A scope registered with a pipeline by [`RecordSender::register_scope`]: a small `Copy`
/// id that [`RecordSender::send_span_in`] and its siblings send instead of the scope.
///
/// A handle of another pipeline is not an error: records sent with it go out under the
/// default (empty) instrumentation scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeHandle {
    pipeline: u32,
    id: ScopeId,
}

/// The scopes records are sent under, append-only: an id, once handed out, names the
/// same scope for the pipeline's life (so the worker may cache what it has read).
#[derive(Debug)]
struct ScopeRegistry {
    scopes: RwLock<Vec<Arc<InstrumentationScope>>>,
}

impl ScopeRegistry {
    fn new() -> Self {
        ScopeRegistry {
            scopes: RwLock::new(vec![Arc::new(InstrumentationScope::default())]),
        }
    }

    /// The id of `scope`: the same `Arc`, else an equal scope, else a new entry.
    fn register(&self, scope: &Arc<InstrumentationScope>) -> ScopeId {
        let find = |scopes: &[Arc<InstrumentationScope>]| {
            scopes
                .iter()
                .position(|s| Arc::ptr_eq(s, scope))
                .or_else(|| scopes.iter().position(|s| **s == **scope))
                .and_then(|i| ScopeId::try_from(i).ok())
        };
        if let Some(id) = find(&self.scopes.read().unwrap_or_else(|e| e.into_inner())) {
            return id;
        }
        let mut scopes = self.scopes.write().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = find(&scopes) {
            return id;
        }
        if scopes.len() >= MAX_SCOPES {
            return DEFAULT_SCOPE;
        }
        let id = ScopeId::try_from(scopes.len()).unwrap_or(DEFAULT_SCOPE);
        scopes.push(Arc::clone(scope));
        id
    }

    /// Appends to `cache` the entries it lacks (the worker's copy).
    fn refresh(&self, cache: &mut Vec<Arc<InstrumentationScope>>) {
        let scopes = self.scopes.read().unwrap_or_else(|e| e.into_inner());
        if let Some(new) = scopes.get(cache.len()..) {
            cache.extend(new.iter().cloned());
        }
    }
}

/// One signal's queue: a channel, and under [`FullPolicy::Drop`] a packed store.
///
/// Both ends of the channel live in [`Shared`]: the receiver clone lets producers evict the
/// oldest record ([`FullPolicy::DropOldest`]) and clean up after shutdown.
///
/// Under [`FullPolicy::Drop`] records queued encoded go to `store` (their bytes packed in
/// shared chunks) and model values to the channel, and `store`'s depth counts both: a
/// producer reserves a slot there before queueing either, the worker gives it back once
/// the record is in a batch. The channel then needs no more room than the model values
/// [`EncodeOnSend`] lets through. Under the other policies only the channel is used, and
/// holds every record.
#[derive(Debug)]
struct Lane<T> {
    tx: Sender<Item<T>>,
    rx: Receiver<Item<T>>,
    store: store::Store,
    /// Whether `store` is used and its depth counts the queue ([`FullPolicy::Drop`]).
    packed: bool,
}

impl<T> Lane<T> {
    /// A queue of `capacity` records; `encode_above` as [`Shared::encode_above`].
    fn new(capacity: usize, policy: FullPolicy, encode_above: usize) -> Self {
        let packed = matches!(policy, FullPolicy::Drop);
        let channel = if packed {
            // Model values only: at most `encode_above` of them are queued at once.
            capacity.min(encode_above).max(1)
        } else {
            capacity
        };
        let (tx, rx) = crossbeam_channel::bounded(channel);
        Lane {
            tx,
            rx,
            store: store::Store::new(capacity),
            packed,
        }
    }
}

/// State shared by the owner, the senders and the worker.
#[derive(Debug)]
struct Shared {
    traces: Lane<Span>,
    metrics: Lane<Metric>,
    logs: Lane<LogRecord>,
    full_policy: FullPolicy,
    counters: Counters,
    /// Sends are refused (shutdown began, or the worker panicked).
    closed: AtomicBool,
    /// The worker did its last drain: a producer that still gets a record in removes it
    /// itself and counts it dropped.
    drained: AtomicBool,
    /// The worker panicked.
    panicked: AtomicBool,
    /// Per signal (by [`stats::index`]): whether a full queue already dropped a record and
    /// said so. Only the first drop is reported; the rest are counted.
    queue_full_reported: [AtomicBool; 3],
    /// The scopes records are sent under.
    scopes: ScopeRegistry,
    /// This pipeline's tag in its [`ScopeHandle`]s.
    tag: u32,
    /// Per signal (by [`stats::index`]): the queue depth from which records are encoded
    /// by the sending thread rather than queued as model values; `usize::MAX` for never
    /// (a JSON signal). See [`encode_threshold`].
    encode_above: [usize; 3],
    /// Wakes the worker while it waits for a batch's delay (it does not watch the queues
    /// then, so that sends do not wake it one by one): a producer sends a token when a
    /// queue holds [`Shared::nudge_at`] records.
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
    /// Per signal: queue depth at which a producer wakes the worker.
    nudge_at: [usize; 3],
    /// Per signal: a wake token was sent since the worker last drained the queue.
    nudged: [AtomicBool; 3],
    /// The worker holds no record and sleeps until one comes: a producer that appends to
    /// a packed store (which has no channel to wake it) sends a wake token.
    idle: AtomicBool,
}

/// Queue depth from which a signal's records are queued encoded ([`EncodeOnSend`]):
/// never for JSON; for [`EncodeOnSend::Backlog`] two batches' worth, at least
/// [`MIN_ENCODE_DEPTH`].
fn encode_threshold(mode: EncodeOnSend, signal: &SignalConfig) -> usize {
    if signal.encoding != Encoding::Protobuf {
        return usize::MAX;
    }
    match mode {
        EncodeOnSend::Never => usize::MAX,
        EncodeOnSend::Always => 0,
        EncodeOnSend::Backlog => signal
            .max_batch_records
            .saturating_mul(2)
            .max(MIN_ENCODE_DEPTH),
    }
}

/// Lowest queue depth from which records are queued encoded.
const MIN_ENCODE_DEPTH: usize = 1024;

std::thread_local! {
    /// The scratch space each sending thread encodes its records with: an encoder and
    /// the buffer it writes a record into.
    static ENCODER: std::cell::Cell<(ProtoEncoder, Vec<u8>)> =
        std::cell::Cell::new((ProtoEncoder::new(), Vec::new()));
}

/// Largest record buffer a sending thread keeps between records.
const MAX_KEPT_RECORD: usize = 16 * 1024;

/// Encodes `record` with the calling thread's encoder into its scratch buffer and calls
/// `f` with the bytes (those of [`EncodedRecord::as_bytes`](crate::encode::protobuf::EncodedRecord::as_bytes)). Both are taken out of the
/// thread's slot for the call, so a nested call, or one during thread teardown, gets
/// fresh ones.
fn encode_here<T: Record, R>(record: &T, f: impl FnOnce(&[u8]) -> R) -> R {
    let (mut encoder, mut buf) = ENCODER.try_with(std::cell::Cell::take).unwrap_or_default();
    buf.clear();
    T::append_encoded(&mut encoder, record, &mut buf);
    let out = f(&buf);
    if buf.capacity() > MAX_KEPT_RECORD {
        buf = Vec::new();
    }
    let _ = ENCODER.try_with(|e| e.set((encoder, buf)));
    out
}

impl Shared {
    /// Why a record offered now is lost.
    fn closed_reason(&self) -> Reason {
        if self.panicked.load(Ordering::SeqCst) {
            Reason::WorkerPanic
        } else {
            Reason::Shutdown
        }
    }

    /// Counts one record of `signal` lost to a full queue, and reports the first such loss
    /// of the pipeline's life for that signal (a diagnostic; nothing when the `diagnostics`
    /// feature is off).
    fn queue_full_drop(&self, signal: crate::model::Signal) {
        let counters = self.counters.signal(signal);
        counters.not_delivered.fetch_add(1, Ordering::SeqCst);
        counters.add_dropped(Reason::QueueFull, 1);
        self.report_queue_full(signal);
    }

    /// Reports the first record of `signal` a full queue dropped (a diagnostic).
    fn report_queue_full(&self, signal: crate::model::Signal) {
        if let Some(reported) = self.queue_full_reported.get(stats::index(signal)) {
            // A plain load first: a flood of drops does not keep writing the flag.
            if !reported.load(Ordering::Relaxed) && !reported.swap(true, Ordering::Relaxed) {
                diag!(
                    Warn,
                    "the {} queue is full: dropping records (further drops are counted in the \
                     pipeline stats, not reported)",
                    signal.name()
                );
            }
        }
    }

    fn send<T: Record>(
        &self,
        lane: &Lane<T>,
        scope: ScopeId,
        record: T,
    ) -> Result<(), RecordError<T>> {
        if !self.offer(T::SIGNAL) {
            return Err(RecordError::ShutDown(record));
        }
        let encode_above = self
            .encode_above
            .get(stats::index(T::SIGNAL))
            .copied()
            .unwrap_or(usize::MAX);
        if lane.packed {
            return self.send_packed(lane, scope, record, encode_above);
        }
        // `len` reads the queue's two indices: no write to a shared line.
        if encode_above == usize::MAX || (encode_above > 0 && lane.tx.len() < encode_above) {
            return match self.enqueue(lane, (scope, Queued::Model(Box::new(record)))) {
                Ok(()) => Ok(()),
                Err((_, queued)) => match queued {
                    Queued::Model(record) => Err(RecordError::Full(*record)),
                    // Not reached: this path queues model values only.
                    Queued::Encoded(_) => Ok(()),
                },
            };
        }
        if self.full_now(lane) {
            // Full already: spare the encoding (the queue may have room a moment later;
            // the record is counted as dropped by a full queue all the same).
            self.queue_full_drop(T::SIGNAL);
            return Err(RecordError::Full(record));
        }
        let encoded = encode_here(&record, |bytes| Box::<[u8]>::from(bytes));
        match self.enqueue(lane, (scope, Queued::Encoded(encoded))) {
            // The model value is freed here, on the thread that made it.
            Ok(()) => Ok(()),
            Err(_) => Err(RecordError::Full(record)),
        }
    }

    /// [`send`](Self::send) to a packed lane ([`FullPolicy::Drop`]), the record counted
    /// offered: a model value on the channel while the queue is shallower than
    /// `encode_above`, else its encoding in the store.
    fn send_packed<T: Record>(
        &self,
        lane: &Lane<T>,
        scope: ScopeId,
        record: T,
        encode_above: usize,
    ) -> Result<(), RecordError<T>> {
        let mut record = record;
        // A plain load decides: the threshold is a rate, not a bound.
        if encode_above == usize::MAX || lane.store.depth() < encode_above {
            // A model value: a store slot (the queue bound counts both), then the channel.
            let Some(depth) = lane.store.reserve() else {
                self.queue_full_drop(T::SIGNAL);
                return Err(RecordError::Full(record));
            };
            match lane.tx.try_send((scope, Queued::Model(Box::new(record)))) {
                Ok(()) => {
                    self.queued(lane, T::SIGNAL, Some(depth), false);
                    return Ok(());
                }
                Err(e) => {
                    lane.store.release(1);
                    match e.into_inner() {
                        (_, Queued::Model(back)) => record = *back,
                        // Not reached: only model values were sent.
                        (_, Queued::Encoded(_)) => {
                            self.queue_full_drop(T::SIGNAL);
                            return Ok(());
                        }
                    }
                }
            }
            if encode_above == usize::MAX {
                // Not reached (the channel has room for every slot): counted all the same.
                self.queue_full_drop(T::SIGNAL);
                return Err(RecordError::Full(record));
            }
            // The channel is full of model values: this one goes encoded.
        }
        if lane.store.is_full() {
            // Spare the encoding.
            self.queue_full_drop(T::SIGNAL);
            return Err(RecordError::Full(record));
        }
        // The model value is freed on the thread that made it, after the copy.
        match encode_here(&record, |bytes| self.push_bytes(lane, scope, bytes)) {
            Ok(()) => Ok(()),
            Err(_) => Err(RecordError::Full(record)),
        }
    }

    /// Appends an encoded record, counted offered, to a packed lane's store.
    fn push_bytes<T: Record>(
        &self,
        lane: &Lane<T>,
        scope: ScopeId,
        record: &[u8],
    ) -> Result<(), RecordError<()>> {
        // Scope ids are below `MAX_SCOPES`, 2^16.
        let id = u16::try_from(scope).unwrap_or(0);
        match lane.store.push(id, record) {
            store::Pushed::Queued(depth) => self.queued(lane, T::SIGNAL, depth, true),
            store::Pushed::Full => {
                self.queue_full_drop(T::SIGNAL);
                return Err(RecordError::Full(()));
            }
            store::Pushed::TooLarge => {
                // 4 GiB or more: over any request bound, as the worker would find.
                let counters = self.counters.signal(T::SIGNAL);
                counters.not_delivered.fetch_add(1, Ordering::SeqCst);
                counters.add_dropped(Reason::TooLarge, 1);
            }
        }
        Ok(())
    }

    /// After a record is queued on a packed lane (in its store when `stored`), the queue
    /// `depth` deep (when known): sweeps if the worker is gone, wakes it if it sleeps idle
    /// (the store has no channel to wake it) or a batch's worth is queued.
    #[inline]
    fn queued<T: Record>(
        &self,
        lane: &Lane<T>,
        signal: crate::model::Signal,
        depth: Option<usize>,
        stored: bool,
    ) {
        // SeqCst: the handshake of `enqueue`; the store's append is published by its
        // shard's lock, which the worker's sweep takes after storing `drained`.
        if self.drained.load(Ordering::SeqCst) {
            self.sweep(lane);
            return;
        }
        // A plain load first: the flag is written only when the worker goes idle.
        if stored && self.idle.load(Ordering::Relaxed) && self.idle.swap(false, Ordering::AcqRel) {
            let _ = self.wake_tx.try_send(());
        }
        if let Some(depth) = depth {
            self.nudge_if_due(signal, depth);
        }
    }

    /// Counts a record of `signal` offered; `false` (counted as dropped too) when the
    /// pipeline no longer takes records.
    #[inline]
    fn offer(&self, signal: crate::model::Signal) -> bool {
        let counters = self.counters.signal(signal);
        // Counted before it is enqueued, so a concurrent flush never sees an
        // enqueued-but-uncounted record. Relaxed is enough: the worker reads `offered`
        // for a flush only after taking the request from the control channel, and counts
        // a record (`exported`, `dropped`) only after taking it from the queue; both
        // channels hand over with release/acquire, so an increment made before either
        // hand-over is visible to the worker. No other memory is published through it.
        // (On x86-64 this is the same `lock xadd` as SeqCst; it matters on ARM.)
        counters.offered.add(1);
        // Acquire pairs with the SeqCst store by `shutdown` (or the worker). A stale
        // `false` is harmless: the record is then taken by the last drain, or swept and
        // counted by the `drained` check in `enqueue`.
        if self.closed.load(Ordering::Acquire) {
            counters.not_delivered.fetch_add(1, Ordering::SeqCst);
            counters.add_dropped(self.closed_reason(), 1);
            return false;
        }
        true
    }

    /// Whether a record offered to `lane` now would be dropped for a full queue
    /// ([`FullPolicy::Drop`], pipeline open): senders then spare building or encoding it.
    #[inline]
    fn full_now<T>(&self, lane: &Lane<T>) -> bool {
        lane.packed && !self.closed.load(Ordering::Relaxed) && lane.store.is_full()
    }

    /// Wakes the worker once a queue holds a batch's worth, `depth` records (at most one
    /// token per drain).
    #[inline]
    fn nudge_if_due(&self, signal: crate::model::Signal, depth: usize) {
        let i = stats::index(signal);
        let (Some(&at), Some(nudged)) = (self.nudge_at.get(i), self.nudged.get(i)) else {
            return;
        };
        if depth >= at && !nudged.load(Ordering::Relaxed) && !nudged.swap(true, Ordering::AcqRel) {
            // Full: a token is already waiting.
            let _ = self.wake_tx.try_send(());
        }
    }

    /// Counts and queues a record encoded by instrumentation, given by reference (the
    /// bytes of [`EncodedRecord::as_bytes`](crate::encode::protobuf::EncodedRecord::as_bytes)): copied into the packed store
    /// ([`FullPolicy::Drop`]), or into an allocation of its own on the channel.
    fn send_bytes<T: Record>(
        &self,
        lane: &Lane<T>,
        scope: ScopeId,
        record: &[u8],
    ) -> Result<(), RecordError<()>> {
        if !self.offer(T::SIGNAL) {
            return Err(RecordError::ShutDown(()));
        }
        if lane.packed {
            return self.push_bytes(lane, scope, record);
        }
        self.enqueue(lane, (scope, Queued::Encoded(record.into())))
            .map_err(|_| RecordError::Full(()))
    }

    /// Queues `item` by the full policy; on a full queue counts the drop and hands the
    /// item back.
    fn enqueue<T: Record>(&self, lane: &Lane<T>, item: Item<T>) -> Result<(), Item<T>> {
        let result = match self.full_policy {
            FullPolicy::Drop => lane.tx.try_send(item).map_err(TrySendError::into_inner),
            FullPolicy::Block(wait) => lane
                .tx
                .send_timeout(item, wait)
                .map_err(SendTimeoutError::into_inner),
            FullPolicy::DropOldest => self.send_evicting(lane, item),
        };
        match result {
            Ok(()) => {
                // SeqCst, not weaker: one side of a store-load handshake with the worker
                // (it stores `drained`, then sweeps the queue; we enqueue, then load
                // `drained`), so at least one of the two must see the other's write.
                if self.drained.load(Ordering::SeqCst) {
                    // The worker is gone: nobody else will take this record out.
                    self.sweep(lane);
                }
                self.nudge_if_due(T::SIGNAL, lane.tx.len());
                Ok(())
            }
            Err(item) => {
                self.queue_full_drop(T::SIGNAL);
                Err(item)
            }
        }
    }

    /// `try_send`, evicting the oldest queued record when the queue is full (a few rounds
    /// at most, in case other producers refill it in between).
    fn send_evicting<T: Record>(&self, lane: &Lane<T>, item: Item<T>) -> Result<(), Item<T>> {
        let mut item = item;
        for _ in 0..4 {
            match lane.tx.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(back)) => return Err(back),
                Err(TrySendError::Full(back)) => {
                    item = back;
                    if let Ok(evicted) = lane.rx.try_recv() {
                        self.queue_full_drop(T::SIGNAL);
                        drop(evicted);
                    }
                }
            }
        }
        Err(item)
    }

    /// Empties a lane after the worker's last drain, counting what it held as dropped.
    fn sweep<T: Record>(&self, lane: &Lane<T>) {
        let counters = self.counters.signal(T::SIGNAL);
        let reason = self.closed_reason();
        while let Ok(item) = lane.rx.try_recv() {
            if lane.packed {
                lane.store.release(1);
            }
            counters.not_delivered.fetch_add(1, Ordering::SeqCst);
            counters.add_dropped(reason, 1);
            drop(item);
        }
        if lane.packed {
            let n = lane.store.sweep() as u64;
            if n > 0 {
                counters.not_delivered.fetch_add(n, Ordering::SeqCst);
                counters.add_dropped(reason, n);
            }
        }
    }
}

/// A record that could not be queued, handed back.
pub enum RecordError<T> {
    /// The signal's queue was full (counted as dropped, `queue_full`).
    Full(T),
    /// The pipeline is shut down or its worker panicked (counted as dropped, `shutdown`
    /// or `worker_panic`).
    ShutDown(T),
}

impl<T> RecordError<T> {
    /// The record.
    pub fn into_inner(self) -> T {
        match self {
            RecordError::Full(t) | RecordError::ShutDown(t) => t,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, RecordError::Full(_))
    }

    /// Whether the pipeline is shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, RecordError::ShutDown(_))
    }
}

impl<T> fmt::Debug for RecordError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Full(_) => f.write_str("Full(..)"),
            RecordError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for RecordError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Full(_) => f.write_str("export queue full: record dropped"),
            RecordError::ShutDown(_) => f.write_str("export pipeline shut down: record dropped"),
        }
    }
}

impl<T> std::error::Error for RecordError<T> {}

/// Why a flush did not fully succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushError {
    /// Everything offered before the flush was handled, but records were dropped since
    /// the previous flush (any reason; see [`Stats`]).
    Failed {
        /// How many.
        dropped: u64,
    },
    /// The timeout passed first.
    TimedOut,
    /// The worker panicked; records are no longer exported.
    WorkerPanicked,
    /// The pipeline is shut down.
    AlreadyShutDown,
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::Failed { dropped } => {
                write!(
                    f,
                    "flush done, but {dropped} records were dropped since the last"
                )
            }
            FlushError::TimedOut => f.write_str("flush timed out"),
            FlushError::WorkerPanicked => f.write_str("export worker panicked"),
            FlushError::AlreadyShutDown => f.write_str("export pipeline already shut down"),
        }
    }
}

impl std::error::Error for FlushError {}

/// Why a shutdown did not fully succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownError {
    /// The pipeline stopped, but records were dropped since the last flush (any reason).
    Failed {
        /// How many.
        dropped: u64,
    },
    /// The timeout passed first; the worker is left to finish on its own.
    TimedOut,
    /// The worker panicked.
    WorkerPanicked,
    /// Shutdown was already called.
    AlreadyShutDown,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShutdownError::Failed { dropped } => {
                write!(
                    f,
                    "shut down, but {dropped} records were dropped since the last flush"
                )
            }
            ShutdownError::TimedOut => f.write_str("shutdown timed out"),
            ShutdownError::WorkerPanicked => f.write_str("export worker panicked"),
            ShutdownError::AlreadyShutDown => f.write_str("export pipeline already shut down"),
        }
    }
}

impl std::error::Error for ShutdownError {}

/// The worker thread could not be started.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The OS refused to spawn the thread.
    Spawn(std::io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Spawn(_) => f.write_str("could not spawn the export thread"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Spawn(e) => Some(e),
        }
    }
}

/// A request to the worker.
#[derive(Debug)]
enum Control {
    /// Export everything offered before this, then reply.
    Flush {
        reply: Sender<Reply>,
        deadline: Instant,
    },
    /// Flush, stop, reply.
    Shutdown {
        reply: Sender<Reply>,
        deadline: Instant,
    },
}

impl Control {
    fn reply(self, reply: Reply) {
        let (Control::Flush { reply: tx, .. } | Control::Shutdown { reply: tx, .. }) = self;
        // The caller may have given up waiting; that is fine.
        let _ = tx.try_send(reply);
    }
}

/// The worker's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// Done; `dropped` records were lost since the previous flush.
    Done { dropped: u64 },
    /// The deadline passed before everything was handled.
    Incomplete,
    /// The worker panicked.
    Panicked,
}

/// `now + timeout`, saturating far in the future instead of overflowing.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(now)
}

/// Hands records to the pipeline. Cheap to clone, `Send + Sync`; usable from any thread
/// and after the [`Pipeline`] is gone (sends then return [`RecordError::ShutDown`]).
#[derive(Debug, Clone)]
pub struct RecordSender {
    shared: Arc<Shared>,
}

std::thread_local! {
    /// The scope this thread last sent by reference: (pipeline tag, scope address, id).
    /// The `&Arc` sends skip the registry lookup when it repeats. The address is a safe
    /// key: the pipeline's registry keeps its own clone of every registered scope, so the
    /// address is not reused while that pipeline (its tag) lives.
    static LAST_SCOPE: std::cell::Cell<(u32, usize, ScopeId)> =
        const { std::cell::Cell::new((0, 0, DEFAULT_SCOPE)) };
}

impl RecordSender {
    fn new(shared: Arc<Shared>) -> Self {
        RecordSender { shared }
    }

    /// Registers `scope` with the pipeline (once; the same `Arc` or an equal scope gets the
    /// same handle), for the `*_in` sends. Takes a lock: do it once per tracer or logger,
    /// not per record.
    pub fn register_scope(&self, scope: &Arc<InstrumentationScope>) -> ScopeHandle {
        ScopeHandle {
            pipeline: self.shared.tag,
            id: self.shared.scopes.register(scope),
        }
    }

    /// The registry id of `handle` on this pipeline.
    fn id_of(&self, handle: ScopeHandle) -> ScopeId {
        if handle.pipeline == self.shared.tag {
            handle.id
        } else {
            DEFAULT_SCOPE
        }
    }

    /// The registry id of `scope`, by the thread's one-entry cache when it can.
    fn id_for(&self, scope: &Arc<InstrumentationScope>) -> ScopeId {
        let tag = self.shared.tag;
        let addr = Arc::as_ptr(scope) as usize;
        let cached = LAST_SCOPE
            .try_with(|last| {
                let (t, a, id) = last.get();
                (t == tag && a == addr).then_some(id)
            })
            .ok()
            .flatten();
        if let Some(id) = cached {
            return id;
        }
        let id = self.shared.scopes.register(scope);
        let _ = LAST_SCOPE.try_with(|last| last.set((tag, addr, id)));
        id
    }

    /// Queues a finished span of the scope `scope` (see
    /// [`register_scope`](Self::register_scope)); otherwise as
    /// [`send_span`](Self::send_span), which it saves a scope lookup.
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span).
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_span_in(&self, scope: ScopeHandle, span: Span) -> Result<(), RecordError<Span>> {
        self.shared
            .send(&self.shared.traces, self.id_of(scope), span)
    }

    /// Queues a log record of a registered scope. Same contract as
    /// [`send_span_in`](Self::send_span_in).
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span).
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_log_in(
        &self,
        scope: ScopeHandle,
        log: LogRecord,
    ) -> Result<(), RecordError<LogRecord>> {
        self.shared.send(&self.shared.logs, self.id_of(scope), log)
    }

    /// Queues a metric of a registered scope. Same contract as
    /// [`send_span_in`](Self::send_span_in).
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span).
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_metric_in(
        &self,
        scope: ScopeHandle,
        metric: Metric,
    ) -> Result<(), RecordError<Metric>> {
        self.shared
            .send(&self.shared.metrics, self.id_of(scope), metric)
    }

    /// Queues a finished span. Never blocks unless [`FullPolicy::Block`] is configured.
    ///
    /// # Errors
    /// [`RecordError::Full`] when the spans queue is full, [`RecordError::ShutDown`] after
    /// shutdown; either way the span is handed back and counted dropped.
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_span(
        &self,
        scope: &Arc<InstrumentationScope>,
        span: Span,
    ) -> Result<(), RecordError<Span>> {
        self.shared
            .send(&self.shared.traces, self.id_for(scope), span)
    }

    /// Queues a log record. Same contract as [`send_span`](Self::send_span).
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span).
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_log(
        &self,
        scope: &Arc<InstrumentationScope>,
        log: LogRecord,
    ) -> Result<(), RecordError<LogRecord>> {
        self.shared.send(&self.shared.logs, self.id_for(scope), log)
    }

    /// Queues a metric. Same contract as [`send_span`](Self::send_span).
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span).
    #[expect(
        clippy::result_large_err,
        reason = "the record is handed back by value, as crossbeam does; boxing would allocate"
    )]
    pub fn send_metric(
        &self,
        scope: &Arc<InstrumentationScope>,
        metric: Metric,
    ) -> Result<(), RecordError<Metric>> {
        self.shared
            .send(&self.shared.metrics, self.id_for(scope), metric)
    }

    /// A snapshot of the pipeline's counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Whether records of `signal` may be queued encoded ([`EncodeOnSend`] is not
    /// `Never` and the signal's encoding is protobuf): instrumentation may then encode as
    /// it records and send with [`send_encoded_span_bytes`](Self::send_encoded_span_bytes).
    pub(crate) fn encodes_on_send(&self, signal: crate::model::Signal) -> bool {
        self.shared
            .encode_above
            .get(stats::index(signal))
            .is_some_and(|&d| d != usize::MAX)
    }

    /// Queues a span already encoded, given as the bytes of
    /// [`EncodedRecord::as_bytes`](crate::encode::protobuf::EncodedRecord::as_bytes) (field tag 2, length prefix, `Span` message), for the
    /// scope `scope`; counted as [`send_span_in`](Self::send_span_in) counts. The bytes
    /// are copied: under [`FullPolicy::Drop`] into the packed queue (no allocation of its
    /// own), otherwise into an allocation queued on the channel.
    ///
    /// # Errors
    /// As [`send_span`](Self::send_span); the record is dropped either way.
    pub(crate) fn send_encoded_span_bytes(
        &self,
        scope: ScopeHandle,
        record: &[u8],
    ) -> Result<(), RecordError<()>> {
        self.shared
            .send_bytes(&self.shared.traces, self.id_of(scope), record)
    }

    /// Queues a log record already encoded, given as the bytes of
    /// [`EncodedRecord::as_bytes`](crate::encode::protobuf::EncodedRecord::as_bytes); see
    /// [`send_encoded_span_bytes`](Self::send_encoded_span_bytes).
    pub(crate) fn send_encoded_log_bytes(
        &self,
        scope: ScopeHandle,
        record: &[u8],
    ) -> Result<(), RecordError<()>> {
        self.shared
            .send_bytes(&self.shared.logs, self.id_of(scope), record)
    }

    /// Whether a record of `signal` offered now would be dropped for a full queue
    /// ([`FullPolicy::Drop`] only): instrumentation then skips building it and calls
    /// [`count_queue_full`](Self::count_queue_full) instead.
    pub(crate) fn queue_full(&self, signal: crate::model::Signal) -> bool {
        let shared = &self.shared;
        match signal {
            crate::model::Signal::Traces => shared.full_now(&shared.traces),
            crate::model::Signal::Metrics => shared.full_now(&shared.metrics),
            crate::model::Signal::Logs => shared.full_now(&shared.logs),
        }
    }

    /// Counts one record of `signal` offered and dropped for a full queue without being
    /// built (see [`queue_full`](Self::queue_full)).
    pub(crate) fn count_queue_full(&self, signal: crate::model::Signal) {
        // One add (a contended line when several threads shed at once), instead of the
        // three of a record dropped at the queue; snapshots add it to both counts.
        let counters = self.shared.counters.signal(signal);
        counters.shed.add(1);
        self.shared.report_queue_full(signal);
    }
}

/// The running pipeline: owns the worker thread. Dropping it shuts the pipeline down,
/// waiting at most [`PipelineConfig::shutdown_timeout`].
#[must_use = "dropping the Pipeline shuts it down at once"]
#[derive(Debug)]
pub struct Pipeline {
    shared: Arc<Shared>,
    control: Sender<Control>,
    handle: Mutex<Option<JoinHandle<()>>>,
    shutdown_called: AtomicBool,
    shutdown_timeout: Duration,
}

impl Pipeline {
    /// Starts the worker thread (named [`PipelineConfig::thread_name`]) that exports
    /// records under `resource` through `transport`.
    ///
    /// Out-of-range settings are brought into range: zero capacities and batch sizes
    /// become 1, and batch bytes are capped at the request bound.
    ///
    /// # Errors
    /// [`StartError::Spawn`] when the thread cannot be spawned.
    pub fn start(
        config: PipelineConfig,
        resource: Resource,
        transport: Box<dyn Transport>,
    ) -> Result<Pipeline, StartError> {
        Pipeline::start_inner(config, resource, transport, None)
    }

    /// [`Pipeline::start`], plus a [`MetricProducer`] the worker collects every
    /// `interval` (at least 1 ms), once more before each flush completes, and at
    /// shutdown. What it produces goes through the metrics batch like sent metrics, and a
    /// periodic collection's metrics are exported at once rather than after the metrics
    /// schedule delay.
    ///
    /// # Errors
    /// [`StartError::Spawn`] when the thread cannot be spawned.
    pub fn start_with_metrics(
        config: PipelineConfig,
        resource: Resource,
        transport: Box<dyn Transport>,
        producer: Box<dyn MetricProducer>,
        interval: Duration,
    ) -> Result<Pipeline, StartError> {
        let collection = producer::Collection::new(producer, interval);
        Pipeline::start_inner(config, resource, transport, Some(collection))
    }

    fn start_inner(
        config: PipelineConfig,
        resource: Resource,
        transport: Box<dyn Transport>,
        collection: Option<producer::Collection>,
    ) -> Result<Pipeline, StartError> {
        let config = config.sanitized();
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        let nudge_at = |s: &SignalConfig| s.max_batch_records.min(s.queue_capacity / 2).max(1);
        let encode_above = [
            encode_threshold(config.encode_on_send, &config.traces),
            encode_threshold(config.encode_on_send, &config.metrics),
            encode_threshold(config.encode_on_send, &config.logs),
        ];
        let [traces_above, metrics_above, logs_above] = encode_above;
        let policy = config.full_policy;
        let shared = Arc::new(Shared {
            traces: Lane::new(config.traces.queue_capacity, policy, traces_above),
            metrics: Lane::new(config.metrics.queue_capacity, policy, metrics_above),
            logs: Lane::new(config.logs.queue_capacity, policy, logs_above),
            full_policy: config.full_policy,
            counters: Counters::default(),
            closed: AtomicBool::new(false),
            drained: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            queue_full_reported: Default::default(),
            scopes: ScopeRegistry::new(),
            tag: NEXT_PIPELINE_TAG.fetch_add(1, Ordering::Relaxed),
            encode_above,
            wake_tx,
            wake_rx,
            nudge_at: [
                nudge_at(&config.traces),
                nudge_at(&config.metrics),
                nudge_at(&config.logs),
            ],
            nudged: Default::default(),
            idle: AtomicBool::new(false),
        });
        let (control_tx, control_rx) = crossbeam_channel::bounded(CONTROL_CAPACITY);
        // A NUL byte in a thread name makes `spawn` panic.
        let name = config.thread_name.replace('\0', " ");
        let mut builder = std::thread::Builder::new().name(name);
        if let Some(size) = config.stack_size {
            builder = builder.stack_size(size);
        }
        let shutdown_timeout = config.shutdown_timeout;
        let worker_shared = Arc::clone(&shared);
        let handle = builder
            .spawn(move || {
                worker::run(
                    worker_shared,
                    config,
                    resource,
                    transport,
                    control_rx,
                    collection,
                );
            })
            .map_err(StartError::Spawn)?;
        Ok(Pipeline {
            shared,
            control: control_tx,
            handle: Mutex::new(Some(handle)),
            shutdown_called: AtomicBool::new(false),
            shutdown_timeout,
        })
    }

    /// A handle for queueing records.
    pub fn sender(&self) -> RecordSender {
        RecordSender::new(Arc::clone(&self.shared))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// The message of the last export problem ([`Stats::last_error`]), if any.
    pub fn last_error_message(&self) -> Option<String> {
        self.shared.counters.last_error_message()
    }

    /// The message of the last partial success (a warning or a rejection), if any.
    pub fn last_partial_success_message(&self) -> Option<String> {
        self.shared.counters.last_partial_success_message()
    }

    /// Whether [`shutdown`](Self::shutdown) was called (or the pipeline was dropped).
    pub fn is_shut_down(&self) -> bool {
        self.shutdown_called.load(Ordering::SeqCst)
    }

    /// Exports everything offered before this call, and returns when it is done or when
    /// `timeout` has passed (plus a few milliseconds), whichever comes first.
    ///
    /// # Errors
    /// [`FlushError::Failed`] when records were dropped since the previous flush,
    /// [`FlushError::TimedOut`], [`FlushError::WorkerPanicked`],
    /// [`FlushError::AlreadyShutDown`].
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        if self.is_shut_down() {
            return Err(FlushError::AlreadyShutDown);
        }
        if self.shared.panicked.load(Ordering::SeqCst) {
            return Err(FlushError::WorkerPanicked);
        }
        let deadline = deadline_after(timeout);
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = Control::Flush { reply, deadline };
        match self.request(request, &answer, deadline) {
            Ok(Reply::Done { dropped: 0 }) => Ok(()),
            Ok(Reply::Done { dropped }) => Err(FlushError::Failed { dropped }),
            Ok(Reply::Incomplete) | Err(Wait::TimedOut) => Err(FlushError::TimedOut),
            Ok(Reply::Panicked) | Err(Wait::WorkerGone) => Err(FlushError::WorkerPanicked),
        }
    }

    /// Flushes, then stops the worker; returns by `timeout` (plus a few milliseconds).
    /// Idempotent and callable from any thread: later calls return
    /// [`ShutdownError::AlreadyShutDown`]. Sends after this return
    /// [`RecordError::ShutDown`]. On a timeout the worker is left to finish on its own.
    ///
    /// # Errors
    /// [`ShutdownError::Failed`] when records were dropped since the last flush,
    /// [`ShutdownError::TimedOut`], [`ShutdownError::WorkerPanicked`],
    /// [`ShutdownError::AlreadyShutDown`].
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownError> {
        if self.shutdown_called.swap(true, Ordering::SeqCst) {
            return Err(ShutdownError::AlreadyShutDown);
        }
        self.shared.closed.store(true, Ordering::SeqCst);
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if self.shared.panicked.load(Ordering::SeqCst) {
            join_if_finished(handle);
            return Err(ShutdownError::WorkerPanicked);
        }
        let deadline = deadline_after(timeout);
        let (reply, answer) = crossbeam_channel::bounded(1);
        let request = Control::Shutdown { reply, deadline };
        match self.request(request, &answer, deadline) {
            Ok(Reply::Done { dropped }) => {
                // The worker replies as its last act: joining now is quick.
                let joined = handle.map(JoinHandle::join);
                match (joined, dropped) {
                    (Some(Err(_)), _) => Err(ShutdownError::WorkerPanicked),
                    (_, 0) => Ok(()),
                    (_, dropped) => Err(ShutdownError::Failed { dropped }),
                }
            }
            // Timed out: the handle is dropped, the thread is left detached.
            Ok(Reply::Incomplete) | Err(Wait::TimedOut) => Err(ShutdownError::TimedOut),
            Ok(Reply::Panicked) | Err(Wait::WorkerGone) => {
                join_if_finished(handle);
                Err(ShutdownError::WorkerPanicked)
            }
        }
    }

    /// Sends a control request without blocking past `deadline`, then waits for the
    /// answer until `deadline` plus a small grace.
    fn request(
        &self,
        request: Control,
        answer: &Receiver<Reply>,
        deadline: Instant,
    ) -> Result<Reply, Wait> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.control.send_timeout(request, left) {
            Ok(()) => {}
            Err(SendTimeoutError::Timeout(_)) => return Err(Wait::TimedOut),
            Err(SendTimeoutError::Disconnected(_)) => return Err(Wait::WorkerGone),
        }
        let until = deadline.checked_add(REPLY_GRACE).unwrap_or(deadline);
        match answer.recv_deadline(until) {
            Ok(reply) => Ok(reply),
            Err(RecvTimeoutError::Timeout) => Err(Wait::TimedOut),
            // The worker dropped the request unanswered: only a panic does that.
            Err(RecvTimeoutError::Disconnected) => Err(Wait::WorkerGone),
        }
    }
}

/// Why no reply came.
enum Wait {
    TimedOut,
    WorkerGone,
}

/// Joins a thread that has already ended; leaves a running one detached.
fn join_if_finished(handle: Option<JoinHandle<()>>) {
    if let Some(h) = handle {
        if h.is_finished() {
            let _ = h.join();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if !self.is_shut_down() {
            let _ = self.shutdown(self.shutdown_timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn a_queue_item_is_small_whatever_the_record() {
        // The memory bound in the module docs counts on it: the channel preallocates a
        // slot (this plus its 8-byte stamp) per unit of capacity.
        for size in [
            core::mem::size_of::<Item<Span>>(),
            core::mem::size_of::<Item<LogRecord>>(),
            core::mem::size_of::<Item<Metric>>(),
        ] {
            assert!(size <= 24, "{size}");
        }
    }

    /// Keeps every request body.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Transport for Capture {
        fn send(
            &mut self,
            request: &crate::transport::Request<'_>,
        ) -> Result<crate::transport::Response, crate::transport::TransportError> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(request.body.to_vec());
            Ok(crate::transport::Response {
                status: 200,
                ..Default::default()
            })
        }
    }

    fn start(policy: FullPolicy, capacity: usize) -> (Pipeline, Capture) {
        let mut config = PipelineConfig {
            full_policy: policy,
            ..PipelineConfig::default()
        };
        config.traces.queue_capacity = capacity;
        config.logs.queue_capacity = capacity;
        let capture = Capture::default();
        let pipeline = Pipeline::start(config, Resource::default(), Box::new(capture.clone()))
            .expect("started");
        (pipeline, capture)
    }

    #[test]
    fn records_sent_as_bytes_arrive_whatever_the_policy() {
        let span = Span::new(
            "by-ref",
            crate::model::TraceId::from_bytes([7; 16]),
            crate::model::SpanId::from_bytes([8; 8]),
        );
        let record = ProtoEncoder::new().span_record(&span);
        let log = ProtoEncoder::new().log_record(&LogRecord {
            body: "by-ref".into(),
            ..LogRecord::default()
        });
        for policy in [
            FullPolicy::Drop,
            FullPolicy::DropOldest,
            FullPolicy::Block(Duration::from_millis(10)),
        ] {
            let (pipeline, capture) = start(policy, 16);
            let sender = pipeline.sender();
            let scope = sender.register_scope(&Arc::new(InstrumentationScope::new("s")));
            assert!(
                sender
                    .send_encoded_span_bytes(scope, record.as_bytes())
                    .is_ok()
            );
            assert!(
                sender
                    .send_encoded_span_bytes(scope, record.as_bytes())
                    .is_ok()
            );
            assert!(sender.send_encoded_log_bytes(scope, log.as_bytes()).is_ok());
            pipeline.flush(Duration::from_secs(10)).expect("flushed");
            let stats = pipeline.stats();
            assert_eq!(
                (stats.traces.offered, stats.traces.exported),
                (2, 2),
                "{policy:?}"
            );
            assert_eq!(
                (stats.logs.offered, stats.logs.exported),
                (1, 1),
                "{policy:?}"
            );
            let bodies = capture.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let all: Vec<u8> = bodies.concat();
            let found = all
                .windows(record.len())
                .filter(|w| *w == record.as_bytes())
                .count();
            assert_eq!(found, 2, "{policy:?}: the span's bytes, twice");
            assert!(all.windows(log.len()).any(|w| w == log.as_bytes()));
            pipeline
                .shutdown(Duration::from_secs(5))
                .expect("shut down");
            // After shutdown: refused and counted.
            assert!(
                sender
                    .send_encoded_span_bytes(scope, record.as_bytes())
                    .is_err_and(|e| e.is_shut_down())
            );
            assert_eq!(pipeline.stats().traces.dropped.shutdown, 1);
        }
    }

    #[test]
    fn a_record_appended_after_the_last_drain_is_swept_and_counted() {
        let (pipeline, _capture) = start(FullPolicy::Drop, 16);
        let shared = Arc::clone(&pipeline.shared);
        pipeline
            .shutdown(Duration::from_secs(5))
            .expect("shut down");
        assert!(shared.drained.load(Ordering::SeqCst));
        // A producer that passed the `closed` check just before shutdown: counted
        // offered, then appends after the worker's last drain.
        let counters = shared.counters.signal(crate::model::Signal::Traces);
        counters.offered.add(1);
        let pushed = shared.push_bytes(&shared.traces, DEFAULT_SCOPE, &[0x12, 0x00]);
        assert!(pushed.is_ok());
        let stats = shared.counters.snapshot();
        assert_eq!(stats.traces.dropped.shutdown, 1);
        assert_eq!(stats.traces.queued, 0);
        assert_eq!(shared.traces.store.depth(), 0);
    }

    #[test]
    fn a_full_packed_queue_drops_and_counts_without_blocking() {
        let (pipeline, _capture) = start(FullPolicy::Drop, 2);
        let shared = Arc::clone(&pipeline.shared);
        let sender = pipeline.sender();
        // Hold both slots, as records taken but not batched would.
        assert!(shared.traces.store.reserve().is_some());
        assert!(shared.traces.store.reserve().is_some());
        assert!(sender.queue_full(crate::model::Signal::Traces));
        let scope = sender.register_scope(&Arc::new(InstrumentationScope::new("s")));
        let err = sender.send_encoded_span_bytes(scope, &[0x12, 0x00]);
        assert!(err.is_err_and(|e| e.is_full()));
        let err = sender.send_span_in(scope, Span::default());
        assert!(err.is_err_and(|e| e.is_full()));
        let stats = pipeline.stats();
        assert_eq!(
            (stats.traces.offered, stats.traces.dropped.queue_full),
            (2, 2)
        );
        shared.traces.store.release(2);
        assert!(!sender.queue_full(crate::model::Signal::Traces));
        assert!(sender.send_encoded_span_bytes(scope, &[0x12, 0x00]).is_ok());
        pipeline
            .flush(Duration::from_secs(10))
            .expect_err("one dropped");
        assert_eq!(pipeline.stats().traces.exported, 1);
        pipeline.shutdown(Duration::from_secs(5)).ok();
    }

    #[test]
    fn handles_are_send_and_sync() {
        send_sync::<Pipeline>();
        send_sync::<RecordSender>();
        send_sync::<Stats>();
        send_sync::<RecordError<Span>>();
    }

    #[test]
    fn deadline_after_saturates() {
        let d = deadline_after(Duration::MAX);
        assert!(d > Instant::now());
    }
}
