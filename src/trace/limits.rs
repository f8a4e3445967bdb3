//! Span limits: how many attributes, events and links a span keeps, and how long
//! attribute values may be.

use crate::config::Warning;
use crate::model::{AnyValue, KeyValue};
use alloc::borrow::Cow;

/// The default of every count limit (OpenTelemetry specification).
pub const DEFAULT_COUNT_LIMIT: usize = 128;

/// Limits on what one span records (OpenTelemetry trace SDK "Span Limits" and the common
/// attribute limits). What goes over a limit is discarded and counted in the span's
/// `dropped_*` counters, which are exported.
///
/// * A new attribute beyond [`attribute_count`](Self::attribute_count) is discarded;
///   setting a key that is already there replaces its value (keys stay unique) and is
///   never discarded.
/// * With [`attribute_value_length`](Self::attribute_value_length) set, string values are
///   cut to that many characters (Unicode scalar values, so the cut is on a character
///   boundary), byte arrays to that many bytes, and arrays and key-value lists element
///   by element, recursively. It applies to span, event and link attributes.
/// * Events beyond [`event_count`](Self::event_count) and links beyond
///   [`link_count`](Self::link_count) are discarded; attributes of one event or link
///   beyond [`attributes_per_event`](Self::attributes_per_event) or
///   [`attributes_per_link`](Self::attributes_per_link) likewise.
///
/// ```
/// use otlp_sync::trace::SpanLimits;
/// let env = |k: &str| match k {
///     "OTEL_ATTRIBUTE_COUNT_LIMIT" => Some("10".to_string()),
///     "OTEL_SPAN_EVENT_COUNT_LIMIT" => Some("lots".to_string()),
///     _ => None,
/// };
/// let (limits, warnings) = SpanLimits::from_env_with(env);
/// assert_eq!(limits.attribute_count, 10);
/// assert_eq!(limits.event_count, 128);
/// assert_eq!(warnings.len(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanLimits {
    /// Most attributes per span. Defaults to 128.
    pub attribute_count: usize,
    /// Longest attribute value (characters of a string, bytes of a byte array). Defaults
    /// to `None`: no limit.
    pub attribute_value_length: Option<usize>,
    /// Most events per span. Defaults to 128.
    pub event_count: usize,
    /// Most links per span. Defaults to 128.
    pub link_count: usize,
    /// Most attributes per event. Defaults to 128.
    pub attributes_per_event: usize,
    /// Most attributes per link. Defaults to 128.
    pub attributes_per_link: usize,
}

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits {
            attribute_count: DEFAULT_COUNT_LIMIT,
            attribute_value_length: None,
            event_count: DEFAULT_COUNT_LIMIT,
            link_count: DEFAULT_COUNT_LIMIT,
            attributes_per_event: DEFAULT_COUNT_LIMIT,
            attributes_per_link: DEFAULT_COUNT_LIMIT,
        }
    }
}

impl SpanLimits {
    /// The limits from the process environment; see [`from_env_with`](Self::from_env_with).
    pub fn from_env() -> (SpanLimits, Vec<Warning>) {
        SpanLimits::from_env_with(|k| std::env::var(k).ok())
    }

    /// The limits from `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` (else `OTEL_ATTRIBUTE_COUNT_LIMIT`),
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` (else `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`),
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT` and `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, read with
    /// `lookup`. An empty value is unset; a value that is not a non-negative integer is
    /// ignored with a warning (returned, never logged).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> (SpanLimits, Vec<Warning>) {
        let mut warnings = Vec::new();
        let mut read = |names: &[&str]| -> Option<usize> {
            names.iter().find_map(|name| {
                let raw = lookup(name)?;
                let v = raw.trim();
                if v.is_empty() {
                    return None;
                }
                match v.parse::<u64>() {
                    Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                    Err(_) => {
                        warnings.push(Warning::env(
                            name,
                            &raw,
                            "not a non-negative integer; ignored",
                        ));
                        None
                    }
                }
            })
        };
        let d = SpanLimits::default();
        let limits = SpanLimits {
            attribute_count: read(&[
                "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
            ])
            .unwrap_or(d.attribute_count),
            attribute_value_length: read(&[
                "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            ]),
            event_count: read(&["OTEL_SPAN_EVENT_COUNT_LIMIT"]).unwrap_or(d.event_count),
            link_count: read(&["OTEL_SPAN_LINK_COUNT_LIMIT"]).unwrap_or(d.link_count),
            attributes_per_event: read(&["OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"])
                .unwrap_or(d.attributes_per_event),
            attributes_per_link: read(&["OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"])
                .unwrap_or(d.attributes_per_link),
        };
        (limits, warnings)
    }
}

/// Cuts `value` to `limit` (characters of a string, bytes of a byte array; arrays and
/// key-value lists element by element). A borrowed `'static` string stays borrowed.
pub fn truncate_value(value: &mut AnyValue, limit: usize) {
    match value {
        AnyValue::Str(s) => {
            let cut = truncate_str(s, limit).len();
            if cut < s.len() {
                match s {
                    Cow::Borrowed(b) => *b = b.get(..cut).unwrap_or(b),
                    Cow::Owned(o) => o.truncate(cut),
                }
            }
        }
        AnyValue::Bytes(b) => b.truncate(limit),
        AnyValue::Array(items) => items.iter_mut().for_each(|v| truncate_value(v, limit)),
        AnyValue::KvList(kvs) => kvs
            .iter_mut()
            .for_each(|kv| truncate_value(&mut kv.value, limit)),
        AnyValue::Empty | AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => {}
    }
}

/// The first `limit` characters of `s` (all of it when it has no more).
#[inline]
pub(crate) fn truncate_str(s: &str, limit: usize) -> &str {
    // More characters than `limit` needs more bytes than `limit`.
    if s.len() <= limit {
        return s;
    }
    match s.char_indices().nth(limit) {
        Some((cut, _)) => s.get(..cut).unwrap_or(s),
        None => s,
    }
}

/// Key equality with a cheap early out: keys of one span often share a prefix and a
/// length (`bench.str0`, `bench.str1`), so the last byte is compared first.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.last() == b.last() && a == b
}

