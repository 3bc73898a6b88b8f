//! GetShardIterator (and the typed reader) reject impossible starting positions with the exact
//! Kinesis messages (docs/KINESIS.md §7.5): a timestamp in the future, a sequence number from another
//! shard or from another stream (including an earlier stream of the same name), and an unknown
//! shard id.

use crate::support::engine::{ACCOUNT, START_MS, assert_error, clock, open, options, read_typed};
use shardlog::{
    CreateStream, PutRecordInput, SequenceNumber, ShardId, ShardIdentity, StartingPosition,
};

#[test]
fn a_timestamp_in_the_future_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("times", 1))
        .unwrap();
    stream.put_record(PutRecordInput::new("a", b"x")).unwrap();
    clock.advance_ms(1234);
    let now = START_MS + 1234;
    let shard = ShardId::new(0);
    for future in [now + 1, now + 60_000, u64::MAX] {
        let message = format!(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. \
             timestampInMillis: {future}, currentTimestampInMillis: {now}"
        );
        assert_error(
            stream.shard_iterator(shard, StartingPosition::AtTimestamp(future)),
            "InvalidArgumentException",
            &message,
        );
        assert_error(
            stream.reader(shard, StartingPosition::AtTimestamp(future)),
            "InvalidArgumentException",
            &message,
        );
    }
    // Now itself is allowed (and finds nothing that arrived at or after it here).
    assert!(read_typed(&stream, shard, StartingPosition::AtTimestamp(now), 10).is_empty());
    assert_eq!(
        read_typed(&stream, shard, StartingPosition::AtTimestamp(START_MS), 10).len(),
        1
    );
}

#[test]
fn a_sequence_number_from_another_shard_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("shards", 4))
        .unwrap();
    // MD5("a") routes to shard 0 of 4, MD5("message digest") to shard 3.
    let in_0 = stream.put_record(PutRecordInput::new("a", b"x")).unwrap();
    let in_3 = stream
        .put_record(PutRecordInput::new("message digest", b"y"))
        .unwrap();
    assert_eq!(in_0.shard_id, ShardId::new(0));
    assert_eq!(in_3.shard_id, ShardId::new(3));
    let cases = [
        (in_0.sequence_number, ShardId::new(1)),
        (in_0.sequence_number, ShardId::new(3)),
        (in_3.sequence_number, ShardId::new(0)),
    ];
    for (number, shard) in cases {
        let owner = number.shard_index();
        let message = format!(
            "Invalid StartingSequenceNumber. It encodes shardId-{owner:012}, while it was used in \
             a call to a shard with {shard}"
        );
        for position in [
            StartingPosition::AtSequenceNumber(number),
            StartingPosition::AfterSequenceNumber(number),
        ] {
            assert_error(
                stream.shard_iterator(shard, position),
                "InvalidArgumentException",
                &message,
            );
            assert_error(
                stream.reader(shard, position),
                "InvalidArgumentException",
                &message,
            );
        }
    }
    // A number encoding a shard index the stream does not have is named by that index, which
    // Kinesis reads as a Java int.
    let created_secs = in_0.sequence_number.shard().created_secs;
    for (index, named) in [
        (9, "shardId-000000000009"),
        (0x8000_0000, "shardId--02147483648"),
        (u32::MAX, "shardId--00000000001"),
    ] {
        let number = SequenceNumber::new(
            ShardIdentity {
                index,
                created_secs,
            },
            0,
            created_secs,
        )
        .unwrap();
        assert_error(
            stream.shard_iterator(ShardId::new(0), StartingPosition::AtSequenceNumber(number)),
            "InvalidArgumentException",
            &format!(
                "Invalid StartingSequenceNumber. It encodes {named}, while it was used in a call \
                 to a shard with shardId-000000000000"
            ),
        );
    }
    // The shard's own StartingSequenceNumber from DescribeStream is accepted on it only.
    let description = stream.describe(None, None).unwrap();
    let starting_1 = description.shards[1].starting_sequence_number;
    assert!(
        stream
            .shard_iterator(
                ShardId::new(1),
                StartingPosition::AtSequenceNumber(starting_1)
            )
            .is_ok()
    );
    assert_error(
        stream.shard_iterator(
            ShardId::new(2),
            StartingPosition::AtSequenceNumber(starting_1),
        ),
        "InvalidArgumentException",
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a \
         call to a shard with shardId-000000000002",
    );
}

