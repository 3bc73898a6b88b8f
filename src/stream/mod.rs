//! The Kinesis data model on top of shard logs: a stream is a set of shards, each owning a range
//! of the 128-bit hash-key space and storing its records in its own [`ShardLog`].
//!
//! Writes route by hash key (MD5 of the partition key, or an explicit hash key) to the open shard
//! whose range contains it; each shard has its own log and writer lock, so producers writing to
//! different shards proceed in parallel. Validation follows Kinesis exactly and fails with the
//! exception Kinesis uses (see [`StreamError`]).

pub mod consumers;
mod daily_limits;
mod describe;
mod encryption;
pub mod error;
pub mod hash_key;
pub mod iterator;
mod ledger;
mod list_shards;
mod messages;
mod meta;
mod meta_error;
pub mod metrics;
pub mod names;
mod put;
mod reader;
mod recorded;
mod reshard;
mod resource_policy;
mod retention;
mod settings;
mod shard_set;
pub mod subscription;
pub mod throughput;
mod warm_throughput;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};

pub use self::consumers::{
    CONSUMERS_CREATING_MAX, CONSUMERS_PER_STREAM_MAX, Consumer, ConsumerArn, ConsumerError,
    ConsumerMeta, ConsumerPage, ConsumerResult, ConsumerStatus,
};
pub use self::describe::{DESCRIBE_SHARDS_LIMIT_MAX, ShardDescription, StreamDescription};
pub use self::encryption::{
    ENCRYPTION_STARTS_PER_DAY, ENCRYPTION_STOPS_PER_DAY, Encryption, InvalidKmsKeyId, KmsKeyId,
};
pub use self::error::{StreamError, StreamResult};
pub use self::hash_key::{HashKey, HashKeyRange, hash_key_of};
pub use self::iterator::{ITERATOR_TTL_MS, StartingPosition};
pub(crate) use self::ledger::{ShardCreationSeconds, ShardLedger};
pub use self::list_shards::{
    LIST_SHARDS_DEFAULT_RESULTS, LIST_SHARDS_MAX_RESULTS, ListShardsFrom, ListShardsOutput,
    NEXT_TOKEN_TTL_MS, ShardFilter,
};
pub use self::messages::INTERNAL_FAILURE_MESSAGE;
pub use self::meta::{
    FILE_NAME as META_FILE_NAME, ShardMeta, StreamMeta, StreamMode, StreamStatus,
};
pub use self::meta_error::MetaError;
pub use self::metrics::{
    ShardMetric, ShardMetricsSnapshot, StreamMetric, StreamMetricsSnapshot, StreamRates,
    StreamValues, rate_per_second,
};
pub use self::names::{NameError, ShardId, StreamName};
pub use self::put::{
    DATA_BYTES_MAX, PARTITION_KEY_CHARS_MAX, PUT_RECORDS_BYTES_MAX, PUT_RECORDS_ENTRIES_MAX,
    PutRecordInput, PutRecordOutput, PutRecordsEntry, PutRecordsFailure, PutRecordsOutput,
    PutRecordsResult, parse_explicit_hash_key,
};
pub use self::reader::{
    ChildShard, GET_RECORDS_BYTES_MAX, GET_RECORDS_LIMIT_MAX, GetRecordsOutput, RecordBatch,
    ShardReader,
};
pub use self::recorded::RecordedSettings;
pub use self::reshard::UpdateShardCountOutput;
pub use self::resource_policy::{InvalidResourcePolicy, RESOURCE_POLICY_BYTES_MAX, ResourcePolicy};
pub use self::retention::ExpiryReport;
pub(crate) use self::settings::validate_tags;
pub use self::settings::{
    EnhancedMonitoring, MAX_RECORD_SIZE_KIB_RANGE, METRICS_NAMES, RETENTION_HOURS_RANGE,
    SHARD_LEVEL_METRICS, TAG_KEY_CHARS_MAX, TAG_VALUE_CHARS_MAX, TAGS_MAX,
};
pub use self::subscription::{
    SUBSCRIPTION_LIFETIME_MS, SUBSCRIPTION_TAKEOVER_MS, Subscription, SubscriptionError,
    SubscriptionEvent,
};
pub use crate::checksummed_text::ChecksumError;

