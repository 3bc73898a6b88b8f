//! The metrics at one moment, cumulative since the stream was opened, and the per-second rates
//! between two such moments.

use super::vocabulary::{ShardMetric, StreamMetric};
use crate::stream::names::{ShardId, StreamName};

/// Stream-level values of a snapshot; see [`StreamMetric`] for each one's meaning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamValues {
    /// `IncomingBytes`: bytes stored by PutRecord and PutRecords.
    pub incoming_bytes: u64,
    /// `IncomingRecords`: records stored by PutRecord and PutRecords.
    pub incoming_records: u64,
    /// `PutRecord.Success`: successful PutRecord calls.
    pub put_record_success: u64,
    /// `PutRecord.Bytes`: bytes stored by PutRecord.
    pub put_record_bytes: u64,
    /// `PutRecords.Success`: PutRecords calls that stored at least one record.
    pub put_records_success: u64,
    /// `PutRecords.Bytes`: bytes stored by PutRecords.
    pub put_records_bytes: u64,
    /// `PutRecords.TotalRecords`: entries of PutRecords calls that passed validation.
    pub put_records_total_records: u64,
    /// `PutRecords.SuccessfulRecords`: PutRecords entries stored.
    pub put_records_successful_records: u64,
    /// `PutRecords.FailedRecords`: PutRecords entries that failed with `InternalFailure`.
    pub put_records_failed_records: u64,
    /// `PutRecords.ThrottledRecords`: PutRecords entries refused by write limits.
    pub put_records_throttled_records: u64,
    /// `GetRecords.Success`: successful reads (also the latency sample count).
    pub get_records_success: u64,
    /// `GetRecords.Records`: records returned.
    pub get_records_records: u64,
    /// `GetRecords.Bytes`: bytes returned.
    pub get_records_bytes: u64,
    /// `GetRecords.IteratorAgeMilliseconds` (latest): the largest of the shards' latest ages.
    pub get_records_iterator_age_ms: u64,
    /// `GetRecords.IteratorAgeMilliseconds` (maximum): the largest age any read reported.
    pub get_records_iterator_age_ms_max: u64,
    /// `GetRecords.Latency` (sum), in microseconds.
    pub get_records_latency_us_sum: u64,
    /// `GetRecords.Latency` (maximum), in microseconds.
    pub get_records_latency_us_max: u64,
    /// `WriteProvisionedThroughputExceeded`: records refused by write limits.
    pub write_provisioned_throughput_exceeded: u64,
    /// `ReadProvisionedThroughputExceeded`: reads refused by read limits.
    pub read_provisioned_throughput_exceeded: u64,
}

impl StreamValues {
    /// The value of `metric`.
    pub fn get(&self, metric: StreamMetric) -> u64 {
        match metric {
            StreamMetric::IncomingBytes => self.incoming_bytes,
            StreamMetric::IncomingRecords => self.incoming_records,
            StreamMetric::PutRecordSuccess => self.put_record_success,
            StreamMetric::PutRecordBytes => self.put_record_bytes,
            StreamMetric::PutRecordsSuccess => self.put_records_success,
            StreamMetric::PutRecordsBytes => self.put_records_bytes,
            StreamMetric::PutRecordsTotalRecords => self.put_records_total_records,
            StreamMetric::PutRecordsSuccessfulRecords => self.put_records_successful_records,
            StreamMetric::PutRecordsFailedRecords => self.put_records_failed_records,
            StreamMetric::PutRecordsThrottledRecords => self.put_records_throttled_records,
            StreamMetric::GetRecordsSuccess => self.get_records_success,
            StreamMetric::GetRecordsRecords => self.get_records_records,
            StreamMetric::GetRecordsBytes => self.get_records_bytes,
            StreamMetric::GetRecordsIteratorAgeMilliseconds => self.get_records_iterator_age_ms,
            StreamMetric::GetRecordsIteratorAgeMillisecondsMax => {
                self.get_records_iterator_age_ms_max
            }
            StreamMetric::GetRecordsLatencySum => self.get_records_latency_us_sum,
            // One latency sample per successful call.
            StreamMetric::GetRecordsLatencyCount => self.get_records_success,
            StreamMetric::GetRecordsLatencyMax => self.get_records_latency_us_max,
            StreamMetric::WriteProvisionedThroughputExceeded => {
                self.write_provisioned_throughput_exceeded
            }
            StreamMetric::ReadProvisionedThroughputExceeded => {
                self.read_provisioned_throughput_exceeded
            }
        }
    }

    /// Every value with its metric, in [`StreamMetric::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = (StreamMetric, u64)> + '_ {
        StreamMetric::ALL
            .iter()
            .map(move |&metric| (metric, self.get(metric)))
    }
}

/// One shard's values; see [`ShardMetric`] for each one's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardMetricsSnapshot {
    /// The shard.
    pub shard_id: ShardId,
    /// `IncomingBytes`: bytes stored in the shard.
    pub incoming_bytes: u64,
    /// `IncomingRecords`: records stored in the shard.
    pub incoming_records: u64,
    /// `OutgoingBytes`: bytes read from the shard.
    pub outgoing_bytes: u64,
    /// `OutgoingRecords`: records read from the shard.
    pub outgoing_records: u64,
    /// `WriteProvisionedThroughputExceeded`: records refused by the shard's write limits.
    pub write_provisioned_throughput_exceeded: u64,
    /// `ReadProvisionedThroughputExceeded`: reads refused by the shard's read limits.
    pub read_provisioned_throughput_exceeded: u64,
    /// `IteratorAgeMilliseconds` (latest): the age the shard's latest read reported.
    pub iterator_age_ms: u64,
    /// `IteratorAgeMilliseconds` (maximum): the largest age any read of the shard reported.
    pub iterator_age_ms_max: u64,
}

