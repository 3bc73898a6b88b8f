//! What many streams cost a running server: creates N one-shard streams, reading the server
//! process's resident memory, threads and open files (from `/proc/<pid>`) before and after, then
//! writes a bounded number of records spread over all of them.
//!
//! It starts nothing itself. In one shell, a server on a fresh data directory (the default
//! `--shard-limit` is 1000 and the engine holds at most 10 000 streams):
//!
//! ```text
//! cargo run --release -p shardlog-server -- serve --log-level warn \
//!     --data-dir /tmp/many-streams --shard-limit 10000
//! ```
//!
//! In another, this example, given the server's pid (the process is named `shardlog`):
//!
//! ```text
//! cargo run --release -p shardlog-server --example create_many_streams -- \
//!     --endpoint http://127.0.0.1:4567 --streams 1000 --pid $(pgrep -x shardlog) \
//!     --data-dir /tmp/many-streams
//! ```
//!
//! Options (all `--name value`): `--endpoint` (loopback only), `--streams` (10), `--pid` (without
//! it, no process figures), `--data-dir` (the server's, to report the bytes allocated on disk),
//! `--records` (1 000 000, in all), `--record-bytes` (100), `--batch` (500 records per
//! PutRecords), `--connections` (4), `--seconds` (60, the most each phase may take), `--prefix`
//! (`fp`: streams are named `fp-000000`, `fp-000001`, ...). A stream that already exists is used
//! as it is, so a second run against the same server measures writes only. Requests carry a
//! well-formed but unverified SigV4 header: run the server without `--credentials`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDMANYSTREAMS/20250101/us-east-1/kinesis/aws4_request, \
    SignedHeaders=host;x-amz-date, Signature=0000000000000000";

/// Longest wait for one answer: a server that takes longer is reported as stuck, not waited on.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

struct Options {
    addr: SocketAddr,
    streams: usize,
    pid: Option<u32>,
    data_dir: Option<PathBuf>,
    records: u64,
    record_bytes: usize,
    batch: usize,
    connections: usize,
    seconds: u64,
    prefix: String,
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
    let addr: SocketAddr = get("endpoint", "http://127.0.0.1:4567")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("--endpoint http://IP:PORT");
    assert!(
        addr.ip().is_loopback(),
        "--endpoint must be a loopback address: this example measures a local server"
    );
    let options = Options {
        addr,
        streams: get("streams", "10").parse().expect("--streams"),
        pid: map.get("pid").map(|pid| pid.parse().expect("--pid")),
        data_dir: map.get("data-dir").map(PathBuf::from),
        records: get("records", "1000000").parse().expect("--records"),
        record_bytes: get("record-bytes", "100").parse().expect("--record-bytes"),
        batch: get("batch", "500").parse().expect("--batch"),
        connections: get("connections", "4").parse().expect("--connections"),
        seconds: get("seconds", "60").parse().expect("--seconds"),
        prefix: get("prefix", "fp"),
    };
    assert!(
        (1..=1_000_000).contains(&options.streams),
        "--streams 1..=1000000"
    );
    assert!((1..=500).contains(&options.batch), "--batch 1..=500");
    assert!(
        (1..=256).contains(&options.connections),
        "--connections 1..=256"
    );
    options
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|error| panic!("connecting to {addr}: {error} (is the server up?)"));
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

    /// Sends one call; returns the status and the decoded JSON answer (`Null` if it is not JSON).
    async fn call(&mut self, operation: &str, body: String) -> (u16, Value) {
        let request = Request::post("/")
            .header("host", &self.host)
            .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20250101T000000Z")
            .header("authorization", AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let exchange = async {
            self.sender.ready().await.expect("connection ready");
            let response = self.sender.send_request(request).await.expect("response");
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.expect("body");
            (status, body.to_bytes())
        };
        let (status, body) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| panic!("{operation}: no answer within {CALL_TIMEOUT:?}"));
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// The server process as `/proc` shows it.
#[derive(Default)]
struct ProcessFigures {
    rss_kib: u64,
    rss_peak_kib: u64,
    threads: u64,
    open_files: u64,
    open_files_max: String,
}

impl ProcessFigures {
    fn read(pid: u32) -> ProcessFigures {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let status = std::fs::read_to_string(proc_dir.join("status"))
            .unwrap_or_else(|error| panic!("reading /proc/{pid}/status: {error}"));
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        let limits = std::fs::read_to_string(proc_dir.join("limits")).unwrap_or_default();
        ProcessFigures {
            rss_kib: field("VmRSS:"),
            rss_peak_kib: field("VmHWM:"),
            threads: field("Threads:"),
            open_files: std::fs::read_dir(proc_dir.join("fd"))
                .map_or(0, |entries| entries.count() as u64),
            open_files_max: limits
                .lines()
                .find_map(|line| line.strip_prefix("Max open files"))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("?")
                .to_owned(),
        }
    }
}

/// Bytes under `dir`: allocated on disk (what preallocation costs) and apparent (file lengths).
fn disk_bytes(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let (mut allocated, mut apparent) = (0, 0);
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                allocated += metadata.blocks() * 512;
                apparent += metadata.len();
            }
        }
    }
    (allocated, apparent)
}

