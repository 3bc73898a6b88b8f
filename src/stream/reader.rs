//! Reading a shard: the typed reader for library users, and GetShardIterator / GetRecords with
//! opaque tokens for the server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::InvalidArgument;
use super::hash_key::HashKeyRange;
use super::iterator::{ITERATOR_TTL_MS, IteratorToken, StartingPosition};
use super::names::ShardId;
use super::{Shard, Stream, StreamError, StreamResult};
use crate::log::{LogReader, SeekTo};
use crate::record::Record;
use crate::sequence::SequenceNumber;

/// Most records one GetRecords call returns.
pub const GET_RECORDS_LIMIT_MAX: usize = 10_000;
/// Most bytes of data one GetRecords call returns.
pub const GET_RECORDS_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Records read from a shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// The records, in sequence-number order.
    pub records: Vec<Record>,
    /// How far behind the newest record the reader is: now minus the arrival of the last record
    /// returned, or 0 when it has read everything.
    pub millis_behind_latest: u64,
    /// Set when the shard is closed (split or merged) and read to its end: the shards that
    /// continue it, to read next (Kinesis `ChildShards`). `None` while there is more to read.
    pub child_shards: Option<Vec<ChildShard>>,
}

/// A shard that continues a closed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildShard {
    /// The child's id.
    pub shard_id: ShardId,
    /// Its parents (one for a split, two for a merge).
    pub parent_shards: Vec<ShardId>,
    /// The hash keys it owns.
    pub hash_key_range: HashKeyRange,
}

/// The answer to GetRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRecordsOutput {
    /// The records and how far behind the reader is.
    pub batch: RecordBatch,
    /// Where to continue; `None` only when the shard is closed and fully read.
    pub next_shard_iterator: Option<String>,
}

/// A reader of one shard, from a starting position onwards.
pub struct ShardReader {
    stream: Arc<Stream>,
    shard: Arc<Shard>,
    reader: LogReader,
}

impl ShardReader {
    /// The shard being read.
    pub fn shard_id(&self) -> ShardId {
        self.shard.id()
    }

    /// Reads up to `limit` records (at most 10 000 and 10 MiB of data, as GetRecords; a single
    /// record larger than that is still returned alone). Expired records are skipped. Counts as a
    /// GetRecords call for the shard's metrics and read limits.
    pub fn next_batch(&mut self, limit: usize) -> StreamResult<RecordBatch> {
        let started = Instant::now();
        let limit = limit.clamp(1, GET_RECORDS_LIMIT_MAX);
        let charge = self.stream.admit_read(&self.shard)?;
        let mut records = Vec::new();
        let bytes = self.stream.read_unexpired(
            &self.shard,
            &mut self.reader,
            &mut records,
            limit,
            GET_RECORDS_BYTES_MAX,
        )?;
        let millis_behind_latest = self.stream.millis_behind(&self.reader, &records);
        let child_shards = self.stream.children_if_finished(&self.shard, &self.reader);
        self.stream.count_read(
            &self.shard,
            charge,
            &records,
            bytes,
            millis_behind_latest,
            started,
        );
        Ok(RecordBatch {
            records,
            millis_behind_latest,
            child_shards,
        })
    }

    /// Blocks until a record is ready or `timeout` passes; returns whether one is ready.
    /// Appends wake waiting readers directly (the embedded analogue of a push subscription).
    pub fn wait_for_records(&self, timeout: Duration) -> bool {
        self.reader.wait_for_records(timeout)
    }

    /// Blocks until a record is ready, `stop()` holds, or `deadline` passes; returns whether a
    /// record is ready. Whatever makes `stop()` true must then call
    /// [`ShardLog::wake_readers`](crate::ShardLog::wake_readers) on this shard's log (closing the
    /// shard does), or the waiter notices only at the deadline.
    pub fn wait_for_records_or(&self, deadline: Instant, stop: impl Fn() -> bool) -> bool {
        self.reader.wait_for_records_or(deadline, stop)
    }
}

