//! The data plane: PutRecord, PutRecords, GetShardIterator, GetRecords.

use std::borrow::Cow;

use serde::Serialize;
use shardlog::stream::error::{Constraint, MemberValue, NotFound};
use shardlog::stream::{
    ChildShard, DATA_BYTES_MAX, GET_RECORDS_LIMIT_MAX, PARTITION_KEY_CHARS_MAX,
    PUT_RECORDS_ENTRIES_MAX, PutRecordInput, PutRecordsResult, parse_explicit_hash_key,
};
use shardlog::{Record, RecordInput, SequenceNumber, ShardId, StartingPosition, StreamError};

use super::streams::HashKeyRangeOut;
use super::{Context, Reply, StreamRef};
use crate::error::ApiError;
use crate::protocol::fields::{
    Checks, HASH_KEY, NAME, SEQUENCE_NUMBER, SHARD_ID_LENGTH, shown_list,
};
use crate::protocol::{Blob, Fields, Text, Timestamp, shard_iterator};

/// How the front end shows one PutRecords entry in a validation message: as Java prints an
/// object, class and hash code. The hash code of an entry cannot be derived from its members;
/// this is the one production printed for entries with an empty key and empty data (kinesalite's
/// test/putRecords.js, "too many records").
const SHOWN_PUT_RECORDS_ENTRY: &str =
    "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310";

/// One record's members, read and checked; `path` prefixes member names (`records.3.`).
struct RecordFields<'r> {
    data: Option<Cow<'r, [u8]>>,
    explicit_hash_key: Option<&'r str>,
    partition_key: Option<&'r str>,
}

impl<'r> RecordFields<'r> {
    fn read(fields: &Fields<'r, '_>, path: &str, checks: &mut Checks) -> Result<Self, ApiError> {
        let data = fields.blob("Data")?;
        let explicit_hash_key = fields.string("ExplicitHashKey")?;
        let partition_key = fields.string("PartitionKey")?;
        checks.required(&format!("{path}data"), &data);
        if let Some(data) = data.as_ref().filter(|data| data.len() > DATA_BYTES_MAX) {
            let shown = MemberValue::Blob { bytes: data.len() }.to_string();
            checks.fail(
                Some(&shown),
                &format!("{path}data"),
                Constraint::LengthAtMost(DATA_BYTES_MAX),
            );
        }
        checks.text(
            &format!("{path}explicitHashKey"),
            explicit_hash_key,
            Some(HASH_KEY),
            (0, usize::MAX),
        );
        checks.required(&format!("{path}partitionKey"), &partition_key);
        checks.text(
            &format!("{path}partitionKey"),
            partition_key,
            None,
            (1, PARTITION_KEY_CHARS_MAX),
        );
        Ok(RecordFields {
            data,
            explicit_hash_key,
            partition_key,
        })
    }

