//! The shard log: one shard's records, in order, in a directory of segment files.
//!
//! ```text
//! <shard dir>/
//!   checkpoint                    counter lease, durable point, clean-shutdown flag (checkpoint.rs)
//!   00000000000000000000.seg      sealed segment: frames with counters in [0, 81920)
//!   00000000000000000000.idx      its sparse index (a cache)
//!   00000000000000081920.seg      the active segment, preallocated and memory-mapped
//!   segment.prepared.<n>          the next segment, preallocated on the background pool
//! ```
//!
//! A shard costs what it holds. Its first segment is small ([`LogOptions::initial_segment_bytes`]);
//! each next one is four times the last, up to [`LogOptions::segment_bytes`], so only a shard that
//! proves busy gets large segments. A sealed segment is trimmed to its data. Segments are mapped
//! only while used and no file descriptor stays open (`mapping.rs`), and a log has no thread of
//! its own: work ahead of the writer and periodic syncs run on one process-wide pool
//! (`background.rs`).
//!
//! One writer (appends are serialized by a mutex) and any number of readers. Readers never take the
//! writer's lock: they read up to a segment's published length, which the writer advances with a
//! single Release store after copying frames into the mapping (see `segment.rs`).
//!
//! Parts: `frame` (record encoding), `segment` (one segment file), `mapping` (mappings and the
//! cache that bounds them), `index` (sparse index), `checkpoint` (what recovery cannot derive),
//! `recovery` (open), `durability` (group commit, failure latch), `background` (the pool),
//! `reader` (iterating and seeking).

mod background;
mod checkpoint;
mod checksum;
mod durability;
pub mod frame;
mod index;
#[cfg(test)]
mod latch_tests;
mod mapping;
mod options;
mod reader;
mod recovery;
mod segment;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Mutex, RwLock};

pub use self::background::{background_threads, background_threads_max};
pub use self::checkpoint::LogPosition;
pub use self::frame::FrameError;
pub use self::mapping::{
    DEFAULT_MAPPING_CACHE_CAPACITY, mapped_segments, mapping_cache_capacity,
    set_mapping_cache_capacity,
};
pub use self::options::{
    COUNTER_EPOCH_MAX, COUNTERS_PER_EPOCH_BITS, DEFAULT_INITIAL_SEGMENT_BYTES,
    DEFAULT_SEGMENT_BYTES, Durability, LogOptions,
};
pub use self::reader::{LogReader, SeekTo};
pub use self::recovery::{RecoveryReport, Truncation};

use self::background::{Job, PREFAULT_WINDOW_BYTES, PREPARE_AHEAD_MIN_BYTES, PreparedSlot};
use self::checkpoint::{Checkpoint, CheckpointFile};
use self::durability::{AppendNotifier, SyncProgress};
use self::frame::{FrameFields, PARTITION_KEY_BYTES_MAX};
use self::index::IndexEntry;
use self::mapping::Mapping;
use self::segment::Segment;
use crate::error::{LogError, LogResult};
use crate::record::RecordInput;
use crate::sequence::SequenceNumber;

/// The counter of a shard's first record. Counter 0 is never handed out: it belongs to the shard's
/// `StartingSequenceNumber`, which names the position before the first record, so reading
/// "after the starting sequence number" starts at the first record.
pub const FIRST_COUNTER: u64 = 1;

/// How many sequence counters one durable lease covers. A crash wastes at most this many counters;
/// the writer pays one checkpoint fsync per this many records.
const COUNTER_LEASE: u64 = 1 << 24;

/// Retention removed these segments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Base counters of the deleted segments, oldest first.
    pub segments_deleted: Vec<u64>,
    /// Bytes of segment files deleted.
    pub bytes_deleted: u64,
    /// Of the deleted segments, how many kept their file for the log's next segment (at most one,
    /// for a log still taking records; see [`ShardLog::delete_segments_older_than`]).
    pub segments_recycled: usize,
}

/// The log of one shard. `Send + Sync`: share it behind an `Arc` between one or many appending
/// threads (appends are serialized) and any number of readers.
///
/// A log opened with [`ShardLog::open_lazily`] touches the disk only when first used, so an engine
/// with many shards opens in time independent of their number, and a shard nobody uses costs
/// nothing but this struct.
pub struct ShardLog {
    dir: PathBuf,
    options: LogOptions,
    /// Set once, by the first call that needs the log on disk.
    opened: OnceLock<Arc<Inner>>,
    /// Serializes that first open, and keeps what was asked of the log before it.
    before_open: Mutex<BeforeOpen>,
}

/// Settings made before a lazily opened log was opened, applied when it is.
#[derive(Default)]
struct BeforeOpen {
    sealed: bool,
    record_data_bytes_max: Option<usize>,
    abandoned: bool,
    /// The shard directory was found missing: the log was never created, so it holds nothing.
    /// Only opening creates it, so this stays true until then.
    absent: bool,
}

