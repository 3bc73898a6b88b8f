//! A stream's data path: its shards, the table that routes a hash key to the open shard owning
//! it, and the counters of every shard the stream has had. Puts and reads go through the
//! [`ShardSet`]; a reshard or an expiry replaces its table whole, under its write lock.
//!
//! Lock order (see `ledger`): the ledger, then the stream's metadata, then this table. Never take
//! the metadata while holding the table.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{RwLock, RwLockWriteGuard};

use super::hash_key::HashKey;
use super::meta::ShardMeta;
use super::metrics::{ShardMetrics, ShardMetricsSnapshot, StreamMetrics};
use super::names::ShardId;
use super::throughput::ShardThroughput;
use crate::log::ShardLog;
use crate::sequence::ShardIdentity;

/// One shard: its catalog entry, its log, its counters and its throughput budget.
pub struct Shard {
    /// The catalog entry. Everything in it is fixed for the shard's life except `closed_secs`,
    /// which is kept in the field below (and `meta.closed_secs` is not read).
    pub(super) meta: ShardMeta,
    /// When the shard was closed, or [`Shard::OPEN`]. Invariant: set only after the shard's log is
    /// sealed and the catalog saying so is durable, so a reader that sees it set and finds no more
    /// records has read the shard to its end.
    closed_secs: AtomicU64,
    pub(super) log: ShardLog,
    /// Shared with the stream's registry, which keeps them after the shard leaves the table.
    pub(super) metrics: Arc<ShardMetrics>,
    /// Touched only when limits apply (see `Stream::throughput_limits_apply`).
    pub(super) throughput: ShardThroughput,
}

impl Shard {
    const OPEN: u64 = u64::MAX;

    /// A shard of the stream whose metrics are `stream_metrics`, with full throughput buckets.
    pub(crate) fn new(meta: ShardMeta, log: ShardLog, stream_metrics: &StreamMetrics) -> Shard {
        Shard {
            closed_secs: AtomicU64::new(meta.closed_secs.unwrap_or(Shard::OPEN)),
            metrics: stream_metrics.shard(meta.index),
            meta,
            log,
            throughput: ShardThroughput::default(),
        }
    }

    /// The shard's cumulative metrics since its stream was opened (IncomingBytes, OutgoingBytes,
    /// ...); diff two of them for a rate.
    pub fn metrics(&self) -> ShardMetricsSnapshot {
        self.metrics.snapshot(self.id())
    }

    /// The shard's id.
    pub fn id(&self) -> ShardId {
        self.meta.id()
    }

    /// The shard's catalog entry.
    pub fn meta(&self) -> ShardMeta {
        ShardMeta {
            closed_secs: self.closed_secs(),
            ..self.meta.clone()
        }
    }

    /// When a split or merge closed the shard (Unix seconds), or `None` while it is open.
    pub fn closed_secs(&self) -> Option<u64> {
        let secs = self.closed_secs.load(Ordering::Acquire);
        (secs != Shard::OPEN).then_some(secs)
    }

    pub(super) fn mark_closed(&self, closed_secs: u64) {
        self.closed_secs.store(closed_secs, Ordering::Release);
        // A subscription waiting for records must now deliver the shard's children.
        self.log.wake_readers();
    }

    /// The shard's log.
    pub fn log(&self) -> &ShardLog {
        &self.log
    }
}

/// The shards of a stream, and the open ones in hash-key order for routing.
pub(super) struct ShardTable {
    /// Every shard, by index.
    all: Vec<Arc<Shard>>,
    /// Open shards sorted by starting hash key. Invariant: their ranges cover 0..=2^128−1 without
    /// gaps or overlaps, so routing is a binary search.
    open: Vec<Arc<Shard>>,
    /// `open`'s starting hash keys, side by side: routing searches these contiguous keys instead
    /// of touching a shard per step (with 10,000 shards, 14 cache misses per record).
    open_starts: Vec<HashKey>,
}

impl ShardTable {
    pub(super) fn new(mut all: Vec<Arc<Shard>>) -> ShardTable {
        all.sort_by_key(|shard| shard.meta.index);
        let mut open: Vec<Arc<Shard>> = all
            .iter()
            .filter(|shard| shard.closed_secs().is_none())
            .cloned()
            .collect();
        open.sort_by_key(|shard| shard.meta.hash_key_range.starting);
        debug_assert!(
            open.windows(2).all(|pair| match pair {
                [a, b] =>
                    a.meta.hash_key_range.ending.checked_add(1)
                        == Some(b.meta.hash_key_range.starting),
                _ => true,
            }),
            "open shards tile the hash-key space"
        );
        let open_starts = open
            .iter()
            .map(|shard| shard.meta.hash_key_range.starting)
            .collect();
        ShardTable {
            all,
            open,
            open_starts,
        }
    }

    /// Every shard (open and closed), by index.
    pub(super) fn all(&self) -> &[Arc<Shard>] {
        &self.all
    }

    /// The open shard that owns `key`.
    fn route(&self, key: HashKey) -> Option<&Arc<Shard>> {
        let after = self
            .open_starts
            .partition_point(|&starting| starting <= key);
        self.open
            .get(after.checked_sub(1)?)
            .filter(|shard| shard.meta.hash_key_range.contains(key))
    }

    pub(super) fn by_id(&self, id: ShardId) -> Option<&Arc<Shard>> {
        self.all
            .binary_search_by_key(&id.index(), |shard| shard.meta.index)
            .ok()
            .and_then(|position| self.all.get(position))
    }
}

/// The data path of one stream: the shard table and the counters of every shard it has had.
pub(crate) struct ShardSet {
    table: RwLock<ShardTable>,
    /// Counters of every shard the stream has opened, and of PutRecords calls.
    metrics: StreamMetrics,
}

impl ShardSet {
    /// The set of `shards`, whose counters are registered in `metrics`.
    pub(super) fn new(shards: Vec<Arc<Shard>>, metrics: StreamMetrics) -> ShardSet {
        ShardSet {
            table: RwLock::new(ShardTable::new(shards)),
            metrics,
        }
    }

    /// Every shard (open and closed), by index.
    pub(super) fn all(&self) -> Vec<Arc<Shard>> {
        self.table.read().all.clone()
    }

    /// Open shards now.
    pub(super) fn open_count(&self) -> usize {
        self.table.read().open.len()
    }

    /// The shard with this id.
    pub(super) fn by_id(&self, id: ShardId) -> Option<Arc<Shard>> {
        self.table.read().by_id(id).cloned()
    }

    /// The shard whose sequence numbers carry `identity`.
    pub(super) fn by_identity(&self, identity: ShardIdentity) -> Option<Arc<Shard>> {
        self.table
            .read()
            .by_id(ShardId::new(identity.index))
            .filter(|shard| shard.meta.identity() == identity)
            .cloned()
    }

    /// The open shard that owns `key`; `None` only if the open shards do not tile the hash-key
    /// space, which a damaged stream metadata file could cause.
    pub(super) fn route(&self, key: HashKey) -> Option<Arc<Shard>> {
        self.table.read().route(key).cloned()
    }

    /// The stream's counters.
    pub(super) fn metrics(&self) -> &StreamMetrics {
        &self.metrics
    }

    /// The table, for a reshard or an expiry that replaces it: no put or read routes while this
    /// is held.
    pub(super) fn change(&self) -> RwLockWriteGuard<'_, ShardTable> {
        self.table.write()
    }
}
