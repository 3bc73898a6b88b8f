//! A stream's settings: retention, tags (by name and by ARN), enhanced monitoring, the largest
//! record, and the account's limits.

use std::collections::BTreeMap;

use serde::Serialize;
use shardlog::Stream;
use shardlog::engine::RETENTION_HOURS_RANGE;
use shardlog::stream::{MAX_RECORD_SIZE_KIB_RANGE, METRICS_NAMES, TAG_VALUE_CHARS_MAX};

use super::consumers::Resource;
use super::{Context, Reply, StreamRef, check_stream_id, to_u32};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::{
    Checks, MemberRole, MemberRule, RESOURCE_ARN, STREAM_ARN, TAG_KEY_LENGTH, as_string,
    shown_list, shown_map,
};

/// Most entries of a tag map in one request (the model's `TagMap`). A stream keeps at most 50
/// tags; more is refused by the tagging rules, not the front end.
const TAG_MAP_ENTRIES_MAX: usize = 200;
/// Most keys of a tag key list in one request (the model's `TagKeyList`).
const TAG_KEYS_MAX: usize = 50;
/// A tag key's length, in characters (the model's `TagKey`).
const TAG_KEY: MemberRule = MemberRule::Length(TAG_KEY_LENGTH.0, TAG_KEY_LENGTH.1);
/// A tag value's length, in characters (the model's `TagValue`).
const TAG_VALUE: MemberRule = MemberRule::Length(0, TAG_VALUE_CHARS_MAX);

fn retention(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
    increase: bool,
) -> Result<Reply, ApiError> {
    let hours = fields.integer("RetentionPeriodHours")?;
    let mut checks = Checks::new();
    // The model puts no range on the hours: the retention rules below answer for them.
    checks.required("retentionPeriodHours", &hours);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let hours = hours.unwrap_or_default();
    if hours < 0 {
        // The library takes hours as u32; this is its "too short" answer for what it cannot hold.
        return Err(ApiError::invalid_argument(format!(
            "Minimum allowed retention period is {} hours. Requested retention period ({hours} \
             hours) is too short.",
            RETENTION_HOURS_RANGE.start()
        )));
    }
    let hours = to_u32(hours);
    if increase {
        stream.increase_retention_period(hours)?;
    } else {
        stream.decrease_retention_period(hours)?;
    }
    Ok(Reply::empty(stream_ref.display()))
}

/// `IncreaseStreamRetentionPeriod`.
pub fn increase_retention(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    retention(context, fields, true)
}

/// `DecreaseStreamRetentionPeriod`.
pub fn decrease_retention(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    retention(context, fields, false)
}

/// Reads and checks a tag map (absent is not checked): its size, keys and values.
pub(super) fn tag_map(
    fields: &Fields<'_, '_>,
    checks: &mut Checks,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let Some(tags) = fields.string_map("Tags")? else {
        return Ok(None);
    };
    let shown = shown_map(tags.iter().copied());
    checks.size("tags", &shown, tags.len(), (1, TAG_MAP_ENTRIES_MAX));
    let keys = tags.iter().map(|(key, _)| *key);
    checks.members("tags", &shown, MemberRole::MapKey, &TAG_KEY, keys);
    let values = tags.iter().map(|(_, value)| *value);
    checks.members("tags", &shown, MemberRole::MapValue, &TAG_VALUE, values);
    Ok(Some(
        tags.into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    ))
}

/// Refuses tags Kinesis refuses beyond the model's lengths: a key in the `aws:` namespace (which
/// AWS reserves for its own tags, in any case), and a key or value holding a character outside
/// those [`tag_character_allowed`] admits.
pub(super) fn check_tag_rules<'t>(
    tags: impl IntoIterator<Item = (&'t str, &'t str)>,
) -> Result<(), ApiError> {
    for (key, value) in tags {
        if key
            .get(..4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
        {
            return Err(ApiError::invalid_argument(
                "Tag keys starting with 'aws:' are reserved for internal use.",
            ));
        }
        check_tag_characters([key, value])?;
    }
    Ok(())
}

/// Refuses tag keys or values holding a character outside those [`tag_character_allowed`]
/// admits.
fn check_tag_characters<'t>(texts: impl IntoIterator<Item = &'t str>) -> Result<(), ApiError> {
    for text in texts {
        if !text.chars().all(tag_character_allowed) {
            return Err(ApiError::invalid_argument(
                "Some tags contain invalid characters. Valid characters: Unicode letters, \
                 digits, white space, _ . / = + - % @.",
            ));
        }
    }
    Ok(())
}

/// The characters Kinesis' message names ("Unicode letters, digits, white space, _ . / = + - %
/// @"). White space is a space, not a control character: kinesalite's test/addTagsToStream.js
/// records a tab and a line break refused, with `;` and `,`.
fn tag_character_allowed(character: char) -> bool {
    character.is_alphanumeric()
        || (character.is_whitespace() && !character.is_control())
        || matches!(character, '_' | '.' | '/' | '=' | '+' | '-' | '%' | '@')
}

