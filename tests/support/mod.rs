//! Shared test support: the fake collector and the independent-decoder oracle.
#![allow(dead_code)]

pub mod collector;
pub mod oracle;
