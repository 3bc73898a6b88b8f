// Drives a shardlog server with the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis), as an
// application would, and prints what it saw as one JSON line for the Rust test to check.
//
// Usage: node kinesis_round_trip.cjs ENDPOINT ACCESS_KEY SECRET
// The SDK is found through NODE_PATH (the test installs it into a cache under target/).
"use strict";

const {
  KinesisClient,
  CreateStreamCommand,
  PutRecordCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  ListStreamsCommand,
} = require("@aws-sdk/client-kinesis");

const [endpoint, accessKeyId, secretAccessKey] = process.argv.slice(2);

function client(secret) {
  return new KinesisClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey: secret },
    maxAttempts: 1,
  });
}

async function main() {
  const kinesis = client(secretAccessKey);
  // The Kinesis client's default handler speaks HTTP/2 (NodeHttp2Handler).
  const handler = kinesis.config.requestHandler;
  const protocol = (handler.metadata || {}).handlerProtocol;
  await kinesis.send(new CreateStreamCommand({ StreamName: "js", ShardCount: 1 }));
  const put = await kinesis.send(
    new PutRecordCommand({
      StreamName: "js",
      PartitionKey: "k",
      Data: Buffer.from("hello from javascript"),
    }),
  );
  const iterator = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: "js",
      ShardId: put.ShardId,
      ShardIteratorType: "TRIM_HORIZON",
    }),
  );
  const records = await kinesis.send(
    new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }),
  );
  let forged = null;
  try {
    await client("not-the-secret").send(new ListStreamsCommand({}));
  } catch (error) {
    forged = { name: error.name, message: error.message };
  }
  kinesis.destroy();
  console.log(
    JSON.stringify({
      handler: handler.constructor.name,
      protocol,
      sequenceNumber: put.SequenceNumber,
      records: records.Records.map((record) => ({
        sequenceNumber: record.SequenceNumber,
        data: Buffer.from(record.Data).toString(),
      })),
      forged,
    }),
  );
}

main().catch((error) => {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
});