/// What a tag request was doing, as [`refuse_percent`] words it.
#[derive(Clone, Copy)]
enum TagChange {
    Add,
    Remove,
}

/// Refuses `%` in tags given to AddTagsToStream or RemoveTagsFromStream. Kinesis lists `%` among
/// the valid characters, yet those two operations refuse it, once the stream is found, with a
/// message of their own (recorded in kinesalite's test/addTagsToStream.js and
/// test/removeTagsFromStream.js).
fn refuse_percent<'t>(
    context: &Context<'_>,
    stream: &Stream,
    change: TagChange,
    texts: impl IntoIterator<Item = &'t str>,
) -> Result<(), ApiError> {
    if !texts.into_iter().any(|text| text.contains('%')) {
        return Ok(());
    }
    let verb = match change {
        TagChange::Add => "add tags to",
        TagChange::Remove => "remove tags from",
    };
    Err(ApiError::invalid_argument(format!(
        "Failed to {verb} stream {} under account {} because some tags contained illegal \
         characters. The allowed characters are Unicode letters, white-spaces, \
         '_',',','/','=','+','-','@'.",
        stream.name(),
        context.engine.account_id()
    )))
}

/// Reads and checks a list of tag keys (required).
fn tag_keys(fields: &Fields<'_, '_>, checks: &mut Checks) -> Result<Vec<String>, ApiError> {
    let keys = fields.list("TagKeys")?;
    checks.required("tagKeys", &keys);
    let Some(keys) = keys else {
        return Ok(Vec::new());
    };
    let keys = keys
        .iter()
        .map(as_string)
        .collect::<Result<Vec<&str>, ApiError>>()?;
    let shown = shown_list(keys.iter().copied());
    checks.size("tagKeys", &shown, keys.len(), (1, TAG_KEYS_MAX));
    let members = keys.iter().copied();
    checks.members("tagKeys", &shown, MemberRole::ListMember, &TAG_KEY, members);
    Ok(keys.into_iter().map(str::to_owned).collect())
}

/// `AddTagsToStream`.
pub fn add_tags_to_stream(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    let tags = tag_map(&fields, &mut checks)?;
    checks.required("tags", &tags);
    checks.finish()?;
    let tags = tags.unwrap_or_default();
    let stream = stream_ref.resolve(context.engine)?;
    let pairs = || {
        tags.iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    };
    check_tag_rules(pairs())?;
    refuse_percent(
        context,
        &stream,
        TagChange::Add,
        pairs().flat_map(|(key, value)| [key, value]),
    )?;
    stream.add_tags(tags)?;
    Ok(Reply::empty(stream_ref.display()))
}

