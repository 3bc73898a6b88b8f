//! Streams the engine found but cannot serve, and why.
//!
//! One damaged stream must not take the others down: [`super::Engine::open`] opens every stream
//! it can and keeps the ones it cannot as data, listed by [`super::Engine::damaged_streams`]. A
//! damaged stream keeps its name (ListStreams lists it and CreateStream finds it taken), every
//! operation on it fails with [`StreamError::Damaged`] (Kinesis `InternalFailure`, with a message
//! naming the damage), and DeleteStream removes it. Its files are left as they are, for an operator
//! to repair or delete: the engine never deletes records on a guess.

use std::fmt;

use crate::stream::error::Damaged;
pub use crate::stream::error::StreamDamage;
use crate::stream::{StreamError, StreamName};

/// A stream the engine found in its data directory but cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedStream {
    /// Its name (the name of its directory).
    pub name: StreamName,
    /// What is wrong with it.
    pub damage: StreamDamage,
}

impl DamagedStream {
    /// The error every operation on the stream fails with.
    pub(crate) fn error(&self, account_id: &str) -> StreamError {
        StreamError::Damaged(Damaged {
            stream: self.name.clone(),
            account: account_id.to_owned(),
            damage: self.damage.clone(),
        })
    }
}

impl fmt::Display for DamagedStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "stream {}: {}", self.name, self.damage)
    }
}
