//! Records as producers hand them in and as readers get them back.

use std::ops::Range;

use bytes::Bytes;

use crate::sequence::SequenceNumber;

/// A record to append, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct RecordInput<'a> {
    /// The partition key (1 to 1024 bytes of UTF-8 in the log; the stream layer applies Kinesis'
    /// 256-character rule).
    pub partition_key: &'a str,
    /// A hash key that overrides the MD5 of the partition key for routing, if the producer gave one.
    pub explicit_hash_key: Option<u128>,
    /// The data blob.
    pub data: &'a [u8],
}

impl<'a> RecordInput<'a> {
    /// A record with a partition key and data, and no explicit hash key.
    pub fn new(partition_key: &'a str, data: &'a [u8]) -> RecordInput<'a> {
        RecordInput {
            partition_key,
            explicit_hash_key: None,
            data,
        }
    }
}

/// A record read back from a shard.
///
/// It is zero-copy: it holds its whole checksummed frame as a `Bytes` slice of the memory-mapped
/// segment (one reference count per record), which keeps the mapping alive, so a record stays valid
/// even after retention deletes its segment.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    pub(crate) sequence_number: SequenceNumber,
    pub(crate) arrival_ms: u64,
    pub(crate) explicit_hash_key: Option<u128>,
    /// The frame's bytes, verified against its checksum when it was read.
    pub(crate) frame: Bytes,
    /// Invariant: inside `frame`, and valid UTF-8 (checked when the frame was decoded).
    pub(crate) partition_key: Range<usize>,
    /// Invariant: inside `frame`.
    pub(crate) data: Range<usize>,
}

impl Record {
    /// The record's sequence number.
    pub fn sequence_number(&self) -> SequenceNumber {
        self.sequence_number
    }

    /// When the record arrived, in Unix milliseconds (never decreasing within a shard).
    pub fn arrival_ms(&self) -> u64 {
        self.arrival_ms
    }

    /// The partition key.
    pub fn partition_key(&self) -> &str {
        // The frame decoder rejects keys that are not UTF-8, so the fallback is never taken.
        let bytes = self
            .frame
            .get(self.partition_key.clone())
            .unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The explicit hash key the producer gave, if any.
    pub fn explicit_hash_key(&self) -> Option<u128> {
        self.explicit_hash_key
    }

    /// The data blob, borrowed.
    pub fn data(&self) -> &[u8] {
        self.frame.get(self.data.clone()).unwrap_or_default()
    }

    /// The data blob as an owned, zero-copy `Bytes` that shares the segment mapping.
    pub fn data_bytes(&self) -> Bytes {
        self.frame.slice(self.data.clone())
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Record")
            .field("sequence_number", &self.sequence_number.to_string())
            .field("arrival_ms", &self.arrival_ms)
            .field("partition_key", &self.partition_key())
            .field("explicit_hash_key", &self.explicit_hash_key)
            .field("data_len", &self.data.len())
            .finish()
    }
}
