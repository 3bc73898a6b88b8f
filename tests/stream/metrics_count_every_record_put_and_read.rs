//! Metrics (docs/KINESIS.md §8) against a model: random PutRecord, PutRecords, GetRecords and typed
//! reads over a three-shard stream, with a manual clock moving between them; afterwards every
//! stream-level and shard-level value equals what the model says was put and read. Also: the
//! iterator age of a consumer falling behind and catching up, and rates from two snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::support::engine::{START_MS, clock, open, options};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use shardlog::stream::{ShardMetric, StreamMetric, rate_per_second};
use shardlog::{
    CreateStream, Engine, PutRecordInput, PutRecordsResult, ShardId, ShardReader, StartingPosition,
    Stream,
};

const SHARDS: u32 = 3;

#[derive(Debug, Clone)]
enum Op {
    /// A record with partition key number `key` and `size` bytes of data.
    PutRecord {
        key: u8,
        size: usize,
    },
    PutRecords(Vec<(u8, usize)>),
    /// GetRecords on `shard` with `limit`, continuing that shard's token.
    GetRecords {
        shard: u32,
        limit: usize,
    },
    /// `next_batch(limit)` on the shard's typed reader.
    ReadTyped {
        shard: u32,
        limit: usize,
    },
    AdvanceMs(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let record = (0u8..40, 0usize..300);
    prop_oneof![
        3 => record.clone().prop_map(|(key, size)| Op::PutRecord { key, size }),
        2 => proptest::collection::vec(record, 1..30).prop_map(Op::PutRecords),
        2 => (0..SHARDS, 1usize..20).prop_map(|(shard, limit)| Op::GetRecords { shard, limit }),
        1 => (0..SHARDS, 1usize..20).prop_map(|(shard, limit)| Op::ReadTyped { shard, limit }),
        1 => (1u64..3000).prop_map(Op::AdvanceMs),
    ]
}

/// What one shard holds and how far its two consumers have read, in the model.
#[derive(Default)]
struct ShardModel {
    /// (record bytes, arrival ms) of every record stored, in order.
    stored: Vec<(u64, u64)>,
    token_position: usize,
    typed_position: usize,
    outgoing_records: u64,
    outgoing_bytes: u64,
    reads: u64,
    iterator_age_ms: u64,
    iterator_age_ms_max: u64,
}

impl ShardModel {
    /// A read of up to `limit` records at `position` at `now_ms`; returns the new position.
    fn read(&mut self, position: usize, limit: usize, now_ms: u64) -> usize {
        let end = (position + limit).min(self.stored.len());
        let returned = &self.stored[position..end];
        self.reads += 1;
        self.outgoing_records += returned.len() as u64;
        self.outgoing_bytes += returned.iter().map(|(bytes, _)| bytes).sum::<u64>();
        self.iterator_age_ms = match returned.last() {
            Some((_, arrival_ms)) if end < self.stored.len() => now_ms - arrival_ms,
            _ => 0,
        };
        self.iterator_age_ms_max = self.iterator_age_ms_max.max(self.iterator_age_ms);
        end
    }
}

struct Harness {
    engine: Engine,
    stream: Arc<Stream>,
    clock: Arc<shardlog::ManualClock>,
    keys: Vec<String>,
    tokens: Vec<String>,
    readers: Vec<ShardReader>,
    shards: Vec<ShardModel>,
    put_record_records: u64,
    put_record_bytes: u64,
    put_records_calls: u64,
    put_records_records: u64,
    put_records_bytes: u64,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let engine = open(dir.path(), &options(&clock));
        let stream = engine
            .create_stream(CreateStream::provisioned("metered", SHARDS))
            .unwrap();
        let shard_ids: Vec<ShardId> = (0..SHARDS).map(ShardId::new).collect();
        let tokens = shard_ids
            .iter()
            .map(|&id| {
                stream
                    .shard_iterator(id, StartingPosition::TrimHorizon)
                    .unwrap()
            })
            .collect();
        let readers = shard_ids
            .iter()
            .map(|&id| stream.reader(id, StartingPosition::TrimHorizon).unwrap())
            .collect();
        Harness {
            engine,
            stream,
            clock,
            keys: (0..40).map(|i| format!("key-{i}")).collect(),
            tokens,
            readers,
            shards: (0..SHARDS).map(|_| ShardModel::default()).collect(),
            put_record_records: 0,
            put_record_bytes: 0,
            put_records_calls: 0,
            put_records_records: 0,
            put_records_bytes: 0,
            _dir: dir,
        }
    }

    fn now_ms(&self) -> u64 {
        use shardlog::Clock;
        self.clock.now_ms()
    }

