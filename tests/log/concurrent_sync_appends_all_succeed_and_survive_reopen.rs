//! Concurrency in `Durability::Sync`: eight threads append at once into small segments (so group
//! commits and durable segment rolls interleave). Every append must succeed with a distinct sequence
//! number; each thread's numbers increase. Then both a crash image taken after the appends returned
//! and a clean reopen hold every record, in counter order, each thread's records in its order, with
//! the acknowledged sequence numbers and intact data.

use std::sync::Arc;

use crate::support::scratch_dir;
use crate::support::shard_log::*;
use shardlog::{Durability, Record, RecordInput, SequenceNumber, ShardLog};

const THREADS: u64 = 8;
const PER_THREAD: u64 = 30;

fn data_len(thread: u64, i: u64) -> usize {
    ((thread * 131 + i * 71) % 900) as usize
}

fn check(records: &[Record], acknowledged: &[Vec<SequenceNumber>], context: &str) {
    assert_eq!(records.len(), (THREADS * PER_THREAD) as usize, "{context}");
    assert_strictly_increasing(records, context);
    let mut next = vec![0usize; THREADS as usize];
    for record in records {
        let key = record.partition_key();
        let (thread, i) = key.strip_prefix('t').unwrap().split_once('-').unwrap();
        let (thread, i): (u64, u64) = (thread.parse().unwrap(), i.parse().unwrap());
        assert_eq!(
            i as usize, next[thread as usize],
            "{context}: thread {thread} out of order"
        );
        assert_eq!(
            record.sequence_number(),
            acknowledged[thread as usize][i as usize],
            "{context}: {key} has another sequence number than acknowledged"
        );
        assert!(
            record.data() == &payload(thread << 32 | i, data_len(thread, i))[..],
            "{context}: {key} damaged"
        );
        next[thread as usize] += 1;
    }
}

#[test]
fn concurrent_sync_appends_all_succeed_and_survive_reopen() {
    // A real disk: the point is that syncs really happen, concurrently with rolls.
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = options(&clock, 16 * 1024, Durability::Sync).prepare_segments_in_background(true);
    let (log, _) = open(dir.path(), &options);
    let log = Arc::new(log);

    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| {
                        let key = format!("t{thread}-{i}");
                        let data = payload(thread << 32 | i, data_len(thread, i));
                        log.append(RecordInput::new(&key, &data))
                            .unwrap_or_else(|error| panic!("{key}: {error}"))
                    })
                    .collect::<Vec<SequenceNumber>>()
            })
        })
        .collect();
    let acknowledged: Vec<Vec<SequenceNumber>> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut all: Vec<SequenceNumber> = acknowledged.iter().flatten().copied().collect();
    for numbers in &acknowledged {
        assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
    }
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        (THREADS * PER_THREAD) as usize,
        "sequence numbers repeat"
    );
    assert!(
        segment_bases(dir.path()).len() >= 3,
        "segments should have rolled"
    );

    // A crash image of this moment. The explicit sync first writes the durable point, so the
    // background thread has nothing left to write while the files are copied.
    log.sync().unwrap();
    let image = Image::capture(dir.path());
    let copy = scratch_dir();
    image.restore(copy.path());
    let (recovered, report) = ShardLog::open(copy.path(), options.clone()).unwrap();
    assert!(!report.clean_shutdown);
    assert_eq!(report.truncation, None);
    check(&read_all(&recovered), &acknowledged, "crash image");
    drop(recovered);

    Arc::try_unwrap(log)
        .unwrap_or_else(|_| panic!("the log is still shared"))
        .close()
        .unwrap();
    let (log, report) = open(dir.path(), &options);
    assert!(report.clean_shutdown);
    check(&read_all(&log), &acknowledged, "clean reopen");
}
