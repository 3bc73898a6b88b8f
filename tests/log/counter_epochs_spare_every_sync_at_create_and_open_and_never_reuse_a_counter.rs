//! Crash images for logs with a counter epoch (`LogOptions::counter_epoch`, which an engine sets):
//! creating and opening such a log syncs nothing and writes nothing, so after a power loss any
//! part of a new shard may be missing, and a clean flag may stay on disk under records appended
//! after it. Each case here builds that image and checks that the next epoch's open recovers
//! every record that is there, in order, and hands out counters above every counter handed out
//! before (the epoch's floor), and that without an epoch such images are still refused.

use std::fs;
use std::path::Path;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::log::COUNTERS_PER_EPOCH_BITS;
use shardlog::{Durability, LogError, LogOptions, ShardLog};

const SEGMENT_BYTES: u64 = 64 * 1024;
const CHECKPOINT: &str = "checkpoint";

fn epoch_options(clock: &std::sync::Arc<shardlog::ManualClock>, epoch: u64) -> LogOptions {
    options(clock, SEGMENT_BYTES, Durability::PageCache).counter_epoch(Some(epoch))
}

fn floor(epoch: u64) -> u64 {
    epoch << COUNTERS_PER_EPOCH_BITS
}

/// A log created at `epoch` 0 with `records` appended, crashed: its image.
fn crashed_new_log(records: u64) -> (Image, Vec<Expected>) {
    let dir = scratch_dir();
    let clock = clock();
    let (log, report) = open(dir.path(), &epoch_options(&clock, 0));
    assert!(report.created);
    let appended = append_many(&log, &clock, 0..records, |id| 100 + id as usize);
    assert_eq!(
        appended[0].counter(),
        1,
        "a new engine's first epoch starts at 1"
    );
    crash(log);
    (Image::capture(dir.path()), appended)
}

/// Opens `image` at `epoch`, checks it holds `expected` exactly, appends one more record and
/// checks its counter lies at or above the epoch's floor and above everything before.
fn reopen_and_check(image: &Image, epoch: u64, expected: &[Expected], context: &str) {
    let dir = scratch_dir();
    image.restore(dir.path());
    let clock = clock();
    clock.set_ms(START_MS + 1_000_000);
    let options = epoch_options(&clock, epoch);
    let (log, _report) = open(dir.path(), &options);
    assert_records(&read_all(&log), expected, context);
    let next = append(&log, &clock, 9_999, 10, None);
    assert!(
        next.counter() >= floor(epoch),
        "{context}: counter {} below epoch {epoch}'s floor",
        next.counter()
    );
    assert!(
        expected
            .iter()
            .all(|record| record.counter() < next.counter()),
        "{context}: a counter was handed out twice"
    );
}

#[test]
fn a_lost_checkpoint_keeps_the_records_and_moves_counters_past_the_epoch() {
    let (image, appended) = crashed_new_log(20);
    let mut lost = image.clone();
    lost.files.remove(CHECKPOINT);
    reopen_and_check(&lost, 1, &appended, "checkpoint missing");
}

#[test]
fn a_checkpoint_that_never_reached_the_disk_reads_as_missing() {
    let (image, appended) = crashed_new_log(20);
    let mut zeroed = image.clone();
    zeroed.file_mut(CHECKPOINT).fill(0);
    reopen_and_check(&zeroed, 1, &appended, "checkpoint all zeros");
    let mut empty = image;
    empty.file_mut(CHECKPOINT).clear();
    reopen_and_check(&empty, 1, &appended, "checkpoint empty");
}

#[test]
fn a_first_segment_whose_header_never_reached_the_disk_starts_the_log_again() {
    let (image, _appended) = crashed_new_log(5);
    for keep_checkpoint in [true, false] {
        let mut lost = image.clone();
        lost.file_mut(&segment_name(0)).fill(0);
        if !keep_checkpoint {
            lost.files.remove(CHECKPOINT);
        }
        // The records were never synced, so losing them is a power loss' right; their counters
        // must still never come back.
        reopen_and_check(
            &lost,
            1,
            &[],
            &format!("header lost, checkpoint kept: {keep_checkpoint}"),
        );
    }
}

