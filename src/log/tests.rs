//! Unit tests of the shard log's behaviour through its public operations. Crash images, process
//! kills and the model-based property test live in `tests/`.

use std::sync::Arc;

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::file_system::{FaultyFileSystem, FileSystem};
use crate::record::Record;
use crate::sequence::ShardIdentity;

const SHARD: ShardIdentity = ShardIdentity {
    index: 7,
    created_secs: 1_700_000_000,
};
const START_MS: u64 = 1_700_000_000_000;

fn options(clock: &Arc<ManualClock>) -> LogOptions {
    LogOptions::new(SHARD)
        .segment_bytes(64 * 1024)
        .record_data_bytes_max(16 * 1024)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
}

fn open(dir: &Path, clock: &Arc<ManualClock>) -> ShardLog {
    ShardLog::open(dir, options(clock)).unwrap().0
}

fn read_all(log: &ShardLog, seek: SeekTo) -> Vec<Record> {
    let mut reader = log.reader(seek).unwrap();
    let mut records = Vec::new();
    while reader.read_into(&mut records, 1000).unwrap() > 0 {}
    records
}

fn payload(i: u64) -> Vec<u8> {
    format!("record-{i}-")
        .repeat((i % 50) as usize + 1)
        .into_bytes()
}

/// Appends `count` records, one millisecond apart, and returns their sequence numbers.
fn fill(log: &ShardLog, clock: &ManualClock, count: u64) -> Vec<SequenceNumber> {
    (0..count)
        .map(|i| {
            clock.advance_ms(1);
            let key = format!("key-{}", i % 13);
            log.append(RecordInput::new(&key, &payload(i))).unwrap()
        })
        .collect()
}

#[test]
fn appended_records_read_back_in_order_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let assigned = fill(&log, &clock, 2000);
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records.len(), 2000);
    assert!(
        log.inner().unwrap().segments.read().len() > 3,
        "the test must cross segments"
    );
    for (i, (record, sequence_number)) in records.iter().zip(&assigned).enumerate() {
        assert_eq!(record.sequence_number(), *sequence_number);
        assert_eq!(record.data(), payload(i as u64));
        assert_eq!(record.partition_key(), format!("key-{}", i % 13));
        assert_eq!(record.arrival_ms(), START_MS + 1 + i as u64);
        assert_eq!(record.sequence_number().shard(), SHARD);
    }
    assert!(assigned.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn explicit_hash_keys_and_empty_data_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let input = RecordInput {
        partition_key: "k",
        explicit_hash_key: Some(u128::MAX),
        data: b"",
    };
    log.append(input).unwrap();
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].explicit_hash_key(), Some(u128::MAX));
    assert!(records[0].data().is_empty());
}

#[test]
fn seeking_by_sequence_number_finds_the_first_record_at_or_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let assigned = fill(&log, &clock, 3000);
    for i in [0usize, 1, 33, 500, 1999, 2999] {
        let at = read_all(&log, SeekTo::AtSequence(assigned[i]));
        assert_eq!(at.len(), 3000 - i);
        assert_eq!(at[0].sequence_number(), assigned[i]);
        let after = read_all(&log, SeekTo::AfterSequence(assigned[i]));
        assert_eq!(after.len(), 3000 - i - 1);
        assert_eq!(
            after.first().map(Record::sequence_number),
            assigned.get(i + 1).copied()
        );
    }
    // A number between two records (the arrival part differs) still finds the next record.
    let between = SequenceNumber::new(SHARD, assigned[10].counter(), 0).unwrap();
    assert_eq!(
        read_all(&log, SeekTo::AtSequence(between))[0].sequence_number(),
        assigned[10]
    );
}

#[test]
fn seeking_by_timestamp_finds_the_first_record_at_or_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    // Ten records per millisecond, so equal timestamps span index entries.
    for millisecond in 0..300u64 {
        clock.set_ms(START_MS + millisecond * 5);
        let batch: Vec<Vec<u8>> = (0..10).map(|i| payload(millisecond * 10 + i)).collect();
        let inputs: Vec<RecordInput<'_>> = batch
            .iter()
            .map(|data| RecordInput::new("k", data))
            .collect();
        log.append_batch(&inputs).unwrap();
    }
    for target in [
        0,
        START_MS,
        START_MS + 1,
        START_MS + 5,
        START_MS + 777,
        START_MS + 1495,
    ] {
        let found = read_all(&log, SeekTo::AtTimestamp(target));
        let expected_first = (0..300u64)
            .map(|millisecond| START_MS + millisecond * 5)
            .position(|arrival| arrival >= target)
            .unwrap();
        assert_eq!(found.len(), 3000 - expected_first * 10, "target {target}");
        assert!(found[0].arrival_ms() >= target);
    }
    assert!(read_all(&log, SeekTo::AtTimestamp(START_MS + 1496)).is_empty());
}

