//! The engine: a data directory holding many streams, the metadata that remembers them, and the
//! maintenance thread that keeps them within their retention and capacity.
//!
//! ```text
//! <data dir>/
//!   engine.meta                       iterator-token key, last shard creation second handed out
//!   account.meta                      the account's settings (see engine/account.rs)
//!   streams/<stream name>/stream.meta the stream's catalog entry (see stream/meta.rs)
//!   streams/<stream name>/shard-000000000000/   one shard's log (see log/)
//!   staging/, trash/                  streams being created and deleted (see data_dir.rs)
//! ```
//!
//! Stream names are validated before they become a path component. Metadata files
//! (`engine.meta`, `account.meta`, each stream's `stream.meta`, its catalog entry) are replaced
//! atomically (temp file, fsync, rename, fsync directory), so a crash leaves either the old or the
//! new version. A stream is created and deleted by renaming its whole directory into or out of
//! `streams/` (`data_dir.rs`), so a failure or a crash at any point leaves the stream whole or
//! absent. A stream the engine cannot open is kept aside as damaged (`damaged.rs`); it never stops
//! the others from opening.

mod account;
mod damaged;
mod data_dir;
mod engine_meta;
mod limits;
mod maintenance;
mod scaling;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use self::account::AccountSettings;
pub use self::account::{
    COMMITMENT_MINIMUM_MS, CommitmentStatus, MinimumThroughputBillingCommitment,
};
pub use self::damaged::{DamagedStream, StreamDamage};
use self::data_dir::{DataDir, remove_any};
use self::engine_meta::EngineMeta;
pub use self::limits::{AccountLimits, EngineLimits};
use self::maintenance::Maintenance;
pub use self::maintenance::MaintenanceReport;
pub use self::scaling::OnDemandScaling;
use self::scaling::ScalingSamples;
use crate::clock::{Clock, SystemClock};
use crate::error::LogError;
use crate::file_system::{FileSystem, OsFileSystem};
use crate::log::{
    COUNTER_EPOCH_MAX, DEFAULT_INITIAL_SEGMENT_BYTES, DEFAULT_SEGMENT_BYTES, Durability,
};
use crate::stream::error::{
    Constraint, InUse, InvalidArgument, Limit, MemberValue, NotFound, Validation,
};
use crate::stream::iterator::IteratorToken;
use crate::stream::names::{NAME_PATTERN, STREAM_NAME_CHARS_MAX};
use crate::stream::{
    Consumer, ConsumerArn, ConsumerError, ConsumerResult, GetRecordsOutput, HashKeyRange,
    ListShardsFrom, ListShardsOutput, ShardId, ShardLedger, ShardMeta, Stream, StreamContext,
    StreamError, StreamMeta, StreamMode, StreamName, StreamResult, StreamStatus, validate_tags,
};

/// Shards of a new ON_DEMAND stream.
pub const ON_DEMAND_INITIAL_SHARDS: u32 = 4;
/// Default retention of a new stream.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;
/// Allowed retention periods and record sizes: stream settings, named here too for the engine's
/// users.
pub use crate::stream::{MAX_RECORD_SIZE_KIB_RANGE, RETENTION_HOURS_RANGE};

