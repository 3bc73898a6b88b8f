//! SubscribeToShard driven by the AWS SDK for JavaScript v3 (`@aws-sdk/client-kinesis` from the
//! npm registry) with its default handler, which speaks HTTP/2, against a server that verifies
//! signatures: a consumer is registered and becomes ACTIVE, `SubscribeToShardCommand` subscribes
//! from LATEST, a record put after the subscription started arrives through the `EventStream`
//! async iterable with its data and sequence number. The checks are made on what
//! `javascript/subscribe_to_shard.cjs` prints.
//!
//! The test installs the pinned SDK with npm into a cache under `target/` when it is not there
//! yet (Node.js and npm must be installed: `.ci/run` installs them on a fresh machine).

mod common;

use common::{STEP_TIMEOUT, TestServer, installed_javascript_sdk, node_script, run_bounded};
use serde_json::{Value, json};
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

const KEY: &str = "AKIDJAVASCRIPT";
const SECRET: &str = "javascript/secret+key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_v3_receives_pushed_records_through_subscribe_to_shard() {
    let modules = tokio::task::spawn_blocking(installed_javascript_sdk)
        .await
        .expect("installing the SDK");
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([(KEY.to_owned(), SECRET.to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let node = node_script(
        "subscribe_to_shard.cjs",
        &[&server.endpoint(), KEY, SECRET],
        &modules,
        dir.path(),
    );
    let output = tokio::task::spawn_blocking(move || run_bounded(node, STEP_TIMEOUT))
        .await
        .expect("running node");
    let seen: Value = serde_json::from_str(output.trim()).expect("one JSON line from the script");

    assert_eq!(seen["handler"], "NodeHttp2Handler", "{seen}");
    assert_eq!(seen["protocol"], "h2", "{seen}");
    assert_eq!(
        seen["records"],
        json!([{"sequenceNumber": seen["sequenceNumber"], "data": "pushed to javascript"}]),
        "{seen}"
    );
    assert_eq!(seen["continuation"], seen["sequenceNumber"], "{seen}");
    server.stop().await;
}
