//! Registered stream consumers: CREATING then ACTIVE after the consumer delay, DELETING then gone
//! after deregistration (by the engine's clock); at most 20 per stream and 5 CREATING at once;
//! names unique within a stream; ARNs that carry the creation second; pages in name order with
//! expiring tokens; tags; and all of it durable across a reopen and gone with the stream.

use std::collections::BTreeMap;

use crate::support::engine::{ACCOUNT, START_MS, clock, open, options};
use shardlog::stream::{ConsumerError, ConsumerStatus};
use shardlog::{CreateStream, Engine};

fn no_tags() -> BTreeMap<String, String> {
    BTreeMap::new()
}

#[test]
fn a_consumer_is_creating_then_active_then_deleting_then_gone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.consumer_delay_ms = Some(500);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("orders", 1))
        .unwrap();

    let consumer = stream.register_consumer("billing", no_tags()).unwrap();
    assert_eq!(consumer.status, ConsumerStatus::Creating);
    assert_eq!(consumer.created_ms, START_MS);
    assert_eq!(
        consumer.arn,
        format!(
            "arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders/consumer/billing:{}",
            START_MS / 1000
        )
    );
    assert_eq!(consumer.stream_arn, stream.arn());
    clock.advance_ms(499);
    assert_eq!(
        stream.consumer("billing").unwrap().status,
        ConsumerStatus::Creating
    );
    clock.advance_ms(1);
    assert_eq!(
        stream.consumer("billing").unwrap().status,
        ConsumerStatus::Active
    );
    let (by_arn_stream, by_arn) = engine.consumer_by_arn(&consumer.arn).unwrap();
    assert_eq!(by_arn_stream.name(), stream.name());
    assert_eq!(by_arn.status, ConsumerStatus::Active);
    assert_eq!(stream.consumer_count(), 1);

    let deregistered = stream.deregister_consumer("billing").unwrap();
    assert_eq!(deregistered.status, ConsumerStatus::Deleting);
    assert_eq!(
        stream.consumer("billing").unwrap().status,
        ConsumerStatus::Deleting
    );
    // Its name stays taken while it is being deleted.
    assert!(matches!(
        stream.register_consumer("billing", no_tags()),
        Err(ConsumerError::AlreadyRegistered { .. })
    ));
    clock.advance_ms(500);
    assert!(matches!(
        stream.consumer("billing"),
        Err(ConsumerError::NotFound { .. })
    ));
    assert_eq!(stream.consumer_count(), 0);
    assert!(matches!(
        engine.consumer_by_arn(&consumer.arn),
        Err(ConsumerError::ArnNotFound { .. })
    ));

    // Registered again a second later: a new ARN, and the old one names nothing.
    clock.advance_ms(1000);
    let again = stream.register_consumer("billing", no_tags()).unwrap();
    assert_ne!(again.arn, consumer.arn);
    assert!(engine.consumer_by_arn(&again.arn).is_ok());
    assert!(engine.consumer_by_arn(&consumer.arn).is_err());
}

#[test]
fn a_stream_takes_twenty_consumers_five_creating_at_once_each_name_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.consumer_delay_ms = Some(1000);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("busy", 1))
        .unwrap();

    for batch in 0..4 {
        for i in 0..5 {
            stream
                .register_consumer(&format!("c{:02}", batch * 5 + i), no_tags())
                .unwrap();
        }
        if batch < 3 {
            // Below 20 in all, but five are CREATING.
            let sixth = stream.register_consumer("one-too-many", no_tags());
            assert!(
                matches!(sixth, Err(ConsumerError::TooManyCreating { limit: 5, .. })),
                "{sixth:?}"
            );
        }
        clock.advance_ms(1000);
    }
    let twenty_first = stream.register_consumer("c20", no_tags());
    assert!(
        matches!(
            twenty_first,
            Err(ConsumerError::TooManyConsumers { limit: 20, .. })
        ),
        "{twenty_first:?}"
    );
    let duplicate = stream.register_consumer("c00", no_tags());
    assert!(matches!(
        duplicate,
        Err(ConsumerError::AlreadyRegistered { .. })
    ));
    assert_eq!(
        duplicate.unwrap_err().kinesis_error_code(),
        "ResourceInUseException"
    );
    for bad in ["", "has space", "slash/", &"x".repeat(129)] {
        assert!(
            matches!(
                stream.register_consumer(bad, no_tags()),
                Err(ConsumerError::InvalidName { .. })
            ),
            "{bad:?}"
        );
    }
    // Each refusal names the rule the name breaks.
    for (bad, rule) in [
        ("", "have length greater than or equal to 1"),
        (
            "has space",
            "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (&"x".repeat(129), "have length less than or equal to 128"),
    ] {
        let message = stream
            .register_consumer(bad, no_tags())
            .unwrap_err()
            .to_string();
        assert!(message.contains(rule), "{bad:?}: {message}");
    }
    assert!(
        stream
            .register_consumer(&"x".repeat(128), no_tags())
            .is_err()
    );
    assert_eq!(stream.consumer_count(), 20);

    // A deregistration makes room once the consumer is gone.
    stream.deregister_consumer("c07").unwrap();
    assert!(stream.register_consumer("c20", no_tags()).is_err());
    clock.advance_ms(1000);
    stream.register_consumer("c20", no_tags()).unwrap();
}

