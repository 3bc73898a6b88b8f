//! ON_DEMAND scaling: the maintenance pass splits a shard whose write rate stayed above a
//! threshold for a whole measuring window.
//!
//! The rule (Kinesis documents that an on-demand shard receiving more than 500 KB/s is split
//! within 15 minutes, at the middle of its hash-key range):
//!
//! - every pass, each open shard of each ACTIVE ON_DEMAND stream is sampled: its cumulative
//!   IncomingBytes and the time;
//! - once a shard's sample is at least `window` old, its average write rate since then is computed;
//!   above `split_above_bytes_per_sec`, the shard is split in half (a real split: the parent
//!   closes, two children open with lineage); either way a new window starts;
//! - a stream never grows past `max_open_shards` this way. Scaling never merges: like Kinesis, an
//!   on-demand stream keeps the capacity it once needed. Switching a stream to PROVISIONED stops
//!   its scaling and keeps its shards.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::stream::{Stream, StreamMode, StreamResult, StreamStatus};

/// When ON_DEMAND streams split hot shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDemandScaling {
    /// A shard writing more than this on average over a whole window is split.
    pub split_above_bytes_per_sec: u64,
    /// How long a rate must be sustained.
    pub window: Duration,
    /// Open shards an ON_DEMAND stream grows to at most.
    pub max_open_shards: usize,
}

impl Default for OnDemandScaling {
    fn default() -> OnDemandScaling {
        OnDemandScaling {
            split_above_bytes_per_sec: 500 * 1024,
            window: Duration::from_secs(60),
            max_open_shards: 200,
        }
    }
}

/// Where each shard's current window started: (time, IncomingBytes then).
#[derive(Debug, Default)]
pub(crate) struct ScalingSamples {
    windows: BTreeMap<(String, u32), (u64, u64)>,
}

impl ScalingSamples {
    /// Drops the windows of streams that are gone.
    pub(crate) fn forget_streams_other_than(&mut self, streams: &[std::sync::Arc<Stream>]) {
        let names: Vec<String> = streams
            .iter()
            .map(|stream| stream.name().as_str().to_owned())
            .collect();
        self.windows.retain(|(name, _), _| names.contains(name));
    }

    /// Samples the open shards of `stream` and splits the hot ones; returns how many it split.
    pub(crate) fn scale(&mut self, stream: &Stream, rule: &OnDemandScaling) -> StreamResult<usize> {
        let name = stream.name().as_str().to_owned();
        if stream.meta().mode != StreamMode::OnDemand || stream.status() != StreamStatus::Active {
            self.windows
                .retain(|(stream_name, _), _| *stream_name != name);
            return Ok(0);
        }
        let window_ms = u64::try_from(rule.window.as_millis()).unwrap_or(u64::MAX);
        let now_ms = stream.now_ms();
        let mut split = 0;
        let open: Vec<_> = stream
            .shards()
            .into_iter()
            .filter(|shard| shard.closed_secs().is_none())
            .collect();
        let mut open_count = open.len();
        for shard in open {
            let key = (name.clone(), shard.id().index());
            let bytes = shard.metrics().incoming_bytes;
            let Some(&(since_ms, since_bytes)) = self.windows.get(&key) else {
                self.windows.insert(key, (now_ms, bytes));
                continue;
            };
            let elapsed_ms = now_ms.saturating_sub(since_ms);
            if elapsed_ms < window_ms.max(1) {
                continue;
            }
            let rate = bytes.saturating_sub(since_bytes).saturating_mul(1000) / elapsed_ms;
            if rate > rule.split_above_bytes_per_sec && open_count < rule.max_open_shards {
                stream.split_in_half(shard.id().index())?;
                self.windows.remove(&key);
                open_count += 1;
                split += 1;
            } else {
                self.windows.insert(key, (now_ms, bytes));
            }
        }
        Ok(split)
    }
}