/// State shared by the log, its readers and the background pool's jobs.
pub(crate) struct Inner {
    /// This log, for the jobs it gives the background pool.
    me: Weak<Inner>,
    dir: PathBuf,
    options: LogOptions,
    /// Every live segment in log order; the last one is the active one. Readers clone `Arc`s out.
    segments: RwLock<Vec<Arc<Segment>>>,
    writer: Mutex<Writer>,
    checkpoint: Mutex<CheckpointFile>,
    sync: SyncProgress,
    /// Set after any failed write or sync; appends fail with `Latched` from then on, until
    /// [`ShardLog::recover_if_latched`] reopens the log from disk.
    latched: AtomicBool,
    /// How many times the log was reopened in place. Invariant: bumped, under the writer lock,
    /// only after `segments` holds the reopened segments; a reader that sees it change finds its
    /// place again among them (see `reader.rs`).
    pub(crate) reopens: AtomicU64,
    /// Largest record data accepted; starts as the option's value, see
    /// [`ShardLog::set_record_data_bytes_max`].
    record_data_bytes_max: AtomicUsize,
    /// The next segment, prepared in the background.
    prepared: Mutex<PreparedSlot>,
    prepared_ready: parking_lot::Condvar,
    /// Open while the pool may work for this log: closed at seal and close (see `background.rs`).
    background_gate: RwLock<bool>,
    /// A periodic sync is scheduled on the pool: set by the append that needs one, cleared when it
    /// starts.
    sync_scheduled: AtomicBool,
    appended: AppendNotifier,
}

/// What only the appending thread touches.
struct Writer {
    active: Arc<Segment>,
    /// The counter the next record gets. Invariant: above every counter ever handed out, and below
    /// the lease limit.
    next_counter: u64,
    /// Invariant: no counter at or above it is handed out before a larger limit is durable in the
    /// checkpoint. With a counter epoch it starts at the next epoch's floor, which the engine's
    /// durable epoch leases implicitly (see [`LogOptions::counter_epoch`]).
    counter_lease_limit: u64,
    /// Arrival time of the last record: arrivals never decrease within a shard.
    last_arrival_ms: u64,
    /// The pool was asked to prepare the segment after the active one.
    segment_requested: bool,
    /// The active segment is pre-faulted, or asked to be, up to here.
    prefaulted_to: u64,
    closed: bool,
    /// Appends are refused with `Sealed`; see [`ShardLog::seal`].
    sealed: bool,
    /// The log differs from what open found on disk (a record appended, a segment rolled, trimmed
    /// or deleted), or open itself wrote: close must sync and write a clean checkpoint. False
    /// after an open that wrote nothing, so closing an untouched log costs no write at all.
    changed: bool,
}

impl ShardLog {
    /// Opens the shard log in `dir`, creating it if it does not exist, and recovers it: after a
    /// clean close this reads only index files; after a crash it validates the log from the last
    /// durable point, cuts a torn tail and reports what it did.
    pub fn open(
        dir: impl AsRef<Path>,
        options: LogOptions,
    ) -> LogResult<(ShardLog, RecoveryReport)> {
        let log = ShardLog::open_lazily(dir, options)?;
        let before = log.before_open.lock();
        let (inner, report) = Inner::open(&log.dir, &log.options, &before)?;
        drop(before);
        let _ = log.opened.set(inner);
        Ok((log, report))
    }

    /// A log that is opened (created or recovered, as [`ShardLog::open`] does) by the first call
    /// that needs it; until then it holds no file, mapping or memory beyond itself. Only the
    /// options are checked here. A failure to open is returned by that first call.
    pub fn open_lazily(dir: impl AsRef<Path>, options: LogOptions) -> LogResult<ShardLog> {
        options.validate()?;
        Ok(ShardLog {
            dir: dir.as_ref().to_owned(),
            options,
            opened: OnceLock::new(),
            before_open: Mutex::new(BeforeOpen::default()),
        })
    }

    /// The open log, opened now if it was not yet.
    fn inner(&self) -> LogResult<&Arc<Inner>> {
        if let Some(inner) = self.opened.get() {
            return Ok(inner);
        }
        let before = self.before_open.lock();
        if let Some(inner) = self.opened.get() {
            return Ok(inner);
        }
        if before.abandoned {
            return Err(LogError::Closed);
        }
        let (inner, _report) = Inner::open(&self.dir, &self.options, &before)?;
        Ok(self.opened.get_or_init(|| inner))
    }

    /// The open log if there is one on disk (opened now if it was not yet); `None` for a lazily
    /// opened log that was never created: it holds nothing, and asking so creates nothing.
    fn existing(&self) -> LogResult<Option<&Arc<Inner>>> {
        if let Some(inner) = self.opened.get() {
            return Ok(Some(inner));
        }
        if self.is_absent() {
            return Ok(None);
        }
        self.inner().map(Some)
    }

    /// Whether the log is neither open nor on disk (checked once, then remembered).
    fn is_absent(&self) -> bool {
        self.absent(&mut self.before_open.lock())
    }

    /// [`ShardLog::is_absent`], with the `before_open` lock held by the caller.
    fn absent(&self, before: &mut BeforeOpen) -> bool {
        if self.opened.get().is_some() {
            return false;
        }
        if !before.absent && !self.dir.exists() {
            before.absent = true;
        }
        before.absent
    }

