//! Records as producers hand them in and as readers get them back.

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

/// A record read back from a shard. Its byte fields borrow the memory-mapped segment (zero-copy)
/// and keep the mapping alive, so a record stays valid even after retention deletes its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub(crate) sequence_number: SequenceNumber,
    pub(crate) arrival_ms: u64,
    /// Invariant: valid UTF-8 (checked when the frame was decoded).
    pub(crate) partition_key: Bytes,
    pub(crate) explicit_hash_key: Option<u128>,
    pub(crate) data: Bytes,
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
        // The frame decoder rejects keys that are not UTF-8, so this never falls back in practice.
        std::str::from_utf8(&self.partition_key).unwrap_or_default()
    }

    /// The explicit hash key the producer gave, if any.
    pub fn explicit_hash_key(&self) -> Option<u128> {
        self.explicit_hash_key
    }

    /// The data blob (zero-copy).
    pub fn data(&self) -> &Bytes {
        &self.data
    }
}
