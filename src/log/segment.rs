//! One segment file: a preallocated, memory-mapped run of frames behind a 64-byte header.
//!
//! File name: `<base counter, 20 digits>.seg`, so a directory listing sorts segments in log order and
//! names the lower bound of the sequence counters inside (every frame's counter is ≥ the base and <
//! the next segment's base).
//!
//! Contract between the single writer and the many readers of a segment:
//! - `published_len` only grows. Bytes below it are complete, checksummed frames and are never
//!   modified again while the process has the segment open; readers never look past it.
//! - The writer copies a frame into the unpublished tail and then publishes the new end with one
//!   Release store; readers load it with Acquire, so they see whole frames or nothing.
//! - `sealed` is set (Release) after the last publish. A reader that sees `sealed` and then loads
//!   `published_len` knows it has the final length and may move on to the next segment.
//!
//! The mapping is an `MmapRaw`: no Rust reference ever covers the writer's unpublished tail, so the
//! writer's copies and the readers' shared slices never alias.

use super::checksum;
use crate::file_system::FileSystem;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use memmap2::MmapOptions;
use parking_lot::RwLock;

use super::frame;
use super::index::{IndexEntry, IndexSummary, SparseIndex};
use super::mapping::{self, Mapping};
use crate::sequence::ShardIdentity;

/// Bytes of the segment header; the first frame starts here.
pub const SEGMENT_HEADER_BYTES: u64 = 64;
/// File name prefix of segments preallocated but not yet in service; recovery deletes them.
pub const PREPARED_FILE_PREFIX: &str = "segment.prepared";

/// File name of an expired segment kept for reuse as the next segment (at most one per shard).
pub const RECYCLED_FILE_NAME: &str = "segment.recycled";

const SEGMENT_MAGIC: [u8; 8] = *b"SHLGSEG1";
/// Version 2 added the previous segment's end and the recycled flag (bytes 40..52).
const SEGMENT_FORMAT_VERSION: u32 = 2;
/// Version 1 headers (zeros in 40..52: no previous end recorded, not recycled) are still read.
const SEGMENT_FORMAT_VERSION_V1: u32 = 1;
/// Header flag: the file held an expired segment before, so stale frames may follow the data.
const FLAG_RECYCLED: u32 = 1;

/// The file name of the segment whose base counter is `base_counter`.
pub fn file_name(base_counter: u64) -> String {
    format!("{base_counter:020}.seg")
}

/// The base counter named by a segment file name, if it is one.
pub fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Why a segment header was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The file is shorter than a header.
    #[error("file shorter than a segment header")]
    Short,
    /// Magic, version or checksum is wrong.
    #[error("segment header is damaged or of an unknown version")]
    Damaged,
    /// The header belongs to another shard.
    #[error("segment belongs to shard {found:?}")]
    OtherShard {
        /// Identity in the header.
        found: ShardIdentity,
    },
    /// The base counter in the header disagrees with the file name.
    #[error("header base counter {found} disagrees with the file name")]
    BaseMismatch {
        /// Base counter in the header.
        found: u64,
    },
}

/// What a segment header says beyond the shard and base counter it must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderFacts {
    /// The segment this one followed when a roll started it, and the length of its data then (its
    /// frames end exactly there): `None` where unknown (a shard's first segment, a segment that
    /// replaced an empty one, a version 1 header).
    pub previous: Option<PreviousSegment>,
    /// The file is a reused expired segment: what follows the data may be stale frames of the same
    /// log, all with counters below this segment's base, instead of zeros (docs/FORMAT.md §6).
    pub recycled: bool,
}

/// The segment a roll sealed to start this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousSegment {
    /// Its base counter.
    pub base_counter: u64,
    /// The length of its data, header included: its file's length once trimmed.
    pub end: u64,
}

