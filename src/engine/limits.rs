//! How many streams and shards an engine takes, and what DescribeLimits reports.
//!
//! Kinesis counts shards against an account quota; an engine plays the role of one account in one
//! region, so its limits are the quota. The defaults are the Kinesis defaults of the large regions
//! (us-east-1: 20 000 shards, 50 on-demand streams, 10 000 shards per stream; UpdateShardCount 10
//! and UpdateStreamMode 2 times per stream per rolling day); the stream count limit is ours
//! (Kinesis bounds streams only through shards).

/// Limits of one engine. Exceeding one gives `LimitExceededException`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineLimits {
    /// Most streams.
    pub max_streams: usize,
    /// Most ON_DEMAND streams.
    pub max_on_demand_streams: usize,
    /// Most open shards in one stream.
    pub max_shards_per_stream: u32,
    /// Most open shards in all streams together (the account's shard quota).
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
