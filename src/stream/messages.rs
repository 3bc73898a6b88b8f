//! The Kinesis wording of every stream error, in one place.
//!
//! The `Display` of [`StreamError`] and of each reason prints the message Kinesis sends for it,
//! byte for byte (the sources are in `docs/KINESIS.md` §7.5 and kinesalite's recorded tests), so
//! an embedded user reads what a Kinesis client would, and the server sends `to_string()` as it
//! is. Typos and oddities of the originals are kept on purpose: clients match on these strings.

use std::fmt::{self, Display, Formatter};

use super::consumers::{CONSUMER_NAME_CHARS_MAX, ConsumerError};
use super::error::{
    Constraint, Damaged, InUse, InvalidArgument, Limit, MemberRole, MemberValue, NotFound, Rule,
    StreamDamage, StreamError, Throttled, Validation, Violation,
};
use super::iterator::ITERATOR_TTL_MS;
use super::names::{NAME_PATTERN, ShardId};
use super::put::PutRecordsFailure;
use super::settings::MAX_RECORD_SIZE_KIB_RANGE;
use super::subscription::SubscriptionError;

/// The message of `ExpiredNextTokenException`.
const EXPIRED_NEXT_TOKEN: &str = "The requested token has expired.";
/// The message of `InternalFailure`, whatever failed: the cause is logged, never sent.
pub const INTERNAL_FAILURE_MESSAGE: &str = "Internal Service Failure";

impl Display for StreamError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::ResourceNotFound(reason) => reason.fmt(f),
            StreamError::ResourceInUse(reason) => reason.fmt(f),
            StreamError::InvalidArgument(reason) => reason.fmt(f),
            StreamError::Validation(reason) => reason.fmt(f),
            StreamError::LimitExceeded(limit) => limit.fmt(f),
            StreamError::ExpiredIterator { issued_ms, now_ms } => write!(
                f,
                "Iterator expired. The iterator was created at time {} while right now it is {} \
                 which is further in the future than the tolerated delay of {ITERATOR_TTL_MS} \
                 milliseconds.",
                java_date(*issued_ms),
                java_date(*now_ms)
            ),
            StreamError::ExpiredNextToken => f.write_str(EXPIRED_NEXT_TOKEN),
            StreamError::ProvisionedThroughputExceeded(throttled) => throttled.fmt(f),
            StreamError::Storage(error) => write!(f, "internal failure: {error}"),
            StreamError::Damaged(damaged) => damaged.fmt(f),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Storage(error) => Some(error),
            _ => None,
        }
    }
}

impl Display for NotFound {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NotFound::Stream { stream, account } => {
                write!(f, "Stream {stream} under account {account} not found.")
            }
            NotFound::StreamArn { arn } => write!(f, "Stream {arn} not found."),
            NotFound::Shard {
                shard,
                stream,
                account,
            } => write!(
                f,
                "Shard {shard} in stream {stream} under account {account} does not exist"
            ),
            NotFound::UnknownShard {
                shard,
                stream,
                account,
            } => write!(
                f,
                "Could not find shard {shard} in stream {stream} under account {account}."
            ),
        }
    }
}

impl Display for InUse {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            InUse::StreamExists { stream, account } => {
                write!(f, "Stream {stream} under account {account} already exists.")
            }
            InUse::StreamNotActive {
                stream,
                account,
                status,
            } => write!(
                f,
                "Stream {stream} under account {account} not ACTIVE, instead in state {}",
                status.as_str()
            ),
        }
    }
}

