//! SIGTERM while a SubscribeToShard subscription is live: the server ends the subscription's event
//! stream at once (the client sees a normal end of the response, as when Kinesis ends a
//! subscription after five minutes, and subscribes again) and exits well within its grace period,
//! instead of waiting the whole grace period for the stream and then cutting it (which botocore
//! reports as a ProtocolError). The client is boto3, driven by
//! `python/subscription_ends_at_shutdown.py`. Skipped, saying so, only where boto3 is not
//! installed and this is not CI (`.ci/run` installs it).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{ServeProcess, isolate_aws_tool};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/subscription_ends_at_shutdown.py"
);
/// Far less than the server's shutdown grace period (10 s): the subscription is not waited for.
const EXIT_BOUND: Duration = Duration::from_secs(3);

#[test]
fn a_live_subscription_ends_cleanly_when_the_server_shuts_down() {
    if !crate::common::boto3_or_skip("shutdown with a live subscription") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &["--create-delay-ms", "50"]);
    let mut python = Command::new("timeout");
    python
        .args(["60", "python3", SCRIPT, &server.endpoint()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    isolate_aws_tool(&mut python, dir.path());
    let mut child = python.spawn().expect("python3 starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().and_then(Result::ok);
    if first.as_deref() != Some("subscribed") {
        let output = child.wait_with_output().expect("python3 ends");
        panic!(
            "the subscription did not start ({first:?}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let exit = server.terminate_timed();
    eprintln!("shardlog exited {exit:?} after SIGTERM with a subscription live");
    let outcome = lines.next().and_then(Result::ok).unwrap_or_default();
    let status = child.wait().expect("python3 ends");

    assert!(
        exit < EXIT_BOUND,
        "shardlog took {exit:?} to exit with a live subscription (bound {EXIT_BOUND:?})"
    );
    assert!(status.success(), "the boto3 script failed: {status}");
    let outcome: Value = serde_json::from_str(&outcome).expect("one JSON line from the script");
    assert_eq!(
        outcome,
        json!({"received": ["before shutdown"], "ending": "end"}),
        "the event stream must end normally, with the record delivered"
    );
}