    /// The open log if this process appended to it (or changed it otherwise) since it opened;
    /// `Latched` after a failed write or sync.
    fn changed_since_open(&self) -> LogResult<Option<&Arc<Inner>>> {
        let Some(inner) = self.opened.get() else {
            return Ok(None);
        };
        if inner.latched.load(Ordering::Acquire) {
            return Err(LogError::Latched);
        }
        Ok(inner.writer.lock().changed.then_some(inner))
    }

    /// If a failed write or sync latched the log, reopens it from disk in place, as an open after
    /// a crash would, and returns its recovery report; `None` if it was not latched. Until this
    /// succeeds, appends fail with [`LogError::Latched`]; an engine calls it on every maintenance
    /// pass, so a shard takes writes again by itself once the disk lets it.
    ///
    /// Why this is the safe way out of a latch: after a failed fsync the page cache cannot be
    /// trusted to reach the disk, and retrying the fsync can falsely succeed. Recovery starts from
    /// the durable point in the checkpoint and validates every frame after it, as after a power
    /// loss. Every record acknowledged as durable lies before the durable point, so it is kept;
    /// records appended since (acknowledged only in `PageCache` mode, where a process crash is all
    /// that is promised, or never acknowledged, their sync having failed) are kept when they read
    /// back whole and cut otherwise, with everything after them. Counters resume above every
    /// counter handed out before, whatever recovery kept, so no sequence number is handed out
    /// twice. Readers of the log keep working and continue after the last record they returned.
    pub fn recover_if_latched(&self) -> LogResult<Option<RecoveryReport>> {
        match self.opened.get() {
            Some(inner) if inner.latched.load(Ordering::Acquire) => inner.reopen(),
            _ => Ok(None),
        }
    }

    /// Whether the log has been opened (always, for [`ShardLog::open`]; after its first use for
    /// [`ShardLog::open_lazily`]).
    pub fn is_opened(&self) -> bool {
        self.opened.get().is_some()
    }

    /// Applies a setting to the open log, or keeps it for when the log is opened.
    fn set(&self, to_opened: impl FnOnce(&Inner), before_open: impl FnOnce(&mut BeforeOpen)) {
        let mut before = self.before_open.lock();
        match self.opened.get() {
            Some(inner) => {
                drop(before);
                to_opened(inner);
            }
            None => before_open(&mut before),
        }
    }

    /// Appends one record and returns its sequence number.
    pub fn append(&self, record: RecordInput<'_>) -> LogResult<SequenceNumber> {
        let mut sequence_number = None;
        self.append_each(std::slice::from_ref(&record), |assigned| {
            sequence_number = Some(assigned)
        })?;
        sequence_number.ok_or_else(|| LogError::invalid_record("no record appended"))
    }

