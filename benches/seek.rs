//! Seeking: `log.reader(SeekTo::AtSequence(..))` and `log.reader(SeekTo::AtTimestamp(..))` to
//! random targets in a pre-filled log, beside a binary search (`partition_point`) over a plain
//! `Vec<u64>` holding one entry per record (a dense in-memory index of the same log).
//!
//! Setup (untimed): 4,000,000 records of 100 bytes in 64 MiB segments (nine segments), appended in
//! batches of 100 with a `ManualClock` that advances 1 ms per batch, so arrival times are
//! deterministic: 100 records share each millisecond over 40 seconds of log. Targets are 65,536
//! random counters / milliseconds, visited in a fixed pseudo-random order. One iteration creates a
//! reader (the seek) and drops it.
//!
//! After the criterion groups, a plain loop times 100,000 individual seeks of each kind and prints
//! percentiles (each timing includes ~30 ns of `Instant::now` overhead).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shardlog::{ManualClock, SeekTo, SequenceNumber, ShardLog};
use tempfile::TempDir;

mod common;
use common::{MIB, SHARD, payload};

const RECORDS: u64 = 4_000_000;
const BATCH: u64 = 100;
const SEGMENT_BYTES: u64 = 64 * MIB;
const T0_MS: u64 = 1_700_000_000_000;
const TARGETS: usize = 1 << 16;

struct Fixture {
    // Field order matters: the log closes before its directory is removed.
    log: ShardLog,
    _dir: TempDir,
    sequence_targets: Vec<SequenceNumber>,
    counter_targets: Vec<u64>,
    time_targets: Vec<u64>,
    first_counter: u64,
    counters: Vec<u64>,
    arrivals: Vec<u64>,
}

/// Arrival time of the `index`-th record appended (1 ms per batch).
fn arrival_of(index: u64) -> u64 {
    T0_MS + index / BATCH
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn fixture() -> Fixture {
    let data = payload(100);
    let records = common::batch(BATCH as usize, &data);
    let clock = Arc::new(ManualClock::new(T0_MS));
    let dir = common::scratch_dir("seek");
    let options = common::options(SEGMENT_BYTES).clock(clock.clone());
    let (log, _) = ShardLog::open(dir.path(), options).expect("open log");
    let mut check = Vec::new();
    for batch in 0..RECORDS / BATCH {
        let assigned = log.append_batch(&records).expect("fill");
        if batch % 1000 == 0 {
            check.push(assigned[0]);
        }
        clock.advance_ms(1);
    }
    // Counters are consecutive from the first one the log hands out.
    let first_counter = check[0].counter();
    let sequence_of = |index: u64| {
        SequenceNumber::new(SHARD, first_counter + index, arrival_of(index) / 1000).expect("sn")
    };
    for (i, assigned) in check.iter().enumerate() {
        assert_eq!(*assigned, sequence_of(i as u64 * 1000 * BATCH));
    }

    let mut state = 0x9E37_79B9_7F4A_7C15;
    let index_targets: Vec<u64> = (0..TARGETS)
        .map(|_| xorshift(&mut state) % RECORDS)
        .collect();
    let time_targets: Vec<u64> = (0..TARGETS)
        .map(|_| T0_MS + xorshift(&mut state) % (RECORDS / BATCH))
        .collect();
    let fixture = Fixture {
        sequence_targets: index_targets.iter().map(|&i| sequence_of(i)).collect(),
        counter_targets: index_targets.iter().map(|&i| first_counter + i).collect(),
        time_targets,
        first_counter,
        counters: (first_counter..first_counter + RECORDS).collect(),
        arrivals: (0..RECORDS).map(arrival_of).collect(),
        log,
        _dir: dir,
    };
    fixture.check();
    fixture
}

impl Fixture {
    /// The seeks land where they must (untimed).
    fn check(&self) {
        for i in 0..256 {
            let mut reader = self
                .log
                .reader(SeekTo::AtSequence(self.sequence_targets[i]))
                .expect("seek");
            let first = reader.next_batch(1).expect("read");
            assert_eq!(
                first[0].sequence_number().counter(),
                self.counter_targets[i]
            );

            let target = self.time_targets[i];
            let mut reader = self.log.reader(SeekTo::AtTimestamp(target)).expect("seek");
            let first = reader.next_batch(1).expect("read");
            assert_eq!(first[0].arrival_ms(), target);
            assert_eq!(
                first[0].sequence_number().counter(),
                self.first_counter + (target - T0_MS) * BATCH
            );
        }
    }
}

fn seek(c: &mut Criterion) {
    let fixture = fixture();
    let mask = TARGETS - 1;
    let mut group = c.benchmark_group("seek");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));

    let mut i = 0usize;
    group.bench_function("shardlog/at_sequence", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let target = fixture.sequence_targets[i & mask];
            black_box(
                fixture
                    .log
                    .reader(SeekTo::AtSequence(target))
                    .expect("seek")
                    .position(),
            )
        })
    });
    group.bench_function("baseline/partition_point_counter", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let target = fixture.counter_targets[i & mask];
            black_box(fixture.counters.partition_point(|&c| c < target))
        })
    });
    group.bench_function("shardlog/at_timestamp", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let target = fixture.time_targets[i & mask];
            black_box(
                fixture
                    .log
                    .reader(SeekTo::AtTimestamp(target))
                    .expect("seek")
                    .position(),
            )
        })
    });
    group.bench_function("baseline/partition_point_arrival", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let target = fixture.time_targets[i & mask];
            black_box(fixture.arrivals.partition_point(|&a| a < target))
        })
    });
    group.finish();
    percentiles(&fixture);
}

/// Times individual seeks and prints their distribution.
fn percentiles(fixture: &Fixture) {
    const SAMPLES: usize = 100_000;
    let mask = TARGETS - 1;
    let report = |name: &str, mut nanos: Vec<u64>| {
        nanos.sort_unstable();
        let at = |q: f64| nanos[((nanos.len() as f64 * q) as usize).min(nanos.len() - 1)];
        println!(
            "seek latency {name}: p50 {} ns, p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} seeks)",
            at(0.50),
            at(0.90),
            at(0.99),
            at(0.999),
            nanos[nanos.len() - 1],
            nanos.len()
        );
    };
    let mut nanos = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let target = fixture.sequence_targets[i & mask];
        let start = Instant::now();
        let reader = fixture
            .log
            .reader(SeekTo::AtSequence(target))
            .expect("seek");
        black_box(reader.position());
        drop(reader);
        nanos.push(start.elapsed().as_nanos() as u64);
    }
    report("shardlog/at_sequence", nanos);
    let mut nanos = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let target = fixture.time_targets[i & mask];
        let start = Instant::now();
        let reader = fixture
            .log
            .reader(SeekTo::AtTimestamp(target))
            .expect("seek");
        black_box(reader.position());
        drop(reader);
        nanos.push(start.elapsed().as_nanos() as u64);
    }
    report("shardlog/at_timestamp", nanos);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = seek
}
criterion_main!(benches);
