"""What the boto3 scripts of the server's tests share: a client of a local `shardlog serve`, and a
bounded wait. Scripts run with their own folder on `sys.path`, so `import local_kinesis` finds it."""

import time

import boto3
import botocore.config


def client(endpoint, **config):
    """A Kinesis client of the server at `endpoint`: one attempt per call (a retry would hide the
    server's first answer), any credentials (the tests' servers do not check them), and `config`'s
    other botocore settings."""
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=botocore.config.Config(retries={"max_attempts": 1}, **config),
    )


def bounded_wait(check, what, seconds=10):
    """Polls `check` until it holds; fails the script if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
