//! A data directory is locked by the engine that opened it for as long as any of its streams is
//! alive: a second engine (in this process or another) would run a second log on every shard and
//! hand out sequence numbers twice. Found by the `stream_operations` fuzz target (F5 in
//! RELIABILITY.md), where a stream handle outlived its engine across a reopen.

use crate::support::engine::{clock, open, options};
use shardlog::{CreateStream, Engine, LogError, PutRecordInput, StreamError};

#[test]
fn a_second_engine_on_the_same_directory_is_refused_until_every_handle_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("held", 1))
        .unwrap();
    let refused = Engine::open(dir.path(), options(&clock));
    assert!(
        matches!(refused, Err(StreamError::Storage(LogError::InUse { .. }))),
        "a second engine must be refused while the first is open"
    );

    // The engine is gone but a stream handle lives on: its shards are still open.
    drop(engine);
    let refused = Engine::open(dir.path(), options(&clock));
    assert!(
        matches!(refused, Err(StreamError::Storage(LogError::InUse { .. }))),
        "a stream handle keeps the directory locked"
    );
    stream
        .put_record(PutRecordInput::new("k", b"still writable"))
        .unwrap();

    drop(stream);
    let engine = open(dir.path(), &options(&clock));
    let records = crate::support::engine::read_typed(
        &engine.stream("held").unwrap(),
        shardlog::ShardId::new(0),
        shardlog::StartingPosition::TrimHorizon,
        10,
    );
    assert_eq!(records.len(), 1);
}