impl Display for InvalidArgument {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            InvalidArgument::ShardCountRequired => {
                f.write_str("ShardCount must be specified for a PROVISIONED stream.")
            }
            InvalidArgument::InvalidShardIterator => f.write_str("Invalid ShardIterator."),
            InvalidArgument::InvalidNextToken => f.write_str("Invalid NextToken."),
            InvalidArgument::NextTokenWithStreamName => {
                f.write_str("NextToken and StreamName cannot be provided together.")
            }
            InvalidArgument::NextTokenOrStreamNameRequired => {
                f.write_str("Either NextToken or StreamName should be provided.")
            }
            InvalidArgument::ExplicitHashKeyOutOfRange { key } => write!(
                f,
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. \
                 Specified value was {key}"
            ),
            InvalidArgument::RecordsTooLarge { bytes, max } => write!(
                f,
                "Records size {bytes} bytes exceeds the PutRecords limit of {max} bytes"
            ),
            InvalidArgument::SequenceNumberForOrdering {
                sequence_number,
                stream,
                account,
            } => write!(
                f,
                "ExclusiveMinimumSequenceNumber {sequence_number} used in PutRecord on stream \
                 {stream} under account {account} is invalid."
            ),
            InvalidArgument::SplitKeyOutsideShard {
                key,
                shard,
                stream,
                account,
                range,
            } => write!(
                f,
                "NewStartingHashKey {key} used in SplitShard() on shard {shard} in stream \
                 {stream} under account {account} is not both greater than one plus the shard's \
                 StartingHashKey {} and less than the shard's EndingHashKey {}.",
                range.starting, range.ending
            ),
            InvalidArgument::NotAdjacent {
                shard,
                adjacent,
                stream,
                account,
            } => write!(
                f,
                "Shards {shard} and {adjacent} in stream {stream} under account {account} are \
                 not an adjacent pair of shards eligible for merging"
            ),
            InvalidArgument::ShardClosed {
                shard,
                stream,
                account,
            } => write!(
                f,
                "Shard {shard} in stream {stream} under account {account} has already been \
                 merged or split, and thus is not eligible for merging or splitting."
            ),
            InvalidArgument::ScaleUpOverDouble { current, target } => write!(
                f,
                "UpdateShardCount cannot scale up over double your current open shard count. \
                 Current open shard count: {current} Target shard count: {target}"
            ),
            InvalidArgument::ScaleDownBelowHalf { current, target } => write!(
                f,
                "UpdateShardCount cannot scale down below half your current open shard count. \
                 Current open shard count: {current} Target shard count: {target}"
            ),
            InvalidArgument::ShardNotOpen { index } => write!(f, "shard {index} is not open"),
            InvalidArgument::ShardTooNarrow { index } => {
                write!(f, "shard {index} is too narrow to split")
            }
            InvalidArgument::TimestampInFuture {
                timestamp_ms,
                now_ms,
            } => write!(
                f,
                "The timestampInMillis parameter cannot be greater than the \
                 currentTimestampInMillis. timestampInMillis: {timestamp_ms}, \
                 currentTimestampInMillis: {now_ms}"
            ),
            InvalidArgument::SequenceNumberOfOtherShard {
                encoded_index,
                shard,
            } => write!(
                f,
                "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a \
                 shard with {shard}",
                encoded_shard_name(*encoded_index)
            ),
            InvalidArgument::SequenceNumberOfOtherStream {
                sequence_number,
                shard,
                stream,
                account,
            } => write!(
                f,
                "StartingSequenceNumber {sequence_number} used in GetShardIterator on shard \
                 {shard} in stream {stream} under account {account} is invalid because it did \
                 not come from this stream."
            ),
            InvalidArgument::TooManyTagsGiven { given, max } => write!(
                f,
                "{given} tags were given, and a stream or consumer cannot have more than {max} \
                 tags associated with it."
            ),
            // "10" is Kinesis' wording, recorded in kinesalite's test/addTagsToStream.js while
            // the limit it enforced was already 50 (kinesalite pull request 54).
            InvalidArgument::TooManyStreamTags { stream, account } => write!(
                f,
                "Failed to add tags to stream {stream} under account {account} because a given \
                 stream cannot have more than 10 tags associated with it."
            ),
            InvalidArgument::RetentionWrongWay {
                hours,
                stream,
                current_hours,
                increase,
            } => {
                let (other_api, use_instead) = if *increase {
                    ("shorter", "DecreaseRetentionPeriod")
                } else {
                    ("longer", "IncreaseRetentionPeriod")
                };
                write!(
                    f,
                    "Requested retention period ({hours} hours) for stream {stream} can not be \
                     {other_api} than existing retention period ({current_hours} hours). Use \
                     {use_instead} API."
                )
            }
            InvalidArgument::RetentionTooShort { hours, min_hours } => write!(
                f,
                "Minimum allowed retention period is {min_hours} hours. Requested retention \
                 period ({hours} hours) is too short."
            ),
            InvalidArgument::RetentionTooLong { hours, max_hours } => write!(
                f,
                "Maximum allowed retention period is {max_hours} hours. Requested retention \
                 period ({hours} hours) is too long."
            ),
        }
    }
}

