//! A log still taking records keeps the file of its newest expired segment and makes its next
//! segment from it, old frames and all (issue 11: reuse instead of first touch). These tests check
//! that the reuse happens, that nothing but the new frames is ever read from such a file, through a
//! clean reopen, a crash, a power loss that drops a page (which in a reused file reads back as the
//! old contents, not zeros) and a lost trim; and that readers and idle logs are spared it.
//!
//! Segments are 16 KiB, records 500-700 bytes: about 25 records a segment.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, SeekTo, ShardLog};

const SEGMENT_BYTES: u64 = 16 * 1024;
const RECYCLED: &str = "segment.recycled";
const PAGE: usize = 4096;

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("stat").ino()
}

/// A log at the moment of interest, and what a test needs to know about it.
struct Recycled {
    dir: tempfile::TempDir,
    clock: std::sync::Arc<shardlog::ManualClock>,
    options: shardlog::LogOptions,
    log: ShardLog,
    /// Records that retention did not delete, in order.
    expected: Vec<Expected>,
    /// The image of the directory just before retention ran, for the old contents of the
    /// recycled file.
    before_retention: Image,
    /// Name of the expired segment whose file was recycled.
    recycled_from: String,
    /// Base of the segment made from the recycled file.
    reused_base: u64,
    next_id: u64,
}

/// Writes three segments, lets the first two expire while the third still takes records, and
/// appends until a new segment is made from the recycled file. With `seal_reused`, appends go on
/// until that segment is sealed and another follows it.
fn recycled_log(seal_reused: bool) -> Recycled {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let old = append_until_segments(&log, &clock, 0, 3, 2);
    let bases = segment_bases(dir.path());
    clock.advance_ms(60_000);
    let cutoff = clock.now_ms_for_tests();
    let mut expected = with_counters_in(&old, bases[2], u64::MAX);
    let mut next_id = old.len() as u64;
    expected.extend(append_many(&log, &clock, next_id..next_id + 2, |_| 600));
    next_id += 2;

    let before_retention = Image::capture(dir.path());
    let recycled_from = segment_name(bases[1]);
    let recycled_inode = inode(&dir.path().join(&recycled_from));
    let report = log.delete_segments_older_than(cutoff).expect("retention");
    assert_eq!(report.segments_deleted, bases[..2].to_vec(), "{report:?}");
    assert_eq!(report.segments_recycled, 1, "{report:?}");
    assert_eq!(
        inode(&dir.path().join(RECYCLED)),
        recycled_inode,
        "the newest expired segment's file is kept"
    );

    let wanted_segments = if seal_reused { 3 } else { 2 };
    while segment_bases(dir.path()).len() < wanted_segments {
        expected.extend(append_many(&log, &clock, next_id..next_id + 1, |id| {
            500 + (id as usize * 41) % 200
        }));
        next_id += 1;
    }
    let reused_base = segment_bases(dir.path())[1];
    assert_eq!(
        inode(&dir.path().join(segment_name(reused_base))),
        recycled_inode,
        "the next segment is made from the recycled file"
    );
    assert!(!dir.path().join(RECYCLED).exists());
    Recycled {
        dir,
        clock,
        options,
        log,
        expected,
        before_retention,
        recycled_from,
        reused_base,
        next_id,
    }
}

trait NowForTests {
    fn now_ms_for_tests(&self) -> u64;
}

impl NowForTests for shardlog::ManualClock {
    fn now_ms_for_tests(&self) -> u64 {
        shardlog::Clock::now_ms(self)
    }
}

/// The end of the frames of the reused segment in `image`, checking that stale frames of the old
/// file follow them (otherwise these tests would not test what they say).
fn data_end_with_stale_frames_after(image: &Image, base: u64) -> usize {
    let file = image.file(&segment_name(base));
    let end = frames(file)
        .last()
        .expect("the reused segment holds frames")
        .end();
    let stale = frames_from(file, end);
    assert!(
        !stale.is_empty() && stale.iter().all(|frame| frame.counter < base),
        "stale frames with lower counters follow the data at {end}"
    );
    end
}

/// The valid frames that lie at frame boundaries of the old contents after `from` (a stale frame
/// is found by trying every offset: the old frames are not aligned with the new ones).
fn frames_from(file: &[u8], from: usize) -> Vec<FrameAt> {
    (from..file.len())
        .find_map(|offset| {
            shardlog::log::frame::decode(&file[offset..])
                .ok()
                .map(|frame| FrameAt {
                    offset,
                    len: frame.frame_len,
                    counter: frame.counter,
                })
        })
        .into_iter()
        .collect()
}

