//! The shape of a stream: ListShards, SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode.

use serde::Serialize;
use shardlog::Engine;
use shardlog::stream::{LIST_SHARDS_MAX_RESULTS, ListShardsFrom, ShardFilter, ShardId, StreamMode};

use super::streams::{ShardOut, shard_after};
use super::{Context, Reply, StreamRef, to_u32};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::{Checks, HASH_KEY, NAME, SHARD_ID_LENGTH};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListShardsOut {
    shards: Vec<ShardOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

const SHARD_FILTER_TYPES: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

/// `ListShards`. The first page names the stream; later pages pass only the `NextToken`, which
/// the library issues and authenticates and which expires after five minutes.
pub fn list_shards(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let exclusive_start = fields.string("ExclusiveStartShardId")?;
    let max_results = fields.integer("MaxResults")?;
    let next_token = fields.string("NextToken")?;
    let filter = fields.structure("ShardFilter")?;
    let (filter_type, filter_shard, filter_time) = match &filter {
        Some(filter) => (
            filter.string("Type")?,
            filter.string("ShardId")?,
            filter.timestamp_ms("Timestamp")?,
        ),
        None => (None, None, None),
    };
    let _created = fields.timestamp_ms("StreamCreationTimestamp")?;
    let mut checks = Checks::new();
    checks.text(
        "exclusiveStartShardId",
        exclusive_start,
        Some(NAME),
        SHARD_ID_LENGTH,
    );
    checks.range("maxResults", max_results, 1, LIST_SHARDS_MAX_RESULTS as i64);
    checks.text("nextToken", next_token, None, (1, 1048576));
    if filter.is_some() {
        checks.required("shardFilter.type", &filter_type);
        checks.one_of("shardFilter.type", filter_type, &SHARD_FILTER_TYPES);
        checks.text(
            "shardFilter.shardId",
            filter_shard,
            Some(NAME),
            SHARD_ID_LENGTH,
        );
    }
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    // A token names its stream, so naming one beside it is refused, before the stream is
    // looked for (Kinesis says so even of a stream that does not exist).
    if next_token.is_some() {
        let named = match (stream_ref.name, stream_ref.arn) {
            (Some(_), _) => Some("StreamName"),
            (None, Some(_)) => Some("StreamARN"),
            (None, None) => None,
        };
        if let Some(member) = named {
            return Err(ApiError::invalid_argument(format!(
                "NextToken and {member} cannot be provided together."
            )));
        }
    }

    let stream_name = match (&stream_ref.name, &stream_ref.arn) {
        (None, None) => None,
        _ => Some(stream_ref.resolve(context.engine)?.name()),
    };
    let from = match next_token {
        Some(token) => ListShardsFrom::NextToken(token),
        None => ListShardsFrom::Start {
            exclusive_start_shard_id: exclusive_start.and_then(shard_after),
            filter: shard_filter(filter_type, filter_shard, filter_time)?,
        },
    };
    let output = context.engine.list_shards(
        stream_name.as_ref().map(|name| name.as_str()),
        from,
        max_results.map(|results| usize::try_from(results).unwrap_or(1)),
    )?;
    let out = ListShardsOut {
        shards: output.shards.iter().map(ShardOut::from).collect(),
        next_token: output.next_token,
    };
    Ok(Reply {
        body: context.protocol.encode(&out),
        stream: stream_name.map(|name| name.as_str().to_owned()),
        events: None,
    })
}

fn shard_filter(
    kind: Option<&str>,
    shard_id: Option<&str>,
    timestamp_ms: Option<u64>,
) -> Result<Option<ShardFilter>, ApiError> {
    let missing = |what: &str, kind: &str| {
        ApiError::invalid_argument(format!(
            "{what} must be specified for ShardFilter type {kind}."
        ))
    };
    Ok(Some(match kind {
        None => return Ok(None),
        Some("AFTER_SHARD_ID") => {
            let shard_id = shard_id.ok_or_else(|| missing("ShardId", "AFTER_SHARD_ID"))?;
            match shard_after(shard_id) {
                Some(id) => ShardFilter::AfterShardId(id),
                None => ShardFilter::FromTrimHorizon,
            }
        }
        Some("AT_TRIM_HORIZON") => ShardFilter::AtTrimHorizon,
        Some("AT_LATEST") => ShardFilter::AtLatest,
        Some("AT_TIMESTAMP") => ShardFilter::AtTimestamp(
            timestamp_ms.ok_or_else(|| missing("Timestamp", "AT_TIMESTAMP"))?,
        ),
        Some("FROM_TIMESTAMP") => ShardFilter::FromTimestamp(
            timestamp_ms.ok_or_else(|| missing("Timestamp", "FROM_TIMESTAMP"))?,
        ),
        Some(_) => ShardFilter::FromTrimHorizon,
    }))
}

/// `SplitShard`.
pub fn split_shard(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let new_starting_hash_key = fields.string("NewStartingHashKey")?;
    let shard_to_split = fields.string("ShardToSplit")?;
    let mut checks = Checks::new();
    checks.required("newStartingHashKey", &new_starting_hash_key);
    checks.text(
        "newStartingHashKey",
        new_starting_hash_key,
        Some(HASH_KEY),
        (0, usize::MAX),
    );
    checks.required("shardToSplit", &shard_to_split);
    checks.text("shardToSplit", shard_to_split, Some(NAME), SHARD_ID_LENGTH);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let shard = named_shard(
        context.engine,
        &stream_ref,
        shard_to_split.unwrap_or_default(),
    )?;
    let stream = stream_ref.resolve(context.engine)?;
    stream.split_shard(
        &shard.to_string(),
        new_starting_hash_key.unwrap_or_default(),
    )?;
    Ok(Reply::empty(stream_ref.display()))
}

/// The shard a request names (read as [`ShardId::from_request`] reads it), or Kinesis' answer
/// for text that names none. Kinesis reads the shard before it looks the stream up, so this
/// answer wins over a missing stream (kinesalite's test/splitShard.js and test/mergeShards.js).
fn named_shard(
    engine: &Engine,
    stream_ref: &StreamRef<'_>,
    text: &str,
) -> Result<ShardId, ApiError> {
    ShardId::from_request(text).ok_or_else(|| {
        ApiError::client(
            "ResourceNotFoundException",
            format!(
                "Could not find shard {text} in stream {} under account {}.",
                stream_ref.display().unwrap_or_default(),
                engine.account_id()
            ),
        )
    })
}

/// `MergeShards`.
pub fn merge_shards(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let adjacent = fields.string("AdjacentShardToMerge")?;
    let shard = fields.string("ShardToMerge")?;
    let mut checks = Checks::new();
    checks.required("adjacentShardToMerge", &adjacent);
    checks.text(
        "adjacentShardToMerge",
        adjacent,
        Some(NAME),
        SHARD_ID_LENGTH,
    );
    checks.required("shardToMerge", &shard);
    checks.text("shardToMerge", shard, Some(NAME), SHARD_ID_LENGTH);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let shard = named_shard(context.engine, &stream_ref, shard.unwrap_or_default())?;
    let adjacent = named_shard(context.engine, &stream_ref, adjacent.unwrap_or_default())?;
    let stream = stream_ref.resolve(context.engine)?;
    stream.merge_shards(&shard.to_string(), &adjacent.to_string())?;
    Ok(Reply::empty(stream_ref.display()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateShardCountOut {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    current_shard_count: u32,
    target_shard_count: u32,
}

/// `UpdateShardCount` (UNIFORM_SCALING, the only scaling type).
pub fn update_shard_count(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let scaling_type = fields.string("ScalingType")?;
    let target = fields.integer("TargetShardCount")?;
    let mut checks = Checks::new();
    checks.required("scalingType", &scaling_type);
    checks.one_of("scalingType", scaling_type, &["UNIFORM_SCALING"]);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.required("targetShardCount", &target);
    // The model bounds the target below only: the resharding rules answer for the rest.
    checks.range("targetShardCount", target, 1, i64::MAX);
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let output = stream.update_shard_count(to_u32(target.unwrap_or_default()))?;
    let out = UpdateShardCountOut {
        stream_name: stream.name().as_str().to_owned(),
        stream_arn: stream.arn(),
        current_shard_count: output.current_shard_count,
        target_shard_count: output.target_shard_count,
    };
    Ok(Reply::new(context, &out, &stream))
}

/// `UpdateStreamMode` (the model requires the ARN).
pub fn update_stream_mode(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let arn = fields.string("StreamARN")?;
    let details = fields.structure("StreamModeDetails")?;
    let mode = match &details {
        Some(details) => details.string("StreamMode")?,
        None => None,
    };
    let warm_throughput = fields.integer("WarmThroughputMiBps")?;
    let mut checks = Checks::new();
    checks.required("streamARN", &arn);
    checks.text(
        "streamARN",
        arn,
        Some(crate::protocol::fields::STREAM_ARN),
        (1, 2048),
    );
    super::check_stream_id(&fields, &mut checks)?;
    checks.required("streamModeDetails", &details.map(|_| ()));
    if details.is_some() {
        checks.required("streamModeDetails.streamMode", &mode);
        checks.one_of(
            "streamModeDetails.streamMode",
            mode,
            &["PROVISIONED", "ON_DEMAND"],
        );
    }
    checks.range("warmThroughputMiBps", warm_throughput, 0, i64::MAX);
    checks.finish()?;
    let stream = StreamRef { name: None, arn }.resolve(context.engine)?;
    let mode = match mode {
        Some("ON_DEMAND") => StreamMode::OnDemand,
        _ => StreamMode::Provisioned,
    };
    context
        .engine
        .update_stream_mode(stream.name().as_str(), mode)?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}
