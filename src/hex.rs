//! Lowercase hexadecimal, for the few text files and tokens that carry bytes.

use std::fmt::Write as _;

/// `bytes` as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The bytes of a hex string; `None` if it is not hex or has an odd length.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            let pair = text.get(i..i + 2)?;
            // from_str_radix accepts a leading '+', which is not hex.
            pair.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| u8::from_str_radix(pair, 16).ok())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_rejects_non_hex() {
        assert_eq!(super::encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(super::decode("00abff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(super::decode("00ABFF"), Some(vec![0, 0xab, 0xff]));
        for bad in ["0", "zz", "+1", "é1"] {
            assert_eq!(super::decode(bad), None, "{bad}");
        }
    }
}
