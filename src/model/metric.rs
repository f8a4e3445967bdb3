//! Metrics and their five kinds of data points.

use super::ids::{SpanId, TraceId};
use super::value::{Attributes, Str};
use alloc::vec::Vec;

/// Bit 0 of a data point's `flags`: the point has no recorded value (a staleness marker).
pub const DATA_POINT_FLAG_NO_RECORDED_VALUE: u32 = 1;

/// How a cumulative or delta series relates to earlier points. Wire values are OTLP's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(i32)]
pub enum AggregationTemporality {
    /// Unspecified (0); not valid for export.
    Unspecified = 0,
    /// Each point covers the time since the previous one (1).
    Delta = 1,
    /// Each point covers the time since a fixed start (2).
    #[default]
    Cumulative = 2,
}

/// A measured value: integer or float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberValue {
    /// An integer value (`as_int`).
    Int(i64),
    /// A float value (`as_double`).
    Double(f64),
}

impl Default for NumberValue {
    fn default() -> Self {
        NumberValue::Int(0)
    }
}

/// A sample measurement linked to the trace it was recorded in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exemplar {
    /// Attributes of the measurement that the aggregation dropped.
    pub filtered_attributes: Attributes,
    /// When it was recorded, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The measured value.
    pub value: NumberValue,
    /// Span active at the time; invalid when none.
    pub span_id: SpanId,
    /// Trace active at the time; invalid when none.
    pub trace_id: TraceId,
}

/// A point of a gauge or sum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberDataPoint {
    /// Series attributes.
    pub attributes: Attributes,
    /// Start of the interval, nanoseconds since the Unix epoch; 0 when unknown.
    pub start_time_unix_nano: u64,
    /// Time of the point.
    pub time_unix_nano: u64,
    /// The value.
    pub value: NumberValue,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
    /// Point flags, see [`DATA_POINT_FLAG_NO_RECORDED_VALUE`].
    pub flags: u32,
}

/// A point of an explicit-bucket histogram.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramDataPoint {
    /// Series attributes.
    pub attributes: Attributes,
    /// Start of the interval.
    pub start_time_unix_nano: u64,
    /// Time of the point.
    pub time_unix_nano: u64,
    /// Number of measurements.
    pub count: u64,
    /// Sum of measurements, when known.
    pub sum: Option<f64>,
    /// Counts per bucket: `explicit_bounds.len() + 1` entries, or none.
    pub bucket_counts: Vec<u64>,
    /// Upper bounds of the buckets, increasing.
    pub explicit_bounds: Vec<f64>,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
    /// Point flags.
    pub flags: u32,
    /// Smallest measurement, when known.
    pub min: Option<f64>,
    /// Largest measurement, when known.
    pub max: Option<f64>,
}

/// A run of consecutive base-2 exponential buckets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Buckets {
    /// Index of the first bucket.
    pub offset: i32,
    /// Counts, one per bucket from `offset` on.
    pub bucket_counts: Vec<u64>,
}

/// A point of a base-2 exponential histogram.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExponentialHistogramDataPoint {
    /// Series attributes.
    pub attributes: Attributes,
    /// Start of the interval.
    pub start_time_unix_nano: u64,
    /// Time of the point.
    pub time_unix_nano: u64,
    /// Number of measurements.
    pub count: u64,
    /// Sum of measurements, when known.
    pub sum: Option<f64>,
    /// Resolution: bucket boundaries are powers of `2^(2^-scale)`.
    pub scale: i32,
    /// Measurements whose magnitude is at most `zero_threshold`.
    pub zero_count: u64,
    /// Buckets for positive values.
    pub positive: Buckets,
    /// Buckets for negative values (by magnitude).
    pub negative: Buckets,
    /// Point flags.
    pub flags: u32,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
    /// Smallest measurement, when known.
    pub min: Option<f64>,
    /// Largest measurement, when known.
    pub max: Option<f64>,
    /// Width of the zero bucket; 0 for exact zeros.
    pub zero_threshold: f64,
}

/// A quantile and its value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ValueAtQuantile {
    /// The quantile, 0.0 to 1.0.
    pub quantile: f64,
    /// The value at that quantile.
    pub value: f64,
}

/// A point of a summary (precomputed quantiles).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryDataPoint {
    /// Series attributes.
    pub attributes: Attributes,
    /// Start of the interval.
    pub start_time_unix_nano: u64,
    /// Time of the point.
    pub time_unix_nano: u64,
    /// Number of measurements.
    pub count: u64,
    /// Sum of measurements.
    pub sum: f64,
    /// Quantile values.
    pub quantile_values: Vec<ValueAtQuantile>,
    /// Point flags.
    pub flags: u32,
}

/// The data of a metric: one of the five OTLP kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricData {
    /// Last-value measurements.
    Gauge(Vec<NumberDataPoint>),
    /// Sums (counters and up-down counters).
    Sum {
        /// Points.
        points: Vec<NumberDataPoint>,
        /// Delta or cumulative.
        temporality: AggregationTemporality,
        /// Whether the sum only grows.
        is_monotonic: bool,
    },
    /// Explicit-bucket histograms.
    Histogram {
        /// Points.
        points: Vec<HistogramDataPoint>,
        /// Delta or cumulative.
        temporality: AggregationTemporality,
    },
    /// Base-2 exponential histograms.
    ExponentialHistogram {
        /// Points.
        points: Vec<ExponentialHistogramDataPoint>,
        /// Delta or cumulative.
        temporality: AggregationTemporality,
    },
    /// Precomputed quantile summaries.
    Summary(Vec<SummaryDataPoint>),
}

impl MetricData {
    /// How many data points this holds (what OTLP's `rejected_data_points` counts).
    pub fn point_count(&self) -> usize {
        match self {
            MetricData::Gauge(p) => p.len(),
            MetricData::Sum { points, .. } => points.len(),
            MetricData::Histogram { points, .. } => points.len(),
            MetricData::ExponentialHistogram { points, .. } => points.len(),
            MetricData::Summary(p) => p.len(),
        }
    }
}

/// A named metric with its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Instrument name.
    pub name: Str,
    /// Description; empty when none.
    pub description: Str,
    /// Unit (UCUM); empty when none.
    pub unit: Str,
    /// The data points.
    pub data: MetricData,
    /// Extra metadata attributes (not series attributes).
    pub metadata: Attributes,
}