/// What is measured between phases.
struct Snapshot {
    process: Option<ProcessFigures>,
    disk: Option<(u64, u64)>,
}

impl Snapshot {
    fn take(options: &Options) -> Snapshot {
        Snapshot {
            process: options.pid.map(ProcessFigures::read),
            disk: options.data_dir.as_deref().map(disk_bytes),
        }
    }

    /// Prints the snapshot, and the change since `before` per stream when `streams` were added.
    fn print(&self, label: &str, before: Option<(&Snapshot, usize)>) {
        const MIB: f64 = 1024.0 * 1024.0;
        if let Some(process) = &self.process {
            println!(
                "{label}: RSS {:.1} MiB (peak {:.1} MiB), {} threads, {} open files \
                 (limit {})",
                process.rss_kib as f64 / 1024.0,
                process.rss_peak_kib as f64 / 1024.0,
                process.threads,
                process.open_files,
                process.open_files_max,
            );
        }
        if let Some((allocated, apparent)) = self.disk {
            println!(
                "{label}: data directory {:.1} MiB allocated, {:.1} MiB apparent",
                allocated as f64 / MIB,
                apparent as f64 / MIB
            );
        }
        let Some((before, streams)) = before.filter(|(_, streams)| *streams > 0) else {
            return;
        };
        let per_stream_kib =
            |after: u64, before: u64| (after as f64 - before as f64) / streams as f64 / 1024.0;
        if let (Some(now), Some(then)) = (&self.process, &before.process) {
            println!(
                "{label}: per new stream {:.1} KiB of RSS; threads {:+}, open files {:+}",
                per_stream_kib(now.rss_kib * 1024, then.rss_kib * 1024),
                now.threads as i64 - then.threads as i64,
                now.open_files as i64 - then.open_files as i64,
            );
        }
        if let (Some(now), Some(then)) = (self.disk, before.disk) {
            println!(
                "{label}: per new stream {:.1} KiB allocated on disk",
                per_stream_kib(now.0, then.0)
            );
        }
    }
}

fn stream_name(options: &Options, index: usize) -> String {
    format!("{}-{index:06}", options.prefix)
}

/// How the CreateStream calls went.
#[derive(Default)]
struct Created {
    /// Indices of the streams that exist now (created, or there before).
    ready: Vec<usize>,
    new: usize,
    existing: usize,
    /// The first refusal, which stops every worker.
    refused: Option<String>,
}

/// Sends the CreateStream calls over `--connections` connections, until all are sent, one is
/// refused, or the phase's time is up.
async fn create_streams(options: &Arc<Options>) -> Created {
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..options.connections {
        let (options, stop) = (Arc::clone(options), Arc::clone(&stop));
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(options.addr).await;
            let mut created = Created::default();
            for index in (worker..options.streams).step_by(options.connections) {
                if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    break;
                }
                let name = stream_name(&options, index);
                let request = format!(r#"{{"StreamName":"{name}","ShardCount":1}}"#);
                let (status, answer) = connection.call("CreateStream", request).await;
                let kind = answer["__type"].as_str().unwrap_or_default();
                if status == 200 {
                    created.new += 1;
                    created.ready.push(index);
                } else if kind.ends_with("ResourceInUseException") {
                    created.existing += 1;
                    created.ready.push(index);
                } else {
                    stop.store(true, Ordering::Relaxed);
                    created.refused = Some(format!("CreateStream {name}: {status} {answer}"));
                    break;
                }
            }
            created
        }));
    }
    let mut all = Created::default();
    for worker in workers {
        let created = worker.await.expect("create worker");
        all.ready.extend(created.ready);
        all.new += created.new;
        all.existing += created.existing;
        all.refused = all.refused.or(created.refused);
    }
    all.ready.sort_unstable();
    all
}

