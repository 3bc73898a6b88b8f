//! Push subscriptions (Kinesis enhanced fan-out's SubscribeToShard, without a server): one
//! registered, ACTIVE consumer reads one shard, and records are handed over as they are appended.
//!
//! A [`Subscription`] is a shard reader that blocks on the log's append notification (the same
//! wake-up [`super::ShardReader::wait_for_records`] uses), so a record appended while the
//! subscriber waits is delivered at once, never after a polling interval. Closing the shard, taking
//! the subscription over and deleting the stream wake it too (`ShardLog::wake_readers`).
//!
//! Kinesis' rules, kept here:
//! - One live subscription per consumer and shard. Subscribing again within
//!   [`SUBSCRIPTION_TAKEOVER_MS`] of the live one's start fails with
//!   [`SubscriptionError::InUse`]; later, the new one takes over and the old one's next event is
//!   [`SubscriptionError::TakenOver`]. Dropping a subscription frees its place.
//! - A subscription lasts [`SUBSCRIPTION_LIFETIME_MS`] by the engine's clock; then it ends (the
//!   caller subscribes again from the last `continuation_sequence_number`).
//! - An event carries the records read, the `ContinuationSequenceNumber` to resume after (with
//!   `AFTER_SEQUENCE_NUMBER`), and `MillisBehindLatest`; at the end of a closed shard it carries
//!   the children instead of a continuation, and the subscription ends.
//!
//! Events are bounded ([`EVENT_RECORDS_MAX`], [`EVENT_DATA_BYTES_MAX`]) and produced only when
//! asked for, so a slow subscriber holds at most one event's records. Subscriptions do not count
//! as GetRecords calls: fan-out reads have their own budget in Kinesis, and none is enforced here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::consumers::{ConsumerError, ConsumerStatus};
use super::iterator::StartingPosition;
use super::names::{ShardId, StreamName};
use super::reader::ChildShard;
use super::{Shard, Stream, StreamError};
use crate::log::LogReader;
use crate::record::Record;
use crate::sequence::SequenceNumber;

/// How long a subscription lasts (Kinesis: 5 minutes).
pub const SUBSCRIPTION_LIFETIME_MS: u64 = 5 * 60 * 1000;
/// A second subscription for the same consumer and shard is refused for this long after the
/// live one started, and takes it over after (Kinesis: 5 seconds).
pub const SUBSCRIPTION_TAKEOVER_MS: u64 = 5_000;
/// Most records in one event.
pub const EVENT_RECORDS_MAX: usize = 10_000;
/// Most record data in one event (a single larger record is still delivered alone).
pub const EVENT_DATA_BYTES_MAX: usize = 1024 * 1024;

/// One delivery of a subscription (Kinesis `SubscribeToShardEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEvent {
    /// The records, in sequence-number order; empty when the wait timed out.
    pub records: Vec<Record>,
    /// Subscribe again with `AFTER_SEQUENCE_NUMBER` and this to continue exactly after this
    /// event: the last record's sequence number, or the position the reader stands after. `None`
    /// only in the last event of a closed shard, which carries `child_shards`.
    pub continuation_sequence_number: Option<SequenceNumber>,
    /// Now minus the arrival of the last record delivered, or 0 when caught up.
    pub millis_behind_latest: u64,
    /// Set when the shard is closed and delivered to its end: the shards to read next.
    pub child_shards: Option<Vec<ChildShard>>,
}

