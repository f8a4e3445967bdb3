//! Instruments and aggregation, collected directly from a `MeterProvider`: expected values
//! computed by hand.

use otlp_sync::config::TemporalityPreference;
use otlp_sync::metrics::{DEFAULT_BOUNDARIES, MeterProvider};
use otlp_sync::model::{
    AggregationTemporality, AnyValue, ExponentialHistogramDataPoint, HistogramDataPoint, KeyValue,
    Metric, MetricData, NumberDataPoint, NumberValue,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn find<'a>(
    collected: &'a [(Arc<otlp_sync::model::InstrumentationScope>, Metric)],
    name: &str,
) -> &'a Metric {
    collected
        .iter()
        .map(|(_, m)| m)
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn has(collected: &[(Arc<otlp_sync::model::InstrumentationScope>, Metric)], name: &str) -> bool {
    collected.iter().any(|(_, m)| m.name == name)
}

/// The sum points (sorted by attributes' debug form), temporality and monotonicity.
fn sum(m: &Metric) -> (Vec<NumberDataPoint>, AggregationTemporality, bool) {
    match &m.data {
        MetricData::Sum {
            points,
            temporality,
            is_monotonic,
        } => {
            let mut p = points.clone();
            p.sort_by_key(|p| format!("{:?}", p.attributes));
            (p, *temporality, *is_monotonic)
        }
        other => panic!("{} is not a sum: {other:?}", m.name),
    }
}

fn gauge(m: &Metric) -> Vec<NumberDataPoint> {
    match &m.data {
        MetricData::Gauge(p) => p.clone(),
        other => panic!("not a gauge: {other:?}"),
    }
}

fn hist(m: &Metric) -> (Vec<HistogramDataPoint>, AggregationTemporality) {
    match &m.data {
        MetricData::Histogram {
            points,
            temporality,
        } => (points.clone(), *temporality),
        other => panic!("not a histogram: {other:?}"),
    }
}

fn expo(m: &Metric) -> ExponentialHistogramDataPoint {
    match &m.data {
        MetricData::ExponentialHistogram { points, .. } => {
            assert_eq!(points.len(), 1);
            points[0].clone()
        }
        other => panic!("not an exponential histogram: {other:?}"),
    }
}

fn int(p: &NumberDataPoint) -> i64 {
    match p.value {
        NumberValue::Int(i) => i,
        NumberValue::Double(d) => panic!("double {d}"),
    }
}

fn double(p: &NumberDataPoint) -> f64 {
    match p.value {
        NumberValue::Double(d) => d,
        NumberValue::Int(i) => panic!("int {i}"),
    }
}

fn kv(k: &'static str, v: &'static str) -> KeyValue {
    KeyValue::new(k, v)
}

#[test]
fn counters_sum_per_series() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("test");
    let c = meter
        .u64_counter("requests")
        .description("reqs")
        .unit("{request}")
        .build();
    c.add(1, &[kv("route", "/a")]);
    c.add(2, &[kv("route", "/a")]);
    c.add(10, &[kv("route", "/b")]);
    c.add(0, &[]);
    let f = meter.f64_counter("bytes").build();
    f.add(0.25, &[]);
    f.add(0.5, &[]);
    f.add(-1.0, &[]); // ignored
    f.add(f64::NAN, &[]); // ignored
    let now = SystemTime::now();
    let got = provider.collect(now);
    let m = find(&got, "requests");
    assert_eq!(
        (m.description.as_ref(), m.unit.as_ref()),
        ("reqs", "{request}")
    );
    let (points, t, mono) = sum(m);
    assert_eq!(t, AggregationTemporality::Cumulative);
    assert!(mono);
    assert_eq!(points.len(), 3);
    assert_eq!(points[0].attributes, vec![kv("route", "/a")]);
    assert_eq!(int(&points[0]), 3);
    assert_eq!(int(&points[1]), 10);
    assert!(points[2].attributes.is_empty());
    assert_eq!(int(&points[2]), 0);
    for p in &points {
        assert_eq!(p.time_unix_nano, nanos(now));
        assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano <= nanos(now));
    }
    let (fp, _, _) = sum(find(&got, "bytes"));
    assert_eq!(double(&fp[0]), 0.75);
    assert_eq!(provider.diagnostics().invalid_measurements, 2);
}

