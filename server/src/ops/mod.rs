//! The Kinesis operations, one small handler each, grouped by what they touch:
//! `streams` (which streams exist), `records` (the data plane), `shards` (the shape of a stream),
//! `settings` (retention, tags, monitoring, record size, limits), and the settings recorded and
//! reported but not acted on: `encryption`, `policies` (resource policies), `warm_throughput`
//! and `account` (the account's throughput commitment).
//!
//! A handler reads and checks its fields (type errors first, then every constraint at once, as the
//! Kinesis front end does), calls the library, and encodes the answer. Handlers are synchronous:
//! the HTTP layer runs them on the blocking pool, because library calls may fsync.

mod account;
mod consumers;
mod encryption;
mod policies;
mod records;
mod settings;
mod shards;
mod streams;
mod subscribe;
mod warm_throughput;

pub use subscribe::{EVENT_STREAM_BYTES_HELD, EventFeed};

use std::sync::Arc;

use shardlog::stream::error::NotFound;
use shardlog::{Engine, Stream, StreamError};

use crate::error::ApiError;
use crate::protocol::fields::{self, Checks, NAME, STREAM_ARN, STREAM_ID, STREAM_NAME_LENGTH};
use crate::protocol::{Fields, Protocol};

/// What a handler can use.
pub struct Context<'e> {
    /// The engine.
    pub engine: &'e Engine,
    /// The request's encoding.
    pub protocol: Protocol,
    /// `MaxRecordSizeInKiB` for streams created without one.
    pub default_max_record_size_kib: Option<u32>,
}

/// A successful answer: the encoded body (empty for operations without output) and the stream
/// the request was about, for the request log.
pub struct Reply {
    /// The response body.
    pub body: Vec<u8>,
    /// The stream involved, if any.
    pub stream: Option<String>,
    /// For a streamed answer (SubscribeToShard): the messages that follow `body`.
    pub events: Option<EventFeed>,
}

macro_rules! operations {
    ($($name:ident => $handler:path,)*) => {
        /// An operation this server serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl Operation {
            /// The operation named in `X-Amz-Target` (after the service prefix), if it is served.
            pub fn from_name(name: &str) -> Option<Operation> {
                match name {
                    $(stringify!($name) => Some(Operation::$name),)*
                    _ => None,
                }
            }

            /// The operation's name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// Runs the operation.
            pub fn run(self, context: &Context<'_>, fields: Fields<'_, '_>) -> Result<Reply, ApiError> {
                match self {
                    $(Operation::$name => $handler(context, fields),)*
                }
            }
        }
    };
}

operations! {
    CreateStream => streams::create_stream,
    DeleteStream => streams::delete_stream,
    DescribeStream => streams::describe_stream,
    DescribeStreamSummary => streams::describe_stream_summary,
    ListStreams => streams::list_streams,
    PutRecord => records::put_record,
    PutRecords => records::put_records,
    GetShardIterator => records::get_shard_iterator,
    GetRecords => records::get_records,
    ListShards => shards::list_shards,
    SplitShard => shards::split_shard,
    MergeShards => shards::merge_shards,
    UpdateShardCount => shards::update_shard_count,
    UpdateStreamMode => shards::update_stream_mode,
    IncreaseStreamRetentionPeriod => settings::increase_retention,
    DecreaseStreamRetentionPeriod => settings::decrease_retention,
    AddTagsToStream => settings::add_tags_to_stream,
    RemoveTagsFromStream => settings::remove_tags_from_stream,
    ListTagsForStream => settings::list_tags_for_stream,
    TagResource => settings::tag_resource,
    UntagResource => settings::untag_resource,
    ListTagsForResource => settings::list_tags_for_resource,
    DescribeLimits => settings::describe_limits,
    EnableEnhancedMonitoring => settings::enable_monitoring,
    DisableEnhancedMonitoring => settings::disable_monitoring,
    UpdateMaxRecordSize => settings::update_max_record_size,
    StartStreamEncryption => encryption::start_stream_encryption,
    StopStreamEncryption => encryption::stop_stream_encryption,
    PutResourcePolicy => policies::put_resource_policy,
    GetResourcePolicy => policies::get_resource_policy,
    DeleteResourcePolicy => policies::delete_resource_policy,
    DescribeAccountSettings => account::describe_account_settings,
    UpdateAccountSettings => account::update_account_settings,
    UpdateStreamWarmThroughput => warm_throughput::update_stream_warm_throughput,
    RegisterStreamConsumer => consumers::register_stream_consumer,
    DescribeStreamConsumer => consumers::describe_stream_consumer,
    ListStreamConsumers => consumers::list_stream_consumers,
    DeregisterStreamConsumer => consumers::deregister_stream_consumer,
    SubscribeToShard => subscribe::subscribe_to_shard,
}

