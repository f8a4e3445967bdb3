//! The crate's own diagnostics: forwarded to the `log` facade when the `diagnostics`
//! feature is on, compiled to nothing otherwise. The library never prints.
//!
//! Every message goes to the log target `otlp_sync`, so a `log` bridge can filter them out
//! and they never loop back into the exporter. Each call site is rate-limited: at most
//! one message per `INTERVAL` (10 s) per site, so a dead collector cannot flood the log.

#[cfg(feature = "diagnostics")]
use std::sync::OnceLock;
#[cfg(feature = "diagnostics")]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "diagnostics")]
use std::time::Instant;

/// The shortest time between two messages from one call site.
#[cfg(feature = "diagnostics")]
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The log target of every diagnostic message.
#[cfg(feature = "diagnostics")]
pub const TARGET: &str = "otlp_sync";

/// Whether a call site whose last emission time is in `last` may emit now; updates it.
///
/// `last` holds milliseconds since the first diagnostic plus one; zero means "never".
#[cfg(feature = "diagnostics")]
pub fn allow(last: &AtomicU64) -> bool {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    let now = u64::try_from(start.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    allow_at(last, now)
}

/// [`allow`] with the clock passed in (milliseconds, never zero), for tests.
#[cfg(feature = "diagnostics")]
pub fn allow_at(last: &AtomicU64, now_ms: u64) -> bool {
    let prev = last.load(Ordering::Relaxed);
    let interval = u64::try_from(INTERVAL.as_millis()).unwrap_or(u64::MAX);
    if prev != 0 && now_ms.saturating_sub(prev) < interval {
        return false;
    }
    last.compare_exchange(prev, now_ms, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

/// Emits a rate-limited diagnostic at the given `log` level, e.g.
/// `diag!(Warn, "dropped {n} spans")`.
macro_rules! diag {
    ($level:ident, $($arg:tt)+) => {{
        #[cfg(feature = "diagnostics")]
        {
            static LAST: ::std::sync::atomic::AtomicU64 = ::std::sync::atomic::AtomicU64::new(0);
            if ::log::log_enabled!(target: $crate::diag::TARGET, ::log::Level::$level)
                && $crate::diag::allow(&LAST)
            {
                ::log::log!(target: $crate::diag::TARGET, ::log::Level::$level, $($arg)+);
            }
        }
        #[cfg(not(feature = "diagnostics"))]
        {
            let _ = format_args!($($arg)+);
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use diag;

#[cfg(all(test, feature = "diagnostics"))]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_interval_per_site() {
        let last = AtomicU64::new(0);
        assert!(allow_at(&last, 1));
        assert!(!allow_at(&last, 2));
        assert!(!allow_at(&last, 1 + 9_999));
        assert!(allow_at(&last, 1 + 10_000));
        assert!(!allow_at(&last, 1 + 10_001));
    }
}
