//! Model to bytes: OTLP protobuf and OTLP/JSON request bodies, and decoding of the
//! receiver's responses.
//!
//! Encoders write straight from [`crate::model`] values into a caller-owned `Vec<u8>` that
//! the caller reuses between batches; they build no intermediate message tree.

pub mod json;
pub mod protobuf;
pub mod response;

/// The body encoding of an OTLP/HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Binary protobuf, `application/x-protobuf` (the default).
    #[default]
    Protobuf,
    /// OTLP/JSON, `application/json`.
    Json,
}

impl Encoding {
    /// The exact `Content-Type` the OTLP specification names for this encoding.
    ///
    /// ```
    /// use otlp_sync::encode::Encoding;
    /// assert_eq!(Encoding::Protobuf.content_type(), "application/x-protobuf");
    /// assert_eq!(Encoding::Json.content_type(), "application/json");
    /// ```
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}
