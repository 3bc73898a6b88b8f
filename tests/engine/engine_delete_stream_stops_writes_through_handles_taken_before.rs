//! After DeleteStream returns, the stream is gone (docs/KINESIS.md §6.3; `Engine::delete_stream`: "the
//! stream's files are gone when this returns"). A `Stream` handle taken before the deletion must
//! not go on acknowledging writes that no one can ever read: PutRecord and PutRecords through it
//! fail with ResourceNotFoundException, new readers and iterators cannot be made, and its status
//! is no longer ACTIVE. A stream created again under the same name never sees those writes.

use crate::support::engine::{ACCOUNT, assert_error, clock, open, options, read_typed, shard_ids};
use shardlog::{CreateStream, PutRecordInput, StartingPosition, StreamStatus};

#[test]
fn a_handle_taken_before_deletion_no_longer_accepts_writes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let handle = engine
        .create_stream(CreateStream::provisioned("ephemeral", 2))
        .unwrap();
    let before = handle
        .put_record(PutRecordInput::new("a", b"before"))
        .unwrap();
    // A reader made before the deletion keeps what it can read (the log stays mapped).
    let mut reader = handle
        .reader(before.shard_id, StartingPosition::TrimHorizon)
        .unwrap();

    engine.delete_stream("ephemeral").unwrap();
    assert_eq!(reader.next_batch(10).unwrap().records[0].data(), b"before");

    let not_found = format!("Stream ephemeral under account {ACCOUNT} not found.");
    assert_ne!(
        handle.status(),
        StreamStatus::Active,
        "a deleted stream is not ACTIVE"
    );
    assert_error(
        handle.put_record(PutRecordInput::new("a", b"after")),
        "ResourceNotFoundException",
        &not_found,
    );
    assert_error(
        handle.put_records(&[PutRecordInput::new("b", b"after")]),
        "ResourceNotFoundException",
        &not_found,
    );
    assert_error(
        handle.shard_iterator(before.shard_id, StartingPosition::TrimHorizon),
        "ResourceNotFoundException",
        &not_found,
    );

    // A new stream of the same name is empty and stays unaffected by the old handle.
    let fresh = engine
        .create_stream(CreateStream::provisioned("ephemeral", 2))
        .unwrap();
    let _ = handle.put_record(PutRecordInput::new("a", b"stray"));
    for shard in shard_ids(&fresh) {
        assert!(read_typed(&fresh, shard, StartingPosition::TrimHorizon, 10).is_empty());
    }
}