    /// The library's input, once every check has passed.
    fn input(&self) -> Result<PutRecordInput<'_>, ApiError> {
        Ok(PutRecordInput {
            record: RecordInput {
                partition_key: self.partition_key.unwrap_or_default(),
                explicit_hash_key: self
                    .explicit_hash_key
                    .map(parse_explicit_hash_key)
                    .transpose()?,
                data: self.data.as_deref().unwrap_or_default(),
            },
            sequence_number_for_ordering: None,
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordOut {
    shard_id: String,
    sequence_number: String,
}

/// `PutRecord`.
pub fn put_record(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let record = RecordFields::read(&fields, "", &mut checks)?;
    let ordering = fields.string("SequenceNumberForOrdering")?;
    checks.text(
        "sequenceNumberForOrdering",
        ordering,
        Some(SEQUENCE_NUMBER),
        (0, usize::MAX),
    );
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let mut input = record.input()?;
    input.sequence_number_for_ordering = ordering
        .map(|text| stream.parse_sequence_number_for_ordering(text))
        .transpose()?;
    let output = stream.put_record(input)?;
    let out = PutRecordOut {
        shard_id: output.shard_id.to_string(),
        sequence_number: output.sequence_number.to_string(),
    };
    Ok(Reply::new(context, &out, &stream))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutRecordsOut {
    failed_record_count: usize,
    records: Vec<PutRecordsEntryOut>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PutRecordsEntryOut {
    #[serde(rename_all = "PascalCase")]
    Success {
        sequence_number: Text<SequenceNumber>,
        shard_id: Text<ShardId>,
    },
    #[serde(rename_all = "PascalCase")]
    Failure {
        error_code: &'static str,
        error_message: String,
    },
}

/// `PutRecords`.
pub fn put_records(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let entries = fields.list("Records")?;
    checks.required("records", &entries);
    let entries = entries.unwrap_or_default();
    if let Some(constraint) = match entries.len() {
        0 if fields.get("Records").is_some() => Some(Constraint::LengthAtLeast(1)),
        count if count > PUT_RECORDS_ENTRIES_MAX => {
            Some(Constraint::LengthAtMost(PUT_RECORDS_ENTRIES_MAX))
        }
        _ => None,
    } {
        let shown = shown_list(std::iter::repeat_n(SHOWN_PUT_RECORDS_ENTRY, entries.len()));
        checks.fail(Some(&shown), "records", constraint);
    }
    let mut records = Vec::with_capacity(entries.len().min(PUT_RECORDS_ENTRIES_MAX));
    for (position, entry) in entries.iter().take(PUT_RECORDS_ENTRIES_MAX).enumerate() {
        let entry = match entry {
            crate::protocol::Node::Map(_) => Fields::new(entry, fields.protocol),
            crate::protocol::Node::List(_) => {
                return Err(ApiError::serialization(
                    "Start of list found where not expected",
                ));
            }
            _ => return Err(ApiError::serialization("Expected null")),
        };
        let path = format!("records.{}.member.", position + 1);
        records.push(RecordFields::read(&entry, &path, &mut checks)?);
    }
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let inputs = records
        .iter()
        .map(RecordFields::input)
        .collect::<Result<Vec<_>, ApiError>>()?;
    let output = stream.put_records(&inputs)?;
    let entries_out = output.records.len();
    let out = PutRecordsOut {
        failed_record_count: output.failed_record_count,
        records: output
            .records
            .into_iter()
            .map(|result| match result {
                PutRecordsResult::Success(stored) => PutRecordsEntryOut::Success {
                    sequence_number: Text(stored.sequence_number),
                    shard_id: Text(stored.shard_id),
                },
                PutRecordsResult::Failure(failure) => PutRecordsEntryOut::Failure {
                    error_code: failure.error_code(),
                    error_message: failure.to_string(),
                },
            })
            .collect(),
    };
    Ok(Reply {
        body: context
            .protocol
            .encode_with_capacity(&out, 64 + entries_out * 120),
        stream: Some(stream.name().as_str().to_owned()),
        events: None,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetShardIteratorOut {
    shard_iterator: String,
}

/// The iterator types (`ShardIteratorType`, which SubscribeToShard's starting positions share),
/// in the model's order (as the enum message lists them).
pub(super) const ITERATOR_TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

/// `GetShardIterator`.
pub fn get_shard_iterator(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let shard_id = fields.string("ShardId")?;
    let iterator_type = fields.string("ShardIteratorType")?;
    let starting_sequence_number = fields.string("StartingSequenceNumber")?;
    let timestamp_ms = fields.timestamp_ms("Timestamp")?;
    let mut checks = Checks::new();
    checks.required("shardId", &shard_id);
    checks.text("shardId", shard_id, Some(NAME), SHARD_ID_LENGTH);
    checks.required("shardIteratorType", &iterator_type);
    checks.one_of("shardIteratorType", iterator_type, &ITERATOR_TYPES);
    checks.text(
        "startingSequenceNumber",
        starting_sequence_number,
        Some(SEQUENCE_NUMBER),
        (0, usize::MAX),
    );
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let (shard_text, iterator_type) = (
        shard_id.unwrap_or_default(),
        iterator_type.unwrap_or_default(),
    );

    let combination = |problem: &str| {
        ApiError::invalid_argument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified {iterator_type} and {problem}."
        ))
    };
    match (iterator_type, starting_sequence_number, timestamp_ms) {
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None, _) => {
            return Err(combination("no StartingSequenceNumber"));
        }
        ("TRIM_HORIZON" | "LATEST", Some(_), _) => {
            return Err(combination("also a StartingSequenceNumber"));
        }
        ("AT_TIMESTAMP", _, None) => {
            return Err(ApiError::invalid_argument(
                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. \
                 Current request has no timestamp parameter.",
            ));
        }
        _ => {}
    }

    // Kinesis reads the shard id before it looks for the stream, and names the shard, not the
    // stream, when either is missing.
    let stream_name = stream_ref.resolve_name(context.engine)?;
    let account = context.engine.account_id();
    let not_found = |reason: NotFound| ApiError::from(StreamError::from(reason));
    let shard_id = ShardId::from_request(shard_text).ok_or_else(|| {
        not_found(NotFound::UnknownShard {
            shard: shard_text.to_owned(),
            stream: stream_name.clone(),
            account: account.to_owned(),
        })
    })?;
    let shard_not_found = || {
        not_found(NotFound::Shard {
            shard: shard_id,
            stream: stream_name.clone(),
            account: account.to_owned(),
        })
    };
    let stream = match context.engine.stream(&stream_name) {
        Ok(stream) => stream,
        Err(error) if error.kinesis_error_code() == "ResourceNotFoundException" => {
            return Err(shard_not_found());
        }
        Err(error) => return Err(error.into()),
    };
    // The shard is looked for before the starting sequence number is read.
    stream.shard(shard_id)?;
    let sequence_number = |text: &str| {
        text.parse::<SequenceNumber>().map_err(|_| {
            ApiError::invalid_argument(format!(
                "StartingSequenceNumber {text} used in GetShardIterator on shard {shard_id} in \
                 stream {} under account {} is invalid.",
                stream.name(),
                context.engine.account_id()
            ))
        })
    };
    let position = match iterator_type {
        "AT_SEQUENCE_NUMBER" => StartingPosition::AtSequenceNumber(sequence_number(
            starting_sequence_number.unwrap_or_default(),
        )?),
        "AFTER_SEQUENCE_NUMBER" => StartingPosition::AfterSequenceNumber(sequence_number(
            starting_sequence_number.unwrap_or_default(),
        )?),
        "TRIM_HORIZON" => StartingPosition::TrimHorizon,
        "LATEST" => StartingPosition::Latest,
        _ => StartingPosition::AtTimestamp(timestamp_ms.unwrap_or_default()),
    };
    let token = stream.shard_iterator(shard_id, position)?;
    Ok(Reply::new(
        context,
        &GetShardIteratorOut {
            shard_iterator: shard_iterator::to_wire(&token),
        },
        &stream,
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RecordOut<'a> {
    sequence_number: Text<shardlog::SequenceNumber>,
    approximate_arrival_timestamp: Timestamp,
    data: Blob<'a>,
    partition_key: &'a str,
}

impl RecordOut<'_> {
    /// The records as GetRecords and SubscribeToShard answer them.
    pub(super) fn all(records: &[Record]) -> Vec<RecordOut<'_>> {
        records
            .iter()
            .map(|record| RecordOut {
                sequence_number: Text(record.sequence_number()),
                approximate_arrival_timestamp: Timestamp(record.arrival_ms()),
                data: Blob(record.data()),
                partition_key: record.partition_key(),
            })
            .collect()
    }

    /// Room to encode `records` in one go: base64 data plus about 200 bytes of framing per
    /// record, and 1 KiB for the rest of the answer.
    pub(super) fn encoded_capacity(records: &[Record]) -> usize {
        records
            .iter()
            .map(|record| record.data().len() * 4 / 3 + record.partition_key().len() + 200)
            .sum::<usize>()
            + 1024
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChildShardOut {
    shard_id: String,
    parent_shards: Vec<String>,
    hash_key_range: HashKeyRangeOut,
}

impl From<&ChildShard> for ChildShardOut {
    fn from(child: &ChildShard) -> ChildShardOut {
        ChildShardOut {
            shard_id: child.shard_id.to_string(),
            parent_shards: child
                .parent_shards
                .iter()
                .map(ToString::to_string)
                .collect(),
            hash_key_range: child.hash_key_range.into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetRecordsOut<'a> {
    records: Vec<RecordOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_shard_iterator: Option<String>,
    millis_behind_latest: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShardOut>>,
}

/// `GetRecords`.
pub fn get_records(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let limit = fields.integer("Limit")?;
    let shard_iterator = fields.string("ShardIterator")?;
    let stream_arn = fields.string("StreamARN")?;
    let mut checks = Checks::new();
    checks.range("limit", limit, 1, GET_RECORDS_LIMIT_MAX as i64);
    checks.required("shardIterator", &shard_iterator);
    checks.text("shardIterator", shard_iterator, None, (1, 512));
    checks.text(
        "streamARN",
        stream_arn,
        Some(crate::protocol::fields::STREAM_ARN),
        (1, 2048),
    );
    super::check_stream_id(&fields, &mut checks)?;
    checks.finish()?;
    let limit = limit.map_or(GET_RECORDS_LIMIT_MAX, |limit| {
        usize::try_from(limit).unwrap_or(1)
    });
    let token = shard_iterator::from_wire(shard_iterator.unwrap_or_default())
        .ok_or_else(|| ApiError::invalid_argument("Invalid ShardIterator."))?;
    let output = context.engine.get_records(&token, limit)?;
    let batch = &output.batch;
    let out = GetRecordsOut {
        records: RecordOut::all(&batch.records),
        next_shard_iterator: output
            .next_shard_iterator
            .as_deref()
            .map(shard_iterator::to_wire),
        millis_behind_latest: batch.millis_behind_latest,
        child_shards: batch
            .child_shards
            .as_ref()
            .map(|children| children.iter().map(ChildShardOut::from).collect()),
    };
    let capacity = RecordOut::encoded_capacity(&batch.records);
    Ok(Reply {
        body: context.protocol.encode_with_capacity(&out, capacity),
        stream: None,
        events: None,
    })
}
