//! Random input, well-typed or not, never gets an internal error or takes the server down: every
//! answer to a generated request is 200 or a 4xx, and the server still answers afterwards. Bodies
//! over the configured limit are refused whether or not they declare their length.

use crate::common::{TestServer, WELL_FORMED_AUTHORIZATION, bounded, call_json};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use shardlog_server::ServerConfig;

const OPERATIONS: [&str; 27] = [
    "CreateStream",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "ListShards",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "SplitShard",
    "MergeShards",
    "UpdateShardCount",
    "UpdateStreamMode",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "DescribeLimits",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "UpdateMaxRecordSize",
    "NoSuchOperation",
];

const FIELDS: [&str; 30] = [
    "StreamName",
    "StreamARN",
    "ShardCount",
    "StreamModeDetails",
    "StreamMode",
    "Limit",
    "ExclusiveStartShardId",
    "ExclusiveStartStreamName",
    "NextToken",
    "MaxResults",
    "ShardFilter",
    "Type",
    "Timestamp",
    "Records",
    "Data",
    "PartitionKey",
    "ExplicitHashKey",
    "SequenceNumberForOrdering",
    "ShardId",
    "ShardIteratorType",
    "StartingSequenceNumber",
    "ShardIterator",
    "ShardToSplit",
    "NewStartingHashKey",
    "TargetShardCount",
    "RetentionPeriodHours",
    "Tags",
    "TagKeys",
    "ShardLevelMetrics",
    "MaxRecordSizeInKiB",
];

/// A small deterministic generator (xorshift), so a failure replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn value(&mut self, depth: usize) -> Value {
        let choices = if depth > 3 { 9 } else { 12 };
        match self.below(choices) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => json!(self.next() as i64),
            3 => json!([-1, 0, 1, 2, 24, 48, 500, 501, 1024, 10000, 10001, 8761][self.below(12)]),
            4 => json!(f64::from(self.below(1000) as u32) / 7.0 - 50.0),
            5 => json!(
                [
                    "s",
                    "shardId-000000000000",
                    "shardId-000000000001",
                    "TRIM_HORIZON",
                    "LATEST",
                    "AT_TIMESTAMP",
                    "AT_SEQUENCE_NUMBER",
                    "ON_DEMAND",
                    "PROVISIONED",
                    "ALL",
                    "IncomingBytes",
                    "UNIFORM_SCALING",
                    "AT_LATEST",
                    "AFTER_SHARD_ID",
                    "aGk=",
                    "aGk",
                    "=",
                    "0",
                    "340282366920938463463374607431768211455",
                    "340282366920938463463374607431768211456",
                    "arn:aws:kinesis:us-east-1:000000000000:stream/s",
                    "ü😀",
                    ""
                ][self.below(23)]
            ),
            6 => Value::String("x".repeat(self.below(600))),
            7 => Value::String(
                (0..self.below(60))
                    .map(|_| char::from(b'0' + self.below(10) as u8))
                    .collect(),
            ),
            8 => json!(self.next().to_string()),
            9 | 10 => {
                let count = self.below(4);
                let mut map = serde_json::Map::new();
                for _ in 0..count {
                    map.insert(
                        FIELDS[self.below(FIELDS.len())].to_owned(),
                        self.value(depth + 1),
                    );
                }
                Value::Object(map)
            }
            _ => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
        }
    }

    fn body(&mut self) -> Value {
        let mut map = serde_json::Map::new();
        if self.below(3) > 0 {
            map.insert("StreamName".to_owned(), json!("s"));
        }
        for _ in 0..self.below(6) {
            map.insert(FIELDS[self.below(FIELDS.len())].to_owned(), self.value(0));
        }
        Value::Object(map)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_input_never_crashes_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        body_bytes_max: 64 * 1024,
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":2}"#).await;
        assert_eq!(created.status, StatusCode::OK);

        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut random = Random(0x5eed_1234_abcd_0001);
        let mut answered_ok = 0;
        for round in 0..1500 {
            let operation = OPERATIONS[random.below(OPERATIONS.len())];
            let (content_type, body) = if round % 5 == 0 {
                // Random CBOR-ish bytes.
                let bytes: Vec<u8> = (0..random.below(64)).map(|_| random.next() as u8).collect();
                ("application/x-amz-cbor-1.1", Bytes::from(bytes))
            } else {
                let body = random.body();
                ("application/x-amz-json-1.1", Bytes::from(body.to_string()))
            };
            let request = Request::post("/")
                .header("host", addr.to_string())
                .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
                .header("content-type", content_type)
                .header("x-amz-date", "20150830T123600Z")
                .header("authorization", WELL_FORMED_AUTHORIZATION)
                .body(Full::new(body.clone()))
                .unwrap();
            sender.ready().await.expect("connection stays usable");
            let response = sender.send_request(request).await.expect("an answer");
            let status = response.status();
            let answer = response.into_body().collect().await.unwrap().to_bytes();
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "round {round}: {operation} {body:?} -> {status} {answer:?}"
            );
            answered_ok += usize::from(status == StatusCode::OK);
        }
        // The generator reaches the operations themselves, not only the front end's checks.
        assert!(answered_ok >= 20, "only {answered_ok} calls succeeded");

        // Too large, declared and undeclared (chunked).
        let declared = Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.PutRecords")
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(vec![b' '; 100 * 1024])))
            .unwrap();
        assert_eq!(
            crate::common::send_http1(addr, declared).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let chunks = Chunks { left: 100 };
        let undeclared = Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.PutRecords")
            .header("content-type", "application/x-amz-json-1.1")
            .body(chunks)
            .unwrap();
        let response = sender.send_request(undeclared).await;
        if let Ok(response) = response {
            assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        }

        let health = Request::get("/health")
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert_eq!(
            crate::common::send_http1(addr, health).await.status,
            StatusCode::OK
        );
        let listed = call_json(addr, "ListStreams", "{}").await;
        assert_eq!(listed.status, StatusCode::OK);
    })
    .await;
    server.stop().await;
}

/// A body of `left` chunks of 1 KiB, sent without a Content-Length (chunked).
struct Chunks {
    left: usize,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(vec![
            b' ';
            1024
        ])))))
    }
}
