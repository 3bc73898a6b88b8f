//! Tags, capacity mode, largest record size and enhanced monitoring: each change follows Kinesis'
//! rules, takes effect at once and survives an engine reopen; the engine's stream limits refuse
//! with LimitExceededException.

use std::collections::BTreeMap;

use crate::support::engine::{assert_error, clock, error_of, open, options};
use shardlog::engine::EngineLimits;
use shardlog::{CreateStream, PutRecordInput, StreamMode, StreamStatus};

#[test]
fn settings_change_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.update_delay_ms = 1000;
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::on_demand("tuned"))
        .unwrap();

    let tags: BTreeMap<String, String> = (0..49)
        .map(|i| (format!("key-{i}"), format!("value {i}")))
        .collect();
    stream.add_tags(tags).unwrap();
    stream
        .add_tags([("key-0".to_owned(), "overwritten".to_owned())].into())
        .unwrap();
    stream
        .remove_tags(&["key-1".to_owned(), "never-there".to_owned()])
        .unwrap();
    assert_eq!(stream.tags().len(), 48);
    assert_eq!(stream.tags()["key-0"], "overwritten");
    stream
        .add_tags(
            [
                ("x".to_owned(), String::new()),
                ("y".to_owned(), String::new()),
            ]
            .into(),
        )
        .unwrap();
    assert_error(
        stream.add_tags([("z".to_owned(), String::new())].into()),
        "InvalidArgumentException",
        "Failed to add tags to stream tuned under account 000000000000 because a given stream \
         cannot have more than 10 tags associated with it.",
    );
    assert_eq!(stream.tags().len(), 50, "a refused change changes nothing");
    // One call may carry more than a stream holds (the model allows 200 a request): the answer
    // is the same InvalidArgumentException, not a validation error.
    let many: BTreeMap<String, String> = (0..51)
        .map(|i| (format!("many-{i}"), String::new()))
        .collect();
    error_of(stream.add_tags(many), "InvalidArgumentException");

    engine
        .update_stream_mode("tuned", StreamMode::Provisioned)
        .unwrap();
    assert_eq!(stream.status(), StreamStatus::Updating);
    clock.advance_ms(1000);
    assert_eq!(stream.status(), StreamStatus::Active);
    assert_eq!(stream.describe(None, None).unwrap().open_shard_count, 4);

    let big = vec![7u8; 2 * 1024 * 1024];
    error_of(
        stream.put_record(PutRecordInput::new("k", &big)),
        "ValidationException",
    );
    stream.update_max_record_size(3072).unwrap();
    let output = stream.put_record(PutRecordInput::new("k", &big)).unwrap();
    assert_error(
        stream.update_max_record_size(20_000),
        "ValidationException",
        "MaxRecordSizeInKiB 20000 is outside the allowed range 1024-10240.",
    );

    let monitoring = stream
        .enable_enhanced_monitoring(&["IncomingBytes", "OutgoingRecords"])
        .unwrap();
    assert!(monitoring.current.is_empty());
    assert_eq!(monitoring.desired, vec!["IncomingBytes", "OutgoingRecords"]);
    let monitoring = stream
        .disable_enhanced_monitoring(&["IncomingBytes"])
        .unwrap();
    assert_eq!(monitoring.desired, vec!["OutgoingRecords"]);
    error_of(
        stream.enable_enhanced_monitoring(&["Nonsense"]),
        "ValidationException",
    );

    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options);
    let stream = engine.stream("tuned").unwrap();
    let meta = stream.meta();
    assert_eq!(meta.tags.len(), 50);
    assert_eq!(meta.mode, StreamMode::Provisioned);
    assert_eq!(meta.max_record_size_kib, 3072);
    assert_eq!(
        stream.describe(None, None).unwrap().shard_level_metrics,
        vec!["OutgoingRecords"]
    );
    let reader_shard = output.shard_id;
    let records = crate::support::engine::read_typed(
        &stream,
        reader_shard,
        shardlog::StartingPosition::TrimHorizon,
        10,
    );
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].data().len(),
        big.len(),
        "the big record survives"
    );
    stream.put_record(PutRecordInput::new("k", &big)).unwrap();
}

#[test]
fn engine_limits_refuse_streams_beyond_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.limits = EngineLimits {
        max_streams: 3,
        max_on_demand_streams: 1,
        max_shards_per_stream: 4,
        ..EngineLimits::default()
    };
    let engine = open(dir.path(), &options);
    engine
        .create_stream(CreateStream::on_demand("one"))
        .unwrap();
    assert_error(
        engine.create_stream(CreateStream::on_demand("two")),
        "LimitExceededException",
        "This request would exceed the limit of 1 on-demand streams for the account \
         000000000000 in us-east-1.",
    );
    error_of(
        engine.create_stream(CreateStream::provisioned("wide", 5)),
        "LimitExceededException",
    );
    let second = engine
        .create_stream(CreateStream::provisioned("two", 4))
        .unwrap();
    error_of(second.update_shard_count(5), "LimitExceededException");
    error_of(
        engine.update_stream_mode("two", StreamMode::OnDemand),
        "LimitExceededException",
    );
    engine
        .create_stream(CreateStream::provisioned("three", 1))
        .unwrap();
    assert_error(
        engine.create_stream(CreateStream::provisioned("four", 1)),
        "LimitExceededException",
        "This request would exceed the limit of 3 streams for the account 000000000000 in \
         us-east-1.",
    );
    let limits = engine.describe_limits();
    assert_eq!(limits.open_shard_count, 9);
    assert_eq!(limits.on_demand_stream_count, 1);
    assert_eq!(limits.on_demand_stream_count_limit, 1);
    engine.delete_stream("two").unwrap();
    assert_eq!(engine.describe_limits().open_shard_count, 5);
}
