//! SubscribeToShard driven by boto3 against `shardlog serve` over HTTP/1.1, botocore parsing the
//! event stream: records put before subscribing arrive from TRIM_HORIZON, a second live
//! subscription of the same consumer and shard gets ResourceInUseException with Kinesis' message,
//! a record put after a LATEST subscription started is pushed to it, and a split ends the
//! subscription with the children. The checks are in `python/subscribe_to_shard.py`. Skipped,
//! saying so, only where boto3 is not installed and this is not CI (`.ci/run` installs it).

use std::process::Command;

use crate::common::{ServeProcess, isolate_aws_tool};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/subscribe_to_shard.py"
);

#[test]
fn boto3_subscribe_to_shard_receives_pushed_records_and_a_splits_children() {
    if !crate::common::boto3_or_skip("SubscribeToShard through boto3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &["--create-delay-ms", "50"]);
    let mut python = Command::new("timeout");
    python.args(["120", "python3", SCRIPT, &server.endpoint()]);
    isolate_aws_tool(&mut python, dir.path());
    let output = python.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "the boto3 checks failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let latency_ms = String::from_utf8_lossy(&output.stdout);
    eprintln!("put-to-delivery through boto3: {} ms", latency_ms.trim());
    server.terminate();
}
