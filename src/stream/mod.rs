//! The Kinesis data model on top of shard logs: a stream is a set of shards, each owning a range
//! of the 128-bit hash-key space and storing its records in its own [`ShardLog`].
//!
//! Writes route by hash key (MD5 of the partition key, or an explicit hash key) to the open shard
//! whose range contains it; each shard has its own log and writer lock, so producers writing to
//! different shards proceed in parallel. Validation follows Kinesis exactly and fails with the
//! exception Kinesis uses (see [`StreamError`]).

mod describe;
mod error;
pub mod hash_key;
pub mod iterator;
mod meta;
pub mod metrics;
pub mod names;
mod put;
mod reader;
pub mod throughput;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

pub use self::describe::{ShardDescription, StreamDescription};
pub use self::error::{StreamError, StreamResult};
pub use self::hash_key::{HashKey, HashKeyRange, hash_key_of};
pub use self::iterator::{ITERATOR_TTL_MS, StartingPosition};
pub use self::meta::{
    FILE_NAME as META_FILE_NAME, ShardMeta, StreamMeta, StreamMode, StreamStatus,
};
pub use self::metrics::{
    ShardMetric, ShardMetricsSnapshot, StreamMetric, StreamMetricsSnapshot, StreamRates,
    StreamValues, rate_per_second,
};
pub use self::names::{NameError, ShardId, StreamName};
pub use self::put::{
    PutRecordInput, PutRecordOutput, PutRecordsEntry, PutRecordsOutput, PutRecordsResult,
    parse_explicit_hash_key,
};
pub use self::reader::{ChildShard, GetRecordsOutput, RecordBatch, ShardReader};

use self::metrics::{ShardMetrics, StreamMetrics};
use self::throughput::ShardThroughput;
use crate::clock::Clock;
use crate::log::{Durability, LogOptions, ShardLog};
use crate::sequence::SequenceNumber;

/// What every stream of an engine shares: configuration and identity.
#[derive(Debug)]
pub(crate) struct StreamContext {
    pub clock: Arc<dyn Clock>,
    pub account_id: String,
    pub region: String,
    pub durability: Durability,
    pub segment_bytes: u64,
    /// Key that authenticates shard iterator tokens.
    pub iterator_key: [u8; 32],
    /// Hold PROVISIONED streams' shards to Kinesis' per-shard limits (see `throughput`).
    pub enforce_throughput_limits: bool,
}

impl StreamContext {
    pub(crate) fn not_found(&self, name: &str) -> StreamError {
        StreamError::ResourceNotFound {
            message: format!("Stream {name} under account {} not found.", self.account_id),
        }
    }
}

/// One shard: its catalog entry, its log, its counters and its throughput budget.
pub struct Shard {
    meta: ShardMeta,
    log: ShardLog,
    /// Shared with the stream's registry, which keeps them after the shard leaves the table.
    metrics: Arc<ShardMetrics>,
    /// Touched only when limits apply (see `Stream::throughput_limits_apply`).
    throughput: ShardThroughput,
}

impl Shard {
    /// A shard of the stream whose metrics are `stream_metrics`, with full throughput buckets.
    pub(crate) fn new(meta: ShardMeta, log: ShardLog, stream_metrics: &StreamMetrics) -> Shard {
        Shard {
            metrics: stream_metrics.shard(meta.index),
            meta,
            log,
            throughput: ShardThroughput::default(),
        }
    }

    /// The shard's cumulative metrics since its stream was opened (IncomingBytes, OutgoingBytes,
    /// ...); diff two of them for a rate.
    pub fn metrics(&self) -> ShardMetricsSnapshot {
        self.metrics.snapshot(self.id())
    }

    /// The shard's id.
    pub fn id(&self) -> ShardId {
        self.meta.id()
    }

    /// The shard's catalog entry.
    pub fn meta(&self) -> &ShardMeta {
        &self.meta
    }

    /// The shard's log.
    pub fn log(&self) -> &ShardLog {
        &self.log
    }
}

/// The shards of a stream, and the open ones in hash-key order for routing.
struct ShardTable {
    /// Every shard, by index.
    all: Vec<Arc<Shard>>,
    /// Open shards sorted by starting hash key. Invariant: their ranges cover 0..=2^128−1 without
    /// gaps or overlaps, so routing is a binary search.
    open: Vec<Arc<Shard>>,
}

impl ShardTable {
    fn new(mut all: Vec<Arc<Shard>>) -> ShardTable {
        all.sort_by_key(|shard| shard.meta.index);
        let mut open: Vec<Arc<Shard>> = all
            .iter()
            .filter(|shard| shard.meta.closed_secs.is_none())
            .cloned()
            .collect();
        open.sort_by_key(|shard| shard.meta.hash_key_range.starting);
        debug_assert!(
            open.windows(2).all(|pair| match pair {
                [a, b] =>
                    a.meta.hash_key_range.ending.checked_add(1)
                        == Some(b.meta.hash_key_range.starting),
                _ => true,
            }),
            "open shards tile the hash-key space"
        );
        ShardTable { all, open }
    }

    /// The open shard that owns `key`.
    fn route(&self, key: HashKey) -> Option<&Arc<Shard>> {
        let after = self
            .open
            .partition_point(|shard| shard.meta.hash_key_range.starting <= key);
        self.open
            .get(after.checked_sub(1)?)
            .filter(|shard| shard.meta.hash_key_range.contains(key))
    }

    fn by_id(&self, id: ShardId) -> Option<&Arc<Shard>> {
        self.all
            .binary_search_by_key(&id.index(), |shard| shard.meta.index)
            .ok()
            .and_then(|position| self.all.get(position))
    }
}

