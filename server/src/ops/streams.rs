//! Which streams exist: CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary, ListStreams.

use serde::Serialize;
use shardlog::engine::CreateStream;
use shardlog::stream::{
    DESCRIBE_SHARDS_LIMIT_MAX, Encryption, MAX_RECORD_SIZE_KIB_RANGE, ShardId, StreamMode,
    StreamStatus,
};
use shardlog::{ShardDescription, StreamDescription};

use super::warm_throughput::WarmThroughputOut;
use super::{Context, Reply, StreamRef, to_u32};
use crate::error::ApiError;
use crate::protocol::fields::{Checks, NAME, SHARD_ID_LENGTH, STREAM_NAME_LENGTH};
use crate::protocol::{Fields, Timestamp};

/// `CreateStream`.
pub fn create_stream(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let max_record_size_kib = fields.integer("MaxRecordSizeInKiB")?;
    let shard_count = fields.integer("ShardCount")?;
    let mode = match fields.structure("StreamModeDetails")? {
        Some(details) => Some(details.string("StreamMode")?),
        None => None,
    };
    let name = fields.string("StreamName")?;
    let warm_throughput = fields.integer("WarmThroughputMiBps")?;

    let mut checks = Checks::new();
    checks.range(
        "maxRecordSizeInKiB",
        max_record_size_kib,
        i64::from(*MAX_RECORD_SIZE_KIB_RANGE.start()),
        i64::from(*MAX_RECORD_SIZE_KIB_RANGE.end()),
    );
    checks.range("shardCount", shard_count, 1, i64::MAX);
    if let Some(mode) = mode {
        checks.required("streamModeDetails.streamMode", &mode);
        checks.one_of(
            "streamModeDetails.streamMode",
            mode,
            &["PROVISIONED", "ON_DEMAND"],
        );
    }
    checks.required("streamName", &name);
    checks.text("streamName", name, Some(NAME), STREAM_NAME_LENGTH);
    let tags = super::settings::tag_map(&fields, &mut checks)?;
    checks.range("warmThroughputMiBps", warm_throughput, 0, i64::MAX);
    checks.finish()?;
    let name = name.unwrap_or_default();
    let tags = tags.unwrap_or_default();
    super::settings::check_tag_rules(
        tags.iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?;

    let mode = match mode.flatten() {
        Some("ON_DEMAND") => StreamMode::OnDemand,
        _ => StreamMode::Provisioned,
    };
    let request = CreateStream {
        name: name.to_owned(),
        mode,
        shard_count: shard_count.map(to_u32),
        max_record_size_kib: max_record_size_kib
            .map(to_u32)
            .or(context.default_max_record_size_kib),
        tags,
    };
    context.engine.create_stream(request)?;
    Ok(Reply::empty(Some(name.to_owned())))
}

/// `DeleteStream`.
pub fn delete_stream(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let enforce_consumer_deletion = fields.boolean("EnforceConsumerDeletion")?;
    let mut checks = Checks::new();
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    // Kinesis keeps a stream with registered consumers unless told to delete them with it.
    if enforce_consumer_deletion != Some(true)
        && let Ok(stream) = stream_ref.resolve(context.engine)
        && stream.consumer_count() > 0
    {
        return Err(ApiError::client(
            "ResourceInUseException",
            format!(
                "DeleteStream can't delete {} because there are consumers associated with this \
                 data stream. To delete {} anyway, set the EnforceConsumerDeletion parameter to \
                 true to force the deletion of all the consumers that are associated with it.",
                stream.arn(),
                stream.name()
            ),
        ));
    }
    // By name, not through a `Stream`: a damaged stream can be deleted too.
    context
        .engine
        .delete_stream(&stream_ref.resolve_name(context.engine)?)?;
    Ok(Reply::empty(stream_ref.display()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModeDetails {
    stream_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnhancedMonitoring {
    shard_level_metrics: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HashKeyRangeOut {
    starting_hash_key: String,
    ending_hash_key: String,
}

impl From<shardlog::stream::HashKeyRange> for HashKeyRangeOut {
    fn from(range: shardlog::stream::HashKeyRange) -> HashKeyRangeOut {
        HashKeyRangeOut {
            starting_hash_key: range.starting.to_string(),
            ending_hash_key: range.ending.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SequenceNumberRange {
    starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ending_sequence_number: Option<String>,
}

/// A shard as DescribeStream and ListShards show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ShardOut {
    shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    adjacent_parent_shard_id: Option<String>,
    hash_key_range: HashKeyRangeOut,
    sequence_number_range: SequenceNumberRange,
}

impl From<&ShardDescription> for ShardOut {
    fn from(shard: &ShardDescription) -> ShardOut {
        ShardOut {
            shard_id: shard.shard_id.to_string(),
            parent_shard_id: shard.parent_shard_id.map(|id| id.to_string()),
            adjacent_parent_shard_id: shard.adjacent_parent_shard_id.map(|id| id.to_string()),
            hash_key_range: shard.hash_key_range.into(),
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: shard.starting_sequence_number.to_string(),
                ending_sequence_number: shard.ending_sequence_number.map(|n| n.to_string()),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescriptionOut {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: ModeDetails,
    shards: Vec<ShardOut>,
    has_more_shards: bool,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMonitoring>,
    encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeStreamOut {
    stream_description: DescriptionOut,
}

/// `DescribeStream`.
pub fn describe_stream(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let exclusive_start = fields.string("ExclusiveStartShardId")?;
    let limit = fields.integer("Limit")?;
    let mut checks = Checks::new();
    checks.text(
        "exclusiveStartShardId",
        exclusive_start,
        Some(NAME),
        SHARD_ID_LENGTH,
    );
    checks.range("limit", limit, 1, 10000);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let limit = limit.map_or(DESCRIBE_SHARDS_LIMIT_MAX, |limit| {
        usize::try_from(limit)
            .unwrap_or(DESCRIBE_SHARDS_LIMIT_MAX)
            .min(DESCRIBE_SHARDS_LIMIT_MAX)
    });
    let description = stream.describe(exclusive_start.and_then(shard_after), Some(limit))?;
    // Kinesis lists a stream's shards once it is created: a CREATING stream has none yet
    // (kinesalite's test/createStream.js).
    let being_created = description.status == StreamStatus::Creating;
    let out = DescribeStreamOut {
        stream_description: DescriptionOut {
            shards: match being_created {
                true => Vec::new(),
                false => description.shards.iter().map(ShardOut::from).collect(),
            },
            has_more_shards: description.has_more_shards && !being_created,
            ..description_common(&description, &stream.encryption())
        },
    };
    Ok(Reply::new(context, &out, &stream))
}

/// The shard id to list after, for an `ExclusiveStartShardId`. Shard ids sort as strings in index
/// order; a string that is no shard id lists from the start when it sorts before every id, and
/// lists nothing when it sorts after them.
pub(super) fn shard_after(text: &str) -> Option<ShardId> {
    match text.parse::<ShardId>() {
        Ok(id) => Some(id),
        Err(_) if text < ShardId::new(0).to_string().as_str() => None,
        Err(_) => Some(ShardId::new(u32::MAX)),
    }
}

fn description_common(description: &StreamDescription, encryption: &Encryption) -> DescriptionOut {
    DescriptionOut {
        stream_name: description.name.as_str().to_owned(),
        stream_arn: description.arn.clone(),
        stream_status: description.status.as_str(),
        stream_mode_details: ModeDetails {
            stream_mode: description.mode.as_str(),
        },
        shards: Vec::new(),
        has_more_shards: false,
        retention_period_hours: description.retention_hours,
        stream_creation_timestamp: Timestamp(description.created_ms),
        enhanced_monitoring: vec![EnhancedMonitoring {
            shard_level_metrics: description.shard_level_metrics.clone(),
        }],
        encryption_type: encryption.encryption_type(),
        key_id: encryption.key_id().map(|key| key.as_str().to_owned()),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SummaryOut {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: ModeDetails,
    retention_period_hours: u32,
    stream_creation_timestamp: Timestamp,
    enhanced_monitoring: Vec<EnhancedMonitoring>,
    encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    open_shard_count: usize,
    consumer_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    warm_throughput: Option<WarmThroughputOut>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    max_record_size_in_kib: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeSummaryOut {
    stream_description_summary: SummaryOut,
}

/// `DescribeStreamSummary`.
pub fn describe_stream_summary(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let description = stream.describe(None, Some(1))?;
    let common = description_common(&description, &stream.encryption());
    let warm_throughput = context.engine.warm_throughput(description.name.as_str())?;
    let out = DescribeSummaryOut {
        stream_description_summary: SummaryOut {
            stream_name: common.stream_name,
            stream_arn: common.stream_arn,
            stream_status: common.stream_status,
            stream_mode_details: common.stream_mode_details,
            retention_period_hours: common.retention_period_hours,
            stream_creation_timestamp: common.stream_creation_timestamp,
            enhanced_monitoring: common.enhanced_monitoring,
            encryption_type: common.encryption_type,
            key_id: common.key_id,
            open_shard_count: description.open_shard_count,
            consumer_count: stream.consumer_count(),
            warm_throughput: warm_throughput.map(WarmThroughputOut::from),
            max_record_size_in_kib: description.max_record_size_kib,
        },
    };
    Ok(Reply::new(context, &out, &stream))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StreamSummary {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_status: &'static str,
    stream_mode_details: ModeDetails,
    stream_creation_timestamp: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListStreamsOut {
    stream_names: Vec<String>,
    has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    stream_summaries: Vec<StreamSummary>,
}

/// Most streams one ListStreams page holds.
const LIST_STREAMS_PAGE_MAX: usize = 100;

/// `ListStreams`. The NextToken is the hex of the last name listed: opaque to clients, and
/// decoding it needs no state.
pub fn list_streams(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let exclusive_start = fields.string("ExclusiveStartStreamName")?;
    let limit = fields.integer("Limit")?;
    let next_token = fields.string("NextToken")?;
    let mut checks = Checks::new();
    checks.text(
        "exclusiveStartStreamName",
        exclusive_start,
        Some(NAME),
        STREAM_NAME_LENGTH,
    );
    checks.range("limit", limit, 1, 10000);
    checks.text("nextToken", next_token, None, (1, 1048576));
    checks.finish()?;
    let after = match next_token {
        Some(token) => Some(
            decode_hex_text(token)
                .ok_or_else(|| ApiError::invalid_argument(format!("Invalid NextToken: {token}")))?,
        ),
        None => exclusive_start.map(str::to_owned),
    };
    let limit = limit.map_or(LIST_STREAMS_PAGE_MAX, |limit| {
        usize::try_from(limit)
            .unwrap_or(LIST_STREAMS_PAGE_MAX)
            .min(LIST_STREAMS_PAGE_MAX)
    });
    let page = context.engine.list_streams(after.as_deref(), limit);
    let summaries = page
        .names
        .iter()
        .filter_map(|name| context.engine.stream(name.as_str()).ok())
        .map(|stream| {
            let meta = stream.meta();
            StreamSummary {
                stream_name: meta.name.as_str().to_owned(),
                stream_arn: stream.arn(),
                stream_status: stream.status().as_str(),
                stream_mode_details: ModeDetails {
                    stream_mode: meta.mode.as_str(),
                },
                stream_creation_timestamp: Timestamp(meta.created_ms),
            }
        })
        .collect();
    let out = ListStreamsOut {
        next_token: page
            .has_more
            .then(|| page.names.last().map(|name| encode_hex_text(name.as_str())))
            .flatten(),
        stream_names: page
            .names
            .iter()
            .map(|name| name.as_str().to_owned())
            .collect(),
        has_more_streams: page.has_more,
        stream_summaries: summaries,
    };
    Ok(Reply {
        body: context.protocol.encode(&out),
        stream: None,
        events: None,
    })
}

fn encode_hex_text(text: &str) -> String {
    text.bytes().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_hex_text(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}
