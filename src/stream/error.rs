//! Errors of the stream layer: one variant per Kinesis exception, each with a typed reason that
//! says what happened and with which values (which stream, which shard, which limit), so a
//! caller can match on it.
//!
//! The wording lives in one place, `messages.rs` beside this file: the `Display` of each reason
//! prints exactly the message Kinesis sends (see `docs/KINESIS.md` §7.5), so an embedded user
//! reads the Kinesis message and the server adds only the wire format.
//! [`StreamError::kinesis_error_code`] gives the exception name for the wire.

use crate::error::LogError;
use crate::sequence::SequenceNumber;

use super::hash_key::HashKeyRange;
use super::meta::StreamStatus;
use super::meta_error::MetaError;
use super::names::{ShardId, StreamName};

/// An error from a stream operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// `ResourceNotFoundException`: the stream or shard does not exist (or is not ready).
    ResourceNotFound(NotFound),
    /// `ResourceInUseException`: the stream exists already, or is in the wrong state.
    ResourceInUse(InUse),
    /// `InvalidArgumentException`: an argument is well-formed but not acceptable.
    InvalidArgument(InvalidArgument),
    /// `ValidationException`: an argument breaks a constraint of the API model.
    Validation(Validation),
    /// `LimitExceededException`: a configured limit would be exceeded.
    LimitExceeded(Limit),
    /// `ExpiredIteratorException`: the shard iterator is older than
    /// [`super::ITERATOR_TTL_MS`].
    ExpiredIterator {
        /// When the iterator was issued (Unix ms).
        issued_ms: u64,
        /// When it was used (Unix ms).
        now_ms: u64,
    },
    /// `ExpiredNextTokenException`: a ListShards `NextToken` is older than five minutes.
    ExpiredNextToken,
    /// `ProvisionedThroughputExceededException`: the shard's throughput limit was reached; retry
    /// later.
    ProvisionedThroughputExceeded(Throttled),
    /// `InternalFailure`: the storage failed; the cause is attached.
    Storage(LogError),
    /// `InternalFailure`: the stream's files are damaged, so the engine cannot serve it (it serves
    /// every other stream). Unlike [`StreamError::Storage`], the message is meant for the client:
    /// it names the stream and the damage.
    Damaged(Damaged),
}

/// Why a `ResourceNotFoundException`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotFound {
    /// No stream of this name (or not ready).
    Stream {
        /// The name asked for.
        stream: String,
        /// The engine's account.
        account: String,
    },
    /// No stream of this ARN.
    StreamArn {
        /// The ARN asked for.
        arn: String,
    },
    /// The stream has no (more) shard of this id.
    Shard {
        /// The shard asked for.
        shard: ShardId,
        /// Its stream.
        stream: String,
        /// The engine's account.
        account: String,
    },
    /// A shard id, as given (perhaps not a well-formed one), that names no shard of the stream:
    /// Kinesis' words for SplitShard, MergeShards and GetShardIterator.
    UnknownShard {
        /// The shard id as given.
        shard: String,
        /// Its stream.
        stream: String,
        /// The engine's account.
        account: String,
    },
}

/// Why a `ResourceInUseException`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InUse {
    /// CreateStream of a name that is taken.
    StreamExists {
        /// The name.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// The operation needs an ACTIVE stream.
    StreamNotActive {
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
        /// Its status now.
        status: StreamStatus,
    },
}