/// `false` when the keys are certainly distinct: each key sets one bit of a 64-bit mask
/// ([`key_bit`]), and no bit is set twice. Equal keys always
/// pick the same bit, so a `false` is exact; a `true` only means "compare them all".
/// Linear, against the quadratic comparison it usually saves.
fn may_have_duplicates(attributes: &[KeyValue]) -> bool {
    if attributes.len() > 64 {
        return true;
    }
    let mut seen = 0u64;
    for kv in attributes {
        let bit = key_bit(&kv.key);
        if seen & bit != 0 {
            return true;
        }
        seen |= bit;
    }
    false
}

/// The one bit of a 64-bit mask that `key` sets (see [`may_have_duplicates`]): a
/// multiplicative hash of its length and last 8 bytes (all of a short key), so equal keys
/// always pick the same bit and keys of one family (`http.request.x`, `http.request.y`)
/// spread.
#[inline]
pub(crate) fn key_bit(key: &str) -> u64 {
    1u64 << (key_hash(key.as_bytes()) >> 58)
}

/// The hash [`key_bit`] takes its bit from (its top 6 bits); the other bits tell apart
/// keys that share a bit.
#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    let k = key;
    let n = k.len();
    // One 8-byte load for a key of 8 bytes or more (no copy call), else byte by byte.
    let tail = match k.get(n.saturating_sub(8)..).map(<[u8; 8]>::try_from) {
        Some(Ok(last8)) => u64::from_le_bytes(last8),
        _ => k
            .iter()
            .enumerate()
            .fold(0u64, |v, (i, &b)| v | (u64::from(b) << (8 * i))),
    };
    (tail ^ (n as u64).wrapping_mul(0x1_0000_01b3)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Sets one attribute under the limits: replaces the value of an existing key, appends a
/// new key while there is room, else counts it in `dropped`.
pub(crate) fn set_attribute(
    attributes: &mut Vec<KeyValue>,
    dropped: &mut u32,
    mut kv: KeyValue,
    count_limit: usize,
    length_limit: Option<usize>,
) {
    if let Some(limit) = length_limit {
        truncate_value(&mut kv.value, limit);
    }
    if let Some(existing) = attributes.iter_mut().find(|e| same_key(&e.key, &kv.key)) {
        existing.value = kv.value;
    } else if attributes.len() < count_limit {
        attributes.push(kv);
    } else {
        *dropped = dropped.saturating_add(1);
    }
}

/// Applies the limits to a whole list in place (later duplicates replace earlier values,
/// which keep their position). Returns how many were dropped. Cheap when the list already
/// fits: one pass of key comparisons, no allocation; no call at all when it is empty.
#[inline]
pub(crate) fn apply_to_list(
    attributes: &mut Vec<KeyValue>,
    count_limit: usize,
    length_limit: Option<usize>,
) -> u32 {
    if attributes.is_empty() {
        return 0;
    }
    apply_to_items(attributes, count_limit, length_limit)
}

/// [`apply_to_list`] of a list that is not empty.
fn apply_to_items(
    attributes: &mut Vec<KeyValue>,
    count_limit: usize,
    length_limit: Option<usize>,
) -> u32 {
    if let Some(limit) = length_limit {
        attributes
            .iter_mut()
            .for_each(|kv| truncate_value(&mut kv.value, limit));
    }
    let has_duplicates = may_have_duplicates(attributes)
        && attributes
            .iter()
            .enumerate()
            .any(|(i, kv)| attributes[..i].iter().any(|e| same_key(&e.key, &kv.key)));
    if !has_duplicates && attributes.len() <= count_limit {
        return 0;
    }
    let mut dropped = 0u32;
    let all = core::mem::take(attributes);
    attributes.reserve(all.len().min(count_limit));
    for kv in all {
        set_attribute(attributes, &mut dropped, kv, count_limit, None);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duplicate_prefilter_never_misses_a_duplicate() {
        let keys = [
            "bench.str0",
            "bench.str1",
            "bench.str2",
            "bench.str3",
            "bench.int0",
            "bench.int1",
            "bench.f64",
            "bench.bool",
            "",
            "a",
            "ab",
            "ba",
        ];
        let kvs = |ks: &[&'static str]| -> Vec<KeyValue> {
            ks.iter().map(|k| KeyValue::new(*k, 1)).collect()
        };
        // The workload's keys are told apart without comparing them.
        assert!(!may_have_duplicates(&kvs(&keys[..8])));
        // Any list with a repeated key is flagged, wherever the repeat is.
        for (i, k) in keys.iter().enumerate() {
            let mut list: Vec<&'static str> = keys.to_vec();
            list.insert(i / 2, k);
            assert!(may_have_duplicates(&kvs(&list)), "{k:?} repeated");
        }
        // And apply_to_list still removes them.
        let mut list = kvs(&["k", "x", "k"]);
        assert_eq!(apply_to_list(&mut list, 128, None), 0);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn strings_are_cut_on_character_boundaries() {
        let mut v = AnyValue::from("héllo wörld");
        truncate_value(&mut v, 4);
        assert_eq!(v, AnyValue::from("héll"));
        assert!(matches!(v, AnyValue::Str(Cow::Borrowed(_))));
        let mut v = AnyValue::from(String::from("日本語テキスト"));
        truncate_value(&mut v, 3);
        assert_eq!(v, AnyValue::from(String::from("日本語")));
        let mut v = AnyValue::from("short");
        truncate_value(&mut v, 10);
        assert_eq!(v, AnyValue::from("short"));
        let mut v = AnyValue::from("ab");
        truncate_value(&mut v, 0);
        assert_eq!(v, AnyValue::from(""));
    }

    #[test]
    fn bytes_arrays_and_maps_are_cut() {
        let mut v = AnyValue::Bytes(vec![1, 2, 3, 4]);
        truncate_value(&mut v, 2);
        assert_eq!(v, AnyValue::Bytes(vec![1, 2]));
        let mut v = AnyValue::Array(vec!["abcdef".into(), 7.into(), vec![9u8; 9].into()]);
        truncate_value(&mut v, 3);
        assert_eq!(
            v,
            AnyValue::Array(vec!["abc".into(), 7.into(), vec![9u8; 3].into()])
        );
        let mut v = AnyValue::KvList(vec![KeyValue::new("k", "long value")]);
        truncate_value(&mut v, 4);
        assert_eq!(v, AnyValue::KvList(vec![KeyValue::new("k", "long")]));
        let mut v = AnyValue::Int(123_456);
        truncate_value(&mut v, 1);
        assert_eq!(v, AnyValue::Int(123_456));
    }

    #[test]
    fn set_attribute_replaces_then_limits() {
        let mut attrs = Vec::new();
        let mut dropped = 0;
        set_attribute(&mut attrs, &mut dropped, KeyValue::new("a", 1), 2, None);
        set_attribute(&mut attrs, &mut dropped, KeyValue::new("b", 2), 2, None);
        set_attribute(&mut attrs, &mut dropped, KeyValue::new("c", 3), 2, None);
        set_attribute(&mut attrs, &mut dropped, KeyValue::new("a", 9), 2, None);
        assert_eq!(attrs, vec![KeyValue::new("a", 9), KeyValue::new("b", 2)]);
        assert_eq!(dropped, 1);
    }

    #[test]
    fn list_dedup_and_limits() {
        let mut attrs = vec![
            KeyValue::new("a", 1),
            KeyValue::new("b", "xyz"),
            KeyValue::new("a", 2),
            KeyValue::new("c", 3),
            KeyValue::new("d", 4),
        ];
        let dropped = apply_to_list(&mut attrs, 2, Some(1));
        assert_eq!(attrs, vec![KeyValue::new("a", 2), KeyValue::new("b", "x")]);
        assert_eq!(dropped, 2);
        let mut fits = vec![KeyValue::new("a", 1)];
        assert_eq!(apply_to_list(&mut fits, 1, None), 0);
    }

    #[test]
    fn env_fallbacks_and_warnings() {
        let env = |k: &str| match k {
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT" => Some("16".to_string()),
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" => Some(" 3 ".to_string()),
            "OTEL_ATTRIBUTE_COUNT_LIMIT" => Some("99".to_string()),
            "OTEL_SPAN_LINK_COUNT_LIMIT" => Some("-1".to_string()),
            "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT" => Some("".to_string()),
            "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT" => Some("0".to_string()),
            _ => None,
        };
        let (l, w) = SpanLimits::from_env_with(env);
        assert_eq!(l.attribute_count, 3);
        assert_eq!(l.attribute_value_length, Some(16));
        assert_eq!(l.link_count, 128);
        assert_eq!(l.attributes_per_link, 128);
        assert_eq!(l.attributes_per_event, 0);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].source_name(), "OTEL_SPAN_LINK_COUNT_LIMIT");
        let (l, w) = SpanLimits::from_env_with(|_| None);
        assert_eq!(l, SpanLimits::default());
        assert!(w.is_empty());
    }
}
