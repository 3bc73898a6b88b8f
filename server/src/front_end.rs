//! The Kinesis front end: what a request is answered before any operation reads its fields.
//!
//! Kinesis answers requests it cannot tie to an operation from a layer in front of the service,
//! with checks in a fixed order. kinesalite's suite recorded each answer against production
//! (`test/connection.js`), so the order and the bytes below are facts, not choices:
//! 1. Not a POST: an XML answer, as in 3.
//! 2. A POST without a body: `SerializationException` when `X-Amz-Target` names an operation,
//!    `UnknownOperationException` otherwise, in JSON when the `Content-Type` is exactly
//!    `application/x-amz-json-1.1` and in CBOR otherwise (none, an unknown one, even
//!    `application/json`): CBOR is the front end's own encoding.
//! 3. A body whose `Content-Type` is none of `application/x-amz-json-1.1`,
//!    `application/x-amz-cbor-1.1` and `application/json`: an XML body and no `Content-Type`.
//!    First the signature's presence and form (`InvalidSignatureException` when both the query
//!    string and the `Authorization` header sign, `IncompleteSignatureException` listing what
//!    the signature lacks, `MissingAuthenticationTokenException` when nothing signs), HTTP 403;
//!    then `<UnknownOperationException/>` (404) when the target names a service and an action,
//!    and `AccessDeniedException` (403) when it does not.
//! 4. A body that does not parse, or is not a map: `SerializationException`.
//! 5. `application/json`, the service's pre-2013 envelope (`{"Output": {...}, "Version":
//!    "1.0"}`): its body is parsed, then it goes no further (`UnknownOperationException`, 404).
//! 6. A target naming no operation: `UnknownOperationException`, with no message.
//!
//! Then come the signature itself ([`crate::auth`]) and the operation's own checks of its fields.
//! Steps 2 to 6 answer before the signature is looked at, so an unsigned request learns no more
//! than that its body is malformed or its operation unknown.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::error::ApiError;
use crate::ops::Operation;
use crate::protocol::{Node, Protocol, TARGET_PREFIX};

/// A request the front end lets through to the signature check and its operation.
pub struct Call<'b> {
    /// The body's encoding, which the answer uses too.
    pub protocol: Protocol,
    /// The operation named by `X-Amz-Target`.
    pub operation: Operation,
    /// The parsed body, a map.
    pub tree: Node<'b>,
}

/// What the front end answers a request it stops.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A Kinesis error in the request's encoding (or the front end's CBOR).
    Api(Protocol, ApiError),
    /// An XML error body without a `Content-Type`.
    Xml {
        /// 403, or 404 for an operation the front end does not know.
        status: StatusCode,
        /// The exception name, which is the XML element.
        kind: &'static str,
        /// The message, for the 403 answers.
        message: Option<String>,
    },
    /// An `application/json` request: the pre-2013 envelope.
    Envelope {
        /// 400 for a body that does not parse, 404 otherwise.
        status: StatusCode,
        /// The exception name, without its `com.amazon.coral.service#` namespace.
        kind: &'static str,
    },
}

/// The encodings a request body may declare.
enum BodyType {
    Api(Protocol),
    /// `application/json`.
    Envelope,
}