#[test]
fn up_down_counters_go_negative() {
    let provider = MeterProvider::new(TemporalityPreference::Delta);
    let meter = provider.meter("test");
    let i = meter.i64_up_down_counter("queue").build();
    i.add(5, &[]);
    i.add(-8, &[]);
    let f = meter.f64_up_down_counter("level").build();
    f.add(1.5, &[]);
    f.add(-4.0, &[]);
    let got = provider.collect(SystemTime::now());
    let (p, t, mono) = sum(find(&got, "queue"));
    // Up-down counters stay cumulative under the delta preference.
    assert_eq!(t, AggregationTemporality::Cumulative);
    assert!(!mono);
    assert_eq!(int(&p[0]), -3);
    let (p, _, _) = sum(find(&got, "level"));
    assert_eq!(double(&p[0]), -2.5);
}

#[test]
fn gauges_keep_the_last_value() {
    let provider = MeterProvider::new(TemporalityPreference::Delta);
    let meter = provider.meter("test");
    let g = meter.i64_gauge("temp").build();
    g.record(3, &[]);
    g.record(7, &[]);
    g.record(-2, &[]);
    let f = meter.f64_gauge("ratio").build();
    f.record(1.25, &[kv("k", "v")]);
    f.record(0.5, &[kv("k", "v")]);
    let now = SystemTime::now();
    let got = provider.collect(now);
    let p = gauge(find(&got, "temp"));
    assert_eq!(p.len(), 1);
    assert_eq!(int(&p[0]), -2);
    assert_eq!(p[0].start_time_unix_nano, 0);
    assert_eq!(p[0].time_unix_nano, nanos(now));
    assert_eq!(double(&gauge(find(&got, "ratio"))[0]), 0.5);
    // Reported again without new measurements.
    let again = provider.collect(now + Duration::from_secs(1));
    assert_eq!(int(&gauge(find(&again, "temp"))[0]), -2);
}

#[test]
fn histogram_buckets_are_upper_inclusive() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("test");
    let h = meter.f64_histogram("latency").unit("ms").build();
    for v in [0.0, 5.0, 5.5, 10.0, 7.0, 10000.0, 10001.0] {
        h.record(v, &[]);
    }
    h.record(-1.0, &[]); // ignored
    h.record(f64::INFINITY, &[]); // ignored
    let got = provider.collect(SystemTime::now());
    let (points, t) = hist(find(&got, "latency"));
    assert_eq!(t, AggregationTemporality::Cumulative);
    let p = &points[0];
    assert_eq!(p.explicit_bounds, DEFAULT_BOUNDARIES.to_vec());
    let mut expected = vec![0u64; 16];
    expected[0] = 1; // (-inf, 0]: 0
    expected[1] = 1; // (0, 5]: 5
    expected[2] = 3; // (5, 10]: 5.5, 10, 7
    expected[14] = 1; // (7500, 10000]: 10000
    expected[15] = 1; // (10000, +inf): 10001
    assert_eq!(p.bucket_counts, expected);
    assert_eq!(p.count, 7);
    assert_eq!(p.sum, Some(20028.5));
    assert_eq!(p.min, Some(0.0));
    assert_eq!(p.max, Some(10001.0));
    assert_eq!(provider.diagnostics().invalid_measurements, 2);

    let u = meter
        .u64_histogram("sizes")
        .boundaries(vec![1.0, 2.0])
        .build();
    for v in [1, 2, 3, 3] {
        u.record(v, &[]);
    }
    let got = provider.collect(SystemTime::now());
    let (points, _) = hist(find(&got, "sizes"));
    assert_eq!(points[0].explicit_bounds, vec![1.0, 2.0]);
    assert_eq!(points[0].bucket_counts, vec![1, 1, 2]);
    assert_eq!((points[0].count, points[0].sum), (4, Some(9.0)));
    assert_eq!((points[0].min, points[0].max), (Some(1.0), Some(3.0)));

    // Bad boundaries fall back to the defaults.
    let bad = meter
        .f64_histogram("bad")
        .boundaries(vec![5.0, 1.0])
        .build();
    bad.record(1.0, &[]);
    let got = provider.collect(SystemTime::now());
    assert_eq!(hist(find(&got, "bad")).0[0].explicit_bounds.len(), 15);
}

