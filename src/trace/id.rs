//! Random trace and span ids: a per-thread xoshiro256++ generator, no locks, no system call
//! per id.
//!
//! Each thread seeds its generator once, on its first id, from a process-wide seed mixed
//! with the thread's id, the time and a process-wide counter through the standard
//! library's randomly keyed [`RandomState`] hasher (itself seeded from the operating
//! system). Ids are random in every bit, so they meet the W3C Trace Context Level 2
//! randomness requirement (the rightmost 56 bits of a trace id are random).
//!
//! The generator is not cryptographic: ids are unique with overwhelming probability, not
//! unguessable. A process that forks keeps its parent's per-thread state in the child's
//! forking thread; call [`reseed_current_thread`] in the child if that matters.

use crate::model::{SpanId, TraceId};
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Makes trace and span ids for a [`Tracer`](super::Tracer).
///
/// The default, used when [`TraceSettings::id_generator`](super::TraceSettings) is `None`,
/// is the fast per-thread random generator of this module ([`random_trace_id`],
/// [`random_span_id`]). Implement this to use ids of another scheme.
pub trait IdGenerator: Send + Sync + std::fmt::Debug {
    /// A new trace id. Should never be all zero (an all-zero id is replaced by a random
    /// one).
    fn new_trace_id(&self) -> TraceId;
    /// A new span id. Should never be all zero (an all-zero id is replaced by a random
    /// one).
    fn new_span_id(&self) -> SpanId;
    /// Whether the rightmost 56 bits of every trace id are random (W3C Trace Context
    /// Level 2); when `true`, root spans carry the W3C `random` trace flag. Defaults to
    /// `false`.
    fn trace_ids_are_random(&self) -> bool {
        false
    }
}

/// Counts seedings, so two threads never mix the same inputs.
static SEEDINGS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The thread's xoshiro256++ state; all zero means "not seeded yet".
    static STATE: Cell<[u64; 4]> = const { Cell::new([0; 4]) };
}

/// splitmix64: expands one word into well-mixed words (the seeding recommended for
/// xoshiro).
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn nanos_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The process-wide seed, made once.
fn process_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let mut h = RandomState::new().build_hasher();
        nanos_now().hash(&mut h);
        std::process::id().hash(&mut h);
        h.finish()
    })
}

/// A fresh, never all-zero state for the calling thread.
fn new_state() -> [u64; 4] {
    let mut h = RandomState::new().build_hasher();
    process_seed().hash(&mut h);
    SEEDINGS.fetch_add(1, Ordering::Relaxed).hash(&mut h);
    std::thread::current().id().hash(&mut h);
    nanos_now().hash(&mut h);
    let mut x = h.finish();
    let mut s = [
        splitmix64(&mut x),
        splitmix64(&mut x),
        splitmix64(&mut x),
        splitmix64(&mut x),
    ];
    if s == [0; 4] {
        s[0] = 0x9e37_79b9_7f4a_7c15;
    }
    s
}

/// xoshiro256++ step.
fn next(s: &mut [u64; 4]) -> u64 {
    let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

/// Runs `f` on the calling thread's generator state (seeding it first if needed). During
/// thread-local destruction a throwaway state is used.
fn with_state<T>(f: fn(&mut [u64; 4]) -> T) -> T {
    STATE
        .try_with(|cell| {
            let mut s = cell.get();
            if s == [0; 4] {
                s = new_state();
            }
            let out = f(&mut s);
            cell.set(s);
            out
        })
        .unwrap_or_else(|_| f(&mut new_state()))
}

/// Forgets the calling thread's generator state; the next id reseeds it.
pub fn reseed_current_thread() {
    let _ = STATE.try_with(|cell| cell.set([0; 4]));
}

/// A random, valid (never all-zero) trace id.
pub fn random_trace_id() -> TraceId {
    with_state(|s| {
        loop {
            let hi = next(s);
            let lo = next(s);
            if hi != 0 || lo != 0 {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&hi.to_be_bytes());
                b[8..].copy_from_slice(&lo.to_be_bytes());
                return TraceId::from_bytes(b);
            }
        }
    })
}

/// A random, valid (never all-zero) span id.
pub fn random_span_id() -> SpanId {
    with_state(|s| {
        loop {
            let v = next(s);
            if v != 0 {
                return SpanId::from_bytes(v.to_be_bytes());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_vector() {
        // Reference output of xoshiro256++ from the state [1, 2, 3, 4].
        let mut s = [1, 2, 3, 4];
        assert_eq!(next(&mut s), 41_943_041);
        assert_eq!(next(&mut s), 58_720_359);
    }

    #[test]
    fn ids_are_valid_and_differ() {
        let a = random_trace_id();
        let b = random_trace_id();
        assert!(a.is_valid() && b.is_valid());
        assert_ne!(a, b);
        assert_ne!(random_span_id(), random_span_id());
    }

    #[test]
    fn reseeding_changes_the_stream() {
        let before = random_span_id();
        reseed_current_thread();
        assert_ne!(random_span_id(), before);
    }
}
