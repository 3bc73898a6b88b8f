//! Clients that stall their request bodies cannot take the server from the others: 64 POSTs
//! that declare a body and send one byte of it, whether they declare 100 bytes or the largest
//! body allowed, and one HTTP/2 connection with 64 such streams, do not delay another client's
//! calls. A stalled body holds only what it declared, one connection holds at most a few, and
//! when the bytes run out the longest-stalled holder gives way. Then, a body that trickles in
//! below the minimum rate is cut off with 408.
//!
//! The read timeout and the minimum rate are set far beyond the test here, so that nothing but
//! fair sharing can let the other client through.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, WELL_FORMED_AUTHORIZATION, bounded, call_json};
use http::{Request, StatusCode};
use hyper::body::{Body, Frame};
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog_server::ServerConfig;
use shardlog_server::config::BODY_BYTES_MAX;
use shardlog_server::request_body::BodyRate;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A body that sends its first byte and then nothing, ever.
struct OneByteThenSilence {
    sent: bool,
}

impl Body for OneByteThenSilence {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sent {
            return std::task::Poll::Pending;
        }
        self.sent = true;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{")))))
    }
}

/// An HTTP/1.1 PutRecord that declares `declared_bytes` of body and sends one.
async fn stalled_post(addr: std::net::SocketAddr, declared_bytes: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: Kinesis_20131202.PutRecord\r\n\
         content-type: application/x-amz-json-1.1\r\nx-amz-date: 20150830T123600Z\r\n\
         authorization: {WELL_FORMED_AUTHORIZATION}\r\ncontent-length: {declared_bytes}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn other_clients_calls_succeed(addr: std::net::SocketAddr) {
    let listed = call_json(addr, "ListStreams", "{}").await;
    assert_eq!(listed.status, StatusCode::OK);
    let put = call_json(
        addr,
        "PutRecord",
        r#"{"StreamName":"fair","PartitionKey":"k","Data":"aGVsbG8="}"#,
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_bodies_do_not_delay_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        request_read_timeout: Duration::from_secs(3600),
        body_rate: BodyRate {
            bytes_per_sec_min: 1,
            grace: Duration::from_secs(3600),
        },
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let created = call_json(
            addr,
            "CreateStream",
            r#"{"StreamName":"fair","ShardCount":1}"#,
        );
        assert_eq!(created.await.status, StatusCode::OK);

        // The issue's attack: 64 bodies declaring 100 bytes.
        let mut stalled = Vec::new();
        for _ in 0..64 {
            stalled.push(stalled_post(addr, 100).await);
        }
        other_clients_calls_succeed(addr).await;

        // The worst case: 64 bodies declaring the largest body, as many as the body budget
        // holds. The other client's calls make the longest-stalled ones give way.
        for _ in 0..64 {
            stalled.push(stalled_post(addr, BODY_BYTES_MAX).await);
        }
        other_clients_calls_succeed(addr).await;

        // One HTTP/2 connection with 64 stalled streams.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let mut responses = Vec::new();
        for _ in 0..64 {
            let request = Request::post(format!("http://{addr}/"))
                .header("x-amz-target", "Kinesis_20131202.PutRecord")
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-date", "20150830T123600Z")
                .header("authorization", WELL_FORMED_AUTHORIZATION)
                .header("content-length", BODY_BYTES_MAX.to_string())
                .body(OneByteThenSilence { sent: false })
                .unwrap();
            let mut sender = sender.clone();
            responses.push(tokio::spawn(
                async move { sender.send_request(request).await },
            ));
        }
        other_clients_calls_succeed(addr).await;
        drop(stalled);
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_below_the_minimum_rate_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        request_read_timeout: Duration::from_secs(3600),
        body_rate: BodyRate {
            bytes_per_sec_min: 1024,
            grace: Duration::from_millis(500),
        },
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        // A byte every 100 ms: never silent for long, but far below 1 KiB/s.
        let mut trickle = stalled_post(addr, 100).await;
        let mut answer = [0u8; 12];
        let read = loop {
            tokio::select! {
                read = trickle.read_exact(&mut answer) => break read,
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    if trickle.write_all(b" ").await.is_err() {
                        break trickle.read_exact(&mut answer).await;
                    }
                }
            }
        };
        read.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 408");
    })
    .await;
    server.stop().await;
}
