// Subscribes to a shard of a shardlog server with the AWS SDK for JavaScript v3
// (@aws-sdk/client-kinesis, its default HTTP/2 handler), as an application would: registers a
// consumer, waits for it to be ACTIVE, subscribes from LATEST, puts a record once subscribed and
// reads events with `for await` until the record arrives, then prints what it saw as one JSON
// line. It goes on reading (the test then shuts the server down) and prints how the event stream
// ended as a second line: {"ending":"end"} when it ended normally, else the error.
//
// Usage: node subscribe_to_shard.cjs ENDPOINT ACCESS_KEY SECRET
// The SDK is found through NODE_PATH (the test installs it into a cache under target/).
"use strict";

const {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  SubscribeToShardCommand,
  PutRecordCommand,
} = require("@aws-sdk/client-kinesis");

const [endpoint, accessKeyId, secretAccessKey] = process.argv.slice(2);
const STREAM = "fanout";

// Every wait is bounded: the whole script fails after this.
setTimeout(() => {
  console.error("timed out");
  process.exit(1);
}, 30_000).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, what) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const kinesis = new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
  const handler = kinesis.config.requestHandler;
  const protocol = (handler.metadata || {}).handlerProtocol;
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
  const summary = async () =>
    (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: STREAM })))
      .StreamDescriptionSummary;
  await until(async () => (await summary()).StreamStatus === "ACTIVE", "stream ACTIVE");
  const { Consumer } = await kinesis.send(
    new RegisterStreamConsumerCommand({
      StreamARN: (await summary()).StreamARN,
      ConsumerName: "javascript",
    }),
  );
  await until(
    async () =>
      (
        await kinesis.send(
          new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }),
        )
      ).ConsumerDescription.ConsumerStatus === "ACTIVE",
    "consumer ACTIVE",
  );
  const subscription = await kinesis.send(
    new SubscribeToShardCommand({
      ConsumerARN: Consumer.ConsumerARN,
      ShardId: "shardId-000000000000",
      StartingPosition: { Type: "LATEST" },
    }),
  );
  // Subscribed (the initial response is in): the record put now must be pushed.
  const put = await kinesis.send(
    new PutRecordCommand({
      StreamName: STREAM,
      PartitionKey: "k",
      Data: Buffer.from("pushed to javascript"),
    }),
  );
  let ending = "end";
  try {
    for await (const event of subscription.EventStream) {
      const shardEvent = event.SubscribeToShardEvent;
      if (!shardEvent) throw new Error(`unexpected event ${JSON.stringify(Object.keys(event))}`);
      if (shardEvent.Records.length > 0) {
        const records = shardEvent.Records.map((record) => ({
          sequenceNumber: record.SequenceNumber,
          data: Buffer.from(record.Data).toString(),
        }));
        console.log(
          JSON.stringify({
            handler: handler.constructor.name,
            protocol,
            sequenceNumber: put.SequenceNumber,
            records,
            continuation: shardEvent.ContinuationSequenceNumber,
          }),
        );
      }
    }
  } catch (error) {
    ending = `${error.name}: ${error.message}`;
  }
  console.log(JSON.stringify({ ending }));
  kinesis.destroy();
  process.exit(0);
}

main().catch((error) => {
  console.error(`${error.name}: ${error.message}\n${error.stack}`);
  process.exit(1);
});
