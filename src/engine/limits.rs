//! How many streams and shards an engine takes, and what DescribeLimits reports.
//!
//! Kinesis counts shards against an account quota; an engine plays the role of one account in one
//! region, so its limits are the quota. The defaults are the Kinesis defaults of the large regions
//! (us-east-1: 20 000 shards, 50 on-demand streams, 10 000 shards per stream; UpdateShardCount 10
//! and UpdateStreamMode 2 times per stream per rolling day); the stream count limit is ours
//! (Kinesis bounds streams only through shards).

/// Limits of one engine. A call that would exceed one fails with `LimitExceeded`
/// (`LimitExceededException`) before it changes anything.
///
/// They count what Kinesis counts: streams, and *open* shards. They bound how many streams and
/// shards clients can make an engine keep, not how much each one holds: a shard's files and
/// memory follow the records it holds, which retention and the write rate bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineLimits {
    /// Most streams.
    pub max_streams: usize,
    /// Most ON_DEMAND streams.
    pub max_on_demand_streams: usize,
    /// Most open shards in one stream, counted as for `max_open_shards`.
    pub max_shards_per_stream: u32,
    /// Most open shards in all streams together: the account's shard quota, which
    /// [`Engine::describe_limits`](crate::engine::Engine::describe_limits) reports with the
    /// current count (DescribeLimits' `ShardLimit` and `OpenShardCount`).
    ///
    /// Checked, under the shard ledger's lock, by everything that opens shards: creating a
    /// stream, the reshards (split, merge, UpdateShardCount) and ON_DEMAND scaling, whose split is
    /// then not made. A reshard counts the shards it opens and stops counting the parents it
    /// closes; a closed shard keeps its log until retention expires it, but does not count.
    /// Deleting a stream gives its open shards back. [`Engine::open`](crate::engine::Engine::open)
    /// counts the shards it finds without checking them, so lowering the limit refuses growth and
    /// removes nothing.
    pub max_open_shards: u64,
    /// Most UpdateShardCount calls per stream in a rolling 24 hours (`None`: no limit).
    pub shard_count_updates_per_day: Option<u32>,
    /// Most capacity-mode switches (UpdateStreamMode) per stream in a rolling 24 hours.
    pub mode_switches_per_day: Option<u32>,
}

impl Default for EngineLimits {
    fn default() -> EngineLimits {
        EngineLimits {
            max_streams: 10_000,
            max_on_demand_streams: 50,
            max_shards_per_stream: 10_000,
            max_open_shards: 20_000,
            shard_count_updates_per_day: Some(10),
            mode_switches_per_day: Some(2),
        }
    }
}

/// The answer to DescribeLimits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLimits {
    /// The shard quota.
    pub shard_limit: u64,
    /// Open shards now, in all streams.
    pub open_shard_count: u64,
    /// ON_DEMAND streams now.
    pub on_demand_stream_count: usize,
    /// Most ON_DEMAND streams.
    pub on_demand_stream_count_limit: usize,
}
