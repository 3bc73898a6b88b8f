"""Drives the consumer operations of `shardlog serve` with boto3, as a user would.

Usage: registered_consumers.py ENDPOINT before-restart|after-restart

`before-restart` registers, describes, lists, tags and deregisters consumers and checks every
error; `after-restart` checks that what the first phase left survived the server's restart.
Every failed check raises, so the exit status says whether all held.
"""

import sys
import time

import local_kinesis
from botocore.exceptions import ClientError

ENDPOINT, PHASE = sys.argv[1], sys.argv[2]
ACCOUNT = "000000000000"
STREAM = "fanout"
STREAM_ARN = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{STREAM}"

# parameter_validation off so that the server, not botocore, judges bad values.
kinesis = local_kinesis.client(ENDPOINT, parameter_validation=False)


def error_of(call, **kwargs):
    """The (code, message) a call fails with; raises if it succeeds."""
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"]["Message"]
    raise AssertionError(f"{call.__name__}({kwargs}) succeeded")


def expect_error(code, message, call, **kwargs):
    got = error_of(call, **kwargs)
    assert got == (code, message), f"{call.__name__}({kwargs}):\n got {got}\nwant {(code, message)}"


def wait_until_active(consumer_arn):
    """Polls DescribeStreamConsumer (bounded) until the consumer is ACTIVE; returns its description."""
    deadline = time.monotonic() + 10
    while True:
        description = kinesis.describe_stream_consumer(ConsumerARN=consumer_arn)["ConsumerDescription"]
        if description["ConsumerStatus"] == "ACTIVE" or time.monotonic() > deadline:
            return description
        time.sleep(0.05)


def validation(*violations):
    count = len(violations)
    listed = "; ".join(
        f"Value {value} at '{field}' failed to satisfy constraint: Member must {rule}"
        for value, field, rule in violations
    )
    return f"{count} validation error{'s' if count > 1 else ''} detected: {listed}"


