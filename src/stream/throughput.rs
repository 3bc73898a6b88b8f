//! Kinesis' per-shard throughput limits for PROVISIONED streams, as token buckets.
//!
//! Each shard accepts writes of 1 MiB/s and 1 000 records/s, and reads of 2 MiB/s and 5 GetRecords
//! calls/s (docs/KINESIS.md §5.1 and §4.2). Each limit is a token bucket that refills
//! continuously at its rate and holds at most one second of it, so a shard that was idle can take
//! one second's budget at once, and exactly that: with a stopped clock, 1 000 records pass and the
//! 1 001st is refused.
//!
//! - **Writes** are charged before they are stored: a record passes only if both its record token
//!   and its size (data plus partition key) are in the buckets. PutRecords decides per record, in
//!   request order, so a refused entry does not stop later, smaller ones. A record larger than one
//!   second's byte budget (possible with `MaxRecordSizeInKiB` above 1024) passes when the byte
//!   bucket is full and leaves it in debt, which later writes wait out: the average still holds.
//! - **Reads** cannot know their size in advance, so, as Kinesis does, a call is let through while
//!   the byte bucket is not in debt and charged for what it returned afterwards; a large read then
//!   throttles the calls that follow until the debt is repaid (10 MiB read from a full bucket:
//!   4 s). The call bucket is charged one token before the read.
//! - Time comes from the engine's [`Clock`](crate::clock::Clock) in milliseconds; a clock that
//!   goes backwards refills nothing.
//!
//! Limits apply only when the owner of the streams enables them (an engine's
//! `EngineOptions::enforce_throughput_limits`) and only to
//! PROVISIONED streams: ON_DEMAND capacity follows traffic, so its shards are not held to these
//! per-shard limits. When they do not apply, the buckets are never touched.
//!
//! Each shard has two tiny locks, one for writes and one for reads, held for a few arithmetic
//! operations: producers of a shard are already serialized by the log's writer lock, so the write
//! lock is uncontended in practice.

use parking_lot::Mutex;

use super::error::Throttled;
use super::{Shard, Stream, StreamError, StreamMode, StreamResult};

/// Bytes per second one shard accepts (data plus partition keys).
pub const WRITE_BYTES_PER_SECOND: u64 = 1024 * 1024;
/// Records per second one shard accepts.
pub const WRITE_RECORDS_PER_SECOND: u64 = 1000;
/// Bytes per second GetRecords may return from one shard (data plus partition keys).
pub const READ_BYTES_PER_SECOND: u64 = 2 * 1024 * 1024;
/// GetRecords calls per second one shard answers.
pub const READ_CALLS_PER_SECOND: u64 = 5;

/// Token amounts are kept in thousandths of a token, so that refilling by the millisecond is exact
/// integer arithmetic: a bucket of `rate` tokens per second gains `rate` thousandths per ms.
const MILLI_TOKENS_PER_TOKEN: i64 = 1000;

/// A bucket that refills at `rate_per_second` up to one second's worth.
#[derive(Debug)]
struct TokenBucket {
    rate_per_second: u64,
    /// Thousandths of a token. Invariant: at most `capacity()`; negative only in debt (reads
    /// charged after the fact, or a write larger than the capacity).
    balance: i64,
    /// The clock reading the balance is up to date with. Only grows.
    refilled_ms: u64,
}

impl TokenBucket {
    /// A full bucket.
    fn full(rate_per_second: u64) -> TokenBucket {
        let mut bucket = TokenBucket {
            rate_per_second,
            balance: 0,
            refilled_ms: 0,
        };
        bucket.balance = bucket.capacity();
        bucket
    }

    /// One second's worth, in thousandths of a token.
    fn capacity(&self) -> i64 {
        to_milli(self.rate_per_second)
    }

    /// Adds what `now_ms` − last refill earned, up to the capacity.
    fn refill(&mut self, now_ms: u64) {
        let elapsed_ms = now_ms.saturating_sub(self.refilled_ms);
        if elapsed_ms == 0 {
            return;
        }
        self.refilled_ms = now_ms;
        // Milli-tokens earned are rate × elapsed; bounding elapsed keeps the product in range, and
        // a day's refill more than repays any debt a single call can make.
        let earned = i64::try_from(elapsed_ms.min(86_400_000))
            .unwrap_or(i64::MAX)
            .saturating_mul(i64::try_from(self.rate_per_second).unwrap_or(i64::MAX));
        self.balance = self.balance.saturating_add(earned).min(self.capacity());
    }

    /// Whether `tokens` can be taken now. A request larger than the capacity fits a full bucket.
    fn has(&self, tokens: u64) -> bool {
        self.balance >= to_milli(tokens).min(self.capacity())
    }

