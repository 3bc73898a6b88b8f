//! A model-based property test of the stream layer. Random PutRecord and PutRecords calls
//! (partition keys with non-ASCII characters, explicit hash keys, 0–2 KiB of data) are interleaved
//! with reads through every iterator type (typed readers and tokens with GetRecords), engine
//! reopens, and clock moves (forward, a few steps backward, and far enough for tokens to expire).
//! A plain in-memory model predicts every answer:
//!
//! * each acknowledged record lands on the shard whose hash-key range holds MD5(key) or its
//!   explicit hash key, and is read exactly once, in order, by a TRIM_HORIZON scan of all shards;
//! * sequence numbers strictly increase within a shard and never repeat, also across reopens;
//! * arrival times are the clock's reading, never decreasing within a shard;
//! * AT/AFTER_SEQUENCE_NUMBER return exactly the model's suffix of the shard, AT_TIMESTAMP starts
//!   at the first record that arrived at or after the time, LATEST returns only later records;
//! * tokens are positions: reusable, surviving reopens, until five minutes after issue.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::engine::{START_MS, open, options, owner_of, payload, read_tokens};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use shardlog::stream::hash_key_of;
use shardlog::{
    Clock, CreateStream, Engine, ManualClock, PutRecordInput, PutRecordsResult, Record,
    RecordInput, SequenceNumber, ShardId, ShardReader, StartingPosition, Stream,
};

const STREAM: &str = "model-stream";
const TOKEN_TTL_MS: u64 = 300_000;

// ----------------------------------------------------------------------------------------------
// Operations
// ----------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    explicit_hash_key: Option<u128>,
    len: usize,
    seed: u64,
}

/// Where a read starts; indexes are reduced modulo what exists when the operation runs.
#[derive(Debug, Clone, Copy)]
enum Start {
    TrimHorizon,
    Latest,
    AtSequence(usize),
    AfterSequence(usize),
    /// AT_SEQUENCE_NUMBER with the shard's StartingSequenceNumber.
    AtStartingSequence,
    /// AT_TIMESTAMP at a record's arrival time plus an offset (−1, 0, +1), or at the present.
    AtTimestamp(usize, i8),
    AtNow,
    /// AT_TIMESTAMP one millisecond in the future: always an error.
    InTheFuture,
}

#[derive(Debug, Clone)]
enum Op {
    Put(Entry),
    PutBatch(Vec<Entry>),
    Advance(u64),
    StepBack(u64),
    Reopen,
    Read {
        shard: usize,
        start: Start,
        via_token: bool,
        limit: usize,
    },
    KeepToken {
        shard: usize,
        start: Start,
    },
    KeepReader {
        shard: usize,
        start: Start,
    },
    CheckKept,
}

fn key_strategy() -> impl Strategy<Value = String> {
    let pool: Vec<String> = [
        "a",
        "hello",
        "abc",
        "message digest",
        "user-1",
        "ü",
        "日本語",
        "🦀 crab",
        "key with spaces",
    ]
    .iter()
    .map(|key| (*key).to_owned())
    .chain(std::iter::once("ü".repeat(256)))
    .collect();
    prop_oneof![
        6 => proptest::sample::select(pool),
        2 => "\\PC{1,12}",
    ]
}

fn entry_strategy() -> impl Strategy<Value = Entry> {
    let explicit = prop_oneof![
        8 => Just(None),
        1 => any::<u128>().prop_map(Some),
        1 => proptest::sample::select(vec![
            0u128,
            u128::MAX,
            1 << 127,
            (1 << 127) - 1,
            u128::MAX / 3,
            u128::MAX / 3 + 1,
        ])
        .prop_map(Some),
    ];
    let len = prop_oneof![3 => 0usize..64, 1 => 0usize..=2048];
    (key_strategy(), explicit, len, any::<u64>()).prop_map(|(key, explicit_hash_key, len, seed)| {
        Entry {
            key,
            explicit_hash_key,
            len,
            seed,
        }
    })
}