    /// Appends records in order under one lock acquisition and one clock read, and returns their
    /// sequence numbers. Either every record is appended or, on a validation error, none is.
    pub fn append_batch(&self, records: &[RecordInput<'_>]) -> LogResult<Vec<SequenceNumber>> {
        let mut assigned = Vec::with_capacity(records.len());
        self.append_each(records, |sequence_number| assigned.push(sequence_number))?;
        Ok(assigned)
    }

    /// Appends `records` in order, calling `on_assigned` with each sequence number as the record is
    /// published. On an error after some records were appended, those stay appended (and were
    /// reported); the rest are not.
    pub(crate) fn append_each(
        &self,
        records: &[RecordInput<'_>],
        mut on_assigned: impl FnMut(SequenceNumber),
    ) -> LogResult<()> {
        let inner = &**self.inner()?;
        for record in records {
            inner.validate(record)?;
        }
        let end = {
            let mut writer = inner.writer.lock();
            if writer.closed {
                return Err(LogError::Closed);
            }
            if writer.sealed {
                return Err(LogError::Sealed);
            }
            if inner.latched.load(Ordering::Acquire) {
                return Err(LogError::Latched);
            }
            let arrival_ms = inner.options.clock.now_ms().max(writer.last_arrival_ms);
            if arrival_ms > frame::ARRIVAL_MS_MAX {
                return Err(LogError::invalid_record(format!(
                    "the clock reads {arrival_ms} ms, past what a sequence number can encode"
                )));
            }
            // The active segment's mapping, held for this call only, so an idle log holds none.
            let mut mapping = None;
            for record in records {
                let assigned =
                    inner.append_locked(&mut writer, &mut mapping, record, arrival_ms)?;
                on_assigned(assigned);
            }
            LogPosition {
                segment_base: writer.active.base_counter(),
                offset: writer.active.published_len(),
            }
        };
        inner.appended.notify();
        if inner.options.durability == Durability::Sync {
            inner.sync_to(end)?;
        }
        inner.schedule_periodic_sync();
        Ok(())
    }

    /// Makes every record appended so far durable, whatever the durability mode.
    pub fn sync(&self) -> LogResult<()> {
        // A log not opened, or not changed since, has had nothing appended by this process.
        let Some(inner) = self.changed_since_open()? else {
            return Ok(());
        };
        let end = inner.end_position();
        inner.sync_to(end)?;
        inner.write_durable_checkpoint()
    }

    /// For a sync of many logs at once (see `Engine::sync`): the position this log must make
    /// durable, if it has unsynced appends. Appends may go on meanwhile; they are not covered.
    pub(crate) fn sync_target(&self) -> LogResult<Option<LogPosition>> {
        let Some(inner) = self.changed_since_open()? else {
            return Ok(None);
        };
        let end = inner.end_position();
        Ok((inner.sync.durable() < end).then_some(end))
    }

    /// Records that everything up to `target` (from [`ShardLog::sync_target`]) is durable: the
    /// caller synced the whole file system (data, files and directory entries) after taking it.
    /// The checkpoint saying so is written but not synced: the caller syncs the file system again.
    pub(crate) fn synced_to(&self, target: LogPosition) -> LogResult<()> {
        let Some(inner) = self.opened.get() else {
            return Ok(());
        };
        inner.sync.advance(target);
        inner.write_durable_point(false)
    }

    /// A reader positioned by `seek`. Readers never block appends.
    pub fn reader(&self, seek: SeekTo) -> LogResult<LogReader> {
        LogReader::new(Arc::clone(self.inner()?), seek)
    }

    /// The sequence number the next appended record will get is larger than every one handed out
    /// so far; this returns the counter of the last record appended, if any.
    pub fn last_counter(&self) -> LogResult<Option<u64>> {
        let Some(inner) = self.existing()? else {
            return Ok(None);
        };
        let segments = inner.segments.read();
        Ok(segments
            .iter()
            .rev()
            .find_map(|segment| segment.last_counter()))
    }

    /// Arrival time of the newest record, if the log holds any.
    pub fn last_arrival_ms(&self) -> LogResult<Option<u64>> {
        let Some(inner) = self.existing()? else {
            return Ok(None);
        };
        let segments = inner.segments.read();
        Ok(segments
            .iter()
            .rev()
            .find(|segment| segment.last_counter().is_some())
            .map(|segment| segment.last_arrival_ms()))
    }

    /// The counter the next appended record will get at least: every counter below it may have
    /// been handed out, none at or above it has.
    pub fn next_counter(&self) -> LogResult<u64> {
        match self.existing()? {
            Some(inner) => Ok(inner.writer.lock().next_counter),
            // What creating the log would start at.
            None => Ok(FIRST_COUNTER.max(self.options.epoch_floor())),
        }
    }
    /// Refuses appends from now on (they fail with [`LogError::Sealed`]) and makes every record
    /// appended so far durable: how a shard is closed by a split or merge. Appends in flight finish
    /// first, so once this returns the log's contents are final. Readers are unaffected.
    /// Sealing a sealed log only syncs again. The seal is not stored: the stream's catalog says
    /// which shards are closed, and seals their logs again when it opens them.
    ///
    /// The active segment is trimmed to its data, so a closed shard costs its records and no more.
    pub fn seal(&self) -> LogResult<()> {
        {
            let mut before = self.before_open.lock();
            if self.absent(&mut before) {
                // Never created: nothing to sync or trim, and no need to create it now.
                before.sealed = true;
                return Ok(());
            }
        }
        let inner = &**self.inner()?;
        {
            let mut writer = inner.writer.lock();
            if writer.closed {
                return Err(LogError::Closed);
            }
            writer.sealed = true;
        }
        inner.stop_background();
        let mut writer = inner.writer.lock();
        let end = LogPosition {
            segment_base: writer.active.base_counter(),
            offset: writer.active.published_len(),
        };
        inner.sync_to(end)?;
        if !writer.active.is_sealed() {
            writer.changed = true;
            writer
                .active
                .seal(true)
                .map_err(|error| inner.fail("trimming the sealed log's last segment", error))?;
            writer.active.write_index_file();
        }
        drop(writer);
        inner.write_durable_checkpoint()
    }

    /// Wakes every reader blocked in [`LogReader::wait_for_records_or`], so each checks its stop
    /// condition again: for changes other than appends that a waiter must see at once (a shard
    /// closed, a subscription taken over). A log never opened has no readers.
    pub fn wake_readers(&self) {
        if let Some(inner) = self.opened.get() {
            inner.appended.notify();
        }
    }

    /// Gives the log up without closing it: appends and retention fail with `Closed` from now on,
    /// and dropping it writes nothing, so its directory can be deleted while readers still hold
    /// records or readers of it (their mappings stay valid). For a shard that expired.
    pub(crate) fn abandon(&self) {
        self.set(
            |inner| {
                inner.stop_background();
                inner.writer.lock().closed = true;
            },
            |before| before.abandoned = true,
        );
    }

    /// Sets or clears the seal without syncing: for a log whose shard the catalog says is closed
    /// (sealed and synced before the catalog said so), and for undoing a reshard whose catalog
    /// update failed.
    /// A log unsealed this way whose last segment was trimmed continues in a new segment.
    pub(crate) fn set_sealed(&self, sealed: bool) {
        self.set(
            |inner| {
                inner.writer.lock().sealed = sealed;
                if sealed {
                    inner.stop_background();
                } else {
                    inner.start_background();
                }
            },
            |before| before.sealed = sealed,
        );
    }

    /// Changes the largest record data accepted from now on (at most 10 MiB), as Kinesis'
    /// UpdateMaxRecordSize does. A record larger than a segment's room gets a segment of its own
    /// size.
    pub fn set_record_data_bytes_max(&self, bytes: usize) {
        let bytes = bytes.min(frame::DATA_BYTES_MAX);
        self.set(
            |inner| inner.record_data_bytes_max.store(bytes, Ordering::Relaxed),
            |before| before.record_data_bytes_max = Some(bytes),
        );
    }

    /// Whether [`ShardLog::seal`] was called.
    pub fn is_sealed(&self) -> bool {
        match self.opened.get() {
            Some(inner) => inner.writer.lock().sealed,
            None => self.before_open.lock().sealed,
        }
    }

    /// The shard directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Deletes whole sealed segments whose newest record arrived before `cutoff_ms`, oldest first,
    /// stopping at the first segment that still holds a record at or after the cutoff. If every
    /// record of the active segment is older than the cutoff too, it is sealed and deleted, so an
    /// idle shard does not keep expired data. Readers positioned in a deleted segment keep reading
    /// it (their records keep the mapping alive) and then continue with the oldest remaining one.
    ///
    /// A log still taking records keeps the file of its newest expired segment, if no reader uses
    /// it and it is about the size of the next segment, as `segment.recycled`: the next segment is
    /// made from it while its pages are still in the page cache, which spares the allocation and
    /// zeroing of fresh pages (docs/FORMAT.md §6 argues why its stale frames are never read). So a
    /// busy shard holds at most one segment file beyond its records; an idle shard (whose active
    /// segment expired) and every reopen delete it.
    pub fn delete_segments_older_than(&self, cutoff_ms: u64) -> LogResult<RetentionReport> {
        let Some(inner) = self.existing()? else {
            return Ok(RetentionReport::default());
        };
        let mut writer = inner.writer.lock();
        if writer.closed {
            return Err(LogError::Closed);
        }
        let active_expired =
            writer.active.last_counter().is_some() && writer.active.last_arrival_ms() < cutoff_ms;
        if active_expired && !inner.latched.load(Ordering::Acquire) {
            // The shard went idle: it starts again from a small segment, and keeps no spare file.
            inner.discard_recycled_file();
            let capacity = inner.options.first_segment_capacity();
            inner.roll(&mut writer, capacity)?;
        }
        let expired: Vec<Arc<Segment>> = {
            let mut segments = inner.segments.write();
            let removable = segments
                .iter()
                .take(segments.len().saturating_sub(1))
                .take_while(|segment| segment.last_arrival_ms() < cutoff_ms)
                .count();
            segments.drain(..removable).collect()
        };
        writer.changed |= !expired.is_empty();
        // A busy log reuses the file of its newest expired segment for a next segment of about its
        // size (see `Segment::recycle`); an idle one gives all its space back.
        let wanted_next = inner
            .options
            .next_segment_bytes(writer.active.capacity_bytes());
        let keep_one = inner.options.recycle_segments && !active_expired;
        drop(writer);
        let mut report = RetentionReport::default();
        let newest = expired.len().saturating_sub(1);
        for (i, segment) in expired.into_iter().enumerate() {
            debug_assert!(segment.is_sealed(), "only sealed segments expire");
            report.segments_deleted.push(segment.base_counter());
            report.bytes_deleted += segment.published_len();
            let reusable = keep_one && i == newest && segment.capacity_bytes() * 2 >= wanted_next;
            let recycled = reusable
                && segment.recycle().map_err(|error| {
                    LogError::io("recycling expired segment", segment.path(), error)
                })?;
            if recycled {
                report.segments_recycled += 1;
                continue;
            }
            segment
                .remove_files()
                .map_err(|error| LogError::io("deleting expired segment", segment.path(), error))?;
        }
        Ok(report)
    }

    /// Syncs everything, writes the index of the active segment and marks the shutdown clean, so
    /// the next open need not scan the log. Dropping the log does the same, ignoring errors.
    pub fn close(mut self) -> LogResult<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> LogResult<()> {
        let Some(inner) = self.opened.get() else {
            return Ok(()); // never opened: nothing to close
        };
        inner.stop_background();
        let mut writer = inner.writer.lock();
        if writer.closed {
            return Ok(());
        }
        writer.closed = true;
        if inner.latched.load(Ordering::Acquire) {
            return Err(LogError::Latched);
        }
        if !writer.changed {
            // The disk holds what open found, which open left as it was: a clean shutdown's
            // state, or a new log that never took a record (whose creation need not be durable).
            return Ok(());
        }
        let end = LogPosition {
            segment_base: writer.active.base_counter(),
            offset: writer.active.published_len(),
        };
        inner.sync_to(end)?;
        writer.active.write_index_file();
        let mut checkpoint = inner.checkpoint.lock();
        let clean = Checkpoint {
            durable: end,
            clean: true,
            next_counter: writer.next_counter,
            last_arrival_ms: writer.last_arrival_ms,
            active_end: end,
            ..checkpoint.current()
        };
        checkpoint
            .write(clean)
            .map_err(|error| LogError::io("writing checkpoint", &inner.dir, error))?;
        Ok(())
    }
}

impl Drop for ShardLog {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; a failed clean shutdown only means the next open
        // runs crash recovery, which is always safe.
        let _ = self.shutdown();
    }
}

impl Inner {
    /// Deletes the shard's recycled file, if it has one: the log went idle.
    fn discard_recycled_file(&self) {
        // Not found is the common case; any other failure leaves the file to the next open.
        let _ = std::fs::remove_file(self.dir.join(segment::RECYCLED_FILE_NAME));
    }

