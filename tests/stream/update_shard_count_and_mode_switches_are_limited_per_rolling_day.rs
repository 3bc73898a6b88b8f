//! Kinesis allows UpdateShardCount 10 times and UpdateStreamMode 2 times per stream in a rolling
//! 24 hours. The engine holds streams to the same limits by default (LimitExceededException),
//! counts across a reopen, lets each use go once it is a day old, and takes no limit when told so.

use crate::support::engine::{HOUR_MS, assert_error, clock, open, options};
use shardlog::{CreateStream, StreamMode};

const DAY_MS: u64 = 24 * HOUR_MS;

#[test]
fn the_eleventh_update_shard_count_in_a_day_is_refused_until_the_first_is_a_day_old() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("scaled", 1))
        .unwrap();
    for call in 0..10u64 {
        stream.update_shard_count(2 - (call % 2) as u32).unwrap();
        clock.advance_ms(HOUR_MS);
    }
    let refused = "UpdateShardCount has been called 10 times for stream scaled under account \
                   000000000000 in the last 24 hours, the most allowed.";
    assert_error(
        stream.update_shard_count(2),
        "LimitExceededException",
        refused,
    );

    drop(stream);
    drop(engine);
    let engine = open(dir.path(), &options(&clock));
    let stream = engine.stream("scaled").unwrap();
    assert_error(
        stream.update_shard_count(2),
        "LimitExceededException",
        refused,
    );
    assert_eq!(
        stream.open_shard_count(),
        1,
        "a refused call changes nothing"
    );

    // The first call was at START; the clock is at START + 10 h.
    clock.advance_ms(DAY_MS - 10 * HOUR_MS - 1);
    assert_error(
        stream.update_shard_count(2),
        "LimitExceededException",
        refused,
    );
    clock.advance_ms(1);
    stream.update_shard_count(2).unwrap();
    assert_eq!(stream.open_shard_count(), 2);
    assert_error(
        stream.update_shard_count(1),
        "LimitExceededException",
        refused,
    );
    clock.advance_ms(HOUR_MS);
    stream.update_shard_count(1).unwrap();
}

#[test]
fn a_third_mode_switch_in_a_day_is_refused_and_setting_the_same_mode_is_not_a_switch() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    engine
        .create_stream(CreateStream::provisioned("switched", 2))
        .unwrap();
    let switch = |mode| engine.update_stream_mode("switched", mode);
    switch(StreamMode::OnDemand).unwrap();
    switch(StreamMode::OnDemand).unwrap();
    clock.advance_ms(12 * HOUR_MS);
    switch(StreamMode::Provisioned).unwrap();
    let refused = "The capacity mode of stream switched under account 000000000000 has been \
                   switched 2 times in the last 24 hours, the most allowed.";
    assert_error(
        switch(StreamMode::OnDemand),
        "LimitExceededException",
        refused,
    );
    switch(StreamMode::Provisioned).unwrap();
    let mode = || engine.stream("switched").unwrap().meta().mode;
    assert_eq!(mode(), StreamMode::Provisioned);

    clock.advance_ms(12 * HOUR_MS);
    switch(StreamMode::OnDemand).unwrap();
    assert_error(
        switch(StreamMode::Provisioned),
        "LimitExceededException",
        refused,
    );
    assert_eq!(mode(), StreamMode::OnDemand);
}

#[test]
fn without_limits_a_stream_scales_and_switches_as_often_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    options.limits.shard_count_updates_per_day = None;
    options.limits.mode_switches_per_day = None;
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("free", 1))
        .unwrap();
    for call in 0..30u32 {
        stream.update_shard_count(2 - call % 2).unwrap();
    }
    for switch in 0..10 {
        let mode = [StreamMode::OnDemand, StreamMode::Provisioned][switch % 2];
        engine.update_stream_mode("free", mode).unwrap();
    }
    assert!(stream.meta().shard_count_updates_ms.is_empty());
    assert!(stream.meta().mode_switches_ms.is_empty());
}