#[test]
fn records_appended_after_a_clean_open_are_found_although_the_flag_stayed_clean() {
    let dir = scratch_dir();
    let clock = clock();
    let (log, _) = open(dir.path(), &epoch_options(&clock, 0));
    let mut appended = append_many(&log, &clock, 0..10, |id| 100 + id as usize);
    log.close().unwrap();
    let closed = fs::read(dir.path().join(CHECKPOINT)).unwrap();

    let (log, report) = open(dir.path(), &epoch_options(&clock, 1));
    assert!(report.clean_shutdown);
    assert_eq!(
        fs::read(dir.path().join(CHECKPOINT)).unwrap(),
        closed,
        "opening at an epoch writes nothing"
    );
    appended.extend(append_many(&log, &clock, 10..13, |id| 100 + id as usize));
    assert!(appended[10].counter() >= floor(1));
    crash(log);
    assert_eq!(
        fs::read(dir.path().join(CHECKPOINT)).unwrap(),
        closed,
        "appending within the epoch's lease writes no checkpoint either"
    );

    let image = Image::capture(dir.path());
    reopen_and_check(&image, 2, &appended, "clean flag left under new records");
}

#[test]
fn without_an_epoch_a_lost_checkpoint_is_still_damage() {
    let (image, _appended) = crashed_new_log(3);
    let mut lost = image;
    lost.file_mut(CHECKPOINT).fill(0);
    let dir = scratch_dir();
    lost.restore(dir.path());
    let clock = clock();
    let result = ShardLog::open(
        dir.path(),
        options(&clock, SEGMENT_BYTES, Durability::PageCache),
    );
    assert!(
        matches!(result, Err(LogError::Corrupt { .. })),
        "segments without a checkpoint opened without an epoch"
    );
}

#[test]
fn a_lazily_opened_log_touches_no_disk_until_it_is_used() {
    let parent = scratch_dir();
    let dir = parent.path().join("shard");
    let clock = clock();
    let log = ShardLog::open_lazily(&dir, epoch_options(&clock, 0)).unwrap();
    assert!(
        !Path::new(&dir).exists(),
        "open_lazily created the directory"
    );
    log.sync().unwrap();
    assert_eq!(log.next_counter().unwrap(), 1);
    assert_eq!(log.last_arrival_ms().unwrap(), None);
    assert!(
        log.delete_segments_older_than(u64::MAX)
            .unwrap()
            .segments_deleted
            .is_empty()
    );
    assert!(!Path::new(&dir).exists(), "asking an unused log created it");
    assert!(!log.is_opened());
    let first = append(&log, &clock, 0, 10, None);
    assert!(log.is_opened());
    assert_eq!(read_all(&log).len(), 1);
    assert_eq!(first.counter(), 1);
    log.close().unwrap();
    let (log, report) = open(&dir, &epoch_options(&clock, 1));
    assert!(report.clean_shutdown);
    assert_records(
        &read_all(&log),
        &[first],
        "after the lazily opened log was closed",
    );
}

#[test]
fn a_never_created_log_seals_without_being_created_and_then_refuses_appends() {
    let parent = scratch_dir();
    let dir = parent.path().join("shard");
    let clock = clock();
    let log = ShardLog::open_lazily(&dir, epoch_options(&clock, 0)).unwrap();
    log.seal().unwrap();
    assert!(
        !Path::new(&dir).exists(),
        "sealing an unused log created it"
    );
    let refused = log.append(shardlog::RecordInput::new("k", b"late"));
    assert!(matches!(refused, Err(LogError::Sealed)), "{refused:?}");
}

#[test]
fn closing_a_log_opened_clean_and_left_unchanged_writes_nothing() {
    let dir = scratch_dir();
    let clock = clock();
    let (log, _) = open(dir.path(), &epoch_options(&clock, 0));
    let appended = append_many(&log, &clock, 0..5, |id| 100 + id as usize);
    log.close().unwrap();
    let closed = Image::capture(dir.path());
    let (log, report) = open(dir.path(), &epoch_options(&clock, 1));
    assert!(report.clean_shutdown);
    assert_records(&read_all(&log), &appended, "read before the second close");
    log.sync().unwrap();
    log.close().unwrap();
    assert_eq!(
        Image::capture(dir.path()).files,
        closed.files,
        "an unchanged log's open, read, sync and close changed its files"
    );
    let (log, report) = open(dir.path(), &epoch_options(&clock, 2));
    assert!(
        report.clean_shutdown,
        "the untouched close left a clean log"
    );
    assert_records(&read_all(&log), &appended, "after the untouched close");
}
