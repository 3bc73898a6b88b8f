//! Unit tests of leaving a latch: a log whose sync failed reopens from disk in place
//! (`ShardLog::recover_if_latched`), keeps every acknowledged record, never hands out a counter
//! twice, and its readers neither repeat nor skip a record across the reopen. The failure is the
//! log's file system, a `FaultyFileSystem`: a real failing fsync needs a failing device.

use std::sync::Arc;

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::file_system::{FaultyFileSystem, FileSystem};
use crate::sequence::ShardIdentity;

const SHARD: ShardIdentity = ShardIdentity {
    index: 3,
    created_secs: 1_700_000_000,
};

fn sync_options(clock: &Arc<ManualClock>) -> LogOptions {
    LogOptions::new(SHARD)
        .durability(Durability::Sync)
        .segment_bytes(64 * 1024)
        .record_data_bytes_max(16 * 1024)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
}

fn counters(reader: &mut LogReader) -> Vec<u64> {
    let mut records = Vec::new();
    while reader.read_into(&mut records, 1000).unwrap() > 0 {}
    records
        .iter()
        .map(|record| record.sequence_number().counter())
        .collect()
}

/// Appends a record of about 300 bytes: 200 of them fill more than a young shard's first segment,
/// so the log rolls before the failure and after the reopen.
fn append(log: &ShardLog, clock: &ManualClock, data: &str) -> LogResult<SequenceNumber> {
    clock.advance_ms(1);
    let data = format!("{data:>300}");
    log.append(RecordInput::new("key", data.as_bytes()))
}

#[test]
fn a_latched_log_reopens_in_place_keeps_what_was_acknowledged_and_never_reuses_a_counter() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let disk = Arc::new(FaultyFileSystem::new());
    let options = sync_options(&clock).file_system(Arc::clone(&disk) as Arc<dyn FileSystem>);
    let (log, _) = ShardLog::open(dir.path(), options).unwrap();
    let mut acknowledged = Vec::new();
    for i in 0..200 {
        acknowledged.push(append(&log, &clock, &format!("acknowledged {i}")).unwrap());
    }
    // Readers from before the failure: one that has read everything, one not started.
    let mut caught_up = log.reader(SeekTo::Oldest).unwrap();
    assert_eq!(counters(&mut caught_up).len(), 200);
    let mut from_the_start = log.reader(SeekTo::Oldest).unwrap();
    let mut at_the_end = log.reader(SeekTo::Latest).unwrap();
    assert!(
        log.inner().unwrap().segments.read().len() > 1,
        "the log rolled"
    );

    disk.fail_next_sync();
    let failed = append(&log, &clock, "its sync failed: never acknowledged");
    assert!(matches!(failed, Err(LogError::Io { .. })), "{failed:?}");
    let refused = append(&log, &clock, "refused");
    assert!(matches!(refused, Err(LogError::Latched)), "{refused:?}");
    assert!(log.recover_if_latched().unwrap().is_some());
    assert!(
        log.recover_if_latched().unwrap().is_none(),
        "a log that is not latched is left alone"
    );

    // Takes appends again, above every counter handed out, the failed append's included.
    let last_handed_out = acknowledged.last().unwrap().counter() + 1;
    for i in 0..200 {
        let sequence_number = append(&log, &clock, &format!("after {i}")).unwrap();
        assert!(sequence_number.counter() > last_handed_out);
        acknowledged.push(sequence_number);
    }
    let expected: Vec<u64> = acknowledged.iter().map(|s| s.counter()).collect();
    // Every acknowledged record, once, in order; the unacknowledged one may be kept.
    for (name, reader, skip) in [
        ("a caught-up reader", &mut caught_up, 200),
        ("a reader from the start", &mut from_the_start, 0),
        ("a reader at the end", &mut at_the_end, 200),
    ] {
        let read: Vec<u64> = counters(reader)
            .into_iter()
            .filter(|&counter| counter != last_handed_out)
            .collect();
        assert_eq!(read, expected[skip..], "{name}");
    }
    let mut fresh = log.reader(SeekTo::Oldest).unwrap();
    let read: Vec<u64> = counters(&mut fresh)
        .into_iter()
        .filter(|&counter| counter != last_handed_out)
        .collect();
    assert_eq!(read, expected);

    // And so does a reopen of the files.
    log.close().unwrap();
    let (log, report) = ShardLog::open(dir.path(), sync_options(&clock)).unwrap();
    assert!(report.clean_shutdown);
    let mut reader = log.reader(SeekTo::Oldest).unwrap();
    let read: Vec<u64> = counters(&mut reader)
        .into_iter()
        .filter(|&counter| counter != last_handed_out)
        .collect();
    assert_eq!(read, expected);
    let next = append(&log, &clock, "next").unwrap();
    assert!(next > *acknowledged.last().unwrap());
}
