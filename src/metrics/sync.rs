//! Synchronous instruments: the series table, the aggregators, and the public handles.
//!
//! # The hot path
//!
//! Each instrument has one `RwLock<Table>`: a hash map from attribute set to series, plus
//! the overflow series. Recording to an existing series takes the *read* lock, looks the
//! caller's slice up without sorting or allocating (see [`super::attrs`]), and updates
//! the series with atomics:
//!
//! * sums: one `AtomicU64` (`fetch_add` for `u64`, and for `i64` as two's complement;
//!   a compare-exchange loop on the bits for `f64`);
//! * gauges: one `AtomicU64` store of the value's bits;
//! * explicit-bucket histograms: an `AtomicU64` per bucket, the sum as `f64` bits
//!   (compare-exchange), min and max (compare-exchange only when the value is a new
//!   extreme); the count is the sum of the buckets, so it always agrees with them;
//! * exponential histograms: a small `Mutex` per series, because recording may
//!   rescale the whole bucket array (uncontended it costs about as much as two atomics).
//!
//! A new series takes the write lock once. Cumulative collection reads under the read
//! lock. Delta collection swaps the whole table for an empty one under the write lock
//! (a pointer swap), then builds the points from the old table with no lock held:
//! concurrent recordings land either in the old table (collected now) or in the new one
//! (collected next time), never lost, never counted twice, and series idle for an
//! interval disappear on their own.
//!
//! The price of atomics over a per-series lock for explicit histograms: a measurement
//! racing a delta collection may have its bucket counted in one interval and its
//! sum/min/max in the next. Totals over intervals stay exact.

use super::attrs::{AttrView, PassThrough, SeriesKey};
use super::expo::ExpoState;
use super::{Counters, Ident, Kind, lock, read, write};
use crate::clock::unix_nanos_now;
use crate::model::{
    AggregationTemporality, Attributes, Buckets, ExponentialHistogramDataPoint, HistogramDataPoint,
    KeyValue, Metric, MetricData, NumberDataPoint, NumberValue,
};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};

/// The attribute set of the overflow series.
pub(crate) fn overflow_attributes() -> Attributes {
    vec![KeyValue::new("otel.metric.overflow", true)]
}

/// How a number instrument's 64 bits are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumKind {
    U64,
    I64,
    F64,
}

impl NumKind {
    fn value(self, bits: u64) -> NumberValue {
        match self {
            NumKind::U64 => NumberValue::Int(i64::try_from(bits).unwrap_or(i64::MAX)),
            NumKind::I64 => NumberValue::Int(bits as i64),
            NumKind::F64 => NumberValue::Double(f64::from_bits(bits)),
        }
    }
}

/// Adds `v` to an `f64` kept as bits.
#[inline]
pub(crate) fn add_f64(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Relaxed);
    loop {
        let new = (f64::from_bits(cur) + v).to_bits();
        match cell.compare_exchange_weak(cur, new, Relaxed, Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

#[inline]
fn min_f64(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Relaxed);
    while v < f64::from_bits(cur) {
        match cell.compare_exchange_weak(cur, v.to_bits(), Relaxed, Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

#[inline]
fn max_f64(cell: &AtomicU64, v: f64) {
    let mut cur = cell.load(Relaxed);
    while v > f64::from_bits(cur) {
        match cell.compare_exchange_weak(cur, v.to_bits(), Relaxed, Relaxed) {
            Ok(_) => return,
            Err(seen) => cur = seen,
        }
    }
}

/// One series' state, and how it becomes a point.
pub(crate) trait Aggregator: Send + Sync + 'static {
    /// Per-instrument settings (number type, bucket bounds, ...).
    type Config: Send + Sync + 'static;
    /// The point type.
    type Point;
    fn new(config: &Self::Config) -> Self;
    fn point(
        &self,
        config: &Self::Config,
        attributes: Attributes,
        start: u64,
        time: u64,
    ) -> Self::Point;
    fn data(
        config: &Self::Config,
        points: Vec<Self::Point>,
        temporality: AggregationTemporality,
    ) -> MetricData;
}

/// Sum settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SumConfig {
    pub(crate) num: NumKind,
    pub(crate) monotonic: bool,
}

/// A running sum.
#[derive(Debug)]
pub(crate) struct SumCell(pub(crate) AtomicU64);

impl Aggregator for SumCell {
    type Config = SumConfig;
    type Point = NumberDataPoint;
    fn new(_: &SumConfig) -> Self {
        SumCell(AtomicU64::new(0))
    }
    fn point(&self, c: &SumConfig, attributes: Attributes, start: u64, time: u64) -> Self::Point {
        NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: c.num.value(self.0.load(Relaxed)),
            ..Default::default()
        }
    }
    fn data(c: &SumConfig, points: Vec<Self::Point>, t: AggregationTemporality) -> MetricData {
        MetricData::Sum {
            points,
            temporality: t,
            is_monotonic: c.monotonic,
        }
    }
}

/// A last value.
#[derive(Debug)]
pub(crate) struct GaugeCell(pub(crate) AtomicU64);

impl Aggregator for GaugeCell {
    type Config = NumKind;
    type Point = NumberDataPoint;
    fn new(_: &NumKind) -> Self {
        GaugeCell(AtomicU64::new(0))
    }
    fn point(&self, num: &NumKind, attributes: Attributes, _: u64, time: u64) -> Self::Point {
        // Gauges carry only the time of the point.
        NumberDataPoint {
            attributes,
            time_unix_nano: time,
            value: num.value(self.0.load(Relaxed)),
            ..Default::default()
        }
    }
    fn data(_: &NumKind, points: Vec<Self::Point>, _: AggregationTemporality) -> MetricData {
        MetricData::Gauge(points)
    }
}

/// An explicit-bucket histogram.
#[derive(Debug)]
pub(crate) struct HistCell {
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
    min: AtomicU64,
    max: AtomicU64,
}

impl HistCell {
    #[inline]
    pub(crate) fn record(&self, bounds: &[f64], v: f64) {
        // Upper-inclusive buckets: the first bound >= v.
        let i = bounds.partition_point(|b| *b < v);
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Relaxed);
        }
        add_f64(&self.sum, v);
        min_f64(&self.min, v);
        max_f64(&self.max, v);
    }
}