/// `RemoveTagsFromStream`.
pub fn remove_tags_from_stream(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    let keys = tag_keys(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    check_tag_characters(keys.iter().map(String::as_str))?;
    refuse_percent(
        context,
        &stream,
        TagChange::Remove,
        keys.iter().map(String::as_str),
    )?;
    stream.remove_tags(&keys)?;
    Ok(Reply::empty(stream_ref.display()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut {
    key: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsForStreamOut {
    tags: Vec<TagOut>,
    has_more_tags: bool,
}

/// `ListTagsForStream`: tags in key order, after `ExclusiveStartTagKey`, at most `Limit` (≤ 50).
pub fn list_tags_for_stream(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let exclusive_start = fields.string("ExclusiveStartTagKey")?;
    let limit = fields.integer("Limit")?;
    let mut checks = Checks::new();
    checks.text(
        "exclusiveStartTagKey",
        exclusive_start,
        None,
        TAG_KEY_LENGTH,
    );
    checks.range("limit", limit, 1, 50);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let limit = usize::try_from(limit.unwrap_or(50)).unwrap_or(50);
    let mut after = stream
        .tags()
        .into_iter()
        .filter(|(key, _)| exclusive_start.is_none_or(|start| key.as_str() > start));
    let tags: Vec<TagOut> = after
        .by_ref()
        .take(limit)
        .map(|(key, value)| TagOut { key, value })
        .collect();
    let out = ListTagsForStreamOut {
        tags,
        has_more_tags: after.next().is_some(),
    };
    Ok(Reply::new(context, &out, &stream))
}

/// The `ResourceARN` member (a stream's or a consumer's ARN), and the `StreamId` beside it.
fn resource(fields: &Fields<'_, '_>, checks: &mut Checks) -> Result<Option<String>, ApiError> {
    let arn = fields.string("ResourceARN")?;
    checks.required("resourceARN", &arn);
    checks.text("resourceARN", arn, Some(RESOURCE_ARN), (1, 2048));
    check_stream_id(fields, checks)?;
    Ok(arn.map(str::to_owned))
}

/// `TagResource`.
pub fn tag_resource(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = resource(&fields, &mut checks)?;
    let tags = tag_map(&fields, &mut checks)?;
    checks.required("tags", &tags);
    checks.finish()?;
    let tags = tags.unwrap_or_default();
    check_tag_rules(
        tags.iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?;
    let resource = Resource::find(context.engine, arn.as_deref().unwrap_or_default())?;
    match &resource {
        Resource::Stream(stream) => stream.add_tags(tags)?,
        Resource::Consumer(stream, consumer) => stream
            .add_consumer_tags(&consumer.name, tags)
            .map_err(ApiError::from)?,
    }
    Ok(Reply::empty(Some(
        resource.stream().name().as_str().to_owned(),
    )))
}

/// `UntagResource`.
pub fn untag_resource(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = resource(&fields, &mut checks)?;
    let keys = tag_keys(&fields, &mut checks)?;
    checks.finish()?;
    let resource = Resource::find(context.engine, arn.as_deref().unwrap_or_default())?;
    match &resource {
        Resource::Stream(stream) => stream.remove_tags(&keys)?,
        Resource::Consumer(stream, consumer) => stream
            .remove_consumer_tags(&consumer.name, &keys)
            .map_err(ApiError::from)?,
    }
    Ok(Reply::empty(Some(
        resource.stream().name().as_str().to_owned(),
    )))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsForResourceOut {
    tags: Vec<TagOut>,
}

/// `ListTagsForResource`.
pub fn list_tags_for_resource(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = resource(&fields, &mut checks)?;
    checks.finish()?;
    let resource = Resource::find(context.engine, arn.as_deref().unwrap_or_default())?;
    let tags = match &resource {
        Resource::Stream(stream) => stream.tags(),
        Resource::Consumer(stream, consumer) => stream
            .consumer_tags(&consumer.name)
            .map_err(ApiError::from)?,
    };
    let out = ListTagsForResourceOut {
        tags: tags
            .into_iter()
            .map(|(key, value)| TagOut { key, value })
            .collect(),
    };
    Ok(Reply::new(context, &out, resource.stream()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeLimitsOut {
    shard_limit: u64,
    open_shard_count: u64,
    on_demand_stream_count: usize,
    on_demand_stream_count_limit: usize,
}

/// `DescribeLimits`.
pub fn describe_limits(context: &Context<'_>, _fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let limits = context.engine.describe_limits();
    let out = DescribeLimitsOut {
        shard_limit: limits.shard_limit,
        open_shard_count: limits.open_shard_count,
        on_demand_stream_count: limits.on_demand_stream_count,
        on_demand_stream_count_limit: limits.on_demand_stream_count_limit,
    };
    Ok(Reply {
        body: context.protocol.encode(&out),
        stream: None,
        events: None,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MonitoringOut {
    stream_name: String,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    current_shard_level_metrics: Vec<String>,
    desired_shard_level_metrics: Vec<String>,
}

fn monitoring(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
    enable: bool,
) -> Result<Reply, ApiError> {
    let metrics = fields.list("ShardLevelMetrics")?;
    let mut checks = Checks::new();
    checks.required("shardLevelMetrics", &metrics);
    let metrics = metrics
        .unwrap_or_default()
        .iter()
        .map(as_string)
        .collect::<Result<Vec<&str>, ApiError>>()?;
    if fields.get("ShardLevelMetrics").is_some() {
        let shown = shown_list(metrics.iter().copied());
        checks.size("shardLevelMetrics", &shown, metrics.len(), (1, 7));
        let names = MemberRule::OneOf(&METRICS_NAMES);
        let members = metrics.iter().copied();
        checks.members(
            "shardLevelMetrics",
            &shown,
            MemberRole::ListMember,
            &names,
            members,
        );
    }
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let change = if enable {
        stream.enable_enhanced_monitoring(&metrics)?
    } else {
        stream.disable_enhanced_monitoring(&metrics)?
    };
    let out = MonitoringOut {
        stream_name: stream.name().as_str().to_owned(),
        stream_arn: stream.arn(),
        current_shard_level_metrics: change.current,
        desired_shard_level_metrics: change.desired,
    };
    Ok(Reply::new(context, &out, &stream))
}

/// `EnableEnhancedMonitoring`.
pub fn enable_monitoring(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    monitoring(context, fields, true)
}

/// `DisableEnhancedMonitoring`.
pub fn disable_monitoring(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    monitoring(context, fields, false)
}

/// `UpdateMaxRecordSize` (the stream by ARN only; the model leaves the ARN optional, and a
/// request without one names no stream).
pub fn update_max_record_size(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let kib = fields.integer("MaxRecordSizeInKiB")?;
    let arn = fields.string("StreamARN")?;
    let mut checks = Checks::new();
    checks.required("maxRecordSizeInKiB", &kib);
    checks.range(
        "maxRecordSizeInKiB",
        kib,
        i64::from(*MAX_RECORD_SIZE_KIB_RANGE.start()),
        i64::from(*MAX_RECORD_SIZE_KIB_RANGE.end()),
    );
    checks.text("streamARN", arn, Some(STREAM_ARN), (1, 2048));
    check_stream_id(&fields, &mut checks)?;
    checks.finish()?;
    let stream = StreamRef { name: None, arn }.resolve(context.engine)?;
    stream.update_max_record_size(to_u32(kib.unwrap_or_default()))?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}
