//! Attribute sets as series keys: an order-insensitive hash and equality, so a lookup by
//! the caller's slice needs neither a sort nor an allocation.
//!
//! A stored key is normalized (sorted by key, duplicate keys removed, the last one
//! winning). A query is the caller's slice as given. Its hash is the wrapping sum of
//! per-attribute hashes, so any order of the same attributes hashes alike; equality is
//! "same length and the same attributes" (in order first, any order second). A query
//! with duplicate keys hashes differently from its normalized form and misses; the slow
//! path then normalizes it and looks again.

use crate::model::{AnyValue, KeyValue};
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::OnceLock;

/// Something that can be looked up as an attribute set.
pub(crate) trait AttrView {
    fn attrs(&self) -> &[KeyValue];
}

impl AttrView for &[KeyValue] {
    fn attrs(&self) -> &[KeyValue] {
        self
    }
}

impl Hash for dyn AttrView + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(set_hash(self.attrs()));
    }
}

impl PartialEq for dyn AttrView + '_ {
    fn eq(&self, other: &Self) -> bool {
        same_set(self.attrs(), other.attrs())
    }
}

impl Eq for dyn AttrView + '_ {}

/// A normalized attribute set: sorted by key, keys unique.
#[derive(Debug, Clone)]
pub(crate) struct SeriesKey(Vec<KeyValue>);

impl SeriesKey {
    /// Normalizes `attrs`: a stable sort by key, then the last of each run of equal keys.
    pub(crate) fn normalize(attrs: &[KeyValue]) -> SeriesKey {
        let mut sorted: Vec<&KeyValue> = attrs.iter().collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        let mut out: Vec<KeyValue> = Vec::with_capacity(sorted.len());
        for (i, kv) in sorted.iter().enumerate() {
            let next_same = sorted.get(i + 1).is_some_and(|n| n.key == kv.key);
            if !next_same {
                out.push((*kv).clone());
            }
        }
        SeriesKey(out)
    }

    /// A key that is already normalized (a single attribute, say).
    pub(crate) fn from_normalized(attrs: Vec<KeyValue>) -> SeriesKey {
        SeriesKey(attrs)
    }

    pub(crate) fn into_vec(self) -> Vec<KeyValue> {
        self.0
    }

    pub(crate) fn as_slice(&self) -> &[KeyValue] {
        &self.0
    }
}

impl AttrView for SeriesKey {
    fn attrs(&self) -> &[KeyValue] {
        &self.0
    }
}

impl<'a> Borrow<dyn AttrView + 'a> for SeriesKey {
    fn borrow(&self) -> &(dyn AttrView + 'a) {
        self
    }
}

impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(set_hash(&self.0));
    }
}

impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        same_set(&self.0, &other.0)
    }
}

impl Eq for SeriesKey {}

/// Same length and the same attributes: the common case (same order) in one pass, any
/// other order by containment both ways. One side is always a normalized key (unique
/// keys), which makes mutual containment with equal lengths a permutation.
fn same_set(a: &[KeyValue], b: &[KeyValue]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.iter().zip(b).all(|(x, y)| kv_eq(x, y)) {
        return true;
    }
    a.iter().all(|x| b.iter().any(|y| kv_eq(x, y)))
        && b.iter().all(|y| a.iter().any(|x| kv_eq(x, y)))
}

fn kv_eq(a: &KeyValue, b: &KeyValue) -> bool {
    a.key == b.key && value_eq(&a.value, &b.value)
}

/// Value equality with floats compared by bits (so a NaN attribute is a usable key).
fn value_eq(a: &AnyValue, b: &AnyValue) -> bool {
    match (a, b) {
        (AnyValue::Empty, AnyValue::Empty) => true,
        (AnyValue::Str(x), AnyValue::Str(y)) => x == y,
        (AnyValue::Bool(x), AnyValue::Bool(y)) => x == y,
        (AnyValue::Int(x), AnyValue::Int(y)) => x == y,
        (AnyValue::Double(x), AnyValue::Double(y)) => x.to_bits() == y.to_bits(),
        (AnyValue::Bytes(x), AnyValue::Bytes(y)) => x == y,
        (AnyValue::Array(x), AnyValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_eq(p, q))
        }
        (AnyValue::KvList(x), AnyValue::KvList(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| kv_eq(p, q))
        }
        _ => false,
    }
}

/// The process-wide seed of attribute hashes (random, so that crafted attribute values
/// cannot be made to collide on purpose).
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        std::collections::hash_map::RandomState::new().hash_one(0x6d65_7472_6963_u64)
    })
}

/// The order-insensitive hash of an attribute set.
#[inline]
pub(crate) fn set_hash(attrs: &[KeyValue]) -> u64 {
    let seed = seed();
    let mut sum: u64 = 0;
    for kv in attrs {
        let mut h = FxLike(seed);
        h.bytes(kv.key.as_bytes());
        hash_value(&kv.value, &mut h);
        sum = sum.wrapping_add(h.finish());
    }
    finalize(sum ^ (attrs.len() as u64))
}

