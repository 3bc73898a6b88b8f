//! A stream's metadata and its durable file, `stream.meta`.
//!
//! The file is small, human-readable text, one `key value` line each, ending with a CRC-32 line
//! over everything before it (see `checksummed_text.rs`):
//!
//! ```text
//! shardlog-stream 1
//! name data-analysis-stream
//! created_ms 1700000000000
//! active_from_ms 1700000000000
//! updating_until_ms 0
//! status ACTIVE
//! mode ON_DEMAND
//! retention_hours 24
//! expired_before_ms 0
//! max_record_size_kib 1024
//! next_shard_index 4
//! shard 0 1700000000 0 85070591730234615865843651857942052863 - - -
//! tag 656e76 70726f64
//! shard_level_metric IncomingBytes
//! shard_count_update 1700000100000
//! mode_switch 1700000200000
//! consumer app-1 1700000300000 1700000300500 -
//! consumer_tag app-1 7465616d 7061796d656e7473
//! crc 1a2b3c4d
//! ```
//!
//! A shard line is `shard <index> <created secs> <starting hash key> <ending hash key> <parent>
//! <adjacent parent> <closed secs>`, `-` for none. Tag keys and values are hex-encoded UTF-8, so any
//! character Kinesis allows survives. Settings recorded but not acted on (encryption, resource
//! policy, warm throughput) add lines of their own, described in `recorded.rs`. A consumer line is
//! `consumer <name> <created ms> <active from ms> <gone at ms>` (`-` until deregistered), its tags
//! on `consumer_tag <name> <key> <value>` lines after it (see `consumers.rs`). It is replaced
//! atomically and durably (see `file_system/durable.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::consumers::ConsumerMeta;
use super::hash_key::HashKeyRange;
use super::meta_error::MetaError;
use super::names::{ShardId, StreamName};
use super::recorded::RecordedSettings;
use crate::checksummed_text;
use crate::file_system::{FileSystem, OsFileSystem, StagedFile};
use crate::sequence::ShardIdentity;

/// File name of a stream's metadata inside its directory.
pub const FILE_NAME: &str = "stream.meta";

/// How a stream's capacity is managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamMode {
    /// Capacity follows traffic; a new stream starts with 4 shards.
    OnDemand,
    /// The user sets the shard count.
    Provisioned,
}

impl StreamMode {
    /// The Kinesis spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::OnDemand => "ON_DEMAND",
            StreamMode::Provisioned => "PROVISIONED",
        }
    }

    fn parse(text: &str) -> Option<StreamMode> {
        match text {
            "ON_DEMAND" => Some(StreamMode::OnDemand),
            "PROVISIONED" => Some(StreamMode::Provisioned),
            _ => None,
        }
    }
}

/// Where a stream is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamStatus {
    /// Being created; not yet readable or writable.
    Creating,
    /// Ready.
    Active,
    /// Being changed (resharding, mode switch); still readable and writable.
    Updating,
    /// Being deleted.
    Deleting,
}

impl StreamStatus {
    /// The Kinesis spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }

    fn parse(text: &str) -> Option<StreamStatus> {
        match text {
            "CREATING" => Some(StreamStatus::Creating),
            "ACTIVE" => Some(StreamStatus::Active),
            "UPDATING" => Some(StreamStatus::Updating),
            "DELETING" => Some(StreamStatus::Deleting),
            _ => None,
        }
    }
}

/// One shard as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMeta {
    /// The shard's index (its id is `shardId-<index, 12 digits>`).
    pub index: u32,
    /// Creation time in Unix seconds; unique per engine, so with the index it identifies the shard
    /// in sequence numbers across all streams.
    pub created_secs: u64,
    /// The hash keys the shard owns.
    pub hash_key_range: HashKeyRange,
    /// The shard it was split or merged from.
    pub parent: Option<u32>,
    /// The other shard of a merge.
    pub adjacent_parent: Option<u32>,
    /// When the shard was closed by a split or merge (Unix seconds); open while `None`.
    pub closed_secs: Option<u64>,
}