    /// Opens (creates or recovers) the log in `dir`, with the settings made before.
    fn open(
        dir: &Path,
        options: &LogOptions,
        before: &BeforeOpen,
    ) -> LogResult<(Arc<Inner>, RecoveryReport)> {
        let recovered = recovery::recover(dir, options)?;
        let active = recovered
            .segments
            .last()
            .cloned()
            .ok_or_else(|| LogError::corrupt(dir, 0, "recovery produced no segment"))?;
        let prefaulted_to = prefaulted_to_when_found(options, &active);
        let record_data_bytes_max = before
            .record_data_bytes_max
            .unwrap_or(options.record_data_bytes_max);
        let inner = Arc::new_cyclic(|me| Inner {
            me: Weak::clone(me),
            writer: Mutex::new(Writer {
                active,
                next_counter: recovered.next_counter,
                counter_lease_limit: recovered.counter_lease_limit,
                last_arrival_ms: recovered.last_arrival_ms,
                segment_requested: false,
                prefaulted_to,
                closed: false,
                sealed: before.sealed,
                changed: !recovered.wrote_nothing,
            }),
            segments: RwLock::new(recovered.segments),
            checkpoint: Mutex::new(recovered.checkpoint),
            sync: SyncProgress::new(recovered.durable),
            latched: AtomicBool::new(false),
            reopens: AtomicU64::new(0),
            prepared: Mutex::new(PreparedSlot::default()),
            prepared_ready: parking_lot::Condvar::new(),
            background_gate: RwLock::new(!before.sealed),
            sync_scheduled: AtomicBool::new(false),
            appended: AppendNotifier::new(),
            record_data_bytes_max: AtomicUsize::new(record_data_bytes_max),
            dir: dir.to_owned(),
            options: options.clone(),
        });
        Ok((inner, recovered.report))
    }

