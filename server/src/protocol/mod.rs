//! The Kinesis wire protocol: `POST` with `X-Amz-Target: Kinesis_20131202.<Operation>` and a body in
//! `application/x-amz-json-1.1` or `application/x-amz-cbor-1.1`.
//!
//! The two encodings differ only in how blobs and timestamps look: JSON carries blobs as base64
//! strings and timestamps as epoch seconds with a millisecond fraction; CBOR carries blobs as byte
//! strings and timestamps as tag 1 around an integer of epoch *milliseconds* (what the Java SDKs
//! send, though RFC 8949 says seconds). Output types serialize through [`Blob`] and [`Timestamp`],
//! which pick the form from the serializer (`is_human_readable` is true for JSON only).

pub mod event_stream;
pub mod fields;
pub mod node;
pub mod shard_iterator;

use serde::{Serialize, Serializer};

pub use self::fields::Fields;
pub use self::node::Node;
use crate::error::ApiError;

/// The service prefix of `X-Amz-Target`.
pub const TARGET_PREFIX: &str = "Kinesis_20131202.";

/// The body encoding of a request and its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1`.
    Json,
    /// `application/x-amz-cbor-1.1`.
    Cbor,
}

impl Protocol {
    /// The protocol named by a `Content-Type` header (parameters after `;` ignored). Kinesis
    /// speaks JSON 1.1 only (the model's `jsonVersion`): `application/x-amz-json-1.0` names none.
    pub fn from_content_type(content_type: &str) -> Option<Protocol> {
        match content_type.split(';').next().unwrap_or("").trim() {
            "application/x-amz-json-1.1" => Some(Protocol::Json),
            "application/x-amz-cbor-1.1" => Some(Protocol::Cbor),
            _ => None,
        }
    }

    /// The `Content-Type` of responses.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json => "application/x-amz-json-1.1",
            Protocol::Cbor => "application/x-amz-cbor-1.1",
        }
    }

    /// Decodes a request body into a tree, within a memory budget of about the body's size
    /// (see [`node`]). An unparseable body, one that is not a map, or one that would take more
    /// memory than allowed is a `SerializationException` without a message, as Kinesis answers.
    pub fn decode<'a>(self, body: &'a [u8]) -> Result<Node<'a>, ApiError> {
        let mut budget = node::Budget::for_body(body.len());
        let node = match self {
            Protocol::Json => node::from_json(body, &mut budget),
            Protocol::Cbor => node::from_cbor(body, &mut budget),
        };
        match node {
            Ok(node @ Node::Map(_)) => Ok(node),
            _ => Err(ApiError::bare("SerializationException")),
        }
    }

    /// Encodes a response body.
    pub fn encode<T: Serialize>(self, value: &T) -> Vec<u8> {
        self.encode_with_capacity(value, 128)
    }

    /// Encodes a response body into a buffer of about the expected size.
    pub fn encode_with_capacity<T: Serialize>(self, value: &T, capacity: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(capacity);
        match self {
            Protocol::Json => {
                // Writing to a Vec cannot fail, and every output type is serializable.
                let _ = serde_json::to_writer(&mut out, value);
                out
            }
            Protocol::Cbor => {
                // Writing to a Vec cannot fail, and every output type is serializable.
                let _ = ciborium::ser::into_writer(value, &mut out);
                out
            }
        }
    }

    /// A request timestamp in Unix ms: JSON numbers are seconds, CBOR numbers milliseconds.
    pub fn timestamp_ms(self, number: f64) -> Option<u64> {
        let ms = match self {
            Protocol::Json => number * 1000.0,
            Protocol::Cbor => number,
        };
        (0.0..1e17).contains(&ms).then(|| ms.round() as u64)
    }

    /// The body of an error response.
    pub fn error_body(self, error: &ApiError) -> Vec<u8> {
        let message_key = if error.capitalized_message_key {
            "Message"
        } else {
            "message"
        };
        match self {
            Protocol::Json => {
                let mut body = serde_json::Map::new();
                body.insert("__type".to_owned(), error.kind.into());
                if let Some(message) = &error.message {
                    body.insert(message_key.to_owned(), message.as_str().into());
                }
                serde_json::to_vec(&body).unwrap_or_default()
            }
            Protocol::Cbor => {
                let mut entries = vec![(
                    ciborium::Value::Text("__type".to_owned()),
                    ciborium::Value::Text(error.kind.to_owned()),
                )];
                if let Some(message) = &error.message {
                    entries.push((
                        ciborium::Value::Text(message_key.to_owned()),
                        ciborium::Value::Text(message.clone()),
                    ));
                }
                self.encode(&ciborium::Value::Map(entries))
            }
        }
    }
}

/// A blob in a response: base64 text in JSON, a byte string in CBOR.
pub struct Blob<'a>(pub &'a [u8]);

impl Serialize for Blob<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            // Written straight into the output: no intermediate String per record.
            serializer.collect_str(&base64::display::Base64Display::new(
                self.0,
                &base64::engine::general_purpose::STANDARD,
            ))
        } else {
            serializer.serialize_bytes(self.0)
        }
    }
}

/// A value written through its `Display` (sequence numbers, hash keys) without an intermediate
/// String.
pub struct Text<T>(pub T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A timestamp in a response, held in Unix ms: epoch seconds with a millisecond fraction in JSON
/// (never in exponent form), tag 1 around integer milliseconds in CBOR.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub u64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            // serde_json prints floats in the shortest form that reads back exactly, and uses
            // exponent notation only below 1e-5 or from 1e16 on: epoch seconds (about 1.8e9)
            // always print as plain decimals such as 1764100000.123.
            serializer.serialize_f64(self.0 as f64 / 1000.0)
        } else {
            ciborium::tag::Required::<u64, 1>(self.0).serialize(serializer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_timestamps_are_seconds_with_milliseconds_never_exponents() {
        for (ms, text) in [
            (1_764_100_000_123, "1764100000.123"),
            (1_764_100_000_100, "1764100000.1"),
            (1_764_100_000_000, "1764100000.0"),
            (253_402_300_799_999, "253402300799.999"),
        ] {
            assert_eq!(serde_json::to_string(&Timestamp(ms)).unwrap(), text);
        }
    }

    #[test]
    fn blobs_are_base64_in_json_and_bytes_in_cbor() {
        assert_eq!(serde_json::to_string(&Blob(b"hi")).unwrap(), "\"aGk=\"");
        let cbor = Protocol::Cbor.encode(&Blob(b"hi"));
        assert_eq!(cbor, [0x42, b'h', b'i']);
        let cbor = Protocol::Cbor.encode(&Timestamp(1_000));
        assert_eq!(cbor, [0xc1, 0x19, 0x03, 0xe8]);
    }
}
