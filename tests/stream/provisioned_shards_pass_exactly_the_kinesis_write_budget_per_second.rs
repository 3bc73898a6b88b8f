//! Per-shard write limits (docs/KINESIS.md §5.1) with a manual clock: a PROVISIONED shard takes exactly
//! 1 000 records and 1 MiB per second through PutRecord, refuses the rest with Kinesis' exception
//! and message, refills as time passes, and counts every refusal.

use crate::support::engine::{ACCOUNT, assert_error, clock, open, throttling_options};
use shardlog::{CreateStream, PutRecordInput, ShardId, Stream};

/// Puts `count` records of `data`, returning how many were accepted; every refusal must be the
/// throttling error.
fn put_many(stream: &Stream, count: usize, data: &[u8]) -> usize {
    let mut accepted = 0;
    for _ in 0..count {
        match stream.put_record(PutRecordInput::new("k", data)) {
            Ok(_) => accepted += 1,
            Err(error) => assert_eq!(
                error.kinesis_error_code(),
                "ProvisionedThroughputExceededException",
                "{error}"
            ),
        }
    }
    accepted
}

#[test]
fn a_shard_takes_1000_records_per_second_and_refuses_the_1001st() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &throttling_options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("records", 1))
        .unwrap();

    assert_eq!(put_many(&stream, 1000, b"x"), 1000);
    assert_error(
        stream.put_record(PutRecordInput::new("k", b"x")),
        "ProvisionedThroughputExceededException",
        &format!(
            "Rate exceeded for shard shardId-000000000000 in stream records under account {ACCOUNT}."
        ),
    );
    // The bucket refills continuously: a second later exactly 1 000 again, half a second later 500.
    clock.advance_ms(1000);
    assert_eq!(put_many(&stream, 1200, b"x"), 1000);
    clock.advance_ms(500);
    assert_eq!(put_many(&stream, 700, b"x"), 500);
    // Idle for a minute still allows only one second's burst.
    clock.advance_ms(60_000);
    assert_eq!(put_many(&stream, 1500, b"x"), 1000);

    let shard = stream.shard(ShardId::new(0)).unwrap().metrics();
    assert_eq!(shard.incoming_records, 3500);
    assert_eq!(shard.incoming_bytes, 3500 * 2);
    assert_eq!(
        shard.write_provisioned_throughput_exceeded,
        1 + 200 + 200 + 500
    );
    let metrics = stream.metrics().stream;
    assert_eq!(metrics.write_provisioned_throughput_exceeded, 901);
    assert_eq!(metrics.put_record_success, 3500);
}

#[test]
fn a_shard_takes_1_mib_per_second_counting_partition_keys() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &throttling_options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("bytes", 1))
        .unwrap();
    // 64 KiB per record with its one-byte key: 16 fit in 1 MiB.
    let data = vec![7u8; 64 * 1024 - 1];
    assert_eq!(put_many(&stream, 20, &data), 16);
    clock.advance_ms(1000);
    assert_eq!(put_many(&stream, 20, &data), 16);
    // One byte more per record and the 16th no longer fits.
    clock.advance_ms(1000);
    let larger = vec![7u8; 64 * 1024];
    assert_eq!(put_many(&stream, 20, &larger), 15);
    // 15 × 65 537 bytes left 65 521 unspent, 16 short of a record; 1 MiB/s refills 1 048.576
    // bytes per ms, so one millisecond later exactly one more fits.
    clock.advance_ms(1);
    assert_eq!(put_many(&stream, 2, &larger), 1);

    let shard = stream.shard(ShardId::new(0)).unwrap().metrics();
    assert_eq!(shard.incoming_records, 48);
    assert_eq!(shard.incoming_bytes, 32 * 64 * 1024 + 16 * (64 * 1024 + 1));
    assert_eq!(shard.write_provisioned_throughput_exceeded, 4 + 4 + 5 + 1);
}
