//! Helpers shared by the benchmark files: record shapes, scratch directories, the raw mmap
//! baseline (the same frame layout written and walked by hand) and the commitlog peer.
//!
//! Each bench file includes this module with `mod common;` and uses only part of it.
#![allow(dead_code)]

pub mod fan_out;

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::Criterion;
use memmap2::{Mmap, MmapMut};
use shardlog::log::frame::HEADER_BYTES;
use shardlog::{LogOptions, RecordInput, ShardIdentity};
use tempfile::TempDir;

/// The shard every benchmark log belongs to.
pub const SHARD: ShardIdentity = ShardIdentity {
    index: 0,
    created_secs: 1_700_000_000,
};

/// Partition keys of 10 bytes, used round-robin.
pub const KEYS: [&str; 16] = [
    "user-00000",
    "user-00001",
    "user-00002",
    "user-00003",
    "user-00004",
    "user-00005",
    "user-00006",
    "user-00007",
    "user-00008",
    "user-00009",
    "user-00010",
    "user-00011",
    "user-00012",
    "user-00013",
    "user-00014",
    "user-00015",
];

/// Bytes of the segment header that precedes the first frame of every segment file.
pub const SEGMENT_HEADER_BYTES: usize = 64;

pub const MIB: u64 = 1024 * 1024;
pub const GIB: u64 = 1024 * MIB;

/// A payload of `len` bytes with a non-trivial pattern.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// The partition key of record number `i`.
pub fn key(i: usize) -> &'static str {
    KEYS[i % KEYS.len()]
}

/// `n` records sharing one payload, with keys round-robin.
pub fn batch<'a>(n: usize, data: &'a [u8]) -> Vec<RecordInput<'a>> {
    (0..n).map(|i| RecordInput::new(key(i), data)).collect()
}

/// Bytes one frame of this shape takes in a segment (no explicit hash key).
pub fn frame_len(key: &str, data_len: usize) -> usize {
    HEADER_BYTES + key.len() + data_len
}

/// Log options with the given segment size and page-cache durability.
pub fn options(segment_bytes: u64) -> LogOptions {
    LogOptions::new(SHARD).segment_bytes(segment_bytes)
}

/// A scratch directory for a benchmark. `SHARDLOG_BENCH_DIR` overrides the parent (default: the
/// system temp dir, which on the reference machine is ext4 on the virtio disk, not tmpfs).
pub fn scratch_dir(label: &str) -> TempDir {
    let prefix = format!("shardlog-bench-{label}-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    match std::env::var_os("SHARDLOG_BENCH_DIR") {
        Some(parent) => {
            std::fs::create_dir_all(&parent).expect("create SHARDLOG_BENCH_DIR");
            builder.tempdir_in(parent)
        }
        None => builder.tempdir(),
    }
    .expect("create scratch dir")
}

/// Wall-clock milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

/// Criterion settings shared by every bench file: small sample counts so that the whole suite
/// stays within ~15 minutes on a 2-core machine.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4))
        .configure_from_args()
}

// ---------------------------------------------------------------------------------------------
// Raw baseline: the shardlog frame layout, written and verified by hand.
// ---------------------------------------------------------------------------------------------

