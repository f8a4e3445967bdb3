//! Asynchronous (observable) instruments: callbacks run at each collection, on the export
//! thread.
//!
//! Only attribute sets observed in this collection's callbacks are reported. Cumulative
//! sums report the observed value with a start time that stays fixed while the attribute
//! set keeps being observed (the previous collection's time, or the instrument's
//! creation, when it first appears); delta sums report the difference from the previous
//! observation (the whole value if there was none, or if a counter went down: a reset).
//! A panicking callback's observations are discarded and counted.

use super::attrs::{PassThrough, SeriesKey};
use super::sync::overflow_attributes;
use super::{Counters, Ident, Kind, lock};
use crate::clock::unix_nanos_now;
use crate::model::{
    AggregationTemporality, KeyValue, Metric, MetricData, NumberDataPoint, NumberValue,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// What a callback reports its observations to.
pub struct Observer<T> {
    seen: RefCell<Vec<(SeriesKey, T)>>,
    monotonic: bool,
    invalid: Cell<u64>,
}

impl<T> std::fmt::Debug for Observer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("observations", &self.seen.borrow().len())
            .finish()
    }
}

impl<T> Observer<T> {
    fn new(monotonic: bool) -> Self {
        Observer {
            seen: RefCell::new(Vec::new()),
            monotonic,
            invalid: Cell::new(0),
        }
    }

    fn push(&self, value: T, attributes: &[KeyValue]) {
        self.seen
            .borrow_mut()
            .push((SeriesKey::normalize(attributes), value));
    }

    fn reject(&self) {
        self.invalid.set(self.invalid.get().saturating_add(1));
    }
}

impl Observer<u64> {
    /// Reports the current value of the series of `attributes`. Observing the same
    /// attributes twice in one collection keeps the last value.
    pub fn observe(&self, value: u64, attributes: &[KeyValue]) {
        self.push(value, attributes);
    }
}

impl Observer<i64> {
    /// Reports the current value of the series of `attributes` (last one wins).
    pub fn observe(&self, value: i64, attributes: &[KeyValue]) {
        self.push(value, attributes);
    }
}

impl Observer<f64> {
    /// Reports the current value of the series of `attributes` (last one wins). NaN is
    /// ignored, and for counters also infinities and negative values (counted as invalid).
    pub fn observe(&self, value: f64, attributes: &[KeyValue]) {
        let bad = value.is_nan() || (self.monotonic && !(value.is_finite() && value >= 0.0));
        if bad {
            self.reject();
        } else {
            self.push(value, attributes);
        }
    }
}

/// The value types of observable instruments.
pub(crate) trait AsyncValue: Copy + Send + Sync + 'static {
    fn number(self) -> NumberValue;
    /// `self - prev` for a delta; a counter that went down restarted from zero.
    fn delta(self, prev: Self) -> Self;
    fn plus(self, other: Self) -> Self;
}

impl AsyncValue for u64 {
    fn number(self) -> NumberValue {
        NumberValue::Int(i64::try_from(self).unwrap_or(i64::MAX))
    }
    fn delta(self, prev: Self) -> Self {
        if self >= prev { self - prev } else { self }
    }
    fn plus(self, other: Self) -> Self {
        self.saturating_add(other)
    }
}

impl AsyncValue for i64 {
    fn number(self) -> NumberValue {
        NumberValue::Int(self)
    }
    fn delta(self, prev: Self) -> Self {
        self.wrapping_sub(prev)
    }
    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }
}

impl AsyncValue for f64 {
    fn number(self) -> NumberValue {
        NumberValue::Double(self)
    }
    fn delta(self, prev: Self) -> Self {
        if self >= prev { self - prev } else { self }
    }
    fn plus(self, other: Self) -> Self {
        self + other
    }
}

/// A registered callback.
pub(crate) type Callback<T> = Box<dyn Fn(&Observer<T>) + Send + Sync>;

/// What the collector remembers between collections.
struct AsyncState<T> {
    /// The previous collection's time (the instrument's creation before the first).
    last_collect: u64,
    /// Series observed last time: their start and last value.
    series: HashMap<SeriesKey, (u64, T), PassThrough>,
}

/// An observable instrument.
pub(crate) struct AsyncInstrument<T> {
    pub(crate) ident: Ident,
    kind: Kind,
    temporality: AggregationTemporality,
    limit: usize,
    callbacks: Vec<Callback<T>>,
    state: Mutex<AsyncState<T>>,
    counters: Arc<Counters>,
}

impl<T: AsyncValue> AsyncInstrument<T> {
    pub(crate) fn new(
        ident: Ident,
        kind: Kind,
        temporality: AggregationTemporality,
        limit: usize,
        callbacks: Vec<Callback<T>>,
        counters: Arc<Counters>,
    ) -> Self {
        AsyncInstrument {
            ident,
            kind,
            temporality,
            limit: limit.max(1),
            callbacks,
            state: Mutex::new(AsyncState {
                last_collect: unix_nanos_now(),
                series: HashMap::default(),
            }),
            counters,
        }
    }

