//! Crash images: the active segment's tail is cut at every byte across its last three records,
//! either by shortening the file there or by zeroing every byte from there on (a torn write into
//! preallocated space). Recovery must keep exactly the records that lie wholly before the cut,
//! report a cut whenever a partial frame was left behind, zero what it cut, hand out sequence
//! numbers above every one handed out before the crash, and keep the new records across a reopen.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, SeekTo};

const SEGMENT_BYTES: u64 = 16 * 1024;

#[derive(Clone, Copy, Debug)]
enum Damage {
    /// The file ends at the cut.
    Shorten,
    /// The file keeps its length; every byte from the cut on is zero.
    ZeroFrom,
}

struct CrashImage {
    image: Image,
    appended: Vec<Expected>,
    active: String,
    active_base: u64,
    /// Frames of the active segment; frame `i` holds `appended[i]`.
    frames: Vec<FrameAt>,
    /// The three records past the durable point.
    tail: std::ops::Range<usize>,
}

fn crash_image() -> CrashImage {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let mut appended = append_many(&log, &clock, 0..5, |id| 10 + id as usize * 7);
    log.sync().unwrap();
    // Past the durable point: an empty record with a hash key, a small one, a larger one.
    appended.push(append(&log, &clock, 5, 0, Some(u128::MAX)));
    clock.advance_ms(2);
    appended.push(append(&log, &clock, 6, 17, None));
    appended.push(append(&log, &clock, 7, 40, Some(3)));
    crash(log);

    let image = Image::capture(dir.path());
    let bases = image.segment_bases();
    assert_eq!(bases, vec![0], "everything fits in the first segment");
    let active = segment_name(0);
    let frames = frames(image.file(&active));
    let counters: Vec<u64> = frames.iter().map(|f| f.counter).collect();
    let appended_counters: Vec<u64> = appended.iter().map(Expected::counter).collect();
    assert_eq!(counters, appended_counters, "the image holds every record");
    CrashImage {
        image,
        appended,
        active,
        active_base: 0,
        frames,
        tail: 5..8,
    }
}

/// Damages a copy of the image, recovers it and checks the result; returns whether a cut was expected.
fn check_cut(crashed: &CrashImage, cut: usize, damage: Damage) -> bool {
    let context = format!("cut at byte {cut} ({damage:?})");
    let mut image = crashed.image.clone();
    let segment = image.file_mut(&crashed.active);
    match damage {
        Damage::Shorten => segment.truncate(cut),
        Damage::ZeroFrom => segment[cut..].fill(0),
    }
    let original = crashed.image.file(&crashed.active);

    let kept = crashed.frames.iter().filter(|f| f.end() <= cut).count();
    let partial = crashed
        .frames
        .iter()
        .find(|f| f.offset < cut && cut < f.end());
    // A partial frame whose surviving bytes are all zero is indistinguishable from unwritten space.
    let expected_cut = partial
        .filter(|f| original[f.offset..cut].iter().any(|&b| b != 0))
        .map(|f| (crashed.active_base, f.offset as u64));
    let highest_handed_out = crashed.appended.last().unwrap().counter();

    let dir = scratch_dir();
    image.restore(dir.path());
    let clock = clock();
    clock.set_ms(crashed.appended.last().unwrap().arrival_ms + 10);
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, report) = open(dir.path(), &options);

    assert!(!report.clean_shutdown, "{context}: a crash is not clean");
    assert_eq!(
        report
            .truncation
            .as_ref()
            .map(|t| (t.segment_base, t.offset)),
        expected_cut,
        "{context}: reported truncation {:?}",
        report.truncation
    );
    assert!(report.segments_removed.is_empty(), "{context}");
    assert!(
        report.next_counter > highest_handed_out,
        "{context}: next counter {} does not exceed {highest_handed_out}, handed out before the crash",
        report.next_counter
    );
    assert_records(&read_all(&log), &crashed.appended[..kept], &context);

    // What was cut is gone from the file: no stale bytes after the surviving records.
    let kept_end = crashed.frames[..kept]
        .last()
        .map_or(SEGMENT_HEADER, FrameAt::end);
    let on_disk = std::fs::read(dir.path().join(&crashed.active)).unwrap();
    assert!(
        on_disk[kept_end..].iter().all(|&b| b == 0),
        "{context}: bytes after the last surviving record were not zeroed"
    );

    // New records get larger numbers than anything handed out before, lost records included.
    let new = append_many(&log, &clock, 100..102, |id| id as usize % 50);
    assert!(
        new[0].counter() > highest_handed_out,
        "{context}: counter {} reused after a crash (had handed out up to {highest_handed_out})",
        new[0].counter()
    );
    let reader_from_new = read_from(&log, SeekTo::AtSequence(new[0].sequence_number));
    assert_records(&reader_from_new, &new, &format!("{context}, seek to new"));
    log.close().unwrap();

    let (log, report) = open(dir.path(), &options);
    assert!(
        report.clean_shutdown,
        "{context}: close was clean: {report:?}"
    );
    let mut expected = crashed.appended[..kept].to_vec();
    expected.extend(new);
    let all = read_all(&log);
    assert_records(&all, &expected, &format!("{context}, after reopen"));
    assert_strictly_increasing(&all, &context);
    log.close().unwrap();
    expected_cut.is_some()
}

#[test]
fn recovery_keeps_an_exact_prefix_after_tail_truncation() {
    let crashed = crash_image();
    let from = crashed.frames[crashed.tail.start].offset;
    let to = crashed.frames[crashed.tail.end - 1].end();
    assert!(to - from > 100, "the tail spans {} bytes", to - from);
    let mut reported = 0;
    for cut in from..=to {
        for damage in [Damage::Shorten, Damage::ZeroFrom] {
            reported += usize::from(check_cut(&crashed, cut, damage));
        }
    }
    // Most cuts leave a partial frame behind; the few at frame boundaries do not.
    let cuts = 2 * (to - from + 1);
    assert!(
        reported > cuts / 2 && reported < cuts,
        "{reported} of {cuts} cuts were torn frames"
    );
}
