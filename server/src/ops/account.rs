//! The account's settings: DescribeAccountSettings and UpdateAccountSettings, today the minimum
//! throughput billing commitment (see the library's `engine::account`). Nothing is billed.

use serde::Serialize;
use shardlog::engine::{CommitmentStatus, MinimumThroughputBillingCommitment};

use super::{Context, Reply};
use crate::error::ApiError;
use crate::protocol::fields::Checks;
use crate::protocol::{Fields, Timestamp};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CommitmentOut {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    earliest_allowed_end_at: Option<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AccountSettingsOut {
    minimum_throughput_billing_commitment: CommitmentOut,
}

fn reply(context: &Context<'_>, commitment: MinimumThroughputBillingCommitment) -> Reply {
    let out = AccountSettingsOut {
        minimum_throughput_billing_commitment: CommitmentOut {
            status: commitment.status.as_str(),
            started_at: commitment.started_ms.map(Timestamp),
            ended_at: commitment.ended_ms.map(Timestamp),
            earliest_allowed_end_at: commitment.earliest_allowed_end_ms.map(Timestamp),
        },
    };
    Reply {
        body: context.protocol.encode(&out),
        stream: None,
        events: None,
    }
}

/// `DescribeAccountSettings`.
pub fn describe_account_settings(
    context: &Context<'_>,
    _fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    Ok(reply(
        context,
        context.engine.minimum_throughput_billing_commitment(),
    ))
}

/// `UpdateAccountSettings`.
pub fn update_account_settings(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let commitment = fields.structure("MinimumThroughputBillingCommitment")?;
    let status = match commitment {
        Some(commitment) => commitment.string("Status")?,
        None => None,
    };
    let mut checks = Checks::new();
    checks.required("minimumThroughputBillingCommitment", &commitment);
    if commitment.is_some() {
        let path = "minimumThroughputBillingCommitment.status";
        checks.required(path, &status);
        const SETTABLE: [&str; 2] = [
            CommitmentStatus::Enabled.as_str(),
            CommitmentStatus::Disabled.as_str(),
        ];
        checks.one_of(path, status, &SETTABLE);
    }
    checks.finish()?;
    let enable = status == Some(CommitmentStatus::Enabled.as_str());
    let commitment = context
        .engine
        .update_minimum_throughput_billing_commitment(enable)?;
    Ok(reply(context, commitment))
}