impl Display for Validation {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Validation::Member {
                value,
                member,
                constraint,
            } => {
                f.write_str("1 validation error detected: ")?;
                write_violation(
                    f,
                    Some(value as &dyn Display),
                    member,
                    &Rule::Member(constraint.clone()),
                )
            }
            Validation::Violations(violations) => {
                let plural = if violations.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "{} validation error{plural} detected: ",
                    violations.len()
                )?;
                for (position, violation) in violations.iter().enumerate() {
                    if position > 0 {
                        f.write_str("; ")?;
                    }
                    violation.fmt(f)?;
                }
                Ok(())
            }
            Validation::MaxRecordSizeOutOfRange { kib } => write!(
                f,
                "MaxRecordSizeInKiB {kib} is outside the allowed range {}-{}.",
                MAX_RECORD_SIZE_KIB_RANGE.start(),
                MAX_RECORD_SIZE_KIB_RANGE.end()
            ),
            Validation::WarmThroughputNeedsCommitment { account } => write!(
                f,
                "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for \
                 account {account}."
            ),
            Validation::WarmThroughputNeedsOnDemand { stream, account } => write!(
                f,
                "Warm throughput is only supported for ON_DEMAND streams; stream {stream} under \
                 account {account} is PROVISIONED."
            ),
            Validation::ReshardOfOnDemand { stream, account } => write!(
                f,
                "Stream {stream} under account {account} is in ON_DEMAND mode: its shards are \
                 managed by the service. Switch it to PROVISIONED with UpdateStreamMode to \
                 reshard it."
            ),
        }
    }
}

impl Display for Violation {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let value = self.value.as_ref().map(|value| value as &dyn Display);
        write_violation(f, value, &self.member, &self.rule)
    }
}

/// One violation as the front end words it; a missing value is shown as `null`.
fn write_violation(
    f: &mut Formatter<'_>,
    value: Option<&dyn Display>,
    member: &str,
    rule: &Rule,
) -> fmt::Result {
    match value {
        Some(value) => write!(f, "Value '{value}'")?,
        None => f.write_str("Value null")?,
    }
    write!(f, " at '{member}' failed to satisfy constraint: ")?;
    match rule {
        Rule::Member(constraint) => write!(f, "Member must {constraint}"),
        Rule::Members { role, constraints } => {
            let subject = match role {
                MemberRole::ListMember => "Member",
                MemberRole::MapKey => "Map keys",
                MemberRole::MapValue => "Map value",
            };
            write!(f, "{subject} must satisfy constraint: [")?;
            for (position, constraint) in constraints.iter().enumerate() {
                if position > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "Member must {constraint}")?;
            }
            f.write_str("]")
        }
    }
}

impl Display for MemberValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MemberValue::Text(text) => f.write_str(text),
            MemberValue::Number(number) => write!(f, "{number}"),
            // As Java prints a `ByteBuffer`.
            MemberValue::Blob { bytes } => {
                write!(f, "java.nio.HeapByteBuffer[pos=0 lim={bytes} cap={bytes}]")
            }
            MemberValue::Records { count } => write!(f, "{count} records"),
        }
    }
}

impl Display for Constraint {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::NotNull => f.write_str("not be null"),
            Constraint::LengthAtLeast(min) => {
                write!(f, "have length greater than or equal to {min}")
            }
            Constraint::LengthAtMost(max) => write!(f, "have length less than or equal to {max}"),
            Constraint::ValueAtLeast(min) => write!(f, "have value greater than or equal to {min}"),
            Constraint::ValueAtMost(max) => write!(f, "have value less than or equal to {max}"),
            Constraint::Pattern(pattern) => {
                write!(f, "satisfy regular expression pattern: {pattern}")
            }
            Constraint::OneOf(values) => {
                write!(f, "satisfy enum value set: [{}]", values.join(", "))
            }
        }
    }
}

