//! A client may send a request with a chunked body and then close its sending side (a shell
//! pipe into `nc`, a client that shuts down writes when done): the end of the body is in the
//! framing, so the request is complete and gets its answer.

use crate::common::{TestServer, WELL_FORMED_AUTHORIZATION, bounded};
use shardlog_server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_request_then_a_half_close_still_gets_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    bounded(async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: Kinesis_20131202.ListStreams\r\n\
             content-type: application/x-amz-json-1.1\r\nx-amz-date: 20150830T123600Z\r\n\
             authorization: {WELL_FORMED_AUTHORIZATION}\r\ntransfer-encoding: chunked\r\n\r\n\
             2\r\n{{}}\r\n0\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer:?}");
        assert!(answer.contains("\"StreamNames\":[]"), "{answer:?}");
    })
    .await;
    server.stop().await;
}
