//! Requests that no operation can read get what the Kinesis front end answers, byte for byte and
//! in its order (as kinesalite's suite recorded it against Kinesis, `test/connection.js`): the
//! missing body before the content type, the content type before the body's syntax, the syntax
//! and the operation before the signature; XML without a `Content-Type` where the encoding is not
//! one the front end reads; CBOR where the request had no body and was not JSON; the pre-2013
//! `application/json` envelope. Every answer carries `x-amzn-RequestId` and an `x-amz-id-2` of 64
//! to 80 bytes in base64, except a CORS preflight's.

use crate::common::{Answer, TestServer, WELL_FORMED_AUTHORIZATION, bounded, send_http1};
use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use shardlog_server::ServerConfig;

const JSON: &str = "application/x-amz-json-1.1";
const CBOR: &str = "application/x-amz-cbor-1.1";
const LIST_STREAMS: &str = "Kinesis_20131202.ListStreams";

/// The body a case must get back.
enum Body {
    /// This XML, with no `Content-Type`.
    Xml(&'static str),
    /// This JSON, as `application/x-amz-json-1.1`.
    Json(Value),
    /// This map, in CBOR, as `application/x-amz-cbor-1.1`.
    Cbor(Value),
    /// This JSON, as `application/json`.
    Envelope(Value),
    /// Nothing, with no `Content-Type` (a preflight).
    Empty,
}

struct Case {
    what: &'static str,
    method: Method,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static [u8],
    status: StatusCode,
    expected: Body,
}

/// `X-Amz-Date` and a well-formed `Authorization`.
fn signed() -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", WELL_FORMED_AUTHORIZATION),
    ]
}

fn with(
    mut headers: Vec<(&'static str, &'static str)>,
    more: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    headers.extend_from_slice(more);
    headers
}

fn access_denied() -> Body {
    Body::Xml(
        "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be \
         authorized</Message>\n</AccessDeniedException>\n",
    )
}

const INCOMPLETE_HEADER: &str = "Authorization header requires 'Credential' parameter. \
    Authorization header requires 'Signature' parameter. \
    Authorization header requires 'SignedHeaders' parameter. \
    Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
    Authorization=X";

const INCOMPLETE_QUERY: &str = "AWS query-string parameters must include 'X-Amz-Algorithm'. \
    AWS query-string parameters must include 'X-Amz-Credential'. \
    AWS query-string parameters must include 'X-Amz-Signature'. \
    AWS query-string parameters must include 'X-Amz-SignedHeaders'. \
    AWS query-string parameters must include 'X-Amz-Date'. \
    Re-examine the query-string parameters.";

