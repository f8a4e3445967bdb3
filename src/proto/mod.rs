//! Generated protobuf types for the OTLP v1 schema (opentelemetry-proto v1.11.0).
//!
//! The `*.rs` files beside this one are generated from `proto/` by `tools/protogen`
//! (`cargo run -p protogen`); do not edit them by hand. A test in
//! `tools/protogen/tests/up_to_date.rs` fails when they drift from `proto/`.
//!
//! The module tree mirrors the protobuf packages with the `opentelemetry.proto` prefix
//! dropped, so prost's relative `super::super::...` paths resolve. Used for decoding
//! export responses and for tests; not part of the public API.
#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    rustdoc::all,
    unreachable_pub
)]

/// `opentelemetry.proto.common.v1`.
#[rustfmt::skip]
pub mod common {
    /// Version 1.
    pub mod v1 {
        include!("opentelemetry.proto.common.v1.rs");
    }
}

/// `opentelemetry.proto.resource.v1`.
#[rustfmt::skip]
pub mod resource {
    /// Version 1.
    pub mod v1 {
        include!("opentelemetry.proto.resource.v1.rs");
    }
}

/// `opentelemetry.proto.trace.v1`.
#[rustfmt::skip]
pub mod trace {
    /// Version 1.
    pub mod v1 {
        include!("opentelemetry.proto.trace.v1.rs");
    }
}

/// `opentelemetry.proto.logs.v1`.
#[rustfmt::skip]
pub mod logs {
    /// Version 1.
    pub mod v1 {
        include!("opentelemetry.proto.logs.v1.rs");
    }
}

/// `opentelemetry.proto.metrics.v1`.
#[rustfmt::skip]
pub mod metrics {
    /// Version 1.
    pub mod v1 {
        include!("opentelemetry.proto.metrics.v1.rs");
    }
}

/// `opentelemetry.proto.collector.*`: export requests and responses.
#[rustfmt::skip]
pub mod collector {
    /// `opentelemetry.proto.collector.trace`.
    pub mod trace {
        /// Version 1.
        pub mod v1 {
            include!("opentelemetry.proto.collector.trace.v1.rs");
        }
    }

    /// `opentelemetry.proto.collector.logs`.
    pub mod logs {
        /// Version 1.
        pub mod v1 {
            include!("opentelemetry.proto.collector.logs.v1.rs");
        }
    }

    /// `opentelemetry.proto.collector.metrics`.
    pub mod metrics {
        /// Version 1.
        pub mod v1 {
            include!("opentelemetry.proto.collector.metrics.v1.rs");
        }
    }
}

/// `google.*` packages OTLP depends on.
#[rustfmt::skip]
pub mod google {
    /// `google.rpc`: the `Status` error body.
    pub mod rpc {
        include!("google.rpc.rs");
    }

    /// `google.protobuf`: `Any`, generated here so no prost-types is needed.
    pub mod protobuf {
        include!("google.protobuf.rs");
    }
}

#[cfg(test)]
mod tests {
    use super::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
    use prost::Message;

    #[test]
    fn partial_success_response_round_trips() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "too old".into(),
            }),
        };
        let bytes = response.encode_to_vec();
        // Field 1 (message), then inside it field 1 varint 3 and field 2 string.
        assert_eq!(bytes[0], 0x0a);
        let decoded = ExportTraceServiceResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded, response);
        let partial = decoded.partial_success.unwrap();
        assert_eq!(partial.rejected_spans, 3);
        assert_eq!(partial.error_message, "too old");
    }

    #[test]
    fn status_with_details_round_trips() {
        use super::google::{protobuf::Any, rpc::Status};
        let status = Status {
            code: 8,
            message: "slow down".into(),
            details: alloc::vec![Any {
                type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
                value: alloc::vec![1, 2, 3],
            }],
        };
        let decoded = Status::decode(status.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, status);
    }
}
