//! Stale frames: after recovery cuts a torn tail, new records are written where the cut ones were.
//! Whether the new records are shorter than what was cut (so old bytes would follow them) or longer,
//! and whether the cut deleted later segments, no cut record may ever be read again: not after
//! another crash and recovery, nor after a clean reopen.

use std::collections::HashSet;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, Record};

fn assert_none_resurrected(read: &[Record], cut: &[Expected], context: &str) {
    let cut_keys: HashSet<&str> = cut.iter().map(|e| e.key.as_str()).collect();
    let cut_counters: HashSet<u64> = cut.iter().map(Expected::counter).collect();
    for record in read {
        assert!(
            !cut_keys.contains(record.partition_key())
                && !cut_counters.contains(&record.sequence_number().counter()),
            "{context}: cut record {} (counter {}) came back",
            record.partition_key(),
            record.sequence_number().counter()
        );
    }
}

#[test]
fn records_cut_in_the_active_segment_never_come_back() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 16 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut appended = append_many(&log, &clock, 0..5, |_| 100);
    log.sync().unwrap();
    appended.extend(append_many(&log, &clock, 5..20, |id| 80 + id as usize));
    crash(log);

    // Garble record 8 in place; recovery cuts records 8..20.
    let active = dir.path().join(segment_name(0));
    let mut bytes = std::fs::read(&active).unwrap();
    let frames = frames(&bytes);
    bytes[frames[8].offset + 20] ^= 0xFF;
    std::fs::write(&active, &bytes).unwrap();
    let (log, report) = open(dir.path(), &options);
    assert_eq!(
        report.truncation.as_ref().map(|t| t.offset),
        Some(frames[8].offset as u64)
    );
    let cut = appended.split_off(8);
    assert_records(&read_all(&log), &appended, "after the cut");

    // Shorter records than the cut ones, then a crash.
    appended.extend(append_many(&log, &clock, 100..103, |_| 3));
    crash(log);
    let (log, report) = open(dir.path(), &options);
    assert_eq!(
        report.truncation, None,
        "nothing is torn after the new records"
    );
    let read = read_all(&log);
    assert_records(&read, &appended, "after short appends and a crash");
    assert_none_resurrected(&read, &cut, "after short appends and a crash");

    // Longer records, reaching past where the cut ones ended, then a crash and a clean reopen.
    appended.extend(append_many(&log, &clock, 200..212, |_| 300));
    crash(log);
    let (log, _) = open(dir.path(), &options);
    let read = read_all(&log);
    assert_records(&read, &appended, "after long appends and a crash");
    assert_none_resurrected(&read, &cut, "after long appends and a crash");
    assert_strictly_increasing(&read, "after long appends and a crash");
    log.close().unwrap();
    let (log, _) = open(dir.path(), &options);
    let read = read_all(&log);
    assert_records(&read, &appended, "after a clean reopen");
    assert_none_resurrected(&read, &cut, "after a clean reopen");
}

#[test]
fn records_of_segments_deleted_by_a_cut_never_come_back() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 8 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut appended = append_until_segments(&log, &clock, 0, 4, 3);
    crash(log);

    // Garble a record in the middle of the second segment: it and everything after goes.
    let bases = segment_bases(dir.path());
    let second = dir.path().join(segment_name(bases[1]));
    let mut bytes = std::fs::read(&second).unwrap();
    let frames = frames(&bytes);
    let garbled = frames[frames.len() / 2];
    bytes[garbled.offset + garbled.len - 1] ^= 0x01;
    std::fs::write(&second, &bytes).unwrap();
    let (log, report) = open(dir.path(), &options);
    assert_eq!(
        report
            .truncation
            .as_ref()
            .map(|t| (t.segment_base, t.offset)),
        Some((bases[1], garbled.offset as u64))
    );
    assert_eq!(report.segments_removed, bases[2..].to_vec());
    let keep = appended
        .iter()
        .position(|e| e.counter() == garbled.counter)
        .unwrap();
    let cut = appended.split_off(keep);
    assert_records(&read_all(&log), &appended, "after the cut");

    // Enough new records for two more segments, then a crash.
    appended.extend(append_until_segments(
        &log,
        &clock,
        1000,
        segment_bases(dir.path()).len() + 2,
        2,
    ));
    crash(log);
    let (log, report) = open(dir.path(), &options);
    assert_eq!(report.truncation, None);
    assert!(report.segments_removed.is_empty());
    let read = read_all(&log);
    assert_records(&read, &appended, "after new segments and a crash");
    assert_none_resurrected(&read, &cut, "after new segments and a crash");
    assert_strictly_increasing(&read, "after new segments and a crash");
    log.close().unwrap();
    let (log, _) = open(dir.path(), &options);
    let read = read_all(&log);
    assert_records(&read, &appended, "after a clean reopen");
    assert_none_resurrected(&read, &cut, "after a clean reopen");
}
