//! MillisBehindLatest (docs/KINESIS.md §4.2): 0 when the reader has caught up with the shard, otherwise
//! how far behind the present the last record returned is (now − its arrival time), both through
//! tokens and through the typed reader.

use crate::support::engine::{START_MS, clock, open, options};
use shardlog::{CreateStream, PutRecordInput, ShardId, StartingPosition};

#[test]
fn millis_behind_latest_is_zero_when_caught_up_and_the_lag_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("lag", 1))
        .unwrap();
    let shard = ShardId::new(0);

    // Nothing written: caught up.
    let token = stream
        .shard_iterator(shard, StartingPosition::TrimHorizon)
        .unwrap();
    let empty = engine.get_records(&token, 10).unwrap();
    assert!(empty.batch.records.is_empty());
    assert_eq!(empty.batch.millis_behind_latest, 0);

    // Five records arriving one second apart: START, +1 s, …, +4 s. Then ten seconds pass.
    for i in 0..5u8 {
        if i > 0 {
            clock.advance_ms(1000);
        }
        stream.put_record(PutRecordInput::new("a", &[i])).unwrap();
    }
    clock.set_ms(START_MS + 10_000);

    let mut reader = stream.reader(shard, StartingPosition::TrimHorizon).unwrap();
    let mut token = token;
    // (records in the batch, arrival of the last one returned, expected lag)
    for (count, lag) in [(2, 9_000), (2, 7_000), (1, 0)] {
        let output = engine.get_records(&token, 2).unwrap();
        assert_eq!(output.batch.records.len(), count);
        assert_eq!(output.batch.millis_behind_latest, lag, "token, lag {lag}");
        let batch = reader.next_batch(2).unwrap();
        assert_eq!(batch.records, output.batch.records);
        assert_eq!(batch.millis_behind_latest, lag, "typed reader, lag {lag}");
        token = output.next_shard_iterator.unwrap();
    }
    let caught_up = engine.get_records(&token, 2).unwrap();
    assert!(caught_up.batch.records.is_empty());
    assert_eq!(caught_up.batch.millis_behind_latest, 0);
    assert_eq!(reader.next_batch(2).unwrap().millis_behind_latest, 0);

    // Behind again once a new record arrives; the lag grows with the clock while unread.
    clock.advance_ms(500);
    stream.put_record(PutRecordInput::new("a", b"new")).unwrap();
    clock.advance_ms(250);
    let fresh = stream.reader(shard, StartingPosition::TrimHorizon).unwrap();
    assert!(fresh.wait_for_records(std::time::Duration::ZERO));
    let behind = engine
        .get_records(
            &stream
                .shard_iterator(shard, StartingPosition::TrimHorizon)
                .unwrap(),
            1,
        )
        .unwrap();
    assert_eq!(
        behind.batch.millis_behind_latest, 10_750,
        "now minus the first record's arrival"
    );
    let last = engine.get_records(&token, 10).unwrap();
    assert_eq!(last.batch.records.len(), 1);
    assert_eq!(
        last.batch.millis_behind_latest, 0,
        "read up to the newest record"
    );
}
