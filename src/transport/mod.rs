//! Transports: the only code that does network I/O.
//!
//! A [`Transport`] sends one encoded, compressed request body and returns what the
//! receiver answered, without judging it: classifying the answer (success, retry, drop) is
//! the job of [`crate::retry`] and the pipeline.

#[cfg(feature = "http")]
pub mod http;

use crate::compress::Compression;
use crate::encode::Encoding;
use crate::model::Signal;
use std::fmt;
use std::time::Duration;

/// One export request, borrowed from the worker's reused buffers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Which signal: picks the endpoint.
    pub signal: Signal,
    /// Body encoding: sets `Content-Type`.
    pub encoding: Encoding,
    /// Body compression: sets `Content-Encoding`.
    pub compression: Compression,
    /// The body, already encoded and compressed.
    pub body: &'a [u8],
    /// How long this attempt may take at most, end to end (connect, send, receive).
    pub timeout: Duration,
}

/// What the receiver answered. Any HTTP status arrives here, 4xx and 5xx included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header value, when present (not yet parsed).
    pub retry_after: Option<String>,
    /// The `Content-Type` header value, when present.
    pub content_type: Option<String>,
    /// The body, read up to the transport's response size bound.
    pub body: Vec<u8>,
}

/// Why no response was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (refused, unreachable, DNS failure). Retryable.
    Connect,
    /// The attempt ran out of time (connect, send or receive). Retryable.
    Timeout,
    /// The connection was closed or reset before a full response arrived. Retryable.
    ConnectionClosed,
    /// TLS setup or handshake failed. Not retryable.
    Tls,
    /// The response was not valid HTTP, or its body was over the response size bound.
    /// Not retryable.
    InvalidResponse,
    /// The request could not be made as configured (bad URL, bad header). Not retryable.
    Config,
    /// Any other I/O failure. Retryable.
    Io,
}

/// A failed attempt: no usable response.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// Makes an error of a kind with a human-readable message (which must not contain
    /// header values).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
        }
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for TransportError {}

/// Sends export requests. Implementations are blocking and used from one thread at a time
/// (the pipeline's worker); every call must return within `request.timeout` plus a small
/// margin.
pub trait Transport: Send {
    /// Sends one request and returns the receiver's answer, whatever its status.
    fn send(&mut self, request: &Request<'_>) -> Result<Response, TransportError>;
}
