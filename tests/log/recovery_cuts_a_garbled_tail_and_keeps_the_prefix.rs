//! Crash images: bytes of the unsynced tail are garbled (every byte of the last record in turn,
//! then every byte of the record before it, whose successor is intact). Recovery keeps exactly the
//! records before the garbled one, reports the cut at that record, drops the intact record after a
//! garbled one too (nothing after a hole survives), and zeroes everything it cut.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::Durability;

const SEGMENT_BYTES: u64 = 16 * 1024;

#[test]
fn recovery_cuts_a_garbled_tail_and_keeps_the_prefix() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut appended = append_many(&log, &clock, 0..6, |id| 30 + id as usize);
    log.sync().unwrap();
    appended.extend(append_many(&log, &clock, 6..10, |id| 5 + id as usize * 3));
    crash(log);
    let image = Image::capture(dir.path());
    let active = segment_name(0);
    let frames = frames(image.file(&active));
    assert_eq!(frames.len(), appended.len());
    let highest_handed_out = appended.last().unwrap().counter();

    let mut checked = 0;
    for garbled in [frames.len() - 1, frames.len() - 2] {
        let frame = frames[garbled];
        for byte in frame.offset..frame.end() {
            let context = format!("record {garbled}, byte {byte} flipped");
            let mut damaged = image.clone();
            damaged.file_mut(&active)[byte] ^= 0x5A;
            let dir = scratch_dir();
            damaged.restore(dir.path());
            let (log, report) = open(dir.path(), &options);
            let truncation = report
                .truncation
                .as_ref()
                .unwrap_or_else(|| panic!("{context}: no cut reported: {report:?}"));
            assert_eq!(
                (truncation.segment_base, truncation.offset),
                (0, frame.offset as u64),
                "{context}: cut at the wrong place ({})",
                truncation.reason
            );
            assert!(report.next_counter > highest_handed_out, "{context}");
            assert_records(&read_all(&log), &appended[..garbled], &context);
            let on_disk = std::fs::read(dir.path().join(&active)).unwrap();
            assert!(
                on_disk[frame.offset..].iter().all(|&b| b == 0),
                "{context}: the cut bytes were not zeroed"
            );
            drop(log);
            checked += 1;
        }
    }
    assert_eq!(checked, frames[8].len + frames[9].len);
}
