//! The account's settings (DescribeAccountSettings, UpdateAccountSettings) and what they unlock:
//! warm throughput on ON_DEMAND streams (UpdateStreamWarmThroughput), which Kinesis serves only
//! while the account has a minimum throughput billing commitment.
//!
//! A commitment lasts at least [`COMMITMENT_MINIMUM_MS`] (a day). Disabling it earlier schedules
//! its end at the earliest allowed time (`ENABLED_UNTIL_EARLIEST_ALLOWED_END`); enabling it again
//! before then cancels the end. shardlog bills nothing: the commitment is recorded and reported.
//!
//! `<data dir>/account.meta` keeps it, replaced atomically and durably (see
//! an atomic replace, see `file_system`), ending with a CRC-32 line over what comes before (see
//! `checksummed_text.rs`); each line is absent while unset, and an absent file is an account that
//! never committed:
//!
//! ```text
//! commitment_started_ms 1700000000000
//! commitment_ends_ms 1700086400000
//! crc 1a2b3c4d
//! ```

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::Engine;
use crate::checksummed_text;
use std::sync::Arc;

use crate::error::LogError;
use crate::file_system::{self, FileSystem};
use crate::stream::MetaError;
use crate::stream::error::Validation;
use crate::stream::{StreamError, StreamResult, WarmThroughput};

const ACCOUNT_FILE: &str = "account.meta";

/// Shortest commitment, in ms: a day.
pub const COMMITMENT_MINIMUM_MS: u64 = 24 * 3_600_000;

/// Where a minimum throughput billing commitment is (Kinesis' status names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentStatus {
    /// `ENABLED`.
    Enabled,
    /// `DISABLED`.
    Disabled,
    /// `ENABLED_UNTIL_EARLIEST_ALLOWED_END`: disabled before a day was up, so enabled until then.
    EnabledUntilEarliestAllowedEnd,
}

impl CommitmentStatus {
    /// The Kinesis spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            CommitmentStatus::Enabled => "ENABLED",
            CommitmentStatus::Disabled => "DISABLED",
            CommitmentStatus::EnabledUntilEarliestAllowedEnd => {
                "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
            }
        }
    }

    /// Whether the commitment is in force (warm throughput may be set and is reported).
    pub fn is_in_force(self) -> bool {
        self != CommitmentStatus::Disabled
    }
}

/// The commitment as Kinesis reports it (`MinimumThroughputBillingCommitmentOutput`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumThroughputBillingCommitment {
    /// Its status.
    pub status: CommitmentStatus,
    /// When it started, Unix ms (absent if the account never committed).
    pub started_ms: Option<u64>,
    /// When it ended, Unix ms (only once `DISABLED` after having been enabled).
    pub ended_ms: Option<u64>,
    /// The earliest it may end, Unix ms (while in force).
    pub earliest_allowed_end_ms: Option<u64>,
}

/// The account's durable settings. Invariant: `ends_ms` is set only with `started_ms`, and
/// never before `started_ms + COMMITMENT_MINIMUM_MS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AccountSettings {
    /// When the current (or last) commitment started.
    started_ms: Option<u64>,
    /// When it ends (or ended), once disabling was asked for.
    ends_ms: Option<u64>,
}

impl AccountSettings {
    /// Reads `account.meta` in `dir`; no file is an account that never committed.
    pub(crate) fn load(dir: &Path) -> StreamResult<AccountSettings> {
        let path = dir.join(ACCOUNT_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => AccountSettings::decode(&text).map_err(|reason| {
                StreamError::Storage(LogError::corrupt(&path, 0, reason.to_string()))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(AccountSettings::default())
            }
            Err(error) => Err(LogError::io("reading account settings", &path, error).into()),
        }
    }

    fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        if let Some(ms) = self.started_ms {
            let _ = writeln!(text, "commitment_started_ms {ms}");
        }
        if let Some(ms) = self.ends_ms {
            let _ = writeln!(text, "commitment_ends_ms {ms}");
        }
        checksummed_text::seal(text)
    }

