//! Application names: they name a directory, so they are held to a rule that keeps them one safe
//! path component on every file system.

use std::fmt;

use super::ApplicationError;

/// Longest application name, in characters (KCL's application names, which name DynamoDB tables,
/// allow 255; a directory name of 128 leaves room for the path around it).
pub const APPLICATION_NAME_CHARS_MAX: usize = 128;

/// A validated application name: 1 to [`APPLICATION_NAME_CHARS_MAX`] ASCII letters, digits, `_`,
/// `-` and `.`, starting with a letter or a digit (so never `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApplicationName(String);

impl ApplicationName {
    /// Checks `name` against the rule.
    pub fn new(name: &str) -> Result<ApplicationName, ApplicationError> {
        let invalid = |reason| ApplicationError::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() || name.len() > APPLICATION_NAME_CHARS_MAX {
            return Err(invalid("it must have 1 to 128 characters"));
        }
        if !name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
        {
            return Err(invalid(
                "it may hold only ASCII letters, digits, '_', '-' and '.'",
            ));
        }
        if !name.starts_with(|first: char| first.is_ascii_alphanumeric()) {
            return Err(invalid("it must start with a letter or a digit"));
        }
        Ok(ApplicationName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApplicationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_safe_path_component() {
        for good in ["billing", "a", "Orders-2024.v1_x", &"x".repeat(128)] {
            assert!(ApplicationName::new(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "a/b",
            "a b",
            "é",
            &"x".repeat(129),
        ] {
            assert!(ApplicationName::new(bad).is_err(), "{bad}");
        }
    }
}