#[test]
fn exponential_histogram_scale_and_offset() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("test");

    // One value: the maximum scale. log2(3) * 2^20 = 1661953.64, so index 1661953.
    let one = meter.f64_exponential_histogram("one").build();
    one.record(3.0, &[]);
    // 1, 2, 4: at scale s the indices are -1, 2^s - 1, 2^(s+1) - 1, which fit in 160
    // buckets (2^(s+1) + 1 <= 160) for s <= 6: scale 6, offset -1, 129 buckets.
    let three = meter.f64_exponential_histogram("three").build();
    for v in [1.0, 2.0, 4.0] {
        three.record(v, &[]);
    }
    // 2^-10 and 2^10 (and a zero): indices -10*2^s - 1 and 10*2^s - 1 span 20*2^s + 1
    // buckets: scale 2 (81 buckets), offset -41.
    let wide = meter.f64_exponential_histogram("wide").build();
    for v in [2f64.powi(-10), 0.0, 2f64.powi(10)] {
        wide.record(v, &[]);
    }
    // 2^-100 and 2^100: at scale -1 the indices are (-101 >> 1) = -51 and (99 >> 1) = 49,
    // 101 buckets; at scale 0 they would need 201. Scale -1, offset -51.
    let huge = meter.f64_exponential_histogram("huge").build();
    huge.record(2f64.powi(100), &[]);
    huge.record(2f64.powi(-100), &[]);
    // A smaller max size: 1, 2, 4, 8 in 4 buckets. At scale 0 the indices are -1, 0, 1,
    // 2 (4 buckets); at scale 1 they are -1, 1, 3, 5 (7 buckets). Scale 0, offset -1.
    let small = meter.f64_exponential_histogram("small").max_size(4).build();
    for v in [8.0, 1.0, 2.0, 4.0] {
        small.record(v, &[]);
    }
    let got = provider.collect(SystemTime::now());

    let p = expo(find(&got, "one"));
    assert_eq!((p.scale, p.positive.offset), (20, 1661953));
    assert_eq!(p.positive.bucket_counts, vec![1]);
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (1, Some(3.0), Some(3.0), Some(3.0))
    );

    let p = expo(find(&got, "three"));
    assert_eq!((p.scale, p.positive.offset), (6, -1));
    let mut expected = vec![0u64; 129];
    expected[0] = 1;
    expected[64] = 1;
    expected[128] = 1;
    assert_eq!(p.positive.bucket_counts, expected);
    assert_eq!((p.count, p.sum, p.zero_count), (3, Some(7.0), 0));
    assert_eq!((p.min, p.max), (Some(1.0), Some(4.0)));
    assert!(p.negative.bucket_counts.is_empty());

    let p = expo(find(&got, "wide"));
    assert_eq!((p.scale, p.positive.offset), (2, -41));
    assert_eq!(p.positive.bucket_counts.len(), 81);
    assert_eq!(
        (p.positive.bucket_counts[0], p.positive.bucket_counts[80]),
        (1, 1)
    );
    assert_eq!(p.positive.bucket_counts.iter().sum::<u64>(), 2);
    assert_eq!((p.count, p.zero_count, p.min), (3, 1, Some(0.0)));

    let p = expo(find(&got, "huge"));
    assert_eq!((p.scale, p.positive.offset), (-1, -51));
    assert_eq!(p.positive.bucket_counts.len(), 101);
    assert_eq!(
        (p.positive.bucket_counts[0], p.positive.bucket_counts[100]),
        (1, 1)
    );

    let p = expo(find(&got, "small"));
    assert_eq!((p.scale, p.positive.offset), (0, -1));
    assert_eq!(p.positive.bucket_counts, vec![1, 1, 1, 1]);
}