impl Stream {
    /// A typed reader of shard `shard_id` from `position`.
    pub fn reader(
        self: &Arc<Self>,
        shard_id: ShardId,
        position: StartingPosition,
    ) -> StreamResult<ShardReader> {
        self.check_writable()?;
        let shard = self.shard(shard_id)?;
        let seek = self.seek_for(&shard, position)?;
        let reader = shard.log.reader(seek)?;
        Ok(ShardReader {
            stream: Arc::clone(self),
            shard,
            reader,
        })
    }

    /// Issues a shard iterator token (Kinesis GetShardIterator).
    pub fn shard_iterator(
        &self,
        shard_id: ShardId,
        position: StartingPosition,
    ) -> StreamResult<String> {
        self.check_writable()?;
        let shard = self.shard(shard_id)?;
        let counter = match self.seek_for(&shard, position)? {
            SeekTo::Oldest => 0,
            SeekTo::Latest => next_counter(&shard)?,
            SeekTo::AtSequence(number) => number.counter(),
            SeekTo::AfterSequence(number) => number.counter().saturating_add(1),
            SeekTo::AtTimestamp(arrival_ms) => {
                let mut reader = shard.log.reader(SeekTo::AtTimestamp(arrival_ms))?;
                match reader.next_batch(1)?.first() {
                    Some(record) => record.sequence_number().counter(),
                    None => next_counter(&shard)?,
                }
            }
        };
        Ok(self.token(&shard, counter))
    }

    /// Reads records at a token issued by [`Stream::shard_iterator`] (Kinesis GetRecords).
    pub fn get_records(
        &self,
        token: &IteratorToken,
        limit: usize,
    ) -> StreamResult<GetRecordsOutput> {
        let started = Instant::now();
        StreamError::check_limit("limit", limit, GET_RECORDS_LIMIT_MAX)?;
        let now_ms = self.context.clock.now_ms();
        if now_ms.saturating_sub(token.issued_ms) > ITERATOR_TTL_MS {
            return Err(StreamError::ExpiredIterator {
                issued_ms: token.issued_ms,
                now_ms,
            });
        }
        self.check_writable()?;
        let shard = match self.shard_by_identity(token.shard) {
            Some(shard) => shard,
            // The token is authentic, so a shard it names that is no longer listed expired and
            // was forgotten: ResourceNotFound. A listed shard of that index is a namesake in a
            // stream deleted and created again, and the token is not for it.
            None => {
                return Err(match self.shard(ShardId::new(token.shard.index)) {
                    Err(not_found) => not_found,
                    Ok(_namesake) => InvalidArgument::InvalidShardIterator.into(),
                });
            }
        };
        let start = SequenceNumber::from_checked_parts(
            token.shard,
            token.counter.min(SequenceNumber::COUNTER_MAX),
            0,
        );
        let charge = self.admit_read(&shard)?;
        let mut reader = shard.log.reader(SeekTo::AtSequence(start))?;
        let mut records = Vec::new();
        let bytes = self.read_unexpired(
            &shard,
            &mut reader,
            &mut records,
            limit,
            GET_RECORDS_BYTES_MAX,
        )?;
        let next_counter = records.last().map_or(token.counter, |record| {
            record.sequence_number().counter() + 1
        });
        let millis_behind_latest = self.millis_behind(&reader, &records);
        let child_shards = self.children_if_finished(&shard, &reader);
        // Null only when the shard is closed and fully read: the consumer's loop terminator.
        let next_shard_iterator = child_shards
            .is_none()
            .then(|| self.token(&shard, next_counter));
        self.count_read(
            &shard,
            charge,
            &records,
            bytes,
            millis_behind_latest,
            started,
        );
        Ok(GetRecordsOutput {
            next_shard_iterator,
            batch: RecordBatch {
                records,
                millis_behind_latest,
                child_shards,
            },
        })
    }

