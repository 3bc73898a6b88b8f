//! A subscriber that goes away mid-subscription frees the consumer's place on the shard, so the
//! same consumer can subscribe to the same shard again:
//!
//! - over HTTP/2, the client cancels the response stream (RST_STREAM) and keeps the connection:
//!   a new subscription on that same connection then succeeds;
//! - over HTTP/1.1, the client closes the connection in the middle of the event stream: a new
//!   subscription succeeds.
//!
//! The engine's clock stands still, so Kinesis' takeover rule (a subscription 5 s after the live
//! one's start takes it over) never applies: only freeing the place lets the new subscription in.
//! Kinesis refuses a new subscription for 5 s after a successful one, so a client retries on
//! ResourceInUseException; so does this test. The server notices a vanished client at its next
//! event at the latest (the 5 s heartbeat), and the test reports how long that took.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{
    EventMessages, TestServer, bounded, call_json, register_consumer, start_event_stream,
    subscribe_request,
};
use bytes::Bytes;
use http::{StatusCode, Version};
use http_body_util::Full;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog::{EngineOptions, ManualClock};
use shardlog_server::ServerConfig;
use tokio::net::TcpStream;

const STREAM: &str = "freed";
const JSON: &str = "application/x-amz-json-1.1";

fn subscribe_body(consumer_arn: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"ConsumerARN":"{consumer_arn}","ShardId":"shardId-000000000000",
            "StartingPosition":{{"Type":"TRIM_HORIZON"}}}}"#
    ))
}

/// Reads past the initial response to the first event with a record, and checks its data.
async fn first_record(messages: &mut EventMessages) {
    assert_eq!(
        messages
            .next()
            .await
            .expect("the initial response")
            .header(":event-type"),
        Some("initial-response")
    );
    loop {
        let message = messages.next().await.expect("an event");
        assert_eq!(message.header(":event-type"), Some("SubscribeToShardEvent"));
        let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        if let Some(record) = event["Records"].get(0) {
            assert_eq!(record["Data"], "aGVsbG8=");
            return;
        }
    }
}

/// Subscribes over `sender` until the server accepts (ResourceInUse is retried, anything else
/// fails the test); the accepted subscription's messages and how long the retries took.
async fn subscribe_http2_retrying(
    addr: SocketAddr,
    sender: &mut SendRequest<Full<Bytes>>,
    consumer_arn: &str,
) -> (EventMessages, Duration) {
    let started = Instant::now();
    loop {
        let request = subscribe_request(addr, Version::HTTP_2, JSON, subscribe_body(consumer_arn));
        let response = bounded(sender.send_request(request))
            .await
            .expect("a response");
        if response.status() == StatusCode::OK {
            return (EventMessages::new(response.into_body()), started.elapsed());
        }
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "ResourceInUseException"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_or_dropped_subscription_frees_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        clock: Arc::new(ManualClock::new(1_764_000_000_000)),
        maintenance_interval: None,
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
        let put = format!(r#"{{"StreamName":"{STREAM}","PartitionKey":"k","Data":"aGVsbG8="}}"#);
        assert_eq!(
            call_json(addr, "PutRecord", &put).await.status,
            StatusCode::OK
        );
        let consumer_arn = register_consumer(addr, STREAM, "comes-back").await;

        // HTTP/2: cancel the stream, keep the connection.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        let (mut messages, _) = subscribe_http2_retrying(addr, &mut sender, &consumer_arn).await;
        first_record(&mut messages).await;
        drop(messages); // hyper sends RST_STREAM(CANCEL) for a response body dropped unread
        let (mut again, waited) = subscribe_http2_retrying(addr, &mut sender, &consumer_arn).await;
        eprintln!("after RST_STREAM, the place was free again within {waited:?}");
        first_record(&mut again).await;
        assert!(
            !connection.is_finished(),
            "the connection outlived the reset stream"
        );
        drop(again);

        // HTTP/1.1: close the connection in the middle of the event stream.
        let (_, mut messages) = loop {
            let request =
                subscribe_request(addr, Version::HTTP_11, JSON, subscribe_body(&consumer_arn));
            let (head, messages) = start_event_stream(addr, request).await;
            if head.status == StatusCode::OK {
                break (head, messages);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        first_record(&mut messages).await;
        drop(messages); // the HTTP/1.1 connection closes with its unfinished body
        let (mut after_close, waited) =
            subscribe_http2_retrying(addr, &mut sender, &consumer_arn).await;
        eprintln!("after the connection closed, the place was free again within {waited:?}");
        first_record(&mut after_close).await;
    })
    .await;
    server.stop().await;
}