/// Why a subscription could not start or continue. Its `Display` is Kinesis' message (worded in
/// `messages.rs`).
#[derive(Debug)]
#[non_exhaustive]
pub enum SubscriptionError {
    /// The consumer is not registered (`ResourceNotFoundException`).
    Consumer(ConsumerError),
    /// `ResourceInUseException`: the consumer is `CREATING` or `DELETING`.
    ConsumerNotActive {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// Its creation time in seconds (as its ARN carries it).
        created_secs: u64,
        /// The engine's account.
        account: String,
    },
    /// `ResourceInUseException`: a subscription of this consumer to this shard started less than
    /// [`SUBSCRIPTION_TAKEOVER_MS`] ago and is live.
    InUse {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// The shard.
        shard: ShardId,
        /// The engine's account.
        account: String,
    },
    /// `ResourceInUseException`: a later subscription of this consumer to this shard took this
    /// one over.
    TakenOver {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// The shard.
        shard: ShardId,
        /// The engine's account.
        account: String,
    },
    /// The stream, shard or starting position was refused, or reading failed.
    Stream(StreamError),
}

impl From<ConsumerError> for SubscriptionError {
    fn from(error: ConsumerError) -> SubscriptionError {
        SubscriptionError::Consumer(error)
    }
}

impl From<StreamError> for SubscriptionError {
    fn from(error: StreamError) -> SubscriptionError {
        SubscriptionError::Stream(error)
    }
}

impl SubscriptionError {
    /// The Kinesis exception name for the wire.
    pub fn kinesis_error_code(&self) -> &'static str {
        match self {
            SubscriptionError::Consumer(error) => error.kinesis_error_code(),
            SubscriptionError::ConsumerNotActive { .. }
            | SubscriptionError::InUse { .. }
            | SubscriptionError::TakenOver { .. } => "ResourceInUseException",
            SubscriptionError::Stream(error) => error.kinesis_error_code(),
        }
    }
}

impl From<crate::error::LogError> for SubscriptionError {
    fn from(error: crate::error::LogError) -> SubscriptionError {
        SubscriptionError::Stream(error.into())
    }
}

/// A consumer (name and creation time, so a namesake registered later is another consumer) and
/// a shard index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SubscriptionKey {
    consumer: String,
    consumer_created_ms: u64,
    shard_index: u32,
}

/// The live subscription of one key.
#[derive(Debug, Clone, Copy)]
struct Live {
    /// Identifies the subscription holding the place; a takeover gives it to a new one.
    generation: u64,
    started_ms: u64,
}

/// A stream's live subscriptions. Invariant: at most one per key; an entry is removed only by
/// the subscription whose generation it holds (when dropped), or with its consumer's
/// registration ([`LiveSubscriptions::end_consumer`]).
#[derive(Debug, Default)]
pub(crate) struct LiveSubscriptions {
    entries: Mutex<HashMap<SubscriptionKey, Live>>,
    next_generation: Mutex<u64>,
}

impl LiveSubscriptions {
    /// Takes the place of `key` at `now_ms` under Kinesis' rule; returns the new generation and
    /// whether a live subscription was taken over.
    fn acquire(&self, key: &SubscriptionKey, now_ms: u64) -> Option<(u64, bool)> {
        let generation = {
            let mut next = self.next_generation.lock();
            *next += 1;
            *next
        };
        let mut entries = self.entries.lock();
        let taken_over = match entries.get(key) {
            Some(live) if now_ms.saturating_sub(live.started_ms) < SUBSCRIPTION_TAKEOVER_MS => {
                return None;
            }
            Some(_) => true,
            None => false,
        };
        entries.insert(
            key.clone(),
            Live {
                generation,
                started_ms: now_ms,
            },
        );
        Some((generation, taken_over))
    }

    fn holds(&self, key: &SubscriptionKey, generation: u64) -> bool {
        self.entries
            .lock()
            .get(key)
            .is_some_and(|live| live.generation == generation)
    }

    /// Ends the live subscriptions of consumer `name` (being deregistered): each notices at its
    /// next wake-up that it no longer holds its place, and reports why.
    pub(crate) fn end_consumer(&self, name: &str) {
        self.entries.lock().retain(|key, _| key.consumer != name);
    }

    fn release(&self, key: &SubscriptionKey, generation: u64) {
        let mut entries = self.entries.lock();
        if entries
            .get(key)
            .is_some_and(|live| live.generation == generation)
        {
            entries.remove(key);
        }
    }
}

