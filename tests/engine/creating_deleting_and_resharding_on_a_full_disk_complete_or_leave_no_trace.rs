//! Creating, deleting and resharding a stream either complete or leave no trace, whatever point
//! of them a full disk fails (issue 12, item 1). A failed CreateStream used to leave its directory
//! behind, so that a retry reused it and a restart found another shard's log there ("holds the log
//! of shard …867, not of shard …868") and refused to start.
//!
//! The disk is a real tmpfs whose limits are moved while the engine runs: a few pages and a few
//! files (inodes) are left free, so every step that takes a page or a file fails in turn with a
//! genuine ENOSPC. After each failure: the data directory is exactly as before (names and sizes of
//! every file, contents of every catalog entry), the engine says the stream does not exist, and
//! the retry, once there is room, succeeds. DeleteStream needs no room at all. At the end a reopen
//! finds every stream whole and every acknowledged record in place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::engine::{clock, error_of, open, options, read_typed};
use crate::support::tiny_disk::TinyDisk;
use shardlog::stream::StreamMode;
use shardlog::{CreateStream, Engine, PutRecordInput, SequenceNumber, ShardId, StartingPosition};

/// Where each attempt finds the disk: (free pages, free files). "Plenty" is more than any step
/// takes, so the other limit is the one that fails.
const PLENTY: u64 = 1000;
const FULL_AT: [(u64, u64); 8] = [
    (0, PLENTY),
    (1, PLENTY),
    (2, PLENTY),
    (3, PLENTY),
    (PLENTY, 0),
    (PLENTY, 1),
    (PLENTY, 2),
    (PLENTY, 3),
];

