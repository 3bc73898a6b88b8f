//! Append throughput, single thread, page-cache durability: shardlog beside a raw mmap baseline
//! (the same frame layout written by hand into an already-faulted mapping) and the commitlog crate.
//!
//! How the log is kept bounded without hiding work: each benchmark keeps one log open for all of
//! its runs (criterion calls the routine once per sample and several times during warm-up). Before
//! each run, outside the timed region, sealed segments whose records all arrived before the
//! previous run started are deleted with `delete_segments_older_than`. Every append, including the
//! ones that seal a segment and put the next one into service, is timed; only opening the log
//! (which pre-faults the first segment), retention and the final close are not. Segments are
//! 256 MiB, so a 0.6 s sample of 100-byte records crosses two or three segment rolls; the next one is
//! prepared on the background thread (the second core), as the log does by default, except in the
//! `no_background_prepare` case, where the writer creates and pre-faults it inside the roll.
//!
//! The `*_hot_no_roll` cases isolate the per-record hot path for comparison with the raw baseline:
//! a 1 GiB segment from the start (the others begin at 32 KiB and grow fourfold, rolls included),
//! pre-faulted a 2 MiB window ahead of the writer by the background pool, and before any run that
//! would not fit in the active segment an untimed forced roll (retention expiring everything)
//! installs a fresh one.
//! (Only a warm-up run can be too large for one segment; it then rolls inside the run.)
//!
//! The `append_100B_retained` group measures a shard in its steady state under retention (64 MiB
//! segments, retention passes inside the timed loop), with expired segment files recycled and
//! without: what reusing a file whose pages are still cached saves over a new file's faults.
//!
//! The raw baseline writes the same 36-byte header, key and payload with a CRC32 into a 256 MiB
//! file-backed mapping that is pre-touched before every run, wrapping around at its end.
//! The commitlog peer stores the key as message metadata and the payload as the message.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use shardlog::log::frame;
use shardlog::{LogOptions, RecordInput, ShardLog};
use tempfile::TempDir;

mod common;
use common::{MIB, Peer, RawRegion, key, now_ms, payload};

const SEGMENT_BYTES: u64 = 256 * MIB;
/// Segment of the `append_hot_no_roll` case: large enough that no timed run fills it.
const HOT_SEGMENT_BYTES: u64 = 1024 * MIB;
const RAW_REGION_BYTES: usize = 256 * MIB as usize;

/// One log kept open across a benchmark's runs, trimmed between runs (untimed).
struct Appender {
    // Field order matters: the log closes before its directory is removed.
    log: Option<ShardLog>,
    _dir: TempDir,
    trim: Trim,
}

enum Trim {
    /// Delete sealed segments whose records all arrived before the previous run started.
    Retention { previous_run_ms: Option<u64> },
    /// Keep rolls out of the timed region: before a run that would not fit in the active segment,
    /// expire everything (which seals the active segment and puts a fresh one into service).
    RollBeforeRun {
        capacity: u64,
        frame_bytes: u64,
        used: u64,
    },
}

impl Appender {
    fn new(options: LogOptions) -> Appender {
        Appender::with_trim(
            options,
            Trim::Retention {
                previous_run_ms: None,
            },
        )
    }

    /// A log whose timed runs never roll: one large segment from the start (no growth), which the
    /// background pool pre-faults a window ahead of the writer, as it does for any busy shard.
    fn hot(segment_bytes: u64, frame_bytes: usize) -> Appender {
        Appender::with_trim(
            common::options(segment_bytes).initial_segment_bytes(segment_bytes),
            Trim::RollBeforeRun {
                capacity: segment_bytes - common::SEGMENT_HEADER_BYTES as u64,
                frame_bytes: frame_bytes as u64,
                used: 0,
            },
        )
    }

    fn with_trim(options: LogOptions, trim: Trim) -> Appender {
        let dir = common::scratch_dir("append");
        let (log, _) = ShardLog::open(dir.path(), options).expect("open log");
        Appender {
            log: Some(log),
            _dir: dir,
            trim,
        }
    }

    /// Untimed: drops what earlier runs wrote before a run of `records` appends, and returns the log.
    fn prepare_run(&mut self, records: u64) -> &ShardLog {
        let log = self.log.as_ref().expect("log is open");
        match &mut self.trim {
            Trim::Retention { previous_run_ms } => {
                if let Some(cutoff) = *previous_run_ms {
                    log.delete_segments_older_than(cutoff)
                        .expect("retention between runs");
                }
                *previous_run_ms = Some(now_ms());
            }
            Trim::RollBeforeRun {
                capacity,
                frame_bytes,
                used,
            } => {
                let planned = records * *frame_bytes;
                if *used + planned > *capacity {
                    // After a short sleep every record is older than "now": the active segment is
                    // sealed and deleted with the rest, and a fresh, pre-faulted one takes its place.
                    std::thread::sleep(Duration::from_millis(2));
                    log.delete_segments_older_than(now_ms())
                        .expect("expire everything");
                    *used = 0;
                }
                *used += planned;
            }
        }
        log
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            log.close().expect("close log");
        }
    }
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn group_settings(group: &mut Group<'_>) {
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    // Long enough that each of the 10 samples crosses a few segment rolls.
    group.measurement_time(Duration::from_secs(6));
}

