//! Opening a shard log: finding out what is really on disk, and cutting what is not to be trusted.
//!
//! The log is the truth; the checkpoint and index files only bound how much of it must be read.
//!
//! - **New shard** (no checkpoint, no segments): create the checkpoint and the first segment.
//! - **After a clean close** (checkpoint says clean): load each segment's index file; a segment
//!   whose index file is missing or does not match is scanned. No payload is read otherwise.
//! - **After a crash**: segments wholly below the checkpoint's durable point are trusted through
//!   their index files (scanned if those are missing). From there on, frames are validated one by
//!   one: checksum, and counters strictly increasing within the segment's range, arrivals never
//!   decreasing. At the first frame that fails:
//!   - before the durable point, the log refuses to open (`Corrupt`): synced data is damaged, and
//!     skipping it silently would lose acknowledged records;
//!   - after it, it is a torn tail: the segment is cut there (the rest zeroed), later segments are
//!     deleted, and the report says what was cut.
//!
//!   Then the surviving tail is synced, and the counter resumes at the checkpoint's lease limit, so
//!   no counter handed out before the crash is ever handed out again.
//!
//! Either way, the checkpoint is rewritten as "not clean" (durably) before the first append.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checkpoint::{Checkpoint, CheckpointError, CheckpointFile, LogPosition};
use super::frame;
use super::index::{self, IndexEntry};
use super::options::LogOptions;
use super::segment::{
    self, PREPARED_FILE_PREFIX, PreparedSegment, RECYCLED_FILE_NAME, SEGMENT_HEADER_BYTES, Segment,
    SegmentOpenError,
};
use super::{COUNTER_LEASE, FIRST_COUNTER};
use crate::error::{LogError, LogResult};

/// What opening a log found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The log was closed cleanly, so no frame had to be scanned (unless an index file was missing).
    pub clean_shutdown: bool,
    /// The log did not exist and was created.
    pub created: bool,
    /// Segments in the log after opening.
    pub segments: usize,
    /// Frames validated by scanning.
    pub frames_scanned: u64,
    /// Bytes of frames validated by scanning.
    pub bytes_scanned: u64,
    /// Segments whose index was rebuilt by scanning because its file was missing or in doubt.
    pub indexes_rebuilt: usize,
    /// Where a torn tail was cut, if one was.
    pub truncation: Option<Truncation>,
    /// Base counters of segments deleted because they came after a cut (or were half-created).
    pub segments_removed: Vec<u64>,
    /// The counter the next appended record gets.
    pub next_counter: u64,
}

/// A torn tail that recovery cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Base counter of the segment that was cut.
    pub segment_base: u64,
    /// Offset of the first invalid frame; the segment now ends here.
    pub offset: u64,
    /// Why the frame there was invalid.
    pub reason: String,
}

/// The state `ShardLog::open` continues from.
pub(super) struct Recovered {
    pub segments: Vec<Arc<Segment>>,
    pub checkpoint: CheckpointFile,
    pub next_counter: u64,
    /// No counter at or above it may be handed out before a larger lease is durable.
    pub counter_lease_limit: u64,
    /// What is known to be on disk: the sync position to start from.
    pub durable: LogPosition,
    /// Open left the disk as it found it (with a counter epoch, after a clean shutdown) or made a
    /// new log that need not be durable yet: closing it unchanged need write nothing.
    pub wrote_nothing: bool,
    pub last_arrival_ms: u64,
    pub report: RecoveryReport,
}