    fn decode(text: &str) -> Result<AccountSettings, MetaError> {
        let body = checksummed_text::open(text)?;
        let mut settings = AccountSettings::default();
        for line in body.lines() {
            let (key, value) = line
                .split_once(' ')
                .ok_or(MetaError::Malformed { what: "line" })?;
            let ms = value.parse::<u64>().map_err(|_| MetaError::Bad {
                field: key.to_owned(),
            })?;
            match key {
                "commitment_started_ms" => settings.started_ms = Some(ms),
                "commitment_ends_ms" => settings.ends_ms = Some(ms),
                _ => {
                    return Err(MetaError::UnknownLine {
                        key: key.to_owned(),
                    });
                }
            }
        }
        Ok(settings)
    }

    fn store(&self, file_system: &Arc<dyn FileSystem>, dir: &Path) -> StreamResult<()> {
        file_system::replace(
            file_system,
            &dir.join(ACCOUNT_FILE),
            self.encode().as_bytes(),
        )
        .map_err(|error| LogError::io("writing account settings", dir, error).into())
    }

    /// The commitment at `now_ms`.
    pub(crate) fn commitment_at(&self, now_ms: u64) -> MinimumThroughputBillingCommitment {
        let Some(started_ms) = self.started_ms else {
            return MinimumThroughputBillingCommitment {
                status: CommitmentStatus::Disabled,
                started_ms: None,
                ended_ms: None,
                earliest_allowed_end_ms: None,
            };
        };
        let earliest_allowed_end_ms = started_ms.saturating_add(COMMITMENT_MINIMUM_MS);
        let (status, ended_ms) = match self.ends_ms {
            None => (CommitmentStatus::Enabled, None),
            Some(ends_ms) if now_ms < ends_ms => {
                (CommitmentStatus::EnabledUntilEarliestAllowedEnd, None)
            }
            Some(ends_ms) => (CommitmentStatus::Disabled, Some(ends_ms)),
        };
        MinimumThroughputBillingCommitment {
            status,
            started_ms: Some(started_ms),
            ended_ms,
            earliest_allowed_end_ms: status.is_in_force().then_some(earliest_allowed_end_ms),
        }
    }

    /// The settings after asking at `now_ms` for the commitment to be enabled or not.
    fn requested(self, enable: bool, now_ms: u64) -> AccountSettings {
        let status = self.commitment_at(now_ms).status;
        match (enable, status) {
            (true, CommitmentStatus::Disabled) => AccountSettings {
                started_ms: Some(now_ms),
                ends_ms: None,
            },
            (true, CommitmentStatus::EnabledUntilEarliestAllowedEnd) => AccountSettings {
                ends_ms: None,
                ..self
            },
            (false, CommitmentStatus::Enabled) => {
                let earliest_ms = self
                    .started_ms
                    .map_or(now_ms, |ms| ms.saturating_add(COMMITMENT_MINIMUM_MS));
                AccountSettings {
                    ends_ms: Some(now_ms.max(earliest_ms)),
                    ..self
                }
            }
            (true, CommitmentStatus::Enabled)
            | (
                false,
                CommitmentStatus::Disabled | CommitmentStatus::EnabledUntilEarliestAllowedEnd,
            ) => self,
        }
    }
}

impl Engine {
    /// The account's minimum throughput billing commitment now (Kinesis DescribeAccountSettings).
    pub fn minimum_throughput_billing_commitment(&self) -> MinimumThroughputBillingCommitment {
        let now_ms = self.shared.context.clock.now_ms();
        self.shared.account.lock().commitment_at(now_ms)
    }

    /// Enables or disables the account's minimum throughput billing commitment, durably, and
    /// returns it as it is afterwards (Kinesis UpdateAccountSettings). Disabling within a day of
    /// enabling schedules the end for a day after the start; asking for what is already so
    /// changes nothing.
    pub fn update_minimum_throughput_billing_commitment(
        &self,
        enable: bool,
    ) -> StreamResult<MinimumThroughputBillingCommitment> {
        let now_ms = self.shared.context.clock.now_ms();
        let mut account = self.shared.account.lock();
        let changed = account.requested(enable, now_ms);
        if changed != *account {
            changed.store(&self.shared.context.file_system, &self.shared.dir)?;
            *account = changed;
        }
        Ok(account.commitment_at(now_ms))
    }

