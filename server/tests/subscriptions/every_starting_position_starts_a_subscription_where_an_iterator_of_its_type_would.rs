//! SubscribeToShard starts where GetShardIterator's iterator of the same type would: at the
//! oldest record (TRIM_HORIZON), at or after a sequence number (AT_ / AFTER_SEQUENCE_NUMBER), at
//! the first record that arrived at or after a timestamp (AT_TIMESTAMP), or with the first
//! record put after the subscription started (LATEST). Each position is asked of its own
//! consumer over raw HTTP/2 in JSON; the engine's clock is manual, so arrival times are exact.

use std::sync::Arc;

use crate::common::{
    EventMessages, TestServer, bounded, call_json, register_consumer, start_event_stream,
    subscribe_request,
};
use bytes::Bytes;
use http::{StatusCode, Version};
use shardlog::{EngineOptions, ManualClock};
use shardlog_server::ServerConfig;

const STREAM: &str = "positions";
const JSON: &str = "application/x-amz-json-1.1";
const START_MS: u64 = 1_764_000_000_000;

/// Puts one record of `data` (base64) and returns its sequence number.
async fn put(addr: std::net::SocketAddr, data: &str) -> String {
    let answer = call_json(
        addr,
        "PutRecord",
        &format!(r#"{{"StreamName":"{STREAM}","PartitionKey":"k","Data":"{data}"}}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.json()["SequenceNumber"]
        .as_str()
        .expect("a sequence number")
        .to_owned()
}

/// Subscribes `consumer_arn` to shard 0 from `position` (the JSON of a StartingPosition) and
/// returns the subscription's messages, past the initial response.
async fn subscribe(
    addr: std::net::SocketAddr,
    consumer_arn: &str,
    position: &str,
) -> EventMessages {
    let body = Bytes::from(format!(
        r#"{{"ConsumerARN":"{consumer_arn}","ShardId":"shardId-000000000000",
            "StartingPosition":{position}}}"#
    ));
    let request = subscribe_request(addr, Version::HTTP_2, JSON, body);
    let (head, mut messages) = start_event_stream(addr, request).await;
    assert_eq!(head.status, StatusCode::OK, "subscribing from {position}");
    let initial = messages.next().await.expect("the initial response");
    assert_eq!(initial.header(":event-type"), Some("initial-response"));
    messages
}

/// The data and sequence number of the first record the subscription delivers.
async fn first_record(messages: &mut EventMessages) -> (String, String) {
    loop {
        let message = messages.next().await.expect("an event");
        assert_eq!(message.header(":event-type"), Some("SubscribeToShardEvent"));
        let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        if let Some(record) = event["Records"].get(0) {
            return (
                record["Data"].as_str().unwrap().to_owned(),
                record["SequenceNumber"].as_str().unwrap().to_owned(),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_starting_position_starts_a_subscription_where_an_iterator_of_its_type_would() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let options = EngineOptions {
        clock: Arc::clone(&clock) as _,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            &format!(r#"{{"StreamName":"{STREAM}","ShardCount":1}}"#),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK);
        // A at START_MS, B a second later, C a second after B.
        let a = put(addr, "QQ==").await;
        clock.advance_ms(1000);
        let b = put(addr, "Qg==").await;
        clock.advance_ms(1000);
        let c = put(addr, "Qw==").await;

        let cases = [
            (
                "trim-horizon",
                r#"{"Type":"TRIM_HORIZON"}"#.to_owned(),
                ("QQ==", &a),
            ),
            (
                "at-sequence",
                format!(r#"{{"Type":"AT_SEQUENCE_NUMBER","SequenceNumber":"{b}"}}"#),
                ("Qg==", &b),
            ),
            (
                "after-sequence",
                format!(r#"{{"Type":"AFTER_SEQUENCE_NUMBER","SequenceNumber":"{b}"}}"#),
                ("Qw==", &c),
            ),
            (
                // Half a second after A: B is the first record at or after it.
                "at-timestamp",
                format!(
                    r#"{{"Type":"AT_TIMESTAMP","Timestamp":{}.5}}"#,
                    START_MS / 1000
                ),
                ("Qg==", &b),
            ),
        ];
        for (consumer, position, (data, sequence_number)) in &cases {
            let arn = register_consumer(addr, STREAM, consumer).await;
            let mut messages = subscribe(addr, &arn, position).await;
            assert_eq!(
                first_record(&mut messages).await,
                (data.to_string(), sequence_number.to_string()),
                "the first record of a subscription from {position}"
            );
        }

        // LATEST: nothing already in the shard, the next record put.
        let arn = register_consumer(addr, STREAM, "latest").await;
        let mut messages = subscribe(addr, &arn, r#"{"Type":"LATEST"}"#).await;
        let d = put(addr, "RA==").await;
        assert_eq!(
            first_record(&mut messages).await,
            ("RA==".to_owned(), d),
            "the first record of a subscription from LATEST"
        );
    })
    .await;
    server.stop().await;
}
