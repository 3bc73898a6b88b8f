//! The AWS SDK for JavaScript v3 (`@aws-sdk/client-kinesis` from the npm registry), whose Kinesis
//! client speaks HTTP/2 by default and signs the `:authority` pseudo-header in place of `host`,
//! works against a server that verifies signatures: CreateStream, PutRecord, GetShardIterator and
//! GetRecords pass and the record comes back; a wrong secret is refused with
//! InvalidSignatureException.
//!
//! The test installs the pinned SDK with npm into a cache under `target/` when it is not there
//! yet (Node.js and npm must be installed: `.ci/run` installs them on a fresh machine).

use crate::common::{STEP_TIMEOUT, TestServer, installed_javascript_sdk, node_script, run_bounded};
use serde_json::{Value, json};
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

const KEY: &str = "AKIDJAVASCRIPT";
const SECRET: &str = "javascript/secret+key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_v3_is_verified_over_http2() {
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
        "kinesis_round_trip.cjs",
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
        json!([{"sequenceNumber": seen["sequenceNumber"], "data": "hello from javascript"}])
    );
    assert_eq!(
        seen["forged"],
        json!({"name": "InvalidSignatureException",
               "message": "The request signature we calculated does not match the signature \
                           you provided. Check your AWS Secret Access Key and signing method. \
                           Consult the service documentation for details."})
    );
    server.stop().await;
}
