//! Small text files that end with a CRC-32 line over everything before it (`stream.meta`,
//! `account.meta`):
//!
//! ```text
//! key value
//! …
//! crc 1a2b3c4d
//! ```
//!
//! The checksum catches what an atomic replace cannot: damage to the file after it was written
//! (media errors, a hand edit gone wrong). The body may be empty; the checksum line is always there.

use std::fmt::Write as _;

/// `body` with its checksum line appended. `body` is empty or ends with a line break.
pub(crate) fn seal(mut body: String) -> String {
    debug_assert!(
        body.is_empty() || body.ends_with('\n'),
        "the body ends its last line"
    );
    let crc = crc32fast::hash(body.as_bytes());
    // Writing to a String cannot fail.
    let _ = writeln!(body, "crc {crc:08x}");
    body
}

/// What is wrong with a file's checksum line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumError {
    /// The last line is not a checksum line.
    #[error("bad checksum line")]
    MissingLine,
    /// The checksum does not match the body.
    #[error("checksum mismatch")]
    Mismatch,
}

/// The body of `text`, everything before its last line, if that line is a checksum line that
/// matches it; otherwise what is wrong.
pub(crate) fn open(text: &str) -> Result<&str, ChecksumError> {
    let body_end = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
    let (body, crc_line) = text.split_at(body_end);
    let stored = crc_line
        .trim_end()
        .strip_prefix("crc ")
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or(ChecksumError::MissingLine)?;
    if crc32fast::hash(body.as_bytes()) != stored {
        return Err(ChecksumError::Mismatch);
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_text_opens_to_its_body_even_when_empty() {
        for body in ["", "a 1\nb 2\n"] {
            assert_eq!(open(&seal(body.to_owned())), Ok(body));
        }
    }

    #[test]
    fn a_changed_body_or_a_missing_checksum_line_is_refused() {
        let sealed = seal("a 1\n".to_owned());
        assert_eq!(
            open(&sealed.replace("a 1", "a 2")),
            Err(ChecksumError::Mismatch)
        );
        assert_eq!(open("a 1\n"), Err(ChecksumError::MissingLine));
    }
}
