//! UpdateStreamWarmThroughput: the write throughput an ON_DEMAND stream is asked to be ready
//! for, recorded and reported (see the library's `stream::warm_throughput`).

use serde::Serialize;
use shardlog::stream::WarmThroughput;

use super::encryption::read_stream_ref;
use super::{Context, Reply, to_u32};
use crate::error::ApiError;
use crate::protocol::Fields;
use crate::protocol::fields::Checks;

/// The `WarmThroughputObject` shape, as this operation and DescribeStreamSummary report it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct WarmThroughputOut {
    #[serde(rename = "TargetMiBps")]
    target_mibps: u32,
    #[serde(rename = "CurrentMiBps")]
    current_mibps: u32,
}

impl From<WarmThroughput> for WarmThroughputOut {
    fn from(warm: WarmThroughput) -> WarmThroughputOut {
        WarmThroughputOut {
            target_mibps: warm.target_mibps,
            current_mibps: warm.current_mibps,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateStreamWarmThroughputOut {
    #[serde(rename = "StreamARN")]
    stream_arn: String,
    stream_name: String,
    warm_throughput: WarmThroughputOut,
}

/// `UpdateStreamWarmThroughput`.
pub fn update_stream_warm_throughput(
    context: &Context<'_>,
    fields: Fields<'_, '_>,
) -> Result<Reply, ApiError> {
    let mut checks = Checks::new();
    let stream_ref = read_stream_ref(&fields, &mut checks)?;
    let mibps = fields.integer("WarmThroughputMiBps")?;
    checks.required("warmThroughputMiBps", &mibps);
    checks.range("warmThroughputMiBps", mibps, 0, i64::from(i32::MAX));
    checks.finish()?;
    let stream = stream_ref.resolve(context.engine)?;
    let name = stream.name();
    let warm = context
        .engine
        .update_stream_warm_throughput(name.as_str(), to_u32(mibps.unwrap_or_default()))?;
    let out = UpdateStreamWarmThroughputOut {
        stream_arn: stream.arn(),
        stream_name: name.as_str().to_owned(),
        warm_throughput: warm.into(),
    };
    Ok(Reply::new(context, &out, &stream))
}
