//! The sparse index of one segment: about one entry per 4 KiB of log, as Kafka keeps it.
//!
//! An entry maps a frame's sequence counter and arrival time to its byte position. Because counters
//! strictly increase and arrival times never decrease within a shard, both columns are sorted, so a
//! seek is a binary search to the last entry at or before the target followed by a scan of at most
//! [`INDEX_INTERVAL_BYTES`] of frames.
//!
//! The index is a cache, never the truth. In memory it is rebuilt from the log whenever it is missing
//! or in doubt; on disk (`<base>.idx`, written when a segment is sealed and at clean shutdown) it is
//! only trusted when its checksum, its shape and the segment length it covers all check out.
//!
//! In memory the index is a fixed-capacity array of atomics with a published length, so the single
//! writer can append while any number of readers search it without a lock: an entry's fields are
//! stored before `len` is bumped with Release, and readers load `len` with Acquire.

use super::checksum;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::frame::u64_at;

/// A new index entry is added once the log has grown this many bytes past the previous entry.
pub const INDEX_INTERVAL_BYTES: u64 = 4096;

/// One index entry: the frame with this counter and arrival time starts at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// Sequence counter of the frame.
    pub counter: u64,
    /// Arrival time of the frame, Unix milliseconds.
    pub arrival_ms: u64,
    /// Byte offset of the frame within its segment file.
    pub position: u64,
}

#[derive(Default)]
struct Slot {
    counter: AtomicU64,
    arrival_ms: AtomicU64,
    position: AtomicU64,
}

/// The in-memory sparse index of one segment. One writer, many lock-free readers.
pub struct SparseIndex {
    slots: Box<[Slot]>,
    /// Number of published entries. Invariant: only grows; entries below it are immutable.
    len: AtomicUsize,
}

impl SparseIndex {
    /// An empty index sized for a segment of `segment_bytes` (one entry per interval, plus the first).
    pub fn with_segment_bytes(segment_bytes: u64) -> SparseIndex {
        let capacity = usize::try_from(segment_bytes / INDEX_INTERVAL_BYTES + 2).unwrap_or(2);
        SparseIndex {
            slots: (0..capacity).map(|_| Slot::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// The last entry, if any.
    pub fn last(&self) -> Option<IndexEntry> {
        self.len().checked_sub(1).and_then(|i| self.entry(i))
    }

    /// Whether a frame at `position` should get an entry.
    pub fn wants_entry_at(&self, position: u64) -> bool {
        match self.last() {
            None => true,
            Some(last) => position >= last.position + INDEX_INTERVAL_BYTES,
        }
    }

    /// Appends an entry. Only the single writer calls this; entries must come in log order.
    /// Returns false (and adds nothing) when the index is full, which only a caller that ignores
    /// [`Self::wants_entry_at`] can cause; a missing entry costs a longer scan, never a wrong answer.
    pub fn push(&self, entry: IndexEntry) -> bool {
        let len = self.len.load(Ordering::Relaxed);
        if let Some(previous) = len.checked_sub(1).and_then(|i| self.entry(i)) {
            debug_assert!(entry.counter > previous.counter, "index counters increase");
            debug_assert!(
                entry.arrival_ms >= previous.arrival_ms,
                "arrivals never decrease"
            );
            debug_assert!(entry.position > previous.position, "positions increase");
        }
        let Some(slot) = self.slots.get(len) else {
            return false;
        };
        slot.counter.store(entry.counter, Ordering::Relaxed);
        slot.arrival_ms.store(entry.arrival_ms, Ordering::Relaxed);
        slot.position.store(entry.position, Ordering::Relaxed);
        self.len.store(len + 1, Ordering::Release);
        true
    }

    fn entry(&self, i: usize) -> Option<IndexEntry> {
        let slot = self.slots.get(i)?;
        Some(IndexEntry {
            counter: slot.counter.load(Ordering::Relaxed),
            arrival_ms: slot.arrival_ms.load(Ordering::Relaxed),
            position: slot.position.load(Ordering::Relaxed),
        })
    }

    /// The last entry whose counter is ≤ `counter`: where a scan for `counter` starts.
    pub fn floor_by_counter(&self, counter: u64) -> Option<IndexEntry> {
        self.floor(|entry| entry.counter <= counter)
    }

    /// The last entry whose arrival is < `arrival_ms`: a scan for the first record at or after
    /// `arrival_ms` starts there (an entry equal to the target may have equal predecessors).
    pub fn floor_by_arrival(&self, arrival_ms: u64) -> Option<IndexEntry> {
        self.floor(|entry| entry.arrival_ms < arrival_ms)
    }

    /// Binary search for the last entry satisfying a predicate that is true on a prefix.
    fn floor(&self, is_before: impl Fn(&IndexEntry) -> bool) -> Option<IndexEntry> {
        let (mut low, mut high) = (0usize, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.entry(middle) {
                Some(entry) if is_before(&entry) => low = middle + 1,
                _ => high = middle,
            }
        }
        low.checked_sub(1).and_then(|i| self.entry(i))
    }

    /// A copy of all published entries.
    pub fn entries(&self) -> Vec<IndexEntry> {
        (0..self.len()).filter_map(|i| self.entry(i)).collect()
    }
}

/// What an index file records about its segment besides the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSummary {
    /// Base counter of the segment the index belongs to.
    pub base_counter: u64,
    /// Length of the segment, in bytes, that the index covers.
    pub covered_len: u64,
    /// Counter of the last frame in the covered length.
    pub last_counter: u64,
    /// Arrival time of the last frame in the covered length.
    pub last_arrival_ms: u64,
}

const FILE_MAGIC: [u8; 8] = *b"SHLGIDX1";
const FILE_HEADER_BYTES: usize = 48;
const ENTRY_BYTES: usize = 24;

/// Writes an index file atomically enough for a cache: a temporary file renamed into place. It is
/// not fsynced: if a crash garbles it, its checksum fails and the index is rebuilt from the log.
pub fn write_file(path: &Path, summary: IndexSummary, entries: &[IndexEntry]) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(FILE_HEADER_BYTES + entries.len() * ENTRY_BYTES + 4);
    bytes.extend_from_slice(&FILE_MAGIC);
    bytes.extend_from_slice(&summary.base_counter.to_le_bytes());
    bytes.extend_from_slice(&summary.covered_len.to_le_bytes());
    bytes.extend_from_slice(&summary.last_counter.to_le_bytes());
    bytes.extend_from_slice(&summary.last_arrival_ms.to_le_bytes());
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for entry in entries {
        bytes.extend_from_slice(&entry.counter.to_le_bytes());
        bytes.extend_from_slice(&entry.arrival_ms.to_le_bytes());
        bytes.extend_from_slice(&entry.position.to_le_bytes());
    }
    let crc = checksum::crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());

