//! SubscribeToShard driven by the AWS SDK for JavaScript v3 (`@aws-sdk/client-kinesis` from the
//! npm registry) with its default handler, which speaks HTTP/2, against a server that verifies
//! signatures: a consumer is registered and becomes ACTIVE, `SubscribeToShardCommand` subscribes
//! from LATEST, a record put after the subscription started arrives through the `EventStream`
//! async iterable with its data and sequence number. Then the server shuts down with the
//! subscription live: it stops well within its grace period and the SDK's iteration ends
//! normally. The checks are made on what `javascript/subscribe_to_shard.cjs` prints.
//!
//! The test installs the pinned SDK with npm into a cache under `target/` when it is not there
//! yet (Node.js and npm must be installed: `.ci/run` installs them on a fresh machine).

use std::io::{BufRead, BufReader, Lines};
use std::process::{ChildStdout, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestServer, installed_javascript_sdk, node_script};
use serde_json::{Value, json};
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

const KEY: &str = "AKIDJAVASCRIPT";
const SECRET: &str = "javascript/secret+key";
/// Far less than the server's shutdown grace period (10 s): the subscription is not waited for.
const STOP_BOUND: Duration = Duration::from_secs(3);

/// The script's next line, parsed (the script bounds itself: it fails after 30 s).
async fn next_line(lines: &mut Option<Lines<BufReader<ChildStdout>>>) -> Value {
    let mut taken = lines.take().expect("the script's output");
    let (line, taken) = tokio::task::spawn_blocking(move || (taken.next(), taken))
        .await
        .expect("reading the script's output");
    *lines = Some(taken);
    let line = line.and_then(Result::ok).unwrap_or_default();
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("a JSON line from the script: {line:?}"))
}

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
    let mut node = node_script(
        "subscribe_to_shard.cjs",
        &[&server.endpoint(), KEY, SECRET],
        &modules,
        dir.path(),
    );
    let mut child = node
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let mut lines = Some(BufReader::new(child.stdout.take().expect("piped stdout")).lines());

    let seen = next_line(&mut lines).await;
    assert_eq!(seen["handler"], "NodeHttp2Handler", "{seen}");
    assert_eq!(seen["protocol"], "h2", "{seen}");
    assert_eq!(
        seen["records"],
        json!([{"sequenceNumber": seen["sequenceNumber"], "data": "pushed to javascript"}]),
        "{seen}"
    );
    assert_eq!(seen["continuation"], seen["sequenceNumber"], "{seen}");

    let stopping = Instant::now();
    server.stop().await;
    let stopped_in = stopping.elapsed();
    eprintln!(
        "the server stopped {stopped_in:?} after shutdown began, an HTTP/2 subscription live"
    );
    let ended = next_line(&mut lines).await;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("waiting for node")
        .expect("node ends");
    assert!(
        stopped_in < STOP_BOUND,
        "the server took {stopped_in:?} to stop with a live subscription (bound {STOP_BOUND:?})"
    );
    assert_eq!(
        ended,
        json!({"ending": "end"}),
        "the event stream must end normally"
    );
    assert!(status.success(), "the script failed: {status}");
}
