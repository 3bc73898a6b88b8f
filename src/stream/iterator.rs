//! Shard iterators: where a consumer starts, and the opaque token form the server hands out.
//!
//! Every starting position is resolved, when the iterator is made, to a *sequence counter* in one
//! shard: "the first record whose counter is ≥ c". TRIM_HORIZON is counter 0 (the log starts at its
//! oldest record), LATEST the next counter to be written, AT/AFTER_SEQUENCE_NUMBER the number's
//! counter (+1), AT_TIMESTAMP the counter of the first record that arrived at or after the time.
//!
//! A token carries the stream name, the shard identity, that counter and the time it was issued,
//! authenticated with HMAC-MD5 under a per-engine secret key: a forged or altered token is rejected
//! as `Invalid ShardIterator.`, and a token older than five minutes as expired. Tokens are
//! stateless, so each stays reusable until it expires, as Kinesis' do. Hex keeps it ≤ 512 chars.

use md5::{Digest, Md5};

use crate::sequence::{SequenceNumber, ShardIdentity};

/// How long a shard iterator token is valid after it is issued.
pub const ITERATOR_TTL_MS: u64 = 5 * 60 * 1000;

/// Where a reader starts in a shard (the typed form of Kinesis' ShardIteratorType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// At the oldest record still kept (`TRIM_HORIZON`).
    TrimHorizon,
    /// After the newest record: only records written later are read (`LATEST`).
    Latest,
    /// At this sequence number, or the first record after it if it names none (`AT_SEQUENCE_NUMBER`).
    AtSequenceNumber(SequenceNumber),
    /// Just after this sequence number (`AFTER_SEQUENCE_NUMBER`).
    AfterSequenceNumber(SequenceNumber),
    /// At the first record that arrived at or after this Unix time in ms (`AT_TIMESTAMP`).
    AtTimestamp(u64),
}

/// The decoded contents of an iterator token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IteratorToken {
    /// The stream.
    pub stream_name: String,
    /// The shard.
    pub shard: ShardIdentity,
    /// Read from the first record whose counter is ≥ this.
    pub counter: u64,
    /// When the token was issued, Unix ms.
    pub issued_ms: u64,
}

const TOKEN_VERSION: u8 = 1;
const MAC_BYTES: usize = 16;
const FIXED_BYTES: usize = 1 + 8 + 4 + 8 + 8 + 1;

impl IteratorToken {
    /// Encodes and authenticates the token.
    pub fn encode(&self, key: &[u8; 32]) -> String {
        let name = self.stream_name.as_bytes();
        let mut bytes = Vec::with_capacity(FIXED_BYTES + name.len() + MAC_BYTES);
        bytes.push(TOKEN_VERSION);
        bytes.extend_from_slice(&self.shard.created_secs.to_be_bytes());
        bytes.extend_from_slice(&self.shard.index.to_be_bytes());
        bytes.extend_from_slice(&self.counter.to_be_bytes());
        bytes.extend_from_slice(&self.issued_ms.to_be_bytes());
        bytes.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
        bytes.extend_from_slice(name);
        sign_token(key, bytes)
    }

    /// Decodes a token, checking its authenticity. `None` for anything not issued with `key`.
    pub fn decode(token: &str, key: &[u8; 32]) -> Option<IteratorToken> {
        let body = verify_token(token, key)?;
        let (fixed, name) = body.split_at_checked(FIXED_BYTES)?;
        let fixed: &[u8; FIXED_BYTES] = fixed.try_into().ok()?;
        if fixed[0] != TOKEN_VERSION || usize::from(fixed[29]) != name.len() {
            return None;
        }
        let be_u64 = |at: usize| {
            fixed
                .get(at..at + 8)?
                .try_into()
                .ok()
                .map(u64::from_be_bytes)
        };
        Some(IteratorToken {
            stream_name: String::from_utf8(name.to_vec()).ok()?,
            shard: ShardIdentity {
                created_secs: be_u64(1)?,
                index: u32::from_be_bytes(fixed.get(9..13)?.try_into().ok()?),
            },
            counter: be_u64(13)?,
            issued_ms: be_u64(21)?,
        })
    }
}

