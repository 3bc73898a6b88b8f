//! `frame_decode`: arbitrary bytes through the record frame decoder.
//!
//! Checks, for every input:
//! - `decode` returns (never panics), and accepts exactly the byte strings that an independent
//!   reading of the format (`docs/FORMAT.md`, the table in `src/log/frame.rs`) accepts, with the
//!   same field values;
//! - an accepted frame's ranges lie inside the frame, which lies inside the input, and the frame
//!   re-encodes with `encode` to exactly the bytes it was decoded from;
//! - every strict prefix of an accepted frame is rejected as `Truncated`.
//!
//! Each input is also decoded a second time with its checksum fixed up, so that the fuzzer reaches
//! the checks behind the CRC (UTF-8 of the key, the hash key) without having to forge checksums.

use std::ops::Range;

use shardlog::RecordInput;
use shardlog::log::frame::{FrameError, FrameFields, decode, encode};

use super::common::crc32;

const HEADER: usize = 36;
const HASH_KEY: usize = 16;
const KEY_MAX: usize = 1024;
const DATA_MAX: usize = 10 * 1024 * 1024;
const COUNTER_MAX: u64 = (1 << 63) - 1;
/// The latest arrival a sequence number can carry: its seconds field is 36 bits wide.
const ARRIVAL_MS_MAX: u64 = ((1 << 36) - 1) * 1000 + 999;

/// The body of the `frame_decode` target.
pub fn frame_decode(data: &[u8]) {
    check_decode(data);
    if let Some(fixed) = with_fixed_checksum(data) {
        check_decode(&fixed);
    }
}

/// The input with the CRC field recomputed over the length its header claims (clamped to the
/// input), if that changes anything.
fn with_fixed_checksum(data: &[u8]) -> Option<Vec<u8>> {
    let claimed = usize::try_from(le_u32(data.get(8..12)?)).ok()?;
    let end = claimed.clamp(4, data.len());
    let mut fixed = data.to_vec();
    let crc = crc32(&fixed[4..end]);
    fixed[..4].copy_from_slice(&crc.to_le_bytes());
    (fixed != data).then_some(fixed)
}

/// A frame as the format's specification reads it.
#[derive(Debug, PartialEq, Eq)]
struct SpecFrame {
    frame_len: usize,
    counter: u64,
    arrival_ms: u64,
    explicit_hash_key: Option<u128>,
    partition_key: Range<usize>,
    data: Range<usize>,
}

fn le_u16(bytes: &[u8]) -> u16 {
    u16::from_le_bytes(bytes.try_into().expect("two bytes"))
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().expect("four bytes"))
}

fn le_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("eight bytes"))
}

/// The specification of the frame format, written independently of the decoder: `None` for
/// anything that is not a valid frame at the front of `bytes`.
fn spec_decode(bytes: &[u8]) -> Option<SpecFrame> {
    if bytes.len() < HEADER || &bytes[4..6] != b"SL" || bytes[6] != 1 {
        return None;
    }
    let flags = bytes[7];
    if flags > 1 || le_u16(&bytes[30..32]) != 0 {
        return None;
    }
    let frame_len = le_u32(&bytes[8..12]) as usize;
    let counter = le_u64(&bytes[12..20]);
    let arrival_ms = le_u64(&bytes[20..28]);
    let key_len = usize::from(le_u16(&bytes[28..30]));
    let data_len = le_u32(&bytes[32..36]) as usize;
    if !(1..=KEY_MAX).contains(&key_len)
        || data_len > DATA_MAX
        || counter > COUNTER_MAX
        || arrival_ms > ARRIVAL_MS_MAX
    {
        return None;
    }
    let hash_len = if flags == 1 { HASH_KEY } else { 0 };
    if frame_len != HEADER + hash_len + key_len + data_len || bytes.len() < frame_len {
        return None;
    }
    if crc32(&bytes[4..frame_len]) != le_u32(&bytes[0..4]) {
        return None;
    }
    let key_start = HEADER + hash_len;
    let partition_key = key_start..key_start + key_len;
    std::str::from_utf8(&bytes[partition_key.clone()]).ok()?;
    let explicit_hash_key = (flags == 1).then(|| {
        u128::from_be_bytes(
            bytes[HEADER..HEADER + HASH_KEY]
                .try_into()
                .expect("sixteen bytes"),
        )
    });
    Some(SpecFrame {
        frame_len,
        counter,
        arrival_ms,
        explicit_hash_key,
        data: partition_key.end..frame_len,
        partition_key,
    })
}

