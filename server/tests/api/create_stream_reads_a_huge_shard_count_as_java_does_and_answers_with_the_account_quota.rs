//! CreateStream with a huge ShardCount: the front end reads the number into a Java `int`, so
//! 100000000000 is 2147483647 and breaks no constraint of the model (which bounds ShardCount
//! below only); the stream is then refused with the account's shard quota, whose message
//! names the quota (kinesalite's test/createStream.js and test/helpers.js, which learns the
//! quota from that message).

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::json;
use shardlog_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_stream_reads_a_huge_shard_count_as_java_does_and_answers_with_the_account_quota() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let long_name = "a".repeat(129);
        let body = json!({"StreamName": long_name, "ShardCount": 100_000_000_000u64}).to_string();
        let answer = call_json(addr, "CreateStream", &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json(),
            json!({"__type": "ValidationException",
                   "message": format!("1 validation error detected: Value '{long_name}' at \
                   'streamName' failed to satisfy constraint: Member must have length less than \
                   or equal to 128")})
        );

        // Past both the account's quota (20000 open shards by default) and the 10000 shards a
        // stream may have, the account's quota answers.
        for shard_count in [100_000u64, 100_000_000_000] {
            let body = json!({"StreamName": "huge", "ShardCount": shard_count}).to_string();
            let answer = call_json(addr, "CreateStream", &body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST);
            let clamped = shard_count.min(2_147_483_647);
            assert_eq!(
                answer.json(),
                json!({"__type": "LimitExceededException",
                       "message": format!("This request would exceed the shard limit for the \
                       account 000000000000 in us-east-1. Current shard count for the account: \
                       0. Limit: 20000. Number of additional shards that would have resulted \
                       from this request: {clamped}. Refer to the AWS Service Limits page \
                       (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) \
                       for current limits and how to request higher limits.")}),
                "{shard_count}"
            );
        }
    })
    .await;
    server.stop().await;
}
