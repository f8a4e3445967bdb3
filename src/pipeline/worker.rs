//! The worker thread: receives records and control requests, batches, exports, retries.

use super::batch::{Batch, Encoders, Queued, RECORD_OVERHEAD, Record};
use super::producer::Collection;
use super::stats::{Dropped, ErrorKind, Reason, Stats, index};
use super::store::{Cursor, Store};
use super::{Control, Item, Lane, PipelineConfig, Reply, ScopeId, Shared};
use crate::compress::{Compression, Compressor};
use crate::encode::Encoding;
use crate::encode::response::{decode_export_response, error_message};
use crate::model::{InstrumentationScope, LogRecord, Metric, Resource, Signal, Span};
use crate::retry::{Backoff, Disposition, DropReason, NextAttempt, classify};
use crate::transport::{Request, Response, Transport, TransportError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Select, TryRecvError};
use std::collections::VecDeque;
use std::fmt;
use std::hash::BuildHasher;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// Records taken from one queue per wake-up before looking at the others again.
const DRAIN_CHUNK: usize = 256;

/// How long the flush barrier waits at a time for a record counted but not yet queued.
const BARRIER_POLL: Duration = Duration::from_millis(2);

/// How long the flush barrier waits at a time on a packed lane's channel before it looks
/// at the store again (a store cannot be waited on).
const PACKED_POLL: Duration = Duration::from_micros(200);

/// The thread body: runs the worker, and turns a panic into counters and answers.
pub(super) fn run(
    shared: Arc<Shared>,
    config: PipelineConfig,
    resource: Resource,
    transport: Box<dyn Transport>,
    control: Receiver<Control>,
    collection: Option<Collection>,
) {
    let mut worker = Worker::new(shared, config, resource, transport, control);
    worker.collection = collection;
    if catch_unwind(AssertUnwindSafe(|| worker.run())).is_err() {
        worker.after_panic();
    }
}

/// The three batches.
#[derive(Debug, Default)]
struct Batches {
    traces: Batch<Span>,
    metrics: Batch<Metric>,
    logs: Batch<LogRecord>,
}

/// Picks a signal's batch and queue.
trait Routed: Record {
    fn batch(b: &mut Batches) -> &mut Batch<Self>;
    fn lane(shared: &Shared) -> &Lane<Self>;
}

impl Routed for Span {
    fn batch(b: &mut Batches) -> &mut Batch<Self> {
        &mut b.traces
    }
    fn lane(shared: &Shared) -> &Lane<Self> {
        &shared.traces
    }
}

impl Routed for Metric {
    fn batch(b: &mut Batches) -> &mut Batch<Self> {
        &mut b.metrics
    }
    fn lane(shared: &Shared) -> &Lane<Self> {
        &shared.metrics
    }
}

impl Routed for LogRecord {
    fn batch(b: &mut Batches) -> &mut Batch<Self> {
        &mut b.logs
    }
    fn lane(shared: &Shared) -> &Lane<Self> {
        &shared.logs
    }
}

/// A record taken from a queue.
enum Incoming<'a, T> {
    /// From the channel.
    Queued(Queued<T>),
    /// From a packed store: the encoded bytes.
    Bytes(&'a [u8]),
}

struct Worker {
    /// The same as `ex.shared`, apart so that a record read from a store can be borrowed
    /// while the exporter works.
    shared: Arc<Shared>,
    batches: Batches,
    ex: Exporter,
    /// The worker's side of each signal's packed store, indexed by [`index`].
    cursors: [Cursor; 3],
    /// Per signal: records read from the store whose slots are not given back yet (see
    /// [`Slots`]).
    unsettled: [usize; 3],
    /// The wake token's receiver ([`Shared::nudge_if_due`](super::Shared)).
    wake_rx: Receiver<()>,
    /// Records taken from each queue (by the worker), indexed by [`index`].
    received: [u64; 3],
    /// The metrics producer and its schedule, if any (see `collect_metrics`).
    collection: Option<Collection>,
    /// The worker's copy of the scope registry, refreshed when an id is beyond it.
    scopes: Vec<Arc<InstrumentationScope>>,
}