#[test]
fn latest_reads_only_what_comes_after() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    fill(&log, &clock, 100);
    let mut reader = log.reader(SeekTo::Latest).unwrap();
    assert!(reader.next_batch(10).unwrap().is_empty());
    let next = log.append(RecordInput::new("k", b"new")).unwrap();
    let records = reader.next_batch(10).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sequence_number(), next);
}

#[test]
fn a_sequence_number_of_another_shard_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let other = ShardIdentity { index: 8, ..SHARD };
    let foreign = SequenceNumber::starting(other).unwrap();
    assert!(matches!(
        log.reader(SeekTo::AtSequence(foreign)),
        Err(LogError::WrongShard { .. })
    ));
}

#[test]
fn invalid_records_are_rejected_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let too_big = vec![0u8; 16 * 1024 + 1];
    let long_key = "k".repeat(1025);
    for bad in [
        RecordInput::new("", b"x"),
        RecordInput::new(&long_key, b"x"),
        RecordInput::new("k", &too_big),
    ] {
        let batch = [RecordInput::new("fine", b"ok"), bad];
        assert!(matches!(
            log.append_batch(&batch),
            Err(LogError::InvalidRecord { .. })
        ));
        assert!(matches!(
            log.append(bad),
            Err(LogError::InvalidRecord { .. })
        ));
    }
    assert!(read_all(&log, SeekTo::Oldest).is_empty());
    assert_eq!(log.last_counter().unwrap(), None);
}

#[test]
fn arrival_times_never_decrease_even_when_the_clock_does() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    log.append(RecordInput::new("k", b"1")).unwrap();
    clock.set_ms(START_MS - 60_000);
    log.append(RecordInput::new("k", b"2")).unwrap();
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records[1].arrival_ms(), START_MS);
}

#[test]
fn a_clean_reopen_continues_counters_without_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let before = fill(&log, &clock, 1500);
    log.close().unwrap();
    let (log, report) = ShardLog::open(dir.path(), options(&clock)).unwrap();
    assert!(report.clean_shutdown);
    assert_eq!(report.frames_scanned, 0);
    assert_eq!(report.next_counter, before.last().unwrap().counter() + 1);
    let next = log.append(RecordInput::new("k", b"after")).unwrap();
    assert_eq!(next.counter(), before.last().unwrap().counter() + 1);
    assert_eq!(read_all(&log, SeekTo::Oldest).len(), 1501);
    let found = read_all(&log, SeekTo::AtSequence(before[777]));
    assert_eq!(found[0].data(), payload(777));
}

#[test]
fn a_crash_reopen_keeps_everything_and_never_reuses_a_counter() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    let before = fill(&log, &clock, 1500);
    std::mem::forget(log); // a process crash: no clean shutdown, the page cache keeps the bytes
    let (log, report) = ShardLog::open(dir.path(), options(&clock)).unwrap();
    assert!(!report.clean_shutdown);
    assert_eq!(report.truncation, None);
    assert!(report.frames_scanned > 0);
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records.len(), 1500);
    assert!(
        records
            .iter()
            .zip(&before)
            .all(|(r, s)| r.sequence_number() == *s)
    );
    let next = log.append(RecordInput::new("k", b"after")).unwrap();
    assert!(
        next.counter() >= COUNTER_LEASE,
        "resumes at the durable lease limit"
    );
    assert!(next > *before.last().unwrap());
}

