//! Retention with a manual clock: records older than the retention period become unreadable the
//! moment they expire, maintenance deletes the segment files that hold only expired records (and
//! nothing newer), readers holding records or positioned in a deleted segment keep working, and
//! retention changes follow Kinesis' rules and survive a reopen.

use crate::support::engine::{
    HOUR_MS, START_MS, assert_error, clock, open, options, payload, read_typed, read_via_token,
    segment_files,
};
use shardlog::{CreateStream, PutRecordInput, ShardId, StartingPosition};

const SHARD: ShardId = ShardId::new(0);

#[test]
fn expired_records_are_unreadable_and_their_segments_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("aging", 1))
        .unwrap();
    // Day 0: 80 records of 256 KiB (segments hold 4 MiB: about five of them); day 1: 10 more.
    let put = |seed: u64| {
        stream
            .put_record(PutRecordInput::new("key", &payload(seed, 256 * 1024)))
            .unwrap()
            .sequence_number
    };
    let old: Vec<_> = (0..80).map(put).collect();
    clock.advance_ms(20 * HOUR_MS);
    let young: Vec<_> = (100..110).map(put).collect();
    let files_before = segment_files(&stream, SHARD);
    assert!(files_before >= 5, "the old records span several segments");

    // A reader positioned in the oldest segment, and records held from it, before expiry.
    let mut early_reader = stream.reader(SHARD, StartingPosition::TrimHorizon).unwrap();
    let held = early_reader.next_batch(3).unwrap().records;
    assert_eq!(held[0].sequence_number(), old[0]);

    // 25 hours after day 0, the old records have expired: unreadable at once, before maintenance.
    clock.advance_ms(5 * HOUR_MS);
    let visible: Vec<_> = read_typed(&stream, SHARD, StartingPosition::TrimHorizon, 7)
        .iter()
        .map(|record| record.sequence_number())
        .collect();
    assert_eq!(
        visible, young,
        "TRIM_HORIZON starts at the oldest retained record"
    );
    let through_tokens: Vec<_> =
        read_via_token(&engine, &stream, SHARD, StartingPosition::TrimHorizon, 4)
            .iter()
            .map(|record| record.sequence_number())
            .collect();
    assert_eq!(through_tokens, young);
    let from_old_number: Vec<_> = read_typed(
        &stream,
        SHARD,
        StartingPosition::AtSequenceNumber(old[5]),
        100,
    )
    .iter()
    .map(|record| record.sequence_number())
    .collect();
    assert_eq!(
        from_old_number, young,
        "an expired position jumps to the trim horizon"
    );

    // Maintenance deletes the files holding only old records, and nothing else.
    let report = engine.run_maintenance().unwrap();
    assert!(report.segments_deleted >= 3, "{report:?}");
    let files_after = segment_files(&stream, SHARD);
    assert_eq!(files_after, files_before - report.segments_deleted);
    let all_left: Vec<_> = read_typed(&stream, SHARD, StartingPosition::TrimHorizon, 100)
        .iter()
        .map(|record| (record.sequence_number(), record.data().to_vec()))
        .collect();
    let expected: Vec<_> = young
        .iter()
        .zip(100..)
        .map(|(number, seed)| (*number, payload(seed, 256 * 1024)))
        .collect();
    assert_eq!(all_left, expected, "every young record intact");

    // The reader and the records from the deleted segment still work.
    assert_eq!(held[2].data(), payload(2, 256 * 1024).as_slice());
    let rest = early_reader.next_batch(100).unwrap().records;
    assert!(
        rest.iter()
            .all(|record| record.arrival_ms() >= START_MS + 20 * HOUR_MS),
        "the early reader skips to the retained records"
    );
    assert_eq!(
        rest.last().map(|r| r.sequence_number()),
        young.last().copied()
    );
}

