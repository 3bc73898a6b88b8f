//! A SubscribeToShard request in CBOR (`application/x-amz-cbor-1.1`, as the Java SDKs and the KCL
//! send it) is answered with event payloads in CBOR, as Kinesis encodes them in the request's
//! protocol: the `initial-response` is an empty CBOR map; each `SubscribeToShardEvent` carries
//! its records with the data as a byte string (not base64 text) and the arrival time as tag 1
//! around epoch milliseconds, the `ContinuationSequenceNumber` and `MillisBehindLatest`; and an
//! exception during the subscription (the stream deleted under it) is a CBOR map naming the
//! Kinesis exception. The same holds over HTTP/1.1 (chunked) and HTTP/2; the events are decoded
//! with the server's event-stream decoder and `ciborium`.

use crate::common::{
    EventMessages, TestServer, bounded, call_json, register_consumer, start_event_stream,
    subscribe_request,
};
use bytes::Bytes;
use ciborium::Value;
use http::{StatusCode, Version};
use shardlog_server::ServerConfig;
use shardlog_server::protocol::event_stream::Message;

const STREAM: &str = "cbor-fanned";
const CBOR: &str = "application/x-amz-cbor-1.1";

fn cbor(value: &Value) -> Bytes {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    Bytes::from(out)
}

fn text_map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(key, value)| (Value::Text((*key).to_owned()), value.clone()))
            .collect(),
    )
}

fn field<'v>(map: &'v Value, name: &str) -> &'v Value {
    map.as_map()
        .unwrap_or_else(|| panic!("a map: {map:?}"))
        .iter()
        .find(|(key, _)| key.as_text() == Some(name))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no {name} in {map:?}"))
}

fn payload(message: &Message) -> Value {
    ciborium::de::from_reader(&message.payload[..])
        .unwrap_or_else(|error| panic!("a CBOR payload ({error}): {:?}", message.payload))
}

/// Subscribes `consumer_arn` to shard 0 from TRIM_HORIZON in CBOR over `version`; checks the head
/// and the initial response and returns the messages that follow.
async fn subscribe(
    addr: std::net::SocketAddr,
    version: Version,
    consumer_arn: &str,
) -> EventMessages {
    let body = cbor(&text_map(&[
        ("ConsumerARN", Value::Text(consumer_arn.to_owned())),
        ("ShardId", Value::Text("shardId-000000000000".to_owned())),
        (
            "StartingPosition",
            text_map(&[("Type", Value::Text("TRIM_HORIZON".to_owned()))]),
        ),
    ]));
    let (head, mut messages) =
        start_event_stream(addr, subscribe_request(addr, version, CBOR, body)).await;
    assert_eq!(head.status, StatusCode::OK, "{version:?}");
    assert_eq!(
        head.headers["content-type"], "application/vnd.amazon.eventstream",
        "{version:?}"
    );
    let initial = messages.next().await.expect("the initial response");
    assert_eq!(initial.header(":message-type"), Some("event"));
    assert_eq!(initial.header(":event-type"), Some("initial-response"));
    assert_eq!(initial.header(":content-type"), Some("application/cbor"));
    assert_eq!(payload(&initial), Value::Map(Vec::new()));
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cbor_subscription_gets_cbor_events_over_http1_and_http2() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            &format!(r#"{{"StreamName":"{STREAM}","ShardCount":1}}"#),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK);
        let mut sequence_numbers = Vec::new();
        for data in ["AAEC", "//7/"] {
            // Base64 of the bytes 00 01 02 and ff fe ff: not text, so only a byte string holds them.
            let put = call_json(
                addr,
                "PutRecord",
                &format!(r#"{{"StreamName":"{STREAM}","PartitionKey":"k","Data":"{data}"}}"#),
            )
            .await;
            sequence_numbers.push(put.json()["SequenceNumber"].as_str().unwrap().to_owned());
        }

        for (version, consumer) in [
            (Version::HTTP_11, "over-http1"),
            (Version::HTTP_2, "over-http2"),
        ] {
            let consumer_arn = register_consumer(addr, STREAM, consumer).await;
            let mut messages = subscribe(addr, version, &consumer_arn).await;
            let event = messages.next().await.expect("an event");
            assert_eq!(event.header(":message-type"), Some("event"), "{version:?}");
            assert_eq!(event.header(":event-type"), Some("SubscribeToShardEvent"));
            assert_eq!(event.header(":content-type"), Some("application/cbor"));
            let event = payload(&event);
            let records = field(&event, "Records").as_array().expect("an array");
            let data: Vec<&Value> = records.iter().map(|record| field(record, "Data")).collect();
            assert_eq!(
                data,
                [
                    &Value::Bytes(vec![0, 1, 2]),
                    &Value::Bytes(vec![0xff, 0xfe, 0xff])
                ],
                "{version:?}: data as byte strings"
            );
            for (record, sequence_number) in records.iter().zip(&sequence_numbers) {
                assert_eq!(
                    field(record, "SequenceNumber").as_text(),
                    Some(sequence_number.as_str())
                );
                assert_eq!(field(record, "PartitionKey").as_text(), Some("k"));
                match field(record, "ApproximateArrivalTimestamp") {
                    Value::Tag(1, millis) => {
                        let millis = i128::from(millis.as_integer().expect("integer ms"));
                        assert!(millis > 1_600_000_000_000, "epoch milliseconds: {millis}");
                    }
                    other => panic!("a tag-1 timestamp, got {other:?}"),
                }
            }
            assert_eq!(
                field(&event, "ContinuationSequenceNumber").as_text(),
                Some(sequence_numbers[1].as_str())
            );
            assert!(field(&event, "MillisBehindLatest").is_integer());
            drop(messages);
        }

        // An exception during a subscription, in CBOR.
        let consumer_arn = register_consumer(addr, STREAM, "sees-the-deletion").await;
        let mut messages = subscribe(addr, Version::HTTP_2, &consumer_arn).await;
        let first = messages.next().await.expect("the records");
        assert_eq!(first.header(":event-type"), Some("SubscribeToShardEvent"));
        let deleted = call_json(
            addr,
            "DeleteStream",
            &format!(r#"{{"StreamName":"{STREAM}","EnforceConsumerDeletion":true}}"#),
        )
        .await;
        assert_eq!(deleted.status, StatusCode::OK);
        let exception = loop {
            let message = messages.next().await.expect("an exception before the end");
            if message.header(":message-type") == Some("exception") {
                break message;
            }
        };
        assert_eq!(
            exception.header(":exception-type"),
            Some("ResourceNotFoundException")
        );
        assert_eq!(exception.header(":content-type"), Some("application/cbor"));
        let body = payload(&exception);
        assert_eq!(
            field(&body, "__type").as_text(),
            Some("ResourceNotFoundException")
        );
        assert!(field(&body, "message").is_text());
        assert!(
            messages.next().await.is_none(),
            "the exception is the last message"
        );
    })
    .await;
    server.stop().await;
}
