//! Reshards while writer threads put records without pause: every acknowledged record lands in
//! exactly one shard, a consumer reading all along and draining parents before children reads
//! each once, and every
//! writer's records (one partition key per writer) come back in the order they were acknowledged.
//! This is the race the seal-then-route-again protocol exists for.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crate::support::engine::{LineageConsumer, clock, list_all_shards, open, options};
use shardlog::stream::ShardFilter;
use shardlog::{CreateStream, PutRecordInput, SequenceNumber, ShardId, Stream};

const WRITERS: usize = 4;

#[test]
fn reshards_under_concurrent_writers_lose_and_reorder_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    // 36 UpdateShardCount calls while the clock stands still.
    options.limits.shard_count_updates_per_day = None;
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("busy", 2))
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let stream = Arc::clone(&stream);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let key = format!("writer-{writer}");
                let mut acknowledged = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) || i < 200 {
                    let output = stream
                        .put_record(PutRecordInput::new(&key, &i.to_be_bytes()))
                        .unwrap_or_else(|error| panic!("put {i} of {key} failed: {error}"));
                    acknowledged.push(output.sequence_number);
                    i += 1;
                }
                (key, acknowledged)
            })
        })
        .collect();

    // A consumer reads while they write, draining parents before children.
    let consumer = {
        let stream = Arc::clone(&stream);
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            let mut consumer = LineageConsumer::default();
            while !stop.load(Ordering::Relaxed) {
                consumer.read(&stream, 1000);
            }
            consumer
        })
    };

    // Reshard repeatedly while they write and read: up and down, plus single splits.
    for round in 0..6 {
        for target in [4, 3, 6, 3, 2] {
            stream.update_shard_count(target).unwrap();
        }
        let at = (1u128 << 120) + round;
        stream
            .split_shard(&first_open(&stream).to_string(), &at.to_string())
            .unwrap();
        stream.update_shard_count(2).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let put: BTreeMap<String, Vec<SequenceNumber>> = writers
        .into_iter()
        .map(|writer| writer.join().unwrap())
        .collect();
    let mut consumer = consumer.join().unwrap();
    consumer.read(&stream, 1000); // what was written after its last pass
    let mut read: BTreeMap<String, Vec<SequenceNumber>> = BTreeMap::new();
    for (key, number) in consumer.seen {
        read.entry(key).or_default().push(number);
    }
    let total: usize = put.values().map(Vec::len).sum();
    assert!(total >= WRITERS * 200);
    assert_eq!(
        read, put,
        "every acknowledged record once, each writer's in order"
    );
}

fn first_open(stream: &Stream) -> ShardId {
    list_all_shards(stream, Some(ShardFilter::AtLatest))[0].shard_id
}