impl Reply {
    /// An answer with a body.
    fn new(context: &Context<'_>, body: &impl serde::Serialize, stream: &Stream) -> Reply {
        Reply {
            body: context.protocol.encode(body),
            stream: Some(stream.name().as_str().to_owned()),
            events: None,
        }
    }

    /// An answer without a body (CreateStream, DeleteStream, ...).
    fn empty(stream: Option<String>) -> Reply {
        Reply {
            body: Vec::new(),
            stream,
            events: None,
        }
    }
}

/// The `StreamName` and `StreamARN` members, read and checked.
struct StreamRef<'r> {
    name: Option<&'r str>,
    arn: Option<&'r str>,
}

impl<'r> StreamRef<'r> {
    /// Reads both members (the model makes both optional in every operation that has them),
    /// and checks the `StreamId` beside them.
    fn read(fields: &Fields<'r, '_>, checks: &mut Checks) -> Result<StreamRef<'r>, ApiError> {
        let arn = fields.string("StreamARN")?;
        let name = fields.string("StreamName")?;
        checks.text("streamARN", arn, Some(STREAM_ARN), (1, 2048));
        check_stream_id(fields, checks)?;
        checks.text("streamName", name, Some(NAME), STREAM_NAME_LENGTH);
        Ok(StreamRef { name, arn })
    }

    /// The stream named, by name or ARN. The ARN must be of this server's region and account.
    fn resolve(&self, engine: &Engine) -> Result<Arc<Stream>, ApiError> {
        Ok(engine.stream(&self.resolve_name(engine)?)?)
    }

    /// The name of the stream named, by name or ARN, checked as [`StreamRef::resolve`] checks it,
    /// whether or not such a stream exists.
    fn resolve_name(&self, engine: &Engine) -> Result<String, ApiError> {
        let from_arn = match self.arn {
            Some(arn) => {
                let (region, account, name) =
                    fields::parse_stream_arn(arn).ok_or_else(|| not_found_arn(arn))?;
                if region != engine.region() || account != engine.account_id() {
                    return Err(not_found_arn(arn));
                }
                Some(name)
            }
            None => None,
        };
        let name = match (self.name, from_arn) {
            (Some(name), Some(arn_name)) if name != arn_name => {
                return Err(ApiError::invalid_argument(format!(
                    "StreamARN {} and StreamName {name} refer to different streams.",
                    self.arn.unwrap_or_default()
                )));
            }
            (Some(name), _) | (None, Some(name)) => name,
            (None, None) => {
                return Err(ApiError::invalid_argument(
                    "Stream arn and stream name can't be empty at the same time",
                ));
            }
        };
        Ok(name.to_owned())
    }

    /// The name given, for logs and messages.
    fn display(&self) -> Option<String> {
        self.name
            .or_else(|| {
                self.arn
                    .and_then(fields::parse_stream_arn)
                    .map(|(_, _, n)| n)
            })
            .map(str::to_owned)
    }
}

/// Checks the `StreamId` member, which every operation naming a stream has. The model reserves
/// it for future use ("Not Implemented"), so a valid one is ignored, but the front end checks it.
fn check_stream_id(fields: &Fields<'_, '_>, checks: &mut Checks) -> Result<(), ApiError> {
    let stream_id = fields.string("StreamId")?;
    checks.text("streamId", stream_id, Some(STREAM_ID), (1, 24));
    Ok(())
}

fn not_found_arn(arn: &str) -> ApiError {
    let not_found = NotFound::StreamArn {
        arn: arn.to_owned(),
    };
    StreamError::from(not_found).into()
}

/// Converts a checked `i64` that the model bounds to `u32`.
fn to_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}
