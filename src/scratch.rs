//! Per-thread scratch space for instrumentation that encodes records as they are built
//! (spans, log records): a small pool of byte buffers.

use alloc::vec::Vec;

std::thread_local! {
    /// Field buffers of finished records, for the next records built on this thread.
    static BUFFERS: core::cell::RefCell<Vec<Vec<u8>>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Buffers kept per thread, and the largest kept.
const KEPT_BUFFERS: usize = 8;
const KEPT_BUFFER_BYTES: usize = 16 * 1024;

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
