//! PutRecord and PutRecords: validation, routing and appending.
//!
//! Validation follows Kinesis: a record's partition key is 1–256 Unicode characters, its data plus
//! partition key fit the stream's maximum record size, and a PutRecords call has 1–500 entries of at
//! most 10 MiB in total. Any validation error fails the whole call, before anything is written.
//! After validation, PutRecords groups entries by shard (keeping their order) and appends each group
//! with one lock acquisition; a storage failure on one shard fails only that shard's entries, as
//! `InternalFailure` per record (the producer retries them; delivery is at-least-once).

use std::sync::Arc;

use super::error::{Constraint, InvalidArgument, MemberValue, Throttled};
use super::hash_key::{HashKey, hash_key_of};
use super::metrics::{StreamMetrics, record_bytes};
use super::names::{HASH_KEY_PATTERN, ShardId};
use super::{
    MAX_RECORD_SIZE_KIB_RANGE, Shard, Stream, StreamError, StreamResult, max_record_bytes,
};
use crate::error::LogError;
use crate::record::RecordInput;
use crate::sequence::SequenceNumber;

/// Longest partition key, in Unicode characters.
pub const PARTITION_KEY_CHARS_MAX: usize = 256;
/// Most entries in one PutRecords call.
pub const PUT_RECORDS_ENTRIES_MAX: usize = 500;
/// Most bytes (data plus partition keys) in one PutRecords call.
pub const PUT_RECORDS_BYTES_MAX: usize = 10 * 1024 * 1024;
/// Largest data blob of one record the API model allows: the largest maximum record size a
/// stream can have (a stream's own maximum may be lower).
pub const DATA_BYTES_MAX: usize = *MAX_RECORD_SIZE_KIB_RANGE.end() as usize * 1024;
/// How often a record is routed again after its shard was closed under it. Each reshard waits for
/// the new routing table before routes resume, so more than one retry means reshards back to back.
const ROUTE_ATTEMPTS_MAX: usize = 16;

/// One record to put: the record itself, in the one shape it keeps from the caller down to the
/// frame in the shard's log, and what PutRecord may add to it.
#[derive(Debug, Clone, Copy)]
pub struct PutRecordInput<'a> {
    /// The partition key (which decides the shard, through its MD5, unless the record's explicit
    /// hash key is given), the explicit hash key and the data blob.
    pub record: RecordInput<'a>,
    /// The sequence number of the producer's previous record (Kinesis `SequenceNumberForOrdering`):
    /// this record's number is guaranteed to be larger. PutRecords ignores it, as Kinesis'
    /// PutRecords has no such field.
    pub sequence_number_for_ordering: Option<SequenceNumber>,
}

impl<'a> PutRecordInput<'a> {
    /// A record with a partition key and data.
    pub fn new(partition_key: &'a str, data: &'a [u8]) -> PutRecordInput<'a> {
        PutRecordInput {
            record: RecordInput::new(partition_key, data),
            sequence_number_for_ordering: None,
        }
    }

    /// The same record, routed by `hash_key` instead of its partition key's MD5.
    pub fn with_explicit_hash_key(self, hash_key: HashKey) -> PutRecordInput<'a> {
        PutRecordInput {
            record: RecordInput {
                explicit_hash_key: Some(hash_key),
                ..self.record
            },
            ..self
        }
    }
}

/// Where a record was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutRecordOutput {
    /// The shard it went to.
    pub shard_id: ShardId,
    /// Its sequence number.
    pub sequence_number: SequenceNumber,
}

/// One entry of a PutRecords call.
pub type PutRecordsEntry<'a> = PutRecordInput<'a>;

/// The outcome of one PutRecords entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutRecordsResult {
    /// Stored.
    Success(PutRecordOutput),
    /// Not stored; retry it.
    Failure(PutRecordsFailure),
}

/// Why a PutRecords entry was not stored. Its `Display` is the entry's AWS `ErrorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutRecordsFailure {
    /// `ProvisionedThroughputExceededException`: the shard's write budget is spent for now.
    Throttled(Throttled),
    /// `InternalFailure`: the storage failed, or the entry's fate is unknown.
    Internal,
}

impl PutRecordsFailure {
    /// The entry's `ErrorCode` on the wire, the name of the exception a PutRecord would fail
    /// with.
    pub fn error_code(&self) -> &'static str {
        match self {
            PutRecordsFailure::Throttled(_) => "ProvisionedThroughputExceededException",
            PutRecordsFailure::Internal => "InternalFailure",
        }
    }
}

/// The outcome of a PutRecords call: one result per entry, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRecordsOutput {
    /// How many entries failed.
    pub failed_record_count: usize,
    /// One result per entry, in request order.
    pub records: Vec<PutRecordsResult>,
}

