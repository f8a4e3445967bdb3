//! Trace and span identifiers.

use core::fmt;
use core::str::FromStr;

/// Why a hex id could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseIdError {
    /// The text was not exactly the expected number of hex digits (32 or 16).
    Length {
        /// How many characters were given.
        found: usize,
        /// How many were expected.
        expected: usize,
    },
    /// A character at this byte offset was not a hex digit.
    NotHex {
        /// Byte offset of the first bad character.
        at: usize,
    },
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseIdError::Length { found, expected } => {
                write!(
                    f,
                    "id has {found} characters, expected {expected} hex digits"
                )
            }
            ParseIdError::NotHex { at } => write!(f, "id has a non-hex character at offset {at}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ParseIdError {}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    let b = s.as_bytes();
    if b.len() != N * 2 {
        return Err(ParseIdError::Length {
            found: b.len(),
            expected: N * 2,
        });
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        let hi = hex_digit(b[2 * i]).ok_or(ParseIdError::NotHex { at: 2 * i })?;
        let lo = hex_digit(b[2 * i + 1]).ok_or(ParseIdError::NotHex { at: 2 * i + 1 })?;
        *o = (hi << 4) | lo;
    }
    Ok(out)
}

/// Writes `bytes` as lower-case hex into a fixed-capacity string (no heap).
fn to_hex<const N: usize>(bytes: &[u8]) -> heapless::String<N> {
    let mut s = heapless::String::new();
    for &b in bytes {
        // Capacity is exactly 2 * bytes.len(); pushes cannot fail.
        let _ = s.push(HEX[(b >> 4) as usize] as char);
        let _ = s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $n:expr, $hexlen:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name([u8; $n]);

        impl $name {
            /// The invalid (all-zero) id. OTLP omits it from the wire.
            pub const INVALID: $name = $name([0; $n]);

            /// Wraps raw bytes (big-endian, as on the wire).
            pub const fn from_bytes(bytes: [u8; $n]) -> Self {
                $name(bytes)
            }

            /// The raw bytes.
            pub const fn to_bytes(self) -> [u8; $n] {
                self.0
            }

            /// The raw bytes, borrowed.
            pub const fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }

            /// `true` unless every byte is zero.
            pub fn is_valid(&self) -> bool {
                self.0 != [0; $n]
            }

            /// `true` when every byte is zero (the id is absent).
            pub fn is_none(&self) -> bool {
                !self.is_valid()
            }

            /// Lower-case hex, in a fixed-capacity string: no allocation.
            pub fn to_hex(&self) -> heapless::String<$hexlen> {
                to_hex::<$hexlen>(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            /// Parses exactly the right number of hex digits, either case.
            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                parse_hex::<$n>(s).map($name)
            }
        }

        impl From<[u8; $n]> for $name {
            fn from(b: [u8; $n]) -> Self {
                $name(b)
            }
        }
    };
}

id_type!(
    /// A 16-byte trace id. All zero means invalid (absent).
    ///
    /// ```
    /// use otlp_sync::model::TraceId;
    /// let id: TraceId = "4BF92F3577B34DA6A3CE929D0E0E4736".parse().unwrap();
    /// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert!(id.is_valid());
    /// assert!("4bf9".parse::<TraceId>().is_err());
    /// assert!(!TraceId::INVALID.is_valid());
    /// ```
    TraceId, 16, 32
);
id_type!(
    /// An 8-byte span id. All zero means invalid (absent).
    ///
    /// ```
    /// use otlp_sync::model::SpanId;
    /// let id = SpanId::from_bytes([0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
    /// assert_eq!(id.to_string(), "00f067aa0ba902b7");
    /// assert_eq!("00f067aa0ba902b7".parse::<SpanId>(), Ok(id));
    /// ```
    SpanId, 8, 16
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(
            "abc".parse::<SpanId>(),
            Err(ParseIdError::Length {
                found: 3,
                expected: 16
            })
        );
        assert_eq!(
            "00f067aa0ba902bz".parse::<SpanId>(),
            Err(ParseIdError::NotHex { at: 15 })
        );
    }

    #[test]
    fn hex_round_trip() {
        let id = TraceId::from_bytes([0xde; 16]);
        assert_eq!(id.to_hex().as_str().parse::<TraceId>(), Ok(id));
        assert_eq!(
            format!("{id:?}"),
            "TraceId(dededededededededededededededede)"
        );
    }
}
