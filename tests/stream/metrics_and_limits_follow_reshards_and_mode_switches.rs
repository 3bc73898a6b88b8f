//! Metrics and throughput limits across the lead's control-plane changes: a split keeps the
//! parent's counts in the stream totals (counters never go backwards, so rates stay valid), the
//! children are counted and limited on their own budgets, and switching a stream to ON_DEMAND lifts
//! the per-shard limits while switching back restores them.

use crate::support::engine::{clock, open, throttling_options};
use shardlog::stream::{ShardMetric, StreamMetric, rate_per_second};
use shardlog::{CreateStream, PutRecordInput, ShardId, StreamMode};

const HALF: u128 = 1 << 127;

/// Puts `count` records routed by `hash_key`; returns how many were accepted.
fn put(stream: &shardlog::Stream, hash_key: u128, count: usize) -> usize {
    (0..count)
        .filter(|_| {
            let input = PutRecordInput::new("k", b"123456789").with_explicit_hash_key(hash_key);
            stream.put_record(input).is_ok()
        })
        .count()
}

#[test]
fn a_split_keeps_the_parents_counts_and_gives_each_child_its_own_budget() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("split-metrics", 1))
        .unwrap();

    // The parent's second is spent.
    assert_eq!(put(&stream, 1, 1200), 1000);
    let before_split = stream.metrics();
    stream
        .split_shard("shardId-000000000000", &HALF.to_string())
        .unwrap();

    // Each child has a full budget of its own at the same instant.
    assert_eq!(put(&stream, 1, 1100), 1000);
    assert_eq!(put(&stream, u128::MAX, 1100), 1000);
    clock.advance_ms(1000);
    let after_split = stream.metrics();

    let parent = after_split.shard(ShardId::new(0)).unwrap();
    assert_eq!(parent.incoming_records, 1000);
    assert_eq!(parent.write_provisioned_throughput_exceeded, 200);
    for child in [ShardId::new(1), ShardId::new(2)] {
        let child = after_split.shard(child).unwrap();
        assert_eq!(child.get(ShardMetric::IncomingRecords), 1000);
        assert_eq!(
            child.get(ShardMetric::WriteProvisionedThroughputExceeded),
            100
        );
    }
    let values = after_split.stream;
    assert_eq!(values.get(StreamMetric::IncomingRecords), 3000);
    assert_eq!(values.get(StreamMetric::IncomingBytes), 3000 * 10);
    assert_eq!(
        values.get(StreamMetric::WriteProvisionedThroughputExceeded),
        400
    );
    let rates = rate_per_second(&before_split, &after_split).unwrap();
    assert_eq!(rates.stream(StreamMetric::IncomingRecords), Some(2000.0));
    assert_eq!(
        rates.shard(ShardId::new(0), ShardMetric::IncomingRecords),
        Some(0.0)
    );
    assert_eq!(
        rates.shard(ShardId::new(2), ShardMetric::IncomingRecords),
        Some(1000.0)
    );
}

#[test]
fn on_demand_lifts_the_limits_and_provisioned_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("switching", 1))
        .unwrap();
    assert_eq!(put(&stream, 1, 1100), 1000);

    engine
        .update_stream_mode("switching", StreamMode::OnDemand)
        .unwrap();
    assert_eq!(put(&stream, 1, 1500), 1500);

    engine
        .update_stream_mode("switching", StreamMode::Provisioned)
        .unwrap();
    clock.advance_ms(1000);
    assert_eq!(put(&stream, 1, 1100), 1000);
    let shard = stream.shard(ShardId::new(0)).unwrap().metrics();
    assert_eq!(shard.incoming_records, 3500);
    assert_eq!(shard.write_provisioned_throughput_exceeded, 200);
}