/// Encodes one frame (36-byte header, key, data; CRC32 of bytes [4, len) stored at [0, 4)) at the
/// front of `dst` and returns its length. Same layout as `shardlog::log::frame`, written directly.
#[inline]
pub fn raw_encode(dst: &mut [u8], counter: u64, arrival_ms: u64, key: &[u8], data: &[u8]) -> usize {
    let len = HEADER_BYTES + key.len() + data.len();
    let frame = &mut dst[..len];
    frame[4..6].copy_from_slice(b"SL");
    frame[6] = 1;
    frame[7] = 0;
    frame[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    frame[12..20].copy_from_slice(&counter.to_le_bytes());
    frame[20..28].copy_from_slice(&arrival_ms.to_le_bytes());
    frame[28..30].copy_from_slice(&(key.len() as u16).to_le_bytes());
    frame[30..32].copy_from_slice(&[0, 0]);
    frame[32..36].copy_from_slice(&(data.len() as u32).to_le_bytes());
    frame[HEADER_BYTES..HEADER_BYTES + key.len()].copy_from_slice(key);
    frame[HEADER_BYTES + key.len()..].copy_from_slice(data);
    let crc = crc32fast::hash(&frame[4..]);
    frame[0..4].copy_from_slice(&crc.to_le_bytes());
    len
}

fn u16_le(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_le(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_le(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Walks the frames of one segment file's bytes from the first frame, verifying each CRC, and
/// hands (counter, key, data) of each to `black_box`. Stops at the first byte run that is not a
/// frame (the zero-filled preallocated tail). Returns the number of frames.
#[inline]
pub fn raw_walk(segment: &[u8]) -> u64 {
    let mut offset = SEGMENT_HEADER_BYTES;
    let mut frames = 0;
    while offset + HEADER_BYTES <= segment.len() {
        let header = &segment[offset..offset + HEADER_BYTES];
        if &header[4..6] != b"SL" {
            break;
        }
        let len = u32_le(header, 8) as usize;
        let key_len = u16_le(header, 28) as usize;
        let Some(frame) = segment.get(offset..offset + len) else {
            break;
        };
        let stored = u32_le(frame, 0);
        assert_eq!(stored, crc32fast::hash(&frame[4..]), "checksum at {offset}");
        black_box((
            u64_le(header, 12),
            &frame[HEADER_BYTES..HEADER_BYTES + key_len],
            &frame[HEADER_BYTES + key_len..],
        ));
        frames += 1;
        offset += len;
    }
    frames
}

/// Maps every `.seg` file in `dir` read-only, in log order.
pub fn map_segments(dir: &Path) -> Vec<Mmap> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("list shard dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "seg"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let file = File::open(path).expect("open segment");
            // SAFETY: the benchmark does not modify the segment files while they are mapped.
            unsafe { Mmap::map(&file) }.expect("map segment")
        })
        .collect()
}

/// The raw append baseline: frames written into an already-faulted, file-backed shared mapping
/// (a preallocated file on the same file system as the logs), wrapping around at the end.
pub struct RawRegion {
    _dir: TempDir,
    map: MmapMut,
    offset: usize,
    counter: u64,
}

impl RawRegion {
    /// A `bytes`-long region, preallocated and pre-touched.
    pub fn new(bytes: usize) -> RawRegion {
        let dir = scratch_dir("raw");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.path().join("raw.region"))
            .expect("create raw region file");
        // SAFETY: plain syscall on a descriptor we own.
        let code = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, bytes as libc::off_t) };
        assert_eq!(code, 0, "posix_fallocate");
        // SAFETY: the file is private to this benchmark and is not resized while mapped.
        let map = unsafe { MmapMut::map_mut(&file) }.expect("map raw region");
        let mut region = RawRegion {
            _dir: dir,
            map,
            offset: 0,
            counter: 0,
        };
        region.touch();
        region
    }

    /// Writes one byte per page, so every page is resident and writable (also undoing any
    /// write-protection left by kernel writeback since the last touch).
    pub fn touch(&mut self) {
        for page in (0..self.map.len()).step_by(4096) {
            self.map[page] = 0;
        }
    }

    /// Appends one frame, wrapping to the start when it would not fit.
    #[inline]
    pub fn append(&mut self, arrival_ms: u64, key: &[u8], data: &[u8]) -> usize {
        let len = HEADER_BYTES + key.len() + data.len();
        if self.offset + len > self.map.len() {
            self.offset = 0;
        }
        let written = raw_encode(
            &mut self.map[self.offset..],
            self.counter,
            arrival_ms,
            key,
            data,
        );
        self.offset += written;
        self.counter += 1;
        written
    }

    /// The region's bytes (for checking the layout against shardlog's decoder).
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

// ---------------------------------------------------------------------------------------------
// The commitlog peer.
// ---------------------------------------------------------------------------------------------

/// A commitlog in its own scratch directory, with `segment_bytes` segments. The partition key is
/// stored as the message metadata so both logs store the same bytes per record.
pub struct Peer {
    pub log: commitlog::CommitLog,
    _dir: TempDir,
}

impl Peer {
    pub fn new(segment_bytes: usize) -> Peer {
        let dir = scratch_dir("commitlog");
        let mut options = commitlog::LogOptions::new(dir.path());
        options
            .segment_max_bytes(segment_bytes)
            .index_max_items(1 << 20)
            .message_max_bytes(8 << 20);
        let log = commitlog::CommitLog::new(options).expect("open commitlog");
        Peer { log, _dir: dir }
    }
}