def before_restart():
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=STREAM, WaiterConfig={"Delay": 1})

    registered = kinesis.register_stream_consumer(
        StreamARN=STREAM_ARN, ConsumerName="billing", Tags={"team": "payments"}
    )["Consumer"]
    assert set(registered) == {
        "ConsumerName", "ConsumerARN", "ConsumerStatus", "ConsumerCreationTimestamp"
    }, registered
    created = int(registered["ConsumerCreationTimestamp"].timestamp())
    assert registered["ConsumerARN"] == f"{STREAM_ARN}/consumer/billing:{created}", registered
    assert registered["ConsumerStatus"] == "CREATING", registered
    description = wait_until_active(registered["ConsumerARN"])
    assert description == {
        "ConsumerName": "billing",
        "ConsumerARN": registered["ConsumerARN"],
        "ConsumerStatus": "ACTIVE",
        "ConsumerCreationTimestamp": registered["ConsumerCreationTimestamp"],
        "StreamARN": STREAM_ARN,
    }, description
    by_name = kinesis.describe_stream_consumer(StreamARN=STREAM_ARN, ConsumerName="billing")
    assert by_name["ConsumerDescription"] == description, by_name
    both = kinesis.describe_stream_consumer(
        ConsumerARN=registered["ConsumerARN"], StreamARN=STREAM_ARN, ConsumerName="billing"
    )
    assert both["ConsumerDescription"] == description, both

    # Duplicates, limits and the stream summary's count.
    expect_error(
        "ResourceInUseException",
        f"Consumer billing under stream {STREAM} and account {ACCOUNT} already exists.",
        kinesis.register_stream_consumer, StreamARN=STREAM_ARN, ConsumerName="billing",
    )
    names = ["billing"] + [f"app-{i:02}" for i in range(19)]
    # Register them five at a time, waiting for each five to become ACTIVE (at most 5 may be
    # CREATING; the library's tests check that limit on a manual clock).
    arns = {}
    pending = []
    for name in names[1:]:
        if len(pending) == 5:
            for arn in pending:
                wait_until_active(arn)
            pending = []
        arn = kinesis.register_stream_consumer(StreamARN=STREAM_ARN, ConsumerName=name)["Consumer"]["ConsumerARN"]
        arns[name] = arn
        pending.append(arn)
    for arn in pending:
        wait_until_active(arn)
    expect_error(
        "LimitExceededException",
        f"This request would exceed the limit of 20 consumers for stream {STREAM} under account {ACCOUNT}.",
        kinesis.register_stream_consumer, StreamARN=STREAM_ARN, ConsumerName="one-too-many",
    )
    summary = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    assert summary["ConsumerCount"] == 20, summary

    # Paging: MaxResults, NextToken, the paginator, and a token with a creation time.
    first = kinesis.list_stream_consumers(StreamARN=STREAM_ARN, MaxResults=7)
    assert len(first["Consumers"]) == 7 and "NextToken" in first, first
    listed = [consumer["ConsumerName"] for consumer in first["Consumers"]]
    token = first["NextToken"]
    while token:
        page = kinesis.list_stream_consumers(StreamARN=STREAM_ARN, MaxResults=7, NextToken=token)
        listed += [consumer["ConsumerName"] for consumer in page["Consumers"]]
        token = page.get("NextToken")
    assert listed == sorted(names), listed
    paginated = [
        consumer["ConsumerName"]
        for page in kinesis.get_paginator("list_stream_consumers").paginate(
            StreamARN=STREAM_ARN, PaginationConfig={"PageSize": 3}
        )
        for consumer in page["Consumers"]
    ]
    assert paginated == sorted(names), paginated
    whole = kinesis.list_stream_consumers(StreamARN=STREAM_ARN)
    assert len(whole["Consumers"]) == 20 and "NextToken" not in whole, whole
    assert set(whole["Consumers"][0]) == {
        "ConsumerName", "ConsumerARN", "ConsumerStatus", "ConsumerCreationTimestamp"
    }, whole["Consumers"][0]
    stream_created = kinesis.describe_stream_summary(StreamName=STREAM)[
        "StreamDescriptionSummary"]["StreamCreationTimestamp"]
    same = kinesis.list_stream_consumers(StreamARN=STREAM_ARN, StreamCreationTimestamp=stream_created)
    assert len(same["Consumers"]) == 20, same
    expect_error(
        "ResourceNotFoundException",
        f"Stream {STREAM} under account {ACCOUNT} not found.",
        kinesis.list_stream_consumers, StreamARN=STREAM_ARN, StreamCreationTimestamp=1000,
    )
    expect_error(
        "InvalidArgumentException",
        "NextToken and StreamCreationTimestamp cannot be provided together.",
        kinesis.list_stream_consumers, StreamARN=STREAM_ARN, NextToken=first["NextToken"],
        StreamCreationTimestamp=stream_created,
    )
    expect_error(
        "InvalidArgumentException", "Invalid NextToken.",
        kinesis.list_stream_consumers, StreamARN=STREAM_ARN, NextToken="abc",
    )

    # Validation, in the front end's order and words.
    expect_error(
        "ValidationException",
        validation(
            ("'bad name'", "consumerName", "satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
            ("'nope'", "streamARN",
             "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"),
        ),
        kinesis.register_stream_consumer, StreamARN="nope", ConsumerName="bad name",
    )
    expect_error(
        "ValidationException",
        validation(("'0'", "maxResults", "have value greater than or equal to 1")),
        kinesis.list_stream_consumers, StreamARN=STREAM_ARN, MaxResults=0,
    )
    expect_error(
        "ValidationException",
        validation(("'10001'", "maxResults", "have value less than or equal to 10000")),
        kinesis.list_stream_consumers, StreamARN=STREAM_ARN, MaxResults=10001,
    )
    expect_error(
        "ValidationException",
        validation((
            f"'{STREAM_ARN}'", "consumerARN",
            "satisfy regular expression pattern: ^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/"
            "[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
        )),
        kinesis.describe_stream_consumer, ConsumerARN=STREAM_ARN,
    )
    expect_error(
        "InvalidArgumentException",
        "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
        kinesis.describe_stream_consumer, StreamARN=STREAM_ARN,
    )
    expect_error(
        "InvalidArgumentException",
        f"ConsumerARN {registered['ConsumerARN']} and ConsumerName app-00 refer to different consumers.",
        kinesis.describe_stream_consumer, ConsumerARN=registered["ConsumerARN"], ConsumerName="app-00",
    )
    expect_error(
        "ResourceNotFoundException",
        f"Consumer nobody under stream {STREAM} and account {ACCOUNT} not found.",
        kinesis.describe_stream_consumer, StreamARN=STREAM_ARN, ConsumerName="nobody",
    )
    stale = f"{STREAM_ARN}/consumer/billing:{created + 1}"
    expect_error(
        "ResourceNotFoundException", f"Consumer {stale} not found.",
        kinesis.describe_stream_consumer, ConsumerARN=stale,
    )
    expect_error(
        "ResourceNotFoundException",
        f"Stream missing under account {ACCOUNT} not found.",
        kinesis.register_stream_consumer,
        StreamARN=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/missing", ConsumerName="c",
    )

    # Tags on the consumer's ARN, apart from the stream's.
    arn = registered["ConsumerARN"]
    kinesis.tag_resource(ResourceARN=arn, Tags={"tier": "gold"})
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "tier", "Value": "gold"}
    ]
    assert kinesis.list_tags_for_resource(ResourceARN=STREAM_ARN)["Tags"] == []

    # Deregistration by ARN, and by stream and name: DELETING, then gone.
    kinesis.deregister_stream_consumer(ConsumerARN=arns["app-00"])
    kinesis.deregister_stream_consumer(StreamARN=STREAM_ARN, ConsumerName="app-01")
    statuses = {
        consumer["ConsumerName"]: consumer["ConsumerStatus"]
        for consumer in kinesis.list_stream_consumers(StreamARN=STREAM_ARN)["Consumers"]
    }
    assert statuses["app-00"] == "DELETING" and statuses["app-01"] == "DELETING", statuses
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            kinesis.describe_stream_consumer(ConsumerARN=arns["app-00"])
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.05)
    else:
        raise AssertionError("app-00 was never gone")
    expect_error(
        "ResourceNotFoundException",
        f"Consumer nobody under stream {STREAM} and account {ACCOUNT} not found.",
        kinesis.deregister_stream_consumer, StreamARN=STREAM_ARN, ConsumerName="nobody",
    )

    # A stream with consumers is deleted only when the caller says so.
    kinesis.create_stream(StreamName="doomed", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="doomed", WaiterConfig={"Delay": 1})
    doomed_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/doomed"
    doomed_consumer = kinesis.register_stream_consumer(StreamARN=doomed_arn, ConsumerName="c")[
        "Consumer"]["ConsumerARN"]
    expect_error(
        "ResourceInUseException",
        f"DeleteStream can't delete {doomed_arn} because there are consumers associated with this "
        "data stream. To delete doomed anyway, set the EnforceConsumerDeletion parameter to true "
        "to force the deletion of all the consumers that are associated with it.",
        kinesis.delete_stream, StreamName="doomed",
    )
    kinesis.delete_stream(StreamName="doomed", EnforceConsumerDeletion=True)
    expect_error(
        "ResourceNotFoundException", f"Consumer {doomed_consumer} not found.",
        kinesis.describe_stream_consumer, ConsumerARN=doomed_consumer,
    )
    print(registered["ConsumerARN"])


def after_restart():
    listed = kinesis.list_stream_consumers(StreamARN=STREAM_ARN)["Consumers"]
    names = [consumer["ConsumerName"] for consumer in listed]
    assert names == ["app-02", "app-03", "app-04", "app-05", "app-06", "app-07", "app-08",
                     "app-09", "app-10", "app-11", "app-12", "app-13", "app-14", "app-15",
                     "app-16", "app-17", "app-18", "billing"], names
    billing = kinesis.describe_stream_consumer(StreamARN=STREAM_ARN, ConsumerName="billing")[
        "ConsumerDescription"]
    assert billing["ConsumerStatus"] == "ACTIVE", billing
    assert kinesis.list_tags_for_resource(ResourceARN=billing["ConsumerARN"])["Tags"] == [
        {"Key": "tier", "Value": "gold"}
    ]
    summary = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    assert summary["ConsumerCount"] == 18, summary
    print(billing["ConsumerARN"])


{"before-restart": before_restart, "after-restart": after_restart}[PHASE]()