pub(super) fn recover(dir: &Path, options: &LogOptions) -> LogResult<Recovered> {
    fs::create_dir_all(dir)
        .map_err(|error| LogError::io("creating shard directory", dir, error))?;
    let bases =
        list_directory(dir).map_err(|error| LogError::io("listing shard directory", dir, error))?;
    let checkpoint = match CheckpointFile::open(&options.file_system, dir) {
        Ok(checkpoint) => checkpoint,
        Err(CheckpointError::Io(error)) => {
            return Err(LogError::io("reading checkpoint", dir, error));
        }
        // With an epoch the creation was not synced, and a power loss may tear it: it is then
        // as if it had not happened (see `docs/FORMAT.md`).
        Err(CheckpointError::CreationTorn) if options.counter_epoch.is_some() => None,
        Err(CheckpointError::Damaged | CheckpointError::CreationTorn) => {
            return Err(LogError::corrupt(
                dir.join(super::checkpoint::FILE_NAME),
                0,
                "both checkpoint slots are damaged",
            ));
        }
    };
    let checkpoint = match (checkpoint, bases.first()) {
        (Some(checkpoint), _) => checkpoint,
        (None, None) => return create(dir, options),
        // A creation that never reached the disk whole. With a counter epoch it needed no sync,
        // so its segments may hold records: recover them as an unsynced tail.
        (None, Some(_)) if options.counter_epoch.is_some() => CheckpointFile::create(
            &options.file_system,
            dir,
            creation_checkpoint(options),
            false,
        )
        .map_err(|error| LogError::io("creating checkpoint", dir, error))?,
        (None, Some(base)) => {
            return Err(LogError::corrupt(
                dir.join(segment::file_name(*base)),
                0,
                "segment files without a checkpoint",
            ));
        }
    };
    let found = checkpoint.current().identity;
    if found != options.identity {
        return Err(LogError::ShardMismatch {
            path: dir.to_owned(),
            expected: options.identity,
            found,
        });
    }
    let mut bases = bases;
    let durable = checkpoint.current().durable;
    if bases.is_empty() && (durable == EMPTY_LOG_END || durable == NOTHING_DURABLE) {
        // The creation of this shard was interrupted after its checkpoint: finish it.
        drop(create_first_segment(dir, options)?);
        bases.push(0);
    }
    let mut recovery = Recovery {
        dir,
        options,
        checkpoint: checkpoint.current(),
        report: RecoveryReport::default(),
        segments: Vec::new(),
        last_counter: None,
        last_arrival_ms: 0,
    };
    recovery.open_segments(&bases)?;
    // After a clean close the log must end exactly where it ended then: a log appended to after
    // a clean open (which, with a counter epoch, does not clear the flag on disk) is recovered as
    // after a crash.
    let active_end = recovery.checkpoint.active_end;
    let clean = recovery.checkpoint.clean
        && match recovery.segments.last() {
            Some(last) if last.base_counter() == active_end.segment_base => {
                ends_at(last, active_end.offset, recovery.checkpoint.next_counter)?
            }
            _ => false,
        };
    if clean {
        recovery.load_clean()?;
    } else {
        recovery.load_after_crash()?;
    }
    recovery.finish(checkpoint)
}

/// The durable point of a shard with no records: just after the first segment's header.
const EMPTY_LOG_END: LogPosition = LogPosition {
    segment_base: 0,
    offset: SEGMENT_HEADER_BYTES,
};

/// The durable point of a shard whose creation was not synced (with a counter epoch): nothing,
/// not even the first segment's header, is known to be on disk.
pub(super) const NOTHING_DURABLE: LogPosition = LogPosition {
    segment_base: 0,
    offset: 0,
};

/// The checkpoint a new shard starts with. Without a counter epoch the creation is durable and
/// leases the first counters; with one, nothing is synced and the epoch is the lease.
fn creation_checkpoint(options: &LogOptions) -> Checkpoint {
    let (lease, durable) = match options.counter_epoch {
        None => (COUNTER_LEASE, EMPTY_LOG_END),
        Some(_) => (0, NOTHING_DURABLE),
    };
    Checkpoint {
        generation: 0,
        identity: options.identity,
        counter_lease_limit: lease,
        durable,
        clean: false,
        next_counter: FIRST_COUNTER,
        last_arrival_ms: 0,
        active_end: durable,
    }
}

/// Creates a new, empty shard log: the checkpoint first, then the first segment. A crash between
/// the two leaves a checkpoint without segments, which the next open completes. Without a counter
/// epoch all of it is synced; with one, none of it is until the log's first sync, and open copes
/// with any part of it missing (see `recover`).
fn create(dir: &Path, options: &LogOptions) -> LogResult<Recovered> {
    let durable = options.counter_epoch.is_none();
    let initial = creation_checkpoint(options);
    let checkpoint = CheckpointFile::create(&options.file_system, dir, initial, durable)
        .map_err(|error| LogError::io("creating checkpoint", dir, error))?;
    let first = create_first_segment(dir, options)?;
    if durable && let Some(parent) = dir.parent() {
        // The shard directory itself must survive power loss too.
        let _ = options.file_system.sync_directory(parent);
    }
    let segments = vec![first];
    let next_counter = FIRST_COUNTER.max(options.epoch_floor());
    Ok(Recovered {
        segments,
        checkpoint,
        next_counter,
        counter_lease_limit: options
            .epoch_lease_limit()
            .unwrap_or(initial.counter_lease_limit),
        durable: initial.durable,
        wrote_nothing: !durable,
        last_arrival_ms: 0,
        report: RecoveryReport {
            created: true,
            segments: 1,
            next_counter,
            ..RecoveryReport::default()
        },
    })
}

