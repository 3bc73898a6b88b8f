//! Registered stream consumers (Kinesis enhanced fan-out's RegisterStreamConsumer,
//! DescribeStreamConsumer, ListStreamConsumers, DeregisterStreamConsumer, and tags on consumers).
//!
//! A consumer is a name registered with one stream: up to [`CONSUMERS_PER_STREAM_MAX`] per stream,
//! each name once, with an ARN that carries its creation second, so a name registered again after
//! a deregistration gets a new ARN. Its status is a function of time, as a stream's is: `CREATING`
//! for the engine's consumer delay after registration, then `ACTIVE`; `DELETING` for the same delay
//! after deregistration, then gone. At most [`CONSUMERS_CREATING_MAX`] may be `CREATING` at once.
//!
//! Consumers live in the stream's catalog entry (`stream.meta`, one `consumer` line each and a
//! `consumer_tag` line per tag), so every change is replaced atomically and synced with it, they
//! survive restarts, and they go with their stream. A consumer whose deletion has finished is
//! dropped from the entry by the next change to the stream's consumers; until then nothing shows it.
//!
//! Errors are typed ([`ConsumerError`]) and carry names, not prose: the server words them as
//! Kinesis does.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::iterator::{sign_token, verify_token};
use super::meta_error::MetaError;
use super::names::StreamName;
use super::settings::{TAGS_MAX, validate_tags};
use super::{Stream, StreamError};

/// Most consumers registered with one stream (Kinesis' limit for provisioned and on-demand
/// standard streams).
pub const CONSUMERS_PER_STREAM_MAX: usize = 20;
/// Most consumers of one stream `CREATING` at once.
pub const CONSUMERS_CREATING_MAX: usize = 5;
/// Longest consumer name.
pub const CONSUMER_NAME_CHARS_MAX: usize = 128;
/// Consumers in a ListStreamConsumers page when the caller gives no limit.
pub const LIST_CONSUMERS_DEFAULT_RESULTS: usize = 100;
/// How long a ListStreamConsumers `NextToken` is valid, as Kinesis' (300 seconds).
pub const CONSUMER_NEXT_TOKEN_TTL_MS: u64 = 300_000;

/// Where a registered consumer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumerStatus {
    /// Registered, not yet usable.
    Creating,
    /// Usable.
    Active,
    /// Deregistered, not yet gone.
    Deleting,
}

impl ConsumerStatus {
    /// The Kinesis spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}

/// A consumer's durable entry in its stream's catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerMeta {
    /// The name (valid: see [`check_consumer_name`]).
    pub name: String,
    /// Registration time, Unix milliseconds.
    pub created_ms: u64,
    /// `CREATING` until this time.
    pub active_from_ms: u64,
    /// Set by deregistration: `DELETING` until this time, gone from it on.
    pub gone_at_ms: Option<u64>,
    /// Tags (TagResource on the consumer's ARN).
    pub tags: BTreeMap<String, String>,
}

impl ConsumerMeta {
    /// The status at `now_ms`; `None` once its deletion has finished.
    pub fn status_at(&self, now_ms: u64) -> Option<ConsumerStatus> {
        match self.gone_at_ms {
            Some(gone_at_ms) if now_ms >= gone_at_ms => None,
            Some(_) => Some(ConsumerStatus::Deleting),
            None if now_ms < self.active_from_ms => Some(ConsumerStatus::Creating),
            None => Some(ConsumerStatus::Active),
        }
    }

    /// The creation time in whole seconds, as the ARN carries it.
    pub fn created_secs(&self) -> u64 {
        self.created_ms / 1000
    }

