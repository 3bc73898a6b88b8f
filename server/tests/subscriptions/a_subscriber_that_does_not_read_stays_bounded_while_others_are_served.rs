//! A SubscribeToShard client that stops reading (its HTTP/2 stream window is 16 KiB and it takes
//! nothing from it) does not make the server buffer the shard for it: while 64 MB of records are
//! appended, which as JSON events would be about 85 MB queued for that subscriber, the server's
//! anonymous memory (its heap, not the mapped log files) grows by less than half of that, another
//! subscriber on the same shard receives every record, and GetRecords is served. When the stalled
//! subscriber reads again, its events resume with the first record, in order: nothing was
//! skipped.
//!
//! The server is the real binary, so that its memory is its own.

use std::time::Duration;

use crate::common::{
    EventMessages, ServeProcess, bounded, call_json, register_consumer, start_event_stream,
    subscribe_request,
};
use bytes::Bytes;
use http::{StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

const STREAM: &str = "wide";
const JSON: &str = "application/x-amz-json-1.1";
const RECORD_BYTES: usize = 1_000_000;
const RECORDS: usize = 64;
/// A stream window the stalled subscriber never gives back.
const STALLED_WINDOW_BYTES: u32 = 16 * 1024;

/// The server's anonymous resident memory (`RssAnon`), in bytes.
fn anonymous_resident_bytes(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .expect("an RssAnon line")
}

fn subscribe_body(consumer_arn: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"ConsumerARN":"{consumer_arn}","ShardId":"shardId-000000000000",
            "StartingPosition":{{"Type":"TRIM_HORIZON"}}}}"#
    ))
}

/// The next records' first bytes (each record is one repeated byte), reading events until
/// `count` records came.
async fn record_marks(messages: &mut EventMessages, count: usize) -> Vec<u8> {
    use base64::Engine as _;
    let mut marks = Vec::new();
    while marks.len() < count {
        let message = messages.next().await.expect("an event");
        if message.header(":event-type") != Some("SubscribeToShardEvent") {
            continue;
        }
        let event: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        for record in event["Records"].as_array().expect("records") {
            let data = base64::engine::general_purpose::STANDARD
                .decode(record["Data"].as_str().expect("data"))
                .expect("base64 data");
            assert_eq!(data.len(), RECORD_BYTES);
            marks.push(data[0]);
        }
    }
    marks
}

fn mark(index: usize) -> u8 {
    u8::try_from(index % 251).expect("below 251")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_does_not_read_stays_bounded_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &["--create-delay-ms", "0"]);
    let addr = server.addr;
    let pid = server.child.id();
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            &format!(r#"{{"StreamName":"{STREAM}","ShardCount":1}}"#),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK);
        let stalled_arn = register_consumer(addr, STREAM, "stalled").await;
        let reader_arn = register_consumer(addr, STREAM, "reader").await;

        // The stalled subscriber: its stream window is never given back.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut stalled_sender, connection) =
            hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .initial_stream_window_size(STALLED_WINDOW_BYTES)
                .adaptive_window(false)
                .handshake(TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = subscribe_request(addr, Version::HTTP_2, JSON, subscribe_body(&stalled_arn));
        let stalled = stalled_sender
            .send_request(request)
            .await
            .expect("a response");
        assert_eq!(stalled.status(), StatusCode::OK);

        let request = subscribe_request(addr, Version::HTTP_2, JSON, subscribe_body(&reader_arn));
        let (head, mut reader) = start_event_stream(addr, request).await;
        assert_eq!(head.status, StatusCode::OK);
        let reading = tokio::spawn(async move { record_marks(&mut reader, RECORDS).await });

        let before = anonymous_resident_bytes(pid);
        let mut after_max = before;
        for index in 0..RECORDS {
            use base64::Engine as _;
            let data =
                base64::engine::general_purpose::STANDARD.encode(vec![mark(index); RECORD_BYTES]);
            let put = format!(r#"{{"StreamName":"{STREAM}","PartitionKey":"k","Data":"{data}"}}"#);
            assert_eq!(
                call_json(addr, "PutRecord", &put).await.status,
                StatusCode::OK
            );
            after_max = after_max.max(anonymous_resident_bytes(pid));
        }
        let delivered = reading.await.expect("the reader's task");
        let expected: Vec<u8> = (0..RECORDS).map(mark).collect();
        assert_eq!(
            delivered, expected,
            "the reading subscriber got every record, in order"
        );
        let iterator = call_json(
            addr,
            "GetShardIterator",
            &format!(
                r#"{{"StreamName":"{STREAM}","ShardId":"shardId-000000000000",
                    "ShardIteratorType":"TRIM_HORIZON"}}"#
            ),
        )
        .await;
        let get = call_json(
            addr,
            "GetRecords",
            &format!(
                r#"{{"ShardIterator":"{}","Limit":1}}"#,
                iterator.json()["ShardIterator"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(get.status, StatusCode::OK, "GetRecords is served");
        // Every chance to queue more for the stalled subscriber.
        tokio::time::sleep(Duration::from_millis(500)).await;
        after_max = after_max.max(anonymous_resident_bytes(pid));

        let unbounded_bytes = RECORDS * RECORD_BYTES * 4 / 3;
        let grown = after_max.saturating_sub(before);
        eprintln!(
            "heap grew by {grown} bytes ({before} -> {after_max}) while {unbounded_bytes} bytes \
             of events waited for the stalled subscriber"
        );
        assert!(
            grown < unbounded_bytes / 2,
            "the server buffered for a subscriber that does not read: {grown} bytes"
        );

        // Reading again, the stalled subscriber resumes where it stood.
        let mut stalled = EventMessages::new(stalled.into_body());
        assert_eq!(
            stalled
                .next()
                .await
                .expect("the initial response")
                .header(":event-type"),
            Some("initial-response")
        );
        let resumed = record_marks(&mut stalled, 3).await;
        assert_eq!(resumed[..3], expected[..3]);
    })
    .await;
    server.terminate();
}