    /// Reopens a latched log from disk in place; see [`ShardLog::recover_if_latched`].
    fn reopen(&self) -> LogResult<Option<RecoveryReport>> {
        let mut writer = self.writer.lock();
        if !self.latched.load(Ordering::Acquire) {
            return Ok(None); // reopened by another caller meanwhile
        }
        if writer.closed {
            return Err(LogError::Closed);
        }
        // No job of this log runs from here on, and the segment it prepared ahead is deleted:
        // recovery deletes prepared files it finds.
        self.stop_background();
        let mut checkpoint = self.checkpoint.lock();
        // If recovery fails (the disk is still failing), the log stays latched for the next try.
        let options = LogOptions {
            handed_out_below: writer.next_counter,
            ..self.options.clone()
        };
        let recovered = recovery::recover(&self.dir, &options)?;
        let active = recovered
            .segments
            .last()
            .cloned()
            .ok_or_else(|| LogError::corrupt(&self.dir, 0, "recovery produced no segment"))?;
        debug_assert!(
            recovered.next_counter >= writer.next_counter,
            "recovery resumes above every counter handed out before the reopen"
        );
        writer.next_counter = recovered.next_counter;
        // At or past the limit, the next append makes a larger lease durable first.
        writer.counter_lease_limit = recovered.counter_lease_limit;
        writer.last_arrival_ms = recovered.last_arrival_ms.max(writer.last_arrival_ms);
        active.set_arrival_floor(writer.last_arrival_ms);
        writer.prefaulted_to = prefaulted_to_when_found(&self.options, &active);
        writer.segment_requested = false;
        writer.active = active;
        // Close must sync and write a clean checkpoint, whatever recovery wrote.
        writer.changed = true;
        *self.segments.write() = recovered.segments;
        *checkpoint = recovered.checkpoint;
        drop(checkpoint);
        self.sync.restart_from(recovered.durable);
        self.reopens.fetch_add(1, Ordering::AcqRel);
        self.latched.store(false, Ordering::Release);
        if !writer.sealed {
            self.start_background();
        }
        drop(writer);
        self.appended.notify(); // waiting readers find their place again
        Ok(Some(recovered.report))
    }

    fn validate(&self, record: &RecordInput<'_>) -> LogResult<()> {
        let key_bytes = record.partition_key.len();
        if key_bytes == 0 || key_bytes > PARTITION_KEY_BYTES_MAX {
            return Err(LogError::invalid_record(format!(
                "partition key of {key_bytes} bytes is outside 1..={PARTITION_KEY_BYTES_MAX}"
            )));
        }
        let data_bytes_max = self.record_data_bytes_max.load(Ordering::Relaxed);
        if record.data.len() > data_bytes_max {
            return Err(LogError::invalid_record(format!(
                "data of {} bytes exceeds the maximum record size of {data_bytes_max} bytes",
                record.data.len()
            )));
        }
        Ok(())
    }

