//! A stream's settings: tags, retention period, capacity mode, largest record size and enhanced
//! monitoring. Each change is made on a copy of the catalog entry, stored durably, and only then
//! becomes what readers and writers see.

use std::collections::{BTreeMap, BTreeSet};

use super::daily_limits;
use super::error::{Constraint, InUse, InvalidArgument, Limit, MemberValue, Validation};
use super::meta::{StreamMeta, StreamMode};
use super::{Stream, StreamError, StreamResult, max_record_bytes};
use crate::error::LogError;

/// Allowed retention periods, in hours.
pub const RETENTION_HOURS_RANGE: std::ops::RangeInclusive<u32> = 24..=8760;
/// Allowed maximum record sizes, in KiB.
pub const MAX_RECORD_SIZE_KIB_RANGE: std::ops::RangeInclusive<u32> = 1024..=10240;
/// Most tags on a stream.
pub const TAGS_MAX: usize = 50;
/// Longest tag key, in characters (at least 1).
pub const TAG_KEY_CHARS_MAX: usize = 128;
/// Longest tag value, in characters.
pub const TAG_VALUE_CHARS_MAX: usize = 256;
/// The shard-level metrics EnableEnhancedMonitoring takes (besides `ALL`).
pub const SHARD_LEVEL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];
/// The API model's `MetricsName` enum: [`SHARD_LEVEL_METRICS`], then `ALL`.
pub const METRICS_NAMES: [&str; 8] = [
    SHARD_LEVEL_METRICS[0],
    SHARD_LEVEL_METRICS[1],
    SHARD_LEVEL_METRICS[2],
    SHARD_LEVEL_METRICS[3],
    SHARD_LEVEL_METRICS[4],
    SHARD_LEVEL_METRICS[5],
    SHARD_LEVEL_METRICS[6],
    "ALL",
];

/// Checks the tags given to a new stream or consumer: at most [`TAGS_MAX`], then
/// [`validate_tag_lengths`]. More tags than a stream may hold is an `InvalidArgumentException`,
/// not a validation error: the API model lets one request carry up to 200.
pub(crate) fn validate_tags(tags: &BTreeMap<String, String>) -> StreamResult<()> {
    if tags.len() > TAGS_MAX {
        return Err(InvalidArgument::TooManyTagsGiven {
            given: tags.len(),
            max: TAGS_MAX,
        }
        .into());
    }
    validate_tag_lengths(tags)
}

/// Checks each tag key is 1–128 and each value 0–256 characters, as the API model does.
pub(crate) fn validate_tag_lengths(tags: &BTreeMap<String, String>) -> StreamResult<()> {
    for (key, value) in tags {
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > TAG_KEY_CHARS_MAX {
            let constraint = if key_chars == 0 {
                Constraint::LengthAtLeast(1)
            } else {
                Constraint::LengthAtMost(TAG_KEY_CHARS_MAX)
            };
            return Err(StreamError::member(
                MemberValue::Text(key.clone()),
                "tags.key",
                constraint,
            ));
        }
        if value.chars().count() > TAG_VALUE_CHARS_MAX {
            return Err(StreamError::member(
                MemberValue::Text(value.clone()),
                "tags.value",
                Constraint::LengthAtMost(TAG_VALUE_CHARS_MAX),
            ));
        }
    }
    Ok(())
}

/// Which way a retention change may go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RetentionChange {
    Increase,
    Decrease,
}

/// Shard-level metrics before and after an Enable/DisableEnhancedMonitoring call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnhancedMonitoring {
    /// Enabled before the call.
    pub current: Vec<String>,
    /// Enabled after it.
    pub desired: Vec<String>,
}