#[test]
fn overflow_series_after_the_limit() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("test");
    let c = meter.u64_counter("hits").cardinality_limit(3).build();
    for k in ["a", "b", "c", "d", "e"] {
        c.add(1, &[kv("k", k)]);
    }
    c.add(1, &[kv("k", "a")]); // existing series: not overflow
    c.add(5, &[kv("k", "e")]); // still overflow
    let got = provider.collect(SystemTime::now());
    let (points, _, _) = sum(find(&got, "hits"));
    let values: Vec<(Vec<KeyValue>, i64)> = points
        .iter()
        .map(|p| (p.attributes.clone(), int(p)))
        .collect();
    assert_eq!(
        values,
        vec![
            (vec![kv("k", "a")], 2),
            (vec![kv("k", "b")], 1),
            (vec![kv("k", "c")], 1),
            (vec![KeyValue::new("otel.metric.overflow", true)], 7),
        ]
    );
    assert_eq!(provider.diagnostics().overflowed_measurements, 3);

    // The meter's limit applies to its instruments; the provider's by default.
    let limited = MeterProvider::with_cardinality_limit(TemporalityPreference::Cumulative, 1);
    let g = limited.meter("m").i64_gauge("g").build();
    g.record(1, &[kv("k", "a")]);
    g.record(2, &[kv("k", "b")]);
    let got = limited.collect(SystemTime::now());
    assert_eq!(gauge(find(&got, "g")).len(), 2);
    let m2 = limited.meter("m").with_cardinality_limit(2);
    let g2 = m2.i64_gauge("g2").build();
    for (i, k) in ["a", "b", "c"].into_iter().enumerate() {
        g2.record(i as i64, &[kv("k", k)]);
    }
    let got = limited.collect(SystemTime::now());
    let points = gauge(find(&got, "g2"));
    assert_eq!(points.len(), 3);
    let overflow = points
        .iter()
        .find(|p| p.attributes[0].key == "otel.metric.overflow")
        .unwrap();
    assert_eq!(overflow.attributes[0].value, AnyValue::Bool(true));
    assert_eq!(int(overflow), 2);
}

#[test]
fn attribute_order_does_not_matter() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let c = provider.meter("test").u64_counter("c").build();
    c.add(1, &[kv("a", "1"), kv("b", "2"), kv("c", "3")]);
    c.add(2, &[kv("c", "3"), kv("a", "1"), kv("b", "2")]);
    c.add(4, &[kv("b", "2"), kv("c", "3"), kv("a", "1")]);
    // A repeated key counts once, the last value winning.
    c.add(8, &[kv("a", "0"), kv("b", "2"), kv("c", "3"), kv("a", "1")]);
    let got = provider.collect(SystemTime::now());
    let (points, _, _) = sum(find(&got, "c"));
    assert_eq!(points.len(), 1);
    assert_eq!(int(&points[0]), 15);
    // Exported sorted by key.
    assert_eq!(
        points[0].attributes,
        vec![kv("a", "1"), kv("b", "2"), kv("c", "3")]
    );
}

/// One of each instrument kind, recorded before and between two collections.
struct Kinds {
    counter: otlp_sync::metrics::Counter<u64>,
    updown: otlp_sync::metrics::UpDownCounter<i64>,
    histogram: otlp_sync::metrics::Histogram<f64>,
    observed: Arc<AtomicU64>,
    observed_updown: Arc<AtomicI64>,
}

fn kinds(provider: &MeterProvider) -> Kinds {
    let meter = provider.meter("t");
    let observed = Arc::new(AtomicU64::new(0));
    let observed_updown = Arc::new(AtomicI64::new(0));
    let o = Arc::clone(&observed);
    let _ = meter
        .u64_observable_counter("obs_counter")
        .with_callback(move |obs| obs.observe(o.load(Ordering::SeqCst), &[]))
        .build();
    let o = Arc::clone(&observed_updown);
    let _ = meter
        .i64_observable_up_down_counter("obs_updown")
        .with_callback(move |obs| obs.observe(o.load(Ordering::SeqCst), &[]))
        .build();
    Kinds {
        counter: meter.u64_counter("counter").build(),
        updown: meter.i64_up_down_counter("updown").build(),
        histogram: meter.f64_histogram("histogram").build(),
        observed,
        observed_updown,
    }
}

struct Round {
    counter: (i64, u64, AggregationTemporality),
    idle_counter_exported: bool,
    updown: (i64, u64, AggregationTemporality),
    histogram: (u64, u64, AggregationTemporality),
    obs_counter: (i64, u64, AggregationTemporality),
    obs_updown: (i64, u64, AggregationTemporality),
}