/// How an engine stores, limits and maintains its streams.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// When appended records reach the disk (for every shard).
    pub durability: Durability,
    /// Largest preallocated size of a segment file: a shard's segments grow to it as it proves busy.
    pub segment_bytes: u64,
    /// Size of a new shard's first segment (see [`LogOptions::initial_segment_bytes`]).
    ///
    /// [`LogOptions::initial_segment_bytes`]: crate::log::LogOptions::initial_segment_bytes
    pub initial_segment_bytes: u64,
    /// How long a new stream stays CREATING, in ms (Kinesis takes seconds; the library default is 0).
    pub create_delay_ms: u64,
    /// How long a stream stays UPDATING after a reshard, a mode switch, an encryption change or a
    /// warm throughput change, in ms (default 0). The change itself takes effect at once; while
    /// UPDATING, reads and writes work and further such changes are refused, as in Kinesis.
    pub update_delay_ms: u64,
    /// How long a registered consumer stays CREATING, and a deregistered one DELETING, in ms;
    /// `None` (the default) takes `create_delay_ms`, so consumers take as long to register as
    /// streams to create.
    pub consumer_delay_ms: Option<u64>,
    /// The account id that appears in ARNs and messages.
    pub account_id: String,
    /// The region that appears in ARNs and messages.
    pub region: String,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// What every file is synced, reserved, replaced and locked through: the OS's by default, a
    /// [`FaultyFileSystem`](crate::FaultyFileSystem) in tests that make syncs fail.
    pub file_system: Arc<dyn FileSystem>,
    /// How many streams and open shards the engine accepts (see [`EngineLimits`]).
    pub limits: EngineLimits,
    /// When ON_DEMAND streams split hot shards (see `engine/scaling.rs` for the rule).
    pub on_demand: OnDemandScaling,
    /// How often the maintenance thread deletes expired data and scales ON_DEMAND streams; `None`
    /// starts no thread (call [`Engine::run_maintenance`] yourself, as tests with a manual clock do).
    pub maintenance_interval: Option<Duration>,
    /// Hold the shards of PROVISIONED streams to Kinesis' per-shard limits (writes 1 MiB/s and
    /// 1 000 records/s, reads 2 MiB/s and 5 calls/s), refusing the excess with
    /// `ProvisionedThroughputExceeded`. Off by default: an embedded library has no reason to slow
    /// its caller down; turn it on to emulate Kinesis. ON_DEMAND streams are never held to these
    /// limits. See `stream::throughput`.
    pub enforce_throughput_limits: bool,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            durability: Durability::PageCache,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            initial_segment_bytes: DEFAULT_INITIAL_SEGMENT_BYTES,
            create_delay_ms: 0,
            update_delay_ms: 0,
            consumer_delay_ms: None,
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            clock: Arc::new(SystemClock),
            file_system: OsFileSystem::shared(),
            limits: EngineLimits::default(),
            on_demand: OnDemandScaling::default(),
            maintenance_interval: Some(Duration::from_secs(1)),
            enforce_throughput_limits: false,
        }
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateStream {
    /// The stream's name (1–128 characters of `[a-zA-Z0-9_.-]`).
    pub name: String,
    /// Capacity mode.
    pub mode: StreamMode,
    /// Shard count: required for PROVISIONED; ON_DEMAND starts with 4 when not given.
    pub shard_count: Option<u32>,
    /// Largest record (data plus partition key) in KiB, 1024–10240; 1024 when not given.
    pub max_record_size_kib: Option<u32>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl CreateStream {
    /// An ON_DEMAND stream with 4 shards, as the Kinesis console creates by default.
    pub fn on_demand(name: &str) -> CreateStream {
        CreateStream {
            name: name.to_owned(),
            mode: StreamMode::OnDemand,
            shard_count: None,
            max_record_size_kib: None,
            tags: BTreeMap::new(),
        }
    }

    /// A PROVISIONED stream with `shard_count` shards.
    pub fn provisioned(name: &str, shard_count: u32) -> CreateStream {
        CreateStream {
            mode: StreamMode::Provisioned,
            shard_count: Some(shard_count),
            ..CreateStream::on_demand(name)
        }
    }
}

/// A page of stream names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamList {
    /// Names, in order.
    pub names: Vec<StreamName>,
    /// More names follow the last one.
    pub has_more: bool,
}

/// An engine: many streams in one data directory. `Send + Sync`; share it behind an `Arc`.
/// Dropping it stops the maintenance thread; each shard closes cleanly when the last handle to its
/// stream is dropped. The data directory stays locked (`LOCK`, an exclusive record lock, `file_system::FileLock`) until then:
/// a second engine on it fails with [`LogError::InUse`].
pub struct Engine {
    shared: Arc<Shared>,
    maintenance: Option<Maintenance>,
}

