//! The record frame: how one record is laid out inside a segment.
//!
//! A frame is self-describing and checksummed, so the log can be recovered by reading frames from the
//! start of a segment and stopping at the first one that does not validate. The byte-by-byte layout
//! is documented in `docs/FORMAT.md`; in short (all integers little-endian):
//!
//! ```text
//! offset size field
//!      0    4 crc32 (IEEE) of bytes [4, frame_len)
//!      4    2 magic "SL"
//!      6    1 format version (1)
//!      7    1 flags: bit 0 = explicit hash key present; other bits must be 0
//!      8    4 frame_len: header + body, in bytes
//!     12    8 sequence counter (per-shard, strictly increasing, < 2^63)
//!     20    8 arrival time, Unix milliseconds
//!     28    2 partition key length in bytes (1..=1024)
//!     30    2 reserved, must be 0
//!     32    4 data length in bytes
//!     36   16 explicit hash key, u128 big-endian (only when flag bit 0 is set)
//!      …      partition key (UTF-8), then data
//! ```
//!
//! Why these choices: the magic sits inside the checksummed range and is non-zero, so a zero-filled
//! (preallocated, never written) region can never parse as a frame — the CRC of nothing is 0, a
//! magic of zero is impossible. `frame_len` is redundant with the three lengths on purpose: a decoder
//! cross-checks them, so a torn or garbled header is caught before the CRC is even computed. Stale
//! but valid-looking frames (from before a crash-truncation) are rejected one level up, by the
//! scanner's sequence-continuity check, not here.

use super::checksum;
use crate::record::RecordInput;
use crate::sequence::SequenceNumber;
use std::ops::Range;

/// Bytes of the fixed frame header.
pub const HEADER_BYTES: usize = 36;
/// Bytes of the optional explicit hash key.
pub const HASH_KEY_BYTES: usize = 16;
/// Largest partition key, in UTF-8 bytes: Kinesis allows 256 Unicode characters, at most 4 bytes each.
pub const PARTITION_KEY_BYTES_MAX: usize = 1024;
/// Largest data blob the format can carry (Kinesis' ceiling for large records is 10 MiB).
pub const DATA_BYTES_MAX: usize = 10 * 1024 * 1024;
/// Largest frame the format can carry.
pub const FRAME_BYTES_MAX: usize =
    HEADER_BYTES + HASH_KEY_BYTES + PARTITION_KEY_BYTES_MAX + DATA_BYTES_MAX;

const MAGIC: [u8; 2] = *b"SL";
const FORMAT_VERSION: u8 = 1;
const FLAG_EXPLICIT_HASH_KEY: u8 = 0b0000_0001;
const FLAGS_KNOWN: u8 = FLAG_EXPLICIT_HASH_KEY;
/// Sequence counters are 63-bit (the top bit of the Kinesis counter field is always 0).
const COUNTER_MAX: u64 = SequenceNumber::COUNTER_MAX;
/// The latest arrival time a sequence number can encode (its seconds field is 36 bits wide).
pub const ARRIVAL_MS_MAX: u64 = SequenceNumber::SECONDS_MAX * 1000 + 999;

/// Why a run of bytes is not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer bytes remain than the header or the frame length needs.
    #[error("truncated frame: needs {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes that were available.
        available: usize,
    },
    /// The magic bytes are wrong (zero-filled space looks like this).
    #[error("no frame magic")]
    BadMagic,
    /// The frame was written by an unknown format version.
    #[error("unsupported frame format version {0}")]
    UnsupportedVersion(u8),
    /// Unknown flag bits or a non-zero reserved field.
    #[error("reserved bits set in frame header")]
    ReservedBitsSet,
    /// `frame_len` disagrees with the lengths of the parts.
    #[error("frame length {frame_len} disagrees with its parts ({parts} bytes)")]
    LengthMismatch {
        /// Length from the header.
        frame_len: usize,
        /// Length the parts add up to.
        parts: usize,
    },
    /// A length field is outside what the format allows.
    #[error("frame field out of range: {0}")]
    OutOfRange(&'static str),
    /// The checksum does not match the bytes.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        /// CRC stored in the frame.
        stored: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// The partition key is not UTF-8.
    #[error("partition key is not valid UTF-8")]
    PartitionKeyNotUtf8,
}

/// One record as the writer hands it to [`encode`]: what the producer gave, unchanged since it
/// entered the library, and what the log adds.
#[derive(Debug, Clone, Copy)]
pub struct FrameFields<'a> {
    /// Per-shard sequence counter.
    pub counter: u64,
    /// Arrival time, Unix milliseconds.
    pub arrival_ms: u64,
    /// The record: partition key (1..=[`PARTITION_KEY_BYTES_MAX`] bytes), explicit hash key if
    /// the producer gave one, and data.
    pub record: RecordInput<'a>,
}

impl FrameFields<'_> {
    /// Total encoded size of this frame in bytes.
    pub fn encoded_len(&self) -> usize {
        let hash_key_bytes = if self.record.explicit_hash_key.is_some() {
            HASH_KEY_BYTES
        } else {
            0
        };
        HEADER_BYTES + hash_key_bytes + self.record.partition_key.len() + self.record.data.len()
    }
}

