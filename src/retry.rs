//! Retry policy: what an export outcome means, how long to wait before the next attempt.
//!
//! Everything here is pure: no threads, no sleeping, no clock reads. The current wall time
//! (for an HTTP-date `Retry-After`) and the time left in the export deadline come in as
//! arguments, so the policy is tested without waiting.
//!
//! * [`classify`] turns a transport outcome into a [`Disposition`], following the OTLP/HTTP
//!   specification: 2xx is success; 429, 502, 503 and 504 are retried; every other status is
//!   dropped at once; connection failures, timeouts and resets are retried; TLS, malformed
//!   responses and configuration errors are not.
//! * [`parse_retry_after`] reads a `Retry-After` header (delta-seconds or an IMF-fixdate
//!   HTTP-date), capped at [`MAX_RETRY_AFTER`].
//! * [`RetryPolicy`] is the plain-data configuration; [`Backoff`] computes exponential waits
//!   with jitter and gives up when attempts run out or a wait would overrun the deadline.
//!
//! ```
//! use otlp_sync::retry::{Backoff, NextAttempt, RetryPolicy};
//! use std::time::Duration;
//!
//! let mut backoff = Backoff::new(RetryPolicy::default(), 7);
//! // The server asked for 2 s and 10 s are left: wait exactly what it asked.
//! let next = backoff.next_wait(1, Some(Duration::from_secs(2)), Duration::from_secs(10));
//! assert_eq!(next, NextAttempt::After(Duration::from_secs(2)));
//! // A wait that does not fit in the time left is not taken.
//! let next = backoff.next_wait(1, Some(Duration::from_secs(2)), Duration::from_secs(1));
//! assert_eq!(next, NextAttempt::GiveUp);
//! ```

use crate::transport::{Response, TransportError, TransportErrorKind};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest server-imposed wait honoured (`Retry-After` values above it are cut to it).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What to do with a batch after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delivered (HTTP 2xx). A partial success is judged by the caller from the body.
    Success,
    /// A transient failure: try again.
    Retry {
        /// The wait the server imposed (`Retry-After`, capped at [`MAX_RETRY_AFTER`]),
        /// or `None` to use the exponential backoff.
        after: Option<Duration>,
    },
    /// A permanent failure: drop the batch now, never retry.
    Drop(DropReason),
}

/// Why a batch is dropped without retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The receiver answered with a non-retryable status (400, 401, 403, 404, 408, 413,
    /// 500, ...).
    Status(u16),
    /// The attempt failed in a way retrying cannot fix (TLS, malformed response, bad
    /// configuration).
    Transport(TransportErrorKind),
}

/// Classifies one attempt's outcome. `now` is the current wall time, used only to turn an
/// HTTP-date `Retry-After` into a wait.
///
/// ```
/// use otlp_sync::retry::{classify, Disposition, DropReason};
/// use otlp_sync::transport::Response;
/// use std::time::{Duration, SystemTime};
///
/// let throttled = Response {
///     status: 429,
///     retry_after: Some("3".into()),
///     ..Default::default()
/// };
/// let now = SystemTime::now();
/// assert_eq!(
///     classify(&Ok(throttled), now),
///     Disposition::Retry { after: Some(Duration::from_secs(3)) }
/// );
/// let bad = Response { status: 400, ..Default::default() };
/// assert_eq!(classify(&Ok(bad), now), Disposition::Drop(DropReason::Status(400)));
/// ```
pub fn classify(outcome: &Result<Response, TransportError>, now: SystemTime) -> Disposition {
    match outcome {
        Ok(response) => classify_status(response.status, response.retry_after.as_deref(), now),
        Err(error) => classify_transport_error(error.kind()),
    }
}

/// Classifies an HTTP status and its `Retry-After` header (see [`classify`]).
///
/// ```
/// use otlp_sync::retry::{classify_status, Disposition};
/// use std::time::SystemTime;
///
/// let now = SystemTime::now();
/// assert_eq!(classify_status(200, None, now), Disposition::Success);
/// assert_eq!(classify_status(503, None, now), Disposition::Retry { after: None });
/// ```
pub fn classify_status(status: u16, retry_after: Option<&str>, now: SystemTime) -> Disposition {
    match status {
        200..=299 => Disposition::Success,
        429 | 502 | 503 | 504 => Disposition::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        other => Disposition::Drop(DropReason::Status(other)),
    }
}

