//! CRC-32 (IEEE) of frames and headers.
//!
//! `crc32fast::hash` detects the CPU's features on every call, which costs as much as checksumming
//! a 100-byte record. The detection result never changes, so it is done once and the ready hasher
//! is cloned per call (a copy of a few words).

use std::sync::OnceLock;

use crc32fast::Hasher;

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    static PROTOTYPE: OnceLock<Hasher> = OnceLock::new();
    let mut hasher = PROTOTYPE.get_or_init(Hasher::new).clone();
    hasher.update(bytes);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    #[test]
    fn agrees_with_the_reference_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
