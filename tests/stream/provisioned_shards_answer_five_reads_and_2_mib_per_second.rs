//! Per-shard read limits (docs/KINESIS.md §4.2) with a manual clock: a PROVISIONED shard answers five
//! GetRecords calls per second and 2 MiB per second; a call is charged for its bytes after it
//! returns, so the call that overdraws the budget succeeds and the following ones are refused
//! until time repays it. The typed reader shares the budget.

use crate::support::engine::{ACCOUNT, assert_error, clock, open, throttling_options};
use shardlog::{CreateStream, PutRecordInput, ShardId, StartingPosition};

const HALF_MIB: usize = 512 * 1024;

#[test]
fn five_calls_per_second_then_one_per_200_ms() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("calls", 1))
        .unwrap();
    stream.put_record(PutRecordInput::new("k", b"one")).unwrap();
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();

    for _ in 0..5 {
        assert_eq!(
            engine.get_records(&token, 10).unwrap().batch.records.len(),
            1
        );
    }
    let message = format!(
        "Rate exceeded for shard shardId-000000000000 in stream calls under account {ACCOUNT}."
    );
    assert_error(
        engine.get_records(&token, 10),
        "ProvisionedThroughputExceededException",
        &message,
    );
    clock.advance_ms(199);
    assert_error(
        engine.get_records(&token, 10),
        "ProvisionedThroughputExceededException",
        &message,
    );
    clock.advance_ms(1);
    engine.get_records(&token, 10).unwrap();
    // The typed reader polls the same shard, from the same budget.
    let mut reader = stream
        .reader(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    assert_error(
        reader.next_batch(10),
        "ProvisionedThroughputExceededException",
        &message,
    );
    clock.advance_ms(1000);
    for _ in 0..5 {
        reader.next_batch(10).unwrap();
    }
    assert!(reader.next_batch(10).is_err());

    let metrics = stream.metrics();
    assert_eq!(metrics.stream.get_records_success, 11);
    assert_eq!(metrics.stream.read_provisioned_throughput_exceeded, 4);
    let shard = metrics.shard(ShardId::new(0)).unwrap();
    assert_eq!(shard.read_provisioned_throughput_exceeded, 4);
    // Records: 6 calls returned "one", then the typed reader read it once and then nothing.
    assert_eq!(shard.outgoing_records, 7);
    assert_eq!(shard.outgoing_bytes, 7 * 4);
}

#[test]
fn two_mib_per_second_charged_after_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("bytes", 1))
        .unwrap();
    // Six records of half a MiB (with the one-byte key), two per second of write budget.
    let data = vec![3u8; HALF_MIB - 1];
    for _ in 0..3 {
        for _ in 0..2 {
            stream.put_record(PutRecordInput::new("k", &data)).unwrap();
        }
        clock.advance_ms(1000);
    }
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    let message = format!(
        "Rate exceeded for shard shardId-000000000000 in stream bytes under account {ACCOUNT}."
    );

    // Four calls of half a MiB spend 2 MiB exactly; the fifth is refused though a call is left.
    let mut token = token;
    for _ in 0..4 {
        let output = engine.get_records(&token, 1).unwrap();
        assert_eq!(output.batch.records.len(), 1);
        token = output.next_shard_iterator.unwrap();
    }
    assert_error(
        engine.get_records(&token, 1),
        "ProvisionedThroughputExceededException",
        &message,
    );
    // 2 MiB/s refills 2 097.152 bytes per ms: one millisecond later a call may start, and it is
    // let through whatever it returns: two records, a MiB, which leaves the budget in debt.
    clock.advance_ms(1);
    let output = engine.get_records(&token, 10).unwrap();
    assert_eq!(output.batch.records.len(), 2);
    let token = output.next_shard_iterator.unwrap();
    // The debt, 1 MiB − 2 097.152 bytes, is repaid exactly after 499 ms: the budget is then 0,
    // still refused; one more millisecond and a call may start.
    clock.advance_ms(499);
    assert_error(
        engine.get_records(&token, 10),
        "ProvisionedThroughputExceededException",
        &message,
    );
    clock.advance_ms(1);
    assert!(
        engine
            .get_records(&token, 10)
            .unwrap()
            .batch
            .records
            .is_empty()
    );

    let metrics = stream.metrics();
    assert_eq!(metrics.stream.get_records_bytes, 6 * HALF_MIB as u64);
    assert_eq!(metrics.stream.get_records_records, 6);
    assert_eq!(metrics.stream.get_records_success, 6);
    assert_eq!(metrics.stream.read_provisioned_throughput_exceeded, 2);
}
