//! The engine: a data directory holding many streams, and the catalog that remembers them.
//!
//! ```text
//! <data dir>/
//!   engine.meta                       iterator-token key, last shard creation second handed out
//!   streams/<stream name>/stream.meta the stream's catalog entry (see stream/meta.rs)
//!   streams/<stream name>/shard-000000000000/   one shard's log (see log/)
//! ```
//!
//! Stream names are validated before they become a path component. Catalog files are replaced
//! atomically (temp file, fsync, rename, fsync directory), so a crash leaves either the old or the
//! new version. A stream whose deletion was interrupted is finished off on the next open.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::clock::{Clock, SystemClock};
use crate::error::LogError;
use crate::log::{DEFAULT_SEGMENT_BYTES, Durability};
use crate::stream::iterator::IteratorToken;
use crate::stream::{
    GetRecordsOutput, HashKeyRange, ShardMeta, Stream, StreamContext, StreamError, StreamMeta,
    StreamMode, StreamName, StreamResult, StreamStatus,
};

/// Shards of a new ON_DEMAND stream.
pub const ON_DEMAND_INITIAL_SHARDS: u32 = 4;
/// Default retention of a new stream.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;
/// Allowed retention periods, in hours.
pub const RETENTION_HOURS_RANGE: std::ops::RangeInclusive<u32> = 24..=8760;
/// Allowed maximum record sizes, in KiB.
pub const MAX_RECORD_SIZE_KIB_RANGE: std::ops::RangeInclusive<u32> = 1024..=10240;

/// How an engine stores and identifies its streams.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// When appended records reach the disk (for every shard).
    pub durability: Durability,
    /// Preallocated size of each segment file.
    pub segment_bytes: u64,
    /// How long a new stream stays CREATING, in ms (Kinesis takes seconds; the library default is 0).
    pub create_delay_ms: u64,
    /// The account id that appears in ARNs and messages.
    pub account_id: String,
    /// The region that appears in ARNs and messages.
    pub region: String,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
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
            create_delay_ms: 0,
            account_id: "000000000000".to_owned(),
            region: "us-east-1".to_owned(),
            clock: Arc::new(SystemClock),
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
pub struct Engine {
    dir: PathBuf,
    context: Arc<StreamContext>,
    create_delay_ms: u64,
    streams: RwLock<BTreeMap<StreamName, Arc<Stream>>>,
    /// Serializes changes to the catalog (create, delete) and holds the engine file's state.
    catalog: Mutex<EngineMeta>,
}

