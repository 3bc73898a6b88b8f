//! Crash image: the active segment was shortened to a few bytes past its header, inside its first
//! record (the file-shortening crash image of the tail-truncation test, at its most extreme; also
//! what a crash between the two `set_len` calls of a cut leaves behind). Recovery cuts that record,
//! and the shortened segment cannot hold a new one, so the next append rolls and an empty segment
//! is left between segments with records. Reads and every kind of seek must still be exact; in
//! particular `AtTimestamp` must never return records that arrived before the timestamp.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, SeekTo, ShardLog};

const SEGMENT_BYTES: u64 = 8 * 1024;

#[test]
fn seeking_by_timestamp_is_right_when_recovery_left_an_empty_segment() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let appended = append_until_segments(&log, &clock, 0, 2, 3);
    crash(log);
    let bases = segment_bases(dir.path());
    assert_eq!(bases.len(), 2);
    let active = dir.path().join(segment_name(bases[1]));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&active)
        .unwrap();
    file.set_len(SEGMENT_HEADER as u64 + 10).unwrap();
    drop(file);

    let (log, report) = open(dir.path(), &options);
    assert_eq!(
        report
            .truncation
            .as_ref()
            .map(|t| (t.segment_base, t.offset)),
        Some((bases[1], SEGMENT_HEADER as u64))
    );
    let mut expected = with_counters_in(&appended, 0, bases[1]);
    assert_records(&read_all(&log), &expected, "after recovery");

    // Later records, in a new segment after the empty one.
    clock.advance_ms(1000);
    expected.extend(append_many(&log, &clock, 100..110, |_| 200));
    assert_eq!(
        segment_bases(dir.path()).len(),
        3,
        "the shortened segment was rolled"
    );

    check_seeks(&log, &expected, "after the roll");
    log.close().unwrap();
    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown);
    check_seeks(&log, &expected, "after a clean reopen");
}

/// Reads everything, and seeks by every stored arrival time (and one past it, and one before the
/// first) and by every stored sequence number.
fn check_seeks(log: &ShardLog, expected: &[Expected], context: &str) {
    assert_records(&read_all(log), expected, context);
    let mut targets: Vec<u64> = expected.iter().map(|e| e.arrival_ms).collect();
    targets.extend(expected.iter().map(|e| e.arrival_ms + 1));
    targets.push(expected[0].arrival_ms - 1);
    for target in targets {
        let from = expected.partition_point(|e| e.arrival_ms < target);
        assert_records(
            &read_from(log, SeekTo::AtTimestamp(target)),
            &expected[from..],
            &format!("{context}: AtTimestamp({target})"),
        );
    }
    for (i, record) in expected.iter().enumerate() {
        assert_records(
            &read_from(log, SeekTo::AtSequence(record.sequence_number)),
            &expected[i..],
            &format!("{context}: AtSequence of record {i}"),
        );
    }
}