fn start_strategy() -> impl Strategy<Value = Start> {
    prop_oneof![
        2 => Just(Start::TrimHorizon),
        2 => Just(Start::Latest),
        3 => any::<usize>().prop_map(Start::AtSequence),
        3 => any::<usize>().prop_map(Start::AfterSequence),
        1 => Just(Start::AtStartingSequence),
        3 => (any::<usize>(), -1i8..=1).prop_map(|(i, d)| Start::AtTimestamp(i, d)),
        1 => Just(Start::AtNow),
        1 => Just(Start::InTheFuture),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => entry_strategy().prop_map(Op::Put),
        3 => proptest::collection::vec(entry_strategy(), 1..=20).prop_map(Op::PutBatch),
        2 => (0u64..=3_000).prop_map(Op::Advance),
        1 => proptest::sample::select(vec![150_000u64, 150_001, 300_000]).prop_map(Op::Advance),
        1 => (1u64..=2_000).prop_map(Op::StepBack),
        1 => Just(Op::Reopen),
        4 => (any::<usize>(), start_strategy(), any::<bool>(), 1usize..=25).prop_map(
            |(shard, start, via_token, limit)| Op::Read { shard, start, via_token, limit }
        ),
        2 => (any::<usize>(), start_strategy())
            .prop_map(|(shard, start)| Op::KeepToken { shard, start }),
        2 => (any::<usize>(), start_strategy())
            .prop_map(|(shard, start)| Op::KeepReader { shard, start }),
        2 => Just(Op::CheckKept),
    ]
}

// ----------------------------------------------------------------------------------------------
// The model
// ----------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    sequence_number: SequenceNumber,
    arrival_ms: u64,
    key: String,
    explicit_hash_key: Option<u128>,
    data: Vec<u8>,
}

impl Seen {
    fn of(record: &Record) -> Seen {
        Seen {
            sequence_number: record.sequence_number(),
            arrival_ms: record.arrival_ms(),
            key: record.partition_key().to_owned(),
            explicit_hash_key: record.explicit_hash_key(),
            data: record.data().to_vec(),
        }
    }
}

fn seen(records: &[Record]) -> Vec<Seen> {
    records.iter().map(Seen::of).collect()
}

/// A kept token: its shard, the text, when it was issued, and the index in the model's shard
/// where it starts (resolved when it was issued).
struct KeptToken {
    shard: usize,
    token: String,
    issued_ms: u64,
    from: usize,
}

/// A kept typed reader and the model index of the next record it must return.
struct KeptReader {
    shard: usize,
    reader: ShardReader,
    next: usize,
}

struct Harness<'a> {
    dir: &'a Path,
    clock: Arc<ManualClock>,
    engine: Option<Engine>,
    stream: Option<Arc<Stream>>,
    /// Records of each shard, in order.
    shards: Vec<Vec<Seen>>,
    /// Every sequence number ever acknowledged.
    numbers: HashSet<SequenceNumber>,
    /// For each partition key without explicit hash key, the seeds of its records in put order.
    per_key: BTreeMap<String, Vec<Vec<u8>>>,
    tokens: Vec<KeptToken>,
    readers: Vec<KeptReader>,
}

