//! A load generator for a Kinesis endpoint (shardlog or any other, e.g. kinesalite): PutRecords
//! throughput and latency with pre-encoded bodies over keep-alive connections, then GetRecords
//! throughput and latency reading the stream back.
//!
//! ```text
//! cargo run --release -p shardlog-server -- serve --log-level warn --data-dir /tmp/bench &
//! cargo run --release -p shardlog-server --example loadgen -- --endpoint http://127.0.0.1:4567
//! ```
//!
//! Options (all `--name value`): `--endpoint`, `--record-bytes` (100), `--batch` (500),
//! `--connections` (4), `--seconds` (10, per phase), `--shards` (4), `--stream` (a fresh name).
//! Requests carry a well-formed but unverified SigV4 header: run the server without credentials.
//! Every loop is bounded by the phase's duration.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDLOADGEN/20250101/us-east-1/kinesis/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000000000000000";

struct Options {
    addr: SocketAddr,
    record_bytes: usize,
    batch: usize,
    connections: usize,
    seconds: u64,
    shards: usize,
    stream: String,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut map = HashMap::new();
    for pair in args.chunks(2) {
        if let [name, value] = pair {
            map.insert(name.trim_start_matches("--").to_owned(), value.clone());
        }
    }
    let get = |name: &str, default: &str| map.get(name).cloned().unwrap_or(default.to_owned());
    let endpoint = get("endpoint", "http://127.0.0.1:4567");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    Options {
        addr: endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("--endpoint http://IP:PORT"),
        record_bytes: get("record-bytes", "100").parse().expect("--record-bytes"),
        batch: get("batch", "500").parse().expect("--batch"),
        connections: get("connections", "4").parse().expect("--connections"),
        seconds: get("seconds", "10").parse().expect("--seconds"),
        shards: get("shards", "4").parse().expect("--shards"),
        stream: get("stream", &format!("loadgen-{}", nanos % 1_000_000_000)),
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        Connection {
            sender,
            host: addr.to_string(),
        }
    }

    /// Sends one call; returns the status and body.
    async fn call(&mut self, operation: &str, body: Bytes) -> (u16, Bytes) {
        let request = Request::post("/")
            .header("host", &self.host)
            .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20250101T000000Z")
            .header("authorization", AUTHORIZATION)
            .body(Full::new(body))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body)
    }
}

/// Pre-encoded PutRecords bodies: distinct partition keys spread records over every shard.
fn put_bodies(options: &Options, count: usize) -> Vec<Bytes> {
    let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; options.record_bytes]);
    (0..count)
        .map(|body| {
            let records: Vec<String> = (0..options.batch)
                .map(|i| format!(r#"{{"Data":"{data}","PartitionKey":"pk-{body}-{i}"}}"#))
                .collect();
            Bytes::from(format!(
                r#"{{"StreamName":"{}","Records":[{}]}}"#,
                options.stream,
                records.join(",")
            ))
        })
        .collect()
}

struct Phase {
    requests: u64,
    records: u64,
    latencies_us: Vec<u64>,
}

fn report(name: &str, phases: Vec<Phase>, elapsed: Duration) {
    let mut latencies: Vec<u64> = phases
        .iter()
        .flat_map(|phase| phase.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let requests: u64 = phases.iter().map(|phase| phase.requests).sum();
    let records: u64 = phases.iter().map(|phase| phase.records).sum();
    let secs = elapsed.as_secs_f64();
    println!(
        "{name}: {records} records in {requests} requests over {secs:.1} s = {:.0} records/s, \
         {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms",
        records as f64 / secs,
        requests as f64 / secs,
        percentile(0.50) as f64 / 1000.0,
        percentile(0.99) as f64 / 1000.0,
    );
}

/// Text between `"<field>":"` and the next quote.
fn string_field<'a>(body: &'a str, field: &str) -> Option<&'a str> {
    let start = body.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let rest = body.get(start..)?;
    rest.get(..rest.find('"')?)
}

