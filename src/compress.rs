//! Request body compression: none, gzip, deflate (zlib-wrapped) and zstd.
//!
//! [`Compression`] names the codec (and its `Content-Encoding`); a [`Compressor`] holds the
//! codec state and is reused for every request body, appending the compressed bytes to a
//! caller-owned buffer:
//!
//! ```
//! # #[cfg(feature = "gzip")] {
//! use otlp_sync::compress::{Compression, Compressor};
//!
//! let mut gzip = Compressor::new(Compression::Gzip, None);
//! let mut out = Vec::new();
//! gzip.compress(b"hello hello hello hello", &mut out).unwrap();
//! assert_eq!(&out[..3], &[0x1f, 0x8b, 8]); // gzip magic, CM = deflate
//! # }
//! ```
//!
//! # Codecs
//!
//! All codecs are pure Rust and work without `std` (only `alloc`). Each is behind a cargo
//! feature, both on by default: `gzip` (gzip and deflate) and `zstd`. With a feature off
//! its [`Compression`] variants do not exist, and naming the codec in an
//! `OTEL_EXPORTER_OTLP_*COMPRESSION` variable fails `ConfigBuilder::build` with an error
//! that names the feature (never a silent fallback to no compression).
//!
//! * **gzip** (RFC 1952): a 10-byte header, a raw deflate stream from `miniz_oxide`, then
//!   the CRC-32 (`crc32fast`) and the input length mod 2³² (ISIZE). `miniz_oxide` only
//!   writes raw deflate and zlib streams, so the gzip framing is ours.
//! * **deflate**: a zlib (RFC 1950) stream from `miniz_oxide`, which is what
//!   `Content-Encoding: deflate` means to the OpenTelemetry Collector and to the Python
//!   exporter (not a raw deflate stream).
//! * **zstd** (RFC 8878): `ruzstd`, whose encoder only implements its "Fastest" level
//!   (roughly C zstd level 1 in format choices). Every level given for zstd is therefore
//!   mapped to Fastest; the other `ruzstd` levels panic with `unimplemented!()` in
//!   `ruzstd` 0.9 and are never requested. The frames carry no content checksum.
//!   `ruzstd` Fastest is 7-14x slower than C zstd level 1, about 4x slower than gzip
//!   level 1, and on OTLP bodies compresses *worse* than gzip level 1: prefer gzip unless
//!   the receiver wants zstd.
//!
//! # Levels
//!
//! For gzip and deflate the level is the usual zlib scale: 0 = stored (no compression),
//! 1 = fastest, 9 = smallest; `miniz_oxide` also has a slower level 10, and anything larger
//! is treated as 10. `None` means [`DEFAULT_LEVEL`] (1). The level is ignored for zstd (see
//! above) and for [`Compression::None`].
//!
//! Why 1 is the default: on a realistic 512-span OTLP trace request (186 KB of protobuf,
//! `benches/compress.rs`), level 1 took about 0.9 ms and made the body 5.8x smaller;
//! level 6 took about 5x as long (4.8 ms) for a body 18% smaller (ratio 7.1), and level 9
//! about 20x as long (19 ms) for no further gain. The exporter compresses on its one
//! export thread, so level 1 buys most of the bytes for the least time.
//!
//! | codec (186 KB OTLP body) | median time | bytes  | ratio |
//! |--------------------------|-------------|--------|-------|
//! | none                     | 0.01 ms     | 185848 | 1.00  |
//! | gzip 1 (default)         | 0.87 ms     | 31929  | 5.82  |
//! | gzip 6                   | 4.8 ms      | 26230  | 7.09  |
//! | gzip 9                   | 19 ms       | 26248  | 7.08  |
//! | deflate (zlib) 1         | 1.0-1.2 ms  | 31917  | 5.82  |
//! | zstd (`ruzstd` Fastest)  | 3.9 ms      | 34924  | 5.32  |
//! | C zstd 1 (reference)     | 0.28 ms     | 24129  | 7.70  |
//!
//! (One run on a shared 2-core machine under load; times vary by about 30%.)

