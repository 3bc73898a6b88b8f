//! PutRecord and PutRecords validate each record as Kinesis does (docs/KINESIS.md §5.1, §7.4): a
//! partition key is 1–256 Unicode characters (not bytes), and data plus partition key fit the
//! stream's maximum record size (1 MiB unless the stream was created with a larger one). A rejected
//! record is a `ValidationException` and nothing is written.

use std::sync::Arc;

use crate::support::engine::{
    ACCOUNT, assert_error, clock, error_of, open, options, read_typed, shard_ids,
    validation_message,
};
use shardlog::{CreateStream, PutRecordInput, StartingPosition, Stream};

const MIB: usize = 1024 * 1024;

fn total_records(stream: &Arc<Stream>) -> usize {
    shard_ids(stream)
        .into_iter()
        .map(|shard| read_typed(stream, shard, StartingPosition::TrimHorizon, 100).len())
        .sum()
}

#[test]
fn partition_keys_must_be_1_to_256_characters() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::on_demand("keys"))
        .unwrap();

    assert_error(
        stream.put_record(PutRecordInput::new("", b"data")),
        "ValidationException",
        &validation_message("", "partitionKey", "have length greater than or equal to 1"),
    );
    for long in ["k".repeat(257), "é".repeat(257), "😀".repeat(257)] {
        assert_error(
            stream.put_record(PutRecordInput::new(&long, b"data")),
            "ValidationException",
            &validation_message(
                &long,
                "partitionKey",
                "have length less than or equal to 256",
            ),
        );
    }
    assert_eq!(
        total_records(&stream),
        0,
        "rejected records are not written"
    );

    // 256 characters are fine however many bytes they take (up to 4 × 256 = 1024 bytes).
    let accepted = [
        "k".repeat(256),
        "é".repeat(256),
        "😀".repeat(256),
        "日本語キー".to_owned(),
    ];
    for key in &accepted {
        let put = stream
            .put_record(PutRecordInput::new(key, key.as_bytes()))
            .unwrap_or_else(|error| panic!("{} chars rejected: {error}", key.chars().count()));
        let mut reader = stream
            .reader(
                put.shard_id,
                StartingPosition::AtSequenceNumber(put.sequence_number),
            )
            .unwrap();
        let record = reader.next_batch(1).unwrap().records.remove(0);
        assert_eq!(record.partition_key(), key);
        assert_eq!(record.data(), key.as_bytes());
        assert_eq!(record.sequence_number(), put.sequence_number);
    }
    assert_eq!(total_records(&stream), accepted.len());
}

#[test]
fn data_plus_partition_key_must_fit_the_default_one_mebibyte() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::provisioned("sizes", 1))
        .unwrap();
    assert_eq!(stream.meta().max_record_size_kib, 1024);

    // Exactly 1 MiB of data plus key is accepted.
    let data = vec![7u8; MIB - 2];
    let put = stream.put_record(PutRecordInput::new("ab", &data)).unwrap();
    let records = read_typed(&stream, put.shard_id, StartingPosition::TrimHorizon, 10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), &data[..]);

    // One byte more, in the data or in the key, is not; the key counts in bytes here.
    let over = [
        ("ab", vec![7u8; MIB - 1]),
        ("abc", vec![7u8; MIB - 2]),
        ("é", vec![7u8; MIB - 1]),
        ("k", vec![7u8; MIB]),
        ("k", vec![7u8; MIB + MIB / 2]),
    ];
    for (key, data) in &over {
        let message = error_of(
            stream.put_record(PutRecordInput::new(key, data)),
            "ValidationException",
        );
        let shown = format!(
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]' \
             at 'data' failed to satisfy constraint: Member must have length less than or equal to",
            len = data.len()
        );
        assert!(message.starts_with(&shown), "{message}");
    }
    assert_eq!(total_records(&stream), 1, "nothing oversized was written");
}

