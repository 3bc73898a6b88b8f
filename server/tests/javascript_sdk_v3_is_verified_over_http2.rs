//! The AWS SDK for JavaScript v3 (`@aws-sdk/client-kinesis` from the npm registry), whose Kinesis
//! client speaks HTTP/2 by default and signs the `:authority` pseudo-header in place of `host`,
//! works against a server that verifies signatures: CreateStream, PutRecord, GetShardIterator and
//! GetRecords pass and the record comes back; a wrong secret is refused with
//! InvalidSignatureException.
//!
//! The test installs the pinned SDK with npm into a cache under `target/` when it is not there
//! yet (Node.js and npm must be installed: `.ci/run` installs them on a fresh machine).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{STEP_TIMEOUT, TestServer};
use serde_json::{Value, json};
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

/// The SDK version the test runs (pinned, so that a new release cannot change the test).
const SDK_PACKAGE: &str = "@aws-sdk/client-kinesis@3.1143.0";
const KEY: &str = "AKIDJAVASCRIPT";
const SECRET: &str = "javascript/secret+key";

/// Runs `command` to completion within `limit`; its standard output, or a panic with its log.
fn run_bounded(mut command: Command, limit: Duration) -> String {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{command:?} does not start: {error}"));
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("waiting works").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output is collected");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The `node_modules` holding the pinned SDK, installed on first use.
fn installed_sdk() -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("javascript-sdk");
    let modules = cache.join("node_modules");
    let version = SDK_PACKAGE.rsplit('@').next().expect("a pinned version");
    let manifest = modules.join("@aws-sdk/client-kinesis/package.json");
    let present = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .is_some_and(|package| package["version"] == version);
    if !present {
        std::fs::create_dir_all(&cache).expect("the cache directory");
        let mut npm = Command::new("npm");
        npm.args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(&cache)
        .arg(SDK_PACKAGE);
        run_bounded(npm, Duration::from_secs(300));
    }
    modules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_v3_is_verified_over_http2() {
    let modules = tokio::task::spawn_blocking(installed_sdk)
        .await
        .expect("installing the SDK");
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([(KEY.to_owned(), SECRET.to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/javascript/kinesis_round_trip.cjs");
    let mut node = Command::new("node");
    node.arg(script)
        .args([&server.endpoint(), KEY, SECRET])
        .env("NODE_PATH", &modules)
        // The SDK must not pick up a developer's AWS configuration.
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
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
