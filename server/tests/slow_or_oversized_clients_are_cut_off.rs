//! Clients cannot hold the server's resources without bound: a request head larger than the
//! limit is refused, a client that stops sending its head or its body is disconnected after the
//! read timeout, and connections beyond the limit wait for a free slot instead of being served
//! while every connection is busy or only just idle (how the longest-idle one gives way is
//! `idle_connections_are_closed_and_give_way_at_the_cap`).

mod common;

use std::time::Duration;

use common::{TestServer, bounded};
use shardlog_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_or_oversized_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        request_read_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        // A 100 KiB header.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: {}\r\n\r\n",
            "a".repeat(100 * 1024)
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");

        // Half a head, then silence: the connection is closed by the server.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer:?}"
        );

        // A whole head announcing a body that never comes: 408.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-amz-target: Kinesis_20131202.ListStreams\r\n\
                  content-type: application/x-amz-json-1.1\r\ncontent-length: 100\r\n\r\n{",
            )
            .await
            .unwrap();
        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    })
    .await;
    server.stop().await;

    // Three fresh connections fill a server that takes three; a fourth waits (none of the three
    // has been idle the second it takes to give way) until one of them closes. The read timeout
    // is long here, so nothing but the close can free a slot during the check.
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        connections_max: 3,
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let mut idle = Vec::new();
        for _ in 0..3 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut fourth = TcpStream::connect(addr).await.unwrap();
        fourth
            .write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut first_bytes = [0u8; 12];
        let early = tokio::time::timeout(
            Duration::from_millis(300),
            fourth.read_exact(&mut first_bytes),
        )
        .await;
        assert!(early.is_err(), "the fourth connection was served at once");
        idle.clear();
        fourth.read_exact(&mut first_bytes).await.unwrap();
        assert_eq!(&first_bytes, b"HTTP/1.1 200");
    })
    .await;
    server.stop().await;
}