#[test]
fn retention_changes_follow_kinesis_rules_and_a_decrease_takes_effect_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("kept", 1))
        .unwrap();
    let first = stream
        .put_record(PutRecordInput::new("k", b"day zero"))
        .unwrap();
    clock.advance_ms(30 * HOUR_MS);
    let second = stream
        .put_record(PutRecordInput::new("k", b"day one"))
        .unwrap();

    // 24 h default: the first record has expired already. Raising the retention keeps the second
    // one longer but does not make the first readable again, though its file is still there (as
    // Kinesis: an increase "does not make previous, expired data accessible").
    stream.increase_retention_period(48).unwrap();
    let numbers = |records: Vec<shardlog::Record>| -> Vec<_> {
        records.iter().map(|r| r.sequence_number()).collect()
    };
    let from_trim_horizon = |stream: &std::sync::Arc<shardlog::Stream>| {
        numbers(read_typed(stream, SHARD, StartingPosition::TrimHorizon, 10))
    };
    assert_eq!(from_trim_horizon(&stream), vec![second.sequence_number]);
    clock.advance_ms(30 * HOUR_MS);
    assert_eq!(
        from_trim_horizon(&stream),
        vec![second.sequence_number],
        "30 hours old, kept by the 48-hour period"
    );
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    let stream = engine.stream("kept").unwrap();
    assert_eq!(
        from_trim_horizon(&stream),
        vec![second.sequence_number],
        "what expired stays expired after a reopen"
    );
    assert_eq!(
        numbers(read_typed(
            &stream,
            SHARD,
            StartingPosition::AtSequenceNumber(first.sequence_number),
            10
        )),
        vec![second.sequence_number],
        "an expired record's own sequence number does not reach it"
    );
    clock.advance_ms(18 * HOUR_MS);
    assert_eq!(
        from_trim_horizon(&stream),
        vec![second.sequence_number],
        "48 hours old"
    );
    clock.advance_ms(1);
    assert_eq!(
        from_trim_horizon(&stream),
        Vec::new(),
        "older than 48 hours"
    );

    let third = stream
        .put_record(PutRecordInput::new("k", b"day four"))
        .unwrap();
    clock.advance_ms(30 * HOUR_MS);
    assert_eq!(from_trim_horizon(&stream), vec![third.sequence_number]);
    stream.decrease_retention_period(24).unwrap();
    assert_eq!(
        from_trim_horizon(&stream),
        Vec::new(),
        "a decrease hides older records at once"
    );

    assert_error(
        stream.increase_retention_period(12),
        "InvalidArgumentException",
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is \
         too short.",
    );
    assert_error(
        stream.increase_retention_period(8761),
        "InvalidArgumentException",
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) \
         is too long.",
    );
    stream.increase_retention_period(100).unwrap();
    assert_error(
        stream.increase_retention_period(99),
        "InvalidArgumentException",
        "Requested retention period (99 hours) for stream kept can not be shorter than existing \
         retention period (100 hours). Use DecreaseRetentionPeriod API.",
    );
    assert_error(
        stream.decrease_retention_period(101),
        "InvalidArgumentException",
        "Requested retention period (101 hours) for stream kept can not be longer than existing \
         retention period (100 hours). Use IncreaseRetentionPeriod API.",
    );
    stream.increase_retention_period(8760).unwrap();
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    assert_eq!(
        engine.stream("kept").unwrap().meta().retention_hours,
        8760,
        "retention survives a reopen"
    );
}

#[test]
fn the_maintenance_thread_deletes_expired_segments_by_itself_and_stops_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.maintenance_interval = Some(std::time::Duration::from_millis(20));
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("swept", 1))
        .unwrap();
    for seed in 0..40 {
        stream
            .put_record(PutRecordInput::new("key", &payload(seed, 256 * 1024)))
            .unwrap();
    }
    let before = segment_files(&stream, SHARD);
    assert!(before >= 2);
    clock.advance_ms(25 * HOUR_MS);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while segment_files(&stream, SHARD) >= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the maintenance thread deleted nothing within 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(engine.last_maintenance_error(), None);
    drop(stream);
    drop(engine); // joins the thread: a hang here fails the test by timeout
    let engine = open(dir.path(), &options);
    assert!(
        read_typed(
            &engine.stream("swept").unwrap(),
            SHARD,
            StartingPosition::TrimHorizon,
            10
        )
        .is_empty()
    );
}