/// A frame that validated, with the positions of its parts relative to the frame start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Total length of the frame in bytes.
    pub frame_len: usize,
    /// Per-shard sequence counter.
    pub counter: u64,
    /// Arrival time, Unix milliseconds.
    pub arrival_ms: u64,
    /// Explicit hash key, if present.
    pub explicit_hash_key: Option<u128>,
    /// Where the partition key lies within the frame.
    pub partition_key: Range<usize>,
    /// Where the data lies within the frame.
    pub data: Range<usize>,
}

/// Encodes `fields` into the front of `destination` and returns the frame length.
///
/// The caller guarantees `destination.len() >= fields.encoded_len()` and that the fields are within
/// the format's limits (the log validates both before it reserves space); a violation is a bug in
/// the caller, so it is asserted rather than returned.
pub fn encode(fields: &FrameFields<'_>, destination: &mut [u8]) -> usize {
    let frame_len = fields.encoded_len();
    let record = &fields.record;
    let key = record.partition_key.as_bytes();
    assert!(
        !key.is_empty() && key.len() <= PARTITION_KEY_BYTES_MAX,
        "partition key length validated by the caller"
    );
    assert!(
        record.data.len() <= DATA_BYTES_MAX,
        "data length validated by the caller"
    );
    assert!(
        fields.counter <= COUNTER_MAX,
        "counter validated by the caller"
    );
    assert!(
        fields.arrival_ms <= ARRIVAL_MS_MAX,
        "arrival time validated by the caller"
    );
    let (frame, _) = destination.split_at_mut(frame_len);
    let (header, body) = frame.split_at_mut(HEADER_BYTES);

    let flags = if record.explicit_hash_key.is_some() {
        FLAG_EXPLICIT_HASH_KEY
    } else {
        0
    };
    let mut header_bytes = [0u8; HEADER_BYTES];
    header_bytes[4..6].copy_from_slice(&MAGIC);
    header_bytes[6] = FORMAT_VERSION;
    header_bytes[7] = flags;
    header_bytes[8..12].copy_from_slice(&(frame_len as u32).to_le_bytes());
    header_bytes[12..20].copy_from_slice(&fields.counter.to_le_bytes());
    header_bytes[20..28].copy_from_slice(&fields.arrival_ms.to_le_bytes());
    header_bytes[28..30].copy_from_slice(&(key.len() as u16).to_le_bytes());
    header_bytes[32..36].copy_from_slice(&(record.data.len() as u32).to_le_bytes());
    header.copy_from_slice(&header_bytes);

    let mut rest = body;
    if let Some(hash_key) = record.explicit_hash_key {
        let (hash_key_bytes, tail) = rest.split_at_mut(HASH_KEY_BYTES);
        hash_key_bytes.copy_from_slice(&hash_key.to_be_bytes());
        rest = tail;
    }
    let (key_bytes, data_bytes) = rest.split_at_mut(key.len());
    key_bytes.copy_from_slice(key);
    data_bytes.copy_from_slice(record.data);

    let (crc_field, covered) = frame.split_at_mut(4);
    crc_field.copy_from_slice(&checksum::crc32(covered).to_le_bytes());
    frame_len
}

/// The counter of the frame header at the front of `bytes`, if they start with one of this format
/// (magic and version; nothing else is checked): how recovery tells a torn frame from stale bytes.
pub fn counter_if_framed(bytes: &[u8]) -> Option<u64> {
    let header: &[u8; HEADER_BYTES] = bytes.first_chunk()?;
    ([header[4], header[5]] == MAGIC && header[6] == FORMAT_VERSION)
        .then(|| u64::from_le_bytes(array_at::<8>(header, 12)))
}