/// Everything an export needs apart from the batch.
struct Exporter {
    shared: Arc<Shared>,
    config: PipelineConfig,
    resource: Resource,
    transport: Option<Box<dyn Transport>>,
    control: Receiver<Control>,
    /// Control requests received but not answered yet, oldest first.
    pending: VecDeque<Control>,
    /// Set once the control channel is gone (the owner vanished without a shutdown).
    control_gone: bool,
    /// Set once a shutdown arrived: one attempt per batch, bounded by this deadline.
    shutdown_deadline: Option<Instant>,
    encoders: Encoders,
    /// One compressor per signal (traces, metrics, logs), made on first use.
    compressors: [Option<Compressor>; 3],
    body: Vec<u8>,
    compressed: Vec<u8>,
    backoff: Backoff,
    dropped_at_last_flush: u64,
}

impl Worker {
    fn new(
        shared: Arc<Shared>,
        config: PipelineConfig,
        resource: Resource,
        transport: Box<dyn Transport>,
        control: Receiver<Control>,
    ) -> Self {
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x6f74_6c70_u64);
        let ex = Exporter {
            encoders: Encoders::new(config.traces.encoding),
            compressors: [None, None, None],
            backoff: Backoff::new(config.retry, seed),
            shared: Arc::clone(&shared),
            config,
            resource,
            transport: Some(transport),
            control,
            pending: VecDeque::new(),
            control_gone: false,
            shutdown_deadline: None,
            body: Vec::new(),
            compressed: Vec::new(),
            dropped_at_last_flush: 0,
        };
        Worker {
            batches: Batches::default(),
            cursors: Default::default(),
            unsettled: [0; 3],
            wake_rx: shared.wake_rx.clone(),
            shared,
            received: [0; 3],
            collection: None,
            scopes: Vec::new(),
            ex,
        }
    }

    fn run(&mut self) {
        loop {
            self.ex.take_control();
            // Answer requests in order. A request stays queued until answered, so a
            // panic in between still gets it answered (`after_panic`).
            while let Some(request) = self.ex.pending.front() {
                match *request {
                    Control::Flush { deadline, .. } => {
                        let reply = self.flush(deadline);
                        self.ex.answer_front(reply);
                    }
                    Control::Shutdown { deadline, .. } => {
                        let reply = self.shut_down(deadline);
                        self.ex.answer_front(reply);
                        // Anything else still pending is answered as done too.
                        while !self.ex.pending.is_empty() {
                            self.ex.answer_front(reply);
                        }
                        return;
                    }
                }
            }
            self.collect_due(Instant::now());
            self.export_due(Instant::now());
            self.wait_for_work();
        }
    }

    /// Takes in what is queued; if nothing was, sleeps until there is work.
    ///
    /// Idle (no record in hand), the worker sleeps on the queues and the first record
    /// wakes it. Holding records that wait for their batch's delay, it sleeps on the
    /// control channel and the wake token only, until the oldest batch is due: records
    /// sent meanwhile stay queued without waking it (a wake is a system call on the
    /// sending thread), unless a queue reaches a batch's worth, when its producer sends
    /// the token ([`Shared::nudge_if_due`](super::Shared)).
    fn wait_for_work(&mut self) {
        let mut took = false;
        for signal in Signal::ALL {
            for _ in 0..DRAIN_CHUNK {
                if !self.pull(signal) {
                    break;
                }
                took = true;
            }
        }
        self.settle();
        // Drained: producers may wake us again at the next batch's worth.
        for nudged in &self.shared.nudged {
            nudged.store(false, Ordering::Release);
        }
        if took {
            return;
        }
        let due = self.next_due();
        let holding = !(self.batches.traces.is_empty()
            && self.batches.metrics.is_empty()
            && self.batches.logs.is_empty());
        let shared = Arc::clone(&self.shared);
        if !holding {
            // Going idle: producers appending to a store send a wake token from now on.
            // SeqCst: one side of a store-load handshake (we store the flag, then look at
            // the stores; a producer appends, then loads the flag), so a record appended
            // meanwhile is either seen here or wakes us.
            shared.idle.store(true, Ordering::SeqCst);
            if Signal::ALL.into_iter().any(|signal| self.pull(signal)) {
                shared.idle.store(false, Ordering::Relaxed);
                self.settle();
                return;
            }
        }
        let mut select = Select::new();
        let _control = (!self.ex.control_gone).then(|| select.recv(&self.ex.control));
        let _wake = select.recv(&self.wake_rx);
        if !holding {
            select.recv(&shared.traces.rx);
            select.recv(&shared.metrics.rx);
            select.recv(&shared.logs.rx);
        }
        // Which one is ready does not matter: the next loop takes control requests and
        // records, and exports what is due.
        let _ = match due {
            Some(due) => select.ready_deadline(due).ok(),
            None => Some(select.ready()),
        };
        shared.idle.store(false, Ordering::Relaxed);
        while self.wake_rx.try_recv().is_ok() {}
    }

    /// Gives back the queue slots of the records moved from the stores into batches.
    fn settle(&mut self) {
        let shared = &self.shared;
        for (n, store) in self.unsettled.iter_mut().zip([
            &shared.traces.store,
            &shared.metrics.store,
            &shared.logs.store,
        ]) {
            store.release(std::mem::take(n));
        }
    }

    /// Takes one record of `signal` if one is queued.
    fn pull(&mut self, signal: Signal) -> bool {
        match signal {
            Signal::Traces => self.pull_from::<Span>(),
            Signal::Metrics => self.pull_from::<Metric>(),
            Signal::Logs => self.pull_from::<LogRecord>(),
        }
    }

    /// Takes one record of `T` if one is queued: from the store first, then the channel.
    fn pull_from<T: Routed>(&mut self) -> bool {
        let Worker {
            shared,
            batches,
            ex,
            cursors,
            unsettled,
            received,
            scopes,
            ..
        } = self;
        let lane = T::lane(shared);
        let i = index(T::SIGNAL);
        if lane.packed {
            if let (Some(cursor), Some(unsettled)) = (cursors.get_mut(i), unsettled.get_mut(i)) {
                match cursor.next(&lane.store) {
                    Some((id, bytes)) => {
                        *unsettled += 1;
                        let scope = scope_of(shared, scopes, ScopeId::from(id));
                        let mut slots = Slots::Held(&lane.store, unsettled);
                        let record = Incoming::Bytes(bytes);
                        accept::<T>(ex, batches, received, scope, record, &mut slots);
                        return true;
                    }
                    // All batched: give the slots back.
                    None => lane.store.release(std::mem::take(unsettled)),
                }
            }
        }
        match lane.rx.try_recv() {
            Ok(item) => {
                self.accept_item(item);
                true
            }
            Err(_) => false,
        }
    }

    /// Waits until `until` for one record of `signal`.
    fn pull_until(&mut self, signal: Signal, until: Instant) -> bool {
        match signal {
            Signal::Traces => self.pull_until_from::<Span>(until),
            Signal::Metrics => self.pull_until_from::<Metric>(until),
            Signal::Logs => self.pull_until_from::<LogRecord>(until),
        }
    }

    /// Waits until `until` for one record of `T`. A store cannot be waited on: a packed
    /// lane is looked at again every [`PACKED_POLL`].
    fn pull_until_from<T: Routed>(&mut self, until: Instant) -> bool {
        let shared = Arc::clone(&self.shared);
        let lane = T::lane(&shared);
        loop {
            if self.pull_from::<T>() {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            let wait_until = if lane.packed {
                now.checked_add(PACKED_POLL).unwrap_or(until).min(until)
            } else {
                until
            };
            if let Ok(item) = lane.rx.recv_deadline(wait_until) {
                self.accept_item(item);
                return true;
            }
        }
    }

    /// Takes in a record received from a channel: [`accept`] under the scope its id names.
    fn accept_item<T: Routed>(&mut self, (id, record): Item<T>) {
        let lane = T::lane(&self.shared);
        let scope = scope_of(&self.shared, &mut self.scopes, id);
        let unsettled = self.unsettled.get_mut(index(T::SIGNAL));
        let mut slots = match unsettled {
            // A packed lane's channel: the record holds a slot of the store's depth, given
            // back in bulk as those of records read from the store.
            Some(n) if lane.packed => {
                *n += 1;
                Slots::Held(&lane.store, n)
            }
            _ => Slots::None,
        };
        accept(
            &mut self.ex,
            &mut self.batches,
            &mut self.received,
            scope,
            Incoming::Queued(record),
            &mut slots,
        );
    }

    /// When the oldest batch (or the next metrics collection) is due.
    fn next_due(&self) -> Option<Instant> {
        let c = &self.ex.config;
        [
            self.batches.traces.due_at(c.traces.schedule_delay),
            self.batches.metrics.due_at(c.metrics.schedule_delay),
            self.batches.logs.due_at(c.logs.schedule_delay),
            self.collection.as_ref().map(Collection::due_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Exports the batches whose delay is up.
    fn export_due(&mut self, now: Instant) {
        let c = &self.ex.config;
        let due = |d: Option<Instant>| d.is_some_and(|d| d <= now);
        let (t, m, l) = (
            due(self.batches.traces.due_at(c.traces.schedule_delay)),
            due(self.batches.metrics.due_at(c.metrics.schedule_delay)),
            due(self.batches.logs.due_at(c.logs.schedule_delay)),
        );
        if t {
            self.ex.export(&mut self.batches.traces);
        }
        if m {
            self.ex.export(&mut self.batches.metrics);
        }
        if l {
            self.ex.export(&mut self.batches.logs);
        }
    }

    fn export_all(&mut self) {
        self.ex.export(&mut self.batches.traces);
        self.ex.export(&mut self.batches.metrics);
        self.ex.export(&mut self.batches.logs);
    }

    /// The flush barrier: takes in every record offered before now (the count of
    /// `offered` at this moment, less those lost on the producer side), exports all
    /// batches, and says how many records were dropped since the previous flush.
    fn flush(&mut self, deadline: Instant) -> Reply {
        self.collect_metrics();
        let counters = &self.ex.shared.counters;
        let target = Signal::ALL.map(|s| counters.signal(s).offered.sum());
        loop {
            let mut lagging = None;
            for signal in Signal::ALL {
                let i = index(signal);
                let wanted = target.get(i).copied().unwrap_or(0);
                loop {
                    let not_delivered = self
                        .ex
                        .shared
                        .counters
                        .signal(signal)
                        .not_delivered
                        .load(Ordering::SeqCst);
                    let got = self.received.get(i).copied().unwrap_or(0);
                    if got.saturating_add(not_delivered) >= wanted {
                        break;
                    }
                    if !self.pull(signal) {
                        lagging = Some(signal);
                        break;
                    }
                }
            }
            let Some(signal) = lagging else { break };
            // A producer counted a record and has not queued it yet.
            let now = Instant::now();
            if now >= deadline {
                return Reply::Incomplete;
            }
            let until = now.checked_add(BARRIER_POLL).unwrap_or(now).min(deadline);
            self.pull_until(signal, until);
        }
        self.settle();
        self.export_all();
        Reply::Done {
            dropped: self.ex.dropped_since_last_flush(),
        }
    }

    /// Shutdown: takes in everything queued, exports it (one attempt per batch, within
    /// the deadline), then makes sure nothing is left behind uncounted.
    fn shut_down(&mut self, deadline: Instant) -> Reply {
        self.ex.begin_shutdown(deadline);
        self.ex.shared.closed.store(true, Ordering::SeqCst);
        for signal in Signal::ALL {
            while self.pull(signal) {}
        }
        self.settle();
        self.collect_metrics();
        self.export_all();
        self.ex.shared.drained.store(true, Ordering::SeqCst);
        // Records queued by producers that passed the `closed` check just before it was
        // set: too late to export.
        self.ex.shared.sweep(&self.ex.shared.traces);
        self.ex.shared.sweep(&self.ex.shared.metrics);
        self.ex.shared.sweep(&self.ex.shared.logs);
        // Release the transport (its connections) before answering.
        self.ex.transport = None;
        let stats = self.ex.shared.counters.snapshot();
        if Signal::ALL
            .iter()
            .any(|&s| stats.signal(s).dropped.total() > 0)
        {
            diag!(Info, "export pipeline shut down; {}", DropSummary(&stats));
        }
        Reply::Done {
            dropped: self.ex.dropped_since_last_flush(),
        }
    }

    /// The periodic metrics collection, when due; its metrics leave at once (a collection
    /// is one complete burst, there is nothing to wait for).
    fn collect_due(&mut self, now: Instant) {
        if self.collection.as_mut().is_some_and(|c| c.take_due(now)) {
            self.collect_metrics();
            self.ex.export(&mut self.batches.metrics);
        }
    }

    /// Runs the metrics producer and feeds what it produced into the metrics batch, as
    /// if it had been sent: counted `offered` (and received, so the flush barrier's
    /// arithmetic holds), then batched.
    fn collect_metrics(&mut self) {
        let Some(collection) = self.collection.as_mut() else {
            return;
        };
        let mut produced = collection.produce();
        let offered = &self.ex.shared.counters.signal(Signal::Metrics).offered;
        offered.add(produced.len() as u64);
        for (scope, metric) in produced.drain(..) {
            accept(
                &mut self.ex,
                &mut self.batches,
                &mut self.received,
                &scope,
                Incoming::Queued(Queued::Model(Box::new(metric))),
                &mut Slots::None,
            );
        }
        if let Some(c) = self.collection.as_mut() {
            c.restore(produced);
        }
    }

    /// After a caught panic: count what was in hand as lost, refuse further records,
    /// and answer every request with `Panicked`.
    fn after_panic(&mut self) {
        let shared = Arc::clone(&self.ex.shared);
        // Counted before the flags, so whoever sees the flags sees the count.
        shared.counters.worker_panics.fetch_add(1, Ordering::SeqCst);
        shared.panicked.store(true, Ordering::SeqCst);
        shared.closed.store(true, Ordering::SeqCst);
        let lost = [
            (Signal::Traces, self.batches.traces.len()),
            (Signal::Metrics, self.batches.metrics.len()),
            (Signal::Logs, self.batches.logs.len()),
        ];
        for (signal, n) in lost {
            shared
                .counters
                .signal(signal)
                .add_dropped(Reason::WorkerPanic, n as u64);
        }
        diag!(
            Error,
            "the export worker panicked: {} batched records lost, and no more records will \
             be exported",
            lost.iter().map(|&(_, n)| n).sum::<usize>()
        );
        self.batches.traces.clear();
        self.batches.metrics.clear();
        self.batches.logs.clear();
        self.settle();
        // Records taken from the stores and not batched yet: lost before the worker had
        // them, like those still queued.
        for ((cursor, store), signal) in self
            .cursors
            .iter_mut()
            .zip([
                &shared.traces.store,
                &shared.metrics.store,
                &shared.logs.store,
            ])
            .zip(Signal::ALL)
        {
            let n = cursor.discard(store) as u64;
            if n > 0 {
                let counters = shared.counters.signal(signal);
                counters.not_delivered.fetch_add(n, Ordering::SeqCst);
                counters.add_dropped(Reason::WorkerPanic, n);
            }
        }
        shared.drained.store(true, Ordering::SeqCst);
        shared.sweep(&shared.traces);
        shared.sweep(&shared.metrics);
        shared.sweep(&shared.logs);
        while !self.ex.pending.is_empty() {
            self.ex.answer_front(Reply::Panicked);
        }
        while let Ok(request) = self.ex.control.try_recv() {
            request.reply(Reply::Panicked);
        }
    }
}

/// The scope registered under `id` (the default scope for an unknown id), refreshing the
/// worker's copy of the registry `scopes` when the id is beyond it. Borrowed: a record
/// taken in costs no reference count traffic.
fn scope_of<'a>(
    shared: &Shared,
    scopes: &'a mut Vec<Arc<InstrumentationScope>>,
    id: ScopeId,
) -> &'a Arc<InstrumentationScope> {
    let id = usize::try_from(id).unwrap_or(usize::MAX);
    if id >= scopes.len() {
        // Registered before it was sent: the registry has it by now.
        shared.scopes.refresh(scopes);
    }
    if scopes.is_empty() {
        // Not reached: the registry starts with the default scope.
        scopes.push(Arc::new(InstrumentationScope::default()));
    }
    let i = if id < scopes.len() { id } else { 0 };
    &scopes[i]
}

/// The queue slots of the record being accepted and of records accepted before it, on a
/// packed lane: given back in bulk (one atomic subtraction), at the latest before an
/// export, which may block, so that records in batches do not hold slots meanwhile.
enum Slots<'a> {
    /// Not from a packed lane: no slot.
    None,
    /// The lane's store, and the count of records taken from the lane whose slots are
    /// still held (this one included).
    Held(&'a Store, &'a mut usize),
}

