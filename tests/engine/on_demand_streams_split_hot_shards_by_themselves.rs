//! ON_DEMAND scaling with a manual clock: a shard written faster than the threshold for a whole
//! window is split in half (a real split, visible in listings, with lineage); a cool shard is left
//! alone; a stream stops at its maximum; and a PROVISIONED stream is never scaled.

use std::time::Duration;

use crate::support::engine::{clock, open, options};
use shardlog::engine::OnDemandScaling;
use shardlog::stream::{ListShardsFrom, ShardFilter};
use shardlog::{CreateStream, PutRecordInput, ShardId, Stream, StreamMode};

/// Open shard ids in id order.
fn open_ids(stream: &Stream) -> Vec<u32> {
    let from = ListShardsFrom::Start {
        exclusive_start_shard_id: None,
        filter: Some(ShardFilter::AtLatest),
    };
    let page = stream.list_shards(from, None).unwrap();
    page.shards.iter().map(|s| s.shard_id.index()).collect()
}

/// Writes `bytes` to the shard that owns hash key 0 (shard 0 of a new stream).
fn write_to_first_shard(stream: &Stream, bytes: usize) {
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0;
    while written < bytes {
        let mut input = PutRecordInput::new("hot", &chunk);
        input.record.explicit_hash_key = Some(0);
        stream.put_record(input).unwrap();
        written += chunk.len() + 3;
    }
}

#[test]
fn a_hot_shard_is_split_and_a_cool_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.on_demand = OnDemandScaling {
        split_above_bytes_per_sec: 100 * 1024,
        window: Duration::from_secs(10),
        max_open_shards: 6,
    };
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::on_demand("autoscaled"))
        .unwrap();
    assert_eq!(
        engine.run_maintenance().unwrap().shards_split,
        0,
        "first samples"
    );

    // 10 s at 50 KiB/s: below the threshold, nothing happens.
    write_to_first_shard(&stream, 500 * 1024);
    clock.advance_ms(10_000);
    assert_eq!(engine.run_maintenance().unwrap().shards_split, 0);
    assert_eq!(open_ids(&stream), vec![0, 1, 2, 3]);

    // 10 s at 200 KiB/s: shard 0 splits at the middle of its range.
    write_to_first_shard(&stream, 2000 * 1024);
    clock.advance_ms(10_000);
    assert_eq!(engine.run_maintenance().unwrap().shards_split, 1);
    assert_eq!(open_ids(&stream), vec![1, 2, 3, 4, 5]);
    let description = stream.describe(None, None).unwrap();
    let parent = &description.shards[0];
    assert!(parent.ending_sequence_number.is_some());
    let low = &description.shards[4];
    assert_eq!(low.parent_shard_id, Some(ShardId::new(0)));
    assert_eq!(low.hash_key_range.starting, 0);
    assert_eq!(
        low.hash_key_range.ending,
        parent.hash_key_range.ending / 2,
        "split at floor((start + end) / 2)"
    );

    // Still hot: shard 4 (now owning key 0) splits once, then the maximum of 6 holds.
    for _ in 0..3 {
        engine.run_maintenance().unwrap(); // first sample of the new shards
        write_to_first_shard(&stream, 2000 * 1024);
        clock.advance_ms(10_000);
        engine.run_maintenance().unwrap();
    }
    assert_eq!(open_ids(&stream).len(), 6, "bounded by max_open_shards");

    // A PROVISIONED stream is never scaled, and switching keeps the shard count.
    engine
        .update_stream_mode("autoscaled", StreamMode::Provisioned)
        .unwrap();
    let before = open_ids(&stream);
    let wide = engine
        .create_stream(CreateStream::provisioned("fixed", 1))
        .unwrap();
    engine.run_maintenance().unwrap();
    for _ in 0..2 {
        write_to_first_shard(&stream, 2000 * 1024);
        write_to_first_shard(&wide, 2000 * 1024);
        clock.advance_ms(10_000);
        assert_eq!(engine.run_maintenance().unwrap().shards_split, 0);
    }
    assert_eq!(open_ids(&stream), before);
    assert_eq!(open_ids(&wide), vec![0]);
}
