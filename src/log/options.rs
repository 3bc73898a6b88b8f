//! How a shard log is configured, and what each durability mode promises.

use std::sync::Arc;
use std::time::Duration;

use super::frame::{DATA_BYTES_MAX, FRAME_BYTES_MAX};
use super::segment::SEGMENT_HEADER_BYTES;
use crate::clock::{Clock, SystemClock};
use crate::error::{LogError, LogResult};
use crate::file_system::{FileSystem, OsFileSystem};
use crate::sequence::{SequenceNumber, ShardIdentity};

/// When an appended record is on disk.
///
/// Every mode survives a crash of the *process*: appends go into a shared file mapping, which the
/// kernel writes back even if the process is killed. The modes differ on *power loss or kernel
/// crash*, where only synced bytes survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Nothing is synced on the append path; the kernel writes pages back when it chooses (typically
    /// within 30 s). Survives a process crash; a power loss may lose any unsynced suffix of the log
    /// (never a record in the middle: recovery keeps an exact prefix). [`ShardLog::sync`] and a clean
    /// close make everything durable.
    ///
    /// [`ShardLog::sync`]: super::ShardLog::sync
    PageCache,
    /// A background thread syncs the log every interval. A power loss loses at most the records
    /// appended in the last interval (plus the time one sync takes).
    Interval(Duration),
    /// An append returns only after its record is on disk. Appenders waiting at the same time share
    /// one sync (group commit), so throughput grows with concurrency while each sync costs ~1–3 ms.
    Sync,
}

impl Durability {
    /// Whether segment seals and new segment files are synced (every mode but `PageCache`).
    pub fn syncs(&self) -> bool {
        !matches!(self, Durability::PageCache)
    }
}

/// Options for opening a shard log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The shard this log stores; recorded in every segment and checked on open.
    pub identity: ShardIdentity,
    /// Largest preallocated size of a segment file, header included: segments grow to it as the
    /// shard proves busy (a record larger than it still gets a segment of its own size).
    pub segment_bytes: u64,
    /// Size of a new shard's first segment, header included. Each next segment is four times the
    /// last one, up to `segment_bytes`, so an empty or quiet shard costs little.
    pub initial_segment_bytes: u64,
    /// Largest data blob accepted by `append` (the stream's max record size; Kinesis' default is 1 MiB).
    pub record_data_bytes_max: usize,
    /// When appended records reach the disk.
    pub durability: Durability,
    /// Prepare (preallocate and pre-fault) the next segment, and pre-fault the active one a window
    /// ahead of the writer, on the process-wide background pool.
    pub prepare_segments_in_background: bool,
    /// Keep the newest expired segment's file for the next segment while the log takes records
    /// (see [`ShardLog::delete_segments_older_than`](super::ShardLog::delete_segments_older_than)).
    pub recycle_segments: bool,
    /// Where arrival times come from.
    pub clock: Arc<dyn Clock>,
    /// The file system the log syncs, reserves space and replaces files through.
    pub file_system: Arc<dyn FileSystem>,
    /// The number of times the owner of this log (an engine) has been opened, made durable by the
    /// owner before it opens any log. `None` for a log on its own.
    ///
    /// Sequence counters must never be handed out twice, even after a power loss. A log on its own
    /// ensures it with durable leases in its checkpoint: creating and opening it each cost an
    /// fsync. With an epoch `e`, every counter handed out while the epoch lasts lies below
    /// `(e + 1) · 2^40` (or below a larger lease made durable first), and opening or creating the
    /// log resumes at `e · 2^40` or above: the epoch's durability is the lease, so neither writes
    /// anything durably, which is what lets an engine hold many shards at no cost per shard.
    pub counter_epoch: Option<u64>,
    /// Every counter below it was handed out already, in this epoch, by this process: set only
    /// when a latched log is reopened in place (`Inner::reopen`), so that recovery, which
    /// otherwise takes every counter at or above the epoch's floor for a later epoch's, resumes
    /// above them. 0 for every other open.
    pub(crate) handed_out_below: u64,
}

/// Default size of a segment file: 64 MiB.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Default size of a new shard's first segment: 32 KiB, so that an empty shard costs less than
/// 64 KiB of disk and memory.
pub const DEFAULT_INITIAL_SEGMENT_BYTES: u64 = 32 * 1024;
/// How much larger each next segment is than the one before it, until `segment_bytes`.
const SEGMENT_GROWTH_FACTOR: u64 = 4;
/// Default largest record data: 1 MiB, as Kinesis.
pub const DEFAULT_RECORD_DATA_BYTES_MAX: usize = 1024 * 1024;
/// How many counters one epoch leases implicitly (see [`LogOptions::counter_epoch`]).
pub const COUNTERS_PER_EPOCH_BITS: u32 = 40;
/// The largest counter epoch: the next epoch's floor must still be a valid counter.
pub const COUNTER_EPOCH_MAX: u64 = (1 << (63 - COUNTERS_PER_EPOCH_BITS)) - 2;

/// Smallest first segment: one page.
const FIRST_SEGMENT_BYTES_MIN: u64 = 4096;
/// Largest segment: 4 GiB keeps every offset within a u32 if a later format wants that.
pub const SEGMENT_BYTES_MAX: u64 = 1 << 32;

