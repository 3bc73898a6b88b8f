//! Many shards stay within the process-wide mapping cache and keep no file open. With the cache
//! set to 64 segments, 500 logs are opened, written (each rolls once, so 1,000 segments exist),
//! read back (which maps their sealed segments again), closed and reopened (recovery maps every
//! segment). After each step at most 64 segments hold a mapping, `/proc/self/maps` grew by far
//! less than one line per log, and `/proc/self/fd` did not grow with the logs: a design that keeps
//! a segment mapped or a file open per shard fails every one of these checks by hundreds.
//!
//! The logs prepare no segment ahead: a segment prepared ahead is mapped outside the cache, and
//! `a_log_keeps_a_segment_prepared_ahead_only_while_its_active_one_is_past_half.rs` checks that
//! only a log about to need one has one. The cache and the counts are process-wide, so this
//! scenario is its own test binary.

#[path = "support/mod.rs"]
mod support;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use shardlog::log::{
    background_threads, mapped_segments, mapping_cache_capacity, set_mapping_cache_capacity,
};
use shardlog::{LogOptions, ManualClock, ShardLog};
use support::scratch_dir;
use support::shard_log::*;

const LOGS: usize = 500;
const CACHE_CAPACITY: usize = 64;
/// Records per log: the first three fill the 4 KiB first segment, the next three go to a second.
const RECORDS_PER_LOG: u64 = 6;
const DATA_BYTES: usize = 1000;

fn maps_lines() -> usize {
    fs::read_to_string("/proc/self/maps")
        .expect("reading /proc/self/maps")
        .lines()
        .count()
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .expect("listing /proc/self/fd")
        .count()
}

/// How far the mapped segments may exceed the capacity: the cache skips a segment that another
/// thread is mapping at that moment, and each background thread maps at most one segment at a
/// time. (These logs give the pool no work, so this is 0 unless other code started it.)
fn slack() -> usize {
    background_threads()
}

/// Lines of `/proc/self/maps` beside the cache's segments: the allocator's growth while the test
/// holds 500 logs and their records (a few lines), and per background thread its stack, guard
/// page and allocator arena.
fn other_maps_lines() -> usize {
    4 * background_threads() + 32
}

struct Counts {
    maps_lines: usize,
    open_fds: usize,
}

fn check_bounds(baseline: &Counts, step: &str) {
    let mapped = mapped_segments();
    assert!(
        mapped <= CACHE_CAPACITY + slack(),
        "{step}: {mapped} segments are mapped, the cache holds {CACHE_CAPACITY} (+{} slack)",
        slack()
    );
    let maps_growth = maps_lines().saturating_sub(baseline.maps_lines);
    assert!(
        maps_growth <= CACHE_CAPACITY + slack() + other_maps_lines(),
        "{step}: /proc/self/maps grew by {maps_growth} lines with {LOGS} logs open"
    );
    assert!(
        maps_growth < LOGS / 2,
        "{step}: /proc/self/maps grew by {maps_growth} lines with {LOGS} logs open"
    );
    // A few descriptors of slack for anything the test harness or allocator opens meanwhile; one
    // per log, or per segment, is hundreds.
    let fds_growth = open_fds().saturating_sub(baseline.open_fds);
    assert!(
        fds_growth <= 8,
        "{step}: {fds_growth} more file descriptors are open with {LOGS} logs open"
    );
}

fn options(clock: &Arc<ManualClock>) -> LogOptions {
    LogOptions::new(SHARD)
        .initial_segment_bytes(4096)
        .segment_bytes(64 * 1024)
        .record_data_bytes_max(DATA_BYTES)
        .prepare_segments_in_background(false)
        .clock(Arc::clone(clock) as Arc<dyn shardlog::Clock>)
}

/// Reads every log back and compares it with what was appended, one log at a time: records keep
/// their segment's mapping alive, so holding all of them would hold every mapping.
fn check_every_record(logs: &[ShardLog], appended: &[Vec<Expected>], step: &str) {
    for (i, (log, expected)) in logs.iter().zip(appended).enumerate() {
        assert_records(&read_all(log), expected, &format!("{step}: log {i}"));
    }
}

#[test]
fn many_logs_stay_within_the_mapping_cache_and_hold_no_file_descriptors() {
    set_mapping_cache_capacity(CACHE_CAPACITY);
    assert_eq!(mapping_cache_capacity(), CACHE_CAPACITY);
    let root = scratch_dir();
    let clock = clock();
    let options = options(&clock);
    let dirs: Vec<PathBuf> = (0..LOGS)
        .map(|i| root.path().join(format!("shard-{i}")))
        .collect();
    let baseline = Counts {
        maps_lines: maps_lines(),
        open_fds: open_fds(),
    };

    let logs: Vec<ShardLog> = dirs.iter().map(|dir| open(dir, &options).0).collect();
    check_bounds(&baseline, "after opening");
    let appended: Vec<Vec<Expected>> = logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let first = i as u64 * RECORDS_PER_LOG;
            append_many(log, &clock, first..first + RECORDS_PER_LOG, |_| DATA_BYTES)
        })
        .collect();
    for dir in &dirs {
        assert_eq!(segment_bases(dir).len(), 2, "segments of {}", dir.display());
    }
    check_bounds(&baseline, "after appending");
    check_every_record(&logs, &appended, "reading");
    check_bounds(&baseline, "after reading");

    for log in logs {
        log.close().expect("closing a log");
    }
    let logs: Vec<ShardLog> = dirs.iter().map(|dir| open(dir, &options).0).collect();
    check_bounds(&baseline, "after reopening");
    check_every_record(&logs, &appended, "reading after reopening");
    check_bounds(&baseline, "after reading the reopened logs");
    for log in logs {
        log.close().expect("closing a reopened log");
    }
}
