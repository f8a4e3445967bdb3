//! Metrics instruments: counters, up-down counters, gauges, histograms (explicit and
//! base-2 exponential), and their observable (callback) forms, aggregated in process and
//! collected by the export thread.
//!
//! A [`MeterProvider`] holds every instrument and is the pipeline's
//! [`MetricProducer`]: the export thread collects it every export interval, before each
//! flush completes and at shutdown. [`Exporter::meter`](crate::exporter::Exporter::meter)
//! wires one up from the configuration; a provider can also be used on its own.
//!
//! ```
//! use otlp_sync::config::TemporalityPreference;
//! use otlp_sync::metrics::MeterProvider;
//! use otlp_sync::model::{KeyValue, MetricData, NumberValue};
//! use std::time::SystemTime;
//!
//! let provider = MeterProvider::new(TemporalityPreference::Cumulative);
//! let meter = provider.meter("checkout");
//! let orders = meter.u64_counter("orders").unit("{order}").build();
//! orders.add(2, &[KeyValue::new("region", "eu"), KeyValue::new("tier", "gold")]);
//! orders.add(3, &[KeyValue::new("tier", "gold"), KeyValue::new("region", "eu")]);
//!
//! let collected = provider.collect(SystemTime::now());
//! let MetricData::Sum { points, is_monotonic, .. } = &collected[0].1.data else { panic!() };
//! assert!(is_monotonic);
//! assert_eq!(points[0].value, NumberValue::Int(5)); // one series: order does not matter
//! ```
//!
//! # Semantics (OTel metrics SDK specification)
//!
//! * **Temporality** follows the [`TemporalityPreference`] table of the OTLP metrics
//!   exporter: cumulative for everything by default; `Delta` makes counters, histograms
//!   and observable counters delta; `LowMemory` makes synchronous counters and
//!   histograms delta. Gauges always report the last value.
//! * **Start times**: delta points start at the previous collection (the instrument's
//!   creation the first time); cumulative synchronous series start at their first
//!   measurement; cumulative observable series at the collection before they were first
//!   observed. Gauge points carry only their time.
//! * **What is exported**: cumulative synchronous series every time; delta synchronous
//!   series only when measured since the previous collection; observable series only
//!   when observed in this collection.
//! * **Cardinality limit** (default 2000 per instrument, configurable on the provider,
//!   the meter and each instrument): up to the limit, each attribute set has its own
//!   series; measurements for further attribute sets go to one overflow series whose
//!   only attribute is `otel.metric.overflow = true`. Nothing is dropped or counted
//!   twice. Delta series are forgotten at each collection, so the limit applies per
//!   interval.
//! * **Attributes** are order-insensitive; a key given twice counts once, the last value
//!   winning.
//! * **Instrument names** must match the spec's syntax (an ASCII letter, then up to 254
//!   letters, digits, `_`, `.`, `-` or `/`); an invalid name gives a no-op instrument and
//!   is counted in [`MeterDiagnostics::invalid_instruments`]. Creating an identical
//!   instrument again (same meter, name ignoring case, kind, number type, unit and
//!   description) returns the same instrument.
//! * **Invalid measurements** (negative or non-finite counter increments or histogram
//!   values, NaN gauges) are ignored and counted.
//! * Exemplars are not recorded.
//!
//! See the `sync` module documentation in the source for the recording hot path.

mod attrs;
mod expo;
mod observable;
mod sync;

pub use observable::{ObservableCounter, ObservableGauge, ObservableUpDownCounter, Observer};
pub use sync::{Counter, ExponentialHistogram, Gauge, Histogram, UpDownCounter};

use crate::clock::unix_nanos;
use crate::config::TemporalityPreference;
use crate::model::{AggregationTemporality, InstrumentationScope, Metric, Str};
use crate::pipeline::MetricProducer;
use observable::{AsyncInstrument, AsyncValue, Callback};
use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;
use sync::{
    Aggregator, ExpoCell, ExpoConfig, GaugeCell, HistCell, NumKind, SumCell, SumConfig,
    SyncInstrument, SyncKind,
};

/// The default cardinality limit per instrument.
pub const DEFAULT_CARDINALITY_LIMIT: usize = 2000;

