//! `stream_operations`: a program of engine operations on one PROVISIONED stream, checked against
//! a model of what was acknowledged.
//!
//! The first input byte picks the stream's initial shard count (1–3); then each operation takes
//! one byte to choose it and one or two for its arguments, for at most [`MAX_OPS`] operations:
//! `put_record`, `put_records` (1–4 entries), one GetRecords pass of one of two consumers (through
//! tokens, with a small limit), SplitShard, MergeShards, UpdateShardCount, a retention change
//! (24, 48 or 72 hours), moving the manual clock forward by 1–30 hours, a maintenance pass
//! (`Engine::run_maintenance`: retention deletes segments and forgets expired closed shards), and a
//! clean reopen of the engine (the consumers keep their tokens).
//!
//! The consumers start at TRIM_HORIZON on the initial shards and follow the lineage: a child is
//! read only once each parent is read to its end (or forgotten), and an expired token is renewed
//! just after the last record read (AFTER_SEQUENCE_NUMBER), or at TRIM_HORIZON.
//!
//! Checked: every operation the model allows succeeds and one it forbids fails with the Kinesis
//! error (an eleventh UpdateShardCount in a rolling day with LimitExceededException, across
//! reopens too); each record read is one that was acknowledged, in the shard and with the
//! sequence number and arrival (the clock at its put: the clock never goes back here)
//! acknowledged; at the end, after the consumers have drained every shard, each has read every
//! record once, each key's records in put order, except records that had expired (arrived before
//! the trim horizon, `now − retention` but never moving back) by the time the consumer read on
//! past them; and the open shards tile the hash-key space.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use shardlog::stream::{HashKeyRange, ShardMeta};
use shardlog::{
    Clock, CreateStream, Engine, EngineOptions, ManualClock, PutRecordInput, PutRecordsResult,
    SequenceNumber, ShardId, StartingPosition, Stream, StreamError,
};

use super::common::{Input, scratch_dir};

/// At most this many operations run per input.
pub const MAX_OPS: usize = 48;

const START_MS: u64 = 1_700_000_000_000;
const HOUR_MS: u64 = 3_600_000;
const KEYS: u8 = 6;
const OPEN_SHARDS_MAX: usize = 6;
const STREAM: &str = "fuzzed";
const CONSUMERS: usize = 2;
/// The engine's default limit of UpdateShardCount calls per stream per rolling day.
const SHARD_COUNT_UPDATES_PER_DAY: usize = 10;

/// Every shard ever listed: index → (parent, adjacent parent).
type Lineage = BTreeMap<u32, (Option<u32>, Option<u32>)>;

/// An acknowledged record.
struct Acked {
    key: String,
    /// Its position in the put order (also its data).
    n: u64,
    shard: u32,
    sequence_number: SequenceNumber,
    arrival_ms: u64,
}

/// A record a consumer read, with the trim horizon at that read: no record that arrived at or
/// after it can have expired (or been deleted) before the read.
struct Read {
    shard: u32,
    sequence_number: SequenceNumber,
    trim_bound_ms: u64,
}

/// A consumer on tokens that follows the lineage.
#[derive(Default)]
struct Consumer {
    /// Shards being read: the token, and the last record read there.
    active: BTreeMap<u32, (String, Option<SequenceNumber>)>,
    done: BTreeSet<u32>,
    read: Vec<Read>,
}

struct World {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    /// Only ever `None` inside `reopen`. Operations take the stream from the engine each time: a
    /// `Stream` handle kept across a reopen would keep the old engine's shard logs open beside the
    /// new engine's (see RELIABILITY.md, "two engines on one directory").
    engine: Option<Engine>,
    retention_hours: u32,
    /// The highest `now − retention` so far. The engine's trim horizon only moves forward (a
    /// record that expired stays expired when the retention rises), so this is the horizon.
    trim_max_ms: u64,
    acked: Vec<Acked>,
    lineage: Lineage,
    consumers: [Consumer; CONSUMERS],
    /// When UpdateShardCount succeeded (the engine allows it 10 times per rolling day).
    shard_count_updates_ms: Vec<u64>,
}

fn options(clock: &Arc<ManualClock>) -> EngineOptions {
    EngineOptions {
        segment_bytes: 1 << 20,
        clock: Arc::clone(clock) as Arc<dyn Clock>,
        maintenance_interval: None,
        ..EngineOptions::default()
    }
}

