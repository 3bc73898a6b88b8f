//! Concurrency: one log shared through an `Arc`; four threads append (two one record at a time,
//! two in batches) into small segments, so segments roll all the time, while two readers read from
//! `Oldest` continuously. Each reader must see every record exactly once, in strictly increasing
//! sequence number order, each writer's records in the order that writer appended them, with
//! intact keys and data; both readers and a final full read must agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, Record, RecordInput, SeekTo, SequenceNumber, ShardLog};

const WRITERS: u64 = 4;
const RECORDS_PER_WRITER: u64 = 1500;
const TOTAL: usize = (WRITERS * RECORDS_PER_WRITER) as usize;

fn id(writer: u64, i: u64) -> u64 {
    writer * 1_000_000 + i
}

fn data_len(writer: u64, i: u64) -> usize {
    ((writer * 7 + i * 13) % 280) as usize + usize::from(i.is_multiple_of(50)) * 1500
}

fn record_key(writer: u64, i: u64) -> String {
    format!("w{writer}-{i}")
}

/// Checks one record against what writer `w` appended as its `i`-th, given by its key.
fn writer_and_index(record: &Record) -> (u64, u64) {
    let key = record.partition_key();
    let (writer, i) = key
        .strip_prefix('w')
        .and_then(|rest| rest.split_once('-'))
        .unwrap_or_else(|| panic!("unexpected key {key:?}"));
    let (writer, i): (u64, u64) = (writer.parse().unwrap(), i.parse().unwrap());
    assert!(
        record.data() == &payload(id(writer, i), data_len(writer, i))[..],
        "data of {key} damaged"
    );
    (writer, i)
}

fn read_everything(log: &ShardLog, writers_done: &AtomicUsize) -> Vec<SequenceNumber> {
    let mut reader = log.reader(SeekTo::Oldest).unwrap();
    let mut next_index = [0u64; WRITERS as usize];
    let mut seen = Vec::with_capacity(TOTAL);
    let mut batch = Vec::new();
    loop {
        batch.clear();
        let done_before_reading = writers_done.load(Ordering::Acquire) == WRITERS as usize;
        let read = reader.read_into(&mut batch, 64).unwrap();
        for record in &batch {
            let (writer, i) = writer_and_index(record);
            assert_eq!(
                i, next_index[writer as usize],
                "writer {writer}'s records out of order or seen twice"
            );
            next_index[writer as usize] += 1;
            let sequence_number = record.sequence_number();
            if let Some(previous) = seen.last() {
                assert!(
                    sequence_number > *previous,
                    "{sequence_number} read after {previous}"
                );
            }
            seen.push(sequence_number);
        }
        assert!(seen.len() <= TOTAL, "more records read than appended");
        if seen.len() == TOTAL {
            assert_eq!(reader.read_into(&mut batch, 64).unwrap(), 0);
            return seen;
        }
        if read == 0 {
            assert!(
                !done_before_reading,
                "caught up after all writers finished, with only {} of {TOTAL} records",
                seen.len()
            );
            std::thread::yield_now();
        }
    }
}

#[test]
fn concurrent_readers_see_every_record_once_in_order_while_segments_roll() {
    let dir = scratch_dir();
    let clock = clock();
    let options =
        options(&clock, 16 * 1024, Durability::PageCache).prepare_segments_in_background(true);
    let (log, _) = open(dir.path(), &options);
    let log = Arc::new(log);
    let writers_done = Arc::new(AtomicUsize::new(0));

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let log = Arc::clone(&log);
            let writers_done = Arc::clone(&writers_done);
            std::thread::spawn(move || read_everything(&log, &writers_done))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let log = Arc::clone(&log);
            let clock = Arc::clone(&clock);
            let writers_done = Arc::clone(&writers_done);
            std::thread::spawn(move || {
                let batched = writer >= 2;
                let mut assigned = Vec::new();
                let mut i = 0;
                while i < RECORDS_PER_WRITER {
                    let count = if batched {
                        (i % 7 + 1).min(RECORDS_PER_WRITER - i)
                    } else {
                        1
                    };
                    let keys: Vec<String> = (i..i + count).map(|i| record_key(writer, i)).collect();
                    let data: Vec<Vec<u8>> = (i..i + count)
                        .map(|i| payload(id(writer, i), data_len(writer, i)))
                        .collect();
                    let inputs: Vec<RecordInput<'_>> = keys
                        .iter()
                        .zip(&data)
                        .map(|(key, data)| RecordInput::new(key, data))
                        .collect();
                    if batched {
                        assigned.extend(log.append_batch(&inputs).unwrap());
                    } else {
                        assigned.push(log.append(inputs[0]).unwrap());
                    }
                    if i.is_multiple_of(100) {
                        clock.advance_ms(1);
                    }
                    i += count;
                }
                writers_done.fetch_add(1, Ordering::Release);
                assigned
            })
        })
        .collect();

    let mut all_assigned: Vec<SequenceNumber> = Vec::new();
    for writer in writers {
        let assigned = writer.join().unwrap();
        assert!(assigned.windows(2).all(|pair| pair[0] < pair[1]));
        all_assigned.extend(assigned);
    }
    all_assigned.sort();
    let seen: Vec<Vec<SequenceNumber>> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(
        seen[0], all_assigned,
        "the first reader's records are not the appended ones"
    );
    assert_eq!(
        seen[1], all_assigned,
        "the second reader's records are not the appended ones"
    );
    let final_read: Vec<SequenceNumber> =
        read_all(&log).iter().map(Record::sequence_number).collect();
    assert_eq!(final_read, all_assigned);
    assert!(
        segment_bases(dir.path()).len() > 20,
        "segments should have rolled many times"
    );
}
