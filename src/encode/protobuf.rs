//! OTLP protobuf encoding (being written).
//!
//! STUB for pipeline development: replaced at merge. Only the signatures the pipeline uses
//! are here; the bodies are placeholders, not OTLP.

use crate::model::{LogRecord, Metric, MetricData, ResourceGroup, Span};
use alloc::vec::Vec;

/// STUB for pipeline development: replaced at merge. Rough size estimate of a span.
pub fn span_encoded_len(span: &Span) -> usize {
    64 + span.name.len() + attrs_len(&span.attributes)
}

/// STUB for pipeline development: replaced at merge. Rough size estimate of a log record.
pub fn log_encoded_len(log: &LogRecord) -> usize {
    64 + attrs_len(&log.attributes)
        + match &log.body {
            crate::model::AnyValue::Str(s) => s.len(),
            _ => 8,
        }
}

/// STUB for pipeline development: replaced at merge. Rough size estimate of a metric.
pub fn metric_encoded_len(metric: &Metric) -> usize {
    let points = match &metric.data {
        MetricData::Gauge(p) => p.len(),
        _ => metric.data.point_count(),
    };
    64 + metric.name.len() + 32 * points
}

fn attrs_len(attrs: &crate::model::Attributes) -> usize {
    attrs
        .iter()
        .map(|kv| {
            kv.key.len()
                + 8
                + match &kv.value {
                    crate::model::AnyValue::Str(s) => s.len(),
                    _ => 8,
                }
        })
        .sum()
}

/// STUB for pipeline development: replaced at merge.
#[derive(Debug, Default)]
pub struct ProtoEncoder {}

impl ProtoEncoder {
    /// STUB for pipeline development: replaced at merge.
    pub fn new() -> Self {
        ProtoEncoder {}
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_traces(&mut self, groups: &[ResourceGroup<'_, Span>], out: &mut Vec<u8>) {
        placeholder(groups.iter().map(|g| g.record_count()).sum(), out);
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_logs(&mut self, groups: &[ResourceGroup<'_, LogRecord>], out: &mut Vec<u8>) {
        placeholder(groups.iter().map(|g| g.record_count()).sum(), out);
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_metrics(&mut self, groups: &[ResourceGroup<'_, Metric>], out: &mut Vec<u8>) {
        placeholder(groups.iter().map(|g| g.record_count()).sum(), out);
    }
}

fn placeholder(records: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&(records as u64).to_le_bytes());
}