/// Takes a POST request through steps 2 to 6.
pub fn admit<'b>(parts: &Parts, body: &'b [u8]) -> Result<Call<'b>, Refusal> {
    let media_type = media_type(&parts.headers);
    let target = target(&parts.headers);
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name);
    if body.is_empty() {
        let protocol = match media_type {
            "application/x-amz-json-1.1" => Protocol::Json,
            _ => Protocol::Cbor,
        };
        let kind = match operation {
            Some(_) => "SerializationException",
            None => "UnknownOperationException",
        };
        return Err(Refusal::Api(protocol, ApiError::bare(kind)));
    }
    let body_type = match media_type {
        "application/json" => BodyType::Envelope,
        other => match Protocol::from_content_type(other) {
            Some(protocol) => BodyType::Api(protocol),
            None => return Err(refuse_undeclared(parts)),
        },
    };
    let protocol = match body_type {
        BodyType::Api(protocol) => protocol,
        BodyType::Envelope => Protocol::Json,
    };
    let tree = match (protocol.decode(body), body_type) {
        (Ok(tree), BodyType::Api(_)) => tree,
        (Err(error), BodyType::Api(protocol)) => return Err(Refusal::Api(protocol, error)),
        (Err(_), BodyType::Envelope) => {
            return Err(Refusal::Envelope {
                status: StatusCode::BAD_REQUEST,
                kind: "SerializationException",
            });
        }
        (Ok(_), BodyType::Envelope) => {
            return Err(Refusal::Envelope {
                status: StatusCode::NOT_FOUND,
                kind: "UnknownOperationException",
            });
        }
    };
    let operation = operation.ok_or(Refusal::Api(
        protocol,
        ApiError::bare("UnknownOperationException"),
    ))?;
    Ok(Call {
        protocol,
        operation,
        tree,
    })
}

/// Step 1, and step 3: a request that is not a POST, or whose body's type the front end does
/// not read.
pub fn refuse_undeclared(parts: &Parts) -> Refusal {
    if let Err(error) = crate::auth::require_signature(parts) {
        return Refusal::Xml {
            status: StatusCode::FORBIDDEN,
            kind: error.kind,
            message: error.message,
        };
    }
    let target = target(&parts.headers);
    let (service, action) = target.split_once('.').unwrap_or((target, ""));
    if !service.is_empty() && !action.is_empty() {
        return Refusal::Xml {
            status: StatusCode::NOT_FOUND,
            kind: "UnknownOperationException",
            message: None,
        };
    }
    Refusal::Xml {
        status: StatusCode::FORBIDDEN,
        kind: "AccessDeniedException",
        message: Some("Unable to determine service/operation name to be authorized".to_owned()),
    }
}

impl Refusal {
    /// The exception name, for the request log.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::Api(_, error) => error.kind,
            Refusal::Xml { kind, .. } | Refusal::Envelope { kind, .. } => kind,
        }
    }

    /// The HTTP answer.
    pub fn into_reply(self) -> Response<Bytes> {
        match self {
            Refusal::Api(protocol, error) => error_reply(protocol, &error),
            Refusal::Xml {
                status,
                kind,
                message,
            } => {
                let body = match message {
                    Some(message) => format!(
                        "<{kind}>\n  <Message>{}</Message>\n</{kind}>\n",
                        xml_escaped(&message)
                    ),
                    None => format!("<{kind}/>\n"),
                };
                reply(status, None, Bytes::from(body))
            }
            Refusal::Envelope { status, kind } => {
                let body = serde_json::json!({
                    "Output": {"__type": format!("com.amazon.coral.service#{kind}")},
                    "Version": "1.0",
                });
                reply(
                    status,
                    Some("application/json"),
                    Bytes::from(body.to_string()),
                )
            }
        }
    }
}

/// A Kinesis error in the request's encoding, with its name in `x-amzn-ErrorType` as Kinesis
/// sends it.
pub fn error_reply(protocol: Protocol, error: &ApiError) -> Response<Bytes> {
    let mut response = reply(
        error.status,
        Some(protocol.content_type()),
        Bytes::from(protocol.error_body(error)),
    );
    if let Ok(value) = HeaderValue::from_str(error.kind) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

fn reply(status: StatusCode, content_type: Option<&'static str>, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// The `Content-Type` without its parameters or surrounding spaces (`  application/json ;` is
/// `application/json`), or empty.
fn media_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .unwrap_or("")
        .trim()
}

/// The `X-Amz-Target` header, or empty.
fn target(headers: &HeaderMap) -> &str {
    headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// Text made safe inside an XML element (a message may quote the request's own headers).
fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
