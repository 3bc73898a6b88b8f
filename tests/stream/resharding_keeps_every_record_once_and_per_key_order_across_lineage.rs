//! Property test of resharding: random splits, merges and UpdateShardCount calls interleaved with
//! puts and incremental reads. A consumer that drains parents before children (as Kinesis asks)
//! reads every acknowledged record exactly once, each partition key's records in put order, and
//! after every reshard the open shards tile the hash-key space 0..=2^128−1 exactly.

use std::collections::BTreeMap;

use crate::support::engine::{LineageConsumer, clock, list_all_shards, open, options};
use proptest::prelude::*;
use shardlog::stream::{HashKeyRange, ShardFilter};
use shardlog::{CreateStream, PutRecordInput, SequenceNumber, ShardId, Stream};

#[derive(Debug, Clone)]
enum Op {
    /// Put `count` records with partition key number `key`.
    Put { key: u8, count: u8 },
    /// Split the open shard picked by `pick` at `fraction` of its range.
    Split { pick: u8, fraction: u8 },
    /// Merge the open shard picked by `pick` with the next one in hash-key order.
    Merge { pick: u8 },
    /// UpdateShardCount to a target picked between half and double.
    Scale { pick: u8 },
    /// Let the consumer read whatever it may.
    Read,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, 1u8..6).prop_map(|(key, count)| Op::Put { key, count }),
        3 => (any::<u8>(), 1u8..255).prop_map(|(pick, fraction)| Op::Split { pick, fraction }),
        3 => any::<u8>().prop_map(|pick| Op::Merge { pick }),
        1 => any::<u8>().prop_map(|pick| Op::Scale { pick }),
        2 => Just(Op::Read),
    ]
}

/// Open shards in hash-key order.
fn open_shards(stream: &Stream) -> Vec<(ShardId, HashKeyRange)> {
    let mut open: Vec<_> = list_all_shards(stream, Some(ShardFilter::AtLatest))
        .iter()
        .map(|shard| (shard.shard_id, shard.hash_key_range))
        .collect();
    open.sort_by_key(|(_, range)| range.starting);
    open
}

fn assert_tiling(stream: &Stream) {
    let open = open_shards(stream);
    assert_eq!(open.first().map(|(_, r)| r.starting), Some(0));
    assert_eq!(open.last().map(|(_, r)| r.ending), Some(u128::MAX));
    for pair in open.windows(2) {
        assert_eq!(
            pair[0].1.ending.checked_add(1),
            Some(pair[1].1.starting),
            "open shards tile the space: {open:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn resharding_keeps_every_record_once_in_key_order(ops in prop::collection::vec(op(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let mut options = options(&clock);
        options.limits.max_shards_per_stream = 8;
        let engine = open(dir.path(), &options);
        let stream = engine.create_stream(CreateStream::provisioned("lineage", 2)).unwrap();
        let mut put: BTreeMap<String, Vec<SequenceNumber>> = BTreeMap::new();
        let mut consumer = LineageConsumer::default();
        for op in ops {
            match op {
                Op::Put { key, count } => {
                    let key = format!("key-{key}");
                    for _ in 0..count {
                        let output = stream.put_record(PutRecordInput::new(&key, b"v")).unwrap();
                        put.entry(key.clone()).or_default().push(output.sequence_number);
                    }
                }
                Op::Split { pick, fraction } => {
                    let open = open_shards(&stream);
                    let (id, range) = open[usize::from(pick) % open.len()];
                    let width = range.ending - range.starting;
                    let at = range.starting + width / 256 * u128::from(fraction);
                    let result = stream.split_shard(&id.to_string(), &at.to_string());
                    if at > range.starting + 1 && at < range.ending && open.len() < 8 {
                        result.unwrap();
                    } else if let Err(error) = result {
                        prop_assert!(
                            matches!(error.kinesis_error_code(), "InvalidArgumentException" | "LimitExceededException"),
                            "{error}"
                        );
                    }
                }
                Op::Merge { pick } => {
                    let open = open_shards(&stream);
                    if open.len() > 1 {
                        let at = usize::from(pick) % (open.len() - 1);
                        stream.merge_shards(&open[at].0.to_string(), &open[at + 1].0.to_string()).unwrap();
                    }
                }
                Op::Scale { pick } => {
                    let current = open_shards(&stream).len() as u32;
                    let low = current.div_ceil(2);
                    let high = (current * 2).min(8).max(low);
                    let target = low + u32::from(pick) % (high - low + 1);
                    let output = stream.update_shard_count(target).unwrap();
                    prop_assert_eq!(output.current_shard_count, current);
                    prop_assert_eq!(open_shards(&stream).len() as u32, target);
                }
                Op::Read => consumer.read(&stream, 7),
            }
            assert_tiling(&stream);
        }
        consumer.read(&stream, 7);
        let mut read: BTreeMap<String, Vec<SequenceNumber>> = BTreeMap::new();
        for (key, number) in &consumer.seen {
            read.entry(key.clone()).or_default().push(*number);
        }
        prop_assert_eq!(read, put, "every record once, each key in put order");
    }
}
