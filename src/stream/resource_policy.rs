//! A stream's resource-based policy (PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy):
//! a JSON document kept in the stream's catalog entry, so it survives a restart and goes when
//! the stream does.
//!
//! shardlog stores and returns the policy; it does not evaluate it (the server checks signatures,
//! not permissions). Only data streams have policies here: shardlog has no enhanced fan-out
//! consumers yet, which Kinesis also lets a policy be attached to.

use super::{Stream, StreamResult};

/// Largest policy, in bytes of UTF-8. Kinesis does not publish its bound; 20 KiB is the bound AWS
/// applies to the resource policies of S3 buckets, Secrets Manager secrets and DynamoDB tables.
pub const RESOURCE_POLICY_BYTES_MAX: usize = 20 * 1024;

/// A resource policy. Invariant: a JSON object of at most [`RESOURCE_POLICY_BYTES_MAX`] bytes,
/// kept as the text it was given (the whitespace and key order a client sent come back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePolicy(String);

/// Why a text is not a resource policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidResourcePolicy {
    /// Longer than [`RESOURCE_POLICY_BYTES_MAX`].
    #[error("the policy is {bytes} bytes, more than the {RESOURCE_POLICY_BYTES_MAX} allowed")]
    TooLarge {
        /// Its length.
        bytes: usize,
    },
    /// Not JSON at all.
    #[error("the policy is not valid JSON: {reason}")]
    NotJson {
        /// What the parser found.
        reason: String,
    },
    /// JSON, but not an object (`{...}`).
    #[error("the policy is not a JSON object")]
    NotAnObject,
}

impl ResourcePolicy {
    /// Checks that `text` is a JSON object within the size limit.
    pub fn parse(text: &str) -> Result<ResourcePolicy, InvalidResourcePolicy> {
        if text.len() > RESOURCE_POLICY_BYTES_MAX {
            return Err(InvalidResourcePolicy::TooLarge { bytes: text.len() });
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| InvalidResourcePolicy::NotJson {
                reason: error.to_string(),
            })?;
        if !value.is_object() {
            return Err(InvalidResourcePolicy::NotAnObject);
        }
        Ok(ResourcePolicy(text.to_owned()))
    }

    /// A policy recorded in a catalog entry, which was parsed before it was stored.
    pub(super) fn from_stored(text: String) -> ResourcePolicy {
        ResourcePolicy(text)
    }

    /// The policy as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Stream {
    /// The stream's resource policy, if one is attached.
    pub fn resource_policy(&self) -> Option<ResourcePolicy> {
        self.meta.read().recorded.resource_policy.clone()
    }

    /// Attaches `policy`, replacing any policy attached before (Kinesis PutResourcePolicy).
    pub fn put_resource_policy(&self, policy: ResourcePolicy) -> StreamResult<()> {
        self.change_meta(|meta| {
            meta.recorded.resource_policy = Some(policy);
            Ok(())
        })
    }

    /// Removes the stream's resource policy; a stream without one stays as it is (Kinesis
    /// DeleteResourcePolicy).
    pub fn delete_resource_policy(&self) -> StreamResult<()> {
        self.change_meta(|meta| {
            meta.recorded.resource_policy = None;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_object_is_kept_as_written() {
        let text = "{ \"Version\": \"2012-10-17\",\n  \"Statement\": [] }";
        assert_eq!(ResourcePolicy::parse(text).unwrap().as_str(), text);
        assert!(ResourcePolicy::parse("{}").is_ok());
    }

    #[test]
    fn other_json_other_text_and_oversized_objects_are_refused() {
        assert_eq!(
            ResourcePolicy::parse("[1, 2]"),
            Err(InvalidResourcePolicy::NotAnObject)
        );
        assert_eq!(
            ResourcePolicy::parse("\"text\""),
            Err(InvalidResourcePolicy::NotAnObject)
        );
        assert!(matches!(
            ResourcePolicy::parse("{\"Version\": "),
            Err(InvalidResourcePolicy::NotJson { .. })
        ));
        assert!(matches!(
            ResourcePolicy::parse("not json"),
            Err(InvalidResourcePolicy::NotJson { .. })
        ));
        let padding = " ".repeat(RESOURCE_POLICY_BYTES_MAX - 1);
        assert!(ResourcePolicy::parse(&format!("{{{padding}")).is_err());
        let largest = format!("{{{}}}", " ".repeat(RESOURCE_POLICY_BYTES_MAX - 2));
        assert!(ResourcePolicy::parse(&largest).is_ok());
        let over = format!("{{{}}}", " ".repeat(RESOURCE_POLICY_BYTES_MAX - 1));
        assert_eq!(
            ResourcePolicy::parse(&over),
            Err(InvalidResourcePolicy::TooLarge {
                bytes: RESOURCE_POLICY_BYTES_MAX + 1
            })
        );
    }
}
