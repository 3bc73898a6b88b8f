//! Web pages cannot reach the server from elsewhere, and one flag lets in what a setup needs:
//! a request addressed to a host that is not loopback nor the server's own address (DNS
//! rebinding) is refused with a message naming `--allow-host`, over HTTP/1.1 and HTTP/2; a
//! request from a page of another origin is refused, and its preflight answered without CORS
//! headers, naming `--cors-origin`; with those flags, the named host and origin are served (the
//! origin with CORS headers). With `--credentials`, `/metrics` needs a valid signature.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::common::{
    Answer, TestServer, WELL_FORMED_AUTHORIZATION, bounded, send_http1, send_http2,
};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

/// A ListStreams addressed to `host`, from a page at `origin` if given.
fn list_streams(host: &str, origin: Option<&str>) -> Request<Full<Bytes>> {
    let mut request = Request::post("/")
        .header("host", host)
        .header("x-amz-target", "Kinesis_20131202.ListStreams")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20150830T123600Z")
        .header("authorization", WELL_FORMED_AUTHORIZATION);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.body(Full::new(Bytes::from_static(b"{}"))).unwrap()
}

fn preflight(host: &str, origin: &str) -> Request<Full<Bytes>> {
    Request::options("/")
        .header("host", host)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-amz-date,x-amz-target",
        )
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn has_cors_headers(answer: &Answer) -> bool {
    answer
        .headers
        .keys()
        .any(|name| name.as_str().starts_with("access-control-"))
}

fn assert_refused_naming(answer: &Answer, flag: &str) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!has_cors_headers(answer), "{:?}", answer.headers);
    let body = String::from_utf8_lossy(&answer.body);
    assert!(body.contains(flag), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_only_loopback_hosts_and_the_own_origin_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), ServerConfig::default()).await;
    let addr = server.addr;
    let port = addr.port();
    bounded(async {
        for host in [
            addr.to_string(),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ] {
            let answer = send_http1(addr, list_streams(&host, None)).await;
            assert_eq!(answer.status, StatusCode::OK, "{host}");
        }

        // DNS rebinding: a name that resolves to loopback is still not the server's name. An
        // API call gets a Kinesis error, anything else a line of text.
        let rebound = format!("rebound.example:{port}");
        let answer = send_http1(addr, list_streams(&rebound, None)).await;
        assert_refused_naming(&answer, "--allow-host rebound.example");
        assert_eq!(answer.json()["__type"], "AccessDeniedException");
        let health = Request::get("/health")
            .header("host", &rebound)
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert_refused_naming(&send_http1(addr, health).await, "--allow-host");
        let over_http2 = Request::get(format!("http://{rebound}/health"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answers = send_http2(addr, vec![over_http2]).await;
        assert_refused_naming(&answers[0], "--allow-host rebound.example");

        // A page of another origin: no CORS, and its call refused before it runs.
        let own = format!("http://{addr}");
        let answer = send_http1(addr, list_streams(&addr.to_string(), Some(&own))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(!has_cors_headers(&answer));
        let other = "http://attacker.example:8000";
        let answer = send_http1(addr, preflight(&addr.to_string(), other)).await;
        assert_refused_naming(&answer, "--cors-origin http://attacker.example:8000");
        let answer = send_http1(addr, list_streams(&addr.to_string(), Some(other))).await;
        assert_refused_naming(&answer, "--cors-origin http://attacker.example:8000");
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_and_origins_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let app = "http://app.example:3000";
    let config = ServerConfig {
        allowed_hosts: vec!["shardlog.internal".to_owned()],
        cors_origins: vec![app.to_owned()],
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let named = format!("shardlog.internal:{}", addr.port());
        let answer = send_http1(addr, list_streams(&named, None)).await;
        assert_eq!(answer.status, StatusCode::OK);

        let answer = send_http1(addr, preflight(&addr.to_string(), app)).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.headers["access-control-allow-origin"], app);
        assert_eq!(answer.headers["access-control-allow-methods"], "POST");
        assert_eq!(
            answer.headers["access-control-allow-headers"],
            "authorization,content-type,x-amz-date,x-amz-target"
        );
        let answer = send_http1(addr, list_streams(&addr.to_string(), Some(app))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.headers["access-control-allow-origin"], app);
        assert!(
            answer.headers["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .contains("x-amzn-RequestId")
        );

        let elsewhere = "http://elsewhere.example";
        let answer = send_http1(addr, list_streams(&addr.to_string(), Some(elsewhere))).await;
        assert_refused_naming(&answer, "--cors-origin http://elsewhere.example");
    })
    .await;
    server.stop().await;
}

const KEY: &str = "AKIDSHARDLOGTEST";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// `GET /metrics` over HTTP/2, signed with `secret` by `aws-sigv4`.
fn signed_metrics(addr: SocketAddr, secret: &str) -> Request<Full<Bytes>> {
    let mut request = Request::get(format!("http://{addr}/metrics"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let identity = aws_credential_types::Credentials::new(KEY, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("kinesis")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "GET",
        request.uri().to_string(),
        std::iter::empty(),
        SignableBody::Bytes(b""),
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_metrics_need_a_valid_signature() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([(KEY.to_owned(), SECRET.to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        let unsigned = Request::get("/metrics")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let answer = send_http1(addr, unsigned).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.json()["__type"],
            "MissingAuthenticationTokenException"
        );
        let answers = send_http2(
            addr,
            vec![
                signed_metrics(addr, "not-the-secret"),
                signed_metrics(addr, SECRET),
            ],
        )
        .await;
        assert_eq!(answers[0].status, StatusCode::BAD_REQUEST);
        assert_eq!(answers[0].json()["__type"], "InvalidSignatureException");
        assert_eq!(answers[1].status, StatusCode::OK);
        let text = String::from_utf8_lossy(&answers[1].body);
        assert!(text.contains("shardlog_server_connections"), "{text}");
        // The console's page itself stays open: it asks for the credentials.
        let page = Request::get("/console")
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert_eq!(send_http1(addr, page).await.status, StatusCode::OK);
    })
    .await;
    server.stop().await;
}
