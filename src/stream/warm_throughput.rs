//! Warm throughput (UpdateStreamWarmThroughput): the write throughput, in MiB/s, an ON_DEMAND
//! stream is asked to be ready for at once, recorded in its catalog entry and reported by
//! DescribeStreamSummary.
//!
//! shardlog does not provision throughput, so there is nothing to warm: the setting is recorded
//! and reported as Kinesis reports it. While the stream shows UPDATING after a change, the
//! current value is the one before it and the target the new one; afterwards both are the new
//! one. Kinesis serves the operation only in accounts with a minimum throughput billing
//! commitment, which the engine checks before it gets here.

use super::error::{Limit, Validation};
use super::meta::StreamMode;
use super::{Stream, StreamResult};

/// Most warm throughput of one stream, in MiB/s (Kinesis' 10 GiB/s).
pub const WARM_THROUGHPUT_MIBPS_MAX: u32 = 10 * 1024;

/// A stream's warm throughput as the catalog records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmThroughputSetting {
    /// What was asked for last.
    pub target_mibps: u32,
    /// What was current before that (0 for the first request).
    pub previous_mibps: u32,
    /// When the target is reached (the end of the UPDATING the change started), Unix ms.
    pub reached_at_ms: u64,
}

/// A stream's warm throughput as Kinesis reports it (`WarmThroughputObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmThroughput {
    /// What the stream is ready for now (`CurrentMiBps`).
    pub current_mibps: u32,
    /// What it is scaling to (`TargetMiBps`).
    pub target_mibps: u32,
}

impl WarmThroughputSetting {
    /// The setting as reported at `now_ms`.
    pub fn at(&self, now_ms: u64) -> WarmThroughput {
        WarmThroughput {
            current_mibps: if now_ms >= self.reached_at_ms {
                self.target_mibps
            } else {
                self.previous_mibps
            },
            target_mibps: self.target_mibps,
        }
    }
}

impl Stream {
    /// The stream's warm throughput now, if one was set and the stream is ON_DEMAND (a
    /// PROVISIONED stream has none to report).
    pub(crate) fn warm_throughput(&self) -> Option<WarmThroughput> {
        let meta = self.meta.read();
        if meta.mode != StreamMode::OnDemand {
            return None;
        }
        let now_ms = self.now_ms();
        meta.recorded
            .warm_throughput
            .map(|setting| setting.at(now_ms))
    }

    /// Sets the warm throughput of an ON_DEMAND stream to `mibps` (0–10240); the stream must be
    /// ACTIVE and shows UPDATING for the engine's update delay. Returns the throughput as
    /// reported just after the change.
    pub(crate) fn set_warm_throughput(&self, mibps: u32) -> StreamResult<WarmThroughput> {
        if mibps > WARM_THROUGHPUT_MIBPS_MAX {
            return Err(Limit::WarmThroughput {
                mibps,
                max_mibps: WARM_THROUGHPUT_MIBPS_MAX,
                stream: self.name(),
                account: self.context.account_id.clone(),
            }
            .into());
        }
        self.check_active()?;
        let now_ms = self.now_ms();
        let update_delay_ms = self.context.update_delay_ms;
        self.change_meta(|meta| {
            if meta.mode != StreamMode::OnDemand {
                return Err(Validation::WarmThroughputNeedsOnDemand {
                    stream: meta.name.clone(),
                    account: self.context.account_id.clone(),
                }
                .into());
            }
            let previous_mibps = meta
                .recorded
                .warm_throughput
                .map_or(0, |setting| setting.at(now_ms).current_mibps);
            let setting = WarmThroughputSetting {
                target_mibps: mibps,
                previous_mibps,
                reached_at_ms: now_ms.saturating_add(update_delay_ms),
            };
            meta.recorded.warm_throughput = Some(setting);
            meta.updating_until_ms = setting.reached_at_ms;
            Ok(setting.at(now_ms))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_value_is_current_until_the_target_is_reached() {
        let setting = WarmThroughputSetting {
            target_mibps: 100,
            previous_mibps: 20,
            reached_at_ms: 1_000,
        };
        assert_eq!(
            setting.at(999),
            WarmThroughput {
                current_mibps: 20,
                target_mibps: 100
            }
        );
        assert_eq!(
            setting.at(1_000),
            WarmThroughput {
                current_mibps: 100,
                target_mibps: 100
            }
        );
    }
}