impl Stream {
    /// Applies `change` to a copy of the catalog entry, stores it durably, and makes it current.
    /// On any error nothing changes.
    pub(crate) fn change_meta<T, E: From<StreamError>>(
        &self,
        change: impl FnOnce(&mut StreamMeta) -> Result<T, E>,
    ) -> Result<T, E> {
        self.check_writable()?;
        let mut meta = self.meta.write();
        let mut changed = meta.clone();
        let outcome = change(&mut changed)?;
        if changed != *meta {
            changed
                .store_on(&self.context.file_system, &self.dir)
                .map_err(|error| {
                    StreamError::from(LogError::io("writing stream metadata", &self.dir, error))
                })?;
            *meta = changed;
        }
        Ok(outcome)
    }

    /// Adds or overwrites tags (Kinesis AddTagsToStream / TagResource). The stream may end with
    /// at most [`TAGS_MAX`] tags, however many one call gives.
    pub fn add_tags(&self, tags: BTreeMap<String, String>) -> StreamResult<()> {
        validate_tag_lengths(&tags)?;
        let name = self.name();
        self.change_meta(|meta| {
            meta.tags.extend(tags);
            if meta.tags.len() > TAGS_MAX {
                return Err(InvalidArgument::TooManyStreamTags {
                    stream: name.clone(),
                    account: self.context.account_id.clone(),
                }
                .into());
            }
            Ok(())
        })
    }

    /// Removes tags; keys that are not there are ignored (Kinesis RemoveTagsFromStream /
    /// UntagResource).
    pub fn remove_tags(&self, keys: &[String]) -> StreamResult<()> {
        self.change_meta(|meta| {
            for key in keys {
                meta.tags.remove(key);
            }
            Ok(())
        })
    }

    /// The stream's tags.
    pub fn tags(&self) -> BTreeMap<String, String> {
        self.meta.read().tags.clone()
    }

    /// Raises the retention period (Kinesis IncreaseStreamRetentionPeriod). Data that has expired
    /// stays expired (deleted or not): only records still retained are kept longer. A period equal
    /// to the current one changes nothing; a shorter one is refused, as by Kinesis.
    pub fn increase_retention_period(&self, hours: u32) -> StreamResult<()> {
        self.change_retention(hours, RetentionChange::Increase)
    }

    /// Lowers the retention period (Kinesis DecreaseStreamRetentionPeriod). Records older than the
    /// new period are unreadable at once; their segments are deleted by the next maintenance pass.
    pub fn decrease_retention_period(&self, hours: u32) -> StreamResult<()> {
        self.change_retention(hours, RetentionChange::Decrease)
    }

    fn change_retention(&self, hours: u32, direction: RetentionChange) -> StreamResult<()> {
        self.check_retention_hours(hours)?;
        let name = self.name();
        let now_ms = self.context.clock.now_ms();
        self.change_meta(|meta| {
            let current = meta.retention_hours;
            let wrong_way = match direction {
                RetentionChange::Increase => hours < current,
                RetentionChange::Decrease => hours > current,
            };
            if wrong_way {
                return Err(InvalidArgument::RetentionWrongWay {
                    hours,
                    stream: name.clone(),
                    current_hours: current,
                    increase: direction == RetentionChange::Increase,
                }
                .into());
            }
            if hours > current {
                meta.expired_before_ms = super::retention::trim_horizon_ms(meta, now_ms);
            }
            meta.retention_hours = hours;
            Ok(())
        })
    }

    fn check_retention_hours(&self, hours: u32) -> StreamResult<()> {
        if hours < *RETENTION_HOURS_RANGE.start() {
            return Err(InvalidArgument::RetentionTooShort {
                hours,
                min_hours: *RETENTION_HOURS_RANGE.start(),
            }
            .into());
        }
        if hours > *RETENTION_HOURS_RANGE.end() {
            return Err(InvalidArgument::RetentionTooLong {
                hours,
                max_hours: *RETENTION_HOURS_RANGE.end(),
            }
            .into());
        }
        Ok(())
    }

