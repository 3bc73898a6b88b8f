//! Clean shutdown: after `close()`, reopening reports a clean shutdown, scans no frame, rebuilds
//! no index, and counters continue contiguously. When index files are missing, garbled or cut
//! short, the log still opens cleanly, rebuilds exactly those indexes by scanning their segments, and
//! every kind of seek still lands on the right record.

use std::fs;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, SeekTo, ShardLog};

const SEGMENT_BYTES: u64 = 8 * 1024;

/// Every seek, for every record, lands where the model says.
fn check_seeks(log: &ShardLog, expected: &[Expected], context: &str) {
    assert_records(&read_all(log), expected, context);
    for (i, record) in expected.iter().enumerate() {
        let at = read_from(log, SeekTo::AtSequence(record.sequence_number));
        assert_records(&at, &expected[i..], &format!("{context}: AtSequence({i})"));
        let after = read_from(log, SeekTo::AfterSequence(record.sequence_number));
        assert_records(
            &after,
            &expected[i + 1..],
            &format!("{context}: AfterSequence({i})"),
        );
        let first_at_time = expected
            .iter()
            .position(|e| e.arrival_ms >= record.arrival_ms)
            .unwrap();
        let at_time = read_from(log, SeekTo::AtTimestamp(record.arrival_ms));
        assert_records(
            &at_time,
            &expected[first_at_time..],
            &format!("{context}: AtTimestamp of record {i}"),
        );
    }
    let last = expected.last().unwrap();
    assert!(read_from(log, SeekTo::AtTimestamp(last.arrival_ms + 1)).is_empty());
    assert!(read_from(log, SeekTo::Latest).is_empty());
}

#[test]
fn a_clean_reopen_scans_nothing_and_rebuilds_missing_indexes() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut expected = append_until_segments(&log, &clock, 0, 4, 3);
    log.close().unwrap();
    let bases = segment_bases(dir.path());
    assert_eq!(bases.len(), 4);
    for &base in &bases {
        assert!(
            dir.path().join(index_name(base)).exists(),
            "no index file for segment {base} after a clean close"
        );
    }

    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown, "{report:?}");
    assert_eq!(
        (
            report.frames_scanned,
            report.bytes_scanned,
            report.indexes_rebuilt
        ),
        (0, 0, 0),
        "{report:?}"
    );
    assert_eq!(report.truncation, None);
    assert_eq!(report.segments, 4);
    let last = expected.last().unwrap().counter();
    assert_eq!(
        report.next_counter,
        last + 1,
        "counters continue after a clean close"
    );
    check_seeks(&log, &expected, "clean reopen");
    let next = append_many(&log, &clock, 1000..1001, |_| 50);
    assert_eq!(next[0].counter(), last + 1);
    expected.extend(next);
    log.close().unwrap();

    // One sealed segment's index file is missing.
    fs::remove_file(dir.path().join(index_name(bases[1]))).unwrap();
    let (log, report) = open(dir.path(), &options);
    let in_second = with_counters_in(&expected, bases[1], bases[2]).len() as u64;
    assert!(report.clean_shutdown, "{report:?}");
    assert_eq!(report.indexes_rebuilt, 1, "{report:?}");
    assert_eq!(report.frames_scanned, in_second, "{report:?}");
    check_seeks(&log, &expected, "index of the second segment missing");
    log.close().unwrap();

    // The first is cut short, the third garbled, the active one missing.
    let first = dir.path().join(index_name(bases[0]));
    let bytes = fs::read(&first).unwrap();
    fs::write(&first, &bytes[..bytes.len() / 2]).unwrap();
    let third = dir.path().join(index_name(bases[2]));
    let mut bytes = fs::read(&third).unwrap();
    bytes[20] ^= 0x40;
    fs::write(&third, &bytes).unwrap();
    fs::remove_file(dir.path().join(index_name(bases[3]))).unwrap();
    // A rebuilt index of a sealed segment may or may not have been written back since.
    let second_rewritten = dir.path().join(index_name(bases[1])).exists();
    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown, "{report:?}");
    let (rebuilt, scanned) = if second_rewritten {
        (3, expected.len() as u64 - in_second)
    } else {
        (4, expected.len() as u64)
    };
    assert_eq!(report.indexes_rebuilt, rebuilt, "{report:?}");
    assert_eq!(report.frames_scanned, scanned, "{report:?}");
    check_seeks(&log, &expected, "three index files damaged");
    assert_eq!(report.next_counter, expected.last().unwrap().counter() + 1);
}
