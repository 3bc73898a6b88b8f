"""Holds a SubscribeToShard subscription of `shardlog serve` open with boto3 while the server shuts
down, and reports how the subscription ended.

Usage: subscription_ends_at_shutdown.py ENDPOINT

Creates a stream and an ACTIVE consumer, subscribes from TRIM_HORIZON, reads the event carrying
the one record put before, then prints `subscribed` (the test sends SIGTERM to the server on that
line) and iterates on. Finally prints one JSON line: the records received, and how the iteration
ended (`"end"` when the event stream ended normally, else the exception's type and text).
"""

import json
import sys

import local_kinesis

ENDPOINT = sys.argv[1]
STREAM = "shutdown"
SHARD = "shardId-000000000000"

kinesis = local_kinesis.client(ENDPOINT, read_timeout=30)



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
kinesis.put_record(StreamName=STREAM, PartitionKey="k", Data=b"before shutdown")
consumer = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="reader")[
    "Consumer"
]["ConsumerARN"]
local_kinesis.bounded_wait(
    lambda: kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"][
        "ConsumerStatus"
    ]
    == "ACTIVE",
    "consumer ACTIVE",
)
answer = kinesis.subscribe_to_shard(
    ConsumerARN=consumer, ShardId=SHARD, StartingPosition={"Type": "TRIM_HORIZON"}
)
received = []
announced = False
ending = "end"
try:
    for event in answer["EventStream"]:
        received += [r["Data"].decode() for r in event["SubscribeToShardEvent"]["Records"]]
        if received and not announced:
            print("subscribed", flush=True)
            announced = True
except Exception as error:  # the test reports whatever botocore raised
    ending = f"{type(error).__name__}: {error}"
print(json.dumps({"received": received, "ending": ending}), flush=True)
