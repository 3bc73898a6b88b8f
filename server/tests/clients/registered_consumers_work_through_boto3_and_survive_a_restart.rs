//! The four consumer operations (RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers, DeregisterStreamConsumer), ConsumerCount, tags on consumer ARNs and
//! DeleteStream's EnforceConsumerDeletion, driven by boto3 against `shardlog serve`: shapes,
//! statuses, paging, limits and errors as Kinesis answers them, and the consumers still there
//! after the server restarts. The checks are in `python/registered_consumers.py`. Skipped, saying
//! so, only where boto3 is not installed and this is not CI (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

use crate::common::{ServeProcess, isolate_aws_tool};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/python/registered_consumers.py"
);

/// Runs one phase of the script against `server`; returns what it printed (a consumer's ARN).
fn run_phase(server: &ServeProcess, phase: &str, scratch: &Path) -> String {
    let mut python = Command::new("python3");
    python.args([SCRIPT, &server.endpoint(), phase]);
    isolate_aws_tool(&mut python, scratch);
    let output = python.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "{phase} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn registered_consumers_work_through_boto3_and_survive_a_restart() {
    if !crate::common::boto3_or_skip("registered consumers") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Consumers stay CREATING and DELETING as long as streams stay CREATING: 200 ms here, so the
    // script sees each status.
    let delay = ["--create-delay-ms", "200"];
    let first = ServeProcess::start(&data, &delay);
    let billing_before = run_phase(&first, "before-restart", dir.path());
    first.terminate();

    let second = ServeProcess::start(&data, &delay);
    let billing_after = run_phase(&second, "after-restart", dir.path());
    assert_eq!(billing_after, billing_before, "the consumer kept its ARN");
    second.terminate();
}
