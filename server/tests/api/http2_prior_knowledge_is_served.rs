//! Cleartext HTTP/2 with prior knowledge (how the JavaScript SDK v3 and the KCL connect) carries
//! several calls over one connection, as HTTP/1.1 does.

use crate::common::{TestServer, WELL_FORMED_AUTHORIZATION, send_http2};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use shardlog_server::ServerConfig;

fn call(addr: std::net::SocketAddr, operation: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post(format!("http://{addr}/"))
        .version(http::Version::HTTP_2)
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", WELL_FORMED_AUTHORIZATION)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    let answers = send_http2(
        addr,
        vec![
            call(
                addr,
                "CreateStream",
                r#"{"StreamName":"h2","ShardCount":1}"#,
            ),
            call(
                addr,
                "PutRecord",
                r#"{"StreamName":"h2","PartitionKey":"k","Data":"aGVsbG8="}"#,
            ),
            call(addr, "ListStreams", "{}"),
            call(addr, "Nope", "{}"),
        ],
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::BAD_REQUEST
        ]
    );
    assert_eq!(answers[2].json()["StreamNames"], serde_json::json!(["h2"]));
    assert_eq!(
        answers[3].json(),
        serde_json::json!({"__type": "UnknownOperationException"})
    );
    assert!(answers[1].json()["SequenceNumber"].is_string());
    server.stop().await;
}
