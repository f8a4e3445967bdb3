//! [`Headers`]: extra HTTP headers for export requests, with values kept out of `Debug`.

use std::fmt;

/// Extra HTTP headers sent with every export request of a signal (often credentials, such
/// as `authorization` or `api-key`).
///
/// Header values are secrets as far as this crate is concerned: `Debug` prints
/// `<redacted>` in their place, and no warning or error ever contains one.
///
/// ```
/// use otlp_sync::config::Headers;
/// let headers: Headers = [("api-key", "s3cret")].into_iter().collect();
/// assert_eq!(headers.get("API-Key"), Some("s3cret"));
/// assert_eq!(format!("{headers:?}"), r#"{"api-key": "<redacted>"}"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Adds a header, replacing any header of the same name (compared case-insensitively).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&name))
        {
            Some(slot) => *slot = (name, value),
            None => self.entries.push((name, value)),
        }
    }

    /// The value of a header, by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as `(name, value)` pairs, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of headers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first problem with a header, as `(name-or-None, reason)`. The name is left out
    /// when it is itself invalid (a pasted `Authorization: Bearer ...` would show a secret).
    pub(crate) fn first_invalid(&self) -> Option<(Option<&str>, &'static str)> {
        self.entries.iter().find_map(|(k, v)| {
            if !is_valid_name(k) {
                Some((None, "a header name is empty or not a valid HTTP token"))
            } else if !is_valid_value(v) {
                Some((
                    Some(k.as_str()),
                    "the header value contains a control character",
                ))
            } else {
                None
            }
        })
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (k, v) in iter {
            headers.insert(k, v);
        }
        headers
    }
}

/// Prints names only; every value is `<redacted>`.
impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted;
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"<redacted>\"")
            }
        }
        f.debug_map()
            .entries(self.entries.iter().map(|(k, _)| (k, Redacted)))
            .finish()
    }
}

/// An HTTP field name: a non-empty RFC 9110 token.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// An HTTP field value: no control characters other than tab (so no CR/LF injection).
pub(crate) fn is_valid_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}
