//! A push subscription (the library's SubscribeToShard) delivers a record appended while the
//! subscriber waits as soon as it is appended, not when the wait times out; starts at each of the
//! five starting positions, and its continuation sequence number resumes exactly after what it
//! delivered; ends a closed shard with its children; and keeps Kinesis' rules: one live
//! subscription per consumer and shard (refused within 5 seconds, taken over after), ACTIVE
//! consumers only, five minutes of life.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::engine::{clock, open, options};
use shardlog::stream::{
    ChildShard, SUBSCRIPTION_LIFETIME_MS, SUBSCRIPTION_TAKEOVER_MS, Subscription,
    SubscriptionError, SubscriptionEvent,
};
use shardlog::{
    Clock, CreateStream, Engine, ManualClock, PutRecordInput, SequenceNumber, ShardId,
    StartingPosition, Stream,
};

/// Long enough that an event arriving by timeout instead of by wake-up cannot be mistaken for one
/// that was pushed.
const WAIT: Duration = Duration::from_secs(60);
const SHARD: ShardId = ShardId::new(0);

fn stream_with_consumer(dir: &std::path::Path, clock: &Arc<ManualClock>) -> (Engine, Arc<Stream>) {
    let mut options = options(clock);
    options.consumer_delay_ms = Some(0);
    let engine = open(dir, &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("fan-out", 1))
        .unwrap();
    stream.register_consumer("app", BTreeMap::new()).unwrap();
    (engine, stream)
}

fn put(stream: &Stream, data: &str) -> SequenceNumber {
    stream
        .put_record(PutRecordInput::new("key", data.as_bytes()))
        .unwrap()
        .sequence_number
}

fn data_of(event: &SubscriptionEvent) -> Vec<String> {
    event
        .records
        .iter()
        .map(|record| String::from_utf8(record.data().to_vec()).unwrap())
        .collect()
}

/// Everything ready now, by events that do not wait.
fn drain(subscription: &mut Subscription) -> (Vec<String>, Option<SequenceNumber>) {
    let mut data = Vec::new();
    loop {
        let event = subscription
            .next_event(Duration::ZERO)
            .unwrap()
            .expect("the subscription is live");
        if event.records.is_empty() {
            return (data, event.continuation_sequence_number);
        }
        data.extend(data_of(&event));
    }
}

#[test]
fn a_record_appended_while_the_subscriber_waits_is_pushed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (_engine, stream) = stream_with_consumer(dir.path(), &clock);
    let mut subscription = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();
    let subscriber = thread::spawn(move || {
        let started = Instant::now();
        let event = subscription.next_event(WAIT).unwrap().unwrap();
        (event, started.elapsed())
    });
    // Give the subscriber time to block; the record is appended while it waits.
    thread::sleep(Duration::from_millis(200));
    let number = put(&stream, "pushed");
    let (event, waited) = subscriber.join().unwrap();
    assert_eq!(data_of(&event), ["pushed"]);
    assert_eq!(event.continuation_sequence_number, Some(number));
    assert_eq!(event.millis_behind_latest, 0);
    assert!(
        waited < WAIT / 2,
        "delivered by the append's wake-up, not by the {WAIT:?} timeout (waited {waited:?})"
    );
}

/// Deregistering a consumer ends a subscription blocked waiting for records at once, not when
/// its wait times out (its place is taken with the registration).
#[test]
fn deregistering_the_consumer_ends_a_waiting_subscription_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (_engine, stream) = stream_with_consumer(dir.path(), &clock);
    let mut subscription = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();
    let subscriber = thread::spawn(move || {
        let started = Instant::now();
        let ended = subscription.next_event(WAIT);
        (ended, started.elapsed())
    });
    // Give the subscriber time to block; the consumer goes while it waits.
    thread::sleep(Duration::from_millis(200));
    stream.deregister_consumer("app").unwrap();
    let (ended, waited) = subscriber.join().unwrap();
    assert!(
        matches!(ended, Err(SubscriptionError::Consumer(_))),
        "{ended:?}"
    );
    assert!(
        waited < WAIT / 2,
        "ended by the deregistration's wake-up, not by the {WAIT:?} timeout (waited {waited:?})"
    );
}

#[test]
fn every_starting_position_starts_where_get_shard_iterator_would() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (_engine, stream) = stream_with_consumer(dir.path(), &clock);
    let mut numbers = Vec::new();
    let mut arrivals = Vec::new();
    for i in 0..5 {
        clock.advance_ms(1000);
        arrivals.push(clock.now_ms());
        numbers.push(put(&stream, &format!("r{i}")));
    }
    let from = |position| {
        let mut subscription = stream.subscribe("app", SHARD, position).unwrap();
        drain(&mut subscription)
    };

    let (all, last) = from(StartingPosition::TrimHorizon);
    assert_eq!(all, ["r0", "r1", "r2", "r3", "r4"]);
    assert_eq!(last, Some(numbers[4]));
    assert_eq!(
        from(StartingPosition::AtSequenceNumber(numbers[2])).0,
        ["r2", "r3", "r4"]
    );
    assert_eq!(
        from(StartingPosition::AfterSequenceNumber(numbers[2])).0,
        ["r3", "r4"]
    );
    assert_eq!(
        from(StartingPosition::AtTimestamp(arrivals[3])).0,
        ["r3", "r4"]
    );
    let (nothing, before_next) = from(StartingPosition::Latest);
    assert!(nothing.is_empty());

    // An empty event's continuation still resumes exactly at the next record.
    put(&stream, "r5");
    let resumed = from(StartingPosition::AfterSequenceNumber(before_next.unwrap())).0;
    assert_eq!(resumed, ["r5"]);
}