impl Slots<'_> {
    /// Before an export: gives back the slots of records in batches, that of the record in
    /// hand too when `batched`.
    fn before_export(&mut self, batched: bool) {
        if let Slots::Held(store, n) = self {
            let keep = usize::from(!batched).min(**n);
            store.release(**n - keep);
            **n = keep;
        }
    }
}

/// Adds a record to its batch, exporting the batch first if the record would push it
/// over its byte bound, and after if it is then full. `slots`: see [`Slots`].
fn accept<T: Routed>(
    ex: &mut Exporter,
    batches: &mut Batches,
    received: &mut [u64; 3],
    scope: &Arc<InstrumentationScope>,
    record: Incoming<'_, T>,
    slots: &mut Slots<'_>,
) {
    let i = index(T::SIGNAL);
    if let Some(r) = received.get_mut(i) {
        *r += 1;
    }
    let limits = *ex.config.signal(T::SIGNAL);
    let len = match &record {
        Incoming::Queued(q) => q.encoded_len(),
        Incoming::Bytes(b) => b.len(),
    };
    let estimate = len.saturating_add(RECORD_OVERHEAD);
    if estimate > ex.config.max_request_bytes {
        ex.drop_records(
            T::SIGNAL,
            1,
            Reason::TooLarge,
            ErrorKind::TooLarge,
            "record over the request size bound",
        );
        return;
    }
    let batch = T::batch(batches);
    if !batch.is_empty() && batch.bytes().saturating_add(estimate) > limits.max_batch_bytes {
        slots.before_export(false);
        ex.export(batch);
    }
    // Only the first record's time is kept: spare the clock read for the others.
    let now = batch.started().unwrap_or_else(Instant::now);
    match record {
        Incoming::Queued(q) => batch.push(scope, q, estimate, now),
        Incoming::Bytes(b) => batch.push_bytes(scope, b, estimate, now),
    }
    if batch.len() >= limits.max_batch_records || batch.bytes() >= limits.max_batch_bytes {
        slots.before_export(true);
        ex.export(batch);
    }
}