    let temporary = path.with_extension("idx.tmp");
    let mut file = fs::File::create(&temporary)?;
    file.write_all(&bytes)?;
    drop(file);
    fs::rename(&temporary, path)
}

/// Reads an index file. `None` when it is missing, damaged, or inconsistent in any way: the caller
/// then rebuilds the index from the log.
pub fn read_file(path: &Path) -> Option<(IndexSummary, Vec<IndexEntry>)> {
    let bytes = fs::read(path).ok()?;
    let body_len = bytes.len().checked_sub(4)?;
    let (body, crc) = bytes.split_at(body_len);
    if checksum::crc32(body).to_le_bytes() != crc || body.get(..8)? != FILE_MAGIC {
        return None;
    }
    let summary = IndexSummary {
        base_counter: u64_at(body, 8),
        covered_len: u64_at(body, 16),
        last_counter: u64_at(body, 24),
        last_arrival_ms: u64_at(body, 32),
    };
    let count = usize::try_from(u64_at(body, 40)).ok()?;
    if body.len() != FILE_HEADER_BYTES + count.checked_mul(ENTRY_BYTES)? {
        return None;
    }
    let entries: Vec<IndexEntry> = body
        .get(FILE_HEADER_BYTES..)?
        .chunks_exact(ENTRY_BYTES)
        .map(|chunk| IndexEntry {
            counter: u64_at(chunk, 0),
            arrival_ms: u64_at(chunk, 8),
            position: u64_at(chunk, 16),
        })
        .collect();
    let sorted = entries.windows(2).all(|pair| match pair {
        [a, b] => a.counter < b.counter && a.arrival_ms <= b.arrival_ms && a.position < b.position,
        _ => true,
    });
    let within = entries.iter().all(|entry| {
        entry.position < summary.covered_len
            && entry.counter >= summary.base_counter
            && entry.counter <= summary.last_counter
    });
    (sorted && within).then_some((summary, entries))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn filled() -> SparseIndex {
        let index = SparseIndex::with_segment_bytes(1 << 20);
        for i in 0..100u64 {
            assert!(index.push(IndexEntry {
                counter: 10 + i * 30,
                arrival_ms: 1000 + i / 2,
                position: 64 + i * INDEX_INTERVAL_BYTES,
            }));
        }
        index
    }

    #[test]
    fn floor_by_counter_finds_the_last_entry_at_or_before() {
        let index = filled();
        assert_eq!(index.floor_by_counter(9), None);
        assert_eq!(index.floor_by_counter(10).unwrap().counter, 10);
        assert_eq!(index.floor_by_counter(39).unwrap().counter, 10);
        assert_eq!(index.floor_by_counter(40).unwrap().counter, 40);
        assert_eq!(
            index.floor_by_counter(u64::MAX).unwrap().counter,
            10 + 99 * 30
        );
    }

    #[test]
    fn floor_by_arrival_stops_before_equal_arrivals() {
        let index = filled();
        // Entries 4 and 5 both arrived at 1002: a search for 1002 must start before entry 4.
        let entry = index.floor_by_arrival(1002).unwrap();
        assert_eq!(entry.arrival_ms, 1001);
        assert_eq!(entry.counter, 10 + 3 * 30);
        assert_eq!(index.floor_by_arrival(1000), None);
    }

    #[test]
    fn a_full_index_refuses_entries() {
        let index = SparseIndex::with_segment_bytes(0);
        assert!(index.push(IndexEntry {
            counter: 1,
            arrival_ms: 1,
            position: 64
        }));
        assert!(index.push(IndexEntry {
            counter: 2,
            arrival_ms: 1,
            position: 65
        }));
        assert!(!index.push(IndexEntry {
            counter: 3,
            arrival_ms: 1,
            position: 66
        }));
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn index_files_round_trip_and_reject_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000010.idx");
        let entries = filled().entries();
        let summary = IndexSummary {
            base_counter: 10,
            covered_len: 64 + 100 * INDEX_INTERVAL_BYTES,
            last_counter: 10 + 99 * 30 + 5,
            last_arrival_ms: 1049,
        };
        write_file(&path, summary, &entries).unwrap();
        assert_eq!(read_file(&path), Some((summary, entries)));

        let mut bytes = fs::read(&path).unwrap();
        bytes[60] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(read_file(&path), None);
        fs::write(&path, &bytes[..10]).unwrap();
        assert_eq!(read_file(&path), None);
        assert_eq!(read_file(&dir.path().join("missing.idx")), None);
    }
}
