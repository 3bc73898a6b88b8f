//! Registered stream consumers (enhanced fan-out): RegisterStreamConsumer, DescribeStreamConsumer,
//! ListStreamConsumers, DeregisterStreamConsumer, and the consumer half of the ARN-based tag
//! operations.
//!
//! The library keeps consumers and their rules ([`shardlog::stream::consumers`]) and words their
//! errors; this file reads the requests and finds a consumer by ARN or by stream ARN and name as
//! Kinesis does.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use shardlog::stream::error::NotFound;
use shardlog::stream::{Consumer, ConsumerArn};
use shardlog::{Engine, Stream, StreamError};

use super::{Context, Reply, StreamRef};
use crate::error::ApiError;
use crate::protocol::fields::{CONSUMER_ARN, CONSUMER_NAME_LENGTH, Checks, NAME, STREAM_ARN};
use crate::protocol::{Fields, Timestamp};

/// Largest `MaxResults` of ListStreamConsumers (the model's bound).
const LIST_MAX_RESULTS_MAX: i64 = 10_000;

/// The `Consumer` shape (RegisterStreamConsumer, ListStreamConsumers).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsumerOut {
    consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: String,
    consumer_status: &'static str,
    consumer_creation_timestamp: Timestamp,
}

impl ConsumerOut {
    fn new(consumer: Consumer) -> ConsumerOut {
        ConsumerOut {
            consumer_name: consumer.name,
            consumer_arn: consumer.arn,
            consumer_status: consumer.status.as_str(),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
        }
    }
}

/// The `ConsumerDescription` shape (DescribeStreamConsumer): a `Consumer` and its stream's ARN.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsumerDescriptionOut {
    consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    consumer_arn: String,
    consumer_status: &'static str,
    consumer_creation_timestamp: Timestamp,
    #[serde(rename = "StreamARN")]
    stream_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegisterOut {
    consumer: ConsumerOut,
}

/// `RegisterStreamConsumer`.
pub fn register_stream_consumer(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let name = fields.string("ConsumerName")?;
    let stream_arn = fields.string("StreamARN")?;
    let mut checks = Checks::new();
    checks.required("consumerName", &name);
    checks.text("consumerName", name, Some(NAME), CONSUMER_NAME_LENGTH);
    checks.required("streamARN", &stream_arn);
    checks.text("streamARN", stream_arn, Some(STREAM_ARN), (1, 2048));
    super::check_stream_id(&fields, &mut checks)?;
    let tags = super::settings::tag_map(&fields, &mut checks)?;
    checks.finish()?;
    let tags: BTreeMap<String, String> = tags.unwrap_or_default();
    super::settings::check_tag_rules(
        tags.iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?;
    let stream = StreamRef {
        name: None,
        arn: stream_arn,
    }
    .resolve(context.engine)?;
    let consumer = stream
        .register_consumer(name.unwrap_or_default(), tags)
        .map_err(ApiError::from)?;
    let out = RegisterOut {
        consumer: ConsumerOut::new(consumer),
    };
    Ok(Reply::new(context, &out, &stream))
}

/// How DescribeStreamConsumer and DeregisterStreamConsumer name a consumer: by its ARN, or by its
/// stream's ARN and its name; all three may be given if they agree.
struct ConsumerRef<'r> {
    arn: Option<&'r str>,
    name: Option<&'r str>,
    stream_arn: Option<&'r str>,
}

