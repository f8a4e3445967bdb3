//! The packed store: a signal's queue of encoded records under
//! [`FullPolicy::Drop`](super::FullPolicy::Drop), as bytes in shared chunks rather than one
//! allocation and one channel slot per record.
//!
//! A producer copies a record (its protobuf bytes, field tag and length prefix included)
//! into the last chunk of its *shard*, under that shard's lock, behind a 6-byte header
//! (scope id `u16`, length `u32`, little-endian). A thread keeps to one shard, picked
//! round-robin on its first record, so threads rarely meet on a lock. The worker takes a
//! shard's chunks all at once (a swap of chunk lists under the lock), reads the records out
//! into its batches, and hands emptied chunks back to the shards (at most one spare per
//! shard, [`SHARDS`] more held by the worker), so a steady flow allocates nothing.
//!
//! The queue bound is a record count, [`Store::depth`]: a record takes a slot as it is
//! appended (none free: it is dropped), and the worker gives slots back when it has moved
//! a chunk's records into its batches. Records the worker has taken but not batched yet
//! still count, so the bound bounds memory.
//!
//! [`Store::push`] reserves slots a few at a time: a shard takes a block of them from
//! `depth` (a sixteenth of the free room, at most [`CREDIT_BLOCK`], one when the queue is
//! nearly full) and spends it on its next records, so that threads appending at once do
//! not all write `depth`, one cache line, on every record. The worker takes back what a
//! shard has not spent whenever it takes the shard's chunks. Slots held unspent count as
//! queued; there are at most half the free room of them, so the queue still fills to its
//! capacity, give or take a slot per shard.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Shards per signal.
pub(crate) const SHARDS: usize = 8;

/// Bytes a chunk holds; a record (with its header) larger than this gets a chunk of its own.
pub(super) const CHUNK: usize = 32 * 1024;

/// Bytes in front of each record in a chunk: scope id (`u16`) and length (`u32`).
pub(super) const RECORD_HEADER: usize = 6;

/// Slots a shard reserves at once at most ([`Store::push`]).
const CREDIT_BLOCK: usize = 32;

/// Chunks the worker keeps for reuse (besides the one spare in each shard).
const WORKER_SPARES: usize = SHARDS;

/// Hands shards out to threads round-robin.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