#[test]
fn retention_deletes_whole_expired_segments_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    fill(&log, &clock, 3000);
    let segment_files = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("seg".as_ref()))
            .count()
    };
    let files_before = segment_files(dir.path());
    let cutoff = START_MS + 1500;
    let report = log.delete_segments_older_than(cutoff).unwrap();
    assert!(!report.segments_deleted.is_empty());
    assert_eq!(
        segment_files(dir.path()),
        files_before - report.segments_deleted.len()
    );
    let remaining = read_all(&log, SeekTo::Oldest);
    // Nothing unexpired is gone (records 1499.. arrived at or after the cutoff) ...
    assert_eq!(
        remaining
            .iter()
            .filter(|r| r.arrival_ms() >= cutoff)
            .count(),
        1501
    );
    assert_eq!(remaining.last().unwrap().data(), payload(2999));
    // ... and what is gone went in whole segments from the front: the remaining log starts at the
    // base of the oldest remaining segment, which holds a record at or after the cutoff.
    let oldest_base = log.inner().unwrap().segments.read()[0].base_counter();
    assert_eq!(remaining[0].sequence_number().counter(), oldest_base);
    assert!(log.inner().unwrap().segments.read()[0].last_arrival_ms() >= cutoff);
    // Seeking to an expired number starts at the oldest remaining record.
    let oldest = SequenceNumber::starting(SHARD).unwrap();
    assert_eq!(
        read_all(&log, SeekTo::AtSequence(oldest)).len(),
        remaining.len()
    );
}

#[test]
fn retention_of_an_idle_shard_removes_its_expired_active_segment_too() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    fill(&log, &clock, 10);
    clock.advance_ms(86_400_000);
    let report = log
        .delete_segments_older_than(clock.now_ms() - 1000)
        .unwrap();
    assert_eq!(report.segments_deleted.len(), 1);
    assert!(read_all(&log, SeekTo::Oldest).is_empty());
    let next = log.append(RecordInput::new("k", b"fresh")).unwrap();
    assert_eq!(next.counter(), FIRST_COUNTER + 10);
    assert_eq!(read_all(&log, SeekTo::Oldest).len(), 1);
}

#[test]
fn records_outlive_the_deletion_of_their_segment() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    fill(&log, &clock, 2000);
    let mut reader = log.reader(SeekTo::Oldest).unwrap();
    let held = reader.next_batch(5).unwrap();
    let report = log.delete_segments_older_than(START_MS + 1900).unwrap();
    assert!(!report.segments_deleted.is_empty());
    assert_eq!(held[4].data(), payload(4));
    // The reader finishes its (deleted) segment and continues with the oldest remaining one.
    let rest: Vec<Record> = reader.by_ref().map(Result::unwrap).collect();
    assert!(
        rest.windows(2)
            .all(|pair| pair[0].sequence_number() < pair[1].sequence_number())
    );
    assert_eq!(rest.last().unwrap().data(), payload(1999));
}

#[test]
fn sync_mode_appends_from_many_threads_share_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = Arc::new(
        ShardLog::open(dir.path(), options(&clock).durability(Durability::Sync))
            .unwrap()
            .0,
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| log.append(RecordInput::new("k", format!("{t}-{i}").as_bytes())))
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap()
            })
        })
        .collect();
    let mut assigned: Vec<SequenceNumber> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    assigned.sort();
    assigned.dedup();
    assert_eq!(assigned.len(), 200);
    let durable = log.inner().unwrap().sync.durable();
    assert!(
        durable >= log.inner().unwrap().end_position(),
        "every acknowledged append is durable"
    );
}

#[test]
fn a_closed_or_invalidly_configured_log_says_so() {
    let clock = Arc::new(ManualClock::new(START_MS));
    let dir = tempfile::tempdir().unwrap();
    let tiny = options(&clock).segment_bytes(1024);
    assert!(matches!(
        ShardLog::open(dir.path(), tiny),
        Err(LogError::InvalidOptions { .. })
    ));
    let other_shard = LogOptions {
        identity: ShardIdentity { index: 1, ..SHARD },
        ..options(&clock)
    };
    drop(open(dir.path(), &clock));
    assert!(matches!(
        ShardLog::open(dir.path(), other_shard),
        Err(LogError::ShardMismatch { .. })
    ));
}

#[test]
fn a_shard_whose_creation_was_interrupted_opens_as_new() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    drop(open(dir.path(), &clock));
    // As if the process died after writing the checkpoint and before the first segment.
    std::fs::remove_file(dir.path().join(segment::file_name(0))).unwrap();
    let log = open(dir.path(), &clock);
    assert_eq!(
        log.append(RecordInput::new("k", b"v")).unwrap().counter(),
        FIRST_COUNTER
    );
    assert_eq!(read_all(&log, SeekTo::Oldest).len(), 1);
}