/// Why an `InvalidArgumentException`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidArgument {
    /// CreateStream of a PROVISIONED stream without a shard count.
    ShardCountRequired,
    /// The shard iterator was not made by this engine, or is for another stream of that name.
    InvalidShardIterator,
    /// The ListShards `NextToken` was not made by this engine for this stream.
    InvalidNextToken,
    /// ListShards with both a `NextToken` and a stream name.
    NextTokenWithStreamName,
    /// ListShards with neither a `NextToken` nor a stream name.
    NextTokenOrStreamNameRequired,
    /// An `ExplicitHashKey` of the right pattern above 2^128−1.
    ExplicitHashKeyOutOfRange {
        /// The key as given.
        key: String,
    },
    /// A PutRecords call larger than [`super::PUT_RECORDS_BYTES_MAX`].
    RecordsTooLarge {
        /// The call's data plus partition keys.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A `SequenceNumberForOrdering` that is not a sequence number, or one this stream never
    /// handed out.
    SequenceNumberForOrdering {
        /// The number as given.
        sequence_number: String,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// SplitShard at a key outside the shard's range (or not a key).
    SplitKeyOutsideShard {
        /// The key as given.
        key: String,
        /// The shard to split, as given.
        shard: String,
        /// Its stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
        /// The shard's range (boxed: it would double the size of every `StreamError`).
        range: Box<HashKeyRange>,
    },
    /// MergeShards of shards whose ranges do not follow each other.
    NotAdjacent {
        /// `ShardToMerge`, as given.
        shard: String,
        /// `AdjacentShardToMerge`, as given.
        adjacent: String,
        /// Their stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// A reshard of a shard already closed by an earlier one.
    ShardClosed {
        /// The shard, as given.
        shard: String,
        /// Its stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// UpdateShardCount to more than double the open shards.
    ScaleUpOverDouble {
        /// Open shards now.
        current: u32,
        /// The target.
        target: u32,
    },
    /// UpdateShardCount to less than half the open shards.
    ScaleDownBelowHalf {
        /// Open shards now.
        current: u32,
        /// The target.
        target: u32,
    },
    /// The on-demand scaler asked to split a shard that is not open.
    ShardNotOpen {
        /// The shard's index.
        index: u32,
    },
    /// The on-demand scaler asked to split a shard whose range has fewer than three keys.
    ShardTooNarrow {
        /// The shard's index.
        index: u32,
    },
    /// AT_TIMESTAMP in the future.
    TimestampInFuture {
        /// The timestamp asked for (Unix ms).
        timestamp_ms: u64,
        /// Now (Unix ms).
        now_ms: u64,
    },
    /// A starting sequence number of another shard index.
    SequenceNumberOfOtherShard {
        /// The shard index the number encodes.
        encoded_index: u32,
        /// The shard it was used with.
        shard: ShardId,
    },
    /// A starting sequence number of this shard index but of another stream.
    SequenceNumberOfOtherStream {
        /// The number.
        sequence_number: SequenceNumber,
        /// The shard it was used with.
        shard: ShardId,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// More tags in one request than a stream or consumer may have.
    TooManyTagsGiven {
        /// Tags given.
        given: usize,
        /// The limit.
        max: usize,
    },
    /// AddTagsToStream would leave the stream with too many tags.
    TooManyStreamTags {
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// Increase/DecreaseStreamRetentionPeriod the wrong way.
    RetentionWrongWay {
        /// The hours asked for.
        hours: u32,
        /// The stream.
        stream: StreamName,
        /// The retention now.
        current_hours: u32,
        /// Whether the call was IncreaseStreamRetentionPeriod.
        increase: bool,
    },
    /// A retention period below the minimum.
    RetentionTooShort {
        /// The hours asked for.
        hours: u32,
        /// The minimum.
        min_hours: u32,
    },
    /// A retention period above the maximum.
    RetentionTooLong {
        /// The hours asked for.
        hours: u32,
        /// The maximum.
        max_hours: u32,
    },
}

/// Why a `ValidationException`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Validation {
    /// A member of the request breaks a constraint of the API model, as the Kinesis front end
    /// reports it.
    Member {
        /// The value, as the front end shows it.
        value: MemberValue,
        /// The member's path (`records.3.member.partitionKey`).
        member: String,
        /// The constraint broken.
        constraint: Constraint,
    },
    /// Several violations, found by the front end reading a request (at most ten are listed).
    Violations(Vec<Violation>),
    /// A maximum record size outside [`super::MAX_RECORD_SIZE_KIB_RANGE`].
    MaxRecordSizeOutOfRange {
        /// The size asked for.
        kib: u32,
    },
    /// Warm throughput without the account's throughput commitment.
    WarmThroughputNeedsCommitment {
        /// The engine's account.
        account: String,
    },
    /// Warm throughput of a PROVISIONED stream.
    WarmThroughputNeedsOnDemand {
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// A user reshard of an ON_DEMAND stream.
    ReshardOfOnDemand {
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
}

/// One violation in a ValidationException that lists several, as the front end lists each:
/// `Value 'x' at 'streamName' failed to satisfy constraint: Member must ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The value as the front end shows it; `None` is shown as `null`.
    pub value: Option<String>,
    /// The member's path.
    pub member: String,
    /// What it breaks.
    pub rule: Rule,
}

/// What a [`Violation`] breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// A constraint of the member itself (`Member must ...`).
    Member(Constraint),
    /// The constraints of the members of a list or map, all listed though one is broken
    /// (`Map keys must satisfy constraint: [Member must ..., Member must ...]`).
    Members {
        /// Which members.
        role: MemberRole,
        /// Every constraint of their shape, in the model's order.
        constraints: Vec<Constraint>,
    },
}

/// Which members of a collection a [`Rule::Members`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    /// Elements of a list.
    ListMember,
    /// Keys of a map.
    MapKey,
    /// Values of a map.
    MapValue,
}

/// A member's value as the Kinesis front end shows it in a validation message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberValue {
    /// Text, shown as it is.
    Text(String),
    /// A number.
    Number(u64),
    /// A blob, shown as Java prints a `ByteBuffer`.
    Blob {
        /// Its length.
        bytes: usize,
    },
    /// The PutRecords list, shown by its length.
    Records {
        /// Entries in it.
        count: usize,
    },
}

/// A constraint of the API model, as the front end words it after "Member must".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Constraint {
    /// Present (only a request's decoder meets a missing member; the library's inputs are
    /// typed).
    NotNull,
    /// At least this many characters, bytes or entries.
    LengthAtLeast(usize),
    /// At most this many characters, bytes or entries.
    LengthAtMost(usize),
    /// At least this value.
    ValueAtLeast(i64),
    /// At most this value.
    ValueAtMost(i64),
    /// Matches this regular expression.
    Pattern(&'static str),
    /// One of these values.
    OneOf(&'static [&'static str]),
}

/// Which limit a `LimitExceededException` is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Streams in the engine.
    StreamsPerAccount {
        /// The limit.
        max: usize,
        /// The engine's account.
        account: String,
        /// The engine's region.
        region: String,
    },
    /// ON_DEMAND streams in the engine.
    OnDemandStreams {
        /// The limit.
        max: usize,
        /// The engine's account.
        account: String,
        /// The engine's region.
        region: String,
    },
    /// Open shards of one stream.
    ShardsPerStream {
        /// The limit.
        max: u32,
    },
    /// Open shards of all streams.
    ShardsPerAccount {
        /// The engine's account.
        account: String,
        /// The engine's region.
        region: String,
        /// Open shards now.
        open: u64,
        /// The limit.
        max: u64,
        /// Open shards the request would add.
        additional: u64,
    },
    /// UpdateShardCount calls per stream in a rolling day.
    ShardCountUpdatesPerDay {
        /// The limit.
        max: u32,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// Capacity mode switches per stream in a rolling day.
    ModeSwitchesPerDay {
        /// The limit.
        max: u32,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// StartStreamEncryption calls per stream in a rolling day.
    EncryptionStartsPerDay {
        /// The limit.
        max: u32,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// StopStreamEncryption calls per stream in a rolling day.
    EncryptionStopsPerDay {
        /// The limit.
        max: u32,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
    /// Warm throughput above [`super::WARM_THROUGHPUT_MIBPS_MAX`].
    WarmThroughput {
        /// The throughput asked for.
        mibps: u32,
        /// The limit.
        max_mibps: u32,
        /// The stream.
        stream: StreamName,
        /// The engine's account.
        account: String,
    },
}

/// A shard refused a read or write: its throughput budget is spent for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// The shard.
    pub shard: ShardId,
    /// Its stream.
    pub stream: StreamName,
    /// The engine's account.
    pub account: String,
}

/// A stream the engine cannot serve, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damaged {
    /// The stream.
    pub stream: StreamName,
    /// The engine's account.
    pub account: String,
    /// What is wrong.
    pub damage: StreamDamage,
}

/// Why a stream cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamDamage {
    /// Its directory holds shard logs but no catalog entry (`stream.meta`).
    MissingMeta,
    /// Its catalog entry cannot be read, or fails its checksum or format checks.
    UnreadableMeta {
        /// What is wrong with the file.
        reason: MetaError,
    },
    /// Its catalog entry names another stream than its directory does.
    MisplacedMeta {
        /// The name inside `stream.meta`.
        named: String,
    },
    /// Its catalog entry is fine, but its shards could not be opened.
    Unopenable {
        /// The error opening them.
        reason: String,
    },
}

impl StreamError {
    /// The Kinesis exception name for the wire (`__type`).
    pub fn kinesis_error_code(&self) -> &'static str {
        match self {
            StreamError::ResourceNotFound(_) => "ResourceNotFoundException",
            StreamError::ResourceInUse(_) => "ResourceInUseException",
            StreamError::InvalidArgument(_) => "InvalidArgumentException",
            StreamError::Validation(_) => "ValidationException",
            StreamError::LimitExceeded(_) => "LimitExceededException",
            StreamError::ExpiredIterator { .. } => "ExpiredIteratorException",
            StreamError::ExpiredNextToken => "ExpiredNextTokenException",
            StreamError::ProvisionedThroughputExceeded(_) => {
                "ProvisionedThroughputExceededException"
            }
            StreamError::Storage(_) | StreamError::Damaged(_) => "InternalFailure",
        }
    }

    /// Checks a request's `Limit` (or `MaxResults`, named by `member`) against 1..=`max`, with
    /// the front end's ValidationException.
    pub(crate) fn check_limit(member: &str, limit: usize, max: usize) -> StreamResult<()> {
        let constraint = if limit == 0 {
            Constraint::ValueAtLeast(1)
        } else if limit > max {
            Constraint::ValueAtMost(i64::try_from(max).unwrap_or(i64::MAX))
        } else {
            return Ok(());
        };
        Err(StreamError::member(
            MemberValue::Number(limit as u64),
            member,
            constraint,
        ))
    }

    /// A `ValidationException` for one member that breaks one constraint.
    pub(crate) fn member(
        value: MemberValue,
        member: impl Into<String>,
        constraint: Constraint,
    ) -> StreamError {
        StreamError::Validation(Validation::Member {
            value,
            member: member.into(),
            constraint,
        })
    }
}

impl From<LogError> for StreamError {
    fn from(error: LogError) -> StreamError {
        StreamError::Storage(error)
    }
}

impl From<NotFound> for StreamError {
    fn from(reason: NotFound) -> StreamError {
        StreamError::ResourceNotFound(reason)
    }
}

impl From<InUse> for StreamError {
    fn from(reason: InUse) -> StreamError {
        StreamError::ResourceInUse(reason)
    }
}

impl From<InvalidArgument> for StreamError {
    fn from(reason: InvalidArgument) -> StreamError {
        StreamError::InvalidArgument(reason)
    }
}

impl From<Validation> for StreamError {
    fn from(reason: Validation) -> StreamError {
        StreamError::Validation(reason)
    }
}

impl From<Limit> for StreamError {
    fn from(limit: Limit) -> StreamError {
        StreamError::LimitExceeded(limit)
    }
}

/// Shorthand for results of stream operations.
pub type StreamResult<T> = Result<T, StreamError>;
