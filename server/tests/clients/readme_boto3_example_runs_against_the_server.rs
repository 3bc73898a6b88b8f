//! The README's Python example, taken from the README itself, runs unchanged under boto3 against
//! `shardlog serve` (only the endpoint is pointed at the test server) and prints the record back.
//! Skipped, saying so, only where boto3 is not installed and this is not CI (`.ci/run` installs
//! it, so CI always runs it).

use std::process::Command;

use crate::common::{ServeProcess, isolate_aws_tool};

/// The README's endpoint, which the example names once.
const README_ENDPOINT: &str = "http://127.0.0.1:4567";

/// The body of the first ```python block after "From Python, with boto3:".
fn readme_python_example() -> String {
    let readme = include_str!("../../../README.md");
    let from = readme
        .find("From Python, with boto3:")
        .expect("the README has a boto3 example");
    let block = &readme[from..];
    let start = block.find("```python\n").expect("a python code block") + "```python\n".len();
    let end = block[start..].find("```").expect("the block ends") + start;
    block[start..end].to_owned()
}

#[test]
fn readme_boto3_example_runs_against_the_server() {
    if !crate::common::boto3_or_skip("readme_boto3_example_runs_against_the_server") {
        return;
    }
    let example = readme_python_example();
    assert_eq!(
        example.matches(README_ENDPOINT).count(),
        1,
        "the example names the endpoint once:\n{example}"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(&dir.path().join("data"), &[]);
    let script = example.replace(README_ENDPOINT, &server.endpoint());
    let mut python = Command::new("python3");
    python.args(["-c", &script]);
    isolate_aws_tool(&mut python, dir.path());
    let output = python.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "the example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "b'Hello, Kinesis!'\n",
        "what the example printed"
    );
    server.terminate();
}
