//! Seeking by sequence number and by timestamp stays exact when a shard spans many segment files
//! (and after a reopen, when the seek structures come from disk): for every record, AT and AFTER
//! its sequence number and AT its arrival time (and ±1 ms) start at exactly the model's record,
//! through tokens and through the typed reader; a LATEST reader made before the segments rolled
//! reads everything written after it, across the rolls.

use std::sync::Arc;

use crate::support::engine::{START_MS, clock, open, options, payload, read_typed};
use shardlog::{
    Clock, CreateStream, Engine, PutRecordInput, SequenceNumber, ShardId, StartingPosition, Stream,
};

struct Written {
    number: SequenceNumber,
    arrival_ms: u64,
    data: Vec<u8>,
}

/// The first `count` records from `position`, via a token and via the typed reader; both must equal
/// the model's records from index `from`.
fn check_from(
    engine: &Engine,
    stream: &Arc<Stream>,
    written: &[Written],
    position: StartingPosition,
    from: usize,
) {
    let shard = ShardId::new(0);
    let expected: Vec<SequenceNumber> = written[from..]
        .iter()
        .take(3)
        .map(|record| record.number)
        .collect();
    let token = stream.shard_iterator(shard, position).unwrap();
    let output = engine.get_records(&token, 3).unwrap();
    let got: Vec<SequenceNumber> = output
        .batch
        .records
        .iter()
        .map(|record| record.sequence_number())
        .collect();
    assert_eq!(got, expected, "token at {position:?}");
    if let Some(first) = output.batch.records.first() {
        assert_eq!(first.data(), written[from].data);
        assert_eq!(first.arrival_ms(), written[from].arrival_ms);
    }
    let mut reader = stream.reader(shard, position).unwrap();
    let got: Vec<SequenceNumber> = reader
        .next_batch(3)
        .unwrap()
        .records
        .iter()
        .map(|record| record.sequence_number())
        .collect();
    assert_eq!(got, expected, "typed reader at {position:?}");
}

fn check_all_seeks(engine: &Engine, stream: &Arc<Stream>, written: &[Written]) {
    for (index, record) in written.iter().enumerate() {
        check_from(
            engine,
            stream,
            written,
            StartingPosition::AtSequenceNumber(record.number),
            index,
        );
        check_from(
            engine,
            stream,
            written,
            StartingPosition::AfterSequenceNumber(record.number),
            index + 1,
        );
    }
    let mut times: Vec<u64> = written.iter().map(|record| record.arrival_ms).collect();
    times.dedup();
    for time in times {
        for probe in [time - 1, time, time + 1] {
            let from = written
                .iter()
                .position(|record| record.arrival_ms >= probe)
                .unwrap_or(written.len());
            check_from(
                engine,
                stream,
                written,
                StartingPosition::AtTimestamp(probe),
                from,
            );
        }
    }
}

#[test]
fn seeks_are_exact_across_segment_files_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("long", 1))
        .unwrap();
    let shard = ShardId::new(0);
    let mut latest = stream.reader(shard, StartingPosition::Latest).unwrap();

    // About 14 MiB in records of 1–80 KiB: several segments of ~4 MiB. The clock moves 0–2 ms per
    // record, and once steps back (arrivals never decrease within a shard).
    let mut written = Vec::new();
    let mut last_arrival = 0;
    for i in 0..360u64 {
        match i % 7 {
            0 | 3 => clock.advance_ms(1),
            5 => clock.advance_ms(2),
            _ => {}
        }
        if i == 200 {
            clock.set_ms(START_MS);
        }
        let data = payload(i, 1024 + (i as usize * 7919) % (80 * 1024));
        let put = stream.put_record(PutRecordInput::new("k", &data)).unwrap();
        let now = clock.now_ms();
        last_arrival = now.max(last_arrival);
        written.push(Written {
            number: put.sequence_number,
            arrival_ms: last_arrival,
            data,
        });
    }
    // Timestamps up to just after the newest arrival are in the past from here on.
    clock.set_ms(last_arrival + 10);
    let segments = std::fs::read_dir(stream.dir().join("shard-000000000000"))
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".seg")
        })
        .count();
    assert!(segments >= 3, "the shard spans {segments} segment files");

    let from_latest = read_typed_all(&mut latest);
    assert_eq!(from_latest.len(), written.len());
    assert!(
        from_latest
            .iter()
            .zip(&written)
            .all(|(number, record)| *number == record.number)
    );
    let all = read_typed(&stream, shard, StartingPosition::TrimHorizon, 50);
    assert_eq!(all.len(), written.len());
    for (record, expected) in all.iter().zip(&written) {
        assert_eq!(record.sequence_number(), expected.number);
        assert_eq!(record.arrival_ms(), expected.arrival_ms);
        assert_eq!(record.data(), expected.data);
    }
    check_all_seeks(&engine, &stream, &written);

    drop(latest);
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    let stream = engine.stream("long").unwrap();
    check_all_seeks(&engine, &stream, &written);
}

fn read_typed_all(reader: &mut shardlog::ShardReader) -> Vec<SequenceNumber> {
    let mut numbers = Vec::new();
    loop {
        let batch = reader.next_batch(64).unwrap();
        if batch.records.is_empty() {
            return numbers;
        }
        numbers.extend(batch.records.iter().map(|record| record.sequence_number()));
    }
}
