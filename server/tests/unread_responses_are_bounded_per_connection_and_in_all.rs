//! Clients that do not read their responses cannot make the server queue bytes without bound:
//! an HTTP/2 connection with a zero flow-control window that asks for 64 GetRecords of about
//! 13 MB each gets at most its connection's share built and queued, while other clients are
//! served; six such connections together stay within the server-wide budget (the longest-idle
//! holders give way), and other clients are still served.
//!
//! The server is the real binary, so that its resident memory is its own; the test reads the
//! count of reserved response bytes from `/metrics` and prints the RSS it saw.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::{ServeProcess, WELL_FORMED_AUTHORIZATION, bounded, call_json, send_http1};
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog_server::server::{RESPONSE_BYTES_PER_CONNECTION_MAX, RESPONSE_BYTES_QUEUED_MAX};
use tokio::net::TcpStream;

/// Records of 1,000,000 bytes: ten of them make a GetRecords of about 13.3 MB of JSON.
const RECORD_BYTES: usize = 1_000_000;
const RECORDS: usize = 10;
const REQUESTS_PER_CONNECTION: usize = 64;

/// The server's count of reserved response bytes.
async fn reserved_response_bytes(addr: SocketAddr) -> usize {
    let request = Request::get("/metrics")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let answer = send_http1(addr, request).await;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix("shardlog_server_response_bytes_reserved "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no response-bytes gauge in /metrics:\n{text}"))
}

fn resident_bytes(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

async fn iterator(addr: SocketAddr) -> String {
    let answer = call_json(
        addr,
        "GetShardIterator",
        r#"{"StreamName":"big","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#,
    )
    .await;
    answer.json()["ShardIterator"]
        .as_str()
        .expect("an iterator")
        .to_owned()
}

/// Opens an HTTP/2 connection whose streams have a zero flow-control window, asks for
/// GetRecords on it and never reads a byte of the answers. Returns how many answers' heads
/// arrived (each counted once built), and the task that ends when the server closes it.
async fn unread_get_records(addr: SocketAddr) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let closed = tokio::spawn(async move {
        let _ = connection.await;
    });
    let arrived = Arc::new(AtomicUsize::new(0));
    // An iterator may be used again, as in Kinesis, until it expires.
    let body = format!(r#"{{"ShardIterator":"{}"}}"#, iterator(addr).await);
    for _ in 0..REQUESTS_PER_CONNECTION {
        let body = body.clone();
        let request = Request::post(format!("http://{addr}/"))
            .header("x-amz-target", "Kinesis_20131202.GetRecords")
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", WELL_FORMED_AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let mut sender = sender.clone();
        let arrived = Arc::clone(&arrived);
        tokio::spawn(async move {
            if let Ok(response) = sender.send_request(request).await {
                arrived.fetch_add(1, Ordering::SeqCst);
                // Hold the answer unread for as long as the connection lives.
                std::future::pending::<()>().await;
                drop(response);
            }
        });
    }
    (arrived, closed)
}

async fn get_records_read_in_full(addr: SocketAddr) {
    let body = format!(r#"{{"ShardIterator":"{}"}}"#, iterator(addr).await);
    let answer = call_json(addr, "GetRecords", &body).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json()["Records"].as_array().map(Vec::len),
        Some(RECORDS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_responses_are_bounded_per_connection_and_in_all() {
    let dir = tempfile::tempdir().unwrap();
    // Idle connections are not closed during the test: only the budgets bound the bytes.
    let server = ServeProcess::start(dir.path(), &["--idle-timeout-secs", "3600"]);
    let addr = server.addr;
    let pid = server.child.id();
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            r#"{"StreamName":"big","ShardCount":1}"#,
        );
        assert_eq!(created.await.status, StatusCode::OK);
        let data = base64_of(&vec![b'x'; RECORD_BYTES]);
        for _ in 0..RECORDS {
            let put = format!(r#"{{"StreamName":"big","PartitionKey":"k","Data":"{data}"}}"#);
            assert_eq!(
                call_json(addr, "PutRecord", &put).await.status,
                StatusCode::OK
            );
        }
        get_records_read_in_full(addr).await;
        let resident_before = resident_bytes(pid);

        // One connection that reads nothing: a few answers are built, the rest wait.
        let (arrived, _first) = unread_get_records(addr).await;
        while arrived.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Every chance to build more than its share.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let queued = reserved_response_bytes(addr).await;
        let built = arrived.load(Ordering::SeqCst);
        eprintln!(
            "one unread connection: {built} of {REQUESTS_PER_CONNECTION} answers built, \
             {queued} bytes queued, RSS {} -> {} bytes",
            resident_before,
            resident_bytes(pid)
        );
        assert!(queued <= RESPONSE_BYTES_PER_CONNECTION_MAX, "{queued}");
        assert!(
            queued >= built * RECORDS * RECORD_BYTES,
            "{queued} for {built}"
        );
        get_records_read_in_full(addr).await;

        // Five more: together they would queue more than the server-wide budget.
        let mut connections = Vec::new();
        for _ in 0..5 {
            connections.push(unread_get_records(addr).await);
        }
        let mut resident_max = 0;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let queued = reserved_response_bytes(addr).await;
            assert!(queued <= RESPONSE_BYTES_QUEUED_MAX, "{queued}");
            resident_max = resident_max.max(resident_bytes(pid));
        }
        // Other clients are served: the longest-idle holders give way to them.
        get_records_read_in_full(addr).await;
        let built: usize = connections
            .iter()
            .map(|(arrived, _)| arrived.load(Ordering::SeqCst))
            .sum();
        let closed = connections
            .iter()
            .filter(|(_, closed)| closed.is_finished())
            .count();
        eprintln!(
            "six unread connections: {built} more answers built, {closed} connections closed \
             to make room, RSS at most {resident_max} bytes"
        );
    })
    .await;
    server.terminate();
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