/// Records, collects at t1, records more, collects at t2.
fn two_rounds(pref: TemporalityPreference) -> (u64, Round, u64, Round) {
    let provider = MeterProvider::new(pref);
    let k = kinds(&provider);
    k.counter.add(5, &[]);
    k.counter.add(1, &[kv("idle", "yes")]);
    k.updown.add(-2, &[]);
    k.histogram.record(1.0, &[]);
    k.histogram.record(2.0, &[]);
    k.observed.store(10, Ordering::SeqCst);
    k.observed_updown.store(-4, Ordering::SeqCst);
    let t1 = SystemTime::now() + Duration::from_secs(1);
    let r1 = round(&provider.collect(t1));
    k.counter.add(3, &[]);
    k.updown.add(7, &[]);
    k.histogram.record(3.0, &[]);
    k.observed.store(25, Ordering::SeqCst);
    k.observed_updown.store(6, Ordering::SeqCst);
    let t2 = t1 + Duration::from_secs(1);
    let r2 = round(&provider.collect(t2));
    (nanos(t1), r1, nanos(t2), r2)
}

fn round(got: &[(Arc<otlp_sync::model::InstrumentationScope>, Metric)]) -> Round {
    let one = |name: &str| {
        let (p, t, _) = sum(find(got, name));
        let p = p.iter().find(|p| p.attributes.is_empty()).unwrap().clone();
        (int(&p), p.start_time_unix_nano, t)
    };
    let (counter_points, _, _) = sum(find(got, "counter"));
    let (h, ht) = hist(find(got, "histogram"));
    Round {
        counter: one("counter"),
        idle_counter_exported: counter_points.iter().any(|p| !p.attributes.is_empty()),
        updown: one("updown"),
        histogram: (h[0].count, h[0].start_time_unix_nano, ht),
        obs_counter: one("obs_counter"),
        obs_updown: one("obs_updown"),
    }
}

#[test]
fn cumulative_preference_across_two_collections() {
    use AggregationTemporality::Cumulative as C;
    let (t1, r1, _, r2) = two_rounds(TemporalityPreference::Cumulative);
    assert_eq!((r1.counter.0, r2.counter.0), (5, 8));
    assert_eq!((r1.counter.2, r2.counter.2), (C, C));
    // Same start both times, at or before the first collection.
    assert_eq!(r1.counter.1, r2.counter.1);
    assert!(r1.counter.1 < t1);
    assert!(r2.idle_counter_exported);
    assert_eq!((r1.updown.0, r2.updown.0), (-2, 5));
    assert_eq!(r1.updown.1, r2.updown.1);
    assert_eq!((r1.histogram.0, r2.histogram.0, r2.histogram.2), (2, 3, C));
    assert_eq!(r1.histogram.1, r2.histogram.1);
    assert_eq!(
        (r1.obs_counter.0, r2.obs_counter.0, r2.obs_counter.2),
        (10, 25, C)
    );
    // Observable: the start is the instrument's creation, kept while observed.
    assert_eq!(r1.obs_counter.1, r2.obs_counter.1);
    assert_eq!(
        (r1.obs_updown.0, r2.obs_updown.0, r2.obs_updown.2),
        (-4, 6, C)
    );
}

#[test]
fn delta_preference_across_two_collections() {
    use AggregationTemporality::{Cumulative as C, Delta as D};
    let (t1, r1, _, r2) = two_rounds(TemporalityPreference::Delta);
    assert_eq!((r1.counter.0, r2.counter.0), (5, 3));
    assert_eq!((r1.counter.2, r2.counter.2), (D, D));
    // The first delta starts at the instrument's creation, the next at the previous
    // collection.
    assert!(r1.counter.1 < t1);
    assert_eq!(r2.counter.1, t1);
    // A series with no new measurements is not exported.
    assert!(r1.idle_counter_exported);
    assert!(!r2.idle_counter_exported);
    // Up-down counters stay cumulative.
    assert_eq!((r1.updown.0, r2.updown.0, r2.updown.2), (-2, 5, C));
    assert_eq!(r1.updown.1, r2.updown.1);
    assert_eq!((r1.histogram.0, r2.histogram.0, r2.histogram.2), (2, 1, D));
    assert_eq!(r2.histogram.1, t1);
    // Observable counters: differences.
    assert_eq!(
        (r1.obs_counter.0, r2.obs_counter.0, r2.obs_counter.2),
        (10, 15, D)
    );
    assert!(r1.obs_counter.1 < t1);
    assert_eq!(r2.obs_counter.1, t1);
    assert_eq!(
        (r1.obs_updown.0, r2.obs_updown.0, r2.obs_updown.2),
        (-4, 6, C)
    );
}

