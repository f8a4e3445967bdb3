//! Model to bytes: OTLP protobuf and OTLP/JSON request bodies, and decoding of the
//! receiver's responses. OTLP/JSON (encoding requests, decoding responses) is behind the
//! cargo feature `json`, on by default.
//!
//! Encoders write straight from [`crate::model`] values into a caller-owned `Vec<u8>` that
//! the caller reuses between batches; they build no intermediate message tree.
//!
//! Both encoders cut `AnyValue` nesting at [`MAX_ANY_VALUE_DEPTH`]: an array or key-value
//! list nested deeper is written as an empty `AnyValue`, so the two encodings of one batch
//! carry the same data and no input can exhaust the encoder's stack.

#[cfg(feature = "json")]
pub mod json;
pub mod protobuf;
pub mod response;

/// How deeply `AnyValue` arrays and key-value lists may nest. The outermost value (an
/// attribute's value, a log body) is depth 1; an array or key-value list at a depth above
/// this limit is encoded as an empty `AnyValue` (`{}` in JSON, a zero-length message in
/// protobuf) in its place, and its contents are not written. Leaf values are never cut.
///
/// Both encoders and the `*_encoded_len` functions apply the same cut.
///
/// ```
/// # #[cfg(feature = "json")] {
/// use otlp_sync::encode::MAX_ANY_VALUE_DEPTH;
/// use otlp_sync::encode::json::JsonEncoder;
/// use otlp_sync::model::{AnyValue, LogRecord, ResourceGroup, ScopeGroup};
/// use otlp_sync::model::{InstrumentationScope, Resource};
///
/// // 17 nested arrays around a string: the 17th array becomes `{}`.
/// let mut body = AnyValue::from("deep");
/// for _ in 0..MAX_ANY_VALUE_DEPTH + 1 {
///     body = AnyValue::Array(vec![body]);
/// }
/// let logs = [LogRecord { body, ..Default::default() }];
/// let (resource, scope) = (Resource::default(), InstrumentationScope::default());
/// let scopes = [ScopeGroup { scope: &scope, records: &logs }];
/// let groups = [ResourceGroup { resource: &resource, scopes: &scopes }];
/// let mut out = Vec::new();
/// JsonEncoder::new().encode_logs(&groups, &mut out);
/// let json = String::from_utf8(out).unwrap();
/// assert_eq!(json.matches("arrayValue").count(), MAX_ANY_VALUE_DEPTH);
/// assert!(!json.contains("deep"));
/// # }
/// ```
pub const MAX_ANY_VALUE_DEPTH: usize = 16;

/// The body encoding of an OTLP/HTTP request.
///
/// `Json` exists with the cargo feature `json` (on by default). The enum is
/// `#[non_exhaustive]` so that turning the feature on elsewhere in the dependency graph
/// never breaks a `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// Binary protobuf, `application/x-protobuf` (the default).
    #[default]
    Protobuf,
    /// OTLP/JSON, `application/json`. Cargo feature `json`.
    #[cfg(feature = "json")]
    Json,
}

impl Encoding {
    /// The exact `Content-Type` the OTLP specification names for this encoding.
    ///
    /// ```
    /// use otlp_sync::encode::Encoding;
    /// assert_eq!(Encoding::Protobuf.content_type(), "application/x-protobuf");
    /// # #[cfg(feature = "json")]
    /// assert_eq!(Encoding::Json.content_type(), "application/json");
    /// ```
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            #[cfg(feature = "json")]
            Encoding::Json => "application/json",
        }
    }
}
