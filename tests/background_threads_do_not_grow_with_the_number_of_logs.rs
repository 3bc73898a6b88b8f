//! A log has no thread of its own. Hundreds of logs that each need background work (segments
//! prepared ahead, pre-faulting, and a sync 50 ms after an unsynced append in
//! `Durability::Interval`) share one process-wide pool, so the process gains at most
//! `background_threads_max()` threads (one per core) however many logs there are; a thread per
//! log would add hundreds. The pool does the work: the last log written gets its periodic sync
//! (its checkpoint is rewritten with the new durable point), and every record reads back after
//! a clean close and reopen.
//!
//! The thread count is process-wide, so this scenario is its own test binary: the harness runs
//! its one test on one thread, which exists both before and after the logs are opened.

#[path = "support/mod.rs"]
mod support;

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use shardlog::log::{background_threads, background_threads_max};
use shardlog::{Durability, LogOptions, ShardLog};
use support::scratch_dir;
use support::shard_log::*;

const RECORDS_PER_LOG: u64 = 8;
const DATA_BYTES: usize = 1000;
const SYNC_INTERVAL_MS: u64 = 50;

fn process_threads() -> usize {
    let status = fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .expect("a Threads line in /proc/self/status")
        .trim()
        .parse()
        .expect("a thread count")
}

#[test]
fn background_threads_do_not_grow_with_the_number_of_logs() {
    // Enough logs that a thread per log could not hide under one thread per core.
    let logs_count = 300.max(4 * background_threads_max());
    let root = scratch_dir();
    let clock = clock();
    let options = LogOptions::new(SHARD)
        .initial_segment_bytes(4096)
        .segment_bytes(64 * 1024)
        .record_data_bytes_max(DATA_BYTES)
        .durability(Durability::Interval(Duration::from_millis(
            SYNC_INTERVAL_MS,
        )))
        .prepare_segments_in_background(true)
        .clock(Arc::clone(&clock) as Arc<dyn shardlog::Clock>);
    let threads_before = process_threads();
    let pool_before = background_threads();

    let dirs: Vec<_> = (0..logs_count)
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
    // The last log's periodic sync is due 50 ms after its first append; so far the checkpoint
    // holds the durable point of its roll (the fourth record), not of its last four records.
    let last_checkpoint = dirs.last().expect("some logs").join("checkpoint");
    let checkpoint_before = fs::read(&last_checkpoint).expect("reading a checkpoint");
    std::thread::sleep(Duration::from_millis(6 * SYNC_INTERVAL_MS));
    assert_ne!(
        fs::read(&last_checkpoint).expect("reading a checkpoint"),
        checkpoint_before,
        "the pool never ran the last log's periodic sync"
    );

    let threads_after = process_threads();
    let pool_after = background_threads();
    assert!(
        pool_after <= background_threads_max(),
        "the pool runs {pool_after} threads, more than its maximum {}",
        background_threads_max()
    );
    assert!(
        threads_after <= threads_before + background_threads_max(),
        "the process went from {threads_before} to {threads_after} threads with {logs_count} \
         logs open; the pool may add at most {} (it grew from {pool_before} to {pool_after})",
        background_threads_max()
    );
    assert!(
        threads_after.saturating_sub(threads_before) <= pool_after - pool_before,
        "the process gained {} threads, the pool only {}",
        threads_after.saturating_sub(threads_before),
        pool_after - pool_before
    );
    for dir in &dirs {
        assert_eq!(segment_bases(dir).len(), 2, "segments of {}", dir.display());
    }

    for log in logs {
        log.close().expect("closing a log");
    }
    for (dir, expected) in dirs.iter().zip(&appended) {
        let (log, _) = open(dir, &options);
        assert_records(&read_all(&log), expected, &dir.display().to_string());
    }
    assert!(process_threads() <= threads_before + background_threads_max());
}
