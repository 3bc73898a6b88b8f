//! The errors the server answers with, in the shape every AWS SDK parses:
//! `{"__type": "<Exception>", "message": "..."}` with HTTP 400, or 500 for `InternalFailure`.
//!
//! Library errors ([`StreamError`]) give the exception name, and their `Display` is AWS's message,
//! which the server sends as it is, never re-worded; this type adds the front-end errors Kinesis
//! produces before an operation runs (serialization, unknown operation, validation,
//! authentication) and the HTTP status.

use std::path::PathBuf;

use http::StatusCode;
use shardlog::stream::{ConsumerError, INTERNAL_FAILURE_MESSAGE, SubscriptionError};
use shardlog::{LogError, StreamError};

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status: 400 for client errors, 500 for `InternalFailure`, 413 for an oversized body.
    pub status: StatusCode,
    /// The exception name (`__type`).
    pub kind: &'static str,
    /// The message, if the exception has one.
    pub message: Option<String>,
    /// The front end spells the key `Message` for serialization errors (as kinesalite records).
    pub capitalized_message_key: bool,
}

impl ApiError {
    /// A client error (HTTP 400).
    pub fn client(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind,
            message: Some(message.into()),
            capitalized_message_key: false,
        }
    }

    /// A client error without a message (`{"__type": "SerializationException"}`).
    pub fn bare(kind: &'static str) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind,
            message: None,
            capitalized_message_key: false,
        }
    }

    /// A body that does not parse, or a field of the wrong type.
    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError {
            capitalized_message_key: true,
            ..ApiError::client("SerializationException", message)
        }
    }

    /// `InvalidArgumentException`.
    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::client("InvalidArgumentException", message)
    }

    /// `InternalFailure` (HTTP 500). The cause is logged, never sent.
    pub fn internal() -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "InternalFailure",
            message: Some(INTERNAL_FAILURE_MESSAGE.to_owned()),
            capitalized_message_key: false,
        }
    }
}

impl From<StreamError> for ApiError {
    fn from(error: StreamError) -> ApiError {
        let kind = error.kinesis_error_code();
        match error {
            // A damaged stream's message is for the client: it names the stream and the damage.
            StreamError::Damaged(damaged) => ApiError {
                message: Some(damaged.to_string()),
                ..ApiError::internal()
            },
            // So is a shard's damaged data: where it is, within the stream, and what is wrong.
            StreamError::Storage(LogError::Corrupt {
                path,
                offset,
                reason,
            }) => {
                tracing::error!(path = %path.display(), offset, %reason, "damaged data");
                let within_stream: PathBuf = path
                    .iter()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                ApiError {
                    message: Some(format!(
                        "Stored data is damaged and cannot be served: {reason} (in {}, at byte \
                         {offset}).",
                        within_stream.display()
                    )),
                    ..ApiError::internal()
                }
            }
            error if kind == "InternalFailure" => {
                tracing::error!(%error, "storage failure");
                ApiError::internal()
            }
            error => ApiError::client(kind, error.to_string()),
        }
    }
}

impl From<ConsumerError> for ApiError {
    fn from(error: ConsumerError) -> ApiError {
        match error {
            ConsumerError::Stream(error) => error.into(),
            error => ApiError::client(error.kinesis_error_code(), error.to_string()),
        }
    }
}

impl From<SubscriptionError> for ApiError {
    fn from(error: SubscriptionError) -> ApiError {
        match error {
            SubscriptionError::Consumer(error) => error.into(),
            SubscriptionError::Stream(error) => error.into(),
            error => ApiError::client(error.kinesis_error_code(), error.to_string()),
        }
    }
}