std::thread_local! {
    /// This thread's shard index (`usize::MAX` until its first record).
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The calling thread's shard, below [`SHARDS`] (also its stripe of the striped
/// counters, [`super::stats::Striped`]).
pub(crate) fn shard_index() -> usize {
    SHARD
        .try_with(|s| {
            let mut i = s.get();
            if i >= SHARDS {
                i = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
                s.set(i);
            }
            i
        })
        // During thread teardown: any shard will do.
        .unwrap_or(0)
}

/// One shard's chunks: the records appended since the worker last took them, oldest
/// chunk first, and one spare.
#[derive(Debug, Default)]
struct Chunks {
    list: Vec<Vec<u8>>,
    spare: Option<Vec<u8>>,
    /// Slots reserved in the store's depth and not spent yet ([`Store::push`]).
    credit: usize,
}

/// A shard, alone on its cache lines (two, against adjacent-line prefetch).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    chunks: Mutex<Chunks>,
    /// Whether `chunks.list` may hold records: set by the producer whose append makes it
    /// non-empty, cleared when the worker takes the list. The worker skips (does not lock)
    /// shards where it is clear. SeqCst: see [`Store::append`].
    pending: AtomicBool,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Chunks> {
        // A panic under the lock leaves the chunks consistent (only `push` and
        // `extend_from_slice` run there): carry on.
        self.chunks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One signal's packed queue.
#[derive(Debug)]
pub(super) struct Store {
    shards: [Shard; SHARDS],
    /// Records reserved, appended, or taken by the worker and not yet batched.
    depth: AtomicUsize,
    capacity: usize,
}

impl Store {
    /// An empty store for at most `capacity` records. Allocates no chunk until a record
    /// comes.
    pub(super) fn new(capacity: usize) -> Self {
        Store {
            shards: Default::default(),
            depth: AtomicUsize::new(0),
            capacity,
        }
    }

    /// Records queued (reserved, in chunks, or taken and not batched yet).
    #[inline]
    pub(super) fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Whether a reservation now would fail.
    #[inline]
    pub(super) fn is_full(&self) -> bool {
        self.depth() >= self.capacity
    }

    /// Reserves a slot for one record queued elsewhere (a model value sent on the lane's
    /// channel, which the store's depth counts too): the depth with it, or `None` (nothing
    /// changed) when the store is full.
    #[inline]
    pub(super) fn reserve(&self) -> Option<usize> {
        // A plain load first: a full queue is not written to by every dropped record.
        if self.is_full() {
            return None;
        }
        let before = self.depth.fetch_add(1, Ordering::Relaxed);
        if before >= self.capacity {
            self.release(1);
            return None;
        }
        Some(before.saturating_add(1))
    }

    /// Reserves a block of slots for a shard: how many, and the depth with them; `None`
    /// when the store is full.
    fn grab(&self) -> Option<(usize, usize)> {
        let mut depth = self.depth.load(Ordering::Relaxed);
        loop {
            let free = self.capacity.checked_sub(depth).filter(|&f| f > 0)?;
            let n = (free / (2 * SHARDS)).clamp(1, CREDIT_BLOCK);
            match self.depth.compare_exchange_weak(
                depth,
                depth + n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some((n, depth + n)),
                Err(now) => depth = now,
            }
        }
    }

    /// Appends `record` of scope `scope` to the calling thread's shard, reserving its slot
    /// from the shard's block (see the module documentation).
    pub(super) fn push(&self, scope: u16, record: &[u8]) -> Pushed {
        if u32::try_from(record.len()).is_err() {
            return Pushed::TooLarge;
        }
        let Some(shard) = self.shards.get(shard_index()) else {
            return Pushed::Full;
        };
        let mut chunks = shard.lock();
        let mut depth = None;
        if chunks.credit == 0 {
            match self.grab() {
                Some((n, d)) => {
                    chunks.credit = n;
                    depth = Some(d);
                }
                None => return Pushed::Full,
            }
        }
        chunks.credit -= 1;
        Self::append_locked(shard, &mut chunks, scope, record);
        Pushed::Queued(depth)
    }

    /// Gives `n` slots back.
    #[inline]
    pub(super) fn release(&self, n: usize) {
        if n > 0 {
            self.depth.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Appends `record` under the shard's lock, of a record under 4 GiB. The append is
    /// published by the shard's lock: whoever locks the shard after this sees the record.
    fn append_locked(shard: &Shard, chunks: &mut Chunks, scope: u16, record: &[u8]) {
        let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
        let need = record.len().saturating_add(RECORD_HEADER);
        let fits = chunks
            .list
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= need);
        if !fits {
            let chunk = if need > CHUNK {
                Vec::with_capacity(need)
            } else {
                chunks
                    .spare
                    .take()
                    .unwrap_or_else(|| Vec::with_capacity(CHUNK))
            };
            chunks.list.push(chunk);
        }
        if let Some(chunk) = chunks.list.last_mut() {
            chunk.extend_from_slice(&scope.to_le_bytes());
            chunk.extend_from_slice(&len.to_le_bytes());
            chunk.extend_from_slice(record);
        }
        // Only the append that makes the list non-empty writes the flag. SeqCst: one side
        // of a store-load handshake with the idle worker (it stores its idle flag, then
        // loads this one; we store this, then load its flag), so one sees the other.
        if !shard.pending.load(Ordering::Relaxed) {
            shard.pending.store(true, Ordering::SeqCst);
        }
    }

    /// Moves the chunks of every shard with records into `out` (oldest first per shard),
    /// giving shards without a spare one of `spares`. `false` when nothing was taken.
    pub(super) fn take(&self, out: &mut Vec<Vec<u8>>, spares: &mut Vec<Vec<u8>>) -> bool {
        let before = out.len();
        for shard in &self.shards {
            if !shard.pending.load(Ordering::SeqCst) {
                continue;
            }
            let mut chunks = shard.lock();
            shard.pending.store(false, Ordering::Relaxed);
            out.append(&mut chunks.list);
            if chunks.spare.is_none() {
                chunks.spare = spares.pop();
            }
            // Unspent slots back to the queue.
            self.release(std::mem::take(&mut chunks.credit));
        }
        out.len() > before
    }

    /// Empties every shard (locking each, whatever its flag), giving the slots back: the
    /// number of records removed. For the end of the pipeline's life.
    pub(super) fn sweep(&self) -> usize {
        let mut removed = 0usize;
        for shard in &self.shards {
            let taken = {
                let mut chunks = shard.lock();
                shard.pending.store(false, Ordering::Relaxed);
                chunks.spare = None;
                self.release(std::mem::take(&mut chunks.credit));
                std::mem::take(&mut chunks.list)
            };
            for chunk in &taken {
                removed = removed.saturating_add(count_records(chunk));
            }
        }
        self.release(removed);
        removed
    }
}

/// What [`Store::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pushed {
    /// Appended; with the store's depth when this push reserved a block of slots.
    Queued(Option<usize>),
    /// The store is full: nothing appended.
    Full,
    /// 4 GiB or more, which no record header can describe: nothing appended.
    TooLarge,
}

/// The record at `pos` in `chunk`: its scope id, its bytes, and where the next one starts.
/// `None` at the end (or, never expected, at bytes that are not a record).
pub(super) fn record_at(chunk: &[u8], pos: usize) -> Option<(u16, &[u8], usize)> {
    let header = chunk.get(pos..pos.checked_add(RECORD_HEADER)?)?;
    let (scope, len) = header.split_at(2);
    let scope = u16::from_le_bytes(scope.try_into().ok()?);
    let len = usize::try_from(u32::from_le_bytes(len.try_into().ok()?)).ok()?;
    let start = pos + RECORD_HEADER;
    let end = start.checked_add(len)?;
    Some((scope, chunk.get(start..end)?, end))
}

/// Records in `chunk`.
pub(super) fn count_records(chunk: &[u8]) -> usize {
    let mut n = 0;
    let mut pos = 0;
    while let Some((_, _, next)) = record_at(chunk, pos) {
        n += 1;
        pos = next;
    }
    n
}

/// The worker's side of a store: the chunks it has taken, where it is in them, and the
/// emptied chunks it keeps for reuse.
///
/// The slots of the records it hands out are not given back here: the worker does that
/// once they are in batches (in bulk, before anything that may block), with
/// [`Store::release`].
#[derive(Debug, Default)]
pub(super) struct Cursor {
    chunks: Vec<Vec<u8>>,
    /// Index in `chunks` of the chunk being read, and the offset in it.
    chunk: usize,
    pos: usize,
    spares: Vec<Vec<u8>>,
}

impl Cursor {
    /// The next record (scope id and bytes), taking the store's chunks when those in hand
    /// are read out; `None` when the store is empty too.
    pub(super) fn next<'a>(&'a mut self, store: &Store) -> Option<(u16, &'a [u8])> {
        loop {
            if let Some(chunk) = self.chunks.get(self.chunk) {
                if let Some((scope, _, next)) = record_at(chunk, self.pos) {
                    let start = self.pos + RECORD_HEADER;
                    self.pos = next;
                    let record = self.chunks.get(self.chunk)?.get(start..next)?;
                    return Some((scope, record));
                }
                // Read out: keep it for reuse (an ordinary chunk, while there is room).
                if let Some(done) = self.chunks.get_mut(self.chunk) {
                    let mut done = std::mem::take(done);
                    if (CHUNK..2 * CHUNK).contains(&done.capacity())
                        && self.spares.len() < WORKER_SPARES
                    {
                        done.clear();
                        self.spares.push(done);
                    }
                }
                self.chunk += 1;
                self.pos = 0;
                continue;
            }
            self.chunks.clear();
            self.chunk = 0;
            self.pos = 0;
            if !store.take(&mut self.chunks, &mut self.spares) {
                return None;
            }
        }
    }

    /// Drops every record in hand and not read yet, giving their slots back: how many.
    pub(super) fn discard(&mut self, store: &Store) -> usize {
        let mut n = 0usize;
        let mut pos = self.pos;
        for chunk in self.chunks.get(self.chunk..).unwrap_or_default() {
            let mut p = pos;
            while let Some((_, _, next)) = record_at(chunk, p) {
                n += 1;
                p = next;
            }
            pos = 0;
        }
        self.chunks.clear();
        self.chunk = 0;
        self.pos = 0;
        store.release(n);
        n
    }

    /// Chunks held for reuse (for tests).
    #[cfg(test)]
    fn spare_count(&self) -> usize {
        self.spares.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(cursor: &mut Cursor, store: &Store) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        // Bounded: never more records than the capacity.
        for _ in 0..=store.capacity {
            match cursor.next(store) {
                Some((scope, bytes)) => out.push((scope, bytes.to_vec())),
                None => break,
            }
        }
        // Batched: the slots are free.
        store.release(out.len());
        out
    }

    #[test]
    fn records_come_out_as_they_went_in() {
        let store = Store::new(10);
        let mut cursor = Cursor::default();
        assert!(cursor.next(&store).is_none());
        for i in 0..5u8 {
            assert_eq!(
                store.push(u16::from(i), &vec![i; usize::from(i) * 3]),
                Pushed::Queued(Some(usize::from(i) + 1))
            );
        }
        assert_eq!(store.depth(), 5);
        let got = drain(&mut cursor, &store);
        let want: Vec<(u16, Vec<u8>)> = (0..5u8)
            .map(|i| (u16::from(i), vec![i; usize::from(i) * 3]))
            .collect();
        assert_eq!(got, want);
        assert_eq!(store.depth(), 0);
    }

    #[test]
    fn the_capacity_bounds_reservations() {
        let store = Store::new(3);
        assert_eq!(store.reserve(), Some(1));
        assert_eq!(store.reserve(), Some(2));
        assert_eq!(store.reserve(), Some(3));
        assert!(store.is_full());
        assert_eq!(store.reserve(), None);
        assert_eq!(store.depth(), 3, "a failed reservation is undone");
        store.release(1);
        assert_eq!(store.reserve(), Some(3));
    }

    #[test]
    fn pushes_fill_the_capacity_exactly_and_no_further() {
        let store = Store::new(1000);
        let mut pushed = 0usize;
        // Bounded: a push either queues or reports the store full.
        for i in 0..2000u32 {
            match store.push(7, &i.to_le_bytes()) {
                Pushed::Queued(_) => pushed += 1,
                Pushed::Full => break,
                Pushed::TooLarge => panic!("4 bytes"),
            }
        }
        assert_eq!(pushed, 1000, "one thread spends every slot it reserves");
        assert_eq!(store.depth(), 1000);
        assert_eq!(store.push(7, b"x"), Pushed::Full);
        let mut cursor = Cursor::default();
        let got = drain(&mut cursor, &store);
        assert_eq!(got.len(), 1000);
        assert_eq!(got[999], (7, 999u32.to_le_bytes().to_vec()));
        assert_eq!(store.depth(), 0);
        assert!(matches!(store.push(7, b"y"), Pushed::Queued(Some(_))));
    }

    #[test]
    fn unspent_slots_go_back_when_the_worker_takes_a_shard() {
        let store = Store::new(10_000);
        let first = store.push(1, b"abc");
        // A block of slots was reserved: the depth says more than one record.
        let Pushed::Queued(Some(depth)) = first else {
            panic!("the first push reserves a block: {first:?}");
        };
        assert!(depth > 1 && depth <= CREDIT_BLOCK, "{depth}");
        assert_eq!(
            store.push(1, b"def"),
            Pushed::Queued(None),
            "spent from the block"
        );
        let mut out = Vec::new();
        assert!(store.take(&mut out, &mut Vec::new()));
        assert_eq!(
            store.depth(),
            2,
            "only the two records hold slots once taken"
        );
        // Near full, a shard reserves one slot at a time.
        let small = Store::new(20);
        assert_eq!(small.push(1, b"a"), Pushed::Queued(Some(1)));
        assert_eq!(small.push(1, b"b"), Pushed::Queued(Some(2)));
    }

    #[test]
    fn taken_records_hold_their_slots_until_read_out() {
        let store = Store::new(4);
        for _ in 0..4 {
            assert!(matches!(store.push(1, b"abc"), Pushed::Queued(_)));
        }
        let mut cursor = Cursor::default();
        assert_eq!(
            cursor.next(&store).map(|(s, b)| (s, b.to_vec())),
            Some((1, b"abc".to_vec()))
        );
        // Taken by the worker, none given back: the store is still full.
        assert!(store.is_full());
        store.release(1);
        assert_eq!(store.depth(), 3);
        assert_eq!(cursor.discard(&store), 3);
        assert_eq!(store.depth(), 0);
        assert!(cursor.next(&store).is_none());
    }

    #[test]
    fn an_oversized_record_gets_its_own_chunk() {
        let store = Store::new(4);
        let big = vec![7u8; CHUNK * 2];
        assert!(matches!(store.push(2, b"small"), Pushed::Queued(_)));
        assert!(matches!(store.push(3, &big), Pushed::Queued(_)));
        assert!(matches!(store.push(4, b"after"), Pushed::Queued(_)));
        let mut cursor = Cursor::default();
        let got = drain(&mut cursor, &store);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (2, b"small".to_vec()));
        assert_eq!(got[1], (3, big));
        assert_eq!(got[2], (4, b"after".to_vec()));
        // The big chunk is not kept for reuse; the small one is.
        assert_eq!(cursor.spare_count(), 2);
    }

    #[test]
    fn chunks_are_recycled_so_a_steady_flow_allocates_none() {
        let store = Store::new(1000);
        let mut cursor = Cursor::default();
        let record = [5u8; 1000];
        // Three chunks' worth per round.
        let per_round = 3 * CHUNK / (record.len() + RECORD_HEADER);
        for _ in 0..10 {
            for _ in 0..per_round {
                assert!(matches!(store.push(9, &record), Pushed::Queued(_)));
            }
            assert_eq!(drain(&mut cursor, &store).len(), per_round);
            assert_eq!(store.depth(), 0);
            assert!(cursor.spare_count() <= WORKER_SPARES);
        }
        let shard = &store.shards[shard_index()];
        assert!(shard.lock().spare.is_some(), "the shard got a spare back");
        assert!(cursor.spare_count() >= 1);
    }

    #[test]
    fn sweep_counts_and_frees_everything() {
        let store = Store::new(100);
        for _ in 0..7 {
            assert!(matches!(store.push(0, b"x"), Pushed::Queued(_)));
        }
        // A slot held for a model value on the channel stays counted.
        store.reserve();
        assert_eq!(store.sweep(), 7);
        assert_eq!(store.depth(), 1);
        assert_eq!(store.sweep(), 0);
    }

    #[test]
    fn threads_spread_over_shards_and_lose_nothing() {
        let store = std::sync::Arc::new(Store::new(100_000));
        let threads: Vec<_> = (0..4u16)
            .map(|t| {
                let store = std::sync::Arc::clone(&store);
                std::thread::spawn(move || {
                    for i in 0..2000u32 {
                        assert!(matches!(store.push(t, &i.to_le_bytes()), Pushed::Queued(_)));
                    }
                })
            })
            .collect();
        let mut cursor = Cursor::default();
        let mut seen = vec![Vec::new(); 4];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while seen.iter().map(Vec::len).sum::<usize>() < 8000 {
            assert!(std::time::Instant::now() < deadline, "timed out");
            match cursor.next(&store) {
                Some((t, b)) => {
                    seen[usize::from(t)].push(u32::from_le_bytes(b.try_into().unwrap()));
                    store.release(1);
                }
                None => std::thread::yield_now(),
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        // Per thread, in order.
        for s in &seen {
            assert_eq!(*s, (0..2000).collect::<Vec<u32>>());
        }
        assert!(cursor.next(&store).is_none());
        assert_eq!(store.depth(), 0);
    }
}
