//! A subscription is work of the server's only while it waits for the next event: a subscriber
//! that stops reading (an HTTP/2 stream window of 16 KiB, never given back, filled by 400 KB of
//! records) leaves its connection idle, and the idle timeout closes it, which ends the
//! subscription and frees its thread. Before, the streamed response kept the connection busy for
//! as long as it lived, so a stalled subscriber held its thread and its place until its TCP
//! connection died. A quiet subscriber that reads, with no record for longer than the idle
//! timeout, is not idle: it stays open and receives the next record.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::{
    EventMessages, TestServer, bounded, call_json, register_consumer, start_event_stream,
    subscribe_request,
};
use bytes::Bytes;
use http::{StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog_server::ServerConfig;
use tokio::net::TcpStream;

const STREAM: &str = "stalls";
const JSON: &str = "application/x-amz-json-1.1";
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);
const RECORD_BYTES: usize = 100_000;

fn subscribe_body(consumer_arn: &str, position: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"ConsumerARN":"{consumer_arn}","ShardId":"shardId-000000000000",
            "StartingPosition":{{"Type":"{position}"}}}}"#
    ))
}

async fn put(addr: SocketAddr, data: &str) {
    let put = format!(r#"{{"StreamName":"{STREAM}","PartitionKey":"k","Data":"{data}"}}"#);
    assert_eq!(
        call_json(addr, "PutRecord", &put).await.status,
        StatusCode::OK
    );
}

/// Reads events until one carries a record, and returns its data.
async fn next_record(messages: &mut EventMessages) -> String {
    loop {
        let message = messages.next().await.expect("an event");
        if message.header(":event-type") != Some("SubscribeToShardEvent") {
            continue;
        }
        let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        if let Some(record) = event["Records"].get(0) {
            return record["Data"].as_str().expect("data").to_owned();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_closed_at_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        idle_timeout: IDLE_TIMEOUT,
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            &format!(r#"{{"StreamName":"{STREAM}","ShardCount":1}}"#),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK);
        let stalled_arn = register_consumer(addr, STREAM, "stalled").await;
        let quiet_arn = register_consumer(addr, STREAM, "quiet").await;

        // The quiet subscriber reads; nothing is put for three idle timeouts.
        let request = subscribe_request(
            addr,
            Version::HTTP_2,
            JSON,
            subscribe_body(&quiet_arn, "LATEST"),
        );
        let (head, mut quiet) = start_event_stream(addr, request).await;
        assert_eq!(head.status, StatusCode::OK);

        // The stalled subscriber: a 16 KiB stream window it never gives back.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(16 * 1024)
                .adaptive_window(false)
                .handshake(TokioIo::new(stream))
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        let request = subscribe_request(
            addr,
            Version::HTTP_2,
            JSON,
            subscribe_body(&stalled_arn, "TRIM_HORIZON"),
        );
        let stalled = sender.send_request(request).await.expect("a response");
        assert_eq!(stalled.status(), StatusCode::OK);

        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(vec![7u8; RECORD_BYTES]);
        for _ in 0..4 {
            put(addr, &data).await;
        }
        for _ in 0..4 {
            assert!(
                next_record(&mut quiet).await == data,
                "the quiet subscriber reads the records"
            );
        }

        // Nothing is put for three idle timeouts: the stalled connection is closed meanwhile.
        let waited = Instant::now();
        tokio::time::sleep(IDLE_TIMEOUT * 3).await;
        assert!(
            connection.is_finished(),
            "the stalled subscriber's connection is still open after {:?}",
            waited.elapsed()
        );
        drop(stalled);

        // The quiet subscriber was not idle: the next record reaches it.
        put(addr, "cXVpZXQ=").await;
        assert_eq!(next_record(&mut quiet).await, "cXVpZXQ=");
    })
    .await;
    server.stop().await;
}
