//! Kinesis' CloudWatch metrics, per stream and per shard, as cumulative in-process counters.
//!
//! Kinesis publishes per-minute statistics (docs/KINESIS.md §8); an embedded engine
//! keeps cumulative counters instead and lets the caller derive any window: take two
//! [`StreamMetricsSnapshot`]s and diff them with [`rate_per_second`]. Every value carries its
//! Kinesis metric name (`IncomingBytes`, `GetRecords.Latency`, ...) as a `&'static str`, the
//! CloudWatch statistic it stands for (a running `Sum`, a `SampleCount`, a `Maximum`, or the
//! `Latest` sample) and its unit, so a server can print them without a table of its own.
//!
//! # Cost on the hot path
//!
//! Counters are relaxed atomics, updated once per call (or per shard group of a PutRecords call),
//! never once per record, and never under a lock or with an allocation; sizes are summed where
//! each record's lengths are already at hand (while PutRecords routes its entries, and in the
//! log's read loop, one subtraction a record). They are stored per shard
//! in two cache-line-aligned groups, one written by producers and one by consumers, so producers
//! of different shards, and producers and consumers of one shard, never write the same cache
//! line. Stream-level values are sums (or maxima) over the shards, computed when a snapshot is
//! taken; only the per-call PutRecords outcomes (`PutRecords.Success`, `.FailedRecords`,
//! `.ThrottledRecords`) are stream-wide counters, touched at most three times per call.
//!
//! # What counts
//!
//! - A record's size is its data plus its partition key, as Kinesis counts it against the
//!   per-shard limits (docs/KINESIS.md §5.1); every `Bytes` metric uses it.
//! - GetRecords metrics count [`Stream::get_records`](super::Stream::get_records) and the typed
//!   reader's [`ShardReader::next_batch`](super::ShardReader::next_batch) alike: both are polling
//!   reads of a shard. At the shard level they are `OutgoingBytes` / `OutgoingRecords`.
//! - `GetRecords.Latency` is measured with the monotonic clock in microseconds (Kinesis reports
//!   milliseconds; most embedded reads take less than one).
//! - PutRecords outcomes are counted as they are reported to the caller: a shard group whose
//!   append failed counts as failed, even if some of its records reached the log.
//! - Counters live in memory: they start at zero when the stream is opened. A shard's counters
//!   stay in its stream's registry after the shard leaves the shard table (expired after a
//!   reshard), so stream totals never go backwards while the stream is open.
//!
//! # Where each part lives
//!
//! - `vocabulary.rs`: what a value is called and means: [`StreamMetric`], [`ShardMetric`], their
//!   [`Statistic`] and [`Unit`].
//! - `counters.rs`: the live counters the stream layer bumps (per shard, and per PutRecords call).
//! - `snapshots.rs`: the values at one moment ([`StreamMetricsSnapshot`]) and the rates between
//!   two ([`rate_per_second`]).

mod counters;
mod snapshots;
#[cfg(test)]
mod tests;
mod vocabulary;

pub(crate) use self::counters::{ShardMetrics, StreamMetrics};
pub use self::snapshots::{
    ShardMetricsSnapshot, StreamMetricsSnapshot, StreamRates, StreamValues, rate_per_second,
};
pub use self::vocabulary::{ShardMetric, Statistic, StreamMetric, Unit};

/// A record's size as every `Bytes` metric and the throughput limits count it: data plus
/// partition key.
pub(crate) fn record_bytes(partition_key: &str, data: &[u8]) -> u64 {
    (partition_key.len() + data.len()) as u64
}
