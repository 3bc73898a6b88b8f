//! An engine opens on a disk with no free block and no free inode, again and again: every open
//! stores a new counter epoch in `engine.meta`, and it does so through a spare file reserved
//! beside it, so a full disk never bricks a restart. Opened on the full disk, the engine reads
//! back every record and deletes a stream, which frees room; with room, new records get sequence
//! numbers above every earlier one of their shard (no epoch was lost).
//!
//! The disk is a real tmpfs mounted for the test, which needs root (CI runs as root).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::support::engine::{clock, options, read_typed};
use crate::support::tiny_disk::TinyDisk;
use shardlog::{CreateStream, Engine, PutRecordInput, SequenceNumber, ShardId, StartingPosition};

const OPENS_ON_THE_FULL_DISK: usize = 3;

#[test]
fn an_engine_opens_on_a_completely_full_disk_and_serves_reads_and_deletes() {
    let disk = match TinyDisk::mount(8 << 20) {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!(
                "SKIPPED: mounting a tmpfs is not permitted here ({reason}); CI runs as root"
            );
            return;
        }
    };
    let clock = clock();
    let options = options(&clock);
    // Every record put, by shard: (sequence number, data).
    let mut put: BTreeMap<ShardId, Vec<(SequenceNumber, Vec<u8>)>> = BTreeMap::new();
    {
        let engine = Engine::open(disk.path(), options.clone()).unwrap();
        let stream = engine
            .create_stream(CreateStream::provisioned("kept", 2))
            .unwrap();
        engine
            .create_stream(CreateStream::provisioned("doomed", 1))
            .unwrap();
        for index in 0..200u32 {
            let data = format!("record {index}").into_bytes();
            let out = stream
                .put_record(PutRecordInput::new(&format!("key {index}"), &data))
                .unwrap();
            put.entry(out.shard_id)
                .or_default()
                .push((out.sequence_number, data));
        }
        engine.sync().unwrap();
    }
    assert_eq!(put.len(), 2, "the keys reach both shards");

    disk.leave_free(0, 0);
    for open in 0..OPENS_ON_THE_FULL_DISK {
        let engine = Engine::open(disk.path(), options.clone())
            .unwrap_or_else(|error| panic!("open {open} on the full disk failed: {error}"));
        let stream = engine.stream("kept").unwrap();
        for (shard, records) in &put {
            let read = read_typed(&stream, *shard, StartingPosition::TrimHorizon, 1000);
            let read: Vec<(SequenceNumber, Vec<u8>)> = read
                .iter()
                .map(|record| (record.sequence_number(), record.data().to_vec()))
                .collect();
            assert_eq!(&read, records, "open {open}: {shard} reads back as put");
        }
        if open + 1 == OPENS_ON_THE_FULL_DISK {
            // Deleting a stream needs no room, and makes some.
            let before = disk.usage();
            engine.delete_stream("doomed").unwrap();
            assert!(
                disk.usage().used_bytes < before.used_bytes,
                "deleting a stream frees its files"
            );
        }
    }

    disk.free();
    let engine = Arc::new(Engine::open(disk.path(), options).unwrap());
    let stream = engine.stream("kept").unwrap();
    assert!(
        engine.stream("doomed").is_err(),
        "the deleted stream stays gone"
    );
    for index in 0..50u32 {
        let out = stream
            .put_record(PutRecordInput::new(&format!("late {index}"), b"late"))
            .unwrap();
        let earlier = put.get(&out.shard_id).expect("a shard of the stream");
        assert!(
            earlier
                .iter()
                .all(|(number, _)| *number < out.sequence_number),
            "{} is above every earlier sequence number of {}",
            out.sequence_number,
            out.shard_id
        );
    }
}