    /// Appends this consumer's lines to a `stream.meta` body: `consumer <name> <created ms>
    /// <active from ms> <gone at ms or ->`, then `consumer_tag <name> <hex key> <hex value>` for
    /// each tag.
    pub(crate) fn encode(&self, text: &mut String) {
        let gone_at = self
            .gone_at_ms
            .map_or_else(|| "-".to_owned(), |ms| ms.to_string());
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "consumer {} {} {} {gone_at}",
            self.name, self.created_ms, self.active_from_ms
        );
        for (key, value) in &self.tags {
            let _ = writeln!(
                text,
                "consumer_tag {} {} {}",
                self.name,
                crate::hex::encode(key.as_bytes()),
                crate::hex::encode(value.as_bytes())
            );
        }
    }

    /// Parses the value of a `consumer` line (everything after `consumer `).
    pub(crate) fn decode(value: &str) -> Result<ConsumerMeta, MetaError> {
        let parts: Vec<&str> = value.split(' ').collect();
        let [name, created_ms, active_from_ms, gone_at_ms] = parts.as_slice() else {
            return Err(MetaError::Malformed {
                what: "consumer line",
            });
        };
        check_consumer_name(name).map_err(|_| MetaError::ConsumerName {
            name: (*name).to_owned(),
        })?;
        let time = |text: &str| {
            text.parse::<u64>().map_err(|_| MetaError::Malformed {
                what: "consumer time",
            })
        };
        Ok(ConsumerMeta {
            name: (*name).to_owned(),
            created_ms: time(created_ms)?,
            active_from_ms: time(active_from_ms)?,
            gone_at_ms: match *gone_at_ms {
                "-" => None,
                text => Some(time(text)?),
            },
            tags: BTreeMap::new(),
        })
    }
}

/// A registered consumer as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// The name.
    pub name: String,
    /// `arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<creation seconds>`.
    pub arn: String,
    /// The status now.
    pub status: ConsumerStatus,
    /// Registration time, Unix milliseconds.
    pub created_ms: u64,
    /// The ARN of its stream.
    pub stream_arn: String,
}

/// One page of a stream's consumers, in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerPage {
    /// The consumers.
    pub consumers: Vec<Consumer>,
    /// Pass to [`Stream::list_consumers`] for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// The parts of a consumer ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerArn<'a> {
    /// The region.
    pub region: &'a str,
    /// The account id (12 digits).
    pub account_id: &'a str,
    /// The stream's name.
    pub stream: &'a str,
    /// The consumer's name.
    pub consumer: &'a str,
    /// The consumer's creation time, Unix seconds.
    pub created_secs: u64,
}

impl<'a> ConsumerArn<'a> {
    /// Splits `arn:aws[partition]:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<secs>`
    /// into its parts; `None` for anything else. Stream and consumer names cannot hold `/` or `:`,
    /// so the split is unambiguous.
    pub fn parse(text: &'a str) -> Option<ConsumerArn<'a>> {
        let rest = text.strip_prefix("arn:aws")?;
        let (_partition, rest) = rest.split_once(":kinesis:")?;
        let (region, rest) = rest.split_once(':')?;
        let (account_id, rest) = rest.split_once(":stream/")?;
        let (stream, rest) = rest.split_once("/consumer/")?;
        let (consumer, created_secs) = rest.rsplit_once(':')?;
        let valid = account_id.len() == 12
            && account_id.bytes().all(|b| b.is_ascii_digit())
            && StreamName::new(stream).is_ok()
            && check_consumer_name(consumer).is_ok()
            && !created_secs.is_empty()
            && created_secs.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return None;
        }
        Some(ConsumerArn {
            region,
            account_id,
            stream,
            consumer,
            created_secs: created_secs.parse().ok()?,
        })
    }
}