/// Every file and directory under `dir`, with its size, and the bytes of every catalog entry.
/// `engine.meta` is left out: a failed step may have advanced its last shard creation second,
/// which promises only uniqueness.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let metadata = std::fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                out.insert(name, "dir".to_owned());
                walk(root, &path, out);
            } else if name.ends_with("stream.meta") {
                out.insert(name, std::fs::read_to_string(&path).unwrap());
            } else if name != "engine.meta" && name != "LOCK" {
                out.insert(name, format!("{} bytes", metadata.len()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn names(engine: &Engine) -> Vec<String> {
    let list = engine.list_streams(None, 100);
    list.names.iter().map(|n| n.as_str().to_owned()).collect()
}

/// Acknowledged records: shard → (sequence number, data).
type Model = BTreeMap<ShardId, Vec<(SequenceNumber, Vec<u8>)>>;

/// Puts one record into each open shard of `stream`, routed by explicit hash key.
fn put_into_every_open_shard(engine: &Engine, stream: &str, model: &mut Model, round: u64) {
    let stream = engine.stream(stream).unwrap();
    for shard in stream
        .meta()
        .shards
        .iter()
        .filter(|s| s.closed_secs.is_none())
    {
        let data = format!("round {round} shard {}", shard.index).into_bytes();
        let input =
            PutRecordInput::new("key", &data).with_explicit_hash_key(shard.hash_key_range.starting);
        let output = stream
            .put_record(input)
            .unwrap_or_else(|error| panic!("a put into {} failed: {error}", shard.id()));
        assert_eq!(output.shard_id, shard.id());
        model
            .entry(output.shard_id)
            .or_default()
            .push((output.sequence_number, data));
    }
}

fn assert_model(engine: &Engine, stream: &str, model: &Model) {
    let stream = engine.stream(stream).unwrap();
    for (shard, expected) in model {
        let read: Vec<(SequenceNumber, Vec<u8>)> =
            read_typed(&stream, *shard, StartingPosition::TrimHorizon, 100)
                .iter()
                .map(|record| (record.sequence_number(), record.data().to_vec()))
                .collect();
        assert_eq!(&read, expected, "records of {shard}");
    }
}

#[test]
fn creating_deleting_and_resharding_on_a_full_disk_complete_or_leave_no_trace() {
    let disk = match TinyDisk::mount(64 << 20) {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!(
                "SKIPPED: mounting a tmpfs is not permitted here ({reason}); CI runs as root"
            );
            return;
        }
    };
    let data_dir = disk.path().join("data");
    let clock = clock();
    let options = options(&clock);
    let engine = open(&data_dir, &options);
    // 64 shards make a catalog entry of two pages, so a reshard can fail at its catalog write
    // after its engine.meta write (one page) succeeded.
    engine
        .create_stream(CreateStream::provisioned("keep", 64))
        .unwrap();
    let mut model = Model::new();
    put_into_every_open_shard(&engine, "keep", &mut model, 0);

    // CreateStream, failing at each step that takes room; DeleteStream on a disk with none.
    let mut failed_steps = BTreeSet::new();
    for (free_pages, free_files) in FULL_AT {
        clock.advance_ms(1000);
        let before = tree(&data_dir);
        disk.leave_free(free_pages, free_files);
        let request = CreateStream::provisioned("s2", 30);
        if let Err(error) = engine.create_stream(request.clone()) {
            assert_eq!(error.kinesis_error_code(), "InternalFailure", "{error}");
            assert!(error.to_string().contains("No space left"), "{error}");
            failed_steps.insert(error.to_string().split(" /").next().unwrap().to_owned());
            eprintln!("CreateStream with {free_pages} pages, {free_files} files free: {error}");
            assert_eq!(
                tree(&data_dir),
                before,
                "a failed CreateStream left a trace"
            );
            assert_eq!(names(&engine), ["keep"]);
            error_of(engine.stream("s2"), "ResourceNotFoundException");
            disk.free();
            engine
                .create_stream(request)
                .expect("CreateStream again once there is room");
        }
        disk.free();
        let mut fresh = Model::new();
        put_into_every_open_shard(&engine, "s2", &mut fresh, 0);
        assert_model(&engine, "s2", &fresh);
        disk.leave_free(0, 0);
        engine
            .delete_stream("s2")
            .expect("DeleteStream on a disk without a free page or file");
        disk.free();
        assert_eq!(tree(&data_dir), before, "DeleteStream left a trace");
    }
    // engine.meta is written through its reserved spare (it must be, for an engine to open on a
    // full disk), so making the stream's directory is the one step that takes room.
    assert_eq!(
        failed_steps.len(),
        1,
        "the step that takes room failed: {failed_steps:?}"
    );

    // SplitShard, failing at each step that takes room. A failed split leaves the parent taking
    // writes in its segment on the full disk, as before the attempt.
    let mut failures = 0;
    let mut failed_steps = BTreeSet::new();
    for (round, (free_pages, free_files)) in (1..).zip(FULL_AT) {
        clock.advance_ms(1000);
        let stream = engine.stream("keep").unwrap();
        let meta = stream.meta();
        let parent = meta
            .shards
            .iter()
            .find(|shard| shard.closed_secs.is_none())
            .unwrap()
            .clone();
        let range = parent.hash_key_range;
        let middle = (range.starting + (range.ending - range.starting) / 2).to_string();
        let before = tree(&data_dir);
        disk.leave_free(free_pages, free_files);
        let parent_id = parent.id().to_string();
        if let Err(error) = stream.split_shard(&parent_id, &middle) {
            failures += 1;
            failed_steps.insert(error.to_string().split(" /").next().unwrap().to_owned());
            eprintln!("SplitShard with {free_pages} pages, {free_files} files free: {error}");
            assert_eq!(error.kinesis_error_code(), "InternalFailure", "{error}");
            assert_eq!(stream.meta(), meta, "a failed split changed the catalog");
            assert_eq!(tree(&data_dir), before, "a failed split left a trace");
            put_into_every_open_shard(&engine, "keep", &mut model, round);
            disk.free();
            stream
                .split_shard(&parent_id, &middle)
                .expect("SplitShard again once there is room");
        }
        disk.free();
        put_into_every_open_shard(&engine, "keep", &mut model, round);
    }
    // engine.meta is written through its reserved spare (it must be, for an engine to open on a
    // full disk), so making the stream's directory is the one step that takes room.
    assert_eq!(
        failed_steps.len(),
        1,
        "the step that takes room failed: {failed_steps:?}"
    );
    assert!(failures >= 3, "only {failures} splits failed");
    assert_model(&engine, "keep", &model);
    assert_eq!(
        engine.stream("keep").unwrap().meta().mode,
        StreamMode::Provisioned
    );

    drop(engine);
    let engine = open(&data_dir, &options);

    assert_eq!(names(&engine), ["keep"]);
    assert_model(&engine, "keep", &model);
    for part in ["staging", "trash"] {
        let left = std::fs::read_dir(data_dir.join(part)).unwrap().count();
        assert_eq!(left, 0, "{part} holds leftovers");
    }
}