#[test]
fn a_stream_created_with_a_larger_maximum_accepts_larger_records() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let big = engine
        .create_stream(CreateStream {
            max_record_size_kib: Some(2048),
            ..CreateStream::provisioned("big-records", 1)
        })
        .unwrap();
    assert_eq!(big.meta().max_record_size_kib, 2048);
    assert_eq!(big.describe(None, None).unwrap().max_record_size_kib, 2048);

    let data: Vec<u8> = (0..MIB + MIB / 2).map(|i| (i % 251) as u8).collect();
    let put = big.put_record(PutRecordInput::new("large", &data)).unwrap();
    let records = read_typed(&big, put.shard_id, StartingPosition::TrimHorizon, 10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].data(), &data[..]);

    // Its own limit still holds: 2 MiB of data plus key, not more.
    let exact = vec![1u8; 2 * MIB - 1];
    big.put_record(PutRecordInput::new("x", &exact)).unwrap();
    error_of(
        big.put_record(PutRecordInput::new("xy", &exact)),
        "ValidationException",
    );

    // The same 1.5 MiB record is too large for a stream with the default maximum.
    let small = engine
        .create_stream(CreateStream::provisioned("default-records", 1))
        .unwrap();
    error_of(
        small.put_record(PutRecordInput::new("large", &data)),
        "ValidationException",
    );
    error_of(
        small.put_records(&[PutRecordInput::new("large", &data)]),
        "ValidationException",
    );
    assert_eq!(total_records(&small), 0);
}

#[test]
fn a_maximum_record_size_outside_1024_to_10240_kib_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    for kib in [0, 1, 1023, 10241, u32::MAX] {
        error_of(
            engine.create_stream(CreateStream {
                max_record_size_kib: Some(kib),
                ..CreateStream::provisioned("odd-size", 1)
            }),
            "ValidationException",
        );
    }
    assert!(engine.list_streams(None, 100).names.is_empty());
    assert_error(
        engine.stream("odd-size"),
        "ResourceNotFoundException",
        &format!("Stream odd-size under account {ACCOUNT} not found."),
    );
    assert!(!dir.path().join("streams").join("odd-size").exists());
    // The bounds themselves are allowed (1024 here; 10240 would preallocate 40 MiB segments).
    engine
        .create_stream(CreateStream {
            max_record_size_kib: Some(1024),
            ..CreateStream::provisioned("odd-size", 1)
        })
        .unwrap();
}

#[test]
fn a_bad_entry_anywhere_in_put_records_fails_the_whole_call() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let engine = open(dir.path(), &options(&clock));
    let stream = engine
        .create_stream(CreateStream::on_demand("batch"))
        .unwrap();
    let big = vec![0u8; MIB];
    let long_key = "k".repeat(257);
    let good = |key: &'static str| PutRecordInput::new(key, b"fine");

    // Field paths are 1-based: records.3 is the third entry.
    let mut entries = vec![
        good("a"),
        good("hello"),
        PutRecordInput::new("", b"x"),
        good("abc"),
    ];
    assert_error(
        stream.put_records(&entries),
        "ValidationException",
        &validation_message(
            "",
            "records.3.member.partitionKey",
            "have length greater than or equal to 1",
        ),
    );
    entries[2] = PutRecordInput::new(&long_key, b"x");
    assert_error(
        stream.put_records(&entries),
        "ValidationException",
        &validation_message(
            &long_key,
            "records.3.member.partitionKey",
            "have length less than or equal to 256",
        ),
    );
    entries[2] = PutRecordInput::new("k", &big);
    let message = error_of(stream.put_records(&entries), "ValidationException");
    assert!(
        message.contains(&format!(
            "Value 'java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]' at 'records.3.member.data'",
            len = big.len()
        )),
        "{message}"
    );
    assert_eq!(
        total_records(&stream),
        0,
        "no entry of a rejected call is written"
    );

    entries[2] = good("message digest");
    let output = stream.put_records(&entries).unwrap();
    assert_eq!(output.failed_record_count, 0);
    assert_eq!(output.records.len(), 4);
    assert_eq!(total_records(&stream), 4);
}
