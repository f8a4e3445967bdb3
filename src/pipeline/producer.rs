//! The metrics hook: a [`MetricProducer`] the worker collects on a timer, at each flush
//! and at shutdown.

use crate::model::{InstrumentationScope, Metric};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A source of metrics the pipeline's worker collects: every interval, once more before
/// each flush completes, and once at shutdown. Collections never overlap: they all run
/// on the worker thread, one after another.
///
/// What `produce` appends is fed to the metrics batch exactly as records sent with
/// [`RecordSender::send_metric`](super::RecordSender::send_metric) are: counted
/// `offered`, batched, exported (or dropped and counted).
///
/// `produce` runs on the export thread: it should be quick and must not block on the
/// pipeline itself (a flush from inside it would wait for itself).
pub trait MetricProducer: Send {
    /// Appends the current metrics to `out`, each with its instrumentation scope. `now` is
    /// the collection time, to be used as the points' `time_unix_nano`.
    fn produce(&mut self, now: SystemTime, out: &mut Vec<(Arc<InstrumentationScope>, Metric)>);
}

/// The shortest collection interval (a zero interval would spin the worker).
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// The worker's side of the hook: the producer, its schedule and a reusable buffer.
pub(super) struct Collection {
    producer: Box<dyn MetricProducer>,
    interval: Duration,
    next: Instant,
    buf: Vec<(Arc<InstrumentationScope>, Metric)>,
}

impl Collection {
    pub(super) fn new(producer: Box<dyn MetricProducer>, interval: Duration) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        Collection {
            producer,
            interval,
            next: super::deadline_after(interval),
            buf: Vec::new(),
        }
    }

    /// When the next periodic collection is due.
    pub(super) fn due_at(&self) -> Instant {
        self.next
    }

    /// Whether the periodic collection is due at `now`; if so, schedules the next one.
    pub(super) fn take_due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        // On schedule when we can; after a long stall, a full interval from now.
        let next = self.next.checked_add(self.interval).unwrap_or(now);
        self.next = if next > now {
            next
        } else {
            now.checked_add(self.interval).unwrap_or(now)
        };
        true
    }

    /// Runs the producer and hands over what it produced, in the reusable buffer (give
    /// the emptied buffer back with [`Collection::restore`]).
    pub(super) fn produce(&mut self) -> Vec<(Arc<InstrumentationScope>, Metric)> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.producer.produce(SystemTime::now(), &mut buf);
        buf
    }

    /// Takes the buffer back for the next collection.
    pub(super) fn restore(&mut self, mut buf: Vec<(Arc<InstrumentationScope>, Metric)>) {
        buf.clear();
        self.buf = buf;
    }
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}
