//! Helpers for the scenarios that go through an engine (`tests/engine/`, `tests/stream/`): engine
//! options with a manual clock, reading whole shards through the typed reader or through tokens,
//! and checking errors by Kinesis code and message.

use std::path::Path;
use std::sync::Arc;

use shardlog::stream::{ShardMeta, StreamMeta};
use shardlog::{
    Clock, Engine, EngineOptions, ManualClock, Record, ShardId, StartingPosition, Stream,
    StreamResult,
};

/// Where the manual clocks start: Tue Nov 14 22:13:20 UTC 2023, in Unix milliseconds.
pub const START_MS: u64 = 1_700_000_000_000;

/// The account every test engine uses (the library default).
pub const ACCOUNT: &str = "000000000000";

/// A manual clock at [`START_MS`].
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(START_MS))
}

/// Engine options for tests: small segments, the given manual clock, and no maintenance thread
/// (tests run maintenance passes themselves, at the times they choose).
pub fn options(clock: &Arc<ManualClock>) -> EngineOptions {
    EngineOptions {
        segment_bytes: 1 << 20,
        clock: Arc::clone(clock) as Arc<dyn Clock>,
        maintenance_interval: None,
        ..EngineOptions::default()
    }
}

/// [`options`] with Kinesis' per-shard throughput limits enforced on PROVISIONED streams.
pub fn throttling_options(clock: &Arc<ManualClock>) -> EngineOptions {
    EngineOptions {
        enforce_throughput_limits: true,
        ..options(clock)
    }
}

/// Milliseconds in an hour.
pub const HOUR_MS: u64 = 3_600_000;

/// The segment files in a shard's directory.
pub fn segment_files(stream: &Stream, shard: ShardId) -> usize {
    let dir = stream.dir().join(format!("shard-{:012}", shard.index()));
    std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("listing {}: {error}", dir.display()))
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.file_name().to_string_lossy().ends_with(".seg"))
        })
        .count()
}

/// Opens an engine, panicking with the error if it cannot be opened.
pub fn open(dir: &Path, options: &EngineOptions) -> Engine {
    match Engine::open(dir, options.clone()) {
        Ok(engine) => engine,
        Err(error) => panic!("opening the engine in {} failed: {error}", dir.display()),
    }
}

/// Deterministic bytes (a splitmix64 stream of `seed`), so that data proves which record it is.
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let state = seed ^ (len as u64).rotate_left(32);
    super::splitmix_bytes(state, len)
}

/// The shards of `stream` in index order.
/// The open shards of `stream`, in hash-key order.
pub fn open_shards_by_start(stream: &Stream) -> Vec<ShardMeta> {
    let mut open: Vec<ShardMeta> = stream
        .meta()
        .shards
        .into_iter()
        .filter(|shard| shard.closed_secs.is_none())
        .collect();
    open.sort_by_key(|shard| shard.hash_key_range.starting);
    open
}

pub fn shard_ids(stream: &Stream) -> Vec<ShardId> {
    stream.meta().shards.iter().map(ShardMeta::id).collect()
}

/// The catalog entry of the open shard whose range holds `hash_key`, found by a linear scan of the
/// stream's metadata (independent of the engine's routing table).
pub fn owner_of(meta: &StreamMeta, hash_key: u128) -> ShardMeta {
    let owners: Vec<&ShardMeta> = meta
        .shards
        .iter()
        .filter(|shard| shard.closed_secs.is_none() && shard.hash_key_range.contains(hash_key))
        .collect();
    assert_eq!(owners.len(), 1, "exactly one open shard owns {hash_key}");
    owners[0].clone()
}

/// Everything from `position` to the end of the shard, through the typed reader, `limit` records
/// per batch.
pub fn read_typed(
    stream: &Arc<Stream>,
    shard: ShardId,
    position: StartingPosition,
    limit: usize,
) -> Vec<Record> {
    let mut reader = stream
        .reader(shard, position)
        .unwrap_or_else(|error| panic!("reader for {shard} at {position:?} failed: {error}"));
    let mut records = Vec::new();
    loop {
        let batch = reader.next_batch(limit).unwrap();
        assert!(batch.records.len() <= limit, "a batch honours its limit");
        if batch.records.is_empty() {
            assert_eq!(batch.millis_behind_latest, 0, "an empty batch is caught up");
            return records;
        }
        records.extend(batch.records);
    }
}

