//! The settings a stream records and reports but its storage does not act on: server-side
//! encryption (see `encryption`), the resource policy (`resource_policy`) and warm throughput
//! (`warm_throughput`), with the times of recent encryption changes for their daily limits.
//!
//! They are kept in the stream's catalog entry (`stream.meta`) as lines of their own, each
//! absent while the setting is unset, so files written before these settings existed load
//! with all of them unset:
//!
//! ```text
//! kms_key_id 616c6961732f6177732f6b696e65736973     hex of the UTF-8 key (alias/aws/kinesis)
//! encryption_start 1700000000000                  one line per recent key change
//! encryption_stop 1700000100000                   one line per recent stop
//! resource_policy 7b7d                             hex of the UTF-8 policy ({})
//! warm_throughput 100 20 1700000200000             target, previous, reached at (ms)
//! ```

use std::fmt::Write as _;

use super::encryption::KmsKeyId;
use super::meta_error::MetaError;
use super::resource_policy::ResourcePolicy;
use super::warm_throughput::WarmThroughputSetting;

/// Recorded-only settings of a stream (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedSettings {
    /// The KMS key the stream is encrypted with, as Kinesis reports it; `None` is `NONE`.
    pub kms_key_id: Option<KmsKeyId>,
    /// When a new key was applied within the last day, Unix ms, oldest first.
    pub encryption_starts_ms: Vec<u64>,
    /// When encryption was stopped within the last day, likewise.
    pub encryption_stops_ms: Vec<u64>,
    /// The attached resource policy.
    pub resource_policy: Option<ResourcePolicy>,
    /// The warm throughput last asked for.
    pub warm_throughput: Option<WarmThroughputSetting>,
}

impl RecordedSettings {
    /// Appends the settings' lines to a catalog entry being written.
    pub(super) fn encode(&self, text: &mut String) {
        // Writing to a String cannot fail.
        if let Some(key) = &self.kms_key_id {
            let _ = writeln!(
                text,
                "kms_key_id {}",
                crate::hex::encode(key.as_str().as_bytes())
            );
        }
        for ms in &self.encryption_starts_ms {
            let _ = writeln!(text, "encryption_start {ms}");
        }
        for ms in &self.encryption_stops_ms {
            let _ = writeln!(text, "encryption_stop {ms}");
        }
        if let Some(policy) = &self.resource_policy {
            let _ = writeln!(
                text,
                "resource_policy {}",
                crate::hex::encode(policy.as_str().as_bytes())
            );
        }
        if let Some(warm) = &self.warm_throughput {
            let _ = writeln!(
                text,
                "warm_throughput {} {} {}",
                warm.target_mibps, warm.previous_mibps, warm.reached_at_ms
            );
        }
    }

    /// Takes one `key value` line of a catalog entry being read. `Ok(false)` if the line is not
    /// one of these settings'; an error says what is wrong with one that is.
    pub(super) fn decode_line(&mut self, key: &str, value: &str) -> Result<bool, MetaError> {
        let bad = || MetaError::Bad {
            field: key.to_owned(),
        };
        let time = |value: &str| value.parse::<u64>().map_err(|_| bad());
        match key {
            "kms_key_id" => self.kms_key_id = Some(KmsKeyId::from_stored(unhex(key, value)?)),
            "encryption_start" => self.encryption_starts_ms.push(time(value)?),
            "encryption_stop" => self.encryption_stops_ms.push(time(value)?),
            "resource_policy" => {
                self.resource_policy = Some(ResourcePolicy::from_stored(unhex(key, value)?));
            }
            "warm_throughput" => {
                let parts: Vec<&str> = value.split(' ').collect();
                let [target, previous, reached] = parts.as_slice() else {
                    return Err(MetaError::Malformed {
                        what: "warm_throughput line",
                    });
                };
                let number = |text: &str| text.parse().map_err(|_| bad());
                self.warm_throughput = Some(WarmThroughputSetting {
                    target_mibps: number(target)?,
                    previous_mibps: number(previous)?,
                    reached_at_ms: time(reached)?,
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn unhex(key: &str, value: &str) -> Result<String, MetaError> {
    let bytes = crate::hex::decode(value).ok_or_else(|| MetaError::BadHexIn {
        field: key.to_owned(),
    })?;
    String::from_utf8(bytes).map_err(|_| MetaError::NotUtf8 {
        field: key.to_owned(),
    })
}
