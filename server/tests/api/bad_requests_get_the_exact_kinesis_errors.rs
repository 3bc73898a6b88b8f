//! Bad input over raw HTTP gets the status and the exact error body Kinesis sends.

use crate::common::{TestServer, WELL_FORMED_AUTHORIZATION, bounded, call_json, send_http1};
use base64::Engine as _;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;
use shardlog_server::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_exact_kinesis_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(addr, "CreateStream", r#"{"StreamName":"s","ShardCount":2}"#).await;
        assert_eq!(created.status, StatusCode::OK);
        assert!(created.body.is_empty(), "CreateStream has no output");

        let cases: Vec<(&str, &str, serde_json::Value)> = vec![
            (
                "Nope",
                "{}",
                json!({"__type": "UnknownOperationException"}),
            ),
            // Of duplicate keys the last wins, as in Kinesis' parser.
            (
                "DescribeStream",
                r#"{"StreamName": "s", "StreamName": "gone"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Stream gone under account 000000000000 not found."}),
            ),
            (
                "CreateStream",
                r#"{"StreamName": "t", "ShardCount": 1, "ShardCount": 0}"#,
                json!({"__type": "ValidationException",
                       "message": "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"}),
            ),
            // Tag keys in AWS's namespace, and control characters, are refused.
            (
                "AddTagsToStream",
                r#"{"StreamName": "s", "Tags": {"team": "a", "aws:created-by": "me"}}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Tag keys starting with 'aws:' are reserved for internal use."}),
            ),
            (
                "TagResource",
                r#"{"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "Tags": {"AWS:x": ""}}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Tag keys starting with 'aws:' are reserved for internal use."}),
            ),
            (
                "AddTagsToStream",
                r#"{"StreamName": "s", "Tags": {"line\nbreak": "v"}}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."}),
            ),
            (
                "CreateStream",
                r#"{"StreamName": "tagged", "ShardCount": 1, "Tags": {"k": "bell\u0007"}}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."}),
            ),
            // The model puts no range on retention hours: even a negative one reaches the
            // retention rules.
            (
                "IncreaseStreamRetentionPeriod",
                r#"{"StreamName": "s", "RetentionPeriodHours": -1}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Minimum allowed retention period is 24 hours. Requested retention period (-1 hours) is too short."}),
            ),
            (
                "ListShards",
                r#"{"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "NextToken": "token"}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "NextToken and StreamARN cannot be provided together."}),
            ),
            (
                "ListShards",
                r#"{"StreamName": "nope", "NextToken": "token"}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "NextToken and StreamName cannot be provided together."}),
            ),
            // StreamName is optional in the current model (a StreamARN may name the stream
            // instead), so it is not among the violations (docs/COMPATIBILITY.md).
            (
                "GetShardIterator",
                "{}",
                json!({"__type": "ValidationException",
                       "message": "2 validation errors detected: \
                       Value null at 'shardId' failed to satisfy constraint: Member must not be null; \
                       Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"}),
            ),
            (
                "PutRecord",
                "{}",
                json!({"__type": "ValidationException",
                       "message": "2 validation errors detected: \
                       Value null at 'data' failed to satisfy constraint: Member must not be null; \
                       Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"}),
            ),
            (
                "PutRecords",
                "{}",
                json!({"__type": "ValidationException",
                       "message": "1 validation error detected: \
                       Value null at 'records' failed to satisfy constraint: Member must not be null"}),
            ),
            ("CreateStream", "{", json!({"__type": "SerializationException"})),
            ("CreateStream", "", json!({"__type": "SerializationException"})),
            ("CreateStream", "[1]", json!({"__type": "SerializationException"})),
            // Wrong types are named by the Java classes of Kinesis' JSON parser: every number
            // is a TruncatingBigNumber, and timestamps convert to "milliseconds since epoch".
            (
                "CreateStream",
                r#"{"StreamName": 5}"#,
                json!({"__type": "SerializationException",
                       "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"}),
            ),
            (
                "PutRecord",
                r#"{"StreamName": "s", "PartitionKey": 34.56, "Data": ""}"#,
                json!({"__type": "SerializationException",
                       "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"}),
            ),
            (
                "PutRecord",
                r#"{"StreamName": "s", "PartitionKey": "k", "Data": 2147483648}"#,
                json!({"__type": "SerializationException",
                       "Message": "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "23"}"#,
                json!({"__type": "SerializationException",
                       "Message": "class java.lang.String can not be converted to milliseconds since epoch"}),
            ),
            (
                "ListShards",
                r#"{"StreamName": "s", "StreamCreationTimestamp": true}"#,
                json!({"__type": "SerializationException",
                       "Message": "class java.lang.Boolean can not be converted to milliseconds since epoch"}),
            ),
            (
                "DescribeStream",
                r#"{"StreamName": "s", "Limit": "5"}"#,
                json!({"__type": "SerializationException",
                       "Message": "class java.lang.String can not be converted to an Integer"}),
            ),
            (
                "PutRecords",
                r#"{"StreamName": "s", "Records": {}}"#,
                json!({"__type": "SerializationException",
                       "Message": "Start of structure or map found where not expected."}),
            ),
            (
                "PutRecord",
                r#"{"StreamName": "s", "PartitionKey": "k", "Data": "aGk"}"#,
                json!({"__type": "SerializationException",
                       "Message": "'aGk' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"}),
            ),
            (
                "CreateStream",
                "{}",
                json!({"__type": "ValidationException",
                       "message": "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"}),
            ),
            (
                "CreateStream",
                r#"{"StreamName": "", "ShardCount": 0}"#,
                json!({"__type": "ValidationException",
                       "message": "3 validation errors detected: \
                       Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; \
                       Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
                       Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"}),
            ),
            (
                "PutRecords",
                r#"{"StreamName": "s", "Records": [{"Data": "aGk=", "PartitionKey": ""}, {"PartitionKey": "k"}]}"#,
                json!({"__type": "ValidationException",
                       "message": "2 validation errors detected: \
                       Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; \
                       Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "SOMEWHERE"}"#,
                json!({"__type": "ValidationException",
                       "message": "1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"}"#,
                json!({"__type": "InvalidArgumentException",
                       "message": "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Shard shardId-000000000009 in stream s under account 000000000000 does not exist"}),
            ),
            // A shard id is read leniently (the digits after the first '-'), and before the
            // stream is looked for: a missing stream is reported as a missing shard.
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-5", "ShardIteratorType": "LATEST"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Shard shardId-000000000005 in stream s under account 000000000000 does not exist"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "shardId-5", "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "5"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Shard shardId-000000000005 in stream s under account 000000000000 does not exist"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "nope", "ShardId": "anything-2147483647", "ShardIteratorType": "LATEST"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Shard shardId-002147483647 in stream nope under account 000000000000 does not exist"}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "nope", "ShardId": "shardId-002147483648", "ShardIteratorType": "LATEST"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Could not find shard shardId-002147483648 in stream nope under account 000000000000."}),
            ),
            (
                "GetShardIterator",
                r#"{"StreamName": "s", "ShardId": "2.14E4", "ShardIteratorType": "LATEST"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Could not find shard 2.14E4 in stream s under account 000000000000."}),
            ),
            (
                "GetRecords",
                r#"{"ShardIterator": "not-an-iterator"}"#,
                json!({"__type": "InvalidArgumentException", "message": "Invalid ShardIterator."}),
            ),
            (
                "DescribeStream",
                r#"{"StreamName": "nope"}"#,
                json!({"__type": "ResourceNotFoundException",
                       "message": "Stream nope under account 000000000000 not found."}),
            ),
            (
                "CreateStream",
                r#"{"StreamName": "s", "ShardCount": 1}"#,
                json!({"__type": "ResourceInUseException",
                       "message": "Stream s under account 000000000000 already exists."}),
            ),
            (
                "DescribeStreamSummary",
                "{}",
                json!({"__type": "InvalidArgumentException",
                       "message": "Stream arn and stream name can't be empty at the same time"}),
            ),
        ];
        for (operation, body, expected) in cases {
            let answer = call_json(addr, operation, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{operation} {body}");
            assert_eq!(answer.json(), expected, "{operation} {body}");
            assert_eq!(
                answer.headers["content-type"], "application/x-amz-json-1.1",
                "{operation} {body}"
            );
            assert!(answer.headers.contains_key("x-amzn-requestid"));
        }

        // The model allows records of up to 10 MiB (a stream's own limit is checked once the
        // stream is known): a 1 MiB + 1 byte record is no violation of the model.
        let long_name = "a".repeat(129);
        let data = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 1_048_577]);
        let body = json!({"StreamName": long_name, "PartitionKey": "k", "Data": data});
        let answer = call_json(addr, "PutRecord", &body.to_string()).await;
        assert_eq!(
            answer.json(),
            json!({"__type": "ValidationException",
                   "message": format!("1 validation error detected: Value '{long_name}' at 'streamName' \
                   failed to satisfy constraint: Member must have length less than or equal to 128")})
        );

        // `shardId-1`, `anything-1` and `1` all name shard 1.
        for shard_id in ["shardId-1", "__stream_0.5-1", "00001"] {
            let body = json!({"StreamName": "s", "ShardId": shard_id, "ShardIteratorType": "LATEST"});
            let answer = call_json(addr, "GetShardIterator", &body.to_string()).await;
            assert_eq!(answer.status, StatusCode::OK, "{shard_id}: {:?}", answer.body);
            // An iterator has the shape of Kinesis' own: canonical base64 of 152 bytes, or more
            // by whole 16-byte blocks, starting with 00 00 00 00 00 00 00 01; and it reads.
            let iterator = answer.json()["ShardIterator"].as_str().unwrap().to_owned();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&iterator)
                .expect("a base64 iterator");
            assert_eq!(base64::engine::general_purpose::STANDARD.encode(&bytes), iterator);
            assert_eq!(bytes[..8], [0, 0, 0, 0, 0, 0, 0, 1]);
            assert!(bytes.len() >= 152 && (bytes.len() - 152) % 16 == 0, "{}", bytes.len());
            let read = call_json(addr, "GetRecords", &json!({"ShardIterator": iterator}).to_string()).await;
            assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
            let next = read.json()["NextShardIterator"].as_str().unwrap().to_owned();
            let next_bytes = base64::engine::general_purpose::STANDARD.decode(&next).unwrap();
            assert_eq!(next_bytes[..8], [0, 0, 0, 0, 0, 0, 0, 1]);
        }

        // The last of duplicate keys wins for tags too, and nothing refused was stored.
        let tagged = call_json(
            addr,
            "AddTagsToStream",
            r#"{"StreamName": "s", "Tags": {"team": "a", "team": "b"}}"#,
        )
        .await;
        assert_eq!(tagged.status, StatusCode::OK, "{:?}", tagged.body);
        let tags = call_json(addr, "ListTagsForStream", r#"{"StreamName": "s"}"#).await;
        assert_eq!(
            tags.json()["Tags"],
            json!([{"Key": "team", "Value": "b"}])
        );
        let streams = call_json(addr, "ListStreams", "{}").await;
        assert_eq!(streams.json()["StreamNames"], json!(["s"]));

        // Authentication is checked after the operation is known, before it runs.
        let unsigned = Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.ListStreams")
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let answer = send_http1(addr, unsigned).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json(),
            json!({"__type": "MissingAuthenticationTokenException",
                   "message": "Missing Authentication Token"})
        );
        let incomplete = Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.ListStreams")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", "AWS4-HMAC-SHA256 Credential=a/b")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let answer = send_http1(addr, incomplete).await;
        assert_eq!(
            answer.json(),
            json!({"__type": "IncompleteSignatureException",
                   "message": "Authorization header requires 'Signature' parameter. \
                   Authorization header requires 'SignedHeaders' parameter. \
                   Authorization=AWS4-HMAC-SHA256 Credential=a/b"})
        );

        // Not POST: the front end cannot tell the operation (when the request is signed; see
        // the_front_end_answers_as_kinesis_before_any_operation_reads_the_request.rs).
        let get = Request::get("/")
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", WELL_FORMED_AUTHORIZATION)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send_http1(addr, get).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(
            answer.body,
            "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to \
             be authorized</Message>\n</AccessDeniedException>\n"
        );
        // A page of another origin is not allowed by default: its preflight is refused, with no
        // Access-Control-* header for the browser to act on.
        let preflight = Request::options("/")
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "x-amz-target,content-type")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send_http1(addr, preflight).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(
            !answer
                .headers
                .keys()
                .any(|name| name.as_str().starts_with("access-control-")),
            "{:?}",
            answer.headers
        );

        let health = Request::get("/health").body(Full::new(Bytes::new())).unwrap();
        assert_eq!(send_http1(addr, health).await.status, StatusCode::OK);

        // A body larger than any legal request is refused before it is read.
        let huge = Request::post("/")
            .header("x-amz-target", "Kinesis_20131202.PutRecords")
            .header("content-type", "application/x-amz-json-1.1")
            .header("content-length", (64u64 << 20).to_string())
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        assert_eq!(send_http1(addr, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
    server.stop().await;
}
