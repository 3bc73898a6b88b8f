//! Helpers for the scenarios of one shard log (`tests/log/`): options, record generation, reading
//! everything back, crash images (a shard directory held in memory, damaged and written out again)
//! and frame maps.
//!
//! A "crash" in these tests is `std::mem::forget(log)`: no clean close runs, and what was written
//! into the shared mappings stays in the page cache, exactly as after a SIGKILL. Crash tests use
//! `Durability::PageCache` without background preparation, so the forgotten log's background
//! thread never touches the directory again.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use shardlog::log::frame;
use shardlog::{
    Durability, LogOptions, ManualClock, Record, RecordInput, RecoveryReport, SeekTo,
    SequenceNumber, ShardIdentity, ShardLog,
};

/// The shard every test log belongs to.
pub const SHARD: ShardIdentity = ShardIdentity {
    index: 7,
    created_secs: 1_700_000_000,
};

/// Where the manual clocks start: 2023-11-14, in Unix milliseconds.
pub const START_MS: u64 = 1_700_000_000_000;

/// Bytes of a segment header; the first frame starts here.
pub const SEGMENT_HEADER: usize = 64;

/// A manual clock at [`START_MS`].
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(START_MS))
}

/// Options for test logs: segments of exactly the given size (no growth, so crash images can
/// compute where frames lie), the durability, records of up to 2 KiB, the manual clock, and no
/// background segment preparation (see the module documentation).
pub fn options(clock: &Arc<ManualClock>, segment_bytes: u64, durability: Durability) -> LogOptions {
    LogOptions::new(SHARD)
        .segment_bytes(segment_bytes)
        .initial_segment_bytes(segment_bytes)
        .record_data_bytes_max(2048)
        .durability(durability)
        .prepare_segments_in_background(false)
        .clock(Arc::clone(clock) as Arc<dyn shardlog::Clock>)
}

/// Opens a log, panicking with the error if it cannot be opened.
pub fn open(dir: &Path, options: &LogOptions) -> (ShardLog, RecoveryReport) {
    match ShardLog::open(dir, options.clone()) {
        Ok(opened) => opened,
        Err(error) => panic!("opening {} failed: {error}", dir.display()),
    }
}

/// Simulates a process crash: the log is never closed, its mappings stay in the page cache.
pub fn crash(log: ShardLog) {
    std::mem::forget(log);
}

/// Deterministic, id-dependent bytes (a splitmix64 stream), so a record's data proves its identity.
pub fn payload(id: u64, len: usize) -> Vec<u8> {
    let state = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (len as u64);
    super::splitmix_bytes(state, len)
}

/// The partition key of record `id`.
pub fn key(id: u64) -> String {
    format!("key-{id}")
}

/// A record as appended, for comparing with what is read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub sequence_number: SequenceNumber,
    pub arrival_ms: u64,
    pub key: String,
    pub hash_key: Option<u128>,
    pub data: Vec<u8>,
}

impl Expected {
    pub fn counter(&self) -> u64 {
        self.sequence_number.counter()
    }
}

/// Appends record `id` with `data_len` bytes of data at the clock's current time.
pub fn append(
    log: &ShardLog,
    clock: &ManualClock,
    id: u64,
    data_len: usize,
    hash_key: Option<u128>,
) -> Expected {
    use shardlog::Clock;
    let key = key(id);
    let data = payload(id, data_len);
    let sequence_number = log
        .append(RecordInput {
            partition_key: &key,
            explicit_hash_key: hash_key,
            data: &data,
        })
        .unwrap_or_else(|error| panic!("appending record {id} failed: {error}"));
    Expected {
        sequence_number,
        arrival_ms: clock.now_ms(),
        key,
        hash_key,
        data,
    }
}

/// Appends records `ids` with the data length `len(id)`, advancing the clock by 1 ms every third record
/// (so arrival times both repeat and grow).
pub fn append_many(
    log: &ShardLog,
    clock: &ManualClock,
    ids: std::ops::Range<u64>,
    len: impl Fn(u64) -> usize,
) -> Vec<Expected> {
    ids.map(|id| {
        if id.is_multiple_of(3) {
            clock.advance_ms(1);
        }
        let hash_key = (id % 4 == 1).then_some(u128::from(id) << 64 | 0xABCD);
        append(log, clock, id, len(id), hash_key)
    })
    .collect()
}

/// Every record from `seek` to the end.
pub fn read_from(log: &ShardLog, seek: SeekTo) -> Vec<Record> {
    let mut reader = log
        .reader(seek)
        .unwrap_or_else(|error| panic!("positioning a reader at {seek:?} failed: {error}"));
    let mut records = Vec::new();
    loop {
        match reader.read_into(&mut records, 1000) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => panic!(
                "reading from {seek:?} failed after {} records: {error}",
                records.len()
            ),
        }
    }
    records
}

/// Every record in the log.
pub fn read_all(log: &ShardLog) -> Vec<Record> {
    read_from(log, SeekTo::Oldest)
}

/// Whether a record read back is exactly the one appended.
pub fn same_record(record: &Record, expected: &Expected) -> bool {
    record.sequence_number() == expected.sequence_number
        && record.arrival_ms() == expected.arrival_ms
        && record.partition_key() == expected.key
        && record.explicit_hash_key() == expected.hash_key
        && record.data()[..] == expected.data[..]
}

