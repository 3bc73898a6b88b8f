//! The wire form of a shard iterator: the library's token in the shape Kinesis gives its own.
//!
//! Kinesis' iterators are opaque, but their shape is visible and was recorded by kinesalite's
//! suite: canonical base64 of a byte string that starts with the 8 bytes `00 00 00 00 00 00 00
//! 01` and is 152 bytes long, or longer by whole 16-byte blocks. The library's token (ASCII,
//! authenticated) goes inside, after its length:
//!
//! `00 00 00 00 00 00 00 01 | token length (u16, big-endian) | token | zeros up to 152 + 16·k`
//!
//! The longest token (a 128-character stream name) is 348 bytes, so the longest wire form is
//! 360 bytes, 480 base64 characters: within the 512 the API model allows. Reading the wire form
//! back accepts only what [`to_wire`] writes (the prefix, a length that fits, zero padding to the
//! shortest block count), so each token has exactly one wire form.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The first bytes of every Kinesis shard iterator.
const PREFIX: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
/// The shortest iterator, in bytes.
const BYTES_MIN: usize = 152;
/// Longer iterators grow by whole blocks of this many bytes.
const BLOCK_BYTES: usize = 16;
/// The prefix and the token's length.
const HEADER_BYTES: usize = PREFIX.len() + 2;

/// How many bytes the wire form of a token of `token_bytes` takes.
fn wire_bytes(token_bytes: usize) -> usize {
    let needed = HEADER_BYTES + token_bytes;
    BYTES_MIN + needed.saturating_sub(BYTES_MIN).div_ceil(BLOCK_BYTES) * BLOCK_BYTES
}

/// The wire form of a library token.
pub fn to_wire(token: &str) -> String {
    let length = u16::try_from(token.len()).unwrap_or(u16::MAX);
    let mut bytes = Vec::with_capacity(wire_bytes(token.len()));
    bytes.extend_from_slice(&PREFIX);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(token.as_bytes());
    bytes.resize(wire_bytes(token.len()), 0);
    STANDARD.encode(bytes)
}

/// The library token inside a wire form, if `text` is one [`to_wire`] wrote.
pub fn from_wire(text: &str) -> Option<String> {
    let bytes = STANDARD.decode(text).ok()?;
    let rest = bytes.strip_prefix(&PREFIX)?;
    let (length, rest) = rest.split_first_chunk::<2>()?;
    let length = usize::from(u16::from_be_bytes(*length));
    let (token, padding) = rest.split_at_checked(length)?;
    let canonical = bytes.len() == wire_bytes(length) && padding.iter().all(|byte| *byte == 0);
    if !canonical {
        return None;
    }
    String::from_utf8(token.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_have_the_shape_of_kinesis_iterators_and_read_back() {
        for token_bytes in [0, 1, 142, 143, 158, 159, 348] {
            let token = "a".repeat(token_bytes);
            let wire = to_wire(&token);
            let bytes = STANDARD.decode(&wire).unwrap();
            assert_eq!(STANDARD.encode(&bytes), wire, "canonical base64");
            assert_eq!(bytes[..8], PREFIX);
            assert!(bytes.len() >= BYTES_MIN);
            assert_eq!((bytes.len() - BYTES_MIN) % BLOCK_BYTES, 0);
            assert_eq!(from_wire(&wire).as_deref(), Some(token.as_str()));
        }
        assert!(to_wire(&"a".repeat(348)).len() <= 512);
    }

    #[test]
    fn only_the_canonical_wire_form_reads_back() {
        let wire = to_wire("token");
        let mut bytes = STANDARD.decode(&wire).unwrap();
        for (at, value) in [(0, 1), (7, 2), (9, 200), (bytes.len() - 1, 1)] {
            let mut altered = bytes.clone();
            altered[at] = value;
            assert_eq!(from_wire(&STANDARD.encode(altered)), None, "byte {at}");
        }
        bytes.extend_from_slice(&[0; BLOCK_BYTES]);
        assert_eq!(from_wire(&STANDARD.encode(bytes)), None, "a block too many");
        for text in ["", "not-an-iterator", "AAAA"] {
            assert_eq!(from_wire(text), None, "{text}");
        }
    }
}