#[test]
fn a_closed_shard_ends_with_its_children_and_wakes_a_waiting_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (_engine, stream) = stream_with_consumer(dir.path(), &clock);
    put(&stream, "before the split");
    let mut subscription = stream
        .subscribe("app", SHARD, StartingPosition::TrimHorizon)
        .unwrap();
    let first = subscription.next_event(WAIT).unwrap().unwrap();
    assert_eq!(data_of(&first), ["before the split"]);
    assert!(first.child_shards.is_none());

    let subscriber = thread::spawn(move || {
        let started = Instant::now();
        let last = subscription.next_event(WAIT).unwrap().unwrap();
        let after = subscription.next_event(WAIT).unwrap();
        (last, after.is_none(), started.elapsed())
    });
    thread::sleep(Duration::from_millis(200));
    let half = (1u128 << 127).to_string();
    stream.split_shard("shardId-000000000000", &half).unwrap();
    let (last, ended, waited) = subscriber.join().unwrap();

    assert!(last.records.is_empty());
    assert_eq!(last.continuation_sequence_number, None);
    let children: Vec<ChildShard> = last.child_shards.expect("the closed shard's children");
    let ids: Vec<String> = children.iter().map(|c| c.shard_id.to_string()).collect();
    assert_eq!(ids, ["shardId-000000000001", "shardId-000000000002"]);
    assert!(children.iter().all(|child| child.parent_shards == [SHARD]));
    assert!(ended, "the subscription ends after the children");
    assert!(
        waited < WAIT / 2,
        "closing the shard wakes the subscriber (waited {waited:?})"
    );
}

#[test]
fn one_live_subscription_per_consumer_and_shard_taken_over_after_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (_engine, stream) = stream_with_consumer(dir.path(), &clock);
    let mut first = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();

    clock.advance_ms(SUBSCRIPTION_TAKEOVER_MS - 1);
    let refused = stream.subscribe("app", SHARD, StartingPosition::Latest);
    assert!(
        matches!(refused, Err(SubscriptionError::InUse { .. })),
        "{:?}",
        refused.err()
    );
    assert_eq!(
        refused.err().unwrap().kinesis_error_code(),
        "ResourceInUseException"
    );
    // Another consumer of the same shard is another subscription.
    stream.register_consumer("other", BTreeMap::new()).unwrap();
    let _other = stream
        .subscribe("other", SHARD, StartingPosition::Latest)
        .unwrap();

    // After five seconds a new subscription takes over, and the old one, waiting, ends at once.
    clock.advance_ms(1);
    let waiting = thread::spawn(move || {
        let started = Instant::now();
        let outcome = first.next_event(WAIT);
        (outcome.map(|_| ()), started.elapsed())
    });
    thread::sleep(Duration::from_millis(200));
    let second = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();
    let (outcome, waited) = waiting.join().unwrap();
    assert!(
        matches!(outcome, Err(SubscriptionError::TakenOver { .. })),
        "{outcome:?}"
    );
    assert!(
        waited < WAIT / 2,
        "the takeover woke it (waited {waited:?})"
    );

    // Dropping a subscription frees its place at once.
    drop(second);
    let mut third = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();

    // Five minutes later it ends.
    clock.advance_ms(SUBSCRIPTION_LIFETIME_MS);
    assert!(third.next_event(WAIT).unwrap().is_none());
}

#[test]
fn only_registered_active_consumers_subscribe() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.consumer_delay_ms = Some(1000);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("fan-out", 1))
        .unwrap();
    let unknown = stream.subscribe("nobody", SHARD, StartingPosition::Latest);
    assert_eq!(
        unknown.err().unwrap().kinesis_error_code(),
        "ResourceNotFoundException"
    );
    stream.register_consumer("app", BTreeMap::new()).unwrap();
    let creating = stream.subscribe("app", SHARD, StartingPosition::Latest);
    assert!(matches!(
        creating,
        Err(SubscriptionError::ConsumerNotActive { .. })
    ));
    clock.advance_ms(1000);
    let mut live = stream
        .subscribe("app", SHARD, StartingPosition::Latest)
        .unwrap();
    let no_shard = stream.subscribe("app", ShardId::new(7), StartingPosition::Latest);
    assert_eq!(
        no_shard.err().unwrap().kinesis_error_code(),
        "ResourceNotFoundException"
    );

    // Deregistering the consumer ends its subscription.
    stream.deregister_consumer("app").unwrap();
    let ended = live.next_event(WAIT);
    assert!(
        matches!(ended, Err(SubscriptionError::ConsumerNotActive { .. })),
        "{ended:?}"
    );
}
