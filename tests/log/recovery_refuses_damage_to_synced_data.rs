//! Crash images: a bit of a record that was made durable by `sync()` is flipped (media damage).
//! In the active segment, which recovery scans, opening fails with `Corrupt` at that record. In a
//! sealed segment that recovery trusts through its index file, either opening or reading that
//! record fails with `Corrupt`: a damaged record is never returned and never silently skipped.
//! Without the index file, the sealed segment is scanned and opening fails.

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, LogError, SeekTo, ShardLog};

fn expect_corrupt_at(
    dir: &std::path::Path,
    options: &shardlog::LogOptions,
    file: &str,
    offset: usize,
    context: &str,
) {
    match ShardLog::open(dir, options.clone()) {
        Err(LogError::Corrupt {
            path,
            offset: found,
            reason,
        }) => {
            assert!(
                path.ends_with(file),
                "{context}: corruption in {}",
                path.display()
            );
            assert_eq!(found, offset as u64, "{context}: {reason}");
        }
        Err(error) => panic!("{context}: expected Corrupt, got {error}"),
        Ok((_, report)) => panic!("{context}: opened despite damaged synced data: {report:?}"),
    }
}

#[test]
fn damage_to_synced_records_in_the_active_segment_fails_the_open() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 16 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    append_many(&log, &clock, 0..12, |id| (id as usize * 13) % 90);
    log.sync().unwrap();
    crash(log);
    let image = Image::capture(dir.path());
    let active = segment_name(0);
    let frames = frames(image.file(&active));
    assert_eq!(frames.len(), 12);

    for (i, frame) in frames.iter().enumerate() {
        // A bit in the last byte (data, or key when the data is empty), then one in the counter.
        for (where_, byte) in [("body", frame.end() - 1), ("counter", frame.offset + 12)] {
            let context = format!("record {i}: {where_} bit flipped");
            let mut damaged = image.clone();
            damaged.file_mut(&active)[byte] ^= 0x04;
            let dir = scratch_dir();
            damaged.restore(dir.path());
            expect_corrupt_at(dir.path(), &options, &active, frame.offset, &context);
        }
    }
}

#[test]
fn damage_to_a_synced_sealed_segment_is_never_returned_or_skipped() {
    let dir = scratch_dir();
    let clock = clock();
    let options = options(&clock, 8 * 1024, Durability::PageCache);
    let (log, _) = open(dir.path(), &options);
    let appended = append_until_segments(&log, &clock, 0, 3, 2);
    log.sync().unwrap();
    crash(log);
    let image = Image::capture(dir.path());
    let bases = image.segment_bases();
    let sealed = segment_name(bases[0]);
    let frames = frames(image.file(&sealed));
    assert!(frames.len() >= 8);

    for damaged_record in [0, frames.len() / 2, frames.len() - 1] {
        let frame = frames[damaged_record];
        let context = format!("sealed record {damaged_record} damaged");
        let mut damaged = image.clone();
        damaged.file_mut(&sealed)[frame.offset + frame.len / 2] ^= 0x01;

        // With its index file, the segment may be trusted at open; then reading must fail there.
        let dir = scratch_dir();
        damaged.restore(dir.path());
        match ShardLog::open(dir.path(), options.clone()) {
            Err(LogError::Corrupt { .. }) => {}
            Err(error) => panic!("{context}: expected Corrupt, got {error}"),
            Ok((log, _)) => {
                let mut reader = log.reader(SeekTo::Oldest).unwrap();
                for (i, expected) in appended[..damaged_record].iter().enumerate() {
                    let record = reader
                        .next()
                        .unwrap_or_else(|| panic!("{context}: the log ends at record {i}"))
                        .unwrap_or_else(|error| panic!("{context}: record {i} failed: {error}"));
                    assert!(
                        same_record(&record, expected),
                        "{context}: record {i} differs"
                    );
                }
                match reader.next() {
                    Some(Err(LogError::Corrupt { .. })) => {}
                    Some(Err(error)) => panic!("{context}: expected Corrupt, got {error}"),
                    Some(Ok(record)) => panic!(
                        "{context}: read counter {} instead of an error",
                        record.sequence_number().counter()
                    ),
                    None => panic!("{context}: the log ended at the damaged record"),
                }
                let target = appended[damaged_record].sequence_number;
                let seek = log
                    .reader(SeekTo::AtSequence(target))
                    .and_then(|mut reader| reader.next_batch(1));
                assert!(
                    matches!(seek, Err(LogError::Corrupt { .. })),
                    "{context}: seeking to the damaged record gave {:?}",
                    seek.map(|records| records.len())
                );
            }
        }

        // Without its index file the segment is scanned, and the damage is found at open.
        let dir = scratch_dir();
        damaged.files.remove(&index_name(bases[0]));
        damaged.restore(dir.path());
        expect_corrupt_at(
            dir.path(),
            &options,
            &sealed,
            frame.offset,
            &format!("{context}, index file missing"),
        );
    }
}