#[tokio::main]
async fn main() {
    let options = Arc::new(options());
    let mut control = Connection::open(options.addr).await;
    let create = format!(
        r#"{{"StreamName":"{}","ShardCount":{}}}"#,
        options.stream, options.shards
    );
    let (status, body) = control.call("CreateStream", Bytes::from(create)).await;
    assert_eq!(status, 200, "CreateStream: {body:?}");
    // Wait (bounded) for ACTIVE: emulators take a moment to create.
    let describe = Bytes::from(format!(r#"{{"StreamName":"{}"}}"#, options.stream));
    for _ in 0..100 {
        let (_, body) = control
            .call("DescribeStreamSummary", describe.clone())
            .await;
        if String::from_utf8_lossy(&body).contains("\"ACTIVE\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "stream {} with {} shards; {} connections; {} B records",
        options.stream, options.shards, options.connections, options.record_bytes
    );

    // PutRecords.
    let bodies = Arc::new(put_bodies(&options, 16));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..options.connections {
        let (options, bodies) = (Arc::clone(&options), Arc::clone(&bodies));
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(options.addr).await;
            let mut phase = Phase {
                requests: 0,
                records: 0,
                latencies_us: Vec::new(),
            };
            let mut next = worker;
            while Instant::now() < deadline {
                let body = bodies[next % bodies.len()].clone();
                next += 1;
                let sent = Instant::now();
                let (status, answer) = connection.call("PutRecords", body).await;
                phase.latencies_us.push(sent.elapsed().as_micros() as u64);
                assert_eq!(status, 200, "PutRecords: {answer:?}");
                let text = String::from_utf8_lossy(&answer);
                let failed = text.contains("\"FailedRecordCount\":0")
                    || text.contains("\"FailedRecordCount\": 0");
                phase.requests += 1;
                if failed {
                    phase.records += options.batch as u64;
                }
            }
            phase
        }));
    }
    let mut phases = Vec::new();
    for task in tasks {
        phases.push(task.await.expect("put worker"));
    }
    report(
        &format!(
            "PutRecords x{} of {} B",
            options.batch, options.record_bytes
        ),
        phases,
        started.elapsed(),
    );

    // GetRecords: each connection reads shards from TRIM_HORIZON with Limit 10000, starting over
    // when it catches up, until the deadline.
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..options.connections {
        let options = Arc::clone(&options);
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(options.addr).await;
            let mut phase = Phase {
                requests: 0,
                records: 0,
                latencies_us: Vec::new(),
            };
            let mut shard = worker % options.shards;
            let mut iterator: Option<String> = None;
            while Instant::now() < deadline {
                let current = match iterator.take() {
                    Some(current) => current,
                    None => {
                        let request = format!(
                            r#"{{"StreamName":"{}","ShardId":"shardId-{shard:012}","ShardIteratorType":"TRIM_HORIZON"}}"#,
                            options.stream
                        );
                        let (status, body) =
                            connection.call("GetShardIterator", Bytes::from(request)).await;
                        assert_eq!(status, 200, "GetShardIterator: {body:?}");
                        let text = String::from_utf8_lossy(&body).into_owned();
                        string_field(&text, "ShardIterator").expect("iterator").to_owned()
                    }
                };
                let request = format!(r#"{{"ShardIterator":"{current}","Limit":10000}}"#);
                let sent = Instant::now();
                let (status, body) = connection.call("GetRecords", Bytes::from(request)).await;
                phase.latencies_us.push(sent.elapsed().as_micros() as u64);
                assert_eq!(status, 200, "GetRecords: {body:?}");
                let text = String::from_utf8_lossy(&body);
                let count = text.matches("\"SequenceNumber\"").count() as u64;
                phase.requests += 1;
                phase.records += count;
                if count == 0 {
                    shard = (shard + 1) % options.shards;
                } else {
                    iterator = string_field(&text, "NextShardIterator").map(str::to_owned);
                }
            }
            phase
        }));
    }
    let mut phases = Vec::new();
    for task in tasks {
        phases.push(task.await.expect("get worker"));
    }
    report(
        &format!("GetRecords (Limit 10000) of {} B", options.record_bytes),
        phases,
        started.elapsed(),
    );
}
