//! Crash images: the newest segment was put into service after the last durable point and its
//! header never reached the disk intact (zeroed, garbled, the whole file still zero, the file
//! empty or shorter than a header). Recovery deletes that segment and reports it, keeps every record
//! of the earlier segments, hands out numbers above every one handed out before, and the log goes
//! on working across a reopen.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::Durability;

const SEGMENT_BYTES: u64 = 8 * 1024;

#[test]
fn recovery_removes_a_half_created_last_segment_beyond_the_durable_point() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, SEGMENT_BYTES, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let appended = append_until_segments(&log, &clock, 0, 3, 3);
    crash(log);
    let image = Image::capture(dir.path());
    let bases = image.segment_bases();
    assert_eq!(bases.len(), 3);
    let last = bases[2];
    let last_name = segment_name(last);
    let kept = with_counters_in(&appended, 0, last);
    assert!(kept.len() >= 10 && kept.len() < appended.len());
    let highest_handed_out = appended.last().unwrap().counter();

    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 6] = [
        ("header zeroed", |file| file[..64].fill(0)),
        ("magic garbled", |file| file[2] ^= 0x10),
        ("base counter garbled", |file| file[25] ^= 0x01),
        ("whole file zero", |file| file.fill(0)),
        ("file empty", |file| file.clear()),
        ("file shorter than a header", |file| file.truncate(40)),
    ];
    for (what, damage) in damages {
        let context = format!("last segment: {what}");
        let mut damaged = image.clone();
        damage(damaged.file_mut(&last_name));
        let dir = scratch_dir();
        damaged.restore(dir.path());
        let clock = crate::support::shard_log::clock();
        clock.set_ms(appended.last().unwrap().arrival_ms);
        let options =
            crate::support::shard_log::options(&clock, SEGMENT_BYTES, Durability::PageCache);

        let (log, report) = match shardlog::ShardLog::open(dir.path(), options.clone()) {
            Ok(opened) => opened,
            Err(error) => panic!("{context}: open failed: {error}"),
        };
        assert_eq!(report.segments_removed, vec![last], "{context}: {report:?}");
        assert_eq!(report.segments, 2, "{context}");
        assert!(report.next_counter > highest_handed_out, "{context}");
        assert!(
            !dir.path().join(&last_name).exists(),
            "{context}: the segment file is still there"
        );
        assert_records(&read_all(&log), &kept, &context);

        let mut expected = kept.clone();
        expected.extend(append_until_segments(&log, &clock, 100, 4, 2));
        assert!(expected.last().unwrap().counter() > highest_handed_out);
        log.close().unwrap();
        let (log, report) = open(dir.path(), &options);
        assert!(report.clean_shutdown, "{context}");
        let all = read_all(&log);
        assert_records(&all, &expected, &format!("{context}, after reopen"));
        assert_strictly_increasing(&all, &context);
    }
}