impl LogOptions {
    /// Defaults for `identity`: segments from 32 KiB growing to 64 MiB, 1 MiB records, page-cache
    /// durability.
    pub fn new(identity: ShardIdentity) -> LogOptions {
        LogOptions {
            identity,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            initial_segment_bytes: DEFAULT_INITIAL_SEGMENT_BYTES,
            record_data_bytes_max: DEFAULT_RECORD_DATA_BYTES_MAX,
            durability: Durability::PageCache,
            prepare_segments_in_background: true,
            recycle_segments: true,
            clock: Arc::new(SystemClock),
            file_system: OsFileSystem::shared(),
            counter_epoch: None,
            handed_out_below: 0,
        }
    }

    /// Sets the durability mode.
    pub fn durability(mut self, durability: Durability) -> LogOptions {
        self.durability = durability;
        self
    }

    /// Sets the largest segment size.
    pub fn segment_bytes(mut self, segment_bytes: u64) -> LogOptions {
        self.segment_bytes = segment_bytes;
        self
    }

    /// Sets whether retention keeps an expired segment's file for reuse (on by default).
    pub fn recycle_segments(mut self, recycle: bool) -> LogOptions {
        self.recycle_segments = recycle;
        self
    }

    /// Sets the size of a new shard's first segment.
    pub fn initial_segment_bytes(mut self, bytes: u64) -> LogOptions {
        self.initial_segment_bytes = bytes;
        self
    }

    /// The first segment's size: `initial_segment_bytes`, at most `segment_bytes`.
    pub(crate) fn first_segment_capacity(&self) -> u64 {
        self.initial_segment_bytes.min(self.segment_bytes)
    }

    /// The size of the segment that follows one of `previous_bytes`.
    pub(crate) fn next_segment_bytes(&self, previous_bytes: u64) -> u64 {
        previous_bytes
            .saturating_mul(SEGMENT_GROWTH_FACTOR)
            .clamp(self.first_segment_capacity(), self.segment_bytes)
    }

    /// Sets the largest record data size.
    pub fn record_data_bytes_max(mut self, bytes: usize) -> LogOptions {
        self.record_data_bytes_max = bytes;
        self
    }

    /// Sets the counter epoch (see [`LogOptions::counter_epoch`]).
    pub fn counter_epoch(mut self, epoch: Option<u64>) -> LogOptions {
        self.counter_epoch = epoch;
        self
    }

    /// The lowest counter this open may hand out: the epoch's floor (0 without an epoch), or
    /// above, after an in-place reopen, every counter handed out before it.
    pub(crate) fn epoch_floor(&self) -> u64 {
        self.counter_epoch
            .map_or(0, |epoch| epoch << COUNTERS_PER_EPOCH_BITS)
            .max(self.handed_out_below)
    }

    /// The counter below which this epoch hands out counters without a durable lease.
    pub(crate) fn epoch_lease_limit(&self) -> Option<u64> {
        self.counter_epoch
            .map(|epoch| (epoch + 1) << COUNTERS_PER_EPOCH_BITS)
    }

    /// Sets the file system (a [`FaultyFileSystem`](crate::FaultyFileSystem) in tests).
    pub fn file_system(mut self, file_system: Arc<dyn FileSystem>) -> LogOptions {
        self.file_system = file_system;
        self
    }

    /// Sets the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> LogOptions {
        self.clock = clock;
        self
    }

    /// Sets whether the next segment is prepared on a background thread.
    pub fn prepare_segments_in_background(mut self, enabled: bool) -> LogOptions {
        self.prepare_segments_in_background = enabled;
        self
    }

    /// The largest frame this log will write.
    pub(crate) fn frame_bytes_max(&self) -> u64 {
        (FRAME_BYTES_MAX - DATA_BYTES_MAX + self.record_data_bytes_max) as u64
    }

    pub(crate) fn validate(&self) -> LogResult<()> {
        let invalid = |reason: String| Err(LogError::InvalidOptions { reason });
        if let Err(error) = SequenceNumber::starting(self.identity) {
            return invalid(format!("shard identity: {error}"));
        }
        if self.record_data_bytes_max > DATA_BYTES_MAX {
            return invalid(format!(
                "record_data_bytes_max {} exceeds the format's {DATA_BYTES_MAX}",
                self.record_data_bytes_max
            ));
        }
        if self.segment_bytes > SEGMENT_BYTES_MAX {
            return invalid(format!(
                "segment_bytes {} exceeds {SEGMENT_BYTES_MAX}",
                self.segment_bytes
            ));
        }
        if self.segment_bytes < SEGMENT_HEADER_BYTES + self.frame_bytes_max() {
            return invalid(format!(
                "segment_bytes {} cannot hold a header and one largest record ({} bytes)",
                self.segment_bytes,
                SEGMENT_HEADER_BYTES + self.frame_bytes_max()
            ));
        }
        if self.initial_segment_bytes < FIRST_SEGMENT_BYTES_MIN {
            return invalid(format!(
                "initial_segment_bytes {} is below {FIRST_SEGMENT_BYTES_MIN}",
                self.initial_segment_bytes
            ));
        }
        if self
            .counter_epoch
            .is_some_and(|epoch| epoch > COUNTER_EPOCH_MAX)
        {
            return invalid(format!("counter_epoch exceeds {COUNTER_EPOCH_MAX}"));
        }
        if let Durability::Interval(interval) = self.durability
            && interval.is_zero()
        {
            return invalid("a sync interval must be longer than zero".to_owned());
        }
        Ok(())
    }
}
