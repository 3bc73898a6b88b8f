//! DescribeStream and DescribeStreamSummary: what a stream looks like from outside.

use super::hash_key::HashKeyRange;
use super::meta::{ShardMeta, StreamMode, StreamStatus};
use super::names::{ShardId, StreamName};
use super::{Stream, StreamError, StreamResult};
use crate::sequence::SequenceNumber;

/// Most shards one DescribeStream page holds.
pub const DESCRIBE_SHARDS_LIMIT_MAX: usize = 100;

/// One shard as DescribeStream shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardDescription {
    /// The shard's id.
    pub shard_id: ShardId,
    /// The shard it was split or merged from.
    pub parent_shard_id: Option<ShardId>,
    /// The other parent of a merge.
    pub adjacent_parent_shard_id: Option<ShardId>,
    /// The hash keys it owns (owned while open).
    pub hash_key_range: HashKeyRange,
    /// The first sequence number of the shard (counter 0 at its creation).
    pub starting_sequence_number: SequenceNumber,
    /// Set once the shard is closed.
    pub ending_sequence_number: Option<SequenceNumber>,
}

/// A stream as DescribeStream shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDescription {
    /// The stream's name.
    pub name: StreamName,
    /// The stream's ARN.
    pub arn: String,
    /// Its status now.
    pub status: StreamStatus,
    /// Its capacity mode.
    pub mode: StreamMode,
    /// Retention period, hours.
    pub retention_hours: u32,
    /// Creation time, Unix ms.
    pub created_ms: u64,
    /// Largest record, KiB.
    pub max_record_size_kib: u32,
    /// Open shards.
    pub open_shard_count: usize,
    /// One page of shards, by index.
    pub shards: Vec<ShardDescription>,
    /// More shards follow this page.
    pub has_more_shards: bool,
    /// Shard-level metrics enabled (EnhancedMonitoring).
    pub shard_level_metrics: Vec<String>,
}

impl Stream {
    /// Describes the stream, with the shards after `exclusive_start_shard_id`, at most `limit`
    /// (1–100, default 100) of them.
    pub fn describe(
        &self,
        exclusive_start_shard_id: Option<ShardId>,
        limit: Option<usize>,
    ) -> StreamResult<StreamDescription> {
        let limit = limit.unwrap_or(DESCRIBE_SHARDS_LIMIT_MAX);
        StreamError::check_limit("limit", limit, DESCRIBE_SHARDS_LIMIT_MAX)?;
        let meta = self.meta();
        let mut after = meta
            .shards
            .iter()
            .filter(|shard| exclusive_start_shard_id.is_none_or(|start| shard.id() > start));
        let shards = after.by_ref().take(limit).map(describe_shard).collect();
        Ok(StreamDescription {
            arn: self.arn(),
            status: self.status(),
            mode: meta.mode,
            retention_hours: meta.retention_hours,
            created_ms: meta.created_ms,
            max_record_size_kib: meta.max_record_size_kib,
            open_shard_count: meta
                .shards
                .iter()
                .filter(|shard| shard.closed_secs.is_none())
                .count(),
            has_more_shards: after.next().is_some(),
            shards,
            shard_level_metrics: meta.shard_level_metrics.iter().cloned().collect(),
            name: meta.name,
        })
    }
}

/// A catalog entry as DescribeStream and ListShards show it.
pub(crate) fn describe_shard(shard: &ShardMeta) -> ShardDescription {
    ShardDescription {
        shard_id: shard.id(),
        parent_shard_id: shard.parent.map(ShardId::new),
        adjacent_parent_shard_id: shard.adjacent_parent.map(ShardId::new),
        hash_key_range: shard.hash_key_range,
        starting_sequence_number: Stream::starting_sequence_number(shard),
        // The counter is the largest possible, the time the close: AWS' EndingSequenceNumber.
        ending_sequence_number: shard.closed_secs.map(|closed_secs| {
            SequenceNumber::from_checked_parts(
                shard.identity(),
                SequenceNumber::COUNTER_MAX,
                closed_secs,
            )
        }),
    }
}
