//! Append-to-delivery latency of fan-out in the library: one record of 100 bytes in flight at a
//! time (the next is put once the last was delivered), from just before the put to the moment the
//! reader's thread has it, through
//!
//! - `mpsc_baseline`: the same handoff through a `std::sync::mpsc` channel (the raw cost of waking
//!   another thread);
//! - `subscription`: `Stream::subscribe`, woken by the append;
//! - `application_no_checkpoint`: an embedded application with one worker, checkpointing only at
//!   its stop;
//! - `application_checkpoint_each_batch`: the same, checkpointing (two fsyncs) after every batch,
//!   which the next record waits behind.
//!
//! Prints p50, p99, p99.9 and the maximum of each. `SHARDLOG_BENCH_SAMPLES` sets the number of
//! samples (default 20 000, after 1 000 not counted).
//!
//! `cargo bench --bench fan_out_latency`

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::fan_out::{RECORD_BYTES, SHARD, consumer_name, fan_out_stream};
use shardlog::application::{
    Application, ApplicationOptions, Batch, CheckpointPolicy, Checkpointer, ProcessorError,
    RecordProcessor,
};
use shardlog::{PutRecordInput, Record, StartingPosition, Stream};

const WARM_UP: usize = 1_000;
const SAMPLES_DEFAULT: usize = 20_000;
/// A hang guard only.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// What a reader records: the latency of each record it received, and how many it received.
#[derive(Clone)]
struct Latencies {
    base: Instant,
    nanos: Arc<Mutex<Vec<u64>>>,
    received: Arc<AtomicU64>,
}

impl Latencies {
    fn new(base: Instant, capacity: usize) -> Latencies {
        Latencies {
            base,
            nanos: Arc::new(Mutex::new(Vec::with_capacity(capacity))),
            received: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now_nanos(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Notes a record stamped (by [`stamped`]) at `sent_nanos`.
    fn note(&self, sent_nanos: u64) {
        let latency = self.now_nanos().saturating_sub(sent_nanos);
        self.nanos.lock().expect("latencies").push(latency);
        self.received.fetch_add(1, Ordering::Release);
    }

    fn note_record(&self, record: &Record) {
        let stamp = record.data()[..8].try_into().expect("stamped record");
        self.note(u64::from_le_bytes(stamp));
    }

    /// Waits until `count` records were received.
    fn wait_for(&self, count: u64) {
        while self.received.load(Ordering::Acquire) < count {
            std::hint::spin_loop();
        }
    }

    /// The latencies after the warm-up, sorted.
    fn sorted(&self) -> Vec<u64> {
        let mut nanos = self.nanos.lock().expect("latencies").split_off(WARM_UP);
        nanos.sort_unstable();
        nanos
    }
}

/// 100 bytes whose first 8 are the time now.
fn stamped(latencies: &Latencies) -> [u8; RECORD_BYTES] {
    let mut data = [7u8; RECORD_BYTES];
    data[..8].copy_from_slice(&latencies.now_nanos().to_le_bytes());
    data
}

/// Puts `total` stamped records one at a time, each after the last was received.
fn ping_pong(stream: &Stream, latencies: &Latencies, total: usize) {
    for sent in 0..total {
        let data = stamped(latencies);
        stream
            .put_record(PutRecordInput::new("latency", &data))
            .expect("put");
        latencies.wait_for(sent as u64 + 1);
    }
}

fn mpsc_baseline(total: usize) -> Vec<u64> {
    let latencies = Latencies::new(Instant::now(), total);
    let (sender, receiver) = mpsc::channel::<[u8; RECORD_BYTES]>();
    let reader = {
        let latencies = latencies.clone();
        std::thread::spawn(move || {
            for data in receiver {
                latencies.note(u64::from_le_bytes(data[..8].try_into().expect("stamp")));
            }
        })
    };
    for sent in 0..total {
        sender.send(stamped(&latencies)).expect("send");
        latencies.wait_for(sent as u64 + 1);
    }
    drop(sender);
    reader.join().expect("reader");
    latencies.sorted()
}

fn subscription(total: usize) -> Vec<u64> {
    let fixture = fan_out_stream("fan-out-latency", 1);
    let latencies = Latencies::new(Instant::now(), total);
    let mut subscription = fixture
        .stream
        .subscribe(&consumer_name(0), SHARD, StartingPosition::Latest)
        .expect("subscribe");
    let reader = {
        let latencies = latencies.clone();
        std::thread::spawn(move || {
            while latencies.received.load(Ordering::Acquire) < total as u64 {
                let event = subscription.next_event(EVENT_WAIT).expect("event");
                for record in &event.expect("live").records {
                    latencies.note_record(record);
                }
            }
        })
    };
    ping_pong(&fixture.stream, &latencies, total);
    reader.join().expect("reader");
    latencies.sorted()
}

struct Noting(Latencies);

impl RecordProcessor for Noting {
    fn process(
        &mut self,
        batch: Batch<'_>,
        _checkpointer: &mut Checkpointer<'_>,
    ) -> Result<(), ProcessorError> {
        for record in batch.records {
            self.0.note_record(record);
        }
        Ok(())
    }
}

fn application(policy: CheckpointPolicy, total: usize) -> Vec<u64> {
    let fixture = fan_out_stream("fan-out-latency", 0);
    let latencies = Latencies::new(Instant::now(), total);
    let options = ApplicationOptions {
        checkpoint_policy: policy,
        ..ApplicationOptions::default()
    };
    let noting = latencies.clone();
    let running = Application::open(&fixture.stream, "latency", options)
        .expect("open application")
        .start(move |_shard| Noting(noting.clone()))
        .expect("start");
    ping_pong(&fixture.stream, &latencies, total);
    running.stop().expect("stop");
    latencies.sorted()
}

/// Runs `total` records through one way of handing them over; returns the sorted latencies.
type Method = dyn Fn(usize) -> Vec<u64>;

fn percentile(sorted: &[u64], fraction: f64) -> f64 {
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported here.
    let samples = std::env::var("SHARDLOG_BENCH_SAMPLES")
        .ok()
        .and_then(|samples| samples.parse().ok())
        .unwrap_or(SAMPLES_DEFAULT);
    let total = samples + WARM_UP;
    println!(
        "append→delivery latency, one record of {RECORD_BYTES} B in flight, {samples} samples \
         (after {WARM_UP} not counted)"
    );
    println!(
        "{:<36} {:>9} {:>9} {:>9} {:>9}",
        "method", "p50 µs", "p99 µs", "p99.9 µs", "max µs"
    );
    let methods: [(&str, &Method); 4] = [
        ("mpsc_baseline", &mpsc_baseline),
        ("subscription", &subscription),
        ("application_no_checkpoint", &|total| {
            application(CheckpointPolicy::Manual, total)
        }),
        ("application_checkpoint_each_batch", &|total| {
            application(CheckpointPolicy::AfterEachBatch, total)
        }),
    ];
    for (name, method) in methods {
        let sorted = method(total);
        println!(
            "{name:<36} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.99),
            percentile(&sorted, 0.999),
            percentile(&sorted, 1.0)
        );
    }
}
