//! The Kinesis data model on top of shard logs: streams of shards, routing by hash key.
//!
//! Being built (issue 3): for now, hash-key routing and validated names.

pub mod hash_key;
pub mod names;

pub use self::hash_key::{HashKey, HashKeyRange, hash_key_of};
pub use self::names::{NameError, ShardId, StreamName};