    fn apply(&mut self, op: &Op) {
        let now_ms = self.now_ms();
        match op {
            Op::PutRecord { key, size } => {
                let key = &self.keys[usize::from(*key)];
                let data = vec![1u8; *size];
                let output = self
                    .stream
                    .put_record(PutRecordInput::new(key, &data))
                    .unwrap();
                let bytes = (key.len() + size) as u64;
                self.shards[output.shard_id.index() as usize]
                    .stored
                    .push((bytes, now_ms));
                self.put_record_records += 1;
                self.put_record_bytes += bytes;
            }
            Op::PutRecords(records) => {
                let data: Vec<Vec<u8>> = records.iter().map(|(_, size)| vec![2u8; *size]).collect();
                let entries: Vec<PutRecordInput<'_>> = records
                    .iter()
                    .zip(&data)
                    .map(|((key, _), data)| {
                        PutRecordInput::new(&self.keys[usize::from(*key)], data)
                    })
                    .collect();
                let output = self.stream.put_records(&entries).unwrap();
                assert_eq!(output.failed_record_count, 0);
                for (entry, result) in entries.iter().zip(&output.records) {
                    let PutRecordsResult::Success(stored) = result else {
                        panic!("{result:?}");
                    };
                    let bytes = (entry.record.partition_key.len() + entry.record.data.len()) as u64;
                    self.shards[stored.shard_id.index() as usize]
                        .stored
                        .push((bytes, now_ms));
                    self.put_records_records += 1;
                    self.put_records_bytes += bytes;
                }
                self.put_records_calls += 1;
            }
            Op::GetRecords { shard, limit } => {
                let index = *shard as usize;
                let output = self
                    .engine
                    .get_records(&self.tokens[index], *limit)
                    .unwrap();
                self.tokens[index] = output.next_shard_iterator.unwrap();
                let model = &mut self.shards[index];
                let position = model.token_position;
                model.token_position = model.read(position, *limit, now_ms);
                assert_eq!(output.batch.records.len(), model.token_position - position);
            }
            Op::ReadTyped { shard, limit } => {
                let index = *shard as usize;
                let batch = self.readers[index].next_batch(*limit).unwrap();
                let model = &mut self.shards[index];
                let position = model.typed_position;
                model.typed_position = model.read(position, *limit, now_ms);
                assert_eq!(batch.records.len(), model.typed_position - position);
            }
            Op::AdvanceMs(ms) => self.clock.advance_ms(*ms),
        }
    }

    fn check(&self) {
        let snapshot = self.stream.metrics();
        assert_eq!(snapshot.taken_ms, self.now_ms());
        assert_eq!(snapshot.stream_name.as_str(), "metered");
        assert_eq!(snapshot.shards.len(), SHARDS as usize);
        let mut expected = BTreeMap::new();
        for (index, model) in self.shards.iter().enumerate() {
            let id = ShardId::new(index as u32);
            let shard = snapshot.shard(id).unwrap();
            let stored_bytes: u64 = model.stored.iter().map(|(bytes, _)| bytes).sum();
            assert_eq!(
                shard.get(ShardMetric::IncomingRecords),
                model.stored.len() as u64
            );
            assert_eq!(shard.get(ShardMetric::IncomingBytes), stored_bytes);
            assert_eq!(
                shard.get(ShardMetric::OutgoingRecords),
                model.outgoing_records
            );
            assert_eq!(shard.get(ShardMetric::OutgoingBytes), model.outgoing_bytes);
            assert_eq!(
                shard.get(ShardMetric::IteratorAgeMilliseconds),
                model.iterator_age_ms
            );
            assert_eq!(
                shard.get(ShardMetric::IteratorAgeMillisecondsMax),
                model.iterator_age_ms_max
            );
            assert_eq!(
                shard.get(ShardMetric::WriteProvisionedThroughputExceeded),
                0
            );
            assert_eq!(shard.get(ShardMetric::ReadProvisionedThroughputExceeded), 0);
            // The shard's own view is the same counters.
            assert_eq!(&self.stream.shard(id).unwrap().metrics(), shard);
            *expected.entry("reads").or_insert(0) += model.reads;
            *expected.entry("outgoing_records").or_insert(0) += model.outgoing_records;
            *expected.entry("outgoing_bytes").or_insert(0) += model.outgoing_bytes;
            let age = expected.entry("age").or_insert(0);
            *age = (*age).max(model.iterator_age_ms);
            let age_max = expected.entry("age_max").or_insert(0);
            *age_max = (*age_max).max(model.iterator_age_ms_max);
        }
        let stream = snapshot.stream;
        let value = |metric| stream.get(metric);
        assert_eq!(
            value(StreamMetric::IncomingRecords),
            self.put_record_records + self.put_records_records
        );
        assert_eq!(
            value(StreamMetric::IncomingBytes),
            self.put_record_bytes + self.put_records_bytes
        );
        assert_eq!(
            value(StreamMetric::PutRecordSuccess),
            self.put_record_records
        );
        assert_eq!(value(StreamMetric::PutRecordBytes), self.put_record_bytes);
        assert_eq!(
            value(StreamMetric::PutRecordsSuccess),
            self.put_records_calls
        );
        assert_eq!(value(StreamMetric::PutRecordsBytes), self.put_records_bytes);
        assert_eq!(
            value(StreamMetric::PutRecordsTotalRecords),
            self.put_records_records
        );
        assert_eq!(
            value(StreamMetric::PutRecordsSuccessfulRecords),
            self.put_records_records
        );
        assert_eq!(value(StreamMetric::PutRecordsFailedRecords), 0);
        assert_eq!(value(StreamMetric::PutRecordsThrottledRecords), 0);
        assert_eq!(value(StreamMetric::GetRecordsSuccess), expected["reads"]);
        assert_eq!(
            value(StreamMetric::GetRecordsLatencyCount),
            expected["reads"]
        );
        assert_eq!(
            value(StreamMetric::GetRecordsRecords),
            expected["outgoing_records"]
        );
        assert_eq!(
            value(StreamMetric::GetRecordsBytes),
            expected["outgoing_bytes"]
        );
        assert_eq!(
            value(StreamMetric::GetRecordsIteratorAgeMilliseconds),
            expected["age"]
        );
        assert_eq!(
            value(StreamMetric::GetRecordsIteratorAgeMillisecondsMax),
            expected["age_max"]
        );
        assert!(
            value(StreamMetric::GetRecordsLatencyMax) <= value(StreamMetric::GetRecordsLatencySum)
        );
        assert_eq!(value(StreamMetric::WriteProvisionedThroughputExceeded), 0);
        assert_eq!(value(StreamMetric::ReadProvisionedThroughputExceeded), 0);
    }
}