fn encode_header(
    identity: ShardIdentity,
    base_counter: u64,
    created_ms: u64,
    facts: HeaderFacts,
) -> [u8; 64] {
    let mut header = [0u8; 64];
    header[0..8].copy_from_slice(&SEGMENT_MAGIC);
    header[8..12].copy_from_slice(&SEGMENT_FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&identity.index.to_le_bytes());
    header[16..24].copy_from_slice(&identity.created_secs.to_le_bytes());
    header[24..32].copy_from_slice(&base_counter.to_le_bytes());
    header[32..40].copy_from_slice(&created_ms.to_le_bytes());
    // A previous end of 0 says "unknown": every real one is at least a header long.
    let (previous_base, previous_end) = facts
        .previous
        .map_or((0, 0), |previous| (previous.base_counter, previous.end));
    header[40..48].copy_from_slice(&previous_end.to_le_bytes());
    let flags = if facts.recycled { FLAG_RECYCLED } else { 0 };
    header[48..52].copy_from_slice(&flags.to_le_bytes());
    header[52..60].copy_from_slice(&previous_base.to_le_bytes());
    let crc = checksum::crc32(&header[..60]);
    header[60..64].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Checks a segment header against the shard and base counter it must have, and returns the rest
/// of what it says.
pub fn check_header(
    bytes: &[u8],
    identity: ShardIdentity,
    base_counter: u64,
) -> Result<HeaderFacts, HeaderError> {
    let header = bytes.get(..64).ok_or(HeaderError::Short)?;
    let stored_crc = frame::u32_at(header, 60);
    let version = frame::u32_at(header, 8);
    if header.get(0..8) != Some(&SEGMENT_MAGIC[..])
        || !(version == SEGMENT_FORMAT_VERSION || version == SEGMENT_FORMAT_VERSION_V1)
        || checksum::crc32(header.get(..60).unwrap_or_default()) != stored_crc
    {
        return Err(HeaderError::Damaged);
    }
    let flags = frame::u32_at(header, 48);
    if flags & !FLAG_RECYCLED != 0 {
        return Err(HeaderError::Damaged);
    }
    let found = ShardIdentity {
        index: frame::u32_at(header, 12),
        created_secs: frame::u64_at(header, 16),
    };
    if found != identity {
        return Err(HeaderError::OtherShard { found });
    }
    let found_base = frame::u64_at(header, 24);
    if found_base != base_counter {
        return Err(HeaderError::BaseMismatch { found: found_base });
    }
    let previous_end = frame::u64_at(header, 40);
    Ok(HeaderFacts {
        previous: (previous_end >= SEGMENT_HEADER_BYTES).then(|| PreviousSegment {
            base_counter: frame::u64_at(header, 52),
            end: previous_end,
        }),
        recycled: flags & FLAG_RECYCLED != 0,
    })
}

/// A preallocated, mapped file waiting to become the next segment, its first pages pre-faulted.
pub struct PreparedSegment {
    path: PathBuf,
    mapping: Mapping,
    /// Made from the shard's recycled file (see [`Segment::recycle`]): stale frames follow.
    recycled: bool,
    /// Syncs the header at activation; handed to the segment.
    file_system: Arc<dyn FileSystem>,
    _counted: PreparedCount,
}

/// Prepared segments in the process: each holds reserved blocks, pre-faulted pages and a mapping
/// that the mapping cache does not count, so the background pool keeps their number bounded.
static PREPARED_SEGMENTS: AtomicUsize = AtomicUsize::new(0);

/// How many prepared segments exist in the process now.
pub fn prepared_segments() -> usize {
    PREPARED_SEGMENTS.load(Ordering::Relaxed)
}

/// Counts one prepared segment for as long as it lives.
struct PreparedCount;

impl PreparedCount {
    fn new() -> PreparedCount {
        PREPARED_SEGMENTS.fetch_add(1, Ordering::Relaxed);
        PreparedCount
    }
}

impl Drop for PreparedCount {
    fn drop(&mut self) {
        PREPARED_SEGMENTS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PreparedSegment {
    /// Creates `segment.prepared.<n>` in `dir`: reserves `capacity_bytes` of real blocks (so a full
    /// disk is an error here, not a SIGBUS on a later page fault), maps it, and pre-faults its first
    /// `prefault_bytes` for writing so the first appends into it do not stall on faults.
    pub fn create(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
        capacity_bytes: u64,
        prefault_bytes: u64,
    ) -> io::Result<PreparedSegment> {
        // A process-wide number keeps a background preparation and a fallback one on the append
        // path from ever sharing a file.
        static NEXT_PREPARED: AtomicU64 = AtomicU64::new(0);
        let number = NEXT_PREPARED.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{PREPARED_FILE_PREFIX}.{number}"));
        if let Some(prepared) = PreparedSegment::reuse_recycled(
            file_system,
            dir,
            &path,
            capacity_bytes,
            prefault_bytes,
        )? {
            return Ok(prepared);
        }
        PreparedSegment::create_at(file_system, path, capacity_bytes, prefault_bytes)
    }

    /// Makes the shard's recycled file (an expired segment, see [`Segment::recycle`]) the prepared
    /// segment at `path`, if there is one and most of its pages are still in the page cache:
    /// writing over resident pages costs no allocation, zeroing or block reservation, where a new
    /// file's pages are all three. A file whose pages were evicted would cost a read from disk per
    /// page instead, more than a new one: it is deleted. `None` when there is nothing to reuse.
    fn reuse_recycled(
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
        path: &Path,
        capacity_bytes: u64,
        prefault_bytes: u64,
    ) -> io::Result<Option<PreparedSegment>> {
        // The rename claims the file: of two preparations at once, one gets it.
        match fs::rename(dir.join(RECYCLED_FILE_NAME), path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        }
        let reused = || -> io::Result<Option<Mapping>> {
            let file = OpenOptions::new().read(true).write(true).open(path)?;
            let old_len = file.metadata()?.len();
            if old_len < SEGMENT_HEADER_BYTES
                || !Mapping::from_raw(MmapOptions::new().map_raw(&file)?).mostly_resident()
            {
                return Ok(None);
            }
            if old_len != capacity_bytes {
                // Shrinking drops the pages past the new end; growing adds zeros (reserved below).
                file.set_len(capacity_bytes)?;
            }
            file_system.reserve(&file, capacity_bytes)?;
            Ok(Some(Mapping::from_raw(MmapOptions::new().map_raw(&file)?)))
        };
        // A file not worth reusing, or that could not be made the new size (a full disk), goes:
        // failed attempts must not keep files.
        let mapping = match reused() {
            Ok(Some(mapping)) => mapping,
            other => {
                let _ = fs::remove_file(path);
                return other.map(|_| None);
            }
        };
        prefault_for_writing(&mapping, prefault_bytes);
        Ok(Some(PreparedSegment {
            path: path.to_owned(),
            mapping,
            recycled: true,
            file_system: Arc::clone(file_system),
            _counted: PreparedCount::new(),
        }))
    }

    /// Like [`PreparedSegment::create`], at `path`: the final name of a segment whose header may
    /// be lost in a crash (a new shard's first segment, with a counter epoch: recovery then
    /// starts the log again), which saves a rename.
    pub fn create_at(
        file_system: &Arc<dyn FileSystem>,
        path: PathBuf,
        capacity_bytes: u64,
        prefault_bytes: u64,
    ) -> io::Result<PreparedSegment> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let mapped = file_system
            .reserve(&file, capacity_bytes)
            .and_then(|()| MmapOptions::new().map_raw(&file))
            .inspect_err(|_| {
                // A full disk must not keep a file per failed attempt.
                let _ = fs::remove_file(&path);
            })?;
        let mapping = Mapping::from_raw(mapped);
        prefault_for_writing(&mapping, prefault_bytes);
        Ok(PreparedSegment {
            path,
            mapping,
            recycled: false,
            file_system: Arc::clone(file_system),
            _counted: PreparedCount::new(),
        })
    }

    /// Size of the file, header included.
    pub fn capacity_bytes(&self) -> u64 {
        self.mapping.len()
    }

    /// Deletes the prepared file instead of using it.
    pub fn discard(self) {
        let _ = fs::remove_file(&self.path);
    }

    /// Puts the prepared file into service as the segment starting at `base_counter`: writes its
    /// header (recording `previous`, the segment it follows and where that one's data ends, if
    /// known) and renames it to its final name. With `durable`, the header and the directory
    /// entry are synced before this returns.
    pub fn activate(
        self,
        dir: &Path,
        identity: ShardIdentity,
        base_counter: u64,
        created_ms: u64,
        previous: Option<PreviousSegment>,
        durable: bool,
    ) -> io::Result<Arc<Segment>> {
        let facts = HeaderFacts {
            previous,
            recycled: self.recycled,
        };
        let header = encode_header(identity, base_counter, created_ms, facts);
        if self.mapping.len() < header.len() as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "segment capacity smaller than its header",
            ));
        }
        // SAFETY: the prepared mapping is owned by this function alone (no reader has seen it) and
        // is at least 64 bytes long, checked above.
        unsafe {
            std::ptr::copy_nonoverlapping(header.as_ptr(), self.mapping.as_mut_ptr(), header.len());
        }
        let path = dir.join(file_name(base_counter));
        if self.path != path {
            fs::rename(&self.path, &path)?;
        }
        if durable {
            self.file_system
                .sync_mapped(self.mapping.range(0, header.len() as u64))?;
            self.file_system.sync_directory(dir)?;
        }
        let capacity = self.mapping.len();
        let segment = Arc::new(Segment::new(
            base_counter,
            path,
            capacity,
            facts,
            Some(Arc::new(self.mapping)),
            self.file_system,
        ));
        segment
            .published_len
            .store(SEGMENT_HEADER_BYTES, Ordering::Release);
        mapping::admit(&segment);
        Ok(segment)
    }
}

