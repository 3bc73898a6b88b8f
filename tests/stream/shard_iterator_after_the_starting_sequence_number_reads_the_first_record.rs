//! A shard's StartingSequenceNumber (DescribeStream's SequenceNumberRange) marks the start of the
//! shard's range, before any record: reading AT it or AFTER it must both start with the shard's
//! first record, through the typed reader and through tokens, whether or not the clock moved after
//! the shard was created. (Consumers that seed a checkpoint with the StartingSequenceNumber and
//! resume with AFTER_SEQUENCE_NUMBER would otherwise silently skip the first record. Both Kinesis
//! emulators, docs/KINESIS.md §2.3, avoid giving a record the StartingSequenceNumber's counter.)

use crate::support::engine::{clock, open, options, read_typed, read_via_token};
use shardlog::{CreateStream, PutRecordInput, ShardId, StartingPosition};

#[test]
fn after_the_starting_sequence_number_comes_the_first_record() {
    for advance_ms in [0, 1, 1_000, 5_000] {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let engine = open(dir.path(), &options(&clock));
        let stream = engine
            .create_stream(CreateStream::provisioned("first", 1))
            .unwrap();
        let starting = stream.describe(None, None).unwrap().shards[0].starting_sequence_number;
        clock.advance_ms(advance_ms);
        let first = stream
            .put_record(PutRecordInput::new("a", b"first"))
            .unwrap();
        let second = stream
            .put_record(PutRecordInput::new("a", b"second"))
            .unwrap();
        assert!(
            first.sequence_number > starting,
            "advance {advance_ms}: the first record's number {} must lie after the shard's \
             StartingSequenceNumber {starting}",
            first.sequence_number
        );
        let shard = ShardId::new(0);
        for position in [
            StartingPosition::AtSequenceNumber(starting),
            StartingPosition::AfterSequenceNumber(starting),
            StartingPosition::TrimHorizon,
        ] {
            for records in [
                read_typed(&stream, shard, position, 10),
                read_via_token(&engine, &stream, shard, position, 10),
            ] {
                let numbers: Vec<_> = records.iter().map(|r| r.sequence_number()).collect();
                assert_eq!(
                    numbers,
                    [first.sequence_number, second.sequence_number],
                    "advance {advance_ms}, {position:?}"
                );
            }
        }
    }
}
