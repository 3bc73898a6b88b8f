//! CreateStream and SplitShard either complete or leave no trace, whichever of their syncs fails:
//! the engine runs on a `FaultyFileSystem`, and each attempt fails the next one of the operation's
//! syncs (the first, then the second, …) until an attempt gets through. After every failed
//! attempt the operation reports an error, the data directory's streams are as before (the same
//! stream and shard directories, the same catalog entries), the shard quota counts what it counted, and a stream that
//! was there still serves every record (a failure while sealing the parent latches the parent's
//! log, as every failed sync does, until the maintenance pass reopens it). The attempt that gets
//! through leaves a stream that survives a reopen. (The same promise on a really full disk, a failure of space rather than of
//! a sync, is `creating_deleting_and_resharding_on_a_full_disk_complete_or_leave_no_trace.rs`.)

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::support::engine::{clock, open, options, read_typed};
use shardlog::{
    CreateStream, Engine, EngineOptions, FaultyFileSystem, FileSystem, PutRecordInput,
    SequenceNumber, ShardId, StartingPosition, Stream,
};

/// Attempts after which an operation has run out of syncs to fail.
const ATTEMPTS_MAX: usize = 50;

/// What the data directory says exists: the directories of streams and shards under `streams/`
/// and `staging/`, and every catalog entry's contents. (The files inside a shard's directory are
/// its log's, which takes writes between the attempts.)
fn streams_on_disk(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in ["streams", "staging"] {
        for stream in std::fs::read_dir(dir.join(part)).unwrap() {
            let stream = stream.unwrap().path();
            out.insert(
                stream.strip_prefix(dir).unwrap().display().to_string(),
                "dir".to_owned(),
            );
            for entry in std::fs::read_dir(&stream).unwrap() {
                let path = entry.unwrap().path();
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                let what = if path.is_dir() {
                    "dir".to_owned()
                } else {
                    std::fs::read_to_string(&path).unwrap()
                };
                out.insert(name, what);
            }
        }
    }
    out
}

fn faulty_options(disk: &Arc<FaultyFileSystem>) -> (EngineOptions, Arc<shardlog::ManualClock>) {
    let clock = clock();
    let options = EngineOptions {
        file_system: Arc::clone(disk) as Arc<dyn FileSystem>,
        ..options(&clock)
    };
    (options, clock)
}

#[test]
fn a_stream_whose_creation_fails_at_any_sync_is_not_there_and_the_retry_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(FaultyFileSystem::new());
    let (options, clock) = faulty_options(&disk);
    let engine = open(dir.path(), &options);
    let before = streams_on_disk(dir.path());

    let mut failed_attempts = 0;
    for attempt in 1..=ATTEMPTS_MAX {
        disk.fail_sync_number(attempt);
        match engine.create_stream(CreateStream::provisioned("made", 2)) {
            Ok(_) => break,
            Err(error) => {
                failed_attempts += 1;
                assert!(!disk.failure_pending(), "attempt {attempt} failed: {error}");
                assert_eq!(error.kinesis_error_code(), "InternalFailure", "{error}");
                assert!(engine.list_streams(None, 100).names.is_empty());
                assert_eq!(engine.describe_limits().open_shard_count, 0);
                assert_eq!(streams_on_disk(dir.path()), before, "attempt {attempt}");
            }
        }
    }
    assert!(!disk.failure_pending() || failed_attempts > 0);
    assert!(failed_attempts >= 2, "a creation syncs more than once");
    disk.fail_sync_number(0);
    assert_eq!(engine.describe_limits().open_shard_count, 2);

    let stream = engine.stream("made").unwrap();
    let stored = stream
        .put_record(PutRecordInput::new("key", b"after the failures"))
        .unwrap();
    drop((stream, engine));
    let engine = open(dir.path(), &super::support::engine::options(&clock));
    let stream = engine.stream("made").unwrap();
    let records = read_typed(&stream, stored.shard_id, StartingPosition::TrimHorizon, 100);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sequence_number(), stored.sequence_number);
}