impl Aggregator for HistCell {
    type Config = Arc<[f64]>;
    type Point = HistogramDataPoint;
    fn new(bounds: &Arc<[f64]>) -> Self {
        HistCell {
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
            min: AtomicU64::new(f64::INFINITY.to_bits()),
            max: AtomicU64::new(f64::NEG_INFINITY.to_bits()),
        }
    }
    fn point(
        &self,
        bounds: &Arc<[f64]>,
        attributes: Attributes,
        start: u64,
        time: u64,
    ) -> Self::Point {
        let bucket_counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let count = bucket_counts.iter().sum::<u64>();
        let (min, max) = if count > 0 {
            (
                Some(f64::from_bits(self.min.load(Relaxed))),
                Some(f64::from_bits(self.max.load(Relaxed))),
            )
        } else {
            (None, None)
        };
        HistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            count,
            sum: Some(f64::from_bits(self.sum.load(Relaxed))),
            bucket_counts,
            explicit_bounds: bounds.to_vec(),
            min,
            max,
            ..Default::default()
        }
    }
    fn data(_: &Arc<[f64]>, points: Vec<Self::Point>, t: AggregationTemporality) -> MetricData {
        MetricData::Histogram {
            points,
            temporality: t,
        }
    }
}

/// Exponential histogram settings: most buckets, highest scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpoConfig {
    pub(crate) max_size: u32,
    pub(crate) max_scale: i32,
}

/// An exponential histogram behind its own small lock.
#[derive(Debug)]
pub(crate) struct ExpoCell(pub(crate) Mutex<ExpoState>);

impl Aggregator for ExpoCell {
    type Config = ExpoConfig;
    type Point = ExponentialHistogramDataPoint;
    fn new(c: &ExpoConfig) -> Self {
        ExpoCell(Mutex::new(ExpoState::new(c.max_size, c.max_scale)))
    }
    fn point(&self, _: &ExpoConfig, attributes: Attributes, start: u64, time: u64) -> Self::Point {
        let s = lock(&self.0).clone();
        let (min, max) = if s.count > 0 {
            (Some(s.min), Some(s.max))
        } else {
            (None, None)
        };
        ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            count: s.count,
            sum: Some(s.sum),
            scale: s.scale,
            zero_count: s.zero_count,
            positive: Buckets {
                offset: i32::try_from(s.positive.start).unwrap_or(0),
                bucket_counts: s.positive.counts,
            },
            min,
            max,
            ..Default::default()
        }
    }
    fn data(_: &ExpoConfig, points: Vec<Self::Point>, t: AggregationTemporality) -> MetricData {
        MetricData::ExponentialHistogram {
            points,
            temporality: t,
        }
    }
}

/// A series: its state and when it started (first measurement).
#[derive(Debug)]
struct Series<C> {
    cell: C,
    start: u64,
}

/// All series of an instrument.
#[derive(Debug)]
struct Table<C> {
    map: HashMap<SeriesKey, Series<C>, PassThrough>,
    overflow: Option<Series<C>>,
}

impl<C> Default for Table<C> {
    fn default() -> Self {
        Table {
            map: HashMap::default(),
            overflow: None,
        }
    }
}