fn open(dir: &Path, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(dir, options(clock)).unwrap_or_else(|error| panic!("opening the engine: {error}"))
}

impl World {
    fn engine(&self) -> &Engine {
        self.engine
            .as_ref()
            .expect("the engine is open between operations")
    }

    fn stream(&self) -> Arc<Stream> {
        self.engine().stream(STREAM).expect("the stream exists")
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The trim horizon now: records that arrived before it have expired.
    fn trim_ms(&self) -> u64 {
        self.now_ms()
            .saturating_sub(u64::from(self.retention_hours) * HOUR_MS)
            .max(self.trim_max_ms)
    }

    /// Notes the trim horizon; called after every move of the clock or the retention.
    fn note_trim(&mut self) {
        self.trim_max_ms = self.trim_max_ms.max(self.trim_ms());
    }

    fn note_lineage(&mut self) {
        for shard in self.stream().meta().shards {
            self.lineage
                .insert(shard.index, (shard.parent, shard.adjacent_parent));
        }
    }

    fn open_shards(&self) -> Vec<ShardMeta> {
        let mut open: Vec<ShardMeta> = self
            .stream()
            .meta()
            .shards
            .into_iter()
            .filter(|shard| shard.closed_secs.is_none())
            .collect();
        open.sort_by_key(|shard| shard.hash_key_range.starting);
        open
    }

    fn put(&mut self, keys: &[u8]) {
        let first = self.acked.len() as u64;
        let key_texts: Vec<String> = keys.iter().map(|k| format!("k{}", k % KEYS)).collect();
        let datas: Vec<Vec<u8>> = (first..first + keys.len() as u64)
            .map(|n| n.to_be_bytes().to_vec())
            .collect();
        let inputs: Vec<PutRecordInput<'_>> = key_texts
            .iter()
            .zip(&datas)
            .map(|(key, data)| PutRecordInput::new(key, data))
            .collect();
        let outputs = if let [input] = inputs.as_slice() {
            vec![self.stream().put_record(*input).expect("put_record")]
        } else {
            let output = self.stream().put_records(&inputs).expect("put_records");
            assert_eq!(output.failed_record_count, 0);
            output
                .records
                .into_iter()
                .map(|result| match result {
                    PutRecordsResult::Success(output) => output,
                    PutRecordsResult::Failure(error_message) => {
                        panic!("a PutRecords entry failed: {error_message}")
                    }
                })
                .collect()
        };
        let arrival_ms = self.now_ms();
        for ((key, output), n) in key_texts.into_iter().zip(outputs).zip(first..) {
            let shard = output.shard_id.index();
            let owner = self
                .open_shards()
                .into_iter()
                .find(|s| {
                    s.hash_key_range
                        .contains(shardlog::stream::hash_key_of(&key))
                })
                .expect("an open shard owns every key");
            assert_eq!(
                shard, owner.index,
                "record {n} went to a shard not owning its key"
            );
            self.acked.push(Acked {
                key,
                n,
                shard,
                sequence_number: output.sequence_number,
                arrival_ms,
            });
        }
    }

    fn split(&mut self, choice: u8, fraction: u8) {
        let open = self.open_shards();
        if open.len() >= OPEN_SHARDS_MAX {
            return;
        }
        let shard = &open[usize::from(choice) % open.len()];
        let HashKeyRange { starting, ending } = shard.hash_key_range;
        let at = starting + (ending - starting) / 256 * u128::from(fraction);
        let result = self
            .stream()
            .split_shard(&shard.id().to_string(), &at.to_string());
        if at <= starting.saturating_add(1) || at >= ending {
            assert!(
                matches!(result, Err(StreamError::InvalidArgument { .. })),
                "split at {at} of [{starting}, {ending}]: {result:?}"
            );
        } else {
            result.unwrap_or_else(|error| panic!("split at {at}: {error}"));
            self.note_lineage();
        }
    }

    fn merge(&mut self, choice: u8) {
        let open = self.open_shards();
        if open.len() < 2 {
            return;
        }
        let at = usize::from(choice) % (open.len() - 1);
        let (a, b) = (&open[at], &open[at + 1]);
        self.stream()
            .merge_shards(&a.id().to_string(), &b.id().to_string())
            .unwrap_or_else(|error| panic!("merge: {error}"));
        self.note_lineage();
    }

    /// Successful UpdateShardCount calls in the rolling day before now.
    fn shard_count_updates_today(&self) -> usize {
        let day_start_ms = self.now_ms().saturating_sub(24 * HOUR_MS);
        self.shard_count_updates_ms
            .iter()
            .filter(|&&ms| ms > day_start_ms)
            .count()
    }

    fn update_shard_count(&mut self, choice: u8) {
        let open = self.open_shards().len() as u32;
        let target = 1 + u32::from(choice) % OPEN_SHARDS_MAX as u32;
        let result = self.stream().update_shard_count(target);
        if target * 2 < open || target > 2 * open {
            assert!(
                matches!(result, Err(StreamError::InvalidArgument { .. })),
                "update_shard_count from {open} to {target}: {result:?}"
            );
        } else if self.shard_count_updates_today() >= SHARD_COUNT_UPDATES_PER_DAY {
            assert!(
                matches!(result, Err(StreamError::LimitExceeded { .. })),
                "the {}th UpdateShardCount in a day: {result:?}",
                SHARD_COUNT_UPDATES_PER_DAY + 1
            );
        } else {
            result.unwrap_or_else(|error| panic!("update_shard_count to {target}: {error}"));
            self.shard_count_updates_ms.push(self.now_ms());
            self.note_lineage();
        }
    }

    fn retention(&mut self, choice: u8) {
        let hours = [24, 48, 72][usize::from(choice) % 3];
        if hours > self.retention_hours {
            self.stream()
                .increase_retention_period(hours)
                .expect("increase");
        } else if hours < self.retention_hours {
            self.stream()
                .decrease_retention_period(hours)
                .expect("decrease");
        }
        self.retention_hours = hours;
        self.note_trim();
    }

    fn reopen(&mut self) {
        drop(self.engine.take());
        let engine = open(self.dir.path(), &self.clock);
        engine.stream(STREAM).expect("the stream survives a reopen");
        self.engine = Some(engine);
    }

    /// Starts consumer `c` on shard `index` just after `last`, or at TRIM_HORIZON.
    fn activate(&mut self, c: usize, index: u32, last: Option<SequenceNumber>) {
        let position = last.map_or(
            StartingPosition::TrimHorizon,
            StartingPosition::AfterSequenceNumber,
        );
        match self.stream().shard_iterator(ShardId::new(index), position) {
            Ok(token) => {
                self.consumers[c].active.insert(index, (token, last));
            }
            Err(StreamError::ResourceNotFound { .. }) => self.finish(c, index),
            Err(error) => panic!("iterator for shard {index} at {position:?}: {error}"),
        }
    }

    /// Consumer `c` has read shard `index` to its end, or it was forgotten: start every child whose
    /// parents are all done or forgotten.
    fn finish(&mut self, c: usize, index: u32) {
        self.consumers[c].active.remove(&index);
        self.consumers[c].done.insert(index);
        let listed: BTreeSet<u32> = self
            .stream()
            .meta()
            .shards
            .iter()
            .map(|s| s.index)
            .collect();
        let children: Vec<(u32, Option<u32>, Option<u32>)> = self
            .lineage
            .iter()
            .filter(|(_, (parent, adjacent))| *parent == Some(index) || *adjacent == Some(index))
            .map(|(&child, &(parent, adjacent))| (child, parent, adjacent))
            .collect();
        for (child, parent, adjacent) in children {
            let consumer = &self.consumers[c];
            if consumer.active.contains_key(&child) || consumer.done.contains(&child) {
                continue;
            }
            let ready = [parent, adjacent]
                .into_iter()
                .flatten()
                .all(|parent| consumer.done.contains(&parent) || !listed.contains(&parent));
            if ready {
                self.activate(c, child, None);
            }
        }
    }

    /// One GetRecords call on every shard consumer `c` reads; whether anything changed.
    fn poll(&mut self, c: usize, limit: usize) -> bool {
        let mut progress = false;
        let indexes: Vec<u32> = self.consumers[c].active.keys().copied().collect();
        for index in indexes {
            let Some((token, last)) = self.consumers[c].active.get(&index).cloned() else {
                continue;
            };
            let output = match self.engine().get_records(&token, limit) {
                Ok(output) => output,
                Err(StreamError::ExpiredIterator { .. }) => {
                    self.consumers[c].active.remove(&index);
                    self.activate(c, index, last);
                    progress = true;
                    continue;
                }
                Err(error) => {
                    let listed = self.stream().meta().shards.iter().any(|s| s.index == index);
                    // A token of a shard that expired and was forgotten since it was issued.
                    assert!(
                        !listed && matches!(error, StreamError::ResourceNotFound { .. }),
                        "GetRecords on shard {index}: {error}"
                    );
                    self.finish(c, index);
                    progress = true;
                    continue;
                }
            };
            let trim_ms = self.trim_ms();
            assert_eq!(trim_ms, self.stream().trim_horizon_ms(), "the trim horizon");
            let mut last = last;
            for record in &output.batch.records {
                let n = u64::from_be_bytes(
                    record.data()[..]
                        .try_into()
                        .expect("every record's data is its number"),
                );
                let acked = self
                    .acked
                    .get(n as usize)
                    .unwrap_or_else(|| panic!("read record {n}, never acknowledged"));
                assert_eq!(
                    (
                        acked.shard,
                        acked.sequence_number,
                        acked.arrival_ms,
                        acked.key.as_str()
                    ),
                    (
                        index,
                        record.sequence_number(),
                        record.arrival_ms(),
                        record.partition_key()
                    ),
                    "record {n} read back differs from its acknowledgement"
                );
                assert!(record.arrival_ms() >= trim_ms, "read an expired record {n}");
                self.consumers[c].read.push(Read {
                    shard: index,
                    sequence_number: record.sequence_number(),
                    trim_bound_ms: trim_ms,
                });
                last = Some(record.sequence_number());
                progress = true;
            }
            match output.next_shard_iterator {
                Some(next) => {
                    self.consumers[c].active.insert(index, (next, last));
                }
                None => {
                    assert!(
                        output.batch.child_shards.is_some(),
                        "no next iterator, no children"
                    );
                    self.finish(c, index);
                    progress = true;
                }
            }
        }
        progress
    }

    /// Drains every consumer and checks what each read.
    fn check(&mut self) {
        let mut expected_start = Some(0u128);
        for shard in self.open_shards() {
            assert_eq!(
                Some(shard.hash_key_range.starting),
                expected_start,
                "open shards tile"
            );
            expected_start = shard.hash_key_range.ending.checked_add(1);
        }
        assert_eq!(expected_start, None, "the open shards stop short");
        for c in 0..CONSUMERS {
            let mut passes = 0;
            while self.poll(c, 10_000) {
                passes += 1;
                assert!(passes < 10_000, "consumer {c} never finishes");
            }
            let final_trim_ms = self.trim_ms();
            let consumer = &self.consumers[c];
            let mut seen = BTreeSet::new();
            let mut last_by_key: HashMap<&str, u64> = HashMap::new();
            let mut reads_by_shard: HashMap<u32, Vec<&Read>> = HashMap::new();
            let by_position: HashMap<(u32, SequenceNumber), &Acked> = self
                .acked
                .iter()
                .map(|acked| ((acked.shard, acked.sequence_number), acked))
                .collect();
            for read in &consumer.read {
                assert!(
                    seen.insert((read.shard, read.sequence_number)),
                    "consumer {c} read {} twice",
                    read.sequence_number
                );
                let acked = by_position[&(read.shard, read.sequence_number)];
                if let Some(previous) = last_by_key.insert(&acked.key, acked.n) {
                    assert!(
                        previous < acked.n,
                        "consumer {c}: key {} read {previous} then {}",
                        acked.key,
                        acked.n
                    );
                }
                reads_by_shard.entry(read.shard).or_default().push(read);
            }
            for acked in &self.acked {
                if seen.contains(&(acked.shard, acked.sequence_number)) {
                    continue;
                }
                let reads = reads_by_shard
                    .get(&acked.shard)
                    .map_or(&[][..], Vec::as_slice);
                let next =
                    reads.partition_point(|read| read.sequence_number <= acked.sequence_number);
                let trim_ms = reads
                    .get(next)
                    .map_or(final_trim_ms, |read| read.trim_bound_ms);
                assert!(
                    acked.arrival_ms < trim_ms,
                    "consumer {c} never read record {} (arrived {}, horizon {trim_ms})",
                    acked.n,
                    acked.arrival_ms
                );
            }
        }
    }
}

/// The body of the `stream_operations` target.
pub fn stream_operations(data: &[u8]) {
    let mut input = Input::new(data);
    let dir = scratch_dir();
    let clock = Arc::new(ManualClock::new(START_MS));
    let engine = open(dir.path(), &clock);
    let shard_count = 1 + u32::from(input.u8() % 3);
    engine
        .create_stream(CreateStream::provisioned(STREAM, shard_count))
        .expect("creating the stream");
    let mut world = World {
        dir,
        clock,
        engine: Some(engine),
        retention_hours: 24,
        trim_max_ms: 0,
        acked: Vec::new(),
        lineage: Lineage::new(),
        consumers: Default::default(),
        shard_count_updates_ms: Vec::new(),
    };
    world.note_lineage();
    world.note_trim();
    let roots: Vec<u32> = world.lineage.keys().copied().collect();
    for c in 0..CONSUMERS {
        for &root in &roots {
            world.activate(c, root, None);
        }
    }
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let argument = input.u8();
        match op % 10 {
            0 => world.put(&[argument]),
            1 => {
                let keys: Vec<u8> = (0..=argument % 4).map(|i| argument / 4 + i * 5).collect();
                world.put(&keys);
            }
            2 => {
                let limit = 1 + usize::from(argument / 2 % 8);
                world.poll(usize::from(argument % 2), limit);
            }
            3 => {
                let fraction = input.u8();
                world.split(argument, fraction);
            }
            4 => world.merge(argument),
            5 => world.update_shard_count(argument),
            6 => world.retention(argument),
            7 => {
                world
                    .clock
                    .advance_ms(HOUR_MS * (1 + u64::from(argument % 30)));
                world.note_trim();
            }
            8 => {
                world.engine().run_maintenance().expect("maintenance");
            }
            _ => world.reopen(),
        }
    }
    world.check();
}