/// Everything from `token` to the end of the shard, through GetRecords, `limit` records per call.
/// Returns the records and the next iterator after the last (empty) batch.
pub fn read_tokens(
    engine: &Engine,
    token: &str,
    limit: usize,
) -> StreamResult<(Vec<Record>, String)> {
    let mut token = token.to_owned();
    let mut records = Vec::new();
    loop {
        let output = engine.get_records(&token, limit)?;
        assert!(
            output.batch.records.len() <= limit,
            "GetRecords honours its limit"
        );
        let next = output
            .next_shard_iterator
            .expect("an open shard always has a next iterator");
        if output.batch.records.is_empty() {
            assert_eq!(
                output.batch.millis_behind_latest, 0,
                "an empty batch is caught up"
            );
            return Ok((records, next));
        }
        records.extend(output.batch.records);
        token = next;
    }
}

/// Everything in the shard from `position`, through a token and GetRecords.
pub fn read_via_token(
    engine: &Engine,
    stream: &Stream,
    shard: ShardId,
    position: StartingPosition,
    limit: usize,
) -> Vec<Record> {
    let token = stream
        .shard_iterator(shard, position)
        .unwrap_or_else(|error| panic!("iterator for {shard} at {position:?} failed: {error}"));
    read_tokens(engine, &token, limit).unwrap().0
}

/// Fails unless `result` is an error with Kinesis code `code`; returns its message.
#[track_caller]
pub fn error_of<T>(result: StreamResult<T>, code: &str) -> String {
    match result {
        Ok(_) => panic!("expected {code}, got Ok(<{}>)", std::any::type_name::<T>()),
        Err(error) => {
            assert_eq!(error.kinesis_error_code(), code, "wrong error: {error}");
            error.to_string()
        }
    }
}

/// Fails unless `result` is an error with Kinesis code `code` and exactly `message`.
#[track_caller]
pub fn assert_error<T>(result: StreamResult<T>, code: &str, message: &str) {
    assert_eq!(error_of(result, code), message);
}

/// The message of a one-constraint `ValidationException`, in the AWS front end's format.
pub fn validation_message(value: &str, field: &str, rule: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: \
         Member must {rule}"
    )
}

/// A consumer that reads a shard only after every parent it has was read to its end, as Kinesis
/// asks of consumers that want per-key order across resharding.
#[derive(Default)]
pub struct LineageConsumer {
    readers: std::collections::BTreeMap<ShardId, shardlog::ShardReader>,
    finished: std::collections::BTreeSet<ShardId>,
    /// (partition key, sequence number) in the order read.
    pub seen: Vec<(String, shardlog::SequenceNumber)>,
}

impl LineageConsumer {
    /// Reads every shard it may as far as it goes, `batch` records per call; repeats while shards
    /// finish.
    pub fn read(&mut self, stream: &Arc<Stream>, batch: usize) {
        loop {
            let mut progress = false;
            for shard in list_all_shards(stream, None) {
                let id = shard.shard_id;
                let parents_done = shard
                    .parent_shard_id
                    .iter()
                    .chain(shard.adjacent_parent_shard_id.iter())
                    .all(|parent| self.finished.contains(parent));
                if self.finished.contains(&id) || !parents_done {
                    continue;
                }
                let reader = self
                    .readers
                    .entry(id)
                    .or_insert_with(|| stream.reader(id, StartingPosition::TrimHorizon).unwrap());
                loop {
                    let records = reader.next_batch(batch).unwrap();
                    self.seen.extend(records.records.iter().map(|record| {
                        (record.partition_key().to_owned(), record.sequence_number())
                    }));
                    if records.child_shards.is_some() {
                        self.finished.insert(id);
                        progress = true;
                        break;
                    }
                    if records.records.is_empty() {
                        break;
                    }
                }
            }
            if !progress {
                return;
            }
        }
    }
}

/// Every shard of `stream` that passes `filter`, in id order (one ListShards page of 10 000).
pub fn list_all_shards(
    stream: &Stream,
    filter: Option<shardlog::stream::ShardFilter>,
) -> Vec<shardlog::ShardDescription> {
    let from = shardlog::stream::ListShardsFrom::Start {
        exclusive_start_shard_id: None,
        filter,
    };
    stream.list_shards(from, Some(10_000)).unwrap().shards
}
