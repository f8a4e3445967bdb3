//! The pipeline's configuration: plain data with documented defaults.

use crate::compress::Compression;
use crate::encode::Encoding;
use crate::model::Signal;
use crate::retry::RetryPolicy;
use std::time::Duration;

/// Per-signal queueing and batching settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalConfig {
    /// Request body encoding. Defaults to protobuf.
    pub encoding: Encoding,
    /// Request body compression. Defaults to none.
    pub compression: Compression,
    /// Compression level, or `None` for the codec's default. Defaults to `None`.
    pub compression_level: Option<u8>,
    /// Records the signal's queue holds before [`FullPolicy`] applies (at least 1).
    pub queue_capacity: usize,
    /// Most records in one export request (at least 1).
    pub max_batch_records: usize,
    /// Most estimated encoded bytes (protobuf size, before compression) in one export
    /// request. A batch is cut before a record would push it over. Defaults to 4 MiB.
    pub max_batch_bytes: usize,
    /// The longest a record waits in an incomplete batch before the batch is exported.
    pub schedule_delay: Duration,
    /// The bound on one batch's whole export, all attempts and backoff waits included.
    pub export_timeout: Duration,
}

/// Default [`SignalConfig::max_batch_bytes`]: 4 MiB.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

impl SignalConfig {
    /// Spans: queue 2048, batch 512 records, 5000 ms delay, 30 s export timeout
    /// (the `OTEL_BSP_*` defaults), 4 MiB per batch.
    ///
    /// ```
    /// use otlp_sync::pipeline::SignalConfig;
    /// assert_eq!(SignalConfig::traces().queue_capacity, 2048);
    /// assert_eq!(SignalConfig::traces().schedule_delay.as_millis(), 5000);
    /// ```
    pub fn traces() -> Self {
        SignalConfig {
            encoding: Encoding::Protobuf,
            compression: Compression::None,
            compression_level: None,
            queue_capacity: 2048,
            max_batch_records: 512,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            schedule_delay: Duration::from_millis(5000),
            export_timeout: Duration::from_secs(30),
        }
    }

    /// Log records: queue 2048, batch 512 records, 1000 ms delay, 30 s export timeout
    /// (the `OTEL_BLRP_*` defaults), 4 MiB per batch.
    pub fn logs() -> Self {
        SignalConfig {
            schedule_delay: Duration::from_millis(1000),
            ..SignalConfig::traces()
        }
    }

    /// Metrics: queue 2048, batch 512 metrics, 1000 ms delay, 30 s export timeout
    /// (`OTEL_METRIC_EXPORT_TIMEOUT`'s default), 4 MiB per batch. Metric records arrive in
    /// bursts, one per instrument at each collection, so the short delay only gathers one
    /// collection into as few requests as possible.
    pub fn metrics() -> Self {
        SignalConfig {
            schedule_delay: Duration::from_millis(1000),
            ..SignalConfig::traces()
        }
    }

    /// The defaults for `signal`.
    pub fn default_for(signal: Signal) -> Self {
        match signal {
            Signal::Traces => SignalConfig::traces(),
            Signal::Metrics => SignalConfig::metrics(),
            Signal::Logs => SignalConfig::logs(),
        }
    }
}

/// What a send does when the signal's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullPolicy {
    /// Drop the new record at once (returned in the error, counted `queue_full`). Never
    /// blocks.
    #[default]
    Drop,
    /// Wait up to this long for room, then drop the new record as with `Drop`.
    Block(Duration),
    /// Evict the oldest queued record of that signal (counted `queue_full`) to make room
    /// for the new one. Never blocks.
    DropOldest,
}