#[test]
fn the_next_segment_reuses_the_file_and_a_clean_reopen_reads_no_stale_frame() {
    let setup = recycled_log(false);
    assert_records(&read_all(&setup.log), &setup.expected, "before close");
    setup.log.close().expect("close");
    let image = Image::capture(setup.dir.path());
    data_end_with_stale_frames_after(&image, setup.reused_base);

    let (log, report) = open(setup.dir.path(), &setup.options);
    assert!(report.clean_shutdown, "{report:?}");
    assert_eq!(report.frames_scanned, 0, "a clean open scans nothing");
    assert_eq!(report.truncation, None, "{report:?}");
    assert_records(&read_all(&log), &setup.expected, "after a clean reopen");
    let more = append(&log, &setup.clock, setup.next_id, 300, None);
    assert!(more.counter() > setup.expected.last().unwrap().counter());
}

#[test]
fn a_crash_in_a_reused_segment_keeps_every_record_and_reports_no_cut() {
    let setup = recycled_log(false);
    let Recycled {
        dir,
        clock,
        options,
        log,
        expected,
        ..
    } = setup;
    crash(log);
    let (log, report) = open(dir.path(), &options);
    assert!(!report.clean_shutdown);
    assert_eq!(report.truncation, None, "stale frames are not a torn tail");
    assert!(report.segments_removed.is_empty(), "{report:?}");
    assert_records(&read_all(&log), &expected, "after a crash");
    let more = append(&log, &clock, 1_000_000, 300, None);
    assert!(more.counter() > expected.last().unwrap().counter());
    log.close().expect("close");
    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown);
    let mut all = expected;
    all.push(more);
    assert_records(&read_all(&log), &all, "after appending past the crash");
}

/// What a crash left of a [`Recycled`] log: its files as a restarted process finds them, and what
/// the checks need.
struct Crashed {
    image: Image,
    options: shardlog::LogOptions,
    expected: Vec<Expected>,
    /// The recycled file's contents before its reuse: what a lost page of it reads back as.
    old_contents: Vec<u8>,
    /// Name of the segment made from the recycled file.
    reused: String,
}

impl Recycled {
    /// Appends until the reused segment holds data past its second page (if it is still the
    /// active one), then crashes the log.
    fn fill_past_the_second_page_and_crash(mut self) -> Crashed {
        let reused = segment_name(self.reused_base);
        let reused_path = self.dir.path().join(&reused);
        while segment_bases(self.dir.path()).len() == 2
            && frames(&std::fs::read(&reused_path).unwrap())
                .last()
                .is_none_or(|frame| frame.end() < 3 * PAGE)
        {
            let record = append(&self.log, &self.clock, self.next_id, 600, None);
            self.expected.push(record);
            self.next_id += 1;
        }
        crash(self.log);
        Crashed {
            image: Image::capture(self.dir.path()),
            options: self.options,
            expected: self.expected,
            old_contents: self.before_retention.file(&self.recycled_from).to_vec(),
            reused,
        }
    }
}

impl Crashed {
    /// Writes the (damaged) image into a fresh directory and opens it.
    fn reopen(&self) -> (tempfile::TempDir, ShardLog, shardlog::RecoveryReport) {
        let restored = scratch_dir();
        self.image.restore(restored.path());
        let (log, report) = open(restored.path(), &self.options);
        (restored, log, report)
    }
}

#[test]
fn a_lost_trim_of_a_sealed_reused_segment_is_trimmed_again_and_loses_nothing() {
    let mut crashed = recycled_log(true).fill_past_the_second_page_and_crash();
    // The power went before the seal's trim reached the disk: the file still has its old length,
    // and the old contents past the new data.
    let old = crashed.old_contents.clone();
    let sealed = crashed.image.file_mut(&crashed.reused);
    let data_len = sealed.len();
    assert!(
        data_len < old.len(),
        "the sealed reused segment was trimmed"
    );
    sealed.extend_from_slice(&old[data_len..]);

    let (restored, log, report) = crashed.reopen();
    assert_eq!(report.truncation, None, "{report:?}");
    assert!(report.segments_removed.is_empty(), "{report:?}");
    assert_records(&read_all(&log), &crashed.expected, "after a lost trim");
    let len = std::fs::metadata(restored.path().join(&crashed.reused))
        .unwrap()
        .len();
    assert_eq!(len as usize, data_len, "trimmed again");
}

