//! The AWS event-stream framing (`application/vnd.amazon.eventstream`), in which SubscribeToShard
//! answers: a response body that is a sequence of self-delimiting, checksummed messages.
//!
//! A message, all integers big-endian:
//!
//! ```text
//! total length u32 | headers length u32 | prelude CRC32 (of the 8 bytes before it)
//! headers: name length u8, name, value type u8, value (type 7, a string: length u16, bytes)
//! payload
//! message CRC32 (of every byte before it)
//! ```
//!
//! The CRC is IEEE CRC32. Only string headers are written; the decoder (for tests and the fuzz
//! target) reads every message the encoder writes and refuses anything it cannot check, so a
//! message is either whole and intact or an error.

use std::fmt;

/// Bytes before the headers: total length, headers length, prelude CRC.
const PRELUDE_BYTES: usize = 12;
/// The message CRC at the end.
const TRAILER_BYTES: usize = 4;
/// Largest message the format allows (AWS's limit).
pub const MESSAGE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Largest headers section the format allows (AWS's limit).
pub const HEADERS_BYTES_MAX: usize = 128 * 1024;
/// The header value type of a string.
const STRING_TYPE: u8 = 7;

/// One message: string headers and a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Message {
    /// The value of the header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Encodes one message. Header names must be at most 255 bytes and values at most 65 535 (ours
/// are short constants and exception names), and the whole at most [`MESSAGE_BYTES_MAX`] (events
/// are bounded well below it).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let headers_bytes: usize = headers
        .iter()
        .map(|(name, value)| 1 + name.len() + 1 + 2 + value.len())
        .sum();
    let total = PRELUDE_BYTES + headers_bytes + payload.len() + TRAILER_BYTES;
    debug_assert!(
        total <= MESSAGE_BYTES_MAX,
        "events are bounded below 16 MiB"
    );
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&(total as u32).to_be_bytes());
    message.extend_from_slice(&(headers_bytes as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    for (name, value) in headers {
        debug_assert!(name.len() <= usize::from(u8::MAX) && value.len() <= usize::from(u16::MAX));
        message.push(name.len() as u8);
        message.extend_from_slice(name.as_bytes());
        message.push(STRING_TYPE);
        message.extend_from_slice(&(value.len() as u16).to_be_bytes());
        message.extend_from_slice(value.as_bytes());
    }
    message.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&message);
    message.extend_from_slice(&message_crc.to_be_bytes());
    debug_assert_eq!(message.len(), total);
    message
}

/// Why bytes are not a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the message says it has (more may come).
    Incomplete,
    /// The lengths are impossible or over the limits.
    BadLength,
    /// A checksum does not match.
    BadChecksum,
    /// A header is malformed or of a type other than string.
    BadHeader,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, formatter)
    }
}

/// Decodes the message at the start of `bytes`; returns it and the bytes it took.
pub fn decode(bytes: &[u8]) -> Result<(Message, usize), DecodeError> {
    let prelude = bytes.get(..PRELUDE_BYTES).ok_or(DecodeError::Incomplete)?;
    let u32_at = |at: usize| -> Result<u32, DecodeError> {
        let field: [u8; 4] = prelude
            .get(at..at + 4)
            .and_then(|field| field.try_into().ok())
            .ok_or(DecodeError::Incomplete)?;
        Ok(u32::from_be_bytes(field))
    };
    let (total, headers_bytes, prelude_crc) = (u32_at(0)?, u32_at(4)?, u32_at(8)?);
    if crc32fast::hash(prelude.get(..8).unwrap_or_default()) != prelude_crc {
        return Err(DecodeError::BadChecksum);
    }
    let (total, headers_bytes) = (total as usize, headers_bytes as usize);
    if total > MESSAGE_BYTES_MAX
        || headers_bytes > HEADERS_BYTES_MAX
        || total < PRELUDE_BYTES + headers_bytes + TRAILER_BYTES
    {
        return Err(DecodeError::BadLength);
    }
    let message = bytes.get(..total).ok_or(DecodeError::Incomplete)?;
    let (checked, crc) = message.split_at(total - TRAILER_BYTES);
    let crc: [u8; 4] = crc.try_into().map_err(|_| DecodeError::BadLength)?;
    if crc32fast::hash(checked) != u32::from_be_bytes(crc) {
        return Err(DecodeError::BadChecksum);
    }
    let rest = checked.get(PRELUDE_BYTES..).ok_or(DecodeError::BadLength)?;
    let (mut header_bytes, payload) = rest
        .split_at_checked(headers_bytes)
        .ok_or(DecodeError::BadLength)?;
    let mut headers = Vec::new();
    while !header_bytes.is_empty() {
        let (name, after) = take_sized(header_bytes, 1)?;
        let (&value_type, after) = after.split_first().ok_or(DecodeError::BadHeader)?;
        if value_type != STRING_TYPE {
            return Err(DecodeError::BadHeader);
        }
        let (value, after) = take_sized(after, 2)?;
        let text =
            |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::BadHeader);
        headers.push((text(name)?, text(value)?));
        header_bytes = after;
    }
    Ok((
        Message {
            headers,
            payload: payload.to_vec(),
        },
        total,
    ))
}

/// Splits off a field preceded by its length in `width` bytes (1 or 2), big-endian.
fn take_sized(bytes: &[u8], width: usize) -> Result<(&[u8], &[u8]), DecodeError> {
    let (length, rest) = bytes
        .split_at_checked(width)
        .ok_or(DecodeError::BadHeader)?;
    let length = length
        .iter()
        .fold(0usize, |sum, &byte| (sum << 8) | usize::from(byte));
    rest.split_at_checked(length).ok_or(DecodeError::BadHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_any_flipped_bit_is_refused() {
        let bytes = encode(
            &[
                (":message-type", "event"),
                (":event-type", "initial-response"),
            ],
            b"{}",
        );
        let (message, taken) = decode(&bytes).unwrap();
        assert_eq!(taken, bytes.len());
        assert_eq!(message.header(":event-type"), Some("initial-response"));
        assert_eq!(message.payload, b"{}");
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(decode(&flipped).is_err(), "a flip at byte {at} is detected");
        }
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(DecodeError::Incomplete)
        );
    }

    #[test]
    fn the_framing_matches_the_aws_specification_byte_for_byte() {
        // The specification's "empty message" test vector: no headers, no payload.
        assert_eq!(
            encode(&[], b""),
            [
                0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff
            ]
        );
        // Header layout: name length, name, type 7, u16 length, value.
        let bytes = encode(&[("a", "bc")], b"");
        assert_eq!(&bytes[12..19], &[1, b'a', 7, 0, 2, b'b', b'c']);
    }
}