/// Faults the first `bytes` of a fresh mapping in for writing, off the append path
/// (MADV_POPULATE_WRITE, Linux 5.14+; touching each page otherwise).
///
/// Measured on the project machine (single-record appends of 100 bytes, 64 MiB segments, 0.4 and
/// 2.5 GB written): write-faulting ahead gives 138–222 ns per append, read-faulting ahead (the
/// first append to each page then takes a write-protect fault) 198–265 ns. The price: pre-faulted
/// pages are dirty from the start, which is why only a window ahead of the writer is pre-faulted
/// (the writer asks for the next window as it goes; see `ShardLog`).
fn prefault_for_writing(mapping: &Mapping, bytes: u64) {
    let end = bytes.min(mapping.len());
    if mapping.populate_for_writing(0, end) {
        return;
    }
    let page = 4096;
    let mut offset = 0;
    while offset < end {
        // SAFETY: `offset < end <= len`, the mapping is writable, backed by reserved blocks and not
        // yet visible to anyone else; the byte is rewritten with the value it has (zero), so only
        // the fault has an effect.
        unsafe {
            let byte = mapping.as_mut_ptr().add(offset as usize);
            byte.write_volatile(byte.read_volatile());
        }
        offset += page;
    }
}

/// An open segment: its publication state, its sparse index and, while it is used, its mapping.
pub struct Segment {
    base_counter: u64,
    path: PathBuf,
    /// Bytes the file holds. Fixed while the segment takes appends; shrinks once, to the published
    /// length, when a sealed segment is trimmed.
    capacity: AtomicU64,
    /// The mapping, while the segment is in use; the mapping cache takes it back when idle.
    mapping: RwLock<Option<Arc<Mapping>>>,
    /// Set on every use; cleared by the mapping cache's clock hand (a second chance).
    recently_used: AtomicBool,
    /// The file is deleted: the mapping is kept for the readers still positioned here, since the
    /// file could not be mapped again.
    removed: AtomicBool,
    /// Invariant: only grows; bytes below it are whole frames and immutable. Readers never read past it.
    published_len: AtomicU64,
    /// Set, with Release, after the final publish; never cleared.
    sealed: AtomicBool,
    /// Counter and arrival of the last published frame (`u64::MAX` counter while empty).
    last_counter: AtomicU64,
    last_arrival_ms: AtomicU64,
    index: SparseIndex,
    /// What the header says beyond identity and base.
    facts: HeaderFacts,
    /// Syncs and reserves the file's blocks.
    file_system: Arc<dyn FileSystem>,
}

