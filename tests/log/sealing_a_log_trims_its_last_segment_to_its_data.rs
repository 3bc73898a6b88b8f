//! Sealing a log (what a split or merge does to the parent shard) releases the unused tail of its
//! last segment: the file ends at its last frame and its disk blocks go back to the device, so a
//! closed shard costs its records and no more. The log here starts with a 1 MiB segment and holds
//! 20 KiB, so an untrimmed file would still take the whole 1 MiB. Every record still reads back,
//! appends are refused, and after a reopen (the seal is not stored: the stream seals its closed
//! shards again) the log continues in a new segment without touching the trimmed one.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{LogError, LogOptions, RecordInput};

const INITIAL_SEGMENT_BYTES: u64 = 1024 * 1024;
const PAGE_BYTES: u64 = 4096;

#[test]
fn sealing_a_log_trims_its_last_segment_to_its_data() {
    let dir = scratch_dir();
    let clock = clock();
    let options = LogOptions::new(SHARD)
        .initial_segment_bytes(INITIAL_SEGMENT_BYTES)
        .clock(Arc::clone(&clock) as Arc<dyn shardlog::Clock>);
    let (log, _) = open(dir.path(), &options);
    let mut appended = append_many(&log, &clock, 0..20, |id| 900 + id as usize * 10);
    let segment = dir.path().join(segment_name(0));
    let before = fs::metadata(&segment).expect("reading the segment's metadata");
    assert_eq!(
        before.len(),
        INITIAL_SEGMENT_BYTES,
        "the first segment's size"
    );
    assert!(
        before.blocks() * 512 >= INITIAL_SEGMENT_BYTES,
        "the first segment is preallocated: {} bytes of disk",
        before.blocks() * 512
    );

    log.seal().expect("sealing the log");

    let bytes = fs::read(&segment).expect("reading the sealed segment");
    let frames = frames(&bytes);
    assert_eq!(frames.len(), appended.len(), "frames in the sealed segment");
    let data_end = frames.last().expect("the segment holds frames").end() as u64;
    let after = fs::metadata(&segment).expect("reading the segment's metadata");
    assert_eq!(
        after.len(),
        data_end,
        "the sealed segment is not trimmed to the end of its last frame"
    );
    let disk = after.blocks() * 512;
    assert!(
        disk <= data_end.next_multiple_of(PAGE_BYTES) + PAGE_BYTES,
        "the sealed segment still takes {disk} bytes of disk for {data_end} bytes of data"
    );
    let shard_disk: u64 = fs::read_dir(dir.path())
        .expect("listing the shard directory")
        .map(|entry| entry.unwrap().metadata().unwrap().blocks() * 512)
        .sum();
    assert!(
        shard_disk <= data_end + 8 * PAGE_BYTES,
        "the sealed shard takes {shard_disk} bytes of disk for {data_end} bytes of data"
    );

    assert_records(&read_all(&log), &appended, "after the seal");
    let refused = log.append(RecordInput {
        partition_key: "late",
        explicit_hash_key: None,
        data: b"refused",
    });
    assert!(
        matches!(refused, Err(LogError::Sealed)),
        "an append after the seal returned {refused:?}"
    );
    log.close().expect("closing the sealed log");

    let (log, _) = open(dir.path(), &options);
    assert_records(&read_all(&log), &appended, "after a reopen");
    appended.extend(append_many(&log, &clock, 20..23, |_| 500));
    assert_eq!(
        segment_bases(dir.path()),
        vec![0, appended[20].counter()],
        "appends after the reopen go to a new segment"
    );
    assert_eq!(
        fs::metadata(&segment).unwrap().len(),
        data_end,
        "the trimmed segment is left as it was"
    );
    assert_records(
        &read_all(&log),
        &appended,
        "after appending to the reopened log",
    );
    log.close().expect("closing the reopened log");
    let (log, _) = open(dir.path(), &options);
    assert_records(&read_all(&log), &appended, "after a second reopen");
}