pub use self::warm_throughput::{WARM_THROUGHPUT_MIBPS_MAX, WarmThroughput, WarmThroughputSetting};

use self::error::{Limit, NotFound};
use self::metrics::StreamMetrics;
pub use self::shard_set::Shard;
use self::shard_set::{ShardSet, ShardTable};
use crate::clock::Clock;
use crate::error::LogError;
use crate::file_system::FileSystem;
use crate::log::{Durability, LogOptions, LogPosition, ShardLog};
use crate::sequence::SequenceNumber;

/// What every stream of an engine shares: configuration and identity.
#[derive(Debug)]
pub(crate) struct StreamContext {
    pub clock: Arc<dyn Clock>,
    pub account_id: String,
    pub region: String,
    pub durability: Durability,
    pub segment_bytes: u64,
    pub initial_segment_bytes: u64,
    /// The engine's epoch, which leases every log's counters (see `LogOptions::counter_epoch`).
    pub counter_epoch: Option<u64>,
    /// How long a stream shows UPDATING after a reshard, mode switch, encryption or warm throughput
    /// change.
    pub update_delay_ms: u64,
    /// How long a registered consumer shows CREATING, and a deregistered one DELETING.
    pub consumer_delay_ms: u64,
    /// Most open shards in one stream.
    pub max_shards_per_stream: u32,
    /// Most open shards in the engine.
    pub max_open_shards: u64,
    /// Most UpdateShardCount calls per stream in a rolling day.
    pub shard_count_updates_per_day: Option<u32>,
    /// Most capacity-mode switches per stream in a rolling day.
    pub mode_switches_per_day: Option<u32>,
    /// Key that authenticates shard iterator and list tokens.
    pub iterator_key: [u8; 32],
    /// What every file of the streams and their logs is synced, reserved and replaced through.
    pub file_system: Arc<dyn FileSystem>,
    /// Every create, delete and reshard holds this lock (see `ledger`). Lock order: the ledger,
    /// then a stream's metadata, then its shard table.
    pub ledger: Mutex<ShardLedger>,
    /// Hold PROVISIONED streams' shards to Kinesis' per-shard limits (see `throughput`).
    pub enforce_throughput_limits: bool,
}

impl StreamContext {
    pub(crate) fn not_found(&self, name: &str) -> StreamError {
        NotFound::Stream {
            stream: name.to_owned(),
            account: self.account_id.clone(),
        }
        .into()
    }

    /// Fails with Kinesis' message if `additional` more open shards would exceed the shard quota.
    pub(crate) fn check_shard_quota(
        &self,
        ledger: &ShardLedger,
        additional: u64,
    ) -> StreamResult<()> {
        if ledger.open_shards.saturating_add(additional) <= self.max_open_shards {
            return Ok(());
        }
        Err(Limit::ShardsPerAccount {
            account: self.account_id.clone(),
            region: self.region.clone(),
            open: ledger.open_shards,
            max: self.max_open_shards,
            additional,
        }
        .into())
    }
}

/// A stream: named, with a capacity mode, a retention period and a set of shards.
/// `Send + Sync`; share it behind an `Arc`.
pub struct Stream {
    context: Arc<StreamContext>,
    dir: PathBuf,
    meta: RwLock<StreamMeta>,
    /// The data path: shards, routing and counters.
    shards: ShardSet,
    /// Set once the stream has been seen ACTIVE or UPDATING, so the write path need not read the
    /// clock and the metadata on every record. Invariant: cleared by any change to a status that
    /// refuses writes (only deletion, today).
    writable: AtomicBool,
    /// The live push subscriptions, one per consumer and shard (see `subscription`).
    subscriptions: subscription::LiveSubscriptions,
}

