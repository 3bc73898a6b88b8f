//! `Engine::sync` makes every record appended so far durable with two syncs of the file system
//! for the whole engine, not a few fsyncs per shard: each written log's checkpoint must then
//! record its whole log as durable (so that a later crash recovery trusts it), a log never written
//! must stay uncreated, and the records must all read back after the engine is reopened. The
//! checkpoint is read straight from disk (docs/FORMAT.md §5): the valid slot with the larger
//! generation, its durable point at bytes 40..56.

use std::path::Path;

use shardlog::{CreateStream, Engine, EngineOptions, PutRecordInput, StartingPosition};

const SHARDS: u32 = 40;
const WRITTEN: u32 = 30;
const RECORDS_PER_SHARD: usize = 7;
const DATA_BYTES: usize = 100;
const KEY: &str = "k";
/// A frame's fixed header and its explicit hash key (docs/FORMAT.md §3).
const FRAME_HEADER_BYTES: u64 = 36 + 16;
const SEGMENT_HEADER_BYTES: u64 = 64;

/// The durable point (segment base, offset) of the newest valid checkpoint slot in `shard_dir`.
fn durable_point(shard_dir: &Path) -> (u64, u64) {
    let bytes = std::fs::read(shard_dir.join("checkpoint")).expect("reading the checkpoint");
    let u64_at = |slot: &[u8], at: usize| u64::from_le_bytes(slot[at..at + 8].try_into().unwrap());
    bytes
        .chunks(512)
        .filter(|slot| {
            slot.len() == 512
                && &slot[..8] == b"SHLGCKP1"
                && crc32fast::hash(&slot[..508]).to_le_bytes() == slot[508..512]
        })
        .max_by_key(|slot| u64_at(slot, 8))
        .map(|slot| (u64_at(slot, 40), u64_at(slot, 48)))
        .expect("a valid checkpoint slot")
}

fn options() -> EngineOptions {
    EngineOptions {
        maintenance_interval: None,
        ..EngineOptions::default()
    }
}

#[test]
fn engine_sync_records_the_durable_point_of_every_written_shard() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), options()).unwrap();
    let stream = engine
        .create_stream(CreateStream::provisioned("synced", SHARDS))
        .unwrap();
    let shards = stream.shards();
    let data = vec![7u8; DATA_BYTES];
    for shard in shards.iter().take(WRITTEN as usize) {
        let mut input = PutRecordInput::new(KEY, &data);
        input.record.explicit_hash_key = Some(shard.meta().hash_key_range.starting);
        for _ in 0..RECORDS_PER_SHARD {
            stream.put_record(input).unwrap();
        }
    }
    engine.sync().unwrap();

    let stream_dir = dir.path().join("streams").join("synced");
    let frame_bytes = FRAME_HEADER_BYTES + (KEY.len() + DATA_BYTES) as u64;
    let end = SEGMENT_HEADER_BYTES + RECORDS_PER_SHARD as u64 * frame_bytes;
    for (position, shard) in shards.iter().enumerate() {
        let shard_dir = stream_dir.join(format!("shard-{:012}", shard.meta().index));
        if position < WRITTEN as usize {
            assert_eq!(
                durable_point(&shard_dir),
                (0, end),
                "{}: the checkpoint does not call the whole log durable",
                shard.id()
            );
        } else {
            assert!(
                !shard_dir.exists(),
                "{}: syncing created a shard that never took a record",
                shard.id()
            );
        }
    }

    drop(stream);
    drop(engine);
    let engine = Engine::open(dir.path(), options()).unwrap();
    let stream = engine.stream("synced").unwrap();
    for shard in stream.shards() {
        let mut reader = stream
            .reader(shard.id(), StartingPosition::TrimHorizon)
            .unwrap();
        let expected = if shard.meta().index < WRITTEN {
            RECORDS_PER_SHARD
        } else {
            0
        };
        assert_eq!(
            reader.next_batch(100).unwrap().records.len(),
            expected,
            "{} after reopening",
            shard.id()
        );
    }
}