/// Decodes and fully validates the frame at the front of `bytes` (which may continue past it).
pub fn decode(bytes: &[u8]) -> Result<DecodedFrame, FrameError> {
    let header: &[u8; HEADER_BYTES] = bytes.first_chunk().ok_or(FrameError::Truncated {
        needed: HEADER_BYTES,
        available: bytes.len(),
    })?;
    // Fixed offsets into a fixed-size array: checked at compile time, no run-time bounds checks.
    if [header[4], header[5]] != MAGIC {
        return Err(FrameError::BadMagic);
    }
    let version = header[6];
    if version != FORMAT_VERSION {
        return Err(FrameError::UnsupportedVersion(version));
    }
    let flags = header[7];
    if flags & !FLAGS_KNOWN != 0 || [header[30], header[31]] != [0, 0] {
        return Err(FrameError::ReservedBitsSet);
    }
    let frame_len = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
    let counter = u64::from_le_bytes(array_at::<8>(header, 12));
    let arrival_ms = u64::from_le_bytes(array_at::<8>(header, 20));
    let key_len = usize::from(u16::from_le_bytes([header[28], header[29]]));
    let data_len = u32::from_le_bytes([header[32], header[33], header[34], header[35]]) as usize;
    if key_len == 0 || key_len > PARTITION_KEY_BYTES_MAX {
        return Err(FrameError::OutOfRange("partition key length"));
    }
    if data_len > DATA_BYTES_MAX {
        return Err(FrameError::OutOfRange("data length"));
    }
    if counter > COUNTER_MAX {
        return Err(FrameError::OutOfRange("sequence counter"));
    }
    if arrival_ms > ARRIVAL_MS_MAX {
        return Err(FrameError::OutOfRange("arrival time"));
    }
    let hash_key_bytes = if flags & FLAG_EXPLICIT_HASH_KEY != 0 {
        HASH_KEY_BYTES
    } else {
        0
    };
    let parts = HEADER_BYTES + hash_key_bytes + key_len + data_len;
    if parts != frame_len {
        return Err(FrameError::LengthMismatch { frame_len, parts });
    }
    let frame = bytes.get(..frame_len).ok_or(FrameError::Truncated {
        needed: frame_len,
        available: bytes.len(),
    })?;
    let stored = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let computed = checksum::crc32(frame.get(4..).unwrap_or_default());
    if stored != computed {
        return Err(FrameError::ChecksumMismatch { stored, computed });
    }

    let key_start = HEADER_BYTES + hash_key_bytes;
    let partition_key = key_start..key_start + key_len;
    let key = frame.get(partition_key.clone()).unwrap_or_default();
    // Keys are nearly always ASCII; `is_ascii` checks a word at a time, `from_utf8` is the fallback.
    if !key.is_ascii() && std::str::from_utf8(key).is_err() {
        return Err(FrameError::PartitionKeyNotUtf8);
    }
    let explicit_hash_key = (hash_key_bytes != 0).then(|| {
        let mut be = [0u8; HASH_KEY_BYTES];
        if let Some(stored) = frame.get(HEADER_BYTES..key_start) {
            be.copy_from_slice(stored);
        }
        u128::from_be_bytes(be)
    });
    Ok(DecodedFrame {
        frame_len,
        counter,
        arrival_ms,
        explicit_hash_key,
        data: key_start + key_len..frame_len,
        partition_key,
    })
}

/// `N` bytes of a frame header from `offset`, which the caller keeps inside the header.
fn array_at<const N: usize>(header: &[u8; HEADER_BYTES], offset: usize) -> [u8; N] {
    let mut field = [0u8; N];
    if let Some(bytes) = header.get(offset..offset + N) {
        field.copy_from_slice(bytes);
    }
    field
}

// The helpers below read fixed-width fields of other on-disk structures (segment header, index,
// checkpoint); `get` keeps them panic-free, reading a missing field as zero, which then fails
// the structure's own validation.

pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    let mut le = [0u8; 4];
    if let Some(field) = bytes.get(offset..offset + 4) {
        le.copy_from_slice(field);
    }
    u32::from_le_bytes(le)
}

pub(crate) fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    let mut le = [0u8; 8];
    if let Some(field) = bytes.get(offset..offset + 8) {
        le.copy_from_slice(field);
    }
    u64::from_le_bytes(le)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sample(explicit_hash_key: Option<u128>) -> (Vec<u8>, usize) {
        let fields = FrameFields {
            counter: 42,
            arrival_ms: 1_700_000_000_123,
            record: RecordInput {
                partition_key: "user-ü",
                explicit_hash_key,
                data: b"hello, kinesis",
            },
        };
        let mut buffer = vec![0u8; fields.encoded_len() + 8];
        let len = encode(&fields, &mut buffer);
        (buffer, len)
    }

    #[test]
    fn round_trips_every_field() {
        for hash_key in [None, Some(u128::MAX - 7)] {
            let (buffer, len) = sample(hash_key);
            let frame = decode(&buffer).unwrap();
            assert_eq!(frame.frame_len, len);
            assert_eq!(frame.counter, 42);
            assert_eq!(frame.arrival_ms, 1_700_000_000_123);
            assert_eq!(frame.explicit_hash_key, hash_key);
            assert_eq!(&buffer[frame.partition_key], "user-ü".as_bytes());
            assert_eq!(&buffer[frame.data], b"hello, kinesis");
        }
    }

    #[test]
    fn zero_filled_space_is_never_a_frame() {
        for len in [0, 1, HEADER_BYTES, 4096] {
            let zeros = vec![0u8; len];
            assert!(
                decode(&zeros).is_err(),
                "{len} zero bytes parsed as a frame"
            );
        }
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let (buffer, len) = sample(Some(7));
        for byte in 0..len {
            for bit in 0..8 {
                let mut damaged = buffer.clone();
                damaged[byte] ^= 1 << bit;
                assert!(
                    decode(&damaged).is_err(),
                    "flip of bit {bit} in byte {byte} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let (buffer, len) = sample(None);
        for cut in 0..len {
            assert!(matches!(
                decode(&buffer[..cut]),
                Err(FrameError::Truncated { .. })
            ));
        }
    }

    #[test]
    fn length_fields_are_cross_checked() {
        let (mut buffer, _) = sample(None);
        buffer[32] = buffer[32].wrapping_add(1); // data length no longer adds up to frame_len
        assert!(matches!(
            decode(&buffer),
            Err(FrameError::LengthMismatch { .. })
        ));
    }
}
