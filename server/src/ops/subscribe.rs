//! `SubscribeToShard` (enhanced fan-out): a response streamed in the AWS event-stream framing
//! (see [`crate::protocol::event_stream`]).
//!
//! The handler checks the request, starts the library's push subscription
//! ([`shardlog::stream::Subscription`]) and answers with the `initial-response` event; the
//! subscription's events follow, each a `SubscribeToShardEvent` message, until it ends (after five
//! minutes, or after the event naming a closed shard's children), or as one exception message if
//! it fails (taken over, consumer deregistered, stream deleted).
//!
//! Each live subscription has a thread of its own, because the library's subscription blocks on
//! the log's append notification; a thread in the runtime's blocking pool would keep ordinary calls
//! waiting. The thread hands events to the response body through a channel of one: it makes the
//! next event only once the body has taken the one before, and the body takes it only when the
//! connection can send it (hyper's flow control). So a subscriber that does not read holds at most
//! two events ([`EVENT_STREAM_BYTES_HELD`]); at most [`SUBSCRIPTIONS_MAX`] subscriptions run at
//! once. When the client goes away, or the server begins to shut down (the response body then
//! ends the event stream normally, see [`crate::response_body`]), the channel closes and the
//! thread ends within [`HEARTBEAT`], freeing the consumer's place.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use shardlog::stream::subscription::EVENT_DATA_BYTES_MAX;
use shardlog::stream::{Subscription, SubscriptionError, SubscriptionEvent};
use shardlog::{SequenceNumber, ShardId, StartingPosition};
use tokio::sync::mpsc;

use super::records::{ChildShardOut, RecordOut};
use super::{Context, Reply};
use crate::error::ApiError;
use crate::protocol::fields::{CONSUMER_ARN, Checks, NAME, SEQUENCE_NUMBER, SHARD_ID_LENGTH};
use crate::protocol::{Fields, Protocol, Text, event_stream};

/// Most subscriptions served at once (each has a thread).
pub const SUBSCRIPTIONS_MAX: usize = 512;
/// With no record for this long, an empty event is sent: the client learns it is caught up, and
/// the server learns whether the client is still there.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Response bytes a subscription keeps reserved while it streams: two events of the library's
/// largest (1 MiB of data, 4/3 of it as base64, plus framing per record), the one being sent and
/// the one queued. A third, built while both wait, is not counted; nor is the size of an event
/// carrying one record larger than 1 MiB.
pub const EVENT_STREAM_BYTES_HELD: usize = 2 * (EVENT_DATA_BYTES_MAX * 4 / 3 + 64 * 1024);

static SUBSCRIPTIONS_LIVE: AtomicUsize = AtomicUsize::new(0);

/// The events of a subscription, as encoded messages, in order; the channel closes after the
/// last.
pub type EventFeed = mpsc::Receiver<Bytes>;

/// `SubscribeToShard`: the reply carries the `initial-response` message as its body and the feed
/// of the messages that follow.
pub fn subscribe_to_shard(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let consumer_arn = fields.string("ConsumerARN")?;
    let shard_id = fields.string("ShardId")?;
    let starting = fields.structure("StartingPosition")?;
    let mut checks = Checks::new();
    checks.required("consumerARN", &consumer_arn);
    checks.text("consumerARN", consumer_arn, Some(CONSUMER_ARN), (1, 2048));
    checks.required("shardId", &shard_id);
    checks.text("shardId", shard_id, Some(NAME), SHARD_ID_LENGTH);
    checks.required("startingPosition", &starting);
    let (position_type, sequence_number, timestamp_ms) = match &starting {
        Some(starting) => (
            starting.string("Type")?,
            starting.string("SequenceNumber")?,
            starting.timestamp_ms("Timestamp")?,
        ),
        None => (None, None, None),
    };
    if starting.is_some() {
        checks.required("startingPosition.type", &position_type);
        checks.one_of(
            "startingPosition.type",
            position_type,
            &super::records::ITERATOR_TYPES,
        );
        checks.text(
            "startingPosition.sequenceNumber",
            sequence_number,
            Some(SEQUENCE_NUMBER),
            (0, usize::MAX),
        );
    }
    super::check_stream_id(&fields, &mut checks)?;
    checks.finish()?;
    let (consumer_arn, shard_text) = (
        consumer_arn.unwrap_or_default(),
        shard_id.unwrap_or_default(),
    );
    let engine = context.engine;
    let (stream, consumer) = engine
        .consumer_by_arn(consumer_arn)
        .map_err(ApiError::from)?;
    let shard_not_found = || {
        ApiError::client(
            "ResourceNotFoundException",
            format!(
                "Shard {shard_text} in stream {} under account {} does not exist",
                stream.name(),
                engine.account_id()
            ),
        )
    };
    let shard: ShardId = shard_text.parse().map_err(|_| shard_not_found())?;
    let position = starting_position(
        position_type.unwrap_or_default(),
        sequence_number,
        timestamp_ms,
    )?;
    if SUBSCRIPTIONS_LIVE.fetch_add(1, Ordering::AcqRel) >= SUBSCRIPTIONS_MAX {
        SUBSCRIPTIONS_LIVE.fetch_sub(1, Ordering::AcqRel);
        return Err(ApiError::client(
            "LimitExceededException",
            format!("The server serves at most {SUBSCRIPTIONS_MAX} subscriptions at once."),
        ));
    }
    let slot = LiveSlot;
    let subscription = stream
        .subscribe(&consumer.name, shard, position)
        .map_err(ApiError::from)?;
    let (sender, feed) = mpsc::channel(1);
    let producer = Producer {
        subscription,
        sender,
        protocol: context.protocol,
        _slot: slot,
    };
    std::thread::Builder::new()
        .name("subscription".to_owned())
        .spawn(move || producer.run())
        .map_err(|error| {
            tracing::error!(%error, "cannot start a subscription thread");
            ApiError::internal()
        })?;
    #[derive(Serialize)]
    struct InitialResponse {}
    let initial = message(
        context.protocol,
        &[(":event-type", "initial-response")],
        &context.protocol.encode(&InitialResponse {}),
    );
    Ok(Reply {
        body: initial,
        stream: Some(stream.name().as_str().to_owned()),
        events: Some(feed),
    })
}

