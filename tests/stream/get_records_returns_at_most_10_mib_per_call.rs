//! GetRecords returns at most 10 MiB of data per call (docs/KINESIS.md §4.2),
//! and the typed reader's batches keep to the same cap; following the next iterators still
//! returns every record exactly once.

use crate::support::engine::{clock, open, options, payload};
use shardlog::{CreateStream, PutRecordInput, SequenceNumber, ShardId, StartingPosition};

const CAP: usize = 10 * 1024 * 1024;

#[test]
fn a_call_returns_at_most_10_mib_of_data() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("heavy", 1))
        .unwrap();
    let shard = ShardId::new(0);
    // Twelve records of 1 MiB − 1 byte of data each (1 MiB with the key).
    let mut put = Vec::new();
    for i in 0..12u64 {
        let data = payload(i, 1024 * 1024 - 1);
        put.push(
            stream
                .put_record(PutRecordInput::new("k", &data))
                .unwrap()
                .sequence_number,
        );
    }

    let mut token = stream
        .shard_iterator(shard, StartingPosition::TrimHorizon)
        .unwrap();
    let mut reader = stream.reader(shard, StartingPosition::TrimHorizon).unwrap();
    let mut via_token: Vec<SequenceNumber> = Vec::new();
    let mut via_reader: Vec<SequenceNumber> = Vec::new();
    loop {
        let output = engine.get_records(&token, 10_000).unwrap();
        let bytes: usize = output.batch.records.iter().map(|r| r.data().len()).sum();
        assert!(bytes <= CAP, "GetRecords returned {bytes} bytes of data");
        via_token.extend(output.batch.records.iter().map(|r| r.sequence_number()));
        token = output.next_shard_iterator.unwrap();

        let batch = reader.next_batch(10_000).unwrap();
        let bytes: usize = batch.records.iter().map(|r| r.data().len()).sum();
        assert!(
            bytes <= CAP,
            "the typed reader returned {bytes} bytes of data"
        );
        via_reader.extend(batch.records.iter().map(|r| r.sequence_number()));
        if output.batch.records.is_empty() && batch.records.is_empty() {
            break;
        }
    }
    assert_eq!(via_token, put);
    assert_eq!(via_reader, put);
}