impl ShardMeta {
    /// The shard's id.
    pub fn id(&self) -> ShardId {
        ShardId::new(self.index)
    }

    /// The identity its sequence numbers encode.
    pub fn identity(&self) -> ShardIdentity {
        ShardIdentity {
            index: self.index,
            created_secs: self.created_secs,
        }
    }
}

/// Everything durable about a stream except its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMeta {
    /// The stream's name.
    pub name: StreamName,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
    /// The stream is `CREATING` until this time, then `status` applies.
    pub active_from_ms: u64,
    /// An ACTIVE stream shows as `UPDATING` until this time (after a reshard or a mode switch).
    pub updating_until_ms: u64,
    /// Status once created.
    pub status: StreamStatus,
    /// Capacity mode.
    pub mode: StreamMode,
    /// How long records are kept, in hours (24–8760).
    pub retention_hours: u32,
    /// Records that arrived before this time (Unix milliseconds) stay expired whatever the
    /// retention period: raising the period sets it to the trim horizon of the old period, because
    /// Kinesis never makes expired data readable again. 0 until the first increase.
    pub expired_before_ms: u64,
    /// Largest record (data plus partition key), in KiB (1024–10240).
    pub max_record_size_kib: u32,
    /// Index the next new shard gets (a stream-wide counter).
    pub next_shard_index: u32,
    /// Every shard that has not expired, open or closed.
    pub shards: Vec<ShardMeta>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Shard-level metrics enabled with EnableEnhancedMonitoring (Kinesis names).
    pub shard_level_metrics: BTreeSet<String>,
    /// When UpdateShardCount succeeded within the last day, Unix milliseconds, oldest first
    /// (Kinesis allows it 10 times per rolling day; see `daily_limits`).
    pub shard_count_updates_ms: Vec<u64>,
    /// When the capacity mode was switched within the last day, likewise (2 per rolling day).
    pub mode_switches_ms: Vec<u64>,
    /// Settings recorded and reported but not acted on by the storage (see `recorded.rs`).
    pub recorded: RecordedSettings,
    /// Registered consumers, by name (see `consumers.rs`).
    pub consumers: BTreeMap<String, ConsumerMeta>,
}

impl StreamMeta {
    /// The status at `now_ms`.
    pub fn status_at(&self, now_ms: u64) -> StreamStatus {
        if now_ms < self.active_from_ms {
            StreamStatus::Creating
        } else if self.status == StreamStatus::Active && now_ms < self.updating_until_ms {
            StreamStatus::Updating
        } else {
            self.status
        }
    }

    fn encode(&self) -> String {
        let mut text = String::new();
        let optional = |value: Option<u64>| value.map_or("-".to_owned(), |v| v.to_string());
        // Writing to a String cannot fail.
        let _ = writeln!(text, "shardlog-stream 1");
        let _ = writeln!(text, "name {}", self.name);
        let _ = writeln!(text, "created_ms {}", self.created_ms);
        let _ = writeln!(text, "active_from_ms {}", self.active_from_ms);
        let _ = writeln!(text, "updating_until_ms {}", self.updating_until_ms);
        let _ = writeln!(text, "status {}", self.status.as_str());
        let _ = writeln!(text, "mode {}", self.mode.as_str());
        let _ = writeln!(text, "retention_hours {}", self.retention_hours);
        let _ = writeln!(text, "expired_before_ms {}", self.expired_before_ms);
        let _ = writeln!(text, "max_record_size_kib {}", self.max_record_size_kib);
        let _ = writeln!(text, "next_shard_index {}", self.next_shard_index);
        for shard in &self.shards {
            let _ = writeln!(
                text,
                "shard {} {} {} {} {} {} {}",
                shard.index,
                shard.created_secs,
                shard.hash_key_range.starting,
                shard.hash_key_range.ending,
                optional(shard.parent.map(u64::from)),
                optional(shard.adjacent_parent.map(u64::from)),
                optional(shard.closed_secs),
            );
        }
        for (key, value) in &self.tags {
            let _ = writeln!(
                text,
                "tag {} {}",
                crate::hex::encode(key.as_bytes()),
                crate::hex::encode(value.as_bytes())
            );
        }
        for metric in &self.shard_level_metrics {
            let _ = writeln!(text, "shard_level_metric {metric}");
        }
        for ms in &self.shard_count_updates_ms {
            let _ = writeln!(text, "shard_count_update {ms}");
        }
        for ms in &self.mode_switches_ms {
            let _ = writeln!(text, "mode_switch {ms}");
        }
        self.recorded.encode(&mut text);
        for consumer in self.consumers.values() {
            consumer.encode(&mut text);
        }
        checksummed_text::seal(text)
    }

