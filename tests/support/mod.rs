//! Shared support for the integration tests (and the encode benchmark).
//!
//! Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod oracle;