/// The default explicit bucket boundaries (the spec's).
pub const DEFAULT_BOUNDARIES: [f64; 15] = [
    0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0,
    10000.0,
];

/// The default most buckets of an exponential histogram (per sign).
pub const DEFAULT_MAX_SIZE: u32 = expo::DEFAULT_MAX_SIZE;

/// The default (and highest) scale of an exponential histogram.
pub const DEFAULT_MAX_SCALE: i32 = expo::DEFAULT_MAX_SCALE;

/// Instrument kinds, as the temporality table knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    UpDownCounter,
    Gauge,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
}

/// The temporality of an instrument kind under a preference (the table of the OTLP
/// metrics exporter specification). Gauges have none; they are reported as cumulative
/// (the last value, every collection).
pub(crate) fn temporality(pref: TemporalityPreference, kind: Kind) -> AggregationTemporality {
    use AggregationTemporality::{Cumulative, Delta};
    match (pref, kind) {
        (
            TemporalityPreference::Delta,
            Kind::Counter | Kind::Histogram | Kind::ObservableCounter,
        ) => Delta,
        (TemporalityPreference::LowMemory, Kind::Counter | Kind::Histogram) => Delta,
        _ => Cumulative,
    }
}

/// An instrument's identifying fields.
#[derive(Debug, Clone)]
pub(crate) struct Ident {
    pub(crate) name: Str,
    pub(crate) description: Str,
    pub(crate) unit: Str,
}

/// Counters kept by the provider (see [`MeterDiagnostics`]).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) invalid_instruments: AtomicU64,
    pub(crate) duplicate_instruments: AtomicU64,
    pub(crate) invalid_measurements: AtomicU64,
    pub(crate) overflowed: AtomicU64,
    pub(crate) callback_panics: AtomicU64,
    pub(crate) collections: AtomicU64,
}

/// What went wrong while recording, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MeterDiagnostics {
    /// Instruments refused for an invalid name (no-op instruments were returned).
    pub invalid_instruments: u64,
    /// Instruments created with the name of an existing one of another kind, unit or
    /// description (both are exported, which is a conflict for the receiver).
    pub duplicate_instruments: u64,
    /// Measurements ignored: negative or non-finite increments of counters and values of
    /// histograms, NaN gauge values.
    pub invalid_measurements: u64,
    /// Measurements (observations, for observable instruments) that went to an overflow
    /// series because their instrument was at its cardinality limit.
    pub overflowed_measurements: u64,
    /// Observable callbacks that panicked (their observations were discarded).
    pub callback_panics: u64,
    /// Collections done.
    pub collections: u64,
}

/// Something the producer collects.
pub(crate) trait Collect: Send + Sync {
    fn collect(&self, now: u64) -> Option<Metric>;
}

/// One registered instrument.
struct Registered {
    scope: Arc<InstrumentationScope>,
    ident: Ident,
    type_id: TypeId,
    collect: Arc<dyn Collect>,
    any: Arc<dyn Any + Send + Sync>,
}

/// The provider's shared state.
struct Registry {
    temporality: TemporalityPreference,
    cardinality_limit: usize,
    instruments: Mutex<Vec<Registered>>,
    scopes: Mutex<Vec<Arc<InstrumentationScope>>>,
    counters: Arc<Counters>,
}

impl Registry {
    /// The interned scope equal to `scope`.
    fn scope(&self, scope: InstrumentationScope) -> Arc<InstrumentationScope> {
        let mut scopes = lock(&self.scopes);
        if let Some(s) = scopes.iter().find(|s| ***s == scope) {
            return Arc::clone(s);
        }
        let s = Arc::new(scope);
        scopes.push(Arc::clone(&s));
        s
    }