fn check_decode(bytes: &[u8]) {
    let spec = spec_decode(bytes);
    let frame = match decode(bytes) {
        Ok(frame) => frame,
        Err(error) => {
            // Every error must render; and the specification must agree that this is no frame.
            let _ = error.to_string();
            assert!(
                spec.is_none(),
                "decode rejected a valid frame ({error}): {spec:?}"
            );
            return;
        }
    };
    let spec = spec.unwrap_or_else(|| panic!("decode accepted an invalid frame: {frame:?}"));
    let decoded = SpecFrame {
        frame_len: frame.frame_len,
        counter: frame.counter,
        arrival_ms: frame.arrival_ms,
        explicit_hash_key: frame.explicit_hash_key,
        partition_key: frame.partition_key.clone(),
        data: frame.data.clone(),
    };
    assert_eq!(decoded, spec, "decode disagrees with the format");

    // The ranges lie inside the frame, in order, and the frame inside the input.
    assert!(
        frame.frame_len <= bytes.len(),
        "frame longer than its input"
    );
    assert!(frame.partition_key.start <= frame.partition_key.end);
    assert!(frame.partition_key.end <= frame.data.start);
    assert!(frame.data.start <= frame.data.end);
    assert_eq!(frame.data.end, frame.frame_len, "data ends the frame");

    // Round trip: the decoded fields encode to exactly the bytes decoded.
    let original = &bytes[..frame.frame_len];
    let partition_key =
        std::str::from_utf8(&bytes[frame.partition_key.clone()]).expect("UTF-8 partition key");
    let fields = FrameFields {
        counter: frame.counter,
        arrival_ms: frame.arrival_ms,
        record: RecordInput {
            partition_key,
            explicit_hash_key: frame.explicit_hash_key,
            data: &bytes[frame.data.clone()],
        },
    };
    assert_eq!(fields.encoded_len(), frame.frame_len);
    let mut encoded = vec![0u8; frame.frame_len];
    assert_eq!(encode(&fields, &mut encoded), frame.frame_len);
    assert_eq!(encoded, original, "re-encoding changed the frame");
    assert_eq!(
        decode(&encoded),
        Ok(frame.clone()),
        "the frame alone decodes"
    );

    // A frame cut short is reported as truncated, however it is cut.
    for cut in [HEADER, frame.frame_len - 1] {
        if cut < frame.frame_len {
            assert_eq!(
                decode(&original[..cut]),
                Err(FrameError::Truncated {
                    needed: frame.frame_len,
                    available: cut,
                }),
                "a frame cut at {cut} bytes"
            );
        }
    }
}

/// Hand-made valid inputs: real frames as the log writes them.
pub fn seeds() -> Vec<Vec<u8>> {
    let frame = |counter, arrival_ms, partition_key, explicit_hash_key, data| {
        let fields = FrameFields {
            counter,
            arrival_ms,
            record: RecordInput {
                partition_key,
                explicit_hash_key,
                data,
            },
        };
        let mut frame = vec![0u8; fields.encoded_len()];
        encode(&fields, &mut frame);
        frame
    };
    let mut seeds = vec![
        frame(0, 1_700_000_000_000, "k", None, b""),
        frame(
            42,
            1_700_000_000_123,
            "user-\u{fc}",
            None,
            b"hello, kinesis",
        ),
        frame(
            7,
            1_700_000_000_999,
            "p",
            Some(u128::MAX - 7),
            b"with a hash key",
        ),
        frame(
            COUNTER_MAX,
            ARRIVAL_MS_MAX,
            "\u{5206}\u{533a}",
            Some(0),
            &[0u8; 64],
        ),
        frame(1 << 24, 0, "key-with-some-length", None, &[0xff; 200]),
    ];
    // Two frames back to back, as in a segment, and a frame followed by zeroed space.
    let pair = [seeds[0].clone(), seeds[1].clone()].concat();
    let padded = [seeds[2].clone(), vec![0u8; 64]].concat();
    seeds.push(pair);
    seeds.push(padded);
    seeds
}