    /// Appends one validated record with the writer lock held.
    ///
    /// `mapping` caches the active segment's mapping for one append call; a roll empties it.
    fn append_locked(
        &self,
        writer: &mut Writer,
        mapping: &mut Option<Arc<Mapping>>,
        record: &RecordInput<'_>,
        arrival_ms: u64,
    ) -> LogResult<SequenceNumber> {
        if writer.next_counter > SequenceNumber::COUNTER_MAX {
            return Err(LogError::CountersExhausted);
        }
        if writer.next_counter >= writer.counter_lease_limit {
            self.extend_counter_lease(writer)?;
        }
        let fields = FrameFields {
            counter: writer.next_counter,
            arrival_ms,
            record: *record,
        };
        // The identity was checked at open, the counter above, the arrival time per batch.
        let sequence_number = SequenceNumber::from_checked_parts(
            self.options.identity,
            fields.counter,
            arrival_ms / 1000,
        );
        let frame_len = fields.encoded_len() as u64;
        if writer.active.published_len() + frame_len > writer.active.capacity_bytes() {
            // A frame larger than a segment's room (a young shard's small segment, or a record
            // size limit raised after the segment size was chosen) gets a segment of at least its
            // own size. A segment `seal` trimmed has no room left, so a log unsealed after a
            // failed reshard continues in a new segment.
            let capacity = self
                .options
                .next_segment_bytes(writer.active.capacity_bytes())
                .max(segment::SEGMENT_HEADER_BYTES + frame_len);
            self.roll(writer, capacity)?;
            *mapping = None;
        }
        let segment = &writer.active;
        let position = segment.published_len();
        if position + frame_len > segment.capacity_bytes() {
            return Err(LogError::invalid_record(format!(
                "a frame of {frame_len} bytes does not fit in a fresh segment"
            )));
        }
        let target = match mapping {
            Some(target) => target,
            None => mapping.insert(
                segment
                    .mapping()
                    .map_err(|error| self.fail("mapping the active segment", error))?,
            ),
        };
        // SAFETY: this thread holds the writer lock, so it is the only writer; the segment is not
        // sealed, and the range starts at the published end and was just checked to lie inside
        // the file (whose whole length the mapping covers: the file only shrinks once sealed).
        let tail = unsafe { segment.unpublished_tail(target, position, frame_len as usize) };
        frame::encode(&fields, tail);
        let end = position + frame_len;
        segment.publish(end, fields.counter, arrival_ms);
        segment.index_if_due(IndexEntry {
            counter: fields.counter,
            arrival_ms,
            position,
        });
        writer.next_counter += 1;
        writer.last_arrival_ms = arrival_ms;
        writer.changed = true;
        if !writer.segment_requested && position * 2 > segment.capacity_bytes() {
            // Half full: have the next segment prepared before it is needed.
            if self.options.prepare_segments_in_background {
                self.request_segment(self.options.next_segment_bytes(segment.capacity_bytes()));
            }
            writer.segment_requested = true;
        }
        if end + PREFAULT_WINDOW_BYTES / 2 > writer.prefaulted_to {
            self.request_prefault(writer);
        }
        Ok(sequence_number)
    }

    /// Asks the pool to pre-fault the active segment's next window, if it has one.
    fn request_prefault(&self, writer: &mut Writer) {
        let from = writer.prefaulted_to;
        let capacity = writer.active.capacity_bytes();
        if from >= capacity {
            return;
        }
        let len = PREFAULT_WINDOW_BYTES.min(capacity - from);
        writer.prefaulted_to = from + len;
        background::submit(Job::Prefault {
            log: Weak::clone(&self.me),
            segment: Arc::clone(&writer.active),
            from,
            len,
        });
    }

    /// Has the pool sync this log a period from now, unless a sync is already scheduled.
    fn schedule_periodic_sync(&self) {
        let Some(period) = background::sync_period(self.options.durability) else {
            return;
        };
        if !self.sync_scheduled.load(Ordering::Acquire)
            && !self.sync_scheduled.swap(true, Ordering::AcqRel)
        {
            background::sync_after(period, Weak::clone(&self.me));
        }
    }

    /// Makes a larger counter lease durable before any counter beyond the current one is used.
    fn extend_counter_lease(&self, writer: &mut Writer) -> LogResult<()> {
        let limit = writer.next_counter.saturating_add(COUNTER_LEASE);
        let mut checkpoint = self.checkpoint.lock();
        let next = Checkpoint {
            counter_lease_limit: limit,
            ..checkpoint.current()
        };
        if let Err(error) = checkpoint.write(next) {
            self.latch();
            return Err(LogError::io(
                "extending the counter lease",
                &self.dir,
                error,
            ));
        }
        writer.counter_lease_limit = limit;
        Ok(())
    }