impl Exporter {
    /// Moves control requests from the channel to `pending` without waiting.
    fn take_control(&mut self) {
        if self.control_gone {
            return;
        }
        loop {
            match self.control.try_recv() {
                Ok(request) => self.push_control(request),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.on_control_gone();
                    return;
                }
            }
        }
    }

    fn push_control(&mut self, request: Control) {
        if let Control::Shutdown { deadline, .. } = request {
            self.begin_shutdown(deadline);
        }
        self.pending.push_back(request);
    }

    /// The owner vanished without shutting down: shut down on our own, with the
    /// configured timeout and nobody to answer.
    fn on_control_gone(&mut self) {
        self.control_gone = true;
        let (reply, _) = crossbeam_channel::bounded(1);
        let deadline = super::deadline_after(self.config.shutdown_timeout);
        self.push_control(Control::Shutdown { reply, deadline });
    }

    fn begin_shutdown(&mut self, deadline: Instant) {
        let d = self.shutdown_deadline.map_or(deadline, |d| d.min(deadline));
        self.shutdown_deadline = Some(d);
    }

    fn answer_front(&mut self, reply: Reply) {
        if let Some(request) = self.pending.pop_front() {
            request.reply(reply);
        }
    }

    fn dropped_since_last_flush(&mut self) -> u64 {
        let total = self.shared.counters.dropped_total();
        let since = total.saturating_sub(self.dropped_at_last_flush);
        self.dropped_at_last_flush = total;
        since
    }

    /// Counts `n` records of `signal` as dropped, keeps `msg` as the last error, and
    /// reports the drop (a rate-limited diagnostic naming the signal, the count and a short
    /// reason; never `msg`, which may quote the receiver).
    fn drop_records(&self, signal: Signal, n: u64, reason: Reason, kind: ErrorKind, msg: &str) {
        let counters = &self.shared.counters;
        counters.signal(signal).add_dropped(reason, n);
        counters.set_error(signal, kind, msg);
        diag!(
            Warn,
            "{} export dropped {n} records: {}",
            signal.name(),
            DropCause(reason, kind)
        );
    }

    /// Encodes, compresses and delivers a batch, then empties it. Every record of the
    /// batch ends up counted exactly once: exported or dropped with a reason.
    fn export<T: Record>(&mut self, batch: &mut Batch<T>) {
        if batch.is_empty() {
            return;
        }
        let signal = T::SIGNAL;
        let n = batch.len() as u64;
        self.body.clear();
        let settings = *self.config.signal(signal);
        self.encoders.encoding = settings.encoding;
        batch.encode(&self.resource, &mut self.encoders, &mut self.body);
        if self.body.len() > self.config.max_request_bytes {
            self.drop_records(
                signal,
                n,
                Reason::TooLarge,
                ErrorKind::TooLarge,
                "encoded request over the request size bound",
            );
            batch.clear();
            return;
        }
        let compressed = settings.compression != Compression::None;
        if compressed {
            self.compressed.clear();
            let compressor = self.compressors[signal_index(signal)].get_or_insert_with(|| {
                Compressor::new(settings.compression, settings.compression_level)
            });
            if let Err(e) = compressor.compress(&self.body, &mut self.compressed) {
                let msg = e.to_string();
                self.drop_records(
                    signal,
                    n,
                    Reason::CompressFailed,
                    ErrorKind::CompressFailed,
                    &msg,
                );
                batch.clear();
                return;
            }
        }
        let counters = self.shared.counters.signal(signal);
        counters
            .bytes_uncompressed
            .fetch_add(self.body.len() as u64, Ordering::SeqCst);
        self.deliver(signal, n, compressed);
        batch.clear();
    }

    /// Sends the prepared body until it is accepted, rejected, or retries run out.
    fn deliver(&mut self, signal: Signal, n: u64, compressed: bool) {
        let shared = Arc::clone(&self.shared);
        let counters = shared.counters.signal(signal);
        let export_timeout = self.config.signal(signal).export_timeout;
        let mut deadline = super::deadline_after(export_timeout);
        let mut attempts: u32 = 0;
        loop {
            if let Some(d) = self.shutdown_deadline {
                deadline = deadline.min(d);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let Some(transport) = self.transport.as_mut().filter(|_| !remaining.is_zero()) else {
                self.give_up(signal, n, 0);
                return;
            };
            attempts = attempts.saturating_add(1);
            if attempts > 1 {
                counters.retries.fetch_add(1, Ordering::SeqCst);
            }
            let body = if compressed {
                &self.compressed
            } else {
                &self.body
            };
            counters.requests.fetch_add(1, Ordering::SeqCst);
            counters
                .bytes_sent
                .fetch_add(body.len() as u64, Ordering::SeqCst);
            let request = Request {
                signal,
                encoding: self.config.signal(signal).encoding,
                compression: self.config.signal(signal).compression,
                body,
                timeout: remaining,
            };
            let outcome = transport.send(&request);
            match classify(&outcome, SystemTime::now()) {
                Disposition::Success => {
                    self.accepted(signal, n, outcome.as_ref().ok());
                    return;
                }
                Disposition::Drop(reason) => {
                    let (kind, msg) = describe_failure(reason, &outcome);
                    self.drop_records(signal, n, Reason::Rejected, kind, &msg);
                    return;
                }
                Disposition::Retry { after } => {
                    let last_status = outcome.as_ref().map_or(0, |r| r.status);
                    if self.shutdown_deadline.is_some() {
                        // Shutting down: that was the last attempt.
                        self.give_up(signal, n, last_status);
                        return;
                    }
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match self.backoff.next_wait(attempts, after, remaining) {
                        NextAttempt::GiveUp => {
                            let kind = match &outcome {
                                Err(e) => ErrorKind::Transport(e.kind()),
                                Ok(_) => ErrorKind::RetriesExhausted { last_status },
                            };
                            let msg = describe_failure_msg(&outcome);
                            self.drop_records(signal, n, Reason::RetriesExhausted, kind, &msg);
                            return;
                        }
                        // Cut short by a flush or shutdown: then the next attempt is made at
                        // once (and, shutting down, is the last).
                        NextAttempt::After(wait) => self.wait(wait),
                    }
                }
            }
        }
    }

    /// Gives up on a batch for lack of time: `shutdown` while shutting down,
    /// `retries_exhausted` otherwise.
    fn give_up(&self, signal: Signal, n: u64, last_status: u16) {
        if self.shutdown_deadline.is_some() {
            self.drop_records(
                signal,
                n,
                Reason::Shutdown,
                ErrorKind::Shutdown,
                "undelivered at shutdown",
            );
        } else {
            self.drop_records(
                signal,
                n,
                Reason::RetriesExhausted,
                ErrorKind::RetriesExhausted { last_status },
                "export timeout reached while retrying",
            );
        }
    }

    /// A backoff wait that a flush or shutdown request cuts short.
    fn wait(&mut self, wait: Duration) {
        if self.control_gone {
            // The owner is gone and shutdown is already under way: no more waiting.
            return;
        }
        match self.control.recv_timeout(wait) {
            Ok(request) => self.push_control(request),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.on_control_gone(),
        }
    }

    /// Counts an accepted request, minding a partial success.
    fn accepted(&self, signal: Signal, n: u64, response: Option<&Response>) {
        let counters = self.shared.counters.signal(signal);
        let partial = response.and_then(|r| {
            let encoding = match r.content_type.as_deref() {
                #[cfg(feature = "json")]
                Some(ct) if ct.contains("json") => Encoding::Json,
                Some(ct) if ct.contains("protobuf") => Encoding::Protobuf,
                _ => self.config.signal(signal).encoding,
            };
            decode_export_response(signal, encoding, &r.body)
                .ok()
                .flatten()
        });
        let Some(partial) = partial else {
            counters.exported.fetch_add(n, Ordering::SeqCst);
            return;
        };
        let reported = u64::try_from(partial.rejected).unwrap_or(0);
        let rejected = reported.min(n);
        counters
            .partial_success_reported
            .fetch_add(reported, Ordering::SeqCst);
        counters.add_dropped(Reason::PartialRejected, rejected);
        counters.exported.fetch_add(n - rejected, Ordering::SeqCst);
        let message = if partial.error_message.is_empty() {
            format!("receiver rejected {reported} {} items", signal.name())
        } else {
            partial.error_message
        };
        self.shared.counters.set_partial_success_message(&message);
        if reported > 0 {
            diag!(
                Warn,
                "{} export partly rejected: the receiver rejected {reported} items of {n} \
                 records: {:?}",
                signal.name(),
                short(&message)
            );
        } else {
            diag!(
                Warn,
                "{} export accepted with a warning from the receiver: {:?}",
                signal.name(),
                short(&message)
            );
        }
        if reported > 0 {
            self.shared.counters.set_error(
                signal,
                ErrorKind::PartialSuccess { rejected: reported },
                &message,
            );
        }
    }
}