    /// Counts a successful read of `shard` that began at `started` and returned `records` of
    /// `bytes`, and charges the bytes to the shard's read budget if `charge` (limits apply).
    fn count_read(
        &self,
        shard: &Shard,
        charge: bool,
        records: &[Record],
        bytes: u64,
        millis_behind_latest: u64,
        started: Instant,
    ) {
        if charge {
            self.charge_read(shard, bytes);
        }
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        shard.metrics.read(
            records.len() as u64,
            bytes,
            millis_behind_latest,
            latency_us,
        );
    }

    /// The children of `shard` if it is closed and `reader` has read all of it.
    pub(super) fn children_if_finished(
        &self,
        shard: &Shard,
        reader: &LogReader,
    ) -> Option<Vec<ChildShard>> {
        // Closed first: once it reads closed, every record is published, so "no more records"
        // afterwards means the end of the shard.
        if shard.closed_secs().is_none() || reader.has_records() {
            return None;
        }
        let meta = self.meta.read();
        let parent = shard.meta.index;
        let children = meta
            .shards
            .iter()
            .filter(|child| child.parent == Some(parent) || child.adjacent_parent == Some(parent))
            .map(|child| ChildShard {
                shard_id: child.id(),
                parent_shards: child
                    .parent
                    .into_iter()
                    .chain(child.adjacent_parent)
                    .map(ShardId::new)
                    .collect(),
                hash_key_range: child.hash_key_range,
            })
            .collect();
        Some(children)
    }

    fn token(&self, shard: &Shard, counter: u64) -> String {
        IteratorToken {
            stream_name: self.meta.read().name.as_str().to_owned(),
            shard: shard.meta.identity(),
            counter,
            issued_ms: self.context.clock.now_ms(),
        }
        .encode(&self.context.iterator_key)
    }

    pub(super) fn millis_behind(&self, reader: &LogReader, records: &[Record]) -> u64 {
        if !reader.has_records() {
            return 0;
        }
        let now_ms = self.context.clock.now_ms();
        records
            .last()
            .map_or(0, |record| now_ms.saturating_sub(record.arrival_ms()))
    }

    /// Translates a starting position into a log seek, checking it the way Kinesis does.
    pub(super) fn seek_for(
        &self,
        shard: &Shard,
        position: StartingPosition,
    ) -> StreamResult<SeekTo> {
        Ok(match position {
            StartingPosition::TrimHorizon => SeekTo::Oldest,
            StartingPosition::Latest => SeekTo::Latest,
            StartingPosition::AtSequenceNumber(number) => {
                SeekTo::AtSequence(self.check_sequence_number(shard, number)?)
            }
            StartingPosition::AfterSequenceNumber(number) => {
                SeekTo::AfterSequence(self.check_sequence_number(shard, number)?)
            }
            StartingPosition::AtTimestamp(arrival_ms) => {
                let now_ms = self.context.clock.now_ms();
                if arrival_ms > now_ms {
                    return Err(InvalidArgument::TimestampInFuture {
                        timestamp_ms: arrival_ms,
                        now_ms,
                    }
                    .into());
                }
                SeekTo::AtTimestamp(arrival_ms)
            }
        })
    }

    /// A sequence number must come from this very shard. One that encodes another shard index
    /// is named by that index, as Kinesis names it, whether or not this stream has such a shard;
    /// one of this index but another creation time is of another stream.
    fn check_sequence_number(
        &self,
        shard: &Shard,
        number: SequenceNumber,
    ) -> StreamResult<SequenceNumber> {
        if number.shard() == shard.meta.identity() {
            return Ok(number);
        }
        if number.shard_index() != shard.id().index() {
            return Err(InvalidArgument::SequenceNumberOfOtherShard {
                encoded_index: number.shard_index(),
                shard: shard.id(),
            }
            .into());
        }
        Err(InvalidArgument::SequenceNumberOfOtherStream {
            sequence_number: number,
            shard: shard.id(),
            stream: self.meta.read().name.clone(),
            account: self.context.account_id.clone(),
        }
        .into())
    }
}

/// The counter the next record appended to `shard` will have at least.
fn next_counter(shard: &Shard) -> StreamResult<u64> {
    Ok(shard.log.next_counter()?)
}