fn cases() -> Vec<Case> {
    let post = |what, headers, body, status, expected| Case {
        what,
        method: Method::POST,
        path: "/",
        headers,
        body,
        status,
        expected,
    };
    vec![
        // Not POST.
        Case {
            what: "a signed GET",
            method: Method::GET,
            path: "/",
            headers: signed(),
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: access_denied(),
        },
        Case {
            what: "a signed DELETE",
            method: Method::DELETE,
            path: "/",
            headers: signed(),
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: access_denied(),
        },
        Case {
            what: "an unsigned GET",
            method: Method::GET,
            path: "/",
            headers: vec![],
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: Body::Xml(
                "<MissingAuthenticationTokenException>\n  <Message>Missing Authentication \
                 Token</Message>\n</MissingAuthenticationTokenException>\n",
            ),
        },
        Case {
            what: "a GET with an incomplete signature",
            method: Method::GET,
            path: "/",
            headers: vec![("authorization", "a")],
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: Body::Xml(
                "<IncompleteSignatureException>\n  <Message>Authorization header requires \
                 'Credential' parameter. Authorization header requires 'Signature' parameter. \
                 Authorization header requires 'SignedHeaders' parameter. Authorization header \
                 requires existence of either a 'X-Amz-Date' or a 'Date' header. \
                 Authorization=a</Message>\n</IncompleteSignatureException>\n",
            ),
        },
        Case {
            what: "a PUT with an empty query signature",
            method: Method::PUT,
            path: "/?X-Amz-Algorithm",
            headers: vec![],
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: Body::Xml(
                "<IncompleteSignatureException>\n  <Message>AWS query-string parameters must \
                 include 'X-Amz-Algorithm'. AWS query-string parameters must include \
                 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. \
                 AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS \
                 query-string parameters must include 'X-Amz-Date'. Re-examine the query-string \
                 parameters.</Message>\n</IncompleteSignatureException>\n",
            ),
        },
        Case {
            what: "a GET signed twice",
            method: Method::GET,
            path: "/?X-Amz-Algorithm",
            headers: vec![("authorization", "a")],
            body: b"",
            status: StatusCode::FORBIDDEN,
            expected: Body::Xml(
                "<InvalidSignatureException>\n  <Message>Found both 'X-Amz-Algorithm' as a \
                 query-string param and 'Authorization' as HTTP header.</Message>\n\
                 </InvalidSignatureException>\n",
            ),
        },
        // No body: CBOR unless the request declared JSON 1.1, before the signature.
        post(
            "no body, no content type, no target, no signature",
            vec![],
            b"",
            StatusCode::BAD_REQUEST,
            Body::Cbor(json!({"__type": "UnknownOperationException"})),
        ),
        post(
            "no body and no content type",
            with(signed(), &[("x-amz-target", LIST_STREAMS)]),
            b"",
            StatusCode::BAD_REQUEST,
            Body::Cbor(json!({"__type": "SerializationException"})),
        ),
        post(
            "no body and JSON 1.0",
            with(signed(), &[("content-type", "application/x-amz-json-1.0")]),
            b"",
            StatusCode::BAD_REQUEST,
            Body::Cbor(json!({"__type": "UnknownOperationException"})),
        ),
        post(
            "no body and application/json",
            with(
                signed(),
                &[
                    ("content-type", "application/json"),
                    ("x-amz-target", LIST_STREAMS),
                ],
            ),
            b"",
            StatusCode::BAD_REQUEST,
            Body::Cbor(json!({"__type": "SerializationException"})),
        ),
        post(
            "no body, JSON and no signature",
            vec![("content-type", JSON), ("x-amz-target", LIST_STREAMS)],
            b"",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "SerializationException"})),
        ),
        post(
            "no body, JSON and an unknown action",
            with(
                signed(),
                &[
                    ("content-type", JSON),
                    ("x-amz-target", "Kinesis_20131202.ListStream"),
                ],
            ),
            b"",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "UnknownOperationException"})),
        ),
        // A body of a type the front end does not read: XML.
        post(
            "a body and no content type or target",
            signed(),
            b"{}",
            StatusCode::FORBIDDEN,
            access_denied(),
        ),
        post(
            "a body, no content type, a target without an action",
            with(signed(), &[("x-amz-target", "Kinesis_20131202.")]),
            b"{}",
            StatusCode::FORBIDDEN,
            access_denied(),
        ),
        post(
            "a JSON 1.0 body",
            with(
                signed(),
                &[
                    ("content-type", "application/x-amz-json-1.0"),
                    ("x-amz-target", LIST_STREAMS),
                ],
            ),
            b"{}",
            StatusCode::NOT_FOUND,
            Body::Xml("<UnknownOperationException/>\n"),
        ),
        post(
            "an unsigned body of no known type",
            vec![
                ("content-type", "text/plain"),
                ("x-amz-target", LIST_STREAMS),
            ],
            b"{}",
            StatusCode::FORBIDDEN,
            Body::Xml(
                "<MissingAuthenticationTokenException>\n  <Message>Missing Authentication \
                 Token</Message>\n</MissingAuthenticationTokenException>\n",
            ),
        ),
        // application/json: parsed, then no further.
        post(
            "application/json",
            vec![
                ("content-type", "application/json"),
                ("x-amz-target", LIST_STREAMS),
            ],
            b"{}",
            StatusCode::NOT_FOUND,
            Body::Envelope(json!({
                "Output": {"__type": "com.amazon.coral.service#UnknownOperationException"},
                "Version": "1.0"})),
        ),
        post(
            "application/json with spaces and a body that is not JSON",
            vec![
                ("content-type", "     application/json     ;"),
                ("x-amz-target", LIST_STREAMS),
            ],
            b"hello",
            StatusCode::BAD_REQUEST,
            Body::Envelope(json!({
                "Output": {"__type": "com.amazon.coral.service#SerializationException"},
                "Version": "1.0"})),
        ),
        // The body's syntax and the operation come before the signature.
        post(
            "an unsigned body that is not JSON",
            vec![("content-type", JSON), ("x-amz-target", LIST_STREAMS)],
            b"hello",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "SerializationException"})),
        ),
        post(
            "an unsigned call of an unknown operation",
            vec![
                ("content-type", JSON),
                ("x-amz-target", "Whatever.Whatever"),
            ],
            b"{}",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "UnknownOperationException"})),
        ),
        post(
            "an unsigned CBOR call of no operation",
            vec![("content-type", CBOR)],
            b"\xa0",
            StatusCode::BAD_REQUEST,
            Body::Cbor(json!({"__type": "UnknownOperationException"})),
        ),
        // Then the signature's presence and form.
        post(
            "an unsigned call with its content type's parameters",
            vec![
                ("content-type", "   application/x-amz-json-1.1   ;whatever"),
                ("x-amz-target", LIST_STREAMS),
            ],
            b"{}",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "MissingAuthenticationTokenException",
                              "message": "Missing Authentication Token"})),
        ),
        post(
            "a call with an incomplete signature",
            vec![
                ("content-type", JSON),
                ("x-amz-target", LIST_STREAMS),
                ("authorization", "X"),
            ],
            b"{}",
            StatusCode::BAD_REQUEST,
            Body::Json(json!({"__type": "IncompleteSignatureException",
                              "message": INCOMPLETE_HEADER})),
        ),
        Case {
            what: "a call with an empty query signature",
            path: "/?X-Amz-Algorithm",
            ..post(
                "",
                vec![("content-type", JSON), ("x-amz-target", LIST_STREAMS)],
                b"{}",
                StatusCode::BAD_REQUEST,
                Body::Json(json!({"__type": "IncompleteSignatureException",
                                  "message": INCOMPLETE_QUERY})),
            )
        },
        post(
            "a signed call",
            with(
                signed(),
                &[("content-type", JSON), ("x-amz-target", LIST_STREAMS)],
            ),
            b"{}",
            StatusCode::OK,
            Body::Json(json!({"StreamNames": [], "StreamSummaries": [], "HasMoreStreams": false})),
        ),
        // Any OPTIONS from an allowed page is a preflight: what it asks for, for two days.
        Case {
            what: "an OPTIONS from a page",
            method: Method::OPTIONS,
            path: "/",
            headers: vec![("origin", "http://app.example")],
            body: b"",
            status: StatusCode::OK,
            expected: Body::Empty,
        },
        Case {
            what: "a preflight asking for a method and headers",
            method: Method::OPTIONS,
            path: "/",
            headers: vec![
                ("origin", "http://app.example"),
                ("access-control-request-headers", "a, b, c"),
                ("access-control-request-method", "d"),
            ],
            body: b"",
            status: StatusCode::OK,
            expected: Body::Empty,
        },
    ]
}