/// A live push subscription of one consumer to one shard; see the module docs. Dropping it ends
/// it.
pub struct Subscription {
    stream: Arc<Stream>,
    shard: Arc<Shard>,
    reader: LogReader,
    key: SubscriptionKey,
    generation: u64,
    /// Engine-clock time at which the subscription ends.
    ends_at_ms: u64,
    /// The last event has been delivered (the shard's end, or the lifetime's).
    finished: bool,
    /// The last record delivered: an empty event continues after it, as Kinesis' do.
    last_delivered: Option<SequenceNumber>,
}

impl Stream {
    /// Subscribes the registered consumer `consumer` (which must be ACTIVE) to shard `shard_id`
    /// from `position` (Kinesis SubscribeToShard). See the module docs for the rules.
    pub fn subscribe(
        self: &Arc<Self>,
        consumer: &str,
        shard_id: ShardId,
        position: StartingPosition,
    ) -> Result<Subscription, SubscriptionError> {
        self.check_writable()?;
        let now_ms = self.now_ms();
        let consumer_created_ms = {
            let meta = self.meta.read();
            let Some(registered) = meta.consumers.get(consumer) else {
                return Err(ConsumerError::NotFound {
                    stream: meta.name.clone(),
                    consumer: consumer.to_owned(),
                    account: self.context.account_id.clone(),
                }
                .into());
            };
            match registered.status_at(now_ms) {
                Some(ConsumerStatus::Active) => registered.created_ms,
                Some(_) => {
                    return Err(SubscriptionError::ConsumerNotActive {
                        stream: meta.name.clone(),
                        consumer: consumer.to_owned(),
                        created_secs: registered.created_secs(),
                        account: self.context.account_id.clone(),
                    });
                }
                None => {
                    return Err(ConsumerError::NotFound {
                        stream: meta.name.clone(),
                        consumer: consumer.to_owned(),
                        account: self.context.account_id.clone(),
                    }
                    .into());
                }
            }
        };
        let shard = self.shard(shard_id)?;
        let seek = self.seek_for(&shard, position)?;
        let reader = shard.log.reader(seek)?;
        let key = SubscriptionKey {
            consumer: consumer.to_owned(),
            consumer_created_ms,
            shard_index: shard_id.index(),
        };
        let Some((generation, taken_over)) = self.subscriptions.acquire(&key, now_ms) else {
            return Err(SubscriptionError::InUse {
                stream: self.name(),
                consumer: consumer.to_owned(),
                shard: shard_id,
                account: self.context.account_id.clone(),
            });
        };
        if taken_over {
            shard.log.wake_readers(); // the old subscription ends at once
        }
        Ok(Subscription {
            stream: Arc::clone(self),
            shard,
            reader,
            key,
            generation,
            ends_at_ms: now_ms.saturating_add(SUBSCRIPTION_LIFETIME_MS),
            finished: false,
            last_delivered: None,
        })
    }
}

impl Subscription {
    /// The shard subscribed to.
    pub fn shard_id(&self) -> ShardId {
        self.shard.id()
    }

