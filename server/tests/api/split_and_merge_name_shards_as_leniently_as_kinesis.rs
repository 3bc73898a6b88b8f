//! SplitShard and MergeShards read a shard id as Kinesis does (kinesalite's test/splitShard.js
//! and test/mergeShards.js): `shard-0`, `anything-0` or `0` names shard 0; text that names no
//! shard (an index past 2147483647, `2.14E4`, `ABKLFD8`) is "not found" before the stream is
//! looked up; errors name the shard by its full id; and MergeShards wants the adjacent shard's
//! range after the shard's.

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::{Value, json};
use shardlog_server::ServerConfig;

fn error(kind: &str, message: &str) -> Value {
    json!({"__type": kind, "message": message})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_and_merge_name_shards_as_leniently_as_kinesis() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":3}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        let unknown_shard =
            |shard: &str, stream: &str| error("ResourceNotFoundException", &format!("Could not find shard {shard} in stream {stream} under account 000000000000."));
        let unknown_stream = error(
            "ResourceNotFoundException",
            "Stream gone under account 000000000000 not found.",
        );
        let cases: Vec<(&str, &str, Value)> = vec![
            // Text that names no shard wins over a missing stream, and is quoted as given.
            ("SplitShard", r#"{"StreamName":"gone","ShardToSplit":"2147483648","NewStartingHashKey":"0"}"#, unknown_shard("2147483648", "gone")),
            ("SplitShard", r#"{"StreamName":"gone","ShardToSplit":"shardId-002147483648","NewStartingHashKey":"0"}"#, unknown_shard("shardId-002147483648", "gone")),
            ("SplitShard", r#"{"StreamName":"gone","ShardToSplit":"2.14E4","NewStartingHashKey":"0"}"#, unknown_shard("2.14E4", "gone")),
            ("MergeShards", r#"{"StreamName":"gone","ShardToMerge":"x-0","AdjacentShardToMerge":"ABKLFD8"}"#, unknown_shard("ABKLFD8", "gone")),
            // Text that names a shard leaves the answer to the stream.
            ("SplitShard", r#"{"StreamName":"gone","ShardToSplit":"a-00002147483647","NewStartingHashKey":"0"}"#, unknown_stream.clone()),
            ("MergeShards", r#"{"StreamName":"gone","ShardToMerge":"-00002147483647","AdjacentShardToMerge":"2147483647"}"#, unknown_stream),
            // A shard the stream lacks is named by its full id.
            ("SplitShard", r#"{"StreamName":"s","ShardToSplit":"shardId-5","NewStartingHashKey":"0"}"#, unknown_shard("shardId-000000000005", "s")),
            ("MergeShards", r#"{"StreamName":"s","ShardToMerge":"x-0","AdjacentShardToMerge":"shardId-5"}"#, unknown_shard("shardId-000000000005", "s")),
            (
                "SplitShard",
                r#"{"StreamName":"s","ShardToSplit":"shard-0","NewStartingHashKey":"1"}"#,
                error("InvalidArgumentException", "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream s under account 000000000000 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 113427455640312821154458202477256070484."),
            ),
            (
                "MergeShards",
                r#"{"StreamName":"s","ShardToMerge":"x-0","AdjacentShardToMerge":"y-2"}"#,
                error("InvalidArgumentException", "Shards shardId-000000000000 and shardId-000000000002 in stream s under account 000000000000 are not an adjacent pair of shards eligible for merging"),
            ),
            // The adjacent shard's range must follow the shard's.
            (
                "MergeShards",
                r#"{"StreamName":"s","ShardToMerge":"x-1","AdjacentShardToMerge":"y-0"}"#,
                error("InvalidArgumentException", "Shards shardId-000000000001 and shardId-000000000000 in stream s under account 000000000000 are not an adjacent pair of shards eligible for merging"),
            ),
        ];
        for (operation, body, expected) in cases {
            let answer = call_json(addr, operation, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{operation} {body}");
            assert_eq!(answer.json(), expected, "{operation} {body}");
        }

        let merged = call_json(
            addr,
            "MergeShards",
            r#"{"StreamName":"s","ShardToMerge":"x-0","AdjacentShardToMerge":"1"}"#,
        )
        .await;
        assert_eq!(merged.status, StatusCode::OK, "{:?}", merged.body);
        let split = call_json(
            addr,
            "SplitShard",
            r#"{"StreamName":"s","ShardToSplit":"anything-2","NewStartingHashKey":"300000000000000000000000000000000000000"}"#,
        )
        .await;
        assert_eq!(split.status, StatusCode::OK, "{:?}", split.body);
        let described = call_json(addr, "DescribeStream", r#"{"StreamName":"s"}"#).await.json();
        let shards = described["StreamDescription"]["Shards"].as_array().unwrap().clone();
        let lineage: Vec<(Value, Value)> = shards
            .iter()
            .map(|shard| (shard["ShardId"].clone(), shard["ParentShardId"].clone()))
            .collect();
        assert_eq!(
            lineage,
            vec![
                (json!("shardId-000000000000"), Value::Null),
                (json!("shardId-000000000001"), Value::Null),
                (json!("shardId-000000000002"), Value::Null),
                (json!("shardId-000000000003"), json!("shardId-000000000000")),
                (json!("shardId-000000000004"), json!("shardId-000000000002")),
                (json!("shardId-000000000005"), json!("shardId-000000000002")),
            ]
        );
        assert_eq!(shards[3]["AdjacentParentShardId"], json!("shardId-000000000001"));
    })
    .await;
    server.stop().await;
}