impl Engine {
    /// Opens the engine in `dir`, creating it if needed, and recovers every stream in it.
    pub fn open(dir: impl AsRef<Path>, options: EngineOptions) -> StreamResult<Engine> {
        let dir = dir.as_ref().to_owned();
        let streams_dir = dir.join("streams");
        fs::create_dir_all(&streams_dir)
            .map_err(|error| LogError::io("creating data directory", &streams_dir, error))?;
        let engine_meta = EngineMeta::load_or_create(&dir)?;
        let context = Arc::new(StreamContext {
            clock: options.clock,
            account_id: options.account_id,
            region: options.region,
            durability: options.durability,
            segment_bytes: options.segment_bytes,
            iterator_key: engine_meta.iterator_key,
            enforce_throughput_limits: options.enforce_throughput_limits,
        });
        let mut streams = BTreeMap::new();
        let entries = fs::read_dir(&streams_dir)
            .map_err(|error| LogError::io("listing streams", &streams_dir, error))?;
        for entry in entries {
            let entry =
                entry.map_err(|error| LogError::io("listing streams", &streams_dir, error))?;
            let stream_dir = entry.path();
            let Some(name) = entry
                .file_name()
                .to_str()
                .and_then(|n| StreamName::new(n).ok())
            else {
                continue; // not a stream directory (a deletion in progress, say)
            };
            if !stream_dir.join(crate::stream::META_FILE_NAME).exists() {
                // Creation was interrupted before the catalog entry was written: no shard log
                // exists before it is, so nothing is lost by finishing the job as a deletion.
                remove_stream_dir(&streams_dir, &stream_dir)?;
                continue;
            }
            let meta = StreamMeta::load(&stream_dir)
                .map_err(|reason| LogError::corrupt(&stream_dir, 0, reason))?;
            if meta.status == StreamStatus::Deleting {
                remove_stream_dir(&streams_dir, &stream_dir)?;
                continue;
            }
            let stream = Stream::open(Arc::clone(&context), stream_dir, meta)?;
            streams.insert(name, Arc::new(stream));
        }
        Ok(Engine {
            dir,
            context,
            create_delay_ms: options.create_delay_ms,
            streams: RwLock::new(streams),
            catalog: Mutex::new(engine_meta),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The account id used in ARNs and messages.
    pub fn account_id(&self) -> &str {
        &self.context.account_id
    }

    /// The region used in ARNs and messages.
    pub fn region(&self) -> &str {
        &self.context.region
    }

    /// Creates a stream (Kinesis CreateStream).
    pub fn create_stream(&self, request: CreateStream) -> StreamResult<Arc<Stream>> {
        let name = StreamName::new(&request.name).map_err(|_| {
            let rule = match request.name.chars().count() {
                0 => "have length greater than or equal to 1",
                129.. => "have length less than or equal to 128",
                _ => "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            };
            StreamError::validation(&request.name, "streamName", rule)
        })?;
        validate_tags(&request.tags)?;
        let shard_count = match (request.mode, request.shard_count) {
            (StreamMode::OnDemand, None) => ON_DEMAND_INITIAL_SHARDS,
            (_, Some(count)) if count >= 1 => count,
            (StreamMode::Provisioned, None) => {
                return Err(StreamError::invalid_argument(
                    "ShardCount must be specified for a PROVISIONED stream.",
                ));
            }
            (_, Some(count)) => {
                return Err(StreamError::validation(
                    &count.to_string(),
                    "shardCount",
                    "have value greater than or equal to 1",
                ));
            }
        };
        let max_record_size_kib = request.max_record_size_kib.unwrap_or(1024);
        if !MAX_RECORD_SIZE_KIB_RANGE.contains(&max_record_size_kib) {
            return Err(StreamError::Validation {
                message: format!(
                    "MaxRecordSizeInKiB {max_record_size_kib} is outside the allowed range \
                     1024-10240."
                ),
            });
        }

        let mut catalog = self.catalog.lock();
        if self.streams.read().contains_key(&name) {
            return Err(StreamError::ResourceInUse {
                message: format!(
                    "Stream {name} under account {} already exists.",
                    self.context.account_id
                ),
            });
        }
        let now_ms = self.context.clock.now_ms();
        let created_secs = catalog.allocate_shard_created_secs(&self.dir, now_ms / 1000)?;
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
            active_from_ms: now_ms.saturating_add(self.create_delay_ms),
            status: StreamStatus::Active,
            mode: request.mode,
            retention_hours: DEFAULT_RETENTION_HOURS,
            max_record_size_kib,
            next_shard_index: shard_count,
            shards,
            tags: request.tags,
        };
        let stream_dir = self.dir.join("streams").join(name.as_str());
        let create = || -> std::io::Result<()> {
            fs::create_dir_all(&stream_dir)?;
            meta.store(&stream_dir)?;
            sync_dir(&self.dir.join("streams"))
        };
        create().map_err(|error| LogError::io("creating stream", &stream_dir, error))?;
        let stream = Arc::new(Stream::open(
            Arc::clone(&self.context),
            stream_dir.clone(),
            meta,
        )?);
        self.streams.write().insert(name, Arc::clone(&stream));
        drop(catalog);
        Ok(stream)
    }

    /// The stream named `name`.
    pub fn stream(&self, name: &str) -> StreamResult<Arc<Stream>> {
        StreamName::new(name)
            .ok()
            .and_then(|name| self.streams.read().get(&name).cloned())
            .ok_or_else(|| self.context.not_found(name))
    }

    /// Deletes a stream and all its records (Kinesis DeleteStream). Readers holding records keep
    /// them; the stream's files are gone when this returns.
    pub fn delete_stream(&self, name: &str) -> StreamResult<()> {
        let _catalog = self.catalog.lock();
        let stream = self.stream(name)?;
        let meta = stream.mark_deleting();
        let streams_dir = self.dir.join("streams");
        // Mark it first: if the process dies midway, open finishes the deletion.
        meta.store(stream.dir())
            .map_err(|error| LogError::io("writing stream metadata", stream.dir(), error))?;
        self.streams.write().remove(&meta.name);
        remove_stream_dir(&streams_dir, stream.dir())
    }

    /// A page of stream names in order, after `exclusive_start` (Kinesis ListStreams).
    pub fn list_streams(&self, exclusive_start: Option<&str>, limit: usize) -> StreamList {
        let streams = self.streams.read();
        let mut names = streams
            .keys()
            .filter(|name| exclusive_start.is_none_or(|start| name.as_str() > start));
        let page: Vec<StreamName> = names.by_ref().take(limit.max(1)).cloned().collect();
        StreamList {
            has_more: names.next().is_some(),
            names: page,
        }
    }

    /// Reads records at a shard iterator token (Kinesis GetRecords).
    pub fn get_records(
        &self,
        shard_iterator: &str,
        limit: usize,
    ) -> StreamResult<GetRecordsOutput> {
        let token = IteratorToken::decode(shard_iterator, &self.context.iterator_key)
            .ok_or_else(|| StreamError::invalid_argument("Invalid ShardIterator."))?;
        let stream = self.stream(&token.stream_name)?;
        stream.get_records(&token, limit)
    }

    /// Makes every record appended so far durable, in every stream.
    pub fn sync(&self) -> StreamResult<()> {
        let streams: Vec<Arc<Stream>> = self.streams.read().values().cloned().collect();
        for stream in streams {
            stream.sync()?;
        }
        Ok(())
    }
}

/// Most tags on a stream.
pub const TAGS_MAX: usize = 50;
/// Longest tag key, in characters (at least 1).
pub const TAG_KEY_CHARS_MAX: usize = 128;
/// Longest tag value, in characters.
pub const TAG_VALUE_CHARS_MAX: usize = 256;

/// Checks tags against Kinesis' limits: at most 50, keys of 1–128 and values of 0–256 characters.
fn validate_tags(tags: &BTreeMap<String, String>) -> StreamResult<()> {
    if tags.len() > TAGS_MAX {
        return Err(StreamError::validation(
            &format!("{} tags", tags.len()),
            "tags",
            "have length less than or equal to 50",
        ));
    }
    for (key, value) in tags {
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > TAG_KEY_CHARS_MAX {
            let rule = if key_chars == 0 {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 128"
            };
            return Err(StreamError::validation(key, "tags.key", rule));
        }
        if value.chars().count() > TAG_VALUE_CHARS_MAX {
            return Err(StreamError::validation(
                value,
                "tags.value",
                "have length less than or equal to 256",
            ));
        }
    }
    Ok(())
}

/// Deletes a stream directory: renamed out of `streams/` first (atomic), then removed.
fn remove_stream_dir(streams_dir: &Path, stream_dir: &Path) -> StreamResult<()> {
    let trash = streams_dir.join(format!(
        ".deleted-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0)
    ));
    let remove = || -> std::io::Result<()> {
        fs::rename(stream_dir, &trash)?;
        sync_dir(streams_dir)?;
        fs::remove_dir_all(&trash)
    };
    remove().map_err(|error| LogError::io("deleting stream", stream_dir, error).into())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The engine's own small state file.
struct EngineMeta {
    iterator_key: [u8; 32],
    /// Shard creation seconds are handed out strictly increasing, so that a sequence number from one
    /// stream can never be mistaken for one from another.
    last_shard_created_secs: u64,
}

const ENGINE_FILE: &str = "engine.meta";

impl EngineMeta {
    fn load_or_create(dir: &Path) -> StreamResult<EngineMeta> {
        let path = dir.join(ENGINE_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => EngineMeta::decode(&text).ok_or_else(|| {
                StreamError::Storage(LogError::corrupt(&path, 0, "unreadable engine metadata"))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut iterator_key = [0u8; 32];
                fs::File::open("/dev/urandom")
                    .and_then(|mut random| random.read_exact(&mut iterator_key))
                    .map_err(|error| LogError::io("reading /dev/urandom", "/dev/urandom", error))?;
                let meta = EngineMeta {
                    iterator_key,
                    last_shard_created_secs: 0,
                };
                meta.store(dir)?;
                Ok(meta)
            }
            Err(error) => Err(LogError::io("reading engine metadata", &path, error).into()),
        }
    }

    fn decode(text: &str) -> Option<EngineMeta> {
        let mut key = None;
        let mut last = None;
        for line in text.lines() {
            match line.split_once(' ')? {
                ("iterator_key", hex) => key = crate::hex::decode(hex)?.try_into().ok(),
                ("last_shard_created_secs", value) => last = value.parse().ok(),
                _ => {}
            }
        }
        Some(EngineMeta {
            iterator_key: key?,
            last_shard_created_secs: last?,
        })
    }

    fn store(&self, dir: &Path) -> StreamResult<()> {
        let key: String = self
            .iterator_key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = format!(
            "iterator_key {key}\nlast_shard_created_secs {}\n",
            self.last_shard_created_secs
        );
        let temporary = dir.join(format!("{ENGINE_FILE}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temporary, dir.join(ENGINE_FILE))?;
            sync_dir(dir)
        };
        write().map_err(|error| LogError::io("writing engine metadata", dir, error).into())
    }

    /// A shard creation second later than every one handed out before, and no earlier than `now_secs`.
    fn allocate_shard_created_secs(&mut self, dir: &Path, now_secs: u64) -> StreamResult<u64> {
        let secs = now_secs.max(self.last_shard_created_secs + 1);
        let previous = self.last_shard_created_secs;
        self.last_shard_created_secs = secs;
        if let Err(error) = self.store(dir) {
            self.last_shard_created_secs = previous;
            return Err(error);
        }
        Ok(secs)
    }
}
