//! Bridges from other logging facades into [`crate::logs`].
//!
//! * [`log`] (feature `log`): [`log::OtlpLogger`], a [`::log::Log`] implementation.
//! * [`tracing`] (feature `tracing`): [`tracing::OtlpLayer`], a `tracing-subscriber` layer.

#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "tracing")]
pub mod tracing;
