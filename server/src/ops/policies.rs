//! Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy. A policy is
//! stored with its stream and returned as given; it is not evaluated (see the library's
//! `stream::resource_policy`). Only stream ARNs name a resource here: this server has no
//! consumers yet, so a consumer ARN names nothing that exists.

use std::sync::Arc;

use serde::Serialize;
use shardlog::Stream;
use shardlog::stream::{ConsumerError, InvalidResourcePolicy, ResourcePolicy};

use super::{Context, Reply};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::{Checks, RESOURCE_ARN, STREAM_ID, parse_stream_arn};

/// What GetResourcePolicy answers for a stream without a policy: an empty policy, since the
/// model requires the member.
const NO_POLICY: &str = "{}";

/// Reads and checks `ResourceARN` and `StreamId` (reserved by Kinesis: checked, then ignored).
fn read_resource_arn<'r>(
    fields: &Fields<'r, '_>,
    checks: &mut Checks,
) -> Result<Option<&'r str>, ApiError> {
    let arn = fields.string("ResourceARN")?;
    let id = fields.string("StreamId")?;
    checks.required("resourceARN", &arn);
    checks.text("resourceARN", arn, Some(RESOURCE_ARN), (1, 2048));
    checks.text("streamId", id, Some(STREAM_ID), (1, 24));
    Ok(arn)
}

/// The stream a checked resource ARN names.
fn resolve(context: &Context<'_>, arn: &str) -> Result<Arc<Stream>, ApiError> {
    let is_consumer = parse_stream_arn(arn).is_some_and(|(_, _, name)| name.contains("/consumer/"));
    if is_consumer {
        let not_found = ConsumerError::ArnNotFound {
            arn: arn.to_owned(),
        };
        return Err(not_found.into());
    }
    Ok(context.engine.stream_by_arn(arn)?)
}

/// `PutResourcePolicy`.
pub fn put_resource_policy(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let policy = fields.string("Policy")?;
    let mut checks = Checks::new();
    checks.required("policy", &policy);
    let arn = read_resource_arn(&fields, &mut checks)?;
    checks.finish()?;
    let stream = resolve(context, arn.unwrap_or_default())?;
    let policy = ResourcePolicy::parse(policy.unwrap_or_default()).map_err(|error| {
        let kind = match error {
            InvalidResourcePolicy::TooLarge { .. } => "LimitExceededException",
            _ => "InvalidArgumentException",
        };
        let arn = arn.unwrap_or_default();
        ApiError::client(kind, format!("Invalid resource policy for {arn}: {error}."))
    })?;
    stream.put_resource_policy(policy)?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetResourcePolicyOut {
    policy: String,
}

/// `GetResourcePolicy`.
pub fn get_resource_policy(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = read_resource_arn(&fields, &mut checks)?;
    checks.finish()?;
    let stream = resolve(context, arn.unwrap_or_default())?;
    let out = GetResourcePolicyOut {
        policy: stream
            .resource_policy()
            .map_or_else(|| NO_POLICY.to_owned(), |policy| policy.as_str().to_owned()),
    };
    Ok(Reply::new(context, &out, &stream))
}

/// `DeleteResourcePolicy`; a stream without a policy stays as it is.
pub fn delete_resource_policy(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let arn = read_resource_arn(&fields, &mut checks)?;
    checks.finish()?;
    let stream = resolve(context, arn.unwrap_or_default())?;
    stream.delete_resource_policy()?;
    Ok(Reply::empty(Some(stream.name().as_str().to_owned())))
}
