//! Sequential read with checksum verification of 100-byte records: shardlog's `read_into` over a
//! pre-filled log, beside a raw walk of the very same segment files (mapped read-only, every CRC
//! checked by hand) and the commitlog crate reading the same records.
//!
//! Setup (untimed): 2,000,000 records of 100 bytes with 10-byte keys, appended with
//! `append_batch(500)` into 64 MiB segments (the default size), so a full read crosses five
//! segments. All data is in the page cache; one iteration reads the whole log from the start.

use std::hint::black_box;
use std::time::Duration;

use commitlog::ReadLimit;
use commitlog::message::{MessageBuf, MessageSet};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use shardlog::{Record, SeekTo, ShardLog};

mod common;
use common::{MIB, Peer, key, payload};

const RECORDS: usize = 2_000_000;
const BATCH: usize = 500;
const SEGMENT_BYTES: u64 = 64 * MIB;

fn read_100b(c: &mut Criterion) {
    let data = payload(100);
    let records = common::batch(BATCH, &data);

    let dir = common::scratch_dir("read");
    let (log, _) = ShardLog::open(dir.path(), common::options(SEGMENT_BYTES)).expect("open log");
    for _ in 0..RECORDS / BATCH {
        log.append_batch(&records).expect("fill");
    }
    let maps = common::map_segments(dir.path());

    let mut peer = Peer::new(SEGMENT_BYTES as usize);
    let mut buf = MessageBuf::default();
    for _ in 0..RECORDS / BATCH {
        buf.clear();
        for i in 0..BATCH {
            buf.push_with_metadata(key(i), &data).expect("serialize");
        }
        peer.log.append(&mut buf).expect("fill commitlog");
    }

    let mut group = c.benchmark_group("read_100B");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(RECORDS as u64));

    let mut out: Vec<Record> = Vec::with_capacity(1024);
    group.bench_function("shardlog/read_into_1024", |b| {
        b.iter(|| {
            let mut reader = log.reader(SeekTo::Oldest).expect("reader");
            let mut total = 0;
            loop {
                let read = reader.read_into(&mut out, 1024).expect("read");
                if read == 0 {
                    break;
                }
                for record in &out {
                    black_box((record.sequence_number(), record.data()));
                }
                total += read;
                out.clear();
            }
            assert_eq!(total, RECORDS);
        })
    });

    group.bench_function("shardlog/iterator_next", |b| {
        b.iter(|| {
            let reader = log.reader(SeekTo::Oldest).expect("reader");
            let mut total = 0;
            for record in reader {
                let record = record.expect("read");
                black_box((record.sequence_number(), record.data()));
                total += 1;
            }
            assert_eq!(total, RECORDS);
        })
    });

    group.bench_function("raw_mmap/walk_verify_crc", |b| {
        b.iter(|| {
            let total: u64 = maps.iter().map(|map| common::raw_walk(map)).sum();
            assert_eq!(total, RECORDS as u64);
        })
    });

    group.bench_function("commitlog/read_1MiB", |b| {
        b.iter(|| {
            let mut offset = 0;
            let mut total = 0;
            loop {
                // `read` copies the bytes out with pread and verifies every CRC32C.
                let messages = peer
                    .log
                    .read(offset, ReadLimit::max_bytes(1 << 20))
                    .expect("read");
                let mut last = None;
                for message in messages.iter() {
                    black_box((message.offset(), message.payload()));
                    last = Some(message.offset());
                    total += 1;
                }
                match last {
                    Some(last) => offset = last + 1,
                    None => break,
                }
            }
            assert_eq!(total, RECORDS);
        })
    });
    group.finish();
    drop(maps);
    log.close().expect("close");
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = read_100b
}
criterion_main!(benches);
