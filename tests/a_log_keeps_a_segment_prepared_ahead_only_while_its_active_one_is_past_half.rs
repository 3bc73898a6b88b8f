//! A shard costs what it holds, also ahead of its writer: the pool prepares a log's next segment
//! (a preallocated file, four times the active one, mapped outside the mapping cache) when the
//! active segment is half full, and a log whose active segment is not half full keeps none. Here
//! each of 40 logs asks for one (its 1 MiB first segment passes half, and the next would be 4 MiB:
//! large enough to prepare) and rolls in the same append call, before the pool got to the
//! request, so the writer makes the segment itself. The request must
//! not be carried out after that: each log now has a 4 MiB segment holding one record, and once
//! the pool is idle no log directory may hold a prepared file, and no prepared file may be mapped.
//! Otherwise every shard written once keeps a preallocated file and a mapping that no bound
//! counts (the next roll wants a larger one and discards it), so disk, memory and mappings grow
//! with the number of shards, not with what they hold.
//!
//! `/proc/self/maps` is process-wide, so this scenario is its own test binary.

#[path = "support/mod.rs"]
mod support;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shardlog::{LogOptions, RecordInput, ShardLog};
use support::scratch_dir;
use support::shard_log::*;

const LOGS: usize = 40;
/// A record of this size fills 1 MiB past half, and two do not fit.
const DATA_BYTES: usize = 600 * 1024;
const SMALL_BYTES: usize = 100;
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
        .initial_segment_bytes(1024 * 1024)
        .segment_bytes(4 * 1024 * 1024)
        .record_data_bytes_max(DATA_BYTES)
        .prepare_segments_in_background(true)
        .clock(Arc::clone(&clock) as Arc<dyn shardlog::Clock>);
    let dirs: Vec<PathBuf> = (0..LOGS)
        .map(|i| root.path().join(format!("shard-{i}")))
        .collect();
    let logs: Vec<ShardLog> = dirs.iter().map(|dir| open(dir, &options).0).collect();
    // A large record, then in one call a small one (which starts past half of the segment and
    // asks the pool for the next one) and a large one, which rolls microseconds later, before any
    // pool thread can have started on the request.
    let appended: Vec<Vec<Expected>> = logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let first = i as u64 * 3;
            let mut records = vec![append(log, &clock, first, DATA_BYTES, None)];
            let batch = [(first + 1, SMALL_BYTES), (first + 2, DATA_BYTES)];
            let keys: Vec<String> = batch.iter().map(|&(id, _)| key(id)).collect();
            let data: Vec<Vec<u8>> = batch.iter().map(|&(id, len)| payload(id, len)).collect();
            let inputs: Vec<RecordInput<'_>> = keys
                .iter()
                .zip(&data)
                .map(|(key, data)| RecordInput::new(key, data))
                .collect();
            let numbers = log.append_batch(&inputs).expect("appending the batch");
            for ((sequence_number, key), data) in numbers.into_iter().zip(keys).zip(data) {
                records.push(Expected {
                    sequence_number,
                    arrival_ms: shardlog::Clock::now_ms(&*clock),
                    key,
                    hash_key: None,
                    data,
                });
            }
            records
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