#[inline]
fn hash_value(v: &AnyValue, h: &mut FxLike) {
    match v {
        AnyValue::Str(s) => h.bytes(s.as_bytes()),
        AnyValue::Int(i) => h.word((*i as u64) ^ 0x0400),
        AnyValue::Bool(b) => h.word(0x0200 + u64::from(*b)),
        AnyValue::Double(d) => h.word(d.to_bits() ^ 0x0500),
        AnyValue::Empty => h.word(0),
        AnyValue::Bytes(b) => {
            h.word(6);
            h.bytes(b);
        }
        AnyValue::Array(a) => {
            h.word(7);
            for x in a {
                hash_value(x, h);
            }
        }
        AnyValue::KvList(l) => {
            h.word(8);
            for kv in l {
                h.bytes(kv.key.as_bytes());
                hash_value(&kv.value, h);
            }
        }
    }
}

/// A small, fast word-at-a-time hash (in the spirit of FxHash), finished with a
/// multiply-xorshift. Good enough for keys whose number the cardinality limit bounds;
/// the set hash gets a full finalizer.
struct FxLike(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Eight bytes at `at` (zero when out of range, which the callers rule out).
#[inline]
fn read8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline]
fn read4(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
}

impl FxLike {
    #[inline]
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }

    /// All bytes, by whole words and one overlapping tail word (no copies), after the
    /// length (which keeps "ab" + "c" apart from "a" + "bc"). Given the length, the words
    /// determine the bytes.
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        let len = b.len();
        self.0 = self.0.wrapping_add(len as u64);
        if len > 8 {
            let mut i = 0;
            while i + 8 < len {
                self.word(read8(b, i));
                i += 8;
            }
            self.word(read8(b, len - 8));
        } else if len >= 4 {
            self.word(read4(b, 0) | (read4(b, len - 4) << 32));
        } else {
            let (first, mid, last) = match b {
                [] => (0, 0, 0),
                [x, ..] => (
                    *x,
                    b.get(len / 2).copied().unwrap_or(0),
                    b.get(len - 1).copied().unwrap_or(0),
                ),
            };
            self.word(u64::from(first) | u64::from(mid) << 8 | u64::from(last) << 16);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }
}

/// A 64-bit finalizer (the one of SplitMix64 / MurmurHash3).
fn finalize(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The maps' hasher: the key's hash is already mixed, so it is passed through.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// See [`PassThrough`].
#[derive(Debug, Default)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by our keys; kept correct anyway.
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn kv(k: &'static str, v: i64) -> KeyValue {
        KeyValue::new(k, v)
    }

    #[test]
    fn normalize_sorts_and_keeps_the_last_duplicate() {
        let key = SeriesKey::normalize(&[kv("b", 1), kv("a", 1), kv("b", 2), kv("c", 0)]);
        assert_eq!(key.as_slice(), &[kv("a", 1), kv("b", 2), kv("c", 0)]);
    }

    #[test]
    fn any_order_finds_the_stored_key() {
        let mut map: HashMap<SeriesKey, u32, PassThrough> = HashMap::default();
        map.insert(SeriesKey::normalize(&[kv("a", 1), kv("b", 2)]), 7);
        let q1: &[KeyValue] = &[kv("b", 2), kv("a", 1)];
        let q2: &[KeyValue] = &[kv("a", 1), kv("b", 2)];
        assert_eq!(map.get(&q1 as &dyn AttrView), Some(&7));
        assert_eq!(map.get(&q2 as &dyn AttrView), Some(&7));
        let other: &[KeyValue] = &[kv("a", 1), kv("b", 3)];
        assert_eq!(map.get(&other as &dyn AttrView), None);
        // Duplicates miss (the slow path normalizes them).
        let dup: &[KeyValue] = &[kv("a", 1), kv("a", 1)];
        assert_eq!(map.get(&dup as &dyn AttrView), None);
    }

    #[test]
    fn same_length_duplicates_are_not_equal() {
        let stored = SeriesKey::normalize(&[kv("a", 1), kv("b", 2)]);
        assert!(!same_set(&[kv("a", 1), kv("a", 1)], stored.as_slice()));
        assert!(!same_set(stored.as_slice(), &[kv("b", 2), kv("b", 2)]));
    }

    #[test]
    fn every_byte_and_the_length_count_in_the_hash() {
        let hash = |s: String| set_hash(&[KeyValue::new("k", s)]);
        let mut seen = std::collections::HashSet::new();
        for len in 0..40usize {
            let base = "a".repeat(len);
            assert!(seen.insert(hash(base.clone())), "length {len}");
            for i in 0..len {
                let mut b = base.clone().into_bytes();
                b[i] = b'b';
                let changed = String::from_utf8(b).unwrap();
                assert!(seen.insert(hash(changed)), "byte {i} of {len}");
            }
        }
        // Key and value boundaries.
        assert_ne!(
            set_hash(&[KeyValue::new("ab", "c")]),
            set_hash(&[KeyValue::new("a", "bc")])
        );
        assert_ne!(
            set_hash(&[KeyValue::new("a", 1), KeyValue::new("b", 2)]),
            set_hash(&[KeyValue::new("a", 2), KeyValue::new("b", 1)])
        );
    }

    #[test]
    fn floats_compare_by_bits() {
        let a = [KeyValue::new("x", f64::NAN)];
        assert!(same_set(&a, &a));
        assert_eq!(set_hash(&a), set_hash(&a));
        assert!(!same_set(
            &[KeyValue::new("x", 0.0)],
            &[KeyValue::new("x", -0.0)]
        ));
    }
}
