//! A stream's settings: retention, tags (by name and by ARN), enhanced monitoring, the largest
//! record, and the account's limits.

use std::collections::BTreeMap;

use serde::Serialize;
use shardlog::stream::SHARD_LEVEL_METRICS;

use super::consumers::{Resource, consumer_error};
use super::{Context, Reply, StreamRef, to_u32};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::{Checks, RESOURCE_ARN, STREAM_ARN, as_string};

fn retention(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
    increase: bool,
) -> Result<Reply, ApiError> {
    let hours = fields.integer("RetentionPeriodHours")?;
    let mut checks = Checks::new();
    checks.required("retentionPeriodHours", &hours);
    checks.range("retentionPeriodHours", hours, 1, 8760);
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let hours = to_u32(hours.unwrap_or_default());
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

/// Reads a required tag map, checking it as [`optional_tag_map`] does.
fn tag_map(
    fields: &Fields<'_, '_>,
    checks: &mut Checks,
    max: usize,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let tags = optional_tag_map(fields, checks, max)?;
    checks.required("tags", &tags);
    Ok(tags)
}

/// Reads a tag map, checking its size (`max` entries), keys (1–128) and values (0–256).
pub(super) fn optional_tag_map(
    fields: &Fields<'_, '_>,
    checks: &mut Checks,
    max: usize,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let tags = fields.string_map("Tags")?;
    let Some(tags) = tags else { return Ok(None) };
    let shown = || {
        let inner: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{{{}}}", inner.join(", "))
    };
    if tags.is_empty() {
        checks.fail(
            Some(&shown()),
            "tags",
            "have length greater than or equal to 1",
        );
    }
    if tags.len() > max {
        checks.fail(
            Some(&shown()),
            "tags",
            &format!("have length less than or equal to {max}"),
        );
    }
    for (key, value) in &tags {
        checks.text(&format!("tags.{key}.member"), Some(key), None, (1, 128));
        checks.text(&format!("tags.{key}.member"), Some(value), None, (0, 256));
    }
    Ok(Some(
        tags.into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    ))
}

/// Refuses tags Kinesis refuses beyond the model's lengths: a key in the `aws:` namespace (which
/// AWS reserves for its own tags, in any case), and a key or value holding a control character
/// (outside the letters, digits, white space and `_ . / = + - % @` the tag rules allow).
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
        if key.chars().chain(value.chars()).any(char::is_control) {
            return Err(ApiError::invalid_argument(
                "Some tags contain invalid characters. Valid characters: Unicode letters, \
                 digits, white space, _ . / = + - % @.",
            ));
        }
    }
    Ok(())
}

/// Reads a list of tag keys (1–`max` keys of 1–128 characters).
fn tag_keys(
    fields: &Fields<'_, '_>,
    checks: &mut Checks,
    max: usize,
) -> Result<Vec<String>, ApiError> {
    let keys = fields.list("TagKeys")?;
    checks.required("tagKeys", &keys);
    let keys = keys
        .unwrap_or_default()
        .iter()
        .map(as_string)
        .collect::<Result<Vec<&str>, ApiError>>()?;
    let shown = || format!("[{}]", keys.join(", "));
    if fields.get("TagKeys").is_some() && keys.is_empty() {
        checks.fail(
            Some(&shown()),
            "tagKeys",
            "have length greater than or equal to 1",
        );
    }
    if keys.len() > max {
        checks.fail(
            Some(&shown()),
            "tagKeys",
            &format!("have length less than or equal to {max}"),
        );
    }
    for (position, key) in keys.iter().enumerate() {
        checks.text(
            &format!("tagKeys.{}.member", position + 1),
            Some(key),
            None,
            (1, 128),
        );
    }
    Ok(keys.into_iter().map(str::to_owned).collect())
}

/// `AddTagsToStream`.
pub fn add_tags_to_stream(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let stream_ref = StreamRef::read(&fields, &mut checks)?;
    let tags = tag_map(&fields, &mut checks, 10)?;
    checks.finish()?;
    let tags = tags.unwrap_or_default();
    check_tag_rules(
        tags.iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?;
    let stream = stream_ref.resolve(context.engine)?;
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
    let keys = tag_keys(&fields, &mut checks, 10)?;
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
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
    checks.text("exclusiveStartTagKey", exclusive_start, None, (1, 128));
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

/// The `ResourceARN` member: a stream's or a consumer's ARN.
fn resource(fields: &Fields<'_, '_>, checks: &mut Checks) -> Result<Option<String>, ApiError> {
    let arn = fields.string("ResourceARN")?;
    checks.required("resourceARN", &arn);
    checks.text("resourceARN", arn, Some(RESOURCE_ARN), (1, 2048));
    Ok(arn.map(str::to_owned))
}

/// `TagResource`.
pub fn tag_resource(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = resource(&fields, &mut checks)?;
    let tags = tag_map(&fields, &mut checks, 50)?;
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
            .map_err(|error| consumer_error(context.engine, error))?,
    }
    Ok(Reply::empty(Some(
        resource.stream().name().as_str().to_owned(),
    )))
}

/// `UntagResource`.
pub fn untag_resource(context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = resource(&fields, &mut checks)?;
    let keys = tag_keys(&fields, &mut checks, 50)?;
    checks.finish()?;
    let resource = Resource::find(context.engine, arn.as_deref().unwrap_or_default())?;
    match &resource {
        Resource::Stream(stream) => stream.remove_tags(&keys)?,
        Resource::Consumer(stream, consumer) => stream
            .remove_consumer_tags(&consumer.name, &keys)
            .map_err(|error| consumer_error(context.engine, error))?,
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
            .map_err(|error| consumer_error(context.engine, error))?,
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
    let shown = format!("[{}]", metrics.join(", "));
    if fields.get("ShardLevelMetrics").is_some() && metrics.is_empty() {
        checks.fail(
            Some(&shown),
            "shardLevelMetrics",
            "have length greater than or equal to 1",
        );
    }
    if metrics.len() > 7 {
        checks.fail(
            Some(&shown),
            "shardLevelMetrics",
            "have length less than or equal to 7",
        );
    }
    // The model's enum: the library's metric names, then ALL.
    let known = |metric: &&str| *metric == "ALL" || SHARD_LEVEL_METRICS.contains(metric);
    if !metrics.iter().all(known) {
        checks.fail(
            Some(&shown),
            "shardLevelMetrics",
            &format!(
                "satisfy constraint: [Member must satisfy enum value set: [{}, ALL]]",
                SHARD_LEVEL_METRICS.join(", ")
            ),
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

/// `UpdateMaxRecordSize` (the model requires the ARN).
pub fn update_max_record_size(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let kib = fields.integer("MaxRecordSizeInKiB")?;
    let arn = fields.string("StreamARN")?;
    let mut checks = Checks::new();
    checks.required("maxRecordSizeInKiB", &kib);
    checks.range("maxRecordSizeInKiB", kib, 1024, 10240);
    checks.required("streamARN", &arn);
    checks.text("streamARN", arn, Some(STREAM_ARN), (1, 2048));
    checks.finish()?;
    let stream = StreamRef { name: None, arn }.resolve(context.engine)?;
    stream.update_max_record_size(to_u32(kib.unwrap_or_default()))?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}
