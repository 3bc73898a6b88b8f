//! The live counters: relaxed atomics the stream layer adds to once per call, in cache-line-aligned
//! groups so that producers and consumers never write the same line (see the parent module).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::snapshots::{ShardMetricsSnapshot, StreamMetricsSnapshot, StreamValues};
use crate::stream::names::{ShardId, StreamName};

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
