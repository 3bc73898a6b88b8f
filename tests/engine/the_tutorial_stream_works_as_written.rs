//! The Kinesis tutorial, done with the library: create `data-analysis-stream` (ON_DEMAND, 24 h
//! retention), put "Hello, Kinesis!" with partition key `test-partition`, and read it back with a
//! shard iterator — then again after a restart.

use shardlog::stream::hash_key_of;
use shardlog::{
    CreateStream, Engine, EngineOptions, PutRecordInput, StartingPosition, StreamMode, StreamStatus,
};

#[test]
fn the_tutorial_stream_works_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        segment_bytes: 1 << 20,
        ..EngineOptions::default()
    };
    let engine = Engine::open(dir.path(), options.clone()).unwrap();
    let stream = engine
        .create_stream(CreateStream::on_demand("data-analysis-stream"))
        .unwrap();
    let meta = stream.meta();
    assert_eq!(stream.status(), StreamStatus::Active);
    assert_eq!(meta.mode, StreamMode::OnDemand);
    assert_eq!(meta.retention_hours, 24);
    assert_eq!(meta.shards.len(), 4);
    assert_eq!(
        stream.arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/data-analysis-stream"
    );

    let put = stream
        .put_record(PutRecordInput::new("test-partition", b"Hello, Kinesis!"))
        .unwrap();
    let owner = meta
        .shards
        .iter()
        .find(|shard| shard.hash_key_range.contains(hash_key_of("test-partition")))
        .unwrap();
    assert_eq!(put.shard_id, owner.id());
    assert_eq!(put.sequence_number.to_string().len(), 56);

    let token = stream
        .shard_iterator(put.shard_id, StartingPosition::TrimHorizon)
        .unwrap();
    let output = engine.get_records(&token, 25).unwrap();
    assert_eq!(output.batch.records.len(), 1);
    let record = &output.batch.records[0];
    assert_eq!(record.data(), b"Hello, Kinesis!");
    assert_eq!(record.partition_key(), "test-partition");
    assert_eq!(record.sequence_number(), put.sequence_number);
    assert_eq!(output.batch.millis_behind_latest, 0);
    let next = output.next_shard_iterator.unwrap();
    assert!(
        engine
            .get_records(&next, 25)
            .unwrap()
            .batch
            .records
            .is_empty()
    );

    drop(stream);
    drop(engine);
    let engine = Engine::open(dir.path(), options).unwrap();
    let stream = engine.stream("data-analysis-stream").unwrap();
    assert_eq!(stream.meta(), meta);
    let mut reader = stream
        .reader(
            put.shard_id,
            StartingPosition::AtSequenceNumber(put.sequence_number),
        )
        .unwrap();
    assert_eq!(
        reader.next_batch(10).unwrap().records[0].data(),
        b"Hello, Kinesis!"
    );
    // The token issued before the restart still works (same engine key, within five minutes).
    assert_eq!(
        engine.get_records(&token, 25).unwrap().batch.records.len(),
        1
    );
}