    /// Registers a synchronous instrument, or returns the identical one already there
    /// (`type_id` is the handle's type: instrument kind and number type).
    fn sync<C: Aggregator>(
        &self,
        scope: &Arc<InstrumentationScope>,
        ident: Ident,
        type_id: TypeId,
        make: impl FnOnce(Ident) -> SyncInstrument<C>,
    ) -> Arc<SyncInstrument<C>> {
        let mut all = lock(&self.instruments);
        let same_name = |r: &&Registered| {
            Arc::ptr_eq(&r.scope, scope) && r.ident.name.eq_ignore_ascii_case(&ident.name)
        };
        let identical = all.iter().filter(same_name).find_map(|r| {
            let same = r.type_id == type_id
                && r.ident.unit == ident.unit
                && r.ident.description == ident.description;
            same.then(|| Arc::clone(&r.any).downcast::<SyncInstrument<C>>().ok())
                .flatten()
        });
        if let Some(existing) = identical {
            return existing;
        }
        if all.iter().any(|r| same_name(&r)) {
            self.duplicate(&ident);
        }
        let instrument = Arc::new(make(ident.clone()));
        all.push(Registered {
            scope: Arc::clone(scope),
            ident,
            type_id,
            collect: Arc::clone(&instrument) as Arc<dyn Collect>,
            any: Arc::clone(&instrument) as Arc<dyn Any + Send + Sync>,
        });
        instrument
    }

    /// Registers an observable instrument (always a new one: its callbacks are its own).
    fn observable<T: AsyncValue>(
        &self,
        scope: &Arc<InstrumentationScope>,
        instrument: AsyncInstrument<T>,
    ) {
        let mut all = lock(&self.instruments);
        let ident = instrument.ident.clone();
        if all
            .iter()
            .any(|r| Arc::ptr_eq(&r.scope, scope) && r.ident.name.eq_ignore_ascii_case(&ident.name))
        {
            self.duplicate(&ident);
        }
        let instrument = Arc::new(instrument);
        all.push(Registered {
            scope: Arc::clone(scope),
            ident,
            // Never matched: observable instruments are always new.
            type_id: TypeId::of::<AsyncInstrument<T>>(),
            collect: Arc::clone(&instrument) as Arc<dyn Collect>,
            any: instrument as Arc<dyn Any + Send + Sync>,
        });
    }

    fn duplicate(&self, ident: &Ident) {
        self.counters.duplicate_instruments.fetch_add(1, Relaxed);
        diag!(
            Warn,
            "metric instrument {:?} registered again with another kind, unit or description; \
             both are exported",
            ident.name
        );
    }

    fn collect(&self, now: SystemTime, out: &mut Vec<(Arc<InstrumentationScope>, Metric)>) {
        // Snapshot the list, so callbacks may create instruments without deadlocking.
        let snapshot: Vec<(Arc<InstrumentationScope>, Arc<dyn Collect>)> = lock(&self.instruments)
            .iter()
            .map(|r| (Arc::clone(&r.scope), Arc::clone(&r.collect)))
            .collect();
        let now = unix_nanos(now);
        for (scope, instrument) in snapshot {
            if let Some(metric) = instrument.collect(now) {
                out.push((scope, metric));
            }
        }
        self.counters.collections.fetch_add(1, Relaxed);
    }
}

/// Holds every instrument of its meters; collected by the export thread (it is the
/// pipeline's [`MetricProducer`]). Cheap to clone: clones share the instruments.
#[derive(Clone)]
pub struct MeterProvider {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for MeterProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeterProvider")
            .field("temporality", &self.registry.temporality)
            .field("cardinality_limit", &self.registry.cardinality_limit)
            .finish_non_exhaustive()
    }
}

impl MeterProvider {
    /// A provider with the given temporality preference and the default cardinality
    /// limit.
    pub fn new(temporality: TemporalityPreference) -> MeterProvider {
        MeterProvider::with_cardinality_limit(temporality, DEFAULT_CARDINALITY_LIMIT)
    }

    /// A provider with the given temporality preference and default cardinality limit
    /// per instrument (at least 1).
    pub fn with_cardinality_limit(
        temporality: TemporalityPreference,
        limit: usize,
    ) -> MeterProvider {
        MeterProvider {
            registry: Arc::new(Registry {
                temporality,
                cardinality_limit: limit.max(1),
                instruments: Mutex::new(Vec::new()),
                scopes: Mutex::new(Vec::new()),
                counters: Arc::new(Counters::default()),
            }),
        }
    }

    /// The temporality preference.
    pub fn temporality_preference(&self) -> TemporalityPreference {
        self.registry.temporality
    }

    /// A meter whose instruments are reported under the scope `name`. Meters of equal
    /// scopes share their instruments.
    pub fn meter(&self, name: impl Into<Str>) -> Meter {
        self.meter_with_scope(InstrumentationScope::new(name))
    }