#[cfg(any(feature = "gzip", feature = "zstd"))]
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

#[cfg(feature = "gzip")]
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output, create_comp_flags_from_zip_params,
};
#[cfg(feature = "zstd")]
use ruzstd::encoding::{CompressionLevel as ZstdLevel, FrameCompressor, MatchGeneratorDriver};

/// The level used for gzip and deflate when none is given: 1, the fastest real compression.
///
/// Level 1 is the best speed/size point of the pure-Rust deflate encoder on OTLP bodies:
/// level 6 costs about 5x the CPU for a body 18% smaller, level 9 about 20x. See the
/// [module docs](self) for the measurements.
///
/// ```
/// assert_eq!(otlp_sync::compress::DEFAULT_LEVEL, 1);
/// ```
pub const DEFAULT_LEVEL: u8 = 1;

/// The largest gzip/deflate level; larger values are treated as this.
const MAX_DEFLATE_LEVEL: u8 = 10;

/// A request body compression, named by its `Content-Encoding`.
///
/// `Gzip` and `Deflate` exist with the cargo feature `gzip`, `Zstd` with `zstd` (both on
/// by default). The enum is `#[non_exhaustive]` so that turning a feature on elsewhere in
/// the dependency graph never breaks a `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression (no `Content-Encoding` header).
    #[default]
    None,
    /// gzip (RFC 1952), `Content-Encoding: gzip`. Cargo feature `gzip`.
    #[cfg(feature = "gzip")]
    Gzip,
    /// A zlib (RFC 1950) stream, `Content-Encoding: deflate`, as the Collector and the
    /// Python exporter send and read it. Cargo feature `gzip`.
    #[cfg(feature = "gzip")]
    Deflate,
    /// zstd, `Content-Encoding: zstd`. Cargo feature `zstd`.
    #[cfg(feature = "zstd")]
    Zstd,
}

/// Every codec name [`Compression::parse`] knows, with the codec, or the cargo feature
/// that compiles it in when this build leaves it out.
const CODECS: [(&str, Result<Compression, &str>); 4] = [
    ("none", Ok(Compression::None)),
    #[cfg(feature = "gzip")]
    ("gzip", Ok(Compression::Gzip)),
    #[cfg(not(feature = "gzip"))]
    ("gzip", Err("gzip")),
    #[cfg(feature = "gzip")]
    ("deflate", Ok(Compression::Deflate)),
    #[cfg(not(feature = "gzip"))]
    ("deflate", Err("gzip")),
    #[cfg(feature = "zstd")]
    ("zstd", Ok(Compression::Zstd)),
    #[cfg(not(feature = "zstd"))]
    ("zstd", Err("zstd")),
];

