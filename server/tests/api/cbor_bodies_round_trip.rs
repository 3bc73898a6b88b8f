//! CBOR, as the Java SDKs send it: blobs are byte strings, timestamps are tag 1 around integer
//! epoch milliseconds, and errors are CBOR maps.

use crate::common::{TestServer, WELL_FORMED_AUTHORIZATION, bounded, send_http1};
use bytes::Bytes;
use ciborium::Value;
use http::{Request, StatusCode};
use http_body_util::Full;
use shardlog_server::ServerConfig;

fn cbor(entries: Vec<(&str, Value)>) -> Bytes {
    let map = Value::Map(
        entries
            .into_iter()
            .map(|(key, value)| (Value::Text(key.to_owned()), value))
            .collect(),
    );
    let mut out = Vec::new();
    ciborium::ser::into_writer(&map, &mut out).unwrap();
    Bytes::from(out)
}

fn field<'v>(map: &'v Value, name: &str) -> &'v Value {
    map.as_map()
        .unwrap()
        .iter()
        .find(|(key, _)| key.as_text() == Some(name))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no {name} in {map:?}"))
}

async fn call(addr: std::net::SocketAddr, operation: &str, body: Bytes) -> (StatusCode, Value) {
    let request = Request::post("/")
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-cbor-1.1")
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", WELL_FORMED_AUTHORIZATION)
        .body(Full::new(body))
        .unwrap();
    let answer = send_http1(addr, request).await;
    assert_eq!(
        answer.headers["content-type"], "application/x-amz-cbor-1.1",
        "{operation}"
    );
    let value = if answer.body.is_empty() {
        Value::Null
    } else {
        ciborium::de::from_reader(&answer.body[..]).expect("CBOR response")
    };
    (answer.status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cbor_bodies_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let (status, _) = call(
            addr,
            "CreateStream",
            cbor(vec![
                ("StreamName", Value::Text("cbor".into())),
                ("ShardCount", Value::Integer(1.into())),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let before_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
            - 1;

        let data = vec![0u8, 159, 146, 150, 255];
        let (status, put) = call(
            addr,
            "PutRecord",
            cbor(vec![
                ("StreamName", Value::Text("cbor".into())),
                ("PartitionKey", Value::Text("k".into())),
                ("Data", Value::Bytes(data.clone())),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{put:?}");
        assert_eq!(
            field(&put, "ShardId").as_text(),
            Some("shardId-000000000000")
        );

        // AT_TIMESTAMP with a tag-1 timestamp in milliseconds, just before the put.
        let (status, iterator) = call(
            addr,
            "GetShardIterator",
            cbor(vec![
                ("StreamName", Value::Text("cbor".into())),
                ("ShardId", Value::Text("shardId-000000000000".into())),
                ("ShardIteratorType", Value::Text("AT_TIMESTAMP".into())),
                (
                    "Timestamp",
                    Value::Tag(1, Box::new(Value::Integer(before_ms.into()))),
                ),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{iterator:?}");
        let (status, records) = call(
            addr,
            "GetRecords",
            cbor(vec![(
                "ShardIterator",
                field(&iterator, "ShardIterator").clone(),
            )]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{records:?}");
        let records_list = field(&records, "Records").as_array().unwrap();
        assert_eq!(records_list.len(), 1);
        let record = &records_list[0];
        assert_eq!(field(record, "Data"), &Value::Bytes(data));
        assert_eq!(
            field(record, "SequenceNumber"),
            field(&put, "SequenceNumber")
        );
        let Value::Tag(1, arrival) = field(record, "ApproximateArrivalTimestamp") else {
            panic!("arrival is not tag 1: {record:?}");
        };
        let arrival_ms = u64::try_from(arrival.as_integer().unwrap()).unwrap();
        assert!(arrival_ms >= before_ms && arrival_ms < before_ms + 600_000);

        // A blob far larger than the decoder's 4 KiB scratch buffer arrives whole.
        let large: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (status, put_large) = call(
            addr,
            "PutRecord",
            cbor(vec![
                ("StreamName", Value::Text("cbor".into())),
                ("PartitionKey", Value::Text("large".into())),
                ("Data", Value::Bytes(large.clone())),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{put_large:?}");
        let (_, after) = call(
            addr,
            "GetShardIterator",
            cbor(vec![
                ("StreamName", Value::Text("cbor".into())),
                ("ShardId", Value::Text("shardId-000000000000".into())),
                (
                    "ShardIteratorType",
                    Value::Text("AT_SEQUENCE_NUMBER".into()),
                ),
                (
                    "StartingSequenceNumber",
                    field(&put_large, "SequenceNumber").clone(),
                ),
            ]),
        )
        .await;
        let (_, records) = call(
            addr,
            "GetRecords",
            cbor(vec![(
                "ShardIterator",
                field(&after, "ShardIterator").clone(),
            )]),
        )
        .await;
        let records_list = field(&records, "Records").as_array().unwrap();
        assert_eq!(field(&records_list[0], "Data"), &Value::Bytes(large));

        // Errors are CBOR maps too.
        let (status, error) = call(
            addr,
            "DescribeStream",
            cbor(vec![("StreamName", Value::Text("missing".into()))]),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            field(&error, "__type").as_text(),
            Some("ResourceNotFoundException")
        );
        assert_eq!(
            field(&error, "message").as_text(),
            Some("Stream missing under account 000000000000 not found.")
        );
        // Garbage, and a byte string claiming 2^62 bytes in a 30-byte body: refused, with
        // nothing allocated for the claim.
        let mut claims_too_much = vec![0xa1, 0x6a];
        claims_too_much.extend_from_slice(b"StreamName");
        claims_too_much.push(0x5b);
        claims_too_much.extend_from_slice(&(1u64 << 62).to_be_bytes());
        claims_too_much.extend_from_slice(b"abc");
        for body in [
            Bytes::from_static(&[0xff, 0x00]),
            Bytes::from(claims_too_much),
        ] {
            let (status, error) = call(addr, "DescribeStream", body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(
                field(&error, "__type").as_text(),
                Some("SerializationException")
            );
        }
    })
    .await;
    server.stop().await;
}
