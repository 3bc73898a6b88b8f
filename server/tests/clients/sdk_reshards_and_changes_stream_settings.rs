//! Through the SDK: split, merge and UpdateShardCount reshape a stream with Kinesis lineage;
//! ListShards filters and pages; retention, tags (by name and by ARN), enhanced monitoring, the
//! record size limit, the capacity mode (at most twice a day) and the account limits change and
//! read back as Kinesis reports them, with Kinesis' errors for what it refuses.

use crate::common::{TestServer, bounded, sdk_client};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    MetricsName, ScalingType, ShardFilter, ShardFilterType, ShardIteratorType, StreamMode,
    StreamModeDetails,
};
use shardlog_server::ServerConfig;

const STREAM: &str = "reshaped";
const ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/reshaped";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_reshards_and_changes_stream_settings() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let client = sdk_client(&server.endpoint(), "AKIDEXAMPLE", "secret");
    bounded(async {
        client
            .create_stream()
            .stream_name(STREAM)
            .shard_count(2)
            .send()
            .await
            .unwrap();
        let put = client
            .put_record()
            .stream_name(STREAM)
            .partition_key("before")
            .explicit_hash_key("1")
            .data(Blob::new("before the split"))
            .send()
            .await
            .unwrap();
        assert_eq!(put.shard_id, "shardId-000000000000");

        // Split shard 0 in the middle of its range: shards 2 and 3 are its children.
        let half = (u128::MAX / 2 / 2).to_string();
        client
            .split_shard()
            .stream_name(STREAM)
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key(&half)
            .send()
            .await
            .unwrap();
        let error = client
            .split_shard()
            .stream_name(STREAM)
            .shard_to_split("shardId-000000000001")
            .new_starting_hash_key("0")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_invalid_argument_exception(), "{error:?}");
        let open = client
            .list_shards()
            .stream_name(STREAM)
            .shard_filter(
                ShardFilter::builder()
                    .r#type(ShardFilterType::AtLatest)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap()
            .shards
            .unwrap();
        let open_ids: Vec<&str> = open.iter().map(|shard| shard.shard_id.as_str()).collect();
        assert_eq!(
            open_ids,
            [
                "shardId-000000000001",
                "shardId-000000000002",
                "shardId-000000000003"
            ]
        );
        assert_eq!(
            open[1].parent_shard_id.as_deref(),
            Some("shardId-000000000000")
        );

        // Reading the closed parent to its end names the children and ends the iterator.
        let iterator = client
            .get_shard_iterator()
            .stream_name(STREAM)
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let mut next = Some(iterator);
        let mut data = Vec::new();
        let mut children = Vec::new();
        for _ in 0..10 {
            let Some(iterator) = next.take() else { break };
            let page = client
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .unwrap();
            data.extend(page.records.into_iter().map(|r| r.data.into_inner()));
            children.extend(page.child_shards.unwrap_or_default());
            next = page.next_shard_iterator;
        }
        assert!(
            next.is_none(),
            "a fully read closed shard has no next iterator"
        );
        assert_eq!(data, vec![b"before the split".to_vec()]);
        let child_ids: Vec<&str> = children.iter().map(|c| c.shard_id.as_str()).collect();
        assert_eq!(child_ids, ["shardId-000000000002", "shardId-000000000003"]);

        // Merge the two children back; then UpdateShardCount doubles the open shards.
        client
            .merge_shards()
            .stream_name(STREAM)
            .shard_to_merge("shardId-000000000002")
            .adjacent_shard_to_merge("shardId-000000000003")
            .send()
            .await
            .unwrap();
        let error = client
            .merge_shards()
            .stream_name(STREAM)
            .shard_to_merge("shardId-000000000001")
            .adjacent_shard_to_merge("shardId-000000000000")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_invalid_argument_exception(), "{error:?}");
        let scaled = client
            .update_shard_count()
            .stream_name(STREAM)
            .target_shard_count(4)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await
            .unwrap();
        assert_eq!(scaled.current_shard_count, Some(2));
        assert_eq!(scaled.target_shard_count, Some(4));
        assert_eq!(scaled.stream_arn.as_deref(), Some(ARN));

        // ListShards pages with MaxResults and NextToken (and the token alone).
        let first = client
            .list_shards()
            .stream_name(STREAM)
            .max_results(3)
            .send()
            .await
            .unwrap();
        assert_eq!(first.shards.as_ref().map(Vec::len), Some(3));
        let mut listed = first.shards.unwrap().len();
        let mut token = first.next_token;
        while let Some(next_token) = token.take() {
            let page = client
                .list_shards()
                .next_token(next_token)
                .max_results(3)
                .send()
                .await
                .unwrap();
            listed += page.shards.map_or(0, |shards| shards.len());
            token = page.next_token;
        }
        let all = client
            .describe_stream()
            .stream_name(STREAM)
            .send()
            .await
            .unwrap()
            .stream_description
            .unwrap()
            .shards;
        assert_eq!(listed, all.len());
        let error = client
            .list_shards()
            .stream_name(STREAM)
            .next_token("bogus")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            error.meta().message(),
            Some("NextToken and StreamName cannot be provided together.")
        );

        // Retention: up, then down, then a refused "increase" below the current period.
        client
            .increase_stream_retention_period()
            .stream_name(STREAM)
            .retention_period_hours(48)
            .send()
            .await
            .unwrap();
        let error = client
            .increase_stream_retention_period()
            .stream_name(STREAM)
            .retention_period_hours(36)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            error.meta().message(),
            Some(
                "Requested retention period (36 hours) for stream reshaped can not be shorter \
                 than existing retention period (48 hours). Use DecreaseRetentionPeriod API."
            )
        );
        client
            .decrease_stream_retention_period()
            .stream_arn(ARN)
            .retention_period_hours(30)
            .send()
            .await
            .unwrap();
        let summary = client
            .describe_stream_summary()
            .stream_name(STREAM)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.retention_period_hours, 30);

        // Tags by stream name and by resource ARN see the same set.
        client
            .add_tags_to_stream()
            .stream_name(STREAM)
            .tags("team", "data")
            .tags("env", "test")
            .send()
            .await
            .unwrap();
        client
            .tag_resource()
            .resource_arn(ARN)
            .tags("owner", "shardlog")
            .send()
            .await
            .unwrap();
        client
            .remove_tags_from_stream()
            .stream_name(STREAM)
            .tag_keys("env")
            .send()
            .await
            .unwrap();
        let page = client
            .list_tags_for_stream()
            .stream_name(STREAM)
            .limit(1)
            .send()
            .await
            .unwrap();
        assert_eq!(page.tags.len(), 1);
        assert_eq!(page.tags[0].key, "owner");
        assert!(page.has_more_tags);
        let tags = client
            .list_tags_for_resource()
            .resource_arn(ARN)
            .send()
            .await
            .unwrap()
            .tags
            .unwrap();
        let pairs: Vec<(String, Option<String>)> =
            tags.into_iter().map(|tag| (tag.key, tag.value)).collect();
        assert_eq!(
            pairs,
            vec![
                ("owner".to_owned(), Some("shardlog".to_owned())),
                ("team".to_owned(), Some("data".to_owned()))
            ]
        );
        client
            .untag_resource()
            .resource_arn(ARN)
            .tag_keys("owner")
            .send()
            .await
            .unwrap();

        // Enhanced monitoring reports before and after, and shows in DescribeStream.
        let enabled = client
            .enable_enhanced_monitoring()
            .stream_name(STREAM)
            .shard_level_metrics(MetricsName::IncomingBytes)
            .send()
            .await
            .unwrap();
        assert_eq!(enabled.current_shard_level_metrics, Some(vec![]));
        assert_eq!(
            enabled.desired_shard_level_metrics,
            Some(vec![MetricsName::IncomingBytes])
        );
        let disabled = client
            .disable_enhanced_monitoring()
            .stream_name(STREAM)
            .shard_level_metrics(MetricsName::All)
            .send()
            .await
            .unwrap();
        assert_eq!(disabled.desired_shard_level_metrics, Some(vec![]));

        // The record size limit and the capacity mode.
        client
            .update_max_record_size()
            .stream_arn(ARN)
            .max_record_size_in_kib(2048)
            .send()
            .await
            .unwrap();
        client
            .update_stream_mode()
            .stream_arn(ARN)
            .stream_mode_details(
                StreamModeDetails::builder()
                    .stream_mode(StreamMode::OnDemand)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let summary = client
            .describe_stream_summary()
            .stream_name(STREAM)
            .send()
            .await
            .unwrap()
            .stream_description_summary
            .unwrap();
        assert_eq!(summary.max_record_size_in_kib, Some(2048));
        assert_eq!(
            summary.stream_mode_details.unwrap().stream_mode,
            StreamMode::OnDemand
        );
        let error = client
            .split_shard()
            .stream_name(STREAM)
            .shard_to_split("shardId-000000000001")
            .new_starting_hash_key(u128::MAX.to_string())
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(
            error.meta().code(),
            Some("ValidationException"),
            "{error:?}"
        );

        let limits = client.describe_limits().send().await.unwrap();
        assert_eq!(limits.open_shard_count, 4);
        assert_eq!(limits.on_demand_stream_count, 1);
        assert!(limits.shard_limit >= 4);

        // Kinesis switches a stream's capacity mode at most twice a day: back to PROVISIONED is
        // the second switch, a third is refused.
        let switch_to = |mode: StreamMode| {
            client
                .update_stream_mode()
                .stream_arn(ARN)
                .stream_mode_details(
                    StreamModeDetails::builder()
                        .stream_mode(mode)
                        .build()
                        .unwrap(),
                )
                .send()
        };
        switch_to(StreamMode::Provisioned).await.unwrap();
        let error = switch_to(StreamMode::OnDemand)
            .await
            .unwrap_err()
            .into_service_error();
        assert!(error.is_limit_exceeded_exception(), "{error:?}");
        assert_eq!(
            error.meta().message(),
            Some(
                "The capacity mode of stream reshaped under account 000000000000 has been \
                 switched 2 times in the last 24 hours, the most allowed."
            )
        );
    })
    .await;
    server.stop().await;
}