    /// A meter for a full instrumentation scope (name, version, schema URL,
    /// attributes).
    pub fn meter_with_scope(&self, scope: InstrumentationScope) -> Meter {
        Meter {
            inner: Some(MeterInner {
                scope: self.registry.scope(scope),
                registry: Arc::clone(&self.registry),
                cardinality_limit: None,
            }),
        }
    }

    /// Collects every instrument now (running observable callbacks), as the export thread
    /// does. With delta temporality this starts a new interval: what it returns is not
    /// exported.
    pub fn collect(&self, now: SystemTime) -> Vec<(Arc<InstrumentationScope>, Metric)> {
        let mut out = Vec::new();
        self.registry.collect(now, &mut out);
        out
    }

    /// Counters of refused instruments and measurements, overflow and callback panics.
    pub fn diagnostics(&self) -> MeterDiagnostics {
        let c = &self.registry.counters;
        MeterDiagnostics {
            invalid_instruments: c.invalid_instruments.load(Relaxed),
            duplicate_instruments: c.duplicate_instruments.load(Relaxed),
            invalid_measurements: c.invalid_measurements.load(Relaxed),
            overflowed_measurements: c.overflowed.load(Relaxed),
            callback_panics: c.callback_panics.load(Relaxed),
            collections: c.collections.load(Relaxed),
        }
    }
}

impl MetricProducer for MeterProvider {
    fn produce(&mut self, now: SystemTime, out: &mut Vec<(Arc<InstrumentationScope>, Metric)>) {
        self.registry.collect(now, out);
    }
}

#[derive(Clone)]
struct MeterInner {
    registry: Arc<Registry>,
    scope: Arc<InstrumentationScope>,
    cardinality_limit: Option<usize>,
}

/// Creates instruments under one instrumentation scope. Cheap to clone, `Send + Sync`.
/// A no-op meter ([`Meter::noop`], or from a disabled exporter) creates no-op
/// instruments.
#[derive(Clone, Default)]
pub struct Meter {
    inner: Option<MeterInner>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("scope", &self.inner.as_ref().map(|i| i.scope.name.clone()))
            .finish()
    }
}