/// Why a consumer operation failed. Each variant names the Kinesis exception it stands for; its
/// `Display` is Kinesis' message (worded in `messages.rs`, with the stream layer's errors).
#[derive(Debug)]
#[non_exhaustive]
pub enum ConsumerError {
    /// `ValidationException`: the name is not 1–128 characters of `[a-zA-Z0-9_.-]`.
    InvalidName {
        /// The name given.
        name: String,
    },
    /// `ResourceInUseException`: the stream has a consumer of this name already (perhaps one
    /// still being deleted).
    AlreadyRegistered {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// The engine's account.
        account: String,
    },
    /// `ResourceNotFoundException`: the stream has no consumer of this name.
    NotFound {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// The engine's account.
        account: String,
    },
    /// `ResourceNotFoundException`: no consumer has this ARN (malformed, of another account or
    /// region, of a stream or consumer that does not exist, or of an earlier registration).
    ArnNotFound {
        /// The ARN given.
        arn: String,
    },
    /// `LimitExceededException`: the stream has [`CONSUMERS_PER_STREAM_MAX`] consumers.
    TooManyConsumers {
        /// The stream.
        stream: StreamName,
        /// The limit.
        limit: usize,
        /// The engine's account.
        account: String,
    },
    /// `LimitExceededException`: [`CONSUMERS_CREATING_MAX`] consumers of the stream are being
    /// created.
    TooManyCreating {
        /// The stream.
        stream: StreamName,
        /// The limit.
        limit: usize,
        /// The engine's account.
        account: String,
    },
    /// `LimitExceededException`: the consumer would have more than [`TAGS_MAX`] tags.
    TooManyTags {
        /// The stream.
        stream: StreamName,
        /// The consumer's name.
        consumer: String,
        /// The limit.
        limit: usize,
        /// The engine's account.
        account: String,
    },
    /// `InvalidArgumentException`: the `NextToken` was not made by this engine for this stream.
    InvalidNextToken,
    /// `ExpiredNextTokenException`: the `NextToken` is older than five minutes.
    ExpiredNextToken,
    /// A failure of the stream itself (not found, not active, storage), already worded.
    Stream(StreamError),
}

impl From<StreamError> for ConsumerError {
    fn from(error: StreamError) -> ConsumerError {
        ConsumerError::Stream(error)
    }
}

impl ConsumerError {
    /// The Kinesis exception name for the wire (`__type`).
    pub fn kinesis_error_code(&self) -> &'static str {
        match self {
            ConsumerError::InvalidName { .. } => "ValidationException",
            ConsumerError::AlreadyRegistered { .. } => "ResourceInUseException",
            ConsumerError::NotFound { .. } | ConsumerError::ArnNotFound { .. } => {
                "ResourceNotFoundException"
            }
            ConsumerError::TooManyConsumers { .. }
            | ConsumerError::TooManyCreating { .. }
            | ConsumerError::TooManyTags { .. } => "LimitExceededException",
            ConsumerError::InvalidNextToken => "InvalidArgumentException",
            ConsumerError::ExpiredNextToken => "ExpiredNextTokenException",
            ConsumerError::Stream(error) => error.kinesis_error_code(),
        }
    }
}

/// Shorthand for results of consumer operations.
pub type ConsumerResult<T> = Result<T, ConsumerError>;

