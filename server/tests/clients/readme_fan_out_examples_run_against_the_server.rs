//! The README's enhanced fan-out examples (boto3, the JavaScript SDK v3, the Rust SDK), taken from
//! the README itself, run against the server and receive the record pushed to their subscription.
//!
//! The Python and JavaScript blocks run unchanged but for the endpoint, which is pointed at the
//! test server. The Rust block is a fragment that uses the client of the README's tutorial; it is
//! compiled here, verbatim (one test checks that the copy below is the README's, character for
//! character), and run with a client of the test server. boto3 is skipped, saying so, only where it
//! is not installed and this is not CI; Node.js and npm must be installed (`.ci/run` installs all
//! three), and the pinned SDK is installed with npm into a cache under `target/`.

use std::process::Command;
use std::time::Duration;

use crate::common::{
    ServeProcess, TestServer, bounded, installed_javascript_sdk, isolate_aws_tool, run_bounded,
    sdk_client,
};
use shardlog_server::ServerConfig;

/// The README's endpoint, which the Python and JavaScript examples name once each.
const README_ENDPOINT: &str = "http://127.0.0.1:4567";
const README: &str = include_str!("../../../README.md");
const SECTION: &str = "### Enhanced fan-out: records pushed to registered consumers";
/// Far more than any example takes; a hung one fails the test.
const EXAMPLE_TIME_MAX: Duration = Duration::from_secs(120);

/// The body of the first ```` ```language ```` block after `heading` in the fan-out section.
fn readme_block(heading: &str, language: &str) -> String {
    let section = &README[README
        .find(SECTION)
        .expect("the README has a fan-out section")..];
    let from = &section[section.find(heading).expect("the example's heading")..];
    let fence = format!("```{language}\n");
    let start = from.find(&fence).expect("a code block") + fence.len();
    let end = from[start..].find("```").expect("the block ends") + start;
    from[start..end].to_owned()
}

/// `block` with its endpoint replaced by `endpoint`.
fn pointed_at(block: &str, endpoint: &str) -> String {
    assert_eq!(
        block.matches(README_ENDPOINT).count(),
        1,
        "the example names the endpoint once:\n{block}"
    );
    block.replace(README_ENDPOINT, endpoint)
}

#[test]
fn the_boto3_example_prints_the_pushed_record() {
    if !crate::common::boto3_or_skip("the README's boto3 fan-out example") {
        return;
    }
    let example = readme_block("Python, with boto3", "python");
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &[]);
    let mut python = Command::new("python3");
    python.args(["-c", &pointed_at(&example, &server.endpoint())]);
    isolate_aws_tool(&mut python, dir.path());
    let printed = run_bounded(python, EXAMPLE_TIME_MAX);
    assert_eq!(printed, "b'Hello, fan-out!'\n", "what the example printed");
    server.terminate();
}

#[test]
fn the_javascript_example_prints_the_pushed_record() {
    let example = readme_block("JavaScript, with the AWS SDK for JavaScript v3", "js");
    let modules = installed_javascript_sdk();
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &[]);
    let script = dir.path().join("fan_out.cjs");
    std::fs::write(&script, pointed_at(&example, &server.endpoint())).unwrap();
    let mut node = Command::new("node");
    node.arg(&script).env("NODE_PATH", &modules);
    isolate_aws_tool(&mut node, dir.path());
    let printed = run_bounded(node, EXAMPLE_TIME_MAX);
    assert_eq!(printed, "Hello, fan-out!\n", "what the example printed");
    server.terminate();
}

/// The README's Rust block, verbatim between the markers (kept unformatted, as the README has it).
#[rustfmt::skip]
async fn readme_rust_example(kinesis: &aws_sdk_kinesis::Client) -> Result<(), Box<dyn std::error::Error>> {
    use aws_sdk_kinesis::primitives::Blob; // imported by the tutorial's block
    // README begin
    use aws_sdk_kinesis::client::Waiters;
    use aws_sdk_kinesis::types::{ConsumerStatus, ShardIteratorType, StartingPosition, SubscribeToShardEventStream};

    kinesis.create_stream().stream_name("fan-out-stream").shard_count(1).send().await?;
    kinesis.wait_until_stream_exists().stream_name("fan-out-stream")
        .wait(std::time::Duration::from_secs(60)).await?;
    let stream_arn = kinesis.describe_stream_summary().stream_name("fan-out-stream").send().await?
        .stream_description_summary.unwrap().stream_arn;
    let consumer_arn = kinesis.register_stream_consumer().stream_arn(stream_arn).consumer_name("reader")
        .send().await?.consumer.unwrap().consumer_arn;
    while kinesis.describe_stream_consumer().consumer_arn(&consumer_arn).send().await?
        .consumer_description.unwrap().consumer_status != ConsumerStatus::Active {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    let mut events = kinesis.subscribe_to_shard().consumer_arn(&consumer_arn)
        .shard_id("shardId-000000000000")
        .starting_position(StartingPosition::builder().r#type(ShardIteratorType::Latest).build()?)
        .send().await?.event_stream;
    kinesis.put_record().stream_name("fan-out-stream").partition_key("p")
        .data(Blob::new("Hello, fan-out!")).send().await?;
    while let Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)) = events.recv().await? {
        if let Some(record) = event.records.first() {
            assert_eq!(record.data.as_ref(), b"Hello, fan-out!");
            break;
        }
    }
    // README end
    Ok(())
}

#[test]
fn the_rust_example_here_is_the_readmes() {
    let source = include_str!("readme_fan_out_examples_run_against_the_server.rs");
    let begin = source
        .find("    // README begin\n")
        .expect("the begin marker");
    let begin = begin + "    // README begin\n".len();
    let end = source[begin..]
        .find("    // README end\n")
        .expect("the end marker")
        + begin;
    let copy: String = source[begin..end]
        .lines()
        .map(|line| format!("{}\n", line.strip_prefix("    ").unwrap_or(line)))
        .collect();
    assert_eq!(
        copy,
        readme_block("Rust, with `aws-sdk-kinesis`", "rust"),
        "the copy of the README's Rust example in this file differs from the README"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_example_receives_the_pushed_record() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let kinesis = sdk_client(&server.endpoint(), "local", "local");
    bounded(readme_rust_example(&kinesis))
        .await
        .unwrap_or_else(|error| panic!("the README's Rust example failed: {error}"));
    server.stop().await;
}
