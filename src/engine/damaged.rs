//! Streams the engine found but cannot serve, and why.
//!
//! One damaged stream must not take the others down: [`super::Engine::open`] opens every stream
//! it can and keeps the ones it cannot as data, listed by [`super::Engine::damaged_streams`]. A
//! damaged stream keeps its name (ListStreams lists it and CreateStream finds it taken), every
//! operation on it fails with [`StreamError::Damaged`] (Kinesis `InternalFailure`, with a message
//! naming the damage), and DeleteStream removes it. Its files are left as they are, for an operator
//! to repair or delete: the engine never deletes records on a guess.

use std::fmt;

use crate::stream::{StreamError, StreamName};

/// A stream the engine found in its data directory but cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedStream {
    /// Its name (the name of its directory).
    pub name: StreamName,
    /// What is wrong with it.
    pub damage: StreamDamage,
}

/// Why a stream cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamDamage {
    /// Its directory holds shard logs but no catalog entry (`stream.meta`).
    MissingMeta,
    /// Its catalog entry cannot be read, or fails its checksum or format checks.
    UnreadableMeta {
        /// What is wrong with the file.
        reason: String,
    },
    /// Its catalog entry names another stream than its directory does.
    MisplacedMeta {
        /// The name inside `stream.meta`.
        named: String,
    },
    /// Its catalog entry is fine, but its shards could not be opened.
    Unopenable {
        /// The error opening them.
        reason: String,
    },
}

impl fmt::Display for StreamDamage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamDamage::MissingMeta => {
                formatter.write_str("its catalog entry (stream.meta) is missing")
            }
            StreamDamage::UnreadableMeta { reason } => {
                write!(
                    formatter,
                    "its catalog entry (stream.meta) is unreadable: {reason}"
                )
            }
            StreamDamage::MisplacedMeta { named } => write!(
                formatter,
                "its catalog entry (stream.meta) belongs to stream {named}"
            ),
            StreamDamage::Unopenable { reason } => {
                write!(formatter, "its shards cannot be opened: {reason}")
            }
        }
    }
}

impl DamagedStream {
    /// The error every operation on the stream fails with.
    pub(crate) fn error(&self, account_id: &str) -> StreamError {
        StreamError::Damaged {
            message: format!(
                "Stream {} under account {account_id} is damaged and cannot be served: {}. \
                 Delete it, or repair its files and reopen the engine.",
                self.name, self.damage
            ),
        }
    }
}

impl fmt::Display for DamagedStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "stream {}: {}", self.name, self.damage)
    }
}
