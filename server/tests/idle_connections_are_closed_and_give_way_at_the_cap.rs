//! Connections that do nothing cannot lock other clients out: a connection with no request in
//! progress and no byte moving is closed after the idle timeout (a fresh one that never sends,
//! an HTTP/1.1 keep-alive one, an HTTP/2 one), and when every connection slot is taken, the
//! longest-idle connection gives way to a new client.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, bounded};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use shardlog_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits until the server closes the connection; returns what it sent before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    // A reset is a close too.
    let _ = stream.read_to_end(&mut received).await;
    received
}

async fn health_over(stream: &mut TcpStream) {
    let addr = stream.peer_addr().unwrap();
    stream
        .write_all(format!("GET /health HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    // The whole answer, so that the connection is ready for the next request.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\nok\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        idle_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        // A fresh connection that never sends a byte.
        let mut silent = TcpStream::connect(addr).await.unwrap();
        assert!(until_closed(&mut silent).await.is_empty());

        // HTTP/1.1: one request, then nothing.
        let mut keep_alive = TcpStream::connect(addr).await.unwrap();
        health_over(&mut keep_alive).await;
        until_closed(&mut keep_alive).await;

        // HTTP/2: one request, then nothing; the client sees its connection end.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        let request = Request::get(format!("http://{addr}/health"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
        let _ = connection.await.unwrap();
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_the_longest_idle_connection_gives_way() {
    const CAP: usize = 8;
    const IDLE_SOCKETS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    // A timeout far longer than the test: only giving way can free a slot.
    let config = ServerConfig {
        connections_max: CAP,
        idle_timeout: Duration::from_secs(3600),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let mut idle = Vec::new();
        for _ in 0..IDLE_SOCKETS {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        // More idle sockets than slots, and still a new client is served.
        let mut client = TcpStream::connect(addr).await.unwrap();
        health_over(&mut client).await;
        // The idle sockets gave way oldest first: all but the newest CAP - 1 (the client holds
        // the last slot) were closed without an answer.
        for socket in &mut idle[..IDLE_SOCKETS + 1 - CAP] {
            assert!(until_closed(socket).await.is_empty());
        }
        // The client that got in is served again on the same connection.
        health_over(&mut client).await;
    })
    .await;
    server.stop().await;
}
