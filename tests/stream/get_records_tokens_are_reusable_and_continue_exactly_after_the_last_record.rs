//! Shard iterator tokens are positions, not cursors (docs/KINESIS.md §4.1, §4.2): a token returns the
//! same records every time until it expires; NextShardIterator continues exactly after the last
//! record returned; GetRecords returns at most `limit` records; an empty batch still comes with a
//! next iterator, which later picks up new records; and tokens read what the typed reader reads.

use crate::support::engine::{clock, open, options, read_tokens, read_typed};
use shardlog::{CreateStream, PutRecordInput, Record, SequenceNumber, ShardId, StartingPosition};

fn numbers(records: &[Record]) -> Vec<SequenceNumber> {
    records.iter().map(Record::sequence_number).collect()
}

#[test]
fn tokens_are_reusable_and_next_iterators_continue_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("resume", 1))
        .unwrap();
    let shard = ShardId::new(0);
    let mut put = Vec::new();
    for i in 0..10u8 {
        clock.advance_ms(7);
        put.push(
            stream
                .put_record(PutRecordInput::new(&format!("k{}", i % 3), &[i; 5]))
                .unwrap()
                .sequence_number,
        );
    }
    let token = stream
        .shard_iterator(shard, StartingPosition::TrimHorizon)
        .unwrap();

    // The same token gives the same records each time, also after more writes.
    let first = engine.get_records(&token, 3).unwrap();
    assert_eq!(numbers(&first.batch.records), put[0..3]);
    assert_eq!(first.batch.records[1].data(), &[1u8; 5]);
    assert_eq!(first.batch.records[1].partition_key(), "k1");
    assert_eq!(engine.get_records(&token, 3).unwrap(), first);
    clock.advance_ms(1000);
    let extra = stream
        .put_record(PutRecordInput::new("k0", b"late"))
        .unwrap();
    put.push(extra.sequence_number);
    assert_eq!(
        numbers(&engine.get_records(&token, 3).unwrap().batch.records),
        put[0..3]
    );

    // Following the next iterators walks the shard in chunks of the limit, with no gap or repeat.
    let mut chunks = Vec::new();
    let mut next = token.clone();
    let empty = loop {
        let output = engine.get_records(&next, 3).unwrap();
        let following = output
            .next_shard_iterator
            .expect("an open shard always has a next iterator");
        if output.batch.records.is_empty() {
            break following;
        }
        chunks.push(numbers(&output.batch.records));
        next = following;
    };
    assert_eq!(
        chunks,
        [
            put[0..3].to_vec(),
            put[3..6].to_vec(),
            put[6..9].to_vec(),
            put[9..11].to_vec(),
        ]
    );
    // The iterator after an empty batch is reusable, and picks up records written later.
    assert!(
        engine
            .get_records(&empty, 10)
            .unwrap()
            .batch
            .records
            .is_empty()
    );
    let later: Vec<SequenceNumber> = (0..2)
        .map(|i| {
            stream
                .put_record(PutRecordInput::new("k9", &[i]))
                .unwrap()
                .sequence_number
        })
        .collect();
    let output = engine.get_records(&empty, 10).unwrap();
    assert_eq!(numbers(&output.batch.records), later);
    assert!(output.next_shard_iterator.is_some());
    put.extend(later);

    // Limits: 1, and more than there is.
    assert_eq!(
        numbers(&engine.get_records(&token, 1).unwrap().batch.records),
        put[0..1]
    );
    assert_eq!(
        numbers(&engine.get_records(&token, 10_000).unwrap().batch.records),
        put
    );

    // Every iterator type agrees with the typed reader.
    let positions = [
        StartingPosition::TrimHorizon,
        StartingPosition::AtSequenceNumber(put[4]),
        StartingPosition::AfterSequenceNumber(put[4]),
        StartingPosition::AtSequenceNumber(put[12]),
        StartingPosition::AfterSequenceNumber(put[12]),
        StartingPosition::AtTimestamp(crate::support::engine::START_MS + 21),
        StartingPosition::AtTimestamp(crate::support::engine::START_MS),
        StartingPosition::Latest,
    ];
    let expected: [&[SequenceNumber]; 8] = [
        &put,
        &put[4..],
        &put[5..],
        &put[12..],
        &[],
        &put[2..],
        &put,
        &[],
    ];
    for (position, expected) in positions.into_iter().zip(expected) {
        let token = stream.shard_iterator(shard, position).unwrap();
        for limit in [1, 2, 5, 100] {
            let (records, _) = read_tokens(&engine, &token, limit).unwrap();
            assert_eq!(numbers(&records), expected, "{position:?} limit {limit}");
        }
        let typed = read_typed(&stream, shard, position, 4);
        assert_eq!(numbers(&typed), expected, "typed {position:?}");
    }
}

