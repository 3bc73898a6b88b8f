//! Stream names and shard ids, validated before they are used anywhere (in particular, before a
//! stream name ever becomes part of a path).

use std::fmt;
use std::str::FromStr;

/// Longest stream name Kinesis allows.
pub const STREAM_NAME_CHARS_MAX: usize = 128;
/// Longest shard id the API model allows (its `ShardId` shape).
pub const SHARD_ID_CHARS_MAX: usize = 128;
/// The API model's pattern of stream, shard and consumer names, as validation messages show it.
pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";
/// The API model's pattern of an `ExplicitHashKey`, as validation messages show it.
pub const HASH_KEY_PATTERN: &str = "0|([1-9]\\d{0,38})";

/// A valid Kinesis stream name: 1 to 128 characters of `[a-zA-Z0-9_.-]`. Because of that alphabet
/// and the exclusion of `.` and `..`, it is also a safe single path component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamName(String);

/// Why a stream name or shard id was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The stream name breaks the Kinesis rule.
    #[error(
        "invalid stream name {0:?}: it must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '.' and '-'"
    )]
    InvalidStreamName(String),
    /// The shard id is not of the form `shardId-` followed by 12 digits.
    #[error("invalid shard id {0:?}: expected shardId- followed by 12 digits")]
    InvalidShardId(String),
}

impl StreamName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<StreamName, NameError> {
        let valid_characters = name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'));
        let valid = !name.is_empty()
            && name.len() <= STREAM_NAME_CHARS_MAX
            && valid_characters
            && name != "."
            && name != "..";
        if valid {
            Ok(StreamName(name.to_owned()))
        } else {
            Err(NameError::InvalidStreamName(name.to_owned()))
        }
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl FromStr for StreamName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<StreamName, NameError> {
        StreamName::new(name)
    }
}

/// A shard id, `shardId-` and the shard's index as 12 zero-padded digits. Indexes come from a
/// stream-wide counter, so a split of shard 0 in a two-shard stream creates shards 2 and 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(u32);

impl ShardId {
    /// The id of the shard with index `index`.
    pub const fn new(index: u32) -> ShardId {
        ShardId(index)
    }

    /// The shard's index.
    pub fn index(self) -> u32 {
        self.0
    }

    /// The shard a request names, read as leniently as Kinesis reads `ShardToSplit`,
    /// `ShardToMerge` and `ShardId`: the text between the first `-` and the next one (or the
    /// whole text, when it has no `-` or nothing follows it) is the shard's index in decimal,
    /// leading zeros allowed, at most 2147483647 (Java's largest `int`). So `shardId-000000000005`,
    /// `shardId-5`, `anything-5`, `-5` and `5` all name shard 5; `2147483648`, `2.14E4` and
    /// `ABKLFD8` name none. Recorded against Kinesis in kinesalite's test/splitShard.js and
    /// test/mergeShards.js.
    pub fn from_request(text: &str) -> Option<ShardId> {
        /// Java's `Integer.MAX_VALUE`: Kinesis reads the index as an `int`.
        const INDEX_MAX: u32 = 2_147_483_647;
        let index = text
            .split('-')
            .nth(1)
            .filter(|part| !part.is_empty())
            .unwrap_or(text);
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let significant = index.trim_start_matches('0');
        if significant.len() > 10 {
            return None;
        }
        let value = if significant.is_empty() {
            0
        } else {
            significant.parse::<u64>().ok()?
        };
        u32::try_from(value)
            .ok()
            .filter(|value| *value <= INDEX_MAX)
            .map(ShardId)
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "shardId-{:012}", self.0)
    }
}

impl FromStr for ShardId {
    type Err = NameError;

    fn from_str(text: &str) -> Result<ShardId, NameError> {
        text.strip_prefix("shardId-")
            .filter(|digits| digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
            .map(ShardId)
            .ok_or_else(|| NameError::InvalidShardId(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_follow_the_kinesis_rule() {
        for good in ["data-analysis-stream", "a", "A.b_c-9", &"x".repeat(128)] {
            assert_eq!(StreamName::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../etc",
            "a b",
            "ü",
            "a\0",
            &"x".repeat(129),
        ] {
            assert_eq!(
                StreamName::new(bad),
                Err(NameError::InvalidStreamName(bad.to_owned()))
            );
        }
    }

    #[test]
    fn a_request_names_a_shard_by_the_index_after_its_first_hyphen() {
        for (text, index) in [
            ("shardId-000000000005", 5),
            ("shardId-5", 5),
            ("__kinesalite_test_1-0", 0),
            ("a-00002147483647", 2_147_483_647),
            ("-00002147483647", 2_147_483_647),
            ("2147483647", 2_147_483_647),
            ("0", 0),
            ("shard-2-x", 2),
        ] {
            assert_eq!(
                ShardId::from_request(text),
                Some(ShardId::new(index)),
                "{text}"
            );
        }
        for text in [
            "",
            "-",
            "shardId-",
            "2147483648",
            "shardId-002147483648",
            "ABKLFD8",
            "2.14E4",
            "shardId-x5",
            "99999999999999999999999",
            "shardId-+5",
        ] {
            assert_eq!(ShardId::from_request(text), None, "{text}");
        }
    }

    #[test]
    fn shard_ids_print_and_parse_as_kinesis_does() {
        assert_eq!(ShardId::new(0).to_string(), "shardId-000000000000");
        assert_eq!(ShardId::new(3).to_string(), "shardId-000000000003");
        assert_eq!("shardId-000000000042".parse(), Ok(ShardId::new(42)));
        assert_eq!(
            "shardId-4294967295"
                .parse::<ShardId>()
                .map(ShardId::index)
                .ok(),
            None,
            "fewer than 12 digits"
        );
        for bad in [
            "",
            "shardId-",
            "shardId-00000000000x",
            "shardid-000000000000",
            "shardId-999999999999",
        ] {
            assert!(bad.parse::<ShardId>().is_err(), "{bad}");
        }
    }
}
