//! `OtlpLogger::install` sets the global `log` logger (a test binary of its own: the
//! global logger can be set once per process).
#![cfg(all(feature = "log", feature = "http"))]

mod support;

use log::LevelFilter;
use opentelemetry_proto::tonic::common::v1::any_value;
use otlp_sync::bridge::log::OtlpLogger;
use otlp_sync::config::Config;
use otlp_sync::exporter::Exporter;
use otlp_sync::logs::Logger;
use std::time::Duration;
use support::collector::{Collector, Decoded};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn install_sets_the_global_logger_and_its_level_once() {
    let c = Collector::start();
    let config = Config::builder()
        .endpoint(c.url(""))
        .service_name("install-test")
        .build()
        .unwrap();
    let e = Exporter::new(config).unwrap();
    OtlpLogger::new(e.logger("installed"))
        .max_level(LevelFilter::Warn)
        .install()
        .unwrap();
    assert_eq!(log::max_level(), LevelFilter::Warn);
    assert!(
        OtlpLogger::new(Logger::noop()).install().is_err(),
        "only once"
    );

    log::warn!("kept {}", 1);
    log::info!("below the max level");
    log::error!(target: "otlp_sync::pipeline", "own diagnostics never loop");
    e.flush(WAIT).unwrap();

    let bodies: Vec<String> = c
        .requests()
        .into_iter()
        .filter_map(|r| match r.decoded {
            Some(Decoded::Logs(req)) => Some(req),
            _ => None,
        })
        .flat_map(|req| req.resource_logs)
        .flat_map(|rl| rl.scope_logs)
        .flat_map(|sl| sl.log_records)
        .filter_map(|r| match r.body.and_then(|b| b.value) {
            Some(any_value::Value::StringValue(s)) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, ["kept 1"]);
    e.shutdown(WAIT).unwrap();
}
