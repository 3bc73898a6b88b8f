//! Memory mappings of segment files, and the process-wide cache that bounds how many are open.
//!
//! A segment is mapped only while it is used. A mapping is opened on demand (the file descriptor
//! is closed as soon as the mapping exists: a mapping keeps its file's pages reachable by itself),
//! and the segment keeps it until the cache takes it back. The cache is a CLOCK approximation of
//! LRU over every mapped segment in the process, as RocksDB's table cache bounds open files: when
//! more than [`mapping_cache_capacity`] segments are mapped, segments not used since the clock
//! hand last passed them are unmapped. It is process-wide because the limit it protects is:
//! `vm.max_map_count` (65,530 by default) counts every mapping of the process.
//!
//! Unmapping loses nothing: pages written through a shared mapping are in the kernel's page cache,
//! and the next mapping of the file sees them. A mapping lives as long as its last `Arc`: the
//! segment's, an appender's for the length of one append call, a reader's `Bytes`. So the cache
//! bounds the mappings that idle segments hold; records and appends in flight add theirs.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use memmap2::{Advice, MmapOptions, MmapRaw};
use parking_lot::Mutex;

use super::segment::Segment;
use crate::file_system::MappedRange;

/// Default of [`mapping_cache_capacity`]: a quarter of Linux's default `vm.max_map_count`, leaving
/// room for the mappings records and appends hold and for the rest of the process.
pub const DEFAULT_MAPPING_CACHE_CAPACITY: usize = 16 * 1024;

/// One shared, writable mapping of a whole segment file.
pub struct Mapping {
    map: MmapRaw,
}

impl Mapping {
    /// Maps the file at `path` (its whole current length) and closes the descriptor.
    pub fn open(path: &Path) -> io::Result<Mapping> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let map = MmapOptions::new().map_raw(&file)?;
        Ok(Mapping { map })
    }

    /// Wraps a mapping made by the caller.
    pub fn from_raw(map: MmapRaw) -> Mapping {
        Mapping { map }
    }

    /// Bytes mapped.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Start of the mapping.
    pub fn as_ptr(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// Start of the mapping, for writing.
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// The bytes `[from, from + len)`, for a file system to sync
    /// ([`FileSystem::sync_mapped`](crate::file_system::FileSystem::sync_mapped)).
    pub fn range(&self, from: u64, len: u64) -> MappedRange<'_> {
        MappedRange::new(&self.map, from, len)
    }

    /// Faults the pages of `[from, from + len)` in for writing (MADV_POPULATE_WRITE), so appends
    /// there do not stall on page faults. Returns false where the kernel cannot (before 5.14, or
    /// past the end of a file that was trimmed meanwhile): the pages then fault on first write.
    pub fn populate_for_writing(&self, from: u64, len: u64) -> bool {
        let end = from.saturating_add(len).min(self.len());
        if from >= end {
            return true;
        }
        self.map
            .advise_range(Advice::PopulateWrite, from as usize, (end - from) as usize)
            .is_ok()
    }

    /// Whether at least half of the mapped file's pages are in the page cache (mincore), so that
    /// writing over them faults no page in from disk. False where the kernel cannot say.
    pub fn mostly_resident(&self) -> bool {
        const PAGE: usize = 4096;
        let len = self.map.len();
        if len == 0 {
            return false;
        }
        let pages = len.div_ceil(PAGE);
        let mut residency = vec![0u8; pages];
        // SAFETY: the range is exactly this mapping (page-aligned start, as every mapping is), and
        // `residency` has one byte per page of it, as mincore writes.
        let code = unsafe {
            libc::mincore(
                self.map.as_mut_ptr().cast::<libc::c_void>(),
                len,
                residency.as_mut_ptr(),
            )
        };
        code == 0 && residency.iter().filter(|&&page| page & 1 != 0).count() * 2 >= pages
    }
}

/// Most segments kept mapped at once by the process (beyond those held by records and appends in
/// flight); see the module documentation.
pub fn mapping_cache_capacity() -> usize {
    CACHE.capacity.load(Ordering::Relaxed)
}

/// Sets [`mapping_cache_capacity`] (at least 1). Takes effect as segments are next mapped.
pub fn set_mapping_cache_capacity(capacity: usize) {
    CACHE.capacity.store(capacity.max(1), Ordering::Relaxed);
}

/// How many segments hold a mapping now (approximately: dropped segments leave the count when the
/// clock hand next passes them).
pub fn mapped_segments() -> usize {
    CACHE.entries.lock().segments.len()
}

static CACHE: MappingCache = MappingCache {
    capacity: AtomicUsize::new(DEFAULT_MAPPING_CACHE_CAPACITY),
    entries: Mutex::new(ClockRing {
        segments: Vec::new(),
        hand: 0,
    }),
};

struct MappingCache {
    capacity: AtomicUsize,
    entries: Mutex<ClockRing>,
}

/// The segments that hold a mapping, in the order the clock hand visits them.
struct ClockRing {
    segments: Vec<Weak<Segment>>,
    hand: usize,
}

/// Records that `segment` has just been mapped, and unmaps idle segments while the process holds
/// more than the capacity. Never blocks on a segment: one that is being used is skipped.
pub(super) fn admit(segment: &Arc<Segment>) {
    let capacity = mapping_cache_capacity();
    let mut ring = CACHE.entries.lock();
    ring.segments.push(Arc::downgrade(segment));
    // Two sweeps at most: the first clears the use bits, the second finds the segments still idle.
    let mut visits = ring.segments.len() * 2;
    while ring.segments.len() > capacity && visits > 0 {
        visits -= 1;
        if ring.hand >= ring.segments.len() {
            ring.hand = 0;
        }
        let hand = ring.hand;
        let evicted = match ring.segments.get(hand).and_then(Weak::upgrade) {
            None => true,
            Some(candidate) if Arc::ptr_eq(&candidate, segment) => false,
            Some(candidate) => candidate.unmap_if_idle(),
        };
        if evicted {
            ring.segments.swap_remove(hand);
        } else {
            ring.hand += 1;
        }
    }
}
