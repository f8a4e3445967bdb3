//! Counters: atomics shared by the producers and the worker, and the plain snapshot
//! [`Stats`] read from any thread.

use crate::model::Signal;
use crate::transport::TransportErrorKind;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Records dropped, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dropped {
    /// The signal's queue was full when the record was offered (or, under
    /// [`FullPolicy::DropOldest`](super::FullPolicy::DropOldest), the record was evicted).
    pub queue_full: u64,
    /// The receiver answered with a non-retryable status (400, 401, 413, 500, ...) or the
    /// attempt failed in a way retrying cannot fix (TLS, malformed response).
    pub rejected: u64,
    /// Transient failures outlasted the retry policy or the export timeout.
    pub retries_exhausted: u64,
    /// A record alone was over the request size bound, or an encoded batch was.
    pub too_large: u64,
    /// Offered after shutdown began, or still undelivered when shutdown ran out of time.
    pub shutdown: u64,
    /// Lost to, or offered after, a panic in the worker.
    pub worker_panic: u64,
    /// The request body could not be compressed.
    pub compress_failed: u64,
    /// Accepted by the receiver in a request but rejected item by item (OTLP partial
    /// success). For metrics the receiver counts data points; they are counted here as
    /// metrics, at most the request's metric count.
    pub partial_rejected: u64,
}

impl Dropped {
    /// The sum of all reasons.
    pub fn total(&self) -> u64 {
        self.queue_full
            + self.rejected
            + self.retries_exhausted
            + self.too_large
            + self.shutdown
            + self.worker_panic
            + self.compress_failed
            + self.partial_rejected
    }
}

/// One signal's counters. Identity: `offered == exported + dropped.total() + queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignalStats {
    /// Records handed to a send, successful or not.
    pub offered: u64,
    /// Records the receiver accepted.
    pub exported: u64,
    /// Records lost, by reason.
    pub dropped: Dropped,
    /// Records neither exported nor dropped yet: queued, batched or being exported.
    pub queued: u64,
    /// Retry attempts (attempts after the first of a batch).
    pub retries: u64,
    /// Requests attempted, retries included.
    pub requests: u64,
    /// Encoded bytes of the batches sent, before compression (once per batch, whatever its
    /// outcome; retries not counted again).
    pub bytes_uncompressed: u64,
    /// Request body bytes sent, every attempt included.
    pub bytes_sent: u64,
    /// Items the receiver reported rejected in partial successes, as it counted them
    /// (data points for metrics).
    pub partial_success_reported: u64,
}

/// What went wrong last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A non-retryable HTTP status.
    Status(u16),
    /// A transport failure (the last one, for retried failures).
    Transport(TransportErrorKind),
    /// Retries ran out (attempts or export timeout) on a retryable status.
    RetriesExhausted {
        /// The last status received, or 0 when the last attempt got no response.
        last_status: u16,
    },
    /// A record or a request was over the request size bound.
    TooLarge,
    /// Compression failed.
    CompressFailed,
    /// The receiver reported a partial success.
    PartialSuccess {
        /// How many items it rejected (0 for a warning).
        rejected: u64,
    },
    /// Records were dropped at shutdown.
    Shutdown,
}

/// The last export problem, with its signal. The message behind it is read with
/// [`Pipeline::last_error_message`](super::Pipeline::last_error_message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastError {
    /// The signal whose export failed.
    pub signal: Signal,
    /// What happened.
    pub kind: ErrorKind,
}

/// A snapshot of the pipeline's counters. Cheap to take, from any thread, at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Span counters.
    pub traces: SignalStats,
    /// Metric counters (counted in metrics, not data points).
    pub metrics: SignalStats,
    /// Log record counters.
    pub logs: SignalStats,
    /// Panics caught in the worker (0 or 1: the worker stops after one).
    pub worker_panics: u64,
    /// The last export problem, if any.
    pub last_error: Option<LastError>,
}

impl Stats {
    /// The counters of `signal`.
    pub fn signal(&self, signal: Signal) -> &SignalStats {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }
}

/// Index of a signal in per-signal arrays.
pub(crate) fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

