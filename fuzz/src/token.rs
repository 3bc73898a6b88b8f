//! `iterator_token_decode`: arbitrary strings through `IteratorToken::decode`, and arbitrary token
//! bodies signed with the right key, so that the fuzzer reaches the checks behind the MAC.
//!
//! The input is two bytes that pick an alteration (a position and a replacement character), then a
//! token body. Checks, for every input:
//! - the input itself, as text (lossy UTF-8), is decoded with the key and never panics; anything
//!   accepted re-encodes to exactly the same text;
//! - the body, signed with an independent HMAC-MD5 (RFC 1321 and RFC 2104, written here) and
//!   hex-encoded, is accepted exactly when an independent reading of the layout accepts it (version
//!   1, a 30-byte fixed part, a name whose length is the byte before it and which is UTF-8, at most
//!   512 characters in all), with the same fields; an accepted token re-encodes with `encode` to the
//!   identical text, so the engine's MAC agrees with this one;
//! - that token is rejected when decoded with another key, when any one character is replaced by
//!   another (upper-case hex included: a token has one spelling), when cut short, and when extended.
//!
//! Tokens are never longer than 512 characters (Kinesis' limit), so a validly signed body longer than
//! 240 bytes must be rejected too.

use shardlog::ShardIdentity;
use shardlog::stream::iterator::IteratorToken;

use super::common::Input;

const KEY: [u8; 32] = *b"shardlog iterator token fuzz key";
const OTHER_KEY: [u8; 32] = *b"shardlog iterator token other ky";
const TOKEN_CHARS_MAX: usize = 512;
const FIXED_BYTES: usize = 30;
const MAC_BYTES: usize = 16;
/// Replacement characters for the alteration check: every ASCII character, then a few that take
/// more than one byte in UTF-8.
const WIDE_REPLACEMENTS: [char; 4] = ['é', '€', '\u{10FFFF}', '\u{0}'];

/// The body of the `iterator_token_decode` target.
pub fn iterator_token_decode(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(token) = IteratorToken::decode(&text, &KEY) {
        assert_eq!(
            token.encode(&KEY),
            text,
            "an accepted token re-encodes differently"
        );
    }

    let mut input = Input::new(data);
    let position = usize::from(input.u8());
    let replacement = replacement_char(input.u8());
    let body = input.rest();
    let mut signed = body.to_vec();
    signed.extend_from_slice(&hmac_md5(&KEY, body));
    let token = lower_hex(&signed);
    let decoded = IteratorToken::decode(&token, &KEY);
    assert_eq!(
        decoded,
        expected_fields(&token, body),
        "decoding a token signed with the key"
    );
    if let Some(decoded) = &decoded {
        assert_eq!(decoded.encode(&KEY), token, "re-encoding an accepted token");
    }
    check_alterations(&token, position, replacement);
}

/// Whatever one alteration of a validly signed `token` makes of it, it is rejected.
fn check_alterations(token: &str, position: usize, replacement: char) {
    assert_eq!(
        IteratorToken::decode(token, &OTHER_KEY),
        None,
        "accepted with another key"
    );
    let chars: Vec<char> = token.chars().collect();
    if let Some(&original) = chars.get(position % chars.len().max(1))
        && original != replacement
    {
        let at = position % chars.len();
        let mut altered = chars.clone();
        altered[at] = replacement;
        let altered: String = altered.into_iter().collect();
        assert_eq!(
            IteratorToken::decode(&altered, &KEY),
            None,
            "accepted with character {at} replaced by {replacement:?}: {altered}"
        );
    }
    let upper = token.to_ascii_uppercase();
    if upper != token {
        assert_eq!(
            IteratorToken::decode(&upper, &KEY),
            None,
            "accepted in upper case"
        );
    }
    let cut = position % token.len().max(1);
    assert_eq!(
        IteratorToken::decode(&token[..cut], &KEY),
        None,
        "accepted cut to {cut} characters"
    );
    let extended = format!("{token}{}", replacement.to_string().repeat(2));
    assert_eq!(
        IteratorToken::decode(&extended, &KEY),
        None,
        "accepted with {replacement:?} twice appended"
    );
}

/// Byte `choice` as a replacement character: ASCII as is, the rest spread over a few wide ones.
fn replacement_char(choice: u8) -> char {
    if choice.is_ascii() {
        char::from(choice)
    } else {
        WIDE_REPLACEMENTS[usize::from(choice) % WIDE_REPLACEMENTS.len()]
    }
}

/// What decoding `token` (the hex of `body` and its MAC) must give, read from the layout:
/// version 1, shard created seconds (u64), shard index (u32), counter (u64), issued ms (u64), all
/// big-endian, the name's length in bytes (u8), then the name, UTF-8.
fn expected_fields(token: &str, body: &[u8]) -> Option<IteratorToken> {
    if token.len() > TOKEN_CHARS_MAX || body.len() < FIXED_BYTES || body[0] != 1 {
        return None;
    }
    let name = &body[FIXED_BYTES..];
    if usize::from(body[29]) != name.len() {
        return None;
    }
    let big_endian = |bytes: &[u8]| bytes.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
    Some(IteratorToken {
        stream_name: String::from_utf8(name.to_vec()).ok()?,
        shard: ShardIdentity {
            created_secs: big_endian(&body[1..9]),
            index: u32::try_from(big_endian(&body[9..13])).expect("four bytes fit a u32"),
        },
        counter: big_endian(&body[13..21]),
        issued_ms: big_endian(&body[21..29]),
    })
}

fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|&byte| {
            [
                DIGITS[usize::from(byte >> 4)],
                DIGITS[usize::from(byte & 15)],
            ]
        })
        .map(char::from)
        .collect()
}

/// HMAC (RFC 2104) over MD5 with a 32-byte key (shorter than MD5's 64-byte block: zero-padded).
fn hmac_md5(key: &[u8; 32], message: &[u8]) -> [u8; MAC_BYTES] {
    let mut padded = [0u8; 64];
    padded[..32].copy_from_slice(key);
    let mut inner: Vec<u8> = padded.iter().map(|byte| byte ^ 0x36).collect();
    inner.extend_from_slice(message);
    let mut outer: Vec<u8> = padded.iter().map(|byte| byte ^ 0x5c).collect();
    outer.extend_from_slice(&md5(&inner));
    md5(&outer)
}

/// MD5 as RFC 1321 specifies it, including its table T[i] = floor(2^32 · |sin(i + 1)|), computed
/// rather than copied (double precision gives every entry exactly; the RFC's test suite below
/// would catch it otherwise).
fn md5(message: &[u8]) -> [u8; 16] {
    const SHIFTS: [[u32; 4]; 4] = [
        [7, 12, 17, 22],
        [5, 9, 14, 20],
        [4, 11, 16, 23],
        [6, 10, 15, 21],
    ];
    let table: Vec<u32> = (0..64)
        .map(|i| (f64::from(i + 1).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut padded = message.to_vec();
    padded.push(0x80);
    while padded.len() % 64 != 56 {
        padded.push(0);
    }
    padded.extend_from_slice(&(message.len() as u64).wrapping_mul(8).to_le_bytes());

    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded.chunks_exact(64) {
        let words: Vec<u32> = block
            .chunks_exact(4)
            .map(|word| u32::from_le_bytes(word.try_into().expect("four bytes")))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let round = i / 16;
            let (mixed, word) = match round {
                0 => ((b & c) | (!b & d), i),
                1 => ((b & d) | (c & !d), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let sum = a
                .wrapping_add(mixed)
                .wrapping_add(table[i])
                .wrapping_add(words[word]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(sum.rotate_left(SHIFTS[round][i % 4]));
        }
        for (kept, new) in state.iter_mut().zip([a, b, c, d]) {
            *kept = kept.wrapping_add(new);
        }
    }
    let mut digest = [0u8; 16];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    digest
}

/// A token body (without the alteration bytes in front) for these fields and name bytes.
fn body(created_secs: u64, index: u32, counter: u64, issued_ms: u64, name: &[u8]) -> Vec<u8> {
    let mut body = vec![1];
    body.extend_from_slice(&created_secs.to_be_bytes());
    body.extend_from_slice(&index.to_be_bytes());
    body.extend_from_slice(&counter.to_be_bytes());
    body.extend_from_slice(&issued_ms.to_be_bytes());
    body.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    body.extend_from_slice(name);
    body
}

/// Hand-made inputs: real token bodies (short, 128-byte and longest-accepted names, extreme field
/// values), bodies just over the limits, a wrong version, a wrong name length, a name that is not
/// UTF-8, and a real engine-made token as plain text.
pub fn seeds() -> Vec<Vec<u8>> {
    let with_alteration = |position: u8, replacement: u8, body: Vec<u8>| {
        let mut input = vec![position, replacement];
        input.extend(body);
        input
    };
    let mut wrong_version = body(1, 2, 3, 4, b"s");
    wrong_version[0] = 2;
    let mut wrong_length = body(1, 2, 3, 4, b"stream");
    wrong_length[29] = 5;
    let longest = vec![b'n'; 256 - FIXED_BYTES - MAC_BYTES];
    let too_long = vec![b'n'; longest.len() + 1];
    let real = IteratorToken {
        stream_name: "orders".to_owned(),
        shard: ShardIdentity {
            index: 7,
            created_secs: 1_700_000_000,
        },
        counter: 42,
        issued_ms: 1_700_000_000_123,
    };
    vec![
        with_alteration(
            0,
            b'A',
            body(1_700_000_000, 0, 1, 1_700_000_000_000, b"orders"),
        ),
        with_alteration(
            5,
            b'0',
            body(u64::MAX, u32::MAX, u64::MAX, u64::MAX, &[b'x'; 128]),
        ),
        with_alteration(200, b'g', body(0, 0, 0, 0, &longest)),
        with_alteration(3, 0xc3, body(0, 0, 0, 0, &too_long)),
        with_alteration(1, b'f', body(1, 2, 3, 4, b"")),
        with_alteration(9, b'+', wrong_version),
        with_alteration(9, b' ', wrong_length),
        with_alteration(60, b'0', body(1, 2, 3, 4, &[0xff, 0xfe])),
        with_alteration(0, 0, vec![1; FIXED_BYTES - 1]),
        real.encode(&KEY).into_bytes(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_rfc_1321_test_suite() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"a", "0cc175b9c0f1b6a831c399e269772661"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (message, digest) in cases {
            assert_eq!(lower_hex(&md5(message)), digest);
        }
    }

    #[test]
    fn hmac_md5_matches_rfc_2202_with_a_zero_padded_key() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            lower_hex(&hmac_md5(&key, b"what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738"
        );
    }
}
