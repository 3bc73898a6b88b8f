//! Server-side encryption as Kinesis reports it (StartStreamEncryption, StopStreamEncryption):
//! the KMS key a stream names, recorded in its catalog entry and shown by DescribeStream.
//!
//! shardlog has no KMS: records are stored as they were written whatever this says. The key is
//! checked only for its form (one of the four ways KMS names a key), recorded and reported, so
//! that tooling which turns encryption on and reads it back sees what it would see on Kinesis.
//!
//! Kinesis allows 25 successful key changes and 25 successful stops per stream in a rolling
//! day; the times of recent ones are kept in the catalog, so the count survives a restart.

use super::daily_limits;
use super::error::Limit;
use super::{Stream, StreamResult};

/// Successful StartStreamEncryption calls that apply a new key, per stream in a rolling day.
pub const ENCRYPTION_STARTS_PER_DAY: u32 = 25;
/// Successful StopStreamEncryption calls, per stream in a rolling day.
pub const ENCRYPTION_STOPS_PER_DAY: u32 = 25;
/// Longest alias name KMS accepts (`alias/` included).
const ALIAS_CHARS_MAX: usize = 256;

/// A KMS key as a stream names it: a key id, a key ARN, an alias name or an alias ARN, as KMS
/// spells them. Invariant: [`KmsKeyId::parse`] accepted the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKeyId(String);

/// The text names no KMS key in any of the forms KMS accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a KMS key id, key ARN, alias name or alias ARN")]
pub struct InvalidKmsKeyId(pub String);

impl KmsKeyId {
    /// Checks `text` against the forms KMS names keys by:
    /// `1234abcd-12ab-34cd-56ef-1234567890ab` (a key id, or `mrk-` and 32 hex digits for a
    /// multi-Region key), `arn:aws:kms:us-east-1:111122223333:key/<key id>`, `alias/<name>`
    /// (the AWS managed key of Kinesis is `alias/aws/kinesis`) and
    /// `arn:aws:kms:us-east-1:111122223333:alias/<name>`.
    pub fn parse(text: &str) -> Result<KmsKeyId, InvalidKmsKeyId> {
        let valid = match text.strip_prefix("arn:") {
            Some(arn) => kms_arn_resource(arn).is_some_and(|resource| {
                resource.strip_prefix("key/").is_some_and(is_key_id)
                    || (resource.starts_with("alias/") && is_alias(resource))
            }),
            None => is_key_id(text) || is_alias(text),
        };
        if valid {
            Ok(KmsKeyId(text.to_owned()))
        } else {
            Err(InvalidKmsKeyId(text.to_owned()))
        }
    }

    /// A key recorded in a catalog entry, which was parsed before it was stored.
    pub(super) fn from_stored(text: String) -> KmsKeyId {
        KmsKeyId(text)
    }

    /// The key as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The resource part of `partition:kms:region:account:resource` (an ARN after `arn:`).
fn kms_arn_resource(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(5, ':');
    let partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let well_formed = partition.starts_with("aws")
        && service == "kms"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    well_formed.then_some(resource)
}

/// A key id: a UUID in lower- or upper-case hex, or `mrk-` and 32 hex digits.
fn is_key_id(text: &str) -> bool {
    if let Some(digits) = text.strip_prefix("mrk-") {
        return digits.len() == 32 && digits.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// `alias/` and a name of letters, digits, `/`, `_` and `-`, as KMS allows.
fn is_alias(text: &str) -> bool {
    text.strip_prefix("alias/").is_some_and(|name| {
        !name.is_empty()
            && text.chars().count() <= ALIAS_CHARS_MAX
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'_' || b == b'-')
    })
}

/// How a stream says its records are encrypted (Kinesis `EncryptionType` and `KeyId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// `NONE`.
    None,
    /// `KMS` with this key.
    Kms(KmsKeyId),
}

impl Encryption {
    /// The Kinesis `EncryptionType`.
    pub fn encryption_type(&self) -> &'static str {
        match self {
            Encryption::None => "NONE",
            Encryption::Kms(_) => "KMS",
        }
    }

    /// The key, when there is one.
    pub fn key_id(&self) -> Option<&KmsKeyId> {
        match self {
            Encryption::None => None,
            Encryption::Kms(key) => Some(key),
        }
    }
}

impl Stream {
    /// What the stream says about encryption now.
    pub fn encryption(&self) -> Encryption {
        match &self.meta.read().recorded.kms_key_id {
            Some(key) => Encryption::Kms(key.clone()),
            None => Encryption::None,
        }
    }

    /// Records that the stream is encrypted with `key` (Kinesis StartStreamEncryption). The stream
    /// must be ACTIVE; it shows UPDATING for the engine's update delay. Naming the key already
    /// recorded changes nothing and is not counted against the daily limit.
    pub fn start_encryption(&self, key: KmsKeyId) -> StreamResult<()> {
        self.check_active()?;
        let now_ms = self.now_ms();
        self.change_meta(|meta| {
            if meta.recorded.kms_key_id.as_ref() == Some(&key) {
                return Ok(());
            }
            let name = meta.name.clone();
            daily_limits::record_use(
                &mut meta.recorded.encryption_starts_ms,
                now_ms,
                Some(ENCRYPTION_STARTS_PER_DAY),
                |max| {
                    Limit::EncryptionStartsPerDay {
                        max,
                        stream: name.clone(),
                        account: self.context.account_id.clone(),
                    }
                    .into()
                },
            )?;
            meta.recorded.kms_key_id = Some(key);
            meta.updating_until_ms = now_ms.saturating_add(self.context.update_delay_ms);
            Ok(())
        })
    }

    /// Records that the stream is no longer encrypted (Kinesis StopStreamEncryption). The stream
    /// must be ACTIVE; it shows UPDATING for the engine's update delay. A stream that is not
    /// encrypted stays as it is.
    pub fn stop_encryption(&self) -> StreamResult<()> {
        self.check_active()?;
        let now_ms = self.now_ms();
        self.change_meta(|meta| {
            if meta.recorded.kms_key_id.is_none() {
                return Ok(());
            }
            let name = meta.name.clone();
            daily_limits::record_use(
                &mut meta.recorded.encryption_stops_ms,
                now_ms,
                Some(ENCRYPTION_STOPS_PER_DAY),
                |max| {
                    Limit::EncryptionStopsPerDay {
                        max,
                        stream: name.clone(),
                        account: self.context.account_id.clone(),
                    }
                    .into()
                },
            )?;
            meta.recorded.kms_key_id = None;
            meta.updating_until_ms = now_ms.saturating_add(self.context.update_delay_ms);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_forms_kms_names_keys_by_are_accepted() {
        for text in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/aws/kinesis",
            "alias/my_key-1",
            "arn:aws:kms:us-east-1:111122223333:alias/my-key",
        ] {
            assert_eq!(
                KmsKeyId::parse(text).map(|key| key.as_str().to_owned()),
                Ok(text.to_owned())
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "my-key",
            "1234abcd-12ab-34cd-56ef-1234567890a",
            "1234abcd-12ab-34cd-56ef-1234567890ag",
            "alias/",
            "alias/with space",
            "arn:aws:kms:us-east-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:key/not-a-key",
            "arn:aws:kms:us-east-1:111122223333:stream/x",
        ] {
            assert_eq!(
                KmsKeyId::parse(text),
                Err(InvalidKmsKeyId(text.to_owned())),
                "{text:?}"
            );
        }
        let long_alias = format!("alias/{}", "a".repeat(ALIAS_CHARS_MAX));
        assert!(KmsKeyId::parse(&long_alias).is_err());
    }
}
