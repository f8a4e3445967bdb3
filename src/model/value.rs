//! Attribute values.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

/// A string that is borrowed for `'static` when it can be, owned otherwise.
///
/// `&'static str` literals (names, keys) are stored without allocating.
pub type Str = Cow<'static, str>;

/// A list of attributes, in insertion order. Keys should be unique; the encoders write
/// what they are given.
pub type Attributes = Vec<KeyValue>;

/// An OTLP `AnyValue`: the value of an attribute, a log body, or an element of an array or
/// key-value list.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AnyValue {
    /// No value (the `AnyValue` message with its `value` field unset).
    #[default]
    Empty,
    /// A UTF-8 string.
    Str(Str),
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float; NaN and infinities are allowed.
    Double(f64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An array of values, which may mix types.
    Array(Vec<AnyValue>),
    /// A list of key-value pairs (a map).
    KvList(Vec<KeyValue>),
}

/// A key and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    /// The attribute key.
    pub key: Str,
    /// The attribute value.
    pub value: AnyValue,
}

impl KeyValue {
    /// Makes a pair from anything that converts into a key and a value.
    ///
    /// ```
    /// use otlp_sync::model::{AnyValue, KeyValue};
    /// let kv = KeyValue::new("http.response.status_code", 200);
    /// assert_eq!(kv.key, "http.response.status_code");
    /// assert_eq!(kv.value, AnyValue::Int(200));
    /// ```
    pub fn new(key: impl Into<Str>, value: impl Into<AnyValue>) -> Self {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }

    /// Drops the pair; a scalar or borrowed value (most attributes) without a call into
    /// [`AnyValue`]'s drop, which is out of line (it recurses into arrays and maps) and
    /// so is called even where the variant is known from the line before.
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn release(self) {
        let KeyValue { key, value } = self;
        drop(key);
        value.release();
    }
}

impl AnyValue {
    /// Drops the value; a scalar or a string without a call into the out-of-line drop
    /// (which recurses into arrays and maps, and so is called even where the variant is
    /// known from the line before).
    #[cfg(feature = "std")]
    #[inline(always)]
    pub(crate) fn release(self) {
        match self {
            AnyValue::Str(s) => drop(s),
            // They own nothing: forgetting them leaks nothing.
            v @ (AnyValue::Empty | AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_)) => {
                core::mem::forget(v)
            }
            v => drop(v),
        }
    }
}

impl From<&'static str> for AnyValue {
    fn from(v: &'static str) -> Self {
        AnyValue::Str(Cow::Borrowed(v))
    }
}
impl From<String> for AnyValue {
    fn from(v: String) -> Self {
        AnyValue::Str(Cow::Owned(v))
    }
}
impl From<Str> for AnyValue {
    fn from(v: Str) -> Self {
        AnyValue::Str(v)
    }
}
impl From<bool> for AnyValue {
    fn from(v: bool) -> Self {
        AnyValue::Bool(v)
    }
}
impl From<f64> for AnyValue {
    fn from(v: f64) -> Self {
        AnyValue::Double(v)
    }
}
impl From<f32> for AnyValue {
    fn from(v: f32) -> Self {
        AnyValue::Double(v as f64)
    }
}
impl From<Vec<u8>> for AnyValue {
    fn from(v: Vec<u8>) -> Self {
        AnyValue::Bytes(v)
    }
}
impl From<Vec<AnyValue>> for AnyValue {
    fn from(v: Vec<AnyValue>) -> Self {
        AnyValue::Array(v)
    }
}
impl From<Vec<KeyValue>> for AnyValue {
    fn from(v: Vec<KeyValue>) -> Self {
        AnyValue::KvList(v)
    }
}
macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for AnyValue {
            fn from(v: $t) -> Self {
                AnyValue::Int(v as i64)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for AnyValue {
    /// Values above `i64::MAX` saturate to `i64::MAX` (OTLP has no unsigned integer value).
    fn from(v: u64) -> Self {
        AnyValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for AnyValue {
    /// Values above `i64::MAX` saturate to `i64::MAX`.
    fn from(v: usize) -> Self {
        AnyValue::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