impl Segment {
    fn new(
        base_counter: u64,
        path: PathBuf,
        capacity: u64,
        facts: HeaderFacts,
        mapping: Option<Arc<Mapping>>,
        file_system: Arc<dyn FileSystem>,
    ) -> Segment {
        Segment {
            base_counter,
            path,
            facts,
            file_system,
            capacity: AtomicU64::new(capacity),
            mapping: RwLock::new(mapping),
            recently_used: AtomicBool::new(true),
            removed: AtomicBool::new(false),
            published_len: AtomicU64::new(0),
            sealed: AtomicBool::new(false),
            last_counter: AtomicU64::new(u64::MAX),
            last_arrival_ms: AtomicU64::new(0),
            index: SparseIndex::with_segment_bytes(capacity),
        }
    }

    /// Opens an existing segment file for recovery. Its header is checked; nothing but the header
    /// is published yet (recovery publishes what it validates).
    pub fn open(
        file_system: &Arc<dyn FileSystem>,
        path: &Path,
        identity: ShardIdentity,
        base_counter: u64,
    ) -> Result<Arc<Segment>, SegmentOpenError> {
        // The header is read, not mapped: a segment is mapped when it is first read or appended to,
        // so opening a log maps nothing (and the kernel's fault-around maps no page of it).
        let file = File::open(path)?;
        let capacity = file.metadata()?.len();
        if capacity < SEGMENT_HEADER_BYTES {
            return Err(SegmentOpenError::Header(HeaderError::Short));
        }
        let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
        file.read_exact_at(&mut header, 0)?;
        let facts = check_header(&header, identity, base_counter)?;
        let segment = Arc::new(Segment::new(
            base_counter,
            path.to_owned(),
            capacity,
            facts,
            None,
            Arc::clone(file_system),
        ));
        segment
            .published_len
            .store(SEGMENT_HEADER_BYTES, Ordering::Release);
        Ok(segment)
    }

