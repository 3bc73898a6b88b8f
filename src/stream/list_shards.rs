//! ListShards: the shards of a stream, filtered by where they stand in time, in pages.
//!
//! A page that is not the last comes with a `NextToken` that carries everything needed for the
//! next one (stream, filter, last shard listed, issue time), authenticated like iterator tokens;
//! it expires after five minutes, as Kinesis' does.

use super::describe::{ShardDescription, describe_shard};
use super::error::InvalidArgument;
use super::iterator::{sign_token, verify_token};
use super::meta::ShardMeta;
use super::names::ShardId;
use super::{Stream, StreamError, StreamResult};

/// Default and largest page of ListShards.
pub const LIST_SHARDS_DEFAULT_RESULTS: usize = 1000;
/// Largest `MaxResults` ListShards takes.
pub const LIST_SHARDS_MAX_RESULTS: usize = 10_000;
/// How long a ListShards `NextToken` is valid.
pub const NEXT_TOKEN_TTL_MS: u64 = 300_000;

/// Which shards ListShards returns (Kinesis `ShardFilter`). Times are Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardFilter {
    /// Shards after this one (as `ExclusiveStartShardId`).
    AfterShardId(ShardId),
    /// Shards open at the trim horizon.
    AtTrimHorizon,
    /// Every shard whose data has not all expired (the default).
    FromTrimHorizon,
    /// Only the open shards.
    AtLatest,
    /// Shards open at this time.
    AtTimestamp(u64),
    /// Shards closed at or after this time, and every open shard.
    FromTimestamp(u64),
}

/// One page of ListShards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListShardsOutput {
    /// The shards, by id.
    pub shards: Vec<ShardDescription>,
    /// Pass to the next call for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// What a NextToken carries.
struct ListPosition {
    stream_name: String,
    filter: ShardFilter,
    after_index: u32,
    issued_ms: u64,
}

const TOKEN_VERSION: u8 = 2;

impl ListPosition {
    fn encode(&self, key: &[u8; 32]) -> String {
        let (kind, time, shard) = match self.filter {
            ShardFilter::AfterShardId(id) => (0u8, 0, id.index()),
            ShardFilter::AtTrimHorizon => (1, 0, 0),
            ShardFilter::FromTrimHorizon => (2, 0, 0),
            ShardFilter::AtLatest => (3, 0, 0),
            ShardFilter::AtTimestamp(ms) => (4, ms, 0),
            ShardFilter::FromTimestamp(ms) => (5, ms, 0),
        };
        let mut body = vec![TOKEN_VERSION, kind];
        body.extend_from_slice(&time.to_be_bytes());
        body.extend_from_slice(&shard.to_be_bytes());
        body.extend_from_slice(&self.after_index.to_be_bytes());
        body.extend_from_slice(&self.issued_ms.to_be_bytes());
        body.extend_from_slice(self.stream_name.as_bytes());
        sign_token(key, body)
    }

    fn decode(token: &str, key: &[u8; 32]) -> Option<ListPosition> {
        let body = verify_token(token, key)?;
        let (fixed, name) = body.split_at_checked(2 + 8 + 4 + 4 + 8)?;
        let u64_at = |at: usize| Some(u64::from_be_bytes(fixed.get(at..at + 8)?.try_into().ok()?));
        let u32_at = |at: usize| Some(u32::from_be_bytes(fixed.get(at..at + 4)?.try_into().ok()?));
        if fixed.first() != Some(&TOKEN_VERSION) {
            return None;
        }
        let time = u64_at(2)?;
        let filter = match fixed.get(1)? {
            0 => ShardFilter::AfterShardId(ShardId::new(u32_at(10)?)),
            1 => ShardFilter::AtTrimHorizon,
            2 => ShardFilter::FromTrimHorizon,
            3 => ShardFilter::AtLatest,
            4 => ShardFilter::AtTimestamp(time),
            5 => ShardFilter::FromTimestamp(time),
            _ => return None,
        };
        Some(ListPosition {
            stream_name: String::from_utf8(name.to_vec()).ok()?,
            filter,
            after_index: u32_at(14)?,
            issued_ms: u64_at(18)?,
        })
    }
}

