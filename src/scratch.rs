//! Per-thread scratch space for instrumentation that encodes records as they are built
//! (spans, log records): an encoder and a small pool of byte buffers.

use crate::encode::protobuf::ProtoEncoder;
use alloc::vec::Vec;

std::thread_local! {
    /// This thread's encoding scratch space.
    static ENCODER: core::cell::Cell<ProtoEncoder> =
        core::cell::Cell::new(ProtoEncoder::new());
    /// Field buffers of finished records, for the next records built on this thread.
    static BUFFERS: core::cell::RefCell<Vec<Vec<u8>>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Buffers kept per thread, and the largest kept.
const KEPT_BUFFERS: usize = 8;
const KEPT_BUFFER_BYTES: usize = 16 * 1024;

/// Runs `f` with this thread's encoder (taken out for the call, so a nested call gets a
/// fresh one; during thread teardown, a fresh one too).
pub(crate) fn with_encoder<R>(f: impl FnOnce(&mut ProtoEncoder) -> R) -> R {
    let mut enc = ENCODER.try_with(core::cell::Cell::take).unwrap_or_default();
    let out = f(&mut enc);
    let _ = ENCODER.try_with(|e| e.set(enc));
    out
}

pub(crate) fn take_buffer() -> Vec<u8> {
    BUFFERS
        .try_with(|b| b.try_borrow_mut().ok().and_then(|mut b| b.pop()))
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(512))
}

pub(crate) fn give_back_buffer(mut buf: Vec<u8>) {
    if buf.capacity() > KEPT_BUFFER_BYTES {
        return;
    }
    buf.clear();
    let _ = BUFFERS.try_with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            if b.len() < KEPT_BUFFERS {
                b.push(buf);
            }
        }
    });
}
