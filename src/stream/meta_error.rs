//! Why a catalog file (`stream.meta`, or the engine's `account.meta`) cannot be read: typed, so
//! a caller can tell a checksum failure from a missing field, and worded for an operator (it
//! becomes part of a damaged stream's message, without the file's path).

use super::names::NameError;
use crate::checksummed_text::ChecksumError;

/// What is wrong with a catalog file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// The file could not be read.
    #[error("{reason}")]
    Read {
        /// The operating system's words.
        reason: String,
    },
    /// The checksum line is missing or does not match the file's body.
    #[error("{0}")]
    Checksum(#[from] ChecksumError),
    /// The first line names no format this version reads.
    #[error("unknown format")]
    UnknownFormat,
    /// A line or value does not have its shape (`what`: `shard line`, `time`, ...).
    #[error("malformed {what}")]
    Malformed {
        /// What is malformed.
        what: &'static str,
    },
    /// A required field is absent.
    #[error("missing {field}")]
    Missing {
        /// The field's key.
        field: &'static str,
    },
    /// A field's value is out of its range or not a number.
    #[error("bad {field}")]
    Bad {
        /// The field's key.
        field: String,
    },
    /// A line of a key this file does not have.
    #[error("unknown line {key}")]
    UnknownLine {
        /// The line's key.
        key: String,
    },
    /// The stream's name is not a valid stream name.
    #[error("{0}")]
    StreamName(NameError),
    /// A consumer's name is not a valid consumer name.
    #[error(
        "invalid consumer name {name:?}: it must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '.' and '-'"
    )]
    ConsumerName {
        /// The name in the file.
        name: String,
    },
    /// A tag key or value is not hex.
    #[error("bad hex")]
    BadHex,
    /// A recorded setting is not hex.
    #[error("bad hex in {field}")]
    BadHexIn {
        /// The setting's key.
        field: String,
    },
    /// Decoded text is not UTF-8.
    #[error("{field} is not UTF-8")]
    NotUtf8 {
        /// What was decoded.
        field: String,
    },
    /// A consumer's tag comes before (or without) the consumer.
    #[error("tag of an unknown consumer")]
    TagOfUnknownConsumer,
}