/// Whether no frame was written at `offset` in `segment` after a clean close that recorded
/// `next_counter`: nothing but zeros (or the end of the file) follows, or, in a recycled file,
/// nothing that starts like a frame with a counter the log handed out since (stale frames there
/// have counters below the segment's base).
/// Read, not mapped, so that a clean open maps nothing.
fn ends_at(segment: &Arc<Segment>, offset: u64, next_counter: u64) -> LogResult<bool> {
    use std::os::unix::fs::FileExt;
    let mut next = [0u8; frame::HEADER_BYTES];
    let read = fs::File::open(segment.path())
        .and_then(|file| file.read_at(&mut next, offset))
        .map_err(|error| LogError::io("reading segment", segment.path(), error))?;
    let rest = next.get(..read).unwrap_or_default();
    if rest.iter().all(|&byte| byte == 0) {
        return Ok(true);
    }
    Ok(segment.header_facts().recycled
        && frame::counter_if_framed(rest).is_none_or(|counter| counter < next_counter))
}

/// A new shard's first segment is small ([`LogOptions::initial_segment_bytes`]): an empty shard
/// costs little, and later segments grow as the shard proves busy.
fn create_first_segment(dir: &Path, options: &LogOptions) -> LogResult<Arc<Segment>> {
    let capacity = options.first_segment_capacity();
    let durable = options.counter_epoch.is_none();
    let prefault = super::background::prefault_bytes(capacity);
    let prepared = if durable {
        PreparedSegment::create(&options.file_system, dir, capacity, prefault)
    } else {
        PreparedSegment::create_at(
            &options.file_system,
            dir.join(segment::file_name(0)),
            capacity,
            prefault,
        )
    };
    prepared
        .and_then(|prepared| {
            prepared.activate(
                dir,
                options.identity,
                0,
                options.clock.now_ms(),
                None,
                durable,
            )
        })
        .map_err(|error| LogError::io("creating the first segment", dir, error))
}