impl Compression {
    /// The `Content-Encoding` header value, or `None` for no compression.
    ///
    /// ```
    /// use otlp_sync::compress::Compression;
    /// # #[cfg(feature = "gzip")]
    /// assert_eq!(Compression::Gzip.content_encoding(), Some("gzip"));
    /// assert_eq!(Compression::None.content_encoding(), None);
    /// ```
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            #[cfg(feature = "gzip")]
            Compression::Gzip => Some("gzip"),
            #[cfg(feature = "gzip")]
            Compression::Deflate => Some("deflate"),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Some("zstd"),
        }
    }

    /// Parses a configuration value such as `OTEL_EXPORTER_OTLP_COMPRESSION`: `"none"`,
    /// `"gzip"`, `"deflate"` or `"zstd"`, ignoring ASCII case and surrounding whitespace.
    ///
    /// Only these four names are accepted, so a parsed value is exactly the
    /// `Content-Encoding` that goes on the wire. In particular `"zlib"` is rejected: the
    /// zlib stream is sent as `deflate`, and accepting a second name for it would hide a
    /// typo-like mismatch between the configuration and the header. An empty string is
    /// rejected too (it is not `"none"`), and so is a codec whose cargo feature is off in
    /// this build.
    ///
    /// ```
    /// use otlp_sync::compress::Compression;
    /// # #[cfg(feature = "gzip")]
    /// assert_eq!(Compression::parse("GZip"), Some(Compression::Gzip));
    /// assert_eq!(Compression::parse(" none "), Some(Compression::None));
    /// assert_eq!(Compression::parse("zlib"), None);
    /// assert_eq!(Compression::parse(""), None);
    /// ```
    pub fn parse(s: &str) -> Option<Compression> {
        Compression::lookup(s).ok()
    }

    /// Like [`parse`](Self::parse), telling the two failures apart:
    /// `Err(Some((name, feature)))` for a codec this build leaves out (its lower-case name
    /// and the cargo feature that adds it), `Err(None)` for a name that is no codec at all.
    pub(crate) fn lookup(s: &str) -> Result<Compression, Option<(&'static str, &'static str)>> {
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        match CODECS
            .into_iter()
            .find(|(name, _)| s.eq_ignore_ascii_case(name))
        {
            Some((_, Ok(c))) => Ok(c),
            Some((name, Err(feature))) => Err(Some((name, feature))),
            None => Err(None),
        }
    }

    /// The lower-case configuration name: `none`, `gzip`, `deflate` or `zstd`.
    fn name(self) -> &'static str {
        self.content_encoding().unwrap_or("none")
    }
}

/// Compression failed.
///
/// The codecs compress into a growable buffer and cannot run out of room, so this only
/// reports an unexpected status from the deflate encoder; it is not expected in practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompressError {
    compression: Compression,
}

impl fmt::Display for CompressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} compression failed: the encoder reported an error",
            self.compression.name()
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CompressError {}

/// Compresses request bodies with one codec and level, reusing its state between bodies.
///
/// Create one per export thread and call [`compress`](Compressor::compress) for every
/// body: the deflate state and the zstd match buffers are kept and reset, not reallocated.
///
/// ```
/// # #[cfg(feature = "gzip")] {
/// use otlp_sync::compress::{Compression, Compressor};
///
/// let mut c = Compressor::new(Compression::Deflate, Some(6));
/// assert_eq!(c.compression(), Compression::Deflate);
/// let mut out = vec![0xAA]; // compress appends
/// c.compress(&[7; 1000], &mut out).unwrap();
/// assert_eq!(out[0], 0xAA);
/// assert_eq!(out[1], 0x78); // zlib header: deflate, 32 KiB window
/// assert!(out.len() < 100);
/// # }
/// ```
pub struct Compressor {
    compression: Compression,
    /// The effective level (clamped); meaningful for gzip and deflate only.
    level: u8,
    state: State,
}

enum State {
    None,
    /// Raw deflate (gzip) or zlib (deflate), depending on the flags it was made with.
    #[cfg(feature = "gzip")]
    Deflate(Box<CompressorOxide>),
    #[cfg(feature = "zstd")]
    Zstd(Box<ZstdState>),
}

/// The `ruzstd` frame compressor with owned source and drain, so that it (and its match
/// buffers) can live across calls.
#[cfg(feature = "zstd")]
type ZstdState = FrameCompressor<Source, Vec<u8>, MatchGeneratorDriver>;