    fn decode(text: &str) -> Result<StreamMeta, MetaError> {
        let body = checksummed_text::open(text)?;
        let mut lines = body.lines();
        if lines.next() != Some("shardlog-stream 1") {
            return Err(MetaError::UnknownFormat);
        }
        let malformed = |what| MetaError::Malformed { what };
        let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
        let mut shards = Vec::new();
        let mut tags = BTreeMap::new();
        let mut shard_level_metrics = BTreeSet::new();
        let mut shard_count_updates_ms = Vec::new();
        let mut mode_switches_ms = Vec::new();
        let mut recorded = RecordedSettings::default();
        let mut consumers: BTreeMap<String, ConsumerMeta> = BTreeMap::new();
        let time = |value: &str| value.parse::<u64>().map_err(|_| malformed("time"));
        for line in lines {
            let (key, value) = line.split_once(' ').ok_or(malformed("line"))?;
            match key {
                "shard" => shards.push(parse_shard(value).ok_or(malformed("shard line"))?),
                "shard_level_metric" => {
                    shard_level_metrics.insert(value.to_owned());
                }
                "shard_count_update" => shard_count_updates_ms.push(time(value)?),
                "mode_switch" => mode_switches_ms.push(time(value)?),
                "consumer" => {
                    let consumer = ConsumerMeta::decode(value)?;
                    consumers.insert(consumer.name.clone(), consumer);
                }
                "consumer_tag" => {
                    let mut parts = value.split(' ');
                    let (Some(name), Some(key), Some(value), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    else {
                        return Err(malformed("consumer tag line"));
                    };
                    // A consumer's line comes before its tags'.
                    let consumer = consumers
                        .get_mut(name)
                        .ok_or(MetaError::TagOfUnknownConsumer)?;
                    consumer.tags.insert(unhex_utf8(key)?, unhex_utf8(value)?);
                }
                "tag" => {
                    let (key, value) = value.split_once(' ').ok_or(malformed("tag line"))?;
                    tags.insert(unhex_utf8(key)?, unhex_utf8(value)?);
                }
                _ if recorded.decode_line(key, value)? => {}
                _ => {
                    fields.insert(key, value);
                }
            }
        }
        let field = |name: &'static str| {
            fields
                .get(name)
                .copied()
                .ok_or(MetaError::Missing { field: name })
        };
        let bad = |name: &str| MetaError::Bad {
            field: name.to_owned(),
        };
        let number = |name: &'static str| {
            field(name).and_then(|value| value.parse::<u64>().map_err(|_| bad(name)))
        };
        let small = |name: &'static str| {
            number(name).and_then(|value| u32::try_from(value).map_err(|_| bad(name)))
        };
        Ok(StreamMeta {
            name: StreamName::new(field("name")?).map_err(MetaError::StreamName)?,
            created_ms: number("created_ms")?,
            active_from_ms: number("active_from_ms")?,
            // Absent in files written before resharding existed.
            updating_until_ms: number("updating_until_ms").unwrap_or(0),
            status: StreamStatus::parse(field("status")?).ok_or_else(|| bad("status"))?,
            mode: StreamMode::parse(field("mode")?).ok_or_else(|| bad("mode"))?,
            retention_hours: small("retention_hours")?,
            // Absent in files written before retention increases kept expired data expired.
            expired_before_ms: number("expired_before_ms").unwrap_or(0),
            max_record_size_kib: small("max_record_size_kib")?,
            next_shard_index: small("next_shard_index")?,
            shards,
            tags,
            shard_level_metrics,
            shard_count_updates_ms,
            mode_switches_ms,
            recorded,
            consumers,
        })
    }

    /// Writes the metadata durably and atomically into `dir` (an atomic replace, see
    /// `file_system`): a failed write leaves the old file as it was and no temporary file behind.
    pub fn store(&self, dir: &Path) -> std::io::Result<()> {
        self.store_on(&OsFileSystem::shared(), dir)
    }

    /// [`StreamMeta::store`] through `file_system`.
    pub(crate) fn store_on(
        &self,
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
    ) -> std::io::Result<()> {
        self.stage(file_system, dir)?.commit()
    }

    /// The first half of [`StreamMeta::store`]: the new file is written and synced beside the old
    /// one, which stays in force until `StagedFile::commit`. Everything that needs free space
    /// happens here, so a change can be staged, then made irreversible elsewhere (a reshard seals
    /// its parents), then committed with a rename that cannot fail for lack of space.
    pub(crate) fn stage(
        &self,
        file_system: &Arc<dyn FileSystem>,
        dir: &Path,
    ) -> std::io::Result<StagedFile> {
        StagedFile::write(file_system, &dir.join(FILE_NAME), self.encode().as_bytes())
    }

    /// Reads the metadata in `dir`. The error says what is wrong with the file, without its path
    /// (the caller knows it, and clients are told the reason, not the server's layout).
    pub fn load(dir: &Path) -> Result<StreamMeta, MetaError> {
        let text = fs::read_to_string(dir.join(FILE_NAME)).map_err(|error| MetaError::Read {
            reason: error.to_string(),
        })?;
        StreamMeta::decode(&text)
    }
}