/// Lists segment base counters in order, and deletes leftovers of interrupted work.
fn list_directory(dir: &Path) -> io::Result<Vec<u64>> {
    let mut bases = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if let Some(base) = segment::parse_file_name(name) {
            bases.push(base);
        } else if name.starts_with(PREPARED_FILE_PREFIX)
            || name == RECYCLED_FILE_NAME
            || name.ends_with(".idx.tmp")
            || name == super::checkpoint::TEMPORARY_FILE_NAME
        {
            fs::remove_file(entry.path())?;
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

struct Recovery<'a> {
    dir: &'a Path,
    options: &'a LogOptions,
    checkpoint: Checkpoint,
    report: RecoveryReport,
    segments: Vec<Arc<Segment>>,
    /// Counter and arrival of the last frame accepted so far, across segments.
    last_counter: Option<u64>,
    last_arrival_ms: u64,
}

/// How a segment's frames end.
enum ScanEnd {
    /// At the end of the file, or where only zeros (never-written space) follow.
    Clean,
    /// At an invalid frame followed by non-zero bytes.
    Invalid { offset: u64, reason: String },
}

impl Recovery<'_> {
    /// The checkpoint claims nothing durable: a creation that was never synced.
    fn nothing_durable(&self) -> bool {
        self.checkpoint.durable == NOTHING_DURABLE
    }

    fn segment_path(&self, base: u64) -> PathBuf {
        self.dir.join(segment::file_name(base))
    }

    fn open_segments(&mut self, bases: &[u64]) -> LogResult<()> {
        for (i, &base) in bases.iter().enumerate() {
            let path = self.segment_path(base);
            match Segment::open(
                &self.options.file_system,
                &path,
                self.options.identity,
                base,
            ) {
                Ok(segment) => self.segments.push(segment),
                Err(SegmentOpenError::Io(error)) => {
                    return Err(LogError::io("opening segment", &path, error));
                }
                Err(SegmentOpenError::Header(error)) => {
                    // A segment created after the durable point may have lost its header with the
                    // power (PageCache mode syncs neither): the log ends before it, like a torn
                    // tail. At or below the durable point the header was synced: that is damage.
                    if !self.nothing_durable() && base <= self.checkpoint.durable.segment_base {
                        return Err(LogError::corrupt(&path, 0, error));
                    }
                    for &removed in bases.get(i..).unwrap_or_default() {
                        let removed_path = self.segment_path(removed);
                        segment::remove_files_at(&removed_path).map_err(|error| {
                            LogError::io("removing segment", &removed_path, error)
                        })?;
                        self.report.segments_removed.push(removed);
                    }
                    break;
                }
            }
        }
        if self.segments.is_empty() {
            if self.nothing_durable() {
                // Even the first segment's header never reached the disk: start it again.
                self.segments
                    .push(create_first_segment(self.dir, self.options)?);
            } else if self.report.segments_removed.is_empty() {
                return Err(LogError::corrupt(self.dir, 0, "no usable segment file"));
            } else {
                // Every segment left was made after the durable point and lost its header with
                // the power, and retention had deleted those before them: no record survives.
                // The log starts again, empty, at the counter it resumes at.
                self.segments.push(self.restart_segment()?);
            }
        }
        Ok(())
    }

    /// An empty segment based at the counter a crash resumes at (see `finish`), for a log whose
    /// every segment was lost.
    fn restart_segment(&self) -> LogResult<Arc<Segment>> {
        let base = self
            .checkpoint
            .counter_lease_limit
            .max(self.options.epoch_floor())
            .max(FIRST_COUNTER);
        let capacity = self.options.first_segment_capacity();
        let prefault = super::background::prefault_bytes(capacity);
        PreparedSegment::create(&self.options.file_system, self.dir, capacity, prefault)
            .and_then(|prepared| {
                let now_ms = self.options.clock.now_ms();
                prepared.activate(self.dir, self.options.identity, base, now_ms, None, true)
            })
            .map_err(|error| LogError::io("creating a segment", self.dir, error))
    }

    /// After a clean close: trust index files that match exactly; scan (strictly) where they do not.
    fn load_clean(&mut self) -> LogResult<()> {
        self.report.clean_shutdown = true;
        let count = self.segments.len();
        for i in 0..count {
            let Some(segment) = self.segments.get(i).cloned() else {
                break;
            };
            let is_last = i + 1 == count;
            // A sealed segment ends where the next one's header says, or else at its file's end
            // (it was trimmed at its seal).
            let used_len = if is_last {
                self.checkpoint.active_end.offset
            } else {
                self.recorded_end(i).unwrap_or(segment.capacity_bytes())
            };
            if used_len > segment.capacity_bytes() {
                return Err(LogError::corrupt(
                    segment.path(),
                    segment.capacity_bytes(),
                    "segment file shorter than the length recorded for its data",
                ));
            }
            if !self.load_index_file(&segment, used_len) {
                if let ScanEnd::Invalid { offset, reason } = self.scan(&segment, used_len)? {
                    return Err(LogError::corrupt(segment.path(), offset, reason));
                }
                if segment.published_len() != used_len {
                    return Err(LogError::corrupt(
                        segment.path(),
                        segment.published_len(),
                        "log ends before the length recorded at clean shutdown",
                    ));
                }
            }
            if !is_last {
                if segment.capacity_bytes() > used_len {
                    // Its trim at the seal did not reach the disk before the power went.
                    segment
                        .trim_to_published()
                        .map_err(|error| LogError::io("trimming segment", segment.path(), error))?;
                }
                segment.mark_sealed();
            }
        }
        self.last_arrival_ms = self.last_arrival_ms.max(self.checkpoint.last_arrival_ms);
        Ok(())
    }

    /// After a crash: validate from the durable point on, cut a torn tail.
    fn load_after_crash(&mut self) -> LogResult<()> {
        let durable = self.checkpoint.durable;
        let mut i = 0;
        while let Some(segment) = self.segments.get(i).cloned() {
            let base = segment.base_counter();
            let is_last = i + 1 == self.segments.len();
            let file_end = segment.capacity_bytes();
            if is_last && base < durable.segment_base {
                return Err(LogError::corrupt(
                    self.segment_path(durable.segment_base),
                    0,
                    "the segment holding the durable point is missing",
                ));
            }
            let wholly_durable = base < durable.segment_base;
            let recorded_end = self.recorded_end(i);
            if wholly_durable {
                // Synced whole: a file shorter than its recorded data lost synced records.
                if recorded_end.is_some_and(|end| end > file_end) {
                    return Err(LogError::corrupt(
                        segment.path(),
                        file_end,
                        "segment file shorter than the length recorded for its data",
                    ));
                }
                if self.load_index_file(&segment, recorded_end.unwrap_or(file_end)) {
                    self.trim_lost_trim(&segment)?;
                    segment.mark_sealed();
                    i += 1;
                    continue;
                }
            }
            let limit = recorded_end.map_or(file_end, |end| end.min(file_end));
            let scan_end = self.scan(&segment, limit)?;
            let stop = segment.published_len();
            let torn = match (scan_end, recorded_end) {
                (ScanEnd::Invalid { reason, .. }, _) => Some(reason),
                // The next segment's header says where this one's data ends: complete if the
                // frames reach exactly there, whatever follows (zeros, or stale frames of a
                // recycled file, left by a trim that did not reach the disk: trimmed now).
                (ScanEnd::Clean, Some(end)) if stop == end => {
                    self.trim_lost_trim(&segment)?;
                    None
                }
                (ScanEnd::Clean, Some(end)) => Some(format!(
                    "the data ends at {stop}, before {end}, where the next segment's header says"
                )),
                (ScanEnd::Clean, None) if is_last || stop == file_end => None,
                (ScanEnd::Clean, None) if self.index_file_confirms_end(&segment) => {
                    // A seal whose trim did not reach the disk: the index file written at the seal
                    // says the data ends here, and only zeros follow. Trim it now.
                    self.trim_lost_trim(&segment)?;
                    None
                }
                (ScanEnd::Clean, None) => {
                    Some("zeros before the end of a sealed segment".to_owned())
                }
            };
            // Everything below the durable point was synced: ending early there is damage, never a
            // torn tail, whether the bytes read back garbled or as zeros.
            let short_of_durable = if wholly_durable {
                torn.is_some() || stop < segment.capacity_bytes()
            } else {
                base == durable.segment_base && stop < durable.offset
            };
            if short_of_durable {
                let reason = torn.unwrap_or_else(|| "synced records read back as zeros".to_owned());
                return Err(LogError::corrupt(segment.path(), stop, reason));
            }
            if let Some(reason) = torn {
                segment
                    .cut_at(stop)
                    .map_err(|error| LogError::io("cutting a torn tail", segment.path(), error))?;
                self.report.truncation = Some(Truncation {
                    segment_base: base,
                    offset: stop,
                    reason,
                });
                self.remove_segments_after(i)?;
            }
            if i + 1 < self.segments.len() {
                segment.mark_sealed();
                if !wholly_durable {
                    // Saved so that the next clean open need not scan it again.
                    segment.write_index_file();
                }
            }
            i += 1;
        }
        self.make_recovered_log_durable(durable)
    }

    /// Zeroes the never-written tail of the last segment and syncs everything after the old durable
    /// point (and the directory), so that the checkpoint may call the whole recovered log durable.
    fn make_recovered_log_durable(&self, durable: LogPosition) -> LogResult<()> {
        if let Some(last) = self.segments.last()
            && last.published_len() < last.capacity_bytes()
            && self.report.truncation.is_none()
            && !last.header_facts().recycled
        {
            // Never-synced pages past the end may hold stale frames after a power loss: zero them
            // so that nothing can ever be found there again. (A recycled file is full of stale
            // frames by design, told apart by their counters; zeroing it would undo its reuse.)
            last.cut_at(last.published_len())
                .map_err(|error| LogError::io("zeroing the tail", last.path(), error))?;
        }
        for segment in &self.segments {
            if segment.base_counter() >= durable.segment_base {
                segment
                    .sync_range(0, segment.published_len())
                    .map_err(|error| {
                        LogError::io("syncing recovered log", segment.path(), error)
                    })?;
            }
        }
        self.options
            .file_system
            .sync_directory(self.dir)
            .map_err(|error| LogError::io("syncing shard directory", self.dir, error))
    }

    /// Where the data of segment `i` ends, as the header of the segment after it records (version 2
    /// headers, written by a roll); `None` for the last segment, where it is not recorded, or where
    /// the segment after it in the directory followed another one (a segment file is missing).
    fn recorded_end(&self, i: usize) -> Option<u64> {
        let segment = self.segments.get(i)?;
        let previous = self.segments.get(i + 1)?.header_facts().previous?;
        (previous.base_counter == segment.base_counter()).then_some(previous.end)
    }

    /// Trims a sealed segment's file to its data if it is longer: its trim at the seal did not
    /// reach the disk.
    fn trim_lost_trim(&self, segment: &Arc<Segment>) -> LogResult<()> {
        if segment.capacity_bytes() > segment.published_len() {
            segment
                .trim_to_published()
                .map_err(|error| LogError::io("trimming segment", segment.path(), error))?;
        }
        Ok(())
    }

    /// Whether the segment's index file (written when it was sealed) says its data ends exactly
    /// where the scan stopped.
    fn index_file_confirms_end(&self, segment: &Arc<Segment>) -> bool {
        index::read_file(&segment.index_path()).is_some_and(|(summary, _)| {
            // An empty segment's index file records counter 0, which no record has.
            summary.covered_len == segment.published_len()
                && summary.last_counter == segment.last_counter().unwrap_or(0)
        })
    }

    fn remove_segments_after(&mut self, i: usize) -> LogResult<()> {
        for removed in self.segments.split_off(i + 1) {
            removed
                .remove_files()
                .map_err(|error| LogError::io("removing segment", removed.path(), error))?;
            self.report.segments_removed.push(removed.base_counter());
        }
        Ok(())
    }

    /// Loads a segment's index file if it exists and covers exactly `used_len` bytes; publishes the
    /// segment up to there. False if the file is missing or in doubt.
    fn load_index_file(&mut self, segment: &Arc<Segment>, used_len: u64) -> bool {
        if used_len == SEGMENT_HEADER_BYTES {
            return true; // an empty segment: nothing to index
        }
        let Some((summary, entries)) = index::read_file(&segment.index_path()) else {
            return false;
        };
        let first = entries.first();
        let consistent = summary.base_counter == segment.base_counter()
            && summary.covered_len == used_len
            && used_len <= segment.capacity_bytes()
            && first.is_some_and(|entry| {
                entry.position == SEGMENT_HEADER_BYTES
                    && self.last_counter.is_none_or(|last| entry.counter > last)
                    && entry.arrival_ms >= self.last_arrival_ms
            });
        if !consistent {
            return false;
        }
        for entry in entries {
            segment.index().push(entry);
        }
        segment.publish(used_len, summary.last_counter, summary.last_arrival_ms);
        self.last_counter = Some(summary.last_counter);
        self.last_arrival_ms = summary.last_arrival_ms;
        true
    }

    /// Validates frames from the segment start up to `limit`, publishing and indexing each valid one.
    fn scan(&mut self, segment: &Arc<Segment>, limit: u64) -> LogResult<ScanEnd> {
        if limit > SEGMENT_HEADER_BYTES {
            self.report.indexes_rebuilt += 1;
        }
        let view = segment
            .recovery_view()
            .map_err(|error| LogError::io("mapping segment", segment.path(), error))?;
        let mut offset = SEGMENT_HEADER_BYTES;
        let counter_ceiling = self.next_base_after(segment.base_counter());
        let limit = limit.min(segment.capacity_bytes());
        let end = loop {
            if offset >= limit {
                break ScanEnd::Clean;
            }
            let Some(bytes) = view.range(offset, limit) else {
                break ScanEnd::Clean;
            };
            let frame = match frame::decode(bytes) {
                Ok(frame) => frame,
                Err(error) => break self.classify_stop(segment, bytes, offset, error.to_string()),
            };
            let in_order = frame.counter >= segment.base_counter()
                && frame.counter < counter_ceiling
                && self.last_counter.is_none_or(|last| frame.counter > last)
                && frame.arrival_ms >= self.last_arrival_ms;
            if !in_order {
                let reason = format!(
                    "frame with counter {} (arrival {}) breaks the log's order",
                    frame.counter, frame.arrival_ms
                );
                break self.classify_stop(segment, bytes, offset, reason);
            }
            let frame_len = frame.frame_len as u64;
            segment.publish(offset + frame_len, frame.counter, frame.arrival_ms);
            segment.index_if_due(IndexEntry {
                counter: frame.counter,
                arrival_ms: frame.arrival_ms,
                position: offset,
            });
            self.last_counter = Some(frame.counter);
            self.last_arrival_ms = frame.arrival_ms;
            self.report.frames_scanned += 1;
            self.report.bytes_scanned += frame_len;
            offset += frame_len;
        };
        Ok(end)
    }

    /// A scan stopped at `offset`: the end of written data if only zeros follow (or, in a recycled
    /// file, if what follows is not the start of a frame that would have continued the log: a
    /// stale frame's counter is below the segment's base), else a torn write.
    fn classify_stop(
        &self,
        segment: &Segment,
        rest: &[u8],
        offset: u64,
        reason: String,
    ) -> ScanEnd {
        let ended = if segment.header_facts().recycled {
            frame::counter_if_framed(rest).is_none_or(|counter| {
                counter < segment.base_counter()
                    || self.last_counter.is_some_and(|last| counter <= last)
            })
        } else {
            rest.iter().all(|&byte| byte == 0)
        };
        if ended {
            ScanEnd::Clean
        } else {
            ScanEnd::Invalid { offset, reason }
        }
    }

    /// The base counter of the segment after `base`, which bounds the counters inside it.
    fn next_base_after(&self, base: u64) -> u64 {
        self.segments
            .iter()
            .map(|segment| segment.base_counter())
            .find(|&next| next > base)
            .unwrap_or(u64::MAX)
    }

    fn finish(mut self, mut checkpoint_file: CheckpointFile) -> LogResult<Recovered> {
        let mut arrival_floor_ms = 0;
        for segment in &self.segments {
            segment.set_arrival_floor(arrival_floor_ms);
            arrival_floor_ms = segment.last_arrival_ms();
        }
        let clean = self.report.clean_shutdown;
        let last_counter = self.last_counter;
        let next_counter = if clean {
            self.checkpoint.next_counter
        } else {
            // Counters below the lease limit may have been handed out before the crash.
            self.checkpoint.counter_lease_limit
        };
        // Counters of earlier epochs all lie below this one's floor.
        let next_counter = next_counter
            .max(self.options.epoch_floor())
            .max(FIRST_COUNTER);
        if last_counter.is_some_and(|last| last >= next_counter) {
            return Err(LogError::corrupt(
                self.dir.join(super::checkpoint::FILE_NAME),
                0,
                format!(
                    "the log holds counter {} beyond the checkpoint's lease {next_counter}",
                    last_counter.unwrap_or_default()
                ),
            ));
        }
        let Some(active) = self.segments.last() else {
            return Err(LogError::corrupt(self.dir, 0, "no usable segment file"));
        };
        let end = LogPosition {
            segment_base: active.base_counter(),
            offset: active.published_len(),
        };
        let wrote_nothing = self.options.counter_epoch.is_some() && self.report.clean_shutdown;
        let counter_lease_limit = match self.options.epoch_lease_limit() {
            // Durably: the lease for the counters to come, and "not clean" before any append.
            None => {
                let reopened = Checkpoint {
                    counter_lease_limit: next_counter.saturating_add(COUNTER_LEASE),
                    durable: end,
                    clean: false,
                    ..self.checkpoint
                };
                checkpoint_file
                    .write(reopened)
                    .map_err(|error| LogError::io("writing checkpoint", self.dir, error))?;
                reopened.counter_lease_limit
            }
            // Nothing to write: the epoch leases the counters, and a clean flag left on disk is
            // disproved by any record appended after it (see `recover`). The next write carries
            // "not clean".
            Some(epoch_lease_limit) => {
                checkpoint_file.assume(Checkpoint {
                    durable: end,
                    clean: false,
                    ..self.checkpoint
                });
                epoch_lease_limit.max(self.checkpoint.counter_lease_limit)
            }
        };
        self.report.segments = self.segments.len();
        self.report.next_counter = next_counter;
        let durable = if self.nothing_durable() {
            NOTHING_DURABLE
        } else {
            end
        };
        Ok(Recovered {
            segments: self.segments,
            checkpoint: checkpoint_file,
            next_counter,
            counter_lease_limit,
            durable,
            wrote_nothing,
            last_arrival_ms: self.last_arrival_ms,
            report: self.report,
        })
    }
}
