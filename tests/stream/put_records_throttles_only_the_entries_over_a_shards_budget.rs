//! PutRecords under per-shard write limits (docs/KINESIS.md §5.2): entries over their shard's budget
//! fail alone with `ProvisionedThroughputExceededException` and Kinesis' message, the other
//! entries (earlier, later, or on another shard) are stored, and the metrics count each outcome.

use crate::support::engine::{ACCOUNT, clock, open, read_typed, throttling_options};
use shardlog::stream::{PutRecordsFailure, StreamMetric};
use shardlog::{CreateStream, PutRecordInput, PutRecordsResult, ShardId, StartingPosition};

/// Hash keys routed to shard 0 and shard 1 of a two-shard stream (split at 2^127).
const SHARD_0_KEY: u128 = 1;
const SHARD_1_KEY: u128 = u128::MAX;

#[test]
fn entries_over_budget_fail_alone_and_the_rest_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("batches", 2))
        .unwrap();
    let keys: Vec<String> = (0..500).map(|i| format!("k{i:03}")).collect();
    let entry = |i: usize, hash_key: u128| {
        PutRecordInput::new(&keys[i], b"payload").with_explicit_hash_key(hash_key)
    };

    // 900 records into shard 0: within its 1 000 records/s.
    for batch in [500, 400] {
        let entries: Vec<_> = (0..batch).map(|i| entry(i, SHARD_0_KEY)).collect();
        assert_eq!(stream.put_records(&entries).unwrap().failed_record_count, 0);
    }

    // 300 entries alternating between shard 0 (100 tokens left) and shard 1 (a full budget).
    let entries: Vec<_> = (0..300)
        .map(|i| entry(i, if i % 2 == 0 { SHARD_0_KEY } else { SHARD_1_KEY }))
        .collect();
    let output = stream.put_records(&entries).unwrap();
    assert_eq!(output.records.len(), 300);
    assert_eq!(output.failed_record_count, 50);
    let message = format!(
        "Rate exceeded for shard shardId-000000000000 in stream batches under account {ACCOUNT}."
    );
    for (i, result) in output.records.iter().enumerate() {
        let shard_0_position = (i % 2 == 0).then_some(i / 2);
        match (shard_0_position, result) {
            // The first 100 shard-0 entries use up its budget; the next 50 are refused.
            (
                Some(n),
                PutRecordsResult::Failure(failure @ PutRecordsFailure::Throttled(throttled)),
            ) if n >= 100 => {
                assert_eq!(throttled.shard, ShardId::new(0));
                assert_eq!(
                    failure.error_code(),
                    "ProvisionedThroughputExceededException"
                );
                assert_eq!(failure.to_string(), message);
            }
            (Some(n), PutRecordsResult::Success(output)) if n < 100 => {
                assert_eq!(output.shard_id, ShardId::new(0));
            }
            (None, PutRecordsResult::Success(output)) => {
                assert_eq!(output.shard_id, ShardId::new(1));
            }
            (_, other) => panic!("entry {i}: unexpected {other:?}"),
        }
    }

    // Stored: exactly the admitted entries, in request order within the shard.
    let shard_0 = read_typed(
        &stream,
        ShardId::new(0),
        StartingPosition::TrimHorizon,
        10_000,
    );
    assert_eq!(shard_0.len(), 1000);
    let tail: Vec<&str> = shard_0[900..].iter().map(|r| r.partition_key()).collect();
    let expected: Vec<&str> = (0..100).map(|n| keys[2 * n].as_str()).collect();
    assert_eq!(tail, expected);
    let shard_1 = read_typed(
        &stream,
        ShardId::new(1),
        StartingPosition::TrimHorizon,
        10_000,
    );
    assert_eq!(shard_1.len(), 150);

    // A second later shard 0 takes records again.
    clock.advance_ms(1000);
    let output = stream.put_records(&[entry(0, SHARD_0_KEY)]).unwrap();
    assert_eq!(output.failed_record_count, 0);

    let metrics = stream.metrics();
    let values = metrics.stream;
    assert_eq!(values.get(StreamMetric::PutRecordsSuccess), 4);
    assert_eq!(values.get(StreamMetric::PutRecordsTotalRecords), 1201);
    assert_eq!(values.get(StreamMetric::PutRecordsSuccessfulRecords), 1151);
    assert_eq!(values.get(StreamMetric::PutRecordsFailedRecords), 0);
    assert_eq!(values.get(StreamMetric::PutRecordsThrottledRecords), 50);
    assert_eq!(
        values.get(StreamMetric::WriteProvisionedThroughputExceeded),
        50
    );
    assert_eq!(values.get(StreamMetric::IncomingRecords), 1151);
    let record_bytes = 4 + 7; // "kNNN" and "payload"
    assert_eq!(
        values.get(StreamMetric::PutRecordsBytes),
        1151 * record_bytes
    );
    assert_eq!(values.get(StreamMetric::PutRecordSuccess), 0);
    let shard_0_metrics = metrics.shard(ShardId::new(0)).unwrap();
    assert_eq!(shard_0_metrics.incoming_records, 1001);
    assert_eq!(shard_0_metrics.write_provisioned_throughput_exceeded, 50);
    let shard_1_metrics = metrics.shard(ShardId::new(1)).unwrap();
    assert_eq!(shard_1_metrics.write_provisioned_throughput_exceeded, 0);
    assert_eq!(shard_1_metrics.incoming_bytes, 150 * record_bytes);
}

#[test]
fn a_call_whose_every_entry_is_refused_is_not_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("refused", 1))
        .unwrap();
    // Half a MiB with the one-byte key: two fill the shard's second, the third is refused.
    let data = vec![0u8; 512 * 1024 - 1];
    let entries = vec![PutRecordInput::new("k", &data); 3];
    assert_eq!(stream.put_records(&entries).unwrap().failed_record_count, 1);
    assert_eq!(stream.put_records(&entries).unwrap().failed_record_count, 3);
    let values = stream.metrics().stream;
    assert_eq!(values.put_records_success, 1);
    assert_eq!(values.put_records_total_records, 6);
    assert_eq!(values.put_records_throttled_records, 4);
    assert_eq!(values.incoming_records, 2);
}