/// Classifies an attempt that got no response: connection failures, timeouts, resets and
/// other I/O errors are retried; TLS, malformed responses and configuration errors are not.
///
/// ```
/// use otlp_sync::retry::{classify_transport_error, Disposition, DropReason};
/// use otlp_sync::transport::TransportErrorKind;
///
/// assert_eq!(
///     classify_transport_error(TransportErrorKind::Connect),
///     Disposition::Retry { after: None }
/// );
/// assert_eq!(
///     classify_transport_error(TransportErrorKind::Tls),
///     Disposition::Drop(DropReason::Transport(TransportErrorKind::Tls))
/// );
/// ```
pub fn classify_transport_error(kind: TransportErrorKind) -> Disposition {
    match kind {
        TransportErrorKind::Connect
        | TransportErrorKind::Timeout
        | TransportErrorKind::ConnectionClosed
        | TransportErrorKind::Io => Disposition::Retry { after: None },
        TransportErrorKind::Tls
        | TransportErrorKind::InvalidResponse
        | TransportErrorKind::Config => Disposition::Drop(DropReason::Transport(kind)),
    }
}

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an IMF-fixdate HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to the wall time `now`. The result is
/// capped at [`MAX_RETRY_AFTER`]; a date in the past gives zero. Anything else gives `None`
/// (the caller falls back to its backoff).
///
/// ```
/// use otlp_sync::retry::parse_retry_after;
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// // 2015-10-21T07:27:50Z, ten seconds before the date in the header.
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470);
/// assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
/// assert_eq!(
///     parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
///     Some(Duration::from_secs(10))
/// );
/// assert_eq!(parse_retry_after("3600", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let wait = if value.bytes().all(|b| b.is_ascii_digit()) {
        // Any all-digit value is a valid delta; a huge one is simply over the cap.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = parse_http_date(value)?;
        let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        Duration::from_secs(at.saturating_sub(now))
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Parses an IMF-fixdate (`"Sun, 06 Nov 1994 08:49:37 GMT"`, RFC 9110 section 5.6.7) into
/// seconds since the Unix epoch. The weekday name is checked for shape only.
fn parse_http_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 29 {
        return None;
    }
    let weekday = b.get(0..3)?;
    if !weekday.iter().all(u8::is_ascii_alphabetic)
        || b.get(3..5)? != b", "
        || b.get(7) != Some(&b' ')
        || b.get(11) != Some(&b' ')
        || b.get(16) != Some(&b' ')
        || b.get(19) != Some(&b':')
        || b.get(22) != Some(&b':')
        || b.get(25..29)? != b" GMT"
    {
        return None;
    }
    let day = digits(b.get(5..7)?)?;
    let month = match b.get(8..11)? {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = digits(b.get(12..16)?)?;
    let hour = digits(b.get(17..19)?)?;
    let minute = digits(b.get(20..22)?)?;
    let second = digits(b.get(23..25)?)?;
    if year < 1970 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 allows a leap second.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Parses an all-ASCII-digit field.
fn digits(field: &[u8]) -> Option<u64> {
    field.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

fn is_leap(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date (year >= 1970, valid month and day).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let mut days = 0;
    for y in 1970..year {
        days += if is_leap(y) { 366 } else { 365 };
    }
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days + day - 1
}

/// How the random part of a backoff wait is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// No randomness: wait exactly the exponential delay.
    None,
    /// Uniform in `[0, delay]` ("full jitter").
    Full,
    /// Half the delay plus uniform in `[0, delay / 2]` ("equal jitter"): never shorter
    /// than half the delay.
    #[default]
    Equal,
}

/// Retry configuration: plain data. This is the one retry type of the crate: the
/// configuration takes it as is ([`crate::config::ConfigBuilder::retry`], re-exported as
/// `config::RetryPolicy`) and the pipeline's [`Backoff`] follows it.
///
/// The defaults (retries on; 6 attempts in all; first wait 1 s; ×2 each time; waits capped
/// at 30 s; equal jitter, so each wait is between half and all of the exponential delay)
/// follow the Python OTLP exporter, whose 1 s first wait suits a 10 s export timeout better
/// than the 5 s of Go and the Collector (see `SPEC_NOTES.md` D7). Every export is further
/// bounded by its export timeout: a wait that would overrun it is not taken, so with the
/// default 10 s timeout fewer than 6 attempts usually fit.
///
/// [`RetryPolicy::validate`] says whether a policy is consistent; the configuration builder
/// rejects one that is not.
///
/// ```
/// use otlp_sync::retry::RetryPolicy;
/// use std::time::Duration;
///
/// let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
/// assert!(policy.enabled);
/// assert_eq!(policy.initial_backoff, Duration::from_secs(1));
/// assert_eq!(policy.validate(), Ok(()));
/// assert_eq!(RetryPolicy::disabled().max_attempts, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Whether transient failures are retried at all. Defaults to `true` (the
    /// specification requires retrying transient errors).
    pub enabled: bool,
    /// Attempts per batch, the first included (so 1 means no retry; at least 1). Defaults
    /// to 6.
    pub max_attempts: u32,
    /// The wait after the first failed attempt, before jitter. Defaults to 1 s.
    pub initial_backoff: Duration,
    /// The longest backoff wait, before jitter (at least `initial_backoff`). Defaults to
    /// 30 s.
    pub max_backoff: Duration,
    /// Growth factor of the wait from one attempt to the next (finite, at least 1.0).
    /// Defaults to 2.0.
    pub multiplier: f64,
    /// How the wait is randomised, so that many clients do not retry in step. Defaults to
    /// [`Jitter::Equal`].
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            max_attempts: 6,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: Jitter::Equal,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt per batch).
    pub fn disabled() -> Self {
        RetryPolicy {
            enabled: false,
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Checks that the policy is consistent: a finite multiplier of at least 1.0, at least
    /// one attempt, and an initial backoff no longer than the maximum. The error is the
    /// reason, in words.
    ///
    /// [`Backoff`] never panics on an inconsistent policy (it clamps), but its waits would
    /// not be what the policy says, so the configuration builder rejects such a policy.
    ///
    /// ```
    /// use otlp_sync::retry::RetryPolicy;
    /// use std::time::Duration;
    ///
    /// assert_eq!(RetryPolicy::default().validate(), Ok(()));
    /// let slow = RetryPolicy { initial_backoff: Duration::from_secs(60), ..RetryPolicy::default() };
    /// assert_eq!(slow.validate(), Err("initial_backoff must not exceed max_backoff"));
    /// ```
    pub fn validate(&self) -> Result<(), &'static str> {
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            Err("the multiplier must be a finite number of at least 1.0")
        } else if self.max_attempts == 0 {
            Err("max_attempts must be at least 1")
        } else if self.initial_backoff > self.max_backoff {
            Err("initial_backoff must not exceed max_backoff")
        } else {
            Ok(())
        }
    }
}