/// Drop reasons, as counters are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    QueueFull,
    Rejected,
    RetriesExhausted,
    TooLarge,
    Shutdown,
    WorkerPanic,
    CompressFailed,
    PartialRejected,
}

/// A counter that producers on several threads add to: one cache line per thread shard
/// ([`super::store::shard_index`]), so that two threads sending at once do not take the
/// same line from each other on every record; read as the sum of the stripes.
#[derive(Debug, Default)]
pub(crate) struct Striped([Stripe; super::store::SHARDS]);

/// One stripe of a [`Striped`] counter, alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Stripe(AtomicU64);

impl Striped {
    /// Adds `n` on the calling thread's stripe (relaxed: see `Shared::offer` for why that
    /// is enough).
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        let i = super::store::shard_index();
        if let Some(stripe) = self.0.get(i).or_else(|| self.0.first()) {
            stripe.0.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The total.
    pub(crate) fn sum(&self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |t, s| t.wrapping_add(s.0.load(Ordering::SeqCst)))
    }
}

/// One signal's atomics.
#[derive(Debug, Default)]
pub(crate) struct SignalCounters {
    /// Records offered (striped: every send adds to it).
    pub(crate) offered: Striped,
    pub(crate) exported: AtomicU64,
    queue_full: AtomicU64,
    rejected: AtomicU64,
    retries_exhausted: AtomicU64,
    too_large: AtomicU64,
    shutdown: AtomicU64,
    worker_panic: AtomicU64,
    compress_failed: AtomicU64,
    partial_rejected: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) bytes_uncompressed: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) partial_success_reported: AtomicU64,
    /// Offered but never handed to the worker (dropped on the producer side). The flush
    /// barrier waits until `worker received + not_delivered >= offered at the request`.
    pub(crate) not_delivered: AtomicU64,
    /// Records instrumentation did not build because the queue was full: offered and
    /// dropped (`queue_full`) at once, in one counter so that a producer pays one atomic
    /// add per such record. Not in `offered` nor `not_delivered` (the flush barrier never
    /// waits for them); added to `offered` and `queue_full` in snapshots.
    pub(crate) shed: Striped,
}

impl SignalCounters {
    pub(crate) fn add_dropped(&self, reason: Reason, n: u64) {
        if n == 0 {
            return;
        }
        let c = match reason {
            Reason::QueueFull => &self.queue_full,
            Reason::Rejected => &self.rejected,
            Reason::RetriesExhausted => &self.retries_exhausted,
            Reason::TooLarge => &self.too_large,
            Reason::Shutdown => &self.shutdown,
            Reason::WorkerPanic => &self.worker_panic,
            Reason::CompressFailed => &self.compress_failed,
            Reason::PartialRejected => &self.partial_rejected,
        };
        c.fetch_add(n, Ordering::SeqCst);
    }

    fn dropped(&self) -> Dropped {
        let l = |a: &AtomicU64| a.load(Ordering::SeqCst);
        Dropped {
            queue_full: l(&self.queue_full).saturating_add(self.shed.sum()),
            rejected: l(&self.rejected),
            retries_exhausted: l(&self.retries_exhausted),
            too_large: l(&self.too_large),
            shutdown: l(&self.shutdown),
            worker_panic: l(&self.worker_panic),
            compress_failed: l(&self.compress_failed),
            partial_rejected: l(&self.partial_rejected),
        }
    }

    pub(crate) fn dropped_total(&self) -> u64 {
        self.dropped().total()
    }

    fn snapshot(&self) -> SignalStats {
        let l = |a: &AtomicU64| a.load(Ordering::SeqCst);
        // Outcomes first, then `offered`: a record is always offered before it is exported
        // or dropped, so `queued` cannot go negative in a snapshot.
        let dropped = self.dropped();
        let exported = l(&self.exported);
        let offered = self.offered.sum().saturating_add(self.shed.sum());
        SignalStats {
            offered,
            exported,
            dropped,
            queued: offered.saturating_sub(exported.saturating_add(dropped.total())),
            retries: l(&self.retries),
            requests: l(&self.requests),
            bytes_uncompressed: l(&self.bytes_uncompressed),
            bytes_sent: l(&self.bytes_sent),
            partial_success_reported: l(&self.partial_success_reported),
        }
    }
}

