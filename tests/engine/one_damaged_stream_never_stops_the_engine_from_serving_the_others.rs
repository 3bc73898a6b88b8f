//! A damaged stream is reported, never fatal (issue 12, item 1): the engine opens, serves every
//! other stream, and says which stream it cannot serve and why, as data.
//!
//! Two kinds of damage: a stream whose catalog entry (`stream.meta`) is garbled cannot be opened
//! at all; it is listed by `damaged_streams` with a typed reason, keeps its name (listed, taken for
//! CreateStream), fails every operation with InternalFailure naming the damage, and can be
//! deleted. A stream one of whose shards has a damaged segment header below its durable point
//! opens; that shard fails with `Corrupt` when used, and its other shard keeps serving.

use crate::support::engine::{ACCOUNT, clock, error_of, open, options, read_typed};
use shardlog::engine::StreamDamage;
use shardlog::stream::{ChecksumError, MetaError};
use shardlog::{CreateStream, LogError, PutRecordInput, StartingPosition, StreamError};

fn put_to_shard(
    stream: &shardlog::Stream,
    index: usize,
    data: &[u8],
) -> shardlog::StreamResult<()> {
    let range = stream.meta().shards[index].hash_key_range;
    let input = PutRecordInput::new("key", data).with_explicit_hash_key(range.starting);
    stream.put_record(input).map(|_| ())
}

#[test]
fn one_damaged_stream_never_stops_the_engine_from_serving_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = options(&clock);
    let engine = open(dir.path(), &options);
    for name in ["alpha", "garbled", "torn"] {
        let stream = engine
            .create_stream(CreateStream::provisioned(name, 2))
            .unwrap();
        for shard in 0..2 {
            put_to_shard(&stream, shard, format!("{name} {shard}").as_bytes()).unwrap();
        }
    }
    engine.sync().unwrap();
    drop(engine);

    let streams = dir.path().join("streams");
    let meta = streams.join("garbled").join("stream.meta");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(
        &meta,
        text.replace("retention_hours 24", "retention_hours 25"),
    )
    .unwrap();
    let segment = streams
        .join("torn")
        .join("shard-000000000000")
        .join("00000000000000000000.seg");
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[2] ^= 0x10; // the segment's magic, synced long ago
    std::fs::write(&segment, bytes).unwrap();

    let engine = open(dir.path(), &options);
    let damaged = engine.damaged_streams();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert_eq!(damaged[0].name.as_str(), "garbled");
    assert!(
        matches!(&damaged[0].damage, StreamDamage::UnreadableMeta { reason: reason @ MetaError::Checksum(ChecksumError::Mismatch) }
            if reason.to_string().contains("checksum")),
        "{damaged:?}"
    );

    // The others serve, reads and writes.
    let alpha = engine.stream("alpha").unwrap();
    for shard in 0..2 {
        put_to_shard(&alpha, shard, b"after").unwrap();
        let id = alpha.meta().shards[shard].id();
        let read = read_typed(&alpha, id, StartingPosition::TrimHorizon, 10);
        let data: Vec<&[u8]> = read.iter().map(|record| record.data()).collect();
        assert_eq!(data, [format!("alpha {shard}").as_bytes(), b"after"]);
    }

    // The garbled stream keeps its name and says what is wrong with it.
    let listed = engine.list_streams(None, 10).names;
    let listed: Vec<&str> = listed.iter().map(|name| name.as_str()).collect();
    assert_eq!(listed, ["alpha", "garbled", "torn"]);
    let message = error_of(engine.stream("garbled"), "InternalFailure");
    assert_eq!(
        message,
        format!(
            "Stream garbled under account {ACCOUNT} is damaged and cannot be served: its catalog \
             entry (stream.meta) is unreadable: checksum mismatch. Delete it, or repair its files \
             and reopen the engine."
        )
    );
    assert!(matches!(
        engine.stream("garbled"),
        Err(StreamError::Damaged { .. })
    ));
    error_of(
        engine.create_stream(CreateStream::provisioned("garbled", 1)),
        "ResourceInUseException",
    );

    // The torn stream's damaged shard fails, typed; its other shard serves.
    let torn = engine.stream("torn").unwrap();
    match put_to_shard(&torn, 0, b"after") {
        Err(StreamError::Storage(LogError::Corrupt { path, .. })) => {
            assert!(
                path.ends_with("00000000000000000000.seg"),
                "{}",
                path.display()
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    put_to_shard(&torn, 1, b"after").unwrap();
    let id = torn.meta().shards[1].id();
    assert_eq!(
        read_typed(&torn, id, StartingPosition::TrimHorizon, 10).len(),
        2
    );

    // Deleting the garbled stream removes it; its name is free again.
    engine.delete_stream("garbled").unwrap();
    assert!(!streams.join("garbled").exists());
    assert!(engine.damaged_streams().is_empty());
    error_of(engine.stream("garbled"), "ResourceNotFoundException");
    engine
        .create_stream(CreateStream::provisioned("garbled", 1))
        .unwrap();
    drop((alpha, torn, engine));
    let engine = open(dir.path(), &options);
    assert!(engine.damaged_streams().is_empty());
}
