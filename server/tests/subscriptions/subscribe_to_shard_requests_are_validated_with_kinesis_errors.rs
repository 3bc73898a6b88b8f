//! SubscribeToShard requests that cannot start a subscription get Kinesis' errors as ordinary
//! (not streamed) answers: missing members are a ValidationException naming each, a consumer ARN
//! that names no consumer is ResourceNotFoundException, and a starting position type that is not
//! one of the five is a ValidationException naming `startingPosition.type`.

use crate::common::{TestServer, call_json};
use http::StatusCode;
use shardlog_server::ServerConfig;

const NO_SUCH_CONSUMER: &str =
    "arn:aws:kinesis:us-east-1:000000000000:stream/nothing/consumer/app:1700000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_to_shard_requests_are_validated_with_kinesis_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;

    let missing = call_json(server.addr, "SubscribeToShard", "{}").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let body = missing.json();
    assert_eq!(body["__type"], "ValidationException", "{body}");
    let message = body["message"].as_str().unwrap();
    for member in ["consumerARN", "shardId", "startingPosition"] {
        assert!(message.contains(member), "{message}");
    }

    let unknown = call_json(
        server.addr,
        "SubscribeToShard",
        &format!(
            r#"{{"ConsumerARN":"{NO_SUCH_CONSUMER}","ShardId":"shardId-000000000000",
                "StartingPosition":{{"Type":"LATEST"}}}}"#
        ),
    )
    .await;
    assert_eq!(unknown.json()["__type"], "ResourceNotFoundException");

    let bad_type = call_json(
        server.addr,
        "SubscribeToShard",
        &format!(
            r#"{{"ConsumerARN":"{NO_SUCH_CONSUMER}","ShardId":"shardId-000000000000",
                "StartingPosition":{{"Type":"SOMETIME"}}}}"#
        ),
    )
    .await;
    let body = bad_type.json();
    assert_eq!(body["__type"], "ValidationException", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("startingPosition.type")
    );
    server.stop().await;
}