    /// What the header says beyond identity and base: the previous segment's end, and whether
    /// stale frames of a recycled file may follow the data.
    pub fn header_facts(&self) -> HeaderFacts {
        self.facts
    }

    /// The lower bound of the counters in this segment (its name).
    pub fn base_counter(&self) -> u64 {
        self.base_counter
    }

    /// Path of the segment file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of the file, which is the most the segment can hold.
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity.load(Ordering::Acquire)
    }

    /// The published length, loaded with Acquire.
    pub fn published_len(&self) -> u64 {
        self.published_len.load(Ordering::Acquire)
    }

    /// Whether the writer has finished with this segment.
    pub fn is_sealed(&self) -> bool {
        self.sealed.load(Ordering::Acquire)
    }

    /// Counter of the last published frame, or `None` while the segment is empty.
    pub fn last_counter(&self) -> Option<u64> {
        let counter = self.last_counter.load(Ordering::Acquire);
        (counter != u64::MAX).then_some(counter)
    }

    /// Arrival time of the last published frame; while empty, a lower bound for its first.
    pub fn last_arrival_ms(&self) -> u64 {
        self.last_arrival_ms.load(Ordering::Acquire)
    }

    /// The sparse index.
    pub fn index(&self) -> &SparseIndex {
        &self.index
    }

    /// The segment's mapping, mapped again if the cache took it back.
    pub fn mapping(self: &Arc<Self>) -> io::Result<Arc<Mapping>> {
        if !self.recently_used.load(Ordering::Relaxed) {
            self.recently_used.store(true, Ordering::Relaxed);
        }
        if let Some(mapping) = self.mapping.read().as_ref() {
            return Ok(Arc::clone(mapping));
        }
        let mapping = {
            let mut slot = self.mapping.write();
            if let Some(mapping) = slot.as_ref() {
                return Ok(Arc::clone(mapping));
            }
            let mapping = Arc::new(Mapping::open(&self.path)?);
            *slot = Some(Arc::clone(&mapping));
            mapping
        };
        mapping::admit(self);
        Ok(mapping)
    }

    /// Gives the mapping back unless the segment was used since the clock hand last passed (then
    /// only its use bit is cleared) or is being mapped right now. True if it holds no mapping now.
    pub(super) fn unmap_if_idle(&self) -> bool {
        if self.removed.load(Ordering::Acquire) || self.recently_used.swap(false, Ordering::Relaxed)
        {
            return false;
        }
        match self.mapping.try_write() {
            Some(mut slot) => {
                *slot = None;
                true
            }
            None => false,
        }
    }

    /// Recovery only: a view of the whole mapped file, published or not.
    pub fn recovery_view(self: &Arc<Self>) -> io::Result<RecoveryView> {
        Ok(RecoveryView {
            mapping: self.mapping()?,
        })
    }

    /// Recovery only: shrinks the file to the published length (a seal whose trim was lost).
    pub fn trim_to_published(&self) -> io::Result<()> {
        self.trim_file(self.published_len(), true)
    }

    fn trim_file(&self, len: u64, durable: bool) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(&self.path)?;
        file.set_len(len)?;
        self.capacity.store(len, Ordering::Release);
        if durable {
            self.file_system.sync_all(&file)?;
        }
        Ok(())
    }

    /// The published bytes (header included) as a `Bytes` that keeps the mapping alive: records
    /// sliced from it stay valid even if the segment is unmapped or deleted meanwhile.
    pub fn published_bytes(self: &Arc<Self>) -> io::Result<Bytes> {
        let len = self.published_len();
        let mapping = self.mapping()?;
        debug_assert!(len <= mapping.len(), "published length within the mapping");
        Ok(Bytes::from_owner(PublishedView {
            len: len.min(mapping.len()) as usize,
            mapping,
        }))
    }

    /// The writable, unpublished tail `[offset, offset + len)` of `mapping`, this segment's.
    ///
    /// # Safety
    /// Only the shard's single writer may call this, with `offset >= published_len()` and
    /// `offset + len <= capacity_bytes()` while the segment is not sealed, and it must not hold two
    /// overlapping tails at once.
    #[allow(clippy::mut_from_ref)] // the unsafe contract gives the writer exclusive use of the tail
    pub unsafe fn unpublished_tail<'m>(
        &self,
        mapping: &'m Mapping,
        offset: u64,
        len: usize,
    ) -> &'m mut [u8] {
        debug_assert!(
            offset >= self.published_len(),
            "writes go past the published end"
        );
        debug_assert!(
            offset + len as u64 <= self.capacity_bytes().min(mapping.len()),
            "writes stay in the file and the mapping"
        );
        // SAFETY: the caller upholds the contract above: the range is inside the mapping and the
        // file, beyond the published end (so no reader has a reference into it) and written by
        // one thread only.
        unsafe { std::slice::from_raw_parts_mut(mapping.as_mut_ptr().add(offset as usize), len) }
    }

    /// Publishes frames written up to `new_len`; the last of them has `last_counter`, `last_arrival_ms`.
    pub fn publish(&self, new_len: u64, last_counter: u64, last_arrival_ms: u64) {
        debug_assert!(new_len >= self.published_len(), "published_len only grows");
        debug_assert!(
            new_len <= self.capacity_bytes(),
            "published_len within the file"
        );
        self.last_counter.store(last_counter, Ordering::Release);
        self.last_arrival_ms
            .store(last_arrival_ms, Ordering::Release);
        self.published_len.store(new_len, Ordering::Release);
    }

    /// Adds an index entry for a published frame if the interval since the last one has passed.
    pub fn index_if_due(&self, entry: IndexEntry) {
        if self.index.wants_entry_at(entry.position) {
            self.index.push(entry);
        }
    }

    /// Writes dirty pages in `[from, to)` to disk and waits for them (msync MS_SYNC, which on Linux
    /// is fdatasync of the range, including the extent metadata a preallocated file needs).
    pub fn sync_range(self: &Arc<Self>, from: u64, to: u64) -> io::Result<()> {
        if to <= from {
            return Ok(());
        }
        self.file_system
            .sync_mapped(self.mapping()?.range(from, to - from))
    }

    /// Marks the segment finished, trims the file to its used length (the unused tail's blocks and
    /// pages go back to the system at once) and unmaps it until it is read. With `durable`, the
    /// data and the new length are on disk when this returns.
    pub fn seal(self: &Arc<Self>, durable: bool) -> io::Result<()> {
        let used = self.published_len();
        if durable {
            self.sync_range(0, used)?;
        }
        self.sealed.store(true, Ordering::Release);
        if used < self.capacity_bytes() {
            self.trim_file(used, durable)?;
            // The mapping still spans the old length; readers never go past `used`, and the next
            // mapping will span the trimmed file only.
            *self.mapping.write() = None;
        }
        Ok(())
    }

    /// Marks a segment loaded from disk as already sealed (it is not the last one).
    pub fn mark_sealed(&self) {
        self.sealed.store(true, Ordering::Release);
    }

    /// The path of this segment's index file (`<base>.idx` beside it).
    pub fn index_path(&self) -> PathBuf {
        self.path.with_extension("idx")
    }

    /// Writes the sparse index of the published part to the index file. A failure is not an
    /// error: the index is a cache, rebuilt from the log when its file is missing or in doubt.
    pub fn write_index_file(&self) {
        let summary = IndexSummary {
            base_counter: self.base_counter,
            covered_len: self.published_len(),
            last_counter: self.last_counter().unwrap_or(0),
            last_arrival_ms: self.last_arrival_ms(),
        };
        let _ = super::index::write_file(&self.index_path(), summary, &self.index.entries());
    }

    /// Recovery only: cuts the segment at `len`, zeroing everything after it so that no stale frame
    /// can ever be found there again, and syncs the result.
    pub fn cut_at(&self, len: u64) -> io::Result<()> {
        debug_assert!(len >= SEGMENT_HEADER_BYTES, "never cut into the header");
        let file = OpenOptions::new().write(true).open(&self.path)?;
        let file_len = file.metadata()?.len();
        if len < file_len {
            // Shrinking and growing the file again leaves zeros; reserving the blocks again keeps
            // writes through the mapping from ever hitting a hole.
            file.set_len(len)?;
            file.set_len(file_len)?;
            self.file_system.reserve(&file, file_len)?;
        }
        self.file_system.sync_all(&file)
    }

    /// Keeps the file of this expired segment as the shard's recycled file, for the next segment
    /// to reuse (see [`PreparedSegment::create`]), if nothing but the caller uses it: no reader
    /// holds the segment or a record of it, since the file will be written over. A recycled file
    /// that was still waiting is replaced. False, having done nothing, if the segment is in use.
    ///
    /// The caller must hold the only reference to the segment besides readers' (it was taken out
    /// of the log's list), so that no new reader can reach it.
    pub fn recycle(self: &Arc<Self>) -> io::Result<bool> {
        let mapping_unshared = self
            .mapping
            .read()
            .as_ref()
            .is_none_or(|mapping| Arc::strong_count(mapping) == 1);
        if Arc::strong_count(self) != 1 || !mapping_unshared {
            return Ok(false);
        }
        *self.mapping.write() = None;
        match fs::remove_file(self.index_path()) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::rename(&self.path, dir.join(RECYCLED_FILE_NAME))?;
        Ok(true)
    }

    /// Deletes the segment file and its index file. The segment keeps (or first takes) a mapping
    /// that the cache never takes back, so readers still positioned in it read it to its end; it
    /// goes when the last of them moves on.
    pub fn remove_files(self: &Arc<Self>) -> io::Result<()> {
        let _mapped = self.mapping()?;
        self.removed.store(true, Ordering::Release);
        remove_files_at(&self.path)
    }

    /// Recovery only: for an empty segment, the arrival time its first record will have at least
    /// (the previous segment's last arrival), so that last arrivals never decrease along the log
    /// and seeking by time can binary-search segments, empty ones included.
    pub fn set_arrival_floor(&self, arrival_ms: u64) {
        if self.last_counter().is_none() {
            self.last_arrival_ms.store(arrival_ms, Ordering::Release);
        }
    }
}

