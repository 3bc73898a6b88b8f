//! Helpers shared by the target bodies: reading structured choices out of fuzz input, an
//! independent CRC-32, scratch directories, and snapshots of a directory's files.

use std::fs;
use std::path::Path;

use shardlog::{LogError, Record, SeekTo, SequenceNumber, ShardLog};

/// Reads fixed-width values off the front of the fuzz input. Past the end every value is zero, so
/// a short input is still a complete (if dull) program.
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps `bytes`.
    pub fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes }
    }

    /// Whether every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next `n` bytes, or fewer at the end of the input.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        head
    }

    /// Everything not consumed yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.bytes.len())
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// The next little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        let mut le = [0u8; 2];
        let bytes = self.take(2);
        le[..bytes.len()].copy_from_slice(bytes);
        u16::from_le_bytes(le)
    }

    /// The next little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        let mut le = [0u8; 4];
        let bytes = self.take(4);
        le[..bytes.len()].copy_from_slice(bytes);
        u32::from_le_bytes(le)
    }

    /// The next little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        let mut le = [0u8; 8];
        let bytes = self.take(8);
        le[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(le)
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it), written here bit by bit so that the
/// targets check the engine's checksums against an implementation that shares nothing with it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A fresh scratch directory, on tmpfs when the machine has one (fsyncs there are nearly free).
pub fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = {
        let mut builder = tempfile::Builder::new();
        builder.prefix("slfz-");
        builder
    };
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return dir;
    }
    builder.tempdir().expect("creating a scratch directory")
}

/// Every regular file in `dir`, by name, sorted by name.
pub type Snapshot = Vec<(String, Vec<u8>)>;

/// Reads every regular file of `dir`. Taken while a log is open, this is exactly what a process
/// crash (`kill -9`) at that moment would leave behind: the log writes through a shared mapping
/// and `pwrite`, so the page cache, which `read` sees, holds everything it wrote.
pub fn snapshot(dir: &Path) -> Snapshot {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("listing the shard directory") {
        let entry = entry.expect("reading a directory entry");
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        // A file can vanish between listing and reading (the log's background thread discards
        // prepared segments); what is gone was not there at the crash either.
        if let Ok(bytes) = fs::read(entry.path())
            && entry.file_type().is_ok_and(|kind| kind.is_file())
        {
            files.push((name, bytes));
        }
    }
    files.sort();
    files
}

/// Replaces the contents of `dir` with `files`. Files are deleted and written anew, so mappings
/// of the old files that a dropped log may still hold never see the new bytes.
pub fn restore(dir: &Path, files: &[(String, Vec<u8>)]) {
    for entry in fs::read_dir(dir).expect("listing the shard directory") {
        let path = entry.expect("reading a directory entry").path();
        fs::remove_file(&path).expect("clearing the shard directory");
    }
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).expect("restoring a file");
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let last_start = match haystack.len().checked_sub(needle.len()) {
        Some(last_start) => last_start,
        None => return false,
    };
    (0..=last_start).any(|start| haystack[start] == first && haystack[start..].starts_with(needle))
}

/// A record as the log must return it: what was appended, and what the log assigned to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Expected {
    /// The sequence number `append` returned.
    pub sequence_number: SequenceNumber,
    /// The arrival time, Unix milliseconds.
    pub arrival_ms: u64,
    /// The partition key.
    pub partition_key: String,
    /// The explicit hash key, if any.
    pub explicit_hash_key: Option<u128>,
    /// The data.
    pub data: Vec<u8>,
}

impl Expected {
    /// A record read back from a log, as an owned value to compare.
    pub fn of(record: &Record) -> Expected {
        Expected {
            sequence_number: record.sequence_number(),
            arrival_ms: record.arrival_ms(),
            partition_key: record.partition_key().to_owned(),
            explicit_hash_key: record.explicit_hash_key(),
            data: record.data().to_vec(),
        }
    }

    /// The record's sequence counter.
    pub fn counter(&self) -> u64 {
        self.sequence_number.counter()
    }
}

impl std::fmt::Debug for Expected {
    /// Short enough for an assertion message: the data as its length and first bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.data[..self.data.len().min(8)];
        f.debug_struct("Record")
            .field("counter", &self.counter())
            .field("arrival_ms", &self.arrival_ms)
            .field("partition_key", &self.partition_key)
            .field("explicit_hash_key", &self.explicit_hash_key)
            .field("data_len", &self.data.len())
            .field("data_starts", &shown)
            .finish()
    }
}

/// Whether the known, reported shardlog bug `issue` is to be steered around.
///
/// A target fails on a known bug like on any other, so that the corpus input that found it keeps
/// `cargo test` failing until the bug is fixed. A long fuzzing run can list issues in
/// `SHARDLOG_FUZZ_TOLERATE` (comma-separated) to avoid them and look for other bugs meanwhile.
/// The issues are described in `RELIABILITY.md`.
pub fn tolerated(issue: &str) -> bool {
    static TOLERATED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TOLERATED
        .get_or_init(|| {
            std::env::var("SHARDLOG_FUZZ_TOLERATE")
                .unwrap_or_default()
                .split(',')
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect()
        })
        .iter()
        .any(|name| name == issue)
}

/// Reads from `seek` until the reader has caught up, and returns what it read and the error that
/// stopped it, if one did. A reader that returns more than `limit` records is taken to loop.
pub fn read_all(log: &ShardLog, seek: SeekTo, limit: usize) -> (Vec<Expected>, Option<LogError>) {
    let mut reader = match log.reader(seek) {
        Ok(reader) => reader,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut records = Vec::new();
    let mut read = Vec::new();
    loop {
        read.clear();
        let result = reader.read_into(&mut read, 16);
        records.extend(read.iter().map(Expected::of));
        assert!(
            records.len() <= limit,
            "the reader returned more than {limit} records"
        );
        match result {
            Ok(0) => return (records, None),
            Ok(count) => assert_eq!(count, read.len(), "read_into counts what it read"),
            Err(error) => return (records, Some(error)),
        }
    }
}

/// Sequence counters strictly increase and arrival times never decrease along `records`.
pub fn assert_log_order(records: &[Expected]) {
    for pair in records.windows(2) {
        assert!(
            pair[0].counter() < pair[1].counter(),
            "counters out of order: {} then {} (sequence numbers {} then {})",
            pair[0].counter(),
            pair[1].counter(),
            pair[0].sequence_number,
            pair[1].sequence_number
        );
        assert!(
            pair[0].arrival_ms <= pair[1].arrival_ms,
            "arrival times decrease: {} then {}",
            pair[0].arrival_ms,
            pair[1].arrival_ms
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
