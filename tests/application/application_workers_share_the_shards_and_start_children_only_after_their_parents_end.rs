//! An application started on three worker threads over a stream of four shards, while records
//! are put and the stream is split and merged: every record is delivered exactly once (nothing
//! restarts, so nothing is delivered again), each partition key's records in the order they were
//! put, each shard's records by one thread, a child's first record only after each of its parents
//! ended, and the shards spread over all three threads. The first four shards are all read before
//! any lease ends (a shard ready at start must not wait for one). `stop` reports the records
//! delivered.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::support::application::{Log, Seen, put};
use crate::support::engine::{clock, open, options};
use shardlog::CreateStream;
use shardlog::application::{Application, ApplicationOptions};

const KEYS: usize = 16;
const RECORDS_PER_PHASE: usize = 150;
/// A hang guard only: delivery takes milliseconds.
const DEADLINE: Duration = Duration::from_secs(10);

/// Waits until `log` holds `count` records, or the deadline.
fn wait_for(log: &Log, count: usize) {
    let started = Instant::now();
    while log.data().len() < count && started.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn application_workers_share_the_shards_and_start_children_only_after_their_parents_end() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("shared", 4))
        .unwrap();
    let options = ApplicationOptions {
        workers: 3,
        batch_records_max: 5,
        ..ApplicationOptions::default()
    };
    let application = Application::open(&stream, "spread", options).unwrap();
    let log = Log::default();
    let processors = log.clone();
    let running = application
        .start(move |_shard| processors.processor())
        .unwrap();

    put(&stream, "a", RECORDS_PER_PHASE, KEYS);
    // Before any lease ends: all four shards are taken up at once.
    wait_for(&log, RECORDS_PER_PHASE);
    assert_eq!(
        log.data().len(),
        RECORDS_PER_PHASE,
        "every first shard is read"
    );
    let middle_of_shard_0 = u128::MAX / 8;
    stream
        .split_shard("shardId-000000000000", &middle_of_shard_0.to_string())
        .unwrap();
    put(&stream, "b", RECORDS_PER_PHASE, KEYS);
    stream
        .merge_shards("shardId-000000000002", "shardId-000000000003")
        .unwrap();
    put(&stream, "c", RECORDS_PER_PHASE, KEYS);

    let expected = 3 * RECORDS_PER_PHASE;
    wait_for(&log, expected);
    assert_eq!(running.stop().unwrap(), expected as u64);

    let seen = log.seen();
    let data = log.data();
    assert_eq!(data.len(), expected, "every record once");
    let distinct: BTreeSet<&String> = data.iter().collect();
    assert_eq!(distinct.len(), expected, "no record twice");

    // Per key, the phases and numbers come in the order they were put.
    let mut last_per_key: HashMap<usize, (char, usize)> = HashMap::new();
    for record in &data {
        let (phase, n) = record.split_once('-').unwrap();
        let order = (phase.chars().next().unwrap(), n.parse::<usize>().unwrap());
        if let Some(previous) = last_per_key.insert(order.1 % KEYS, order) {
            assert!(
                previous < order,
                "key {} went from {previous:?} to {order:?}",
                order.1 % KEYS
            );
        }
    }

    // One thread per shard; children after their parents' ends; all three threads used.
    let parents: BTreeMap<u32, Vec<u32>> = stream
        .meta()
        .shards
        .iter()
        .map(|shard| {
            (
                shard.index,
                shard
                    .parent
                    .into_iter()
                    .chain(shard.adjacent_parent)
                    .collect(),
            )
        })
        .collect();
    let mut thread_of_shard = HashMap::new();
    let mut ended = BTreeSet::new();
    for event in &seen {
        match event {
            Seen::Record { shard, thread, .. } => {
                for parent in &parents[shard] {
                    assert!(
                        ended.contains(parent),
                        "shard {shard} read before parent {parent} ended"
                    );
                }
                let first = *thread_of_shard.entry(*shard).or_insert(*thread);
                assert_eq!(first, *thread, "shard {shard} was read by two threads");
            }
            Seen::Ended { shard } => {
                ended.insert(*shard);
            }
        }
    }
    let closed: BTreeSet<u32> = [0, 2, 3].into();
    assert_eq!(
        ended, closed,
        "the closed shards ended, the open ones did not"
    );
    // The stream's first four shards are ready at once: they go two, one and one to the workers.
    let threads: std::collections::HashSet<_> =
        (0..4).map(|shard| thread_of_shard[&shard]).collect();
    assert_eq!(threads.len(), 3, "the shards are spread over the workers");
}
