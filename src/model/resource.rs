//! Resource, instrumentation scope, and the grouping views the encoders take.

use super::value::{Attributes, Str};
use alloc::borrow::Cow;

/// The entity producing telemetry (a service, a process, a host).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// Attributes such as `service.name`.
    pub attributes: Attributes,
    /// How many attributes were dropped before export.
    pub dropped_attributes_count: u32,
    /// Schema URL of the resource's attributes (written on `Resource{Spans,Logs,Metrics}`);
    /// empty when none.
    pub schema_url: Str,
}

impl Resource {
    /// A resource with the given attributes and no schema URL.
    pub fn new(attributes: Attributes) -> Self {
        Resource {
            attributes,
            dropped_attributes_count: 0,
            schema_url: Cow::Borrowed(""),
        }
    }
}

/// The library or module that produced records (a tracer's, logger's or meter's name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstrumentationScope {
    /// Scope name, e.g. a crate or module path. May be empty.
    pub name: Str,
    /// Scope version; empty when unknown.
    pub version: Str,
    /// Scope attributes.
    pub attributes: Attributes,
    /// How many scope attributes were dropped.
    pub dropped_attributes_count: u32,
    /// Schema URL of the records' attributes (written on `Scope{Spans,Logs,Metrics}`);
    /// empty when none.
    pub schema_url: Str,
}

impl InstrumentationScope {
    /// A scope with only a name.
    pub fn new(name: impl Into<Str>) -> Self {
        InstrumentationScope {
            name: name.into(),
            ..Default::default()
        }
    }
}

/// Records of one signal that share one instrumentation scope.
#[derive(Debug, Clone, Copy)]
pub struct ScopeGroup<'a, T> {
    /// The scope all `records` belong to.
    pub scope: &'a InstrumentationScope,
    /// The records, in order.
    pub records: &'a [T],
}

/// Scope groups that share one resource: one `Resource{Spans,Logs,Metrics}` on the wire.
#[derive(Debug, Clone, Copy)]
pub struct ResourceGroup<'a, T> {
    /// The resource.
    pub resource: &'a Resource,
    /// The scope groups, in order.
    pub scopes: &'a [ScopeGroup<'a, T>],
}

impl<T> ResourceGroup<'_, T> {
    /// Total records across all scope groups.
    pub fn record_count(&self) -> usize {
        self.scopes.iter().map(|s| s.records.len()).sum()
    }
}