#[test]
fn a_sequence_number_from_another_stream_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    // Both created in the same clock millisecond, with the same shard indexes.
    let main = engine
        .create_stream(CreateStream::provisioned("main", 1))
        .unwrap();
    let other = engine
        .create_stream(CreateStream::provisioned("other", 1))
        .unwrap();
    let foreign = other.put_record(PutRecordInput::new("a", b"x")).unwrap();
    assert_eq!(foreign.shard_id, ShardId::new(0));
    main.put_record(PutRecordInput::new("a", b"mine")).unwrap();

    let expect_foreign = |number: SequenceNumber, stream: &shardlog::Stream, name: &str| {
        let message = format!(
            "StartingSequenceNumber {number} used in GetShardIterator on shard \
             shardId-000000000000 in stream {name} under account {ACCOUNT} is invalid because it \
             did not come from this stream."
        );
        for position in [
            StartingPosition::AtSequenceNumber(number),
            StartingPosition::AfterSequenceNumber(number),
        ] {
            assert_error(
                stream.shard_iterator(ShardId::new(0), position),
                "InvalidArgumentException",
                &message,
            );
        }
    };
    expect_foreign(foreign.sequence_number, &main, "main");
    let other_start = other.describe(None, None).unwrap().shards[0].starting_sequence_number;
    expect_foreign(other_start, &main, "main");

    // A stream deleted and created again under the same name (same second) is another stream:
    // the old incarnation's numbers are foreign to it.
    let old = main.put_record(PutRecordInput::new("a", b"old")).unwrap();
    drop(main);
    engine.delete_stream("main").unwrap();
    let main = engine
        .create_stream(CreateStream::provisioned("main", 1))
        .unwrap();
    expect_foreign(old.sequence_number, &main, "main");
    let message = format!(
        "StartingSequenceNumber {} used in GetShardIterator on shard shardId-000000000000 in \
         stream main under account {ACCOUNT} is invalid because it did not come from this stream.",
        old.sequence_number
    );
    assert_error(
        main.reader(
            ShardId::new(0),
            StartingPosition::AtSequenceNumber(old.sequence_number),
        ),
        "InvalidArgumentException",
        &message,
    );

    // … also after the engine is reopened.
    drop(main);
    drop(other);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    let main = engine.stream("main").unwrap();
    expect_foreign(old.sequence_number, &main, "main");
    let other = engine.stream("other").unwrap();
    expect_foreign(
        main.describe(None, None).unwrap().shards[0].starting_sequence_number,
        &other,
        "other",
    );
}

#[test]
fn an_unknown_shard_id_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::on_demand("four"))
        .unwrap();
    for index in [4, 5, 1000, u32::MAX] {
        let shard = ShardId::new(index);
        let message =
            format!("Shard {shard} in stream four under account {ACCOUNT} does not exist");
        for position in [StartingPosition::TrimHorizon, StartingPosition::Latest] {
            assert_error(
                stream.shard_iterator(shard, position),
                "ResourceNotFoundException",
                &message,
            );
            assert_error(
                stream.reader(shard, position),
                "ResourceNotFoundException",
                &message,
            );
        }
    }
    assert_error(
        stream.shard_iterator(ShardId::new(4), StartingPosition::TrimHorizon),
        "ResourceNotFoundException",
        "Shard shardId-000000000004 in stream four under account 000000000000 does not exist",
    );
}