/// The directory of a shard's log inside its stream's directory.
fn shard_dir(stream_dir: &Path, index: u32) -> PathBuf {
    stream_dir.join(format!("shard-{index:012}"))
}

impl Stream {
    /// Opens the stream stored under `dir`, whose catalog entry is `meta`: removes the shard
    /// directories the catalog does not list, then opens every shard's log lazily.
    pub(crate) fn open(
        context: Arc<StreamContext>,
        dir: PathBuf,
        meta: StreamMeta,
    ) -> StreamResult<Stream> {
        remove_unlisted_shard_dirs(&dir, &meta)?;
        Stream::new(context, dir, meta)
    }

    /// The stream whose catalog entry is `meta`, to be stored under `dir`, without touching the
    /// disk: every shard's log opens on first use. For a stream being created, this is done before
    /// its directory exists, so a stream that cannot be made costs no file.
    pub(crate) fn new(
        context: Arc<StreamContext>,
        dir: PathBuf,
        meta: StreamMeta,
    ) -> StreamResult<Stream> {
        let metrics = StreamMetrics::default();
        let shards = meta
            .shards
            .iter()
            .map(|shard_meta| {
                let shard = open_shard(&context, &dir, &meta, shard_meta.clone(), &metrics)?;
                if shard.closed_secs().is_some() {
                    shard.log.set_sealed(true);
                }
                Ok(Arc::new(shard))
            })
            .collect::<StreamResult<Vec<_>>>()?;
        Ok(Stream {
            context,
            dir,
            meta: RwLock::new(meta),
            shards: ShardSet::new(shards, metrics),
            writable: AtomicBool::new(false),
            subscriptions: subscription::LiveSubscriptions::default(),
        })
    }

