//! Random ids: a million span ids and a million trace ids made on four threads at once
//! are all valid and all distinct.

use otlp_sync::model::{SpanId, TraceId};
use otlp_sync::trace::{random_span_id, random_trace_id};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

const THREADS: usize = 4;
const PER_THREAD: usize = 250_000;

#[test]
fn a_million_ids_across_threads_are_unique_and_valid() {
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let spans: Vec<SpanId> = (0..PER_THREAD).map(|_| random_span_id()).collect();
                let traces: Vec<TraceId> = (0..PER_THREAD).map(|_| random_trace_id()).collect();
                (spans, traces)
            })
        })
        .collect();
    let mut span_ids = HashSet::with_capacity(THREADS * PER_THREAD);
    let mut trace_ids = HashSet::with_capacity(THREADS * PER_THREAD);
    for h in handles {
        let (spans, traces) = h.join().expect("id thread");
        for id in spans {
            assert!(id.is_valid());
            assert!(span_ids.insert(id), "duplicate span id {id}");
        }
        for id in traces {
            assert!(id.is_valid());
            assert!(trace_ids.insert(id), "duplicate trace id {id}");
        }
    }
    assert_eq!(span_ids.len(), THREADS * PER_THREAD);
    assert_eq!(trace_ids.len(), THREADS * PER_THREAD);
}

#[test]
fn bits_are_balanced() {
    // Every bit of a span id is set in about half of 20 000 ids (sd ~ 71).
    let mut ones = [0u32; 64];
    for _ in 0..20_000 {
        let v = u64::from_be_bytes(random_span_id().to_bytes());
        for (bit, count) in ones.iter_mut().enumerate() {
            *count += ((v >> bit) & 1) as u32;
        }
    }
    for (bit, count) in ones.iter().enumerate() {
        assert!((9_500..=10_500).contains(count), "bit {bit}: {count}");
    }
}