async fn send(addr: std::net::SocketAddr, case: &Case) -> Answer {
    let mut request = Request::builder()
        .method(case.method.clone())
        .uri(case.path)
        .header("host", addr.to_string());
    for (name, value) in &case.headers {
        request = request.header(*name, *value);
    }
    send_http1(
        addr,
        request
            .body(Full::new(Bytes::from_static(case.body)))
            .unwrap(),
    )
    .await
}

fn check(case: &Case, answer: &Answer) {
    let what = case.what;
    assert_eq!(answer.status, case.status, "{what}: {:?}", answer.body);
    let content_type = answer
        .headers
        .get("content-type")
        .map(|value| value.to_str().unwrap());
    match &case.expected {
        Body::Xml(xml) => {
            assert_eq!(content_type, None, "{what}");
            assert_eq!(answer.body, xml.as_bytes(), "{what}");
        }
        Body::Json(value) => {
            assert_eq!(content_type, Some(JSON), "{what}");
            assert_eq!(&answer.json(), value, "{what}");
        }
        Body::Cbor(value) => {
            assert_eq!(content_type, Some(CBOR), "{what}");
            let decoded: Value = ciborium::de::from_reader(&answer.body[..]).expect("CBOR body");
            assert_eq!(&decoded, value, "{what}");
        }
        Body::Envelope(value) => {
            assert_eq!(content_type, Some("application/json"), "{what}");
            assert_eq!(&answer.json(), value, "{what}");
        }
        Body::Empty => {
            assert_eq!(content_type, None, "{what}");
            assert!(answer.body.is_empty(), "{what}");
        }
    }
    assert_eq!(
        answer.headers["content-length"],
        answer.body.len().to_string(),
        "{what}"
    );
    assert!(answer.headers.contains_key("x-amzn-requestid"), "{what}");
    let extended_id = answer.headers.get("x-amz-id-2");
    if matches!(case.expected, Body::Empty) {
        assert_eq!(extended_id, None, "{what}: a preflight has no x-amz-id-2");
    } else {
        let extended_id = extended_id.unwrap_or_else(|| panic!("{what}: no x-amz-id-2"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(extended_id.as_bytes())
            .unwrap_or_else(|error| panic!("{what}: x-amz-id-2 is not base64: {error}"));
        assert!((64..=80).contains(&bytes.len()), "{what}: {}", bytes.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_front_end_answers_as_kinesis_before_any_operation_reads_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        cors_origins: vec!["*".to_owned()],
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    bounded(async {
        for case in cases() {
            let answer = send(addr, &case).await;
            check(&case, &answer);
        }

        // A preflight echoes what it asks for, and nothing it did not ask for.
        let asked = send(addr, &cases().pop().unwrap()).await;
        assert_eq!(asked.headers["access-control-allow-origin"], "*");
        assert_eq!(asked.headers["access-control-allow-headers"], "a, b, c");
        assert_eq!(asked.headers["access-control-allow-methods"], "d");
        assert_eq!(asked.headers["access-control-max-age"], "172800");
        let bare = cases()
            .into_iter()
            .find(|case| case.what == "an OPTIONS from a page")
            .unwrap();
        let bare = send(addr, &bare).await;
        assert!(!bare.headers.contains_key("access-control-allow-methods"));
        assert!(!bare.headers.contains_key("access-control-allow-headers"));
    })
    .await;
    server.stop().await;
}
