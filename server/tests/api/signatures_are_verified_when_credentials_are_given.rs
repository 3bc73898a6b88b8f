//! With `--credentials`, SigV4 signatures are verified for real: requests signed by an independent
//! signer (the AWS SDK, and the `aws-sigv4` crate) pass; a wrong secret, an unknown key, a
//! tampered body, a stale date or no signature at all are refused with the AWS exception, and a
//! refused request changes nothing.

use std::time::{Duration, SystemTime};

use crate::common::{Answer, Signing, TestServer, bounded, sdk_client, send_http2};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use serde_json::json;
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

const KEY: &str = "AKIDSHARDLOGTEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// A CreateStream signed with `secret` at `time` over `signed`, then given `body`.
fn signed_request(
    addr: std::net::SocketAddr,
    secret: &str,
    time: SystemTime,
    signed: &str,
    body: &str,
) -> Request<Full<Bytes>> {
    let signing = Signing {
        time,
        ..Signing::kinesis(KEY, secret)
    };
    signing.request(addr, "CreateStream", signed, body)
}

/// A presigned CreateStream (the signature in the query string), valid for 5 minutes.
fn presigned_request(addr: std::net::SocketAddr, body: &str) -> Request<Full<Bytes>> {
    let signing = Signing {
        presigned_for: Some(Duration::from_secs(300)),
        ..Signing::kinesis(KEY, SECRET)
    };
    signing.request(addr, "CreateStream", body, body)
}

fn assert_refused(answer: &Answer, kind: &str, message: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json(), json!({"__type": kind, "message": message}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified_when_credentials_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([(KEY.to_owned(), SECRET.to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        // The SDK, with the right and the wrong secret, and an unknown key.
        let good = sdk_client(&server.endpoint(), KEY, SECRET);
        good.create_stream()
            .stream_name("signed")
            .shard_count(1)
            .send()
            .await
            .expect("a correctly signed call passes");
        let wrong_secret = sdk_client(&server.endpoint(), KEY, "not-the-secret");
        let error = wrong_secret
            .create_stream()
            .stream_name("forged")
            .shard_count(1)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(error.meta().code(), Some("InvalidSignatureException"));
        let unknown = sdk_client(&server.endpoint(), "AKIDUNKNOWN", SECRET);
        let error = unknown
            .list_streams()
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(error.meta().code(), Some("UnrecognizedClientException"));
        assert_eq!(
            error.meta().message(),
            Some("The security token included in the request is invalid.")
        );

        // An independent signer, over HTTP/2 (where the host is the :authority).
        let body = r#"{"StreamName":"signed-h2","ShardCount":1}"#;
        let now = SystemTime::now();
        let stale = now - Duration::from_secs(3600);
        let answers = send_http2(
            addr,
            vec![
                signed_request(addr, SECRET, now, body, body),
                signed_request(
                    addr,
                    "wrong",
                    now,
                    r#"{"StreamName":"x","ShardCount":1}"#,
                    r#"{"StreamName":"x","ShardCount":1}"#,
                ),
                signed_request(
                    addr,
                    SECRET,
                    now,
                    r#"{"StreamName":"y","ShardCount":1}"#,
                    r#"{"StreamName":"z","ShardCount":1}"#,
                ),
                signed_request(
                    addr,
                    SECRET,
                    stale,
                    r#"{"StreamName":"w","ShardCount":1}"#,
                    r#"{"StreamName":"w","ShardCount":1}"#,
                ),
                presigned_request(addr, r#"{"StreamName":"presigned","ShardCount":1}"#),
                Request::post(format!("http://{addr}/"))
                    .version(http::Version::HTTP_2)
                    .header("x-amz-target", "Kinesis_20131202.CreateStream")
                    .header("content-type", "application/x-amz-json-1.1")
                    .body(Full::new(Bytes::from_static(
                        br#"{"StreamName":"v","ShardCount":1}"#,
                    )))
                    .unwrap(),
            ],
        )
        .await;
        assert_eq!(answers[0].status, StatusCode::OK, "{:?}", answers[0].body);
        let mismatch = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";
        assert_refused(&answers[1], "InvalidSignatureException", mismatch);
        assert_refused(&answers[2], "InvalidSignatureException", mismatch);
        assert_eq!(answers[3].json()["__type"], "InvalidSignatureException");
        assert!(
            answers[3].json()["message"]
                .as_str()
                .unwrap()
                .starts_with("Signature expired: "),
            "{:?}",
            answers[3].body
        );
        assert_eq!(answers[4].status, StatusCode::OK, "{:?}", answers[4].body);
        assert_refused(
            &answers[5],
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        );

        // Only the correctly signed creations happened.
        let names = good.list_streams().send().await.unwrap().stream_names;
        assert_eq!(names, vec!["presigned", "signed", "signed-h2"]);
    })
    .await;
    server.stop().await;
}