macro_rules! sync_ctor {
    ($(#[$doc:meta])* $fn:ident, $ty:ty) => {
        $(#[$doc])*
        pub fn $fn(&self, name: impl Into<Str>) -> InstrumentBuilder<$ty> {
            InstrumentBuilder::new(self.clone(), name.into())
        }
    };
}

macro_rules! async_ctor {
    ($(#[$doc:meta])* $fn:ident, $ty:ty, $t:ty) => {
        $(#[$doc])*
        pub fn $fn(&self, name: impl Into<Str>) -> ObservableBuilder<$ty, $t> {
            ObservableBuilder::new(self.clone(), name.into())
        }
    };
}

impl Meter {
    /// A meter whose instruments do nothing.
    pub fn noop() -> Meter {
        Meter { inner: None }
    }

    /// Whether this meter is a no-op.
    pub fn is_noop(&self) -> bool {
        self.inner.is_none()
    }

    /// The meter's scope (`None` for a no-op meter).
    pub fn scope(&self) -> Option<&InstrumentationScope> {
        self.inner.as_ref().map(|i| &*i.scope)
    }

    /// This meter with another default cardinality limit (at least 1) for the
    /// instruments it creates from now on.
    pub fn with_cardinality_limit(mut self, limit: usize) -> Meter {
        if let Some(i) = &mut self.inner {
            i.cardinality_limit = Some(limit.max(1));
        }
        self
    }

    sync_ctor!(
        /// A monotonic `u64` counter.
        u64_counter, Counter<u64>
    );
    sync_ctor!(
        /// A monotonic `f64` counter.
        f64_counter, Counter<f64>
    );
    sync_ctor!(
        /// An `i64` up-down counter.
        i64_up_down_counter, UpDownCounter<i64>
    );
    sync_ctor!(
        /// An `f64` up-down counter.
        f64_up_down_counter, UpDownCounter<f64>
    );
    sync_ctor!(
        /// An `i64` gauge (last value).
        i64_gauge, Gauge<i64>
    );
    sync_ctor!(
        /// An `f64` gauge (last value).
        f64_gauge, Gauge<f64>
    );
    sync_ctor!(
        /// An `f64` explicit-bucket histogram (default boundaries: [`DEFAULT_BOUNDARIES`]).
        f64_histogram, Histogram<f64>
    );
    sync_ctor!(
        /// A `u64` explicit-bucket histogram (default boundaries: [`DEFAULT_BOUNDARIES`]).
        u64_histogram, Histogram<u64>
    );
    sync_ctor!(
        /// An `f64` base-2 exponential histogram (at most [`DEFAULT_MAX_SIZE`] buckets,
        /// scale at most [`DEFAULT_MAX_SCALE`], lowered automatically as values spread).
        f64_exponential_histogram, ExponentialHistogram
    );
    async_ctor!(
        /// A `u64` observable counter.
        u64_observable_counter, ObservableCounter<u64>, u64
    );
    async_ctor!(
        /// An `f64` observable counter.
        f64_observable_counter, ObservableCounter<f64>, f64
    );
    async_ctor!(
        /// An `i64` observable up-down counter.
        i64_observable_up_down_counter, ObservableUpDownCounter<i64>, i64
    );
    async_ctor!(
        /// An `f64` observable up-down counter.
        f64_observable_up_down_counter, ObservableUpDownCounter<f64>, f64
    );
    async_ctor!(
        /// An `i64` observable gauge.
        i64_observable_gauge, ObservableGauge<i64>, i64
    );
    async_ctor!(
        /// An `f64` observable gauge.
        f64_observable_gauge, ObservableGauge<f64>, f64
    );

    /// The registry, scope and cardinality limit for a new instrument, or `None` for a
    /// no-op one (no-op meter, or an invalid name, which is counted).
    fn prepare(&self, name: &str, limit: Option<usize>) -> Option<(&MeterInner, usize)> {
        let inner = self.inner.as_ref()?;
        if !valid_name(name) {
            inner
                .registry
                .counters
                .invalid_instruments
                .fetch_add(1, Relaxed);
            diag!(
                Warn,
                "invalid metric instrument name {name:?}: instrument disabled"
            );
            return None;
        }
        let limit = limit
            .or(inner.cardinality_limit)
            .unwrap_or(inner.registry.cardinality_limit)
            .max(1);
        Some((inner, limit))
    }
}

/// Whether `name` follows the instrument name syntax: an ASCII letter, then at most 254
/// ASCII letters, digits, `_`, `.`, `-` or `/`.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    b.len() <= 255
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/'))
}

/// Builds a synchronous instrument: `meter.u64_counter("name").unit("By").build()`.
#[must_use = "call .build() to get the instrument"]
pub struct InstrumentBuilder<I> {
    meter: Meter,
    name: Str,
    description: Str,
    unit: Str,
    cardinality_limit: Option<usize>,
    boundaries: Option<Vec<f64>>,
    max_size: u32,
    max_scale: i32,
    _i: PhantomData<fn() -> I>,
}

impl<I> std::fmt::Debug for InstrumentBuilder<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentBuilder")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<I> InstrumentBuilder<I> {
    fn new(meter: Meter, name: Str) -> Self {
        InstrumentBuilder {
            meter,
            name,
            description: Str::Borrowed(""),
            unit: Str::Borrowed(""),
            cardinality_limit: None,
            boundaries: None,
            max_size: DEFAULT_MAX_SIZE,
            max_scale: DEFAULT_MAX_SCALE,
            _i: PhantomData,
        }
    }

    /// The instrument's description.
    pub fn description(mut self, description: impl Into<Str>) -> Self {
        self.description = description.into();
        self
    }

    /// The instrument's unit (UCUM, e.g. `"ms"`, `"By"`, `"{request}"`).
    pub fn unit(mut self, unit: impl Into<Str>) -> Self {
        self.unit = unit.into();
        self
    }

    /// The most attribute sets with their own series (at least 1); further ones share
    /// the overflow series. Defaults to the meter's limit.
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit.max(1));
        self
    }

    fn ident(&self) -> Ident {
        Ident {
            name: self.name.clone(),
            description: self.description.clone(),
            unit: self.unit.clone(),
        }
    }

    fn build_with<C: Aggregator>(
        &self,
        kind: Kind,
        config: C::Config,
    ) -> Option<Arc<SyncInstrument<C>>>
    where
        I: 'static,
    {
        let (inner, limit) = self.meter.prepare(&self.name, self.cardinality_limit)?;
        let registry = &inner.registry;
        let t = temporality(registry.temporality, kind);
        let counters = Arc::clone(&registry.counters);
        let type_id = TypeId::of::<I>();
        Some(
            registry.sync(&inner.scope, self.ident(), type_id, move |ident| {
                SyncInstrument::new(ident, config, t, limit, counters)
            }),
        )
    }
}

