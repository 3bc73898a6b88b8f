//! CreateStream tags follow Kinesis' limits (docs/KINESIS.md §6.1, §6.3): at most 50 tags per stream,
//! keys of 1–128 characters, values of 0–256 characters. A request outside them fails (the
//! reference does not give the exact exception, so either ValidationException or
//! InvalidArgumentException is accepted) and creates nothing; requests at the limits succeed and
//! their tags survive a reopen.

use std::collections::BTreeMap;

use crate::support::engine::{clock, open, options};
use shardlog::CreateStream;

fn with_tags(name: &str, tags: BTreeMap<String, String>) -> CreateStream {
    CreateStream {
        tags,
        ..CreateStream::provisioned(name, 1)
    }
}

fn numbered(count: usize) -> BTreeMap<String, String> {
    (0..count)
        .map(|i| (format!("key-{i}"), format!("value-{i}")))
        .collect()
}

#[test]
fn tags_outside_the_limits_are_rejected_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let one = |key: String, value: String| BTreeMap::from([(key, value)]);
    let bad = [
        ("51 tags", numbered(51)),
        ("an empty key", one(String::new(), "v".to_owned())),
        ("a 129-character key", one("k".repeat(129), "v".to_owned())),
        (
            "a 257-character value",
            one("k".to_owned(), "v".repeat(257)),
        ),
        (
            "a 129-character non-ASCII key",
            one("é".repeat(129), String::new()),
        ),
    ];
    for (what, tags) in bad {
        match engine.create_stream(with_tags("tagged", tags)) {
            Ok(_) => panic!("a stream with {what} was created"),
            Err(error) => assert!(
                matches!(
                    error.kinesis_error_code(),
                    "ValidationException" | "InvalidArgumentException"
                ),
                "{what}: {error}"
            ),
        }
        assert!(engine.stream("tagged").is_err(), "{what}");
        assert!(
            !dir.path().join("streams").join("tagged").exists(),
            "{what}"
        );
    }
}

#[test]
fn tags_at_the_limits_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let mut at_limits = numbered(48);
    at_limits.insert("k".repeat(128), "v".repeat(256));
    at_limits.insert("é".repeat(128), String::new());
    assert_eq!(at_limits.len(), 50);
    let stream = engine
        .create_stream(with_tags("tagged", at_limits.clone()))
        .unwrap();
    assert_eq!(stream.meta().tags, at_limits);
    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    assert_eq!(engine.stream("tagged").unwrap().meta().tags, at_limits);
}