/// A synchronous instrument's state.
#[derive(Debug)]
pub(crate) struct SyncInstrument<C: Aggregator> {
    pub(crate) ident: Ident,
    config: C::Config,
    temporality: AggregationTemporality,
    limit: usize,
    table: RwLock<Table<C>>,
    /// Start of the next delta points: the instrument's creation, then each collection.
    delta_start: Mutex<u64>,
    counters: Arc<Counters>,
}

impl<C: Aggregator> SyncInstrument<C> {
    pub(crate) fn new(
        ident: Ident,
        config: C::Config,
        temporality: AggregationTemporality,
        limit: usize,
        counters: Arc<Counters>,
    ) -> Self {
        SyncInstrument {
            ident,
            config,
            temporality,
            limit: limit.max(1),
            table: RwLock::new(Table::default()),
            delta_start: Mutex::new(unix_nanos_now()),
            counters,
        }
    }

    pub(crate) fn config(&self) -> &C::Config {
        &self.config
    }

    /// Applies `f` to the series of `attrs`, creating it (or using the overflow series)
    /// if needed.
    #[inline]
    pub(crate) fn measure(&self, attrs: &[KeyValue], f: impl Fn(&C)) {
        {
            let table = read(&self.table);
            if let Some(s) = table.map.get(&attrs as &dyn AttrView) {
                f(&s.cell);
                return;
            }
        }
        self.measure_slow(attrs, &f);
    }

    #[cold]
    #[inline(never)]
    fn measure_slow(&self, attrs: &[KeyValue], f: &dyn Fn(&C)) {
        let key = SeriesKey::normalize(attrs);
        {
            let table = read(&self.table);
            if let Some(s) = table.map.get(&key) {
                f(&s.cell);
                return;
            }
            if table.map.len() >= self.limit {
                if let Some(o) = &table.overflow {
                    f(&o.cell);
                    self.counters.overflowed.fetch_add(1, Relaxed);
                    return;
                }
            }
        }
        let mut table = write(&self.table);
        if let Some(s) = table.map.get(&key) {
            f(&s.cell);
            return;
        }
        if table.map.len() >= self.limit {
            let config = &self.config;
            let o = table.overflow.get_or_insert_with(|| Series {
                cell: C::new(config),
                start: unix_nanos_now(),
            });
            f(&o.cell);
            self.counters.overflowed.fetch_add(1, Relaxed);
            return;
        }
        let series = Series {
            cell: C::new(&self.config),
            start: unix_nanos_now(),
        };
        f(&series.cell);
        table.map.insert(key, series);
    }

    /// The instrument's metric at `now`, or `None` when it has no points.
    pub(crate) fn collect(&self, now: u64) -> Option<Metric> {
        let c = &self.config;
        let mut points = Vec::new();
        if self.temporality == AggregationTemporality::Delta {
            let taken = std::mem::take(&mut *write(&self.table));
            let start = std::mem::replace(&mut *lock(&self.delta_start), now);
            points.reserve(taken.map.len() + 1);
            for (key, s) in taken.map {
                points.push(s.cell.point(c, key.into_vec(), start, now));
            }
            if let Some(o) = taken.overflow {
                points.push(o.cell.point(c, overflow_attributes(), start, now));
            }
        } else {
            let table = read(&self.table);
            points.reserve(table.map.len() + 1);
            for (key, s) in &table.map {
                points.push(s.cell.point(c, key.as_slice().to_vec(), s.start, now));
            }
            if let Some(o) = &table.overflow {
                points.push(o.cell.point(c, overflow_attributes(), o.start, now));
            }
        }
        if points.is_empty() {
            return None;
        }
        Some(Metric {
            name: self.ident.name.clone(),
            description: self.ident.description.clone(),
            unit: self.ident.unit.clone(),
            data: C::data(c, points, self.temporality),
            metadata: Vec::new(),
        })
    }
}

impl<C: Aggregator> super::Collect for SyncInstrument<C> {
    fn collect(&self, now: u64) -> Option<Metric> {
        SyncInstrument::collect(self, now)
    }
}

/// Which instrument kind a handle type is, and what aggregator it uses.
pub(crate) trait SyncKind {
    type Cell: Aggregator;
    const KIND: Kind;
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident, $cell:ty, $kind:expr) => {
        $(#[$doc])*
        pub struct $name<T> {
            pub(crate) inner: Option<Arc<SyncInstrument<$cell>>>,
            pub(crate) _t: PhantomData<fn(T)>,
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone(),
                    _t: PhantomData,
                }
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let name = self.inner.as_ref().map(|i| i.ident.name.clone());
                f.debug_struct(stringify!($name)).field("name", &name).finish()
            }
        }

        impl<T> $name<T> {
            /// Whether this is a no-op instrument (invalid name, or a disabled exporter).
            pub fn is_noop(&self) -> bool {
                self.inner.is_none()
            }

            pub(crate) fn from_inner(inner: Option<Arc<SyncInstrument<$cell>>>) -> Self {
                $name {
                    inner,
                    _t: PhantomData,
                }
            }
        }

        impl<T> SyncKind for $name<T> {
            type Cell = $cell;
            const KIND: Kind = $kind;
        }
    };
}

