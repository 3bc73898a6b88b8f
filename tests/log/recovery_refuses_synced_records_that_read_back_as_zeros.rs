//! Crash images: records that were made durable by `sync()` read back as zeros from a frame
//! boundary to the end of their segment file (a lost or misdirected write after the sync, or a
//! zeroed block). That is damage below the durable point, like a flipped bit: opening must fail with
//! `Corrupt`, not treat the zeros as the end of the log and drop acknowledged records silently
//! (in the sealed segment's case, while keeping the later segments, which would leave a hole).

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, LogError, ShardLog};

fn expect_corrupt(dir: &std::path::Path, options: &shardlog::LogOptions, context: &str) {
    match ShardLog::open(dir, options.clone()) {
        Err(LogError::Corrupt { .. }) => {}
        Err(error) => panic!("{context}: expected Corrupt, got {error}"),
        Ok((log, report)) => {
            let counters: Vec<u64> = read_all(&log)
                .iter()
                .map(|r| r.sequence_number().counter())
                .collect();
            panic!(
                "{context}: opened and silently lost synced records; the log now holds counters \
                 {counters:?}; report: {report:?}"
            )
        }
    }
}

#[test]
fn synced_records_zeroed_at_the_end_of_the_active_segment_fail_the_open() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 16 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    append_many(&log, &clock, 0..12, |id| 40 + id as usize);
    log.sync().unwrap();
    append_many(&log, &clock, 12..15, |id| 40 + id as usize);
    crash(log);
    let image = Image::capture(dir.path());
    let active = segment_name(0);
    let frames = frames(image.file(&active));
    assert_eq!(frames.len(), 15);

    let mut damaged = image.clone();
    damaged.file_mut(&active)[frames[6].offset..].fill(0);
    let dir = scratch_dir();
    damaged.restore(dir.path());
    expect_corrupt(
        dir.path(),
        &options,
        "records 6..12 synced, then zeroed with the unsynced 12..15",
    );
}

#[test]
fn synced_records_zeroed_at_the_end_of_a_sealed_segment_fail_the_open() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 8 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    append_until_segments(&log, &clock, 0, 3, 2);
    log.sync().unwrap();
    crash(log);
    let image = Image::capture(dir.path());
    let bases = image.segment_bases();
    let sealed = segment_name(bases[0]);
    let frames = frames(image.file(&sealed));
    assert!(frames.len() >= 8);

    let mut damaged = image.clone();
    let from = frames[frames.len() / 2].offset;
    damaged.file_mut(&sealed)[from..].fill(0);
    // Index files are not synced: after a power loss one may well be missing.
    damaged.files.remove(&index_name(bases[0]));
    let dir = scratch_dir();
    damaged.restore(dir.path());
    expect_corrupt(
        dir.path(),
        &options,
        "second half of the synced first segment zeroed, its index file missing",
    );
}