#[test]
fn consumers_page_in_name_order_with_tokens_that_expire() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("paged", 1))
        .unwrap();
    let other = engine
        .create_stream(CreateStream::provisioned("other", 1))
        .unwrap();
    for name in ["e", "a", "d", "c", "b"] {
        stream.register_consumer(name, no_tags()).unwrap();
    }
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = stream.list_consumers(token.as_deref(), 2).unwrap();
        assert!(page.consumers.len() <= 2);
        names.extend(page.consumers.into_iter().map(|consumer| consumer.name));
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e"]);

    let first = stream.list_consumers(None, 1).unwrap();
    let token = first.next_token.unwrap();
    assert!(matches!(
        other.list_consumers(Some(&token), 1),
        Err(ConsumerError::InvalidNextToken)
    ));
    assert!(matches!(
        stream.list_consumers(Some("00ff"), 1),
        Err(ConsumerError::InvalidNextToken)
    ));
    clock.advance_ms(300_001);
    let expired = stream.list_consumers(Some(&token), 1);
    assert!(matches!(expired, Err(ConsumerError::ExpiredNextToken)));
    assert_eq!(
        expired.unwrap_err().kinesis_error_code(),
        "ExpiredNextTokenException"
    );
}

#[test]
fn consumers_and_their_tags_survive_a_reopen_and_go_with_their_stream() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.consumer_delay_ms = Some(1000);
    let arn;
    {
        let engine = open(dir.path(), &options);
        let stream = engine
            .create_stream(CreateStream::provisioned("kept", 1))
            .unwrap();
        let tags = [("team".to_owned(), "payments ü".to_owned())].into();
        arn = stream.register_consumer("app", tags).unwrap().arn;
        stream.register_consumer("leaving", no_tags()).unwrap();
        stream.deregister_consumer("leaving").unwrap();
        stream
            .add_consumer_tags("app", [("tier".to_owned(), "gold".to_owned())].into())
            .unwrap();
        stream
            .remove_consumer_tags("app", &["team".to_owned()])
            .unwrap();
    }
    let engine = open(dir.path(), &options);
    let stream = engine.stream("kept").unwrap();
    let app = stream.consumer("app").unwrap();
    assert_eq!(app.arn, arn);
    assert_eq!(app.status, ConsumerStatus::Creating);
    assert_eq!(
        stream.consumer("leaving").unwrap().status,
        ConsumerStatus::Deleting
    );
    assert_eq!(
        stream.consumer_tags("app").unwrap(),
        [("tier".to_owned(), "gold".to_owned())].into()
    );
    clock.advance_ms(1000);
    assert_eq!(
        stream.consumer("app").unwrap().status,
        ConsumerStatus::Active
    );
    assert!(stream.consumer("leaving").is_err());

    engine.delete_stream("kept").unwrap();
    assert!(matches!(
        engine.consumer_by_arn(&arn),
        Err(ConsumerError::ArnNotFound { .. })
    ));
    let recreated = engine
        .create_stream(CreateStream::provisioned("kept", 1))
        .unwrap();
    assert_eq!(recreated.consumer_count(), 0);
    drop(recreated);
    drop(stream);
    drop(engine);
    let engine = Engine::open(dir.path(), options.clone()).unwrap();
    assert!(
        engine
            .stream("kept")
            .unwrap()
            .list_consumers(None, 100)
            .unwrap()
            .consumers
            .is_empty()
    );
}

#[test]
fn consumer_tags_follow_the_stream_tag_limits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("tagged", 1))
        .unwrap();
    let tags: BTreeMap<String, String> =
        (0..50).map(|i| (format!("k{i}"), String::new())).collect();
    stream.register_consumer("app", tags).unwrap();
    let over = stream.add_consumer_tags("app", [("k50".to_owned(), String::new())].into());
    assert!(
        matches!(over, Err(ConsumerError::TooManyTags { limit: 50, .. })),
        "{over:?}"
    );
    assert_eq!(stream.consumer_tags("app").unwrap().len(), 50);
    assert!(matches!(
        stream.add_consumer_tags("nobody", BTreeMap::new()),
        Err(ConsumerError::NotFound { .. })
    ));
}
