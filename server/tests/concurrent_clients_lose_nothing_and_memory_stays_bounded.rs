//! Concurrent clients over loopback: 8 writers, each on its own keep-alive connection, put
//! 2,000 records each through PutRecords while 4 readers tail the 4 shards with GetRecords. No
//! call fails (throughput limits are off, the library's default, so there is nothing to
//! throttle); every acknowledged sequence number is read back exactly once by its shard's reader,
//! each key's records in the order they were put; nothing unacknowledged appears; and the test
//! process (server and clients together) grows its resident memory by less than a generous bound.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use common::{STEP_TIMEOUT, TestServer, WELL_FORMED_AUTHORIZATION, call_json};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use shardlog::EngineOptions;
use shardlog_server::ServerConfig;

const WRITERS: u64 = 8;
const RECORDS_PER_WRITER: u64 = 2_000;
const ENTRIES_PER_CALL: u64 = 50;
/// Keys per writer: each key's records must come back in put order.
const KEYS_PER_WRITER: u64 = 4;
const SHARDS: usize = 4;
/// Bytes of each record's data (before base64).
const DATA_BYTES: usize = 512;
/// The most the process's resident memory may grow. The records total 8 MiB of data; the rest is
/// the allocator keeping freed request and reply buffers (up to 64 requests in flight), the
/// segments' mapped pages that were written (counted as resident), and the runtime. Leaking every
/// request body (about 45 MiB of JSON) or reply would still pass; keeping every read reply
/// around, or a request queue without bound, would not.
const RSS_GROWTH_BYTES_MAX: u64 = 256 << 20;

/// The process's resident set size, from /proc.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|number| number.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}

/// The data of writer `writer`'s record `index`: both numbers, then filler.
fn record_text(writer: u64, index: u64) -> String {
    let head = format!("{writer:02}-{index:06}-");
    format!("{head}{}", "x".repeat(DATA_BYTES - head.len()))
}

/// One keep-alive HTTP/1.1 connection making JSON calls.
struct Client {
    addr: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        Client { addr, sender }
    }

    /// A call that must succeed; its reply.
    async fn call(&mut self, operation: &str, body: String) -> Value {
        let request = Request::post("/")
            .header("host", self.addr.to_string())
            .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20150830T123600Z")
            .header("authorization", WELL_FORMED_AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        self.sender
            .ready()
            .await
            .expect("the connection stays usable");
        let response = self.sender.send_request(request).await.expect("an answer");
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, StatusCode::OK, "{operation}: {body:?}");
        serde_json::from_slice(&body).expect("a JSON reply")
    }
}

/// Puts the writer's records; returns (index, shard, sequence number) of each, in put order.
async fn write(addr: SocketAddr, writer: u64) -> Vec<(u64, String, String)> {
    let mut client = Client::connect(addr).await;
    let mut acknowledged = Vec::new();
    for first in (0..RECORDS_PER_WRITER).step_by(ENTRIES_PER_CALL as usize) {
        let indexes: Vec<u64> = (first..first + ENTRIES_PER_CALL).collect();
        let records: Vec<Value> = indexes
            .iter()
            .map(|&index| {
                json!({"PartitionKey": format!("w{writer}-k{}", index % KEYS_PER_WRITER),
                       "Data": BASE64.encode(record_text(writer, index))})
            })
            .collect();
        let reply = client
            .call(
                "PutRecords",
                json!({"StreamName": "load", "Records": records}).to_string(),
            )
            .await;
        assert_eq!(reply["FailedRecordCount"], 0, "{reply}");
        for (index, entry) in indexes.iter().zip(reply["Records"].as_array().unwrap()) {
            acknowledged.push((
                *index,
                entry["ShardId"].as_str().unwrap().to_owned(),
                entry["SequenceNumber"].as_str().unwrap().to_owned(),
            ));
        }
    }
    acknowledged
}

/// A record as read: (sequence number, partition key, data).
type Read = (String, String, String);

