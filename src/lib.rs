//! # otlp-sync
//!
//! A synchronous OpenTelemetry exporter: OTLP traces, metrics and logs from plain threads,
//! with no async runtime anywhere in the library.
//!
//! This crate is being built in layers (see `DESIGN.md` in the repository):
//!
//! * [`model`]: the OTLP data model as plain Rust values (no I/O, `no_std` + `alloc`).
//! * [`encode`]: model to bytes, OTLP protobuf and OTLP/JSON (feature `json`), written
//!   straight into a caller-owned buffer; decoding of export responses.
//! * [`compress`]: request body compression (gzip and zlib "deflate": feature `gzip`;
//!   zstd: feature `zstd`).
//! * `logs`: the `Logger` API; `resource`: the exported resource (configured, SDK and
//!   detected attributes); `bridge::log` (feature `log`): the `log` crate bridge;
//!   `bridge::tracing` (feature `tracing`): the `tracing` layer.
//!
//! Cargo features: `std`, `http`, `tls`, `gzip`, `zstd` and `json` are on by default (see
//! `Cargo.toml`); `diagnostics`, `log` and `tracing` are opt-in. The smallest plain-HTTP
//! protobuf exporter is `default-features = false, features = ["http"]`.
//!
//! With default features off the crate is `#![no_std]` and needs only `alloc`.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(any(feature = "log", feature = "tracing"))]
pub mod bridge;
#[cfg(feature = "std")]
mod clock;
pub mod compress;
#[cfg(feature = "std")]
#[macro_use]
mod diag;
#[cfg(feature = "std")]
pub mod config;
pub mod encode;
#[cfg(feature = "http")]
pub mod exporter;
#[cfg(feature = "std")]
pub mod logs;
#[cfg(feature = "std")]
pub mod metrics;
pub mod model;
#[cfg(feature = "std")]
pub mod pipeline;
#[cfg(feature = "std")]
pub mod propagation;
#[doc(hidden)]
pub mod proto;
#[cfg(feature = "std")]
pub mod resource;
#[cfg(feature = "std")]
pub mod retry;
#[cfg(feature = "std")]
mod scratch;
#[cfg(feature = "std")]
pub mod trace;
#[cfg(feature = "std")]
pub mod transport;
