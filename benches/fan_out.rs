//! Append-to-delivery throughput of fan-out in the library: records of 100 bytes put to one shard
//! and handed to one reader, or to five at once, each reader on its own thread, through
//!
//! - `mpsc_baseline`: the same records, one `Arc<[u8]>` message per record and reader, through a
//!   `std::sync::mpsc` channel per reader: the raw cost of handing records across threads;
//! - `subscription`: `Stream::subscribe` (a registered consumer's push subscription, woken by the
//!   append);
//! - `application_checkpoint_each_batch`: an embedded application (`shardlog::application`), one
//!   worker, checkpointing (two fsyncs) after every batch;
//! - `application_no_checkpoint`: the same, checkpointing only when it stops.
//!
//! One element is one record put and delivered to every reader; the clock runs from the first put
//! until the last reader has its last record.
//!
//! `cargo bench --bench fan_out`

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::fan_out::{
    Counting, FanOutStream, RECORD_BYTES, SHARD, consumer_name, fan_out_stream, put,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shardlog::StartingPosition;
use shardlog::application::{Application, ApplicationOptions, CheckpointPolicy};

const READERS: [usize; 2] = [1, 5];
/// A hang guard only.
const EVENT_WAIT: Duration = Duration::from_secs(10);

fn mpsc_baseline(readers: usize, records: u64, data: &[u8]) -> Duration {
    let mut senders = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..readers {
        let (sender, receiver) = mpsc::channel::<Arc<[u8]>>();
        senders.push(sender);
        threads.push(std::thread::spawn(move || {
            for _ in 0..records {
                let record = receiver.recv().expect("record");
                std::hint::black_box(&record);
            }
            Instant::now()
        }));
    }
    let started = Instant::now();
    for _ in 0..records {
        let record: Arc<[u8]> = Arc::from(data);
        for sender in &senders {
            sender.send(Arc::clone(&record)).expect("send");
        }
    }
    let finished = threads
        .into_iter()
        .map(|thread| thread.join().expect("reader"));
    finished.max().expect("a reader") - started
}

fn subscriptions(fixture: &FanOutStream, readers: usize, records: u64, data: &[u8]) -> Duration {
    let threads: Vec<_> = (0..readers)
        .map(|consumer| {
            let mut subscription = fixture
                .stream
                .subscribe(&consumer_name(consumer), SHARD, StartingPosition::Latest)
                .expect("subscribe");
            std::thread::spawn(move || {
                let mut delivered = 0;
                while delivered < records {
                    let event = subscription.next_event(EVENT_WAIT).expect("event");
                    delivered += event.expect("live").records.len() as u64;
                }
                Instant::now()
            })
        })
        .collect();
    let started = Instant::now();
    put(&fixture.stream, data, records);
    let finished = threads
        .into_iter()
        .map(|thread| thread.join().expect("reader"));
    finished.max().expect("a reader") - started
}

fn applications(
    fixture: &FanOutStream,
    readers: usize,
    policy: CheckpointPolicy,
    records: u64,
    data: &[u8],
) -> Duration {
    let options = ApplicationOptions {
        checkpoint_policy: policy,
        ..ApplicationOptions::default()
    };
    let mut running = Vec::new();
    let mut counters = Vec::new();
    for reader in 0..readers {
        // Each run resumes after the last one's checkpoints (taken at stop at the latest), so it
        // reads only this run's records.
        let application =
            Application::open(&fixture.stream, &format!("app-{reader}"), options.clone())
                .expect("open application");
        let delivered = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&delivered);
        running.push(
            application
                .start(move |_shard| Counting(Arc::clone(&counter)))
                .expect("start"),
        );
        counters.push(delivered);
    }
    let started = Instant::now();
    put(&fixture.stream, data, records);
    while counters
        .iter()
        .any(|counter| counter.load(Ordering::Acquire) < records)
    {
        std::thread::yield_now();
    }
    let elapsed = started.elapsed();
    for application in running {
        application.stop().expect("stop");
    }
    elapsed
}

fn bench(c: &mut Criterion) {
    let data = common::payload(RECORD_BYTES);
    for readers in READERS {
        let mut group = c.benchmark_group(format!("fan_out_{readers}_readers"));
        group.throughput(Throughput::Elements(1));
        group.bench_function("mpsc_baseline", |b| {
            b.iter_custom(|records| mpsc_baseline(readers, records, &data))
        });
        let fixture = fan_out_stream("fan-out", readers);
        group.bench_function("subscription", |b| {
            b.iter_custom(|records| subscriptions(&fixture, readers, records, &data))
        });
        group.bench_function("application_checkpoint_each_batch", |b| {
            b.iter_custom(|records| {
                applications(
                    &fixture,
                    readers,
                    CheckpointPolicy::AfterEachBatch,
                    records,
                    &data,
                )
            })
        });
        group.bench_function("application_no_checkpoint", |b| {
            b.iter_custom(|records| {
                applications(&fixture, readers, CheckpointPolicy::Manual, records, &data)
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = bench
}
criterion_main!(benches);