/// Pages through ListStreams from the prefix until every stream in `ready` is ACTIVE or the
/// phase's time is up; returns how many are ACTIVE.
async fn wait_until_active(options: &Options, ready: &[usize]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let mut connection = Connection::open(options.addr).await;
    let wanted: std::collections::HashSet<String> = ready
        .iter()
        .map(|&index| stream_name(options, index))
        .collect();
    let start_after = format!("{}-", options.prefix);
    loop {
        let mut active = 0;
        let mut after = start_after.clone();
        'pages: loop {
            let request = format!(r#"{{"ExclusiveStartStreamName":"{after}","Limit":100}}"#);
            let (status, answer) = connection.call("ListStreams", request).await;
            assert_eq!(status, 200, "ListStreams: {answer}");
            let summaries = answer["StreamSummaries"].as_array().cloned();
            for summary in summaries.unwrap_or_default() {
                let name = summary["StreamName"].as_str().unwrap_or_default();
                if !name.starts_with(&start_after) {
                    break 'pages;
                }
                if wanted.contains(name) && summary["StreamStatus"] == "ACTIVE" {
                    active += 1;
                }
                after = name.to_owned();
            }
            if answer["HasMoreStreams"] != true {
                break;
            }
        }
        if active >= wanted.len() || Instant::now() >= deadline {
            return active;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How the PutRecords calls went.
#[derive(Default)]
struct Written {
    calls: u64,
    records: u64,
    failed_records: u64,
    /// The first call that was refused as a whole.
    refused: Option<String>,
}

/// Sends PutRecords calls of `--batch` records, each to the next stream in turn, until
/// `--records` are sent or the phase's time is up.
async fn put_records(options: &Arc<Options>, streams: Arc<Vec<usize>>) -> Written {
    let data = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; options.record_bytes]);
    let records: Vec<String> = (0..options.batch)
        .map(|i| format!(r#"{{"Data":"{data}","PartitionKey":"pk-{i}"}}"#))
        .collect();
    let records = Arc::new(records.join(","));
    let calls_total = options.records.div_ceil(options.batch as u64);
    let next_call = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let mut workers = Vec::new();
    for _ in 0..options.connections {
        let (options, streams, records, next_call) = (
            Arc::clone(options),
            Arc::clone(&streams),
            Arc::clone(&records),
            Arc::clone(&next_call),
        );
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(options.addr).await;
            let mut written = Written::default();
            while Instant::now() < deadline {
                let call = next_call.fetch_add(1, Ordering::Relaxed);
                if call >= calls_total {
                    break;
                }
                let index = streams[(call % streams.len() as u64) as usize];
                let name = stream_name(&options, index);
                let request = format!(r#"{{"StreamName":"{name}","Records":[{records}]}}"#);
                let (status, answer) = connection.call("PutRecords", request).await;
                written.calls += 1;
                if status != 200 {
                    written.refused = Some(format!("PutRecords {name}: {status} {answer}"));
                    break;
                }
                let failed = answer["FailedRecordCount"].as_u64().unwrap_or(0);
                written.failed_records += failed;
                written.records += options.batch as u64 - failed;
            }
            written
        }));
    }
    let mut all = Written::default();
    for worker in workers {
        let written = worker.await.expect("put worker");
        all.calls += written.calls;
        all.records += written.records;
        all.failed_records += written.failed_records;
        all.refused = all.refused.or(written.refused);
    }
    all
}

#[tokio::main]
async fn main() {
    let options = Arc::new(options());
    println!(
        "{} streams of 1 shard named {}..{} at {}; {} connections",
        options.streams,
        stream_name(&options, 0),
        stream_name(&options, options.streams - 1),
        options.addr,
        options.connections,
    );
    if options.pid.is_none() {
        println!("no --pid: process figures are not read");
    }
    let before = Snapshot::take(&options);
    before.print("before", None);

    let started = Instant::now();
    let created = create_streams(&options).await;
    let created_secs = started.elapsed().as_secs_f64();
    let active = wait_until_active(&options, &created.ready).await;
    let ready_secs = started.elapsed().as_secs_f64();
    println!(
        "CreateStream: {} created, {} already there, in {created_secs:.2} s ({:.0} calls/s); \
         {active} ACTIVE after {ready_secs:.2} s",
        created.new,
        created.existing,
        (created.new + created.existing) as f64 / created_secs.max(1e-9),
    );
    if let Some(refused) = &created.refused {
        println!("stopped at a refusal: {refused}");
    }
    let after_create = Snapshot::take(&options);
    after_create.print("after CreateStream", Some((&before, created.new)));

    if created.ready.is_empty() {
        println!("no stream to write to");
        return;
    }
    let streams = Arc::new(created.ready);
    let started = Instant::now();
    let written = put_records(&options, Arc::clone(&streams)).await;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "PutRecords x{} of {} B over {} streams: {} records in {} calls over {secs:.2} s = \
         {:.0} records/s ({:.1} MiB/s of data); {} records failed",
        options.batch,
        options.record_bytes,
        streams.len(),
        written.records,
        written.calls,
        written.records as f64 / secs,
        (written.records * options.record_bytes as u64) as f64 / secs / (1024.0 * 1024.0),
        written.failed_records,
    );
    if let Some(refused) = &written.refused {
        println!("stopped at a refusal: {refused}");
    }
    Snapshot::take(&options).print("after PutRecords", None);
}