/// The typed starting position, checked for the combinations Kinesis refuses.
fn starting_position(
    position_type: &str,
    sequence_number: Option<&str>,
    timestamp_ms: Option<u64>,
) -> Result<StartingPosition, ApiError> {
    let sequence = |text: Option<&str>| -> Result<SequenceNumber, ApiError> {
        let text = text.ok_or_else(|| {
            ApiError::invalid_argument(format!(
                "StartingPosition of type {position_type} must specify a SequenceNumber."
            ))
        })?;
        text.parse().map_err(|_| {
            ApiError::invalid_argument(format!("Invalid StartingSequenceNumber {text}."))
        })
    };
    Ok(match position_type {
        "AT_SEQUENCE_NUMBER" => StartingPosition::AtSequenceNumber(sequence(sequence_number)?),
        "AFTER_SEQUENCE_NUMBER" => {
            StartingPosition::AfterSequenceNumber(sequence(sequence_number)?)
        }
        "TRIM_HORIZON" => StartingPosition::TrimHorizon,
        "LATEST" => StartingPosition::Latest,
        _ => StartingPosition::AtTimestamp(timestamp_ms.ok_or_else(|| {
            ApiError::invalid_argument(
                "StartingPosition of type AT_TIMESTAMP must specify a Timestamp.",
            )
        })?),
    })
}

/// Counts a subscription in [`SUBSCRIPTIONS_LIVE`] until dropped.
struct LiveSlot;

impl Drop for LiveSlot {
    fn drop(&mut self) {
        SUBSCRIPTIONS_LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The thread that turns a subscription's events into messages.
struct Producer {
    subscription: Subscription,
    sender: mpsc::Sender<Bytes>,
    protocol: Protocol,
    _slot: LiveSlot,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventOut<'a> {
    records: Vec<RecordOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuation_sequence_number: Option<Text<SequenceNumber>>,
    millis_behind_latest: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShardOut>>,
}

impl Producer {
    /// Sends events until the subscription ends, fails, or the client goes away. Dropping the
    /// subscription at the end frees the consumer's place.
    fn run(mut self) {
        loop {
            if self.sender.is_closed() {
                return;
            }
            let (bytes, last) = match self.subscription.next_event(HEARTBEAT) {
                Ok(Some(event)) => {
                    let last = event.child_shards.is_some();
                    (self.event_message(&event), last)
                }
                Ok(None) => return,
                Err(error) => (self.exception_message(error), true),
            };
            if self.sender.blocking_send(Bytes::from(bytes)).is_err() || last {
                return;
            }
        }
    }

    fn event_message(&self, event: &SubscriptionEvent) -> Vec<u8> {
        let out = EventOut {
            records: RecordOut::all(&event.records),
            continuation_sequence_number: event.continuation_sequence_number.map(Text),
            millis_behind_latest: event.millis_behind_latest,
            child_shards: event
                .child_shards
                .as_ref()
                .map(|children| children.iter().map(ChildShardOut::from).collect()),
        };
        let capacity = RecordOut::encoded_capacity(&event.records);
        message(
            self.protocol,
            &[(":event-type", "SubscribeToShardEvent")],
            &self.protocol.encode_with_capacity(&out, capacity),
        )
    }

    fn exception_message(&self, error: SubscriptionError) -> Vec<u8> {
        let error = ApiError::from(error);
        let headers = [
            (":message-type", "exception"),
            (":exception-type", error.kind),
            (":content-type", payload_type(self.protocol)),
        ];
        event_stream::encode(&headers, &self.protocol.error_body(&error))
    }
}

/// An event message of `event_type` with `payload`.
fn message(protocol: Protocol, headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut all = vec![(":message-type", "event")];
    all.extend_from_slice(headers);
    all.push((":content-type", payload_type(protocol)));
    event_stream::encode(&all, payload)
}

/// The `:content-type` of an event's payload.
fn payload_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Json => "application/json",
        Protocol::Cbor => "application/cbor",
    }
}