    /// Runs the callbacks; the observations, one per attribute set (last wins), the
    /// first-observed `limit` sets kept and the rest folded into the overflow set.
    fn observe(&self) -> Vec<(SeriesKey, T)> {
        let observer = Observer::new(self.kind == Kind::ObservableCounter);
        for cb in &self.callbacks {
            let mark = observer.seen.borrow().len();
            if catch_unwind(AssertUnwindSafe(|| cb(&observer))).is_err() {
                observer.seen.borrow_mut().truncate(mark);
                self.counters.callback_panics.fetch_add(1, Relaxed);
                diag!(Warn, "metrics callback of {} panicked", self.ident.name);
            }
        }
        let invalid = observer.invalid.get();
        if invalid > 0 {
            self.counters
                .invalid_measurements
                .fetch_add(invalid, Relaxed);
        }
        let seen = observer.seen.into_inner();
        let mut kept: Vec<(SeriesKey, T)> = Vec::new();
        let mut index: HashMap<SeriesKey, usize, PassThrough> = HashMap::default();
        let mut spilled: HashMap<SeriesKey, T, PassThrough> = HashMap::default();
        for (key, value) in seen {
            if let Some(slot) = index.get(&key).and_then(|&i| kept.get_mut(i)) {
                slot.1 = value;
            } else if kept.len() < self.limit {
                index.insert(key.clone(), kept.len());
                kept.push((key, value));
            } else {
                spilled.insert(key, value);
            }
        }
        if !spilled.is_empty() {
            self.counters
                .overflowed
                .fetch_add(spilled.len() as u64, Relaxed);
            let mut values = spilled.into_values();
            if let Some(first) = values.next() {
                // Gauges: any one of them; sums: their total.
                let total = if self.kind == Kind::ObservableGauge {
                    first
                } else {
                    values.fold(first, T::plus)
                };
                kept.push((SeriesKey::from_normalized(overflow_attributes()), total));
            }
        }
        kept
    }

    pub(crate) fn collect(&self, now: u64) -> Option<Metric> {
        let observed = self.observe();
        let mut state = lock(&self.state);
        let since = state.last_collect;
        let mut next = HashMap::with_capacity_and_hasher(observed.len(), PassThrough);
        let mut points = Vec::with_capacity(observed.len());
        for (key, value) in observed {
            let prev = state.series.get(&key).copied();
            let series_start = prev.map_or(since, |p| p.0);
            let (start, point_value) = match (self.kind, self.temporality) {
                (Kind::ObservableGauge, _) => (0, value),
                (_, AggregationTemporality::Delta) => {
                    (since, prev.map_or(value, |p| value.delta(p.1)))
                }
                _ => (series_start, value),
            };
            points.push(NumberDataPoint {
                attributes: key.as_slice().to_vec(),
                start_time_unix_nano: start,
                time_unix_nano: now,
                value: point_value.number(),
                ..Default::default()
            });
            next.insert(key, (series_start, value));
        }
        state.series = next;
        state.last_collect = now;
        drop(state);
        if points.is_empty() {
            return None;
        }
        let data = match self.kind {
            Kind::ObservableGauge => MetricData::Gauge(points),
            kind => MetricData::Sum {
                points,
                temporality: self.temporality,
                is_monotonic: kind == Kind::ObservableCounter,
            },
        };
        Some(Metric {
            name: self.ident.name.clone(),
            description: self.ident.description.clone(),
            unit: self.ident.unit.clone(),
            data,
            metadata: Vec::new(),
        })
    }
}

impl<T: AsyncValue> super::Collect for AsyncInstrument<T> {
    fn collect(&self, now: u64) -> Option<Metric> {
        AsyncInstrument::collect(self, now)
    }
}

macro_rules! async_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// The instrument stays registered (its callbacks keep running at each
        /// collection) for as long as the exporter lives, whether this handle is kept
        /// or not.
        pub struct $name<T> {
            pub(crate) registered: bool,
            pub(crate) _t: PhantomData<fn(T)>,
        }

        impl<T> $name<T> {
            /// Whether this is a no-op instrument (invalid name, or a disabled exporter).
            pub fn is_noop(&self) -> bool {
                !self.registered
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("registered", &self.registered)
                    .finish()
            }
        }
    };
}

async_handle!(
    /// A monotonic sum reported by callbacks (`u64` or `f64`).
    ObservableCounter
);
async_handle!(
    /// A sum that goes up and down, reported by callbacks (`i64` or `f64`).
    ObservableUpDownCounter
);
async_handle!(
    /// A current value reported by callbacks (`i64` or `f64`).
    ObservableGauge
);