/// Settings for the `hot_no_roll` cases: every run, warm-up ones included, must fit in one 1 GiB
/// segment, so warm-up is short (criterion doubles the run length until the warm-up time is spent)
/// and samples stay well under 1 GiB of records. Call `group_settings` afterwards to restore.
fn hot_settings(group: &mut Group<'_>, measurement: Duration) {
    group.warm_up_time(Duration::from_millis(150));
    group.measurement_time(measurement);
}

/// Times `iters` single-record appends.
fn bench_single(appender: &mut Appender, data: &[u8], iters: u64) -> Duration {
    let log = appender.prepare_run(iters);
    let start = Instant::now();
    for i in 0..iters as usize {
        black_box(log.append(RecordInput::new(key(i), data)).expect("append"));
    }
    start.elapsed()
}

/// Times `iters` calls of `append_batch`.
fn bench_batch(appender: &mut Appender, batch: &[RecordInput<'_>], iters: u64) -> Duration {
    let log = appender.prepare_run(iters * batch.len() as u64);
    let start = Instant::now();
    for _ in 0..iters {
        black_box(log.append_batch(batch).expect("append batch"));
    }
    start.elapsed()
}

fn bench_raw(region: &mut RawRegion, data: &[u8], iters: u64) -> Duration {
    region.touch();
    let arrival_ms = now_ms();
    let start = Instant::now();
    for i in 0..iters as usize {
        black_box(region.append(arrival_ms, key(i).as_bytes(), data));
    }
    start.elapsed()
}

/// Checks once that the hand-written baseline produces frames shardlog's decoder accepts.
/// Single appends with rolls, single appends on the hot path (measured for `hot_measurement`), and
/// the raw baseline, for records of `data`: the three cases every record size runs.
fn single_appends_beside_raw(group: &mut Group<'_>, data: &[u8], hot_measurement: Duration) {
    {
        let mut appender = Appender::new(common::options(SEGMENT_BYTES));
        group.bench_function("shardlog/append", |b| {
            b.iter_custom(|iters| bench_single(&mut appender, data, iters))
        });
    }
    {
        hot_settings(group, hot_measurement);
        let mut appender = Appender::hot(HOT_SEGMENT_BYTES, common::frame_len(key(0), data.len()));
        group.bench_function("shardlog/append_hot_no_roll", |b| {
            b.iter_custom(|iters| bench_single(&mut appender, data, iters))
        });
        group_settings(group);
    }
    {
        let mut region = RawRegion::new(RAW_REGION_BYTES);
        group.bench_function("raw_mmap/append", |b| {
            b.iter_custom(|iters| bench_raw(&mut region, data, iters))
        });
    }
}

fn check_raw_layout(data: &[u8]) {
    let mut region = RawRegion::new(1 << 20);
    region.append(1_700_000_000_123, b"user-00000", data);
    let decoded = frame::decode(region.bytes()).expect("raw frame decodes");
    assert_eq!(decoded.counter, 0);
    assert_eq!(decoded.arrival_ms, 1_700_000_000_123);
    assert_eq!(&region.bytes()[decoded.data], data);
}

fn append_100b(c: &mut Criterion) {
    let data = payload(100);
    check_raw_layout(&data);
    let mut group = c.benchmark_group("append_100B");
    group_settings(&mut group);

    group.throughput(Throughput::Elements(1));
    single_appends_beside_raw(&mut group, &data, Duration::from_secs(4));
    {
        let mut appender =
            Appender::new(common::options(SEGMENT_BYTES).prepare_segments_in_background(false));
        group.bench_function("shardlog/append_no_background_prepare", |b| {
            b.iter_custom(|iters| bench_single(&mut appender, &data, iters))
        });
    }
    {
        let mut peer = Peer::new(SEGMENT_BYTES as usize);
        let mut buf = commitlog::message::MessageBuf::default();
        group.bench_function("commitlog/append", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters as usize {
                    buf.clear();
                    buf.push_with_metadata(key(i), &data).expect("serialize");
                    black_box(peer.log.append(&mut buf).expect("commitlog append"));
                }
                start.elapsed()
            })
        });
    }

    for size in [100usize, 500] {
        group.throughput(Throughput::Elements(size as u64));
        let records = common::batch(size, &data);
        let mut appender = Appender::new(common::options(SEGMENT_BYTES));
        group.bench_function(format!("shardlog/append_batch_{size}"), |b| {
            b.iter_custom(|iters| bench_batch(&mut appender, &records, iters))
        });
    }
    {
        const SIZE: usize = 100;
        group.throughput(Throughput::Elements(SIZE as u64));
        let records = common::batch(SIZE, &data);
        hot_settings(&mut group, Duration::from_secs(3));
        let mut appender = Appender::hot(HOT_SEGMENT_BYTES, common::frame_len(key(0), data.len()));
        group.bench_function(format!("shardlog/append_batch_{SIZE}_hot_no_roll"), |b| {
            b.iter_custom(|iters| bench_batch(&mut appender, &records, iters))
        });
        group_settings(&mut group);
    }
    {
        const SIZE: usize = 100;
        group.throughput(Throughput::Elements(SIZE as u64));
        let mut peer = Peer::new(SEGMENT_BYTES as usize);
        let mut buf = commitlog::message::MessageBuf::default();
        group.bench_function(format!("commitlog/append_batch_{SIZE}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    buf.clear();
                    for i in 0..SIZE {
                        buf.push_with_metadata(key(i), &data).expect("serialize");
                    }
                    black_box(peer.log.append(&mut buf).expect("commitlog append"));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn append_1kib(c: &mut Criterion) {
    let data = payload(1024);
    let mut group = c.benchmark_group("append_1KiB");
    group_settings(&mut group);

    group.throughput(Throughput::Bytes(data.len() as u64));
    single_appends_beside_raw(&mut group, &data, Duration::from_secs(1));
    retained_appends(&mut group, &data);
    {
        const SIZE: usize = 100;
        group.throughput(Throughput::Bytes((SIZE * data.len()) as u64));
        let records = common::batch(SIZE, &data);
        let mut appender = Appender::new(common::options(SEGMENT_BYTES));
        group.bench_function(format!("shardlog/append_batch_{SIZE}"), |b| {
            b.iter_custom(|iters| bench_batch(&mut appender, &records, iters))
        });
    }
    group.finish();
}

/// Appends per tick of the retained cases' manual clock, and per retention pass.
const APPENDS_PER_MS: u64 = 4096;
const APPENDS_PER_RETENTION_PASS: u64 = 64 * 1024;
/// How much of the manual clock's time the retained cases keep: about two 64 MiB segments of
/// 100-byte records (some 450,000 records each, 110 ms at 4,096 records a millisecond), sixteen of
/// 1 KiB records.
const RETAINED_MS: u64 = 250;

/// A log in its steady state under retention: 64 MiB segments, a retention pass every 65,536
/// appends that deletes what is more than [`RETAINED_MS`] old (of a manual clock that advances 1 ms
/// every 4,096 appends), all of it timed. With `recycle`, the newest expired segment's file is
/// kept and the next segment made from it (its pages still cached); without, every segment is a
/// new file and every expired one is unlinked.
struct RetainedAppender {
    log: Option<ShardLog>,
    _dir: TempDir,
    clock: std::sync::Arc<shardlog::ManualClock>,
    appended: u64,
}

impl RetainedAppender {
    fn new(recycle: bool) -> RetainedAppender {
        let dir = common::scratch_dir("append-retained");
        let clock = std::sync::Arc::new(shardlog::ManualClock::new(1_700_000_000_000));
        let options = common::options(64 * MIB)
            .initial_segment_bytes(64 * MIB)
            .recycle_segments(recycle)
            .clock(std::sync::Arc::clone(&clock) as std::sync::Arc<dyn shardlog::Clock>);
        let (log, _) = ShardLog::open(dir.path(), options).expect("open log");
        RetainedAppender {
            log: Some(log),
            _dir: dir,
            clock,
            appended: 0,
        }
    }

    fn run(&mut self, data: &[u8], iters: u64) -> Duration {
        let log = self.log.as_ref().expect("log is open");
        let start = Instant::now();
        for i in 0..iters as usize {
            self.appended += 1;
            if self.appended.is_multiple_of(APPENDS_PER_MS) {
                self.clock.advance_ms(1);
            }
            if self.appended.is_multiple_of(APPENDS_PER_RETENTION_PASS) {
                let now = shardlog::Clock::now_ms(&*self.clock);
                black_box(log.delete_segments_older_than(now - RETAINED_MS)).expect("retention");
            }
            black_box(log.append(RecordInput::new(key(i), data)).expect("append"));
        }
        start.elapsed()
    }
}

impl Drop for RetainedAppender {
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            log.close().expect("close log");
        }
    }
}

fn append_100b_retained(c: &mut Criterion) {
    let data = payload(100);
    let mut group = c.benchmark_group("append_100B_retained");
    group_settings(&mut group);
    group.throughput(Throughput::Elements(1));
    retained_appends(&mut group, &data);
    {
        let mut region = RawRegion::new(RAW_REGION_BYTES);
        group.bench_function("raw_mmap/append", |b| {
            b.iter_custom(|iters| bench_raw(&mut region, &data, iters))
        });
    }
    group.finish();
}

/// Single appends of `data` in the steady state of retention, recycling and with new files.
fn retained_appends(group: &mut Group<'_>, data: &[u8]) {
    for (name, recycle) in [("recycling", true), ("new_files", false)] {
        let mut appender = RetainedAppender::new(recycle);
        group.bench_function(format!("shardlog/append_retained_{name}"), |b| {
            b.iter_custom(|iters| appender.run(data, iters))
        });
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = append_100b, append_1kib, append_100b_retained
}
criterion_main!(benches);
