//! `SequenceNumberForOrdering` (docs/KINESIS.md §2.1, §7.5): a record put with the previous record's
//! sequence number gets a larger one. A number the shard cannot honour (one it never handed out,
//! larger than anything it will hand out soon) must be refused with InvalidArgumentException
//! "ExclusiveMinimumSequenceNumber <s> used in PutRecord on stream <name> under account <acct> is
//! invalid." or honoured; the call must never panic or return a smaller number.

use crate::support::engine::{ACCOUNT, assert_error, clock, open, options};
use shardlog::{CreateStream, PutRecordInput, SequenceNumber};

#[test]
fn chained_puts_get_increasing_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("ordered", 2))
        .unwrap();
    let mut previous = None;
    for i in 0..20u8 {
        if i.is_multiple_of(5) {
            clock.advance_ms(1_000);
        }
        let put = stream
            .put_record(PutRecordInput {
                sequence_number_for_ordering: previous,
                ..PutRecordInput::new("the same key", &[i])
            })
            .unwrap();
        if let Some(previous) = previous {
            assert!(put.sequence_number > previous);
        }
        previous = Some(put.sequence_number);
    }
    // A number from another shard constrains nothing, and is not an error.
    let other = stream
        .put_record(PutRecordInput {
            sequence_number_for_ordering: previous,
            ..PutRecordInput::new("a", b"elsewhere")
        })
        .unwrap();
    assert_ne!(
        Some(other.shard_id.index()),
        previous.map(|p| p.shard_index())
    );
}

#[test]
fn malformed_text_is_refused_with_the_kinesis_message() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("ordered", 1))
        .unwrap();
    let put = stream.put_record(PutRecordInput::new("k", b"x")).unwrap();
    assert_eq!(
        stream
            .parse_sequence_number_for_ordering(&put.sequence_number.to_string())
            .unwrap(),
        put.sequence_number
    );
    for text in ["", "abc", "01", "-5", "12345", &"9".repeat(130)] {
        assert_error(
            stream.parse_sequence_number_for_ordering(text),
            "InvalidArgumentException",
            &format!(
                "ExclusiveMinimumSequenceNumber {text} used in PutRecord on stream ordered under \
                 account {ACCOUNT} is invalid."
            ),
        );
    }
}

#[test]
fn a_number_beyond_what_the_shard_handed_out_is_refused_or_honoured_never_broken() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("ordered", 1))
        .unwrap();
    let first = stream.put_record(PutRecordInput::new("k", b"x")).unwrap();
    let identity = first.sequence_number.shard();
    let far = SequenceNumber::new(
        identity,
        SequenceNumber::COUNTER_MAX - 1,
        first.sequence_number.arrival_secs(),
    )
    .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stream.put_record(PutRecordInput {
            sequence_number_for_ordering: Some(far),
            ..PutRecordInput::new("k", b"y")
        })
    }));
    match outcome {
        Err(_) => panic!("put_record panicked on a SequenceNumberForOrdering it cannot honour"),
        Ok(Ok(put)) => assert!(
            put.sequence_number > far,
            "acknowledged {} although it is not above the requested minimum {far}",
            put.sequence_number
        ),
        Ok(Err(error)) => {
            assert_eq!(error.kinesis_error_code(), "InvalidArgumentException");
            assert_eq!(
                error.to_string(),
                format!(
                    "ExclusiveMinimumSequenceNumber {far} used in PutRecord on stream ordered \
                     under account {ACCOUNT} is invalid."
                )
            );
        }
    }
}
