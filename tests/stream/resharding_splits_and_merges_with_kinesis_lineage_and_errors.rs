//! SplitShard, MergeShards and UpdateShardCount: children get ids from the stream-wide counter and
//! Kinesis lineage, parents close with a real 56-digit EndingSequenceNumber, the stream shows
//! UPDATING for the configured time, readers of a parent end with its children, writers land in
//! the children, every rule violation gets Kinesis' error, and all of it survives a reopen.

use crate::support::engine::{assert_error, clock, error_of, open, options, read_tokens};
use shardlog::engine::EngineLimits;
use shardlog::stream::HashKeyRange;
use shardlog::{CreateStream, PutRecordInput, ShardId, StartingPosition, StreamMode, StreamStatus};

const HALF: u128 = 1 << 127;

#[test]
fn a_split_closes_the_parent_and_opens_two_children() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.update_delay_ms = 500;
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("splitting", 2))
        .unwrap();
    let before = stream
        .put_record(PutRecordInput::new("k", b"before"))
        .unwrap();
    let parent = before.shard_id;
    let parent_range = stream.shard(parent).unwrap().meta().hash_key_range;
    let token = stream
        .shard_iterator(parent, StartingPosition::TrimHorizon)
        .unwrap();

    let middle = parent_range.starting + (parent_range.ending - parent_range.starting) / 2;
    stream
        .split_shard(&parent.to_string(), &middle.to_string())
        .unwrap();
    assert_eq!(stream.status(), StreamStatus::Updating);
    assert_error(
        stream.split_shard("shardId-000000000002", &(middle / 2).to_string()),
        "ResourceInUseException",
        "Stream splitting under account 000000000000 not ACTIVE, instead in state UPDATING",
    );
    clock.advance_ms(500);
    assert_eq!(stream.status(), StreamStatus::Active);

    let description = stream.describe(None, None).unwrap();
    assert_eq!(description.shards.len(), 4);
    assert_eq!(description.open_shard_count, 3);
    let closed = &description.shards[parent.index() as usize];
    let ending = closed.ending_sequence_number.expect("the parent is closed");
    assert_eq!(ending.to_string().len(), 56, "a real 56-digit number");
    let children: Vec<_> = description.shards[2..].to_vec();
    assert_eq!(
        children.iter().map(|c| c.shard_id).collect::<Vec<_>>(),
        vec![ShardId::new(2), ShardId::new(3)],
        "ids continue the stream-wide counter"
    );
    assert_eq!(children[0].parent_shard_id, Some(parent));
    assert_eq!(children[0].adjacent_parent_shard_id, None);
    assert_eq!(
        children[0].hash_key_range,
        HashKeyRange {
            starting: parent_range.starting,
            ending: middle - 1
        }
    );
    assert_eq!(children[1].hash_key_range.starting, middle);
    assert_eq!(children[1].hash_key_range.ending, parent_range.ending);

    // Writes go to the children; the parent reads to its end, then names them.
    let after = stream
        .put_record(PutRecordInput::new("k", b"after"))
        .unwrap();
    assert!(after.shard_id == ShardId::new(2) || after.shard_id == ShardId::new(3));
    let output = engine.get_records(&token, 100).unwrap();
    assert_eq!(output.batch.records.len(), 1);
    assert_eq!(output.batch.records[0].data(), b"before");
    assert_eq!(output.next_shard_iterator, None);
    let named: Vec<ShardId> = output
        .batch
        .child_shards
        .unwrap()
        .iter()
        .map(|child| child.shard_id)
        .collect();
    assert_eq!(named, vec![ShardId::new(2), ShardId::new(3)]);
    let child_token = stream
        .shard_iterator(after.shard_id, StartingPosition::TrimHorizon)
        .unwrap();
    let (records, _) = read_tokens(&engine, &child_token, 10).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), b"after");

    // Errors.
    assert_error(
        stream.split_shard(&parent.to_string(), &middle.to_string()),
        "InvalidArgumentException",
        &format!(
            "Shard {parent} in stream splitting under account 000000000000 has already been \
             merged or split, and thus is not eligible for merging or splitting."
        ),
    );
    assert_error(
        stream.split_shard("shardId-000000000009", "5"),
        "ResourceNotFoundException",
        "Could not find shard shardId-000000000009 in stream splitting under account \
         000000000000.",
    );
    let child = children[0].hash_key_range;
    for bad in [child.starting + 1, child.ending, child.ending + 1] {
        assert_error(
            stream.split_shard("shardId-000000000002", &bad.to_string()),
            "InvalidArgumentException",
            &format!(
                "NewStartingHashKey {bad} used in SplitShard() on shard shardId-000000000002 in \
                 stream splitting under account 000000000000 is not both greater than one plus \
                 the shard's StartingHashKey {} and less than the shard's EndingHashKey {}.",
                child.starting, child.ending
            ),
        );
    }
    stream
        .split_shard("shardId-000000000002", &(child.starting + 2).to_string())
        .unwrap();

    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options);
    let stream = engine.stream("splitting").unwrap();
    let reopened = stream.describe(None, None).unwrap();
    assert_eq!(reopened.shards.len(), 6);
    assert_eq!(
        reopened.shards[..2],
        description.shards[..2],
        "lineage survives"
    );
    assert_eq!(reopened.shards[3], description.shards[3]);
    assert_eq!(reopened.shards[4].parent_shard_id, Some(ShardId::new(2)));
    assert!(reopened.shards[2].ending_sequence_number.is_some());
    for i in 0..50 {
        let output = stream
            .put_record(PutRecordInput::new(&format!("key-{i}"), b"x"))
            .unwrap();
        assert!(
            reopened.shards[output.shard_id.index() as usize]
                .ending_sequence_number
                .is_none(),
            "writes after a reopen go to open shards only"
        );
    }
}

