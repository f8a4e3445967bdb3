//! OTLP/JSON encoding (being written).
//!
//! STUB for pipeline development: replaced at merge. Only the signatures the pipeline uses
//! are here; the bodies are placeholders, not OTLP/JSON.

use crate::model::{LogRecord, Metric, ResourceGroup, Span};
use alloc::vec::Vec;

/// STUB for pipeline development: replaced at merge.
#[derive(Debug, Default)]
pub struct JsonEncoder {}

impl JsonEncoder {
    /// STUB for pipeline development: replaced at merge.
    pub fn new() -> Self {
        JsonEncoder {}
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_traces(&mut self, groups: &[ResourceGroup<'_, Span>], out: &mut Vec<u8>) {
        let _ = groups;
        out.extend_from_slice(b"{}");
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_logs(&mut self, groups: &[ResourceGroup<'_, LogRecord>], out: &mut Vec<u8>) {
        let _ = groups;
        out.extend_from_slice(b"{}");
    }

    /// STUB for pipeline development: replaced at merge. Appends a placeholder.
    pub fn encode_metrics(&mut self, groups: &[ResourceGroup<'_, Metric>], out: &mut Vec<u8>) {
        let _ = groups;
        out.extend_from_slice(b"{}");
    }
}