    /// Takes `tokens`, into debt if need be.
    fn take(&mut self, tokens: u64) {
        self.balance = self.balance.saturating_sub(to_milli(tokens));
        debug_assert!(
            self.balance <= self.capacity(),
            "a bucket never exceeds one second"
        );
    }
}

fn to_milli(tokens: u64) -> i64 {
    i64::try_from(tokens)
        .unwrap_or(i64::MAX)
        .saturating_mul(MILLI_TOKENS_PER_TOKEN)
}

#[derive(Debug)]
struct WriteBuckets {
    records: TokenBucket,
    bytes: TokenBucket,
}

#[derive(Debug)]
struct ReadBuckets {
    calls: TokenBucket,
    bytes: TokenBucket,
}

/// One shard's write and read budgets.
#[derive(Debug)]
pub(crate) struct ShardThroughput {
    write: Mutex<WriteBuckets>,
    read: Mutex<ReadBuckets>,
}

impl Default for ShardThroughput {
    /// Full buckets: a new shard can take one second's budget at once.
    fn default() -> ShardThroughput {
        ShardThroughput {
            write: Mutex::new(WriteBuckets {
                records: TokenBucket::full(WRITE_RECORDS_PER_SECOND),
                bytes: TokenBucket::full(WRITE_BYTES_PER_SECOND),
            }),
            read: Mutex::new(ReadBuckets {
                calls: TokenBucket::full(READ_CALLS_PER_SECOND),
                bytes: TokenBucket::full(READ_BYTES_PER_SECOND),
            }),
        }
    }
}

impl ShardThroughput {
    /// Decides, in order, whether each record of `record_bytes` may be written now, and charges
    /// the ones that may. `admitted` is called once per record with the decision.
    pub(crate) fn admit_writes(
        &self,
        now_ms: u64,
        record_bytes: impl IntoIterator<Item = u64>,
        mut admitted: impl FnMut(bool),
    ) {
        let mut buckets = self.write.lock();
        buckets.records.refill(now_ms);
        buckets.bytes.refill(now_ms);
        for bytes in record_bytes {
            let fits = buckets.records.has(1) && buckets.bytes.has(bytes);
            if fits {
                buckets.records.take(1);
                buckets.bytes.take(bytes);
            }
            admitted(fits);
        }
    }

    /// Whether one record of `record_bytes` may be written now; charges it if so.
    pub(crate) fn admit_write(&self, now_ms: u64, record_bytes: u64) -> bool {
        let mut fits = false;
        self.admit_writes(now_ms, [record_bytes], |decision| fits = decision);
        fits
    }

    /// Whether a read may start now: a call token is left and the byte budget is not in debt (nor
    /// exactly used up). Charges the call token if so; the bytes follow with
    /// [`ShardThroughput::charge_read`].
    pub(crate) fn admit_read(&self, now_ms: u64) -> bool {
        let mut buckets = self.read.lock();
        buckets.calls.refill(now_ms);
        buckets.bytes.refill(now_ms);
        let fits = buckets.calls.has(1) && buckets.bytes.balance > 0;
        if fits {
            buckets.calls.take(1);
        }
        fits
    }

    /// Charges `bytes` a read returned, into debt if they exceed what was left.
    pub(crate) fn charge_read(&self, now_ms: u64, bytes: u64) {
        let mut buckets = self.read.lock();
        buckets.bytes.refill(now_ms);
        buckets.bytes.take(bytes);
    }
}

impl Stream {
    /// Whether this stream's shards are held to the limits now: the engine enforces them and the
    /// stream is PROVISIONED. Reads only a flag when enforcement is off, so the hot path never
    /// looks at the mode or the buckets.
    pub(super) fn throughput_limits_apply(&self) -> bool {
        self.context.enforce_throughput_limits && self.meta.read().mode == StreamMode::Provisioned
    }

    /// Why a write or read of `shard` is refused.
    pub(super) fn throttled(&self, shard: &Shard) -> Throttled {
        Throttled {
            shard: shard.id(),
            stream: self.meta.read().name.clone(),
            account: self.context.account_id.clone(),
        }
    }

    /// Charges one record of `record_bytes` to `shard`'s write budget if limits apply, or refuses
    /// it (and counts the refusal).
    pub(super) fn admit_write(&self, shard: &Shard, record_bytes: u64) -> StreamResult<()> {
        if !self.throughput_limits_apply()
            || shard
                .throughput
                .admit_write(self.context.clock.now_ms(), record_bytes)
        {
            return Ok(());
        }
        shard.metrics.write_throttled(1);
        Err(StreamError::ProvisionedThroughputExceeded(
            self.throttled(shard),
        ))
    }