impl Display for Limit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Limit::StreamsPerAccount {
                max,
                account,
                region,
            } => write!(
                f,
                "This request would exceed the limit of {max} streams for the account {account} \
                 in {region}."
            ),
            Limit::OnDemandStreams {
                max,
                account,
                region,
            } => write!(
                f,
                "This request would exceed the limit of {max} on-demand streams for the account \
                 {account} in {region}."
            ),
            Limit::ShardsPerStream { max } => write!(
                f,
                "This request would exceed the limit of {max} shards per stream."
            ),
            Limit::ShardsPerAccount {
                account,
                region,
                open,
                max,
                additional,
            } => write!(
                f,
                "This request would exceed the shard limit for the account {account} in \
                 {region}. Current shard count for the account: {open}. Limit: {max}. Number of \
                 additional shards that would have resulted from this request: {additional}. \
                 Refer to the AWS Service Limits page \
                 (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for \
                 current limits and how to request higher limits."
            ),
            Limit::ShardCountUpdatesPerDay {
                max,
                stream,
                account,
            } => write!(
                f,
                "UpdateShardCount has been called {max} times for stream {stream} under account \
                 {account} in the last 24 hours, the most allowed."
            ),
            Limit::ModeSwitchesPerDay {
                max,
                stream,
                account,
            } => write!(
                f,
                "The capacity mode of stream {stream} under account {account} has been switched \
                 {max} times in the last 24 hours, the most allowed."
            ),
            Limit::EncryptionStartsPerDay {
                max,
                stream,
                account,
            } => write!(
                f,
                "You have applied a new key to stream {stream} under account {account} {max} \
                 times in the last 24 hours, the most allowed."
            ),
            Limit::EncryptionStopsPerDay {
                max,
                stream,
                account,
            } => write!(
                f,
                "You have stopped encryption of stream {stream} under account {account} {max} \
                 times in the last 24 hours, the most allowed."
            ),
            Limit::WarmThroughput {
                mibps,
                max_mibps,
                stream,
                account,
            } => write!(
                f,
                "Requested warm throughput of {mibps} MiBps for stream {stream} under account \
                 {account} exceeds the limit of {max_mibps} MiBps."
            ),
        }
    }
}

impl Display for Throttled {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Throttled {
            shard,
            stream,
            account,
        } = self;
        write!(
            f,
            "Rate exceeded for shard {shard} in stream {stream} under account {account}."
        )
    }
}

/// The rule a refused consumer name breaks: its characters, else its length.
fn broken_name_constraint(name: &str) -> Constraint {
    let name_characters = name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'));
    if name.is_empty() {
        Constraint::LengthAtLeast(1)
    } else if !name_characters {
        Constraint::Pattern(NAME_PATTERN)
    } else {
        Constraint::LengthAtMost(CONSUMER_NAME_CHARS_MAX)
    }
}

/// AWS publishes no text for most consumer errors; the wording follows the phrasing Kinesis uses
/// for streams ("... under account ... not found.") and the consumer message AWS is seen to send
/// ("Consumer C with creation timestamp T under stream S and account A ...").
impl Display for ConsumerError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerError::InvalidName { name } => Validation::Member {
                value: MemberValue::Text(name.clone()),
                member: "consumerName".to_owned(),
                constraint: broken_name_constraint(name),
            }
            .fmt(f),
            ConsumerError::AlreadyRegistered {
                stream,
                consumer,
                account,
            } => write!(
                f,
                "Consumer {consumer} under stream {stream} and account {account} already exists."
            ),
            ConsumerError::NotFound {
                stream,
                consumer,
                account,
            } => write!(
                f,
                "Consumer {consumer} under stream {stream} and account {account} not found."
            ),
            ConsumerError::ArnNotFound { arn } => write!(f, "Consumer {arn} not found."),
            ConsumerError::TooManyConsumers {
                stream,
                limit,
                account,
            } => write!(
                f,
                "This request would exceed the limit of {limit} consumers for stream {stream} \
                 under account {account}."
            ),
            ConsumerError::TooManyCreating {
                stream,
                limit,
                account,
            } => write!(
                f,
                "This request would exceed the limit of {limit} consumers in CREATING status for \
                 stream {stream} under account {account}."
            ),
            ConsumerError::TooManyTags {
                stream,
                consumer,
                limit,
                account,
            } => write!(
                f,
                "Failed to add tags to consumer {consumer} of stream {stream} under account \
                 {account} because a given consumer cannot have more than {limit} tags \
                 associated with it."
            ),
            ConsumerError::InvalidNextToken => InvalidArgument::InvalidNextToken.fmt(f),
            ConsumerError::ExpiredNextToken => f.write_str(EXPIRED_NEXT_TOKEN),
            ConsumerError::Stream(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ConsumerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConsumerError::Stream(error) => error.source(),
            _ => None,
        }
    }
}

impl Display for SubscriptionError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SubscriptionError::Consumer(error) => error.fmt(f),
            SubscriptionError::ConsumerNotActive {
                stream,
                consumer,
                created_secs,
                account,
            } => write!(
                f,
                "Consumer {consumer} with creation timestamp {created_secs} under stream: \
                 {stream} , account {account} is not in ACTIVE status."
            ),
            SubscriptionError::InUse {
                stream,
                consumer,
                shard,
                account,
            }
            | SubscriptionError::TakenOver {
                stream,
                consumer,
                shard,
                account,
            } => write!(
                f,
                "Another active subscription exists for this consumer: \
                 {account}:{stream}:{shard}:{consumer}"
            ),
            SubscriptionError::Stream(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SubscriptionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SubscriptionError::Consumer(error) => error.source(),
            SubscriptionError::Stream(error) => error.source(),
            _ => None,
        }
    }
}

