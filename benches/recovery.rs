//! Opening a 1 GiB shard: after a clean shutdown, and after a crash.
//!
//! Setup (untimed, once): a log of 64 MiB segments is filled with ~1 GiB of 100-byte records
//! (`append_batch(500)`, page-cache durability, so the checkpoint's durable point stays at the
//! start of the log). Before closing, the checkpoint file is saved: it is exactly what a crash at
//! that moment would leave (not clean, durable point at the start). The log is then closed cleanly,
//! which syncs everything and writes the active segment's index file.
//!
//! - `reopen_clean`: `ShardLog::open` + `close` of the cleanly closed shard. Open reads the
//!   checkpoint and the index files, maps the segments and durably rewrites the checkpoint
//!   (one fdatasync); close writes the active index file and the clean checkpoint (another one).
//! - `crash_recovery_cached`: before each run (untimed) the crash image is restored: the saved
//!   checkpoint is written back and the active segment's index file (which did not exist at the
//!   "crash") is removed; segment bytes are identical to the crash image. The timed part is
//!   `ShardLog::open` alone: it validates every frame of the log (CRC, order), finds the zero tail of
//!   the active segment, re-zeroes it and syncs it, and durably rewrites the checkpoint. The segment
//!   files are in the page cache (clean), as after a process crash whose writes had been flushed.
//!   Throughput is `RecoveryReport::bytes_scanned` per open.
//! - `crash_recovery_cold`: the same, with the shard's files dropped from the page cache
//!   (`posix_fadvise(DONTNEED)` on each file, untimed) before each open, as after a reboot.

use std::fs::{self, File};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use shardlog::{RecoveryReport, ShardLog};
use tempfile::TempDir;

mod common;
use common::{GIB, MIB, payload};

const SEGMENT_BYTES: u64 = 64 * MIB;
const FILL_BYTES: u64 = GIB;
const BATCH: usize = 500;

struct CrashImage {
    dir: TempDir,
    checkpoint: Vec<u8>,
    active_index: PathBuf,
}

impl CrashImage {
    fn create() -> CrashImage {
        let data = payload(100);
        let records = common::batch(BATCH, &data);
        let dir = common::scratch_dir("recovery");
        let (log, _) = ShardLog::open(dir.path(), common::options(SEGMENT_BYTES)).expect("open");
        let frame = common::frame_len(common::key(0), data.len()) as u64;
        let mut filled = 0;
        while filled < FILL_BYTES {
            log.append_batch(&records).expect("fill");
            filled += frame * BATCH as u64;
        }
        let checkpoint = fs::read(dir.path().join("checkpoint")).expect("read checkpoint");
        let active = segment_files(dir.path()).pop().expect("a segment");
        log.close().expect("close");
        CrashImage {
            active_index: active.with_extension("idx"),
            dir,
            checkpoint,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Puts the directory back into its state at the "crash".
    fn restore(&self) {
        let path = self.path().join("checkpoint");
        fs::write(&path, &self.checkpoint).expect("restore checkpoint");
        File::open(&path)
            .and_then(|file| file.sync_all())
            .expect("sync checkpoint");
        match fs::remove_file(&self.active_index) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                panic!("remove active index: {error}")
            }
            _ => {}
        }
    }

    fn open(&self) -> (ShardLog, RecoveryReport) {
        ShardLog::open(self.path(), common::options(SEGMENT_BYTES)).expect("open")
    }
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    paths.sort();
    paths
}

/// Drops the (clean) cached pages of every file in `dir`.
fn evict_from_page_cache(dir: &Path) {
    for entry in fs::read_dir(dir).expect("list") {
        let file = File::open(entry.expect("entry").path()).expect("open for fadvise");
        // SAFETY: plain syscall on a descriptor we own.
        let code =
            unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        assert_eq!(code, 0, "posix_fadvise");
    }
}

fn recovery(c: &mut Criterion) {
    let image = CrashImage::create();
    let segments = segment_files(image.path()).len();

    let mut group = c.benchmark_group("open_1GiB");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));

    group.bench_function("reopen_clean", |b| {
        b.iter(|| {
            let (log, report) = image.open();
            assert!(report.clean_shutdown && report.frames_scanned == 0);
            assert_eq!(report.segments, segments);
            log.close().expect("close");
        })
    });

    // One untimed recovery, to learn how many bytes every crash recovery scans.
    image.restore();
    let (log, report) = image.open();
    assert!(!report.clean_shutdown && report.truncation.is_none());
    log.close().expect("close");
    println!(
        "crash image: {segments} segments, {} frames / {} bytes scanned by recovery",
        report.frames_scanned, report.bytes_scanned
    );
    let scanned = report.bytes_scanned;
    assert!(scanned >= FILL_BYTES - SEGMENT_BYTES);

    group.throughput(Throughput::Bytes(scanned));
    for (name, cold) in [
        ("crash_recovery_cached", false),
        ("crash_recovery_cold", true),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    image.restore();
                    if cold {
                        evict_from_page_cache(image.path());
                    }
                    let start = Instant::now();
                    let (log, report) = image.open();
                    timed += start.elapsed();
                    assert_eq!(report.bytes_scanned, scanned);
                    log.close().expect("close");
                }
                timed
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = recovery
}
criterion_main!(benches);
