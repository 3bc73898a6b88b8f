//! Durable appends (`Durability::Sync`: an append returns once its record is on disk), from one
//! thread and from 8 threads sharing one log (group commit), beside the raw cost of one sync on
//! the same disk.
//!
//! With one thread every append waits for its own sync, so records/s with one thread is the
//! log's syncs/s. With 8 threads, appenders that arrive while a sync runs share the next one, so
//! records/s divided by the one-thread figure estimates the records per sync. The exact number
//! of syncs can be counted from outside:
//! `perf stat -e syscalls:sys_enter_msync -- <bench binary> --bench <filter>`; each benchmark
//! prints how many records it appended in all (warm-up included) to divide by.
//!
//! Baselines: `raw/pwrite_4KiB_fdatasync` writes 4 KiB at the next offset of a preallocated file
//! and calls `fdatasync`; `raw/mmap_append_msync` copies a 146-byte frame into a mapping of a
//! preallocated file and `msync`s the page(s) it touched, as the log's sync does.
//!
//! Sync latency on the reference VM drifts by an order of magnitude from one minute to the next
//! (host and disk state), so the four cases run twice, interleaved (`round1`, `round2`): compare
//! figures within a round. 100-byte records, 10-byte keys, 64 MiB segments.

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use memmap2::MmapMut;
use shardlog::{Durability, RecordInput, ShardLog};
use tempfile::TempDir;

mod common;
use common::{MIB, key, payload};

const SEGMENT_BYTES: u64 = 64 * MIB;
const RAW_FILE_BYTES: u64 = 64 * MIB;

/// A preallocated file (and its mapping) for the raw baselines.
struct RawFile {
    // Field order matters: unmap and close before the directory is removed.
    map: MmapMut,
    file: File,
    _dir: TempDir,
    offset: u64,
    position: usize,
    counter: u64,
}

impl RawFile {
    fn new() -> RawFile {
        let dir = common::scratch_dir("raw-sync");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("raw.sync"))
            .expect("create file");
        // SAFETY: plain syscall on a descriptor we own.
        let code =
            unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, RAW_FILE_BYTES as libc::off_t) };
        assert_eq!(code, 0, "posix_fallocate");
        file.sync_all().expect("sync");
        // SAFETY: the file is private to this benchmark and is not resized while mapped.
        let map = unsafe { MmapMut::map_mut(&file) }.expect("map");
        RawFile {
            map,
            file,
            _dir: dir,
            offset: 0,
            position: 0,
            counter: 0,
        }
    }

    /// One 4 KiB write at the next offset, then `fdatasync`.
    fn pwrite_fdatasync(&mut self, block: &[u8]) {
        self.file.write_all_at(block, self.offset).expect("pwrite");
        self.file.sync_data().expect("fdatasync");
        self.offset = (self.offset + block.len() as u64) % RAW_FILE_BYTES;
    }

    /// One frame copied into the mapping, then `msync` of the bytes it covers.
    fn append_msync(&mut self, data: &[u8]) {
        let frame = common::frame_len(key(0), data.len());
        if self.position + frame > self.map.len() {
            self.position = 0;
        }
        let written = common::raw_encode(
            &mut self.map[self.position..],
            self.counter,
            common::now_ms(),
            key(self.counter as usize).as_bytes(),
            data,
        );
        self.map.flush_range(self.position, written).expect("msync");
        self.position += written;
        self.counter += 1;
    }
}

/// Times `iters` durable appends spread over `threads` threads sharing `log`.
fn durable_appends(log: &ShardLog, threads: usize, data: &[u8], iters: u64) -> Duration {
    let next = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= iters {
                        break;
                    }
                    let record = RecordInput::new(key(i as usize), data);
                    black_box(log.append(record).expect("durable append"));
                }
            });
        }
    });
    start.elapsed()
}

fn bench_log(group: &mut BenchmarkGroup<'_, WallTime>, round: u32, threads: usize, data: &[u8]) {
    let dir = common::scratch_dir("durable");
    let options = common::options(SEGMENT_BYTES).durability(Durability::Sync);
    let (log, _) = ShardLog::open(dir.path(), options).expect("open log");
    let mut appended = 0;
    let name = format!("shardlog/sync_{threads}_threads");
    group.bench_function(&name, |b| {
        b.iter_custom(|iters| {
            appended += iters;
            durable_appends(&log, threads, data, iters)
        })
    });
    log.close().expect("close");
    println!("round{round}/{name}: {appended} records appended in all runs (warm-up included)");
}

fn durable(c: &mut Criterion) {
    let data = payload(100);
    let block = vec![0x5Au8; 4096];
    for round in 1..=2 {
        let mut group = c.benchmark_group(format!("durable_append_100B/round{round}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.throughput(Throughput::Elements(1));

        bench_log(&mut group, round, 1, &data);
        let mut raw = RawFile::new();
        group.bench_function("raw/pwrite_4KiB_fdatasync", |b| {
            b.iter(|| raw.pwrite_fdatasync(&block))
        });
        group.bench_function("raw/mmap_append_msync", |b| {
            b.iter(|| raw.append_msync(&data))
        });
        bench_log(&mut group, round, 8, &data);
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = durable
}
criterion_main!(benches);