impl<T> InstrumentBuilder<Histogram<T>> {
    /// Explicit bucket boundaries (upper bounds, inclusive): finite and strictly
    /// increasing. Invalid boundaries are replaced by [`DEFAULT_BOUNDARIES`]. An empty
    /// list gives a single bucket (count, sum, min and max only).
    pub fn boundaries(mut self, boundaries: impl Into<Vec<f64>>) -> Self {
        self.boundaries = Some(boundaries.into());
        self
    }

    fn bounds(&self) -> Arc<[f64]> {
        match &self.boundaries {
            Some(b)
                if b.iter().all(|x| x.is_finite())
                    && b.windows(2).all(|w| matches!(w, [x, y] if x < y)) =>
            {
                Arc::from(b.as_slice())
            }
            Some(_) => {
                diag!(
                    Warn,
                    "invalid histogram boundaries for {:?}: using the defaults",
                    self.name
                );
                Arc::from(DEFAULT_BOUNDARIES.as_slice())
            }
            None => Arc::from(DEFAULT_BOUNDARIES.as_slice()),
        }
    }
}

impl InstrumentBuilder<ExponentialHistogram> {
    /// The most buckets for positive values (at least 2; default 160).
    pub fn max_size(mut self, max_size: u32) -> Self {
        self.max_size = max_size.max(2);
        self
    }

    /// The highest scale (-10 to 20; default 20).
    pub fn max_scale(mut self, max_scale: i32) -> Self {
        self.max_scale = max_scale.clamp(expo::MIN_SCALE, DEFAULT_MAX_SCALE);
        self
    }

    /// Creates the instrument.
    pub fn build(self) -> ExponentialHistogram {
        let config = ExpoConfig {
            max_size: self.max_size,
            max_scale: self.max_scale,
        };
        ExponentialHistogram {
            inner: self.build_with::<ExpoCell>(ExponentialHistogram::KIND, config),
        }
    }
}

macro_rules! sync_build {
    ($ty:ty, $cell:ty, $config:expr) => {
        impl InstrumentBuilder<$ty> {
            /// Creates the instrument (or returns the identical one already created).
            pub fn build(self) -> $ty {
                #[allow(clippy::redundant_closure_call)]
                let config = ($config)(&self);
                <$ty>::from_inner(self.build_with::<$cell>(<$ty>::KIND, config))
            }
        }
    };
}

sync_build!(Counter<u64>, SumCell, |_: &Self| SumConfig {
    num: NumKind::U64,
    monotonic: true
});
sync_build!(Counter<f64>, SumCell, |_: &Self| SumConfig {
    num: NumKind::F64,
    monotonic: true
});
sync_build!(UpDownCounter<i64>, SumCell, |_: &Self| SumConfig {
    num: NumKind::I64,
    monotonic: false
});
sync_build!(UpDownCounter<f64>, SumCell, |_: &Self| SumConfig {
    num: NumKind::F64,
    monotonic: false
});
sync_build!(Gauge<i64>, GaugeCell, |_: &Self| NumKind::I64);
sync_build!(Gauge<f64>, GaugeCell, |_: &Self| NumKind::F64);
sync_build!(Histogram<f64>, HistCell, |b: &Self| b.bounds());
sync_build!(Histogram<u64>, HistCell, |b: &Self| b.bounds());

/// Builds an observable instrument:
/// `meter.u64_observable_counter("name").with_callback(|obs| obs.observe(7, &[])).build()`.
#[must_use = "call .build() to register the instrument"]
pub struct ObservableBuilder<I, T> {
    meter: Meter,
    name: Str,
    description: Str,
    unit: Str,
    cardinality_limit: Option<usize>,
    callbacks: Vec<Callback<T>>,
    _i: PhantomData<fn() -> I>,
}

