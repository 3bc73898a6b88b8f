//! Where the per-shard limits do not apply: an engine that does not enforce them (the library
//! default), and ON_DEMAND streams even in an engine that does. Far more than a shard's budget
//! passes in one instant of a stopped clock, and nothing is counted as throttled.

use crate::support::engine::{clock, open, options, throttling_options};
use shardlog::{
    CreateStream, Engine, EngineOptions, PutRecordInput, ShardId, StartingPosition, Stream,
};

/// Writes 3 000 records and 3 MiB to shard 0 and reads it 20 times, all at one instant.
fn exceed_every_limit(engine: &Engine, stream: &Stream) {
    let key = "same-key";
    for _ in 0..3000 {
        stream.put_record(PutRecordInput::new(key, b"r")).unwrap();
    }
    let big = vec![0u8; 1024 * 1024 - key.len()];
    let entries = vec![PutRecordInput::new(key, &big); 3];
    assert_eq!(stream.put_records(&entries).unwrap().failed_record_count, 0);
    let shard = stream
        .put_record(PutRecordInput::new(key, b"r"))
        .unwrap()
        .shard_id;
    let token = stream
        .shard_iterator(shard, StartingPosition::TrimHorizon)
        .unwrap();
    for _ in 0..20 {
        engine.get_records(&token, 10_000).unwrap();
    }
    let metrics = stream.metrics().stream;
    assert_eq!(metrics.write_provisioned_throughput_exceeded, 0);
    assert_eq!(metrics.read_provisioned_throughput_exceeded, 0);
    assert_eq!(metrics.incoming_records, 3004);
    assert_eq!(metrics.get_records_success, 20);
}

#[test]
fn a_provisioned_stream_is_not_throttled_when_the_engine_does_not_enforce_limits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = options(&clock);
    assert!(!EngineOptions::default().enforce_throughput_limits);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("free", 1))
        .unwrap();
    exceed_every_limit(&engine, &stream);
}

#[test]
fn an_on_demand_stream_is_not_throttled_by_per_shard_limits() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let options = throttling_options(&clock);
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::on_demand("elastic"))
        .unwrap();
    exceed_every_limit(&engine, &stream);
    // The same engine does hold a PROVISIONED stream to them.
    let provisioned = engine
        .create_stream(CreateStream::provisioned("held", 1))
        .unwrap();
    for _ in 0..1000 {
        provisioned
            .put_record(PutRecordInput::new("k", b"r"))
            .unwrap();
    }
    assert!(
        provisioned
            .put_record(PutRecordInput::new("k", b"r"))
            .is_err()
    );
    let shard = provisioned.shard(ShardId::new(0)).unwrap();
    assert_eq!(shard.metrics().write_provisioned_throughput_exceeded, 1);
}