/// A page of the reused segment's data that did not reach the disk reads back as the file's old
/// contents: the log must end before it, with no record of a later segment kept (no hole), and no
/// counter handed out again.
fn lose_a_page_of_the_reused_segment(seal_reused: bool) {
    let mut crashed = recycled_log(seal_reused).fill_past_the_second_page_and_crash();
    let lost = PAGE..2 * PAGE;
    let reused_frames = frames(crashed.image.file(&crashed.reused));
    let first_lost_counter = reused_frames
        .iter()
        .find(|frame| frame.end() > lost.start)
        .expect("frames reach the lost page")
        .counter;
    let old = crashed.old_contents[lost.clone()].to_vec();
    crashed.image.file_mut(&crashed.reused)[lost].copy_from_slice(&old);

    let (_restored, log, report) = crashed.reopen();
    let kept: Vec<Expected> = crashed
        .expected
        .iter()
        .filter(|record| record.counter() < first_lost_counter)
        .cloned()
        .collect();
    assert_records(
        &read_all(&log),
        &kept,
        "an exact prefix, ending before the lost page",
    );
    let reused_base: u64 = crashed.reused.trim_end_matches(".seg").parse().unwrap();
    let later: Vec<u64> = crashed
        .image
        .segment_bases()
        .into_iter()
        .filter(|&base| base > reused_base)
        .collect();
    assert_eq!(later.is_empty(), !seal_reused, "the case is the one named");
    assert_eq!(report.segments_removed, later, "{report:?}");
    assert!(
        report.next_counter > crashed.expected.last().unwrap().counter(),
        "no counter is handed out twice"
    );
}

#[test]
fn a_lost_page_in_a_sealed_reused_segment_ends_the_log_there_and_drops_later_segments() {
    lose_a_page_of_the_reused_segment(true);
}

#[test]
fn a_lost_page_in_the_active_reused_segment_ends_the_log_there() {
    lose_a_page_of_the_reused_segment(false);
}

#[test]
fn a_reader_still_in_an_expired_segment_keeps_its_file_from_reuse() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let old = append_until_segments(&log, &clock, 0, 3, 2);
    let bases = segment_bases(dir.path());
    // Only the records are kept, not the reader: they alone pin the segment's mapping.
    let held = log
        .reader(SeekTo::Oldest)
        .and_then(|mut reader| reader.next_batch(40))
        .expect("read");
    assert!(
        held.iter()
            .any(|record| record.sequence_number().counter() >= bases[1]),
        "the reader is in the newest segment to expire"
    );
    clock.advance_ms(60_000);
    let cutoff = clock.now_ms_for_tests();
    append_many(&log, &clock, 10_000..10_002, |_| 600);
    let report = log.delete_segments_older_than(cutoff).expect("retention");
    assert_eq!(report.segments_deleted, bases[..2].to_vec());
    assert_eq!(report.segments_recycled, 0, "a reader holds it");
    assert!(!dir.path().join(RECYCLED).exists());
    append_many(&log, &clock, 10_002..10_100, |_| 600);
    let expected: Vec<Expected> = old.iter().take(held.len()).cloned().collect();
    assert_records(&held, &expected, "records held across retention and rolls");
}

#[test]
fn an_idle_log_and_a_reopen_give_the_recycled_file_back() {
    let setup = recycled_log(false);
    let Recycled {
        dir,
        clock,
        options,
        log,
        ..
    } = setup;
    // Expire again while busy: a new recycled file waits for the next roll.
    clock.advance_ms(60_000);
    let cutoff = clock.now_ms_for_tests();
    let mut id = 3_000_000;
    while segment_bases(dir.path()).len() < 3 {
        append(&log, &clock, id, 600, None);
        id += 1;
    }
    let report = log.delete_segments_older_than(cutoff).expect("retention");
    assert_eq!(report.segments_recycled, 1, "{report:?}");
    assert!(dir.path().join(RECYCLED).exists());
    log.close().expect("close");
    let (log, _) = open(dir.path(), &options);
    assert!(!dir.path().join(RECYCLED).exists(), "a reopen deletes it");

    clock.advance_ms(60_000);
    let cutoff = clock.now_ms_for_tests();
    while segment_bases(dir.path()).len() < 3 {
        append(&log, &clock, id, 600, None);
        id += 1;
    }
    clock.advance_ms(60_000);
    log.delete_segments_older_than(cutoff).expect("retention");
    assert!(dir.path().join(RECYCLED).exists());
    // Nothing written since: the active segment expires too, and the log is idle.
    let idle_cutoff = clock.now_ms_for_tests();
    let report = log
        .delete_segments_older_than(idle_cutoff)
        .expect("retention");
    assert!(!report.segments_deleted.is_empty());
    assert!(
        !dir.path().join(RECYCLED).exists(),
        "an idle log keeps no spare file"
    );
}
