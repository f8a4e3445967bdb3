//! The pipeline's metrics hook against a mock transport: periodic collection, collection
//! at flush and at shutdown, stats, and a real `MeterProvider` through the worker. Every
//! wait is bounded.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use otlp_sync::config::TemporalityPreference;
use otlp_sync::metrics::MeterProvider;
use otlp_sync::model::{
    InstrumentationScope, KeyValue, Metric, MetricData, NumberDataPoint, NumberValue, Resource,
    Signal,
};
use otlp_sync::pipeline::{MetricProducer, Pipeline, PipelineConfig};
use otlp_sync::transport::{Request, Response, Transport, TransportError};
use prost::Message;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

const HOUR: Duration = Duration::from_secs(3600);
const WAIT: Duration = Duration::from_secs(10);

/// Accepts everything, keeping each metrics request decoded.
#[derive(Clone, Default)]
struct Mock(Arc<Mutex<Vec<ExportMetricsServiceRequest>>>);

impl Mock {
    fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.0.lock().unwrap().clone()
    }

    fn metric_names(&self) -> Vec<String> {
        self.requests()
            .iter()
            .flat_map(|r| &r.resource_metrics)
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.name.clone())
            .collect()
    }
}

impl Transport for Mock {
    fn send(&mut self, request: &Request<'_>) -> Result<Response, TransportError> {
        assert_eq!(request.signal, Signal::Metrics);
        let decoded = ExportMetricsServiceRequest::decode(request.body).expect("valid protobuf");
        self.0.lock().unwrap().push(decoded);
        Ok(Response {
            status: 200,
            ..Default::default()
        })
    }
}

/// Produces one gauge per call, named after the call number.
struct Counting(Arc<AtomicU64>);

impl MetricProducer for Counting {
    fn produce(&mut self, now: SystemTime, out: &mut Vec<(Arc<InstrumentationScope>, Metric)>) {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        let time = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        out.push((
            Arc::new(InstrumentationScope::new("producer")),
            Metric {
                name: format!("call{n}").into(),
                description: "".into(),
                unit: "".into(),
                data: MetricData::Gauge(vec![NumberDataPoint {
                    time_unix_nano: time,
                    value: NumberValue::Int(n as i64),
                    ..Default::default()
                }]),
                metadata: Vec::new(),
            },
        ));
    }
}

/// A config whose metrics batches would wait an hour on their own.
fn config() -> PipelineConfig {
    let mut c = PipelineConfig::default();
    c.metrics.schedule_delay = HOUR;
    c
}

fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    f()
}

#[test]
fn collects_every_interval_and_exports_at_once() {
    let mock = Mock::default();
    let calls = Arc::new(AtomicU64::new(0));
    let pipeline = Pipeline::start_with_metrics(
        config(),
        Resource::default(),
        Box::new(mock.clone()),
        Box::new(Counting(Arc::clone(&calls))),
        Duration::from_millis(40),
    )
    .unwrap();
    // Not before the first interval.
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Each collection leaves at once, although the metrics schedule delay is an hour.
    assert!(
        wait_until(|| mock.requests().len() >= 3),
        "three periodic exports"
    );
    let names = mock.metric_names();
    assert_eq!(&names[..3], &["call0", "call1", "call2"]);
    let stats = pipeline.stats();
    assert!(stats.metrics.offered >= 3);
    pipeline.shutdown(WAIT).unwrap();
    // Shutdown collected once more; everything offered was exported.
    let stats = pipeline.stats();
    let produced = calls.load(Ordering::SeqCst);
    assert_eq!(stats.metrics.offered, produced);
    assert_eq!(stats.metrics.exported, produced);
    assert_eq!(mock.metric_names().len() as u64, produced);
}

#[test]
fn flush_and_shutdown_collect_once_more() {
    let mock = Mock::default();
    let calls = Arc::new(AtomicU64::new(0));
    let pipeline = Pipeline::start_with_metrics(
        config(),
        Resource::default(),
        Box::new(mock.clone()),
        Box::new(Counting(Arc::clone(&calls))),
        HOUR,
    )
    .unwrap();
    // A sent metric travels with the collected ones.
    let scope = Arc::new(InstrumentationScope::new("sent"));
    let sent = Metric {
        name: "sent".into(),
        description: "".into(),
        unit: "".into(),
        data: MetricData::Gauge(vec![NumberDataPoint::default()]),
        metadata: Vec::new(),
    };
    pipeline.sender().send_metric(&scope, sent).unwrap();
    pipeline.flush(WAIT).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let stats = pipeline.stats();
    assert_eq!((stats.metrics.offered, stats.metrics.exported), (2, 2));
    let mut names = mock.metric_names();
    names.sort();
    assert_eq!(names, ["call0", "sent"]);
    pipeline.flush(WAIT).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    pipeline.shutdown(WAIT).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let stats = pipeline.stats();
    assert_eq!((stats.metrics.offered, stats.metrics.exported), (4, 4));
    assert_eq!(mock.metric_names().len(), 4);
}

#[test]
fn plain_start_has_no_producer() {
    let mock = Mock::default();
    let pipeline = Pipeline::start(config(), Resource::default(), Box::new(mock.clone())).unwrap();
    pipeline.flush(WAIT).unwrap();
    pipeline.shutdown(WAIT).unwrap();
    assert_eq!(pipeline.stats().metrics.offered, 0);
    assert!(mock.requests().is_empty());
}

#[test]
fn meter_provider_through_the_worker() {
    let mock = Mock::default();
    let provider = MeterProvider::new(TemporalityPreference::Delta);
    let pipeline = Pipeline::start_with_metrics(
        config(),
        Resource::default(),
        Box::new(mock.clone()),
        Box::new(provider.clone()),
        HOUR,
    )
    .unwrap();
    let counter = provider.meter("svc").u64_counter("jobs").build();
    counter.add(4, &[KeyValue::new("queue", "a")]);
    counter.add(6, &[KeyValue::new("queue", "a")]);
    pipeline.flush(WAIT).unwrap();
    counter.add(1, &[KeyValue::new("queue", "a")]);
    pipeline.shutdown(WAIT).unwrap();
    let values: Vec<(String, i64, i32)> = mock
        .requests()
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| {
            assert_eq!(sm.scope.as_ref().unwrap().name, "svc");
            &sm.metrics
        })
        .map(|m| match &m.data {
            Some(Data::Sum(s)) => {
                let v = match s.data_points[0].value {
                    Some(Value::AsInt(i)) => i,
                    ref other => panic!("{other:?}"),
                };
                (m.name.clone(), v, s.aggregation_temporality)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    // Delta (1): 10 at the flush, 1 at shutdown.
    assert_eq!(
        values,
        vec![("jobs".to_string(), 10, 1), ("jobs".to_string(), 1, 1)]
    );
    assert_eq!(provider.diagnostics().collections, 2);
}
