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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::names::{ShardId, StreamName};

/// A record's size as every `Bytes` metric and the throughput limits count it: data plus
/// partition key.
pub(crate) fn record_bytes(partition_key: &str, data: &[u8]) -> u64 {
    (partition_key.len() + data.len()) as u64
}

/// What a metric's value means, in CloudWatch terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    /// A running total since the stream was opened (a Prometheus counter).
    Sum,
    /// The number of samples since the stream was opened (a Prometheus counter).
    SampleCount,
    /// The largest sample since the stream was opened.
    Maximum,
    /// The most recent sample (a Prometheus gauge).
    Latest,
}

impl Statistic {
    /// The CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::SampleCount => "SampleCount",
            Statistic::Maximum => "Maximum",
            Statistic::Latest => "Latest",
        }
    }

    /// Whether the value only grows, so a difference over a window is meaningful.
    pub fn is_cumulative(self) -> bool {
        matches!(self, Statistic::Sum | Statistic::SampleCount)
    }
}

/// The unit of a metric's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Bytes.
    Bytes,
    /// A count of records or calls.
    Count,
    /// Milliseconds.
    Milliseconds,
    /// Microseconds.
    Microseconds,
}

impl Unit {
    /// The CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "Bytes",
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Microseconds => "Microseconds",
        }
    }
}