impl<I, T> std::fmt::Debug for ObservableBuilder<I, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservableBuilder")
            .field("name", &self.name)
            .field("callbacks", &self.callbacks.len())
            .finish_non_exhaustive()
    }
}

impl<I, T> ObservableBuilder<I, T> {
    fn new(meter: Meter, name: Str) -> Self {
        ObservableBuilder {
            meter,
            name,
            description: Str::Borrowed(""),
            unit: Str::Borrowed(""),
            cardinality_limit: None,
            callbacks: Vec::new(),
            _i: PhantomData,
        }
    }

    /// The instrument's description.
    pub fn description(mut self, description: impl Into<Str>) -> Self {
        self.description = description.into();
        self
    }

    /// The instrument's unit.
    pub fn unit(mut self, unit: impl Into<Str>) -> Self {
        self.unit = unit.into();
        self
    }

    /// The most attribute sets per collection (first observed first); further ones are
    /// folded into the overflow series.
    pub fn cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = Some(limit.max(1));
        self
    }

    /// Adds a callback, run on the export thread at each collection. It should be quick
    /// and must not block. A panic in it is caught; its observations are discarded.
    pub fn with_callback<F>(mut self, callback: F) -> Self
    where
        F: Fn(&Observer<T>) + Send + Sync + 'static,
    {
        self.callbacks.push(Box::new(callback));
        self
    }
}

macro_rules! async_build {
    ($handle:ident, $t:ty, $kind:expr) => {
        impl ObservableBuilder<$handle<$t>, $t> {
            /// Registers the instrument with its callbacks.
            pub fn build(self) -> $handle<$t> {
                let registered = match self.meter.prepare(&self.name, self.cardinality_limit) {
                    Some((inner, limit)) => {
                        let registry = &inner.registry;
                        let ident = Ident {
                            name: self.name,
                            description: self.description,
                            unit: self.unit,
                        };
                        let instrument = AsyncInstrument::<$t>::new(
                            ident,
                            $kind,
                            temporality(registry.temporality, $kind),
                            limit,
                            self.callbacks,
                            Arc::clone(&registry.counters),
                        );
                        registry.observable(&inner.scope, instrument);
                        true
                    }
                    None => false,
                };
                $handle {
                    registered,
                    _t: PhantomData,
                }
            }
        }
    };
}

async_build!(ObservableCounter, u64, Kind::ObservableCounter);
async_build!(ObservableCounter, f64, Kind::ObservableCounter);
async_build!(ObservableUpDownCounter, i64, Kind::ObservableUpDownCounter);
async_build!(ObservableUpDownCounter, f64, Kind::ObservableUpDownCounter);
async_build!(ObservableGauge, i64, Kind::ObservableGauge);
async_build!(ObservableGauge, f64, Kind::ObservableGauge);

/// Locks, ignoring poisoning (no invariant of ours spans a panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_syntax() {
        assert!(valid_name("a"));
        assert!(valid_name("http.server.request_duration/x-y"));
        assert!(valid_name(&"a".repeat(255)));
        assert!(!valid_name(&"a".repeat(256)));
        assert!(!valid_name(""));
        assert!(!valid_name("1abc"));
        assert!(!valid_name("_abc"));
        assert!(!valid_name("a b"));
        assert!(!valid_name("caf\u{e9}"));
    }

    #[test]
    fn temporality_table() {
        use AggregationTemporality::{Cumulative as C, Delta as D};
        use TemporalityPreference as P;
        let kinds = [
            Kind::Counter,
            Kind::UpDownCounter,
            Kind::Histogram,
            Kind::ObservableCounter,
            Kind::ObservableUpDownCounter,
        ];
        let expect = |p: P| kinds.map(|k| temporality(p, k));
        assert_eq!(expect(P::Cumulative), [C, C, C, C, C]);
        assert_eq!(expect(P::Delta), [D, C, D, D, C]);
        assert_eq!(expect(P::LowMemory), [D, C, D, C, C]);
    }

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_and_sync() {
        send_sync::<Meter>();
        send_sync::<MeterProvider>();
        send_sync::<Counter<u64>>();
        send_sync::<Histogram<f64>>();
        send_sync::<ExponentialHistogram>();
        send_sync::<ObservableGauge<f64>>();
    }
}