/// A stream: named, with a capacity mode, a retention period and a set of shards.
/// `Send + Sync`; share it behind an `Arc`.
pub struct Stream {
    context: Arc<StreamContext>,
    dir: PathBuf,
    meta: RwLock<StreamMeta>,
    shards: RwLock<ShardTable>,
    /// Set once the stream has been seen ACTIVE or UPDATING, so the write path need not read the
    /// clock and the metadata on every record. Invariant: cleared by any change to a status that
    /// refuses writes (only deletion, today).
    writable: AtomicBool,
    /// Counters of every shard the stream has opened, and of PutRecords calls.
    metrics: StreamMetrics,
}

/// The directory of a shard's log inside its stream's directory.
fn shard_dir(stream_dir: &Path, index: u32) -> PathBuf {
    stream_dir.join(format!("shard-{index:012}"))
}

impl Stream {
    /// Opens (or creates) the logs of every shard in `meta`, stored under `dir`.
    pub(crate) fn open(
        context: Arc<StreamContext>,
        dir: PathBuf,
        meta: StreamMeta,
    ) -> StreamResult<Stream> {
        let record_data_bytes_max = max_record_bytes(meta.max_record_size_kib);
        let metrics = StreamMetrics::default();
        let shards = meta
            .shards
            .iter()
            .map(|shard_meta| {
                let options = LogOptions::new(shard_meta.identity())
                    .durability(context.durability)
                    .segment_bytes(
                        context
                            .segment_bytes
                            .max(segment_bytes_for(record_data_bytes_max)),
                    )
                    .record_data_bytes_max(record_data_bytes_max)
                    .clock(Arc::clone(&context.clock));
                let (log, _report) = ShardLog::open(shard_dir(&dir, shard_meta.index), options)?;
                Ok(Arc::new(Shard::new(shard_meta.clone(), log, &metrics)))
            })
            .collect::<StreamResult<Vec<_>>>()?;
        Ok(Stream {
            context,
            dir,
            meta: RwLock::new(meta),
            shards: RwLock::new(ShardTable::new(shards)),
            writable: AtomicBool::new(false),
            metrics,
        })
    }

    /// The stream's cumulative metrics now, stream-level and per shard, stamped with the engine
    /// clock's time; diff two with [`rate_per_second`] for rates over the window between them.
    pub fn metrics(&self) -> StreamMetricsSnapshot {
        self.metrics
            .snapshot(self.name(), self.context.clock.now_ms())
    }

    /// The stream's name.
    pub fn name(&self) -> StreamName {
        self.meta.read().name.clone()
    }

    /// A copy of the stream's metadata.
    pub fn meta(&self) -> StreamMeta {
        self.meta.read().clone()
    }

    /// The stream's status now.
    pub fn status(&self) -> StreamStatus {
        self.meta.read().status_at(self.context.clock.now_ms())
    }

    /// The stream's ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            self.context.region,
            self.context.account_id,
            self.meta.read().name
        )
    }

    /// The stream's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every shard (open and closed), by index.
    pub fn shards(&self) -> Vec<Arc<Shard>> {
        self.shards.read().all.clone()
    }

    /// The shard with this id.
    pub fn shard(&self, id: ShardId) -> StreamResult<Arc<Shard>> {
        self.shards
            .read()
            .by_id(id)
            .cloned()
            .ok_or_else(|| StreamError::ResourceNotFound {
                message: format!(
                    "Shard {id} in stream {} under account {} does not exist",
                    self.meta.read().name,
                    self.context.account_id
                ),
            })
    }

    /// The shard whose sequence numbers carry `identity`, if it is one of this stream's.
    fn shard_by_identity(&self, identity: crate::sequence::ShardIdentity) -> Option<Arc<Shard>> {
        let table = self.shards.read();
        table
            .by_id(ShardId::new(identity.index))
            .filter(|shard| shard.meta.identity() == identity)
            .cloned()
    }

    /// The `StartingSequenceNumber` of a shard: counter 0 at the shard's creation.
    pub fn starting_sequence_number(shard: &ShardMeta) -> SequenceNumber {
        SequenceNumber::from_checked_parts(shard.identity(), 0, shard.created_secs)
    }

    /// Fails unless the stream accepts reads and writes now (ACTIVE or UPDATING), with the error
    /// Kinesis gives for a stream that is still being created or is being deleted.
    fn check_writable(&self) -> StreamResult<()> {
        if self.writable.load(Ordering::Acquire) {
            return Ok(());
        }
        match self.status() {
            StreamStatus::Active | StreamStatus::Updating => {
                self.writable.store(true, Ordering::Release);
                Ok(())
            }
            StreamStatus::Creating | StreamStatus::Deleting => {
                Err(self.context.not_found(self.meta.read().name.as_str()))
            }
        }
    }

    /// Marks the stream as being deleted: reads and writes fail from now on.
    pub(crate) fn mark_deleting(&self) -> StreamMeta {
        let mut meta = self.meta.write();
        meta.status = StreamStatus::Deleting;
        self.writable.store(false, Ordering::Release);
        meta.clone()
    }

    /// Makes every record appended so far durable, whatever the durability mode.
    pub fn sync(&self) -> StreamResult<()> {
        for shard in self.shards() {
            shard.log.sync()?;
        }
        Ok(())
    }
}

/// Largest record data the logs must accept for a stream whose records may be `kib` KiB.
fn max_record_bytes(kib: u32) -> usize {
    usize::try_from(kib)
        .unwrap_or(usize::MAX)
        .saturating_mul(1024)
}

/// A segment must hold at least a few of the largest records.
fn segment_bytes_for(record_bytes: usize) -> u64 {
    (record_bytes as u64)
        .saturating_mul(4)
        .saturating_add(64 * 1024)
}
