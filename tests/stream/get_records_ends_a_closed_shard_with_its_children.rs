//! Reading a closed shard to its end gives no next iterator (the consumer's loop terminator) and
//! names the child shards to read next, as Kinesis' GetRecords does. Shards are closed by
//! resharding; here the catalog is edited to the state a split of shard 0 leaves.

use shardlog::stream::{HashKeyRange, ShardMeta, StreamMeta};
use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput, ShardId, StartingPosition};

#[test]
fn get_records_ends_a_closed_shard_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        segment_bytes: 1 << 20,
        ..EngineOptions::default()
    };
    let engine = Engine::open(dir.path(), options.clone()).unwrap();
    let stream = engine
        .create_stream(CreateStream::provisioned("split-me", 1))
        .unwrap();
    for i in 0..5 {
        stream
            .put_record(PutRecordInput::new(
                &format!("key-{i}"),
                b"before the split",
            ))
            .unwrap();
    }
    // The catalog as a split of shard 0 at 2^127 leaves it.
    let mut meta: StreamMeta = stream.meta();
    let parent = meta.shards[0].clone();
    meta.shards[0].closed_secs = Some(parent.created_secs + 60);
    let half = 1u128 << 127;
    for (index, range) in [
        (
            1,
            HashKeyRange {
                starting: 0,
                ending: half - 1,
            },
        ),
        (
            2,
            HashKeyRange {
                starting: half,
                ending: u128::MAX,
            },
        ),
    ] {
        meta.shards.push(ShardMeta {
            index,
            created_secs: parent.created_secs + 60,
            hash_key_range: range,
            parent: Some(0),
            adjacent_parent: None,
            closed_secs: None,
        });
    }
    meta.next_shard_index = 3;
    let stream_dir = stream.dir().to_owned();
    drop(stream);
    drop(engine);
    meta.store(&stream_dir).unwrap();

    let engine = Engine::open(dir.path(), options).unwrap();
    let stream = engine.stream("split-me").unwrap();
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();

    // A partial read of the closed shard still continues.
    let first = engine.get_records(&token, 2).unwrap();
    assert_eq!(first.batch.records.len(), 2);
    assert_eq!(first.batch.child_shards, None);
    let rest = engine
        .get_records(first.next_shard_iterator.as_ref().unwrap(), 100)
        .unwrap();
    assert_eq!(rest.batch.records.len(), 3);
    assert_eq!(
        rest.next_shard_iterator, None,
        "a closed, fully read shard ends the loop"
    );
    let children = rest
        .batch
        .child_shards
        .expect("children at the end of a closed shard");
    let ids: Vec<ShardId> = children.iter().map(|child| child.shard_id).collect();
    assert_eq!(ids, [ShardId::new(1), ShardId::new(2)]);
    assert!(
        children
            .iter()
            .all(|child| child.parent_shards == [ShardId::new(0)])
    );
    assert_eq!(children[1].hash_key_range.starting, half);

    // The typed reader says the same; new records go to the children.
    let mut reader = stream
        .reader(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    let batch = reader.next_batch(100).unwrap();
    assert_eq!(batch.records.len(), 5);
    assert_eq!(batch.child_shards.map(|children| children.len()), Some(2));
    let put = stream
        .put_record(PutRecordInput::new("after", b"after the split"))
        .unwrap();
    assert_ne!(put.shard_id, ShardId::new(0));

    // An open shard at its end is not finished.
    let open = stream
        .shard_iterator(put.shard_id, StartingPosition::TrimHorizon)
        .unwrap();
    let output = engine.get_records(&open, 100).unwrap();
    assert_eq!(output.batch.child_shards, None);
    assert!(output.next_shard_iterator.is_some());
}