/// The error kind and message of a non-retryable outcome.
fn describe_failure(
    reason: DropReason,
    outcome: &Result<Response, TransportError>,
) -> (ErrorKind, String) {
    let kind = match reason {
        DropReason::Status(status) => ErrorKind::Status(status),
        DropReason::Transport(kind) => ErrorKind::Transport(kind),
    };
    (kind, describe_failure_msg(outcome))
}

fn describe_failure_msg(outcome: &Result<Response, TransportError>) -> String {
    match outcome {
        Ok(r) => {
            let detail = error_message(r.content_type.as_deref(), &r.body);
            if detail.is_empty() {
                format!("HTTP {}", r.status)
            } else {
                format!("HTTP {}: {detail}", r.status)
            }
        }
        Err(e) => e.to_string(),
    }
}

/// The short reason of a dropped export, for diagnostics: built from the counters' reason
/// and error kind only, never from messages that may quote the receiver.
struct DropCause(Reason, ErrorKind);

impl fmt::Display for DropCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (_, ErrorKind::Status(status)) => {
                write!(f, "rejected by the receiver with HTTP {status}")
            }
            (Reason::RetriesExhausted, ErrorKind::Transport(kind)) => {
                write!(f, "retries exhausted, last error: {kind:?}")
            }
            (_, ErrorKind::Transport(kind)) => write!(f, "transport error: {kind:?}"),
            (_, ErrorKind::RetriesExhausted { last_status: 0 }) => {
                f.write_str("retries exhausted or export timeout reached")
            }
            (_, ErrorKind::RetriesExhausted { last_status }) => write!(
                f,
                "retries exhausted or export timeout reached, last HTTP {last_status}"
            ),
            (_, ErrorKind::TooLarge) => f.write_str("over the request size bound"),
            (_, ErrorKind::CompressFailed) => f.write_str("compression failed"),
            (_, ErrorKind::Shutdown) => f.write_str("undelivered at shutdown"),
            (_, ErrorKind::PartialSuccess { .. }) => f.write_str("rejected by the receiver"),
        }
    }
}

