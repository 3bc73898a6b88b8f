//! SubscribeToShard driven by the Rust `aws-sdk-kinesis` (its own event-stream decoder and
//! unmarshallers, over HTTP/1.1 as it speaks to a plain `http://` endpoint):
//!
//! - `send()` returns once the server's `initial-response` message arrives, and the SDK consumes
//!   it: the first event the receiver yields is a `SubscribeToShardEvent`, not an unknown event;
//! - records put after a LATEST subscription started are pushed to it (woken by the append: the
//!   event arrives long before the 5 s heartbeat would have sent an empty one), with their data,
//!   and the event's `ContinuationSequenceNumber` is the last record's sequence number;
//! - a second subscription of the same consumer and shard while the first is live (within 5 s of
//!   its start) is refused with the typed `ResourceInUseException` and Kinesis' message;
//! - after 5 s (the engine's clock is advanced) a subscription from AFTER_SEQUENCE_NUMBER of an
//!   earlier continuation takes over: it receives exactly the records after it, and the old
//!   subscription's next event is the typed `ResourceInUseException` exception event;
//! - splitting the shard ends the subscription with an event naming the two children, after which
//!   the receiver ends;
//! - deleting the stream under a live subscription of a child surfaces as the typed
//!   `ResourceNotFoundException` exception event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{TestServer, bounded, sdk_client};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardError;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::primitives::event_stream::EventReceiver;
use aws_sdk_kinesis::types::error::SubscribeToShardEventStreamError;
use aws_sdk_kinesis::types::{
    ShardIteratorType, StartingPosition, SubscribeToShardEvent, SubscribeToShardEventStream,
};
use shardlog::{EngineOptions, ManualClock};
use shardlog_server::ServerConfig;

const STREAM: &str = "fanned";
const START_MS: u64 = 1_764_000_000_000;
/// Far below the server's 5 s heartbeat: an event this quick was pushed by the append.
const PUSH_BOUND: Duration = Duration::from_secs(3);

type Events = EventReceiver<SubscribeToShardEventStream, SubscribeToShardEventStreamError>;

async fn subscribe(
    client: &Client,
    consumer_arn: &str,
    shard: &str,
    position: StartingPosition,
) -> Result<Events, SubscribeToShardError> {
    client
        .subscribe_to_shard()
        .consumer_arn(consumer_arn)
        .shard_id(shard)
        .starting_position(position)
        .send()
        .await
        .map(|output| output.event_stream)
        .map_err(|error| error.into_service_error())
}

fn position(kind: ShardIteratorType, sequence_number: Option<&str>) -> StartingPosition {
    StartingPosition::builder()
        .r#type(kind)
        .set_sequence_number(sequence_number.map(str::to_owned))
        .build()
        .expect("a starting position")
}

/// The next event, which must be a `SubscribeToShardEvent`.
async fn next_event(events: &mut Events) -> SubscribeToShardEvent {
    match events.recv().await.expect("an event, not an error") {
        Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)) => event,
        other => panic!("expected a SubscribeToShardEvent, got {other:?}"),
    }
}

/// Events until `count` records arrived (heartbeats, which carry none, are skipped); the records'
/// data and the last event.
async fn records(events: &mut Events, count: usize) -> (Vec<String>, SubscribeToShardEvent) {
    let mut data = Vec::new();
    loop {
        let event = next_event(events).await;
        data.extend(
            event
                .records()
                .iter()
                .map(|record| String::from_utf8_lossy(record.data().as_ref()).into_owned()),
        );
        if data.len() >= count {
            return (data, event);
        }
    }
}

