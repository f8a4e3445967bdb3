//! Proof that `otlp-sync` with default features off (plus the codec features `gzip`,
//! `zstd` and `json`, which need no `std`) is `no_std` + `alloc`.
//!
//! This crate is `#![no_std]` and defines the `#[panic_handler]` itself. If `std` were
//! linked anywhere in the dependency graph, it would bring its own panic handler and the
//! build would fail with "duplicate lang item `panic_impl`". The functions below use items
//! from `model`, `encode` and `compress` so that they are really compiled and linked.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

use otlp_sync::compress::{Compression, Compressor};
use otlp_sync::encode::Encoding;
use otlp_sync::model::{KeyValue, Signal, Span, SpanId, TraceId};

/// Builds a span, and compresses some bytes with every codec; returns the total size.
pub fn exercise(body: &[u8]) -> usize {
    let mut span = Span::new(
        "no-std",
        TraceId::from_bytes([1; 16]),
        SpanId::from_bytes([2; 8]),
    );
    span.attributes.push(KeyValue::new("k", 1));
    let mut total = span.attributes.len()
        + Signal::Traces.http_path().len()
        + Encoding::Protobuf.content_type().len();
    let mut out = Vec::new();
    for compression in [
        Compression::None,
        Compression::Gzip,
        Compression::Deflate,
        Compression::Zstd,
    ] {
        let mut compressor = Compressor::new(compression, None);
        out.clear();
        if compressor.compress(body, &mut out).is_ok() {
            total += out.len();
        }
        if Compression::parse(compression.content_encoding().unwrap_or("none")).is_some() {
            total += 1;
        }
    }
    total
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
