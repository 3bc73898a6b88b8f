//! A new stream is CREATING for `create_delay_ms`; until then PutRecord, PutRecords,
//! GetShardIterator and readers fail with `ResourceNotFoundException` "Stream <name> under account
//! <acct> not found." (docs/KINESIS.md §5.2), and nothing is written. The state survives a reopen, and
//! the stream becomes ACTIVE exactly when the delay has passed.

use crate::support::engine::{ACCOUNT, assert_error, clock, open, options, read_typed};
use shardlog::{
    CreateStream, EngineOptions, PutRecordInput, ShardId, StartingPosition, StreamStatus,
};

const DELAY_MS: u64 = 500;

#[test]
fn a_creating_stream_rejects_reads_and_writes_as_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = EngineOptions {
        create_delay_ms: DELAY_MS,
        ..options(&clock)
    };
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("slow", 2))
        .unwrap();
    let not_found = format!("Stream slow under account {ACCOUNT} not found.");
    let shard = ShardId::new(0);

    let check_creating = |stream: &std::sync::Arc<shardlog::Stream>| {
        assert_eq!(stream.status(), StreamStatus::Creating);
        assert_eq!(
            stream.describe(None, None).unwrap().status,
            StreamStatus::Creating
        );
        assert_error(
            stream.put_record(PutRecordInput::new("a", b"early")),
            "ResourceNotFoundException",
            &not_found,
        );
        assert_error(
            stream.put_records(&[
                PutRecordInput::new("a", b"early"),
                PutRecordInput::new("b", b"early"),
            ]),
            "ResourceNotFoundException",
            &not_found,
        );
        for position in [StartingPosition::TrimHorizon, StartingPosition::Latest] {
            assert_error(
                stream.shard_iterator(shard, position),
                "ResourceNotFoundException",
                &not_found,
            );
            assert_error(
                stream.reader(shard, position),
                "ResourceNotFoundException",
                &not_found,
            );
        }
    };

    check_creating(&stream);
    // The catalog knows it, though: it is listed and cannot be created again.
    assert_eq!(engine.list_streams(None, 10).names.len(), 1);
    assert_eq!(
        engine.stream("slow").unwrap().status(),
        StreamStatus::Creating
    );

    clock.advance_ms(DELAY_MS - 1);
    check_creating(&stream);

    // Still CREATING after a reopen at the same time.
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options);
    let stream = engine.stream("slow").unwrap();
    check_creating(&stream);

    clock.advance_ms(1);
    assert_eq!(stream.status(), StreamStatus::Active);
    assert_eq!(
        stream.describe(None, None).unwrap().status,
        StreamStatus::Active
    );
    let put = stream
        .put_record(PutRecordInput::new("a", b"on time"))
        .unwrap();
    let records = read_typed(&stream, put.shard_id, StartingPosition::TrimHorizon, 10);
    assert_eq!(records.len(), 1, "none of the early writes was stored");
    assert_eq!(records[0].data(), b"on time");
    let other = read_typed(&stream, ShardId::new(1), StartingPosition::TrimHorizon, 10);
    assert!(other.is_empty());
}

#[test]
fn without_a_delay_a_stream_is_active_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("fast", 1))
        .unwrap();
    assert_eq!(stream.status(), StreamStatus::Active);
    stream.put_record(PutRecordInput::new("a", b"now")).unwrap();
}