    /// Lets a read of `shard` start if limits do not apply or its read budget allows, charging
    /// one call; refuses it (and counts the refusal) otherwise. Returns whether the read's bytes
    /// must be charged afterwards with [`Stream::charge_read`].
    pub(super) fn admit_read(&self, shard: &Shard) -> StreamResult<bool> {
        if !self.throughput_limits_apply() {
            return Ok(false);
        }
        if shard.throughput.admit_read(self.context.clock.now_ms()) {
            return Ok(true);
        }
        shard.metrics.read_throttled();
        Err(StreamError::ProvisionedThroughputExceeded(
            self.throttled(shard),
        ))
    }

    /// Charges the bytes an admitted read returned to `shard`'s read budget.
    pub(super) fn charge_read(&self, shard: &Shard, bytes: u64) {
        shard
            .throughput
            .charge_read(self.context.clock.now_ms(), bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn admitted_writes(throughput: &ShardThroughput, now_ms: u64, sizes: &[u64]) -> usize {
        let mut count = 0;
        throughput.admit_writes(now_ms, sizes.iter().copied(), |fits| {
            count += usize::from(fits)
        });
        count
    }

    #[test]
    fn a_full_bucket_passes_exactly_one_second_of_records_then_refills_by_the_millisecond() {
        let throughput = ShardThroughput::default();
        assert_eq!(admitted_writes(&throughput, T0, &[1; 1500]), 1000);
        assert!(!throughput.admit_write(T0, 1));
        // 1 000 records/s is one per millisecond.
        assert!(throughput.admit_write(T0 + 1, 1));
        assert!(!throughput.admit_write(T0 + 1, 1));
        assert_eq!(admitted_writes(&throughput, T0 + 251, &[1; 400]), 250);
        // Idle for a minute: still only one second's worth.
        assert_eq!(admitted_writes(&throughput, T0 + 60_000, &[1; 1500]), 1000);
    }

    #[test]
    fn bytes_limit_writes_and_a_refused_record_does_not_stop_smaller_ones() {
        let throughput = ShardThroughput::default();
        let quarter = WRITE_BYTES_PER_SECOND / 4;
        assert_eq!(
            admitted_writes(&throughput, T0, &[quarter, quarter, quarter, 1]),
            4
        );
        // A quarter minus one byte is left: the big record is refused, the small one passes.
        let decisions = {
            let mut decisions = Vec::new();
            throughput.admit_writes(T0, [quarter, quarter - 1, 1], |fits| decisions.push(fits));
            decisions
        };
        assert_eq!(decisions, vec![false, true, false]);
        // 1 MiB/s refills 1 048.576 bytes per ms: after 1 ms one kilobyte fits, not two.
        assert!(!throughput.admit_write(T0 + 1, 1049));
        assert!(throughput.admit_write(T0 + 1, 1048));
    }

    #[test]
    fn a_record_larger_than_a_second_passes_a_full_bucket_and_leaves_a_debt() {
        let throughput = ShardThroughput::default();
        assert!(throughput.admit_write(T0, 3 * WRITE_BYTES_PER_SECOND));
        // Two seconds of debt, then one second to fill again.
        assert!(!throughput.admit_write(T0 + 2000, 1));
        assert!(throughput.admit_write(T0 + 2001, 1));
        assert!(!throughput.admit_write(T0 + 2500, 3 * WRITE_BYTES_PER_SECOND));
        assert!(throughput.admit_write(T0 + 3100, 3 * WRITE_BYTES_PER_SECOND));
    }

    #[test]
    fn reads_pass_five_calls_a_second_and_are_charged_for_bytes_afterwards() {
        let throughput = ShardThroughput::default();
        for _ in 0..5 {
            assert!(throughput.admit_read(T0));
        }
        assert!(!throughput.admit_read(T0));
        // Five calls a second is one per 200 ms.
        assert!(!throughput.admit_read(T0 + 199));
        assert!(throughput.admit_read(T0 + 200));

        let throughput = ShardThroughput::default();
        assert!(throughput.admit_read(T0));
        throughput.charge_read(T0, 6 * 1024 * 1024);
        // 4 MiB of debt at 2 MiB/s: two seconds without reads.
        assert!(!throughput.admit_read(T0 + 2000));
        assert!(throughput.admit_read(T0 + 2001));
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let throughput = ShardThroughput::default();
        assert_eq!(admitted_writes(&throughput, T0, &[1; 1000]), 1000);
        assert_eq!(admitted_writes(&throughput, T0 - 5000, &[1; 10]), 0);
        assert_eq!(admitted_writes(&throughput, T0 + 10, &[1; 20]), 10);
    }
}
