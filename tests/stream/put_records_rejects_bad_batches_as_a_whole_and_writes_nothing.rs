//! PutRecords takes 1–500 entries of at most 10 MiB in total, partition keys included (reference
//! §5.1). A call outside those limits fails as a whole, before anything is written; a call at the
//! limits succeeds and reports one result per entry, in request order.

use std::sync::Arc;

use crate::support::engine::{clock, error_of, open, options, owner_of, read_typed, shard_ids};
use shardlog::stream::hash_key_of;
use shardlog::{CreateStream, PutRecordInput, PutRecordsResult, StartingPosition, Stream};

const MIB: usize = 1024 * 1024;

fn all_records(stream: &Arc<Stream>) -> Vec<shardlog::Record> {
    shard_ids(stream)
        .into_iter()
        .flat_map(|shard| read_typed(stream, shard, StartingPosition::TrimHorizon, 1000))
        .collect()
}

#[test]
fn zero_or_more_than_500_entries_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::on_demand("counts"))
        .unwrap();

    let message = error_of(stream.put_records(&[]), "ValidationException");
    assert!(
        message.starts_with("1 validation error detected: Value '"),
        "{message}"
    );
    assert!(
        message.ends_with(
            "' at 'records' failed to satisfy constraint: Member must have length greater than \
             or equal to 1"
        ),
        "{message}"
    );

    let keys: Vec<String> = (0..501).map(|i| format!("key-{i}")).collect();
    let entries: Vec<PutRecordInput<'_>> = keys
        .iter()
        .map(|key| PutRecordInput::new(key, key.as_bytes()))
        .collect();
    let message = error_of(stream.put_records(&entries), "ValidationException");
    assert!(
        message.ends_with(
            "' at 'records' failed to satisfy constraint: Member must have length less than or \
             equal to 500"
        ),
        "{message}"
    );
    assert!(
        all_records(&stream).is_empty(),
        "nothing of a rejected call is written"
    );

    // 500 is allowed: one result per entry, in request order, on the shard the key routes to.
    let meta = stream.meta();
    let output = stream.put_records(&entries[..500]).unwrap();
    assert_eq!(output.failed_record_count, 0);
    assert_eq!(output.records.len(), 500);
    for (key, result) in keys.iter().zip(&output.records) {
        let PutRecordsResult::Success(put) = result else {
            panic!("{key} failed: {result:?}");
        };
        assert_eq!(
            put.shard_id,
            owner_of(&meta, hash_key_of(key)).id(),
            "{key}"
        );
        let mut reader = stream
            .reader(
                put.shard_id,
                StartingPosition::AtSequenceNumber(put.sequence_number),
            )
            .unwrap();
        assert_eq!(
            reader.next_batch(1).unwrap().records[0].partition_key(),
            key
        );
    }
    assert_eq!(all_records(&stream).len(), 500);
}

#[test]
fn more_than_10_mib_in_one_call_is_rejected_and_10_mib_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("volume", 1))
        .unwrap();

    // Ten records of exactly 1 MiB each (2-byte key + data): 10 MiB in total.
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let blobs: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; MIB - 2]).collect();
    let mut entries: Vec<PutRecordInput<'_>> = keys
        .iter()
        .zip(&blobs)
        .map(|(key, data)| PutRecordInput::new(key, data))
        .collect();

    // One more byte (a one-byte key with empty data) makes the call too large.
    entries.push(PutRecordInput::new("z", b""));
    error_of(stream.put_records(&entries), "InvalidArgumentException");
    assert!(
        all_records(&stream).is_empty(),
        "nothing of a rejected call is written"
    );

    // Many small-ish records adding up to more than 10 MiB are rejected too.
    let chunk = vec![9u8; 100_000];
    let many: Vec<PutRecordInput<'_>> =
        (0..105).map(|_| PutRecordInput::new("m", &chunk)).collect();
    error_of(stream.put_records(&many), "InvalidArgumentException");
    assert!(all_records(&stream).is_empty());

    entries.pop();
    let output = stream.put_records(&entries).unwrap();
    assert_eq!(output.failed_record_count, 0);
    let records = all_records(&stream);
    assert_eq!(records.len(), 10);
    for ((record, key), data) in records.iter().zip(&keys).zip(&blobs) {
        assert_eq!(record.partition_key(), key);
        assert_eq!(record.data(), &data[..]);
    }
}