#[test]
fn a_failed_sync_latches_the_log_until_it_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let sync_options = options(&clock).durability(Durability::Sync);
    let disk = Arc::new(FaultyFileSystem::new());
    let faulty_options = sync_options
        .clone()
        .file_system(Arc::clone(&disk) as Arc<dyn FileSystem>);
    let (log, _) = ShardLog::open(dir.path(), faulty_options).unwrap();
    let kept = log.append(RecordInput::new("k", b"durable")).unwrap();

    disk.fail_next_sync();
    assert!(matches!(
        log.append(RecordInput::new("k", b"unknown fate")),
        Err(LogError::Io { .. })
    ));
    // The failed sync is not retried as if nothing happened: the log refuses further appends.
    assert!(matches!(
        log.append(RecordInput::new("k", b"refused")),
        Err(LogError::Latched)
    ));
    assert!(matches!(log.sync(), Err(LogError::Latched)));
    // Reads still work.
    assert_eq!(read_all(&log, SeekTo::Oldest)[0].sequence_number(), kept);
    assert!(matches!(log.close(), Err(LogError::Latched)));

    // Reopening recovers (as after a crash) and accepts appends again.
    let (log, report) = ShardLog::open(dir.path(), sync_options).unwrap();
    assert!(!report.clean_shutdown);
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records[0].data(), b"durable");
    let next = log.append(RecordInput::new("k", b"again")).unwrap();
    assert!(next > records.last().unwrap().sequence_number());
}

#[test]
fn a_waiting_reader_is_woken_by_an_append() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = Arc::new(open(dir.path(), &clock));
    let reader = log.reader(SeekTo::Latest).unwrap();
    assert!(!reader.wait_for_records(std::time::Duration::from_millis(20)));

    let waiter = std::thread::spawn(move || {
        let woken = reader.wait_for_records(std::time::Duration::from_secs(30));
        (woken, reader)
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    log.append(RecordInput::new("k", b"wake up")).unwrap();
    let (woken, mut reader) = waiter.join().unwrap();
    assert!(woken);
    assert_eq!(reader.next_batch(10).unwrap()[0].data(), b"wake up");
}

#[test]
fn a_record_too_big_for_an_empty_active_segment_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let small = options(&clock)
        .record_data_bytes_max(1024)
        .segment_bytes(4096);
    let (log, _) = ShardLog::open(dir.path(), small).unwrap();
    log.append(RecordInput::new("k", b"old")).unwrap();
    // Retention of an idle shard leaves a new, empty, 4 KiB active segment.
    log.delete_segments_older_than(u64::MAX).unwrap();
    log.close().unwrap();

    // Reopened with larger records: the next one cannot fit the empty 4 KiB segment, and the new
    // segment gets that segment's base counter.
    let (log, _) = ShardLog::open(dir.path(), options(&clock)).unwrap();
    let big = vec![7u8; 8 * 1024];
    let appended = log.append(RecordInput::new("k", &big)).unwrap();
    let records = read_all(&log, SeekTo::Oldest);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sequence_number(), appended);
    assert_eq!(read_all(&log, SeekTo::AtTimestamp(0)).len(), 1);
    // Retention with a cutoff before the record arrived keeps it.
    assert!(
        log.delete_segments_older_than(1)
            .unwrap()
            .segments_deleted
            .is_empty()
    );
    log.close().unwrap();

    let (log, _) = ShardLog::open(dir.path(), options(&clock)).unwrap();
    assert_eq!(read_all(&log, SeekTo::Oldest)[0].data(), big.as_slice());
}

#[test]
fn a_sealed_log_refuses_appends_keeps_its_records_and_frees_its_prepared_segment() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let log = open(dir.path(), &clock);
    // Past half of a segment, so the background thread prepares the next one.
    let assigned = fill(&log, &clock, 400);
    log.seal().unwrap();
    assert!(log.is_sealed());
    let refused = log.append(RecordInput::new("k", b"late"));
    assert!(matches!(refused, Err(LogError::Sealed)), "{refused:?}");
    let prepared: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(segment::PREPARED_FILE_PREFIX)
        })
        .collect();
    assert!(prepared.is_empty(), "no preallocated segment is kept");
    let read: Vec<_> = read_all(&log, SeekTo::Oldest)
        .iter()
        .map(Record::sequence_number)
        .collect();
    assert_eq!(read, assigned);

    // Undoing the seal (a reshard whose catalog update failed) takes appends again, and the
    // restarted background thread keeps preparing segments across rolls.
    log.set_sealed(false);
    let more = fill(&log, &clock, 400);
    let read = read_all(&log, SeekTo::Oldest);
    assert_eq!(read.len(), 800);
    assert_eq!(
        read.last().map(Record::sequence_number),
        more.last().copied()
    );
}
