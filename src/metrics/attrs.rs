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
pub(crate) fn set_hash(attrs: &[KeyValue]) -> u64 {
    let seed = seed();
    let mut sum: u64 = 0;
    for kv in attrs {
        let mut h = FxLike::new(seed);
        h.bytes(kv.key.as_bytes());
        hash_value(&kv.value, &mut h);
        sum = sum.wrapping_add(h.finish());
    }
    finalize(sum ^ (attrs.len() as u64))
}

fn hash_value(v: &AnyValue, h: &mut FxLike) {
    match v {
        AnyValue::Empty => h.word(0),
        AnyValue::Str(s) => {
            h.word(1);
            h.bytes(s.as_bytes());
        }
        AnyValue::Bool(b) => h.word(2 + u64::from(*b)),
        AnyValue::Int(i) => {
            h.word(4);
            h.word(*i as u64);
        }
        AnyValue::Double(d) => {
            h.word(5);
            h.word(d.to_bits());
        }
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

/// A small, fast word-at-a-time hash (in the spirit of FxHash), finished with a strong
/// mix. Good enough for keys whose number the cardinality limit bounds.
struct FxLike(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxLike {
    fn new(seed: u64) -> Self {
        FxLike(seed)
    }

    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }

    fn bytes(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.word(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        // The length keeps "ab" + "c" apart from "a" + "bc".
        self.word(u64::from_le_bytes(w) ^ ((b.len() as u64) << 56));
    }

    fn finish(&self) -> u64 {
        finalize(self.0)
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