/// What [`Backoff::next_wait`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again after this wait.
    After(Duration),
    /// Stop: attempts are used up, retries are off, or the wait would overrun the deadline.
    GiveUp,
}

/// Exponential backoff with jitter, bounded by attempts and by the time left.
///
/// One `Backoff` lives in the pipeline's worker; its small PRNG is seeded once per pipeline
/// (tests pass a fixed seed).
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    rng: SplitMix64,
}

impl Backoff {
    /// A backoff following `policy`, drawing jitter from a PRNG seeded with `seed`.
    pub fn new(policy: RetryPolicy, seed: u64) -> Self {
        Backoff {
            policy,
            rng: SplitMix64(seed),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The exponential delay after `attempts_made` failed attempts, before jitter:
    /// `initial × multiplier^(attempts_made − 1)`, capped at `max_backoff`.
    ///
    /// ```
    /// use otlp_sync::retry::{Backoff, RetryPolicy};
    /// use std::time::Duration;
    ///
    /// let b = Backoff::new(RetryPolicy::default(), 1);
    /// assert_eq!(b.base_delay(1), Duration::from_secs(1));
    /// assert_eq!(b.base_delay(3), Duration::from_secs(4));
    /// assert_eq!(b.base_delay(20), Duration::from_secs(30));
    /// ```
    pub fn base_delay(&self, attempts_made: u32) -> Duration {
        let cap = self.policy.max_backoff;
        let exponent = i32::try_from(attempts_made.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.policy.multiplier.max(1.0).powi(exponent);
        let secs = self.policy.initial_backoff.as_secs_f64() * factor;
        let secs = secs.min(cap.as_secs_f64());
        Duration::try_from_secs_f64(secs).unwrap_or(cap).min(cap)
    }

    /// Decides the wait before the next attempt, after `attempts_made` attempts failed
    /// with a retryable outcome. `retry_after` is the server's imposed wait (taken as is,
    /// without jitter); otherwise the exponential delay with jitter is used. `remaining` is
    /// the time left in the export deadline: a wait that leaves no time for the attempt
    /// gives [`NextAttempt::GiveUp`] now rather than sleeping in vain.
    pub fn next_wait(
        &mut self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        remaining: Duration,
    ) -> NextAttempt {
        if !self.policy.enabled || attempts_made >= self.policy.max_attempts {
            return NextAttempt::GiveUp;
        }
        let wait = match retry_after {
            Some(after) => after.min(MAX_RETRY_AFTER),
            None => self.jittered(self.base_delay(attempts_made)),
        };
        if wait >= remaining {
            NextAttempt::GiveUp
        } else {
            NextAttempt::After(wait)
        }
    }

    fn jittered(&mut self, delay: Duration) -> Duration {
        // Scaling by a factor in [0, 1) cannot overflow; `try_from` keeps it panic-free anyway.
        let scale = |d: Duration, f: f64| {
            Duration::try_from_secs_f64(d.as_secs_f64() * f)
                .unwrap_or(d)
                .min(d)
        };
        match self.policy.jitter {
            Jitter::None => delay,
            Jitter::Full => scale(delay, self.rng.next_unit()),
            Jitter::Equal => {
                let half = delay / 2;
                half.saturating_add(scale(half, self.rng.next_unit()))
            }
        }
    }
}

/// SplitMix64: a tiny, fast, statistically decent PRNG; plenty for jitter.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        // 53 random bits: exactly representable, strictly below 1.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        // 2015-10-21T07:27:50Z
        UNIX_EPOCH + Duration::from_secs(1_445_412_470)
    }

    #[test]
    fn status_table() {
        let table: &[(u16, Disposition)] = &[
            (200, Disposition::Success),
            (202, Disposition::Success),
            (204, Disposition::Success),
            (429, Disposition::Retry { after: None }),
            (502, Disposition::Retry { after: None }),
            (503, Disposition::Retry { after: None }),
            (504, Disposition::Retry { after: None }),
            (400, Disposition::Drop(DropReason::Status(400))),
            (401, Disposition::Drop(DropReason::Status(401))),
            (403, Disposition::Drop(DropReason::Status(403))),
            (404, Disposition::Drop(DropReason::Status(404))),
            (405, Disposition::Drop(DropReason::Status(405))),
            (408, Disposition::Drop(DropReason::Status(408))),
            (409, Disposition::Drop(DropReason::Status(409))),
            (413, Disposition::Drop(DropReason::Status(413))),
            (415, Disposition::Drop(DropReason::Status(415))),
            (500, Disposition::Drop(DropReason::Status(500))),
            (501, Disposition::Drop(DropReason::Status(501))),
            (505, Disposition::Drop(DropReason::Status(505))),
            (301, Disposition::Drop(DropReason::Status(301))),
            (100, Disposition::Drop(DropReason::Status(100))),
        ];
        for &(status, expected) in table {
            assert_eq!(classify_status(status, None, now()), expected, "{status}");
        }
    }

    #[test]
    fn retry_after_on_retryable_statuses_only() {
        for status in [429, 502, 503, 504] {
            assert_eq!(
                classify_status(status, Some("7"), now()),
                Disposition::Retry {
                    after: Some(Duration::from_secs(7))
                }
            );
        }
        assert_eq!(
            classify_status(400, Some("7"), now()),
            Disposition::Drop(DropReason::Status(400))
        );
        // Garbage falls back to backoff.
        assert_eq!(
            classify_status(503, Some("later"), now()),
            Disposition::Retry { after: None }
        );
    }

    #[test]
    fn transport_error_table() {
        use TransportErrorKind as K;
        let table = [
            (K::Connect, true),
            (K::Timeout, true),
            (K::ConnectionClosed, true),
            (K::Io, true),
            (K::Tls, false),
            (K::InvalidResponse, false),
            (K::Config, false),
        ];
        for (kind, retry) in table {
            let expected = if retry {
                Disposition::Retry { after: None }
            } else {
                Disposition::Drop(DropReason::Transport(kind))
            };
            assert_eq!(classify_transport_error(kind), expected, "{kind:?}");
            let outcome = Err(TransportError::new(kind, "x"));
            assert_eq!(classify(&outcome, now()), expected);
        }
    }

    #[test]
    fn retry_after_delta_seconds() {
        assert_eq!(parse_retry_after("0", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(" 12 ", now()),
            Some(Duration::from_secs(12))
        );
        assert_eq!(parse_retry_after("30", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("31", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        for garbage in ["", " ", "-1", "1.5", "+3", "3s", "abc", "1 2"] {
            assert_eq!(parse_retry_after(garbage, now()), None, "{garbage:?}");
        }
    }

    #[test]
    fn retry_after_http_date() {
        let v = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(v, now()), Some(Duration::from_secs(10)));
        // In the past: retry now.
        let past = "Wed, 21 Oct 2015 07:00:00 GMT";
        assert_eq!(parse_retry_after(past, now()), Some(Duration::ZERO));
        // Far future: capped.
        let future = "Thu, 22 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(future, now()), Some(MAX_RETRY_AFTER));
        // Wall clock before the epoch: ignore the date.
        assert_eq!(
            parse_retry_after(v, UNIX_EPOCH - Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn http_date_known_values() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT"),
            Some(1_709_251_199)
        );
        assert_eq!(
            parse_http_date("Fri, 01 Mar 2024 00:00:00 GMT"),
            Some(1_709_251_200)
        );
    }

    #[test]
    fn http_date_rejects_malformed() {
        for bad in [
            "Wed, 21 Oct 2015 07:28:00 UTC",
            "Wed, 21 Oct 2015 07:28:00",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 00 Oct 2015 07:28:00 GMT",
            "Wed, 29 Feb 2023 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "Wed, 21 Oct 1969 07:28:00 GMT",
            "Wed, 21 Oct 2015 24:28:00 GMT",
            "Wed, 21 Oct 2015 07:60:00 GMT",
            "Wed, 2x Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMTX",
            "123, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:0é GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    fn no_jitter() -> RetryPolicy {
        RetryPolicy {
            jitter: Jitter::None,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn exponential_growth_and_cap() {
        let mut b = Backoff::new(no_jitter(), 1);
        let big = Duration::from_secs(3600);
        let waits: Vec<_> = (1..6).map(|n| b.next_wait(n, None, big)).collect();
        let expected: Vec<_> = [1, 2, 4, 8, 16]
            .into_iter()
            .map(|s| NextAttempt::After(Duration::from_secs(s)))
            .collect();
        assert_eq!(waits, expected);
        // Attempt 6 of 6 made: give up.
        assert_eq!(b.next_wait(6, None, big), NextAttempt::GiveUp);
        let b = Backoff::new(no_jitter(), 1);
        assert_eq!(b.base_delay(6), Duration::from_secs(30));
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(30));
        assert_eq!(b.base_delay(0), Duration::from_secs(1));
    }

    #[test]
    fn hostile_multipliers_do_not_panic() {
        for multiplier in [f64::NAN, f64::INFINITY, -3.0, 0.0, 1e300] {
            let policy = RetryPolicy {
                multiplier,
                ..no_jitter()
            };
            let b = Backoff::new(policy, 1);
            for n in [1, 2, 10, 1000] {
                assert!(b.base_delay(n) <= Duration::from_secs(30));
            }
        }
    }

    #[test]
    fn equal_jitter_bounds_and_determinism() {
        let mut a = Backoff::new(RetryPolicy::default(), 42);
        let mut b = Backoff::new(RetryPolicy::default(), 42);
        let big = Duration::from_secs(3600);
        let mut distinct = std::collections::BTreeSet::new();
        for n in 1..6 {
            for _ in 0..50 {
                let wa = a.next_wait(n, None, big);
                assert_eq!(wa, b.next_wait(n, None, big));
                let NextAttempt::After(w) = wa else {
                    panic!("expected a wait")
                };
                let base = a.base_delay(n);
                assert!(w >= base / 2 && w <= base, "{w:?} vs {base:?}");
                distinct.insert(w);
            }
        }
        assert!(distinct.len() > 100, "jitter should vary");
    }

    #[test]
    fn full_jitter_bounds() {
        let policy = RetryPolicy {
            jitter: Jitter::Full,
            ..RetryPolicy::default()
        };
        let mut b = Backoff::new(policy, 9);
        let mut below_half = 0;
        for _ in 0..200 {
            let NextAttempt::After(w) = b.next_wait(2, None, Duration::from_secs(60)) else {
                panic!("expected a wait")
            };
            assert!(w <= Duration::from_secs(2));
            if w < Duration::from_secs(1) {
                below_half += 1;
            }
        }
        assert!(below_half > 50 && below_half < 150, "{below_half}");
    }

    #[test]
    fn server_wait_wins_and_is_capped() {
        let mut b = Backoff::new(RetryPolicy::default(), 3);
        let big = Duration::from_secs(3600);
        assert_eq!(
            b.next_wait(1, Some(Duration::from_millis(1500)), big),
            NextAttempt::After(Duration::from_millis(1500))
        );
        assert_eq!(
            b.next_wait(1, Some(Duration::from_secs(500)), big),
            NextAttempt::After(MAX_RETRY_AFTER)
        );
        assert_eq!(
            b.next_wait(1, Some(Duration::ZERO), big),
            NextAttempt::After(Duration::ZERO)
        );
    }

    #[test]
    fn never_waits_past_the_deadline() {
        let mut b = Backoff::new(no_jitter(), 3);
        // Fake clock: the export deadline shrinks as waits are "taken".
        let mut remaining = Duration::from_secs(10);
        let mut attempts = 1;
        let mut total = Duration::ZERO;
        while let NextAttempt::After(w) = b.next_wait(attempts, None, remaining) {
            assert!(w < remaining);
            remaining -= w;
            total += w;
            attempts += 1;
        }
        // 1 + 2 + 4 = 7 s fit in 10 s; the next 8 s wait would not.
        assert_eq!(total, Duration::from_secs(7));
        assert_eq!(attempts, 4);
        assert_eq!(
            b.next_wait(1, Some(Duration::from_secs(5)), Duration::from_secs(5)),
            NextAttempt::GiveUp
        );
        assert_eq!(b.next_wait(1, None, Duration::ZERO), NextAttempt::GiveUp);
    }

    #[test]
    fn disabled_never_retries() {
        let mut b = Backoff::new(RetryPolicy::disabled(), 3);
        assert_eq!(
            b.next_wait(1, None, Duration::from_secs(60)),
            NextAttempt::GiveUp
        );
        let enabled_false = RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        };
        let mut b = Backoff::new(enabled_false, 3);
        assert_eq!(
            b.next_wait(1, Some(Duration::ZERO), Duration::from_secs(60)),
            NextAttempt::GiveUp
        );
    }

    #[test]
    fn validate_gives_the_reason() {
        assert_eq!(RetryPolicy::default().validate(), Ok(()));
        assert_eq!(RetryPolicy::disabled().validate(), Ok(()));
        let d = RetryPolicy::default;
        for multiplier in [0.5, 0.0, -1.0, f64::NAN, f64::INFINITY] {
            let p = RetryPolicy { multiplier, ..d() };
            assert_eq!(
                p.validate(),
                Err("the multiplier must be a finite number of at least 1.0"),
                "{multiplier}"
            );
        }
        let p = RetryPolicy {
            multiplier: 1.0,
            ..d()
        };
        assert_eq!(p.validate(), Ok(()));
        let p = RetryPolicy {
            max_attempts: 0,
            ..d()
        };
        assert_eq!(p.validate(), Err("max_attempts must be at least 1"));
        let p = RetryPolicy {
            initial_backoff: Duration::from_secs(31),
            ..d()
        };
        assert_eq!(
            p.validate(),
            Err("initial_backoff must not exceed max_backoff")
        );
        let p = RetryPolicy {
            initial_backoff: Duration::from_secs(30),
            ..d()
        };
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn prng_unit_interval() {
        let mut r = SplitMix64(0);
        for _ in 0..10_000 {
            let x = r.next_unit();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
