//! boto3 (whose botocore carries the current Kinesis model) drives the eight operations that
//! record settings: StartStreamEncryption, StopStreamEncryption, PutResourcePolicy,
//! GetResourcePolicy, DeleteResourcePolicy, DescribeAccountSettings, UpdateAccountSettings and
//! UpdateStreamWarmThroughput. What they set reads back through DescribeStream and
//! DescribeStreamSummary, survives a restart of `shardlog serve`, and a stream's settings go
//! with the stream. Skipped, saying so, only where boto3 is not installed and this is not CI
//! (`.ci/run` installs it).

use std::path::Path;
use std::process::Command;

use crate::common::{ServeProcess, isolate_aws_tool};

/// Run as `python3 -c SCRIPT <endpoint> <phase>`: `before` sets everything and prints the
/// commitment's start time, `after <start>` (after a restart) checks it all and changes it back.
const SCRIPT: &str = r#"
import json, sys
import boto3, botocore

endpoint, phase = sys.argv[1], sys.argv[2]
kinesis = boto3.client(
    "kinesis", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/recorded"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "111122223333"},
    "Action": ["kinesis:DescribeStreamSummary", "kinesis:PutRecord"], "Resource": ARN}]},
    indent=2)

def summary(name):
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

def commitment():
    return kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]

def check(actual, expected, what):
    assert actual == expected, f"{what}: {actual!r}, expected {expected!r}"

if phase == "before":
    check(commitment(), {"Status": "DISABLED"}, "a new account has no commitment")
    kinesis.create_stream(StreamName="recorded", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    kinesis.get_waiter("stream_exists").wait(StreamName="recorded")
    check(summary("recorded")["EncryptionType"], "NONE", "a new stream")

    kinesis.start_stream_encryption(StreamARN=ARN, EncryptionType="KMS", KeyId=KEY)
    described = kinesis.describe_stream(StreamName="recorded")["StreamDescription"]
    check((described["EncryptionType"], described["KeyId"]), ("KMS", KEY), "DescribeStream")
    check(kinesis.get_resource_policy(ResourceARN=ARN)["Policy"], "{}", "no policy yet")
    kinesis.put_resource_policy(ResourceARN=ARN, Policy=POLICY)
    check(kinesis.get_resource_policy(ResourceARN=ARN)["Policy"], POLICY, "the policy as sent")

    enabled = kinesis.update_account_settings(
        MinimumThroughputBillingCommitment={"Status": "ENABLED"}
    )["MinimumThroughputBillingCommitment"]
    check(enabled["Status"], "ENABLED", "UpdateAccountSettings")
    check((enabled["EarliestAllowedEndAt"] - enabled["StartedAt"]).total_seconds(), 86400.0,
          "a commitment lasts at least a day")
    check(commitment(), enabled, "DescribeAccountSettings")
    warm = kinesis.update_stream_warm_throughput(StreamName="recorded", WarmThroughputMiBps=100)
    check((warm["StreamARN"], warm["StreamName"], warm["WarmThroughput"]),
          (ARN, "recorded", {"TargetMiBps": 100, "CurrentMiBps": 100}),
          "UpdateStreamWarmThroughput")
    check(summary("recorded")["WarmThroughput"], {"TargetMiBps": 100, "CurrentMiBps": 100},
          "DescribeStreamSummary")

    # A stream's settings go with it: deleted and created again, it has none.
    kinesis.create_stream(StreamName="gone", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="gone")
    gone = "arn:aws:kinesis:us-east-1:000000000000:stream/gone"
    kinesis.put_resource_policy(ResourceARN=gone, Policy="{}")
    kinesis.start_stream_encryption(StreamName="gone", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    kinesis.delete_stream(StreamName="gone")
    kinesis.create_stream(StreamName="gone", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="gone")
    check(kinesis.get_resource_policy(ResourceARN=gone)["Policy"], "{}", "a new stream's policy")
    check(summary("gone")["EncryptionType"], "NONE", "a new stream's encryption")
    print(enabled["StartedAt"].timestamp())
elif phase == "after":
    started = float(sys.argv[3])
    recorded = summary("recorded")
    check((recorded["EncryptionType"], recorded["KeyId"]), ("KMS", KEY), "encryption")
    check(recorded["WarmThroughput"], {"TargetMiBps": 100, "CurrentMiBps": 100}, "warm throughput")
    check(kinesis.get_resource_policy(ResourceARN=ARN)["Policy"], POLICY, "the policy")
    kept = commitment()
    check((kept["Status"], kept["StartedAt"].timestamp()), ("ENABLED", started), "the commitment")

    kinesis.stop_stream_encryption(StreamName="recorded", EncryptionType="KMS", KeyId=KEY)
    recorded = summary("recorded")
    check(recorded["EncryptionType"], "NONE", "StopStreamEncryption")
    assert "KeyId" not in recorded, recorded
    kinesis.delete_resource_policy(ResourceARN=ARN)
    check(kinesis.get_resource_policy(ResourceARN=ARN)["Policy"], "{}", "DeleteResourcePolicy")
    kinesis.delete_resource_policy(ResourceARN=ARN)

    disabled = kinesis.update_account_settings(
        MinimumThroughputBillingCommitment={"Status": "DISABLED"}
    )["MinimumThroughputBillingCommitment"]
    check(disabled["Status"], "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
          "disabled within its first day, the commitment runs to its earliest end")
    try:
        kinesis.start_stream_encryption(StreamName="recorded", EncryptionType="KMS", KeyId="nope")
        raise AssertionError("a malformed key was accepted")
    except kinesis.exceptions.KMSNotFoundException:
        pass
    try:
        kinesis.put_resource_policy(ResourceARN=ARN, Policy="[]")
        raise AssertionError("a policy that is not an object was accepted")
    except kinesis.exceptions.InvalidArgumentException:
        pass
    print("checked")
"#;

/// Runs the script's `args` phase against `server`; returns what it printed.
fn run_phase(server: &ServeProcess, scratch: &Path, args: &[&str]) -> String {
    let mut python = Command::new("python3");
    python.args(["-c", SCRIPT, &server.endpoint()]).args(args);
    isolate_aws_tool(&mut python, scratch);
    let output = python.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "phase {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn boto3_records_encryption_policies_and_account_settings_across_a_restart() {
    if !crate::common::boto3_or_skip(
        "boto3_records_encryption_policies_and_account_settings_across_a_restart",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let server = ServeProcess::start(&data, &[]);
    let started = run_phase(&server, dir.path(), &["before"]);
    server.terminate();

    let server = ServeProcess::start(&data, &[]);
    assert_eq!(
        run_phase(&server, dir.path(), &["after", &started]),
        "checked"
    );
    server.terminate();
}
