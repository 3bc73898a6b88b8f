//! The stream layer: PutRecord with MD5 routing over 4 shards, PutRecords batches, GetRecords of
//! 10 000 records, and MD5 routing alone — each beside the layer below it (the bare shard log, the
//! raw md-5 digest) so the cost of the Kinesis model can be read off as a ratio.
//!
//! `cargo bench --bench stream`

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest, Md5};
use shardlog::stream::hash_key_of;
use shardlog::{
    CreateStream, Engine, EngineOptions, PutRecordInput, RecordInput, SeekTo, ShardLog,
    StartingPosition, Stream,
};

const RECORD_BYTES: usize = 100;
const SEGMENT_BYTES: u64 = 64 * common::MIB;

/// A fresh engine with one ON_DEMAND (4-shard) stream in a scratch directory.
fn fresh_stream(label: &str) -> (tempfile::TempDir, Engine, Arc<Stream>) {
    let dir = common::scratch_dir(label);
    let options = EngineOptions {
        segment_bytes: SEGMENT_BYTES,
        ..EngineOptions::default()
    };
    let engine = Engine::open(dir.path(), options).expect("open engine");
    let stream = engine
        .create_stream(CreateStream::on_demand("bench"))
        .expect("create stream");
    (dir, engine, stream)
}

/// Distinct partition keys, so records spread over all shards.
fn keys() -> Vec<String> {
    (0..4096).map(|i| format!("partition-{i:05}")).collect()
}

fn routing(c: &mut Criterion) {
    let keys = keys();
    let mut group = c.benchmark_group("routing");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("raw_md5_digest", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let key = &keys[i % keys.len()];
            black_box(Md5::digest(key.as_bytes()))
        })
    });
    group.bench_function("hash_key_of", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(hash_key_of(&keys[i % keys.len()]))
        })
    });
    group.finish();
}

fn put_record(c: &mut Criterion) {
    let keys = keys();
    let data = common::payload(RECORD_BYTES);
    let mut group = c.benchmark_group("put_record_100B");
    group.throughput(Throughput::Elements(1));
    {
        // One long-lived stream: what is measured includes segment rolls, as in steady state.
        let (_dir, _engine, stream) = fresh_stream("put-record");
        let mut i = 0usize;
        group.bench_function("stream_put_record_4_shards", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let key = &keys[i % keys.len()];
                black_box(
                    stream
                        .put_record(PutRecordInput::new(key, &data))
                        .expect("put"),
                )
            })
        });
    }
    {
        let dir = common::scratch_dir("log-append");
        let (log, _) =
            ShardLog::open(dir.path(), common::options(SEGMENT_BYTES)).expect("open log");
        let mut i = 0usize;
        group.bench_function("baseline_shard_log_append", |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let key = &keys[i % keys.len()];
                black_box(log.append(RecordInput::new(key, &data)).expect("append"))
            })
        });
    }
    {
        let (_dir, _engine, stream) = fresh_stream("put-record-2t");
        group.bench_function("stream_put_record_4_shards_2_threads", |b| {
            b.iter_custom(|iterations| {
                let per_thread = (iterations as usize).div_ceil(2);
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for thread in 0..2 {
                        let (stream, keys, data) = (&stream, &keys, &data);
                        scope.spawn(move || {
                            for i in 0..per_thread {
                                let key = &keys[(i * 2 + thread) % keys.len()];
                                let input = PutRecordInput::new(key, data);
                                black_box(stream.put_record(input).expect("put"));
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();
}

fn put_records(c: &mut Criterion) {
    let keys = keys();
    let data = common::payload(RECORD_BYTES);
    let entries: Vec<PutRecordInput<'_>> = keys
        .iter()
        .take(500)
        .map(|key| PutRecordInput::new(key, &data))
        .collect();
    let mut group = c.benchmark_group("put_records_500x100B");
    group.throughput(Throughput::Elements(500));
    {
        let (_dir, _engine, stream) = fresh_stream("put-records");
        group.bench_function("stream_put_records", |b| {
            b.iter(|| {
                let output = stream.put_records(&entries).expect("put_records");
                assert_eq!(output.failed_record_count, 0);
                black_box(output)
            })
        });
    }
    let inputs: Vec<RecordInput<'_>> = entries
        .iter()
        .map(|entry| RecordInput::new(entry.record.partition_key, entry.record.data))
        .collect();
    {
        let dir = common::scratch_dir("log-batch");
        let (log, _) =
            ShardLog::open(dir.path(), common::options(SEGMENT_BYTES)).expect("open log");
        group.bench_function("baseline_shard_log_append_batch", |b| {
            b.iter(|| black_box(log.append_batch(&inputs).expect("append")))
        });
    }
    group.finish();
}

fn get_records(c: &mut Criterion) {
    const LIMIT: usize = 10_000;
    let (_dir, engine, stream) = fresh_stream("get-records");
    let data = common::payload(RECORD_BYTES);
    // Every record goes to one shard (same key), so one GetRecords call returns a full 10 000.
    let entries: Vec<PutRecordInput<'_>> = (0..500)
        .map(|_| PutRecordInput::new("one-key", &data))
        .collect();
    for _ in 0..(4 * LIMIT / 500) {
        stream.put_records(&entries).expect("fill");
    }
    let shard_id = stream
        .put_record(PutRecordInput::new("one-key", &data))
        .expect("put")
        .shard_id;
    let shard = stream.shard(shard_id).expect("shard");

    let mut group = c.benchmark_group("get_records_10000x100B");
    group.throughput(Throughput::Elements(LIMIT as u64));
    group.bench_function("engine_get_records", |b| {
        let mut token = stream
            .shard_iterator(shard_id, StartingPosition::TrimHorizon)
            .expect("iterator");
        let mut issued = Instant::now();
        b.iter(|| {
            if issued.elapsed() > Duration::from_secs(120) {
                token = stream
                    .shard_iterator(shard_id, StartingPosition::TrimHorizon)
                    .expect("iterator");
                issued = Instant::now();
            }
            let output = engine.get_records(&token, LIMIT).expect("get_records");
            assert_eq!(output.batch.records.len(), LIMIT);
            black_box(output)
        })
    });
    group.bench_function("baseline_log_reader_read_into", |b| {
        let mut records = Vec::with_capacity(LIMIT);
        b.iter(|| {
            records.clear();
            let mut reader = shard.log().reader(SeekTo::Oldest).expect("reader");
            assert_eq!(reader.read_into(&mut records, LIMIT).expect("read"), LIMIT);
            black_box(&records);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = routing, put_record, put_records, get_records
}
criterion_main!(benches);
