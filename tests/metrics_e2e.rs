//! End to end: instruments from `Exporter::meter`, over HTTP to the fake collector,
//! decoded there with the official `opentelemetry-proto` types.

mod support;

use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::metrics::v1::{Metric, ResourceMetrics};
use otlp_sync::config::{Config, TemporalityPreference};
use otlp_sync::exporter::Exporter;
use otlp_sync::model::{KeyValue, Signal};
use std::time::Duration;
use support::collector::{Collector, Decoded};

const WAIT: Duration = Duration::from_secs(10);

fn metrics(collector: &Collector) -> Vec<ResourceMetrics> {
    collector
        .requests()
        .into_iter()
        .filter_map(|r| match r.decoded {
            Some(Decoded::Metrics(m)) => Some(m.resource_metrics),
            _ => None,
        })
        .flatten()
        .collect()
}

fn find<'a>(rms: &'a [ResourceMetrics], name: &str) -> Vec<&'a Metric> {
    rms.iter()
        .flat_map(|rm| &rm.scope_metrics)
        .filter(|sm| sm.scope.as_ref().is_some_and(|s| s.name == "e2e"))
        .flat_map(|sm| &sm.metrics)
        .filter(|m| m.name == name)
        .collect()
}

fn exporter(collector: &Collector, pref: TemporalityPreference, interval: Duration) -> Exporter {
    let config = Config::builder()
        .endpoint(collector.url(""))
        .service_name("metrics-e2e")
        .temporality_preference(pref)
        .schedule_delay(Signal::Metrics, interval)
        .build()
        .unwrap();
    Exporter::new(config).unwrap()
}

#[test]
fn counter_and_histogram_arrive_on_flush() {
    let collector = Collector::start();
    let exporter = exporter(
        &collector,
        TemporalityPreference::Cumulative,
        Duration::from_secs(3600),
    );
    let meter = exporter.meter("e2e");
    let requests = meter
        .u64_counter("http.server.requests")
        .description("Requests served")
        .unit("{request}")
        .build();
    let latency = meter
        .f64_histogram("http.server.duration")
        .unit("ms")
        .boundaries(vec![10.0, 100.0])
        .build();
    requests.add(
        3,
        &[KeyValue::new("method", "GET"), KeyValue::new("status", 200)],
    );
    requests.add(
        4,
        &[KeyValue::new("status", 200), KeyValue::new("method", "GET")],
    );
    for v in [5.0, 10.0, 50.0, 500.0] {
        latency.record(v, &[]);
    }
    exporter.flush(WAIT).unwrap();
    assert!(collector.wait_for_requests(1, WAIT));
    let rms = metrics(&collector);
    let service = rms[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_ref()?.value.clone());
    assert_eq!(
        service,
        Some(any_value::Value::StringValue("metrics-e2e".into()))
    );

    let counter = find(&rms, "http.server.requests");
    assert_eq!(counter.len(), 1);
    assert_eq!(counter[0].description, "Requests served");
    assert_eq!(counter[0].unit, "{request}");
    let Some(Data::Sum(sum)) = &counter[0].data else {
        panic!("{:?}", counter[0].data)
    };
    assert!(sum.is_monotonic);
    assert_eq!(sum.aggregation_temporality, 2); // cumulative
    assert_eq!(sum.data_points.len(), 1);
    let p = &sum.data_points[0];
    assert_eq!(p.value, Some(Value::AsInt(7)));
    let keys: Vec<&str> = p.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["method", "status"]);
    assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano <= p.time_unix_nano);

    let histogram = find(&rms, "http.server.duration");
    let Some(Data::Histogram(h)) = &histogram[0].data else {
        panic!("{:?}", histogram[0].data)
    };
    assert_eq!(h.aggregation_temporality, 2);
    let p = &h.data_points[0];
    assert_eq!(p.explicit_bounds, vec![10.0, 100.0]);
    assert_eq!(p.bucket_counts, vec![2, 1, 1]);
    assert_eq!(p.count, 4);
    assert_eq!(p.sum, Some(565.0));
    assert_eq!((p.min, p.max), (Some(5.0), Some(500.0)));

    exporter.shutdown(WAIT).unwrap();
    let stats = exporter.stats();
    assert_eq!(stats.metrics.offered, stats.metrics.exported);
}

#[test]
fn delta_counter_exported_every_interval() {
    let collector = Collector::start();
    let exporter = exporter(
        &collector,
        TemporalityPreference::Delta,
        Duration::from_millis(50),
    );
    let c = exporter.meter("e2e").u64_counter("ticks").build();
    c.add(2, &[]);
    // Wait for a periodic export carrying it.
    let end = std::time::Instant::now() + WAIT;
    while find(&metrics(&collector), "ticks").is_empty() && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    c.add(5, &[]);
    exporter.shutdown(WAIT).unwrap();
    let rms = metrics(&collector);
    let total: i64 = find(&rms, "ticks")
        .iter()
        .map(|m| match &m.data {
            Some(Data::Sum(s)) => {
                assert_eq!(s.aggregation_temporality, 1); // delta
                s.data_points
                    .iter()
                    .map(|p| match p.value {
                        Some(Value::AsInt(i)) => i,
                        _ => panic!(),
                    })
                    .sum::<i64>()
            }
            other => panic!("{other:?}"),
        })
        .sum();
    assert!(find(&rms, "ticks").len() >= 2);
    assert_eq!(total, 7);
}