    /// The stream's cumulative metrics now, stream-level and per shard, stamped with the engine
    /// clock's time; diff two with [`rate_per_second`] for rates over the window between them.
    pub fn metrics(&self) -> StreamMetricsSnapshot {
        self.shards
            .metrics()
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

    /// The time now, by the engine's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.context.clock.now_ms()
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

    /// What the stream's files are synced, reserved, locked and replaced through.
    pub(crate) fn file_system(&self) -> &Arc<dyn FileSystem> {
        &self.context.file_system
    }

    /// Every shard (open and closed), by index.
    pub fn shards(&self) -> Vec<Arc<Shard>> {
        self.shards.all()
    }

    /// Open shards now.
    pub fn open_shard_count(&self) -> usize {
        self.shards.open_count()
    }

    /// The shard with this id.
    pub fn shard(&self, id: ShardId) -> StreamResult<Arc<Shard>> {
        // The table guard is dropped before the error reads the metadata: lock order is metadata
        // before table.
        let found = self.shards.by_id(id);
        found.ok_or_else(|| {
            NotFound::Shard {
                shard: id,
                stream: self.meta.read().name.to_string(),
                account: self.context.account_id.clone(),
            }
            .into()
        })
    }

    /// The shard whose sequence numbers carry `identity`, if it is one of this stream's.
    pub(super) fn shard_by_identity(
        &self,
        identity: crate::sequence::ShardIdentity,
    ) -> Option<Arc<Shard>> {
        self.shards.by_identity(identity)
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

    /// Marks the stream as being deleted and gives up its logs: reads and writes fail from now on,
    /// appends in flight finish first, and no log opens (or creates) its files again, so nothing
    /// can write into the stream's directory once it is moved away. Readers keep what they hold.
    /// For a deletion that then fails, open the stream again from its directory.
    pub(crate) fn mark_deleting(&self) {
        self.meta.write().status = StreamStatus::Deleting;
        self.writable.store(false, Ordering::Release);
        for shard in self.shards() {
            shard.log.abandon();
            shard.log.wake_readers(); // subscriptions end with the stream
        }
    }

    /// Reopens, from disk, the log of every shard that a failed write or sync latched (see
    /// `ShardLog::recover_if_latched`), and returns how many were reopened. Every shard is tried
    /// even if one fails; the first error is returned after.
    pub(crate) fn recover_latched_shards(&self) -> StreamResult<usize> {
        let mut reopened = 0;
        let mut first_error = None;
        for shard in self.shards() {
            match shard.log.recover_if_latched() {
                Ok(report) => reopened += usize::from(report.is_some()),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error.into()),
            None => Ok(reopened),
        }
    }

    /// Makes every record appended so far durable, whatever the durability mode.
    pub fn sync(&self) -> StreamResult<()> {
        for shard in self.shards() {
            shard.log.sync()?;
        }
        Ok(())
    }

    /// For a sync of the whole engine (see `Engine::sync`): each log with unsynced appends, and
    /// the position it must make durable.
    pub(crate) fn sync_targets(&self) -> StreamResult<Vec<(Arc<Shard>, LogPosition)>> {
        let mut targets = Vec::new();
        for shard in self.shards() {
            if let Some(target) = shard.log.sync_target()? {
                targets.push((shard, target));
            }
        }
        Ok(targets)
    }

    /// Records that the targets of [`Stream::sync_targets`] are durable (the file system was
    /// synced after they were taken); see `ShardLog::synced_to`.
    pub(crate) fn synced(targets: &[(Arc<Shard>, LogPosition)]) -> StreamResult<()> {
        for (shard, target) in targets {
            shard.log.synced_to(*target)?;
        }
        Ok(())
    }
}

/// Opens (or creates) the log of `shard` of the stream in `dir`.
fn open_shard(
    context: &StreamContext,
    dir: &Path,
    stream: &StreamMeta,
    shard: ShardMeta,
    stream_metrics: &StreamMetrics,
) -> StreamResult<Shard> {
    // A closed shard takes no more records: should its log need a new segment (only a shard
    // created closed, as the short-lived pieces of UpdateShardCount are), a small one does.
    let record_data_bytes_max = if shard.closed_secs.is_some() {
        0
    } else {
        max_record_bytes(stream.max_record_size_kib)
    };
    let options = LogOptions::new(shard.identity())
        .durability(context.durability)
        .segment_bytes(if shard.closed_secs.is_some() {
            segment_bytes_for(0)
        } else {
            context
                .segment_bytes
                .max(segment_bytes_for(record_data_bytes_max))
        })
        .initial_segment_bytes(context.initial_segment_bytes)
        .counter_epoch(context.counter_epoch)
        .file_system(Arc::clone(&context.file_system))
        .record_data_bytes_max(record_data_bytes_max)
        .clock(Arc::clone(&context.clock));
    // Opened on first use: an engine opens in time independent of its shards, and a shard nobody
    // uses costs no file, mapping or descriptor.
    let log = ShardLog::open_lazily(shard_dir(dir, shard.index), options)?;
    Ok(Shard::new(shard, log, stream_metrics))
}

/// Removes shard directories the catalog does not list: shards that expired (the catalog forgets
/// them before their files go) and shards of a reshard that died before its catalog update (their
/// logs never took a record, as children open for writes only after the update is durable).
fn remove_unlisted_shard_dirs(dir: &Path, meta: &StreamMeta) -> StreamResult<()> {
    let entries = std::fs::read_dir(dir).map_err(|error| LogError::io("listing", dir, error))?;
    for entry in entries {
        let entry = entry.map_err(|error| LogError::io("listing", dir, error))?;
        let Some(index) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.strip_prefix("shard-"))
            .and_then(|index| index.parse::<u32>().ok())
        else {
            continue;
        };
        if !meta.shards.iter().any(|shard| shard.index == index) {
            let path = entry.path();
            std::fs::remove_dir_all(&path)
                .map_err(|error| LogError::io("removing unlisted shard", &path, error))?;
        }
    }
    Ok(())
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
