//! Unit tests of the counters, snapshots and rates together.

use super::*;
use crate::stream::names::{ShardId, StreamName};

fn name() -> StreamName {
    StreamName::new("metrics").expect("valid name")
}

#[test]
fn stream_values_are_sums_and_maxima_over_shards() {
    let metrics = StreamMetrics::default();
    let (first, second) = (metrics.shard(0), metrics.shard(1));
    first.put_record(100);
    first.put_record(50);
    second.put_records(3, 30);
    second.write_throttled(2);
    metrics.put_records_call(3, 1, 2);
    first.read(2, 150, 40, 7);
    second.read(3, 30, 10, 9);
    second.read(0, 0, 0, 1);
    first.read_throttled();

    let snapshot = metrics.snapshot(name(), 5);
    let stream = snapshot.stream;
    assert_eq!((stream.incoming_bytes, stream.incoming_records), (180, 5));
    assert_eq!(
        (stream.put_record_success, stream.put_record_bytes),
        (2, 150)
    );
    assert_eq!(stream.put_records_success, 1);
    assert_eq!(stream.put_records_bytes, 30);
    assert_eq!(stream.put_records_successful_records, 3);
    assert_eq!(stream.put_records_failed_records, 1);
    assert_eq!(stream.put_records_throttled_records, 2);
    assert_eq!(stream.put_records_total_records, 6);
    assert_eq!(stream.write_provisioned_throughput_exceeded, 2);
    assert_eq!(stream.get_records_success, 3);
    assert_eq!(stream.get(StreamMetric::GetRecordsLatencyCount), 3);
    assert_eq!(
        (stream.get_records_records, stream.get_records_bytes),
        (5, 180)
    );
    assert_eq!(stream.get_records_latency_us_sum, 17);
    assert_eq!(stream.get_records_latency_us_max, 9);
    // The second shard's consumer caught up; the first is still 40 ms behind.
    assert_eq!(stream.get_records_iterator_age_ms, 40);
    assert_eq!(stream.get_records_iterator_age_ms_max, 40);
    assert_eq!(stream.read_provisioned_throughput_exceeded, 1);

    let second_snapshot = snapshot.shard(ShardId::new(1)).expect("shard 1");
    assert_eq!(second_snapshot.iterator_age_ms, 0);
    assert_eq!(second_snapshot.iterator_age_ms_max, 10);
    assert_eq!(second_snapshot.incoming_records, 3);
    assert_eq!(second_snapshot.write_provisioned_throughput_exceeded, 2);
    assert_eq!(second_snapshot.outgoing_bytes, 30);
    assert_eq!(
        snapshot
            .shards
            .iter()
            .map(|s| s.incoming_bytes)
            .sum::<u64>(),
        stream.incoming_bytes
    );
}

#[test]
fn a_shard_rebuilt_for_the_same_index_shares_its_counters() {
    let metrics = StreamMetrics::default();
    metrics.shard(4).put_record(10);
    metrics.shard(4).put_record(10);
    let snapshot = metrics.snapshot(name(), 0);
    assert_eq!(snapshot.shards.len(), 1);
    assert_eq!(snapshot.stream.incoming_bytes, 20);
}

#[test]
fn rates_are_differences_per_second() {
    let metrics = StreamMetrics::default();
    let shard = metrics.shard(0);
    shard.put_record(1000);
    let earlier = metrics.snapshot(name(), 10_000);
    for _ in 0..6 {
        shard.put_record(500);
    }
    shard.read(6, 3000, 0, 400);
    shard.read(0, 0, 0, 200);
    let new_shard = metrics.shard(1);
    new_shard.put_records(4, 40);
    let later = metrics.snapshot(name(), 12_000);

    let rates = rate_per_second(&earlier, &later).expect("a window");
    assert_eq!(rates.window_ms, 2000);
    assert_eq!(rates.stream(StreamMetric::IncomingBytes), Some(1520.0));
    assert_eq!(rates.stream(StreamMetric::IncomingRecords), Some(5.0));
    assert_eq!(rates.stream(StreamMetric::PutRecordSuccess), Some(3.0));
    assert_eq!(rates.stream(StreamMetric::GetRecordsSuccess), Some(1.0));
    assert_eq!(rates.get_records_latency_us_mean(), Some(300.0));
    assert_eq!(
        rates.stream(StreamMetric::GetRecordsIteratorAgeMilliseconds),
        None
    );
    assert_eq!(
        rates.shard(ShardId::new(0), ShardMetric::OutgoingBytes),
        Some(1500.0)
    );
    // A shard that appeared within the window counts from zero.
    assert_eq!(
        rates.shard(ShardId::new(1), ShardMetric::IncomingRecords),
        Some(2.0)
    );
    assert_eq!(
        rates.shard(ShardId::new(2), ShardMetric::IncomingRecords),
        None
    );
}

#[test]
fn rates_need_a_later_snapshot_of_the_same_stream_without_resets() {
    let metrics = StreamMetrics::default();
    metrics.shard(0).put_record(10);
    let earlier = metrics.snapshot(name(), 1000);
    assert!(rate_per_second(&earlier, &earlier).is_none());
    let later = metrics.snapshot(name(), 2000);
    assert!(rate_per_second(&later, &earlier).is_none());
    let other = StreamMetrics::default().snapshot(StreamName::new("other").expect("name"), 2000);
    assert!(rate_per_second(&earlier, &other).is_none());
    // A reopened stream starts from zero: its counters went backwards.
    let reopened = StreamMetrics::default().snapshot(name(), 3000);
    assert!(rate_per_second(&earlier, &reopened).is_none());
    assert!(rate_per_second(&earlier, &later).is_some());
}

#[test]
fn every_metric_has_its_kinesis_name_and_a_distinct_identity() {
    let names: Vec<(&str, Statistic)> = StreamMetric::ALL
        .iter()
        .map(|metric| (metric.name(), metric.statistic()))
        .collect();
    for (position, entry) in names.iter().enumerate() {
        assert!(
            !names.iter().take(position).any(|seen| seen == entry),
            "{entry:?} twice"
        );
    }
    for expected in [
        "IncomingBytes",
        "IncomingRecords",
        "PutRecord.Success",
        "PutRecord.Bytes",
        "PutRecords.Success",
        "PutRecords.Bytes",
        "PutRecords.TotalRecords",
        "PutRecords.SuccessfulRecords",
        "PutRecords.FailedRecords",
        "PutRecords.ThrottledRecords",
        "GetRecords.Bytes",
        "GetRecords.Records",
        "GetRecords.Success",
        "GetRecords.IteratorAgeMilliseconds",
        "GetRecords.Latency",
        "WriteProvisionedThroughputExceeded",
        "ReadProvisionedThroughputExceeded",
    ] {
        assert!(
            names.iter().any(|(name, _)| *name == expected),
            "{expected}"
        );
    }
    let shard_names: Vec<&str> = ShardMetric::ALL.iter().map(|m| m.name()).collect();
    for expected in [
        "IncomingBytes",
        "IncomingRecords",
        "OutgoingBytes",
        "OutgoingRecords",
        "WriteProvisionedThroughputExceeded",
        "ReadProvisionedThroughputExceeded",
        "IteratorAgeMilliseconds",
    ] {
        assert!(shard_names.contains(&expected), "{expected}");
    }
}
