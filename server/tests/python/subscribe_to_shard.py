"""Drives SubscribeToShard of `shardlog serve` with boto3 (botocore parses the event stream).

Usage: subscribe_to_shard.py ENDPOINT

Checks: records put before subscribing arrive from TRIM_HORIZON with the continuation sequence
number of the last; a second subscription of the same consumer and shard is refused with
ResourceInUseException; a record put after a LATEST subscription started is pushed to it; a split
ends the subscription with the children. Prints the put-to-delivery latency of the pushed record
in milliseconds. Every failed check raises, so the exit status says whether all held.
"""

import sys
import threading
import time

import local_kinesis
from botocore.exceptions import ClientError

ENDPOINT = sys.argv[1]
STREAM = "pushed"
SHARD = "shardId-000000000000"

kinesis = local_kinesis.client(ENDPOINT, read_timeout=30)



def register(name, stream_arn):
    arn = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName=name)["Consumer"][
        "ConsumerARN"
    ]
    local_kinesis.bounded_wait(
        lambda: kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"][
            "ConsumerStatus"
        ]
        == "ACTIVE",
        f"consumer {name} ACTIVE",
    )
    return arn


kinesis.create_stream(StreamName=STREAM, ShardCount=1)
local_kinesis.bounded_wait(
    lambda: kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
        "StreamStatus"
    ]
    == "ACTIVE",
    "stream ACTIVE",
)
stream_arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
    "StreamARN"
]
before = [
    kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=f"before-{i}".encode())[
        "SequenceNumber"
    ]
    for i in range(3)
]

# From TRIM_HORIZON: the records put before subscribing.
history = register("history", stream_arn)
answer = kinesis.subscribe_to_shard(
    ConsumerARN=history, ShardId=SHARD, StartingPosition={"Type": "TRIM_HORIZON"}
)
received, continuation = [], None
for event in answer["EventStream"]:
    shard_event = event["SubscribeToShardEvent"]
    received += [record["Data"] for record in shard_event["Records"]]
    continuation = shard_event["ContinuationSequenceNumber"]
    if len(received) >= 3:
        break
assert received == [b"before-0", b"before-1", b"before-2"], received
assert continuation == before[-1], (continuation, before)

# The same consumer and shard again while that subscription is live: refused.
try:
    kinesis.subscribe_to_shard(
        ConsumerARN=history, ShardId=SHARD, StartingPosition={"Type": "LATEST"}
    )
    raise AssertionError("a second live subscription was accepted")
except ClientError as error:
    code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
    assert code == "ResourceInUseException", code
    assert message == (
        f"Another active subscription exists for this consumer: 000000000000:{STREAM}:{SHARD}:history"
    ), message
answer["EventStream"].close()

# From LATEST: a record put after subscribing is pushed; then a split ends the shard.
live = register("live", stream_arn)
answer = kinesis.subscribe_to_shard(
    ConsumerARN=live, ShardId=SHARD, StartingPosition={"Type": "LATEST"}
)
events = []
arrived = {}


def read_events():
    for event in answer["EventStream"]:
        shard_event = event["SubscribeToShardEvent"]
        if shard_event["Records"] and "pushed" not in arrived:
            arrived["pushed"] = time.monotonic()
        events.append(shard_event)


reader = threading.Thread(target=read_events, daemon=True)
reader.start()
time.sleep(0.5)
put_at = time.monotonic()
pushed = kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=b"after")["SequenceNumber"]
local_kinesis.bounded_wait(lambda: "pushed" in arrived, "the pushed record")
print(f"{(arrived['pushed'] - put_at) * 1000:.1f}")
kinesis.split_shard(
    StreamName=STREAM, ShardToSplit=SHARD, NewStartingHashKey=str(2**127)
)
reader.join(timeout=10)
assert not reader.is_alive(), "the event stream ended after the split"
with_records = [e for e in events if e["Records"]]
assert [r["Data"] for r in with_records[0]["Records"]] == [b"after"], with_records
assert with_records[0]["ContinuationSequenceNumber"] == pushed
last = events[-1]
assert "ContinuationSequenceNumber" not in last or last["ContinuationSequenceNumber"] is None, last
children = sorted(child["ShardId"] for child in last["ChildShards"])
assert children == ["shardId-000000000001", "shardId-000000000002"], last
assert all(child["ParentShards"] == [SHARD] for child in last["ChildShards"]), last
