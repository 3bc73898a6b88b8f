//! Crash images in `PageCache` mode, where segment headers are never synced: a power loss drops the
//! first page of the second of three segments (its header reads back as zeros) while the third
//! segment reached the disk. Everything from that segment on lies beyond the checkpoint's durable
//! point, so this is a torn tail like any other (recovery.rs: "after it, it is a torn tail: ...
//! later segments are deleted"; FORMAT.md §6: in `PageCache` mode "an exact prefix survives").
//! The log must open, keep every record of the first segment and nothing after it, and work on.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, ShardLog};

const SEGMENT_BYTES: u64 = 8 * 1024;

#[test]
fn recovery_treats_a_lost_segment_header_beyond_the_durable_point_as_a_torn_tail() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let appended = append_until_segments(&log, &clock, 0, 3, 2);
    crash(log);
    let mut image = Image::capture(dir.path());
    let bases = image.segment_bases();
    assert_eq!(bases.len(), 3);
    image.file_mut(&segment_name(bases[1]))[..4096].fill(0);

    let dir = scratch_dir();
    image.restore(dir.path());
    let (log, report) = match ShardLog::open(dir.path(), options.clone()) {
        Ok(opened) => opened,
        Err(error) => {
            panic!("a lost header beyond the durable point made the log unopenable: {error}")
        }
    };
    let kept = with_counters_in(&appended, 0, bases[1]);
    assert_records(&read_all(&log), &kept, "after recovery");
    assert_eq!(report.segments_removed, bases[1..].to_vec());
    assert!(report.next_counter > appended.last().unwrap().counter());
    let mut expected = kept;
    expected.extend(append_many(&log, &clock, 500..503, |_| 100));
    log.close().unwrap();
    let (log, _) = open(dir.path(), &options);
    assert_records(&read_all(&log), &expected, "after a clean reopen");
}