/// Everything the pipeline needs: plain data, with [`Default`] giving the documented
/// defaults.
///
/// ```
/// use otlp_sync::pipeline::{FullPolicy, PipelineConfig};
/// use std::time::Duration;
///
/// let config = PipelineConfig::default();
/// assert_eq!(config.thread_name, "otlp-sync");
/// assert_eq!(config.full_policy, FullPolicy::Drop);
/// assert_eq!(config.max_request_bytes, 64 * 1024 * 1024);
/// assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// Span settings. Defaults to [`SignalConfig::traces`].
    pub traces: SignalConfig,
    /// Log record settings. Defaults to [`SignalConfig::logs`].
    pub logs: SignalConfig,
    /// Metric settings. Defaults to [`SignalConfig::metrics`].
    pub metrics: SignalConfig,
    /// What a send does on a full queue. Defaults to [`FullPolicy::Drop`].
    pub full_policy: FullPolicy,
    /// Retries of transient failures. Defaults to [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// The largest request body, before compression, ever sent (OTLP's "Max Request
    /// Size"). A record that alone is estimated over it is dropped (`too_large`); batches
    /// are cut by bytes well before it. Defaults to 64 MiB.
    pub max_request_bytes: usize,
    /// The worker thread's name. Defaults to `"otlp-sync"`.
    pub thread_name: String,
    /// The worker thread's stack size in bytes, or `None` for the platform default.
    /// Defaults to `None`.
    pub stack_size: Option<usize>,
    /// How long dropping the [`Pipeline`](super::Pipeline) waits for its shutdown.
    /// Defaults to 5 s.
    pub shutdown_timeout: Duration,
    /// Which thread encodes records (protobuf signals). Defaults to
    /// [`EncodeOnSend::Backlog`].
    pub encode_on_send: EncodeOnSend,
}

/// Which thread encodes a protobuf signal's records: the worker, or the application thread
/// that sends them, so that the queue holds their wire bytes. Defaults to
/// [`EncodeOnSend::Backlog`]: the worker while it keeps up, the senders once it falls
/// behind.
///
/// A span of the benchmark workload (8 attributes, 1 event) takes about 900 bytes queued
/// as a model value (the record and its allocations, and a 32-byte queue slot) and 369
/// queued encoded (its bytes and a 6-byte header, packed with other records under
/// [`FullPolicy::Drop`]; one exact-size allocation and a 32-byte slot, about 410 bytes,
/// under the other policies). Encoding on send costs the
/// sending thread the encoding (about 300 ns for that span on this project's test
/// machine) and saves the worker the same work and more (its intake, and freeing one
/// block instead of several). JSON signals are always encoded by the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodeOnSend {
    /// The worker encodes: the cheapest hand-off for application threads when memory
    /// is not a concern.
    Never,
    /// Records sent while the queue holds at least two batches' worth (and at least 1024
    /// records) are encoded by their sender: the worker has fallen behind, so memory per
    /// queued record matters, and the worker's time is better spent sending.
    #[default]
    Backlog,
    /// Every record is encoded by its sender: the least memory per queued record and the
    /// least work for the worker.
    Always,
}

/// Default [`PipelineConfig::max_request_bytes`]: 64 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            traces: SignalConfig::traces(),
            logs: SignalConfig::logs(),
            metrics: SignalConfig::metrics(),
            full_policy: FullPolicy::Drop,
            retry: RetryPolicy::default(),
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            thread_name: String::from("otlp-sync"),
            stack_size: None,
            shutdown_timeout: Duration::from_secs(5),
            encode_on_send: EncodeOnSend::Backlog,
        }
    }
}

impl PipelineConfig {
    /// The settings of `signal`.
    pub fn signal(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    /// Mutable settings of `signal`.
    pub fn signal_mut(&mut self, signal: Signal) -> &mut SignalConfig {
        match signal {
            Signal::Traces => &mut self.traces,
            Signal::Metrics => &mut self.metrics,
            Signal::Logs => &mut self.logs,
        }
    }

    /// A copy with out-of-range values brought into range: capacities and batch sizes at
    /// least 1, batch bytes at most the request bound.
    pub(crate) fn sanitized(&self) -> PipelineConfig {
        let mut c = self.clone();
        c.max_request_bytes = c.max_request_bytes.max(1);
        let max_request = c.max_request_bytes;
        for s in Signal::ALL {
            let sc = c.signal_mut(s);
            sc.queue_capacity = sc.queue_capacity.max(1);
            sc.max_batch_records = sc.max_batch_records.max(1);
            sc.max_batch_bytes = sc.max_batch_bytes.clamp(1, max_request);
        }
        c
    }
}