impl<'r> ConsumerRef<'r> {
    /// Reads and checks the three members (all optional in the model).
    fn read(fields: &Fields<'r, '_>, checks: &mut Checks) -> Result<ConsumerRef<'r>, ApiError> {
        let arn = fields.string("ConsumerARN")?;
        let name = fields.string("ConsumerName")?;
        let stream_arn = fields.string("StreamARN")?;
        checks.text("consumerARN", arn, Some(CONSUMER_ARN), (1, 2048));
        checks.text("consumerName", name, Some(NAME), CONSUMER_NAME_LENGTH);
        checks.text("streamARN", stream_arn, Some(STREAM_ARN), (1, 2048));
        super::check_stream_id(fields, checks)?;
        Ok(ConsumerRef {
            arn,
            name,
            stream_arn,
        })
    }

    /// The consumer named, and its stream.
    fn resolve(&self, engine: &Engine) -> Result<(Arc<Stream>, Consumer), ApiError> {
        match (self.arn, self.stream_arn, self.name) {
            (Some(arn), stream_arn, name) => {
                let (stream, consumer) = engine.consumer_by_arn(arn).map_err(ApiError::from)?;
                if stream_arn.is_some_and(|stream_arn| stream_arn != stream.arn()) {
                    return Err(ApiError::invalid_argument(format!(
                        "ConsumerARN {arn} and StreamARN {} refer to different streams.",
                        stream_arn.unwrap_or_default()
                    )));
                }
                if name.is_some_and(|name| name != consumer.name) {
                    return Err(ApiError::invalid_argument(format!(
                        "ConsumerARN {arn} and ConsumerName {} refer to different consumers.",
                        name.unwrap_or_default()
                    )));
                }
                Ok((stream, consumer))
            }
            (None, Some(stream_arn), Some(name)) => {
                let stream = StreamRef {
                    name: None,
                    arn: Some(stream_arn),
                }
                .resolve(engine)?;
                let consumer = stream.consumer(name).map_err(ApiError::from)?;
                Ok((stream, consumer))
            }
            (None, _, _) => Err(ApiError::invalid_argument(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided.",
            )),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeOut {
    consumer_description: ConsumerDescriptionOut,
}

/// `DescribeStreamConsumer`.
pub fn describe_stream_consumer(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let consumer_ref = ConsumerRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let (stream, consumer) = consumer_ref.resolve(context.engine)?;
    let out = DescribeOut {
        consumer_description: ConsumerDescriptionOut {
            consumer_name: consumer.name,
            consumer_arn: consumer.arn,
            consumer_status: consumer.status.as_str(),
            consumer_creation_timestamp: Timestamp(consumer.created_ms),
            stream_arn: consumer.stream_arn,
        },
    };
    Ok(Reply::new(context, &out, &stream))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListOut {
    consumers: Vec<ConsumerOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `ListStreamConsumers`: a page of consumers in name order (100 unless `MaxResults` says
/// otherwise), with a `NextToken` valid for five minutes while more follow.
pub fn list_stream_consumers(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let max_results = fields.integer("MaxResults")?;
    let next_token = fields.string("NextToken")?;
    let stream_arn = fields.string("StreamARN")?;
    let stream_created_ms = fields.timestamp_ms("StreamCreationTimestamp")?;
    let mut checks = Checks::new();
    checks.range("maxResults", max_results, 1, LIST_MAX_RESULTS_MAX);
    checks.text("nextToken", next_token, None, (1, 1_048_576));
    checks.required("streamARN", &stream_arn);
    checks.text("streamARN", stream_arn, Some(STREAM_ARN), (1, 2048));
    super::check_stream_id(&fields, &mut checks)?;
    checks.finish()?;
    if next_token.is_some() && stream_created_ms.is_some() {
        return Err(ApiError::invalid_argument(
            "NextToken and StreamCreationTimestamp cannot be provided together.",
        ));
    }
    let stream = StreamRef {
        name: None,
        arn: stream_arn,
    }
    .resolve(context.engine)?;
    // Clients send the time DescribeStream gave, perhaps in whole seconds: compare seconds.
    if let Some(created_ms) = stream_created_ms
        && created_ms / 1000 != stream.meta().created_ms / 1000
    {
        let not_found = NotFound::Stream {
            stream: stream.name().to_string(),
            account: context.engine.account_id().to_owned(),
        };
        return Err(StreamError::from(not_found).into());
    }
    let limit = max_results.map_or(
        shardlog::stream::consumers::LIST_CONSUMERS_DEFAULT_RESULTS,
        |limit| usize::try_from(limit).unwrap_or(1),
    );
    let page = stream
        .list_consumers(next_token, limit)
        .map_err(ApiError::from)?;
    let out = ListOut {
        consumers: page.consumers.into_iter().map(ConsumerOut::new).collect(),
        next_token: page.next_token,
    };
    Ok(Reply::new(context, &out, &stream))
}

/// `DeregisterStreamConsumer`.
pub fn deregister_stream_consumer(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let consumer_ref = ConsumerRef::read(&fields, &mut checks)?;
    checks.finish()?;
    let (stream, consumer) = consumer_ref.resolve(context.engine)?;
    stream
        .deregister_consumer(&consumer.name)
        .map_err(ApiError::from)?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}

/// What a `ResourceARN` names: a stream, or one of its consumers.
pub(super) enum Resource {
    /// A stream.
    Stream(Arc<Stream>),
    /// A consumer, and its stream.
    Consumer(Arc<Stream>, Consumer),
}

impl Resource {
    /// The stream or consumer `arn` names. A consumer ARN is tried first: it is also a stream ARN
    /// to the model's pattern, whose stream name would be `<stream>/consumer/<name>:<secs>`.
    pub(super) fn find(engine: &Engine, arn: &str) -> Result<Resource, ApiError> {
        if ConsumerArn::parse(arn).is_some() {
            let (stream, consumer) = engine.consumer_by_arn(arn).map_err(ApiError::from)?;
            return Ok(Resource::Consumer(stream, consumer));
        }
        Ok(Resource::Stream(engine.stream_by_arn(arn)?))
    }

    /// The stream, or the consumer's stream.
    pub(super) fn stream(&self) -> &Arc<Stream> {
        match self {
            Resource::Stream(stream) | Resource::Consumer(stream, _) => stream,
        }
    }
}
