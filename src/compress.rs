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

// STUB for pipeline development: replaced at merge (everything below this line).

/// STUB for pipeline development: replaced at merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressError;

impl core::fmt::Display for CompressError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("compression failed")
    }
}

/// STUB for pipeline development: replaced at merge. Copies its input.
#[derive(Debug)]
pub struct Compressor {
    compression: Compression,
}

impl Compressor {
    /// STUB for pipeline development: replaced at merge.
    pub fn new(compression: Compression, level: Option<u8>) -> Self {
        let _ = level;
        Compressor { compression }
    }

    /// STUB for pipeline development: replaced at merge. Appends `input` unchanged.
    pub fn compress(
        &mut self,
        input: &[u8],
        out: &mut alloc::vec::Vec<u8>,
    ) -> Result<(), CompressError> {
        let _ = self.compression;
        out.extend_from_slice(input);
        Ok(())
    }
}