impl ShardMetricsSnapshot {
    /// The value of `metric`.
    pub fn get(&self, metric: ShardMetric) -> u64 {
        match metric {
            ShardMetric::IncomingBytes => self.incoming_bytes,
            ShardMetric::IncomingRecords => self.incoming_records,
            ShardMetric::OutgoingBytes => self.outgoing_bytes,
            ShardMetric::OutgoingRecords => self.outgoing_records,
            ShardMetric::WriteProvisionedThroughputExceeded => {
                self.write_provisioned_throughput_exceeded
            }
            ShardMetric::ReadProvisionedThroughputExceeded => {
                self.read_provisioned_throughput_exceeded
            }
            ShardMetric::IteratorAgeMilliseconds => self.iterator_age_ms,
            ShardMetric::IteratorAgeMillisecondsMax => self.iterator_age_ms_max,
        }
    }

    /// Every value with its metric, in [`ShardMetric::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = (ShardMetric, u64)> + '_ {
        ShardMetric::ALL
            .iter()
            .map(move |&metric| (metric, self.get(metric)))
    }
}

/// A stream's metrics at one moment: cumulative since the stream was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMetricsSnapshot {
    /// The stream.
    pub stream_name: StreamName,
    /// When the snapshot was taken, by the engine's clock (Unix ms).
    pub taken_ms: u64,
    /// Stream-level values.
    pub stream: StreamValues,
    /// Every shard the stream has had since it was opened, by shard index, including closed ones.
    pub shards: Vec<ShardMetricsSnapshot>,
}

impl StreamMetricsSnapshot {
    /// The snapshot of shard `shard_id`, if the stream has had it.
    pub fn shard(&self, shard_id: ShardId) -> Option<&ShardMetricsSnapshot> {
        self.shards
            .binary_search_by_key(&shard_id, |shard| shard.shard_id)
            .ok()
            .and_then(|position| self.shards.get(position))
    }
}

/// Per-second rates of the cumulative values between two snapshots of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRates {
    /// The window: later `taken_ms` minus earlier `taken_ms` (always > 0).
    pub window_ms: u64,
    /// Stream-level rates, for every cumulative [`StreamMetric`], in [`StreamMetric::ALL`] order.
    pub stream: Vec<(StreamMetric, f64)>,
    /// Per-shard rates, for every cumulative [`ShardMetric`], for each shard of the later
    /// snapshot (a shard new since the earlier one counts from zero).
    pub shards: Vec<(ShardId, Vec<(ShardMetric, f64)>)>,
}

impl StreamRates {
    /// The stream-level rate of `metric` per second; `None` for a value that is not cumulative.
    pub fn stream(&self, metric: StreamMetric) -> Option<f64> {
        self.stream
            .iter()
            .find(|(candidate, _)| *candidate == metric)
            .map(|(_, rate)| *rate)
    }

    /// A shard's rate of `metric` per second; `None` for an unknown shard or a value that is not
    /// cumulative.
    pub fn shard(&self, shard_id: ShardId, metric: ShardMetric) -> Option<f64> {
        self.shards
            .iter()
            .find(|(candidate, _)| *candidate == shard_id)?
            .1
            .iter()
            .find(|(candidate, _)| *candidate == metric)
            .map(|(_, rate)| *rate)
    }

    /// Mean GetRecords latency over the window in microseconds; `None` without calls in it.
    pub fn get_records_latency_us_mean(&self) -> Option<f64> {
        let calls = self.stream(StreamMetric::GetRecordsLatencyCount)?;
        let sum = self.stream(StreamMetric::GetRecordsLatencySum)?;
        (calls > 0.0).then(|| sum / calls)
    }
}

/// The per-second rates of every cumulative value between `earlier` and `later`.
///
/// `None` when they are not an earlier and a later snapshot of the same open stream: different
/// stream names, `later` not taken after `earlier`, or a counter that went backwards (the stream
/// was reopened in between, which resets its counters).
pub fn rate_per_second(
    earlier: &StreamMetricsSnapshot,
    later: &StreamMetricsSnapshot,
) -> Option<StreamRates> {
    if earlier.stream_name != later.stream_name || later.taken_ms <= earlier.taken_ms {
        return None;
    }
    let window_ms = later.taken_ms - earlier.taken_ms;
    let per_second = |before: u64, after: u64| -> Option<f64> {
        let delta = after.checked_sub(before)?;
        Some(delta as f64 * 1000.0 / window_ms as f64)
    };
    let stream = StreamMetric::ALL
        .iter()
        .filter(|metric| metric.statistic().is_cumulative())
        .map(|&metric| {
            let rate = per_second(earlier.stream.get(metric), later.stream.get(metric))?;
            Some((metric, rate))
        })
        .collect::<Option<Vec<_>>>()?;
    let shards = later
        .shards
        .iter()
        .map(|after| {
            let before = earlier.shard(after.shard_id);
            let rates = ShardMetric::ALL
                .iter()
                .filter(|metric| metric.statistic().is_cumulative())
                .map(|&metric| {
                    let start = before.map_or(0, |before| before.get(metric));
                    Some((metric, per_second(start, after.get(metric))?))
                })
                .collect::<Option<Vec<_>>>()?;
            Some((after.shard_id, rates))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(StreamRates {
        window_ms,
        stream,
        shards,
    })
}