async fn put(client: &Client, data: &str) -> String {
    client
        .put_record()
        .stream_name(STREAM)
        .partition_key("key")
        .data(Blob::new(data))
        .send()
        .await
        .expect("PutRecord")
        .sequence_number
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_subscription_receives_pushed_records_children_and_typed_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let options = EngineOptions {
        clock: clock.clone(),
        maintenance_interval: None,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let client = sdk_client(&server.endpoint(), "AKIDEXAMPLE", "secret");
    bounded(async {
        client
            .create_stream()
            .stream_name(STREAM)
            .shard_count(1)
            .send()
            .await
            .unwrap();
        let stream_arn = format!("arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}");
        let consumer_arn = client
            .register_stream_consumer()
            .stream_arn(&stream_arn)
            .consumer_name("reader")
            .send()
            .await
            .unwrap()
            .consumer
            .unwrap()
            .consumer_arn;
        let shard = "shardId-000000000000";

        // Pushed records, woken by the append.
        let mut first = subscribe(
            &client,
            &consumer_arn,
            shard,
            position(ShardIteratorType::Latest, None),
        )
        .await
        .expect("the first subscription starts");
        let second = subscribe(
            &client,
            &consumer_arn,
            shard,
            position(ShardIteratorType::Latest, None),
        )
        .await;
        match second {
            Err(SubscribeToShardError::ResourceInUseException(error)) => assert_eq!(
                error.message(),
                Some(
                    "Another active subscription exists for this consumer: \
                     000000000000:fanned:shardId-000000000000:reader"
                )
            ),
            other => panic!("a second live subscription must be ResourceInUse, got {other:?}"),
        }
        let put_at = Instant::now();
        let one = put(&client, "one").await;
        let (data, event) = records(&mut first, 1).await;
        assert!(
            put_at.elapsed() < PUSH_BOUND,
            "the record came with a heartbeat, not pushed by the append"
        );
        assert_eq!(data, ["one"]);
        assert_eq!(event.records()[0].sequence_number(), one);
        assert_eq!(event.continuation_sequence_number(), one);
        assert_eq!(event.millis_behind_latest(), 0);
        assert!(event.child_shards().is_empty());
        put(&client, "two").await;
        let three = put(&client, "three").await;
        let (data, event) = records(&mut first, 2).await;
        assert_eq!(data, ["two", "three"]);
        assert_eq!(event.continuation_sequence_number(), three);

        // Five seconds on, a subscription continuing after "one" takes over.
        clock.advance_ms(5_000);
        let mut taker = subscribe(
            &client,
            &consumer_arn,
            shard,
            position(ShardIteratorType::AfterSequenceNumber, Some(&one)),
        )
        .await
        .expect("a subscription 5 s later takes over");
        let (data, _) = records(&mut taker, 2).await;
        assert_eq!(data, ["two", "three"]);
        match first.recv().await {
            Err(error) => match error.into_service_error() {
                SubscribeToShardEventStreamError::ResourceInUseException(error) => assert_eq!(
                    error.message(),
                    Some(
                        "Another active subscription exists for this consumer: \
                         000000000000:fanned:shardId-000000000000:reader"
                    )
                ),
                other => {
                    panic!("the taken-over subscription must get ResourceInUse, got {other:?}")
                }
            },
            Ok(other) => panic!("the taken-over subscription must get an exception, got {other:?}"),
        }

        // The end of a split parent: its children, then the end of the event stream.
        client
            .split_shard()
            .stream_name(STREAM)
            .shard_to_split(shard)
            .new_starting_hash_key((u128::MAX / 2).to_string())
            .send()
            .await
            .unwrap();
        let last = loop {
            let event = next_event(&mut taker).await;
            assert!(event.records().is_empty(), "no record after the split");
            if !event.child_shards().is_empty() {
                break event;
            }
        };
        let mut children: Vec<(&str, &[String])> = last
            .child_shards()
            .iter()
            .map(|child| (child.shard_id(), child.parent_shards()))
            .collect();
        children.sort();
        let parent = [shard.to_owned()];
        assert_eq!(
            children,
            [
                ("shardId-000000000001", &parent[..]),
                ("shardId-000000000002", &parent[..])
            ]
        );
        assert!(taker.recv().await.expect("a clean end").is_none());

        // The stream deleted under a live subscription.
        let mut child = subscribe(
            &client,
            &consumer_arn,
            "shardId-000000000001",
            position(ShardIteratorType::TrimHorizon, None),
        )
        .await
        .expect("a child's subscription starts");
        client
            .delete_stream()
            .stream_name(STREAM)
            .enforce_consumer_deletion(true)
            .send()
            .await
            .unwrap();
        let ending = loop {
            match child.recv().await {
                Ok(Some(SubscribeToShardEventStream::SubscribeToShardEvent(event)))
                    if event.records().is_empty() =>
                {
                    continue;
                }
                ending => break ending,
            }
        };
        match ending.map_err(|error| error.into_service_error()) {
            Err(SubscribeToShardEventStreamError::ResourceNotFoundException(_)) => {}
            other => panic!(
                "a deleted stream must end the subscription with ResourceNotFound, got {other:?}"
            ),
        }
    })
    .await;
    server.stop().await;
}
