//! Request body compression: none, gzip, deflate (zlib-wrapped) and zstd.
//!
//! (Codecs being written; the enum below is the settled interface.)

/// A request body compression, named by its `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (no `Content-Encoding` header).
    #[default]
    None,
    /// gzip (RFC 1952), `Content-Encoding: gzip`.
    Gzip,
    /// A zlib (RFC 1950) stream, `Content-Encoding: deflate`, as the Collector and the
    /// Python exporter send and read it.
    Deflate,
    /// zstd, `Content-Encoding: zstd`.
    Zstd,
}

impl Compression {
    /// The `Content-Encoding` header value, or `None` for no compression.
    ///
    /// ```
    /// use otlp_sync::compress::Compression;
    /// assert_eq!(Compression::Gzip.content_encoding(), Some("gzip"));
    /// assert_eq!(Compression::None.content_encoding(), None);
    /// ```
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Deflate => Some("deflate"),
            Compression::Zstd => Some("zstd"),
        }
    }
}
