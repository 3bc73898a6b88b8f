//! A table of malformed requests, one group per way a client can get a request wrong: bad JSON
//! or CBOR, fields of the wrong type, huge bodies and values, records over the stream's limit,
//! invalid names, forged or expired iterator tokens, unknown targets, missing headers. Each gets
//! the status and the error shape Kinesis sends (`{"__type", "message"}` in the request's
//! encoding, or the front end's XML where the encoding is unknown). After the whole table the
//! server still answers `/health` and serves a write and its read.
//!
//! `bad_requests_get_the_exact_kinesis_errors.rs` has the first cases of each kind; this file
//! covers the rest of issue 6's list.

use std::sync::Arc;

use crate::common::{
    Answer, TestServer, WELL_FORMED_AUTHORIZATION, bounded, call_json, send_http1,
};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use shardlog::{EngineOptions, ManualClock};
use shardlog_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server's body limit here: larger than a 1 MiB record in base64, so that the record's own
/// limit can be reached, and small enough to exceed cheaply.
const BODY_BYTES_MAX: usize = 2 << 20;
/// 2025-11-24 16:00:00 UTC.
const START_MS: u64 = 1_764_000_000_000;

/// What a case must get back.
enum Expected {
    /// HTTP 400 and exactly this JSON body.
    Json(Value),
    /// HTTP 400, this exception, and a message starting and ending so (parts that echo large or
    /// time-dependent input are left out).
    JsonMessage(&'static str, String, &'static str),
    /// HTTP 400 and this CBOR map (as `(key, text)` pairs).
    Cbor(Vec<(&'static str, &'static str)>),
    /// This status and exactly this body (the front end's XML, or nothing).
    Plain(StatusCode, &'static str),
}

/// One malformed request.
struct Case {
    what: String,
    /// `X-Amz-Target`, if sent.
    target: Option<String>,
    /// `Content-Type`, if sent.
    content_type: Option<&'static str>,
    /// Sends `Authorization` (well-formed) and `X-Amz-Date`.
    signed: bool,
    body: Vec<u8>,
    expected: Expected,
}

const JSON: Option<&str> = Some("application/x-amz-json-1.1");
const CBOR: Option<&str> = Some("application/x-amz-cbor-1.1");

/// A signed JSON call of `operation`.
fn json_case(what: &str, operation: &str, body: impl Into<Vec<u8>>, expected: Expected) -> Case {
    Case {
        what: what.to_owned(),
        target: Some(format!("Kinesis_20131202.{operation}")),
        content_type: JSON,
        signed: true,
        body: body.into(),
        expected,
    }
}

fn serialization(message: &str) -> Expected {
    Expected::Json(json!({"__type": "SerializationException", "Message": message}))
}

fn validation(violations: &[&str]) -> Expected {
    let count = violations.len();
    let plural = if count == 1 { "" } else { "s" };
    Expected::Json(json!({"__type": "ValidationException",
        "message": format!("{count} validation error{plural} detected: {}", violations.join("; "))}))
}

fn invalid_argument(message: &str) -> Expected {
    Expected::Json(json!({"__type": "InvalidArgumentException", "message": message}))
}

async fn send(addr: std::net::SocketAddr, case: &Case) -> Answer {
    let mut request = Request::post("/").header("host", addr.to_string());
    if let Some(target) = &case.target {
        request = request.header("x-amz-target", target);
    }
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    if case.signed {
        request = request
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", WELL_FORMED_AUTHORIZATION);
    }
    let request = request
        .body(Full::new(Bytes::from(case.body.clone())))
        .unwrap();
    send_http1(addr, request).await
}

fn check(case: &Case, answer: &Answer) {
    let what = &case.what;
    let shown = String::from_utf8_lossy(&answer.body[..answer.body.len().min(400)]).into_owned();
    match &case.expected {
        Expected::Plain(status, body) => {
            assert_eq!(answer.status, *status, "{what}: {shown}");
            assert_eq!(answer.body, body.as_bytes(), "{what}");
            return;
        }
        Expected::Json(expected) => {
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {shown}");
            assert_eq!(&answer.json(), expected, "{what}");
        }
        Expected::JsonMessage(kind, start, end) => {
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {shown}");
            let body = answer.json();
            assert_eq!(body["__type"], *kind, "{what}: {shown}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with(start.as_str()) && message.ends_with(end),
                "{what}: {shown}"
            );
            assert_eq!(body.as_object().unwrap().len(), 2, "{what}: {shown}");
        }
        Expected::Cbor(entries) => {
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}: {shown}");
            let value: ciborium::Value =
                ciborium::de::from_reader(answer.body.as_ref()).expect("a CBOR error body");
            let expected = ciborium::Value::Map(
                entries
                    .iter()
                    .map(|(key, text)| (key.to_string().into(), text.to_string().into()))
                    .collect(),
            );
            assert_eq!(value, expected, "{what}");
        }
    }
    let error_type = answer
        .headers
        .get("x-amzn-errortype")
        .map(|value| value.to_str().unwrap());
    let content_type = answer.headers["content-type"].to_str().unwrap();
    assert_eq!(Some(content_type), case.content_type, "{what}");
    assert!(error_type.is_some(), "{what}: no x-amzn-ErrorType");
    assert!(answer.headers.contains_key("x-amzn-requestid"), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_kinesis_errors_and_the_server_stays_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let options = EngineOptions {
        clock: Arc::clone(&clock) as Arc<dyn shardlog::Clock>,
        maintenance_interval: None,
        ..EngineOptions::default()
    };
    let config = ServerConfig {
        body_bytes_max: BODY_BYTES_MAX,
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(dir.path(), config, options).await;
    let addr = server.addr;
    bounded(async {
        for body in [
            r#"{"StreamName":"s","ShardCount":1}"#,
            r#"{"StreamName":"gone","ShardCount":1}"#,
        ] {
            assert_eq!(call_json(addr, "CreateStream", body).await.status, StatusCode::OK);
        }
        let iterator_of = |stream: &'static str| async move {
            let body = json!({"StreamName": stream, "ShardId": "shardId-000000000000",
                              "ShardIteratorType": "TRIM_HORIZON"});
            let answer = call_json(addr, "GetShardIterator", &body.to_string()).await;
            assert_eq!(answer.status, StatusCode::OK);
            answer.json()["ShardIterator"].as_str().unwrap().to_owned()
        };
        let token = iterator_of("s").await;
        let gone_token = iterator_of("gone").await;
        assert_eq!(call_json(addr, "DeleteStream", r#"{"StreamName":"gone"}"#).await.status, StatusCode::OK);

        let mut forged = token.clone().into_bytes();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
        let forged = String::from_utf8(forged).unwrap();
        let get_records = |iterator: &str| json!({"ShardIterator": iterator}).to_string();
        let long_name = "n".repeat(129);
        let big_name = "b".repeat(BODY_BYTES_MAX - 100);
        let one_mib = "A".repeat((1 << 20) / 3 * 4 + 4); // 1 MiB + 2 bytes of zeros, in base64
        let deep = format!("{{\"StreamName\": {}1{}}}", "[".repeat(200), "]".repeat(200));
        let records_501: Vec<Value> = (0..501).map(|_| json!({"PartitionKey": "k", "Data": ""})).collect();

        let cases = vec![
            // Bad JSON or CBOR: no message, as Kinesis.
            json_case("truncated JSON", "PutRecord", r#"{"StreamName": "s","#, Expected::Json(json!({"__type": "SerializationException"}))),
            json_case("JSON with trailing bytes", "ListStreams", "{} {}", Expected::Json(json!({"__type": "SerializationException"}))),
            json_case("JSON that is not UTF-8", "DescribeStream", b"{\"StreamName\": \"\xff\"}".to_vec(), Expected::Json(json!({"__type": "SerializationException"}))),
            json_case("JSON nested 200 deep", "DescribeStream", deep, Expected::Json(json!({"__type": "SerializationException"}))),
            json_case("a JSON null", "ListStreams", "null", Expected::Json(json!({"__type": "SerializationException"}))),
            Case {
                what: "CBOR that is not CBOR".to_owned(),
                target: Some("Kinesis_20131202.ListStreams".to_owned()),
                content_type: CBOR,
                signed: true,
                body: vec![0xff, 0x00, 0x1c],
                expected: Expected::Cbor(vec![("__type", "SerializationException")]),
            },
            Case {
                what: "CBOR with bytes after its value".to_owned(),
                target: Some("Kinesis_20131202.ListStreams".to_owned()),
                content_type: CBOR,
                signed: true,
                // {} then a stray 0
                body: vec![0xa0, 0x00],
                expected: Expected::Cbor(vec![("__type", "SerializationException")]),
            },
            Case {
                what: "CBOR with a field of the wrong type".to_owned(),
                target: Some("Kinesis_20131202.DescribeStream".to_owned()),
                content_type: CBOR,
                signed: true,
                // {"StreamName": 1}
                body: [&[0xa1, 0x6a][..], b"StreamName", &[0x01]].concat(),
                expected: Expected::Cbor(vec![
                    ("__type", "SerializationException"),
                    ("Message", "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
                ]),
            },
            // Wrong types: SerializationException with the Java front end's message.
            json_case("a name that is a list", "CreateStream", r#"{"StreamName": ["s"], "ShardCount": 1}"#, serialization("Start of list found where not expected")),
            json_case("a count that is a string", "CreateStream", r#"{"StreamName": "t", "ShardCount": "2"}"#, serialization("class java.lang.String can not be converted to an Integer")),
            json_case("data that is a number", "PutRecord", r#"{"StreamName": "s", "PartitionKey": "k", "Data": 5}"#, serialization("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob")),
            json_case("records that are a string", "PutRecords", r#"{"StreamName": "s", "Records": "x"}"#, serialization("Expected list or null")),
            json_case("tags that are a list", "AddTagsToStream", r#"{"StreamName": "s", "Tags": ["a"]}"#, serialization("Start of list found where not expected")),
            json_case("a boolean that is a string", "DeleteStream", r#"{"StreamName": "s", "EnforceConsumerDeletion": "yes"}"#, serialization("'YES' can not be converted to an Boolean")),
            json_case("a structure that is a string", "CreateStream", r#"{"StreamName": "t", "StreamModeDetails": "ON_DEMAND"}"#, serialization("Expected null")),
            json_case("a timestamp that is a string", "GetShardIterator", r#"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "now"}"#, serialization("class java.lang.String can not be converted to milliseconds since epoch")),
            // Huge bodies: under the limit, a huge value is only a validation error (over it,
            // see below).
            json_case("a 2 MiB stream name", "DescribeStreamSummary", json!({"StreamName": big_name}).to_string(),
                Expected::JsonMessage("ValidationException", "1 validation error detected: Value 'bbbb".to_owned(),
                    "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")),
            // Oversized records.
            json_case("a record over the stream's 1 MiB", "PutRecord", json!({"StreamName": "s", "PartitionKey": "k", "Data": one_mib}).to_string(),
                validation(&["Value 'java.nio.HeapByteBuffer[pos=0 lim=1048578 cap=1048578]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048575"])),
            json_case("an oversized record among others", "PutRecords", json!({"StreamName": "s", "Records": [{"PartitionKey": "k", "Data": ""}, {"PartitionKey": "k", "Data": one_mib}]}).to_string(),
                validation(&["Value 'java.nio.HeapByteBuffer[pos=0 lim=1048578 cap=1048578]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048575"])),
            json_case("501 records", "PutRecords", json!({"StreamName": "s", "Records": records_501}).to_string(),
                validation(&[&format!("Value '[{}]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500",
                    vec!["com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"; 501].join(", "))])),
            json_case("a 257-character partition key", "PutRecord", json!({"StreamName": "s", "PartitionKey": "p".repeat(257), "Data": ""}).to_string(),
                validation(&[&format!("Value '{}' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256", "p".repeat(257))])),
            // Invalid names and ARNs.
            json_case("a stream name with a space", "CreateStream", r#"{"StreamName": "bad name!", "ShardCount": 1}"#,
                validation(&["Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"])),
            json_case("a 129-character stream name", "CreateStream", json!({"StreamName": long_name, "ShardCount": 1}).to_string(),
                validation(&[&format!("Value '{long_name}' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128")])),
            json_case("a shard id with a space", "GetShardIterator", r#"{"StreamName": "s", "ShardId": "shard 0", "ShardIteratorType": "LATEST"}"#,
                validation(&["Value 'shard 0' at 'shardId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"])),
            json_case("an ARN with a short account", "DescribeStreamSummary", r#"{"StreamARN": "arn:aws:kinesis:us-east-1:1:stream/s"}"#,
                validation(&["Value 'arn:aws:kinesis:us-east-1:1:stream/s' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"])),
            json_case("an ARN of another account", "DescribeStreamSummary", r#"{"StreamARN": "arn:aws:kinesis:us-east-1:111111111111:stream/s"}"#,
                Expected::Json(json!({"__type": "ResourceNotFoundException", "message": "Stream arn:aws:kinesis:us-east-1:111111111111:stream/s not found."}))),
            // Forged tokens.
            json_case("an iterator with one character changed", "GetRecords", get_records(&forged), invalid_argument("Invalid ShardIterator.")),
            json_case("a truncated iterator", "GetRecords", get_records(&token[..token.len() - 2]), invalid_argument("Invalid ShardIterator.")),
            json_case("an iterator of 513 characters", "GetRecords", get_records(&"a".repeat(513)),
                validation(&[&format!("Value '{}' at 'shardIterator' failed to satisfy constraint: Member must have length less than or equal to 512", "a".repeat(513))])),
            json_case("an empty iterator", "GetRecords", get_records(""),
                validation(&["Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1"])),
            // Kinesis names the shard, not the stream, that the iterator can no longer read.
            json_case("an iterator of a deleted stream", "GetRecords", get_records(&gone_token),
                Expected::Json(json!({"__type": "ResourceNotFoundException", "message": "Shard shardId-000000000000 in stream gone under account 000000000000 does not exist"}))),
            json_case("a ListShards token that is no token", "ListShards", r#"{"NextToken": "forged"}"#, invalid_argument("Invalid NextToken.")),
            // Unknown targets: Kinesis names no operation in its answer.
            json_case("an operation in the wrong case", "listStreams", "{}", Expected::Json(json!({"__type": "UnknownOperationException"}))),
            json_case("an empty operation", "", "{}", Expected::Json(json!({"__type": "UnknownOperationException"}))),
            Case {
                what: "another service's target".to_owned(),
                target: Some("DynamoDB_20120810.ListTables".to_owned()),
                ..json_case("", "", "{}", Expected::Json(json!({"__type": "UnknownOperationException"})))
            },
            Case {
                what: "no target".to_owned(),
                target: None,
                ..json_case("", "", "{}", Expected::Json(json!({"__type": "UnknownOperationException"})))
            },
            // Missing headers.
            Case {
                what: "no content type".to_owned(),
                content_type: None,
                ..json_case("", "ListStreams", "{}", Expected::Plain(StatusCode::NOT_FOUND, "<UnknownOperationException/>\n"))
            },
            Case {
                what: "a text content type".to_owned(),
                content_type: Some("text/plain"),
                ..json_case("", "ListStreams", "{}", Expected::Plain(StatusCode::NOT_FOUND, "<UnknownOperationException/>\n"))
            },
            Case {
                what: "neither content type nor target".to_owned(),
                target: None,
                content_type: None,
                ..json_case("", "", "{}", Expected::Plain(StatusCode::FORBIDDEN,
                    "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n"))
            },
            Case {
                what: "no signature".to_owned(),
                signed: false,
                ..json_case("", "DescribeLimits", "{}", Expected::Json(json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})))
            },
        ];
        for case in &cases {
            let answer = send(addr, case).await;
            check(case, &answer);
        }

        // A body over the limit is refused from its declared length, before it is read, and the
        // connection closed (the client need not send it: the answer comes first).
        let mut connection = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: Kinesis_20131202.PutRecord\r\n\
             content-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\r\n",
            BODY_BYTES_MAX + 1
        );
        connection.write_all(head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        connection.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");

        // An iterator used after five minutes has expired.
        clock.advance_ms(5 * 60 * 1000 + 1);
        let expired = json_case("an expired iterator", "GetRecords", get_records(&token),
            Expected::Json(json!({"__type": "ExpiredIteratorException",
                "message": "Iterator expired. The iterator was created at time Mon Nov 24 16:00:00 UTC 2025 \
                while right now it is Mon Nov 24 16:05:00 UTC 2025 which is further in the future than the \
                tolerated delay of 300000 milliseconds."})));
        check(&expired, &send(addr, &expired).await);

        // Still healthy: /health, a write and its read, the control plane.
        let health = Request::get("/health").body(Full::new(Bytes::new())).unwrap();
        assert_eq!(send_http1(addr, health).await.status, StatusCode::OK);
        let put = call_json(addr, "PutRecord", r#"{"StreamName": "s", "PartitionKey": "k", "Data": "aGk="}"#).await;
        assert_eq!(put.status, StatusCode::OK);
        let fresh = iterator_of("s").await;
        let read = call_json(addr, "GetRecords", &get_records(&fresh)).await;
        assert_eq!(read.status, StatusCode::OK);
        let records = read.json()["Records"].clone();
        assert_eq!(records.as_array().unwrap().len(), 1);
        assert_eq!(records[0]["Data"], "aGk=");
        assert_eq!(records[0]["SequenceNumber"], put.json()["SequenceNumber"]);
        let listed = call_json(addr, "ListStreams", "{}").await;
        assert_eq!(listed.json()["StreamNames"], json!(["s"]));
    })
    .await;
    server.stop().await;
}
