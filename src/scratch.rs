//! Per-thread scratch space for instrumentation that encodes records as they are built
//! (spans, log records): small pools of buffers, kept per thread so that taking and giving
//! back is a thread-local borrow.

use alloc::vec::Vec;
use core::cell::RefCell;
use std::thread::LocalKey;

/// Items a pool keeps per thread.
const KEPT: usize = 8;
/// The largest buffer a pool keeps (a larger one is freed when given back).
pub(crate) const KEPT_BUFFER_BYTES: usize = 16 * 1024;

std::thread_local! {
    /// Field buffers of finished records, for the next records built on this thread.
    static BUFFERS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An item from this thread's `pool`, if it holds one (none during thread teardown).
pub(crate) fn pop<T: 'static>(pool: &'static LocalKey<RefCell<Vec<T>>>) -> Option<T> {
    pool.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
}

/// Keeps `item` in this thread's `pool` unless it holds enough (then it is dropped).
pub(crate) fn push<T: 'static>(pool: &'static LocalKey<RefCell<Vec<T>>>, item: T) {
    let _ = pool.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < KEPT {
                p.push(item);
            }
        }
    });
}

pub(crate) fn take_buffer() -> Vec<u8> {
    pop(&BUFFERS).unwrap_or_else(|| Vec::with_capacity(512))
}

pub(crate) fn give_back_buffer(mut buf: Vec<u8>) {
    if buf.capacity() > KEPT_BUFFER_BYTES {
        return;
    }
    buf.clear();
    push(&BUFFERS, buf);
}