/// Parses an `ExplicitHashKey` as Kinesis does (a decimal in 0..=2^128−1), with its exact errors.
pub fn parse_explicit_hash_key(text: &str) -> StreamResult<HashKey> {
    let pattern_ok = text == "0"
        || (!text.is_empty()
            && text.len() <= 39
            && !text.starts_with('0')
            && text.bytes().all(|byte| byte.is_ascii_digit()));
    if !pattern_ok {
        return Err(StreamError::member(
            MemberValue::Text(text.to_owned()),
            "explicitHashKey",
            Constraint::Pattern(HASH_KEY_PATTERN),
        ));
    }
    text.parse::<u128>().map_err(|_| {
        InvalidArgument::ExplicitHashKeyOutOfRange {
            key: text.to_owned(),
        }
        .into()
    })
}

impl Stream {
    /// Appends one record to the shard its hash key routes to.
    pub fn put_record(&self, input: PutRecordInput<'_>) -> StreamResult<PutRecordOutput> {
        self.check_writable()?;
        self.validate_record(&input, None, self.record_bytes_max())?;
        let (shard, output) = self.append_routed(&input)?;
        shard
            .metrics
            .put_record(record_bytes(input.record.partition_key, input.record.data));
        Ok(output)
    }

    /// Appends one validated record to the open shard that owns its hash key. A shard closed by a
    /// reshard between routing and appending refuses the record (its log is sealed), and the
    /// record is routed again, to a child. The record is charged to the shard's write budget
    /// where limits apply.
    pub(crate) fn append_routed(
        &self,
        input: &PutRecordInput<'_>,
    ) -> StreamResult<(Arc<Shard>, PutRecordOutput)> {
        let bytes = record_bytes(input.record.partition_key, input.record.data);
        let mut attempts = 0;
        loop {
            let shard = self.route(input)?;
            if let Some(previous) = input.sequence_number_for_ordering {
                // Within a shard every new number is larger than every number handed out before,
                // so the guarantee holds by construction; a number of this shard that was never
                // handed out cannot be honoured without burning counters, and is refused as
                // Kinesis does.
                if previous.shard() == shard.meta.identity()
                    && previous.counter() >= shard.log.next_counter()?
                {
                    return Err(self.invalid_exclusive_minimum(&previous.to_string()));
                }
            }
            self.admit_write(&shard, bytes)?;
            let appended = shard.log.append(input.record);
            match appended {
                Ok(sequence_number) => {
                    let output = PutRecordOutput {
                        shard_id: shard.id(),
                        sequence_number,
                    };
                    return Ok((shard, output));
                }
                Err(LogError::Sealed) if attempts < ROUTE_ATTEMPTS_MAX => attempts += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Appends up to 500 records, each to the shard its hash key routes to, and reports each
    /// entry's outcome in request order.
    pub fn put_records(&self, entries: &[PutRecordsEntry<'_>]) -> StreamResult<PutRecordsOutput> {
        self.check_writable()?;
        if entries.is_empty() || entries.len() > PUT_RECORDS_ENTRIES_MAX {
            let constraint = if entries.is_empty() {
                Constraint::LengthAtLeast(1)
            } else {
                Constraint::LengthAtMost(PUT_RECORDS_ENTRIES_MAX)
            };
            return Err(StreamError::member(
                MemberValue::Records {
                    count: entries.len(),
                },
                "records",
                constraint,
            ));
        }
        let record_bytes_max = self.record_bytes_max();
        let mut total_bytes = 0usize;
        for (position, entry) in entries.iter().enumerate() {
            self.validate_record(entry, Some(position), record_bytes_max)?;
            total_bytes += entry.record.data.len() + entry.record.partition_key.len();
        }
        if total_bytes > PUT_RECORDS_BYTES_MAX {
            return Err(InvalidArgument::RecordsTooLarge {
                bytes: total_bytes,
                max: PUT_RECORDS_BYTES_MAX,
            }
            .into());
        }

        let groups = self.group_by_shard(entries)?;
        let limits_apply = self.throughput_limits_apply();
        let mut answered = Answers::new(entries.len());
        for mut group in groups {
            if limits_apply {
                self.admit_group(&mut group, entries, &mut answered);
                if group.positions.is_empty() {
                    continue;
                }
            }
            self.append_group(&group, entries, &mut answered);
        }
        Ok(answered.finish(self.shards.metrics()))
    }

    /// Routes every entry and groups their positions by shard, keeping request order inside each
    /// group, and sums each group's size for the metrics while the entry is at hand. Sorting by
    /// (shard, position) groups 500 entries over as many shards in O(n log n), where finding each
    /// entry's group among the others cost O(n²).
    fn group_by_shard(&self, entries: &[PutRecordsEntry<'_>]) -> StreamResult<Vec<ShardGroup>> {
        let mut routed = Vec::with_capacity(entries.len());
        for (position, entry) in entries.iter().enumerate() {
            routed.push((self.route(entry)?, position));
        }
        routed.sort_unstable_by_key(|(shard, position)| (shard.meta.index, *position));
        let mut groups: Vec<ShardGroup> = Vec::new();
        for (shard, position) in routed {
            let bytes = entries.get(position).map_or(0, |entry| {
                record_bytes(entry.record.partition_key, entry.record.data)
            });
            match groups.last_mut() {
                Some(group) if Arc::ptr_eq(&group.shard, &shard) => {
                    group.positions.push(position);
                    group.bytes += bytes;
                }
                _ => groups.push(ShardGroup {
                    shard,
                    positions: vec![position],
                    bytes,
                }),
            }
        }
        Ok(groups)
    }

    /// Appends one shard's group with one lock acquisition and answers its entries: stored, routed
    /// again to a child if a reshard sealed the shard first, or failed.
    fn append_group(
        &self,
        group: &ShardGroup,
        entries: &[PutRecordsEntry<'_>],
        answered: &mut Answers,
    ) {
        let ShardGroup {
            shard,
            positions,
            bytes,
        } = group;
        let inputs: Vec<RecordInput<'_>> = positions
            .iter()
            .filter_map(|&position| entries.get(position))
            .map(|entry| entry.record)
            .collect();
        let mut appended = positions.iter();
        let outcome = shard.log.append_each(&inputs, |sequence_number| {
            if let Some(&position) = appended.next() {
                answered.set(
                    position,
                    PutRecordsResult::Success(PutRecordOutput {
                        shard_id: shard.id(),
                        sequence_number,
                    }),
                );
            }
        });
        match outcome {
            // Closed by a reshard before any entry of the group was appended (the seal is checked
            // first, under the writer lock): route each entry again.
            Err(LogError::Sealed) => self.append_again(positions, entries, answered),
            Ok(_) => {
                // Every entry of the group was appended.
                shard.metrics.put_records(positions.len() as u64, *bytes);
                answered.successful += positions.len() as u64;
            }
            Err(_) => {
                // The group's fate is unknown (a failed sync may follow successful copies): report
                // every entry as failed so the producer retries; Kinesis is at-least-once anyway.
                answered.failed += positions.len() as u64;
                for &position in positions {
                    answered.set(position, internal_failure());
                }
            }
        }
    }

    /// Routes the entries at `positions` again, one by one, after their shard was sealed.
    fn append_again(
        &self,
        positions: &[usize],
        entries: &[PutRecordsEntry<'_>],
        answered: &mut Answers,
    ) {
        for &position in positions {
            let Some(entry) = entries.get(position) else {
                continue;
            };
            let result = match self.append_routed(entry) {
                Ok((child, output)) => {
                    child.metrics.put_records(
                        1,
                        record_bytes(entry.record.partition_key, entry.record.data),
                    );
                    answered.successful += 1;
                    PutRecordsResult::Success(output)
                }
                Err(StreamError::ProvisionedThroughputExceeded(throttled)) => {
                    answered.throttled += 1;
                    PutRecordsResult::Failure(PutRecordsFailure::Throttled(throttled))
                }
                Err(_) => {
                    answered.failed += 1;
                    internal_failure()
                }
            };
            answered.set(position, result);
        }
    }

    /// Charges the entries of `group` to its shard's write budget, one by one, in request order;
    /// answers the refused ones `ProvisionedThroughputExceededException` and keeps only the
    /// admitted ones (and their size) in the group.
    fn admit_group(
        &self,
        group: &mut ShardGroup,
        entries: &[PutRecordsEntry<'_>],
        answered: &mut Answers,
    ) {
        let now_ms = self.context.clock.now_ms();
        let sizes = group.positions.iter().map(|&position| {
            entries.get(position).map_or(0, |entry| {
                record_bytes(entry.record.partition_key, entry.record.data)
            })
        });
        let mut decisions = Vec::with_capacity(group.positions.len());
        group
            .shard
            .throughput
            .admit_writes(now_ms, sizes, |fits| decisions.push(fits));
        let mut refused = 0;
        let mut throttled = None;
        let mut decision = decisions.into_iter();
        let ShardGroup {
            shard,
            positions,
            bytes,
        } = group;
        positions.retain(|&position| {
            if decision.next().unwrap_or(false) {
                return true;
            }
            refused += 1;
            *bytes -= entries.get(position).map_or(0, |entry| {
                record_bytes(entry.record.partition_key, entry.record.data)
            });
            let throttled = throttled.get_or_insert_with(|| self.throttled(shard));
            answered.set(
                position,
                PutRecordsResult::Failure(PutRecordsFailure::Throttled(throttled.clone())),
            );
            false
        });
        shard.metrics.write_throttled(refused);
        answered.throttled += refused;
    }

    /// Checks one record against Kinesis' rules and the stream's `record_bytes_max`. `position`
    /// is the record's place in a PutRecords call, which messages name as the Kinesis front end
    /// names list members (`records.3.member.data`); the name is built only for a message.
    fn validate_record(
        &self,
        input: &PutRecordInput<'_>,
        position: Option<usize>,
        record_bytes_max: usize,
    ) -> StreamResult<()> {
        let member = |name: &str| match position {
            Some(position) => format!("records.{}.member.{name}", position + 1),
            None => name.to_owned(),
        };
        // A key of at most 256 bytes has at most 256 characters: count only longer ones.
        let key_bytes = input.record.partition_key.len();
        let key_chars = if key_bytes <= PARTITION_KEY_CHARS_MAX {
            key_bytes
        } else {
            input.record.partition_key.chars().count()
        };
        if key_chars == 0 {
            return Err(StreamError::member(
                MemberValue::Text(input.record.partition_key.to_owned()),
                member("partitionKey"),
                Constraint::LengthAtLeast(1),
            ));
        }
        if key_chars > PARTITION_KEY_CHARS_MAX {
            return Err(StreamError::member(
                MemberValue::Text(input.record.partition_key.to_owned()),
                member("partitionKey"),
                Constraint::LengthAtMost(PARTITION_KEY_CHARS_MAX),
            ));
        }
        let record_bytes = input.record.data.len() + input.record.partition_key.len();
        if record_bytes > record_bytes_max {
            return Err(StreamError::member(
                MemberValue::Blob {
                    bytes: input.record.data.len(),
                },
                member("data"),
                Constraint::LengthAtMost(
                    record_bytes_max.saturating_sub(input.record.partition_key.len()),
                ),
            ));
        }
        Ok(())
    }

    /// The largest record (data plus partition key) the stream takes now.
    fn record_bytes_max(&self) -> usize {
        max_record_bytes(self.meta.read().max_record_size_kib)
    }

    /// The open shard that owns the record's hash key.
    pub(crate) fn route(&self, input: &PutRecordInput<'_>) -> StreamResult<Arc<Shard>> {
        let key = input
            .record
            .explicit_hash_key
            .unwrap_or_else(|| hash_key_of(input.record.partition_key));
        self.shards.route(key).ok_or_else(|| {
            // Open shards always cover the whole space; a gap is a damaged catalog.
            StreamError::Storage(crate::error::LogError::corrupt(
                self.dir.join("stream.meta"),
                0,
                format!("no open shard owns hash key {key}"),
            ))
        })
    }

    /// Checks a `SequenceNumberForOrdering` given as text, with Kinesis' error for a bad one.
    pub fn parse_sequence_number_for_ordering(&self, text: &str) -> StreamResult<SequenceNumber> {
        text.parse::<SequenceNumber>()
            .map_err(|_| self.invalid_exclusive_minimum(text))
    }

    fn invalid_exclusive_minimum(&self, text: &str) -> StreamError {
        InvalidArgument::SequenceNumberForOrdering {
            sequence_number: text.to_owned(),
            stream: self.meta.read().name.clone(),
            account: self.context.account_id.clone(),
        }
        .into()
    }
}

fn internal_failure() -> PutRecordsResult {
    PutRecordsResult::Failure(PutRecordsFailure::Internal)
}

/// One shard's share of a PutRecords call: the positions of the entries routed to it, in request
/// order, and their size (data plus partition keys).
struct ShardGroup {
    shard: Arc<Shard>,
    positions: Vec<usize>,
    bytes: u64,
}

/// The answers of a PutRecords call so far, and the counts its metrics need.
struct Answers {
    /// One slot per entry, in request order; an entry left unanswered is reported as failed.
    results: Vec<Option<PutRecordsResult>>,
    successful: u64,
    failed: u64,
    throttled: u64,
}

impl Answers {
    fn new(entries: usize) -> Answers {
        Answers {
            results: vec![None; entries],
            successful: 0,
            failed: 0,
            throttled: 0,
        }
    }

    fn set(&mut self, position: usize, result: PutRecordsResult) {
        if let Some(slot) = self.results.get_mut(position) {
            *slot = Some(result);
        }
    }

    /// The call's output, once every group was answered; counts the call in `metrics`.
    fn finish(self, metrics: &StreamMetrics) -> PutRecordsOutput {
        let records: Vec<PutRecordsResult> = self
            .results
            .into_iter()
            .map(|result| result.unwrap_or_else(internal_failure))
            .collect();
        let failed_record_count = records
            .iter()
            .filter(|result| matches!(result, PutRecordsResult::Failure(_)))
            .count();
        metrics.put_records_call(self.successful, self.failed, self.throttled);
        PutRecordsOutput {
            failed_record_count,
            records,
        }
    }
}
