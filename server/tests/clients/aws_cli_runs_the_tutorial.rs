//! The real AWS CLI runs the Kinesis tutorial's commands against `shardlog serve` unchanged, only
//! with `--endpoint-url`. Skipped, saying so, only where `aws` is not installed and this is not CI
//! (`.ci/run` installs it, so CI always runs it).

use std::process::Command;

use crate::common::{ServeProcess, isolate_aws_tool};

/// The command that runs the CLI (`aws`, or `python3 -m awscli` where pip put the package but
/// not the script on the PATH), and its version line.
fn aws_cli() -> Option<(Vec<&'static str>, String)> {
    [vec!["aws"], vec!["python3", "-m", "awscli"]]
        .into_iter()
        .find_map(|command| {
            let output = Command::new(command[0])
                .args(&command[1..])
                .arg("--version")
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            output.status.success().then_some((command, text))
        })
}

#[test]
fn aws_cli_runs_the_tutorial() {
    let Some((command, version)) = aws_cli() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the AWS CLI must be installed in CI (see .ci/run)"
        );
        eprintln!("SKIPPED aws_cli_runs_the_tutorial: the `aws` command is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &[]);
    let endpoint = server.endpoint();
    let aws = |args: &[&str]| -> serde_json::Value {
        let mut cli = Command::new(command[0]);
        cli.args(&command[1..])
            .args(["--endpoint-url", &endpoint, "--output", "json", "kinesis"])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_DEFAULT_REGION", "us-east-1");
        isolate_aws_tool(&mut cli, dir.path());
        let output = cli.output().expect("aws runs");
        assert!(
            output.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        if output.stdout.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&output.stdout).expect("aws prints JSON")
        }
    };

    aws(&[
        "create-stream",
        "--stream-name",
        "data-analysis-stream",
        "--stream-mode-details",
        "StreamMode=ON_DEMAND",
    ]);
    let summary = aws(&[
        "describe-stream-summary",
        "--stream-name",
        "data-analysis-stream",
    ]);
    let summary = &summary["StreamDescriptionSummary"];
    assert_eq!(summary["StreamStatus"], "ACTIVE");
    assert_eq!(summary["StreamModeDetails"]["StreamMode"], "ON_DEMAND");
    assert_eq!(summary["OpenShardCount"], 4);

    // CLI v2 reads blob arguments as base64 unless told otherwise; v1 takes them raw.
    let mut put = vec![
        "put-record",
        "--stream-name",
        "data-analysis-stream",
        "--partition-key",
        "test-partition",
        "--data",
        "Hello, Kinesis!",
    ];
    if version.starts_with("aws-cli/2") {
        put.extend(["--cli-binary-format", "raw-in-base64-out"]);
    }
    let put = aws(&put);
    let shard_id = put["ShardId"].as_str().expect("ShardId").to_owned();
    let iterator = aws(&[
        "get-shard-iterator",
        "--shard-id",
        &shard_id,
        "--shard-iterator-type",
        "TRIM_HORIZON",
        "--stream-name",
        "data-analysis-stream",
    ]);
    let iterator = iterator["ShardIterator"].as_str().expect("ShardIterator");
    let records = aws(&["get-records", "--shard-iterator", iterator]);
    let records = records["Records"].as_array().expect("Records");
    assert_eq!(records.len(), 1);
    // The CLI prints blobs base64-encoded: "Hello, Kinesis!".
    assert_eq!(records[0]["Data"], "SGVsbG8sIEtpbmVzaXMh");
    assert_eq!(records[0]["SequenceNumber"], put["SequenceNumber"]);
    assert_eq!(records[0]["PartitionKey"], "test-partition");
    server.terminate();
}