impl Display for PutRecordsFailure {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PutRecordsFailure::Throttled(throttled) => throttled.fmt(f),
            PutRecordsFailure::Internal => f.write_str(INTERNAL_FAILURE_MESSAGE),
        }
    }
}

impl Display for Damaged {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Damaged {
            stream,
            account,
            damage,
        } = self;
        write!(
            f,
            "Stream {stream} under account {account} is damaged and cannot be served: {damage}. \
             Delete it, or repair its files and reopen the engine."
        )
    }
}

impl Display for StreamDamage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            StreamDamage::MissingMeta => f.write_str("its catalog entry (stream.meta) is missing"),
            StreamDamage::UnreadableMeta { reason } => {
                write!(f, "its catalog entry (stream.meta) is unreadable: {reason}")
            }
            StreamDamage::MisplacedMeta { named } => write!(
                f,
                "its catalog entry (stream.meta) belongs to stream {named}"
            ),
            StreamDamage::Unopenable { reason } => {
                write!(f, "its shards cannot be opened: {reason}")
            }
        }
    }
}

/// The shard id Kinesis prints for the index a sequence number encodes: the 32-bit field read as
/// a Java `int`, so indexes from 2^31 on print negative (`shardId--02147483648`).
fn encoded_shard_name(index: u32) -> String {
    match i32::try_from(index) {
        Ok(_) => ShardId::new(index).to_string(),
        Err(_) => format!("shardId--{:011}", (1u64 << 32) - u64::from(index)),
    }
}

/// A Unix time in ms as Java's `Date.toString()` prints it in UTC, as Kinesis' messages do:
/// `Thu Jan 22 01:22:02 UTC 2015`.
fn java_date(unix_ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = unix_ms / 1000;
    let days = secs / 86_400;
    let (hour, minute, second) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let (year, month, day) = crate::clock::civil_date(days as i64);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month_name = MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!("{weekday} {month_name} {day:02} {hour:02}:{minute:02}:{second:02} UTC {year}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reasons_print_the_kinesis_messages() {
        let blob = StreamError::member(
            MemberValue::Blob { bytes: 3 },
            "records.2.member.data",
            Constraint::LengthAtMost(1),
        );
        assert_eq!(
            blob.to_string(),
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at \
             'records.2.member.data' failed to satisfy constraint: Member must have length less \
             than or equal to 1"
        );
        let two = Validation::Violations(vec![
            Violation {
                value: None,
                member: "streamName".to_owned(),
                rule: Rule::Member(Constraint::NotNull),
            },
            Violation {
                value: Some("[a]".to_owned()),
                member: "tagKeys".to_owned(),
                rule: Rule::Members {
                    role: MemberRole::ListMember,
                    constraints: vec![Constraint::LengthAtMost(2), Constraint::LengthAtLeast(1)],
                },
            },
        ]);
        assert_eq!(
            two.to_string(),
            "2 validation errors detected: Value null at 'streamName' failed to satisfy \
             constraint: Member must not be null; Value '[a]' at 'tagKeys' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must have length less than or \
             equal to 2, Member must have length greater than or equal to 1]"
        );
        let limit = StreamError::from(Limit::ShardsPerStream { max: 7 });
        assert_eq!(limit.kinesis_error_code(), "LimitExceededException");
        assert_eq!(
            limit.to_string(),
            "This request would exceed the limit of 7 shards per stream."
        );
        let other_shard = InvalidArgument::SequenceNumberOfOtherShard {
            encoded_index: 1 << 31,
            shard: ShardId::new(0),
        };
        assert_eq!(
            other_shard.to_string(),
            "Invalid StartingSequenceNumber. It encodes shardId--02147483648, while it was used \
             in a call to a shard with shardId-000000000000"
        );
    }

    #[test]
    fn dates_print_as_java_does() {
        // 2015-01-22 01:22:02 UTC, the example in Kinesis' expired-iterator message.
        assert_eq!(
            super::java_date(1_421_889_722_000),
            "Thu Jan 22 01:22:02 UTC 2015"
        );
        assert_eq!(super::java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            super::java_date(951_782_400_000),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
    }
}
