//! The shard ledger: what all the streams of one owner (an engine) share about shards, under one
//! lock. Every change to the set of open shards (creating or deleting a stream, a reshard) holds
//! the ledger while it checks the shard quota, takes a creation second for new shards and, once
//! the change is durable, counts the shards it opened and closed.
//!
//! The stream layer defines this type, and the owner of the streams fills it in: a stream never
//! needs to know what an engine is. Where creation seconds are kept durably is the owner's
//! business, behind [`ShardCreationSeconds`].
//!
//! Lock order: the ledger, then a stream's metadata, then its shard table.

use std::fmt;

use super::StreamResult;

/// Hands out shard creation seconds, durably: the engine keeps the last one in `engine.meta`.
pub(crate) trait ShardCreationSeconds: Send + fmt::Debug {
    /// A shard creation second later than every one handed out before, and no earlier than
    /// `now_secs`; durable before it is returned.
    ///
    /// Creation seconds strictly increase per owner so that (creation second, shard index)
    /// identifies a shard across all its streams: a sequence number from another stream is
    /// recognised as such.
    fn allocate(&mut self, now_secs: u64) -> StreamResult<u64>;
}

/// The shard count every quota check sees, and the source of shard creation seconds.
#[derive(Debug)]
pub(crate) struct ShardLedger {
    /// Open shards in all streams. Invariant: changed only while the ledger's lock is held, by
    /// every create, delete and reshard, so a quota check sees every change made before its own.
    pub open_shards: u64,
    creation_seconds: Box<dyn ShardCreationSeconds>,
}

impl ShardLedger {
    /// A ledger with no open shard yet, taking creation seconds from `creation_seconds`.
    pub(crate) fn new(creation_seconds: Box<dyn ShardCreationSeconds>) -> ShardLedger {
        ShardLedger {
            open_shards: 0,
            creation_seconds,
        }
    }

    /// See [`ShardCreationSeconds::allocate`].
    pub(crate) fn allocate_shard_created_secs(&mut self, now_secs: u64) -> StreamResult<u64> {
        self.creation_seconds.allocate(now_secs)
    }

    /// Records that a change left `open_after` open shards where there were `open_before`.
    pub(crate) fn replace_open_shards(&mut self, open_before: u64, open_after: u64) {
        self.open_shards = self
            .open_shards
            .saturating_add(open_after)
            .saturating_sub(open_before);
    }
}