/// Messages kept for the user, behind a lock (never touched on the record path).
#[derive(Debug, Default)]
struct Notes {
    last_error: Option<LastError>,
    last_error_message: String,
    last_partial_success_message: String,
}

/// All counters of a pipeline.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    signals: [SignalCounters; 3],
    pub(crate) worker_panics: AtomicU64,
    notes: Mutex<Notes>,
}

/// Longest message kept, in bytes.
const MAX_MESSAGE: usize = 512;

fn truncated(message: &str) -> &str {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.get(..end).unwrap_or_default()
}

impl Counters {
    pub(crate) fn signal(&self, signal: Signal) -> &SignalCounters {
        &self.signals[index(signal)]
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            traces: self.signal(Signal::Traces).snapshot(),
            metrics: self.signal(Signal::Metrics).snapshot(),
            logs: self.signal(Signal::Logs).snapshot(),
            worker_panics: self.worker_panics.load(Ordering::SeqCst),
            last_error: self.with_notes(|n| n.last_error),
        }
    }

    pub(crate) fn dropped_total(&self) -> u64 {
        self.signals.iter().map(SignalCounters::dropped_total).sum()
    }

    fn with_notes<R>(&self, f: impl FnOnce(&mut Notes) -> R) -> R {
        // A poisoned lock only means a panic elsewhere while holding it; the notes are
        // plain values, still usable.
        let mut guard = self.notes.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub(crate) fn set_error(&self, signal: Signal, kind: ErrorKind, message: &str) {
        self.with_notes(|n| {
            n.last_error = Some(LastError { signal, kind });
            n.last_error_message.clear();
            n.last_error_message.push_str(truncated(message));
        });
    }

    pub(crate) fn set_partial_success_message(&self, message: &str) {
        self.with_notes(|n| {
            n.last_partial_success_message.clear();
            n.last_partial_success_message.push_str(truncated(message));
        });
    }

    pub(crate) fn last_error_message(&self) -> Option<String> {
        self.with_notes(|n| n.last_error.is_some().then(|| n.last_error_message.clone()))
    }

    pub(crate) fn last_partial_success_message(&self) -> Option<String> {
        self.with_notes(|n| {
            (!n.last_partial_success_message.is_empty())
                .then(|| n.last_partial_success_message.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_counters_sum_every_thread() {
        let c = std::sync::Arc::new(Striped::default());
        let threads: Vec<_> = (0..12)
            .map(|t| {
                let c = std::sync::Arc::clone(&c);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.add(t + 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("adder");
        }
        // 12 threads over 8 stripes: some share one; none is lost.
        assert_eq!(c.sum(), 1000 * (1..=12).sum::<u64>());
        assert!(
            c.0.iter()
                .filter(|s| s.0.load(Ordering::SeqCst) > 0)
                .count()
                > 1
        );
    }

    #[test]
    fn snapshot_identity() {
        let c = Counters::default();
        let s = c.signal(Signal::Logs);
        s.offered.add(10);
        s.exported.fetch_add(4, Ordering::SeqCst);
        s.add_dropped(Reason::QueueFull, 2);
        s.add_dropped(Reason::PartialRejected, 1);
        let snap = c.snapshot();
        assert_eq!(snap.logs.offered, 10);
        assert_eq!(snap.logs.dropped.total(), 3);
        assert_eq!(snap.logs.queued, 3);
        assert_eq!(snap.traces, SignalStats::default());
        assert_eq!(c.dropped_total(), 3);
    }

    #[test]
    fn messages_are_truncated_on_char_boundaries() {
        let c = Counters::default();
        let long = "é".repeat(1000);
        c.set_error(Signal::Traces, ErrorKind::Status(400), &long);
        let m = c.last_error_message().unwrap_or_default();
        assert!(m.len() <= MAX_MESSAGE && !m.is_empty());
        assert_eq!(
            c.snapshot().last_error,
            Some(LastError {
                signal: Signal::Traces,
                kind: ErrorKind::Status(400)
            })
        );
        assert_eq!(c.last_partial_success_message(), None);
        c.set_partial_success_message("3 spans rejected");
        assert_eq!(
            c.last_partial_success_message().as_deref(),
            Some("3 spans rejected")
        );
    }
}