    /// Changes the largest record (data plus partition key) the stream accepts, 1024–10240 KiB
    /// (Kinesis UpdateMaxRecordSize).
    pub fn update_max_record_size(&self, kib: u32) -> StreamResult<()> {
        if !MAX_RECORD_SIZE_KIB_RANGE.contains(&kib) {
            return Err(Validation::MaxRecordSizeOutOfRange { kib }.into());
        }
        self.change_meta(|meta| {
            meta.max_record_size_kib = kib;
            StreamResult::Ok(())
        })?;
        for shard in self.shards() {
            shard.log.set_record_data_bytes_max(max_record_bytes(kib));
        }
        Ok(())
    }

    /// Switches the capacity mode, keeping the shards (Kinesis UpdateStreamMode; the engine checks
    /// the on-demand stream limit first).
    pub(crate) fn set_mode(&self, mode: StreamMode) -> StreamResult<()> {
        let now_ms = self.context.clock.now_ms();
        self.check_active()?;
        self.change_meta(|meta| {
            if meta.mode != mode {
                let limit = self.context.mode_switches_per_day;
                daily_limits::record_use(&mut meta.mode_switches_ms, now_ms, limit, |max| {
                    Limit::ModeSwitchesPerDay {
                        max,
                        stream: meta.name.clone(),
                        account: self.context.account_id.clone(),
                    }
                    .into()
                })?;
                meta.mode = mode;
                meta.updating_until_ms = now_ms.saturating_add(self.context.update_delay_ms);
            }
            Ok(())
        })
    }

    /// Enables shard-level metrics (Kinesis EnableEnhancedMonitoring); `ALL` enables every one.
    pub fn enable_enhanced_monitoring(&self, metrics: &[&str]) -> StreamResult<EnhancedMonitoring> {
        let named = parse_shard_level_metrics(metrics)?;
        self.change_monitoring(|enabled| enabled.extend(named))
    }

    /// Disables shard-level metrics (Kinesis DisableEnhancedMonitoring); `ALL` disables every one.
    pub fn disable_enhanced_monitoring(
        &self,
        metrics: &[&str],
    ) -> StreamResult<EnhancedMonitoring> {
        let named = parse_shard_level_metrics(metrics)?;
        self.change_monitoring(|enabled| enabled.retain(|metric| !named.contains(metric)))
    }

    fn change_monitoring(
        &self,
        change: impl FnOnce(&mut BTreeSet<String>),
    ) -> StreamResult<EnhancedMonitoring> {
        self.change_meta(|meta| {
            let current = meta.shard_level_metrics.iter().cloned().collect();
            change(&mut meta.shard_level_metrics);
            Ok(EnhancedMonitoring {
                current,
                desired: meta.shard_level_metrics.iter().cloned().collect(),
            })
        })
    }

    /// Fails unless the stream is ACTIVE (not CREATING, UPDATING or DELETING), with Kinesis' message.
    pub(crate) fn check_active(&self) -> StreamResult<()> {
        let status = self.status();
        if status == super::StreamStatus::Active {
            return Ok(());
        }
        Err(InUse::StreamNotActive {
            stream: self.name(),
            account: self.context.account_id.clone(),
            status,
        }
        .into())
    }
}

/// The metric names of an Enable/DisableEnhancedMonitoring request, `ALL` expanded.
fn parse_shard_level_metrics(metrics: &[&str]) -> StreamResult<BTreeSet<String>> {
    let mut named = BTreeSet::new();
    for &metric in metrics {
        if metric == "ALL" {
            named.extend(SHARD_LEVEL_METRICS.iter().map(|&name| name.to_owned()));
        } else if SHARD_LEVEL_METRICS.contains(&metric) {
            named.insert(metric.to_owned());
        } else {
            return Err(StreamError::member(
                MemberValue::Text(metric.to_owned()),
                "shardLevelMetrics",
                Constraint::OneOf(&METRICS_NAMES),
            ));
        }
    }
    Ok(named)
}