/// A one-shard stream "split" holding 20 records, and their sequence numbers.
fn stream_with_records(engine: &Engine) -> (Arc<Stream>, Vec<SequenceNumber>) {
    let stream = engine
        .create_stream(CreateStream::provisioned("split", 1))
        .unwrap();
    let stored = (0..20)
        .map(|i| {
            let data = format!("record {i}");
            stream
                .put_record(PutRecordInput::new(&format!("key {i}"), data.as_bytes()))
                .unwrap()
                .sequence_number
        })
        .collect();
    (stream, stored)
}

fn sequence_numbers(stream: &Arc<Stream>, shard: ShardId) -> Vec<SequenceNumber> {
    read_typed(stream, shard, StartingPosition::TrimHorizon, 100)
        .iter()
        .map(|record| record.sequence_number())
        .collect()
}

#[test]
fn a_split_that_fails_at_any_sync_leaves_the_parent_open_with_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(FaultyFileSystem::new());
    let (options, clock) = faulty_options(&disk);
    let engine = open(dir.path(), &options);
    let (stream, stored) = stream_with_records(&engine);
    let parent = ShardId::new(0);
    let middle = (1u128 << 127).to_string();
    let before = streams_on_disk(dir.path());

    let mut failed_attempts = 0;
    for attempt in 1..=ATTEMPTS_MAX {
        disk.fail_sync_number(attempt);
        match stream.split_shard(&parent.to_string(), &middle) {
            Ok(()) => break,
            Err(error) => {
                failed_attempts += 1;
                assert!(!disk.failure_pending(), "attempt {attempt} failed: {error}");
                assert_eq!(stream.open_shard_count(), 1, "attempt {attempt}: {error}");
                assert_eq!(engine.describe_limits().open_shard_count, 1);
                assert_eq!(streams_on_disk(dir.path()), before, "attempt {attempt}");
                assert_eq!(
                    sequence_numbers(&stream, parent),
                    stored,
                    "attempt {attempt}"
                );
                // A failure in the parent's seal latched its log, as any failed sync does: the
                // maintenance pass reopens it, as the engine's thread would within a second.
                engine.run_maintenance().unwrap();
            }
        }
        clock.advance_ms(1000);
    }
    assert!(failed_attempts >= 1, "a split syncs at least once");
    disk.fail_sync_number(0);
    assert_eq!(stream.open_shard_count(), 2);
    assert_eq!(engine.describe_limits().open_shard_count, 2);

    drop((stream, engine));
    let engine = open(dir.path(), &super::support::engine::options(&clock));
    let stream = engine.stream("split").unwrap();
    assert_eq!(stream.open_shard_count(), 2);
    assert_eq!(sequence_numbers(&stream, parent), stored);
}

/// A split whose seal of the parent failed used to leave the parent sealed: after the maintenance
/// pass reopened its latched log, every put to it failed (`Sealed`) until the engine restarted.
#[test]
fn a_parent_takes_writes_again_after_a_split_failed_at_any_of_its_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(FaultyFileSystem::new());
    let (options, clock) = faulty_options(&disk);
    let engine = open(dir.path(), &options);
    let (stream, mut stored) = stream_with_records(&engine);
    let parent = ShardId::new(0);
    let middle = (1u128 << 127).to_string();
    // Each put after a failed seal starts a new segment, which the next seal syncs too: the
    // failing sync never catches up with the last one, so a fixed number of attempts.
    for attempt in 1..=12 {
        disk.fail_sync_number(attempt);
        let error = stream
            .split_shard(&parent.to_string(), &middle)
            .expect_err("a sync fails");
        engine.run_maintenance().unwrap();
        let data = format!("after attempt {attempt}");
        let put = stream.put_record(PutRecordInput::new("key", data.as_bytes()));
        assert_eq!(
            put.as_ref().ok().map(|put| put.shard_id),
            Some(parent),
            "attempt {attempt} ({error}): {put:?}"
        );
        stored.push(put.unwrap().sequence_number);
        clock.advance_ms(1000);
    }
    disk.fail_sync_number(0);
    stream.split_shard(&parent.to_string(), &middle).unwrap();
    assert_eq!(stream.open_shard_count(), 2);
    assert_eq!(sequence_numbers(&stream, parent), stored);
}