/// Asserts that `actual` is exactly `expected`, record by record (counter, arrival, key, hash key
/// and data), naming the first difference.
pub fn assert_records(actual: &[Record], expected: &[Expected], context: &str) {
    let actual_counters: Vec<u64> = actual
        .iter()
        .map(|r| r.sequence_number().counter())
        .collect();
    let expected_counters: Vec<u64> = expected.iter().map(Expected::counter).collect();
    assert_eq!(
        actual_counters, expected_counters,
        "{context}: the counters read back differ from the expected ones"
    );
    for (i, (record, expected)) in actual.iter().zip(expected).enumerate() {
        assert!(
            same_record(record, expected),
            "{context}: record {i} (counter {}) differs: read key {:?}, hash {:?}, arrival {}, {} data bytes; \
             expected key {:?}, hash {:?}, arrival {}, {} data bytes",
            expected.counter(),
            record.partition_key(),
            record.explicit_hash_key(),
            record.arrival_ms(),
            record.data().len(),
            expected.key,
            expected.hash_key,
            expected.arrival_ms,
            expected.data.len(),
        );
    }
}

/// Asserts that the records read back are exactly some prefix of `appended`, and returns its length.
pub fn assert_exact_prefix(actual: &[Record], appended: &[Expected], context: &str) -> usize {
    assert!(
        actual.len() <= appended.len(),
        "{context}: read {} records but only {} were appended",
        actual.len(),
        appended.len()
    );
    assert_records(actual, &appended[..actual.len()], context);
    actual.len()
}

/// Asserts that sequence numbers strictly increase along `records`.
pub fn assert_strictly_increasing(records: &[Record], context: &str) {
    for pair in records.windows(2) {
        assert!(
            pair[0].sequence_number() < pair[1].sequence_number()
                && pair[0].sequence_number().counter() < pair[1].sequence_number().counter(),
            "{context}: sequence numbers do not increase: {} then {}",
            pair[0].sequence_number(),
            pair[1].sequence_number()
        );
    }
}

/// File name of the segment with base counter `base`.
pub fn segment_name(base: u64) -> String {
    format!("{base:020}.seg")
}

/// File name of the index of the segment with base counter `base`.
pub fn index_name(base: u64) -> String {
    format!("{base:020}.idx")
}

/// Base counters of the segment files in `dir`, in order.
pub fn segment_bases(dir: &Path) -> Vec<u64> {
    let mut bases: Vec<u64> = fs::read_dir(dir)
        .expect("listing the shard directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let digits = name.strip_suffix(".seg")?;
            (digits.len() == 20).then(|| digits.parse().ok()).flatten()
        })
        .collect();
    bases.sort_unstable();
    bases
}

/// Where one frame lies in a segment file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameAt {
    pub offset: usize,
    pub len: usize,
    pub counter: u64,
}

impl FrameAt {
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
}

/// The valid frames of a segment file, in order, from the header to the first invalid frame.
pub fn frames(segment: &[u8]) -> Vec<FrameAt> {
    let mut found = Vec::new();
    let mut offset = SEGMENT_HEADER;
    while let Some(rest) = segment.get(offset..) {
        let Ok(decoded) = frame::decode(rest) else {
            break;
        };
        found.push(FrameAt {
            offset,
            len: decoded.frame_len,
            counter: decoded.counter,
        });
        offset += decoded.frame_len;
    }
    found
}

/// A shard directory's files held in memory: a crash image to damage and write out again.
#[derive(Clone, Debug)]
pub struct Image {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Image {
    /// Reads every file of `dir`. Reads go through the page cache, so after a simulated crash this is
    /// exactly what a restarted process would find.
    pub fn capture(dir: &Path) -> Image {
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(dir).expect("listing the shard directory") {
            let entry = entry.expect("reading a directory entry");
            let name = entry.file_name().into_string().expect("UTF-8 file name");
            files.insert(name, fs::read(entry.path()).expect("reading a shard file"));
        }
        Image { files }
    }

    /// Writes every file into `dir`, which must be empty or absent.
    pub fn restore(&self, dir: &Path) {
        fs::create_dir_all(dir).expect("creating the shard directory");
        for (name, bytes) in &self.files {
            fs::write(dir.join(name), bytes).expect("writing a shard file");
        }
    }

    /// The bytes of file `name`.
    pub fn file(&self, name: &str) -> &[u8] {
        self.files
            .get(name)
            .unwrap_or_else(|| panic!("no file {name} in the image"))
    }

    /// The bytes of file `name`, to damage.
    pub fn file_mut(&mut self, name: &str) -> &mut Vec<u8> {
        self.files
            .get_mut(name)
            .unwrap_or_else(|| panic!("no file {name} in the image"))
    }

    /// Base counters of the segments in the image, in order.
    pub fn segment_bases(&self) -> Vec<u64> {
        self.files
            .keys()
            .filter_map(|name| {
                let digits = name.strip_suffix(".seg")?;
                (digits.len() == 20).then(|| digits.parse().ok()).flatten()
            })
            .collect()
    }
}

/// Appends records with ids from `first_id` on (data of 500 to 700 bytes) until the log has `segments`
/// segment files and the last of them holds `in_last` records; returns what was appended.
pub fn append_until_segments(
    log: &ShardLog,
    clock: &ManualClock,
    first_id: u64,
    segments: usize,
    in_last: usize,
) -> Vec<Expected> {
    let mut appended = Vec::new();
    let mut id = first_id;
    while segment_bases(log.dir()).len() < segments {
        appended.extend(append_many(log, clock, id..id + 1, |id| {
            500 + (id as usize * 41) % 200
        }));
        id += 1;
    }
    appended.extend(append_many(log, clock, id..id + in_last as u64 - 1, |id| {
        500 + (id as usize * 41) % 200
    }));
    appended
}

/// The records of `appended` whose counters lie in `[from, to)`.
pub fn with_counters_in(appended: &[Expected], from: u64, to: u64) -> Vec<Expected> {
    appended
        .iter()
        .filter(|e| (from..to).contains(&e.counter()))
        .cloned()
        .collect()
}