/// What the engine and its maintenance thread share.
pub(crate) struct Shared {
    dir: PathBuf,
    data_dir: DataDir,
    context: Arc<StreamContext>,
    create_delay_ms: u64,
    limits: EngineLimits,
    on_demand: OnDemandScaling,
    streams: RwLock<BTreeMap<StreamName, Arc<Stream>>>,
    /// Streams found on disk that cannot be served. Invariant: no name is in both maps, and
    /// together they name every directory in `streams/`.
    damaged: RwLock<BTreeMap<StreamName, DamagedStream>>,
    /// The ON_DEMAND scaler's measuring windows.
    scaling: Mutex<ScalingSamples>,
    /// What the last failed maintenance pass said; `None` after a good one.
    last_maintenance_error: Mutex<Option<String>>,
    /// The account's settings, as `account.meta` holds them.
    account: Mutex<AccountSettings>,
}

impl Engine {
    /// Opens the engine in `dir`, creating it if needed, recovers every stream in it, and starts
    /// the maintenance thread (unless `options.maintenance_interval` is `None`).
    ///
    /// A stream that cannot be opened (its catalog entry damaged, say) does not fail the open: it
    /// is kept aside, listed by [`Engine::damaged_streams`], and every operation on it fails with
    /// [`StreamError::Damaged`]. What failed creations and deletions left is removed unread.
    pub fn open(dir: impl AsRef<Path>, options: EngineOptions) -> StreamResult<Engine> {
        let dir = dir.as_ref().to_owned();
        fs::create_dir_all(&dir)
            .map_err(|error| LogError::io("creating data directory", &dir, error))?;
        let engine_meta = EngineMeta::load_or_create(&options.file_system, &dir)?;
        let data_dir = DataDir::create(&dir, engine_meta.epoch, &options.file_system)
            .map_err(|error| LogError::io("creating data directory", &dir, error))?;
        // Leftovers are never read, so one that cannot be removed yet harms nothing: maintenance
        // tries again.
        let swept = data_dir.sweep();
        let account = AccountSettings::load(&dir)?;
        let context = Arc::new(StreamContext {
            clock: options.clock,
            account_id: options.account_id,
            region: options.region,
            durability: options.durability,
            segment_bytes: options.segment_bytes,
            initial_segment_bytes: options.initial_segment_bytes,
            // Past the last epoch the format can number, logs fall back to their own leases.
            counter_epoch: Some(engine_meta.epoch).filter(|&epoch| epoch <= COUNTER_EPOCH_MAX),
            update_delay_ms: options.update_delay_ms,
            consumer_delay_ms: options.consumer_delay_ms.unwrap_or(options.create_delay_ms),
            max_shards_per_stream: options.limits.max_shards_per_stream,
            max_open_shards: options.limits.max_open_shards,
            shard_count_updates_per_day: options.limits.shard_count_updates_per_day,
            mode_switches_per_day: options.limits.mode_switches_per_day,
            iterator_key: engine_meta.iterator_key,
            file_system: Arc::clone(&options.file_system),
            ledger: Mutex::new(ShardLedger::new(Box::new(engine_meta))),
            enforce_throughput_limits: options.enforce_throughput_limits,
        });
        let mut streams = BTreeMap::new();
        let mut damaged = BTreeMap::new();
        let streams_dir = data_dir.streams();
        let entries = fs::read_dir(streams_dir)
            .map_err(|error| LogError::io("listing streams", streams_dir, error))?;
        for entry in entries {
            let entry =
                entry.map_err(|error| LogError::io("listing streams", streams_dir, error))?;
            let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|name| StreamName::new(name).ok())
            else {
                continue; // not a stream's directory, and not the engine's to remove
            };
            match open_stream(&context, &data_dir, &name) {
                Found::Stream(stream) => {
                    context.ledger.lock().open_shards += stream.open_shard_count() as u64;
                    streams.insert(name, Arc::from(stream));
                }
                Found::Damaged(damage) => {
                    damaged.insert(name.clone(), DamagedStream { name, damage });
                }
                Found::Leftover => {}
            }
        }
        let shared =
            Arc::new(Shared {
                dir,
                context,
                create_delay_ms: options.create_delay_ms,
                limits: options.limits,
                on_demand: options.on_demand,
                streams: RwLock::new(streams),
                damaged: RwLock::new(damaged),
                data_dir,
                scaling: Mutex::new(ScalingSamples::default()),
                last_maintenance_error: Mutex::new(swept.err().map(|error| {
                    format!("removing leftovers of creations and deletions: {error}")
                })),
                account: Mutex::new(account),
            });
        let maintenance = options
            .maintenance_interval
            .map(|interval| Maintenance::start(Arc::clone(&shared), interval))
            .transpose()
            .map_err(|error| LogError::io("starting the maintenance thread", &shared.dir, error))?;
        Ok(Engine {
            shared,
            maintenance,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The account id used in ARNs and messages.
    pub fn account_id(&self) -> &str {
        &self.shared.context.account_id
    }

    /// The region used in ARNs and messages.
    pub fn region(&self) -> &str {
        &self.shared.context.region
    }

    /// Creates a stream (Kinesis CreateStream).
    pub fn create_stream(&self, request: CreateStream) -> StreamResult<Arc<Stream>> {
        let shared = &*self.shared;
        let context = &shared.context;
        let name = StreamName::new(&request.name).map_err(|_| {
            let constraint = match request.name.chars().count() {
                0 => Constraint::LengthAtLeast(1),
                count if count > STREAM_NAME_CHARS_MAX => {
                    Constraint::LengthAtMost(STREAM_NAME_CHARS_MAX)
                }
                _ => Constraint::Pattern(NAME_PATTERN),
            };
            StreamError::member(
                MemberValue::Text(request.name.clone()),
                "streamName",
                constraint,
            )
        })?;
        validate_tags(&request.tags)?;
        let shard_count = match (request.mode, request.shard_count) {
            (StreamMode::OnDemand, None) => ON_DEMAND_INITIAL_SHARDS,
            (_, Some(count)) if count >= 1 => count,
            (StreamMode::Provisioned, None) => {
                return Err(InvalidArgument::ShardCountRequired.into());
            }
            (_, Some(count)) => {
                return Err(StreamError::member(
                    MemberValue::Number(u64::from(count)),
                    "shardCount",
                    Constraint::ValueAtLeast(1),
                ));
            }
        };
        let max_record_size_kib = request.max_record_size_kib.unwrap_or(1024);
        if !MAX_RECORD_SIZE_KIB_RANGE.contains(&max_record_size_kib) {
            return Err(Validation::MaxRecordSizeOutOfRange {
                kib: max_record_size_kib,
            }
            .into());
        }

        let mut ledger = context.ledger.lock();
        if shared.streams.read().contains_key(&name) || shared.damaged.read().contains_key(&name) {
            return Err(InUse::StreamExists {
                stream: name,
                account: context.account_id.clone(),
            }
            .into());
        }
        self.check_create_limits(&ledger, request.mode, shard_count)?;
        let now_ms = context.clock.now_ms();
        let created_secs = ledger.allocate_shard_created_secs(now_ms / 1000)?;
        let shards = HashKeyRange::even_split(shard_count)
            .into_iter()
            .zip(0u32..)
            .map(|(hash_key_range, index)| ShardMeta {
                index,
                created_secs,
                hash_key_range,
                parent: None,
                adjacent_parent: None,
                closed_secs: None,
            })
            .collect();
        let meta = StreamMeta {
            name: name.clone(),
            created_ms: now_ms,
            active_from_ms: now_ms.saturating_add(shared.create_delay_ms),
            updating_until_ms: 0,
            status: StreamStatus::Active,
            mode: request.mode,
            retention_hours: DEFAULT_RETENTION_HOURS,
            expired_before_ms: 0,
            max_record_size_kib,
            next_shard_index: shard_count,
            shards,
            tags: request.tags,
            shard_level_metrics: Default::default(),
            shard_count_updates_ms: Vec::new(),
            mode_switches_ms: Vec::new(),
            recorded: Default::default(),
            consumers: Default::default(),
        };
        let stream_dir = shared.data_dir.stream_dir(&name);
        // Made before any file, so that nothing can fail once the stream is on disk.
        let stream = Arc::new(Stream::new(
            Arc::clone(context),
            stream_dir.clone(),
            meta.clone(),
        )?);
        shared
            .data_dir
            .create_stream(&meta)
            .map_err(|error| LogError::io("creating stream", &stream_dir, error))?;
        ledger.open_shards += u64::from(shard_count);
        shared.streams.write().insert(name, Arc::clone(&stream));
        drop(ledger);
        Ok(stream)
    }

    fn check_create_limits(
        &self,
        ledger: &ShardLedger,
        mode: StreamMode,
        shard_count: u32,
    ) -> StreamResult<()> {
        let shared = &*self.shared;
        let limits = &shared.limits;
        let stream_count = shared.streams.read().len() + shared.damaged.read().len();
        if stream_count >= limits.max_streams {
            return Err(Limit::StreamsPerAccount {
                max: limits.max_streams,
                account: shared.context.account_id.clone(),
                region: shared.context.region.clone(),
            }
            .into());
        }
        if mode == StreamMode::OnDemand {
            self.check_on_demand_limit()?;
        }
        // The account's quota is checked first: Kinesis answers a CreateStream past both with
        // the account's message (kinesalite's test/helpers.js learns the quota that way).
        shared
            .context
            .check_shard_quota(ledger, u64::from(shard_count))?;
        if shard_count > limits.max_shards_per_stream {
            return Err(Limit::ShardsPerStream {
                max: limits.max_shards_per_stream,
            }
            .into());
        }
        Ok(())
    }

    fn on_demand_stream_count(&self) -> usize {
        let streams = self.shared.streams.read();
        streams
            .values()
            .filter(|stream| stream.meta().mode == StreamMode::OnDemand)
            .count()
    }

    /// Fails with LimitExceededException if the engine has its most ON_DEMAND streams already.
    fn check_on_demand_limit(&self) -> StreamResult<()> {
        let shared = &*self.shared;
        let limit = shared.limits.max_on_demand_streams;
        if self.on_demand_stream_count() < limit {
            return Ok(());
        }
        Err(Limit::OnDemandStreams {
            max: limit,
            account: shared.context.account_id.clone(),
            region: shared.context.region.clone(),
        }
        .into())
    }

    /// The stream named `name`; [`StreamError::Damaged`] if it exists but cannot be served.
    pub fn stream(&self, name: &str) -> StreamResult<Arc<Stream>> {
        let shared = &*self.shared;
        let Ok(name) = StreamName::new(name) else {
            return Err(shared.context.not_found(name));
        };
        if let Some(stream) = shared.streams.read().get(&name) {
            return Ok(Arc::clone(stream));
        }
        match shared.damaged.read().get(&name) {
            Some(damaged) => Err(damaged.error(&shared.context.account_id)),
            None => Err(shared.context.not_found(name.as_str())),
        }
    }

    /// The streams found on disk that cannot be served, and why, in name order. Each keeps its
    /// name and its files until it is deleted.
    pub fn damaged_streams(&self) -> Vec<DamagedStream> {
        self.shared.damaged.read().values().cloned().collect()
    }

    /// The stream whose ARN is `arn` (`arn:aws:kinesis:<region>:<account>:stream/<name>`), as
    /// operations that take a `StreamARN` find it.
    pub fn stream_by_arn(&self, arn: &str) -> StreamResult<Arc<Stream>> {
        let context = &self.shared.context;
        let prefix = format!(
            "arn:aws:kinesis:{}:{}:stream/",
            context.region, context.account_id
        );
        match arn.strip_prefix(&prefix) {
            Some(name) => self.stream(name),
            None => Err(NotFound::StreamArn {
                arn: arn.to_string(),
            }
            .into()),
        }
    }

    /// The consumer whose ARN is `arn`, and its stream (as DescribeStreamConsumer,
    /// DeregisterStreamConsumer and the tag operations find a consumer by ARN). The ARN must be of
    /// this engine's region and account, and of the registration that is current: a name
    /// registered again has a new creation second, so the old ARN is not found.
    pub fn consumer_by_arn(&self, arn: &str) -> ConsumerResult<(Arc<Stream>, Consumer)> {
        let not_found = || ConsumerError::ArnNotFound {
            arn: arn.to_owned(),
        };
        let parts = ConsumerArn::parse(arn).ok_or_else(not_found)?;
        if parts.region != self.region() || parts.account_id != self.account_id() {
            return Err(not_found());
        }
        let stream = match self.stream(parts.stream) {
            Ok(stream) => stream,
            Err(StreamError::ResourceNotFound { .. }) => return Err(not_found()),
            Err(error) => return Err(error.into()),
        };
        let consumer = stream.consumer_with_arn(&parts).ok_or_else(not_found)?;
        Ok((stream, consumer))
    }

    /// Deletes a stream and all its records (Kinesis DeleteStream), a damaged one too; its
    /// registered consumers go with it. Readers holding records keep them. The stream leaves the data directory in one rename, which needs
    /// no free space; its files are removed before this returns, or, if removing them fails, by
    /// the next maintenance pass or open.
    ///
    /// If the rename fails, the stream stays, opened again from its directory: handles taken
    /// before the call no longer work (take a new one with [`Engine::stream`]).
    pub fn delete_stream(&self, name: &str) -> StreamResult<()> {
        let shared = &*self.shared;
        let context = &shared.context;
        let mut ledger = context.ledger.lock();
        let stream = match self.stream(name) {
            Ok(stream) => Some(stream),
            Err(StreamError::Damaged { .. }) => None,
            Err(error) => return Err(error),
        };
        let name = StreamName::new(name).map_err(|_| context.not_found(name))?;
        let dir = shared.data_dir.stream_dir(&name);
        let Some(stream) = stream else {
            let trashed = shared
                .data_dir
                .move_to_trash(&name)
                .map_err(|error| LogError::io("deleting stream", &dir, error))?;
            shared.damaged.write().remove(&name);
            return finish_deletion(trashed);
        };
        let meta = stream.meta();
        stream.mark_deleting();
        match shared.data_dir.move_to_trash(&name) {
            Ok(trashed) => {
                shared.streams.write().remove(&name);
                ledger.replace_open_shards(stream.open_shard_count() as u64, 0);
                finish_deletion(trashed)
            }
            Err(error) => {
                // Still in place, but its logs were given up: open it again.
                match Stream::open(Arc::clone(context), dir.clone(), meta) {
                    Ok(reopened) => {
                        shared.streams.write().insert(name, Arc::new(reopened));
                    }
                    Err(reopening) => {
                        shared.streams.write().remove(&name);
                        ledger.replace_open_shards(stream.open_shard_count() as u64, 0);
                        let damage = StreamDamage::Unopenable {
                            reason: reopening.to_string(),
                        };
                        shared
                            .damaged
                            .write()
                            .insert(name.clone(), DamagedStream { name, damage });
                    }
                }
                Err(LogError::io("deleting stream", &dir, error).into())
            }
        }
    }

    /// A page of up to `limit` stream names in order, after `exclusive_start` (Kinesis
    /// ListStreams). A `limit` of 0 is taken as 1: a page always makes progress (the server refuses
    /// a Limit outside 1–10000 before it gets here, as Kinesis does).
    ///
    /// Damaged streams are listed too: their names exist, and are taken.
    pub fn list_streams(&self, exclusive_start: Option<&str>, limit: usize) -> StreamList {
        let limit = limit.max(1);
        let streams = self.shared.streams.read();
        let damaged = self.shared.damaged.read();
        let after = |name: &&StreamName| exclusive_start.is_none_or(|start| name.as_str() > start);
        // The first limit + 1 of each map hold the first limit + 1 of both (no name is in both).
        let mut names: Vec<StreamName> = streams
            .keys()
            .filter(after)
            .take(limit + 1)
            .chain(damaged.keys().filter(after).take(limit + 1))
            .cloned()
            .collect();
        names.sort_unstable();
        let has_more = names.len() > limit;
        names.truncate(limit);
        StreamList { names, has_more }
    }

    /// Reads records at a shard iterator token (Kinesis GetRecords).
    pub fn get_records(
        &self,
        shard_iterator: &str,
        limit: usize,
    ) -> StreamResult<GetRecordsOutput> {
        let token = IteratorToken::decode(shard_iterator, &self.shared.context.iterator_key)
            .ok_or(StreamError::InvalidArgument(
                InvalidArgument::InvalidShardIterator,
            ))?;
        // The token names a shard of a stream deleted since: Kinesis reports the shard missing.
        let stream = self
            .stream(&token.stream_name)
            .map_err(|error| match error {
                StreamError::ResourceNotFound(_) => NotFound::Shard {
                    shard: ShardId::new(token.shard.index),
                    stream: token.stream_name.clone(),
                    account: self.account_id().to_owned(),
                }
                .into(),
                other => other,
            })?;
        stream.get_records(&token, limit)
    }

    /// One page of a stream's shards (Kinesis ListShards): the first page names the stream, later
    /// ones pass only the previous page's `NextToken`, as Kinesis requires.
    pub fn list_shards(
        &self,
        stream_name: Option<&str>,
        from: ListShardsFrom<'_>,
        max_results: Option<usize>,
    ) -> StreamResult<ListShardsOutput> {
        let stream = match (stream_name, from) {
            (Some(_), ListShardsFrom::NextToken(_)) => {
                return Err(InvalidArgument::NextTokenWithStreamName.into());
            }
            (None, ListShardsFrom::Start { .. }) => {
                return Err(InvalidArgument::NextTokenOrStreamNameRequired.into());
            }
            (Some(name), ListShardsFrom::Start { .. }) => self.stream(name)?,
            (None, ListShardsFrom::NextToken(token)) => {
                let key = &self.shared.context.iterator_key;
                self.stream(&Stream::list_token_stream(token, key)?)?
            }
        };
        stream.list_shards(from, max_results)
    }

    /// Switches a stream between ON_DEMAND and PROVISIONED (Kinesis UpdateStreamMode). The shard
    /// count stays as it is; the stream is UPDATING for `update_delay_ms`.
    pub fn update_stream_mode(&self, name: &str, mode: StreamMode) -> StreamResult<()> {
        let shared = &*self.shared;
        let stream = self.stream(name)?;
        // Under the ledger's lock, so two switches cannot both take the last on-demand slot.
        let _ledger = shared.context.ledger.lock();
        if mode == StreamMode::OnDemand && stream.meta().mode != StreamMode::OnDemand {
            self.check_on_demand_limit()?;
        }
        stream.set_mode(mode)
    }

    /// The account's limits and how much of them is used (Kinesis DescribeLimits).
    pub fn describe_limits(&self) -> AccountLimits {
        let shared = &*self.shared;
        let open_shard_count = shared.context.ledger.lock().open_shards;
        AccountLimits {
            shard_limit: shared.limits.max_open_shards,
            open_shard_count,
            on_demand_stream_count: self.on_demand_stream_count(),
            on_demand_stream_count_limit: shared.limits.max_on_demand_streams,
        }
    }

    /// Deletes expired data in every stream and scales ON_DEMAND streams, once, now. The
    /// maintenance thread calls this every `maintenance_interval`; call it yourself when it is off.
    pub fn run_maintenance(&self) -> StreamResult<MaintenanceReport> {
        maintenance::run_once(&self.shared)
    }

    /// What the maintenance thread's last pass failed with, if it failed (it retries on its next
    /// wake).
    pub fn last_maintenance_error(&self) -> Option<String> {
        self.shared.last_maintenance_error.lock().clone()
    }

    /// Makes every record appended so far durable, in every stream.
    ///
    /// Costs two syncs of the file system, however many shards have unsynced appends: one for
    /// every log's data, files and directory entries, then, once each log's checkpoint records
    /// its new durable point, one for the checkpoints. (Syncing each log on its own costs two to
    /// five fsyncs a log: minutes for tens of thousands of shards on a disk.)
    pub fn sync(&self) -> StreamResult<()> {
        let streams: Vec<Arc<Stream>> = self.shared.streams.read().values().cloned().collect();
        let mut targets = Vec::new();
        for stream in &streams {
            targets.extend(stream.sync_targets()?);
        }
        if targets.is_empty() {
            return Ok(());
        }
        let data_dir = &self.shared.dir;
        sync_file_system(data_dir)
            .map_err(|error| LogError::io("syncing the file system", data_dir, error))?;
        Stream::synced(&targets)?;
        sync_file_system(data_dir)
            .map_err(|error| LogError::io("syncing the file system", data_dir, error).into())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(maintenance) = self.maintenance.take() {
            maintenance.stop();
        }
    }
}

/// Syncs the whole file system that holds `dir` (Linux `syncfs`): every dirty page, file and
/// directory entry on it, written through a mapping or not.
fn sync_file_system(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let directory = fs::File::open(dir)?;
    // SAFETY: plain syscall on a descriptor we own; no memory is passed.
    if unsafe { libc::syncfs(directory.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// What a directory in `streams/` turned out to be at open.
enum Found {
    Stream(Box<Stream>),
    Damaged(StreamDamage),
    /// What an earlier version left of an interrupted creation or deletion: removed.
    Leftover,
}

/// Opens the stream in `streams/<name>`, or says why it cannot be served.
fn open_stream(context: &Arc<StreamContext>, data_dir: &DataDir, name: &StreamName) -> Found {
    let dir = data_dir.stream_dir(name);
    let meta = match StreamMeta::load(&dir) {
        Ok(meta) => meta,
        Err(_) if !dir.join(crate::stream::META_FILE_NAME).exists() => {
            // This version moves a stream into place with its catalog entry; without one, only
            // an earlier version's interrupted creation is not damage, and it made no shard.
            if holds_shard_dirs(&dir) {
                return Found::Damaged(StreamDamage::MissingMeta);
            }
            return remove_leftover(data_dir, name);
        }
        Err(reason) => return Found::Damaged(StreamDamage::UnreadableMeta { reason }),
    };
    if meta.name != *name {
        return Found::Damaged(StreamDamage::MisplacedMeta {
            named: meta.name.as_str().to_owned(),
        });
    }
    if meta.status == StreamStatus::Deleting {
        // An earlier version marked a stream DELETING before removing it.
        return remove_leftover(data_dir, name);
    }
    match Stream::open(Arc::clone(context), dir, meta) {
        Ok(stream) => Found::Stream(Box::new(stream)),
        Err(error) => Found::Damaged(StreamDamage::Unopenable {
            reason: error.to_string(),
        }),
    }
}

/// Whether `dir` holds a shard's directory (or cannot be read, so might).
fn holds_shard_dirs(dir: &Path) -> bool {
    match fs::read_dir(dir) {
        Ok(mut entries) => entries.any(|entry| {
            entry.is_ok_and(|entry| entry.file_name().to_string_lossy().starts_with("shard-"))
        }),
        Err(_) => true, // unreadable: not provably empty
    }
}

fn remove_leftover(data_dir: &DataDir, name: &StreamName) -> Found {
    match data_dir.move_to_trash(name) {
        Ok(trashed) => {
            let _ = remove_any(&trashed.path); // or the next sweep
            Found::Leftover
        }
        Err(error) => Found::Damaged(StreamDamage::Unopenable {
            reason: format!("an interrupted creation or deletion could not be removed: {error}"),
        }),
    }
}

/// Ends a deletion once the stream is out of `streams/`: its files are removed now if possible
/// (else by the next sweep), and the deletion is reported durable or not.
fn finish_deletion(trashed: data_dir::Trashed) -> StreamResult<()> {
    let _ = remove_any(&trashed.path);
    trashed
        .synced
        .map_err(|error| LogError::io("deleting stream", &trashed.path, error).into())
}
