//! Bridges from other logging facades into [`crate::logs`].
//!
//! * [`log`] (feature `log`): [`log::OtlpLogger`], a [`::log::Log`] implementation.

#[cfg(feature = "log")]
pub mod log;