/// Declares a metric enum: its variants with their Kinesis name, statistic and unit.
macro_rules! metrics {
    (
        $(#[$enum_doc:meta])*
        $enum:ident {
            $( $(#[$doc:meta])* $variant:ident = ($name:literal, $statistic:ident, $unit:ident), )+
        }
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $( $(#[$doc])* $variant, )+
        }

        impl $enum {
            /// Every value, in the order snapshots list them.
            pub const ALL: &'static [$enum] = &[ $( $enum::$variant, )+ ];

            /// The Kinesis metric name.
            pub fn name(self) -> &'static str {
                match self { $( $enum::$variant => $name, )+ }
            }

            /// The statistic this value stands for.
            pub fn statistic(self) -> Statistic {
                match self { $( $enum::$variant => Statistic::$statistic, )+ }
            }

            /// The unit of the value.
            pub fn unit(self) -> Unit {
                match self { $( $enum::$variant => Unit::$unit, )+ }
            }
        }
    };
}

metrics! {
    /// A stream-level value (CloudWatch dimension `StreamName`).
    StreamMetric {
        /// Bytes stored by PutRecord and PutRecords.
        IncomingBytes = ("IncomingBytes", Sum, Bytes),
        /// Records stored by PutRecord and PutRecords.
        IncomingRecords = ("IncomingRecords", Sum, Count),
        /// Successful PutRecord calls.
        PutRecordSuccess = ("PutRecord.Success", Sum, Count),
        /// Bytes stored by PutRecord.
        PutRecordBytes = ("PutRecord.Bytes", Sum, Bytes),
        /// PutRecords calls that stored at least one record.
        PutRecordsSuccess = ("PutRecords.Success", Sum, Count),
        /// Bytes stored by PutRecords.
        PutRecordsBytes = ("PutRecords.Bytes", Sum, Bytes),
        /// Entries of PutRecords calls that passed validation.
        PutRecordsTotalRecords = ("PutRecords.TotalRecords", Sum, Count),
        /// PutRecords entries stored.
        PutRecordsSuccessfulRecords = ("PutRecords.SuccessfulRecords", Sum, Count),
        /// PutRecords entries that failed with `InternalFailure`.
        PutRecordsFailedRecords = ("PutRecords.FailedRecords", Sum, Count),
        /// PutRecords entries refused by the shard's write limits.
        PutRecordsThrottledRecords = ("PutRecords.ThrottledRecords", Sum, Count),
        /// Successful GetRecords calls.
        GetRecordsSuccess = ("GetRecords.Success", Sum, Count),
        /// Records returned by GetRecords.
        GetRecordsRecords = ("GetRecords.Records", Sum, Count),
        /// Bytes returned by GetRecords.
        GetRecordsBytes = ("GetRecords.Bytes", Sum, Bytes),
        /// The largest of the shards' latest iterator ages: how far the slowest shard's consumer
        /// was behind at its last call.
        GetRecordsIteratorAgeMilliseconds =
            ("GetRecords.IteratorAgeMilliseconds", Latest, Milliseconds),
        /// The largest iterator age any GetRecords call reported.
        GetRecordsIteratorAgeMillisecondsMax =
            ("GetRecords.IteratorAgeMilliseconds", Maximum, Milliseconds),
        /// Total time spent in successful GetRecords calls.
        GetRecordsLatencySum = ("GetRecords.Latency", Sum, Microseconds),
        /// Number of GetRecords latency samples (one per successful call).
        GetRecordsLatencyCount = ("GetRecords.Latency", SampleCount, Count),
        /// The longest successful GetRecords call.
        GetRecordsLatencyMax = ("GetRecords.Latency", Maximum, Microseconds),
        /// Records refused by the shards' write limits (PutRecord and PutRecords).
        WriteProvisionedThroughputExceeded = ("WriteProvisionedThroughputExceeded", Sum, Count),
        /// GetRecords calls refused by the shards' read limits.
        ReadProvisionedThroughputExceeded = ("ReadProvisionedThroughputExceeded", Sum, Count),
    }
}

metrics! {
    /// A shard-level value (CloudWatch dimensions `StreamName`, `ShardId`: enhanced monitoring).
    ShardMetric {
        /// Bytes stored in the shard.
        IncomingBytes = ("IncomingBytes", Sum, Bytes),
        /// Records stored in the shard.
        IncomingRecords = ("IncomingRecords", Sum, Count),
        /// Bytes read from the shard.
        OutgoingBytes = ("OutgoingBytes", Sum, Bytes),
        /// Records read from the shard.
        OutgoingRecords = ("OutgoingRecords", Sum, Count),
        /// Records refused by the shard's write limits.
        WriteProvisionedThroughputExceeded = ("WriteProvisionedThroughputExceeded", Sum, Count),
        /// Reads refused by the shard's read limits.
        ReadProvisionedThroughputExceeded = ("ReadProvisionedThroughputExceeded", Sum, Count),
        /// The iterator age the shard's latest read reported.
        IteratorAgeMilliseconds = ("IteratorAgeMilliseconds", Latest, Milliseconds),
        /// The largest iterator age any read of the shard reported.
        IteratorAgeMillisecondsMax = ("IteratorAgeMilliseconds", Maximum, Milliseconds),
    }
}

/// Counters written by the shard's producers. Aligned to two cache lines (adjacent-line
/// prefetching pairs them) so consumers and other shards never write near them.
#[derive(Debug, Default)]
#[repr(align(128))]
struct WriteCounters {
    put_record_records: AtomicU64,
    put_record_bytes: AtomicU64,
    put_records_records: AtomicU64,
    put_records_bytes: AtomicU64,
    throttled_records: AtomicU64,
}

/// Counters written by the shard's consumers; aligned for the same reason.
#[derive(Debug, Default)]
#[repr(align(128))]
struct ReadCounters {
    calls: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    latency_us_sum: AtomicU64,
    latency_us_max: AtomicU64,
    iterator_age_ms: AtomicU64,
    iterator_age_ms_max: AtomicU64,
    throttled_calls: AtomicU64,
}

/// One shard's counters. Only the stream layer writes them; read them through
/// [`Shard::metrics`](super::Shard::metrics).
#[derive(Debug, Default)]
pub(crate) struct ShardMetrics {
    write: WriteCounters,
    read: ReadCounters,
}

/// Adds without a read-modify-write when there is nothing to add (the common zero cases).
fn add(counter: &AtomicU64, amount: u64) {
    if amount != 0 {
        counter.fetch_add(amount, Ordering::Relaxed);
    }
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl ShardMetrics {
    /// A successful PutRecord of `record_bytes`.
    pub(crate) fn put_record(&self, record_bytes: u64) {
        self.write
            .put_record_records
            .fetch_add(1, Ordering::Relaxed);
        self.write
            .put_record_bytes
            .fetch_add(record_bytes, Ordering::Relaxed);
    }

    /// One shard group of a PutRecords call: `records` entries of `bytes` in total stored.
    pub(crate) fn put_records(&self, records: u64, bytes: u64) {
        add(&self.write.put_records_records, records);
        add(&self.write.put_records_bytes, bytes);
    }

    /// `records` refused by the write limits.
    pub(crate) fn write_throttled(&self, records: u64) {
        add(&self.write.throttled_records, records);
    }

    /// One successful read: `records` of `bytes` in total, the reader `iterator_age_ms` behind the
    /// newest record afterwards, taking `latency_us`.
    pub(crate) fn read(&self, records: u64, bytes: u64, iterator_age_ms: u64, latency_us: u64) {
        let read = &self.read;
        read.calls.fetch_add(1, Ordering::Relaxed);
        add(&read.records, records);
        add(&read.bytes, bytes);
        add(&read.latency_us_sum, latency_us);
        read.latency_us_max.fetch_max(latency_us, Ordering::Relaxed);
        read.iterator_age_ms
            .store(iterator_age_ms, Ordering::Relaxed);
        read.iterator_age_ms_max
            .fetch_max(iterator_age_ms, Ordering::Relaxed);
    }

    /// One read refused by the read limits.
    pub(crate) fn read_throttled(&self) {
        self.read.throttled_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// The shard's values now, under `shard_id`.
    pub(crate) fn snapshot(&self, shard_id: ShardId) -> ShardMetricsSnapshot {
        let (write, read) = (&self.write, &self.read);
        ShardMetricsSnapshot {
            shard_id,
            incoming_bytes: load(&write.put_record_bytes) + load(&write.put_records_bytes),
            incoming_records: load(&write.put_record_records) + load(&write.put_records_records),
            outgoing_bytes: load(&read.bytes),
            outgoing_records: load(&read.records),
            write_provisioned_throughput_exceeded: load(&write.throttled_records),
            read_provisioned_throughput_exceeded: load(&read.throttled_calls),
            iterator_age_ms: load(&read.iterator_age_ms),
            iterator_age_ms_max: load(&read.iterator_age_ms_max),
        }
    }
}

/// Outcomes of PutRecords calls that only the whole call knows.
#[derive(Debug, Default)]
#[repr(align(128))]
struct PutRecordsCallCounters {
    /// Calls that stored at least one record.
    successful_calls: AtomicU64,
    failed_records: AtomicU64,
    throttled_records: AtomicU64,
}

/// A stream's metrics: the per-call counters and every shard's counters, by shard index.
#[derive(Debug, Default)]
pub(crate) struct StreamMetrics {
    put_records: PutRecordsCallCounters,
    /// Every shard this stream has opened since it was opened, by index. Invariant: entries are
    /// never removed, so stream totals (sums over these) never decrease.
    shards: Mutex<BTreeMap<u32, Arc<ShardMetrics>>>,
}

impl StreamMetrics {
    /// The counters of the shard with index `index`, created on first use. A shard object rebuilt
    /// for the same shard shares them.
    pub(crate) fn shard(&self, index: u32) -> Arc<ShardMetrics> {
        Arc::clone(self.shards.lock().entry(index).or_default())
    }

    /// The outcome of one PutRecords call that passed validation.
    pub(crate) fn put_records_call(&self, successful: u64, failed: u64, throttled: u64) {
        if successful > 0 {
            self.put_records
                .successful_calls
                .fetch_add(1, Ordering::Relaxed);
        }
        add(&self.put_records.failed_records, failed);
        add(&self.put_records.throttled_records, throttled);
    }

    /// Every value now.
    pub(crate) fn snapshot(&self, stream_name: StreamName, taken_ms: u64) -> StreamMetricsSnapshot {
        let shards: Vec<(u32, Arc<ShardMetrics>)> = self
            .shards
            .lock()
            .iter()
            .map(|(index, metrics)| (*index, Arc::clone(metrics)))
            .collect();
        let mut stream = StreamValues {
            put_records_failed_records: load(&self.put_records.failed_records),
            put_records_throttled_records: load(&self.put_records.throttled_records),
            put_records_success: load(&self.put_records.successful_calls),
            ..StreamValues::default()
        };
        let mut shard_snapshots = Vec::with_capacity(shards.len());
        for (index, metrics) in shards {
            let (write, read) = (&metrics.write, &metrics.read);
            stream.put_record_success += load(&write.put_record_records);
            stream.put_record_bytes += load(&write.put_record_bytes);
            stream.put_records_successful_records += load(&write.put_records_records);
            stream.put_records_bytes += load(&write.put_records_bytes);
            stream.write_provisioned_throughput_exceeded += load(&write.throttled_records);
            stream.get_records_success += load(&read.calls);
            stream.get_records_records += load(&read.records);
            stream.get_records_bytes += load(&read.bytes);
            stream.get_records_latency_us_sum += load(&read.latency_us_sum);
            stream.get_records_latency_us_max = stream
                .get_records_latency_us_max
                .max(load(&read.latency_us_max));
            stream.get_records_iterator_age_ms = stream
                .get_records_iterator_age_ms
                .max(load(&read.iterator_age_ms));
            stream.get_records_iterator_age_ms_max = stream
                .get_records_iterator_age_ms_max
                .max(load(&read.iterator_age_ms_max));
            stream.read_provisioned_throughput_exceeded += load(&read.throttled_calls);
            shard_snapshots.push(metrics.snapshot(ShardId::new(index)));
        }
        stream.incoming_bytes = stream.put_record_bytes + stream.put_records_bytes;
        stream.incoming_records = stream.put_record_success + stream.put_records_successful_records;
        stream.put_records_total_records = stream.put_records_successful_records
            + stream.put_records_failed_records
            + stream.put_records_throttled_records;
        StreamMetricsSnapshot {
            stream_name,
            taken_ms,
            stream,
            shards: shard_snapshots,
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> StreamName {
        StreamName::new("metrics").expect("valid name")
    }

    #[test]
    fn stream_values_are_sums_and_maxima_over_shards() {
        let metrics = StreamMetrics::default();
        let (first, second) = (metrics.shard(0), metrics.shard(1));
        first.put_record(100);
        first.put_record(50);
        second.put_records(3, 30);
        second.write_throttled(2);
        metrics.put_records_call(3, 1, 2);
        first.read(2, 150, 40, 7);
        second.read(3, 30, 10, 9);
        second.read(0, 0, 0, 1);
        first.read_throttled();

        let snapshot = metrics.snapshot(name(), 5);
        let stream = snapshot.stream;
        assert_eq!((stream.incoming_bytes, stream.incoming_records), (180, 5));
        assert_eq!(
            (stream.put_record_success, stream.put_record_bytes),
            (2, 150)
        );
        assert_eq!(stream.put_records_success, 1);
        assert_eq!(stream.put_records_bytes, 30);
        assert_eq!(stream.put_records_successful_records, 3);
        assert_eq!(stream.put_records_failed_records, 1);
        assert_eq!(stream.put_records_throttled_records, 2);
        assert_eq!(stream.put_records_total_records, 6);
        assert_eq!(stream.write_provisioned_throughput_exceeded, 2);
        assert_eq!(stream.get_records_success, 3);
        assert_eq!(stream.get(StreamMetric::GetRecordsLatencyCount), 3);
        assert_eq!(
            (stream.get_records_records, stream.get_records_bytes),
            (5, 180)
        );
        assert_eq!(stream.get_records_latency_us_sum, 17);
        assert_eq!(stream.get_records_latency_us_max, 9);
        // The second shard's consumer caught up; the first is still 40 ms behind.
        assert_eq!(stream.get_records_iterator_age_ms, 40);
        assert_eq!(stream.get_records_iterator_age_ms_max, 40);
        assert_eq!(stream.read_provisioned_throughput_exceeded, 1);

        let second_snapshot = snapshot.shard(ShardId::new(1)).expect("shard 1");
        assert_eq!(second_snapshot.iterator_age_ms, 0);
        assert_eq!(second_snapshot.iterator_age_ms_max, 10);
        assert_eq!(second_snapshot.incoming_records, 3);
        assert_eq!(second_snapshot.write_provisioned_throughput_exceeded, 2);
        assert_eq!(second_snapshot.outgoing_bytes, 30);
        assert_eq!(
            snapshot
                .shards
                .iter()
                .map(|s| s.incoming_bytes)
                .sum::<u64>(),
            stream.incoming_bytes
        );
    }

    #[test]
    fn a_shard_rebuilt_for_the_same_index_shares_its_counters() {
        let metrics = StreamMetrics::default();
        metrics.shard(4).put_record(10);
        metrics.shard(4).put_record(10);
        let snapshot = metrics.snapshot(name(), 0);
        assert_eq!(snapshot.shards.len(), 1);
        assert_eq!(snapshot.stream.incoming_bytes, 20);
    }

    #[test]
    fn rates_are_differences_per_second() {
        let metrics = StreamMetrics::default();
        let shard = metrics.shard(0);
        shard.put_record(1000);
        let earlier = metrics.snapshot(name(), 10_000);
        for _ in 0..6 {
            shard.put_record(500);
        }
        shard.read(6, 3000, 0, 400);
        shard.read(0, 0, 0, 200);
        let new_shard = metrics.shard(1);
        new_shard.put_records(4, 40);
        let later = metrics.snapshot(name(), 12_000);

        let rates = rate_per_second(&earlier, &later).expect("a window");
        assert_eq!(rates.window_ms, 2000);
        assert_eq!(rates.stream(StreamMetric::IncomingBytes), Some(1520.0));
        assert_eq!(rates.stream(StreamMetric::IncomingRecords), Some(5.0));
        assert_eq!(rates.stream(StreamMetric::PutRecordSuccess), Some(3.0));
        assert_eq!(rates.stream(StreamMetric::GetRecordsSuccess), Some(1.0));
        assert_eq!(rates.get_records_latency_us_mean(), Some(300.0));
        assert_eq!(
            rates.stream(StreamMetric::GetRecordsIteratorAgeMilliseconds),
            None
        );
        assert_eq!(
            rates.shard(ShardId::new(0), ShardMetric::OutgoingBytes),
            Some(1500.0)
        );
        // A shard that appeared within the window counts from zero.
        assert_eq!(
            rates.shard(ShardId::new(1), ShardMetric::IncomingRecords),
            Some(2.0)
        );
        assert_eq!(
            rates.shard(ShardId::new(2), ShardMetric::IncomingRecords),
            None
        );
    }

    #[test]
    fn rates_need_a_later_snapshot_of_the_same_stream_without_resets() {
        let metrics = StreamMetrics::default();
        metrics.shard(0).put_record(10);
        let earlier = metrics.snapshot(name(), 1000);
        assert!(rate_per_second(&earlier, &earlier).is_none());
        let later = metrics.snapshot(name(), 2000);
        assert!(rate_per_second(&later, &earlier).is_none());
        let other =
            StreamMetrics::default().snapshot(StreamName::new("other").expect("name"), 2000);
        assert!(rate_per_second(&earlier, &other).is_none());
        // A reopened stream starts from zero: its counters went backwards.
        let reopened = StreamMetrics::default().snapshot(name(), 3000);
        assert!(rate_per_second(&earlier, &reopened).is_none());
        assert!(rate_per_second(&earlier, &later).is_some());
    }

    #[test]
    fn every_metric_has_its_kinesis_name_and_a_distinct_identity() {
        let names: Vec<(&str, Statistic)> = StreamMetric::ALL
            .iter()
            .map(|metric| (metric.name(), metric.statistic()))
            .collect();
        for (position, entry) in names.iter().enumerate() {
            assert!(
                !names.iter().take(position).any(|seen| seen == entry),
                "{entry:?} twice"
            );
        }
        for expected in [
            "IncomingBytes",
            "IncomingRecords",
            "PutRecord.Success",
            "PutRecord.Bytes",
            "PutRecords.Success",
            "PutRecords.Bytes",
            "PutRecords.TotalRecords",
            "PutRecords.SuccessfulRecords",
            "PutRecords.FailedRecords",
            "PutRecords.ThrottledRecords",
            "GetRecords.Bytes",
            "GetRecords.Records",
            "GetRecords.Success",
            "GetRecords.IteratorAgeMilliseconds",
            "GetRecords.Latency",
            "WriteProvisionedThroughputExceeded",
            "ReadProvisionedThroughputExceeded",
        ] {
            assert!(
                names.iter().any(|(name, _)| *name == expected),
                "{expected}"
            );
        }
        let shard_names: Vec<&str> = ShardMetric::ALL.iter().map(|m| m.name()).collect();
        for expected in [
            "IncomingBytes",
            "IncomingRecords",
            "OutgoingBytes",
            "OutgoingRecords",
            "WriteProvisionedThroughputExceeded",
            "ReadProvisionedThroughputExceeded",
            "IteratorAgeMilliseconds",
        ] {
            assert!(shard_names.contains(&expected), "{expected}");
        }
    }
}