#[test]
fn a_latest_token_returns_only_records_written_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("latest", 1))
        .unwrap();
    let shard = ShardId::new(0);
    // On an empty shard, and again after some records.
    let on_empty = stream
        .shard_iterator(shard, StartingPosition::Latest)
        .unwrap();
    let mut reader_on_empty = stream.reader(shard, StartingPosition::Latest).unwrap();
    let before: Vec<SequenceNumber> = (0..3u8)
        .map(|i| {
            stream
                .put_record(PutRecordInput::new("a", &[i]))
                .unwrap()
                .sequence_number
        })
        .collect();
    let latest = stream
        .shard_iterator(shard, StartingPosition::Latest)
        .unwrap();
    let mut reader = stream.reader(shard, StartingPosition::Latest).unwrap();
    assert!(
        engine
            .get_records(&latest, 10)
            .unwrap()
            .batch
            .records
            .is_empty()
    );
    assert!(reader.next_batch(10).unwrap().records.is_empty());

    let after: Vec<SequenceNumber> = (3..5u8)
        .map(|i| {
            stream
                .put_record(PutRecordInput::new("b", &[i]))
                .unwrap()
                .sequence_number
        })
        .collect();
    assert_eq!(
        numbers(&engine.get_records(&latest, 10).unwrap().batch.records),
        after
    );
    assert_eq!(
        numbers(&engine.get_records(&latest, 10).unwrap().batch.records),
        after
    );
    assert_eq!(numbers(&reader.next_batch(10).unwrap().records), after);
    let all: Vec<SequenceNumber> = before.iter().chain(&after).copied().collect();
    assert_eq!(
        numbers(&engine.get_records(&on_empty, 10).unwrap().batch.records),
        all
    );
    assert_eq!(
        numbers(&reader_on_empty.next_batch(10).unwrap().records),
        all
    );

    // The token survives a reopen of the engine (same key, within five minutes) and still starts
    // where LATEST was when it was issued, even though counters may jump after a reopen.
    drop(reader);
    drop(reader_on_empty);
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    let stream = engine.stream("latest").unwrap();
    let reopened = stream
        .put_record(PutRecordInput::new("c", b"after reopen"))
        .unwrap();
    assert!(reopened.sequence_number > after[1]);
    let mut expected = after.clone();
    expected.push(reopened.sequence_number);
    assert_eq!(
        numbers(&engine.get_records(&latest, 10).unwrap().batch.records),
        expected
    );
}

#[test]
fn tokens_for_the_longest_stream_name_fit_in_512_characters() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let name = "n".repeat(128);
    let stream = engine
        .create_stream(CreateStream::provisioned(&name, 1))
        .unwrap();
    let put = stream.put_record(PutRecordInput::new("a", b"x")).unwrap();
    for position in [
        StartingPosition::TrimHorizon,
        StartingPosition::Latest,
        StartingPosition::AtSequenceNumber(put.sequence_number),
        StartingPosition::AfterSequenceNumber(put.sequence_number),
        StartingPosition::AtTimestamp(crate::support::engine::START_MS),
    ] {
        let token = stream.shard_iterator(ShardId::new(0), position).unwrap();
        assert!(token.len() <= 512, "{} characters", token.len());
        let output = engine.get_records(&token, 10).unwrap();
        assert!(output.next_shard_iterator.unwrap().len() <= 512);
    }
}