#[test]
fn low_memory_preference_across_two_collections() {
    use AggregationTemporality::{Cumulative as C, Delta as D};
    let (t1, r1, _, r2) = two_rounds(TemporalityPreference::LowMemory);
    assert_eq!((r1.counter.0, r2.counter.0, r2.counter.2), (5, 3, D));
    assert_eq!(r2.counter.1, t1);
    assert!(!r2.idle_counter_exported);
    assert_eq!((r1.updown.0, r2.updown.0, r2.updown.2), (-2, 5, C));
    assert_eq!((r1.histogram.0, r2.histogram.0, r2.histogram.2), (2, 1, D));
    // Observable counters stay cumulative under low memory.
    assert_eq!(
        (r1.obs_counter.0, r2.obs_counter.0, r2.obs_counter.2),
        (10, 25, C)
    );
    assert_eq!(r1.obs_counter.1, r2.obs_counter.1);
    assert_eq!(
        (r1.obs_updown.0, r2.obs_updown.0, r2.obs_updown.2),
        (-4, 6, C)
    );
}

#[test]
fn delta_collection_loses_no_concurrent_increment() {
    const THREADS: u64 = 4;
    const ADDS: u64 = 100_000;
    let provider = MeterProvider::new(TemporalityPreference::Delta);
    let meter = provider.meter("t");
    let c = meter.u64_counter("c").build();
    let f = meter.f64_counter("f").build();
    let h = meter.u64_histogram("h").build();
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for t in 0..THREADS {
        let (c, f, h, done) = (c.clone(), f.clone(), h.clone(), Arc::clone(&done));
        handles.push(std::thread::spawn(move || {
            let attrs = [
                kv("thread", ["0", "1", "2", "3"][t as usize % 4]),
                kv("x", "y"),
            ];
            for i in 0..ADDS {
                // Alternate between a shared series and the thread's own.
                if i % 2 == 0 {
                    c.add(1, &attrs);
                } else {
                    c.add(1, &[kv("x", "y")]);
                }
                f.add(0.5, &[]);
                h.record(i % 7, &[]);
            }
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let (mut total, mut total_f, mut total_h, mut collections) = (0i64, 0f64, 0u64, 0);
    let mut take = |got: Vec<(Arc<otlp_sync::model::InstrumentationScope>, Metric)>| {
        collections += 1;
        if has(&got, "c") {
            let (p, t, _) = sum(find(&got, "c"));
            assert_eq!(t, AggregationTemporality::Delta);
            total += p.iter().map(int).sum::<i64>();
        }
        if has(&got, "f") {
            total_f += sum(find(&got, "f")).0.iter().map(double).sum::<f64>();
        }
        if has(&got, "h") {
            total_h += hist(find(&got, "h")).0.iter().map(|p| p.count).sum::<u64>();
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < THREADS && std::time::Instant::now() < deadline {
        take(provider.collect(SystemTime::now()));
    }
    for h in handles {
        h.join().unwrap();
    }
    take(provider.collect(SystemTime::now()));
    assert!(collections > 2, "collected while recording");
    assert_eq!(total, (THREADS * ADDS) as i64);
    assert_eq!(total_f, (THREADS * ADDS) as f64 * 0.5);
    assert_eq!(total_h, THREADS * ADDS);
}

#[test]
fn invalid_names_give_noop_instruments() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("t");
    let bad = meter.u64_counter("1starts.with.digit").build();
    assert!(bad.is_noop());
    bad.add(1, &[]);
    let too_long = meter.f64_histogram("a".repeat(256)).build();
    assert!(too_long.is_noop());
    let obs = meter
        .i64_observable_gauge("has space")
        .with_callback(|o| o.observe(1, &[]))
        .build();
    assert!(obs.is_noop());
    let ok = meter.u64_counter("ok.name/with-chars_1").build();
    assert!(!ok.is_noop());
    assert!(provider.collect(SystemTime::now()).is_empty());
    assert_eq!(provider.diagnostics().invalid_instruments, 3);
}

#[test]
fn identical_instruments_share_their_series() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let a = provider.meter("t").u64_counter("hits").build();
    let b = provider.meter("t").u64_counter("HITS").build();
    a.add(1, &[]);
    b.add(2, &[]);
    // Another kind under the same name: a second metric, and a warning.
    let c = provider.meter("t").f64_counter("hits").build();
    c.add(0.5, &[]);
    // ... and that one is found again too.
    let d = provider.meter("t").f64_counter("hits").build();
    d.add(0.25, &[]);
    let got = provider.collect(SystemTime::now());
    assert_eq!(got.len(), 2);
    assert_eq!(int(&sum(&got[0].1).0[0]), 3);
    assert_eq!(double(&sum(&got[1].1).0[0]), 0.75);
    assert_eq!(provider.diagnostics().duplicate_instruments, 1);
    // Other meters are other namespaces, and share scopes by value.
    assert!(Arc::ptr_eq(&got[0].0, &got[1].0));
    assert_eq!(got[0].0.name, "t");
}

#[test]
fn observable_callbacks_only_report_what_they_observe() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let meter = provider.meter("t");
    let round = Arc::new(AtomicU64::new(0));
    let r = Arc::clone(&round);
    let _g = meter
        .f64_observable_gauge("g")
        .with_callback(move |o| {
            o.observe(1.5, &[kv("always", "x")]);
            if r.load(Ordering::SeqCst) == 0 {
                o.observe(2.5, &[kv("first", "only")]);
            }
            o.observe(3.0, &[kv("always", "x")]); // last wins
        })
        .with_callback(|_| panic!("a broken callback"))
        .with_callback(|o| o.observe(9.0, &[kv("third", "cb")]))
        .build();
    let got = provider.collect(SystemTime::now());
    let mut p = gauge(find(&got, "g"));
    p.sort_by_key(|p| format!("{:?}", p.attributes));
    assert_eq!(p.len(), 3);
    assert_eq!(
        (double(&p[0]), double(&p[1]), double(&p[2])),
        (3.0, 2.5, 9.0)
    );
    round.store(1, Ordering::SeqCst);
    let got = provider.collect(SystemTime::now());
    assert_eq!(gauge(find(&got, "g")).len(), 2);
    assert_eq!(provider.diagnostics().callback_panics, 2);
}

#[test]
fn observable_overflow_keeps_the_first_observed() {
    let provider = MeterProvider::new(TemporalityPreference::Cumulative);
    let _c = provider
        .meter("t")
        .u64_observable_counter("c")
        .cardinality_limit(2)
        .with_callback(|o| {
            for (k, v) in [("a", 1), ("b", 2), ("c", 4), ("d", 8), ("c", 16)] {
                o.observe(v, &[kv("k", k)]);
            }
        })
        .build();
    let got = provider.collect(SystemTime::now());
    let (p, _, mono) = sum(find(&got, "c"));
    assert!(mono);
    let values: Vec<(String, i64)> = p
        .iter()
        .map(|p| (p.attributes[0].key.to_string(), int(p)))
        .collect();
    // a and b keep their series; c (last value 16) and d (8) overflow: 24.
    assert_eq!(values.len(), 3);
    assert_eq!(int(&p[0]), 1);
    assert_eq!(int(&p[1]), 2);
    assert_eq!(values[2], ("otel.metric.overflow".to_string(), 24));
}

#[test]
fn delta_exponential_histogram_starts_over() {
    let provider = MeterProvider::new(TemporalityPreference::Delta);
    let h = provider.meter("t").f64_exponential_histogram("e").build();
    h.record(1.0, &[]);
    h.record(1024.0, &[]);
    let first = expo(find(&provider.collect(SystemTime::now()), "e"));
    assert!(first.scale < 20);
    h.record(1.0, &[]);
    let second = expo(find(&provider.collect(SystemTime::now()), "e"));
    assert_eq!(
        (second.scale, second.positive.offset, second.count),
        (20, -1, 1)
    );
}
