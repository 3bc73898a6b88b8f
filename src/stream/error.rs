//! Errors of the stream layer, one variant per Kinesis exception.
//!
//! Each variant carries the message text AWS uses where it is known (see
//! `docs/KINESIS.md` §7.5), so the server can answer exactly as Kinesis would,
//! and [`StreamError::kinesis_error_code`] gives the exception name for the wire.

use crate::error::LogError;

/// An error from a stream operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// `ResourceNotFoundException`: the stream or shard does not exist (or is not ready).
    #[error("{message}")]
    ResourceNotFound {
        /// The AWS message.
        message: String,
    },
    /// `ResourceInUseException`: the stream exists already, or is in the wrong state.
    #[error("{message}")]
    ResourceInUse {
        /// The AWS message.
        message: String,
    },
    /// `InvalidArgumentException`: an argument is well-formed but not acceptable.
    #[error("{message}")]
    InvalidArgument {
        /// The AWS message.
        message: String,
    },
    /// `ValidationException`: an argument breaks a constraint of the API model.
    #[error("{message}")]
    Validation {
        /// The AWS message.
        message: String,
    },
    /// `LimitExceededException`: a configured limit would be exceeded.
    #[error("{message}")]
    LimitExceeded {
        /// The AWS message.
        message: String,
    },
    /// `ExpiredIteratorException`: the shard iterator is older than five minutes.
    #[error("{message}")]
    ExpiredIterator {
        /// The AWS message.
        message: String,
    },
    /// `ExpiredNextTokenException`: a ListShards `NextToken` is older than five minutes.
    #[error("{message}")]
    ExpiredNextToken {
        /// The AWS message.
        message: String,
    },
    /// `ProvisionedThroughputExceededException`: the shard's throughput limit was reached; retry
    /// later.
    #[error("{message}")]
    ProvisionedThroughputExceeded {
        /// The AWS message.
        message: String,
    },
    /// `InternalFailure`: the storage failed; the cause is attached.
    #[error("internal failure: {0}")]
    Storage(#[from] LogError),
    /// `InternalFailure`: the stream's files are damaged, so the engine cannot serve it (it serves
    /// every other stream). Unlike [`StreamError::Storage`], the message is meant for the client:
    /// it names the stream and the damage.
    #[error("{message}")]
    Damaged {
        /// What is damaged, and what can be done about it.
        message: String,
    },
}

impl StreamError {
    /// The Kinesis exception name for the wire (`__type`).
    pub fn kinesis_error_code(&self) -> &'static str {
        match self {
            StreamError::ResourceNotFound { .. } => "ResourceNotFoundException",
            StreamError::ResourceInUse { .. } => "ResourceInUseException",
            StreamError::InvalidArgument { .. } => "InvalidArgumentException",
            StreamError::Validation { .. } => "ValidationException",
            StreamError::LimitExceeded { .. } => "LimitExceededException",
            StreamError::ExpiredIterator { .. } => "ExpiredIteratorException",
            StreamError::ExpiredNextToken { .. } => "ExpiredNextTokenException",
            StreamError::ProvisionedThroughputExceeded { .. } => {
                "ProvisionedThroughputExceededException"
            }
            StreamError::Storage(_) | StreamError::Damaged { .. } => "InternalFailure",
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> StreamError {
        StreamError::InvalidArgument {
            message: message.into(),
        }
    }

    /// Checks a request's `Limit` against 1..=`max`, with the front end's ValidationException.
    pub(crate) fn check_limit(limit: usize, max: usize) -> StreamResult<()> {
        let rule = if limit == 0 {
            "have value greater than or equal to 1".to_owned()
        } else if limit > max {
            format!("have value less than or equal to {max}")
        } else {
            return Ok(());
        };
        Err(StreamError::validation(&limit.to_string(), "limit", &rule))
    }

    /// A `ValidationException` in the AWS front end's format, for one failed constraint.
    pub(crate) fn validation(value: &str, field: &str, rule: &str) -> StreamError {
        StreamError::Validation {
            message: format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
                 constraint: Member must {rule}"
            ),
        }
    }
}

/// Shorthand for results of stream operations.
pub type StreamResult<T> = Result<T, StreamError>;