    /// The next event: records ready now, or, if none are, the records appended within `timeout`
    /// (delivered as soon as the first is appended), or an empty event when `timeout` passes
    /// first. `Ok(None)` once the subscription has ended: after the event that carried the
    /// closed shard's children, or when its lifetime is over.
    pub fn next_event(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<SubscriptionEvent>, SubscriptionError> {
        if self.finished {
            return Ok(None);
        }
        self.check_live()?;
        let now_ms = self.stream.now_ms();
        if now_ms >= self.ends_at_ms {
            self.finished = true;
            return Ok(None);
        }
        if !self.reader.has_records() && self.shard.closed_secs().is_none() {
            let lifetime_left = Duration::from_millis(self.ends_at_ms - now_ms);
            let deadline = Instant::now() + timeout.min(lifetime_left);
            let (stream, shard) = (&self.stream, &self.shard);
            let (key, generation) = (&self.key, self.generation);
            self.reader.wait_for_records_or(deadline, || {
                shard.closed_secs().is_some()
                    || !stream.writable.load(Ordering::Acquire)
                    || !stream.subscriptions.holds(key, generation)
            });
            self.check_live()?;
        }
        let mut records = Vec::new();
        self.stream.read_unexpired(
            &self.shard,
            &mut self.reader,
            &mut records,
            EVENT_RECORDS_MAX,
            EVENT_DATA_BYTES_MAX,
        )?;
        let millis_behind_latest = self.stream.millis_behind(&self.reader, &records);
        let child_shards = self.stream.children_if_finished(&self.shard, &self.reader);
        let continuation_sequence_number = match child_shards {
            Some(_) => {
                self.finished = true;
                None
            }
            None => Some(self.continuation(&records)),
        };
        if let Some(last) = records.last() {
            self.last_delivered = Some(last.sequence_number());
        }
        Ok(Some(SubscriptionEvent {
            records,
            continuation_sequence_number,
            millis_behind_latest,
            child_shards,
        }))
    }

    /// Fails if the subscription was taken over, the stream is being deleted, or the consumer is
    /// no longer registered and ACTIVE (which also takes the subscription's place: see
    /// [`LiveSubscriptions::end_consumer`]).
    fn check_live(&self) -> Result<(), SubscriptionError> {
        let consumer_error = self.consumer_error();
        if consumer_error.is_none() && !self.stream.subscriptions.holds(&self.key, self.generation)
        {
            return Err(SubscriptionError::TakenOver {
                stream: self.stream.name(),
                consumer: self.key.consumer.clone(),
                shard: self.shard.id(),
                account: self.stream.context.account_id.clone(),
            });
        }
        self.stream.check_writable()?;
        consumer_error.map_or(Ok(()), Err)
    }

    /// Why the consumer can no longer subscribe: gone, or not ACTIVE.
    fn consumer_error(&self) -> Option<SubscriptionError> {
        let now_ms = self.stream.now_ms();
        let meta = self.stream.meta.read();
        let status = meta
            .consumers
            .get(&self.key.consumer)
            .filter(|consumer| consumer.created_ms == self.key.consumer_created_ms)
            .and_then(|consumer| consumer.status_at(now_ms));
        match status {
            Some(ConsumerStatus::Active) => None,
            Some(_) => Some(SubscriptionError::ConsumerNotActive {
                stream: meta.name.clone(),
                consumer: self.key.consumer.clone(),
                created_secs: self.key.consumer_created_ms / 1000,
                account: self.stream.context.account_id.clone(),
            }),
            None => Some(
                ConsumerError::NotFound {
                    stream: meta.name.clone(),
                    consumer: self.key.consumer.clone(),
                    account: self.stream.context.account_id.clone(),
                }
                .into(),
            ),
        }
    }

    /// The sequence number to continue after: the last record of this event or, if it has none,
    /// of an earlier one, as long as the reader stands right after it (skipping expired records
    /// moves it on); else the number just before the reader's position (only its counter matters
    /// to `AFTER_SEQUENCE_NUMBER`; it carries the shard's creation time).
    fn continuation(&self, records: &[Record]) -> SequenceNumber {
        if let Some(last) = records.last() {
            return last.sequence_number();
        }
        let next_counter = self.reader.next_counter();
        match self.last_delivered {
            Some(last) if last.counter().saturating_add(1) >= next_counter => last,
            _ => {
                let identity = self.shard.meta.identity();
                SequenceNumber::from_checked_parts(
                    identity,
                    next_counter
                        .saturating_sub(1)
                        .min(SequenceNumber::COUNTER_MAX),
                    identity.created_secs,
                )
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stream
            .subscriptions
            .release(&self.key, self.generation);
    }
}