/// One line: records dropped per signal, and the reasons with a nonzero count.
struct DropSummary<'a>(&'a Stats);

impl fmt::Display for DropSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(
            f,
            "records dropped in all: traces {}, metrics {}, logs {} (",
            s.traces.dropped.total(),
            s.metrics.dropped.total(),
            s.logs.dropped.total()
        )?;
        let sum = |pick: fn(&Dropped) -> u64| -> u64 {
            Signal::ALL
                .iter()
                .map(|&g| pick(&s.signal(g).dropped))
                .sum()
        };
        let reasons: [(&str, u64); 8] = [
            ("queue full", sum(|d| d.queue_full)),
            ("rejected", sum(|d| d.rejected)),
            ("retries exhausted", sum(|d| d.retries_exhausted)),
            ("too large", sum(|d| d.too_large)),
            ("shutdown", sum(|d| d.shutdown)),
            ("worker panic", sum(|d| d.worker_panic)),
            ("compression failed", sum(|d| d.compress_failed)),
            ("partial success", sum(|d| d.partial_rejected)),
        ];
        let mut first = true;
        for (name, n) in reasons.iter().filter(|(_, n)| *n > 0) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{name} {n}")?;
        }
        f.write_str(")")
    }
}

/// At most [`SHORT_MESSAGE`] bytes of a receiver's message, cut on a char boundary.
fn short(message: &str) -> &str {
    let mut end = message.len().min(SHORT_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.get(..end).unwrap_or_default()
}

/// Longest receiver message quoted in a diagnostic, in bytes.
const SHORT_MESSAGE: usize = 200;

/// Index of a signal in per-signal arrays: traces, metrics, logs.
fn signal_index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}
