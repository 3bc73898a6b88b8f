//! Bodies built to amplify memory when decoded, a 16 MiB `{"x":[0,0,…]}` in JSON and in CBOR,
//! are refused with Kinesis' bare SerializationException, 16 at once, while the process's peak
//! resident memory grows by a bounded multiple of the bodies in flight (decoded into a generic
//! tree they took 290 MB and 560 MB each). The bodies are unsigned: Kinesis checks a body's syntax
//! before its signature, so the bound must hold for clients that sign nothing, on a server with
//! `--credentials` too.

mod common;

use std::net::SocketAddr;

use bytes::Bytes;
use common::{Answer, TestServer, bounded, send_http1};
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;
use shardlog_server::config::BODY_BYTES_MAX;

/// Hostile bodies sent at once: 8 JSON and 8 CBOR.
const BODIES_AT_ONCE: usize = 16;
/// How far the peak resident memory may rise, as a multiple of the bytes of the bodies in flight.
/// Each body is held once as read, may be copied once into one buffer, and may be decoded into
/// at most its own size plus 1 MiB before it is refused: about 3 times the body, and the test's
/// own two bodies besides. The tree the bodies used to be decoded into took 18 to 35 times.
const PEAK_GROWTH_PER_BODY_BYTE_MAX: u64 = 5;

/// `{"x":[0,0,…]}`, `bytes` long, in JSON.
fn hostile_json(bytes: usize) -> Bytes {
    let mut body = b"{\"x\":[0".to_vec();
    while body.len() + 2 < bytes - 2 {
        body.extend_from_slice(b",0");
    }
    body.extend_from_slice(b"]}");
    Bytes::from(body)
}

/// `{"x":[0,0,…]}`, `bytes` long, in CBOR (an indefinite-length list).
fn hostile_cbor(bytes: usize) -> Bytes {
    let mut body = vec![0xa1, 0x61, b'x', 0x9f];
    body.resize(bytes - 1, 0x00);
    body.push(0xff);
    Bytes::from(body)
}

/// An unsigned ListStreams call carrying `body`.
async fn list_streams(addr: SocketAddr, content_type: &str, body: Bytes) -> Answer {
    let request = Request::post("/")
        .header("host", addr.to_string())
        .header("x-amz-target", "Kinesis_20131202.ListStreams")
        .header("content-type", content_type)
        .body(Full::new(body))
        .unwrap();
    send_http1(addr, request).await
}

/// A line of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("a {field} line"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|number| number.parse().ok())
        .expect("a size in kB");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_are_refused_before_they_amplify_memory() {
    let json = hostile_json(BODY_BYTES_MAX);
    let cbor = hostile_cbor(BODY_BYTES_MAX);

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    // Resets the peak resident set size to the current one (Linux 4.0 and later), so VmHWM
    // measures this test's peak.
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS");
    let resident_before = status_bytes("VmRSS:");
    bounded(async {
        let calls: Vec<_> = (0..BODIES_AT_ONCE)
            .map(|index| {
                let (content_type, body) = if index % 2 == 0 {
                    ("application/x-amz-json-1.1", json.clone())
                } else {
                    ("application/x-amz-cbor-1.1", cbor.clone())
                };
                tokio::spawn(list_streams(addr, content_type, body))
            })
            .collect();
        for (index, call) in calls.into_iter().enumerate() {
            let answer = call.await.expect("the call's task");
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "body {index}");
            let kind = if index % 2 == 0 {
                answer.json()["__type"].clone()
            } else {
                let value: ciborium::Value = ciborium::de::from_reader(&answer.body[..]).unwrap();
                json!(value.as_map().unwrap()[0].1.as_text().unwrap())
            };
            assert_eq!(kind, "SerializationException", "body {index}");
        }
    })
    .await;
    let peak_growth = status_bytes("VmHWM:").saturating_sub(resident_before);
    let in_flight_bytes = (BODIES_AT_ONCE * BODY_BYTES_MAX) as u64;
    eprintln!(
        "peak RSS grew by {} MiB for {} MiB of hostile bodies",
        peak_growth >> 20,
        in_flight_bytes >> 20
    );
    assert!(
        peak_growth <= PEAK_GROWTH_PER_BODY_BYTE_MAX * in_flight_bytes,
        "peak RSS grew by {} MiB for {} MiB of bodies",
        peak_growth >> 20,
        in_flight_bytes >> 20
    );
    let health = Request::get("/health")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send_http1(addr, health).await.status, StatusCode::OK);
    server.stop().await;

    // With credentials, as without: the syntax first, then the signature.
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([("AKIDTEST".to_owned(), "secret".to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let content_type = "application/x-amz-json-1.1";
        let hostile = list_streams(addr, content_type, json.clone()).await;
        assert_eq!(hostile.status, StatusCode::BAD_REQUEST);
        assert_eq!(hostile.json(), json!({"__type": "SerializationException"}));
        let empty = list_streams(addr, content_type, Bytes::from_static(b"{}")).await;
        assert_eq!(empty.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            empty.json(),
            json!({"__type": "MissingAuthenticationTokenException",
                   "message": "Missing Authentication Token"})
        );
    })
    .await;
    server.stop().await;
}
