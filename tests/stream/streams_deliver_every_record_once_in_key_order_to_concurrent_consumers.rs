//! One engine and stream shared by threads: four producers write concurrently (mixing PutRecord
//! and PutRecords batches) while two consumers each read every shard with typed readers, waiting
//! on `wait_for_records` when caught up. Each consumer must see every acknowledged record exactly
//! once, on the shard its key routes to, with the records of each partition key in the order the
//! producer wrote them, and sequence numbers strictly increasing within each shard.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crate::support::engine::{owner_of, payload};
use shardlog::stream::hash_key_of;
use shardlog::{
    CreateStream, Engine, EngineOptions, PutRecordInput, PutRecordsResult, Record, SequenceNumber,
    ShardId, StartingPosition,
};

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 2;
const KEYS_PER_PRODUCER: u64 = 6;
const RECORDS_PER_PRODUCER: u64 = 600;

/// Data of the `n`-th record of `key` by `producer`: an 24-byte header (producer, key, n), then
/// a deterministic tail of varying length.
fn data(producer: u64, key: u64, n: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&producer.to_le_bytes());
    bytes.extend_from_slice(&key.to_le_bytes());
    bytes.extend_from_slice(&n.to_le_bytes());
    bytes.extend(payload(producer << 32 | key << 16 | n, (n % 97) as usize));
    bytes
}

fn header(record: &Record) -> (u64, u64, u64) {
    let field = |at: usize| u64::from_le_bytes(record.data()[at..at + 8].try_into().unwrap());
    (field(0), field(8), field(16))
}

fn key_name(producer: u64, key: u64) -> String {
    format!("producer-{producer}/key-{key}/ü")
}

/// Writes this producer's records; returns the acknowledged sequence number of each
/// (producer, key, n).
fn produce(engine: &Engine, producer: u64) -> Vec<((u64, u64, u64), SequenceNumber)> {
    let stream = engine.stream("shared").unwrap();
    let mut next_n = vec![0u64; KEYS_PER_PRODUCER as usize];
    let mut acknowledged = Vec::new();
    let mut written = 0u64;
    let mut step = producer;
    while written < RECORDS_PER_PRODUCER {
        step = step
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let batch = (1 + (step >> 33) % 20).min(RECORDS_PER_PRODUCER - written);
        let planned: Vec<(u64, u64, String, Vec<u8>)> = (0..batch)
            .map(|i| {
                let key = (step >> 13).wrapping_add(i * 7) % KEYS_PER_PRODUCER;
                let n = next_n[key as usize];
                next_n[key as usize] += 1;
                (key, n, key_name(producer, key), data(producer, key, n))
            })
            .collect();
        if batch == 1 || (step >> 40).is_multiple_of(3) {
            for (key, n, name, bytes) in &planned {
                let put = stream.put_record(PutRecordInput::new(name, bytes)).unwrap();
                acknowledged.push(((producer, *key, *n), put.sequence_number));
            }
        } else {
            let inputs: Vec<PutRecordInput<'_>> = planned
                .iter()
                .map(|(_, _, name, bytes)| PutRecordInput::new(name, bytes))
                .collect();
            let output = stream.put_records(&inputs).unwrap();
            assert_eq!(output.failed_record_count, 0);
            for ((key, n, _, _), result) in planned.iter().zip(output.records) {
                let PutRecordsResult::Success(put) = result else {
                    panic!("entry failed: {result:?}");
                };
                acknowledged.push(((producer, *key, *n), put.sequence_number));
            }
        }
        written += batch;
    }
    acknowledged
}

/// Reads every shard until the producers are done and a full pass finds nothing new; returns
/// the records of each shard in the order read.
fn consume(engine: &Engine, done: &AtomicBool) -> Vec<Vec<Record>> {
    let stream = engine.stream("shared").unwrap();
    let shard_count = stream.meta().shards.len();
    let mut readers: Vec<_> = (0..shard_count as u32)
        .map(|index| {
            stream
                .reader(ShardId::new(index), StartingPosition::TrimHorizon)
                .unwrap()
        })
        .collect();
    let mut records: Vec<Vec<Record>> = vec![Vec::new(); shard_count];
    let mut turn = 0usize;
    loop {
        // Read `done` before the pass: if it was set, every record was published before the pass.
        let finished = done.load(Ordering::SeqCst);
        let mut read = 0;
        for (shard, reader) in readers.iter_mut().enumerate() {
            let batch = reader.next_batch(50).unwrap();
            read += batch.records.len();
            records[shard].extend(batch.records);
        }
        if read == 0 {
            if finished {
                return records;
            }
            turn = (turn + 1) % shard_count;
            readers[turn].wait_for_records(Duration::from_millis(2));
        }
    }
}

#[test]
fn concurrent_consumers_see_every_record_once_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(
        Engine::open(
            dir.path(),
            EngineOptions {
                segment_bytes: 1 << 20,
                ..EngineOptions::default()
            },
        )
        .unwrap(),
    );
    let stream = engine
        .create_stream(CreateStream::on_demand("shared"))
        .unwrap();
    let meta = stream.meta();
    let done = Arc::new(AtomicBool::new(false));

    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let done = Arc::clone(&done);
            thread::spawn(move || consume(&engine, &done))
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let engine = Arc::clone(&engine);
            thread::spawn(move || produce(&engine, producer))
        })
        .collect();
    let mut acknowledged: HashMap<(u64, u64, u64), SequenceNumber> = HashMap::new();
    for producer in producers {
        for (id, number) in producer.join().unwrap() {
            assert!(
                acknowledged.insert(id, number).is_none(),
                "{id:?} acknowledged twice"
            );
        }
    }
    done.store(true, Ordering::SeqCst);
    let total = (PRODUCERS * RECORDS_PER_PRODUCER) as usize;
    assert_eq!(acknowledged.len(), total);

    for consumer in consumers {
        let shards = consumer.join().unwrap();
        let mut per_key: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        let mut count = 0;
        for (index, records) in shards.iter().enumerate() {
            for pair in records.windows(2) {
                assert!(
                    pair[0].sequence_number() < pair[1].sequence_number(),
                    "shard {index}: sequence numbers increase"
                );
            }
            for record in records {
                let (producer, key, n) = header(record);
                assert_eq!(record.partition_key(), key_name(producer, key));
                assert_eq!(record.data(), data(producer, key, n));
                assert_eq!(
                    owner_of(&meta, hash_key_of(record.partition_key())).index as usize,
                    index,
                    "record on the shard its key routes to"
                );
                assert_eq!(
                    acknowledged.get(&(producer, key, n)),
                    Some(&record.sequence_number()),
                    "read with the acknowledged sequence number"
                );
                per_key.entry((producer, key)).or_default().push(n);
                count += 1;
            }
        }
        assert_eq!(count, total, "nothing lost, nothing duplicated");
        for ((producer, key), ns) in per_key {
            let expected: Vec<u64> = (0..ns.len() as u64).collect();
            assert_eq!(
                ns, expected,
                "producer {producer} key {key}: exactly once, in order"
            );
        }
    }
}