handle!(
    /// A monotonic sum (`u64` or `f64`): [`add`](Counter::add) non-negative increments.
    Counter,
    SumCell,
    Kind::Counter
);
handle!(
    /// A sum that goes up and down (`i64` or `f64`).
    UpDownCounter,
    SumCell,
    Kind::UpDownCounter
);
handle!(
    /// The last recorded value (`i64` or `f64`).
    Gauge,
    GaugeCell,
    Kind::Gauge
);
handle!(
    /// An explicit-bucket histogram (`u64` or `f64` measurements).
    Histogram,
    HistCell,
    Kind::Histogram
);

/// A base-2 exponential histogram of `f64` measurements.
#[derive(Clone)]
pub struct ExponentialHistogram {
    pub(crate) inner: Option<Arc<SyncInstrument<ExpoCell>>>,
}

impl std::fmt::Debug for ExponentialHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.inner.as_ref().map(|i| i.ident.name.clone());
        f.debug_struct("ExponentialHistogram")
            .field("name", &name)
            .finish()
    }
}

impl SyncKind for ExponentialHistogram {
    type Cell = ExpoCell;
    const KIND: Kind = Kind::Histogram;
}

impl ExponentialHistogram {
    /// Whether this is a no-op instrument.
    pub fn is_noop(&self) -> bool {
        self.inner.is_none()
    }

    /// Records a measurement. Negative, NaN and infinite values are ignored (and counted
    /// in [`MeterDiagnostics::invalid_measurements`](super::MeterDiagnostics)).
    pub fn record(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            if !(value.is_finite() && value >= 0.0) {
                i.counters.invalid_measurements.fetch_add(1, Relaxed);
                return;
            }
            i.measure(attributes, |c| lock(&c.0).record(value));
        }
    }
}

impl Counter<u64> {
    /// Adds `value` to the series of `attributes` (any order; a repeated key counts
    /// once, its last value winning).
    #[inline]
    pub fn add(&self, value: u64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            i.measure(attributes, |c| {
                c.0.fetch_add(value, Relaxed);
            });
        }
    }
}

impl Counter<f64> {
    /// Adds `value`; negative, NaN and infinite values are ignored (and counted).
    #[inline]
    pub fn add(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            if !(value.is_finite() && value >= 0.0) {
                i.counters.invalid_measurements.fetch_add(1, Relaxed);
                return;
            }
            i.measure(attributes, |c| add_f64(&c.0, value));
        }
    }
}

impl UpDownCounter<i64> {
    /// Adds `value` (which may be negative).
    #[inline]
    pub fn add(&self, value: i64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            i.measure(attributes, |c| {
                c.0.fetch_add(value as u64, Relaxed);
            });
        }
    }
}

impl UpDownCounter<f64> {
    /// Adds `value` (which may be negative); NaN and infinities are ignored (and counted).
    #[inline]
    pub fn add(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            if !value.is_finite() {
                i.counters.invalid_measurements.fetch_add(1, Relaxed);
                return;
            }
            i.measure(attributes, |c| add_f64(&c.0, value));
        }
    }
}

impl Gauge<i64> {
    /// Records the current value.
    #[inline]
    pub fn record(&self, value: i64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            i.measure(attributes, |c| c.0.store(value as u64, Relaxed));
        }
    }
}

impl Gauge<f64> {
    /// Records the current value; NaN is ignored (and counted).
    #[inline]
    pub fn record(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            if value.is_nan() {
                i.counters.invalid_measurements.fetch_add(1, Relaxed);
                return;
            }
            i.measure(attributes, |c| c.0.store(value.to_bits(), Relaxed));
        }
    }
}

impl Histogram<f64> {
    /// Records a measurement. Negative, NaN and infinite values are ignored (and
    /// counted): histograms take non-negative measurements.
    #[inline]
    pub fn record(&self, value: f64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            if !(value.is_finite() && value >= 0.0) {
                i.counters.invalid_measurements.fetch_add(1, Relaxed);
                return;
            }
            let bounds = i.config();
            i.measure(attributes, |c| c.record(bounds, value));
        }
    }
}

impl Histogram<u64> {
    /// Records a measurement.
    #[inline]
    pub fn record(&self, value: u64, attributes: &[KeyValue]) {
        if let Some(i) = &self.inner {
            let bounds = i.config();
            i.measure(attributes, |c| c.record(bounds, value as f64));
        }
    }
}