impl<'a> Harness<'a> {
    fn new(dir: &'a Path, shard_count: u32) -> Harness<'a> {
        let clock = crate::support::engine::clock();
        let engine = open(dir, &options(&clock));
        let stream = engine
            .create_stream(CreateStream::provisioned(STREAM, shard_count))
            .unwrap();
        Harness {
            dir,
            clock,
            engine: Some(engine),
            stream: Some(stream),
            shards: vec![Vec::new(); shard_count as usize],
            numbers: HashSet::new(),
            per_key: BTreeMap::new(),
            tokens: Vec::new(),
            readers: Vec::new(),
        }
    }

    fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    fn stream(&self) -> &Arc<Stream> {
        self.stream.as_ref().unwrap()
    }

    fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    fn shard_id(&self, shard: usize) -> ShardId {
        self.stream().meta().shards[shard].id()
    }

    fn hash_key(entry: &Entry) -> u128 {
        entry
            .explicit_hash_key
            .unwrap_or_else(|| hash_key_of(&entry.key))
    }

    /// Checks one acknowledged record against the model and adds it.
    fn acknowledge(&mut self, entry: &Entry, shard_id: ShardId, number: SequenceNumber, now: u64) {
        let meta = self.stream().meta();
        let owner = owner_of(&meta, Self::hash_key(entry));
        assert_eq!(shard_id, owner.id(), "routing of {entry:?}");
        assert_eq!(
            number.shard(),
            owner.identity(),
            "the number encodes its shard"
        );
        assert_eq!(number.to_string().len(), 56);
        let shard = owner.index as usize;
        let records = &mut self.shards[shard];
        let previous = records.last();
        if let Some(previous) = previous {
            assert!(
                number > previous.sequence_number,
                "sequence numbers increase within a shard: {number} after {}",
                previous.sequence_number
            );
        }
        assert!(
            self.numbers.insert(number),
            "sequence number {number} repeated"
        );
        let arrival_ms = previous.map_or(now, |previous| now.max(previous.arrival_ms));
        assert_eq!(number.arrival_secs(), arrival_ms / 1000);
        let data = payload(entry.seed, entry.len);
        if entry.explicit_hash_key.is_none() {
            self.per_key
                .entry(entry.key.clone())
                .or_default()
                .push(data.clone());
        }
        records.push(Seen {
            sequence_number: number,
            arrival_ms,
            key: entry.key.clone(),
            explicit_hash_key: entry.explicit_hash_key,
            data,
        });
    }

    fn put(&mut self, entry: &Entry) {
        let data = payload(entry.seed, entry.len);
        let now = self.now();
        let output = self
            .stream()
            .put_record(PutRecordInput {
                record: RecordInput {
                    explicit_hash_key: entry.explicit_hash_key,
                    ..RecordInput::new(&entry.key, &data)
                },
                sequence_number_for_ordering: None,
            })
            .unwrap_or_else(|error| panic!("put of {entry:?} failed: {error}"));
        self.acknowledge(entry, output.shard_id, output.sequence_number, now);
    }

    fn put_batch(&mut self, entries: &[Entry]) {
        let blobs: Vec<Vec<u8>> = entries
            .iter()
            .map(|entry| payload(entry.seed, entry.len))
            .collect();
        let inputs: Vec<PutRecordInput<'_>> = entries
            .iter()
            .zip(&blobs)
            .map(|(entry, data)| PutRecordInput {
                record: RecordInput {
                    explicit_hash_key: entry.explicit_hash_key,
                    ..RecordInput::new(&entry.key, data)
                },
                sequence_number_for_ordering: None,
            })
            .collect();
        let now = self.now();
        let output = self.stream().put_records(&inputs).unwrap();
        assert_eq!(output.failed_record_count, 0);
        assert_eq!(output.records.len(), entries.len());
        for (entry, result) in entries.iter().zip(output.records) {
            let PutRecordsResult::Success(put) = result else {
                panic!("entry {entry:?} failed: {result:?}");
            };
            self.acknowledge(entry, put.shard_id, put.sequence_number, now);
        }
    }

    /// Resolves `start` in `shard` to a position and the model index it starts at, or to the
    /// error message Kinesis gives.
    fn resolve(&self, shard: usize, start: Start) -> Result<(StartingPosition, usize), String> {
        let records = &self.shards[shard];
        let now = self.now();
        let at_time = |time: u64| {
            let from = records
                .iter()
                .position(|record| record.arrival_ms >= time)
                .unwrap_or(records.len());
            (StartingPosition::AtTimestamp(time), from)
        };
        Ok(match start {
            Start::TrimHorizon => (StartingPosition::TrimHorizon, 0),
            Start::Latest => (StartingPosition::Latest, records.len()),
            Start::AtStartingSequence => {
                let starting = self.stream().describe(None, None).unwrap().shards[shard]
                    .starting_sequence_number;
                (StartingPosition::AtSequenceNumber(starting), 0)
            }
            Start::AtSequence(_) | Start::AfterSequence(_) if records.is_empty() => {
                return self.resolve(shard, Start::AtStartingSequence);
            }
            Start::AtSequence(pick) => {
                let index = pick % records.len();
                (
                    StartingPosition::AtSequenceNumber(records[index].sequence_number),
                    index,
                )
            }
            Start::AfterSequence(pick) => {
                let index = pick % records.len();
                (
                    StartingPosition::AfterSequenceNumber(records[index].sequence_number),
                    index + 1,
                )
            }
            Start::AtTimestamp(pick, offset) => {
                let base = if records.is_empty() {
                    START_MS
                } else {
                    records[pick % records.len()].arrival_ms
                };
                let time = base.saturating_add_signed(i64::from(offset)).min(now);
                at_time(time)
            }
            Start::AtNow => at_time(now),
            Start::InTheFuture => {
                return Err(format!(
                    "The timestampInMillis parameter cannot be greater than the \
                     currentTimestampInMillis. timestampInMillis: {}, currentTimestampInMillis: \
                     {now}",
                    now + 1
                ));
            }
        })
    }

    fn position_for_error(&self) -> StartingPosition {
        StartingPosition::AtTimestamp(self.now() + 1)
    }

    fn read(&mut self, shard: usize, start: Start, via_token: bool, limit: usize) {
        let shard_id = self.shard_id(shard);
        match self.resolve(shard, start) {
            Err(message) => {
                let position = self.position_for_error();
                let error = if via_token {
                    self.stream()
                        .shard_iterator(shard_id, position)
                        .err()
                        .unwrap()
                } else {
                    self.stream().reader(shard_id, position).err().unwrap()
                };
                assert_eq!(error.kinesis_error_code(), "InvalidArgumentException");
                assert_eq!(error.to_string(), message);
            }
            Ok((position, from)) => {
                let records = if via_token {
                    crate::support::engine::read_via_token(
                        self.engine(),
                        self.stream(),
                        shard_id,
                        position,
                        limit,
                    )
                } else {
                    crate::support::engine::read_typed(self.stream(), shard_id, position, limit)
                };
                assert_eq!(
                    seen(&records),
                    self.shards[shard][from..],
                    "{position:?} in shard {shard} via {}",
                    if via_token { "token" } else { "typed reader" }
                );
            }
        }
    }

    fn keep_token(&mut self, shard: usize, start: Start) {
        let Ok((position, from)) = self.resolve(shard, start) else {
            return; // errors are covered by `read`
        };
        let token = self
            .stream()
            .shard_iterator(self.shard_id(shard), position)
            .unwrap();
        self.tokens.push(KeptToken {
            shard,
            token,
            issued_ms: self.now(),
            from,
        });
    }

    fn keep_reader(&mut self, shard: usize, start: Start) {
        let Ok((position, from)) = self.resolve(shard, start) else {
            return;
        };
        let reader = self
            .stream()
            .reader(self.shard_id(shard), position)
            .unwrap();
        self.readers.push(KeptReader {
            shard,
            reader,
            next: from,
        });
    }

    fn check_kept(&mut self) {
        let now = self.now();
        let mut tokens = std::mem::take(&mut self.tokens);
        tokens.retain(|kept| {
            let result = read_tokens(self.engine(), &kept.token, 10);
            if now - kept.issued_ms.min(now) > TOKEN_TTL_MS {
                let error = result.expect_err("an expired token is refused");
                assert_eq!(error.kinesis_error_code(), "ExpiredIteratorException");
                false
            } else {
                let (records, _) =
                    result.unwrap_or_else(|error| panic!("kept token refused: {error}"));
                assert_eq!(
                    seen(&records),
                    self.shards[kept.shard][kept.from..],
                    "kept token of shard {}",
                    kept.shard
                );
                true
            }
        });
        self.tokens = tokens;
        let mut readers = std::mem::take(&mut self.readers);
        for kept in &mut readers {
            let expected = &self.shards[kept.shard][kept.next..];
            assert_eq!(
                kept.reader.wait_for_records(Duration::ZERO),
                !expected.is_empty(),
                "a kept reader knows whether records are ready"
            );
            let mut records = Vec::new();
            loop {
                let batch = kept.reader.next_batch(7).unwrap();
                if batch.records.is_empty() {
                    break;
                }
                records.extend(batch.records);
            }
            assert_eq!(
                seen(&records),
                expected,
                "kept reader of shard {}",
                kept.shard
            );
            kept.next = self.shards[kept.shard].len();
        }
        self.readers = readers;
    }

    fn reopen(&mut self) {
        self.check_kept();
        self.readers.clear(); // typed readers belong to the engine being closed
        let meta = self.stream().meta();
        self.stream = None;
        self.engine = None;
        let engine = open(self.dir, &options(&self.clock));
        let stream = engine.stream(STREAM).unwrap();
        assert_eq!(stream.meta(), meta, "the catalog survives a reopen");
        self.engine = Some(engine);
        self.stream = Some(stream);
        self.check_everything();
    }

    /// Every shard read from TRIM_HORIZON, by typed reader and by tokens, equals the model; each
    /// key's records come in put order.
    fn check_everything(&self) {
        let meta = self.stream().meta();
        let mut all = Vec::new();
        for (index, shard) in meta.shards.iter().enumerate() {
            let typed = seen(&crate::support::engine::read_typed(
                self.stream(),
                shard.id(),
                StartingPosition::TrimHorizon,
                9,
            ));
            assert_eq!(
                typed, self.shards[index],
                "TRIM_HORIZON scan of shard {index}"
            );
            let tokens = seen(&crate::support::engine::read_via_token(
                self.engine(),
                self.stream(),
                shard.id(),
                StartingPosition::TrimHorizon,
                13,
            ));
            assert_eq!(
                tokens, self.shards[index],
                "GetRecords scan of shard {index}"
            );
            for record in &typed {
                let hash_key = record
                    .explicit_hash_key
                    .unwrap_or_else(|| hash_key_of(&record.key));
                assert!(
                    shard.hash_key_range.contains(hash_key),
                    "{record:?} in shard {index}"
                );
            }
            all.extend(typed);
        }
        let total: usize = self.shards.iter().map(Vec::len).sum();
        assert_eq!(all.len(), total, "every acknowledged record is read once");
        let distinct: HashSet<SequenceNumber> =
            all.iter().map(|record| record.sequence_number).collect();
        assert_eq!(distinct.len(), total);
        assert_eq!(distinct, self.numbers);
        let mut per_key: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for record in all
            .iter()
            .filter(|record| record.explicit_hash_key.is_none())
        {
            per_key
                .entry(record.key.clone())
                .or_default()
                .push(record.data.clone());
        }
        assert_eq!(per_key, self.per_key, "per-partition-key order");
    }

    fn run(&mut self, op: &Op) {
        let shard_count = self.shards.len();
        match op {
            Op::Put(entry) => self.put(entry),
            Op::PutBatch(entries) => self.put_batch(entries),
            Op::Advance(ms) => self.clock.advance_ms(*ms),
            Op::StepBack(ms) => self
                .clock
                .set_ms(self.now().saturating_sub(*ms).max(START_MS)),
            Op::Reopen => self.reopen(),
            Op::Read {
                shard,
                start,
                via_token,
                limit,
            } => self.read(shard % shard_count, *start, *via_token, *limit),
            Op::KeepToken { shard, start } => self.keep_token(shard % shard_count, *start),
            Op::KeepReader { shard, start } => self.keep_reader(shard % shard_count, *start),
            Op::CheckKept => self.check_kept(),
        }
    }
}

fn config() -> Config {
    Config {
        cases: 24,
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn streams_match_a_model_through_puts_reads_reopens_and_clock_changes(
        shard_count in 1u32..=5,
        ops in proptest::collection::vec(op_strategy(), 1..60),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut harness = Harness::new(dir.path(), shard_count);
        for op in &ops {
            harness.run(op);
        }
        harness.check_kept();
        harness.check_everything();
        harness.reopen();
    }
}