/// Appends an HMAC of `body` under `key` and hex-encodes the whole: an opaque token that only the
/// holder of `key` can make.
pub(crate) fn sign_token(key: &[u8; 32], mut body: Vec<u8>) -> String {
    let mac = hmac_md5(key, &body);
    body.extend_from_slice(&mac);
    crate::hex::encode(&body)
}

/// The body of a token made by [`sign_token`] with `key`; `None` for anything else (tokens are at
/// most 512 characters, as Kinesis' are). A token has exactly one spelling: [`sign_token`] writes
/// lowercase hex, so an upper-case digit means the token was altered and it is refused (the hex
/// decoder alone would accept it, making a second token that names the same position).
pub(crate) fn verify_token(token: &str, key: &[u8; 32]) -> Option<Vec<u8>> {
    if token.len() > 512 || token.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    let mut bytes = crate::hex::decode(token)?;
    let body_len = bytes.len().checked_sub(MAC_BYTES)?;
    let mac = bytes.split_off(body_len);
    constant_time_eq(&hmac_md5(key, &bytes), &mac).then_some(bytes)
}

/// HMAC (RFC 2104) over MD5.
fn hmac_md5(key: &[u8; 32], message: &[u8]) -> [u8; 16] {
    let mut padded = [0u8; 64];
    padded[..32].copy_from_slice(key);
    let inner_pad: Vec<u8> = padded.iter().map(|byte| byte ^ 0x36).collect();
    let outer_pad: Vec<u8> = padded.iter().map(|byte| byte ^ 0x5c).collect();
    let inner = Md5::new()
        .chain_update(&inner_pad)
        .chain_update(message)
        .finalize();
    Md5::new()
        .chain_update(&outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn sample() -> IteratorToken {
        IteratorToken {
            stream_name: "x".repeat(128),
            shard: ShardIdentity {
                index: 3,
                created_secs: 1_700_000_000,
            },
            counter: 12345,
            issued_ms: 1_700_000_000_999,
        }
    }

    #[test]
    fn tokens_round_trip_within_512_characters() {
        let token = sample().encode(&KEY);
        assert!(token.len() <= 512, "{} characters", token.len());
        assert_eq!(IteratorToken::decode(&token, &KEY), Some(sample()));
    }

    #[test]
    fn altered_or_forged_tokens_are_rejected() {
        let token = sample().encode(&KEY);
        for position in 0..token.len() {
            let mut altered = token.clone().into_bytes();
            altered[position] = if altered[position] == b'0' {
                b'1'
            } else {
                b'0'
            };
            let altered = String::from_utf8(altered).unwrap();
            assert_eq!(
                IteratorToken::decode(&altered, &KEY),
                None,
                "position {position}"
            );
        }
        let upper_case = token.to_ascii_uppercase();
        assert_ne!(upper_case, token, "the sample token has hex letters");
        assert_eq!(IteratorToken::decode(&upper_case, &KEY), None);
        for position in (0..token.len()).filter(|&at| token.as_bytes()[at].is_ascii_alphabetic()) {
            let mut altered = token.clone();
            altered[position..=position].make_ascii_uppercase();
            assert_eq!(
                IteratorToken::decode(&altered, &KEY),
                None,
                "upper case at {position}"
            );
        }
        assert_eq!(IteratorToken::decode(&token, &[8; 32]), None);
        assert_eq!(IteratorToken::decode("", &KEY), None);
        assert_eq!(IteratorToken::decode("zz", &KEY), None);
        assert_eq!(IteratorToken::decode(&token[..token.len() - 2], &KEY), None);
    }

    #[test]
    fn hmac_md5_matches_rfc_2202() {
        // RFC 2202 test case 2 uses key "Jefe"; our keys are 32 bytes, so pad it the way HMAC does.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hmac_md5(&key, b"what do ya want for nothing?"),
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d,
                0xb7, 0x38
            ]
        );
    }
}
