//! A shard costs what it holds, also ahead of its writer: the pool prepares a log's next segment
//! (a preallocated file, four times the active one, mapped outside the mapping cache) when the
//! active segment is half full, and a log whose active segment is not half full keeps none. Here
//! each of 200 logs asks for one (its 4 KiB first segment passes half) and rolls at once, often
//! before the pool got to the request, so the writer makes the segment itself. The request must
//! not be carried out after that: each log now has a 16 KiB segment holding one record, and once
//! the pool is idle no log directory may hold a prepared file, and no prepared file may be mapped.
//! Otherwise every shard written once keeps a preallocated file and a mapping that no bound
//! counts (the next roll wants a larger one and discards it), so disk, memory and mappings grow
//! with the number of shards, not with what they hold.
//!
//! `/proc/self/maps` is process-wide, so this scenario is its own test binary.

mod common;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use shardlog::{LogOptions, ShardLog};

const LOGS: usize = 200;
const DATA_BYTES: usize = 1000;
/// Three records fill the 4 KiB first segment past half (the third asks for the next segment) and
/// the fourth rolls into a 16 KiB one, which it leaves far from half full.
const RECORDS_PER_LOG: u64 = 4;
const PREPARED_PREFIX: &str = "segment.prepared";

/// Prepared files in the log directories.
fn prepared_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter()
        .flat_map(|dir| fs::read_dir(dir).expect("listing a shard directory"))
        .map(|entry| entry.expect("reading a directory entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(PREPARED_PREFIX))
        })
        .collect()
}

/// Prepared files the process has mapped.
fn prepared_mappings() -> usize {
    fs::read_to_string("/proc/self/maps")
        .expect("reading /proc/self/maps")
        .lines()
        .filter(|line| line.contains(PREPARED_PREFIX))
        .count()
}

#[test]
fn a_log_keeps_a_segment_prepared_ahead_only_while_its_active_one_is_past_half() {
    let root = scratch_dir();
    let clock = clock();
    let options = LogOptions::new(SHARD)
        .initial_segment_bytes(4096)
        .segment_bytes(1024 * 1024)
        .record_data_bytes_max(DATA_BYTES)
        .prepare_segments_in_background(true)
        .clock(Arc::clone(&clock) as Arc<dyn shardlog::Clock>);
    let dirs: Vec<PathBuf> = (0..LOGS)
        .map(|i| root.path().join(format!("shard-{i}")))
        .collect();
    let logs: Vec<ShardLog> = dirs.iter().map(|dir| open(dir, &options).0).collect();
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

    // The pool has no idle signal: wait until the prepared files stop changing for a while.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = prepared_files(&dirs);
    let mut stable_since = Instant::now();
    while Instant::now() < deadline && stable_since.elapsed() < Duration::from_millis(300) {
        std::thread::sleep(Duration::from_millis(20));
        let now = prepared_files(&dirs);
        if now != seen {
            seen = now;
            stable_since = Instant::now();
        }
    }
    let mapped = prepared_mappings();
    assert!(
        seen.is_empty() && mapped == 0,
        "{} of {LOGS} logs, none of them half way through its active segment, keep a segment \
         prepared ahead ({mapped} prepared files mapped), e.g. {:?}",
        seen.len(),
        seen.first()
    );

    for (log, expected) in logs.iter().zip(&appended) {
        assert_records(&read_all(log), expected, &log.dir().display().to_string());
    }
}
