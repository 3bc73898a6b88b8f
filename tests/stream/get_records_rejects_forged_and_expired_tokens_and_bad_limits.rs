//! GetRecords only accepts tokens this engine issued, unaltered, for five minutes (docs/KINESIS.md §4.1,
//! §7.5): anything else is `InvalidArgumentException` "Invalid ShardIterator.", an old token is
//! `ExpiredIteratorException` with the Java-date message, and a limit outside 1–10000 is a
//! `ValidationException` (docs/KINESIS.md §4.2).

use std::sync::Arc;

use crate::support::engine::{assert_error, clock, open, options, validation_message};
use shardlog::{CreateStream, ManualClock, PutRecordInput, ShardId, StartingPosition};

const INVALID: &str = "Invalid ShardIterator.";

#[test]
fn forged_altered_and_foreign_tokens_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("tokens", 1))
        .unwrap();
    stream
        .put_record(PutRecordInput::new("a", b"secret"))
        .unwrap();
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    assert!(
        token.len() <= 512 && !token.is_empty(),
        "{} characters",
        token.len()
    );
    assert_eq!(
        engine.get_records(&token, 10).unwrap().batch.records.len(),
        1
    );

    let flip = |at: usize| {
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    };
    let mut forged = vec![
        String::new(),
        "garbage".to_owned(),
        "00".to_owned(),
        "0".repeat(token.len()),
        "z".repeat(token.len()),
        "0".repeat(600),
        token[..token.len() - 2].to_owned(),
        token[2..].to_owned(),
        format!("{token}00"),
        format!("00{token}"),
        format!("{token} "),
    ];
    for at in [
        0,
        1,
        token.len() / 3,
        token.len() / 2,
        token.len() - 33,
        token.len() - 1,
    ] {
        forged.push(flip(at));
    }
    for text in &forged {
        assert_error(
            engine.get_records(text, 10),
            "InvalidArgumentException",
            INVALID,
        );
    }

    // A token from another engine (another secret key) for a stream of the same name and shape.
    let other_dir = tempfile::tempdir().unwrap();
    let other_engine = open(other_dir.path(), &options(&clock));
    let other_stream = other_engine
        .create_stream(CreateStream::provisioned("tokens", 1))
        .unwrap();
    let foreign = other_stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    assert!(other_engine.get_records(&foreign, 10).is_ok());
    assert_error(
        engine.get_records(&foreign, 10),
        "InvalidArgumentException",
        INVALID,
    );
    assert_error(
        other_engine.get_records(&token, 10),
        "InvalidArgumentException",
        INVALID,
    );

    // The genuine token still works after all that.
    assert_eq!(
        engine.get_records(&token, 10).unwrap().batch.records[0].data(),
        b"secret"
    );
}

#[test]
fn a_token_expires_five_minutes_after_it_was_issued() {
    // Thu Jan 22 01:22:02 UTC 2015, the time in the reference's example message.
    let issued_ms = 1_421_889_722_000;
    let clock = Arc::new(ManualClock::new(issued_ms));
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("ageing", 1))
        .unwrap();
    stream.put_record(PutRecordInput::new("a", b"x")).unwrap();
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();

    clock.advance_ms(300_000);
    let output = engine.get_records(&token, 10).unwrap();
    assert_eq!(
        output.batch.records.len(),
        1,
        "exactly five minutes old is still valid"
    );
    let fresh = output.next_shard_iterator.unwrap();

    clock.advance_ms(1);
    assert_error(
        engine.get_records(&token, 10),
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created at time Thu Jan 22 01:22:02 UTC 2015 while \
         right now it is Thu Jan 22 01:27:02 UTC 2015 which is further in the future than the \
         tolerated delay of 300000 milliseconds.",
    );
    // The next iterator handed out at 01:27:02 is new, and so still valid.
    assert!(
        engine
            .get_records(&fresh, 10)
            .unwrap()
            .batch
            .records
            .is_empty()
    );

    // Expiry is checked on the token's issue time, also across a reopen and days later.
    drop(stream);
    drop(engine);
    clock.set_ms(issued_ms + 86_400_000 + 5_000);
    let engine = open(dir.path(), &options(&clock));
    assert_error(
        engine.get_records(&token, 10),
        "ExpiredIteratorException",
        "Iterator expired. The iterator was created at time Thu Jan 22 01:22:02 UTC 2015 while \
         right now it is Fri Jan 23 01:22:07 UTC 2015 which is further in the future than the \
         tolerated delay of 300000 milliseconds.",
    );
    // An altered token is invalid rather than expired.
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    assert_error(
        engine.get_records(&String::from_utf8(altered).unwrap(), 10),
        "InvalidArgumentException",
        INVALID,
    );
}

#[test]
fn a_limit_outside_1_to_10000_is_a_validation_error() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("limits", 1))
        .unwrap();
    for i in 0..3 {
        stream
            .put_record(PutRecordInput::new("a", format!("{i}").as_bytes()))
            .unwrap();
    }
    let token = stream
        .shard_iterator(ShardId::new(0), StartingPosition::TrimHorizon)
        .unwrap();
    assert_error(
        engine.get_records(&token, 0),
        "ValidationException",
        &validation_message("0", "limit", "have value greater than or equal to 1"),
    );
    assert_error(
        engine.get_records(&token, 10_001),
        "ValidationException",
        &validation_message("10001", "limit", "have value less than or equal to 10000"),
    );
    assert_error(
        engine.get_records(&token, usize::MAX),
        "ValidationException",
        &validation_message(
            &usize::MAX.to_string(),
            "limit",
            "have value less than or equal to 10000",
        ),
    );
    assert_eq!(
        engine.get_records(&token, 1).unwrap().batch.records.len(),
        1
    );
    assert_eq!(
        engine
            .get_records(&token, 10_000)
            .unwrap()
            .batch
            .records
            .len(),
        3
    );
}