/// Recovery's view of a whole segment file, written or not.
pub struct RecoveryView {
    mapping: Arc<Mapping>,
}

impl RecoveryView {
    /// The mapped bytes in `[from, to)`, or `None` outside the mapping.
    pub fn range(&self, from: u64, to: u64) -> Option<&[u8]> {
        if from > to || to > self.mapping.len() {
            return None;
        }
        // SAFETY: recovery owns the log exclusively (it is not shared yet), so nothing writes to
        // the mapping while this borrow lives; the range lies inside the mapping, which the `Arc`
        // keeps alive as long as `self`. Recovery reads past the published end only within the
        // file: it trims or cuts files only between views of them.
        unsafe {
            Some(std::slice::from_raw_parts(
                self.mapping.as_ptr().add(from as usize),
                (to - from) as usize,
            ))
        }
    }
}

/// Deletes the segment file at `path` and its index file.
pub fn remove_files_at(path: &Path) -> io::Result<()> {
    fs::remove_file(path)?;
    match fs::remove_file(path.with_extension("idx")) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Why an existing segment could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SegmentOpenError {
    /// The file could not be read or mapped.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The header is not this shard's, or is damaged.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// Owner of a published prefix, for `Bytes::from_owner`.
struct PublishedView {
    mapping: Arc<Mapping>,
    /// At most the mapping's length.
    len: usize,
}

impl AsRef<[u8]> for PublishedView {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: bytes below a published length are never modified after publication (see the
        // module contract), `len` is within the mapping, and the mapping lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.mapping.as_ptr(), self.len) }
    }
}