fn parse_shard(value: &str) -> Option<ShardMeta> {
    let parts: Vec<&str> = value.split(' ').collect();
    let [index, created, starting, ending, parent, adjacent, closed] = parts.as_slice() else {
        return None;
    };
    let optional = |text: &str| -> Option<Option<u64>> {
        if text == "-" {
            Some(None)
        } else {
            text.parse().ok().map(Some)
        }
    };
    let optional_index = |text: &str| -> Option<Option<u32>> {
        optional(text)?.map_or(Some(None), |value| u32::try_from(value).ok().map(Some))
    };
    Some(ShardMeta {
        index: index.parse().ok()?,
        created_secs: created.parse().ok()?,
        hash_key_range: HashKeyRange {
            starting: starting.parse().ok()?,
            ending: ending.parse().ok()?,
        },
        parent: optional_index(parent)?,
        adjacent_parent: optional_index(adjacent)?,
        closed_secs: optional(closed)?,
    })
}

fn unhex_utf8(text: &str) -> Result<String, MetaError> {
    let bytes = crate::hex::decode(text).ok_or(MetaError::BadHex)?;
    String::from_utf8(bytes).map_err(|_| MetaError::NotUtf8 {
        field: "tag".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksummed_text::ChecksumError;
    use crate::stream::encryption::KmsKeyId;
    use crate::stream::resource_policy::ResourcePolicy;
    use crate::stream::warm_throughput::WarmThroughputSetting;

    fn sample() -> StreamMeta {
        StreamMeta {
            name: StreamName::new("data-analysis-stream").unwrap(),
            created_ms: 1_700_000_000_123,
            active_from_ms: 1_700_000_000_623,
            updating_until_ms: 1_700_000_100_000,
            status: StreamStatus::Active,
            mode: StreamMode::OnDemand,
            retention_hours: 24,
            expired_before_ms: 1_699_999_000_000,
            max_record_size_kib: 1024,
            next_shard_index: 3,
            shards: vec![
                ShardMeta {
                    index: 0,
                    created_secs: 1_700_000_000,
                    hash_key_range: HashKeyRange::ALL,
                    parent: None,
                    adjacent_parent: None,
                    closed_secs: Some(1_700_000_100),
                },
                ShardMeta {
                    index: 2,
                    created_secs: 1_700_000_101,
                    hash_key_range: HashKeyRange {
                        starting: 5,
                        ending: u128::MAX,
                    },
                    parent: Some(0),
                    adjacent_parent: Some(1),
                    closed_secs: None,
                },
            ],
            tags: [
                ("env".to_owned(), "prod cluster ü".to_owned()),
                (String::new(), String::new()),
            ]
            .into_iter()
            .collect(),
            shard_level_metrics: ["IncomingBytes".to_owned()].into_iter().collect(),
            shard_count_updates_ms: vec![1_700_000_100_000, 1_700_000_150_000],
            mode_switches_ms: vec![1_700_000_200_000],
            recorded: RecordedSettings {
                kms_key_id: Some(KmsKeyId::from_stored("alias/aws/kinesis".to_owned())),
                encryption_starts_ms: vec![1_700_000_300_000],
                encryption_stops_ms: vec![1_700_000_250_000],
                resource_policy: Some(ResourcePolicy::from_stored(
                    "{ \"Version\": \"2012-10-17\",\n \"Statement\": [] }".to_owned(),
                )),
                warm_throughput: Some(WarmThroughputSetting {
                    target_mibps: 100,
                    previous_mibps: 20,
                    reached_at_ms: 1_700_000_400_000,
                }),
            },
            consumers: [(
                "app-1".to_owned(),
                ConsumerMeta {
                    name: "app-1".to_owned(),
                    created_ms: 1_700_000_300_000,
                    active_from_ms: 1_700_000_300_500,
                    gone_at_ms: None,
                    tags: [("team".to_owned(), "payments ü".to_owned())]
                        .into_iter()
                        .collect(),
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn metadata_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        sample().store(dir.path()).unwrap();
        assert_eq!(StreamMeta::load(dir.path()), Ok(sample()));
        assert!(!dir.path().join("stream.meta.tmp").exists());
    }

    #[test]
    fn metadata_written_before_recorded_settings_existed_loads_with_them_unset() {
        let dir = tempfile::tempdir().unwrap();
        let old = StreamMeta {
            recorded: RecordedSettings::default(),
            ..sample()
        };
        old.store(dir.path()).unwrap();
        let text = fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        for key in [
            "kms_key_id",
            "encryption_",
            "resource_policy",
            "warm_throughput",
        ] {
            assert!(
                !text.contains(key),
                "an unset setting writes no line:\n{text}"
            );
        }
        assert_eq!(StreamMeta::load(dir.path()), Ok(old));
    }

    #[test]
    fn damaged_metadata_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        sample().store(dir.path()).unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(
            &path,
            text.replace("retention_hours 24", "retention_hours 25"),
        )
        .unwrap();
        let error = StreamMeta::load(dir.path()).unwrap_err();
        assert_eq!(error, MetaError::Checksum(ChecksumError::Mismatch));
        assert!(error.to_string().contains("checksum"));
        fs::write(&path, "").unwrap();
        assert!(StreamMeta::load(dir.path()).is_err());
    }

    #[test]
    fn status_is_creating_until_activation_then_updating_until_the_change_is_done() {
        let meta = sample();
        assert_eq!(meta.status_at(1_700_000_000_622), StreamStatus::Creating);
        assert_eq!(meta.status_at(1_700_000_000_623), StreamStatus::Updating);
        assert_eq!(meta.status_at(1_700_000_099_999), StreamStatus::Updating);
        assert_eq!(meta.status_at(1_700_000_100_000), StreamStatus::Active);
        let deleting = StreamMeta {
            status: StreamStatus::Deleting,
            ..sample()
        };
        assert_eq!(
            deleting.status_at(1_700_000_000_623),
            StreamStatus::Deleting
        );
    }
}