impl fmt::Debug for Compressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compressor")
            .field("compression", &self.compression)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl Compressor {
    /// A compressor for `compression` at `level` (`None` = [`DEFAULT_LEVEL`]).
    ///
    /// For gzip and deflate, levels above 10 are treated as 10. For zstd every level
    /// (including `None`) means `ruzstd`'s only implemented level, Fastest. The level is
    /// ignored for [`Compression::None`]. The deflate state (a few hundred KB) is allocated
    /// here; zstd allocates its match buffers on the first body and keeps them.
    pub fn new(compression: Compression, level: Option<u8>) -> Self {
        let level = level.unwrap_or(DEFAULT_LEVEL).min(MAX_DEFLATE_LEVEL);
        let state = match compression {
            Compression::None => State::None,
            #[cfg(feature = "gzip")]
            Compression::Gzip => State::Deflate(Box::new(CompressorOxide::new(
                create_comp_flags_from_zip_params(i32::from(level), -15, 0),
            ))),
            #[cfg(feature = "gzip")]
            Compression::Deflate => State::Deflate(Box::new(CompressorOxide::new(
                create_comp_flags_from_zip_params(i32::from(level), 15, 0),
            ))),
            #[cfg(feature = "zstd")]
            Compression::Zstd => {
                let mut frame = FrameCompressor::new(zstd_level(level));
                frame.set_source(Source::default());
                State::Zstd(Box::new(frame))
            }
        };
        Compressor {
            compression,
            level,
            state,
        }
    }

    /// The codec this compressor writes.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Compresses `input` as one complete body and **appends** it to `out` (existing bytes
    /// are kept). [`Compression::None`] appends `input` unchanged.
    ///
    /// Any input is accepted, including an empty one (which still produces a complete,
    /// valid gzip, zlib or zstd stream). On error `out` may hold a partial body after its
    /// original contents.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CompressError> {
        match &mut self.state {
            State::None => {
                out.extend_from_slice(input);
                Ok(())
            }
            #[cfg(feature = "gzip")]
            State::Deflate(deflate) => {
                let error = CompressError {
                    compression: self.compression,
                };
                if self.compression == Compression::Gzip {
                    out.extend_from_slice(&gzip_header(self.level));
                    deflate_into(deflate, input, out).map_err(|()| error)?;
                    out.extend_from_slice(&crc32fast::hash(input).to_le_bytes());
                    // ISIZE is the input length modulo 2^32 (RFC 1952, 2.3.1): truncation
                    // is the specified behaviour.
                    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
                    Ok(())
                } else {
                    deflate_into(deflate, input, out).map_err(|()| error)
                }
            }
            #[cfg(feature = "zstd")]
            State::Zstd(frame) => {
                zstd_into(frame, input, out);
                Ok(())
            }
        }
    }
}