    /// Sets the warm throughput of the ON_DEMAND stream `name` to `mibps` MiB/s (Kinesis
    /// UpdateStreamWarmThroughput), which the account's commitment must be in force for.
    pub fn update_stream_warm_throughput(
        &self,
        name: &str,
        mibps: u32,
    ) -> StreamResult<WarmThroughput> {
        let stream = self.stream(name)?;
        if !self
            .minimum_throughput_billing_commitment()
            .status
            .is_in_force()
        {
            return Err(Validation::WarmThroughputNeedsCommitment {
                account: self.account_id().to_owned(),
            }
            .into());
        }
        stream.set_warm_throughput(mibps)
    }

    /// The warm throughput of the stream `name` as Kinesis reports it: present only for an
    /// ON_DEMAND stream that has one, while the account's commitment is in force.
    pub fn warm_throughput(&self, name: &str) -> StreamResult<Option<WarmThroughput>> {
        let stream = self.stream(name)?;
        if !self
            .minimum_throughput_billing_commitment()
            .status
            .is_in_force()
        {
            return Ok(None);
        }
        Ok(stream.warm_throughput())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: u64 = 1_700_000_000_000;

    #[test]
    fn a_commitment_disabled_within_a_day_stays_in_force_until_the_day_is_up() {
        let never = AccountSettings::default();
        assert_eq!(
            never.commitment_at(START).status,
            CommitmentStatus::Disabled
        );
        let enabled = never.requested(true, START);
        assert_eq!(
            enabled.commitment_at(START + 1),
            MinimumThroughputBillingCommitment {
                status: CommitmentStatus::Enabled,
                started_ms: Some(START),
                ended_ms: None,
                earliest_allowed_end_ms: Some(START + COMMITMENT_MINIMUM_MS),
            }
        );
        let disabling = enabled.requested(false, START + 1_000);
        assert_eq!(
            disabling
                .commitment_at(START + COMMITMENT_MINIMUM_MS - 1)
                .status,
            CommitmentStatus::EnabledUntilEarliestAllowedEnd
        );
        assert_eq!(
            disabling.commitment_at(START + COMMITMENT_MINIMUM_MS),
            MinimumThroughputBillingCommitment {
                status: CommitmentStatus::Disabled,
                started_ms: Some(START),
                ended_ms: Some(START + COMMITMENT_MINIMUM_MS),
                earliest_allowed_end_ms: None,
            }
        );
        assert_eq!(
            disabling.requested(true, START + 2_000),
            enabled,
            "enabling again before the end cancels it"
        );
    }

    #[test]
    fn a_commitment_older_than_a_day_ends_when_disabled_and_restarts_when_enabled() {
        let enabled = AccountSettings::default().requested(true, START);
        let later = START + 2 * COMMITMENT_MINIMUM_MS;
        let ended = enabled.requested(false, later);
        assert_eq!(ended.commitment_at(later).ended_ms, Some(later));
        assert_eq!(
            ended.commitment_at(later).status,
            CommitmentStatus::Disabled
        );
        assert_eq!(ended.requested(false, later + 1), ended);
        let again = ended.requested(true, later + 5);
        assert_eq!(again.commitment_at(later + 5).started_ms, Some(later + 5));
        assert_eq!(again.requested(true, later + 6), again);
    }

    #[test]
    fn settings_round_trip_through_their_file_and_damage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            AccountSettings::load(dir.path()).unwrap(),
            AccountSettings::default()
        );
        let settings = AccountSettings::default()
            .requested(true, START)
            .requested(false, START + 5);
        settings
            .store(&crate::OsFileSystem::shared(), dir.path())
            .unwrap();
        assert_eq!(AccountSettings::load(dir.path()).unwrap(), settings);
        let path = dir.path().join(ACCOUNT_FILE);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("started_ms 1", "started_ms 2")).unwrap();
        assert!(AccountSettings::load(dir.path()).is_err());
    }
}