    /// Seals the active segment and puts the next one, of at least `capacity` bytes, into service.
    fn roll(&self, writer: &mut Writer, capacity: u64) -> LogResult<()> {
        writer.changed = true;
        let durable = self.options.durability.syncs();
        let retired = Arc::clone(&writer.active);
        // Failing to prepare a segment (a full disk) changes nothing: no latch, so the next append
        // tries again, and succeeds once there is space.
        let prepared = self
            .take_prepared_segment(capacity)
            .map_err(|error| LogError::io("preparing a segment", &self.dir, error))?;
        // An empty active segment that cannot take the next record (a shorter file from older
        // options) has the very base the new segment gets: the new one replaces it, under the same
        // name, instead of following it. The rename swaps the files atomically, and both have a
        // valid header for that base, so the durable point stays true on disk.
        let replacing =
            retired.last_counter().is_none() && retired.base_counter() == writer.next_counter;
        if replacing {
            retired.mark_sealed(); // readers move on, to its replacement
        } else {
            let path = self.dir.join(segment::file_name(writer.next_counter));
            if path.exists() {
                let error = std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a segment with the next base counter exists already",
                );
                return Err(self.fail("activating a segment", error));
            }
            retired
                .seal(durable)
                .map_err(|error| self.fail("sealing a segment", error))?;
            retired.write_index_file();
        }
        let created_ms = self.options.clock.now_ms();
        // The new header records where the sealed segment's data ends, so that recovery can tell
        // its complete data from a torn one whatever follows it on disk (zeros, or a recycled
        // file's stale frames). A replaced segment has no data; the one before it ends unrecorded.
        let previous = (!replacing).then(|| segment::PreviousSegment {
            base_counter: retired.base_counter(),
            end: retired.published_len(),
        });
        let next = prepared
            .activate(
                &self.dir,
                self.options.identity,
                writer.next_counter,
                created_ms,
                previous,
                durable,
            )
            .map_err(|error| self.fail("activating a segment", error))?;
        next.set_arrival_floor(writer.last_arrival_ms);
        {
            let mut segments = self.segments.write();
            if replacing {
                segments.retain(|segment| !Arc::ptr_eq(segment, &retired));
            }
            segments.push(Arc::clone(&next));
        }
        writer.active = Arc::clone(&next);
        if durable {
            // Everything in the sealed segment, and the new segment's header, is on disk now;
            // a creation that was never synced must be too before the durable point moves.
            if self.sync.durable() == recovery::NOTHING_DURABLE {
                self.sync_creation().inspect_err(|_| self.latch())?;
            }
            let start = LogPosition {
                segment_base: next.base_counter(),
                offset: next.published_len(),
            };
            self.sync.advance(start);
            self.write_durable_checkpoint()?;
        }
        writer.segment_requested = false;
        writer.prefaulted_to = if self.options.prepare_segments_in_background
            && next.capacity_bytes() >= PREPARE_AHEAD_MIN_BYTES
        {
            PREFAULT_WINDOW_BYTES.min(next.capacity_bytes())
        } else {
            u64::MAX // a small segment's pages fault as it fills (see `prefault_bytes`)
        };
        Ok(())
    }

    /// The end of the published log.
    fn end_position(&self) -> LogPosition {
        let segments = self.segments.read();
        segments
            .last()
            .map(|segment| LogPosition {
                segment_base: segment.base_counter(),
                offset: segment.published_len(),
            })
            .unwrap_or(LogPosition {
                segment_base: 0,
                offset: 0,
            })
    }

    /// Records the current durable point in the checkpoint.
    fn write_durable_checkpoint(&self) -> LogResult<()> {
        self.write_durable_point(true)
    }

    /// Records the current durable point in the checkpoint, syncing it if `synced` (else the
    /// caller syncs the whole file system next).
    fn write_durable_point(&self, synced: bool) -> LogResult<()> {
        // After a failed write or sync nothing may be retried as if it had not happened.
        if self.latched.load(Ordering::Acquire) {
            return Err(LogError::Latched);
        }
        let durable = self.sync.durable();
        let mut checkpoint = self.checkpoint.lock();
        let current = checkpoint.current();
        if current.durable >= durable {
            return Ok(());
        }
        let next = Checkpoint { durable, ..current };
        let written = if synced {
            checkpoint.write(next)
        } else {
            checkpoint.write_unsynced(next)
        };
        written.map_err(|error| {
            self.latch();
            LogError::io("writing checkpoint", &self.dir, error)
        })
    }

    fn latch(&self) {
        self.latched.store(true, Ordering::Release);
    }

    fn fail(&self, action: &'static str, error: std::io::Error) -> LogError {
        self.latch();
        LogError::io(action, &self.dir, error)
    }
}

/// Where a segment found on disk counts as pre-faulted to: nowhere past its data, so the writer
/// asks for its next window at once; or everywhere, for a segment too small to pre-fault.
fn prefaulted_to_when_found(options: &LogOptions, active: &Segment) -> u64 {
    if options.prepare_segments_in_background && active.capacity_bytes() >= PREPARE_AHEAD_MIN_BYTES
    {
        active.published_len()
    } else {
        u64::MAX
    }
}