/// The gzip member header: magic, CM = 8 (deflate), no flags, MTIME = 0 (none), XFL for
/// the level (4 = fastest, 2 = slowest), OS = 255 (unknown).
#[cfg(feature = "gzip")]
fn gzip_header(level: u8) -> [u8; 10] {
    let xfl = match level {
        1 => 4,
        9.. => 2,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
}

/// Runs one complete deflate (raw or zlib, per the compressor's flags) over `input`,
/// appending the output to `out`. The compressor is reset first, so earlier calls (even
/// failed ones) do not matter.
#[cfg(feature = "gzip")]
fn deflate_into(
    deflate: &mut CompressorOxide,
    mut input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ()> {
    deflate.reset();
    // OTLP bodies usually shrink 3-6x; this avoids most regrowth without overcommitting.
    out.reserve(input.len() / 4 + 64);
    // With an output callback that always accepts, one call with `Finish` consumes all
    // input and returns Done. Keep going only while input is being consumed, so a
    // surprising encoder state can never loop forever.
    loop {
        let (status, consumed) = compress_to_output(deflate, input, TDEFLFlush::Finish, |buf| {
            out.extend_from_slice(buf);
            true
        });
        match status {
            TDEFLStatus::Done => return Ok(()),
            TDEFLStatus::Okay if consumed > 0 && consumed <= input.len() => {
                input = input.get(consumed..).unwrap_or_default();
            }
            _ => return Err(()),
        }
    }
}

/// The `ruzstd` level for a requested zstd level: always Fastest, whatever is asked.
///
/// `ruzstd` 0.9 implements only `Uncompressed` and `Fastest`; `Default`, `Better` and
/// `Best` panic with `unimplemented!()`. This function is the only place a `ruzstd` level
/// is chosen, and its unit test pins that it is Fastest for every input.
#[cfg(feature = "zstd")]
fn zstd_level(_requested: u8) -> ZstdLevel {
    ZstdLevel::Fastest
}

/// Writes one zstd frame of `input` after the existing contents of `out`.
#[cfg(feature = "zstd")]
fn zstd_into(frame: &mut ZstdState, input: &[u8], out: &mut Vec<u8>) {
    // Lend the caller's buffer to the frame compressor as its drain (it only appends),
    // and copy the input into the reusable owned source.
    let mut source = frame.take_source().unwrap_or_default();
    source.reset(input);
    frame.set_source(source);
    frame.set_drain(core::mem::take(out));
    // Pin the level on every call too: nothing else may ever reach ruzstd.
    frame.set_compression_level(zstd_level(0));
    frame.compress();
    if let Some(drain) = frame.take_drain() {
        *out = drain;
    }
    // Keep the source buffer's allocation but not the body.
    if let Some(source) = frame.source_mut() {
        source.reset(&[]);
    }
}

/// An owned, reusable copy of the input for `ruzstd` (whose compressor must own its
/// source to be stored between calls).
#[cfg(feature = "zstd")]
#[derive(Default)]
struct Source {
    data: Vec<u8>,
    pos: usize,
}

#[cfg(feature = "zstd")]
impl Source {
    fn reset(&mut self, input: &[u8]) {
        self.data.clear();
        self.data.extend_from_slice(input);
        self.pos = 0;
    }
}

#[cfg(feature = "zstd")]
impl ruzstd::io::Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ruzstd::io::Error> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos = self.pos.saturating_add(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "zstd")]
    #[test]
    fn every_zstd_level_maps_to_fastest() {
        for level in 0..=u8::MAX {
            assert!(
                matches!(zstd_level(level), ZstdLevel::Fastest),
                "level {level}"
            );
        }
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn levels_are_clamped() {
        assert_eq!(
            Compressor::new(Compression::Gzip, None).level,
            DEFAULT_LEVEL
        );
        assert_eq!(Compressor::new(Compression::Gzip, Some(200)).level, 10);
        assert_eq!(Compressor::new(Compression::Deflate, Some(0)).level, 0);
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn gzip_xfl_follows_level() {
        assert_eq!(gzip_header(1)[8], 4);
        assert_eq!(gzip_header(6)[8], 0);
        assert_eq!(gzip_header(9)[8], 2);
        assert_eq!(gzip_header(10)[8], 2);
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn source_reads_in_pieces() {
        use ruzstd::io::Read;
        let mut s = Source::default();
        s.reset(b"abcde");
        let mut buf = [0; 2];
        assert_eq!(s.read(&mut buf).ok(), Some(2));
        assert_eq!(&buf, b"ab");
        assert_eq!(s.read(&mut buf).ok(), Some(2));
        assert_eq!(s.read(&mut buf).ok(), Some(1));
        assert_eq!(buf[0], b'e');
        assert_eq!(s.read(&mut buf).ok(), Some(0));
    }

    #[test]
    fn parse_names() {
        for (name, c) in CODECS {
            match c {
                Ok(c) => {
                    assert_eq!(c.name(), name);
                    assert_eq!(Compression::parse(name), Some(c));
                    assert_eq!(Compression::parse(&name.to_ascii_uppercase()), Some(c));
                }
                Err(feature) => {
                    assert_eq!(Compression::parse(name), None, "{name}");
                    assert_eq!(
                        Compression::lookup(name),
                        Err(Some((name, feature))),
                        "{name}"
                    );
                }
            }
        }
        #[cfg(feature = "zstd")]
        assert_eq!(Compression::parse("\tzstd\n"), Some(Compression::Zstd));
        assert_eq!(
            Compression::lookup(" Zstd "),
            CODECS[3].1.map_err(|f| Some(("zstd", f)))
        );
        assert_eq!(Compression::lookup("zlib"), Err(None));
        for bad in ["", "zlib", "gz", "br", "x-gzip", "gzip,deflate", "no ne"] {
            assert_eq!(Compression::parse(bad), None, "{bad:?}");
        }
    }
}