fn config() -> Config {
    Config {
        cases: 32,
        max_shrink_iters: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn metrics_count_every_record_put_and_read(ops in proptest::collection::vec(op(), 1..60)) {
        let mut harness = Harness::new();
        for op in &ops {
            harness.apply(op);
        }
        harness.check();
    }
}

#[test]
fn iterator_age_is_the_lag_of_the_last_record_returned_and_zero_once_caught_up() {
    let harness = Harness::new();
    let stream = Arc::clone(&harness.stream);
    // Three records to one shard at START, START + 1 s, START + 2 s; then 10 s pass.
    let mut shard = None;
    for i in 0..3u64 {
        harness.clock.set_ms(START_MS + i * 1000);
        shard = Some(
            stream
                .put_record(PutRecordInput::new("a", b"r"))
                .unwrap()
                .shard_id,
        );
    }
    let shard = shard.unwrap();
    harness.clock.set_ms(START_MS + 10_000);
    let index = shard.index() as usize;
    let age = |harness: &Harness| {
        let snapshot = harness.stream.metrics();
        let shard = *snapshot.shard(shard).unwrap();
        (
            shard.iterator_age_ms,
            shard.iterator_age_ms_max,
            snapshot.stream.get_records_iterator_age_ms,
        )
    };

    let output = harness
        .engine
        .get_records(&harness.tokens[index], 1)
        .unwrap();
    assert_eq!(age(&harness), (10_000, 10_000, 10_000));
    harness.clock.advance_ms(500);
    let output = harness
        .engine
        .get_records(output.next_shard_iterator.as_ref().unwrap(), 1)
        .unwrap();
    assert_eq!(age(&harness), (9_500, 10_000, 9_500));
    harness
        .engine
        .get_records(output.next_shard_iterator.as_ref().unwrap(), 10)
        .unwrap();
    // Caught up: the latest age is 0, the maximum remembers the worst.
    assert_eq!(age(&harness), (0, 10_000, 0));
    assert_eq!(
        harness
            .stream
            .metrics()
            .stream
            .get_records_iterator_age_ms_max,
        10_000
    );
}

#[test]
fn two_snapshots_give_rates_over_the_window_between_them() {
    let harness = Harness::new();
    let stream = &harness.stream;
    let data = [0u8; 95]; // with the 5-byte key "key-0": 100 bytes a record
    for _ in 0..10 {
        stream
            .put_record(PutRecordInput::new("key-0", &data))
            .unwrap();
    }
    let earlier = stream.metrics();
    let shard = stream
        .put_record(PutRecordInput::new("key-0", &data))
        .unwrap()
        .shard_id;
    let entries = vec![PutRecordInput::new("key-0", &data); 39];
    stream.put_records(&entries).unwrap();
    harness.clock.advance_ms(4000);
    let later = stream.metrics();

    let rates = rate_per_second(&earlier, &later).unwrap();
    assert_eq!(rates.window_ms, 4000);
    assert_eq!(rates.stream(StreamMetric::IncomingRecords), Some(10.0));
    assert_eq!(rates.stream(StreamMetric::IncomingBytes), Some(1000.0));
    assert_eq!(rates.stream(StreamMetric::PutRecordsSuccess), Some(0.25));
    assert_eq!(rates.shard(shard, ShardMetric::IncomingBytes), Some(1000.0));
    let other = ShardId::new((shard.index() + 1) % SHARDS);
    assert_eq!(rates.shard(other, ShardMetric::IncomingBytes), Some(0.0));
    assert_eq!(
        rates.stream(StreamMetric::GetRecordsIteratorAgeMilliseconds),
        None
    );
    // No time between them, no rate.
    assert!(rate_per_second(&later, &stream.metrics()).is_none());
}
