//! ListShards: every ShardFilter type picks the shards Kinesis would, pages come with a NextToken
//! that expires after five minutes, the argument rules give Kinesis' messages, and a closed shard
//! whose records have all expired disappears from every listing (EXPIRED) and from disk, and a
//! fresh iterator of it then answers ResourceNotFound.

use crate::support::engine::{HOUR_MS, START_MS, assert_error, clock, open, options};
use shardlog::stream::{ListShardsFrom, ShardFilter};
use shardlog::{CreateStream, Engine, PutRecordInput, ShardId, StartingPosition};

fn ids(engine: &Engine, filter: Option<ShardFilter>) -> Vec<u32> {
    engine
        .list_shards(
            Some("listed"),
            ListShardsFrom::Start {
                exclusive_start_shard_id: None,
                filter,
            },
            None,
        )
        .unwrap()
        .shards
        .iter()
        .map(|shard| shard.shard_id.index())
        .collect()
}

#[test]
fn filters_pick_shards_by_time_and_closed_shards_expire() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("listed", 2))
        .unwrap();
    stream
        .put_record(PutRecordInput::new("before", b"old"))
        .unwrap();
    // At +1 h shard 0 splits into 2 and 3; at +2 h shard 3 merges with 1 into 4.
    clock.advance_ms(HOUR_MS);
    let split_ms = clock_now(&clock);
    stream
        .split_shard("shardId-000000000000", &(1u128 << 126).to_string())
        .unwrap();
    clock.advance_ms(HOUR_MS);
    let merge_ms = clock_now(&clock);
    stream
        .merge_shards("shardId-000000000003", "shardId-000000000001")
        .unwrap();

    assert_eq!(ids(&engine, None), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        ids(&engine, Some(ShardFilter::FromTrimHorizon)),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!(ids(&engine, Some(ShardFilter::AtLatest)), vec![2, 4]);
    assert_eq!(ids(&engine, Some(ShardFilter::AtTrimHorizon)), vec![0, 1]);
    assert_eq!(
        ids(
            &engine,
            Some(ShardFilter::AtTimestamp(split_ms + 30 * 60_000))
        ),
        vec![1, 2, 3]
    );
    assert_eq!(
        ids(&engine, Some(ShardFilter::FromTimestamp(merge_ms + 5_000))),
        vec![2, 4]
    );
    assert_eq!(
        ids(&engine, Some(ShardFilter::FromTimestamp(split_ms + 5_000))),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ids(&engine, Some(ShardFilter::AfterShardId(ShardId::new(2)))),
        vec![3, 4]
    );

    // Paging with NextToken, which carries the filter.
    let first = engine
        .list_shards(
            Some("listed"),
            ListShardsFrom::Start {
                exclusive_start_shard_id: Some(ShardId::new(0)),
                filter: None,
            },
            Some(2),
        )
        .unwrap();
    assert_eq!(first.shards.len(), 2);
    let token = first.next_token.expect("more shards follow");
    let second = engine
        .list_shards(None, ListShardsFrom::NextToken(&token), Some(2))
        .unwrap();
    assert_eq!(
        second
            .shards
            .iter()
            .map(|s| s.shard_id.index())
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert_eq!(second.next_token, None);
    assert_error(
        engine.list_shards(Some("listed"), ListShardsFrom::NextToken(&token), None),
        "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.",
    );
    assert_error(
        engine.list_shards(
            None,
            ListShardsFrom::Start {
                exclusive_start_shard_id: None,
                filter: None,
            },
            None,
        ),
        "InvalidArgumentException",
        "Either NextToken or StreamName should be provided.",
    );
    assert_error(
        engine.list_shards(None, ListShardsFrom::NextToken("00ff"), None),
        "InvalidArgumentException",
        "Invalid NextToken.",
    );
    clock.advance_ms(300_001);
    assert_error(
        engine.list_shards(None, ListShardsFrom::NextToken(&token), None),
        "ExpiredNextTokenException",
        "The requested token has expired.",
    );

    // 25 h after the split, shards 0 (closed at +1 h) has expired; 1 and 3 (closed at +2 h) not yet.
    clock.set_ms(split_ms + 25 * HOUR_MS);
    let fresh_token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    let report = engine.run_maintenance().unwrap();
    assert_eq!(report.shards_expired, 1);
    assert_eq!(ids(&engine, None), vec![1, 2, 3, 4]);
    assert_error(
        engine.get_records(&fresh_token, 10),
        "ResourceNotFoundException",
        "Shard shardId-000000000000 in stream listed under account 000000000000 does not exist",
    );
    assert!(
        !stream.dir().join("shard-000000000000").exists(),
        "its files are gone"
    );
    clock.set_ms(merge_ms + 25 * HOUR_MS);
    engine.run_maintenance().unwrap();
    assert_eq!(ids(&engine, None), vec![2, 4]);
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    assert_eq!(ids(&engine, None), vec![2, 4], "expiry survives a reopen");
    let description = engine
        .stream("listed")
        .unwrap()
        .describe(None, None)
        .unwrap();
    assert_eq!(description.shards.len(), 2);
    assert_eq!(description.shards[0].parent_shard_id, Some(ShardId::new(0)));
    assert!(START_MS < split_ms);
}

fn clock_now(clock: &shardlog::ManualClock) -> u64 {
    use shardlog::Clock;
    clock.now_ms()
}