/// Checks a consumer name: 1–128 characters of `[a-zA-Z0-9_.-]`.
pub fn check_consumer_name(name: &str) -> ConsumerResult<()> {
    let valid = !name.is_empty()
        && name.len() <= CONSUMER_NAME_CHARS_MAX
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(ConsumerError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// What a ListStreamConsumers `NextToken` carries: the stream (name and creation time, so a token
/// of a deleted stream never lists a new one of the same name), the last name listed, and when it
/// was issued. Authenticated like iterator tokens.
struct ListPosition {
    stream_created_ms: u64,
    issued_ms: u64,
    stream_name: String,
    after: String,
}

const TOKEN_VERSION: u8 = 1;
/// Marks a consumer-list token, so a ListShards token is never taken for one.
const TOKEN_KIND: u8 = b'c';

impl ListPosition {
    fn encode(&self, key: &[u8; 32]) -> String {
        let mut body = vec![TOKEN_VERSION, TOKEN_KIND];
        body.extend_from_slice(&self.stream_created_ms.to_be_bytes());
        body.extend_from_slice(&self.issued_ms.to_be_bytes());
        // Both names are at most 128 bytes.
        body.push(u8::try_from(self.stream_name.len()).unwrap_or(u8::MAX));
        body.extend_from_slice(self.stream_name.as_bytes());
        body.extend_from_slice(self.after.as_bytes());
        sign_token(key, body)
    }

    fn decode(token: &str, key: &[u8; 32]) -> Option<ListPosition> {
        let body = verify_token(token, key)?;
        let (fixed, names) = body.split_at_checked(2 + 8 + 8 + 1)?;
        if fixed.get(..2)? != [TOKEN_VERSION, TOKEN_KIND] {
            return None;
        }
        let u64_at = |at: usize| Some(u64::from_be_bytes(fixed.get(at..at + 8)?.try_into().ok()?));
        let (stream_name, after) = names.split_at_checked(usize::from(*fixed.get(18)?))?;
        Some(ListPosition {
            stream_created_ms: u64_at(2)?,
            issued_ms: u64_at(10)?,
            stream_name: String::from_utf8(stream_name.to_vec()).ok()?,
            after: String::from_utf8(after.to_vec()).ok()?,
        })
    }
}

impl Stream {
    /// The ARN of the consumer `meta` of this stream.
    fn consumer_arn(&self, meta: &ConsumerMeta) -> String {
        format!(
            "{}/consumer/{}:{}",
            self.arn(),
            meta.name,
            meta.created_secs()
        )
    }

    /// `meta` as the API shows it at `now_ms`; `None` once its deletion has finished.
    fn consumer_view(&self, meta: &ConsumerMeta, now_ms: u64) -> Option<Consumer> {
        Some(self.consumer_as(meta, meta.status_at(now_ms)?))
    }

    /// `meta` as the API shows it, with `status`.
    fn consumer_as(&self, meta: &ConsumerMeta, status: ConsumerStatus) -> Consumer {
        Consumer {
            name: meta.name.clone(),
            arn: self.consumer_arn(meta),
            status,
            created_ms: meta.created_ms,
            stream_arn: self.arn(),
        }
    }

    /// Applies `change` to the stream's consumers, after dropping those whose deletion has
    /// finished, and stores the result durably (see [`Stream::change_meta`]). On error nothing
    /// changes.
    fn change_consumers<T>(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, ConsumerMeta>, u64) -> ConsumerResult<T>,
    ) -> ConsumerResult<T> {
        let now_ms = self.now_ms();
        self.change_meta(|meta| {
            meta.consumers
                .retain(|_, consumer| consumer.status_at(now_ms).is_some());
            change(&mut meta.consumers, now_ms)
        })
    }

    /// Registers a consumer (Kinesis RegisterStreamConsumer): `CREATING` for the engine's consumer
    /// delay, then `ACTIVE`. The stream must be ACTIVE or UPDATING.
    pub fn register_consumer(
        &self,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> ConsumerResult<Consumer> {
        check_consumer_name(name)?;
        validate_tags(&tags)?;
        let stream = self.name();
        let delay_ms = self.context.consumer_delay_ms;
        let registered = self.change_consumers(|consumers, now_ms| {
            if consumers.contains_key(name) {
                return Err(ConsumerError::AlreadyRegistered {
                    stream: stream.clone(),
                    consumer: name.to_owned(),
                    account: self.context.account_id.clone(),
                });
            }
            if consumers.len() >= CONSUMERS_PER_STREAM_MAX {
                return Err(ConsumerError::TooManyConsumers {
                    stream: stream.clone(),
                    limit: CONSUMERS_PER_STREAM_MAX,
                    account: self.context.account_id.clone(),
                });
            }
            let creating = consumers
                .values()
                .filter(|c| c.status_at(now_ms) == Some(ConsumerStatus::Creating))
                .count();
            if creating >= CONSUMERS_CREATING_MAX {
                return Err(ConsumerError::TooManyCreating {
                    stream: stream.clone(),
                    limit: CONSUMERS_CREATING_MAX,
                    account: self.context.account_id.clone(),
                });
            }
            let meta = ConsumerMeta {
                name: name.to_owned(),
                created_ms: now_ms,
                active_from_ms: now_ms.saturating_add(delay_ms),
                gone_at_ms: None,
                tags,
            };
            consumers.insert(name.to_owned(), meta.clone());
            Ok(meta)
        })?;
        let status = if delay_ms == 0 {
            ConsumerStatus::Active
        } else {
            ConsumerStatus::Creating
        };
        Ok(self.consumer_as(&registered, status))
    }

    /// The consumer registered under `name` (Kinesis DescribeStreamConsumer by stream and name).
    pub fn consumer(&self, name: &str) -> ConsumerResult<Consumer> {
        let now_ms = self.now_ms();
        let meta = self.meta.read();
        meta.consumers
            .get(name)
            .and_then(|consumer| self.consumer_view(consumer, now_ms))
            .ok_or_else(|| ConsumerError::NotFound {
                stream: meta.name.clone(),
                consumer: name.to_owned(),
                account: self.context.account_id.clone(),
            })
    }

    /// The consumer whose ARN is `arn`, if it is one of this stream's (same name and creation
    /// second).
    pub(crate) fn consumer_with_arn(&self, arn: &ConsumerArn<'_>) -> Option<Consumer> {
        let now_ms = self.now_ms();
        let meta = self.meta.read();
        meta.consumers
            .get(arn.consumer)
            .filter(|consumer| consumer.created_secs() == arn.created_secs)
            .and_then(|consumer| self.consumer_view(consumer, now_ms))
    }

    /// How many consumers are registered now (ConsumerCount in DescribeStreamSummary), those
    /// being created or deleted included.
    pub fn consumer_count(&self) -> usize {
        let now_ms = self.now_ms();
        let meta = self.meta.read();
        meta.consumers
            .values()
            .filter(|consumer| consumer.status_at(now_ms).is_some())
            .count()
    }

    /// A page of at most `limit` consumers (at least 1) in name order (Kinesis
    /// ListStreamConsumers): the first page when `next_token` is `None`, else the page after the
    /// one that returned it. A token is valid for five minutes, for this stream only.
    pub fn list_consumers(
        &self,
        next_token: Option<&str>,
        limit: usize,
    ) -> ConsumerResult<ConsumerPage> {
        let key = &self.context.iterator_key;
        let now_ms = self.now_ms();
        let meta = self.meta.read();
        let after = match next_token {
            None => None,
            Some(token) => {
                let position =
                    ListPosition::decode(token, key).ok_or(ConsumerError::InvalidNextToken)?;
                if position.stream_name != meta.name.as_str()
                    || position.stream_created_ms != meta.created_ms
                {
                    return Err(ConsumerError::InvalidNextToken);
                }
                if now_ms.saturating_sub(position.issued_ms) > CONSUMER_NEXT_TOKEN_TTL_MS {
                    return Err(ConsumerError::ExpiredNextToken);
                }
                Some(position.after)
            }
        };
        let limit = limit.max(1);
        let mut listed = meta
            .consumers
            .values()
            .filter(|consumer| {
                after
                    .as_deref()
                    .is_none_or(|after| consumer.name.as_str() > after)
            })
            .filter_map(|consumer| self.consumer_view(consumer, now_ms));
        let consumers: Vec<Consumer> = listed.by_ref().take(limit).collect();
        let next_token = match (listed.next(), consumers.last()) {
            (Some(_), Some(last)) => Some(
                ListPosition {
                    stream_created_ms: meta.created_ms,
                    issued_ms: now_ms,
                    stream_name: meta.name.as_str().to_owned(),
                    after: last.name.clone(),
                }
                .encode(key),
            ),
            _ => None,
        };
        Ok(ConsumerPage {
            consumers,
            next_token,
        })
    }

    /// Deregisters a consumer (Kinesis DeregisterStreamConsumer): `DELETING` for the engine's
    /// consumer delay, then gone. Deregistering one that is `DELETING` already changes nothing.
    /// Returns the consumer as it is now.
    pub fn deregister_consumer(&self, name: &str) -> ConsumerResult<Consumer> {
        let stream = self.name();
        let delay_ms = self.context.consumer_delay_ms;
        let deregistered = self.change_consumers(|consumers, now_ms| {
            let Some(consumer) = consumers.get_mut(name) else {
                return Err(ConsumerError::NotFound {
                    stream: stream.clone(),
                    consumer: name.to_owned(),
                    account: self.context.account_id.clone(),
                });
            };
            consumer
                .gone_at_ms
                .get_or_insert(now_ms.saturating_add(delay_ms));
            let deregistered = consumer.clone();
            if delay_ms == 0 {
                consumers.remove(name);
            }
            Ok(deregistered)
        })?;
        // The consumer's subscriptions end now: their places go, and waiting ones are woken to
        // notice.
        self.subscriptions.end_consumer(name);
        for shard in self.shards() {
            shard.log.wake_readers();
        }
        Ok(self.consumer_as(&deregistered, ConsumerStatus::Deleting))
    }

    /// Adds or overwrites tags of a consumer (Kinesis TagResource on its ARN); at most
    /// [`TAGS_MAX`] in all.
    pub fn add_consumer_tags(
        &self,
        name: &str,
        tags: BTreeMap<String, String>,
    ) -> ConsumerResult<()> {
        validate_tags(&tags)?;
        let stream = self.name();
        self.change_consumers(|consumers, _| {
            let consumer = consumers
                .get_mut(name)
                .ok_or_else(|| ConsumerError::NotFound {
                    stream: stream.clone(),
                    consumer: name.to_owned(),
                    account: self.context.account_id.clone(),
                })?;
            consumer.tags.extend(tags);
            if consumer.tags.len() > TAGS_MAX {
                return Err(ConsumerError::TooManyTags {
                    stream: stream.clone(),
                    consumer: name.to_owned(),
                    limit: TAGS_MAX,
                    account: self.context.account_id.clone(),
                });
            }
            Ok(())
        })
    }

    /// Removes tags of a consumer; keys it does not have are ignored (Kinesis UntagResource).
    pub fn remove_consumer_tags(&self, name: &str, keys: &[String]) -> ConsumerResult<()> {
        let stream = self.name();
        self.change_consumers(|consumers, _| {
            let consumer = consumers
                .get_mut(name)
                .ok_or_else(|| ConsumerError::NotFound {
                    stream: stream.clone(),
                    consumer: name.to_owned(),
                    account: self.context.account_id.clone(),
                })?;
            for key in keys {
                consumer.tags.remove(key);
            }
            Ok(())
        })
    }

    /// A consumer's tags (Kinesis ListTagsForResource on its ARN).
    pub fn consumer_tags(&self, name: &str) -> ConsumerResult<BTreeMap<String, String>> {
        let now_ms = self.now_ms();
        let meta = self.meta.read();
        meta.consumers
            .get(name)
            .filter(|consumer| consumer.status_at(now_ms).is_some())
            .map(|consumer| consumer.tags.clone())
            .ok_or_else(|| ConsumerError::NotFound {
                stream: meta.name.clone(),
                consumer: name.to_owned(),
                account: self.context.account_id.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_arns_split_into_their_parts() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s-1/consumer/app.v2:1700000000";
        assert_eq!(
            ConsumerArn::parse(arn),
            Some(ConsumerArn {
                region: "us-east-1",
                account_id: "000000000000",
                stream: "s-1",
                consumer: "app.v2",
                created_secs: 1_700_000_000,
            })
        );
        for bad in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s-1",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s-1/consumer/app:",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s-1/consumer/a b:1",
            "arn:aws:kinesis:us-east-1:0000:stream/s-1/consumer/app:1",
            "arn:aws:kinesis:us-east-1:000000000000:stream/s-1/consumer/app:1x",
        ] {
            assert_eq!(ConsumerArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn consumer_lines_round_trip() {
        let meta = ConsumerMeta {
            name: "app".to_owned(),
            created_ms: 1_700_000_000_123,
            active_from_ms: 1_700_000_000_623,
            gone_at_ms: Some(1_700_000_009_000),
            tags: BTreeMap::new(),
        };
        let mut text = String::new();
        meta.encode(&mut text);
        let value = text.trim_end().strip_prefix("consumer ").unwrap();
        assert_eq!(ConsumerMeta::decode(value), Ok(meta));
        assert!(ConsumerMeta::decode("app 1 2").is_err());
        assert!(ConsumerMeta::decode("a/b 1 2 -").is_err());
    }

    #[test]
    fn list_tokens_round_trip_and_refuse_other_tokens() {
        let key = [7u8; 32];
        let position = ListPosition {
            stream_created_ms: 5,
            issued_ms: 6,
            stream_name: "s".to_owned(),
            after: "c".to_owned(),
        };
        let token = position.encode(&key);
        let decoded = ListPosition::decode(&token, &key).unwrap();
        assert_eq!(
            (decoded.stream_name.as_str(), decoded.after.as_str()),
            ("s", "c")
        );
        assert!(ListPosition::decode(&token, &[8u8; 32]).is_none());
        assert!(ListPosition::decode("00", &key).is_none());
    }
}
