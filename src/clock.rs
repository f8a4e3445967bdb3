//! Wall-clock timestamps as OTLP carries them: nanoseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch of `t`: 0 before the epoch, `u64::MAX` past the year
/// 2554. In 64-bit arithmetic (no 128-bit product): it runs three times per span.
#[inline]
pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d
            .as_secs()
            .checked_mul(1_000_000_000)
            .and_then(|n| n.checked_add(u64::from(d.subsec_nanos())))
            .unwrap_or(u64::MAX),
        Err(_) => 0,
    }
}

/// Now, in nanoseconds since the Unix epoch ([`unix_nanos`] of the wall clock).
#[inline]
pub(crate) fn unix_nanos_now() -> u64 {
    unix_nanos(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn matches_the_128_bit_conversion_and_saturates_at_both_ends() {
        for d in [
            Duration::ZERO,
            Duration::new(1, 999_999_999),
            Duration::new(1_764_000_000, 123_456_789),
            Duration::new(u64::MAX / 1_000_000_000, 0),
        ] {
            let t = UNIX_EPOCH + d;
            let wide = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            assert_eq!(unix_nanos(t), wide, "{d:?}");
        }
        let past_2554 = UNIX_EPOCH + Duration::new(u64::MAX / 1_000_000_000, 999_999_999);
        assert_eq!(unix_nanos(past_2554), u64::MAX);
        assert_eq!(unix_nanos(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert!(unix_nanos_now() > 1_577_836_800_000_000_000);
    }
}
