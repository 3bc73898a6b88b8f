//! While a stream is CREATING, DescribeStream lists no shards, as Kinesis does (kinesalite's
//! test/createStream.js records `StreamStatus: 'CREATING'` with `Shards: []`); once ACTIVE it
//! lists them all.

use std::sync::Arc;

use crate::common::{TestServer, bounded, call_json};
use http::StatusCode;
use serde_json::json;
use shardlog::{EngineOptions, ManualClock};
use shardlog_server::ServerConfig;

/// How long a new stream stays CREATING here.
const CREATE_DELAY_MS: u64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_being_created_is_described_without_shards() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let options = EngineOptions {
        create_delay_ms: CREATE_DELAY_MS,
        clock: clock.clone(),
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":3}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        let described = call_json(addr, "DescribeStream", r#"{"StreamName":"s"}"#)
            .await
            .json();
        let description = &described["StreamDescription"];
        assert_eq!(description["StreamStatus"], "CREATING");
        assert_eq!(description["Shards"], json!([]));
        assert_eq!(description["HasMoreShards"], false);

        clock.advance_ms(CREATE_DELAY_MS);
        let described = call_json(addr, "DescribeStream", r#"{"StreamName":"s"}"#)
            .await
            .json();
        let description = &described["StreamDescription"];
        assert_eq!(description["StreamStatus"], "ACTIVE");
        assert_eq!(description["Shards"].as_array().map(Vec::len), Some(3));
    })
    .await;
    server.stop().await;
}
