//! Errors of the storage core.
//!
//! Every failure is a variant a caller can match on, with the context needed to act on it (which
//! file, which offset, which limit). Nothing here depends on input being well-formed: bad input,
//! damaged files and failing disks all arrive as one of these, never as a panic.

use std::io;
use std::path::PathBuf;

use crate::sequence::{SequenceNumber, ShardIdentity};

/// An error from a shard log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// An I/O operation failed.
    #[error("I/O error while {action} {path}: {source}")]
    Io {
        /// What the log was doing.
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A record does not fit the limits (Kinesis: `InvalidArgumentException`).
    #[error("invalid record: {reason}")]
    InvalidRecord {
        /// Which rule the record breaks.
        reason: String,
    },
    /// The options do not make a usable log.
    #[error("invalid log options: {reason}")]
    InvalidOptions {
        /// Which rule the options break.
        reason: String,
    },
    /// A sequence number that belongs to another shard (Kinesis: `InvalidArgumentException`).
    #[error("sequence number {sequence_number} belongs to shard {:?}, not to shard {:?}", .sequence_number.shard(), .expected)]
    WrongShard {
        /// The sequence number given.
        sequence_number: SequenceNumber,
        /// The shard it was used on.
        expected: ShardIdentity,
    },
    /// The directory holds another shard's log.
    #[error("{path} holds the log of shard {found:?}, not of shard {expected:?}")]
    ShardMismatch {
        /// The shard directory.
        path: PathBuf,
        /// The shard the caller opened.
        expected: ShardIdentity,
        /// The shard recorded on disk.
        found: ShardIdentity,
    },
    /// Data that was known to be durable is damaged, or a frame read back does not validate.
    /// The log never returns or skips over such data silently.
    #[error("corruption in {path} at byte {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the damage within it.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An earlier write or sync failed; the shard refuses appends until it is reopened, because after
    /// a failed fsync the state of the file on disk is unknown (see "fsyncgate").
    #[error("the shard log refuses appends after an earlier I/O failure; reopen it to recover")]
    Latched,
    /// Another open engine holds this data directory's lock (in this process or another).
    #[error("{path} is held by another open engine; close it (and drop its streams) first")]
    InUse {
        /// The lock file.
        path: PathBuf,
    },
    /// The log has been closed.
    #[error("the shard log is closed")]
    Closed,
    /// The log was sealed (its shard was closed by a split or merge): it stays readable but takes
    /// no more records.
    #[error("the shard log is sealed: its shard was closed by resharding")]
    Sealed,
    /// All 2^63 sequence counters of the shard are used up.
    #[error("the shard has used all of its sequence numbers")]
    CountersExhausted,
}

impl LogError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: io::Error,
    ) -> LogError {
        LogError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        offset: u64,
        reason: impl ToString,
    ) -> LogError {
        LogError::Corrupt {
            path: path.into(),
            offset,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid_record(reason: impl Into<String>) -> LogError {
        LogError::InvalidRecord {
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of log operations.
pub type LogResult<T> = Result<T, LogError>;
