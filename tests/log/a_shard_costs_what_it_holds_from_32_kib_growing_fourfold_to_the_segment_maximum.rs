//! A shard costs what it holds. With the default sizes, an empty shard's directory takes less than
//! 64 KiB of disk, blocks actually allocated, counted with `st_blocks` (one 64 MiB preallocated
//! segment, as before, takes a thousand times that). As records arrive, each segment is four times
//! the one before it (32 KiB, 128 KiB, 512 KiB, ...) up to `segment_bytes` and never beyond; a
//! sealed segment is trimmed to its last frame when the log rolls past it. After a clean close and
//! reopen, every record reads back in order.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::log::DEFAULT_INITIAL_SEGMENT_BYTES;
use shardlog::log::frame::HEADER_BYTES as FRAME_HEADER_BYTES;
use shardlog::{LogOptions, ManualClock};

/// The growth phase's largest segment: small enough to reach in a debug build within a second.
const SEGMENT_BYTES_MAX: u64 = 2 * 1024 * 1024;
/// Largest record data appended; the frame around it adds a header, a hash key and a short key.
const DATA_BYTES_MAX: usize = 1200;
/// An upper bound on one frame of this test (header, hash key, "key-<id>", data).
const FRAME_BYTES_MAX: u64 = (FRAME_HEADER_BYTES + 16 + 32 + DATA_BYTES_MAX) as u64;

/// Bytes the files of `dir` occupy on its device (allocated blocks, not lengths).
fn disk_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .expect("listing the shard directory")
        .map(|entry| {
            let metadata = entry.expect("reading a directory entry").metadata();
            metadata.expect("reading a file's metadata").blocks() * 512
        })
        .sum()
}

/// Names and lengths of the files of `dir`.
fn lengths(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = fs::read_dir(dir)
        .expect("listing the shard directory")
        .map(|entry| {
            let entry = entry.expect("reading a directory entry");
            let name = entry.file_name().into_string().expect("a UTF-8 file name");
            (name, entry.metadata().expect("reading metadata").len())
        })
        .collect();
    files.sort();
    files
}

/// The capacity the growth rule gives segment `i` (0-based) of a shard.
fn growth_capacity(i: usize, initial_bytes: u64) -> u64 {
    (initial_bytes << (2 * i.min(20))).min(SEGMENT_BYTES_MAX)
}

fn options(clock: &Arc<ManualClock>) -> LogOptions {
    LogOptions::new(SHARD).clock(Arc::clone(clock) as Arc<dyn shardlog::Clock>)
}

#[test]
fn a_shard_costs_what_it_holds_from_32_kib_growing_fourfold_to_the_segment_maximum() {
    let clock = clock();

    // An empty shard, with the default sizes: one 32 KiB segment and a checkpoint.
    let empty = scratch_dir();
    let (log, _) = open(empty.path(), &options(&clock));
    let empty_bytes = disk_bytes(empty.path());
    assert!(
        empty_bytes < 64 * 1024,
        "an empty shard takes {empty_bytes} bytes of disk, expected under 64 KiB: {:?}",
        lengths(empty.path())
    );
    log.close().expect("closing the empty shard");
    let (log, _) = open(empty.path(), &options(&clock));
    let reopened_bytes = disk_bytes(empty.path());
    assert!(
        reopened_bytes < 64 * 1024,
        "an empty shard takes {reopened_bytes} bytes of disk after a reopen, expected under 64 KiB"
    );
    assert!(read_all(&log).is_empty(), "an empty shard reads no record");
    drop(log);

    // A shard that receives records: its segments grow fourfold up to the maximum.
    let dir = scratch_dir();
    let options = options(&clock)
        .segment_bytes(SEGMENT_BYTES_MAX)
        .record_data_bytes_max(DATA_BYTES_MAX);
    let initial_bytes = options.initial_segment_bytes;
    assert_eq!(initial_bytes, DEFAULT_INITIAL_SEGMENT_BYTES);
    let (log, _) = open(dir.path(), &options);
    let mut appended = Vec::new();
    let mut id = 0;
    // Six segments: 32 KiB, 128 KiB, 512 KiB, 2 MiB, 2 MiB (the maximum, twice) and an active one.
    while segment_bases(dir.path()).len() < 6 {
        let len = |id: u64| 100 + (id as usize * 7919) % (DATA_BYTES_MAX - 100);
        appended.extend(append_many(&log, &clock, id..id + 50, len));
        id += 50;
        for (name, len) in lengths(dir.path()) {
            assert!(
                len <= SEGMENT_BYTES_MAX,
                "{name} is {len} bytes, beyond segment_bytes ({SEGMENT_BYTES_MAX})"
            );
        }
    }

    let segments: Vec<(String, u64)> = segment_bases(dir.path())
        .into_iter()
        .map(|base| {
            let name = segment_name(base);
            let len = fs::metadata(dir.path().join(&name))
                .expect("reading metadata")
                .len();
            (name, len)
        })
        .collect();
    let (sealed, active) = segments.split_at(segments.len() - 1);
    for (i, (name, len)) in sealed.iter().enumerate() {
        let capacity = growth_capacity(i, initial_bytes);
        assert!(
            *len <= capacity && *len + FRAME_BYTES_MAX > capacity,
            "sealed segment {i} ({name}) is {len} bytes: expected the data of a full segment of \
             {capacity} bytes, trimmed (more than {} bytes)",
            capacity - FRAME_BYTES_MAX
        );
        let bytes = fs::read(dir.path().join(name)).expect("reading a sealed segment");
        let frames = frames(&bytes);
        let data_end = frames.last().map_or(SEGMENT_HEADER, FrameAt::end) as u64;
        assert_eq!(
            data_end, *len,
            "sealed segment {i} ({name}) is not trimmed to the end of its last frame"
        );
    }
    let (name, len) = &active[0];
    let capacity = growth_capacity(sealed.len(), initial_bytes);
    assert_eq!(
        *len, capacity,
        "the active segment {name} has the wrong capacity"
    );

    // Disk holds the sealed segments' data, the active segment, at most one segment prepared ahead
    // (no larger than the maximum), the checkpoint and the index files.
    let data_bytes: u64 = sealed.iter().map(|(_, len)| len).sum();
    let disk = disk_bytes(dir.path());
    let bound = data_bytes + 2 * SEGMENT_BYTES_MAX + 64 * 1024;
    assert!(
        disk <= bound,
        "the shard takes {disk} bytes of disk, more than its data ({data_bytes} bytes) plus the \
         active segment and one prepared ahead ({bound} bytes): {:?}",
        lengths(dir.path())
    );

    log.close().expect("closing the shard");
    let (log, _) = open(dir.path(), &options);
    let records = read_all(&log);
    assert_records(&records, &appended, "after a clean close and reopen");
    drop(records);
    log.close().expect("closing the reopened shard");
}
