//! Crash images in `PageCache` mode, where nothing after the creation of the log was synced: a
//! power loss drops a 4 KiB page of a sealed segment while pages of the later segments reach the
//! disk (FORMAT.md §6 assumes exactly this: "a later page may persist while an earlier one does
//! not"). The promise is an exact prefix, never a hole: every record from the lost page on must be
//! gone, including the records in later segments.
//!
//! Two placements of the lost page: in the middle of the sealed segment (valid frames follow it in
//! the same segment) and at its end, where the page starts at a frame boundary so that only zeros
//! follow the last surviving frame.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::Durability;

const PAGE: usize = 4096;
/// 36 header + 9 key + 963 data: four frames after the 64-byte header end exactly at 4096.
const DATA_LEN: usize = 963;

fn crash_image(segment_bytes: u64) -> (Image, Vec<Expected>) {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, segment_bytes, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut appended = Vec::new();
    for id in 10_000..10_030 {
        clock.advance_ms(1);
        appended.push(append(&log, &clock, id, DATA_LEN, None));
    }
    crash(log);
    (Image::capture(dir.path()), appended)
}

fn check(segment_bytes: u64, lost_page: usize, context: &str) {
    let (mut image, appended) = crash_image(segment_bytes);
    let bases = image.segment_bases();
    assert!(bases.len() >= 3, "{context}: {bases:?}");
    let sealed = segment_name(bases[0]);
    let frames = frames(image.file(&sealed));
    assert_eq!(frames[4].offset, PAGE, "frames are laid out as planned");
    let file = image.file_mut(&sealed);
    let lost_to = ((lost_page + 1) * PAGE).min(file.len());
    file[lost_page * PAGE..lost_to].fill(0);
    let first_lost = frames
        .iter()
        .position(|f| f.end() > lost_page * PAGE)
        .unwrap();

    let dir = scratch_dir();
    image.restore(dir.path());
    let clock = crate::support::shard_log::clock();
    let options = options(&clock, segment_bytes, Durability::PageCache);
    let (log, report) = open(dir.path(), &options);
    let read = read_all(&log);
    let kept = assert_exact_prefix(&read, &appended, context);
    assert_eq!(kept, first_lost, "{context}: {report:?}");
    assert_eq!(
        report.segments_removed,
        bases[1..].to_vec(),
        "{context}: later segments must go"
    );
}

#[test]
fn a_lost_page_in_the_middle_of_a_sealed_segment_drops_all_later_segments() {
    // 12 frames in 3 pages; the second page is lost, frames 9..12 after it survive.
    check(3 * PAGE as u64, 1, "middle page of the first segment lost");
}

#[test]
fn a_lost_last_page_of_a_sealed_segment_drops_all_later_segments() {
    // 8 frames in 2 pages; the second page starts with frame 4 and ends the segment.
    check(2 * PAGE as u64, 1, "last page of the first segment lost");
}