/// Hand-made programs: puts and reads across a split, a merge and a re-tiling; expiry of a closed
/// shard between reads; maintenance just before records expire; a reopen with tokens outstanding.
pub fn seeds() -> Vec<Vec<u8>> {
    const PUT: u8 = 0;
    const BATCH: u8 = 1;
    const READ: u8 = 2;
    const SPLIT: u8 = 3;
    const MERGE: u8 = 4;
    const RESHARD: u8 = 5;
    const RETENTION: u8 = 6;
    const CLOCK: u8 = 7;
    const MAINTENANCE: u8 = 8;
    const REOPEN: u8 = 9;
    #[rustfmt::skip]
    let near_expiry = [0, BATCH, 3, CLOCK, 21, MAINTENANCE, 0, READ, 0, PUT, 1, CLOCK, 0, MAINTENANCE, 0];
    vec![
        vec![
            0, PUT, 1, BATCH, 3, SPLIT, 0, 128, PUT, 2, BATCH, 7, READ, 0, READ, 5, MERGE, 0,
            BATCH, 11, READ, 2,
        ],
        vec![
            1, BATCH, 3, RESHARD, 3, BATCH, 14, READ, 4, RESHARD, 1, BATCH, 2, READ, 1, READ, 6,
        ],
        vec![
            2,
            BATCH,
            3,
            SPLIT,
            1,
            100,
            BATCH,
            9,
            CLOCK,
            29,
            CLOCK,
            29,
            MAINTENANCE,
            0,
            READ,
            0,
            BATCH,
            5,
            READ,
            1,
        ],
        // Records 22 hours old are 2 hours from expiry: maintenance must keep them.
        near_expiry.to_vec(),
        vec![
            0,
            PUT,
            0,
            BATCH,
            3,
            READ,
            0,
            REOPEN,
            0,
            PUT,
            4,
            READ,
            0,
            CLOCK,
            5,
            READ,
            1,
            RETENTION,
            1,
            CLOCK,
            29,
            MAINTENANCE,
            0,
        ],
        // UpdateShardCount 1 -> 2 -> 1 ... ten times in a day, a reopen, the eleventh refused, and
        // allowed again once the first is a day old.
        [0, PUT, 1]
            .into_iter()
            .chain(
                [1u8, 0]
                    .repeat(5)
                    .into_iter()
                    .flat_map(|target| [RESHARD, target]),
            )
            .chain([
                REOPEN, 0, RESHARD, 1, CLOCK, 22, RESHARD, 1, CLOCK, 0, RESHARD, 1,
            ])
            .chain([PUT, 2, READ, 0])
            .collect(),
    ]
}