#[test]
fn a_merge_joins_adjacent_shards_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("merging", 3))
        .unwrap();
    assert_error(
        stream.merge_shards("shardId-000000000000", "shardId-000000000002"),
        "InvalidArgumentException",
        "Shards shardId-000000000000 and shardId-000000000002 in stream merging under account \
         000000000000 are not an adjacent pair of shards eligible for merging",
    );
    // The adjacent shard's range must follow the shard's, not precede it.
    assert_error(
        stream.merge_shards("shardId-000000000002", "shardId-000000000001"),
        "InvalidArgumentException",
        "Shards shardId-000000000002 and shardId-000000000001 in stream merging under account \
         000000000000 are not an adjacent pair of shards eligible for merging",
    );
    stream
        .merge_shards("shardId-000000000001", "shardId-000000000002")
        .unwrap();
    let description = stream.describe(None, None).unwrap();
    let merged = &description.shards[3];
    assert_eq!(merged.shard_id, ShardId::new(3));
    assert_eq!(merged.parent_shard_id, Some(ShardId::new(1)));
    assert_eq!(merged.adjacent_parent_shard_id, Some(ShardId::new(2)));
    assert_eq!(
        merged.hash_key_range.starting,
        description.shards[1].hash_key_range.starting
    );
    assert_eq!(merged.hash_key_range.ending, u128::MAX);
    assert_eq!(description.open_shard_count, 2);
    assert_error(
        stream.merge_shards("shardId-000000000000", "shardId-000000000001"),
        "InvalidArgumentException",
        "Shard shardId-000000000001 in stream merging under account 000000000000 has already been \
         merged or split, and thus is not eligible for merging or splitting.",
    );
}

#[test]
fn update_shard_count_scales_uniformly_within_half_and_double() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("scaling", 3))
        .unwrap();
    assert_error(
        stream.update_shard_count(7),
        "InvalidArgumentException",
        "UpdateShardCount cannot scale up over double your current open shard count. Current \
         open shard count: 3 Target shard count: 7",
    );
    assert_error(
        stream.update_shard_count(1),
        "InvalidArgumentException",
        "UpdateShardCount cannot scale down below half your current open shard count. Current \
         open shard count: 3 Target shard count: 1",
    );
    for target in [5, 3, 2, 4] {
        let output = stream.update_shard_count(target).unwrap();
        assert_eq!(output.target_shard_count, target);
        let mut open: Vec<HashKeyRange> = stream
            .list_shards(
                shardlog::stream::ListShardsFrom::Start {
                    exclusive_start_shard_id: None,
                    filter: Some(shardlog::stream::ShardFilter::AtLatest),
                },
                None,
            )
            .unwrap()
            .shards
            .iter()
            .map(|shard| shard.hash_key_range)
            .collect();
        open.sort_by_key(|range| range.starting);
        assert_eq!(open, HashKeyRange::even_split(target), "target {target}");
        assert_eq!(engine.describe_limits().open_shard_count, u64::from(target));
    }
}

#[test]
fn on_demand_streams_and_limits_refuse_user_resharding() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.limits = EngineLimits {
        max_open_shards: 5,
        ..EngineLimits::default()
    };
    let engine = open(dir.path(), &options);
    let on_demand = engine
        .create_stream(CreateStream::on_demand("auto"))
        .unwrap();
    let message = error_of(
        on_demand.split_shard("shardId-000000000000", "12345"),
        "ValidationException",
    );
    assert!(message.contains("ON_DEMAND"), "{message}");
    engine
        .update_stream_mode("auto", StreamMode::Provisioned)
        .unwrap();
    assert_eq!(on_demand.describe(None, None).unwrap().open_shard_count, 4);
    on_demand
        .split_shard("shardId-000000000000", &(HALF / 4).to_string())
        .unwrap();
    assert_error(
        on_demand.split_shard("shardId-000000000001", &(HALF / 2 + 7).to_string()),
        "LimitExceededException",
        "This request would exceed the shard limit for the account 000000000000 in us-east-1. \
         Current shard count for the account: 5. Limit: 5. Number of additional shards that \
         would have resulted from this request: 1. Refer to the AWS Service Limits page \
         (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current \
         limits and how to request higher limits.",
    );
    let refused = error_of(
        engine.create_stream(CreateStream::provisioned("more", 1)),
        "LimitExceededException",
    );
    assert!(refused.contains("shard limit"), "{refused}");
    // Merging frees a shard of the quota.
    on_demand
        .merge_shards("shardId-000000000001", "shardId-000000000002")
        .unwrap_or_else(|error| panic!("{error}"));
    engine
        .create_stream(CreateStream::provisioned("more", 1))
        .unwrap();
    let limits = engine.describe_limits();
    assert_eq!((limits.shard_limit, limits.open_shard_count), (5, 5));
}
