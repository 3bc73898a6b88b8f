//! Crash images: one 4 KiB page in the middle of the unsynced tail of the active segment reads back
//! as zeros (a power loss dropped it while later pages reached the disk), with valid frames after
//! it. Recovery must cut at the first record touching that page and drop every later record, and
//! those later records must never come back: not after new appends, another crash and a reopen,
//! nor after a clean close and reopen.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::Durability;

const PAGE: usize = 4096;
const SEGMENT_BYTES: u64 = 64 * 1024;

#[test]
fn recovery_drops_everything_after_a_lost_page_in_the_unsynced_tail() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    // Record sizes that are not a divisor of the page size, so pages start anywhere in a frame.
    let mut appended = append_many(&log, &clock, 0..4, |id| 200 + id as usize);
    log.sync().unwrap();
    appended.extend(append_many(&log, &clock, 4..120, |id| {
        150 + (id as usize * 37) % 300
    }));
    crash(log);
    let image = Image::capture(dir.path());
    let active = segment_name(0);
    let frames = frames(image.file(&active));
    assert_eq!(frames.len(), appended.len(), "everything is in one segment");
    // Records 0..4 were synced; the pages checked lie wholly after them.
    let durable_end = frames[4].offset;
    let highest_handed_out = appended.last().unwrap().counter();
    let data_end = frames.last().unwrap().end();

    // Every whole page past the durable point that has at least one whole frame after it.
    let first_page = durable_end.div_ceil(PAGE);
    let mut pages_checked = 0;
    for page in first_page.. {
        let (lost_from, lost_to) = (page * PAGE, (page + 1) * PAGE);
        if frames.iter().all(|f| f.offset < lost_to) {
            break;
        }
        let context = format!("page at {lost_from} lost");
        let first_hit = frames
            .iter()
            .position(|f| f.end() > lost_from && f.offset < lost_to)
            .unwrap();
        let mut damaged = image.clone();
        damaged.file_mut(&active)[lost_from..lost_to].fill(0);
        let dir = scratch_dir();
        damaged.restore(dir.path());
        let clock = crate::support::shard_log::clock();
        clock.set_ms(appended.last().unwrap().arrival_ms);
        let options =
            crate::support::shard_log::options(&clock, SEGMENT_BYTES, Durability::PageCache);

        let (log, report) = open(dir.path(), &options);
        let truncation = report
            .truncation
            .as_ref()
            .unwrap_or_else(|| panic!("{context}: no cut reported: {report:?}"));
        assert_eq!(
            truncation.offset, frames[first_hit].offset as u64,
            "{context}: cut at the wrong place"
        );
        assert!(report.next_counter > highest_handed_out, "{context}");
        assert_records(&read_all(&log), &appended[..first_hit], &context);

        // Small new records, ending well before the old data did, then a crash.
        let mut expected = appended[..first_hit].to_vec();
        expected.extend(append_many(&log, &clock, 1000..1003, |_| 10));
        crash(log);
        let (log, report) = open(dir.path(), &options);
        assert_eq!(
            report.truncation, None,
            "{context}: the second recovery found a torn tail"
        );
        assert_records(
            &read_all(&log),
            &expected,
            &format!("{context}, second crash"),
        );
        let on_disk = std::fs::read(dir.path().join(&active)).unwrap();
        let new_end = crate::support::shard_log::frames(&on_disk)
            .last()
            .map_or(64, FrameAt::end);
        assert!(
            new_end < data_end && on_disk[new_end..].iter().all(|&b| b == 0),
            "{context}: stale bytes remain after the new records"
        );

        expected.extend(append_many(&log, &clock, 2000..2002, |_| 10));
        log.close().unwrap();
        let (log, report) = open(dir.path(), &options);
        assert!(report.clean_shutdown, "{context}");
        let all = read_all(&log);
        assert_records(&all, &expected, &format!("{context}, clean reopen"));
        assert_strictly_increasing(&all, &context);
        drop(log);
        pages_checked += 1;
    }
    assert!(pages_checked >= 5, "only {pages_checked} pages checked");
}