/// Tails one shard from TRIM_HORIZON until it is caught up and has read as many records as
/// `total` says the shard acknowledged (once the writers are done).
async fn tail(
    addr: SocketAddr,
    shard: usize,
    total: tokio::sync::watch::Receiver<Option<usize>>,
) -> Vec<Read> {
    let mut client = Client::connect(addr).await;
    let shard_id = format!("shardId-{shard:012}");
    let reply = client
        .call(
            "GetShardIterator",
            json!({"StreamName": "load", "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"})
                .to_string(),
        )
        .await;
    let mut iterator = reply["ShardIterator"].as_str().unwrap().to_owned();
    let mut read = Vec::new();
    loop {
        let reply = client
            .call(
                "GetRecords",
                json!({"ShardIterator": iterator, "Limit": 1000}).to_string(),
            )
            .await;
        let records = reply["Records"].as_array().unwrap();
        for record in records {
            read.push((
                record["SequenceNumber"].as_str().unwrap().to_owned(),
                record["PartitionKey"].as_str().unwrap().to_owned(),
                String::from_utf8(BASE64.decode(record["Data"].as_str().unwrap()).unwrap())
                    .unwrap(),
            ));
        }
        iterator = reply["NextShardIterator"].as_str().unwrap().to_owned();
        if records.is_empty() {
            if let Some(expected) = *total.borrow()
                && read.len() >= expected
            {
                return read;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_lose_nothing_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        segment_bytes: 4 << 20,
        ..EngineOptions::default()
    };
    let server = TestServer::start_with(dir.path(), ServerConfig::default(), options).await;
    let addr = server.addr;
    let body = json!({"StreamName": "load", "ShardCount": SHARDS}).to_string();
    assert_eq!(
        call_json(addr, "CreateStream", &body).await.status,
        StatusCode::OK
    );
    let resident_before = resident_bytes();

    let work = async {
        let mut totals = Vec::new();
        let mut readers = Vec::new();
        for shard in 0..SHARDS {
            let (sender, receiver) = tokio::sync::watch::channel(None);
            totals.push(sender);
            readers.push(tokio::spawn(tail(addr, shard, receiver)));
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| tokio::spawn(write(addr, writer)))
            .collect();
        let mut acknowledged = Vec::new();
        for writer in writers {
            acknowledged.push(writer.await.expect("a writer finishes"));
        }
        // Each reader stops once it has read as many records as its shard acknowledged (more
        // would show up as a failure below, fewer as a hang caught by the timeout).
        for (shard, total) in totals.iter().enumerate() {
            let shard_id = format!("shardId-{shard:012}");
            let count = acknowledged
                .iter()
                .flatten()
                .filter(|(_, acked_shard, _)| *acked_shard == shard_id)
                .count();
            total.send(Some(count)).expect("the reader listens");
        }
        let mut read = Vec::new();
        for reader in readers {
            read.push(reader.await.expect("a reader finishes"));
        }
        (acknowledged, read)
    };
    let (acknowledged, read) = tokio::time::timeout(STEP_TIMEOUT * 2, work)
        .await
        .expect("the load finishes (hang guard)");
    let resident_after = resident_bytes();

    // Every acknowledged number read exactly once, with its data, on its shard; nothing else.
    let mut by_sequence: HashMap<&str, (usize, &str, &str)> = HashMap::new();
    for (shard, records) in read.iter().enumerate() {
        for (sequence_number, key, data) in records {
            let previous = by_sequence.insert(sequence_number, (shard, key, data));
            assert!(previous.is_none(), "{sequence_number} read twice");
        }
    }
    let mut acknowledged_count = 0;
    let mut seen = HashSet::new();
    for (writer, records) in acknowledged.iter().enumerate() {
        let writer = writer as u64;
        assert_eq!(records.len() as u64, RECORDS_PER_WRITER);
        for (index, shard_id, sequence_number) in records {
            let (shard, key, data) = by_sequence
                .get(sequence_number.as_str())
                .unwrap_or_else(|| panic!("acknowledged {sequence_number} was never read"));
            assert_eq!(*shard_id, format!("shardId-{shard:012}"));
            assert_eq!(*key, format!("w{writer}-k{}", index % KEYS_PER_WRITER));
            assert_eq!(*data, record_text(writer, *index));
            assert!(
                seen.insert(sequence_number.as_str()),
                "{sequence_number} acknowledged twice"
            );
            acknowledged_count += 1;
        }
    }
    assert_eq!(
        by_sequence.len(),
        acknowledged_count,
        "records read that were never acknowledged"
    );
    // Per key, in put order: each shard's reader saw a key's indexes increasing.
    for records in &read {
        let mut last: HashMap<&str, u64> = HashMap::new();
        for (_, key, data) in records {
            let index: u64 = data[3..9].parse().unwrap();
            if let Some(previous) = last.insert(key, index) {
                assert!(previous < index, "{key}: {index} read after {previous}");
            }
        }
    }
    let growth = resident_after.saturating_sub(resident_before);
    eprintln!(
        "{acknowledged_count} records acknowledged and read back once each; resident memory \
         {} MiB -> {} MiB",
        resident_before >> 20,
        resident_after >> 20
    );
    assert!(
        growth < RSS_GROWTH_BYTES_MAX,
        "resident memory grew by {} MiB",
        growth >> 20
    );
    server.stop().await;
}