/// Where a ListShards call starts: the first page of a stream, or the page after a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListShardsFrom<'a> {
    /// The first page, of the stream named here (the engine resolves the name).
    Start {
        /// Shards after this one only.
        exclusive_start_shard_id: Option<ShardId>,
        /// Which shards.
        filter: Option<ShardFilter>,
    },
    /// The page after the one that returned this `NextToken`.
    NextToken(&'a str),
}

impl Stream {
    /// Reads the stream name out of a ListShards `NextToken` (to find the stream it is for).
    pub(crate) fn list_token_stream(token: &str, key: &[u8; 32]) -> StreamResult<String> {
        ListPosition::decode(token, key)
            .map(|position| position.stream_name)
            .ok_or(StreamError::InvalidArgument(
                InvalidArgument::InvalidNextToken,
            ))
    }

    /// One page of the stream's shards (Kinesis ListShards).
    pub fn list_shards(
        &self,
        from: ListShardsFrom<'_>,
        max_results: Option<usize>,
    ) -> StreamResult<ListShardsOutput> {
        let max_results = max_results.unwrap_or(LIST_SHARDS_DEFAULT_RESULTS);
        StreamError::check_limit("maxResults", max_results, LIST_SHARDS_MAX_RESULTS)?;
        self.check_writable()?;
        let now_ms = self.context.clock.now_ms();
        let (filter, after_index) = match from {
            ListShardsFrom::Start {
                exclusive_start_shard_id,
                filter,
            } => {
                let filter = filter.unwrap_or(ShardFilter::FromTrimHorizon);
                let after = match filter {
                    ShardFilter::AfterShardId(id) => Some(id.index()),
                    _ => None,
                };
                (
                    filter,
                    exclusive_start_shard_id.map(ShardId::index).or(after),
                )
            }
            ListShardsFrom::NextToken(token) => {
                let position = ListPosition::decode(token, &self.context.iterator_key).ok_or(
                    StreamError::InvalidArgument(InvalidArgument::InvalidNextToken),
                )?;
                if now_ms.saturating_sub(position.issued_ms) > NEXT_TOKEN_TTL_MS {
                    return Err(StreamError::ExpiredNextToken);
                }
                (position.filter, Some(position.after_index))
            }
        };
        let meta = self.meta();
        let trim_ms = self.trim_horizon_ms().max(meta.created_ms);
        let mut listed = meta
            .shards
            .iter()
            .filter(|shard| after_index.is_none_or(|after| shard.index > after))
            .filter(|shard| matches_filter(shard, filter, trim_ms));
        let shards: Vec<&ShardMeta> = listed.by_ref().take(max_results).collect();
        let next_token = match (listed.next(), shards.last()) {
            (Some(_), Some(last)) => Some(
                ListPosition {
                    stream_name: meta.name.as_str().to_owned(),
                    filter,
                    after_index: last.index,
                    issued_ms: now_ms,
                }
                .encode(&self.context.iterator_key),
            ),
            _ => None,
        };
        Ok(ListShardsOutput {
            shards: shards.into_iter().map(describe_shard).collect(),
            next_token,
        })
    }
}

/// Whether `shard` passes `filter`, with the trim horizon at `trim_ms`.
fn matches_filter(shard: &ShardMeta, filter: ShardFilter, trim_ms: u64) -> bool {
    let created_ms = shard.created_secs.saturating_mul(1000);
    // A shard's records arrive before the end of the second it was closed in.
    let closed_ms = shard
        .closed_secs
        .map(|secs| secs.saturating_add(1).saturating_mul(1000));
    let open_at = |ms: u64| created_ms <= ms && closed_ms.is_none_or(|closed| closed > ms);
    match filter {
        ShardFilter::AfterShardId(_) | ShardFilter::FromTrimHorizon => true,
        ShardFilter::AtLatest => closed_ms.is_none(),
        ShardFilter::AtTrimHorizon => open_at(trim_ms),
        ShardFilter::AtTimestamp(ms) => open_at(ms.max(trim_ms)),
        ShardFilter::FromTimestamp(ms) => closed_ms.is_none_or(|closed| closed > ms.max(trim_ms)),
    }
}
